"""The client calls the export makes, in one place.

A thin adapter over today's client while issue 10's core is rebuilt: ``OrderFilters`` mirrors the
core's frozen filters type (same fields, same defaults) and goes away, with the adapters here, when
the core's lands.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable

import msgspec

from partnercenter_async._client import ClientStats, CustomerOrders, PartnerCenterClient
from partnercenter_async._errors import NotFoundError, PartnerCenterError, PermissionDeniedError


class OrderFilters(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which orders a listing returns (the query of ``GET /v1/customers/{id}/orders``).

    Attributes:
        billing_type: Only orders of this billing cycle, e.g. ``"monthly"``.
        indirect_reseller_id: Only orders of this indirect reseller.
        include_price: Include pricing (``Order.total_price``, ``OrderLineItem.pricing``).
        include_system_purchases: Include system purchases.
    """

    billing_type: str | None = None
    indirect_reseller_id: str | None = None
    include_price: bool = False
    include_system_purchases: bool = False


def stream_orders(
    client: PartnerCenterClient, customer_ids: Iterable[str], filters: OrderFilters, *, raw: bool
) -> AsyncGenerator[CustomerOrders, None]:
    """``client.stream_orders`` with ``filters``; ``raw`` keeps each order's JSON as sent."""
    return client.stream_orders(
        customer_ids,
        raw_orders=raw,
        billing_type=filters.billing_type,
        indirect_reseller_id=filters.indirect_reseller_id,
        include_price=filters.include_price,
        include_system_purchases=filters.include_system_purchases,
    )


async def list_customer_ids(client: PartnerCenterClient) -> list[str]:
    """The id of every customer of the partner, in the service's order."""
    return [customer.id async for customer in client.iter_customers()]


def held_seconds(stats: ClientStats) -> float:
    """Seconds the client was held back by throttling (today: summed over requests)."""
    return stats.throttle_wait


def is_final(error: PartnerCenterError) -> bool:
    """A failure that retrying cannot fix: the customer is gone (404) or refused to us (403)."""
    return isinstance(error, NotFoundError | PermissionDeniedError)
