"""The first hour on the command line: ``fake-server`` and the command it prints, ``doctor``, the
ways to give customer ids, flags validated, clear messages (never a traceback), structured logs.
"""

from __future__ import annotations

import asyncio
import codecs
import errno
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from partnercenter_async._cli import main
from partnercenter_async._files import FileLock
from partnercenter_async.testing import SAMPLE_CUSTOMER_ID, FakeConfig, FakeEntraID

from .exports import read_jsonl
from .test_cli import demo_records

BIN = Path(sys.executable).parent
FAST = ["--requests-per-minute", "1000000"]


def no_azure() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}


def test_fake_server_prints_an_export_command_that_works_as_printed(tmp_path: Path) -> None:
    env = {**no_azure(), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    server = subprocess.Popen(
        [BIN / "partnercenter-async", "fake-server", "--port", "0", "--customers", "20"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        printed = [server.stdout.readline() for _ in range(5)]
        commands = [line.strip() for line in printed if line.startswith("  partnercenter-async")]
        assert len(commands) == 2, printed
        for command in commands:  # run in a shell, as a user pastes them
            done = subprocess.run(
                command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr + done.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
    assert len(read_jsonl(tmp_path / "orders.jsonl")) == len(demo_records(20))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fake-server", "--port", "99999"], "0 to 65535"),
        (["export", "--demo", "--out", "-", "--requests-per-minute", "0"], "above 0"),
        (["export", "--demo", "--out", "-", "--max-concurrency", "0"], "1 to 1024"),
        (["export", "--demo", "--out", "-", "--demo-customers", "-1"], "0 or more"),
    ],
)
def test_numeric_flags_are_validated(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_a_port_in_use_is_a_clear_error() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [BIN / "partnercenter-async", "fake-server", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr


def test_demo_customers_gives_that_many(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for count, word in ((0, "0 customers"), (1, "1 customer,"), (7, "7 customers")):
        out = tmp_path / f"o{count}.jsonl"
        assert main(["export", "--demo", "--demo-customers", str(count), "--out", str(out)]) == 0
        assert word in capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_customer_ids_from_files_in_any_usual_encoding_stdin_and_flags(
    tmp_path: Path, encoding: str
) -> None:
    customers = tmp_path / "ids.txt"
    customers.write_bytes(f"{SAMPLE_CUSTOMER_ID}\r\n".encode(encoding))  # utf-16: with a BOM
    assert customers.read_bytes().startswith(codecs.BOM_UTF16) == (encoding == "utf-16")
    out = tmp_path / "a.jsonl"
    assert main(["export", "--demo", "--customers", str(customers), "--out", str(out)]) == 0
    assert {r["customerId"] for r in read_jsonl(out)} == {SAMPLE_CUSTOMER_ID}
    # stdin, plus one on the command line (the sample's id in upper case: the same customer)
    done = subprocess.run(
        [
            *(BIN / "partnercenter-async", "export", "--demo", "--customers", "-"),
            *("--out", "b.jsonl", "--customer", SAMPLE_CUSTOMER_ID.upper()),
        ],
        input=customers.read_bytes(),
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    written = {r["customerId"] for r in read_jsonl(tmp_path / "b.jsonl")}
    assert written == {SAMPLE_CUSTOMER_ID.upper()}, "one customer, as first written"


def test_an_unreadable_customers_file_is_a_usage_error_in_json_logs_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = tmp_path / "ids.txt"
    customers.write_bytes(b"\xff\xfe\xfe\xff broken \x80")
    customers.write_bytes(b"abc\x80\x81\n")
    argv = ["export", "--demo", "--customers", str(customers), "--out", str(tmp_path / "o.jsonl")]
    assert main([*argv, "--log-format", "json"]) == 2
    [entry] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert "not text in UTF-8 or UTF-16" in entry["message"]


def test_own_messages_are_not_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "o.jsonl")
    assert main(["export", "--demo-url", "http://example.com", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "bearer token" in err and "[redacted]" not in err


def test_an_output_in_use_is_refused_naming_the_other_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "orders.jsonl"
    with FileLock(tmp_path / "orders.jsonl.lock", command="partnercenter-async export --demo"):
        assert main(["export", "--demo", "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"being written by another export (process {os.getpid()} on " in err
    assert "(partnercenter-async export --demo)" in err
    assert not out.exists()


def test_a_full_disk_at_the_start_says_how_to_continue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    command = ["export", "--demo", "--demo-customers", "5", "--out", str(tmp_path / "o.jsonl")]
    with monkeypatch.context() as disk:
        disk.setattr(os, "fsync", full)
        assert main(command) == 1
    err = capsys.readouterr().err
    assert "export stopped:" in err and "No space left on device" in err
    assert "Traceback" not in err
    assert "to continue once that is fixed: partnercenter-async export" in err
    resume = shlex.split(err.strip().splitlines()[-1].split(": ", 1)[1])[1:]
    assert resume[-1] == "--resume"
    assert main(resume) == 0


def test_with_nothing_configured_the_error_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "environ", no_azure())
    assert main(["export", "--base-url", "http://127.0.0.1:9", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "no credential is configured: set AZURE_TENANT_ID, AZURE_CLIENT_ID and " in err
    assert "--refresh-token-file" in err and "--demo" in err
    assert "ManagedIdentityCredential" not in err, "azure-identity's chain only when debugging"


def test_debug_logs_a_line_per_request_and_json_logs_carry_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = tmp_path / "ids.txt"
    customers.write_text(f"{SAMPLE_CUSTOMER_ID}\nno-such-customer\n")
    argv = ["export", "--demo", "--customers", str(customers), "--out", str(tmp_path / "o.jsonl")]
    assert main([*argv, "--log-level", "debug", "--log-format", "json"]) == 3
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    requests = [e for e in entries if "elapsed_ms" in e]
    assert {e["status"] for e in requests} == {200, 404}
    first = requests[0]
    assert first["method"] == "GET" and first["path"].startswith("/v1/customers")
    assert first["attempts"] == 1 and first["elapsed_ms"] >= 0 and first["request_id"]
    assert "Bearer" not in json.dumps(entries) and "fake-token" not in json.dumps(entries)
    [failed] = [e for e in entries if e["message"].startswith("customer no-such-customer failed")]
    assert failed["customer_id"] == "no-such-customer" and failed["status"] == 404
    assert failed["request_id"] and failed["correlation_id"]


# -- doctor ---------------------------------------------------------------------------------------


def test_doctor_with_the_demo_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--demo"]) == 0
    out = capsys.readouterr().out
    assert "ok    token:" in out and "ok    API: GET /v1/customers?size=1" in out
    assert out.strip().endswith("an export would work")


async def run_doctor(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        BIN / "partnercenter-async",
        "doctor",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


def entra_env(entra: FakeEntraID, **overrides: str) -> dict[str, str]:
    return {
        **no_azure(),
        "AZURE_TENANT_ID": entra.tenant_id,
        "AZURE_CLIENT_ID": entra.client_id,
        "AZURE_CLIENT_SECRET": entra.client_secret,
        "AZURE_AUTHORITY_HOST": entra.authority_url,
        "SSL_CERT_FILE": str(entra.ca_file),
        **overrides,
    }


async def test_doctor_explains_the_token_it_gets_and_a_wrong_secret() -> None:
    from partnercenter_async.testing import FakePartnerCenter

    async with FakeEntraID() as entra, FakePartnerCenter(FakeConfig(customers=3)) as fake:
        status, out = await run_doctor(entra_env(entra), "--base-url", fake.base_url)
        assert status == 0, out
        assert f"app-only token for tenant {entra.tenant_id}" in out
        assert "ok    audience: https://api.partnercenter.microsoft.com" in out
        wrong = entra_env(entra, AZURE_CLIENT_SECRET="the-wrong-secret-value")
        status, out = await run_doctor(wrong, "--base-url", fake.base_url)
    assert status == 1
    assert "FAIL  token:" in out and "AADSTS7000215" in out
    assert "fix: the client secret is wrong or expired" in out
    assert "the-wrong-secret-value" not in out and "Traceback" not in out


async def test_doctor_with_nothing_configured_says_what_to_set() -> None:
    status, out = await run_doctor(no_azure(), "--base-url", "http://127.0.0.1:9")
    assert status == 1
    assert "FAIL  token: no credential is configured" in out
    assert "AZURE_TENANT_ID" in out and "--refresh-token-file" in out and "--demo" in out


async def test_doctor_lists_the_usual_causes_of_a_refused_token() -> None:
    from partnercenter_async.testing import FakePartnerCenter

    async with FakePartnerCenter(FakeConfig(customers=3, token="only-this-one")) as fake:
        status, out = await run_doctor(no_azure(), "--demo-url", fake.base_url)
    assert status == 1
    assert "FAIL  API: 401: the token is refused" in out
    assert "graph.windows.net" in out and "another tenant" in out
    assert out.strip().endswith("an export would fail: see above")
