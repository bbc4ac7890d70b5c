"""Helpers for the export tests: read each format back with a real reader, into comparable rows.

``expected_rows`` builds the flat rows from JSON Lines records on its own (json module, the
documented column list), so CSV and Parquet are checked against the JSON Lines content, not
against the code that wrote them.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pyarrow.parquet as pq

from partnercenter_async.export import COLUMNS

Row = tuple[Any, ...]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ORDER_FIELDS = {
    "order_id": "id",
    "alternate_id": "alternateId",
    "reference_customer_id": "referenceCustomerId",
    "billing_cycle": "billingCycle",
    "currency_code": "currencyCode",
    "currency_symbol": "currencySymbol",
    "creation_date": "creationDate",
    "status": "status",
    "transaction_type": "transactionType",
    "total_price": "totalPrice",
}
ITEM_FIELDS = {
    "line_item_number": "lineItemNumber",
    "offer_id": "offerId",
    "subscription_id": "subscriptionId",
    "parent_subscription_id": "parentSubscriptionId",
    "friendly_name": "friendlyName",
    "quantity": "quantity",
    "term_duration": "termDuration",
    "line_item_transaction_type": "transactionType",
    "partner_id_on_record": "partnerIdOnRecord",
    "promotion_id": "promotionId",
}
PRICE_FIELDS = {
    "list_price": "listPrice",
    "discounted_price": "discountedPrice",
    "prorated_price": "proratedPrice",
    "price": "price",
    "extended_price": "extendedPrice",
}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def key(record: dict[str, Any]) -> str:
    """A record as canonical text, to compare multisets of records."""
    return json.dumps(record, sort_keys=True)


def multiset(records: list[dict[str, Any]]) -> Counter[str]:
    return Counter(map(key, records))


def _typed(kind: str, value: Any) -> Any:
    """A value (JSON, CSV text, or Parquet) as the one comparable form of its column type."""
    if value is None or value == "":
        return None
    if kind == "double":
        return float(value)
    if kind == "int64":
        return int(value)
    if kind.startswith("timestamp"):
        if isinstance(value, str):
            value = msgspec.json.decode(json.dumps(value).encode(), type=datetime)
        return (value - EPOCH) // timedelta(microseconds=1)
    return str(value)


def _row(values: dict[str, Any]) -> Row:
    return tuple(_typed(kind, values.get(name)) for name, kind in COLUMNS)


def expected_rows(records: list[dict[str, Any]]) -> Counter[Row]:
    """One row per line item (one for an order without), from the JSON Lines records."""
    rows: Counter[Row] = Counter()
    for record in records:
        order = record["order"]
        head = {"customer_id": record["customerId"]}
        head.update({name: order.get(field) for name, field in ORDER_FIELDS.items()})
        for item in order.get("lineItems") or [{}]:
            values = dict(head)
            values.update({name: item.get(field) for name, field in ITEM_FIELDS.items()})
            values["renews_to_term_duration"] = (item.get("renewsTo") or {}).get("termDuration")
            pricing = item.get("pricing") or {}
            values.update({name: pricing.get(field) for name, field in PRICE_FIELDS.items()})
            rows[_row(values)] += 1
    return rows


def csv_rows(path: Path) -> Counter[Row]:
    """The rows of a CSV export, read with the csv module (RFC 4180, UTF-8 with a BOM)."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        assert next(reader) == [name for name, _ in COLUMNS], "the documented header"
        return Counter(_row(dict(zip((n for n, _ in COLUMNS), row, strict=True))) for row in reader)


def parquet_rows(path: Path) -> Counter[Row]:
    """The rows of a Parquet export (a directory of parts), read with pyarrow."""
    return Counter(_row(record) for record in pq.read_table(path).to_pylist())
