"""``export_orders``: the public export; the command line's ``export`` is a thin layer over it."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from partnercenter_async._client import CustomerOrders, PartnerCenterClient
from partnercenter_async._errors import PartnerCenterError, is_final
from partnercenter_async._models import OrderFilters

from ._checkpoint import FinalFailure, customer_key
from ._core import list_customer_ids, stream_orders, traced
from ._errors import ExportError
from ._output import Output, plan_output
from ._rows import ExportFormat

logger = logging.getLogger("partnercenter_async.export")


@dataclass(slots=True)
class ExportSummary:
    """What one export run did.

    Attributes:
        path: The data file or Parquet directory; None for stdout.
        customers: Customers exported by this run.
        orders: Orders written by this run.
        skipped: Customers skipped because the resumed run had exported them already.
        failed: Customers that failed transiently (throttled, 5xx, timeouts...), with their
            errors: the checkpoint stays and a resumed run fetches them again.
        final: Customers that failed for good (404: no such customer; 403: no rights on it),
            this run's and those a resumed run had recorded: not fetched again on resume.
        complete: True when nothing is left to retry: the checkpoint files are removed.
        elapsed: Seconds the run took, listing included.
    """

    path: Path | None = None
    customers: int = 0
    orders: int = 0
    skipped: int = 0
    failed: dict[str, PartnerCenterError] = field(default_factory=dict)
    final: dict[str, FinalFailure] = field(default_factory=dict)
    complete: bool = False
    elapsed: float = 0.0


@dataclass(frozen=True, slots=True)
class ExportProgress:
    """The export's counters, handed to ``on_progress`` once before the first customer and after
    each one.

    Attributes:
        total: Customers this run fetches (those exported before excluded).
        done: Customers finished by this run, exported or failed.
        orders: Orders written by this run.
        failed: Customers failed transiently so far.
        final: Customers failed for good (404, 403) so far.
        requests: HTTP requests sent, retries included.
        retries: Requests sent again after a failure.
        throttled: 429 answers received.
        held_seconds: Seconds the client was held back by throttling.
        elapsed: Seconds since the run started.
        result: The customer that has just finished, or None on the first call.
    """

    total: int
    done: int
    orders: int
    failed: int
    final: int
    requests: int
    retries: int
    throttled: int
    held_seconds: float
    elapsed: float
    result: CustomerOrders | None = None


async def export_orders(
    client: PartnerCenterClient,
    customer_ids: Iterable[str] | None,
    out: str | os.PathLike[str],
    *,
    format: ExportFormat | str = ExportFormat.JSONL,  # the word users know
    filters: OrderFilters | None = None,
    resume: bool = False,
    retry_failed: bool = False,
    force: bool = False,
    on_progress: Callable[[ExportProgress], None] | None = None,
    command: str = "",
) -> ExportSummary:
    """Export every order of ``customer_ids`` into ``out``, exactly once, resumably.

    The output is locked for the whole run and checked before any customer is listed. Each
    customer's orders are written as they arrive; a checkpoint records them as it goes, so that
    a run stopped by anything (an error, a cancellation, ``kill -9``) continues with
    ``resume=True``. GUIDs are compared case-insensitively: an id given twice in two casings is
    exported once, as first written.

    Example:
        >>> async with PartnerCenterClient(credential) as client:
        ...     summary = await export_orders(client, None, "orders.jsonl", resume=True)
        >>> summary.customers, summary.orders, sorted(summary.final)

    Args:
        client: The client to fetch with.
        customer_ids: Customer tenant ids, or None for every customer of the partner.
        out: A file; a directory (existing, or ending in ``/``) gets ``orders.<format>``;
            Parquet: a directory of part files; ``-`` for stdout (JSON Lines or CSV).
        format: ``"jsonl"`` (each order as sent), ``"csv"`` or ``"parquet"`` (a row per line
            item, ``COLUMNS``).
        filters: The listing filters (default: none); a resumed run must use the same.
        resume: Continue the unfinished export in ``out`` (without one: start afresh when ``out``
            does not exist yet).
        retry_failed: When resuming, fetch again the customers that failed for good (404, 403).
        force: Overwrite a finished export, or write a format the file name contradicts.
        on_progress: Called with the counters before the first customer and after each one.
        command: Recorded in the output's lock, so that a refused second run can name this one.

    Returns:
        The summary. ``failed`` non-empty: some customers failed transiently, the checkpoint
        stays, resume to retry them. ``final`` non-empty: those customers cannot be exported.

    Raises:
        TypeError: ``customer_ids`` is one string.
        ExportError: The output cannot be written or resumed as asked (``OutputInUseError``:
            another export is writing it). Nothing was changed.
        AuthenticationError: No token, or the service refuses it: the run stops, resumably.
        PartnerCenterError: The customers cannot be listed.
        OSError: The output cannot be written (e.g. the disk is full): the run stops,
            resumably.
    """
    started = time.monotonic()
    if isinstance(customer_ids, str):
        raise TypeError("customer_ids must be an iterable of ids (or None), not one string")
    try:
        fmt = ExportFormat(format)
    except ValueError as err:
        raise ExportError(f"unknown format {format!r}: jsonl, csv or parquet") from err
    output = plan_output(
        out,
        fmt,
        filters or OrderFilters(),
        resume=resume,
        retry_failed=retry_failed,
        force=force,
        command=command,
    )
    try:
        with traced(client, "partnercenter.export", {"partnercenter.export.format": fmt.value}):
            if customer_ids is None:
                logger.info("listing customers")
                customer_ids = await list_customer_ids(client)
            summary = ExportSummary(path=output.path)
            todo = _todo(customer_ids, output, summary)
            output.open()
            await _fetch(client, todo, output, summary, on_progress, started)
    finally:
        output.release()
    summary.elapsed = time.monotonic() - started
    return summary


def _todo(customer_ids: Iterable[str], output: Output, summary: ExportSummary) -> list[str]:
    """The distinct customers to fetch; counts those exported before, keeps those failed for
    good."""
    final = {customer_key(c): (c, failure) for c, failure in output.final.items()}
    seen: set[str] = set()
    todo: list[str] = []
    for customer_id in customer_ids:
        key = customer_key(customer_id)
        if key in seen:
            continue
        seen.add(key)
        if key in output.done:
            summary.skipped += 1
        elif key in final:
            summary.final[final[key][0]] = final[key][1]
        else:
            todo.append(customer_id)
    where = "stdout" if output.path is None else str(output.path)
    if output.resumed:
        logger.info(
            "resuming %s: %s exported before, %s failed for good, %d to go",
            where,
            plural(summary.skipped, "customer"),
            plural(len(summary.final), "customer"),
            len(todo),
        )
    else:
        logger.info(
            "exporting the orders of %s to %s as %s",
            plural(len(todo), "customer"),
            where,
            output.format,
        )
    return todo


async def _fetch(
    client: PartnerCenterClient,
    todo: list[str],
    output: Output,
    summary: ExportSummary,
    on_progress: Callable[[ExportProgress], None] | None,
    started: float,
) -> None:
    def progress(result: CustomerOrders | None) -> None:
        if on_progress is None:
            return
        stats = client.stats
        on_progress(
            ExportProgress(
                total=len(todo),
                done=summary.customers + len(summary.failed) + new_final,
                orders=summary.orders,
                failed=len(summary.failed),
                final=len(summary.final),
                requests=stats.requests,
                retries=stats.retries,
                throttled=stats.throttled,
                held_seconds=stats.held_seconds,
                elapsed=time.monotonic() - started,
                result=result,
            )
        )

    new_final = 0
    progress(None)
    stream = stream_orders(client, todo, output.filters, raw=output.format is ExportFormat.JSONL)
    try:
        try:
            async for result in stream:
                error = result.error
                if error is None:
                    output.write(result)
                    summary.customers += 1
                    summary.orders += len(result.orders)
                elif is_final(error):
                    failure = FinalFailure(
                        status=error.status,
                        message=error.message,
                        request_id=error.request_id,
                    )
                    output.record_final(result.customer_id, failure)
                    summary.final[result.customer_id] = failure
                    new_final += 1
                else:
                    summary.failed[result.customer_id] = error
                progress(result)
        finally:
            await stream.aclose()
    except BaseException:
        with contextlib.suppress(OSError):
            output.close(complete=False)  # a last checkpoint of what is complete
        raise
    summary.complete = not summary.failed
    output.close(complete=summary.complete)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 customer``, ``2 customers``, ``0 customers`` (``nouns``: an irregular plural)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
