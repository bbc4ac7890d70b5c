"""The benchmark runner: every scenario, every contender, alternating; JSON and markdown results.

Usage::

    .venv/bin/python -m benchmarks            # the full run, about 13 minutes on 2 cores
    .venv/bin/python -m benchmarks --quick    # a smoke run, under a minute
    .venv/bin/python -m benchmarks --only throughput decode --out /tmp/bench

The fake service runs in a process of its own (``benchmarks._server``); each measurement runs in
a fresh process (``benchmarks._worker``), so CPU time and peak RSS are the contender's alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from partnercenter_async.testing import FakeConfig, FakePartnerCenter

from . import _report
from .contenders import CONTENDERS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
UNLIMITED = 1e9
"""This client's ``requests_per_minute`` when the scenario is not about the rate limit."""
FIXED_MALLOC = "glibc.malloc.mmap_threshold=1048576:glibc.malloc.trim_threshold=67108864"
"""``GLIBC_TUNABLES`` of ``--fixed-malloc``: asyncio's 256 KiB read buffers always from the heap."""
SCENARIOS = ("throughput", "rate", "decode", "memory", "export", "sync")
EXPORT_FORMATS = ("stream", "jsonl", "csv", "parquet")
"""The export scenario: ``stream_orders`` alone, then ``export_orders`` into each format."""
DESCRIPTION = "Benchmark partnercenter_async against the floor and the code users write today."
LIBRARIES = (
    "partnercenter-async",
    "aiohttp",
    "msgspec",
    "aiolimiter",
    "yarl",
    "httpx",
    "pydantic",
    "pydantic-core",
    "requests",
)

Record = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Case:
    """One case of the throughput scenario.

    Attributes:
        latency: The service's latency, in seconds.
        customers: Customers every contender fetches.
        rounds: Each round runs every contender once, the order rotated by one per round.
        contenders: Who runs.
        floor_rounds: Further rounds of only the client and the floor, for their paired ratios
            (the slow contenders need no more: their ratios are far from their targets).
        beyond_issue: A case of our own, not one the issue sets targets for; its target rows
            say so.
    """

    latency: float
    customers: int
    rounds: int
    contenders: tuple[str, ...] = CONTENDERS
    floor_rounds: int = 0
    beyond_issue: bool = False


