"""``partnercenter-async sync``: its flags, progress display, closing summary and exit status.

Imported by the top-level command line without dlt (dlt is imported only when a sync runs), so
the other commands work without the ``sync`` extra.

Exit status: 0 when every selected customer was read (customers answering 404 or 403 are marked,
not failures); 1 when a customer failed otherwise (the next run retries it) or the run stopped
(no token, token refused, destination unreachable: the reason on stderr); 2 for bad usage; 130
after Ctrl-C, 143 after SIGTERM. A stopped run keeps every batch it loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from partnercenter_async import _logs
from partnercenter_async._cli_auth import (
    add_connection_arguments,
    add_filter_arguments,
    filters_of,
)

from ._select import parse_duration

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import dlt
    from azure.core.credentials_async import AsyncTokenCredential

    from partnercenter_async._client import CustomerOrders, PartnerCenterClient
    from partnercenter_async._models import OrderFilters

    from ._run import SyncSummary
    from ._state import PriorState, Target

__all__ = ["add_parser", "run"]

logger = logging.getLogger("partnercenter_async.sync")

PROGRESS_LOG_SECONDS = 10.0
_EXTRA = "sync needs dlt: pip install 'partnercenter-async[sync]'"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``sync`` (its flags; ``run`` as its default)."""
    sync = commands.add_parser(
        "sync",
        help="keep a database of every order fresh (DuckDB, PostgreSQL, any dlt destination)",
        description="Load every customer's orders into a database with dlt, then keep it fresh: "
        "later runs read the activity log and re-read only customers with activity, pending "
        "orders, new ones and those older than --max-age. Tables: customers, orders, "
        "orders__line_items, sync_customers, sync_runs. Credentials as for export. --demo: one "
        "simulated day later on each run. Exit status: 0 every selected customer read (or "
        "marked: 404/403); 1 some failed (the next run retries them) or the run stopped; 2 bad "
        "usage; 130 Ctrl-C; 143 SIGTERM.",
    )
    sync.add_argument(
        "--destination",
        default="duckdb",
        help="duckdb (partner_center_orders.duckdb here; the default), duckdb:///rel.duckdb, "
        "duckdb:////abs.duckdb, postgresql://user:password@host:port/database, or a dlt "
        "destination name (bigquery, snowflake, ...) configured through dlt",
    )
    sync.add_argument("--dataset", default="partner_center", help="dataset (schema) name")
    sync.add_argument("--full", action="store_true", help="read every customer this run")
    sync.add_argument(
        "--max-age",
        type=_duration,
        default="7d",
        help="re-read every customer at least this often (90s, 15m, 12h, 7d; default 7d)",
    )
    add_filter_arguments(sync)
    add_connection_arguments(sync)
    _logs.add_arguments(sync)
    sync.set_defaults(run=run)


