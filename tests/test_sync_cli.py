"""``partnercenter-async sync``: the demo's incremental second run, summaries, usage, secrets."""

from __future__ import annotations

import os

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from pathlib import Path

import duckdb
import pytest

from partnercenter_async._cli import main
from tests.pg import PASSWORD, pg_url, postgres  # noqa: F401

FAST = ["--requests-per-minute", "1000000", "--demo-customers", "40"]


def test_demo_twice_full_then_incremental(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "orders.duckdb"
    args = ["sync", "--demo", *FAST, "--destination", f"duckdb:///{db}"]
    assert main(args) == 0
    first = capsys.readouterr().err
    assert "demo: simulated day 0" in first and "full sync: 40 customers listed, 40 read" in first
    assert main(args) == 0
    second = capsys.readouterr().err
    assert "demo: simulated day 1" in second and "incremental sync:" in second
    assert "activity log since 2026-11-02 08:40" in second
    with duckdb.connect(str(db)) as connection:
        statuses = dict(
            connection.execute(
                "SELECT status, count(*) FROM partner_center.orders GROUP BY 1"
            ).fetchall()
        )
        runs = connection.execute(
            "SELECT full_sweep, customers_read FROM partner_center.sync_runs ORDER BY started_at"
        ).fetchall()
        items = connection.execute("SELECT count(*) FROM partner_center.orders__line_items")
        assert items.fetchone()[0] > sum(statuses.values())  # type: ignore[index]
    assert {s.lower() for s in statuses} <= {"completed", "pending", "cancelled"}
    assert runs[0] == (True, 40) and runs[1][0] is False and runs[1][1] < 40
    assert main([*args, "--full"]) == 0
    assert "full sync: 4" in capsys.readouterr().err


def test_the_default_destination_is_a_duckdb_file_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["sync", "--demo", *FAST, "--log-format", "json"]) == 0
    assert (tmp_path / "partner_center_orders.duckdb").exists()
    assert '"summary":{"full":true' in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["--max-age", "7 weeks"],
        ["--destination", "duckdb:///partner_center.duckdb"],
        ["--destination", "mysql://u:p@h/db"],
    ],
)
def test_usage_errors_exit_2(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        status = main(["sync", "--demo", *FAST, *args])
    except SystemExit as exit:  # argparse's own refusal
        status = int(exit.code or 0)
    assert status == 2
    assert not list(tmp_path.glob("*.duckdb"))


def test_postgres_password_never_logged(
    pg_url: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["sync", "--demo", *FAST, "--destination", pg_url, "--log-level", "debug"]
    assert main(args) == 0
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "incremental sync:" in err
    assert PASSWORD not in err and PASSWORD.replace("/", "%2F") not in err
    assert "postgresql://postgres:***@127.0.0.1" in err


def test_an_unreachable_destination_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://postgres:pw-never-shown@127.0.0.1:9/none"
    assert main(["sync", "--demo", *FAST, "--destination", url]) == 1
    err = capsys.readouterr().err
    assert "cannot read the destination's state" in err and "pw-never-shown" not in err
