"""The dlt source: the tables a sync writes, their keys, and one batch of rows for them.

Tables (in the dataset, ``partner_center`` by default):

- ``customers``: one row per customer as the listing gives it (``GET /v1/customers``), merged on
  ``id``; nested objects flattened (``company_profile__company_name``, ...).
- ``orders``: one row per order exactly as the service sent it, fields the models do not know
  included, plus ``customer_id``; merged on (``customer_id``, ``id``), so a re-read order replaces
  its row and its line items.
- ``orders__line_items``: dlt's child table of ``orders.lineItems`` (joined on ``_dlt_parent_id``
  = ``orders._dlt_id``; ``_dlt_root_id`` too), ``pricing__*`` and ``renews_to__*`` flattened.
- ``sync_customers``: the sync's state per customer (`SYNC_CUSTOMER_COLUMNS`), merged on
  ``customer_id``; a customer that answers 404 or 403 keeps its rows in the other tables and is
  marked here (``unavailable_status``, ``unavailable_since``).
- ``sync_runs``: one row per run that reached its end (`SYNC_RUN_COLUMNS`), merged on ``run_id``.

Deeper structures (links, headers) land as JSON columns (``max_table_nesting=2``). Timestamps
are ``timestamp with time zone`` in UTC. Everything in one batch is loaded by one
``pipeline.run``: one load package, applied in one transaction per table chain.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import dlt
import msgspec
from dlt.common.data_types.typing import TDataType
from dlt.common.schema.typing import TColumnSchema
from dlt.extract.source import DltSource

from partnercenter_async._client import PartnerCenterClient
from partnercenter_async._errors import is_final
from partnercenter_async._models import Customer, OrderFilters

__all__ = [
    "SOURCE_NAME",
    "SYNC_CUSTOMER_COLUMNS",
    "SYNC_RUN_COLUMNS",
    "Batch",
    "partner_center_full",
    "partner_center_source",
]

logger = logging.getLogger("partnercenter_async.sync")

SOURCE_NAME = "partner_center"
"""The dlt source's name (and its schema's)."""
MAX_TABLE_NESTING = 2

Row = dict[str, Any]
_MERGE: Any = {"disposition": "merge", "strategy": "delete-insert"}
"""The tables keyed by the service's ids: a row replaces the one with its key."""


def customer_row(customer: Customer) -> Row:
    """A ``customers`` row: the customer as JSON, its id lower-cased (the key)."""
    row: Row = msgspec.to_builtins(customer)
    return row | {"id": customer.id.lower()}


def order_rows(customer_id: str, raw_orders: Sequence[bytes]) -> list[Row]:
    """The ``orders`` rows of one customer (``customer_id`` lower-cased): each order's JSON as
    the service sent it, unknown fields included."""
    return [{"customer_id": customer_id, **msgspec.json.decode(raw)} for raw in raw_orders]


def _columns(**types: TDataType) -> dict[str, TColumnSchema]:
    return {name: {"data_type": kind, "nullable": True} for name, kind in types.items()}


SYNC_CUSTOMER_COLUMNS = _columns(
    customer_id="text",
    checked_at="timestamp",
    read_at="timestamp",
    reason="text",
    orders="bigint",
    pending_orders="bigint",
    pending_since="timestamp",
    unavailable_status="bigint",
    unavailable_since="timestamp",
    last_error="text",
    last_error_at="timestamp",
)
"""``sync_customers``: when the customer's orders were last asked for (``checked_at``) and read
(``read_at``), why (``reason``), how many orders and pending orders it had, the creation date of
its newest pending order, the 404/403 it answers and since when (null while it answers), and the
last transient error (retried by the next run) with its time."""
SYNC_RUN_COLUMNS = _columns(
    run_id="text",
    started_at="timestamp",
    finished_at="timestamp",
    full_sweep="bool",
    customers_read="bigint",
    customers_failed="bigint",
    customers_unavailable="bigint",
    orders_inserted="bigint",
    orders_updated="bigint",
    requests="bigint",
    reasons="text",
)
"""``sync_runs``: each run's start and end (UTC), whether it swept everything, what it read and
spent; ``reasons`` is a JSON object of customers read per reason."""


