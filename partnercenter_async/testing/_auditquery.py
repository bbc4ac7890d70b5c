"""The activity log's query: its dates, its filter and its refusals, as the service reads them.

Source: ``shared/reference/partner-center.md``, section "Activity log" (dates as ``yyyy-mm-dd`` or
the .NET SDK's ``MM/dd/yyyy HH:mm:ss``; filters on CustomerId, ResourceType, CompanyName; 90 days).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

import msgspec
from aiohttp import web

from ._data import JSON

__all__ = ["LOG_DAYS", "WINDOW_DAYS", "bad_request", "day", "record_filter"]

LOG_DAYS = 90
"""Days of activity the log keeps; an older startDate answers 400."""
WINDOW_DAYS = 30
"""Widest window one query may ask for, in days."""
_FILTER_FIELDS = {"customerid": "customerId", "resourcetype": "resourceType"}


def day(text: str) -> date:
    """A query date: ``2020-09-02``, or the SDK's ``09/02/2020 00:00:00`` (time ignored)."""
    text = text.strip()
    try:
        if "/" in text:
            return datetime.strptime(text.split(" ")[0], "%m/%d/%Y").date()
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"Invalid date {text!r}.") from None


def record_filter(text: str | None) -> Callable[[JSON], bool]:
    """The records a ``filter`` query keeps (None: all).

    Raises:
        ValueError: Not JSON, or a field or operator the service does not know.
    """
    if text is None:
        return lambda record: True
    try:
        spec = json.loads(text)
        field, value = str(spec["Field"]).lower(), str(spec["Value"]).lower()
        operator = str(spec.get("Operator", "equals")).lower()
    except (ValueError, KeyError, TypeError):
        raise ValueError("The filter is not valid.") from None
    if field == "companyname" and operator == "substring":
        return lambda record: value in str(record.get("customerName", "")).lower()
    if field in _FILTER_FIELDS and operator == "equals":
        key = _FILTER_FIELDS[field]
        return lambda record: str(record.get(key, "")).lower() == value
    raise ValueError(f"Unsupported filter field or operator: {field} {operator}.")


def bad_request(description: str) -> web.Response:
    """A 400 with the service's error body."""
    body = {"code": 400, "description": description, "errorName": "InvalidInput", "data": []}
    return web.Response(status=400, body=msgspec.json.encode(body), content_type="application/json")
