"""Paired A/B: this client from several source trees, side by side, against the floor.

The suite's throughput scenario measures one version of the code. To tell whether a change is
above noise (an optimisation stays only if it is), run both versions here: each round runs the
floor and every tree's contender once, each in a fresh process, against one prewarmed fake, the
order rotated by one per round. Printed per tree, as medians over the rounds: wall seconds, CPU
and minor page faults per request, and the ratio floor / tree of the same round; then each tree
against the first, paired the same way.

Usage::

    git worktree add ../candidate my-branch
    .venv/bin/python -m benchmarks.compare main=. candidate=../candidate --rounds 20
    .venv/bin/python -m benchmarks.compare main=. candidate=../candidate --fixed-malloc

``--fixed-malloc`` runs every process with glibc's mmap and trim thresholds fixed (finding 19 in
``benchmarks/README.md``): each process then lands in the same allocator mode, and the paired
ratios spread about half as much. The floor is always this tree's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .run import FIXED_MALLOC, ROOT, UNLIMITED, Record, Runner, Server, Settings


def measure(tree: Path, contender: str, server: Server, ids: str, env: dict[str, str]) -> Record:
    """One run of ``contender`` from ``tree``'s code, in a fresh process pinned like the suite's."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    spec = {
        "kind": "throughput",
        "contender": contender,
        "base_url": server.url,
        "ids_file": ids,
        "concurrency": 64,
        "requests_per_minute": UNLIMITED,
        "cpu": cpus[1] if len(cpus) >= 2 else None,
    }
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._worker", json.dumps(spec)],
        cwd=tree,
        env=env | {"PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{contender} from {tree} failed:\n{done.stderr}")
    result: Record = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__)
    parser.add_argument("trees", nargs="+", metavar="NAME=PATH", help="source trees to compare")
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--contender", default="client-stream", help="e.g. client-gather")
    parser.add_argument("--fixed-malloc", action="store_true", help="one glibc allocator mode")
    args = parser.parse_args(argv)
    trees = {name: Path(path).resolve() for name, _, path in (t.partition("=") for t in args.trees)}
    floor = "floor-gather" if args.contender == "client-gather" else "floor-stream"
    env = dict(os.environ) | ({"GLIBC_TUNABLES": FIXED_MALLOC} if args.fixed_malloc else {})
    runs: dict[str, list[Record]] = {name: [] for name in ["floor", *trees]}
    with tempfile.TemporaryDirectory(prefix="pc-compare-") as workdir:
        runner = Runner(Settings(), Path(workdir), sys.stderr)
        config, ids = runner.ids_file(args.customers)
        config |= {"latency": 0.0, "cache_entries": 4 * args.customers + 1024}
        with Server(config, prewarm=True, cpu=runner.server_cpu) as server:
            names = list(runs)
            for round_ in range(args.rounds):
                shift = round_ % len(names)
                for name in names[shift:] + names[:shift]:
                    if name == "floor":
                        runs[name].append(measure(ROOT, floor, server, ids, env))
                    else:
                        runs[name].append(measure(trees[name], args.contender, server, ids, env))
                runner.say(f"round {round_ + 1}/{args.rounds}")
    report(runs)
    return 0


def report(runs: dict[str, list[Record]]) -> None:
    """Print the medians of each tree, and the paired ratios."""

    def per_request(run: Record, figure: str) -> float:
        requests: int = run["tally"]["requests"]
        return float(run.get(figure, math.nan)) / max(1, requests)  # nan: an older worker

    def paired(a: str, b: str) -> float:
        pairs = zip(runs[a], runs[b], strict=True)
        return statistics.median(float(x["wall"]) / float(y["wall"]) for x, y in pairs)

    print(f"{'':10} {'wall s':>8} {'CPU µs/req':>11} {'faults/req':>11} {'floor / it':>11}")
    for name, mine in runs.items():
        wall = statistics.median(run["wall"] for run in mine)
        cpu = statistics.median(per_request(run, "cpu") * 1e6 for run in mine)
        faults = statistics.median(per_request(run, "minor_faults") for run in mine)
        ratio = "" if name == "floor" else f"{paired('floor', name):.3f}"
        print(f"{name:10} {wall:8.3f} {cpu:11.1f} {faults:11.2f} {ratio:>11}")
    first, *others = [name for name in runs if name != "floor"]
    for name in others:
        print(f"{first} / {name}, wall (paired median): {paired(first, name):.3f}")


if __name__ == "__main__":
    sys.exit(main())
