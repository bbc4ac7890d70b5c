"""Benchmarks of ``partnercenter-async sync`` (issue 12): what freshness costs, and loading speed.

Usage::

    .venv/bin/python -m benchmarks.sync            # 20,000 customers: about 5 minutes
    .venv/bin/python -m benchmarks.sync --quick    # 1,000 customers: a smoke run
    (``python -m benchmarks`` runs it too, after the other scenarios)

(a) **Freshness cost.** The fake (seed 1) with 20,000 customers; a full sync into DuckDB; then
two simulated days, each touching about 2% of the customers (new orders, half of them pending;
yesterday's pending orders completed without a log entry; a cancellation; a customer added every
other day; a license change), each followed by an incremental sync. Requests are counted by the
client (and split by path on the fake); minutes are what they take at Partner Center's 500
requests per minute. The second day is reported (it has pending orders to re-read). Run with
``--max-age`` 7 days (the default: a seventh of the customers each day), 30 days, and none (a
10-year max age: the log-driven reads alone), each from a copy of the database after the full
sync and a fake replayed to the same day.

(b) **Load speed, unthrottled.** The same demo data (seed 0) through the command line in a fresh
process each: ``export --demo`` to JSON Lines, ``sync --demo`` into DuckDB and into PostgreSQL
(a throwaway cluster, as the tests start it). Orders per second of wall time, the fetch from the
in-process fake included, so the difference between rows is the sink's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

RESULTS = Path(__file__).resolve().parent / "results"
RATE = 500.0
"""Partner Center's documented requests per minute, for the minutes column."""
TARGET = 20.0
"""Issue 12: an incremental run at least this many times fewer requests than a full sweep."""
MAX_AGES = (("7d (default)", timedelta(days=7)), ("30d", timedelta(days=30)))
NO_SWEEP = ("none (log only)", timedelta(days=3650))

Record = dict[str, Any]


async def _sync_day(db: Path, day: int, customers: int, max_age: timedelta, work: Path) -> Record:
    import dlt

    from partnercenter_async import PartnerCenterClient
    from partnercenter_async.sync import parse_destination, sync
    from partnercenter_async.sync._demo import demo_fake
    from partnercenter_async.testing import StaticTokenCredential

    fake = demo_fake(day, customers=customers, requests_per_minute=None, seed=1)
    pipeline = dlt.pipeline(
        pipeline_name="partner_center",
        destination=parse_destination(f"duckdb:///{db}").destination,
        dataset_name="partner_center",
        pipelines_dir=str(work / uuid.uuid4().hex),
    )
    async with fake:
        client = PartnerCenterClient(
            StaticTokenCredential(), base_url=fake.base_url, requests_per_minute=1e9
        )
        async with client:
            started = time.perf_counter()
            summary = await sync(client, pipeline, max_age=max_age, now=lambda: fake.now)
            seconds = time.perf_counter() - started
    paths = fake.stats.by_path
    listing, log = paths["/v1/customers"], paths["/v1/auditrecords"]
    return {
        "day": day,
        "full": summary.full,
        "requests": summary.requests,
        "listing_requests": listing,
        "log_requests": log,
        "orders_requests": summary.requests - listing - log,
        "minutes_at_500": round(summary.requests / RATE, 2),
        "customers_read": summary.read,
        "reasons": {reason.value: n for reason, n in summary.reasons.most_common()},
        "orders": summary.orders,
        "seconds": round(seconds, 1),
    }


def freshness(customers: int, work: Path) -> Record:
    """Scenario (a): a full sync, then day 2's incremental run per max age."""
    say(f"freshness: full sync of {customers:,} customers")
    full_db = work / "full.duckdb"
    full = asyncio.run(_sync_day(full_db, 0, customers, timedelta(days=7), work))
    runs: list[Record] = []
    for label, max_age in (*MAX_AGES, NO_SWEEP):
        db = work / f"copy-{len(runs)}.duckdb"
        shutil.copyfile(full_db, db)
        for day in (1, 2):
            say(f"freshness: max age {label}, day {day}")
            run = asyncio.run(_sync_day(db, day, customers, max_age, work))
        run |= {"max_age": label, "fewer_than_full": round(full["requests"] / run["requests"], 1)}
        runs.append(run)
    log_only = runs[-1]["fewer_than_full"]
    return {
        "customers": customers,
        "full": full,
        "incremental": runs,
        "target": f">= {TARGET:g}x fewer requests (log-driven run)",
        "met": log_only >= TARGET,
    }


