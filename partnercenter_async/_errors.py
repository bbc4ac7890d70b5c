"""The exceptions of partnercenter_async. Every one the public API raises is one of these.

PartnerCenterError
├── ClientClosedError                 used after ``aclose()``, or from another event loop
├── UnsafeRequestError (ValueError)   a URL or id that would send the token or the request elsewhere
├── AuthenticationError               no usable token
│   ├── CredentialError               the credential could not give a token
│   └── UnauthorizedError (*)         401, still after one refresh-and-retry
├── APIConnectionError                no usable response: refused, reset, truncated
│   └── APITimeoutError               connect or read timed out
├── ResponseDecodeError               a response body that does not decode into the model
│   └── ResponseTooLargeError         a body over ``Limits.max_body_bytes``, refused unread
├── PagingError                       a next link already followed, or too many pages
├── APIStatusError                    any other non-2xx status
│   ├── BadRequestError               400
│   ├── PermissionDeniedError         403
│   ├── NotFoundError                 404
│   ├── ConflictError                 409
│   ├── RateLimitError                429, with ``retry_after`` (seconds)
│   └── ServerError                   5xx
└── GatherError                       ``gather_orders``: some customers failed

(*) ``UnauthorizedError`` is also an ``APIStatusError``.

Errors raised for a request carry ``request_id`` and ``correlation_id`` (the ``MS-RequestId`` and
``MS-CorrelationId`` support asks for) and ``attempts``, the number of times the request was sent.
An error raised while paging also carries ``continuation_token``: ``by_page(continuation_token)``
resumes at the page that failed. No error, its message, body or cause ever holds the bearer token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    from ._models import ErrorBody, Order

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "CredentialError",
    "GatherError",
    "NotFoundError",
    "PagingError",
    "PartnerCenterError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "ServerError",
    "UnauthorizedError",
    "UnsafeRequestError",
]


class PartnerCenterError(Exception):
    """Root of every error this package raises.

    Attributes:
        message: What went wrong and, where there is one, what to do.
        request_id: ``MS-RequestId`` of the failed request, or None when no request was made.
        correlation_id: ``MS-CorrelationId`` of the failed request, or None.
        attempts: How many times the request was sent (0 when it never was).
        continuation_token: When raised while paging, the token that resumes at the failed page
            (``pager.by_page(continuation_token)``); None for the first page or outside paging.
    """

    continuation_token: str | None = None

    def __init__(
        self,
        message: str,
        *,
        request_id: str | None = None,
        correlation_id: str | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.correlation_id = correlation_id
        self.attempts = attempts

    def __str__(self) -> str:
        extra = [f"{self.attempts} attempt{'s' * (self.attempts != 1)}"] if self.attempts else []
        if self.request_id:
            extra.append(f"MS-RequestId {self.request_id}")
        if self.correlation_id:
            extra.append(f"MS-CorrelationId {self.correlation_id}")
        return f"{self.message} ({', '.join(extra)})" if extra else self.message


class ClientClosedError(PartnerCenterError, RuntimeError):
    """The client was used after it was closed, or from another event loop than its first.

    An aiohttp session belongs to the loop it was opened in: create one client per event loop
    (per ``asyncio.run``).
    """


class UnsafeRequestError(PartnerCenterError, ValueError):
    """A URL or id that would send the request, or the token, somewhere it does not belong."""


class AuthenticationError(PartnerCenterError):
    """No usable access token: check the credential, its tenant and its Partner Center consent."""


class CredentialError(AuthenticationError):
    """The azure-identity credential failed to give a token (the cause is chained)."""


class APIConnectionError(PartnerCenterError):
    """No usable response: the connection was refused or reset, or the body was cut short."""


class APITimeoutError(APIConnectionError):
    """The request timed out (connecting, or waiting for the response or its body)."""


class ResponseDecodeError(PartnerCenterError):
    """A response body that is not JSON of the expected shape.

    Attributes:
        body_start: The first bytes of the raw body (at most 500), for diagnosis.
    """

    def __init__(
        self,
        message: str,
        *,
        body_start: bytes,
        request_id: str | None = None,
        correlation_id: str | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(
            message, request_id=request_id, correlation_id=correlation_id, attempts=attempts
        )
        self.body_start = body_start


class ResponseTooLargeError(ResponseDecodeError):
    """A response body larger than ``Limits.max_body_bytes`` (after decompression); not read on.

    Attributes:
        limit: The limit in bytes.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        request_id: str | None = None,
        correlation_id: str | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(
            message,
            body_start=b"",
            request_id=request_id,
            correlation_id=correlation_id,
            attempts=attempts,
        )
        self.limit = limit


class PagingError(PartnerCenterError):
    """A listing that would not end: a next link already followed in it (same uri and headers),
    or more pages than ``Limits.max_pages``. Not retried."""


class APIStatusError(PartnerCenterError):
    """The service answered with a non-2xx status.

    Attributes:
        status: The HTTP status code.
        body: The parsed error body, or None when the body was not JSON (an HTML 503 page, say).
        retry_after: Seconds the service asked to wait (``Retry-After``), or None.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        body: ErrorBody | None,
        retry_after: float | None = None,
        request_id: str | None = None,
        correlation_id: str | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(
            message, request_id=request_id, correlation_id=correlation_id, attempts=attempts
        )
        self.status = status
        self.body = body
        self.retry_after = retry_after


class UnauthorizedError(APIStatusError, AuthenticationError):
    """401: the token was refused, also after one refresh-and-retry."""


class BadRequestError(APIStatusError):
    """400: a missing or invalid input; the body says which. Not retried."""


class PermissionDeniedError(APIStatusError):
    """403: authenticated, but not allowed (no relationship with the customer, or no role)."""


class NotFoundError(APIStatusError):
    """404: no such customer or order for these inputs."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's state."""


class RateLimitError(APIStatusError):
    """429: throttled, still after the retries; ``retry_after`` is the wait asked for."""


class ServerError(APIStatusError):
    """5xx: the service or one of its dependencies failed, still after the retries."""


STATUS_ERRORS: Mapping[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
}


def is_final(error: PartnerCenterError) -> TypeGuard[NotFoundError | PermissionDeniedError]:
    """A customer's failure that retrying cannot fix: it is gone (404) or refused to the partner
    (403). The export records it as final and the sync marks the customer, keeping its rows."""
    return isinstance(error, NotFoundError | PermissionDeniedError)


class GatherError(PartnerCenterError):
    """``gather_orders`` finished, but some customers failed.

    Attributes:
        results: The orders of every customer that succeeded, by customer id.
        errors: The error of every customer that failed, by customer id.
    """

    def __init__(
        self, results: dict[str, list[Order]], errors: dict[str, PartnerCenterError]
    ) -> None:
        failed = ", ".join(list(errors)[:5]) + (", ..." if len(errors) > 5 else "")
        super().__init__(
            f"{len(errors)} of {len(errors) + len(results)} customers failed ({failed}); "
            "see .errors for each failure and .results for the orders fetched"
        )
        self.results = results
        self.errors = errors
