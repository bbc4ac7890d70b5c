"""``partnercenter-async export``: a thin layer over ``export_orders``: flags, customer ids,
progress, the summary and the exit status."""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import logging
import os
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from . import _logs
from ._cli_auth import (
    UsageError,
    add_connection_arguments,
    add_filter_arguments,
    connect,
    explain,
    filters_of,
)
from ._cli_progress import ExportProgressView
from ._client import PartnerCenterClient
from ._errors import PartnerCenterError
from .export import (
    ExportError,
    ExportFormat,
    ExportSummary,
    OrderFilters,
    export_orders,
    format_of,
    plural,
)

logger = logging.getLogger("partnercenter_async.export")

EXIT_OK = 0
"""Every customer exported."""
EXIT_STOPPED = 1
"""The export stopped, or some customers failed transiently: ``--resume`` continues."""
EXIT_USAGE = 2
"""Bad usage: flags, environment, an output that is in use, finished or unfinished."""
EXIT_FAILED_FOR_GOOD = 3
"""The export finished, but some customers answered 404 or 403: named on stderr."""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``export``."""
    export = commands.add_parser(
        "export",
        help="export every order of every customer (JSON Lines, CSV or Parquet)",
        description="Export every order of every customer (or of --customers/--customer). JSON "
        'Lines: one line per order, {"customerId": ..., "order": <the order as the API sent '
        "it>}. App-only credentials come from azure-identity's DefaultAzureCredential "
        "(AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or "
        "AZURE_CLIENT_CERTIFICATE_PATH); App+User from --refresh-token-file. Exit status: 0 "
        "all exported; 1 stopped or some customers failed (--resume continues); 2 bad usage; "
        "3 finished, some customers not found (404) or denied (403); 130 Ctrl-C; 143 SIGTERM.",
    )
    export.add_argument(
        "--out",
        required=True,
        help="file or directory to write (Parquet: a directory of part files); - for stdout",
    )
    export.add_argument(
        "--format",
        choices=[f.value for f in ExportFormat],
        help="default: from --out's extension (.csv, .parquet), else jsonl",
    )
    export.add_argument(
        "--resume", action="store_true", help="continue an interrupted export of --out"
    )
    export.add_argument(
        "--retry-failed",
        action="store_true",
        help="with --resume: fetch again the customers that answered 404 or 403",
    )
    export.add_argument(
        "--force",
        action="store_true",
        help="overwrite a finished export, or write a format --out's extension contradicts",
    )
    export.add_argument(
        "--customers",
        metavar="FILE",
        help="file of customer ids, one per line (UTF-8 or UTF-16; - for stdin; default: all)",
    )
    export.add_argument(
        "--customer", action="append", metavar="ID", help="a customer id (repeatable)"
    )
    add_filter_arguments(export)
    add_connection_arguments(export)
    _logs.add_arguments(export)
    export.set_defaults(run=run)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    """Run ``export`` as parsed from ``argv``; return the exit status."""
    args.resume_command = shlex.join(
        ["partnercenter-async", *argv, *([] if args.resume else ["--resume"])]
    )
    redact = _logs.Redactor()
    with _logs.configured(args.log_level, args.log_format, redact):
        try:
            return asyncio.run(_export(args, redact))
        except KeyboardInterrupt:
            return 130
        except asyncio.CancelledError:  # SIGTERM
            return 143


async def _export(args: argparse.Namespace, redact: _logs.Redactor) -> int:
    try:
        customer_ids = _customer_ids(args)
        fmt = ExportFormat(args.format or format_of(args.out) or ExportFormat.JSONL)
        if fmt is ExportFormat.PARQUET:
            _require_pyarrow()
        filters = filters_of(args)
        if args.retry_failed and not args.resume:
            raise UsageError("--retry-failed goes with --resume")
        with cancel_on_sigterm():
            async with connect(args, redact) as connection:
                if args.demo and args.demo_customers == 0 and customer_ids is None:
                    customer_ids = []
                client = PartnerCenterClient(
                    connection.credential,
                    base_url=connection.base_url,
                    cloud=args.cloud,
                    requests_per_minute=connection.requests_per_minute,
                    max_concurrency=args.max_concurrency,
                )
                async with client:
                    return await _write(args, client, customer_ids, fmt, filters)
    except (UsageError, ExportError, ValueError) as err:
        logger.error("%s", err)
        return EXIT_USAGE


async def _write(
    args: argparse.Namespace,
    client: PartnerCenterClient,
    customer_ids: list[str] | None,
    fmt: ExportFormat,
    filters: OrderFilters,
) -> int:
    view = ExportProgressView()
    to_file = args.out != "-"
    try:
        try:
            summary = await export_orders(
                client,
                customer_ids,
                args.out,
                format=fmt,
                filters=filters,
                resume=args.resume,
                retry_failed=args.retry_failed,
                force=args.force,
                on_progress=view,
                command=args.resume_command.removesuffix(" --resume"),
            )
        finally:
            view.close()  # before any line below: a live display would draw over it
    except asyncio.CancelledError:
        done = view.last.done if view.last else 0
        logger.warning(
            "interrupted after %s. To continue: %s",
            plural(done, "customer"),
            args.resume_command,
        )
        raise
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # stop Python's complaint
        logger.error("stdout was closed; export stopped")
        return EXIT_STOPPED
    except (PartnerCenterError, OSError) as err:
        logger.error("export stopped: %s", explain(err, args))
        if to_file:
            logger.error("to continue once that is fixed: %s", args.resume_command)
        return EXIT_STOPPED
    return _report(args, client, summary)


def _report(args: argparse.Namespace, client: PartnerCenterClient, summary: ExportSummary) -> int:
    stats = client.stats
    where = "stdout" if summary.path is None else str(summary.path)
    total = summary.customers + summary.skipped
    before = f" ({summary.skipped} of them exported before)" if summary.skipped else ""
    logger.info(
        "%s%s, %s written to %s; %s failed, %s not found or denied; %s, %s, %s throttled; %.1f s",
        plural(total, "customer"),
        before,
        plural(summary.orders, "order"),
        where,
        plural(len(summary.failed), "customer"),
        plural(len(summary.final), "customer"),
        plural(stats.requests, "request"),
        plural(stats.retries, "retry", "retries"),
        stats.throttled,
        summary.elapsed,
    )
    for customer_id, failure in summary.final.items():
        logger.warning(
            "customer %s cannot be exported: %s%s",
            customer_id,
            failure.message,
            f" (MS-RequestId {failure.request_id})" if failure.request_id else "",
            extra={
                "customer_id": customer_id,
                "status": failure.status,
                "request_id": failure.request_id,
            },
        )
    if summary.failed:
        if summary.path is not None:
            logger.warning(
                "%s failed (named above); to retry them: %s",
                plural(len(summary.failed), "customer"),
                args.resume_command,
            )
        return EXIT_STOPPED
    if summary.final:
        logger.warning(
            "%s cannot be exported (404: no such customer, 403: no rights on it); the export "
            "is otherwise complete",
            plural(len(summary.final), "customer"),
        )
        return EXIT_FAILED_FOR_GOOD
    return EXIT_OK


def _customer_ids(args: argparse.Namespace) -> list[str] | None:
    """``--customer`` ids, then those of ``--customers`` (a file or stdin); None for all.

    Raises:
        UsageError: The file cannot be read, or is neither UTF-8 nor UTF-16 with a BOM.
    """
    if args.customer is None and args.customers is None:
        return None
    ids = [c.strip() for c in args.customer or [] if c.strip()]
    if args.customers is not None:
        name = "stdin" if args.customers == "-" else args.customers
        try:
            raw = sys.stdin.buffer.read() if args.customers == "-" else Path(name).read_bytes()
        except OSError as err:
            raise UsageError(f"cannot read the customer ids: {err}") from err
        ids += read_ids(raw, name)
    return ids


def read_ids(raw: bytes, name: str) -> list[str]:
    """Customer ids, one per line (blank lines and ``#`` comments skipped), from the bytes of a
    file in UTF-8 (with or without BOM) or UTF-16 (with BOM: Windows PowerShell 5.1's ``>``).

    Raises:
        UsageError: Neither encoding.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise UsageError(
            f"{name} is not text in UTF-8 or UTF-16 (with a byte-order mark): byte "
            f"{err.start} cannot be read; save it as UTF-8"
        ) from None
    lines = (line.strip() for line in text.split("\n"))
    return [line for line in lines if line and not line.startswith("#")]


def _require_pyarrow() -> None:
    try:
        import pyarrow  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as err:
        raise UsageError(
            "--format parquet needs pyarrow: pip install 'partnercenter-async[parquet]'"
        ) from err


@contextlib.contextmanager
def cancel_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into a cancellation of the running task, as asyncio does for Ctrl-C."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None
    try:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