def _cli(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "partnercenter_async", *args, "--log-level", "warning"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def load_speed(customers: int, work: Path) -> Record:
    """Scenario (b): JSON Lines, DuckDB and PostgreSQL from the same demo data."""
    env = os.environ | {"RUNTIME__DLTHUB_TELEMETRY": "false"}
    common = ["--demo", "--demo-customers", str(customers), "--requests-per-minute", "1e9"]
    rows: list[Record] = []
    say(f"load speed: export of {customers:,} customers to JSON Lines")
    out = work / "orders.jsonl"
    seconds = _cli(["export", *common, "--out", str(out)], env)
    orders = sum(1 for _ in out.open(encoding="utf-8"))
    rows.append({"sink": "JSON Lines (export)", "seconds": seconds})
    say("load speed: sync into DuckDB")
    db = work / "load.duckdb"
    seconds = _cli(["sync", *common, "--destination", f"duckdb:///{db}"], env)
    rows.append({"sink": "DuckDB (sync)", "seconds": seconds})
    try:
        from tests.pg import PG_BIN, running_cluster
    except ImportError:
        PG_BIN = None  # pytest absent: the cluster helper cannot load
    if PG_BIN is not None and (PG_BIN / "initdb").exists():
        say("load speed: sync into PostgreSQL")
        with running_cluster() as cluster:
            url = cluster.url()
            seconds = _cli(["sync", *common, "--destination", url], env)
        rows.append({"sink": "PostgreSQL (sync)", "seconds": seconds})
    base = rows[0]["seconds"]
    for row in rows:
        row |= {
            "orders_per_second": round(orders / row["seconds"]),
            "vs_jsonl": round(row["seconds"] / base, 2),
            "seconds": round(row["seconds"], 1),
        }
    return {"customers": customers, "orders": orders, "rows": rows}


def render(results: Record) -> str:
    """The results as markdown."""
    fresh, load = results["freshness"], results["load"]
    full = fresh["full"]
    lines = [
        "# Sync benchmarks",
        "",
        f"Run {results['started']} ({results['mode']}), commit {results['commit']}; "
        f"{results['seconds']:.0f} s. Method: `benchmarks/sync.py`.",
        "",
        f"## (a) Freshness cost: {fresh['customers']:,} customers, ~2% touched a day",
        "",
        "| run | max age | requests | listing / log / orders | minutes at 500/min "
        "| customers read (why) | fewer than full |",
        "|---|---|---|---|---|---|---|",
        f"| full sweep | - | {full['requests']:,} | {full['listing_requests']} / "
        f"{full['log_requests']} / {full['orders_requests']:,} | {full['minutes_at_500']:.1f} "
        f"| {full['customers_read']:,} | 1x |",
    ]
    for run in fresh["incremental"]:
        why = ", ".join(f"{n} {reason}" for reason, n in run["reasons"].items())
        lines.append(
            f"| incremental, day 2 | {run['max_age']} | {run['requests']:,} | "
            f"{run['listing_requests']} / {run['log_requests']} / {run['orders_requests']:,} | "
            f"{run['minutes_at_500']:.1f} | {run['customers_read']:,} ({why}) | "
            f"**{run['fewer_than_full']:g}x** |"
        )
    lines += [
        "",
        f"Target {fresh['target']}: **{'met' if fresh['met'] else 'NOT met'}**. The age sweep "
        "is the price of `--max-age`: with daily runs each reads customers/max-age more.",
        "",
        f"## (b) Load speed, unthrottled: {load['customers']:,} customers, "
        f"{load['orders']:,} orders",
        "",
        "| sink | seconds | orders/s | time vs JSON Lines |",
        "|---|---|---|---|",
    ]
    for row in load["rows"]:
        lines.append(
            f"| {row['sink']} | {row['seconds']:.1f} | {row['orders_per_second']:,} | "
            f"{row['vs_jsonl']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def say(message: str) -> None:
    print(f"[sync bench] {message}", file=sys.stderr, flush=True)


def run(*, quick: bool, out: Path) -> Record:
    """Run both scenarios; write ``sync.json`` and ``sync.md`` into ``out``."""
    import datetime

    started = time.perf_counter()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    results: Record = {
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "commit": commit or "unknown",
    }
    with tempfile.TemporaryDirectory(prefix="pc-sync-bench-") as work:
        results["freshness"] = freshness(1_000 if quick else 20_000, Path(work))
        results["load"] = load_speed(300 if quick else 20_000, Path(work))
    results["seconds"] = round(time.perf_counter() - started, 1)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sync.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (out / "sync.md").write_text(render(results), encoding="utf-8")
    say(f"done in {results['seconds']:.0f} s: {out / 'sync.md'}")
    return results


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.sync [--quick] [--out DIR]``; exits 0 whatever the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sync")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the results")
    args = parser.parse_args(argv)
    run(quick=args.quick, out=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
