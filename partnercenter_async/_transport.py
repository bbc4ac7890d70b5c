"""The transport: one aiohttp session for the client's life, one attempt, and the retry loop.

``Transport.get`` sends one logical request: a token from the cache, a place among the
``max_concurrency`` in flight, a start from the throttle, then one attempt whose outcome is a
``Response`` or a typed failure; ``retry_delay`` decides whether and when to send it again.
Nothing it raises holds the bearer token: error bodies are redacted, and aiohttp errors that carry
the request's headers are described, not chained.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import platform
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import aiohttp
from yarl import URL

from ._auth import TokenCache
from ._config import DEFAULT_BURST, DEFAULT_CONNECT_TIMEOUT, Limits, RetryPolicy
from ._errors import APIStatusError, ClientClosedError, PartnerCenterError, RateLimitError
from ._models import strip_bom
from ._responses import (
    BodyTooLarge,
    Context,
    Response,
    connection_failure,
    read_body,
    redact,
    status_failure,
    too_large_failure,
)
from ._retry import RetryBudget, parse_retry_after, retry_delay, retry_reason
from ._telemetry import RequestTrace, Telemetry
from ._throttle import HoldTooLong, Throttle
from ._version import __version__

__all__ = ["ClientStats", "Transport"]

logger = logging.getLogger("partnercenter_async")

USER_AGENT = (
    f"partnercenter-async/{__version__} Python/{platform.python_version()} "
    f"aiohttp/{aiohttp.__version__}"
)
_CLOSED_WHILE_OPEN = "the client was closed while this request was open"


@dataclass(slots=True)
class ClientStats:
    """Counters of one client, for progress and summaries.

    Attributes:
        requests: Requests sent, retries included.
        retries: Requests sent again after a failure.
        throttled: 429 answers received.
        held_seconds: Wall seconds during which the whole client was held by a 429's
            ``Retry-After`` (overlapping holds counted once; not a sum over requests).
    """

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    held_seconds: float = 0.0


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class _Opened(NamedTuple):
    """What the transport makes inside the running loop, on first use."""

    loop: asyncio.AbstractEventLoop
    session: aiohttp.ClientSession
    throttle: Throttle
    semaphore: asyncio.Semaphore


class Transport:
    """Sends requests for one client: session lifecycle, headers, attempts and retries.

    Args:
        origin: The API origin, e.g. ``URL("https://api.partnercenter.microsoft.com")``.
        tokens: The client's token cache.
        headers: Headers of every request (``Accept``, ``MS-CorrelationId``, ``X-Locale``, ...).
        correlation_id: The ``MS-CorrelationId`` of every request, for errors.
        requests_per_minute: The throttle's rate.
        max_concurrency: Requests in flight at once.
        timeout: Seconds one attempt may take, the whole body included.
        retry: The retry policy.
        limits: Bounds on one response.
        session: A caller's session, left open by ``aclose``; None to own one.
        telemetry: Where each request is reported.
        sleep: Awaitable sleep, seconds. clock: monotonic clock, seconds. rng: the jitter.
    """

    def __init__(
        self,
        *,
        origin: URL,
        tokens: TokenCache,
        headers: Mapping[str, str],
        correlation_id: str,
        requests_per_minute: float,
        max_concurrency: int,
        timeout: float,
        retry: RetryPolicy,
        limits: Limits,
        session: aiohttp.ClientSession | None,
        telemetry: Telemetry,
        sleep: Callable[[float], Awaitable[object]],
        clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        self.origin = origin
        self.stats = ClientStats()
        self.in_flight = 0
        self._reading: set[aiohttp.ClientResponse] = set()  # bodies being read, for aclose
        self._tokens = tokens
        self._headers = dict(headers)
        self._correlation_id = correlation_id
        self._rate = requests_per_minute
        self._max_concurrency = max_concurrency
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=DEFAULT_CONNECT_TIMEOUT)
        self._retry = retry
        self._limits = limits
        self._session = session
        self._telemetry = telemetry
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._budget = RetryBudget()
        self._state = _State.UNOPENED
        self._opened: _Opened | None = None

    @property
    def closed(self) -> bool:
        return self._state is _State.CLOSED

    @property
    def requests_per_minute(self) -> float:
        """The rate in force now (lower than configured after 429s), requests per minute."""
        return self._opened.throttle.requests_per_minute if self._opened else self._rate

    def open(self) -> _Opened:
        """The session, throttle and semaphore, made in the running loop on first use.

        Raises:
            ClientClosedError: The transport is closed, or was opened in another event loop.
        """
        loop = asyncio.get_running_loop()
        if self._opened is not None and self._opened.loop is loop:
            return self._opened
        if self._state is _State.CLOSED:
            raise ClientClosedError("this PartnerCenterClient is closed; create a new one")
        if self._opened is not None:
            raise ClientClosedError(
                "this PartnerCenterClient was opened in another event loop (another "
                "asyncio.run?); create one client per event loop"
            )
        session = self._session or aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._max_concurrency)
        )
        throttle = Throttle(self._rate, burst=DEFAULT_BURST, clock=self._clock, sleep=self._sleep)
        self._opened = _Opened(loop, session, throttle, asyncio.Semaphore(self._max_concurrency))
        self._state = _State.OPEN
        return self._opened

    async def aclose(self) -> None:
        """Close the transport's own session (not a caller's); safe to call twice.

        Requests in flight end with ``ClientClosedError``.
        """
        opened, self._opened = self._opened, None
        self._state = _State.CLOSED
        for response in self._reading:  # a session's close does not end a read under way
            response.close()
        if opened is not None and self._session is None and not opened.loop.is_closed():
            await opened.session.close()

    async def get(
        self,
        url: URL,
        *,
        route: str,
        headers: Sequence[tuple[str, str]] = (),
        customer_id: str | None = None,
    ) -> Response:
        """Send ``GET url`` until it succeeds or the retry policy gives up.

        Args:
            url: The absolute URL, on ``origin``.
            route: The path's template, for traces (``/customers/{customer_id}/orders``).
            headers: Extra headers, e.g. a next link's ``MS-ContinuationToken``.
            customer_id: The customer the request is about, for traces.

        Returns:
            The 2xx ``Response``.

        Raises:
            PartnerCenterError: A subclass: see the tree in ``_errors``.
        """
        opened = self.open()
        request_id = str(uuid.uuid4())
        deadline = None if self._retry.deadline is None else self._clock() + self._retry.deadline
        attempts = 0
        refreshed = False
        with self._telemetry.request(
            "GET",
            route,
            url,
            request_id=request_id,
            correlation_id=self._correlation_id,
            customer_id=customer_id,
        ) as trace:
            while True:
                attempts += 1
                try:
                    token = (await self._tokens.get()).token
                    outcome = await self._attempt(
                        opened, url, headers, token, request_id, attempts, deadline, trace
                    )
                    if isinstance(outcome, Response):
                        return outcome
                    delay = self._retry_delay(outcome, attempts, deadline, refreshed)
                except PartnerCenterError as err:
                    trace.failed(err)
                    raise
                if delay is None:  # a 401: once, at once, with a new token
                    self._tokens.invalidate(token)
                    refreshed = True
                    continue
                trace.retrying(retry_reason(outcome), delay)
                logger.info("retrying in %.2f s after: %s", delay, outcome)
                await self._sleep(delay)
                if self.closed:
                    raise ClientClosedError("the client was closed while this request waited")

    def _retry_delay(
        self, failure: PartnerCenterError, attempts: int, deadline: float | None, refreshed: bool
    ) -> float | None:
        """Seconds before sending again, None for a 401's one refresh-and-retry; else raises
        ``failure`` (or ``ClientClosedError`` once the client is closed)."""
        if self.closed:
            raise ClientClosedError(_CLOSED_WHILE_OPEN)
        if isinstance(failure, APIStatusError) and failure.status == 401 and not refreshed:
            return None  # the token may have been revoked early
        delay = retry_delay(
            failure,
            method="GET",
            attempt=attempts,
            policy=self._retry,
            remaining=None if deadline is None else deadline - self._clock(),
            rng=self._rng,
        )
        if delay is None:
            raise failure
        if not self._budget.try_spend():
            failure.message += "; not retried: the client's retry budget is spent"
            raise failure
        self.stats.retries += 1
        return delay

    async def _attempt(
        self,
        opened: _Opened,
        url: URL,
        extra: Sequence[tuple[str, str]],
        token: str,
        request_id: str,
        attempts: int,
        deadline: float | None,
        trace: RequestTrace,
    ) -> Response | PartnerCenterError:
        """Send once: the 2xx ``Response``, or the failure it ended in (not raised)."""
        context = Context(
            request_id=request_id, correlation_id=self._correlation_id, attempts=attempts
        )
        headers = {**self._headers, "Authorization": f"Bearer {token}", "MS-RequestId": request_id}
        if extra:
            headers.update(extra)
        started = self._clock()
        async with opened.semaphore:
            try:
                epoch = await opened.throttle.acquire(deadline, trace.waited)
            except HoldTooLong as hold:
                raise RateLimitError(
                    f"GET {url.raw_path}: the client is held {hold.resume_in:.1f} s more by an "
                    "earlier 429, past this request's deadline",
                    status=429,
                    body=None,
                    retry_after=hold.resume_in,
                    **context,
                ) from None
            trace.attempt(attempts)  # now sent: the waits and the semaphore are behind it
            self.stats.requests += 1
            self.in_flight += 1
            try:
                async with opened.session.request(
                    "GET", url, headers=headers, timeout=self._timeout, allow_redirects=False
                ) as response:
                    status = response.status
                    self._reading.add(response)  # for aclose to end the read
                    try:
                        body = await read_body(response, self._limits.max_body_bytes)
                    finally:
                        self._reading.discard(response)
            except BodyTooLarge:
                return too_large_failure(url, self._limits.max_body_bytes, context)
            except (TimeoutError, aiohttp.ClientError) as err:
                return connection_failure(url, err, self._timeout.total, token, context)
            except RuntimeError:  # aiohttp's "Session is closed", after aclose()
                if not self.closed:
                    raise
                raise ClientClosedError(_CLOSED_WHILE_OPEN, **context) from None
            finally:
                self.in_flight -= 1
        trace.response(status)
        if logger.isEnabledFor(logging.DEBUG):
            _log_answer(url, status, self._clock() - started, context)
        if 200 <= status < 300:
            opened.throttle.succeeded()
            self._budget.succeeded()
            return Response(url, strip_bom(body), context, token=token)
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"), now=time.time(), limit=self._retry.max_retry_after
        )
        if status == 429:
            self.stats.throttled += 1
            opened.throttle.throttled(retry_after, epoch)
            self.stats.held_seconds = opened.throttle.held_seconds
        return status_failure(url, status, redact(body, token), retry_after, context)


def _log_answer(url: URL, status: int, elapsed: float, context: Context) -> None:
    """The debug line of one answer; ``elapsed`` in seconds."""
    elapsed_ms = round(elapsed * 1000)
    logger.debug(
        "GET %s %d in %d ms, attempt %d, MS-RequestId %s",
        url.raw_path,
        status,
        elapsed_ms,
        context["attempts"],
        context["request_id"],
        extra={
            "method": "GET",
            "path": url.raw_path,
            "status": status,
            "elapsed_ms": elapsed_ms,
            **context,
        },
    )
