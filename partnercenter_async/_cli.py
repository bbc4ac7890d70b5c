"""The ``partnercenter-async`` command: ``export`` orders to JSON Lines, or run the fake service.

Exit status: 0 when every customer was exported, 1 when any customer failed or the export could
not run (the reason on stderr), 2 for bad usage, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import msgspec
from azure.core.credentials_async import AsyncTokenCredential
from tqdm import tqdm

from ._client import PartnerCenterClient
from ._config import DEFAULT_MAX_CONCURRENCY, DEFAULT_REQUESTS_PER_MINUTE, Cloud
from ._errors import PartnerCenterError
from ._version import __version__

DEMO_CUSTOMERS = 300
DEMO_REQUESTS_PER_MINUTE = 6000.0
"""The demo's fake service allows this much, so the demo takes seconds, not minutes."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "fake-server":
        from .testing import FakeConfig, run

        run(args.port, FakeConfig(seed=args.seed, customers=args.customers), host=args.host)
        return 0
    try:
        return asyncio.run(_export(args))
    except KeyboardInterrupt:
        print("interrupted; nothing more was written", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partnercenter-async", description="Microsoft Partner Center orders, fast."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    export = commands.add_parser(
        "export",
        help="export every order of every customer as JSON Lines",
        description="Export every order of every customer (or of --customers) as JSON Lines, "
        "one order per line as the API returned it. Credentials come from azure-identity's "
        "DefaultAzureCredential (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, ...).",
    )
    export.add_argument("--out", required=True, type=Path, help="JSON Lines file to write")
    export.add_argument(
        "--customers", type=Path, help="file of customer ids, one per line (default: all)"
    )
    export.add_argument("--demo", action="store_true", help="export from a built-in fake service")
    export.add_argument("--base-url", help="API origin (default: the cloud's)")
    export.add_argument(
        "--cloud", choices=[c.name.lower() for c in Cloud], default="public", help="API cloud"
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

    fake = commands.add_parser("fake-server", help="serve the built-in fake Partner Center")
    fake.add_argument("--port", type=int, default=8080)
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--seed", type=int, default=0)
    fake.add_argument("--customers", type=int, default=DEMO_CUSTOMERS)
    return parser


async def _export(args: argparse.Namespace) -> int:
    if args.demo:
        from .testing import FakeConfig, FakePartnerCenter, StaticTokenCredential

        config = FakeConfig(customers=DEMO_CUSTOMERS, requests_per_minute=DEMO_REQUESTS_PER_MINUTE)
        async with FakePartnerCenter(config) as fake:
            rate = args.requests_per_minute or DEMO_REQUESTS_PER_MINUTE
            return await _run(args, StaticTokenCredential(), fake.base_url, rate)

    from azure.identity.aio import DefaultAzureCredential

    async with DefaultAzureCredential() as credential:
        rate = args.requests_per_minute or DEFAULT_REQUESTS_PER_MINUTE
        return await _run(args, credential, args.base_url, rate)


async def _run(
    args: argparse.Namespace, credential: AsyncTokenCredential, base_url: str | None, rate: float
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
        print(f"error: {err}", file=sys.stderr)
        return 2
    async with client:
        try:
            return await _write_orders(client, args)
        except PartnerCenterError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1


async def _write_orders(client: PartnerCenterClient, args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.customers:
        customer_ids = _read_ids(args.customers)
    else:
        customer_ids = [customer.id async for customer in client.iter_customers()]
    failed: dict[str, PartnerCenterError] = {}
    orders = 0
    with (
        args.out.open("wb") as out,
        tqdm(total=len(customer_ids), unit="customer", file=sys.stderr, dynamic_ncols=True) as bar,
    ):
        async for result in client.stream_orders(
            customer_ids,
            billing_type=args.billing_type,
            indirect_reseller_id=args.indirect_reseller_id,
            include_price=args.include_price,
            include_system_purchases=args.include_system_purchases,
        ):
            if result.error is not None:
                failed[result.customer_id] = result.error
            else:
                _write_lines(out, result.raw_orders)
                orders += len(result.orders)
            bar.update()
            bar.set_postfix(orders=orders, failed=len(failed), refresh=False)
    stats = client.stats
    print(
        f"{len(customer_ids) - len(failed)} customers, {orders} orders written to {args.out}; "
        f"{len(failed)} customers failed; {stats.requests} requests, {stats.retries} retries, "
        f"{stats.throttled} throttled; {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    for customer_id, error in failed.items():
        print(f"failed: {customer_id}: {error}", file=sys.stderr)
    return 1 if failed else 0


def _read_ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig") as lines:
        return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _write_lines(out: IO[bytes], raw_orders: list[bytes]) -> None:
    """One order per line, as the service sent it (reformatted onto one line if it had several)."""
    out.writelines(
        (msgspec.json.format(raw, indent=0) if b"\n" in raw else raw) + b"\n" for raw in raw_orders
    )