CLIENT_AND_FLOOR = ("client-gather", "client-stream", "floor-gather", "floor-stream")
PAIRS = (("client-gather", "floor-gather"), ("client-stream", "floor-stream"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Sizes and durations of a run.

    Attributes:
        throughput: The cases of the throughput scenario. The issue's is 2,000 customers; a
            sustained case of 20,000 keeps the client busy long enough for its CPU cost to show.
        time_limit: Seconds after which a throughput contender starts no new customer (only the
            sequential loop at 50 ms reaches it); its rates count what it finished.
        concurrency: Requests in flight, for every concurrent contender.
        rate_rpm: N, this client's ``requests_per_minute`` in the rate-limit scenario.
        rate_minutes: Minutes of each rate-limit run.
        rate_latency: Service latency of the rate-limit scenario, in seconds.
        rate_window: The service's sliding window, in seconds (60, as Partner Center's).
        settle: Seconds at the start of a rate-limit run left out of the steady-state figures.
        fixed_malloc: Run every measurement with glibc's mmap and trim thresholds pinned
            (``FIXED_MALLOC``), so that each process is in the same allocator mode and the 0 ms
            ratios measure CPU alone (``README.md``, findings 19 and 21).
        memory_sizes: Customers of each memory run.
        export_customers: Customers of the export scenario.
        export_rounds: Rounds of the export scenario (each runs every format once).
        decode_budget: Seconds spent timing each decoder.
        seed: Seed of the fake's data.
    """

    throughput: tuple[Case, ...] = (
        Case(0.0, 2_000, 5, floor_rounds=10),
        Case(0.0, 20_000, 5, CLIENT_AND_FLOOR, beyond_issue=True),
        Case(0.05, 2_000, 3),
    )
    time_limit: float = 15.0
    concurrency: int = 64
    rate_rpm: float = 3_000.0
    rate_minutes: float = 3.0
    rate_latency: float = 0.05
    rate_window: float = 60.0
    settle: float = 60.0
    memory_sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    export_customers: int = 2_000
    export_rounds: int = 5
    decode_budget: float = 1.0
    seed: int = 1
    fixed_malloc: bool = False


QUICK = Settings(
    throughput=(Case(0.0, 100, 1), Case(0.05, 100, 1)),
    time_limit=2.0,
    rate_rpm=1_200.0,
    rate_minutes=0.05,
    rate_window=1.0,
    settle=1.0,
    memory_sizes=(100, 400),
    export_customers=100,
    export_rounds=1,
    decode_budget=0.05,
)


class Server:
    """The fake service in a subprocess, as a context manager; ``url`` once entered.

    Args:
        config: ``FakeConfig`` keyword arguments.
        prewarm: Encode every orders page before serving (see ``benchmarks._server``).
        cpu: CPU to pin the process to, or None.
    """

    def __init__(self, config: Record, *, prewarm: bool = False, cpu: int | None = None) -> None:
        self._args = [sys.executable, "-m", "benchmarks._server", json.dumps(config)]
        self._args += ["--prewarm"] if prewarm else []
        self._args += [] if cpu is None else ["--cpu", str(cpu)]
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            self._args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.url = self._pipes()[1].readline().strip()
        if not self.url.startswith("http"):
            self.__exit__(None, None, None)
            raise RuntimeError("the fake service did not start")
        return self

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self._process and self._process.stdin and self._process.stdout
        return self._process.stdin, self._process.stdout

    def stats(self) -> Record:
        """The fake's counters (``requests``, ``throttled``) and its process's CPU seconds."""
        stdin, stdout = self._pipes()
        stdin.write("stats\n")
        stdin.flush()
        stats: Record = json.loads(stdout.readline())
        return stats

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is None:
            return
        self._pipes()[0].close()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class Runner:
    """Runs the scenarios of one benchmark run.

    Args:
        settings: Sizes and durations.
        workdir: Directory for the customer-id files.
        log: Where progress goes.
    """

    def __init__(self, settings: Settings, workdir: Path, log: IO[str]) -> None:
        self.settings = settings
        self.workdir = workdir
        self.log = log
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        # With two CPUs or more, the service gets one and the contender another.
        self.server_cpu: int | None = cpus[0] if len(cpus) >= 2 else None
        self.client_cpu: int | None = cpus[1] if len(cpus) >= 2 else None

    def say(self, message: str) -> None:
        """Log one line of progress."""
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=self.log, flush=True)

    def ids_file(self, customers: int) -> tuple[Record, str]:
        """The fake's settings for ``customers`` customers and a file of their ids."""
        config: Record = {"seed": self.settings.seed, "customers": max(0, customers - 1)}
        path = self.workdir / f"ids-{customers}.txt"
        if not path.exists():
            ids = FakePartnerCenter(FakeConfig(**config)).customer_ids  # the sample comes first
            path.write_text("\n".join(ids) + "\n", encoding="utf-8")
        return config, str(path)

    def measure(self, spec: Record) -> Record:
        """Run one ``benchmarks._worker`` spec in a fresh process; its result."""
        command = [sys.executable, "-m", "benchmarks._worker", json.dumps(spec)]
        env = os.environ | {"GLIBC_TUNABLES": FIXED_MALLOC} if self.settings.fixed_malloc else None
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{spec['kind']} measurement failed:\n{done.stderr}")
        result: Record = json.loads(done.stdout)
        return result

    def throughput(self, case: Case) -> Record:
        """Every contender of ``case`` over the same customers, the order rotated per round."""
        s = self.settings
        config, ids = self.ids_file(case.customers)
        config |= {"latency": case.latency, "cache_entries": 4 * case.customers + 1024}
        runs: list[Record] = []
        rounds = case.rounds + case.floor_rounds
        with Server(config, prewarm=True, cpu=self.server_cpu) as server:
            for round_ in range(rounds):
                names = case.contenders if round_ < case.rounds else CLIENT_AND_FLOOR
                shift = round_ % len(names)
                for name in names[shift:] + names[:shift]:
                    before = server.stats()
                    result = self.measure(
                        {
                            "kind": "throughput",
                            "contender": name,
                            "base_url": server.url,
                            "ids_file": ids,
                            "concurrency": s.concurrency,
                            "requests_per_minute": UNLIMITED,
                            "time_limit": s.time_limit,
                            "cpu": self.client_cpu,
                        }
                    )
                    after = server.stats()
                    result |= {"contender": name, "round": round_}
                    result["server_cpu"] = after["cpu"] - before["cpu"]
                    # CPU the rest of the machine used meanwhile (other people's work)
                    result["others_cpu"] = max(
                        0.0, result["machine_busy"] - result["cpu"] - result["server_cpu"]
                    )
                    result["server_requests"] = after["requests"] - before["requests"]
                    runs.append(result)
                    tally = result["tally"]
                    self.say(
                        f"throughput {case.latency * 1000:g} ms, {case.customers:,} customers, "
                        f"round {round_ + 1}/{rounds}, "
                        f"{name}: {tally['pages'] / result['wall']:.0f} pages/s"
                    )
        return dataclasses.asdict(case) | {"runs": runs, "summary": summarize_throughput(runs)}

    def rate(self) -> Record:
        """This client at N requests per minute against a service limit of N, then of N / 2."""
        s = self.settings
        duration = s.rate_minutes * 60
        config, ids = self.ids_file(int(s.rate_rpm / 60 * duration * 1.25) + 100)
        out: Record = {}
        for name, service_rpm in (("at_limit", s.rate_rpm), ("half_limit", s.rate_rpm / 2)):
            service = config | {
                "latency": s.rate_latency,
                "requests_per_minute": service_rpm,
                "rate_window": s.rate_window,
            }
            with Server(service, cpu=self.server_cpu) as server:
                result = self.measure(
                    {
                        "kind": "rate",
                        "base_url": server.url,
                        "ids_file": ids,
                        "concurrency": s.concurrency,
                        "requests_per_minute": s.rate_rpm,
                        "duration": duration,
                        "cpu": self.client_cpu,
                    }
                )
                result["server"] = server.stats()
            result |= {"service_rpm": service_rpm, "client_rpm": s.rate_rpm}
            result["summary"] = summarize_rate(result, settle=s.settle)
            out[name] = result
            summary = result["summary"]
            self.say(
                f"rate {name}: {summary['steady_rpm']:.0f}/min after {s.settle:g} s "
                f"({summary['steady_fraction']:.1%} of {service_rpm:g}), "
                f"{summary['throttled']} 429s"
            )
        return out

    def decode(self) -> Record:
        """Decoding one full orders page, every way."""
        config, ids = self.ids_file(200)
        with Server(config, cpu=self.server_cpu) as server:
            spec = {"kind": "decode", "base_url": server.url, "ids_file": ids}
            result = self.measure(spec | {"budget": self.settings.decode_budget})
        self.say(f"decode: {len(result['decoders'])} decoders")
        return result

    def memory(self) -> Record:
        """Peak RSS of ``stream_orders`` over each size, ids read lazily from a file."""
        runs = []
        for customers in self.settings.memory_sizes:
            config, ids = self.ids_file(customers)
            with Server(config, cpu=self.server_cpu) as server:
                result = self.measure(
                    {
                        "kind": "memory",
                        "base_url": server.url,
                        "ids_file": ids,
                        "concurrency": self.settings.concurrency,
                        "requests_per_minute": UNLIMITED,
                        "cpu": self.client_cpu,
                    }
                )
            runs.append(result | {"customers": customers})
            self.say(f"memory {customers} customers: peak RSS {result['peak_rss_mb']:.1f} MB")
        return {"runs": runs}


def export(runner: Runner) -> Record:
    """Orders per second of ``stream_orders`` and of ``export_orders`` into each format, on
    the same data in the same run (the order rotated per round); the median of each, and its
    share of ``stream_orders``' rate."""
    s = runner.settings
    config, ids = runner.ids_file(s.export_customers)
    config |= {"cache_entries": 4 * s.export_customers + 1024}
    runs: list[Record] = []
    with Server(config, prewarm=True, cpu=runner.server_cpu) as server:
        for round_ in range(s.export_rounds):
            shift = round_ % len(EXPORT_FORMATS)
            for fmt in EXPORT_FORMATS[shift:] + EXPORT_FORMATS[:shift]:
                spec = {
                    "kind": "export",
                    "format": fmt,
                    "base_url": server.url,
                    "ids_file": ids,
                    "concurrency": s.concurrency,
                    "requests_per_minute": UNLIMITED,
                    "cpu": runner.client_cpu,
                }
                result = runner.measure(spec) | {"format": fmt, "round": round_}
                runs.append(result)
                runner.say(
                    f"export {fmt}, round {round_ + 1}/{s.export_rounds}: "
                    f"{result['orders_per_second']:,.0f} orders/s"
                )

    def median(fmt: str, figure: str) -> float:
        return statistics.median(r[figure] for r in runs if r["format"] == fmt)

    for run in runs:
        run["orders_per_cpu_second"] = run["orders"] / max(run["cpu"], 1e-9)
    wall = {fmt: median(fmt, "orders_per_second") for fmt in EXPORT_FORMATS}
    cpu = {fmt: median(fmt, "orders_per_cpu_second") for fmt in EXPORT_FORMATS}
    summary = {
        fmt: {
            "orders_per_second": wall[fmt],
            "share_of_stream": wall[fmt] / wall["stream"],
            "orders_per_cpu_second": cpu[fmt],
            "cpu_share_of_stream": cpu[fmt] / cpu["stream"],
        }
        for fmt in EXPORT_FORMATS
    }
    return {"customers": s.export_customers, "runs": runs, "summary": summary}


def summarize_throughput(runs: list[Record]) -> dict[str, Record]:
    """Per contender, the median of each figure over its rounds; ratios to ``client-gather``.

    The client's ratio to the floor (``vs_floor``) is the median of the ratios within a round:
    runs of one round are seconds apart, so a slow spell of the shared machine moves both.
    """
    summary: dict[str, Record] = {}
    for name in CONTENDERS:
        mine = [run for run in runs if run["contender"] == name]
        if not mine:
            continue

        def median(figure: str, mine: list[Record] = mine) -> float:
            return float(statistics.median(_figures(run)[figure] for run in mine))

        summary[name] = {
            figure: median(figure)
            for figure in (
                "orders_per_s",
                "pages_per_s",
                "cpu_per_1000",
                "server_busy",
                "others_busy",
                "customers",
                "wall",
            )
        } | {"rounds": len(mine)}
    reference = summary.get("client-gather", {}).get("orders_per_s")
    for figures in summary.values():
        figures["vs_client"] = figures["orders_per_s"] / reference if reference else None
    speed = {(run["contender"], run["round"]): _figures(run)["orders_per_s"] for run in runs}
    for client, floor in PAIRS:
        ratios = [v / speed[floor, r] for (name, r), v in speed.items() if name == client]
        if client in summary and ratios:
            summary[client]["vs_floor"] = statistics.median(ratios)
    return summary


def _figures(run: Record) -> Record:
    tally, wall = run["tally"], run["wall"]
    return {
        "orders_per_s": tally["orders"] / wall,
        "pages_per_s": tally["pages"] / wall,
        "cpu_per_1000": 1000 * run["cpu"] / max(1, tally["requests"]),
        "server_busy": run["server_cpu"] / wall,
        "others_busy": run["others_cpu"] / wall,
        "customers": tally["customers"],
        "wall": wall,
    }


def summarize_rate(result: Record, *, settle: float) -> Record:
    """Achieved rate and 429s, over the whole run and after the first ``settle`` seconds."""
    timeline = result["timeline"]  # (seconds, requests, retries, throttled)
    end = timeline[-1]
    mid = next((point for point in timeline if point[0] >= settle), end)

    def succeeded(point: list[float]) -> float:
        return point[1] - point[3]

    steady_seconds = end[0] - mid[0]
    steady_rpm = (succeeded(end) - succeeded(mid)) / steady_seconds * 60 if steady_seconds else 0
    whole_rpm = succeeded(end) / end[0] * 60 if end[0] else 0
    service = result["service_rpm"]
    return {
        "seconds": end[0],
        "requests": end[1],
        "throttled": end[3],
        "throttled_share": end[3] / end[1] if end[1] else 0.0,
        "whole_rpm": whole_rpm,
        "whole_fraction": whole_rpm / service,
        "steady_seconds": steady_seconds,
        "steady_rpm": steady_rpm,
        "steady_fraction": steady_rpm / service,
        "steady_throttled": end[3] - mid[3],
    }


def targets(results: Record) -> list[Record]:
    """The issue's targets, each with the figure measured and whether it is met."""
    out: list[Record] = []

    def check(target: str, measured: float, met: bool, shown: str) -> None:
        out.append({"target": target, "measured": measured, "shown": shown, "met": met})

    for case in results.get("throughput", []):
        where = f"{case['latency'] * 1000:g} ms, {case['customers']:,} customers"
        if case.get("beyond_issue"):
            where += " (sustained, beyond the issue's cases)"
        figures = {name: f["orders_per_s"] for name, f in case["summary"].items()}
        for client, floor in PAIRS:
            ratio = case["summary"][client]["vs_floor"]
            label = f"{where}: {client} / {floor} >= 0.85 (median of the rounds' ratios)"
            check(label, ratio, ratio >= 0.85, f"{ratio:.2f}")
        for client in ("client-gather", "client-stream"):
            if "httpx-pydantic" in figures:
                ratio = figures[client] / figures["httpx-pydantic"]
                label = f"{where}: {client} / httpx-pydantic >= 5"
                check(label, ratio, ratio >= 5, f"{ratio:.1f}x")
            if case["latency"] >= 0.05 and "sequential" in figures:
                ratio = figures[client] / figures["sequential"]
                label = f"{where}: {client} / sequential >= 30"
                check(label, ratio, ratio >= 30, f"{ratio:.1f}x")
    if rate := results.get("rate"):
        at, half = rate["at_limit"]["summary"], rate["half_limit"]["summary"]
        fraction, late = at["steady_fraction"], at["steady_throttled"]
        check("service limit N: rate >= 97% of N", fraction, fraction >= 0.97, f"{fraction:.1%}")
        check("service limit N: no 429 after the first minute", late, late == 0, f"{late}")
        fraction, share = half["steady_fraction"], half["throttled_share"]
        check("service limit N/2: rate >= 90% of N/2", fraction, fraction >= 0.9, f"{fraction:.1%}")
        check("service limit N/2: 429s < 2% of requests", share, share < 0.02, f"{share:.2%}")
    if decode := results.get("decode"):
        speed = {name: d["orders_per_s"] for name, d in decode["decoders"].items()}
        client = speed["client (gather_orders, stream_orders)"]
        for other, needed in (("pydantic v2", 3.0), ("json.loads (dicts)", 2.0)):
            ratio = client / speed[other]
            check(
                f"decode: client / {other} >= {needed:g}", ratio, ratio >= needed, f"{ratio:.1f}x"
            )
    if memory := results.get("memory"):
        runs = memory["runs"]
        ratio = runs[-1]["peak_rss_mb"] / runs[0]["peak_rss_mb"]
        label = f"memory: peak RSS {runs[-1]['customers']:,} / {runs[0]['customers']:,} <= 1.5"
        check(label, ratio, ratio <= 1.5, f"{ratio:.2f}")
    return out


def machine() -> Record:
    """The machine, the interpreter, the libraries and the source tree the figures come from."""
    cpu_model = ""
    meminfo = ""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        cpu_model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.splitlines()
                if "model name" in line
            ),
            "",
        )
        meminfo = Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()[0]
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model,
        "memory": " ".join(meminfo.split()[1:]),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "libraries": versions,
        "git": _git(),
    }


