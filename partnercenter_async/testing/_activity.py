"""The fake Partner Center lives in time: a clock, changes a test makes happen, an activity log.

`Living` is a mixin of `FakePartnerCenter`. It adds the changes a test (or the demo) makes happen
and what each leaves behind, as the real service does (``shared/reference/partner-center.md``,
section "Activity log"):

- ``place_order(customer)``: logged ``create_order`` (resourceType ``order``); listed after
  ``delay`` seconds of the fake's clock (orders reach a customer's collection up to 15 minutes
  after they are placed).
- ``complete_pending(...)``: pending orders placed so far become ``completed``; not logged.
- ``cancel_order(customer, id)``: ``cancelled``; logged ``update_order`` (resourceType ``order``).
- ``add_customer()``: listed last, no orders; logged ``add_customer`` (resourceType ``customer``).
- ``end_relationship(customer)``: unlisted, its orders answer 404, logged
  ``remove_partner_customer_relationship``; or 403 (access lost), not logged.
- ``touch_user(customer)``: logged ``update_customer_user_licenses`` (``license``); no order.

``GET /v1/auditrecords?startDate=YYYY-MM-DD[&endDate=YYYY-MM-DD][&size=N][&filter=<JSON>]``
answers the records of those days (``endDate`` covers its whole day; without it, 30 days from
``startDate``), newest first, paged with next links carrying ``MS-ContinuationToken`` like the
other collections. A ``startDate`` more than 90 days back, a window over 30 days, a ``size``
outside 1-500 or an unreadable filter answer 400. The clock starts at `DEFAULT_START` and moves
only with ``advance``.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from aiohttp import web

from . import _data
from ._auditquery import LOG_DAYS, WINDOW_DAYS, bad_request, day, record_filter
from ._data import JSON

__all__ = ["DEFAULT_START", "LOG_DAYS", "PARTNER_ID", "WINDOW_DAYS", "Activity", "Living"]

DEFAULT_START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
"""The fake's clock when it is created (a Monday, 09:00 UTC)."""
PARTNER_ID = "4f3e1a7c-2b7d-4e0a-9c43-58d3b1f0a6e2"
"""The partner tenant whose activity the log records."""
_TICKS_AT_EPOCH = 621_355_968_000_000_000  # .NET ticks (100 ns since 0001-01-01) at 1970-01-01


def stamp(at: datetime) -> str:
    """An ``operationDate``/``creationDate`` as the service writes it: 7 fractional digits, Z."""
    at = at.astimezone(UTC)
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond:06d}{at.microsecond % 7}Z"


