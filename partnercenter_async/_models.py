"""msgspec Structs for Partner Center's orders and customers, and their decoders.

Source: the "Get orders for a customer" REST reference (every ``Microsoft.Partner...``
definition) and the facts in ``shared/reference/partner-center.md``. Enumerations are typed as
``str`` so that values the reference does not list are kept; the ``StrEnum`` classes name the known
ones and compare equal to them. Unknown fields are ignored, never an error.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import msgspec

__all__ = [
    "AuditKeyValue",
    "AuditRecord",
    "BillingCycle",
    "ClientContext",
    "CompanyProfile",
    "Customer",
    "ErrorBody",
    "KeyValuePair",
    "LineItemTransactionType",
    "Link",
    "Order",
    "OrderFilters",
    "OrderLineItem",
    "OrderLineItemLinks",
    "OrderLinks",
    "OrderStatus",
    "OrderTransactionType",
    "Pricing",
    "PurchaseCommitment",
    "RenewsTo",
    "ResourceAttributes",
    "ResourceCollection",
    "ResourceLinks",
]

T = TypeVar("T")


class BillingCycle(enum.StrEnum):
    """Known ``Order.billingCycle`` values (snake_case on the wire)."""

    UNKNOWN = "unknown"
    MONTHLY = "monthly"
    ANNUAL = "annual"
    NONE = "none"
    ONE_TIME = "one_time"
    TRIENNIAL = "triennial"
    BIENNIAL = "biennial"


class OrderStatus(enum.StrEnum):
    """Known ``Order.status`` values."""

    UNKNOWN = "unknown"
    COMPLETED = "completed"
    PENDING = "pending"
    CANCELLED = "cancelled"


class OrderTransactionType(enum.StrEnum):
    """Known ``Order.transactionType`` values."""

    USER_PURCHASE = "UserPurchase"
    SYSTEM_PURCHASE = "SystemPurchase"
    SYSTEM_BILLING = "SystemBilling"


class LineItemTransactionType(enum.StrEnum):
    """Known ``OrderLineItem.transactionType`` values."""

    NEW = "new"
    RENEW = "renew"
    ADD_QUANTITY = "addQuantity"
    REMOVE_QUANTITY = "removeQuantity"
    CANCEL = "cancel"
    CONVERT = "convert"
    CUSTOMER_CREDIT = "customerCredit"


class _Model(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True, gc=False):
    """Base of every response model: camelCase on the wire, every field optional.

    ``gc=False``: decoded JSON cannot form reference cycles, and tracking every struct cost about
    a fifth of the client's CPU in the benchmarks.
    """


class KeyValuePair(_Model):
    """``System.Collections.Generic.KeyValuePair[String, String]``: one header of a link."""

    key: str
    value: str


class Link(_Model):
    """``Microsoft.Partner.Core.Collections.Link``: a request to make, headers included.

    A next link's ``headers`` carry the ``MS-ContinuationToken``; send them verbatim.
    """

    uri: str
    method: str = "GET"
    headers: tuple[KeyValuePair, ...] = ()
    body: str | None = None


class ResourceAttributes(_Model):
    """``Microsoft.Partner.Core.Collections.ResourceAttributes``."""

    etag: str | None = None
    object_type: str | None = None


class ResourceLinks(_Model):
    """``Microsoft.Partner.Core.Collections.ResourceLinks``: a collection's paging links."""

    self: Link | None = None
    next: Link | None = None
    previous: Link | None = None


class ResourceCollection(_Model, Generic[T]):
    """``ResourceCollection[T]``: one page. ``total_count`` is the number of items in this page."""

    total_count: int | None = None
    items: list[T] = []
    links: ResourceLinks | None = None
    attributes: ResourceAttributes | None = None


class ClientContext(_Model):
    """``Microsoft.Partner.Services.Orders.V2.Models.ClientContext``."""

    device_family: str | None = None
    marketplace_country: str | None = None
    name: str | None = None


class Pricing(_Model):
    """``Pricing`` of a line item, pre-tax; present only when asked for with ``include_price``."""

    discounted_price: float | None = None
    extended_price: float | None = None
    list_price: float | None = None
    price: float | None = None
    prorated_price: float | None = None


class PurchaseCommitment(_Model):
    """``PurchaseCommitment`` of a line item."""

    amount: float | None = None
    currency: str | None = None
    grain: str | None = None


class RenewsTo(_Model):
    """``RenewsTo``: the term a line item renews to, an ISO 8601 duration such as ``P1Y``."""

    term_duration: str | None = None


class OrderLineItemLinks(_Model):
    """``OrderLineItemLinks``."""

    activation_links: Link | None = None
    availability: Link | None = None
    product: Link | None = None
    provisioning_status: Link | None = None
    sku: Link | None = None
    subscription: Link | None = None


class OrderLinks(_Model):
    """``OrderLinks``."""

    patch_operation: Link | None = None
    provisioning_status: Link | None = None
    self: Link | None = None


