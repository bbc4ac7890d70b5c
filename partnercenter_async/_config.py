"""Defaults, clouds and the retry policy: every tunable number in one place."""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass

from yarl import URL

from ._errors import UnsafeRequestError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "SCOPE",
    "Cloud",
    "Limits",
    "RetryPolicy",
]

SCOPE = "https://api.partnercenter.microsoft.com/.default"
"""The OAuth scope of an app-only Partner Center token."""


class Cloud(enum.Enum):
    """A Partner Center cloud: its API base URL and its Microsoft Entra ID authority host.

    Source: "Partner Center operated by 21Vianet" and "for US Government" in the reference pages.
    """

    PUBLIC = ("https://api.partnercenter.microsoft.com", "login.microsoftonline.com")
    CHINA = ("https://partner.partnercenterapi.microsoftonline.cn", "login.chinacloudapi.cn")
    USGOV = ("https://api.partnercenter.microsoft.com", "login.microsoftonline.us")

    @property
    def base_url(self) -> str:
        """The API origin, scheme and host only (``/v1`` is added per request)."""
        return self.value[0]

    @property
    def authority_host(self) -> str:
        """The Microsoft Entra ID host of tokens, no scheme: ``login.microsoftonline.com``."""
        return self.value[1]


DEFAULT_BASE_URL = Cloud.PUBLIC.base_url
DEFAULT_REQUESTS_PER_MINUTE = 500.0
"""Partner Center's documented limit for the Order and Customer resources, per partner tenant."""
DEFAULT_MAX_CONCURRENCY = 16
DEFAULT_BURST = 4
"""Requests that may start at once after an idle spell, on top of the steady rate."""
DEFAULT_TIMEOUT = 180.0
"""Seconds for one attempt: connecting, sending, and reading the whole response.

From the field: partners on large tenants saw calls die at .NET's default of 100 s ("A task was
canceled", Partner-Center-PowerShell issue 92), and Microsoft's PowerShell module moved its HTTP
timeout to three minutes (issue 312, PR 315). A shorter default would fail the calls that the
service does answer, slowly; the retry policy's deadline still bounds a whole call.
"""
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_LOCALE = "en-US"
CUSTOMERS_PAGE_SIZE = 500
"""The largest customers page the service is known to serve."""
TOKEN_REFRESH_MARGIN = 300.0
"""Seconds before expiry at which a cached token is refreshed (as azure-core's bearer policy)."""


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """When and how long to wait before sending a request again.

    Retried: 408, 429, 500, 502, 503, 504, connection errors, timeouts and truncated bodies.
    The wait before retry ``n`` (1-based) is ``min(max_delay, initial_delay * 2 ** (n - 1))``
    shortened by up to 25% at random, or the service's ``Retry-After`` when it gives a usable one
    (0 to ``max_retry_after`` seconds).

    Args:
        max_attempts: Sends of one request, the first included (1 disables retries).
        initial_delay: Seconds before the first retry.
        max_delay: Cap, in seconds, on one backoff wait.
        max_retry_after: Longest ``Retry-After`` honoured, in seconds; a longer, negative or
            unparseable one falls back to the backoff.
        deadline: Seconds one call may take, retries and waits included; None for no deadline.

    Example:
        >>> PartnerCenterClient(credential, retry=RetryPolicy(max_attempts=3, deadline=60.0))
    """

    max_attempts: int = 6
    initial_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 600.0
    deadline: float | None = 600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if not 0 <= self.initial_delay <= self.max_delay:
            raise ValueError("need 0 <= initial_delay <= max_delay")
        if self.deadline is not None and not self.deadline > 0:
            raise ValueError(f"deadline must be positive seconds or None, got {self.deadline}")


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Bounds on what one response and one listing may cost, against a service gone wrong.

    Args:
        max_body_bytes: Largest response body read, in bytes after decompression (a real page
            of 500 customers or of a customer's orders is well under 1 MiB); a larger one is a
            ``ResponseTooLargeError``, raised before reading past the limit.
        max_pages: Most pages one listing follows; more is a ``PagingError`` (500 customers a
            page make 10,000 pages five million customers).

    Example:
        >>> PartnerCenterClient(credential, limits=Limits(max_body_bytes=64 * 2**20))
    """

    max_body_bytes: int = 32 * 2**20
    max_pages: int = 10_000

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1 or self.max_pages < 1:
            raise ValueError("max_body_bytes and max_pages must be at least 1")


RETRY_BUDGET = 100.0
"""Client-wide retries that may be spent before successes refill the budget."""
RETRY_BUDGET_REFILL = 0.5
"""Retries given back to the budget by each success."""

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def check_base_url(base_url: str | URL) -> URL:
    """Return ``base_url`` as an origin URL, refusing plain http except to loopback hosts.

    Raises:
        UnsafeRequestError: The URL is not absolute http(s), has a path, query or credentials, or
            is plain http to a host that is not loopback.
    """
    url = URL(base_url)
    if url.scheme not in ("https", "http") or not url.host:
        raise UnsafeRequestError(f"base_url must be an absolute https URL, got {str(url)!r}")
    if url.user or url.password or url.query_string or url.fragment or url.path not in ("", "/"):
        raise UnsafeRequestError(
            f"base_url must be an origin such as {DEFAULT_BASE_URL!r}, without path, query or "
            f"credentials, got {str(url.with_user(None))!r}"
        )
    if url.scheme == "http" and not _is_loopback(url.host):
        raise UnsafeRequestError(
            f"refusing plain http to {url.host!r}: the bearer token goes only over https "
            "(http is allowed for loopback hosts only)"
        )
    return url.origin()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
