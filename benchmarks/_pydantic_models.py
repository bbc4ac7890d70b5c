"""Pydantic v2 models of an orders page, as a Python developer would write them.

They mirror ``partnercenter_async``'s msgspec models field for field (camelCase aliases, every
field optional, unknown fields ignored), so that both decode the same page into the same shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class KeyValuePair(_Model):
    """One header of a link."""

    key: str
    value: str


class Link(_Model):
    """A link: uri, method and headers (a next link carries the continuation token)."""

    uri: str
    method: str = "GET"
    headers: list[KeyValuePair] = []
    body: str | None = None


class ResourceAttributes(_Model):
    """``attributes`` of a resource."""

    etag: str | None = None
    object_type: str | None = None


class ResourceLinks(_Model):
    """A page's links."""

    self: Link | None = None
    next: Link | None = None
    previous: Link | None = None


class Pricing(_Model):
    """A line item's prices."""

    discounted_price: float | None = None
    extended_price: float | None = None
    list_price: float | None = None
    price: float | None = None
    prorated_price: float | None = None


class PurchaseCommitment(_Model):
    """A line item's purchase commitment."""

    amount: float | None = None
    currency: str | None = None
    grain: str | None = None


class RenewsTo(_Model):
    """The term a line item renews to."""

    term_duration: str | None = None


class OrderLineItemLinks(_Model):
    """A line item's links."""

    activation_links: Link | None = None
    availability: Link | None = None
    product: Link | None = None
    provisioning_status: Link | None = None
    sku: Link | None = None
    subscription: Link | None = None


class OrderLinks(_Model):
    """An order's links."""

    patch_operation: Link | None = None
    provisioning_status: Link | None = None
    self: Link | None = None


class ClientContext(_Model):
    """An order's client context."""

    device_family: str | None = None
    marketplace_country: str | None = None
    name: str | None = None


class OrderLineItem(_Model):
    """One product of an order."""

    attestation_accepted: bool | None = None
    custom_term_end_date: str | None = None
    friendly_name: str | None = None
    line_item_number: int | None = None
    links: OrderLineItemLinks | None = None
    offer_id: str | None = None
    parent_subscription_id: str | None = None
    partner_id_on_record: str | None = None
    pricing: Pricing | None = None
    promotion_id: str | None = None
    provisioning_context: dict[str, Any] | None = None
    purchase_commitment: PurchaseCommitment | None = None
    quantity: int | None = None
    renews_to: RenewsTo | None = None
    subscription_id: str | None = None
    term_duration: str | None = None
    transaction_type: str | None = None


class Order(_Model):
    """An order."""

    id: str | None = None
    alternate_id: str | None = None
    reference_customer_id: str | None = None
    billing_cycle: str | None = None
    currency_code: str | None = None
    currency_symbol: str | None = None
    line_items: list[OrderLineItem] = []
    creation_date: datetime | None = None
    status: str | None = None
    total_price: float | None = None
    transaction_type: str | None = None
    client: ClientContext | None = None
    links: OrderLinks | None = None
    attributes: ResourceAttributes | None = None


class OrdersPage(_Model):
    """One page of a customer's orders."""

    total_count: int | None = None
    items: list[Order] = []
    links: ResourceLinks | None = None
    attributes: ResourceAttributes | None = None
