"""The selection rules as pure functions: which customers a run reads, and why."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from partnercenter_async.sync._select import (
    CustomerState,
    Reason,
    activity,
    log_start,
    log_windows,
    parse_duration,
    select,
)

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


@dataclass
class Record:
    customer_id: str | None
    resource_type: str | None
    operation_type: str | None
    operation_date: datetime | None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("12h", 43_200), ("7d", 604_800), ("1d12h", 129_600)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "7", "d", "7w", "-1d", "0s", "7d junk", "1.5.2h"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_log_start_overlaps_and_gives_up_past_the_window() -> None:
    assert log_start(None, T0) is None
    assert log_start(T0, T0 + DAY) == T0 - timedelta(minutes=20)
    assert log_start(T0, T0 + timedelta(days=88)) is not None
    assert log_start(T0, T0 + timedelta(days=89)) is None  # the log may have dropped that day


def test_log_windows_are_at_most_30_days() -> None:
    windows = log_windows(T0 - timedelta(days=70), T0)
    assert windows[0][0] == date(2026, 8, 24) and windows[-1][1] == date(2026, 11, 2)
    assert all((end - start).days <= 29 for start, end in windows)
    assert all(b[0] - a[1] == DAY for a, b in itertools.pairwise(windows))
    assert log_windows(T0, T0) == [(T0.date(), T0.date())]


def test_activity_keeps_the_latest_relevant_record_per_customer() -> None:
    records = [
        Record("A", "order", "create_order", T0 + timedelta(hours=1)),
        Record("a", "order", "update_order", T0 + timedelta(hours=3)),
        Record("b", "license", "update_customer_user_licenses", T0 + timedelta(hours=2)),
        Record("c", "Subscription", "update_subscription", T0 - timedelta(hours=1)),  # too early
        Record("d", "partner_customer_relationship", "some_future_operation", T0),
        Record("e", "new_kind", "create_order", T0),
        Record(None, "order", "create_order", T0),
    ]
    assert activity(records, T0) == {"a": T0 + timedelta(hours=3), "d": T0, "e": T0}


def _state(cid: str, checked: datetime | None, **kwargs: object) -> CustomerState:
    return CustomerState(cid, checked, **kwargs)  # type: ignore[arg-type]


def test_first_run_and_full_read_everything_known_or_listed() -> None:
    known = {"gone": _state("gone", T0)}
    first = select(
        listed=["A", "b"],
        known={},
        active={},
        now=T0,
        max_age=WEEK,
        last_run_start=None,
        full=False,
    )
    assert first.full and first.reasons == {"a": Reason.FULL, "b": Reason.FULL}
    forced = select(
        listed=["a"], known=known, active={}, now=T0, max_age=WEEK, last_run_start=T0, full=True
    )
    assert set(forced.reasons) == {"a", "gone"}


def test_each_reason() -> None:
    now = T0 + DAY
    known = {
        "fresh": _state("fresh", T0),
        "touched": _state("touched", T0),
        "seen-after": _state("seen-after", T0 + timedelta(hours=2)),
        "pending": _state("pending", T0, pending_since=T0 - DAY),
        "old-pending": _state("old-pending", T0, pending_since=T0 - timedelta(days=40)),
        "unlisted": _state("unlisted", T0),
        "marked": _state("marked", T0, unavailable=404),
        "failed": _state("failed", T0, failed=True),
        "stale": _state("stale", T0 - timedelta(days=8)),
    }
    active = {"touched": T0 + timedelta(hours=1), "seen-after": T0 + timedelta(hours=1)}
    listed = [c for c in known if c not in ("unlisted", "marked")] + ["new"]
    chosen = select(
        listed=listed,
        known=known,
        active=active,
        now=now,
        max_age=WEEK,
        last_run_start=now - timedelta(minutes=1),  # a share of 0: only the stale by age
        full=False,
    )
    assert chosen.reasons == {
        "new": Reason.NEW,
        "failed": Reason.RETRY,
        "touched": Reason.ACTIVITY,
        "pending": Reason.PENDING,
        "unlisted": Reason.UNLISTED,
        "stale": Reason.AGE,
    }
    assert not chosen.full and chosen.count(Reason.AGE) == 1


def test_the_age_sweep_is_spread_over_daily_runs() -> None:
    """700 customers read at T0, then daily runs, 7-day max age: about 100 a day, none staler."""
    known = {f"c{n:03d}": _state(f"c{n:03d}", T0) for n in range(700)}
    last, counts = T0, []
    for day in range(1, 22):
        now = T0 + day * DAY
        chosen = select(
            listed=list(known),
            known=known,
            active={},
            now=now,
            max_age=WEEK,
            last_run_start=last,
            full=False,
        )
        counts.append(len(chosen.reasons))
        for cid in chosen.reasons:
            known[cid] = _state(cid, now)
        assert all(now - s.checked_at <= WEEK for s in known.values() if s.checked_at)
        last = now
    assert counts == [100] * 21
