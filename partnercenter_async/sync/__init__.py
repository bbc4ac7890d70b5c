"""Keep a database of every order fresh: a dlt source and incremental syncs from the activity log.

Needs the ``sync`` extra (``pip install 'partnercenter-async[sync]'``: dlt with DuckDB and
PostgreSQL). A run lists the customers, reads the activity log since the last run, re-reads the
customers it selects (`Reason`) and loads them with dlt into ``customers``, ``orders``,
``orders__line_items``, ``sync_customers`` and ``sync_runs`` (see `partner_center_source`); the
state lives in those tables, so any machine can run the next sync.

Example:
    >>> import dlt
    >>> from partnercenter_async.sync import parse_destination, sync
    >>> pipeline = dlt.pipeline(
    ...     "partner_center",
    ...     destination=parse_destination("duckdb").destination,  # partner_center_orders.duckdb
    ...     dataset_name="partner_center",
    ... )
    >>> async with PartnerCenterClient(credential) as client:
    ...     summary = await sync(client, pipeline)  # doctest: +SKIP
"""

from typing import TYPE_CHECKING, Any

from ._select import CustomerState, Reason, Selection, parse_duration, select

if TYPE_CHECKING:  # these need dlt: imported on first use, so the CLI's parser works without it
    from ._run import DEFAULT_BATCH_CUSTOMERS, DEFAULT_MAX_AGE, SyncSummary, sync
    from ._source import Batch, partner_center_full, partner_center_source
    from ._state import DEFAULT_DUCKDB_FILE, PriorState, Target, parse_destination, read_state

_LAZY = {
    "DEFAULT_BATCH_CUSTOMERS": "_run",
    "DEFAULT_MAX_AGE": "_run",
    "SyncSummary": "_run",
    "sync": "_run",
    "Batch": "_source",
    "partner_center_source": "_source",
    "partner_center_full": "_source",
    "DEFAULT_DUCKDB_FILE": "_state",
    "PriorState": "_state",
    "Target": "_state",
    "parse_destination": "_state",
    "read_state": "_state",
}


def __getattr__(name: str) -> Any:
    """Import the names that need dlt when first asked for (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "DEFAULT_BATCH_CUSTOMERS",
    "DEFAULT_DUCKDB_FILE",
    "DEFAULT_MAX_AGE",
    "Batch",
    "CustomerState",
    "PriorState",
    "Reason",
    "Selection",
    "SyncSummary",
    "Target",
    "parse_destination",
    "parse_duration",
    "partner_center_full",
    "partner_center_source",
    "read_state",
    "select",
    "sync",
]
