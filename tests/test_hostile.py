"""Hostile responses (issue 10): typed errors, bounded memory, nothing leaked, nothing partial.

Every case goes through real sockets against the fake service's hostile answers
(`partnercenter_async.testing._hostile`, checked on the wire in ``test_fake_service.py``), with
fake time: no test sleeps for real except to poll the fake while requests are in flight.
Written against the API of ``plan/core-api.md`` (``list_orders``, ``list_customers``,
``AsyncPager.by_page``, ``Limits``, ``PagingError``, ``ResponseTooLargeError``...).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import time
import traceback
import tracemalloc
from collections.abc import AsyncIterable, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from azure.core.credentials import AccessToken

from partnercenter_async import (
    AsyncPager,
    BadRequestError,
    ClientClosedError,
    CredentialError,
    Limits,
    Order,
    PagingError,
    PartnerCenterClient,
    PartnerCenterError,
    ResponseDecodeError,
    ResponseTooLargeError,
    RetryPolicy,
    ServerError,
    UnsafeRequestError,
)
from partnercenter_async.testing import FakeConfig, FakePartnerCenter, Fault

from .conftest import CountingCredential, FakeTime

MakeClient = Callable[..., PartnerCenterClient]
TOKEN = "Zq9-sekrit-bearer-7Xw"  # distinctive: found nowhere unless leaked
MiB = 2**20
LIMITS = Limits(max_body_bytes=8 * MiB, max_pages=20)
RETRY = RetryPolicy(max_attempts=2)
SURROGATE = "\ud800"
GUARD = 10.0
"""Real seconds any one listing or fan-out may take: ends a run-away client's test early."""
T = TypeVar("T")


@pytest.fixture
def fake_config() -> FakeConfig:
    """Small order pages (5), so that a good customer's orders span several pages."""
    return FakeConfig(seed=7, customers=40, bom_rate=0.2, orders_page_size=5, retry_after=20)


class FixedCredential:
    """An ``AsyncTokenCredential`` that gives `token`, or raises `fail`."""

    def __init__(self, token: str = TOKEN, fail: BaseException | None = None) -> None:
        self.token = token
        self.fail = fail

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if self.fail is not None:
            raise self.fail
        return AccessToken(self.token, int(time.time() + 3600))

    async def close(self) -> None:
        pass


async def drain(items: AsyncIterable[T], cap: int = 5_000) -> list[T]:
    """Every item; a client that follows a loop or reads without end fails here, not the machine.

    Raises:
        AssertionError: More than `cap` items (the fake holds fewer), or `GUARD` seconds passed.
    """
    out: list[T] = []
    async with asyncio.timeout(GUARD):
        async for item in items:
            out.append(item)
            assert len(out) <= cap, "more items than the fake holds: a loop was followed"
    return out


async def guarded(call: Awaitable[T]) -> T:
    """`call`, given `GUARD` real seconds at most."""
    async with asyncio.timeout(GUARD):
        return await call


def hostile(fake: FakePartnerCenter, customer_id: str | None, fault: Fault) -> None:
    """The fault on every attempt a client could make (retries included)."""
    fake.inject(customer_id, *[fault] * 8)


def good_customers(fake: FakePartnerCenter) -> list[str]:
    """Two customers with orders, the first with several pages of them."""
    many = next(c for c in fake.customer_ids[1:] if len(fake.orders_of(c)) > 10)
    some = next(c for c in fake.customer_ids[1:] if 0 < len(fake.orders_of(c)) <= 5)
    return [many, some]


def hostile_customer(fake: FakePartnerCenter) -> str:
    return next(c for c in reversed(fake.customer_ids) if len(fake.orders_of(c)) > 1)


def ids(orders: list[Order]) -> list[str | None]:
    return [o.id for o in orders]


def expected_ids(fake: FakePartnerCenter, customer_id: str) -> list[str | None]:
    return [o["id"] for o in fake.orders_of(customer_id)]


