"""Rows and columns: what each format writes for one customer's orders.

JSON Lines carry each order as the service sent it; CSV and Parquet share one flat view, a row per
line item (``COLUMNS``).
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec

from partnercenter_async._client import CustomerOrders
from partnercenter_async._models import Order


class ExportFormat(enum.StrEnum):
    """An output format of the export: ``jsonl``, ``csv`` or ``parquet``."""

    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


# The flat view of CSV and Parquet: one row per line item (an order without line items gets one
# row with the line-item columns empty), the order's columns repeated. Name, Parquet type.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("customer_id", "string"),
    ("order_id", "string"),
    ("alternate_id", "string"),
    ("reference_customer_id", "string"),
    ("billing_cycle", "string"),
    ("currency_code", "string"),
    ("currency_symbol", "string"),
    ("creation_date", "timestamp[us, UTC]"),
    ("status", "string"),
    ("transaction_type", "string"),
    ("total_price", "double"),
    ("line_item_number", "int64"),
    ("offer_id", "string"),
    ("subscription_id", "string"),
    ("parent_subscription_id", "string"),
    ("friendly_name", "string"),
    ("quantity", "int64"),
    ("term_duration", "string"),
    ("line_item_transaction_type", "string"),
    ("partner_id_on_record", "string"),
    ("promotion_id", "string"),
    ("renews_to_term_duration", "string"),
    ("list_price", "double"),
    ("discounted_price", "double"),
    ("prorated_price", "double"),
    ("price", "double"),
    ("extended_price", "double"),
)
_LINE_ITEM_COLUMNS = len(COLUMNS) - [name for name, _ in COLUMNS].index("line_item_number")

Row = tuple[Any, ...]


def order_rows(customer_id: str, order: Order) -> Iterator[Row]:
    """The rows of one order, with values in the order of ``COLUMNS`` (None when absent)."""
    head = (
        customer_id,
        order.id,
        order.alternate_id,
        order.reference_customer_id,
        order.billing_cycle,
        order.currency_code,
        order.currency_symbol,
        order.creation_date,
        order.status,
        order.transaction_type,
        order.total_price,
    )
    if not order.line_items:
        yield head + (None,) * _LINE_ITEM_COLUMNS
    for item in order.line_items:
        pricing = item.pricing
        yield (
            *head,
            item.line_item_number,
            item.offer_id,
            item.subscription_id,
            item.parent_subscription_id,
            item.friendly_name,
            item.quantity,
            item.term_duration,
            item.transaction_type,
            item.partner_id_on_record,
            item.promotion_id,
            item.renews_to.term_duration if item.renews_to else None,
            pricing.list_price if pricing else None,
            pricing.discounted_price if pricing else None,
            pricing.prorated_price if pricing else None,
            pricing.price if pricing else None,
            pricing.extended_price if pricing else None,
        )


def csv_text(value: Any) -> str:
    """A value as CSV text: empty for None, ``2018-03-15T02:17:15.645567Z`` for a timestamp."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def jsonl_records(result: CustomerOrders) -> bytes:
    """``{"customerId": ..., "order": <the order as sent>}`` per order, one per line.

    Each order is byte for byte as the service sent it, with two exceptions that keep every line
    one valid UTF-8 JSON document: an order the service pretty-printed is put on one line, and
    bytes that are not valid UTF-8 (inside a string; anywhere else the order would not have
    decoded) are replaced by U+FFFD, one per invalid sequence.
    """
    prefix = b'{"customerId":' + msgspec.json.encode(result.customer_id) + b',"order":'
    chunk = b"".join(
        prefix + (msgspec.json.format(raw, indent=0) if b"\n" in raw else raw) + b"}\n"
        for raw in result.raw_orders
    )
    try:
        chunk.decode()  # one check per customer; invalid UTF-8 is rare
    except UnicodeDecodeError:
        chunk = chunk.decode(errors="replace").encode()
    return chunk


def csv_records(result: CustomerOrders) -> bytes:
    """The CSV rows of one customer's orders (RFC 4180: CRLF, minimal quoting), UTF-8."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    for order in result.orders:
        writer.writerows(map(csv_text, row) for row in order_rows(result.customer_id, order))
    return text.getvalue().encode(errors="replace")


BOM = "\ufeff".encode()
"""Starts a CSV file so that spreadsheets read it as UTF-8 (not on stdout)."""


def csv_header() -> bytes:
    """The CSV header line: the names of ``COLUMNS``."""
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\r\n").writerow(name for name, _ in COLUMNS)
    return text.getvalue().encode()


def parquet_schema() -> Any:
    """The fixed ``pyarrow.Schema`` of the Parquet output (``COLUMNS`` with their types).

    Raises:
        ImportError: pyarrow is not installed.
    """
    import pyarrow as pa  # type: ignore[import-untyped]  # an optional extra

    types = {
        "string": pa.string(),
        "double": pa.float64(),
        "int64": pa.int64(),
        "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
    }
    return pa.schema([pa.field(name, types[kind]) for name, kind in COLUMNS])
