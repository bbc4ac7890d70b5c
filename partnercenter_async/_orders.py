"""The orders resource: one customer's orders, every page, as one result.

Pages decode in one pass straight into ``Order`` structs; a lossless export also keeps each
order's JSON as sent, which costs about 40% more (the page is decoded with raw items, then each).
"""

from __future__ import annotations

import msgspec

from ._errors import PartnerCenterError
from ._models import (
    Order,
    ResourceCollection,
    order_decoder,
    orders_page_decoder,
    raw_orders_page_decoder,
)
from ._responses import Response

__all__ = ["CustomerOrders", "orders_page", "raw_orders_page"]


class CustomerOrders(msgspec.Struct, frozen=True):
    """One customer's result from ``stream_orders``: every order, or the error that stopped it.

    Never partial: when ``error`` is set, ``orders`` and ``raw_orders`` are empty.

    Attributes:
        customer_id: The customer tenant id, as first given.
        orders: The customer's orders, every page.
        raw_orders: Each order's JSON exactly as the service sent it (unknown fields included),
            in the order of ``orders``; only when ``stream_orders`` was asked for it.
        error: Why the customer failed, or None.
    """

    customer_id: str
    orders: list[Order] = msgspec.field(default_factory=list)
    raw_orders: list[bytes] = msgspec.field(default_factory=list)
    error: PartnerCenterError | None = None


def orders_page(response: Response) -> ResourceCollection[Order]:
    """One page of orders, decoded in one pass."""
    return response.decode(orders_page_decoder)


def raw_orders_page(response: Response) -> ResourceCollection[tuple[Order, bytes]]:
    """One page whose items are each order and its JSON exactly as sent."""
    page = response.decode(raw_orders_page_decoder)
    items = [(response.decode(order_decoder, item), bytes(item)) for item in page.items]
    return ResourceCollection(items=items, links=page.links, total_count=page.total_count)