def _duration(text: str) -> Any:
    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def run(args: argparse.Namespace, argv: list[str]) -> int:
    """Run ``sync`` as parsed from ``argv``; return the exit status."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # no calls home unless asked
    redact = _logs.Redactor()
    with _logs.configured(args.log_level, args.log_format, redact):
        try:
            from ._state import parse_destination
        except ImportError:
            logger.error(_EXTRA)
            return 2
        try:
            target = parse_destination(args.destination)
            target.check(args.dataset)
        except ValueError as err:
            logger.error("%s", err)
            return 2
        for secret in target.secrets:
            redact.add(secret)
        try:
            return asyncio.run(_main(args, target, redact))
        except KeyboardInterrupt:
            logger.warning("interrupted; the batches loaded so far are kept")
            return 130
        except asyncio.CancelledError:
            logger.warning("stopped by SIGTERM; the batches loaded so far are kept")
            return 143


async def _main(args: argparse.Namespace, target: Target, redact: _logs.Redactor) -> int:
    import dlt

    from partnercenter_async._cli_auth import DEMO_REQUESTS_PER_MINUTE, UsageError, connect, explain
    from partnercenter_async._cli_export import cancel_on_sigterm
    from partnercenter_async._errors import PartnerCenterError

    from ._demo import demo_fake
    from ._state import read_state

    filters = filters_of(args)
    with tempfile.TemporaryDirectory(prefix="partnercenter-sync-") as work, cancel_on_sigterm():
        pipeline = dlt.pipeline(
            pipeline_name="partner_center",
            destination=target.destination,
            dataset_name=args.dataset,
            pipelines_dir=work,  # nothing kept here: the state lives in the destination
        )
        logger.info("destination %s, dataset %s", target.display, args.dataset)
        try:
            prior = await asyncio.to_thread(read_state, pipeline)
        except Exception as err:
            logger.error("cannot read the destination's state: %s", explain(err, args))
            return 1
        try:
            if args.demo and not (args.demo_url or args.base_url or args.refresh_token_file):
                from partnercenter_async.testing import StaticTokenCredential

                rate = args.requests_per_minute or DEMO_REQUESTS_PER_MINUTE
                fake = demo_fake(
                    prior.demo_runs,
                    customers=max(args.demo_customers - 1, 0),  # the sample one on top
                    requests_per_minute=rate,
                )
                logger.info("demo: simulated day %d (%s)", prior.demo_runs, f"{fake.now:%Y-%m-%d}")
                async with fake:
                    return await _run(
                        args,
                        StaticTokenCredential(),
                        fake.base_url,
                        rate,
                        pipeline,
                        prior,
                        filters,
                        now=lambda: fake.now,
                    )
            async with connect(args, redact) as connection:
                return await _run(
                    args,
                    connection.credential,
                    connection.base_url,
                    connection.requests_per_minute,
                    pipeline,
                    prior,
                    filters,
                )
        except UsageError as err:
            logger.error("%s", err)
            return 2
        except PartnerCenterError as err:
            logger.error("sync stopped: %s", explain(err, args))
            return 1
        except Exception as err:  # dlt's load failures: the destination refused or went away
            if type(err).__module__.split(".")[0] != "dlt":
                raise
            logger.error("sync stopped while loading: %s", explain(err, args))
            return 1


async def _run(
    args: argparse.Namespace,
    credential: AsyncTokenCredential,
    base_url: str | None,
    rate: float,
    pipeline: dlt.Pipeline,
    prior: PriorState,
    filters: OrderFilters,
    *,
    now: Callable[[], datetime] | None = None,
) -> int:
    from partnercenter_async._client import PartnerCenterClient

    from ._run import sync

    try:
        client = PartnerCenterClient(
            credential,
            base_url=base_url,
            cloud=args.cloud,
            requests_per_minute=rate,
            max_concurrency=args.max_concurrency,
        )
    except ValueError as err:
        logger.error("%s", err)
        return 2
    started = time.monotonic()
    progress = _Progress(client)
    options: dict[str, Any] = {} if now is None else {"now": now}
    async with client:
        try:
            summary = await sync(
                client,
                pipeline,
                filters=filters,
                max_age=args.max_age,
                full=args.full,
                prior=prior,
                on_customer=progress,
                **options,
            )
        finally:
            progress.close()
    _report(summary, time.monotonic() - started)
    return 1 if summary.failed else 0


class _Progress:
    """Customers done of selected, orders, failures, request rate: a live bar on a terminal, a
    log line every `PROGRESS_LOG_SECONDS` otherwise; failures logged as they come."""

    def __init__(self, client: PartnerCenterClient) -> None:
        self._client = client
        self._started = self._logged = time.monotonic()
        self._display: Progress | None = None
        self._task: Any = None
        self._terminal = sys.stderr.isatty()

    def __call__(self, result: CustomerOrders, summary: SyncSummary) -> None:
        if result.error is not None:
            unavailable = result.customer_id.lower() in summary.unavailable
            level = logging.INFO if unavailable else logging.WARNING
            logger.log(level, "customer %s: %s", result.customer_id, result.error)
        elapsed = max(time.monotonic() - self._started, 1e-9)
        counters = {
            "orders": summary.orders,
            "unavailable": len(summary.unavailable),
            "failed": len(summary.failed),
            "req/s": round(summary.requests / elapsed, 1),
            "retries": self._client.stats.retries,
            "throttled": self._client.stats.throttled,
        }
        if self._display is None and self._terminal:
            self._display = Progress(
                TextColumn("customers"),
                BarColumn(bar_width=None),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[counters]}"),
                console=Console(file=sys.stderr, highlight=False),
            )
            self._display.start()
            self._task = self._display.add_task("sync", total=summary.selected, counters="")
        if self._display is not None:
            text = (
                f"orders {summary.orders:,} · unavailable {len(summary.unavailable):,} · "
                f"failed {len(summary.failed):,} · {counters['req/s']:,} req/s"
            )
            self._display.update(self._task, completed=summary.done, counters=text)
            return
        now = time.monotonic()
        if now - self._logged >= PROGRESS_LOG_SECONDS:
            self._logged = now
            logger.info(
                "progress: %d/%d customers, %d orders, %d unavailable, %d failed, "
                "%.1f requests/s, %d retries, %d throttled",
                summary.done,
                summary.selected,
                *counters.values(),
                extra={
                    "progress": {"customers": summary.done, "total": summary.selected, **counters}
                },
            )

    def close(self) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None


def _report(summary: SyncSummary, seconds: float) -> None:
    """The closing summary: customers read and why, orders inserted and updated, requests."""
    why = ", ".join(f"{n} {reason.value}" for reason, n in summary.reasons.most_common())
    kind = "full" if summary.full else "incremental"
    logger.info(
        "%s sync: %d customers listed, %d read (%s), %d unavailable (marked), %d failed; "
        "%d orders read: %d inserted, %d updated; %d activity records; %d requests; %.1f s",
        kind,
        summary.listed,
        summary.read,
        why or "none selected",
        len(summary.unavailable),
        len(summary.failed),
        summary.orders,
        summary.orders_inserted,
        summary.orders_updated,
        summary.log_records,
        summary.requests,
        seconds,
        extra={
            "summary": {
                "full": summary.full,
                "listed": summary.listed,
                "read": summary.read,
                "reasons": {r.value: n for r, n in summary.reasons.items()},
                "unavailable": len(summary.unavailable),
                "failed": len(summary.failed),
                "orders": summary.orders,
                "orders_inserted": summary.orders_inserted,
                "orders_updated": summary.orders_updated,
                "requests": summary.requests,
                "seconds": round(seconds, 1),
            }
        },
    )
    if summary.failed:
        logger.warning(
            "%d customers failed (named above); the next run retries them", len(summary.failed)
        )
