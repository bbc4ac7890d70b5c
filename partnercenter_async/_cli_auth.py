"""The command line's connection: where the API is and which credential, shared by ``export`` and
``doctor``; a built-in fake for ``--demo`` and ``--demo-url``; explanations of credential failures.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from azure.core.credentials_async import AsyncTokenCredential

from . import _logs
from ._config import DEFAULT_MAX_CONCURRENCY, DEFAULT_REQUESTS_PER_MINUTE, Cloud
from ._credentials import RefreshTokenCredential
from ._errors import CredentialError
from ._files import replace_atomically
from ._models import OrderFilters

logger = logging.getLogger("partnercenter_async.cli")

DEMO_CUSTOMERS = 300
DEMO_REQUESTS_PER_MINUTE = 6000.0
"""The demo's fake service allows this much, so the demo takes seconds, not minutes."""
CREDENTIAL_VARIABLES = (
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_USERNAME",
)
WHAT_TO_SET = (
    "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (app-only; or "
    "AZURE_CLIENT_CERTIFICATE_PATH instead of the secret), or give --refresh-token-file FILE "
    "with AZURE_TENANT_ID and AZURE_CLIENT_ID (App+User); to try the tool without an account, "
    "use --demo"
)


class UsageError(Exception):
    """Bad flags or environment: exit status 2; the message says what to fix."""


