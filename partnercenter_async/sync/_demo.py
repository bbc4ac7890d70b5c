"""``sync --demo``: the built-in fake Partner Center, one simulated day later on every run.

The demo's tenant lives in simulated time. Its state on a run is the fake's seeded customers and
orders plus a seeded day of changes for every run the destination records (``sync_runs``): the
first run finds day 0 and reads everything; the second finds day 1 (new orders, some pending,
pending orders completed, a cancellation, a new customer, activity that changes no order) and
reads only what the activity log, the pending orders and the age sweep select; the third day 2;
and so on. The sync's clock is the fake's (each day at 09:00 UTC), so ``--max-age 7d`` spreads
its sweep over seven demo runs. Nothing is kept besides the destination: a fresh clone against
the same ``partner_center.duckdb`` continues where the last demo run left off.
"""

from __future__ import annotations

import random
from datetime import timedelta

from partnercenter_async.testing import FakeConfig, FakePartnerCenter

__all__ = ["DEMO_TOUCHED_SHARE", "demo_fake"]

DEMO_TOUCHED_SHARE = 0.02
"""Share of the demo's customers with new orders each simulated day."""


def demo_fake(
    day: int, *, customers: int, requests_per_minute: float | None, seed: int = 0
) -> FakePartnerCenter:
    """The demo's fake service as it stands on simulated ``day`` (0 for the first run).

    Args:
        day: Days of changes to replay (the runs recorded so far).
        customers: Customers of the fake (the sample customer comes on top).
        requests_per_minute: The fake's rate limit (None: none).
        seed: The fake's seed (the demo's is 0).

    Returns:
        A fake, not started yet, whose clock is at 09:00 UTC of that day.
    """
    fake = FakePartnerCenter(
        FakeConfig(seed=seed, customers=customers, requests_per_minute=requests_per_minute)
    )
    rng = random.Random("demo/changes")
    for _ in range(day):
        a_day_of_changes(fake, rng)
    return fake


def a_day_of_changes(fake: FakePartnerCenter, rng: random.Random) -> None:
    """About `DEMO_TOUCHED_SHARE` of the customers order; yesterday's pending orders complete
    (unlogged); one order is cancelled; every other day a customer is added; then a day passes."""
    ids = [cid for cid in fake.customer_ids if cid not in fake.activity.ended]
    tomorrow = fake.now + timedelta(days=1)
    fake.advance(2 * 3600)
    fake.complete_pending()
    ordering = rng.sample(ids, max(1, round(len(ids) * DEMO_TOUCHED_SHARE)))
    step = 12 * 3600 / len(ordering)  # the orders come in over 12 hours
    for cid in ordering:
        fake.advance(step)
        fake.place_order(cid, status=rng.choice(("pending", "completed")))
    victim = rng.choice(ids)
    cancellable = [o for o in fake.orders_of(victim) if o["status"] != "cancelled"]
    if cancellable:
        fake.cancel_order(victim, rng.choice(cancellable)["id"])
    if rng.random() < 0.5:
        fake.add_customer()
    fake.touch_user(rng.choice(ids))
    fake.advance((tomorrow - fake.now).total_seconds())
