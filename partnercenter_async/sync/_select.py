"""Which customers a sync reads, and why: pure functions of the state, the listing and the log.

The rules (issue 12): the first run, ``--full``, or a last run older than the activity log keeps
(90 days), read every customer. Otherwise a run reads the activity log from the last run's start
less `LOG_OVERLAP` and reads again:

- ``new``: customers listed now that the database has never read;
- ``retry``: customers whose last attempt failed with a transient error;
- ``activity``: customers the log shows with order, subscription, customer or relationship
  activity, unless read more than `VISIBILITY_DELAY` after it;
- ``pending``: customers with an order still ``pending`` (placed within `PENDING_WINDOW`), since
  completing an order leaves no record in the log;
- ``unlisted``: customers the database holds that the listing no longer names (to learn, and
  mark, a 404 or 403);
- ``age``: customers not checked for ``max_age``, plus the oldest of the rest up to a fair share
  (``customers * time since the last run / max_age``), so that daily runs with a 7-day
  ``max_age`` each read about a seventh instead of everything on the seventh day.
"""

from __future__ import annotations

import enum
import math
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

__all__ = [
    "LOG_DAYS",
    "LOG_OVERLAP",
    "PENDING_WINDOW",
    "VISIBILITY_DELAY",
    "CustomerState",
    "Reason",
    "Selection",
    "activity",
    "is_relevant",
    "log_start",
    "log_windows",
    "parse_duration",
    "select",
]

