"""Syncs against the fake over real sockets, into DuckDB and a real PostgreSQL.

After simulated days of changes, incremental runs leave the database equal to a fresh full sync;
no customer goes unchecked longer than ``max_age``; a stopped run loses nothing; a customer that
answers 404 or 403 keeps its rows and is marked.
"""

from __future__ import annotations

import os

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import asyncio
import random
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import dlt
import pytest

from partnercenter_async import PartnerCenterClient, RetryPolicy
from partnercenter_async.sync import (
    Batch,
    Reason,
    SyncSummary,
    parse_destination,
    partner_center_source,
    read_state,
    sync,
)
from partnercenter_async.testing import FakeConfig, FakePartnerCenter, Fault
from tests.pg import pg_url, postgres  # noqa: F401

MAX_AGE = timedelta(days=3)
DAY = 86_400.0
_DLT = frozenset({"_dlt_id", "_dlt_load_id", "_dlt_parent_id", "_dlt_root_id", "_dlt_list_idx"})


@pytest.fixture
def fake_config() -> FakeConfig:
    return FakeConfig(seed=11, customers=40, bom_rate=0.2)


@pytest.fixture(params=["duckdb", "postgres"])
def destination(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """A factory of empty destinations (URLs), one per name: DuckDB files or PostgreSQL DBs."""
    made: dict[str, str] = {}

    def make(name: str) -> str:
        if name not in made:
            if request.param == "duckdb":
                made[name] = f"duckdb:///{tmp_path / name}.duckdb"
            else:
                made[name] = request.getfixturevalue("pg_url") if not made else _another(made)
        return made[name]

    def _another(existing: dict[str, str]) -> str:
        import psycopg2

        first = next(iter(existing.values()))
        base, _, _ = first.rpartition("/")
        db = f"t_{uuid.uuid4().hex[:12]}"
        connection = psycopg2.connect(first)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {db}")
        connection.close()
        return f"{base}/{db}"

    return make


def pipeline(url: str, tmp_path: Path) -> dlt.Pipeline:
    """A pipeline with a new, empty working directory: all it knows comes from the destination."""
    return dlt.pipeline(
        pipeline_name="partner_center",
        destination=parse_destination(url).destination,
        dataset_name="partner_center",
        pipelines_dir=str(tmp_path / "dlt" / uuid.uuid4().hex),
    )


async def run(
    fake: FakePartnerCenter,
    client: PartnerCenterClient,
    url: str,
    tmp_path: Path,
    **options: Any,
) -> SyncSummary:
    return await sync(
        client,
        pipeline(url, tmp_path),
        now=lambda: fake.now,
        max_age=MAX_AGE,
        batch_customers=options.pop("batch_customers", 16),
        **options,
    )


def query(url: str, tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with pipeline(url, tmp_path).sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql) or ()]


def snapshot(url: str, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """Orders with their line items per customer, dlt's bookkeeping columns left out."""
    with pipeline(url, tmp_path).sql_client() as client:
        orders, items = (
            client.make_qualified_table_name(t) for t in ("orders", "orders__line_items")
        )
        with client.execute_query(f"SELECT * FROM {orders}") as cursor:
            names = [d[0] for d in cursor.description]
            order_rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        with client.execute_query(f"SELECT * FROM {items}") as cursor:
            names = [d[0] for d in cursor.description]
            item_rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    by_order: dict[str, list[dict[str, Any]]] = {}
    for item in item_rows:
        by_order.setdefault(item["_dlt_root_id"], []).append(_clean(item))
    out: dict[str, list[dict[str, Any]]] = {}
    for order in order_rows:
        lines = sorted(by_order.get(order["_dlt_id"], []), key=lambda i: i["line_item_number"])
        out.setdefault(order["customer_id"], []).append(_clean(order) | {"lines": lines})
    return {cid: sorted(found, key=lambda o: o["id"]) for cid, found in out.items()}


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in _DLT and v is not None}