def requests_about(fake: FakePartnerCenter, customer_id: str) -> list[str]:
    return [r.path_qs for r in fake.requests if customer_id in r.path_qs]


@contextlib.contextmanager
def peak_memory_below(limit: int) -> Iterator[None]:
    """Fail when the traced peak of Python allocations inside the block reaches `limit` bytes."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak {peak / MiB:.0f} MiB"


async def streams_ended(fake: FakePartnerCenter) -> None:
    for _ in range(500):
        if fake.hostile.open_streams == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the client kept the hostile stream open")


def chain(err: BaseException) -> Iterator[BaseException]:
    """`err` and every exception in its ``__cause__``/``__context__`` chain, once each."""
    seen: set[int] = set()
    todo = [err]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]


def assert_no_token(err: BaseException) -> None:
    for e in chain(err):
        assert TOKEN not in str(e), type(e)
        assert TOKEN not in repr(e), type(e)
        assert TOKEN not in repr(e.args), type(e)
        assert TOKEN not in repr(getattr(e, "__dict__", {})), type(e)  # body, body_start, ...
    assert TOKEN not in "".join(traceback.format_exception(err))
    if isinstance(err, ResponseDecodeError):
        assert TOKEN.encode() not in err.body_start


# -- bodies: over the limit, however they come --------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "limit"),
    [(Fault.HUGE_BODY, 1 * MiB), (Fault.ENDLESS_CHUNKED, 1 * MiB), (Fault.GZIP_BOMB, 8 * MiB)],
)
async def test_a_body_over_the_limit_fails_before_it_is_read_past_it(
    make_client: MakeClient, fake: FakePartnerCenter, fault: Fault, limit: int
) -> None:
    cid = hostile_customer(fake)
    hostile(fake, cid, fault)
    with peak_memory_below(100 * MiB):
        async with make_client(limits=Limits(max_body_bytes=limit), retry=RETRY) as client:
            with pytest.raises(ResponseTooLargeError):
                await drain(client.list_orders(cid))
            await streams_ended(fake)
    # the fake wrote at most the limit plus what socket buffers hold, never the 2 GiB or 1 GiB
    assert fake.hostile.streamed_bytes < limit + 24 * MiB


# -- paging: loops, endless links, depth --------------------------------------------------------


async def test_a_self_looping_next_link_is_a_paging_error_naming_the_loop(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    cid = hostile_customer(fake)
    fake.inject(cid, Fault.SELF_LOOP)  # the loop then goes on by its token
    async with make_client(limits=LIMITS) as client:
        pager = client.list_orders(cid)
        assert isinstance(pager, AsyncPager)
        with pytest.raises(PagingError) as caught:
            await drain(pager)
        fake.inject(cid, Fault.SELF_LOOP)
        results = await guarded(client.gather_orders([cid], return_exceptions=True))
    message = str(caught.value).lower()
    assert "loop" in message or "already followed" in message
    assert f"/customers/{cid}/orders" in str(caught.value)
    assert isinstance(results[cid], PagingError)  # the customer's orders are not returned
    assert len(requests_about(fake, cid)) <= 6  # two listings, each stopped at the repeat


async def test_a_self_loop_in_a_stream_gives_an_error_and_no_orders(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    cid = hostile_customer(fake)
    fake.inject(cid, Fault.SELF_LOOP)
    async with make_client(limits=LIMITS) as client:
        [result] = await drain(client.stream_orders([cid], raw_orders=True))
    assert isinstance(result.error, PagingError)
    assert (result.orders, result.raw_orders) == ([], [])


async def test_endless_distinct_next_links_stop_at_max_pages(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    fake.inject(None, Fault.ENDLESS_EMPTY_PAGES)
    async with make_client(limits=Limits(max_pages=25)) as client:
        with pytest.raises(PagingError):
            await drain(client.list_customers(size=5))
    assert 25 <= fake.stats.by_path["/v1/customers"] <= 26


@pytest.mark.parametrize("raw_orders", [False, True])
async def test_json_nested_past_the_decoders_depth_is_a_decode_error(
    make_client: MakeClient, fake: FakePartnerCenter, raw_orders: bool
) -> None:
    cid = hostile_customer(fake)
    hostile(fake, cid, Fault.DEEP_JSON)
    async with make_client(retry=RETRY) as client:
        with pytest.raises(ResponseDecodeError):
            await drain(client.list_orders(cid))
        hostile(fake, cid, Fault.DEEP_JSON)
        [result] = await drain(client.stream_orders([cid], raw_orders=raw_orders))
    assert isinstance(result.error, ResponseDecodeError)
    assert result.orders == []


# -- next links that must never be sent ---------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault.NEXT_LINK_CRLF, Fault.NEXT_LINK_SPACE, Fault.NEXT_LINK_DELETE, Fault.NEXT_LINK_AUTH],
)
async def test_an_unsafe_next_link_is_refused_and_never_sent(
    make_client: MakeClient, fake: FakePartnerCenter, fault: Fault
) -> None:
    cid = hostile_customer(fake)
    fake.inject(cid, fault)
    async with make_client() as client:
        with pytest.raises(UnsafeRequestError):
            await drain(client.list_orders(cid))
    assert requests_about(fake, cid) == [f"/v1/customers/{cid}/orders"]  # the first page only
    assert {r.method for r in fake.requests} == {"GET"}
    for request in fake.requests:
        assert "Injected" not in request.path_qs and " " not in request.path_qs
        assert "X-Injected" not in request.headers
        assert request.headers["Authorization"] != "Bearer the-link-s-own"
        assert request.headers["Host"] != "elsewhere.example"
        assert all("\r" not in v and "\n" not in v for v in request.headers.values())


# -- ids that cannot be sent ---------------------------------------------------------------------


async def test_a_customer_id_with_a_lone_surrogate_fails_for_that_customer_only(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    good1, good2 = good_customers(fake)
    async with make_client() as client:
        with pytest.raises(PartnerCenterError):
            await drain(client.list_orders(SURROGATE))
        results = await guarded(
            client.gather_orders([good1, SURROGATE, good2], return_exceptions=True)
        )
    assert isinstance(results[SURROGATE], PartnerCenterError)
    for good in (good1, good2):
        orders = results[good]
        assert isinstance(orders, list) and ids(orders) == expected_ids(fake, good)


# -- closing, and another event loop ------------------------------------------------------------


async def test_aclose_during_requests_ends_them_with_client_closed_error(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    customers = fake.customer_ids[1:4]
    for cid in customers:
        fake.inject(cid, Fault.STALL)  # headers at once, the body held back for 30 s
    client = make_client()
    await client.__aenter__()

    async def orders_of(cid: str) -> list[Order]:
        return await drain(client.list_orders(cid))

    tasks = [asyncio.create_task(orders_of(cid)) for cid in customers]
    for _ in range(400):  # real time, only to see the requests reach the fake
        if fake.stats.in_flight == len(customers):
            break
        await asyncio.sleep(0.005)
    assert fake.stats.in_flight == len(customers)
    await client.aclose()
    outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    assert all(isinstance(o, ClientClosedError) for o in outcomes), outcomes
    await client.aclose()  # safe twice


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_client_used_from_a_second_event_loop_is_client_closed(fake_time: FakeTime) -> None:
    fake = FakePartnerCenter(FakeConfig(seed=7, customers=5))
    cid = fake.customer_ids[0]
    holder: list[PartnerCenterClient] = []

    async def first() -> list[Order]:
        base_url = await fake.start()
        client = PartnerCenterClient(
            CountingCredential(),
            base_url=base_url,
            requests_per_minute=1_000_000.0,
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            rng=random.Random(0),
        )
        holder.append(client)
        try:
            return await drain(client.list_orders(cid))  # the client stays open
        finally:
            await fake.close()

    async def second() -> None:
        client = holder[0]
        with pytest.raises(ClientClosedError):
            await drain(client.list_orders(cid))
        with pytest.raises(ClientClosedError):
            await client.get_order(cid, "any")
        await client.aclose()

    assert len(asyncio.run(first())) == len(fake.orders_of(cid))
    asyncio.run(second())
    holder.clear()
    gc.collect()


# -- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credential",
    [
        FixedCredential(fail=RuntimeError("token cache corrupted")),
        FixedCredential(fail=KeyError("access_token")),
        FixedCredential(token=f"{TOKEN}\r\nX-Injected: yes"),
        FixedCredential(token=f"{TOKEN}\n"),
    ],
    ids=["RuntimeError", "KeyError", "CRLF", "LF"],
)
async def test_any_credential_failure_is_a_credential_error(
    make_client: MakeClient, fake: FakePartnerCenter, credential: FixedCredential
) -> None:
    good1, good2 = good_customers(fake)
    async with make_client(credential=credential) as client:
        with pytest.raises(CredentialError) as caught:
            await drain(client.list_orders(good1))
        with pytest.raises(CredentialError):
            await guarded(client.gather_orders([good1, good2], return_exceptions=True))
    assert fake.requests == []  # nothing sent with a broken Authorization header
    assert_no_token(caught.value)


# -- the token, echoed by the service, never leaks ------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.ECHO_AUTH_ERROR, BadRequestError),
        (Fault.ECHO_AUTH_SERVER_ERROR, ServerError),
        (Fault.ECHO_AUTH_NOT_JSON, ResponseDecodeError),
        (Fault.HUGE_HEADER, PartnerCenterError),
    ],
)
async def test_the_token_is_in_no_error_chain_body_or_log_even_when_echoed(
    make_client: MakeClient,
    fake: FakePartnerCenter,
    caplog: pytest.LogCaptureFixture,
    fault: Fault,
    error: type[PartnerCenterError],
) -> None:
    caplog.set_level(logging.DEBUG)
    cid = hostile_customer(fake)
    hostile(fake, cid, fault)
    async with make_client(credential=FixedCredential(), retry=RETRY) as client:
        with pytest.raises(error) as caught:
            await drain(client.list_orders(cid))
        hostile(fake, cid, fault)
        results = await guarded(client.gather_orders([cid], return_exceptions=True))
    assert fake.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"  # it was echoed
    assert_no_token(caught.value)
    failure = results[cid]
    assert isinstance(failure, error)
    assert_no_token(failure)
    assert TOKEN not in repr(results)
    assert TOKEN not in caplog.text
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.__dict__)


# -- a 429 hold never outlasts a request's deadline ----------------------------------------------


async def test_a_429_hold_longer_than_the_deadline_fails_by_the_deadline(
    make_client: MakeClient, fake: FakePartnerCenter, fake_time: FakeTime
) -> None:
    first, second = good_customers(fake)
    hostile(fake, first, Fault.THROTTLE)  # Retry-After: 20 (fake_config.retry_after)
    async with make_client(retry=RetryPolicy(deadline=2.0)) as client:
        started = fake_time.now
        with pytest.raises(PartnerCenterError):
            await drain(client.list_orders(first))
        assert fake_time.now - started <= 2.0 + 1e-6
        assert sum(fake_time.sleeps) <= 2.0 + 1e-6
        # the client-wide hold (20 s from the 429) must not hold the next request past its own
        # deadline either: it fails by then or, if the client lets it through, succeeds
        started, slept = fake_time.now, len(fake_time.sleeps)
        try:
            orders = await drain(client.list_orders(second))
        except PartnerCenterError:
            pass
        else:
            assert ids(orders) == expected_ids(fake, second)
        assert fake_time.now - started <= 2.0 + 1e-6
        assert sum(fake_time.sleeps[slept:]) <= 2.0 + 1e-6


# -- the fan-out: a typed error for the hostile customer, every other customer whole -------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.HUGE_BODY, ResponseTooLargeError),
        (Fault.ENDLESS_CHUNKED, ResponseTooLargeError),
        (Fault.GZIP_BOMB, ResponseTooLargeError),
        (Fault.SELF_LOOP, PagingError),
        (Fault.ENDLESS_EMPTY_PAGES, PagingError),
        (Fault.DEEP_JSON, ResponseDecodeError),
        (Fault.NEXT_LINK_CRLF, UnsafeRequestError),
        (Fault.NEXT_LINK_SPACE, UnsafeRequestError),
        (Fault.NEXT_LINK_DELETE, UnsafeRequestError),
        (Fault.NEXT_LINK_AUTH, UnsafeRequestError),
        (Fault.ECHO_AUTH_ERROR, BadRequestError),
        (Fault.ECHO_AUTH_SERVER_ERROR, ServerError),
        (Fault.ECHO_AUTH_NOT_JSON, ResponseDecodeError),
        (Fault.HUGE_HEADER, PartnerCenterError),
        (None, PartnerCenterError),  # the customer id '\ud800'
    ],
)
async def test_gather_returns_a_typed_error_for_the_hostile_customer_and_all_other_orders(
    make_client: MakeClient,
    fake: FakePartnerCenter,
    fault: Fault | None,
    error: type[PartnerCenterError],
) -> None:
    good1, good2 = good_customers(fake)
    bad = SURROGATE if fault is None else hostile_customer(fake)
    if fault is not None:
        hostile(fake, bad, fault)
    with peak_memory_below(100 * MiB):
        async with make_client(limits=LIMITS, retry=RETRY) as client:
            results = await guarded(
                client.gather_orders([good1, bad, good2], return_exceptions=True)
            )
    assert set(results) == {good1, bad, good2}
    assert isinstance(results[bad], error), results[bad]
    for good in (good1, good2):
        orders = results[good]
        assert isinstance(orders, list) and ids(orders) == expected_ids(fake, good)


# -- resuming a listing after a failure on a later page -----------------------------------------


async def collect(pager: AsyncPager[Any], seen: list[Any]) -> None:
    """Append each item's id to `seen` as it comes, so what came before an error is kept."""
    async for item in pager:
        seen.append(item.id)