class OrderLineItem(_Model):
    """``OrderLineItem``: one product of an order.

    ``transaction_type`` keeps unlisted values; compare it with ``LineItemTransactionType``.
    """

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
    """``Microsoft.Partner.Services.Orders.V2.Models.Order``.

    ``creation_date`` is always timezone-aware (a timestamp without an offset is taken as UTC).
    ``billing_cycle``, ``status`` and ``transaction_type`` keep values the reference does not list;
    compare them with ``BillingCycle``, ``OrderStatus`` and ``OrderTransactionType``.
    ``total_price`` is present only with ``include_price``.

    Example:
        >>> order.billing_cycle == BillingCycle.MONTHLY
    """

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

    def __post_init__(self) -> None:
        if self.creation_date is not None and self.creation_date.tzinfo is None:
            self.creation_date = self.creation_date.replace(tzinfo=UTC)


class CompanyProfile(_Model):
    """A customer's ``companyProfile``."""

    tenant_id: str | None = None
    domain: str | None = None
    company_name: str | None = None


class Customer(_Model):
    """A customer of the partner, from ``GET /v1/customers``. ``id`` is the customer tenant id."""

    id: str
    company_profile: CompanyProfile | None = None
    relationship_to_partner: str | None = None
    links: ResourceLinks | None = None
    attributes: ResourceAttributes | None = None


class AuditRecord(_Model):
    """One record of the activity log, from ``GET /v1/auditrecords``: what a partner user or
    application did, and to which customer.

    ``resource_old_value`` and ``resource_new_value`` are JSON text (PascalCase keys), as sent.
    Source: ``shared/reference/partner-center.md``, "Activity log".
    """

    id: str | None = None
    partner_id: str | None = None
    participants: list[str] | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    user_principal_name: str | None = None
    application_id: str | None = None
    resource_type: str | None = None
    resource_old_value: str | None = None
    resource_new_value: str | None = None
    operation_type: str | None = None
    original_correlation_id: str | None = None
    operation_date: datetime | None = None
    operation_status: str | None = None
    customized_data: list[AuditKeyValue] | None = None
    session_id: str | None = None
    attributes: ResourceAttributes | None = None

    def __post_init__(self) -> None:
        if self.operation_date is not None and self.operation_date.tzinfo is None:
            self.operation_date = self.operation_date.replace(tzinfo=UTC)


class AuditKeyValue(_Model):
    """One entry of an audit record's ``customizedData``; the value may be null."""

    key: str
    value: str | None = None


class OrderFilters(msgspec.Struct, frozen=True, kw_only=True):
    """The filters of a customer's orders listing, in one frozen value.

    Used by ``list_orders``, ``stream_orders`` and ``gather_orders``, the command line and the
    export's checkpoint (``msgspec.to_builtins`` and ``msgspec.convert`` round-trip it).

    Args:
        billing_type: Only orders of this billing cycle, e.g. ``"monthly"`` or ``"one_time"``
            (sent as the snake_case name, the form the service and its SDKs use).
        indirect_reseller_id: Only orders placed through this indirect reseller.
        include_price: Ask for pricing on line items and ``total_price`` on orders.
        include_system_purchases: Include orders the system created.

    Raises:
        ValueError: ``billing_type`` is empty or not a string.

    Example:
        >>> client.list_orders(customer_id, filters=OrderFilters(include_price=True))
    """

    billing_type: str | None = None
    indirect_reseller_id: str | None = None
    include_price: bool = False
    include_system_purchases: bool = False

    def __post_init__(self) -> None:
        if self.billing_type is not None and (
            not isinstance(self.billing_type, str) or not self.billing_type.strip()
        ):
            raise ValueError(
                f"billing_type must be a non-empty string such as 'monthly', "
                f"got {self.billing_type!r}"
            )

    def query(self) -> dict[str, str]:
        """The query of ``GET /v1/customers/{customer_id}/orders`` for these filters."""
        query: dict[str, str] = {}
        if self.indirect_reseller_id is not None:
            query["indirect_reseller_id"] = self.indirect_reseller_id
        if self.billing_type is not None:
            query["billingType"] = _billing_type_name(self.billing_type)
        if self.include_price:
            query["include_price"] = "true"
        if self.include_system_purchases:
            query["include_system_purchases"] = "true"
        return query


def _billing_type_name(value: str) -> str:
    """The snake_case name the service takes: ``Monthly`` → ``monthly``,
    ``OneTime`` → ``one_time``."""
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", value.strip()).lower()
    return "one_time" if name == "onetime" else name


class ErrorBody(_Model):
    """An error response's body, in either shape the service uses.

    The usual shape carries ``code`` (a number or a string), ``description``, ``error_name``,
    ``is_retryable``, ``data`` and ``source``; a 429 carries ``status_code`` and ``message``.
    """

    code: int | str | None = None
    description: str | None = None
    error_name: str | None = None
    is_retryable: bool | None = None
    data: list[Any] | None = None
    source: str | None = None
    message: str | None = None
    status_code: int | None = None


BOM = b"\xef\xbb\xbf"

order_decoder = msgspec.json.Decoder(Order)
orders_page_decoder = msgspec.json.Decoder(ResourceCollection[Order])
raw_orders_page_decoder = msgspec.json.Decoder(ResourceCollection[msgspec.Raw])
customers_page_decoder = msgspec.json.Decoder(ResourceCollection[Customer])
audit_records_page_decoder = msgspec.json.Decoder(ResourceCollection[AuditRecord])
error_body_decoder = msgspec.json.Decoder(ErrorBody)


def strip_bom(body: bytes) -> bytes:
    """Return ``body`` without a leading UTF-8 byte-order mark (the service sometimes sends one)."""
    return body[3:] if body.startswith(BOM) else body