def change_a_day(fake: FakePartnerCenter, rng: random.Random, day: int) -> set[str]:
    """A day of changes to a few customers; returns the customers changed."""
    ids = [c for c in fake.customer_ids if c not in fake.activity.ended]
    touched = set()
    for cid in rng.sample(ids, 3):
        fake.place_order(cid)
        touched.add(cid)
    fake.advance(3600)
    if day % 2:
        fake.complete_pending()  # not logged: found through the pending rule
    cid = rng.choice(ids)
    order = rng.choice(fake.orders_of(cid, include_system_purchases=True) or [None])
    if order is not None:
        fake.cancel_order(cid, order["id"])
        touched.add(cid)
    touched.add(fake.add_customer())
    fake.touch_user(rng.choice(ids))
    fake.advance(DAY - 3600 - 300)
    late = rng.choice(ids)
    fake.place_order(late, delay=600)  # listed 5 minutes after the next run starts
    touched.add(late)
    fake.advance(300)
    return touched


async def test_incremental_days_equal_a_full_sync(
    fake: FakePartnerCenter,
    make_client: Callable[..., PartnerCenterClient],
    destination: Callable[[str], str],
    tmp_path: Path,
) -> None:
    rng = random.Random(5)
    incremental, fresh = destination("incremental"), destination("fresh")
    async with make_client() as client:
        first = await run(fake, client, incremental, tmp_path)
        assert first.full and first.read == len(fake.customer_ids)
        changed: set[str] = set()
        gone = fake.customer_ids[3], fake.customer_ids[4]
        for day in range(1, 7):
            changed |= change_a_day(fake, rng, day)
            if day == 3:
                fake.end_relationship(gone[0])
                fake.end_relationship(gone[1], status=403)
            before = client.stats.requests
            summary = await run(fake, client, incremental, tmp_path)
            assert not summary.full and not summary.failed
            assert summary.selected == summary.read + len(summary.unavailable)
            assert summary.reasons[Reason.AGE] <= len(fake.customer_ids) // 3 + 1  # a third a day
            assert summary.requests == client.stats.requests - before
            checked = query(incremental, tmp_path, "SELECT checked_at FROM sync_customers")
            assert all(fake.now - at <= MAX_AGE for (at,) in checked)
            if day == 3:
                assert summary.unavailable == {gone[0]: 404, gone[1]: 403}
        assert (await run(fake, client, fresh, tmp_path)).full
    kept, full = snapshot(incremental, tmp_path), snapshot(fresh, tmp_path)
    assert set(kept) - set(full) == set(gone)  # their rows are kept, not deleted
    assert changed - set(gone) <= set(full) | {c for c in changed if not fake.orders_of(c)}
    for cid, orders in full.items():
        assert kept.get(cid) == orders, cid
    marks = query(
        incremental,
        tmp_path,
        "SELECT customer_id, unavailable_status FROM sync_customers "
        "WHERE unavailable_status IS NOT NULL ORDER BY unavailable_status",
    )
    assert marks == [(gone[1], 403), (gone[0], 404)]


async def test_a_stopped_run_loses_nothing(
    fake: FakePartnerCenter,
    make_client: Callable[..., PartnerCenterClient],
    destination: Callable[[str], str],
    tmp_path: Path,
) -> None:
    url = destination("db")
    rng = random.Random(9)
    async with make_client() as client:
        await run(fake, client, url, tmp_path)
        for cid in fake.customer_ids[5:30]:
            fake.place_order(cid)
        change_a_day(fake, rng, 1)
        seen: list[str] = []

        def stop_after_a_batch(result: Any, summary: SyncSummary) -> None:
            seen.append(result.customer_id)
            if len(seen) == 12:  # in the second batch of 10: the first is loading or loaded
                task = asyncio.current_task()
                assert task is not None
                task.cancel()

        with pytest.raises(asyncio.CancelledError):
            await run(
                fake, client, url, tmp_path, batch_customers=10, on_customer=stop_after_a_batch
            )
        prior = read_state(pipeline(url, tmp_path))
        assert sum(1 for s in prior.customers.values() if s.checked_at == fake.now) == 10
        runs = query(url, tmp_path, "SELECT count(*) FROM sync_runs")
        assert runs == [(1,)]  # the stopped run left no row: the next reads the log from before
        again = await run(fake, client, url, tmp_path)
        assert again.reasons[Reason.ACTIVITY] >= 25 - 10
        await run(fake, client, destination("fresh"), tmp_path)
    assert snapshot(url, tmp_path) == snapshot(destination("fresh"), tmp_path)


