"""The README's command-line and export snippets run as written, against the fakes.

Shell lines run in bash with the fake Entra ID's ``AZURE_*`` variables and
``PARTNERCENTER_BASE_URL`` set to the fake Partner Center, each in a fresh directory holding the
``ids.txt`` they name. Left out: the Quickstart's install commands (``.ci/run`` runs the same),
and ``fake-server``, which serves until stopped (``test_cli_commands`` runs the commands it
prints). Python snippets run with ``PartnerCenterClient(credential`` given the fake's
``base_url``; those of the library part are fragments, so they run with top-level ``await`` after a
prelude that gives the names they leave to the reader (``tenant_id``, ``customer_id``, ``save``,
an open ``client``...), against the fake Entra ID (``AZURE_AUTHORITY_HOST``) and Partner Center.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from partnercenter_async.testing import (
    SAMPLE_CUSTOMER_ID,
    FakeConfig,
    FakeEntraID,
    FakePartnerCenter,
)

from .test_cli_auth import environment as entra_environment

README = Path(__file__).parent.parent / "README.md"
BIN = Path(sys.executable).parent
SECTIONS = ("## Bulk export (command line)", "## Authentication")
"""The README's export and command-line part: from the first heading to the second."""


def export_part() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index(SECTIONS[0]) : text.index(SECTIONS[1])]


def blocks(language: str, text: str | None = None) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text or export_part(), flags=re.DOTALL)


def library_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return blocks("python", text.replace(export_part(), ""))


HARNESS = """
import ast, asyncio, inspect, logging
from azure.identity.aio import ClientSecretCredential
from partnercenter_async import *

tenant_id, client_id = {tenant_id!r}, {client_id!r}
client_secret = secret = {secret!r}
stored_refresh_token = {refresh_token!r}
customer_id, order_id = {customer_id!r}, {order_id!r}
log = logging.getLogger("snippet")

def save(*args):
    print("saved", len(args))

def save_to_key_vault(token):
    print("stored a refresh token")

async def main():
    async with ClientSecretCredential(tenant_id, client_id, secret) as credential:
        async with PartnerCenterClient(credential, base_url={base_url!r}) as client:
            names = dict(globals(), credential=credential, client=client)
            names["customer_ids"] = [customer_id]
            code = compile(SNIPPET, "snippet", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            done = eval(code, names)
            if inspect.iscoroutine(done):
                await done
    print("snippet done")

SNIPPET = {snippet!r}
asyncio.run(main())
"""


def shell_lines() -> list[str]:
    lines = [line.strip() for block in blocks("sh") for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def environment(entra: FakeEntraID, fake: FakePartnerCenter) -> dict[str, str]:
    return entra_environment(
        entra,
        PARTNERCENTER_BASE_URL=fake.base_url,
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
    )


def test_the_export_part_has_snippets() -> None:
    assert len(shell_lines()) >= 8 and len(blocks("python")) >= 1


@pytest.mark.parametrize("line", shell_lines())
async def test_shell_snippet_runs_as_written(line: str, tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text(f"{SAMPLE_CUSTOMER_ID}\n")
    async with FakeEntraID() as entra, FakePartnerCenter(FakeConfig(customers=5)) as fake:
        process = await asyncio.create_subprocess_shell(
            line,
            cwd=tmp_path,
            env=environment(entra, fake),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            executable="/bin/bash",
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, f"{line}\n{err.decode()}{out.decode()}"
    assert b"Traceback" not in err


def on_fake(code: str, fake: FakePartnerCenter) -> str:
    """``code`` with its ``PartnerCenterClient(credential`` pointed at the fake Partner Center."""
    return code.replace(
        "PartnerCenterClient(credential",
        f"PartnerCenterClient(credential, base_url={fake.base_url!r}",
    )


async def run_python(script: Path, env: dict[str, str]) -> tuple[int | None, bytes, bytes]:
    """Run ``script`` in its folder, a ResourceWarning an error; its exit status, out and err."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "error::ResourceWarning",
        str(script),
        cwd=script.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out, err


@pytest.mark.parametrize("code", blocks("python"))
async def test_python_snippet_runs_with_the_fake(code: str, tmp_path: Path) -> None:
    async with FakeEntraID() as entra, FakePartnerCenter(FakeConfig(customers=5)) as fake:
        script = tmp_path / "snippet.py"
        script.write_text(on_fake(code, fake), encoding="utf-8")
        returncode, out, err = await run_python(script, environment(entra, fake))
    assert returncode == 0, err.decode()
    assert b"Unclosed" not in err and b"Traceback" not in err, err.decode()
    assert out.strip()


@pytest.mark.parametrize("code", library_blocks())
async def test_library_snippet_runs_with_the_fake(code: str, tmp_path: Path) -> None:
    async with FakeEntraID() as entra, FakePartnerCenter(FakeConfig(customers=5)) as fake:
        script = tmp_path / "snippet.py"
        order_id = fake.orders_of(SAMPLE_CUSTOMER_ID)[0]["id"]
        script.write_text(
            HARNESS.format(
                tenant_id=entra.tenant_id,
                client_id=entra.client_id,
                secret=entra.client_secret,
                refresh_token=entra.refresh_token,
                customer_id=SAMPLE_CUSTOMER_ID,
                order_id=order_id,
                base_url=fake.base_url,
                snippet=on_fake(code, fake),
            ),
            encoding="utf-8",
        )
        returncode, out, err = await run_python(script, environment(entra, fake))
    assert returncode == 0, code + err.decode()
    assert b"Unclosed" not in err and b"Traceback" not in err, err.decode()
    assert out.strip().endswith(b"snippet done")
