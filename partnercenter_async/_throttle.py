"""Client-wide pacing of request starts: a steady rate, a hold after a 429, and AIMD.

Source: Partner Center's throttling guidance ("reduce parallelism, never retry at once, wait
Retry-After, then back off; every retried call counts against the limit") in
``shared/reference/partner-center.md``, section "Throttling".
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from aiolimiter import AsyncLimiter


class HoldTooLong(Exception):
    """A 429 hold in force ends after the caller's deadline; ``resume_in`` is its rest, seconds."""

    def __init__(self, resume_in: float) -> None:
        super().__init__(f"held for {resume_in:.1f} s more")
        self.resume_in = resume_in


class Throttle:
    """Pacing shared by every request of one client.

    The steady rate is an aiolimiter leaky bucket of ``burst`` requests drained at
    ``requests_per_minute - burst``: after an idle spell at most ``burst`` requests start at once,
    so no window of 60 s sees more than ``requests_per_minute`` starts (aiolimiter's default, a
    bucket of a whole minute's rate, would let twice the rate through).

    A 429 holds every new request until its ``Retry-After`` has passed, and cuts the rate by
    ``DECREASE`` if the throttled request was sent at the current rate (the 429s of requests sent
    before the last cut say nothing about the new rate). Each ``QUIET`` seconds without a cut
    gives ``INCREASE`` of the configured rate back. The rate never falls below ``1 / burst`` of
    the configured one.

    Args:
        requests_per_minute: The configured rate, and the ceiling.
        burst: Bucket size, in requests.
        clock: Monotonic clock in seconds.
        sleep: Awaitable sleep in seconds (for the hold).

    Attributes:
        held_seconds: Wall seconds during which a 429 hold was in force (overlapping holds
            counted once), since the throttle was made.

    Example:
        >>> epoch = await throttle.acquire(deadline=None, waited=trace.waited)
        >>> ...  # send; on a 429: throttle.throttled(retry_after, epoch)
    """

    DECREASE = 0.75
    INCREASE = 0.05
    QUIET = 5.0

    __slots__ = (
        "_burst",
        "_changed_at",
        "_clock",
        "_limiter",
        "_rate",
        "_resume_at",
        "_sleep",
        "epoch",
        "held_seconds",
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
        steady = max(requests_per_minute - burst, requests_per_minute / 2)
        self._limiter = AsyncLimiter(burst, burst * 60.0 / steady)
        self._rate = requests_per_minute
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._resume_at: float | None = None  # the end of the hold in force after a 429
        self._changed_at = -math.inf
        self.epoch = 0
        self.scale = 1.0  # the share of the configured rate in force
        self.held_seconds = 0.0

    @property
    def requests_per_minute(self) -> float:
        """The rate in force now, in requests per minute."""
        return self._rate * self.scale

    async def acquire(
        self, deadline: float | None, waited: Callable[[str, float], object] = lambda *_: None
    ) -> int:
        """Wait until a request may start; the rate's epoch then, for ``throttled``.

        Args:
            deadline: The caller's deadline on the clock, or None.
            waited: Told of each wait, in seconds: ``waited("throttle_hold", s)`` for a 429's
                hold, ``waited("rate_limiter", s)`` for the steady rate (the leaky bucket).

        Raises:
            HoldTooLong: A 429 hold in force ends after ``deadline``; nothing was waited.
        """
        if self._resume_at is not None:
            waited("throttle_hold", await self._hold(deadline))
        started = self._clock()
        await self._limiter.acquire(min(1.0 / self.scale, self._burst))
        waited("rate_limiter", self._clock() - started)
        if self._resume_at is not None:  # a 429 came while this request waited its turn
            waited("throttle_hold", await self._hold(deadline))
        return self.epoch

    async def _hold(self, deadline: float | None) -> float:
        """Wait out the hold in force, if any; seconds waited."""
        start = now = self._clock()
        while self._resume_at is not None and (wait := self._resume_at - now) > 0:
            if deadline is not None and self._resume_at > deadline:
                raise HoldTooLong(wait)
            await self._sleep(wait)
            now = self._clock()
        self._resume_at = None  # over: later requests need not read the clock
        return now - start

    def throttled(self, retry_after: float | None, epoch: int) -> None:
        """Record a 429 of a request sent at ``epoch``: hold for ``retry_after`` s, cut the rate."""
        now = self._clock()
        resume_at = now if self._resume_at is None else max(now, self._resume_at)
        if retry_after and now + retry_after > resume_at:
            self.held_seconds += now + retry_after - resume_at
            self._resume_at = now + retry_after
        if epoch == self.epoch:
            self.scale = max(self.scale * self.DECREASE, 1.0 / self._burst)
            self.epoch += 1
            self._changed_at = now

    def succeeded(self) -> None:
        """Record a success: after a quiet spell, climb back towards the configured rate."""
        if self.scale < 1.0:
            now = self._clock()
            if now - self._changed_at >= self.QUIET:
                self.scale = min(1.0, self.scale + self.INCREASE)
                self._changed_at = now
