"""Property tests: generated orders round-trip; corrupted bodies raise the decode error only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from partnercenter_async import Order, ResponseDecodeError
from partnercenter_async._models import (
    order_decoder,
    orders_page_decoder,
    raw_orders_page_decoder,
)
from partnercenter_async._responses import Context, Response

text = st.text(max_size=20)
money = st.floats(allow_nan=False, allow_infinity=False, width=32)
link = st.fixed_dictionaries(
    {"uri": text, "method": st.sampled_from(["GET", "PATCH"])},
    optional={"headers": st.lists(st.fixed_dictionaries({"key": text, "value": text}))},
)
line_item = st.fixed_dictionaries(
    {},
    optional={
        "lineItemNumber": st.integers(0, 1000),
        "offerId": text,
        "friendlyName": text,
        "quantity": st.integers(0, 10**6),
        "termDuration": st.sampled_from(["P1M", "P1Y", "P3Y"]),
        "transactionType": text,
        "pricing": st.fixed_dictionaries({}, optional={"listPrice": money, "price": money}),
        "renewsTo": st.fixed_dictionaries({"termDuration": text}),
        "provisioningContext": st.dictionaries(text, text, max_size=3),
        "links": st.fixed_dictionaries({}, optional={"sku": link, "subscription": link}),
    },
)
timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
order = st.fixed_dictionaries(
    {"id": text},
    optional={
        "referenceCustomerId": text,
        "billingCycle": st.one_of(st.sampled_from(["monthly", "annual", "one_time"]), text),
        "currencyCode": text,
        "lineItems": st.lists(line_item, max_size=4),
        "creationDate": timestamps.map(lambda d: d.isoformat().replace("+00:00", "Z")),
        "status": text,
        "totalPrice": money,
        "links": st.fixed_dictionaries({}, optional={"self": link}),
        "unknownField": st.recursive(
            st.none() | st.booleans() | text, lambda c: st.lists(c) | st.dictionaries(text, c)
        ),
    },
)


@settings(max_examples=200)
@given(order)
def test_generated_orders_round_trip(source: dict[str, Any]) -> None:
    decoded = order_decoder.decode(msgspec.json.encode(source))
    assert decoded.id == source["id"]
    assert len(decoded.line_items) == len(source.get("lineItems", []))
    assert decoded.billing_cycle == source.get("billingCycle")
    again = order_decoder.decode(msgspec.json.encode(decoded))
    assert again == decoded


def corrupt(body: bytes, data: st.DataObject) -> bytes:
    how = data.draw(st.sampled_from(["truncate", "flip", "insert", "retype"]))
    at = data.draw(st.integers(0, max(len(body) - 1, 0)))
    if how == "truncate":
        return body[:at]
    if how == "flip":
        return body[:at] + bytes([body[at] ^ data.draw(st.integers(1, 255))]) + body[at + 1 :]
    if how == "insert":
        return body[:at] + data.draw(st.binary(min_size=1, max_size=8)) + body[at:]
    return body.replace(b'"id":', b'"id":[1,{},', 1).replace(
        b'"lineItems":[', b'"lineItems":7,[', 1
    )


@settings(max_examples=300)
@given(order, st.data())
def test_corrupted_bodies_raise_only_the_decode_error(
    source: dict[str, Any], data: st.DataObject
) -> None:
    body = corrupt(msgspec.json.encode({"items": [source]}), data)
    context = Context(request_id="r", correlation_id="c", attempts=1)
    response = Response(URL("https://x/p"), body, context, token="secret-token")
    error: ResponseDecodeError | None = None
    try:
        page = response.decode(raw_orders_page_decoder)
        orders = [response.decode(order_decoder, raw) for raw in page.items]
    except ResponseDecodeError as err:
        error = err
    if error is None:
        assert all(isinstance(o, Order) for o in orders)
        assert response.decode(orders_page_decoder).items == orders
    else:
        assert error.body_start in body  # the start of the body, or of the order that failed
        assert error.request_id == "r"
        with pytest.raises(ResponseDecodeError):  # the one-pass decode refuses it too
            response.decode(orders_page_decoder)
