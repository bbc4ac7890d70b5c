"""Decoding: BOMs, unlisted enum values, unknown fields, both timestamp forms, the seed samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from partnercenter_async import BillingCycle, Order, OrderStatus
from partnercenter_async._models import (
    BOM,
    customers_page_decoder,
    error_body_decoder,
    order_decoder,
    orders_page_decoder,
    raw_orders_page_decoder,
    strip_bom,
)

from .conftest import DATA


def test_sample_order_decodes_with_snake_case_names() -> None:
    order = order_decoder.decode((DATA / "sample_order.json").read_bytes())
    assert order.id == "YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1"
    assert order.reference_customer_id == "b0d70a69-4c42-4b27-b17b-91a835d8686a"
    assert order.billing_cycle == BillingCycle.ONE_TIME
    assert order.status == OrderStatus.COMPLETED
    assert order.currency_symbol == "$"
    assert order.line_items[0].offer_id == "DZH318Z0BQ4Z:002L:DZH318Z0CMNP"
    assert order.line_items[0].links is not None
    assert order.line_items[0].links.sku is not None
    assert order.line_items[0].links.sku.uri == "/products/DZH318Z0BQ4Z/skus/002L?country=US"
    assert order.links is not None and order.links.provisioning_status is not None
    assert order.attributes is not None and order.attributes.object_type == "Order"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-03-15T02:17:15.6455674Z", datetime(2018, 3, 15, 2, 17, 15, 645567, tzinfo=UTC)),
        (
            "2018-03-06T17:37:05.253-08:00",
            datetime(2018, 3, 6, 17, 37, 5, 253000, tzinfo=timezone(timedelta(hours=-8))),
        ),
        ("2018-03-06T17:37:05.253", datetime(2018, 3, 6, 17, 37, 5, 253000, tzinfo=UTC)),
    ],
)
def test_creation_date_is_timezone_aware(text: str, expected: datetime) -> None:
    order = order_decoder.decode(msgspec.json.encode({"creationDate": text}))
    assert order.creation_date == expected
    assert order.creation_date is not None and order.creation_date.tzinfo is not None


def test_unlisted_enum_values_and_unknown_fields_are_kept_or_ignored() -> None:
    body = {
        "id": "o1",
        "billingCycle": "quadrennial",
        "status": "on_hold",
        "transactionType": "PartnerPurchase",
        "brandNewField": {"nested": [1, 2, {"deep": True}]},
        "lineItems": [{"lineItemNumber": 0, "transactionType": "transfer", "futureField": 1}],
    }
    order = order_decoder.decode(msgspec.json.encode(body))
    assert (order.billing_cycle, order.status, order.transaction_type) == (
        "quadrennial",
        "on_hold",
        "PartnerPurchase",
    )
    assert order.line_items[0].transaction_type == "transfer"


def test_bom_is_stripped_before_decoding() -> None:
    body = BOM + b'{"totalCount": 0, "items": [], "attributes": {"objectType": "Collection"}}'
    with pytest.raises(msgspec.DecodeError):
        orders_page_decoder.decode(body)
    assert orders_page_decoder.decode(strip_bom(body)).total_count == 0


def test_page_keeps_each_order_raw_for_lossless_export() -> None:
    body = b'{"items": [{"id": "a", "x": {"y": 1}}, {"id": "b"}], "links": {"next": {"uri": "/n",'
    body += b' "headers": [{"key": "MS-ContinuationToken", "value": "a,b=/+_"}]}}}'
    page = raw_orders_page_decoder.decode(body)
    assert [bytes(raw) for raw in page.items] == [b'{"id": "a", "x": {"y": 1}}', b'{"id": "b"}']
    assert page.links is not None and page.links.next is not None
    assert page.links.next.method == "GET"
    assert page.links.next.headers[0].value == "a,b=/+_"


def test_seed_page_with_a_missing_brace_is_a_decode_error() -> None:
    with pytest.raises(msgspec.DecodeError, match="malformed"):
        orders_page_decoder.decode((DATA / "sample_orders_page.json").read_bytes())


def test_error_bodies_in_both_shapes() -> None:
    usual = error_body_decoder.decode(
        b'{"code": 600074, "description": "Customer not found", "errorName": "CustomerNotFound",'
        b' "isRetryable": false, "data": [], "source": "PartnerFD"}'
    )
    assert (usual.code, usual.error_name, usual.is_retryable) == (600074, "CustomerNotFound", False)
    assert error_body_decoder.decode(b'{"code": "2000"}').code == "2000"
    throttled = error_body_decoder.decode(b'{"statusCode": 429, "message": "Try again in 5 s."}')
    assert (throttled.status_code, throttled.message) == (429, "Try again in 5 s.")


def test_customers_page() -> None:
    page = customers_page_decoder.decode(
        b'{"totalCount": 1, "items": [{"id": "c1", "companyProfile": {"companyName": "A, B"},'
        b' "relationshipToPartner": "reseller"}]}'
    )
    customer = page.items[0]
    assert customer.id == "c1"
    assert customer.company_profile is not None
    assert customer.company_profile.company_name == "A, B"
    assert customer.relationship_to_partner == "reseller"


def test_order_round_trips_through_json() -> None:
    order = order_decoder.decode((DATA / "sample_order.json").read_bytes())
    assert order_decoder.decode(msgspec.json.encode(order)) == order
    assert isinstance(order, Order)
