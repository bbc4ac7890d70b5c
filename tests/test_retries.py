"""Retries: what is retried, how long it waits, what it raises when it gives up."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from partnercenter_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    NotFoundError,
    PagingError,
    PartnerCenterClient,
    PartnerCenterError,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
)
from partnercenter_async._retry import backoff_delay, parse_retry_after, retry_delay
from partnercenter_async.testing import SAMPLE_CUSTOMER_ID, FakePartnerCenter, Fault

from .conftest import DATA, FakeTime

MakeClient = Callable[..., PartnerCenterClient]


async def orders_of(client: PartnerCenterClient, customer_id: str) -> list[str | None]:
    return [order.id async for order in client.list_orders(customer_id)]


def expected_ids(fake: FakePartnerCenter, customer_id: str) -> list[str | None]:
    return [order["id"] for order in fake.orders_of(customer_id)]


async def test_429_waits_retry_after_then_succeeds(
    client: PartnerCenterClient, fake: FakePartnerCenter, fake_time: FakeTime
) -> None:
    fake.inject(SAMPLE_CUSTOMER_ID, Fault.THROTTLE)
    assert await orders_of(client, SAMPLE_CUSTOMER_ID) == expected_ids(fake, SAMPLE_CUSTOMER_ID)
    assert fake_time.sleeps == [fake.config.retry_after]
    first, second = fake.requests
    assert first.headers["MS-RequestId"] == second.headers["MS-RequestId"]
    assert (client.stats.requests, client.stats.retries, client.stats.throttled) == (2, 1, 1)


@pytest.mark.parametrize("fault", [Fault.SERVER_ERROR, Fault.UNAVAILABLE, Fault.BAD_GATEWAY])
async def test_5xx_backs_off_then_succeeds(
    client: PartnerCenterClient, fake: FakePartnerCenter, fake_time: FakeTime, fault: Fault
) -> None:
    fake.inject(SAMPLE_CUSTOMER_ID, fault, fault)
    assert await orders_of(client, SAMPLE_CUSTOMER_ID) == expected_ids(fake, SAMPLE_CUSTOMER_ID)
    first, second = fake_time.sleeps
    assert 0.375 <= first <= 0.5 and 0.75 <= second <= 1.0
    assert len({r.headers["MS-RequestId"] for r in fake.requests}) == 1


@pytest.mark.parametrize("fault", [Fault.RESET, Fault.RESET_MID_BODY, Fault.TRUNCATED])
async def test_broken_connection_is_retried(
    client: PartnerCenterClient, fake: FakePartnerCenter, fake_time: FakeTime, fault: Fault
) -> None:
    # Twice: aiohttp itself resends an idempotent request once when the connection drops.
    fake.inject(SAMPLE_CUSTOMER_ID, fault, fault)
    assert await orders_of(client, SAMPLE_CUSTOMER_ID) == expected_ids(fake, SAMPLE_CUSTOMER_ID)
    assert 1 <= len(fake_time.sleeps) <= 2


async def test_gives_up_after_max_attempts_with_a_typed_error(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    fake.inject(SAMPLE_CUSTOMER_ID, *[Fault.UNAVAILABLE] * 3)
    async with make_client(retry=RetryPolicy(max_attempts=3)) as client:
        with pytest.raises(ServerError) as caught:
            await orders_of(client, SAMPLE_CUSTOMER_ID)
    error = caught.value
    assert (error.status, error.attempts, error.body) == (503, 3, None)
    assert "3 attempts" in str(error)
    assert error.request_id == fake.requests[0].headers["MS-RequestId"]
    assert error.correlation_id == client.correlation_id


async def test_throttled_to_the_end_is_a_rate_limit_error(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    fake.inject(SAMPLE_CUSTOMER_ID, Fault.THROTTLE, Fault.THROTTLE)
    async with make_client(retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(RateLimitError) as caught:
            await orders_of(client, SAMPLE_CUSTOMER_ID)
    assert caught.value.retry_after == fake.config.retry_after
    assert caught.value.body is not None and caught.value.body.status_code == 429


async def test_connection_refused_is_a_connection_error(
    make_client: MakeClient, fake_time: FakeTime, unused_tcp_port: int
) -> None:
    async with make_client(base_url=f"http://127.0.0.1:{unused_tcp_port}") as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.get_order("c", "o")
    assert caught.value.attempts == RetryPolicy().max_attempts
    assert len(fake_time.sleeps) == RetryPolicy().max_attempts - 1


async def test_404_is_a_typed_error_with_the_parsed_body_and_no_retry(
    client: PartnerCenterClient, fake: FakePartnerCenter, fake_time: FakeTime
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await orders_of(client, "00000000-0000-0000-0000-000000000000")
    error = caught.value
    assert error.status == 404
    assert error.body is not None and error.body.code is not None and error.body.description
    assert error.body.description in str(error)
    assert error.attempts == 1 and fake_time.sleeps == []
    assert error.request_id == fake.requests[0].headers["MS-RequestId"]


async def test_malformed_seed_page_is_a_decode_error_not_retried(
    client: PartnerCenterClient, fake: FakePartnerCenter, fake_time: FakeTime
) -> None:
    body = (DATA / "sample_orders_page.json").read_bytes()
    fake.serve_raw(SAMPLE_CUSTOMER_ID, body)
    with pytest.raises(ResponseDecodeError, match="does not decode") as caught:
        await orders_of(client, SAMPLE_CUSTOMER_ID)
    assert caught.value.body_start == body[:500]
    assert fake_time.sleeps == []


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault.EMPTY, "is empty"),
        (Fault.NOT_JSON, "does not decode"),
        (Fault.WRONG_TYPES, "Expected"),
    ],
)
async def test_unusable_200_is_a_decode_error(
    client: PartnerCenterClient, fake: FakePartnerCenter, fault: Fault, message: str
) -> None:
    fake.inject(SAMPLE_CUSTOMER_ID, fault)
    with pytest.raises(ResponseDecodeError, match=message):
        await orders_of(client, SAMPLE_CUSTOMER_ID)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("57", 57.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past: now
        (None, None),
        ("", None),
        ("-1", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("601", None),  # absurd: back off instead
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after(value, now=now, limit=600.0) == expected


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0)
    rng = random.Random(1)
    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0), (9, 8.0), (500, 8.0)]:
        delays = [backoff_delay(policy, retry, rng) for _ in range(50)]
        assert all(0.75 * ceiling <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1


class _NoJitter(random.Random):
    def random(self) -> float:
        return 0.0


def _status(status: int, retry_after: float | None = None) -> APIStatusError:
    return APIStatusError("x", status=status, body=None, retry_after=retry_after)


@pytest.mark.parametrize(
    ("failure", "method", "attempt", "remaining", "expected"),
    [
        (_status(503), "GET", 1, None, 0.5),  # backoff: initial delay
        (_status(503), "GET", 3, None, 2.0),  # doubled twice
        (_status(500), "GET", 9, None, None),  # attempts spent (max 6)
        (_status(502), "GET", 5, None, 8.0),
        (_status(429, 20.0), "GET", 1, None, 20.0),  # Retry-After wins over backoff
        (_status(429, 20.0), "GET", 1, 2.0, None),  # ... unless it passes the deadline
        (_status(429), "GET", 2, None, 1.0),  # no usable Retry-After: backoff
        (_status(408), "GET", 1, None, 0.5),
        (_status(504), "POST", 1, None, None),  # not idempotent
        (_status(400), "GET", 1, None, None),
        (_status(401), "GET", 1, None, None),  # the transport's one refresh is not a retry
        (_status(403), "GET", 1, None, None),
        (_status(404), "GET", 1, None, None),
        (_status(409), "GET", 1, None, None),
        (APIConnectionError("reset"), "GET", 1, None, 0.5),
        (APITimeoutError("slow"), "GET", 2, 0.9, None),  # 1 s backoff > 0.9 s left
        (APITimeoutError("slow"), "GET", 2, 1.0, 1.0),
        (ResponseDecodeError("bad", body_start=b""), "GET", 1, None, None),
        (PagingError("loop"), "GET", 1, None, None),
    ],
)
def test_retry_delay_decides_from_failure_attempt_policy_and_deadline(
    failure: PartnerCenterError,
    method: str,
    attempt: int,
    remaining: float | None,
    expected: float | None,
) -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0)
    delay = retry_delay(
        failure,
        method=method,
        attempt=attempt,
        policy=policy,
        remaining=remaining,
        rng=_NoJitter(),
    )
    assert delay == expected
