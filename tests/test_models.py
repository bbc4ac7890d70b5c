"""Decoding: BOMs, unlisted enum values, unknown fields, both timestamp forms, the seed samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import msgspec
import pytest

from partnercenter_async import (
    AuditRecord,
    BillingCycle,
    LineItemTransactionType,
    Order,
    OrderFilters,
    OrderStatus,
    OrderTransactionType,
)
from partnercenter_async._models import (
    BOM,
    audit_records_page_decoder,
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


# -- real traffic (issue 10) -------------------------------------------------------------------


def test_every_field_of_microsofts_models_is_kept() -> None:
    order = order_decoder.decode(
        b'{"id": "o", "partnerOnRecordAttestationAccepted": true, "lineItems": [{'
        b'"lineItemNumber": 0, "additionalPartnerIdsOnRecord": ["5139005", "4847383"],'
        b' "termDuration": "", "links": {}}]}'
    )
    assert order.partner_on_record_attestation_accepted is True
    line = order.line_items[0]
    assert line.additional_partner_ids_on_record == ["5139005", "4847383"]
    assert line.term_duration == ""
    assert line.links is not None and line.links.sku is None
    customer = customers_page_decoder.decode(
        b'{"items": [{"id": "c", "commerceId": "cm-1", "allowDelegatedAccess": false,'
        b' "associatedPartnerId": "4847383", "customDomains": ["a.example", "b.example"],'
        b' "userCredentials": {"userName": "admin", "password": "hunter2"},'
        b' "billingProfile": {"email": "x@a.example", "defaultAddress": {"country": "DK"}},'
        b' "companyProfile": {"organizationRegistrationNumber": "DK-123",'
        b' "links": {"self": {"uri": "/customers/c/profiles/company"}},'
        b' "attributes": {"objectType": "CustomerCompanyProfile"}},'
        b' "links": {"self": {"uri": "/customers/c"}}, "attributes": {"objectType": "Customer"}}],'
        b' "continuationToken": "a,b=/+_"}'
    )
    assert customer.continuation_token == "a,b=/+_"
    c = customer.items[0]
    assert (c.commerce_id, c.allow_delegated_access, c.associated_partner_id) == (
        "cm-1",
        False,
        "4847383",
    )
    assert c.custom_domains == ["a.example", "b.example"]
    assert c.billing_profile == {"email": "x@a.example", "defaultAddress": {"country": "DK"}}
    assert c.user_credentials is not None and c.user_credentials.user_name == "admin"
    assert "hunter2" not in repr(c)
    profile = c.company_profile
    assert profile is not None and profile.organization_registration_number == "DK-123"
    assert profile.links is not None and profile.links.self is not None
    assert profile.attributes is not None
    assert profile.attributes.object_type == "CustomerCompanyProfile"
    assert c.links is not None and c.attributes is not None


def test_unexpected_shapes_of_loose_fields_still_decode() -> None:
    customer = customers_page_decoder.decode(
        b'{"items": [{"id": "c", "billingProfile": {"whatever": [1, {"x": null}]},'
        b' "customDomains": []}]}'
    ).items[0]
    assert customer.billing_profile == {"whatever": [1, {"x": None}]}
    assert customer.custom_domains == []


@pytest.mark.parametrize(
    ("member", "spellings"),
    [
        (LineItemTransactionType.NEW, ["new", "New", "NEW"]),
        (LineItemTransactionType.ADD_QUANTITY, ["addQuantity", "AddQuantity", "add_quantity"]),
        (BillingCycle.ONE_TIME, ["one_time", "ONE_TIME", "OneTime", "onetime"]),
        (BillingCycle.MONTHLY, ["monthly", "Monthly"]),
        (OrderStatus.COMPLETED, ["completed", "Completed"]),
        (OrderTransactionType.USER_PURCHASE, ["UserPurchase", "userPurchase", "user_purchase"]),
    ],
)
def test_enum_members_equal_every_spelling(member: StrEnum, spellings: list[str]) -> None:
    for text in spellings:
        assert text == member
        assert member == text
        assert (member != text) is False  # str.__ne__ would say True
        assert (text != member) is False
        assert type(member)(text) is member
    assert isinstance(member, str)
    assert str(member) == member.value
    assert member != "something else"
    assert hash(member) == hash(member.value)  # as a plain StrEnum's: the wire value


def test_enum_members_stay_distinct_and_hash_like_their_wire_value() -> None:
    for cls in (BillingCycle, OrderStatus, OrderTransactionType, LineItemTransactionType):
        members = list(cls)
        assert len({hash(m) for m in members}) == len(members)
        assert all(a != b for a in members for b in members if a is not b)
    assert {BillingCycle.ONE_TIME: 1}[BillingCycle("OneTime")] == 1
    assert "monthly" in {BillingCycle.MONTHLY}
    assert "one_time" in {BillingCycle.ONE_TIME}  # the wire value finds the member
    assert "Monthly" in (BillingCycle.MONTHLY, BillingCycle.ANNUAL)
    with pytest.raises(ValueError, match="quadrennial"):
        BillingCycle("quadrennial")


def test_decoded_values_compare_with_members_whatever_the_casing() -> None:
    order = order_decoder.decode(
        b'{"billingCycle": "Monthly", "status": "Completed", "transactionType": "userpurchase",'
        b' "lineItems": [{"transactionType": "New"}]}'
    )
    assert order.billing_cycle == BillingCycle.MONTHLY
    assert order.status == OrderStatus.COMPLETED
    assert order.transaction_type == OrderTransactionType.USER_PURCHASE
    assert order.line_items[0].transaction_type == LineItemTransactionType.NEW


@pytest.mark.parametrize(
    "text",
    [
        "2018-03-15T02:17:15.6455674Z",
        "2018-03-15T02:17:15.64+00:00",
        "2018-03-15T02:17:15.645567Z",
        "2018-03-14T18:17:15.645-08:00",
    ],
)
def test_creation_date_with_2_3_6_and_7_digit_fractions(text: str) -> None:
    order = order_decoder.decode(msgspec.json.encode({"creationDate": text}))
    assert order.creation_date is not None
    assert order.creation_date.utcoffset() is not None
    assert order.creation_date.astimezone(UTC).replace(microsecond=0) == datetime(
        2018, 3, 15, 2, 17, 15, tzinfo=UTC
    )


_AUDIT_PAGE = (
    b'{"totalCount": 2, "items": [{"id": "p_c_ia80_createorder_637346662909268372",'
    b' "partnerId": "p", "participants": ["p", "4847383"], "customerId": "c",'
    b' "customerName": "Contoso", "userPrincipalName": "admin@p.example",'
    b' "applicationId": "FulfillmentService", "resourceType": "order",'
    b' "resourceOldValue": null, "resourceNewValue": "{\\"Id\\":\\"ia80\\",'
    b'\\"BillingCycle\\":\\"monthly\\"}", "operationType": "create_order",'
    b' "originalCorrelationId": "c0", "operationDate": "2020-09-02T17:58:10.9268372Z",'
    b' "operationStatus": "succeeded", "customizedData": [{"key": "OrderId", "value": "ia80"},'
    b' {"key": "AlternateId", "value": null}], "sessionId": "s1",'
    b' "attributes": {"objectType": "AuditRecord"}},'
    b' {"operationDate": "2020-09-02T17:34:00", "customizedData": [{"key": "Quantity-0",'
    b' "value": 5}], "newField": 1}],'
    b' "links": {"self": {"uri": "/auditrecords?startDate=2020-09-02&size=50"},'
    b' "next": {"uri": "/auditrecords?startDate=2020-09-02&size=50&seekOperation=Next",'
    b' "headers": [{"key": "MS-ContinuationToken", "value": "t,1=/+"}]}},'
    b' "continuationToken": "t,1=/+", "attributes": {"objectType": "Collection"}}'
)


def test_audit_records_page() -> None:
    page = audit_records_page_decoder.decode(_AUDIT_PAGE)
    assert page.continuation_token == "t,1=/+"
    assert page.links is not None and page.links.next is not None
    first, second = page.items
    assert isinstance(first, AuditRecord)
    assert first.id == "p_c_ia80_createorder_637346662909268372"
    assert (first.partner_id, first.customer_id, first.customer_name) == ("p", "c", "Contoso")
    assert first.participants == ["p", "4847383"]
    assert first.user_principal_name == "admin@p.example"
    assert first.application_id == "FulfillmentService"
    assert (first.resource_type, first.operation_type, first.operation_status) == (
        "order",
        "create_order",
        "succeeded",
    )
    assert first.resource_old_value is None
    assert first.resource_new_value == '{"Id":"ia80","BillingCycle":"monthly"}'
    assert first.original_correlation_id == "c0"
    assert first.operation_date == datetime(2020, 9, 2, 17, 58, 10, 926837, tzinfo=UTC)
    assert [(d.key, d.value) for d in first.customized_data] == [
        ("OrderId", "ia80"),
        ("AlternateId", None),
    ]
    assert first.session_id == "s1"
    assert first.attributes is not None and first.attributes.object_type == "AuditRecord"
    assert second.operation_date == datetime(2020, 9, 2, 17, 34, tzinfo=UTC)
    assert second.operation_date is not None and second.operation_date.tzinfo is not None
    assert second.customized_data[0].value == 5
    assert second.id is None


@pytest.mark.parametrize(
    ("options", "query"),
    [
        ({}, {}),
        ({"billing_type": "Monthly"}, {"billingType": "monthly"}),
        ({"billing_type": "OneTime"}, {"billingType": "one_time"}),
        ({"billing_type": "onetime"}, {"billingType": "one_time"}),
        ({"billing_type": " one_time "}, {"billingType": "one_time"}),
        ({"billing_type": "ONE_TIME"}, {"billingType": "one_time"}),
        (
            {
                "billing_type": "annual",
                "indirect_reseller_id": "R-1",
                "include_price": True,
                "include_system_purchases": True,
            },
            {
                "indirect_reseller_id": "R-1",
                "billingType": "annual",
                "include_price": "true",
                "include_system_purchases": "true",
            },
        ),
        ({"include_price": False, "indirect_reseller_id": ""}, {"indirect_reseller_id": ""}),
    ],
)
def test_order_filters_query(options: dict[str, Any], query: dict[str, str]) -> None:
    filters = OrderFilters(**options)
    assert filters.query() == query
    assert list(filters.query()) == list(query)  # the order _orders_query produced
    assert msgspec.convert(msgspec.to_builtins(filters), OrderFilters) == filters


def test_order_filters_are_frozen_normalised_and_checked() -> None:
    assert OrderFilters(billing_type="Monthly") == OrderFilters(billing_type="monthly")
    assert hash(OrderFilters(billing_type="OneTime")) == hash(OrderFilters(billing_type="one_time"))
    with pytest.raises(AttributeError):
        OrderFilters().include_price = True  # type: ignore[misc]
    for bad in ("", "   "):
        with pytest.raises(ValueError, match="billing_type"):
            OrderFilters(billing_type=bad)
    with pytest.raises(msgspec.ValidationError, match="billing_type"):
        msgspec.convert({"billing_type": ""}, OrderFilters)
    with pytest.raises(TypeError):
        OrderFilters("monthly")  # type: ignore[call-arg]


def test_models_are_not_tracked_by_the_garbage_collector() -> None:
    import gc

    order = order_decoder.decode(b'{"id": "o", "lineItems": [{"lineItemNumber": 0}]}')
    record = audit_records_page_decoder.decode(_AUDIT_PAGE).items[0]
    assert not gc.is_tracked(order)
    assert not gc.is_tracked(record)
