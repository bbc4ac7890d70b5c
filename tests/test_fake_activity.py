"""The fake's life in time: changes, what the activity log records of them, paging, limits."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import msgspec
import pytest

from partnercenter_async.testing import FakeConfig, FakePartnerCenter

HEADERS = {"Authorization": "Bearer t"}


async def _get(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with session.get(url, headers={**HEADERS, **(headers or {})}) as response:
        body = await response.read()
        return response.status, msgspec.json.decode(body.removeprefix(b"\xef\xbb\xbf"))


async def _log(
    session: aiohttp.ClientSession, base: str, query: str, size: int = 500
) -> list[dict[str, Any]]:
    """Every record of a query, following next links with their headers."""
    status, page = await _get(session, f"{base}/v1/auditrecords?{query}&size={size}")
    assert status == 200, page
    records = list(page["items"])
    while "next" in page["links"]:
        link = page["links"]["next"]
        uri = link["uri"] if link["uri"].startswith("/v1") else "/v1" + link["uri"]
        headers = {h["key"]: h["value"] for h in link["headers"]}
        status, page = await _get(session, base + uri, headers)
        assert status == 200, page
        records += page["items"]
    return records


async def test_changes_and_their_records() -> None:
    async with FakePartnerCenter(FakeConfig(seed=3, customers=30, bom_rate=0.5)) as fake:
        base, day = fake.base_url, fake.now.date().isoformat()
        cid = fake.customer_ids[5]
        before = len(fake.orders_of(cid, include_system_purchases=True))
        order_id = fake.place_order(cid)
        fake.advance(60)
        fake.cancel_order(cid, order_id)
        fake.advance(60)
        other = fake.place_order(fake.customer_ids[6])
        fake.complete_pending()
        new = fake.add_customer()
        fake.touch_user(cid)
        fake.end_relationship(fake.customer_ids[7])
        fake.end_relationship(fake.customer_ids[8], status=403)
        async with aiohttp.ClientSession() as session:
            records = await _log(session, base, f"startDate={day}", size=2)
            orders = fake.orders_of(cid, include_system_purchases=True)
            assert len(orders) == before + 1
            assert next(o for o in orders if o["id"] == order_id)["status"] == "cancelled"
            status = {o["id"]: o["status"] for o in fake.orders_of(fake.customer_ids[6])}
            assert status[other] == "completed"
            ended = f"{base}/v1/customers/{fake.customer_ids[7]}/orders"
            assert (await _get(session, ended))[0] == 404
            assert (await _get(session, ended.replace(fake.customer_ids[7], new)))[0] == 200
            denied = f"{base}/v1/customers/{fake.customer_ids[8]}/orders"
            assert (await _get(session, denied))[0] == 403
            _, listing = await _get(session, f"{base}/v1/customers?size=500")
            listed = [c["id"] for c in listing["items"]]
            assert new in listed and fake.customer_ids[7] not in listed
            assert fake.customer_ids[8] not in listed
            filtered = await _log(
                session,
                base,
                f"startDate={day}&endDate={day}&filter="
                + json.dumps({"Field": "CustomerId", "Value": cid.upper(), "Operator": "equals"}),
            )
    operations = [r["operationType"] for r in records]
    assert operations == [  # newest first; completing and the 403 left no record
        "remove_partner_customer_relationship",
        "update_customer_user_licenses",
        "add_customer",
        "create_order",
        "update_order",
        "create_order",
    ]
    created = records[-1]
    assert created["customerId"] == cid and created["resourceType"] == "order"
    assert created["id"].endswith(f"_{order_id.lower()}_createorder_" + created["id"][-18:])
    assert len(created["operationDate"]) == 28 and created["operationDate"].endswith("Z")
    value = json.loads(created["resourceNewValue"])
    assert value["Id"] == order_id and value["LineItems"][0]["LineItemNumber"] == 0
    assert {"key": "OrderId", "value": order_id} in created["customizedData"]
    assert [r["operationType"] for r in filtered] == [
        "update_customer_user_licenses",
        "update_order",
        "create_order",
    ]


async def test_a_placed_order_is_listed_after_its_delay() -> None:
    fake = FakePartnerCenter(FakeConfig(seed=1, customers=5))
    cid = fake.customer_ids[2]
    order_id = fake.place_order(cid, delay=900)
    assert order_id not in {o["id"] for o in fake.orders_of(cid, include_system_purchases=True)}
    fake.advance(900)
    assert order_id in {o["id"] for o in fake.orders_of(cid, include_system_purchases=True)}


@pytest.mark.parametrize(
    "query",
    [
        "startDate=2026-07-01",  # more than 90 days back
        "startDate=2026-10-01&endDate=2026-11-02",  # a window over 30 days
        "startDate=2026-11-02&endDate=2026-11-01",  # the end before the start
        "startDate=yesterday",
        "startDate=2026-11-02&size=501",
        "startDate=2026-11-02&filter=%7B%22Field%22%3A%22Colour%22%7D",
    ],
)
async def test_the_log_refuses_what_the_service_refuses(query: str) -> None:
    async with FakePartnerCenter(FakeConfig(customers=3)) as fake, aiohttp.ClientSession() as s:
        status, body = await _get(s, f"{fake.base_url}/v1/auditrecords?{query}")
    assert status == 400, body


async def test_dates_in_the_sdks_form_and_days_out_of_the_window() -> None:
    async with FakePartnerCenter(FakeConfig(customers=3)) as fake:
        fake.place_order(fake.customer_ids[1])
        fake.advance(86_400)
        fake.place_order(fake.customer_ids[2])
        async with aiohttp.ClientSession() as session:
            sdk = await _log(session, fake.base_url, "startDate=11/03/2026%2000:00:00")
            first_day = await _log(
                session, fake.base_url, "startDate=2026-11-02&endDate=2026-11-02"
            )
    assert [r["customerId"] for r in sdk] == [fake.customer_ids[2]]
    assert [r["customerId"] for r in first_day] == [fake.customer_ids[1]]