def _git() -> Record:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.rstrip("\n")

    changed = git("status", "--porcelain", "--", "partnercenter_async").splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted": changed}


def write(out: Path, results: Record) -> None:
    """Write ``latest.json`` and ``latest.md`` into ``out``, each replaced whole."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("latest.json", json.dumps(results, indent=1) + "\n"),
        ("latest.md", _report.render(results)),
    ):
        partial = out / f"{name}.tmp"
        partial.write_text(text, encoding="utf-8")
        partial.replace(out / name)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; returns the exit status (0 whatever the figures)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the results")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--rounds", type=int, help="rounds of every throughput case")
    parser.add_argument("--rate-minutes", type=float, help="minutes of each rate-limit run")
    parser.add_argument("--concurrency", type=int, help="requests in flight")
    parser.add_argument("--fixed-malloc", action="store_true", help="one glibc allocator mode")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else Settings()
    overrides = {
        "rate_minutes": args.rate_minutes,
        "concurrency": args.concurrency,
        "fixed_malloc": args.fixed_malloc,
    }
    settings = dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v})
    if args.rounds:
        cases = tuple(dataclasses.replace(case, rounds=args.rounds) for case in settings.throughput)
        settings = dataclasses.replace(settings, throughput=cases)
    started = time.perf_counter()
    results: Record = {
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "settings": dataclasses.asdict(settings),
    }
    with tempfile.TemporaryDirectory(prefix="pc-bench-") as workdir:
        runner = Runner(settings, Path(workdir), sys.stderr)
        runner.say(f"benchmarks ({results['mode']}), results to {args.out}")
        if "throughput" in args.only:
            results["throughput"] = [runner.throughput(case) for case in settings.throughput]
        if "rate" in args.only:
            results["rate"] = runner.rate()
        if "decode" in args.only:
            results["decode"] = runner.decode()
        if "memory" in args.only:
            results["memory"] = runner.memory()
        if "export" in args.only:
            results["export"] = export(runner)
    results["targets"] = targets(results)
    results["seconds"] = round(time.perf_counter() - started, 1)
    write(args.out, results)
    if "sync" in args.only:  # issue 12's: its own files, sync.md and sync.json
        from . import sync

        sync.run(quick=args.quick, out=args.out)
    runner.say(f"done in {results['seconds']:.0f} s: {args.out / 'latest.md'}")
    return 0
