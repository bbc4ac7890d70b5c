"""partnercenter_async: an asyncio client for Microsoft Partner Center's orders API.

Example:
    >>> from azure.identity.aio import DefaultAzureCredential
    >>> from partnercenter_async import PartnerCenterClient
    >>> async with PartnerCenterClient(DefaultAzureCredential()) as client:
    ...     orders = await client.gather_orders(["<customer-tenant-id>", ...])
"""

from ._client import ClientStats, CustomerOrders, PartnerCenterClient
from ._config import SCOPE, Cloud, RetryPolicy
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
    PartnerCenterError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    UnauthorizedError,
    UnsafeRequestError,
)
from ._models import (
    BillingCycle,
    ClientContext,
    CompanyProfile,
    Customer,
    ErrorBody,
    KeyValuePair,
    LineItemTransactionType,
    Link,
    Order,
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
from ._version import __version__

__all__ = [
    "SCOPE",
    "USER_IMPERSONATION_SCOPE",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
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
    "LineItemTransactionType",
    "Link",
    "NotFoundError",
    "Order",
    "OrderLineItem",
    "OrderLineItemLinks",
    "OrderLinks",
    "OrderStatus",
    "OrderTransactionType",
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
    "RetryPolicy",
    "ServerError",
    "UnauthorizedError",
    "UnsafeRequestError",
    "__version__",
]