def positive_number(text: str) -> float:
    """An argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in ``[low, high]``."""

    def parse(text: str) -> int:
        stripped = text.strip()
        if (
            not stripped.isdigit()
            or int(stripped) < low
            or (high is not None and int(stripped) > high)
        ):
            span = f"{low} to {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"expected a whole number, {span}; got {text!r}")
        return int(stripped)

    parse.__name__ = "whole number"
    return parse


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that say where the API is and how to sign in."""
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--cloud",
        choices=[c.name.lower() for c in Cloud],
        default="public",
        help="API host and sign-in authority (default public)",
    )
    group.add_argument(
        "--base-url", help="API origin (default: PARTNERCENTER_BASE_URL, else the cloud's)"
    )
    group.add_argument(
        "--refresh-token-file",
        type=Path,
        help="App+User: file holding a refresh token (with AZURE_TENANT_ID, AZURE_CLIENT_ID); "
        "rotated tokens are written back to it",
    )
    group.add_argument(
        "--demo", action="store_true", help="use a built-in fake Partner Center (no account)"
    )
    group.add_argument(
        "--demo-customers",
        type=whole_number(0),
        default=DEMO_CUSTOMERS,
        metavar="N",
        help=f"customers of the --demo service (default {DEMO_CUSTOMERS})",
    )
    group.add_argument(
        "--demo-url",
        metavar="URL",
        help="use the fake Partner Center that `partnercenter-async fake-server` serves at URL, "
        "with its token",
    )
    group.add_argument(
        "--requests-per-minute",
        type=positive_number,
        metavar="N",
        help=f"request rate ceiling (default {DEFAULT_REQUESTS_PER_MINUTE:g}; "
        f"{DEMO_REQUESTS_PER_MINUTE:g} with --demo)",
    )
    group.add_argument(
        "--max-concurrency",
        type=whole_number(1, 1024),
        default=DEFAULT_MAX_CONCURRENCY,
        metavar="N",
        help=f"requests in flight (default {DEFAULT_MAX_CONCURRENCY})",
    )
    group.add_argument(
        "--otel",
        action="store_true",
        help="send traces and metrics as the OTEL_* environment variables say "
        "(needs opentelemetry-sdk)",
    )


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """The four filters of an orders listing, as ``filters_of`` reads them."""
    group = parser.add_argument_group("filters")
    group.add_argument("--billing-type", help="only orders of this billing cycle, e.g. monthly")
    group.add_argument("--indirect-reseller-id", help="only orders of this indirect reseller")
    group.add_argument("--include-price", action="store_true", help="include pricing")
    group.add_argument(
        "--include-system-purchases", action="store_true", help="include system purchases"
    )


def filters_of(args: argparse.Namespace) -> OrderFilters:
    """The ``OrderFilters`` the flags of ``add_filter_arguments`` ask for."""
    return OrderFilters(
        billing_type=args.billing_type,
        indirect_reseller_id=args.indirect_reseller_id,
        include_price=args.include_price,
        include_system_purchases=args.include_system_purchases,
    )


@dataclass(frozen=True, slots=True)
class Connection:
    """What the client is built from.

    Attributes:
        credential: The credential (a fake's static token for the demos).
        base_url: The API origin, or None for the cloud's.
        requests_per_minute: The rate ceiling.
        kind: ``"demo"``, ``"app+user"`` or ``"app-only"``.
        authority: The sign-in authority host (None for the demos).
    """

    credential: AsyncTokenCredential
    base_url: str | None
    requests_per_minute: float
    kind: str
    authority: str | None


@contextlib.asynccontextmanager
async def connect(args: argparse.Namespace, redact: _logs.Redactor) -> AsyncIterator[Connection]:
    """The connection the flags ask for, its credential (and demo service) open while inside.

    Raises:
        UsageError: Flags that contradict each other, or a refresh-token file that is unusable.
    """
    if args.demo and args.demo_url:
        raise UsageError("--demo starts a fake of its own; --demo-url uses a running one: one only")
    if args.demo or args.demo_url:
        from .testing import FakeConfig, FakePartnerCenter, StaticTokenCredential

        if args.refresh_token_file or args.base_url:
            raise UsageError("--demo and --demo-url take no --base-url or --refresh-token-file")
        if args.demo_url:
            rate = args.requests_per_minute or DEFAULT_REQUESTS_PER_MINUTE
            yield Connection(StaticTokenCredential(), args.demo_url, rate, "demo", None)
            return
        rate = args.requests_per_minute or DEMO_REQUESTS_PER_MINUTE
        config = FakeConfig(customers=max(args.demo_customers - 1, 0), requests_per_minute=rate)
        async with FakePartnerCenter(config) as fake:
            yield Connection(StaticTokenCredential(), fake.base_url, rate, "demo", None)
        return
    authority = authority_for(args)
    credential, kind = credential_from(args, redact, authority)
    rate = args.requests_per_minute or DEFAULT_REQUESTS_PER_MINUTE
    base_url = args.base_url or os.environ.get("PARTNERCENTER_BASE_URL") or None
    async with credential:
        yield Connection(credential, base_url, rate, kind, authority)


def authority_for(args: argparse.Namespace) -> str:
    """The sign-in authority host: ``AZURE_AUTHORITY_HOST``, else the cloud's."""
    return os.environ.get("AZURE_AUTHORITY_HOST") or Cloud[args.cloud.upper()].authority_host


def credential_from(
    args: argparse.Namespace, redact: _logs.Redactor, authority: str
) -> tuple[AsyncTokenCredential, str]:
    """App+User from ``--refresh-token-file``, else app-only from ``DefaultAzureCredential``.

    Returns:
        The credential and its kind, ``"app+user"`` or ``"app-only"``.

    Raises:
        UsageError: ``--refresh-token-file`` without its variables, or unreadable, or empty.
    """
    secret = os.environ.get("AZURE_CLIENT_SECRET") or None
    redact.add(secret)
    redact.add(os.environ.get("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
    path: Path | None = args.refresh_token_file
    if path is None:
        from azure.identity.aio import DefaultAzureCredential

        return DefaultAzureCredential(authority=authority), "app-only"
    tenant_id, client_id = os.environ.get("AZURE_TENANT_ID"), os.environ.get("AZURE_CLIENT_ID")
    if not tenant_id or not client_id:
        raise UsageError(
            "--refresh-token-file needs AZURE_TENANT_ID and AZURE_CLIENT_ID (and, for a web "
            "app, AZURE_CLIENT_SECRET) in the environment"
        )
    try:
        refresh_token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read the refresh token from {path}: {err}") from err
    if not refresh_token:
        raise UsageError(f"{path} holds no refresh token")
    redact.add(refresh_token)

    def store(new_token: str) -> None:
        redact.add(new_token)
        replace_atomically(path, new_token.encode() + b"\n", mode=0o600)
        logger.info("stored the rotated refresh token in %s", path)

    try:
        credential = RefreshTokenCredential(
            tenant_id,
            client_id,
            refresh_token,
            client_secret=secret,
            authority=authority,
            on_refresh_token=store,
        )
    except ValueError as err:
        raise UsageError(str(err)) from err
    return credential, "app+user"


def nothing_configured(args: argparse.Namespace) -> bool:
    """No credential variable, no refresh-token file, no demo: the user has set nothing up."""
    return not (
        args.demo
        or args.demo_url
        or args.refresh_token_file
        or any(os.environ.get(name) for name in CREDENTIAL_VARIABLES)
    )


def explain(err: BaseException, args: argparse.Namespace) -> str:
    """An error as one message a user can act on.

    A credential failure with nothing configured says what to set, and leaves azure-identity's
    chain of attempts to the debug log; other credential failures keep the first lines of what
    the credential said (Entra ID's ``AADSTS`` code and description).
    """
    text = str(err)
    cause = err.__cause__
    if isinstance(err, CredentialError) and cause is not None:
        logger.debug("the credential said: %s", cause)
        if nothing_configured(args):
            return f"no credential is configured: {WHAT_TO_SET}"
        first = str(cause).strip().splitlines()[0][:300] if str(cause).strip() else ""
        if first and text.endswith(first):
            lines = [
                line.strip()
                for line in str(cause).splitlines()[1:]
                if line.strip() and not line.strip().startswith(("Content:", "To mitigate", "http"))
            ]
            text += "".join(f"\n  {line}" for line in lines[:6])
    return text
