"""partnercenter_async: an asyncio client for Microsoft Partner Center's orders API.

Example:
    >>> from azure.identity.aio import DefaultAzureCredential
    >>> from partnercenter_async import PartnerCenterClient
    >>> async with PartnerCenterClient(DefaultAzureCredential()) as client:
    ...     orders = await client.gather_orders(["<customer-tenant-id>", ...])
"""

from ._client import PartnerCenterClient
from ._config import SCOPE, Cloud, Limits, RetryPolicy
from ._credentials import USER_IMPERSONATION_SCOPE, RefreshTokenCredential
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConflictError,
    CredentialError,
    GatherError,
    NotFoundError,
    PagingError,
    PartnerCenterError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ResponseTooLargeError,
    ServerError,
    UnauthorizedError,
    UnsafeRequestError,
)
from ._models import (
    AuditKeyValue,
    AuditRecord,
    BillingCycle,
    ClientContext,
    CompanyProfile,
    Customer,
    ErrorBody,
    KeyValuePair,
    LineItemTransactionType,
    Link,
    Order,
    OrderFilters,
    OrderLineItem,
    OrderLineItemLinks,
    OrderLinks,
    OrderStatus,
    OrderTransactionType,
    Pricing,
    PurchaseCommitment,
    RenewsTo,
    ResourceAttributes,
    ResourceCollection,
    ResourceLinks,
)
from ._orders import CustomerOrders
from ._paging import AsyncPager
from ._transport import ClientStats
from ._version import __version__

__all__ = [
    "SCOPE",
    "USER_IMPERSONATION_SCOPE",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncPager",
    "AuditKeyValue",
    "AuditRecord",
    "AuthenticationError",
    "BadRequestError",
    "BillingCycle",
    "ClientClosedError",
    "ClientContext",
    "ClientStats",
    "Cloud",
    "CompanyProfile",
    "ConflictError",
    "CredentialError",
    "Customer",
    "CustomerOrders",
    "ErrorBody",
    "GatherError",
    "KeyValuePair",
    "Limits",
    "LineItemTransactionType",
    "Link",
    "NotFoundError",
    "Order",
    "OrderFilters",
    "OrderLineItem",
    "OrderLineItemLinks",
    "OrderLinks",
    "OrderStatus",
    "OrderTransactionType",
    "PagingError",
    "PartnerCenterClient",
    "PartnerCenterError",
    "PermissionDeniedError",
    "Pricing",
    "PurchaseCommitment",
    "RateLimitError",
    "RefreshTokenCredential",
    "RenewsTo",
    "ResourceAttributes",
    "ResourceCollection",
    "ResourceLinks",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "UnauthorizedError",
    "UnsafeRequestError",
    "__version__",
]
