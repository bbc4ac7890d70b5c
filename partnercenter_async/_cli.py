"""The ``partnercenter-async`` command: ``export`` orders (resumable; JSON Lines, CSV, Parquet), or
run the fake service.

Exit status: 0 when every customer was exported; 1 when any customer failed or the export could
not go on (the reason on stderr); 2 for bad usage; 130 when interrupted by Ctrl-C (SIGINT), 143 by
SIGTERM. After 1, 130 or 143 the same command with ``--resume`` continues where it stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shlex
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from tqdm import tqdm

from . import _logs
from ._client import CustomerOrders, PartnerCenterClient
from ._config import DEFAULT_MAX_CONCURRENCY, DEFAULT_REQUESTS_PER_MINUTE, Cloud
from ._credentials import RefreshTokenCredential
from ._errors import PartnerCenterError
from ._export import (
    ExportError,
    ExportSummary,
    Format,
    Output,
    plan_output,
    replace_atomically,
    run_export,
)
from ._version import __version__

logger = logging.getLogger("partnercenter_async.export")

DEMO_CUSTOMERS = 300
DEMO_REQUESTS_PER_MINUTE = 6000.0
"""The demo's fake service allows this much, so the demo takes seconds, not minutes."""
PROGRESS_LOG_SECONDS = 10.0
"""Without a terminal, a progress line this often (seconds)."""


