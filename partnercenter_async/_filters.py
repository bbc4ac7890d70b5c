"""The filters of an orders listing, as one frozen value.

Used by the client (the listing's query), the CLI (its options) and the export's checkpoint
(saved with ``msgspec.to_builtins``, read back with ``msgspec.convert``).
"""

from __future__ import annotations

import re

import msgspec

__all__ = ["OrderFilters"]


class OrderFilters(msgspec.Struct, frozen=True, kw_only=True):
    """The filters of an orders listing: one frozen value for the client, the CLI and checkpoints.

    ``billing_type`` is normalised on construction to the snake_case name the service takes
    (``"Monthly"`` -> ``"monthly"``, ``"OneTime"``/``"onetime"`` -> ``"one_time"``), so equal
    filters compare equal. ``msgspec.to_builtins(filters)`` and
    ``msgspec.convert(data, OrderFilters)`` round-trip it.

    Example:
        >>> OrderFilters(billing_type="OneTime", include_price=True).query()
        {'billingType': 'one_time', 'include_price': 'true'}

    Args:
        billing_type: Only orders of this billing cycle, e.g. ``"monthly"`` or ``"one_time"``.
        indirect_reseller_id: Only orders placed through this indirect reseller.
        include_price: Ask for pricing on line items and ``total_price`` on orders.
        include_system_purchases: Include orders the system created.

    Raises:
        ValueError: ``billing_type`` is empty or not a string (``msgspec.ValidationError``
            from ``msgspec.convert``).
    """

    billing_type: str | None = None
    indirect_reseller_id: str | None = None
    include_price: bool = False
    include_system_purchases: bool = False

    def __post_init__(self) -> None:
        if self.billing_type is not None:
            name = _billing_type_name(self.billing_type)
            msgspec.structs.force_setattr(self, "billing_type", name)

    def query(self) -> dict[str, str]:
        """The query of ``GET /v1/customers/{id}/orders`` for these filters.

        Returns:
            Parameter name to value, only the parameters that differ from the service's default.
        """
        query: dict[str, str] = {}
        if self.indirect_reseller_id is not None:
            query["indirect_reseller_id"] = self.indirect_reseller_id
        if self.billing_type is not None:
            query["billingType"] = self.billing_type
        if self.include_price:
            query["include_price"] = "true"
        if self.include_system_purchases:
            query["include_system_purchases"] = "true"
        return query


def _billing_type_name(value: str) -> str:
    """The snake_case name for the service: ``Monthly`` -> ``monthly``, ``OneTime`` -> ``one_time``.

    Raises:
        ValueError: ``value`` is not a non-empty string.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"billing_type must be a non-empty string such as 'monthly', got {value!r}"
        )
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", value.strip()).lower()
    return "one_time" if name == "onetime" else name
