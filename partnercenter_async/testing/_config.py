"""Settings of the fake Partner Center and the faults it can inject."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class Fault(enum.StrEnum):
    """A way for the fake service to misbehave on one request.

    Each member's comment says what the client receives. Queue them with
    ``fake.inject(customer_id, *faults)``, one fault per request; a None lets a request through,
    so ``fake.inject(None, None, None, Fault.BAD_REQUEST)`` fails the third page of the
    customers listing. Inject a fault once per attempt a client may make to defeat its retries.
    """

    THROTTLE = enum.auto()  # 429, Retry-After: <retry_after>, body {"statusCode": 429, ...}
    SERVER_ERROR = enum.auto()  # 500 with the JSON error body, isRetryable true
    UNAVAILABLE = enum.auto()  # 503 with an HTML page (Content-Type text/html)
    BAD_GATEWAY = enum.auto()  # 502 with an empty body
    RESET = enum.auto()  # connection reset before any byte of the response
    RESET_MID_BODY = enum.auto()  # status, headers and half the body, then a reset
    TRUNCATED = enum.auto()  # 200, full Content-Length, part of the body, then a clean close
    STALL = enum.auto()  # 200 headers at once, the body held back for `FakeConfig.stall` seconds
    EMPTY = enum.auto()  # 200 with an empty body
    NOT_JSON = enum.auto()  # 200 "application/json" whose body is HTML
    WRONG_TYPES = enum.auto()  # 200 with valid JSON of the wrong shape
    UNAUTHORIZED = enum.auto()  # 401 with the JSON error body
    BAD_REQUEST = enum.auto()  # 400 with the JSON error body, isRetryable false
    # Hostile answers (issue 10), served by `_hostile`. Streams pace themselves (at most
    # `_hostile.CHUNK` bytes a millisecond), stop when the client disconnects or the server
    # stops, and count what they sent in `fake.hostile.streamed_bytes`. Listing faults keep
    # the listing's real items; a loop goes on by its token, so one inject starts it for good.
    HUGE_BODY = enum.auto()  # 200, Content-Length 2 GiB (2**31), '{"items": [' then spaces
    ENDLESS_CHUNKED = enum.auto()  # 200, chunked, '{"items": [' then spaces, never ending
    GZIP_BOMB = enum.auto()  # 200, Content-Encoding gzip: ~1 MiB inflating to 1 GiB (+ a head)
    SELF_LOOP = enum.auto()  # next link: the listing's first page, same uri and token each time
    ENDLESS_EMPTY_PAGES = enum.auto()  # empty pages forever, each next link with a fresh token
    DEEP_JSON = enum.auto()  # 200, one order whose provisioningContext nests DEEP_JSON_DEPTH
    NEXT_LINK_CRLF = enum.auto()  # next link whose MS-ContinuationToken value holds CR/LF
    NEXT_LINK_DELETE = enum.auto()  # next link with "method": "DELETE" (else well-formed)
    NEXT_LINK_SPACE = enum.auto()  # next uri "...?seekOperation=Next HTTP/1.1\r\nX-Injected: yes"
    NEXT_LINK_AUTH = enum.auto()  # next link whose headers set Authorization and Host
    ECHO_AUTH_ERROR = enum.auto()  # 400 JSON error body quoting the Authorization header value
    ECHO_AUTH_SERVER_ERROR = enum.auto()  # 500 JSON error body (retryable) quoting it too
    ECHO_AUTH_NOT_JSON = enum.auto()  # 200 "application/json" HTML body quoting Authorization
    HUGE_HEADER = enum.auto()  # 200, real body, an X-Debug header of 10,000+ bytes quoting it


DEFAULT_FAULT_KINDS = (
    Fault.THROTTLE,
    Fault.SERVER_ERROR,
    Fault.UNAVAILABLE,
    Fault.RESET,
    Fault.TRUNCATED,
)


@dataclass(frozen=True, kw_only=True)
class FakeConfig:
    """How the fake Partner Center builds its data and behaves.

    Example:
        >>> FakeConfig(seed=7, customers=2_000, fault_rate=0.05, requests_per_minute=500)

    Attributes:
        seed: Seed of every generated customer, order, BOM and random fault.
        customers: Number of generated customers; the sample customer comes on top.
        orders_page_size: Orders per page; larger order lists page with next links.
        max_customers_page_size: Largest `size` accepted by `GET /v1/customers`.
        bom_rate: Share (0-1) of 200 JSON bodies prefixed with a UTF-8 byte-order mark.
        fault_rate: Share (0-1) of requests answered with a random fault from `fault_kinds`.
        fault_kinds: Faults drawn from when `fault_rate` fires.
        requests_per_minute: Accepted requests per minute, enforced over a sliding window of
            `rate_window` seconds (60, as the service does); None for no limit.
        rate_window: Seconds of that window; shorter makes the limit bite in short tests.
        retry_after: Retry-After, in seconds, of THROTTLE faults.
        latency: Seconds to wait before answering each request.
        stall: Seconds a STALL fault holds the body back (cut short when the server stops).
        cache_entries: Encoded response bodies kept (least recently used dropped first); a
            benchmark sets it above its number of pages so that every body is encoded once.
        token: When set, the only bearer token accepted; otherwise any non-empty one is.
        clock: Monotonic clock, in seconds, of the rate limit and of `RecordedRequest.at`.
    """

    seed: int = 0
    customers: int = 200
    orders_page_size: int = 20
    max_customers_page_size: int = 500
    bom_rate: float = 0.1
    fault_rate: float = 0.0
    fault_kinds: tuple[Fault, ...] = DEFAULT_FAULT_KINDS
    requests_per_minute: float | None = None
    rate_window: float = 60.0
    retry_after: int = 1
    latency: float = 0.0
    stall: float = 30.0
    cache_entries: int = 1024
    token: str | None = None
    clock: Callable[[], float] = field(default=time.monotonic)

    def __post_init__(self) -> None:
        if self.customers < 0 or self.orders_page_size < 1 or self.max_customers_page_size < 1:
            raise ValueError("customers must be >= 0 and page sizes >= 1")
        if self.cache_entries < 0:
            raise ValueError("cache_entries must be >= 0")
        if not (0.0 <= self.bom_rate <= 1.0 and 0.0 <= self.fault_rate <= 1.0):
            raise ValueError("bom_rate and fault_rate must lie in [0, 1]")
        if self.fault_rate > 0 and not self.fault_kinds:
            raise ValueError("fault_rate > 0 needs at least one fault kind")
