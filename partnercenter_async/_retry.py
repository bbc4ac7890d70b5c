"""Retry decisions as small functions, and the client-wide pacing they feed.

Source: Partner Center's throttling guidance ("wait Retry-After, then back off exponentially; every
retried call counts against the limit") in ``shared/reference/partner-center.md``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime

from aiolimiter import AsyncLimiter

from ._config import RetryPolicy


def parse_retry_after(value: str | None, *, now: float, limit: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or None when it is missing or unusable.

    Args:
        value: The header: delta seconds (``"57"``, ``"1.5"``) or an HTTP date.
        now: The current wall-clock time, seconds since the epoch (for the date form).
        limit: Longest wait honoured, in seconds; a longer one is unusable.

    Returns:
        Seconds in ``[0, limit]``, or None for a missing, negative, non-finite, unparseable or
        too long value (the caller then backs off instead).
    """
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = max(seconds, 0.0)  # a date in the past means "now"
    if not math.isfinite(seconds) or not 0 <= seconds <= limit:
        return None
    return seconds


def backoff_delay(policy: RetryPolicy, retry: int, rng: random.Random) -> float:
    """Seconds before retry number ``retry`` (1-based): capped exponential, up to 25% shorter."""
    delay = min(policy.max_delay, policy.initial_delay * 2.0 ** min(retry - 1, 62))
    return float(delay * (1.0 - 0.25 * rng.random()))


class RetryBudget:
    """A client-wide allowance of retries that successes refill (as gRPC's retry throttling).

    Each retry takes one token; each success gives back ``refill``. When fewer than one token is
    left, failures are not retried, so a service in trouble is not hammered by every customer's
    retries at once.
    """

    __slots__ = ("_capacity", "_refill", "tokens")

    def __init__(self, capacity: float, refill: float) -> None:
        self._capacity = capacity
        self._refill = refill
        self.tokens = capacity

    def try_spend(self) -> bool:
        """Take one token for a retry; False (and nothing taken) when the budget is spent."""
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def succeeded(self) -> None:
        self.tokens = min(self._capacity, self.tokens + self._refill)


class Throttle:
    """Client-wide pacing of request starts: a steady rate, a hold after a 429, and AIMD.

    The steady rate is an aiolimiter leaky bucket of ``burst`` requests drained at
    ``requests_per_minute - burst``: after an idle spell at most ``burst`` requests start at once,
    so no window of 60 s sees more than ``requests_per_minute`` starts, and no window of ``w``
    seconds more than ``requests_per_minute * w / 60 + burst`` (aiolimiter's default, a bucket of
    a whole minute's rate, would let twice the rate through).

    A 429 holds every new request until its ``Retry-After`` has passed, and cuts the rate by
    ``DECREASE`` if the throttled request was sent at the current rate (the 429s of requests sent
    before the last cut say nothing about the new rate). Each ``QUIET`` seconds without a cut
    gives ``INCREASE`` of the configured rate back. The rate never falls below ``1 / burst`` of the
    configured one (a request costs ``1 / scale`` of the bucket, at most all of it).

    Args:
        requests_per_minute: The configured rate, and the ceiling.
        burst: Bucket size, in requests.
        clock: Monotonic clock in seconds (for the hold and the AIMD timing).
        sleep: Awaitable sleep in seconds (for the hold).

    Example:
        >>> epoch = await throttle.acquire()
        >>> ...  # send; on a 429: throttle.throttled(retry_after, epoch)
    """

    DECREASE = 0.75
    INCREASE = 0.05
    QUIET = 5.0

    __slots__ = (
        "_burst",
        "_changed_at",
        "_clock",
        "_cost",
        "_limiter",
        "_resume_at",
        "_sleep",
        "epoch",
        "scale",
    )

    def __init__(
        self,
        requests_per_minute: float,
        *,
        burst: int,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[object]],
    ) -> None:
        # Drained at the rate less the burst, so that no 60 s window holds more than the rate.
        steady = max(requests_per_minute - burst, requests_per_minute / 2)
        self._limiter = AsyncLimiter(burst, burst * 60.0 / steady)
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._resume_at: float | None = None  # the end of the hold after a 429, if any
        self._changed_at = -math.inf
        self.epoch = 0
        self._rescale(1.0)

    def _rescale(self, scale: float) -> None:
        self.scale = scale  # the share of the configured rate in force
        self._cost = min(1.0 / scale, self._burst)  # of the bucket, per request

    async def acquire(self) -> int:
        """Wait until a request may start; returns the rate's epoch, for ``throttled``."""
        if self._resume_at is not None:
            await self._hold()
        await self._limiter.acquire(self._cost)
        if self._resume_at is not None:  # a 429 came while this request waited its turn
            await self._hold()
        return self.epoch

    async def _hold(self) -> None:
        while self._resume_at is not None and (wait := self._resume_at - self._clock()) > 0:
            await self._sleep(wait)
        self._resume_at = None  # over: later requests need not look at the clock

    def throttled(self, retry_after: float | None, epoch: int) -> None:
        """Record a 429 of a request sent at ``epoch``: hold for ``retry_after`` s, cut the rate."""
        now = self._clock()
        if retry_after and (self._resume_at is None or now + retry_after > self._resume_at):
            self._resume_at = now + retry_after
        if epoch == self.epoch:
            self._rescale(max(self.scale * self.DECREASE, 1.0 / self._burst))
            self.epoch += 1
            self._changed_at = now

    def succeeded(self) -> None:
        """Record a success: after a quiet spell, climb back towards the configured rate."""
        if self.scale < 1.0:
            now = self._clock()
            if now - self._changed_at >= self.QUIET:
                self._rescale(min(1.0, self.scale + self.INCREASE))
                self._changed_at = now
