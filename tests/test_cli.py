"""The command line: the demo export end to end in every format, stdout, logs, usage errors, and
resume after Ctrl-C, SIGTERM and ``kill -9`` of a real subprocess."""

from __future__ import annotations

import functools
import io
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from partnercenter_async import _cli_progress
from partnercenter_async._cli import main
from partnercenter_async._cli_auth import DEMO_CUSTOMERS
from partnercenter_async.testing import SAMPLE_CUSTOMER_ID, FakeConfig, FakePartnerCenter

from .exports import csv_rows, expected_rows, key, parquet_rows, read_jsonl

FAST = ["--requests-per-minute", "1000000"]


@functools.cache
def demo_records(customers: int = DEMO_CUSTOMERS) -> list[dict[str, Any]]:
    """What a ``--demo`` export must write: every order of the demo's fake, with its customer."""
    fake = FakePartnerCenter(FakeConfig(customers=customers - 1))  # the sample comes on top
    return [{"customerId": c, "order": o} for c in fake.customer_ids for o in fake.orders_of(c)]


def test_demo_export_writes_every_order_as_sent_with_its_customer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "orders.jsonl"
    assert main(["export", "--demo", "--out", str(out), *FAST]) == 0
    records = read_jsonl(out)
    expected = demo_records()
    assert Counter(map(key, records)) == Counter(map(key, expected)), (
        "each line is {customerId, order} with the order exactly as the service sent it"
    )
    extras = [
        r["order"]["partnerCenterExtras"] for r in records if "partnerCenterExtras" in r["order"]
    ]
    assert extras and extras[0] == {"nested": {"flag": True, "tags": ["beta", "ü"]}}, (
        "a nested field the models do not know survives from the service to the file"
    )
    assert sorted(out.parent.iterdir()) == [out], "no checkpoint is left after a complete export"
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{DEMO_CUSTOMERS} customers, {len(expected)} orders written" in summary
    assert "requests" in summary and "retries" in summary


def test_customers_that_do_not_exist_finish_the_export_with_status_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = tmp_path / "customers.txt"
    customers.write_text(f"{SAMPLE_CUSTOMER_ID}\n\n# a comment\nno-such-customer\n")
    out = tmp_path / "orders.jsonl"
    command = ["export", "--demo", "--customers", str(customers), "--out", str(out)]
    assert main(command) == 3
    err = capsys.readouterr().err
    assert "customer no-such-customer failed: " in err and "404" in err
    assert (
        "customer no-such-customer cannot be exported: GET /v1/customers/no-such-customer/" in err
    )
    assert "1 customer cannot be exported" in err.splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.txt", "orders.jsonl"]
    ids = {r["order"]["id"] for r in read_jsonl(out)}
    assert "YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1" in ids

    assert main(command) == 2, "a finished export is not overwritten without --force"
    assert "--force" in capsys.readouterr().err
    assert main([*command, "--resume"]) == 2, "nor resumed: there is nothing to resume"
    assert "nothing to resume" in capsys.readouterr().err
    assert main([*command, "--force"]) == 3
    assert {r["order"]["id"] for r in read_jsonl(out)} == ids, "written anew, once"


def test_csv_and_parquet_hold_the_rows_of_the_json_lines(tmp_path: Path) -> None:
    common = ["export", "--demo", "--include-price", *FAST]
    assert main([*common, "--out", str(tmp_path / "o.jsonl")]) == 0
    assert main([*common, "--format", "csv", "--out", str(tmp_path / "o.csv")]) == 0
    assert main([*common, "--format", "parquet", "--out", str(tmp_path / "o.parquet")]) == 0
    expected = expected_rows(read_jsonl(tmp_path / "o.jsonl"))
    assert csv_rows(tmp_path / "o.csv") == expected
    assert parquet_rows(tmp_path / "o.parquet") == expected
    assert any(row[-1] is not None for row in expected), "prices included"


def test_stdout_gets_json_lines_and_stderr_gets_the_logs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "partnercenter_async", "export", "--demo", "--out", "-", *FAST],
        capture_output=True,
        check=True,
        timeout=60,
    )
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert Counter(map(key, records)) == Counter(map(key, demo_records()))
    assert b"orders written to stdout" in done.stderr


