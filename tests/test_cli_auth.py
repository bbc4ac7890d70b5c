"""The export command authenticating for real: a subprocess with ``AZURE_*`` environment
variables (App-only, through DefaultAzureCredential) or a refresh-token file (App+User), against
the fake Entra ID over TLS and the fake Partner Center."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from pathlib import Path

import pytest

from partnercenter_async._cli import parser
from partnercenter_async._cli_auth import authority_for, credential_from
from partnercenter_async._logs import Redactor
from partnercenter_async.testing import FakeConfig, FakeEntraID, FakePartnerCenter

from .exports import multiset, read_jsonl


def environment(entra: FakeEntraID, **overrides: str) -> dict[str, str]:
    """The caller's environment without its AZURE_* variables, plus the fake's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env.update(
        AZURE_TENANT_ID=entra.tenant_id,
        AZURE_CLIENT_ID=entra.client_id,
        AZURE_CLIENT_SECRET=entra.client_secret,
        AZURE_AUTHORITY_HOST=entra.authority_url,
        SSL_CERT_FILE=str(entra.ca_file),  # trust the throwaway CA (OpenSSL's default paths)
    )
    env.update(overrides)
    return env


async def export(env: dict[str, str], fake: FakePartnerCenter, out: Path, *args: str) -> str:
    """Run ``partnercenter-async export`` against ``fake``; return its stderr, asserting 0."""
    status, err = await run(env, fake, out, *args)
    assert status == 0, err
    return err


async def run(
    env: dict[str, str], fake: FakePartnerCenter, out: Path, *args: str
) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "partnercenter_async",
        "export",
        "--base-url",
        fake.base_url,
        "--out",
        str(out),
        *args,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, err.decode()


def expected(fake: FakePartnerCenter) -> list[dict[str, object]]:
    return [{"customerId": c, "order": o} for c in fake.customer_ids for o in fake.orders_of(c)]


def written(out: Path) -> list[dict[str, object]]:
    return read_jsonl(out)


async def test_app_only_from_the_environment_token_issued_and_used(tmp_path: Path) -> None:
    async with FakeEntraID() as entra:
        config = FakeConfig(customers=5, token=entra.access_token(1))  # only the issued token
        async with FakePartnerCenter(config) as fake:
            await export(environment(entra), fake, tmp_path / "orders.jsonl")
    assert multiset(written(tmp_path / "orders.jsonl")) == multiset(expected(fake))
    assert [(r.grant_type, r.status) for r in entra.requests] == [("client_credentials", 200)]


async def test_app_only_tokens_are_refreshed_as_they_expire(tmp_path: Path) -> None:
    async with FakeEntraID() as entra:
        entra.lifetime = 0  # each token expires at once: every request needs a new one
        async with FakePartnerCenter(FakeConfig(customers=5)) as fake:
            err = await export(
                environment(entra), fake, tmp_path / "orders.jsonl", "--log-level", "debug"
            )
    used = [r.headers["Authorization"] for r in fake.requests]
    assert len(entra.issued) == len(used) == len(set(used)) > 1
    assert set(used) == {f"Bearer {token}" for token in entra.issued}
    assert "eyJ" not in err and entra.client_secret not in err, "tokens and secret redacted"


async def test_a_wrong_secret_fails_clearly_with_status_1(tmp_path: Path) -> None:
    async with FakeEntraID() as entra, FakePartnerCenter(FakeConfig(customers=2)) as fake:
        env = environment(entra, AZURE_CLIENT_SECRET="this-is-the-wrong-secret")
        status, err = await run(env, fake, tmp_path / "orders.jsonl")
    assert status == 1
    assert "AADSTS7000215: Invalid client secret provided" in err
    assert "this-is-the-wrong-secret" not in err
    assert fake.requests == []


async def test_app_and_user_from_a_refresh_token_file_stores_the_rotated_token(
    tmp_path: Path,
) -> None:
    token_file = tmp_path / "refresh-token"
    async with FakeEntraID() as entra:
        first = entra.refresh_token
        token_file.write_text(first + "\n")
        config = FakeConfig(customers=3, token=entra.access_token(1))
        async with FakePartnerCenter(config) as fake:
            out = tmp_path / "orders.jsonl"
            command = ("--refresh-token-file", str(token_file), "--log-level", "debug")
            err = await export(environment(entra), fake, out, *command)
            assert multiset(written(out)) == multiset(expected(fake))
            rotated = token_file.read_text().strip()
            assert rotated == entra.refresh_token != first, "the rotated token is stored"
            assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
            assert first not in err and rotated not in err and "eyJ" not in err

        # The stored token is what the next run redeems (the fake honours only the latest).
        config = FakeConfig(customers=3, token=entra.access_token(2))
        async with FakePartnerCenter(config) as fake:
            out.unlink()
            await export(environment(entra), fake, out, "--refresh-token-file", str(token_file))
    assert [(r.grant_type, r.status) for r in entra.requests] == [("refresh_token", 200)] * 2
    assert entra.requests[0].scope.startswith(
        "https://api.partnercenter.microsoft.com/user_impersonation"
    )


@pytest.mark.parametrize(
    ("cloud", "authority"),
    [
        ("public", "login.microsoftonline.com"),
        ("china", "login.chinacloudapi.cn"),
        ("usgov", "login.microsoftonline.us"),
    ],
)
def test_cloud_picks_the_authority_host(
    cloud: str, authority: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "refresh-token"
    token_file.write_text("0.Atoken")
    monkeypatch.delenv("AZURE_AUTHORITY_HOST", raising=False)
    monkeypatch.setenv("AZURE_TENANT_ID", "tenant")
    monkeypatch.setenv("AZURE_CLIENT_ID", "client")
    args = parser().parse_args(
        ["export", "--out", "-", "--cloud", cloud, "--refresh-token-file", str(token_file)]
    )
    credential, kind = credential_from(args, Redactor(), authority_for(args))
    assert kind == "app+user"
    assert f"https://{authority}/tenant/oauth2/v2.0/token" in repr(credential)
