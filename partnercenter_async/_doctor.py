"""``partnercenter-async doctor``: before a long export, check the credential and the API and say,
one line each, what is wrong and how to fix it.

The token's claims are read without verifying its signature (the service verifies it; here they
only explain): ``aud`` (audience), ``tid`` (tenant), ``exp`` (expiry), ``idtyp``/``scp``/``roles``
(app-only or App+User) and ``amr``/``acrs`` (MFA).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import logging
import time
from typing import Any

import msgspec

from . import _logs
from ._cli_auth import (
    WHAT_TO_SET,
    Connection,
    UsageError,
    add_connection_arguments,
    connect,
    nothing_configured,
)
from ._client import PartnerCenterClient
from ._config import SCOPE
from ._errors import (
    APIStatusError,
    AuthenticationError,
    CredentialError,
    PartnerCenterError,
    PermissionDeniedError,
    UnauthorizedError,
)

logger = logging.getLogger("partnercenter_async.doctor")

AUDIENCES = ("https://api.partnercenter.microsoft.com", "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd")
"""Partner Center's audience: its URI or its application id."""

_AADSTS_FIXES = {
    "AADSTS7000215": "the client secret is wrong or expired: create a new one in the app "
    "registration and set AZURE_CLIENT_SECRET",
    "AADSTS7000222": "the client secret has expired: create a new one and set AZURE_CLIENT_SECRET",
    "AADSTS700016": "no such app in this tenant: check AZURE_CLIENT_ID and AZURE_TENANT_ID",
    "AADSTS90002": "no such tenant: check AZURE_TENANT_ID",
    "AADSTS70008": "the refresh token has expired (90 days unused): consent again and store the "
    "new refresh token",
    "AADSTS700082": "the refresh token has expired: consent again and store the new one",
    "AADSTS50076": "the refresh token needs MFA: sign in again with MFA and store the new token",
    "AADSTS50078": "the refresh token needs MFA: sign in again with MFA and store the new token",
    "AADSTS65001": "the app is not consented in this tenant: an admin consents once",
}
_UNAUTHORIZED_CAUSES = (
    "a token for another audience (old graph.windows.net tokens are refused since August 2025: "
    f"ask for {SCOPE})",
    "a token for another tenant than the partner's",
    "an app not registered for Partner Center (Account settings > App management)",
)
_FORBIDDEN_CAUSES = (
    "App+User: the user lacks the Admin agent or Sales agent role in Partner Center",
    "an endpoint that needs App+User: app-only tokens cannot call it",
    "an indirect reseller's token: indirect resellers' API access is limited",
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``doctor``."""
    doctor = commands.add_parser(
        "doctor",
        help="check the credential and the API before a long export",
        description="Check, one line each with its fix: the configuration (cloud, authority, "
        "API), that the credential yields a token and what it holds (app-only or App+User, "
        "audience, tenant, expiry, MFA), and that the API answers GET /v1/customers?size=1. "
        "Exit status 0 only when an export would work.",
    )
    add_connection_arguments(doctor)
    _logs.add_arguments(doctor)
    doctor.set_defaults(run=run)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    """Run ``doctor``; return 0 when an export would work, 1 when not, 2 for bad usage."""
    redact = _logs.Redactor()
    with _logs.configured(args.log_level, args.log_format, redact):
        try:
            return asyncio.run(_check(args, redact))
        except UsageError as err:
            logger.error("%s", err)
            return 2
        except KeyboardInterrupt:
            return 130


class _Report:
    def __init__(self) -> None:
        self.failed = False

    def line(self, verdict: str, what: str, text: str, fix: str = "") -> None:
        self.failed |= verdict == "FAIL"
        print(f"{verdict:<5} {what}: {text}", flush=True)
        if fix:
            self.note("fix", fix)

    def note(self, label: str, text: str) -> None:
        print(f"      {label}: {text}", flush=True)


async def _check(args: argparse.Namespace, redact: _logs.Redactor) -> int:
    report = _Report()
    async with connect(args, redact) as connection:
        client = PartnerCenterClient(
            connection.credential,
            base_url=connection.base_url,
            cloud=args.cloud,
            requests_per_minute=connection.requests_per_minute,
        )
        authority = connection.authority or "none (a fake's token)"
        report.line(
            "ok",
            "configuration",
            f"{connection.kind} against {client.base_url} ({args.cloud} cloud), "
            f"sign-in authority {authority}",
        )
        if await _token(report, connection, args):
            async with client:
                await _api(report, client)
    print("an export would work" if not report.failed else "an export would fail: see above")
    return 1 if report.failed else 0


async def _token(report: _Report, connection: Connection, args: argparse.Namespace) -> bool:
    started = time.monotonic()
    try:
        token = await connection.credential.get_token(SCOPE)
    except Exception as err:  # azure-core's ClientAuthenticationError, or any credential's own
        logger.debug("the credential said: %s", err)
        if nothing_configured(args):
            report.line("FAIL", "token", "no credential is configured", WHAT_TO_SET)
        else:
            lines = [line.strip() for line in str(err).splitlines() if line.strip()]
            said = next((line for line in lines if "AADSTS" in line), None)
            said = said or (lines[0] if lines else type(err).__name__)
            code = next((c for c in _AADSTS_FIXES if c in str(err)), None)
            fix = _AADSTS_FIXES[code] if code else "see --log-level debug for the details"
            report.line("FAIL", "token", said[:300], fix)
        return False
    seconds = token.expires_on - time.time()
    report.line(
        "ok",
        "token",
        f"issued in {1000 * (time.monotonic() - started):.0f} ms, valid for {seconds / 60:.0f} min",
    )
    claims = jwt_claims(token.token)
    if claims is None:
        report.line("ok", "claims", "not a JWT (a fake's token): nothing to check")
        return True
    _claims(report, claims, connection.kind)
    return True


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, decoded without verifying its signature; None if not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = msgspec.json.decode(payload)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _claims(report: _Report, claims: dict[str, Any], kind: str) -> None:
    audience = str(claims.get("aud", ""))
    if audience.rstrip("/") in AUDIENCES:
        report.line("ok", "audience", audience)
    else:
        report.line(
            "FAIL",
            "audience",
            f"{audience or 'none'}, not Partner Center's",
            f"request the scope {SCOPE}"
            + (" (graph.windows.net tokens are refused)" if "graph.windows" in audience else ""),
        )
    app_only = claims.get("idtyp") == "app" or "scp" not in claims  # delegated tokens have scp
    shape = "app-only" if app_only else "App+User"
    detail = f"roles {claims.get('roles', [])}" if app_only else f"scopes {claims.get('scp', '')}"
    report.line("ok", "identity", f"{shape} token for tenant {claims.get('tid', '?')}, {detail}")
    expires = claims.get("exp")
    if isinstance(expires, int | float) and expires < time.time():
        report.line("FAIL", "expiry", "the token has expired", "check the machine's clock")
    if not app_only:
        amr = claims.get("amr") or []
        mfa = "mfa" in amr or bool(claims.get("acrs"))
        if mfa:
            report.line("ok", "MFA", "the sign-in used MFA")
        else:
            report.line(
                "warn",
                "MFA",
                "no MFA in this token (amr: " + ", ".join(map(str, amr)) + ")",
                "App+User calls need MFA from April 2026: sign in again with MFA and store "
                "the new refresh token",
            )


async def _api(report: _Report, client: PartnerCenterClient) -> None:
    started = time.monotonic()
    try:
        first = await _first_customer(client)
    except PartnerCenterError as err:
        _api_failure(report, err)
        return
    took = 1000 * (time.monotonic() - started)
    what = f"first customer {first}" if first else "no customers yet"
    report.line("ok", "API", f"GET /v1/customers?size=1 answered in {took:.0f} ms: {what}")


async def _first_customer(client: PartnerCenterClient) -> str | None:
    """``GET /v1/customers?size=1``: the first customer's id and name, or None."""
    async for customer in client.list_customers(size=1):
        name = customer.company_profile.company_name if customer.company_profile else None
        return f"{customer.id} ({name})" if name else customer.id
    return None


def _api_failure(report: _Report, err: PartnerCenterError) -> None:
    if isinstance(err, UnauthorizedError):
        report.line("FAIL", "API", f"401: the token is refused ({err})")
        for cause in _UNAUTHORIZED_CAUSES:
            report.note("cause", cause)
    elif isinstance(err, PermissionDeniedError):
        report.line("FAIL", "API", f"403: the token may not list customers ({err})")
        for cause in _FORBIDDEN_CAUSES:
            report.note("cause", cause)
    elif isinstance(err, CredentialError | AuthenticationError):
        report.line("FAIL", "API", str(err), "see the token line above")
    elif isinstance(err, APIStatusError):
        report.line("FAIL", "API", str(err), "retry later; quote the MS-RequestId to support")
    else:
        report.line("FAIL", "API", str(err), "check the network and --base-url")
