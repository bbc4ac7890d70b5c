"""The fake Partner Center, checked over raw HTTP with aiohttp's test client."""

from __future__ import annotations

import asyncio
import json
import re
import struct
import sys
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from partnercenter_async._models import orders_page_decoder
from partnercenter_async.testing import (
    SAMPLE_CUSTOMER_ID,
    FakeConfig,
    FakePartnerCenter,
    Fault,
    StaticTokenCredential,
    _hostile,
)

AUTH = {"Authorization": "Bearer secret-token"}
BROKEN = {Fault.RESET, Fault.RESET_MID_BODY, Fault.TRUNCATED}  # no whole response to look at
BOM = b"\xef\xbb\xbf"
Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[tuple[FakePartnerCenter, Client]]]


@pytest.fixture
def make(aiohttp_client: Any) -> MakeClient:
    async def build(**options: Any) -> tuple[FakePartnerCenter, Client]:
        fake = FakePartnerCenter(FakeConfig(**{"customers": 60, "bom_rate": 0.0, **options}))
        return fake, await aiohttp_client(fake.app)

    return build


def decode(body: bytes) -> Any:
    return json.loads(body.removeprefix(BOM))


async def get_json(client: Client, uri: str, headers: dict[str, str] | None = None) -> Any:
    async with client.get(uri, headers={**AUTH, **(headers or {})}) as response:
        assert response.status == 200, await response.text()
        return decode(await response.read())


