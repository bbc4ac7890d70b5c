"""Fan-out: gather_orders and stream_orders over many customers, failures in both modes."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest

from partnercenter_async import (
    GatherError,
    NotFoundError,
    PartnerCenterClient,
    RetryPolicy,
    ServerError,
)
from partnercenter_async._throttle import Throttle
from partnercenter_async.testing import SAMPLE_CUSTOMER_ID, FakePartnerCenter, Fault

from .conftest import run_in_virtual_time

MakeClient = Callable[..., PartnerCenterClient]
MISSING = "11111111-1111-1111-1111-111111111111"


def expected(fake: FakePartnerCenter, customer_ids: list[str]) -> dict[str, list[str | None]]:
    return {c: [o["id"] for o in fake.orders_of(c)] for c in customer_ids}


async def test_gather_returns_every_order_of_every_customer(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    result = await client.gather_orders(fake.customer_ids + fake.customer_ids[:3])
    assert {c: [o.id for o in orders] for c, orders in result.items()} == expected(
        fake, fake.customer_ids
    )


async def test_gather_raises_once_all_finished_with_partial_results(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    broken = fake.customer_ids[2]
    fake.inject(broken, Fault.SERVER_ERROR, Fault.SERVER_ERROR)
    async with make_client(retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(GatherError) as caught:
            await client.gather_orders([*fake.customer_ids[:10], MISSING])
    error = caught.value
    assert set(error.errors) == {broken, MISSING}
    assert isinstance(error.errors[broken], ServerError)
    assert isinstance(error.errors[MISSING], NotFoundError)
    ok = [c for c in fake.customer_ids[:10] if c != broken]
    assert {c: [o.id for o in v] for c, v in error.results.items()} == expected(fake, ok)
    assert "2 of 11 customers failed" in str(error)


async def test_gather_with_return_exceptions_maps_failures(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    result = await client.gather_orders([fake.customer_ids[0], MISSING], return_exceptions=True)
    assert isinstance(result[MISSING], NotFoundError)
    assert isinstance(result[fake.customer_ids[0]], list)


async def test_a_customer_failing_on_a_later_page_yields_no_partial_orders(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    size = fake.config.orders_page_size
    customer_id = next(c for c in fake.customer_ids if len(fake.orders_of(c)) > size)
    fake.inject(customer_id, None, Fault.SERVER_ERROR)  # the first page passes, the second fails
    async with make_client(retry=RetryPolicy(max_attempts=1)) as client:
        [result] = [r async for r in client.stream_orders([customer_id])]
    assert len(fake.requests) == 2
    assert isinstance(result.error, ServerError)
    assert result.orders == [] and result.raw_orders == []


async def test_stream_yields_each_customer_once_with_raw_orders_when_asked(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    seen = []
    async for result in client.stream_orders(iter(fake.customer_ids * 2), raw_orders=True):
        assert result.error is None
        assert [o.id for o in result.orders] == [
            o["id"] for o in fake.orders_of(result.customer_id)
        ]
        raw = [msgspec.json.decode(order) for order in result.raw_orders]
        assert raw == fake.orders_of(result.customer_id)
        seen.append(result.customer_id)
    assert sorted(seen) == sorted(fake.customer_ids)
    [plain] = [r async for r in client.stream_orders([SAMPLE_CUSTOMER_ID])]
    assert plain.orders and plain.raw_orders == []


async def test_stream_accepts_an_async_iterable(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    async def ids():  # type: ignore[no-untyped-def]
        for customer in fake.customer_ids[:5]:
            yield customer

    results = [r.customer_id async for r in client.stream_orders(ids())]
    assert sorted(results) == sorted(fake.customer_ids[:5])


async def test_breaking_out_of_the_stream_stops_the_workers(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    async with make_client(max_concurrency=2) as client:
        async for _ in client.stream_orders(fake.customer_ids):
            break
        sent = len(fake.requests)
    assert sent < len(fake.customer_ids)


async def test_at_most_max_concurrency_requests_in_flight(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    async with make_client(max_concurrency=3) as client:
        await client.gather_orders(fake.customer_ids)
    assert fake.stats.max_in_flight <= 3


def test_limiter_lets_at_most_rate_over_6_plus_burst_start_in_any_10_seconds() -> None:
    rate, burst = 500.0, 4

    async def main() -> list[float]:
        import asyncio

        loop = asyncio.get_running_loop()
        throttle = Throttle(rate, burst=burst, clock=loop.time, sleep=asyncio.sleep)
        starts: list[float] = []

        async def request() -> None:
            await throttle.acquire(None)
            starts.append(loop.time())

        await asyncio.sleep(3600)  # an idle spell: aiolimiter's default would now allow 2x
        await asyncio.gather(*(request() for _ in range(1200)))
        return starts

    starts = run_in_virtual_time(main)
    busiest = max(sum(1 for t in starts if s <= t < s + 10.0) for s in starts)
    assert busiest <= rate / 6 + burst
    assert busiest >= rate / 6  # and it does not crawl either
    elapsed = starts[-1] - starts[0]
    assert elapsed == pytest.approx((1200 - burst) * 60 / rate, rel=0.01)
