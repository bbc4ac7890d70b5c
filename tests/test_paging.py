"""Paging: next links followed as given, continuation tokens sent verbatim, filters sent."""

from __future__ import annotations

import pytest
from yarl import URL

from partnercenter_async import (
    BillingCycle,
    NotFoundError,
    OrderFilters,
    PartnerCenterClient,
    ResponseDecodeError,
    UnsafeRequestError,
)
from partnercenter_async._urls import resolve_link
from partnercenter_async.testing import SAMPLE_CUSTOMER_ID, FakeConfig, FakePartnerCenter, Fault


def paging_customer(fake: FakePartnerCenter, pages: int) -> str:
    size = fake.config.orders_page_size
    return next(c for c in fake.customer_ids if len(fake.orders_of(c)) > size * (pages - 1))


async def test_orders_follow_next_links_in_both_uri_forms(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    customer_id = paging_customer(fake, pages=3)
    orders = [order async for order in client.list_orders(customer_id)]
    assert [o.id for o in orders] == [o["id"] for o in fake.orders_of(customer_id)]
    tokens = [r.headers.get("MS-ContinuationToken") for r in fake.requests]
    assert tokens[0] is None and all(tokens[1:]) and len(tokens) >= 3
    assert all("seekOperation=Next" in r.path_qs for r in fake.requests[1:])
    assert not any("/v1/v1" in r.path_qs for r in fake.requests)


async def test_customers_listing_pages_by_size(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    customers = [customer async for customer in client.list_customers(size=7)]
    assert [c.id for c in customers] == fake.customer_ids
    assert len(fake.requests) == -(-len(fake.customer_ids) // 7)
    assert fake.requests[0].path_qs == "/v1/customers?size=7"


@pytest.mark.parametrize("fake_config", [FakeConfig(seed=3, customers=30, bom_rate=1.0)])
async def test_every_body_with_a_bom_decodes(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    result = await client.gather_orders(fake.customer_ids)
    assert sum(map(len, result.values())) == sum(len(fake.orders_of(c)) for c in fake.customer_ids)
    assert [c.id async for c in client.list_customers()] == fake.customer_ids


async def test_sample_customer_serves_the_seed_orders(client: PartnerCenterClient) -> None:
    orders = {o.id: o async for o in client.list_orders(SAMPLE_CUSTOMER_ID)}
    assert set(orders) >= {
        "9qg-ErcO-4MPbPqq_3MIQaS7bn8W6HfG1",
        "eeba9d00-7b46-443a-917e-22887a8fc993",
        "YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1",
    }
    order = await client.get_order(SAMPLE_CUSTOMER_ID, "eeba9d00-7b46-443a-917e-22887a8fc993")
    assert order.line_items[0].friendly_name == "Azure Active Directory Premium P2"
    assert order.creation_date is not None and order.creation_date.utcoffset() is not None


async def test_filters_reach_the_service_and_filter(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    customer_id = max(fake.customer_ids, key=lambda c: len(fake.orders_of(c)))
    every = [
        o
        async for o in client.list_orders(
            customer_id, filters=OrderFilters(include_system_purchases=True)
        )
    ]
    monthly = [
        o
        async for o in client.list_orders(customer_id, filters=OrderFilters(billing_type="Monthly"))
    ]
    priced = [
        o async for o in client.list_orders(customer_id, filters=OrderFilters(include_price=True))
    ]
    assert fake.requests[1].path_qs.endswith("?include_system_purchases=true") or any(
        "include_system_purchases=true" in r.path_qs for r in fake.requests
    )
    assert any("billingType=monthly" in r.path_qs for r in fake.requests)
    assert [o.id for o in monthly] == [
        o["id"] for o in fake.orders_of(customer_id, billing_type="monthly")
    ]
    assert monthly and all(o.billing_cycle == BillingCycle.MONTHLY for o in monthly)
    assert len(every) == len(fake.orders_of(customer_id, include_system_purchases=True))
    assert all(o.total_price is None for o in every)
    assert all(item.pricing is not None for o in priced for item in o.line_items)
    reseller = fake.indirect_reseller_ids[0]
    via = [
        o
        async for o in client.list_orders(
            customer_id, filters=OrderFilters(indirect_reseller_id=reseller)
        )
    ]
    assert [o.id for o in via] == [
        o["id"] for o in fake.orders_of(customer_id, indirect_reseller_id=reseller)
    ]


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/customers?size=500&seekOperation=Next", "/v1/customers?size=500&seekOperation=Next"),
        ("/v1/customers?size=500&seekOperation=Next", "/v1/customers?size=500&seekOperation=Next"),
        ("customers/c/orders", "/v1/customers/c/orders"),
        ("/customers?a=b%2Cc", "/v1/customers?a=b%2Cc"),
        ("https://api.partnercenter.microsoft.com/v1/customers", "/v1/customers"),
    ],
)
def test_resolve_link_keeps_the_uri_as_given(uri: str, expected: str) -> None:
    base = URL("https://api.partnercenter.microsoft.com")
    assert str(resolve_link(base, uri)) == f"{base}{expected}"


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/v1/customers",
        "//evil.example/v1/customers",
        "http://api.partnercenter.microsoft.com/v1/customers",
        "https://api.partnercenter.microsoft.com:8443/v1/customers",
        "http://[::1",
    ],
)
def test_links_to_another_origin_are_refused(uri: str) -> None:
    with pytest.raises(UnsafeRequestError, match="refusing to follow"):
        resolve_link(URL("https://api.partnercenter.microsoft.com"), uri)


@pytest.mark.parametrize("customer_id", ["../../customers", "a?b#c", "a/b", "x y"])
async def test_ids_cannot_change_the_path_or_query(
    client: PartnerCenterClient, fake: FakePartnerCenter, customer_id: str
) -> None:
    with pytest.raises(NotFoundError):  # the fake knows no such customer
        [o async for o in client.list_orders(customer_id)]
    (request,) = fake.requests
    assert request.path_qs.startswith("/v1/customers/") and request.path_qs.endswith("/orders")
    assert request.path_qs.count("/") == 4 and "?" not in request.path_qs


@pytest.mark.parametrize("customer_id", ["", " ", ".", ".."])
async def test_ids_that_cannot_be_a_segment_are_refused(
    client: PartnerCenterClient, customer_id: str
) -> None:
    with pytest.raises(UnsafeRequestError):
        [o async for o in client.list_orders(customer_id)]


async def test_by_page_resumes_at_the_page_that_failed(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    pager = client.list_customers(size=7)
    fake.inject(None, None, None, Fault.WRONG_TYPES)  # pages 1 and 2 pass, page 3 does not decode
    seen: list[str] = []

    async def read(token: str | None) -> None:
        async for page in pager.by_page(token):
            seen.extend(customer.id for customer in page.items)

    with pytest.raises(ResponseDecodeError) as caught:
        await read(None)
    assert len(seen) == 14
    token = caught.value.continuation_token
    assert token is not None
    await read(token)
    assert seen == fake.customer_ids  # every customer once, in order


async def test_a_continuation_token_of_another_listing_is_refused(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    fake.inject(None, None, Fault.WRONG_TYPES)
    with pytest.raises(ResponseDecodeError) as caught:
        [c async for c in client.list_customers(size=7)]
    assert caught.value.continuation_token is not None
    with pytest.raises(UnsafeRequestError, match="belongs to /v1/customers"):
        [
            o
            async for o in client.list_orders(SAMPLE_CUSTOMER_ID).by_page(
                caught.value.continuation_token
            )
        ]
    with pytest.raises(UnsafeRequestError, match="not a token"):
        [o async for o in client.list_customers().by_page("not base64 json")]
