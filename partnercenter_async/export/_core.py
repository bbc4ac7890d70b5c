"""The client calls the export makes, in one place: the listing, the stream and its span."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Mapping
from contextlib import AbstractContextManager

from partnercenter_async._client import CustomerOrders, PartnerCenterClient
from partnercenter_async._models import OrderFilters

__all__ = ["list_customer_ids", "stream_orders", "traced"]


def stream_orders(
    client: PartnerCenterClient, customer_ids: Iterable[str], filters: OrderFilters, *, raw: bool
) -> AsyncGenerator[CustomerOrders, None]:
    """``client.stream_orders`` with ``filters``: one ``CustomerOrders`` per distinct id, in
    completion order, a customer's failure in its ``.error`` (not raised); ``raw`` keeps each
    order's JSON as sent. Raises what ends the stream (``AuthenticationError``, ...)."""
    return client.stream_orders(customer_ids, filters=filters, raw_orders=raw)


async def list_customer_ids(client: PartnerCenterClient) -> list[str]:
    """The id of every customer of the partner, in the service's order.

    Raises:
        PartnerCenterError: A subclass, when a page of ``GET /v1/customers`` fails.
    """
    return [customer.id async for customer in client.list_customers()]


def traced(
    client: PartnerCenterClient, name: str, attributes: Mapping[str, str | int]
) -> AbstractContextManager[object]:
    """A span around a whole run, so that its listing and its fan-out share one trace."""
    return client._telemetry.operation(name, attributes)
