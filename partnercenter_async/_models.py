"""msgspec Structs for Partner Center's orders and customers, and their decoders.

Source: the "Get orders for a customer" REST reference (every ``Microsoft.Partner...``
definition), Microsoft's .NET SDK models and the facts in ``shared/reference/partner-center.md``.
Enumerations are typed as ``str`` so that values the reference does not list are kept; the
``StrEnum`` classes of ``_enums`` name the known ones and compare equal to any spelling of them.
Unknown fields are ignored, never an error. ``OrderFilters`` (the request side) lives in
``_filters`` and is re-exported here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import msgspec

from ._enums import BillingCycle, LineItemTransactionType, OrderStatus, OrderTransactionType
from ._filters import OrderFilters

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
    "UserCredentials",
]

T = TypeVar("T")


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
    """``ResourceCollection[T]``: one page. ``total_count`` is the number of items in this page.

    ``continuation_token`` is set on seek-based collections (customers, audit records): the
    next link's ``MS-ContinuationToken``, repeated at the top level (.NET SDK
    ``SeekBasedResourceCollection``). Follow ``links.next``, which carries it too.
    """

    total_count: int | None = None
    items: list[T] = []
    links: ResourceLinks | None = None
    attributes: ResourceAttributes | None = None
    continuation_token: str | None = None


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
    ``term_duration`` is an ISO 8601 duration such as ``P1Y``, or ``""`` (seen in real traffic).
    ``additional_partner_ids_on_record`` lists further partner ids (MPN ids, strings of digits).
    """

    additional_partner_ids_on_record: list[str] | None = None
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
    partner_on_record_attestation_accepted: bool | None = None
    client: ClientContext | None = None
    links: OrderLinks | None = None
    attributes: ResourceAttributes | None = None

    def __post_init__(self) -> None:
        if self.creation_date is not None and self.creation_date.tzinfo is None:
            self.creation_date = self.creation_date.replace(tzinfo=UTC)


class CompanyProfile(_Model):
    """A customer's ``companyProfile`` (.NET SDK ``CustomerCompanyProfile``)."""

    tenant_id: str | None = None
    domain: str | None = None
    company_name: str | None = None
    organization_registration_number: str | None = None
    links: ResourceLinks | None = None
    attributes: ResourceAttributes | None = None


class UserCredentials(_Model):
    """``UserCredentials`` of a customer (set when one is created); the repr hides the password."""

    user_name: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        hidden = None if self.password is None else "***"
        return f"UserCredentials(user_name={self.user_name!r}, password={hidden!r})"


class Customer(_Model):
    """A customer of the partner, from ``GET /v1/customers`` (.NET SDK ``Customer``).

    ``id`` is the customer tenant id. ``billing_profile`` is kept as the service's JSON object
    (camelCase keys: ``id``, ``email``, ``culture``, ``language``, ``companyName``,
    ``defaultAddress``, ...), since its shape varies by country. ``custom_domains`` lists domain
    names; ``associated_partner_id`` is the indirect reseller's id, when there is one.
    """

    id: str
    commerce_id: str | None = None
    company_profile: CompanyProfile | None = None
    billing_profile: dict[str, Any] | None = None
    relationship_to_partner: str | None = None
    allow_delegated_access: bool | None = None
    user_credentials: UserCredentials | None = None
    custom_domains: list[str] | None = None
    associated_partner_id: str | None = None
    links: ResourceLinks | None = None
    attributes: ResourceAttributes | None = None


class AuditKeyValue(_Model):
    """One ``customizedData`` entry of an audit record; ``value`` may be null."""

    key: str
    value: str | int | float | bool | None = None


class AuditRecord(_Model):
    """One activity-log record, from ``GET /v1/auditrecords`` (.NET SDK ``AuditRecord``).

    ``operation_date`` is always timezone-aware (UTC when the service gives no offset); the
    service sends 7 fractional digits, of which the 7th is lost. ``resource_old_value`` and
    ``resource_new_value`` are JSON *strings* holding the resource with PascalCase keys.
    ``operation_type`` (``create_order``, ...), ``resource_type`` (``order``, ...) and
    ``operation_status`` (``succeeded``, ``failed``, ``progress``, ``decline``) are snake_case
    strings; new values appear without notice. Treat ``id`` as opaque (absent on old records).
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
    customized_data: list[AuditKeyValue] = []
    session_id: str | None = None
    attributes: ResourceAttributes | None = None

    def __post_init__(self) -> None:
        if self.operation_date is not None and self.operation_date.tzinfo is None:
            self.operation_date = self.operation_date.replace(tzinfo=UTC)


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
error_body_decoder = msgspec.json.Decoder(ErrorBody)
audit_records_page_decoder = msgspec.json.Decoder(ResourceCollection[AuditRecord])


def strip_bom(body: bytes) -> bytes:
    """Return ``body`` without a leading UTF-8 byte-order mark (the service sometimes sends one)."""
    return body[3:] if body.startswith(BOM) else body
