"""One sync: list, read the activity log, select, read the selected customers, load in batches.

Each batch of customers is loaded (``pipeline.run``, in a worker thread) while the next batch is
read, and carries its customers' ``sync_customers`` rows, so a run that stops (Ctrl-C, a crash,
a lost connection) keeps every batch loaded before it; the run's ``sync_runs`` row is written
last, so the next run reads the activity log from the last run that reached its end.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
import msgspec

from partnercenter_async._client import CustomerOrders, PartnerCenterClient
from partnercenter_async._errors import NotFoundError, is_final
from partnercenter_async._models import AuditRecord, OrderFilters

from ._select import CustomerState, Reason, Selection, activity, log_start, log_windows, select
from ._source import Batch, Row, customer_row, order_rows, source_of
from ._state import PriorState, read_state

__all__ = [
    "DEFAULT_BATCH_CUSTOMERS",
    "DEFAULT_BATCH_SECONDS",
    "DEFAULT_MAX_AGE",
    "SyncSummary",
    "sync",
]

logger = logging.getLogger("partnercenter_async.sync")

DEFAULT_MAX_AGE = timedelta(days=7)
"""No customer goes unchecked longer than this (``--max-age``)."""
DEFAULT_BATCH_CUSTOMERS = 5_000
"""A load every this many customers read..."""
DEFAULT_BATCH_SECONDS = 60.0
"""... or every this many seconds, whichever comes first: a stopped run loses at most a minute
of reading (500 customers at Partner Center's rate), and an unthrottled one loads in few, large
batches (each load has a fixed cost of about a second)."""
_ERROR_CHARS = 500
LOADER_FILE_FORMATS = {"duckdb": "jsonl", "postgres": "csv"}
"""dlt's file format per destination: measured 2-4x faster loads than dlt's default for these
(INSERT statements); other destinations keep dlt's choice."""


@dataclasses.dataclass(slots=True)
class SyncSummary:
    """What one sync did, for its progress display and closing summary.

    Attributes:
        run_id: The run's id (``sync_runs.run_id``).
        started_at: The run's start (UTC), from which the next run reads the log.
        full: Whether it read every customer.
        listed: Customers the listing gave.
        reasons: Customers selected, per reason.
        selected: Customers selected in all.
        read: Customers whose orders were read.
        unavailable: Customers that answered 404 or 403 (marked, rows kept), with the status.
        failed: Customers that failed otherwise (retried by the next run), with the error.
        orders: Orders read.
        orders_inserted: Orders new to the database.
        orders_updated: Orders that were already there, written again.
        log_records: Activity-log records read.
        requests: Requests the client sent (retries included).
        batches: Loads done.
        finished_at: When the run ended (UTC), None while it runs.
    """

    run_id: str
    started_at: datetime
    full: bool = False
    listed: int = 0
    reasons: collections.Counter[Reason] = dataclasses.field(default_factory=collections.Counter)
    selected: int = 0
    read: int = 0
    unavailable: dict[str, int] = dataclasses.field(default_factory=dict)
    failed: dict[str, str] = dataclasses.field(default_factory=dict)
    orders: int = 0
    orders_inserted: int = 0
    orders_updated: int = 0
    log_records: int = 0
    requests: int = 0
    batches: int = 0
    finished_at: datetime | None = None

    @property
    def done(self) -> int:
        """Customers with an answer so far: read, unavailable or failed."""
        return self.read + len(self.unavailable) + len(self.failed)


async def sync(
    client: PartnerCenterClient,
    pipeline: dlt.Pipeline,
    *,
    filters: OrderFilters | None = None,
    max_age: timedelta = DEFAULT_MAX_AGE,
    full: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    prior: PriorState | None = None,
    batch_customers: int = DEFAULT_BATCH_CUSTOMERS,
    batch_seconds: float = DEFAULT_BATCH_SECONDS,
    on_customer: Callable[[CustomerOrders, SyncSummary], None] | None = None,
) -> SyncSummary:
    """Bring the pipeline's destination up to date with Partner Center, incrementally.

    Example:
        >>> pipeline = dlt.pipeline(
        ...     "partner_center",
        ...     destination=parse_destination("duckdb:///orders.duckdb").destination,
        ...     dataset_name="partner_center",
        ... )
        >>> async with PartnerCenterClient(credential) as client:
        ...     summary = await sync(client, pipeline)

    Args:
        client: The client to read with (its rate limit paces the whole run).
        pipeline: The dlt pipeline whose destination holds the data and the state.
        filters: Filters of every orders listing (as ``export``'s).
        max_age: No customer goes unchecked longer than this.
        full: Read every customer, whatever the state says.
        now: The current time (UTC, aware); tests give a fake's clock.
        prior: The destination's state, when the caller has read it already (`read_state`).
        batch_customers: A load at least every this many customers...
        batch_seconds: ... and every this many seconds (monotonic clock).
        on_customer: Called with each customer's result and the summary so far.

    Returns:
        The run's summary (its ``failed`` customers are retried by the next run).

    Raises:
        AuthenticationError: No token, or the service refused it: nothing can be read.
        PartnerCenterError: The customer listing or the activity log failed after its retries.
        dlt's ``PipelineStepFailed``: a load failed (earlier batches stay loaded).
    """
    summary = SyncSummary(uuid.uuid4().hex, now())
    started = summary.started_at
    if pipeline.has_pending_data:  # an earlier run's batch that did not load: load it first
        logger.info("loading what an earlier run left pending")
        await asyncio.to_thread(pipeline.run)
        prior = None
    if prior is None:
        prior = await asyncio.to_thread(read_state, pipeline)
    requests_before = client.stats.requests
    logger.info("listing customers")
    listing: dict[str, Row] = {}
    async for customer in client.list_customers():
        listing[customer.id.lower()] = customer_row(customer)
    summary.listed = len(listing)
    base = prior.last_run_start or _first_checked(prior)  # None: nothing read yet
    since = None if full else log_start(base, started)
    active: dict[str, datetime] = {}
    if since is not None:
        records = await _read_log(client, since, started)
        summary.log_records = len(records)
        active = activity(records, since)
        logger.info("activity log since %s: %d records", f"{since:%Y-%m-%d %H:%M}", len(records))
    selection = select(
        listed=list(listing),
        known=prior.customers,
        active=active,
        now=started,
        max_age=max_age,
        last_run_start=base,
        full=since is None,
    )
    summary.full, summary.selected = selection.full, len(selection.reasons)
    summary.reasons.update(selection.reasons.values())
    logger.info(
        "reading %d of %d customers (%s)",
        summary.selected,
        len(set(listing) | set(prior.customers)),
        ", ".join(f"{n} {why}" for why, n in summary.reasons.most_common()) or "none",
    )
    loading: asyncio.Future[Any] | None = None
    batch, opened = Batch(), time.monotonic()
    try:
        stream = client.stream_orders(list(selection.reasons), filters=filters, raw_orders=True)
        async with contextlib.aclosing(stream):  # stopping cancels the requests in flight
            async for result in stream:
                _add(batch, result, summary, selection, prior, listing)
                summary.requests = client.stats.requests - requests_before
                if on_customer is not None:
                    on_customer(result, summary)
                full_batch = len(batch.sync_customers) >= batch_customers
                if full_batch or time.monotonic() - opened >= batch_seconds:
                    loading = await _hand_over(pipeline, loading, batch)
                    summary.batches += 1
                    batch, opened = Batch(), time.monotonic()
        if batch.sync_customers:
            loading = await _hand_over(pipeline, loading, batch)
            summary.batches += 1
        if loading is not None:
            await loading
    except BaseException:
        if loading is not None and not loading.done():  # let the batch in the thread land
            await asyncio.shield(loading)
        raise
    summary.requests = client.stats.requests - requests_before
    summary.finished_at = now()
    final = Batch(sync_runs=[_run_row(summary)])
    await asyncio.to_thread(_load, pipeline, final)
    return summary


async def _hand_over(
    pipeline: dlt.Pipeline, loading: asyncio.Future[Any] | None, batch: Batch
) -> asyncio.Future[Any]:
    """Wait for the previous batch's load, then start loading ``batch`` in a worker thread."""
    if loading is not None:
        await loading
    return asyncio.ensure_future(asyncio.to_thread(_load, pipeline, batch))


def _load(pipeline: dlt.Pipeline, batch: Batch) -> None:
    """Load one batch (in a worker thread): one load package, all or nothing per table chain."""
    name = pipeline.destination.destination_name if pipeline.destination else None
    fmt: Any = LOADER_FILE_FORMATS.get(name or "")
    pipeline.run(source_of(batch), loader_file_format=fmt)


def _first_checked(prior: PriorState) -> datetime | None:
    """When a first run that never finished began reading (its earliest ``checked_at``), so
    that the next run continues it (the customers it did not reach are ``new``) instead of
    starting the whole sweep again."""
    return min((s.checked_at for s in prior.customers.values() if s.checked_at), default=None)


async def _read_log(
    client: PartnerCenterClient, since: datetime, until: datetime
) -> list[AuditRecord]:
    """Every record from ``since``'s day to ``until``'s, window by window, deduplicated by id."""
    seen: dict[str, AuditRecord] = {}
    for start, end in log_windows(since, until):
        async for record in client.list_audit_records(start_date=start, end_date=end):
            seen.setdefault(record.id or f"{len(seen)}", record)
    return list(seen.values())


def _add(
    batch: Batch,
    result: CustomerOrders,
    summary: SyncSummary,
    selection: Selection,
    prior: PriorState,
    listing: dict[str, Row],
) -> None:
    """One customer's result into the batch's rows and the summary."""
    cid = result.customer_id.lower()
    before = prior.customers.get(cid) or CustomerState(cid, None)
    started = summary.started_at
    row: Row = {
        "customer_id": cid,
        "checked_at": before.checked_at,
        "read_at": before.read_at,
        "reason": selection.reasons.get(cid, Reason.FULL).value,
        "orders": before.orders,
        "pending_orders": None,
        "pending_since": before.pending_since,
        "unavailable_status": before.unavailable,
        "unavailable_since": before.unavailable_since,
        "last_error": None,
        "last_error_at": None,
    }
    error = result.error
    if error is not None and is_final(error):
        status = 404 if isinstance(error, NotFoundError) else 403
        summary.unavailable[cid] = status
        since = before.unavailable_since if before.unavailable == status else None
        row |= {"checked_at": started, "unavailable_status": status}
        row |= {"unavailable_since": since or started, "pending_since": None}
    elif error is not None:
        summary.failed[cid] = str(error)
        row |= {"last_error": str(error)[:_ERROR_CHARS], "last_error_at": started}
    else:
        summary.read += 1
        count = len(result.raw_orders)
        summary.orders += count
        summary.orders_inserted += max(0, count - before.orders)
        summary.orders_updated += min(count, before.orders)
        pending = [o.creation_date for o in result.orders if (o.status or "").lower() == "pending"]
        dated = [at for at in pending if at is not None]
        row |= {"checked_at": started, "read_at": started, "orders": count}
        row |= {"pending_orders": len(pending), "unavailable_status": None}
        row |= {"unavailable_since": None, "pending_since": max(dated) if dated else None}
        batch.orders += order_rows(cid, result.raw_orders)
        if cid in listing:
            batch.customers.append(listing[cid])
    batch.sync_customers.append(row)


def _run_row(summary: SyncSummary) -> Row:
    reasons: Sequence[tuple[Reason, int]] = sorted(summary.reasons.items())
    return {
        "run_id": summary.run_id,
        "started_at": summary.started_at,
        "finished_at": summary.finished_at,
        "full_sweep": summary.full,
        "customers_read": summary.read,
        "customers_failed": len(summary.failed),
        "customers_unavailable": len(summary.unavailable),
        "orders_inserted": summary.orders_inserted,
        "orders_updated": summary.orders_updated,
        "requests": summary.requests,
        "reasons": msgspec.json.encode({why.value: n for why, n in reasons}).decode(),
    }