@dataclass(slots=True)
class Batch:
    """Rows for one load.

    Attributes:
        customers: Customer resources as listed (camelCase keys as sent).
        orders: Orders as sent, each with ``customer_id`` added.
        sync_customers: Rows of ``sync_customers``.
        sync_runs: Rows of ``sync_runs`` (the last batch of a run has one).
    """

    customers: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    sync_customers: list[Row] = field(default_factory=list)
    sync_runs: list[Row] = field(default_factory=list)


@dlt.source(name=SOURCE_NAME, max_table_nesting=MAX_TABLE_NESTING)
def partner_center_source(batch: Batch) -> Any:
    """The dlt source of one batch: resources ``customers``, ``orders``, ``sync_customers``,
    ``sync_runs`` with their keys and merge dispositions (see the module's docstring).

    Example:
        >>> pipeline.run(partner_center_source(Batch(orders=[{"customer_id": c, **order}])))

    Args:
        batch: The rows to load.

    Returns:
        A ``DltSource`` with the four resources (a resource with no rows loads nothing).
    """

    @dlt.resource(name="customers", primary_key="id", write_disposition=_MERGE)
    def customers() -> Iterator[list[Row]]:
        yield batch.customers

    @dlt.resource(name="orders", primary_key=("customer_id", "id"), write_disposition=_MERGE)
    def orders() -> Iterator[list[Row]]:
        yield batch.orders

    @dlt.resource(
        name="sync_customers",
        primary_key="customer_id",
        write_disposition=_MERGE,
        columns=SYNC_CUSTOMER_COLUMNS,
    )
    def sync_customers() -> Iterator[list[Row]]:
        yield batch.sync_customers

    @dlt.resource(
        name="sync_runs", primary_key="run_id", write_disposition=_MERGE, columns=SYNC_RUN_COLUMNS
    )
    def sync_runs() -> Iterator[list[Row]]:
        yield batch.sync_runs

    return customers, orders, sync_customers, sync_runs


def source_of(batch: Batch) -> DltSource:
    """`partner_center_source` of ``batch``, typed (dlt's decorator hides the return type)."""
    source: DltSource = partner_center_source(batch)
    return source


@dlt.source(name=SOURCE_NAME, max_table_nesting=MAX_TABLE_NESTING)
def partner_center_full(
    make_client: Callable[[], PartnerCenterClient],
    *,
    customer_ids: Sequence[str] | None = None,
    filters: OrderFilters | None = None,
) -> Any:
    """A dlt source that reads everything itself: resources ``customers`` and ``orders`` as
    async generators on the client's API, which dlt runs on its own event loop.

    A full load, merged like `partner_center_source`'s tables, with no state: for a one-off load
    or dlt's own scheduling. `sync` is the incremental way. Each resource builds its client
    with ``make_client`` inside dlt's loop (a client and its credential belong to one loop), so
    the credential must be one that works there (a new one per call is safest).

    Example:
        >>> def make_client() -> PartnerCenterClient:
        ...     return PartnerCenterClient(ClientSecretCredential(tenant, app, secret))
        >>> pipeline.run(partner_center_full(make_client))

    Args:
        make_client: Builds a client (an async context manager, entered and closed here).
        customer_ids: Only these customers' orders (default: every customer listed).
        filters: Filters of every orders listing.

    Returns:
        A ``DltSource``; a customer answering 404 or 403, or failing after its retries, is
        logged and skipped (its rows, if any, stay).
    """

    @dlt.resource(name="customers", primary_key="id", write_disposition=_MERGE)
    async def customers() -> AsyncIterator[list[Row]]:
        async with make_client() as client:
            rows = [customer_row(c) async for c in client.list_customers()]
        yield rows

    @dlt.resource(name="orders", primary_key=("customer_id", "id"), write_disposition=_MERGE)
    async def orders() -> AsyncIterator[list[Row]]:
        async with make_client() as client:
            ids = customer_ids
            if ids is None:
                ids = [customer.id async for customer in client.list_customers()]
            async for result in client.stream_orders(ids, filters=filters, raw_orders=True):
                if result.error is not None:
                    final = is_final(result.error)
                    logger.log(
                        logging.INFO if final else logging.WARNING,
                        "customer %s skipped: %s",
                        result.customer_id,
                        result.error,
                    )
                    continue
                yield order_rows(result.customer_id.lower(), result.raw_orders)

    return customers, orders