LOG_DAYS = 90
"""Days of activity the service keeps; an older start is refused (400)."""
LOG_WINDOW_DAYS = 30
"""Days one activity-log query covers at most (both ends inclusive)."""
VISIBILITY_DELAY = timedelta(minutes=15)
"""Orders reach a customer's collection up to this long after they are placed."""
LOG_OVERLAP = VISIBILITY_DELAY + timedelta(minutes=5)
"""How far before the last run's start the log is read again (the delay and clock skew)."""
PENDING_WINDOW = timedelta(days=30)
"""A customer is read on every run while it has a pending order placed this recently; older
pending orders (left pending for good) are left to the age sweep."""
RELEVANT_RESOURCES = frozenset(
    {"order", "subscription", "customer", "partner_customer_relationship"}
)
RELEVANT_OPERATIONS = frozenset(
    {
        "create_order",
        "update_order",
        "update_subscription",
        "upgrade_subscription",
        "convert_trial_subscription",
        "add_customer",
        "remove_partner_customer_relationship",
        "delete_customer",
        "create_transfer",
        "update_transfer",
        "create_new_commerce_migration",
        "manage_overage",
    }
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


class Reason(enum.StrEnum):
    """Why a customer is read, in order of precedence when several apply."""

    FULL = "full"
    NEW = "new"
    RETRY = "retry"
    ACTIVITY = "activity"
    PENDING = "pending"
    UNLISTED = "unlisted"
    AGE = "age"


@dataclass(frozen=True, slots=True)
class CustomerState:
    """What the database knows of one customer (table ``sync_customers``).

    Attributes:
        customer_id: The customer tenant id, lower case.
        checked_at: When its orders were last asked for, answered or refused (UTC).
        pending_since: Creation date (UTC) of its newest pending order, None without one.
        unavailable: 404 or 403 when the last attempt was refused, else None.
        orders: Orders it had at its last successful read.
        failed: Whether its last attempt failed with a transient error (5xx, timeouts, ...).
        read_at: When its orders were last read (UTC).
        unavailable_since: Since when it answers `unavailable` (UTC).
    """

    customer_id: str
    checked_at: datetime | None
    pending_since: datetime | None = None
    unavailable: int | None = None
    orders: int = 0
    failed: bool = False
    read_at: datetime | None = None
    unavailable_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """The customers a run reads.

    Attributes:
        reasons: Customer id (lower case) -> why it is read, in the order to read them.
        full: Whether this run reads every customer.
    """

    reasons: dict[str, Reason]
    full: bool

    def count(self, reason: Reason) -> int:
        """How many customers are read for ``reason``."""
        return sum(1 for why in self.reasons.values() if why is reason)


class AuditRecordLike(Protocol):
    """The fields of an activity-log record the selection reads (``AuditRecord`` has them)."""

    @property
    def customer_id(self) -> str | None: ...
    @property
    def resource_type(self) -> str | None: ...
    @property
    def operation_type(self) -> str | None: ...
    @property
    def operation_date(self) -> datetime | None: ...


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``12h``, ``7d`` (or ``1d12h``) as a ``timedelta``.

    Raises:
        ValueError: Not such a duration, or zero.
    """
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != compact:
        raise ValueError(f"expected a duration such as 90s, 15m, 12h or 7d, got {text!r}")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {text!r}")
    return timedelta(seconds=seconds)


def log_start(last_run_start: datetime | None, now: datetime) -> datetime | None:
    """Where this run reads the activity log from, or None when it must read everything.

    None for a first run and when the last run started so long ago that the log no longer holds
    what happened since (with a day to spare for the service's notion of "90 days").
    """
    if last_run_start is None:
        return None
    start = last_run_start - LOG_OVERLAP
    if start.date() <= (now - timedelta(days=LOG_DAYS - 1)).date():
        return None
    return start


def log_windows(start: datetime, now: datetime) -> list[tuple[date, date]]:
    """The (startDate, endDate) pairs that cover ``start`` to ``now``, each at most 30 days."""
    first, last = start.date(), now.date()
    out = []
    while first <= last:
        end = min(first + timedelta(days=LOG_WINDOW_DAYS - 1), last)
        out.append((first, end))
        first = end + timedelta(days=1)
    return out


def is_relevant(resource_type: str | None, operation_type: str | None) -> bool:
    """Whether a record may have changed a customer's orders or its relationship."""
    return (resource_type or "").lower() in RELEVANT_RESOURCES or (
        operation_type or ""
    ).lower() in RELEVANT_OPERATIONS


def activity(records: Iterable[AuditRecordLike], since: datetime) -> dict[str, datetime]:
    """Customer id (lower case) -> its latest relevant record at or after ``since``."""
    latest: dict[str, datetime] = {}
    for record in records:
        at, cid = record.operation_date, record.customer_id
        if at is None or not cid or at < since:
            continue
        if is_relevant(record.resource_type, record.operation_type):
            key = cid.lower()
            if key not in latest or latest[key] < at:
                latest[key] = at
    return latest


def select(
    *,
    listed: Sequence[str],
    known: Mapping[str, CustomerState],
    active: Mapping[str, datetime],
    now: datetime,
    max_age: timedelta,
    last_run_start: datetime | None,
    full: bool,
) -> Selection:
    """The customers to read this run, each with its reason (see the module's rules).

    Args:
        listed: Customer ids the listing gives now (any case).
        known: The database's state per customer id (lower case).
        active: `activity` of the log since `log_start` (ignored when ``full``).
        now: This run's start (UTC).
        max_age: No customer goes unchecked longer than this.
        last_run_start: The last completed run's start, None before the first.
        full: Read every customer (first run, ``--full``, or the log is too short).

    Returns:
        The selection; ``reasons`` lists new customers first, then the rest by reason.
    """
    ids = list(dict.fromkeys([*(c.lower() for c in listed), *known]))
    if full or last_run_start is None:
        return Selection({cid: Reason.FULL for cid in ids}, full=True)
    on_list = {c.lower() for c in listed}
    chosen: dict[str, Reason] = {}
    for cid in [*ids, *(c for c in active if c not in known and c not in on_list)]:
        state = known.get(cid)
        touched = active.get(cid)
        if state is None:
            chosen[cid] = Reason.NEW if cid in on_list else Reason.ACTIVITY
        elif state.failed:
            chosen[cid] = Reason.RETRY
        elif touched is not None and (
            state.checked_at is None or state.checked_at < touched + VISIBILITY_DELAY
        ):
            chosen[cid] = Reason.ACTIVITY
        elif state.pending_since is not None and state.pending_since >= now - PENDING_WINDOW:
            chosen[cid] = Reason.PENDING
        elif cid not in on_list and state.unavailable is None:
            chosen[cid] = Reason.UNLISTED
    rest = sorted(
        (state for cid, state in known.items() if cid not in chosen),
        key=lambda s: (s.checked_at or datetime.min.replace(tzinfo=now.tzinfo), _tie(s)),
    )
    elapsed = max((now - last_run_start).total_seconds(), 0.0)
    share = math.ceil(len(known) * min(elapsed / max_age.total_seconds(), 1.0))
    for n, state in enumerate(rest):
        stale = state.checked_at is None or now - state.checked_at >= max_age
        if not stale and n >= share:
            break
        chosen[state.customer_id] = Reason.AGE
    order = list(Reason)
    ranked = sorted(chosen.items(), key=lambda item: order.index(item[1]))
    return Selection(dict(ranked), full=False)


def _tie(state: CustomerState) -> int:
    """A stable, well-spread tie-break among customers checked at the same time."""
    return zlib.crc32(state.customer_id.encode())