async def follow(
    client: Client, uri: str, headers: dict[str, str] | None = None, *, counted: bool = True
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Every item of a collection from ``uri`` (sent with ``headers``), and every next link seen
    on the way; with ``counted``, each page's ``totalCount`` is checked against its items."""
    items: list[Any] = []
    nexts: list[dict[str, Any]] = []
    while True:
        page = await get_json(client, uri, headers)
        if counted:
            assert page["totalCount"] == len(page["items"])
        items += page["items"]
        nxt = page["links"].get("next")
        if nxt is None:
            return items, nexts
        nexts.append(nxt)
        uri = nxt["uri"] if nxt["uri"].startswith("/v1/") else "/v1" + nxt["uri"]
        headers = {h["key"]: h["value"] for h in nxt["headers"]}


async def test_orders_page_with_next_links_in_both_forms(make: MakeClient) -> None:
    fake, client = await make(orders_page_size=3)
    counts = {cid: len(fake.orders_of(cid, include_price=True)) for cid in fake.customer_ids}
    paged = [cid for cid, n in counts.items() if n > 3]
    forms = set()
    for cid in paged[:6]:
        items, nexts = await follow(client, f"/v1/customers/{cid}/orders?include_price=true")
        assert items == fake.orders_of(cid, include_price=True)
        for nxt in nexts:
            token = nxt["headers"][0]["value"]
            assert nxt["headers"][0]["key"] == "MS-ContinuationToken"
            assert all(ch in token for ch in ",=/+_")
            assert token not in nxt["uri"]
            assert nxt["uri"].endswith("include_price=true&seekOperation=Next")
            forms.add(nxt["uri"].startswith("/v1/"))
    assert forms == {True, False}


async def test_customers_listing_pages_and_sample_first(make: MakeClient) -> None:
    fake, client = await make(max_customers_page_size=10)
    items, nexts = await follow(client, "/v1/customers?size=10")
    assert [c["id"] for c in items] == fake.customer_ids
    assert items[0]["id"] == SAMPLE_CUSTOMER_ID
    assert len(nexts) == 6
    page = await get_json(client, "/v1/customers?size=10")
    assert page["continuationToken"] == page["links"]["next"]["headers"][0]["value"]
    cid = fake.customer_ids[1]
    assert "continuationToken" not in await get_json(client, f"/v1/customers/{cid}/orders")
    assert {n["uri"].startswith("/v1/") for n in nexts} == {True, False}
    async with client.get("/v1/customers?size=11", headers=AUTH) as response:
        assert response.status == 400


@pytest.mark.parametrize("token", [None, "garbage", "bz0yMDtzPTE=,v=1/+_x"])
async def test_next_without_a_valid_token_is_400(make: MakeClient, token: str | None) -> None:
    _, client = await make()
    headers = {**AUTH, **({"MS-ContinuationToken": token} if token else {})}
    async with client.get("/v1/customers?size=5&seekOperation=Next", headers=headers) as response:
        assert response.status == 400
        body = await response.json()
    assert body["code"] == "InvalidContinuationToken"
    assert body["isRetryable"] is False


async def test_filters_match_orders_of(make: MakeClient) -> None:
    fake, client = await make(customers=30)
    reseller = fake.indirect_reseller_ids[0]
    queries: dict[str, dict[str, Any]] = {
        "billingType=monthly": {"billing_type": "monthly"},
        "include_system_purchases=true": {"include_system_purchases": True},
        f"indirect_reseller_id={reseller}": {"indirect_reseller_id": reseller},
    }
    seen = {name: 0 for name in queries}
    for cid in fake.customer_ids:
        for query, options in queries.items():
            items, _ = await follow(client, f"/v1/customers/{cid}/orders?{query}")
            assert items == fake.orders_of(cid, **options)
            seen[query] += len(items)
            for order in items:
                assert "totalPrice" not in order
                assert all("pricing" not in line for line in order["lineItems"])
                if "billingType" in query:
                    assert order["billingCycle"].lower() == "monthly"
                if "reseller" in query:
                    assert reseller in {li.get("partnerIdOnRecord") for li in order["lineItems"]}
    assert all(seen.values()), seen
    everything = sum(
        len(fake.orders_of(c, include_system_purchases=True)) for c in fake.customer_ids
    )
    assert (
        seen["include_system_purchases=true"]
        == everything
        > sum(len(fake.orders_of(c)) for c in fake.customer_ids)
    )


async def test_include_price_adds_pricing_only_when_true(make: MakeClient) -> None:
    fake, client = await make()
    cid = next(c for c in fake.customer_ids[1:] if fake.orders_of(c))
    priced = await get_json(client, f"/v1/customers/{cid}/orders?include_price=true")
    plain = await get_json(client, f"/v1/customers/{cid}/orders?include_price=false")
    assert all("pricing" in line for order in priced["items"] for line in order["lineItems"])
    assert not any("pricing" in line for order in plain["items"] for line in order["lineItems"])
    assert [o["id"] for o in priced["items"]] == [o["id"] for o in plain["items"]]
    order_id = plain["items"][0]["id"]
    one = await get_json(client, f"/v1/customers/{cid}/orders/{order_id}?include_price=true")
    assert one == priced["items"][0]
    async with client.get(f"/v1/customers/{cid}/orders?include_price=maybe", headers=AUTH) as r:
        assert r.status == 400


async def test_sample_customer_serves_the_seed_orders(make: MakeClient) -> None:
    fake, client = await make()
    page = await get_json(client, f"/v1/customers/{SAMPLE_CUSTOMER_ID}/orders")
    assert [o["id"] for o in page["items"]] == [
        "9qg-ErcO-4MPbPqq_3MIQaS7bn8W6HfG1",
        "YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1",
        "eeba9d00-7b46-443a-917e-22887a8fc993",
    ]
    assert page["items"] == fake.orders_of(SAMPLE_CUSTOMER_ID)
    raw = b'{"totalCount": 2, "items": [{"id": "x"'
    fake.serve_raw(SAMPLE_CUSTOMER_ID, raw)
    async with client.get(f"/v1/customers/{SAMPLE_CUSTOMER_ID}/orders", headers=AUTH) as response:
        assert await response.read() == raw


async def test_not_found_and_unauthorized(make: MakeClient) -> None:
    fake, client = await make(token="secret-token")
    cid = fake.customer_ids[1]
    async with client.get("/v1/customers/no-such/orders", headers=AUTH) as response:
        assert response.status == 404
        assert (await response.json())["code"] == 600074
    async with client.get(f"/v1/customers/{cid}/orders/no-such", headers=AUTH) as response:
        assert response.status == 404
    for headers in ({}, {"Authorization": "Bearer other"}, {"Authorization": "secret-token"}):
        async with client.get(f"/v1/customers/{cid}/orders", headers=headers) as response:
            assert response.status == 401
            assert (await response.json())["source"] == "PartnerFD"


async def test_request_ids_are_echoed_or_generated(make: MakeClient) -> None:
    fake, client = await make()
    sent = {"MS-RequestId": "r-1", "MS-CorrelationId": "c-1", **AUTH}
    async with client.get("/v1/customers", headers=sent) as response:
        assert response.headers["MS-RequestId"] == "r-1"
        assert response.headers["MS-CorrelationId"] == "c-1"
        assert response.headers["MS-CV"]
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    async with client.get("/v1/customers", headers=AUTH) as response:
        assert len(response.headers["MS-RequestId"]) == 36
    assert fake.requests[0].headers["authorization"] == AUTH["Authorization"]
    assert "secret-token" not in repr(fake.requests[0])
    assert (fake.stats.requests, fake.stats.in_flight, fake.stats.max_in_flight) == (2, 0, 1)


@pytest.mark.parametrize("rate", [0.0, 1.0])
async def test_bom_rate(make: MakeClient, rate: float) -> None:
    _, client = await make(bom_rate=rate)
    async with client.get("/v1/customers", headers=AUTH) as response:
        assert (await response.read()).startswith(BOM) is (rate == 1.0)


async def test_same_seed_same_bytes(make: MakeClient) -> None:
    bodies = []
    for seed in (5, 5, 6):
        fake, client = await make(seed=seed, bom_rate=0.5, orders_page_size=2)
        cid = next(c for c in fake.customer_ids[1:] if len(fake.orders_of(c)) > 2)
        for uri in ("/v1/customers?size=40", f"/v1/customers/{fake.customer_ids[7]}/orders"):
            async with client.get(uri, headers=AUTH) as response:
                bodies.append(await response.read())
        bodies.append(repr(await follow(client, f"/v1/customers/{cid}/orders")).encode())
    assert bodies[:3] == bodies[3:6]
    assert bodies[0] != bodies[6]


async def fetch(client: Client, uri: str) -> tuple[int, dict[str, str], bytes]:
    async with client.get(uri, headers=AUTH) as response:
        return response.status, dict(response.headers), await response.read()


@pytest.mark.parametrize(
    ("fault", "status", "check"),
    [
        (Fault.THROTTLE, 429, lambda h, b: h["Retry-After"] == "4" and b"in 4 seconds" in b),
        (Fault.SERVER_ERROR, 500, lambda h, b: json.loads(b)["isRetryable"] is True),
        (Fault.UNAVAILABLE, 503, lambda h, b: h["Content-Type"].startswith("text/html")),
        (Fault.BAD_GATEWAY, 502, lambda h, b: b == b""),
        (Fault.EMPTY, 200, lambda h, b: b == b""),
        (Fault.NOT_JSON, 200, lambda h, b: b.startswith(b"<html>")),
        (Fault.WRONG_TYPES, 200, lambda h, b: json.loads(b)["totalCount"] == "two"),
        (Fault.UNAUTHORIZED, 401, lambda h, b: json.loads(b)["code"] == "Unauthorized"),
        (Fault.BAD_REQUEST, 400, lambda h, b: json.loads(b)["isRetryable"] is False),
    ],
)
async def test_injected_faults_answer_once(
    make: MakeClient, fault: Fault, status: int, check: Callable[[dict[str, str], bytes], bool]
) -> None:
    fake, client = await make(retry_after=4)
    target, other = fake.customer_ids[2], fake.customer_ids[3]
    fake.inject(target, fault)
    assert (await fetch(client, f"/v1/customers/{other}/orders"))[0] == 200
    got_status, headers, body = await fetch(client, f"/v1/customers/{target}/orders")
    assert got_status == status
    assert check(headers, body)
    assert (await fetch(client, f"/v1/customers/{target}/orders"))[0] == 200
    assert fake.stats.faulted == 1


@pytest.mark.parametrize("fault", [Fault.RESET, Fault.RESET_MID_BODY, Fault.TRUNCATED])
async def test_broken_connections(make: MakeClient, fault: Fault) -> None:
    fake, client = await make()
    fake.inject(None, fault)
    with pytest.raises(aiohttp.ClientError):
        await fetch(client, "/v1/customers")
    assert (await fetch(client, "/v1/customers"))[0] == 200


async def test_stall_sends_headers_then_holds_the_body(make: MakeClient) -> None:
    fake, client = await make(stall=30.0)
    fake.inject(None, Fault.STALL)
    async with client.get("/v1/customers", headers=AUTH) as response:
        assert response.status == 200
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(response.read(), 0.05)


async def test_random_faults_are_seeded(make: MakeClient) -> None:
    runs = []
    for _ in range(2):
        _, client = await make(seed=3, fault_rate=0.5, fault_kinds=(Fault.SERVER_ERROR,))
        runs.append([(await fetch(client, "/v1/customers?size=3"))[0] for _ in range(20)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500}


async def test_rate_limit_uses_the_injected_clock(make: MakeClient) -> None:
    now = [100.0]
    fake, client = await make(requests_per_minute=3, clock=lambda: now[0])
    assert [(await fetch(client, "/v1/customers"))[0] for _ in range(3)] == [200, 200, 200]
    status, headers, body = await fetch(client, "/v1/customers")
    assert (status, headers["Retry-After"]) == (429, "60")
    assert json.loads(body)["statusCode"] == 429
    now[0] = 130.5
    assert (await fetch(client, "/v1/customers"))[1]["Retry-After"] == "30"
    now[0] = 160.0
    assert (await fetch(client, "/v1/customers"))[0] == 200
    assert (fake.stats.requests, fake.stats.throttled) == (6, 2)


async def test_start_and_close_on_a_real_socket() -> None:
    async with FakePartnerCenter(FakeConfig(customers=3)) as fake:
        assert fake.base_url.startswith("http://127.0.0.1:")
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{fake.base_url}/v1/customers", headers=AUTH) as response,
        ):
            assert len(decode(await response.read())["items"]) == 4
    await fake.close()
    with pytest.raises(RuntimeError):
        _ = fake.base_url


async def test_static_token_credential_matches_the_fake(make: MakeClient) -> None:
    _, client = await make(token="secret-token")
    async with StaticTokenCredential("secret-token") as credential:
        token = await credential.get_token("https://api.partnercenter.microsoft.com/.default")
    assert token.expires_on > time.time() + 3000
    assert "secret-token" not in repr(credential)
    headers = {"Authorization": f"Bearer {token.token}"}
    async with client.get("/v1/customers", headers=headers) as response:
        assert response.status == 200


# -- real traffic (issue 10) -------------------------------------------------------------------


async def test_orders_have_the_shapes_of_real_traffic(make: MakeClient) -> None:
    fake, client = await make(customers=40, orders_page_size=1000)
    seen: Counter[str] = Counter()
    for cid in fake.customer_ids[1:]:
        page = await get_json(client, f"/v1/customers/{cid}/orders?include_system_purchases=true")
        assert page["links"] == {"self": page["links"]["self"]}  # one page, only a self link
        for order in page["items"]:
            found = re.fullmatch(
                r".*T\d\d:\d\d:\d\d\.(\d+)(Z|[+-]\d\d:\d\d)", order["creationDate"]
            )
            assert found is not None, order["creationDate"]
            seen[f"{len(found[1])} digits"] += 1
            seen[f"offset {found[2]}"] += 1
            seen["no links"] += "links" not in order
            seen["Monthly"] += order["billingCycle"] == "Monthly"
            seen["attestation"] += order.get("partnerOnRecordAttestationAccepted") is True
            for item in order["lineItems"]:
                seen["links {}"] += item["links"] == {}
                seen['termDuration ""'] += item.get("termDuration") == ""
                seen["New"] += item["transactionType"] == "New"
                seen["additional ids"] += "additionalPartnerIdsOnRecord" in item
    wanted = ["2 digits", "3 digits", "6 digits", "7 digits", "offset Z", "offset +00:00"]
    wanted += ["offset -08:00", "no links", "Monthly", "attestation", "links {}"]
    wanted += ['termDuration ""', "New", "additional ids"]
    assert all(seen[name] > 0 for name in wanted), seen


async def test_unknown_order_is_an_empty_404(make: MakeClient) -> None:
    fake, client = await make()
    async with client.get(f"/v1/customers/{fake.customer_ids[1]}/orders/nope", headers=AUTH) as r:
        assert r.status == 404
        assert r.headers["Content-Length"] == "0"
        assert await r.read() == b""
        assert r.headers["MS-RequestId"] and r.headers["MS-CV"]


@pytest.mark.parametrize(
    "fault",
    [None, *(f for f in Fault if f not in _hostile.FAULTS | BROKEN or f is Fault.BAD_REQUEST)],
)
@pytest.mark.parametrize(
    "uri",
    ["/v1/customers", "/v1/customers/no-such/orders", "/v1/nowhere", "/v1/customers/{c}/orders"],
)
async def test_request_ids_are_echoed_on_every_response(
    make: MakeClient, fault: Fault | None, uri: str
) -> None:
    fake, client = await make(retry_after=3, stall=0.0)
    uri = uri.format(c=fake.customer_ids[1])
    fake.inject(None, fault)
    sent = {"MS-RequestId": "r-9", "MS-CorrelationId": "c-9", "MS-CV": "cv.1", **AUTH}
    async with client.get(uri, headers=sent) as response:
        await response.read()
        echoed = [response.headers.get(k) for k in ("MS-RequestId", "MS-CorrelationId", "MS-CV")]
    assert echoed == ["r-9", "c-9", "cv.1"]


# -- hostile answers (issue 10): each checked on the wire with plain aiohttp ------------------

HOSTILE = [f for f in Fault if f in _hostile.FAULTS]
Raw = tuple[FakePartnerCenter, aiohttp.ClientSession, str]


@pytest.fixture
async def raw(aiohttp_server: Any) -> AsyncIterator[Raw]:
    """The fake on a real socket, and a plain session that neither inflates nor limits headers."""
    fake = FakePartnerCenter(FakeConfig(customers=30, bom_rate=0.0, orders_page_size=1000))
    server = await aiohttp_server(fake.app)
    base = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession(auto_decompress=False, max_field_size=65536) as session:
        yield fake, session, base


async def wait_for_streams_to_end(fake: FakePartnerCenter) -> None:
    for _ in range(500):
        if fake.hostile.open_streams == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("a hostile stream kept writing after its client left")


async def read_prefix(response: aiohttp.ClientResponse, limit: int) -> bytes:
    data = b""
    while len(data) < limit:
        chunk = await response.content.read(min(65536, limit - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def with_orders(fake: FakePartnerCenter) -> str:
    return next(c for c in fake.customer_ids[1:] if len(fake.orders_of(c)) > 1)


@pytest.mark.parametrize("fault", HOSTILE)
async def test_hostile_answers_echo_request_ids_and_come_once(raw: Raw, fault: Fault) -> None:
    fake, session, base = raw
    cid = with_orders(fake)
    fake.inject(cid, fault)
    sent = {"MS-RequestId": "r-7", "MS-CorrelationId": "c-7", "MS-CV": "cv.7", **AUTH}
    async with session.get(f"{base}/v1/customers/{cid}/orders", headers=sent) as response:
        echoed = [response.headers.get(k) for k in ("MS-RequestId", "MS-CorrelationId", "MS-CV")]
        response.close()
    assert echoed == ["r-7", "c-7", "cv.7"]
    async with session.get(f"{base}/v1/customers/{cid}/orders", headers=AUTH) as response:
        assert response.status == 200
        assert decode(await response.read())["items"] == fake.orders_of(cid)


async def test_huge_body_streams_2_gib_slowly_and_stops_when_the_client_leaves(raw: Raw) -> None:
    fake, session, base = raw
    fake.inject(None, Fault.HUGE_BODY)
    async with session.get(f"{base}/v1/customers", headers=AUTH) as response:
        assert response.status == 200
        assert response.headers["Content-Length"] == str(2**31)
        start = await read_prefix(response, 3 * 2**20)
        assert start.startswith(b'{"totalCount": 1, "items": [') and len(start) == 3 * 2**20
        response.close()
    await wait_for_streams_to_end(fake)
    assert 3 * 2**20 <= fake.hostile.streamed_bytes < 64 * 2**20
    assert fake.hostile.streams == 1


async def test_endless_chunked_body_never_ends_until_the_client_leaves(raw: Raw) -> None:
    fake, session, base = raw
    fake.inject(None, Fault.ENDLESS_CHUNKED)
    async with session.get(f"{base}/v1/customers", headers=AUTH) as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in response.headers
        assert len(await read_prefix(response, 4 * 2**20)) == 4 * 2**20
        response.close()
    await wait_for_streams_to_end(fake)
    assert fake.hostile.streamed_bytes < 64 * 2**20


async def test_a_stream_ends_when_the_server_stops() -> None:
    fake = FakePartnerCenter(FakeConfig(customers=3))
    await fake.start()
    fake.inject(None, Fault.ENDLESS_CHUNKED)
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"{fake.base_url}/v1/customers", headers=AUTH)
        await response.content.read(1024)  # then read nothing more: the server blocks on drain
        assert fake.hostile.open_streams == 1
        await asyncio.wait_for(fake.close(), 10)
        assert fake.hostile.open_streams == 0
        response.close()


async def test_gzip_bomb_is_small_and_inflates_to_a_gibibyte(raw: Raw) -> None:
    fake, session, base = raw
    _hostile.gzip_bomb.cache_clear()
    started = time.perf_counter()
    bomb = _hostile.gzip_bomb()
    assert time.perf_counter() - started < 1.0
    fake.inject(None, Fault.GZIP_BOMB)
    async with session.get(f"{base}/v1/customers", headers=AUTH) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert int(response.headers["Content-Length"]) == len(bomb) < 2 * 2**20
        body = await response.read()  # compressed: about 1 MiB
    assert body == bomb
    _, size = struct.unpack("<II", body[-8:])
    assert size == (_hostile.BOMB_SIZE + 28) % 2**32 and _hostile.BOMB_SIZE == 2**30
    inflater = zlib.decompressobj(31)
    start = inflater.decompress(body[:16384], 64 * 2**20)  # bounded: 16 KiB in, >= 14 MiB out
    assert start.startswith(b'{"totalCount": 1, "items": [   ') and len(start) > 14 * 2**20


async def test_self_loop_repeats_the_same_link_and_the_same_orders(raw: Raw) -> None:
    fake, session, base = raw
    cid = with_orders(fake)
    fake.inject(cid, Fault.SELF_LOOP)  # once: the loop goes on by its token
    uri, headers, links = f"{base}/v1/customers/{cid}/orders", AUTH, []
    for _ in range(5):
        async with session.get(uri, headers=headers) as response:
            page = decode(await response.read())
        assert page["items"] == fake.orders_of(cid)
        nxt = page["links"]["next"]
        links.append(nxt)
        uri = f"{base}/v1{nxt['uri']}"
        headers = {**AUTH, **{h["key"]: h["value"] for h in nxt["headers"]}}
    assert all(link == links[0] for link in links)
    assert links[0]["uri"] == f"/customers/{cid}/orders"
    assert {r.path_qs for r in fake.requests} == {f"/v1/customers/{cid}/orders"}


async def test_endless_empty_pages_with_fresh_tokens(raw: Raw) -> None:
    fake, session, base = raw
    fake.inject(None, Fault.ENDLESS_EMPTY_PAGES)
    uri, headers, tokens = f"{base}/v1/customers?size=5", AUTH, set()
    for _ in range(20):
        async with session.get(uri, headers=headers) as response:
            page = decode(await response.read())
        assert (page["totalCount"], page["items"]) == (0, [])
        nxt = page["links"]["next"]
        tokens.add(nxt["headers"][0]["value"])
        uri = f"{base}/v1{nxt['uri']}"
        headers = {**AUTH, nxt["headers"][0]["key"]: nxt["headers"][0]["value"]}
    assert len(tokens) == 20
    assert uri.endswith("/v1/customers?size=5&seekOperation=Next")


async def test_deep_json_is_valid_and_nested_past_msgspecs_limit(raw: Raw) -> None:
    fake, session, base = raw
    fake.inject(None, Fault.DEEP_JSON)
    async with session.get(f"{base}/v1/customers", headers=AUTH) as response:
        assert response.status == 200
        body = await response.read()
    assert body.count(b'{"a": ') == _hostile.DEEP_JSON_DEPTH >= 1_000
    with pytest.raises(RecursionError):
        orders_page_decoder.decode(body)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 4 * _hostile.DEEP_JSON_DEPTH)
    try:
        assert json.loads(body)["items"][0]["id"] == "deep"
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        (Fault.NEXT_LINK_CRLF, lambda n: "\r\nX-Injected: yes" in n["headers"][0]["value"]),
        (Fault.NEXT_LINK_DELETE, lambda n: n["method"] == "DELETE" and " " not in n["uri"]),
        (
            Fault.NEXT_LINK_SPACE,
            lambda n: n["uri"].endswith("?seekOperation=Next HTTP/1.1\r\nX-Injected: yes"),
        ),
    ],
)
async def test_hostile_next_links_come_on_real_pages(
    raw: Raw, fault: Fault, check: Callable[[dict[str, Any]], bool]
) -> None:
    fake, session, base = raw
    cid = with_orders(fake)
    fake.inject(cid, fault)
    async with session.get(f"{base}/v1/customers/{cid}/orders", headers=AUTH) as response:
        page = decode(await response.read())
    assert page["items"] == fake.orders_of(cid)
    assert check(page["links"]["next"])


