"""Reliability: throttling that adapts, retry discipline, faults, tokens, cancellation."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

import pytest

from partnercenter_async import (
    APIConnectionError,
    CredentialError,
    PartnerCenterClient,
    RetryPolicy,
    ServerError,
    UnauthorizedError,
    UnsafeRequestError,
)
from partnercenter_async._throttle import Throttle
from partnercenter_async.testing import SAMPLE_CUSTOMER_ID, FakeConfig, FakePartnerCenter, Fault

from .conftest import CountingCredential, FakeTime, run_in_virtual_time

MakeClient = Callable[..., PartnerCenterClient]


@pytest.fixture
def fake(fake_config: FakeConfig, fake_time: FakeTime) -> FakePartnerCenter:
    """The fake on the tests' fake clock, so ``RecordedRequest.at`` is in the client's time."""
    return FakePartnerCenter(dataclasses.replace(fake_config, clock=fake_time.clock))


async def test_a_429_holds_every_request_of_the_client_until_retry_after(
    make_client: MakeClient, fake: FakePartnerCenter, fake_time: FakeTime
) -> None:
    start = fake_time.now
    fake.inject(None, Fault.THROTTLE)  # the very first request, whichever it is
    async with make_client(max_concurrency=1) as client:
        result = await client.gather_orders(fake.customer_ids[:10])
    assert len(result) == 10
    throttled_at = fake.requests[0].at
    later = [r.at for r in fake.requests[1:]]
    assert throttled_at == start
    assert all(at >= start + fake.config.retry_after for at in later)
    assert client.stats.throttled == 1


def test_throttle_lowers_the_rate_on_429_and_climbs_back_when_quiet() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        throttle = Throttle(600.0, burst=4, clock=loop.time, sleep=asyncio.sleep)
        scales = [throttle.scale]
        throttle.throttled(2.0, epoch=0)
        throttle.throttled(2.0, epoch=0)  # sent before the cut: says nothing of the new rate
        scales.append(throttle.scale)
        before = loop.time()
        await throttle.acquire(None)
        assert loop.time() - before >= 2.0, "held for Retry-After"
        throttle.succeeded()  # not yet quiet long enough
        scales.append(throttle.scale)
        for _ in range(10):
            await asyncio.sleep(Throttle.QUIET)
            throttle.succeeded()
        scales.append(throttle.scale)
        return scales

    initial, cut, early, recovered = run_in_virtual_time(main)
    assert (initial, cut, early) == (1.0, Throttle.DECREASE, Throttle.DECREASE)
    assert recovered == 1.0


def test_throttled_rate_is_paced_slower() -> None:
    async def starts_per_minute(cuts: int) -> int:
        loop = asyncio.get_running_loop()
        throttle = Throttle(600.0, burst=4, clock=loop.time, sleep=asyncio.sleep)
        for _ in range(cuts):
            throttle.throttled(None, throttle.epoch)
        end = loop.time() + 60.0
        count = 0
        while loop.time() < end:
            await throttle.acquire(None)
            count += 1
        return count

    full = run_in_virtual_time(lambda: starts_per_minute(0))
    cut = run_in_virtual_time(lambda: starts_per_minute(1))
    floor = run_in_virtual_time(lambda: starts_per_minute(20))
    steady = 600 - 4  # drained at the rate less the burst: no minute holds more than the rate
    assert full == pytest.approx(steady + 4, abs=2)
    assert full <= 600
    assert cut == pytest.approx(steady * Throttle.DECREASE + 4 * Throttle.DECREASE, abs=2)
    assert floor == pytest.approx(steady / 4 + 1, abs=2), "never below 1/burst of the rate"


def test_a_429_also_holds_requests_already_waiting_for_their_turn() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        throttle = Throttle(60.0, burst=1, clock=loop.time, sleep=asyncio.sleep)
        starts: list[float] = []

        async def request() -> None:
            await throttle.acquire(None)
            starts.append(loop.time())

        waiting = [asyncio.create_task(request()) for _ in range(3)]
        await asyncio.sleep(0.5)  # the first started; the others wait for the bucket
        throttle.throttled(30.0, epoch=0)
        await asyncio.gather(*waiting)
        return starts

    first, *others = run_in_virtual_time(main)
    assert first < 0.5
    assert all(start >= 30.5 for start in others)


def test_a_shorter_retry_after_does_not_shorten_the_hold_and_a_hold_ends() -> None:
    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        throttle = Throttle(6000.0, burst=4, clock=loop.time, sleep=asyncio.sleep)
        throttle.throttled(30.0, epoch=0)
        throttle.throttled(5.0, epoch=1)
        await throttle.acquire(None)
        held_until = loop.time()
        await throttle.acquire(None)  # the hold is over: no wait
        return held_until, loop.time()

    held_until, next_start = run_in_virtual_time(main)
    assert held_until == pytest.approx(30.0, abs=0.1)
    assert next_start == pytest.approx(held_until, abs=0.1)


async def test_deadline_bounds_a_call_with_its_retries(
    make_client: MakeClient, fake: FakePartnerCenter, fake_time: FakeTime
) -> None:
    fake.inject(SAMPLE_CUSTOMER_ID, *[Fault.UNAVAILABLE] * 10)
    async with make_client(retry=RetryPolicy(max_attempts=10, deadline=2.0)) as client:
        with pytest.raises(ServerError) as caught:
            await client.get_order(SAMPLE_CUSTOMER_ID, "YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1")
    assert sum(fake_time.sleeps) <= 2.0
    assert caught.value.attempts == len(fake.requests) == len(fake_time.sleeps) + 1 <= 3


@pytest.mark.parametrize(
    "fake_config",
    [FakeConfig(customers=60, fault_rate=1.0, fault_kinds=(Fault.SERVER_ERROR,))],
)
async def test_retry_budget_stops_a_retry_storm(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    result = await client.gather_orders(fake.customer_ids, return_exceptions=True)
    assert all(isinstance(error, ServerError) for error in result.values())
    assert client.stats.retries <= 100, "without the budget: 5 retries x 61 customers"
    assert any("retry budget" in str(error) for error in result.values())


async def test_a_next_link_that_is_not_a_get_is_refused_and_never_sent(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    page = b'{"items": [], "links": {"next": {"uri": "/customers/x/orders", "method": "POST"}}}'
    fake.serve_raw(SAMPLE_CUSTOMER_ID, page)
    with pytest.raises(UnsafeRequestError, match="method 'POST'"):
        [o async for o in client.list_orders(SAMPLE_CUSTOMER_ID)]
    assert [r.method for r in fake.requests] == ["GET"]


async def test_a_stalled_body_times_out_and_is_retried(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    fake.inject(SAMPLE_CUSTOMER_ID, Fault.STALL)
    async with make_client(timeout=0.2) as client:  # the one real wait in the suite: 0.2 s
        orders = [o async for o in client.list_orders(SAMPLE_CUSTOMER_ID)]
    assert len(orders) == len(fake.orders_of(SAMPLE_CUSTOMER_ID))
    assert client.stats.retries == 1


async def test_a_hanging_credential_is_a_credential_error(make_client: MakeClient) -> None:
    class Hanging(CountingCredential):
        async def get_token(self, *scopes: str, **kwargs: object):  # type: ignore[no-untyped-def]
            await asyncio.Event().wait()

    async with make_client(credential=Hanging(), timeout=0.05) as client:
        with pytest.raises(CredentialError, match="no token within"):
            await client.get_order("c", "o")


async def test_the_token_never_reaches_logs_or_errors(
    client: PartnerCenterClient, fake: FakePartnerCenter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.inject(SAMPLE_CUSTOMER_ID, Fault.SERVER_ERROR, Fault.RESET, Fault.UNAUTHORIZED)
    fake.inject(fake.customer_ids[1], Fault.UNAUTHORIZED, Fault.UNAUTHORIZED)
    result = await client.gather_orders([SAMPLE_CUSTOMER_ID, "missing"], return_exceptions=True)
    errors = [v for v in result.values() if isinstance(v, Exception)]
    with pytest.raises(UnauthorizedError) as caught:
        await client.gather_orders([fake.customer_ids[1]])
    errors.append(caught.value)
    assert errors and caplog.records
    for text in [caplog.text, repr(client), *map(str, errors), *map(repr, errors)]:
        assert "token-" not in text


async def test_a_next_link_to_another_origin_is_refused(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    page = b'{"items": [], "links": {"next": {"uri": "https://evil.example/v1/customers"}}}'
    fake.serve_raw(SAMPLE_CUSTOMER_ID, page)
    with pytest.raises(UnsafeRequestError, match=r"evil\.example"):
        [o async for o in client.list_orders(SAMPLE_CUSTOMER_ID)]
    assert len(fake.requests) == 1


@pytest.mark.parametrize("fake_config", [FakeConfig(customers=40, latency=0.01)])
async def test_cancelling_gather_cancels_every_request(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    async with make_client(max_concurrency=4) as client:
        task = asyncio.create_task(client.gather_orders(fake.customer_ids))
        while fake.stats.requests < 4:  # noqa: ASYNC110 (the fake offers no event to wait on)
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0)
        ours = [t for t in asyncio.all_tasks() if "_client.py" in t.get_coro().cr_code.co_filename]  # type: ignore[union-attr]
        assert ours == [], "no worker of the client is left running"
    assert fake.stats.requests < len(fake.customer_ids)


async def test_connection_errors_name_the_cause(
    make_client: MakeClient, unused_tcp_port: int
) -> None:
    async with make_client(
        base_url=f"http://127.0.0.1:{unused_tcp_port}", retry=RetryPolicy(max_attempts=1)
    ) as client:
        with pytest.raises(APIConnectionError, match="Connect") as caught:
            await client.get_order("c", "o")
    assert caught.value.attempts == 1
    assert isinstance(caught.value.__cause__, Exception)
