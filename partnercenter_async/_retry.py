"""Retry decisions as small functions: Retry-After, backoff, the budget, and whether to retry.

Source: Partner Center's throttling guidance ("wait Retry-After, then back off exponentially; every
retried call counts against the limit") in ``shared/reference/partner-center.md``.
"""

from __future__ import annotations

import math
import random
from email.utils import parsedate_to_datetime

from ._config import RETRY_BUDGET, RETRY_BUDGET_REFILL, RETRYABLE_STATUSES, RetryPolicy
from ._errors import APIConnectionError, APIStatusError, APITimeoutError, PartnerCenterError

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


def retry_delay(
    failure: PartnerCenterError,
    *,
    method: str,
    attempt: int,
    policy: RetryPolicy,
    remaining: float | None,
    rng: random.Random,
) -> float | None:
    """Seconds to wait before sending a failed request again, or None to raise ``failure``.

    A pure function of its arguments (the jitter aside), in the manner of openai-python's
    ``_should_retry`` and ``_calculate_retry_timeout``.

    Args:
        failure: What attempt number ``attempt`` ended in.
        method: The request's method; only idempotent ones are sent again.
        attempt: Sends so far, 1-based.
        policy: The retry policy.
        remaining: Seconds left before the call's deadline, or None for no deadline.
        rng: Source of the backoff's jitter.

    Returns:
        The service's ``Retry-After`` when usable, else the capped jittered backoff; None when
        the failure is not transient (4xx other than 408/429, a body that does not decode), the
        method is not idempotent, the attempts are spent, or the wait would pass the deadline.
    """
    if isinstance(failure, APIStatusError):
        if failure.status not in RETRYABLE_STATUSES:
            return None
        retry_after = failure.retry_after
    elif isinstance(failure, APIConnectionError):
        retry_after = None
    else:
        return None
    if method not in IDEMPOTENT_METHODS or attempt >= policy.max_attempts:
        return None
    delay = retry_after if retry_after is not None else backoff_delay(policy, attempt, rng)
    if remaining is not None and delay > remaining:
        return None
    return delay


def retry_reason(failure: PartnerCenterError) -> str:
    """Why a request is sent again, for traces and metrics: ``"503"``, ``"timeout"``, ..."""
    if isinstance(failure, APIStatusError):
        return str(failure.status)
    return "timeout" if isinstance(failure, APITimeoutError) else "connection"


class RetryBudget:
    """A client-wide allowance of retries that successes refill (as gRPC's retry throttling).

    Each retry takes one token; each success gives back ``refill``. When fewer than one token is
    left, failures are not retried, so a service in trouble is not hammered by every customer's
    retries at once.
    """

    __slots__ = ("_capacity", "_refill", "tokens")

    def __init__(self, capacity: float = RETRY_BUDGET, refill: float = RETRY_BUDGET_REFILL) -> None:
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