@pytest.mark.parametrize("destination", ["duckdb"], indirect=True)
async def test_a_batch_left_pending_is_loaded_before_the_next_run(
    fake: FakePartnerCenter,
    make_client: Callable[..., PartnerCenterClient],
    destination: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """dlt ignores new data while a package is pending: the sync loads that package first."""
    url = destination("db")
    kept = pipeline(url, tmp_path)  # one working directory for both runs, as a library user's
    async with make_client() as client:
        await sync(client, kept, now=lambda: fake.now)
        left = Batch(orders=[{"customer_id": "left-behind", "id": "o-1", "status": "pending"}])
        kept.extract(partner_center_source(left))
        kept.normalize()  # extracted and normalized, never loaded: as after a failed load
        assert kept.has_pending_data
        fake.advance(DAY)
        fake.place_order(fake.customer_ids[2])
        summary = await sync(client, kept, now=lambda: fake.now)
    assert summary.reasons[Reason.ACTIVITY] == 1
    assert query(url, tmp_path, "SELECT id FROM orders WHERE customer_id = 'left-behind'") == [
        ("o-1",)
    ]
    assert query(url, tmp_path, "SELECT count(*) FROM sync_runs") == [(2,)]


@pytest.mark.parametrize("destination", ["duckdb"], indirect=True)
async def test_a_customer_failing_transiently_is_retried_by_the_next_run(
    fake: FakePartnerCenter,
    make_client: Callable[..., PartnerCenterClient],
    destination: Callable[[str], str],
    tmp_path: Path,
) -> None:
    url = destination("db")
    async with make_client() as client:
        await run(fake, client, url, tmp_path)
        flaky = fake.customer_ids[6]
        fake.place_order(flaky)
        fake.advance(DAY)
        attempts = RetryPolicy().max_attempts
        fake.inject(flaky, *[Fault.SERVER_ERROR] * attempts)  # every attempt of one request
        failed = await run(fake, client, url, tmp_path)
        assert set(failed.failed) == {flaky}
        errors = query(
            url, tmp_path, "SELECT last_error FROM sync_customers WHERE last_error IS NOT NULL"
        )
        assert len(errors) == 1 and "500" in errors[0][0]
        fake.advance(DAY)
        retried = await run(fake, client, url, tmp_path)
    assert retried.reasons[Reason.RETRY] == 1 and not retried.failed
    assert query(
        url, tmp_path, "SELECT count(*) FROM sync_customers WHERE last_error IS NOT NULL"
    ) == [(0,)]
    orders = query(url, tmp_path, f"SELECT count(*) FROM orders WHERE customer_id = '{flaky}'")
    assert orders == [(len(fake.orders_of(flaky)),)]


async def test_a_stopped_first_run_is_continued_not_restarted(
    fake: FakePartnerCenter,
    make_client: Callable[..., PartnerCenterClient],
    destination: Callable[[str], str],
    tmp_path: Path,
) -> None:
    url = destination("db")
    seen: list[str] = []

    def stop_in_the_second_batch(result: Any, summary: SyncSummary) -> None:
        seen.append(result.customer_id)
        if len(seen) == 12:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()

    async with make_client() as client:
        with pytest.raises(asyncio.CancelledError):
            await run(
                fake,
                client,
                url,
                tmp_path,
                batch_customers=10,
                on_customer=stop_in_the_second_batch,
            )
        fake.advance(3600)
        fake.place_order(fake.customer_ids[1])  # read in the first batch, changed since
        rest = await run(fake, client, url, tmp_path)
        assert not rest.full and rest.reasons[Reason.NEW] == len(fake.customer_ids) - 10
        assert rest.reasons[Reason.ACTIVITY] == (0 if fake.customer_ids[1] in seen[10:] else 1)
        await run(fake, client, destination("fresh"), tmp_path)
    assert snapshot(url, tmp_path) == snapshot(destination("fresh"), tmp_path)