def test_json_logs_are_one_object_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "orders.jsonl"
    assert main(["export", "--demo", "--out", str(out), "--log-format", "json", *FAST]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert entries[-1]["level"] == "INFO" and "orders written" in entries[-1]["message"]
    assert {"time", "level", "logger", "message"} <= set(entries[0])


def test_without_a_terminal_progress_is_logged_periodically(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cli_progress, "PROGRESS_LOG_SECONDS", 0.0)
    out = tmp_path / "orders.jsonl"
    assert main(["export", "--demo", "--out", str(out), "--log-format", "json", *FAST]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    progress = [entry for entry in entries if "progress" in entry]
    last = progress[-1]["progress"]
    assert last["customers"] == last["total"] == DEMO_CUSTOMERS
    assert {
        "orders",
        "failed",
        "failed_for_good",
        "requests_per_second",
        "retries",
        "throttled",
        "held_seconds",
    } <= set(last)
    assert "ETA" in progress[-1]["message"]


def test_on_a_terminal_progress_is_a_live_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["export", "--demo", "--out", str(tmp_path / "orders.jsonl"), *FAST]) == 0
    shown = terminal.getvalue()
    assert f"{DEMO_CUSTOMERS}/{DEMO_CUSTOMERS}" in shown
    for counter in ("orders", "failed", "not found or denied", "req/s", "retries", "throttled"):
        assert counter in shown
    assert "held" in shown and "of the run" in shown
    assert "progress:" not in shown, "no periodic log lines on a terminal"


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["export"])
    assert caught.value.code == 2
    out = tmp_path / "o.jsonl"
    assert main(["export", "--base-url", "http://example.com", "--out", str(out)]) == 2
    assert main(["export", "--demo", "--format", "parquet", "--out", "-"]) == 2
    assert main(["export", "--demo", "--resume", "--out", "-"]) == 2
    (tmp_path / "file").write_text("")
    assert main(["export", "--demo", "--format", "parquet", "--out", str(tmp_path / "file")]) == 2
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    token_file = tmp_path / "refresh-token"
    token_file.write_text("0.Axyz\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "environ", env)
        assert main(["export", "--refresh-token-file", str(token_file), "--out", str(out)]) == 2
    assert "AZURE_TENANT_ID" in capsys.readouterr().err


# -- interrupted for real: a subprocess, killed -------------------------------------------------

KILL_CUSTOMERS = 1000


def start_export(out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "partnercenter_async",
            "export",
            "--demo",
            "--demo-customers",
            str(KILL_CUSTOMERS),
            "--out",
            str(out),
            "--log-level",
            "debug",
            *FAST,
            *extra,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_checkpoints(process: subprocess.Popen[str], count: int) -> None:
    """Read the export's log until it has written ``count`` checkpoints (no sleeping)."""
    assert process.stderr is not None
    seen = 0
    for line in process.stderr:
        seen += "checkpoint:" in line
        if seen >= count:
            return
    pytest.fail(f"the export ended after {seen} checkpoints")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The output of an export of the same demo that nothing interrupts."""
    out = tmp_path_factory.mktemp("uninterrupted") / "orders.jsonl"
    process = start_export(out)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out.read_bytes()


@pytest.mark.parametrize(
    ("how", "status"),
    [(signal.SIGKILL, -9), (signal.SIGINT, 130), (signal.SIGTERM, 143)],
    ids=["kill-9", "ctrl-c", "sigterm"],
)
def test_interrupted_export_resumes_to_exactly_every_order_once(
    tmp_path: Path, how: signal.Signals, status: int, uninterrupted: bytes
) -> None:
    out = tmp_path / "orders.jsonl"
    process = start_export(out)
    wait_for_checkpoints(process, 3)
    process.send_signal(how)
    _, err = process.communicate(timeout=60)
    assert process.returncode == status
    if how != signal.SIGKILL:
        assert "To continue: partnercenter-async export" in err and "--resume" in err
    lines = out.read_bytes().splitlines()
    assert 0 < len(lines) < len(demo_records(KILL_CUSTOMERS)), "stopped midway"

    resumed = start_export(out, "--resume")
    _, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    assert "exported before" in err
    assert sorted(out.read_bytes().splitlines()) == sorted(uninterrupted.splitlines()), (
        "the lines of an uninterrupted run, each exactly once: none missing, no duplicates"
    )
    assert Counter(map(key, read_jsonl(out))) == Counter(map(key, demo_records(KILL_CUSTOMERS)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.jsonl"]