@pytest.mark.parametrize(
    ("fault", "error"),
    [(Fault.BAD_REQUEST, BadRequestError), (Fault.WRONG_TYPES, ResponseDecodeError)],
)
async def test_list_customers_resumes_at_the_failed_page(
    make_client: MakeClient,
    fake: FakePartnerCenter,
    fault: Fault,
    error: type[PartnerCenterError],
) -> None:
    fake.inject(None, None, None, fault)  # pages 1 and 2 pass, page 3 fails (not retried)
    seen: list[str] = []
    async with make_client() as client:
        with pytest.raises(error) as caught:
            await collect(client.list_customers(size=5), seen)
        token = caught.value.continuation_token
        assert seen == fake.customer_ids[:10]
        assert isinstance(token, str)
        async for page in client.list_customers(size=5).by_page(token):
            seen += [customer.id for customer in page.items]
    assert seen == fake.customer_ids  # the rest, none twice
    assert fake.stats.by_path["/v1/customers"] == 2 + 1 + 7  # 41 customers in 9 pages of 5


async def test_list_orders_resumes_at_the_failed_page(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    cid = good_customers(fake)[0]
    fake.inject(cid, None, Fault.BAD_REQUEST)
    seen: list[str | None] = []
    async with make_client() as client:
        with pytest.raises(BadRequestError) as caught:
            await collect(client.list_orders(cid), seen)
        assert caught.value.continuation_token is not None
        async for page in client.list_orders(cid).by_page(caught.value.continuation_token):
            seen += ids(page.items)
    assert seen == expected_ids(fake, cid)
