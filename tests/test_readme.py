"""The README's command-line and export snippets run as written, against the fakes.

Shell lines run in bash with the fake Entra ID's ``AZURE_*`` variables and
``PARTNERCENTER_BASE_URL`` set to the fake Partner Center, each in a fresh directory holding the
``ids.txt`` they name. Left out: the Quickstart's install commands (``.ci/run`` runs the same),
and ``fake-server``, which serves until stopped (``test_cli_commands`` runs the commands it
prints). Python snippets of the export section run with ``PartnerCenterClient(credential`` given
the fake's ``base_url``.
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

README = Path(__file__).parent.parent / "README.md"
BIN = Path(sys.executable).parent
SECTIONS = ("## Bulk export (command line)", "## Authentication")
"""The README's export and command-line part: from the first heading to the second."""


def export_part() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index(SECTIONS[0]) : text.index(SECTIONS[1])]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", export_part(), flags=re.DOTALL)


def shell_lines() -> list[str]:
    lines = [line.strip() for block in blocks("sh") for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def environment(entra: FakeEntraID, fake: FakePartnerCenter) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env.update(
        AZURE_TENANT_ID=entra.tenant_id,
        AZURE_CLIENT_ID=entra.client_id,
        AZURE_CLIENT_SECRET=entra.client_secret,
        AZURE_AUTHORITY_HOST=entra.authority_url,
        SSL_CERT_FILE=str(entra.ca_file),
        PARTNERCENTER_BASE_URL=fake.base_url,
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
    )
    return env


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


@pytest.mark.parametrize("code", blocks("python"))
async def test_python_snippet_runs_with_the_fake(code: str, tmp_path: Path) -> None:
    async with FakeEntraID() as entra, FakePartnerCenter(FakeConfig(customers=5)) as fake:
        source = code.replace(
            "PartnerCenterClient(credential",
            f"PartnerCenterClient(credential, base_url={fake.base_url!r}",
        )
        script = tmp_path / "snippet.py"
        script.write_text(source, encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-W",
            "error::ResourceWarning",
            str(script),
            cwd=tmp_path,
            env=environment(entra, fake),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    assert b"Unclosed" not in err and b"Traceback" not in err, err.decode()
    assert out.strip()
