"""The ``partnercenter-async`` command: ``export`` orders (resumable; JSON Lines, CSV, Parquet),
``sync`` them into a database (``sync/_cli.py``), ``doctor`` (check the credential and the API
before a long export), ``fake-server`` (serve the built-in fake Partner Center).

Each subcommand is a module with ``add_parser(commands)``, which registers its flags and sets
``run(args, argv) -> exit status`` as its default; ``SUBCOMMANDS`` lists them.

Exit status of ``export``: 0 every customer exported; 1 the export stopped, or some customers
failed transiently (the same command with ``--resume`` continues); 2 bad usage (flags,
environment, an output in use, finished or unfinished); 3 finished, but some customers answered
404 or 403 (named on stderr; ``--resume --retry-failed`` tries them again); 130 Ctrl-C (SIGINT);
143 SIGTERM. ``doctor``: 0 an export would work, 1 it would not (each failed check says why).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Sequence

from . import _cli_export, _doctor
from ._cli_auth import DEMO_CUSTOMERS, whole_number
from ._otel_cli import configure_from_environment
from ._version import __version__
from .sync._cli import add_parser as _add_sync  # imports no dlt until sync runs

Registration = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _add_fake_server(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fake = commands.add_parser(
        "fake-server",
        help="serve the built-in fake Partner Center, and print the commands that use it",
        description="Serve a fake Partner Center (deterministic customers and orders, any "
        "bearer token accepted) until Ctrl-C, and print the export and doctor commands that "
        "work against it.",
    )
    fake.add_argument(
        "--port", type=whole_number(0, 65535), default=8080, help="TCP port; 0 picks a free one"
    )
    fake.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    fake.add_argument("--seed", type=whole_number(0), default=0, help="data seed (default 0)")
    fake.add_argument(
        "--customers",
        type=whole_number(0),
        default=DEMO_CUSTOMERS,
        help=f"customers served (default {DEMO_CUSTOMERS})",
    )
    fake.set_defaults(run=_serve_fake)


SUBCOMMANDS: list[Registration] = [
    _cli_export.add_parser,
    _add_sync,
    _doctor.add_parser,
    _add_fake_server,
]
"""Registered in this order; another package adds its subcommand by appending here."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    shutdown_otel = configure_from_environment() if getattr(args, "otel", False) else None
    try:
        status: int = args.run(args, argv)
    finally:
        if shutdown_otel is not None:
            shutdown_otel()
    return status


def parser() -> argparse.ArgumentParser:
    """The argument parser, every subcommand of ``SUBCOMMANDS`` registered."""
    root = argparse.ArgumentParser(
        prog="partnercenter-async", description="Microsoft Partner Center orders, fast."
    )
    root.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = root.add_subparsers(dest="command", required=True)
    for register in SUBCOMMANDS:
        register(commands)
    return root


def _serve_fake(args: argparse.Namespace, argv: list[str]) -> int:
    from .testing import FakeConfig, FakePartnerCenter

    async def serve() -> int:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows
                asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        # The sample customer comes on top of the generated ones.
        fake = FakePartnerCenter(FakeConfig(seed=args.seed, customers=max(args.customers - 1, 0)))
        try:
            url = await fake.start(args.host, args.port)
        except OSError as err:
            print(
                f"partnercenter-async fake-server: cannot listen on {args.host}:{args.port}: "
                f"{err.strerror or err}; choose another --port (0 picks a free one)",
                file=sys.stderr,
            )
            return 1
        print(
            f"A fake Partner Center serves {args.customers} customers at {url}\n"
            "Export from it (any bearer token is accepted; --demo-url gives one):\n"
            f"  partnercenter-async export --demo-url {url} --out orders.jsonl\n"
            f"  partnercenter-async doctor --demo-url {url}\n"
            "Ctrl-C stops it.",
            flush=True,
        )
        try:
            await stop.wait()
        finally:
            await fake.close()
        return 0

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(serve())
    return 0
