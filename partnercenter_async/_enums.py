"""Enumerations of Partner Center's order fields, equal to their value however it is spelled.

Source: the "Enumerations the reference leaves empty" and "Real traffic" sections of
``shared/reference/partner-center.md``. Models type these fields as ``str`` (unlisted values are
kept); these classes name the known values and compare equal to any spelling of them.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["BillingCycle", "LineItemTransactionType", "OrderStatus", "OrderTransactionType"]


def _fold(value: str) -> str:
    """The spelling-free key of an enum value: ``"One_Time"`` and ``"OneTime"`` -> ``"onetime"``."""
    return value.casefold().replace("_", "")


class _WireEnum(enum.StrEnum):
    """A ``StrEnum`` whose members equal their value however the service spells it.

    The service and Microsoft's SDKs write one value several ways: ``new`` and ``New`` (recorded
    line items), ``one_time`` (the wire), ``onetime`` (the docs) and ``OneTime`` (the .NET SDK's
    query). A member therefore equals any string with the same letters, ignoring case and
    underscores: ``"New" == LineItemTransactionType.NEW`` and
    ``"OneTime" == BillingCycle.ONE_TIME``. Underscores are ignored as well as case because
    case alone would match ``ONE_TIME`` but not ``OneTime`` or ``onetime``, and no two members of
    these enumerations differ only by underscores, so nothing becomes ambiguous.

    ``hash(member)`` is the hash of its wire value, as a plain ``StrEnum``'s: a dict or set of
    members finds the value as the service sends it (``"one_time" in {BillingCycle.ONE_TIME}``);
    look another spelling up with ``Enum(raw)`` (``BillingCycle("OneTime") is
    BillingCycle.ONE_TIME``), not with ``in``.
    """

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return _fold(self._value_) == _fold(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, str):
            return _fold(self._value_) != _fold(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value_)

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            key = _fold(value)
            for member in cls:
                if _fold(member.value) == key:
                    return member
        return None


class BillingCycle(_WireEnum):
    """Known ``Order.billingCycle`` values (snake_case on the wire; any casing compares equal)."""

    UNKNOWN = "unknown"
    MONTHLY = "monthly"
    ANNUAL = "annual"
    NONE = "none"
    ONE_TIME = "one_time"
    TRIENNIAL = "triennial"
    BIENNIAL = "biennial"


class OrderStatus(_WireEnum):
    """Known ``Order.status`` values (any casing compares equal)."""

    UNKNOWN = "unknown"
    COMPLETED = "completed"
    PENDING = "pending"
    CANCELLED = "cancelled"


class OrderTransactionType(_WireEnum):
    """Known ``Order.transactionType`` values (any casing compares equal)."""

    USER_PURCHASE = "UserPurchase"
    SYSTEM_PURCHASE = "SystemPurchase"
    SYSTEM_BILLING = "SystemBilling"


class LineItemTransactionType(_WireEnum):
    """Known ``OrderLineItem.transactionType`` values (recorded traffic says ``"New"``)."""

    NEW = "new"
    RENEW = "renew"
    ADD_QUANTITY = "addQuantity"
    REMOVE_QUANTITY = "removeQuantity"
    CANCEL = "cancel"
    CONVERT = "convert"
    CUSTOMER_CREDIT = "customerCredit"
