"""The client calls the export makes, in one place: the listing, the stream, the counters, and
which failures are final."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Mapping
from contextlib import AbstractContextManager

from partnercenter_async._client import CustomerOrders, PartnerCenterClient
from partnercenter_async._errors import NotFoundError, PartnerCenterError, PermissionDeniedError
from partnercenter_async._models import OrderFilters

__all__ = [
    "OrderFilters",
    "held_seconds",
    "is_final",
    "list_customer_ids",
    "stream_orders",
    "traced",
]


def stream_orders(
    client: PartnerCenterClient, customer_ids: Iterable[str], filters: OrderFilters, *, raw: bool
) -> AsyncGenerator[CustomerOrders, None]:
    """``client.stream_orders`` with ``filters``; ``raw`` keeps each order's JSON as sent."""
    return client.stream_orders(customer_ids, filters=filters, raw_orders=raw)


async def list_customer_ids(client: PartnerCenterClient) -> list[str]:
    """The id of every customer of the partner, in the service's order."""
    return [customer.id async for customer in client.list_customers()]


def traced(
    client: PartnerCenterClient, name: str, attributes: Mapping[str, str | int]
) -> AbstractContextManager[object]:
    """A span around a whole run, so that its listing and its fan-out share one trace."""
    return client._telemetry.operation(name, attributes)


def held_seconds(client: PartnerCenterClient) -> float:
    """Wall seconds the whole client was held by 429 holds (not summed per request)."""
    return client.stats.held_seconds


def is_final(error: PartnerCenterError) -> bool:
    """A failure that retrying cannot fix: the customer is gone (404) or refused to us (403)."""
    return isinstance(error, NotFoundError | PermissionDeniedError)