class _UsageError(Exception):
    """Bad flags or environment: exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.command == "fake-server":
        from .testing import FakeConfig, run

        run(args.port, FakeConfig(seed=args.seed, customers=args.customers), host=args.host)
        return 0
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partnercenter-async", description="Microsoft Partner Center orders, fast."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    export = commands.add_parser(
        "export",
        help="export every order of every customer (JSON Lines, CSV or Parquet)",
        description="Export every order of every customer (or of --customers). JSON Lines: one "
        'line per order, {"customerId": ..., "order": <the order as the API sent it>}. App-only '
        "credentials come from azure-identity's DefaultAzureCredential (AZURE_TENANT_ID, "
        "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH); App+User from "
        "--refresh-token-file.",
    )
    export.add_argument(
        "--out",
        required=True,
        help="file or directory to write (Parquet: a directory of part files); - for stdout",
    )
    export.add_argument(
        "--format", choices=[f.value for f in Format], default="jsonl", help="default: jsonl"
    )
    export.add_argument(
        "--resume", action="store_true", help="continue an interrupted export of --out"
    )
    export.add_argument(
        "--customers", type=Path, help="file of customer ids, one per line (default: all)"
    )
    export.add_argument("--demo", action="store_true", help="export from a built-in fake service")
    export.add_argument(
        "--demo-customers",
        type=_count,
        default=DEMO_CUSTOMERS,
        help=f"customers of the --demo service (default {DEMO_CUSTOMERS})",
    )
    export.add_argument(
        "--cloud",
        choices=[c.name.lower() for c in Cloud],
        default="public",
        help="API host and sign-in authority (default public)",
    )
    export.add_argument("--base-url", help="API origin (default: the cloud's)")
    export.add_argument(
        "--refresh-token-file",
        type=Path,
        help="App+User: file holding a refresh token; rotated tokens are written back to it",
    )
    export.add_argument(
        "--requests-per-minute",
        type=float,
        help=f"request rate ceiling (default {DEFAULT_REQUESTS_PER_MINUTE:g}; "
        f"{DEMO_REQUESTS_PER_MINUTE:g} with --demo)",
    )
    export.add_argument(
        "--max-concurrency", type=int, default=DEFAULT_MAX_CONCURRENCY, help="requests in flight"
    )
    export.add_argument("--billing-type", help="only orders of this billing cycle, e.g. monthly")
    export.add_argument("--indirect-reseller-id", help="only orders of this indirect reseller")
    export.add_argument("--include-price", action="store_true", help="include pricing")
    export.add_argument(
        "--include-system-purchases", action="store_true", help="include system purchases"
    )
    export.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], default="info"
    )
    export.add_argument(
        "--log-format", choices=["text", "json"], default="text", help="json: one object per line"
    )

    fake = commands.add_parser("fake-server", help="serve the built-in fake Partner Center")
    fake.add_argument("--port", type=int, default=8080)
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--seed", type=int, default=0)
    fake.add_argument("--customers", type=int, default=DEMO_CUSTOMERS)
    return parser


def _count(text: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(text)


async def _export(args: argparse.Namespace, redact: _logs.Redactor) -> int:
    filters: dict[str, Any] = {
        "billing_type": args.billing_type,
        "indirect_reseller_id": args.indirect_reseller_id,
        "include_price": args.include_price,
        "include_system_purchases": args.include_system_purchases,
    }
    try:
        output = plan_output(args.out, Format(args.format), filters, resume=args.resume)
        if output.format is Format.PARQUET:
            _require_pyarrow()
        credential = None if args.demo else _credential(args, redact)
    except (ExportError, _UsageError) as err:
        logger.error("%s", err)
        return 2
    with _cancel_on_sigterm():
        if credential is None:
            from .testing import FakeConfig, FakePartnerCenter, StaticTokenCredential

            rate = args.requests_per_minute or DEMO_REQUESTS_PER_MINUTE
            config = FakeConfig(customers=args.demo_customers, requests_per_minute=rate)
            async with FakePartnerCenter(config) as fake:
                return await _run(args, output, StaticTokenCredential(), fake.base_url, rate)
        async with credential:
            rate = args.requests_per_minute or DEFAULT_REQUESTS_PER_MINUTE
            return await _run(args, output, credential, args.base_url, rate)


def _credential(args: argparse.Namespace, redact: _logs.Redactor) -> AsyncTokenCredential:
    """App+User from ``--refresh-token-file``, else App-only from ``DefaultAzureCredential``."""
    authority = os.environ.get("AZURE_AUTHORITY_HOST") or Cloud[args.cloud.upper()].authority_host
    secret = os.environ.get("AZURE_CLIENT_SECRET") or None
    redact.add(secret)
    redact.add(os.environ.get("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
    path: Path | None = args.refresh_token_file
    if path is None:
        from azure.identity.aio import DefaultAzureCredential

        return DefaultAzureCredential(authority=authority)
    tenant_id, client_id = os.environ.get("AZURE_TENANT_ID"), os.environ.get("AZURE_CLIENT_ID")
    if not tenant_id or not client_id:
        raise _UsageError(
            "--refresh-token-file needs AZURE_TENANT_ID and AZURE_CLIENT_ID (and, for a web "
            "app, AZURE_CLIENT_SECRET) in the environment"
        )
    try:
        refresh_token = path.read_text(encoding="utf-8").strip()
    except OSError as err:
        raise _UsageError(f"cannot read the refresh token: {err}") from err
    if not refresh_token:
        raise _UsageError(f"{path} holds no refresh token")
    redact.add(refresh_token)

    def store(new_token: str) -> None:
        redact.add(new_token)
        replace_atomically(path, new_token.encode() + b"\n", mode=0o600)
        logger.info("stored the rotated refresh token in %s", path)

    try:
        return RefreshTokenCredential(
            tenant_id,
            client_id,
            refresh_token,
            client_secret=secret,
            authority=authority,
            on_refresh_token=store,
        )
    except ValueError as err:
        raise _UsageError(str(err)) from err


def _require_pyarrow() -> None:
    try:
        import pyarrow  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as err:
        raise ExportError(
            "--format parquet needs pyarrow: pip install 'partnercenter-async[parquet]'"
        ) from err


@contextlib.contextmanager
def _cancel_on_sigterm() -> Iterator[None]:
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


async def _run(
    args: argparse.Namespace,
    output: Output,
    credential: AsyncTokenCredential,
    base_url: str | None,
    rate: float,
) -> int:
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
    async with client:
        try:
            if args.customers:
                customer_ids = _read_ids(args.customers)
            else:
                logger.info("listing customers")
                customer_ids = [customer.id async for customer in client.list_customers()]
        except OSError as err:
            logger.error("cannot read the customer ids: %s", err)
            return 2
        except PartnerCenterError as err:
            logger.error("cannot list the customers: %s", _explain(err))
            return 1
        except asyncio.CancelledError:
            logger.warning("interrupted while listing the customers; no output was changed")
            raise
        try:
            output.open()
        except ExportError as err:
            logger.error("%s", err)
            return 1
        return await _write(client, args, output, customer_ids, started)


async def _write(
    client: PartnerCenterClient,
    args: argparse.Namespace,
    output: Output,
    customer_ids: list[str],
    started: float,
) -> int:
    where = "stdout" if output.path is None else str(output.path)
    todo = sum(1 for c in customer_ids if c not in output.done)
    if output.resumed:
        logger.info(
            "resuming %s: %d customers exported before, %d to go",
            where,
            len(customer_ids) - todo,
            todo,
        )
    else:
        logger.info("exporting the orders of %d customers to %s as %s", todo, where, args.format)
    progress = _Progress(client, todo)
    try:
        summary = await run_export(client, customer_ids, output, on_result=progress)
    except asyncio.CancelledError:
        progress.close()
        output.close(complete=False)
        logger.warning(
            "interrupted; %s holds the orders of %d customers. To continue: %s",
            where,
            progress.exported,
            args.resume_command,
        )
        raise
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # stop Python's complaint
        logger.error("stdout was closed; export stopped")
        return 1
    except (PartnerCenterError, OSError) as err:
        progress.close()
        with contextlib.suppress(OSError):
            output.close(complete=False)
        logger.error("export stopped: %s", _explain(err))
        if output.path is not None:
            logger.error("to continue once that is fixed: %s", args.resume_command)
        return 1
    progress.close()
    output.close(complete=not summary.failed)
    stats = client.stats
    before = f" ({summary.skipped} of them exported before)" if summary.skipped else ""
    logger.info(
        "%d customers%s, %d orders written to %s; %d customers failed; %d requests, %d retries, "
        "%d throttled; %.1f s",
        summary.customers + summary.skipped,
        before,
        summary.orders,
        where,
        len(summary.failed),
        stats.requests,
        stats.retries,
        stats.throttled,
        time.monotonic() - started,
    )
    if summary.failed and output.path is not None:
        logger.warning(
            "%d customers failed (named above); to retry them: %s",
            len(summary.failed),
            args.resume_command,
        )
    return 1 if summary.failed else 0


class _Progress:
    """Customers done of total, orders, request rate, retries, throttling, ETA: a live bar on a
    terminal, a log line every ``PROGRESS_LOG_SECONDS`` otherwise. Failures are logged as they
    come."""

    def __init__(self, client: PartnerCenterClient, total: int) -> None:
        self._client = client
        self._total = total
        self._started = self._logged = time.monotonic()
        self._bar: tqdm[Any] | None = None
        if sys.stderr.isatty():
            self._bar = tqdm(total=total, unit="customer", file=sys.stderr, dynamic_ncols=True)
        self.exported = 0

    def __call__(self, result: CustomerOrders, summary: ExportSummary) -> None:
        self.exported = summary.customers
        if result.error is not None:
            logger.warning("customer %s failed: %s", result.customer_id, result.error)
        stats = self._client.stats
        elapsed = max(time.monotonic() - self._started, 1e-9)
        counters = {
            "orders": summary.orders,
            "failed": len(summary.failed),
            "req/s": round(stats.requests / elapsed, 1),
            "retries": stats.retries,
            "throttled": stats.throttled,
            "held_s": round(stats.held_seconds),
        }
        if self._bar is not None:
            self._bar.update()
            self._bar.set_postfix(counters, refresh=False)
            return
        now = time.monotonic()
        if now - self._logged < PROGRESS_LOG_SECONDS:
            return
        self._logged = now
        done = summary.customers + len(summary.failed)
        eta = (self._total - done) * elapsed / done
        logger.info(
            "progress: %d/%d customers, %d orders, %d failed, %.1f requests/s, %d retries, "
            "%d throttled, %d s throttle wait, ETA %s",
            done,
            self._total,
            *counters.values(),
            _duration(eta),
            extra={"progress": {"customers": done, "total": self._total, **counters}},
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _explain(err: BaseException) -> str:
    """The error, and for a credential failure the first lines of what the credential said."""
    text = str(err)
    cause = err.__cause__
    if cause is not None and text.endswith(str(cause).strip().splitlines()[0][:300]):
        lines = [
            line.strip()
            for line in str(cause).splitlines()[1:]
            if line.strip() and not line.strip().startswith(("Content:", "To mitigate", "http"))
        ]
        text += "".join(f"\n  {line}" for line in lines[:6])
    return text


def _read_ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig") as lines:
        return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