def pascal(value: Any) -> Any:
    """``value`` with every object key in PascalCase, as ``resourceNewValue`` holds resources."""
    if isinstance(value, dict):
        return {key[:1].upper() + key[1:]: pascal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [pascal(item) for item in value]
    return value


def _without_prices(order: JSON) -> JSON:
    out = {key: value for key, value in order.items() if key != "totalPrice"}
    out["lineItems"] = [
        {key: value for key, value in item.items() if key != "pricing"}
        for item in order["lineItems"]
    ]
    return out


class Activity:
    """What happened to the fake since it was created: its clock, its changes, its log.

    Attributes:
        now: The fake's clock (UTC); moves only with `Living.advance`.
        records: The activity log, oldest first.
        placed: Orders placed per customer id (lower case), each with its ``visible_at``.
        statuses: Order statuses overridden, by (customer id, order id).
        ended: Customers whose relationship ended, and the status they answer (404 or 403).
        added: Ids of the customers added (they have no orders from before).
    """

    def __init__(self, seed: int, start: datetime = DEFAULT_START) -> None:
        self.now = start
        self.records: list[JSON] = []
        self.placed: dict[str, list[tuple[datetime, JSON]]] = {}
        self.statuses: dict[tuple[str, str], str] = {}
        self.ended: dict[str, int] = {}
        self.added: set[str] = set()
        self.rng = random.Random(f"{seed}/activity")

    def guid(self) -> str:
        """A new GUID from the activity's own seeded generator."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def orders(self, customer_id: str, found: list[JSON], include_price: bool) -> list[JSON]:
        """``found`` (the seeded orders of a customer) as they are now: statuses, placed orders."""
        base = [] if customer_id in self.added else found
        out = []
        for order in base:
            status = self.statuses.get((customer_id, order["id"]))
            out.append(order if status is None else order | {"status": status})
        for visible_at, order in self.placed.get(customer_id, ()):
            if visible_at <= self.now:
                status = self.statuses.get((customer_id, order["id"]), order["status"])
                shown = order if include_price else _without_prices(order)
                out.append(shown | {"status": status})
        return out

    def log(
        self,
        customer_id: str,
        customer_name: str,
        resource_type: str,
        operation: str,
        resource_id: str,
        *,
        new: JSON | None = None,
        old: JSON | None = None,
        data: Sequence[tuple[str, str | None]] = (),
    ) -> JSON:
        """Append a record in the real shape (camelCase keys, resources as PascalCase JSON)."""
        ticks = _TICKS_AT_EPOCH + round(self.now.timestamp() * 10**7)
        record: JSON = {
            "id": f"{PARTNER_ID}_{customer_id}_{resource_id.lower()}_"
            f"{operation.replace('_', '')}_{ticks}",
            "partnerId": PARTNER_ID,
            "participants": [PARTNER_ID],
            "customerId": customer_id,
            "customerName": customer_name,
            "userPrincipalName": "admin@partnersample.onmicrosoft.com",
            "applicationId": "Partner Center Native App",
            "resourceType": resource_type,
            "resourceOldValue": None if old is None else json.dumps(pascal(old)),
            "resourceNewValue": None if new is None else json.dumps(pascal(new)),
            "operationType": operation,
            "originalCorrelationId": self.guid(),
            "operationDate": stamp(self.now),
            "operationStatus": "succeeded",
            "customizedData": [{"key": key, "value": value} for key, value in data],
            "sessionId": self.guid(),
            "attributes": {"objectType": "AuditRecord"},
        }
        self.records.append(record)
        return record


class _Host(Protocol):
    """What `Living` needs of the fake service it is mixed into."""

    activity: Activity
    customer_ids: list[str]
    indirect_reseller_ids: list[str]
    _position: dict[str, int]

    def _invalidate(self) -> None: ...
    def _customer(self, position: int) -> JSON: ...
    def _offset(self, request: web.Request) -> int: ...
    def _page(self, request: web.Request, items: list[JSON], next_offset: int | None) -> bytes: ...
    def orders_of(self, customer_id: str, *, include_price: bool = False) -> list[JSON]: ...


class Living:
    """Mixin of `FakePartnerCenter`: changes over time and ``GET /v1/auditrecords``.

    Example:
        >>> fake.place_order(fake.customer_ids[4])  # logged; listed at once (delay=0)
        >>> fake.advance(86_400)  # a day later
        >>> fake.complete_pending()  # every pending order placed so far completes, unlogged
    """

    @property
    def now(self: _Host) -> datetime:
        """The fake's clock (UTC)."""
        return self.activity.now

    def advance(self: _Host, seconds: float) -> None:
        """Move the fake's clock on by ``seconds``."""
        self.activity.now += timedelta(seconds=seconds)
        self._invalidate()

    def _name(self: _Host, customer_id: str) -> str:
        name: str = self._customer(self._position[customer_id])["companyProfile"]["companyName"]
        return name

    def place_order(
        self: _Host, customer_id: str, *, status: str = "pending", delay: float = 0.0
    ) -> str:
        """Place a new order (logged ``create_order``); it is listed after ``delay`` seconds.

        Returns:
            The new order's id.

        Raises:
            KeyError: No such customer.
        """
        cid = customer_id.lower()
        rng = self.activity.rng
        order = _data._order(rng, cid, self.indirect_reseller_ids, True)
        order |= {"creationDate": stamp(self.activity.now), "status": status}
        order["transactionType"] = "UserPurchase"
        visible_at = self.activity.now + timedelta(seconds=delay)
        self.activity.placed.setdefault(cid, []).append((visible_at, order))
        lines = order["lineItems"]
        data: list[tuple[str, str | None]] = [
            ("OrderId", order["id"]),
            ("AlternateId", order["alternateId"]),
            ("BillingCycle", order["billingCycle"].replace("_", " ").title().replace(" ", "")),
        ]
        for n, item in enumerate(lines):
            data += [
                (f"OfferId-{n}", item["offerId"]),
                (f"SubscriptionId-{n}", item.get("subscriptionId")),
                (f"SubscriptionName-{n}", item["friendlyName"]),
                (f"Quantity-{n}", str(item["quantity"])),
                (f"PartnerOnRecord-{n}", item.get("partnerIdOnRecord")),
            ]
        self.activity.log(
            cid, Living._name(self, cid), "order", "create_order", order["id"], new=order, data=data
        )
        self._invalidate()
        return str(order["id"])

    def complete_pending(self: _Host, customer_id: str | None = None) -> int:
        """Complete the pending orders placed so far (of one customer, or all); never logged.

        Returns:
            How many orders completed.
        """
        done = 0
        for cid, placed in self.activity.placed.items():
            if customer_id is not None and cid != customer_id.lower():
                continue
            for _, order in placed:
                key = (cid, order["id"])
                if self.activity.statuses.get(key, order["status"]) == "pending":
                    self.activity.statuses[key] = "completed"
                    done += 1
        self._invalidate()
        return done

    def cancel_order(self: _Host, customer_id: str, order_id: str) -> None:
        """Cancel an order (a PATCH to ``cancelled``), logged as ``update_order``.

        Raises:
            KeyError: No such customer or order.
        """
        cid = customer_id.lower()
        everything = self.orders_of(cid, include_price=True)
        old = next(order for order in everything if order["id"] == order_id)
        self.activity.statuses[(cid, order_id)] = "cancelled"
        self.activity.log(
            cid,
            Living._name(self, cid),
            "order",
            "update_order",
            order_id,
            old=old,
            new=old | {"status": "cancelled"},
            data=[("OrderId", order_id), ("Status", "cancelled")],
        )
        self._invalidate()

    def add_customer(self: _Host) -> str:
        """Add a customer (logged ``add_customer``), listed last, with no orders yet.

        Returns:
            The new customer's id.
        """
        cid = self.activity.guid()
        self._position[cid] = len(self.customer_ids)
        self.customer_ids.append(cid)
        self.activity.added.add(cid)
        customer = self._customer(self._position[cid])
        profile = customer["companyProfile"]
        self.activity.log(
            cid,
            profile["companyName"],
            "customer",
            "add_customer",
            cid,
            new=customer,
            data=[("PrimaryDomainName", profile["domain"]), ("Relationship", "Reseller")],
        )
        self._invalidate()
        return cid

    def end_relationship(self: _Host, customer_id: str, *, status: int = 404) -> None:
        """End the relationship with a customer: unlisted, then 404 (or 403) on its orders.

        Args:
            customer_id: The customer.
            status: 404, or 403 (access lost, e.g. a GDAP role withdrawn); 403 is not logged.
        """
        cid = customer_id.lower()
        if status == 404:
            self.activity.log(
                cid,
                Living._name(self, cid),
                "partner_customer_relationship",
                "remove_partner_customer_relationship",
                cid,
                data=[("RelationshipToPartner", "none")],
            )
        self.activity.ended[cid] = status
        self._invalidate()

    def touch_user(self: _Host, customer_id: str) -> None:
        """Log a license update for a user of the customer (activity that changes no order)."""
        cid = customer_id.lower()
        user = self.activity.guid()
        self.activity.log(
            cid,
            Living._name(self, cid),
            "license",
            "update_customer_user_licenses",
            user,
            data=[("CustomerUserId", user)],
        )

    async def _audit_records(self: _Host, request: web.Request) -> web.Response:
        today = self.activity.now.date()
        query = request.query
        try:
            start = day(query["startDate"]) if "startDate" in query else today - timedelta(30)
            end = day(query["endDate"]) if "endDate" in query else start + timedelta(WINDOW_DAYS)
            size = int(query.get("size", "500"))
            keep = record_filter(query.get("filter"))
        except ValueError as err:
            return bad_request(str(err))
        if start < today - timedelta(LOG_DAYS):
            return bad_request(f"startDate must be within the last {LOG_DAYS} days.")
        if not start <= end <= start + timedelta(WINDOW_DAYS) or not 1 <= size <= 500:
            return bad_request(f"A window of 0 to {WINDOW_DAYS} days and a size of 1 to 500.")
        found = [
            record
            for record in reversed(self.activity.records)
            if start <= date.fromisoformat(record["operationDate"][:10]) <= end and keep(record)
        ]
        offset = self._offset(request)  # a bad token: the service's own 400
        page = found[offset : offset + size]
        following = offset + size if offset + size < len(found) else None
        body = self._page(request, page, following)
        return web.Response(body=body, content_type="application/json")