async def test_a_delete_sent_to_the_fake_is_recorded(raw: Raw) -> None:
    fake, session, base = raw
    cid = with_orders(fake)
    async with session.delete(f"{base}/v1/customers/{cid}/orders", headers=AUTH) as response:
        assert response.status == 405
    assert [r.method for r in fake.requests] == ["DELETE"]


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (Fault.ECHO_AUTH_ERROR, 400),
        (Fault.ECHO_AUTH_SERVER_ERROR, 500),
        (Fault.ECHO_AUTH_NOT_JSON, 200),
    ],
)
async def test_bodies_that_echo_the_authorization_header(
    raw: Raw, fault: Fault, status: int
) -> None:
    fake, session, base = raw
    fake.inject(None, fault)
    async with session.get(f"{base}/v1/customers", headers=AUTH) as response:
        assert response.status == status
        body = await response.read()
    assert b"Bearer secret-token" in body
    if fault is not Fault.ECHO_AUTH_NOT_JSON:
        assert "secret-token" in json.loads(body)["description"]
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(body)


async def test_an_oversized_header_holds_the_authorization_value(raw: Raw) -> None:
    fake, session, base = raw
    fake.inject(None, Fault.HUGE_HEADER, Fault.HUGE_HEADER)
    async with session.get(f"{base}/v1/customers", headers=AUTH) as response:
        value = response.headers["X-Debug-Request"]
        assert decode(await response.read())["items"][0]["id"] == SAMPLE_CUSTOMER_ID
    assert len(value) > 8190 and "Bearer secret-token" in value
    async with aiohttp.ClientSession() as plain:  # aiohttp's default limit: 8190 bytes a field
        with pytest.raises(aiohttp.ClientResponseError, match="8190"):
            await plain.get(f"{base}/v1/customers", headers=AUTH)


async def test_customers_listing_fails_on_page_3_then_resumes(make: MakeClient) -> None:
    fake, client = await make(customers=20)
    fake.inject(None, None, None, Fault.BAD_REQUEST)
    uri, headers, ids = "/v1/customers?size=5", AUTH, []
    for _ in range(2):
        page = await get_json(client, uri, headers)
        ids += [c["id"] for c in page["items"]]
        nxt = page["links"]["next"]
        uri = nxt["uri"] if nxt["uri"].startswith("/v1/") else "/v1" + nxt["uri"]
        headers = {h["key"]: h["value"] for h in nxt["headers"]}
    async with client.get(uri, headers={**AUTH, **headers}) as response:
        assert response.status == 400
        assert (await response.json())["isRetryable"] is False
    rest, _ = await follow(client, uri, headers, counted=False)
    assert ids + [c["id"] for c in rest] == fake.customer_ids
