"""The markdown report of one benchmark run (``latest.md``), rendered from its JSON results."""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table; the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def render(results: Record) -> str:
    """The whole report: machine, targets, then one section per scenario run."""
    m, s = results["machine"], results["settings"]
    libraries = ", ".join(f"{name} {v}" for name, v in m["libraries"].items() if v)
    git = m["git"]
    tree = git["commit"] + (
        f" with uncommitted changes to {', '.join(line[3:] for line in git['uncommitted'])}"
        if git["uncommitted"]
        else ""
    )
    lines = [
        f"# Benchmark results ({results['mode']} run, {results['started']}, "
        f"{results['seconds']:.0f} s)",
        "",
        f"- Machine: {m['cpus']} CPUs ({m['cpus_usable']} usable), {m['cpu_model']}, "
        f"{m['memory']} RAM; {m['platform']}",
        f"- Python: {m['python']}; {libraries}",
        f"- Source: {tree}",
        f"- Settings: concurrency {s['concurrency']}; throughput contenders stop starting "
        f"customers after {s['time_limit']:g} s; rate limit N = {s['rate_rpm']:g}/min, "
        f"{s['rate_minutes']:g} min per run, {s['rate_latency'] * 1000:g} ms latency"
        + ("; glibc's allocator pinned (--fixed-malloc)" if s.get("fixed_malloc") else ""),
        "",
    ]
    if results["mode"] == "quick":
        lines += ["*A quick run: a smoke test; its sizes are too small for the figures.*", ""]
    lines += ["## Targets", ""]
    lines += table(
        ["target", "measured", "met"],
        [[t["target"], t["shown"], "yes" if t["met"] else "**no**"] for t in results["targets"]],
    )
    for case in results.get("throughput", []):
        lines += throughput(case)
    if "rate" in results:
        lines += rate(results["rate"], s["settle"])
    if "decode" in results:
        lines += decode(results["decode"])
    if "memory" in results:
        lines += memory(results["memory"])
    if "export" in results:
        lines += export(results["export"])
    return "\n".join(lines)


def throughput(case: Record) -> list[str]:
    """Scenario 1, one case: one row per contender."""
    rounds = f"medians of {case['rounds']} rounds"
    if extra := case.get("floor_rounds"):
        rounds += f"; {case['rounds'] + extra} for the client and the floor"
    lines = [
        f"## Unthrottled throughput, {case['latency'] * 1000:g} ms service latency, "
        f"{case['customers']:,} customers ({rounds})",
        "",
    ]
    rows = []
    for name, f in case["summary"].items():
        rows.append(
            [
                name,
                f"{f['orders_per_s']:,.0f}",
                f"{f['pages_per_s']:,.0f}",
                f"{f['cpu_per_1000']:.3f}",
                f"{f['vs_client']:.3f}" if f["vs_client"] is not None else "",
                f"{f['vs_floor']:.3f}" if "vs_floor" in f else "",
                f"{f['customers']:,.0f}",
                f"{f['wall']:.2f}",
                f"{f['server_busy']:.0%}",
                f"{f['others_busy']:.0%}",
            ]
        )
    header = [
        "contender",
        "orders/s",
        "pages/s",
        "client CPU s / 1,000 requests",
        "throughput / client-gather",
        "client / floor, median of the rounds' ratios",
        "customers done",
        "wall s",
        "server CPU busy",
        "others' CPU busy",
    ]
    return lines + table(header, rows)


def rate(rate: Record, settle: float) -> list[str]:
    """Scenario 2: the service's limit at N, then at N / 2."""
    lines = ["## At the rate limit", ""]
    rows = []
    for result in rate.values():
        r = result["summary"]
        rows.append(
            [
                f"{result['service_rpm']:g}/min",
                f"{result['client_rpm']:g}/min",
                f"{r['seconds']:.0f}",
                f"{r['requests']:,}",
                f"{r['steady_rpm']:,.0f} ({r['steady_fraction']:.1%})",
                f"{r['whole_rpm']:,.0f} ({r['whole_fraction']:.1%})",
                f"{r['throttled']:,} ({r['throttled_share']:.2%})",
                f"{r['steady_throttled']:,}",
            ]
        )
    header = [
        "service limit",
        "client setting",
        "seconds",
        "requests",
        f"achieved/min after {settle:g} s (of limit)",
        "achieved/min, whole run",
        "429s (share of requests)",
        f"429s after {settle:g} s",
    ]
    return lines + table(header, rows)


def decode(result: Record) -> list[str]:
    """Scenario 3: one page, every decoder."""
    lines = [
        f"## Decoding one orders page ({result['page_bytes']:,} bytes, "
        f"{result['orders_per_page']} orders)",
        "",
    ]
    client = result["decoders"]["client (gather_orders, stream_orders)"]["orders_per_s"]
    rows = [
        [
            name,
            f"{d['mb_per_s']:,.1f}",
            f"{d['orders_per_s']:,.0f}",
            f"{d['seconds_per_page'] * 1e6:,.1f}",
            f"{client / d['orders_per_s']:.2f}",
        ]
        for name, d in result["decoders"].items()
    ]
    header = ["decoder", "MB/s", "orders/s", "µs per page", "client is faster by"]
    return lines + table(header, rows)


def memory(result: Record) -> list[str]:
    """Scenario 4: peak RSS of ``stream_orders`` by number of customers."""
    lines = ["## Memory of a `stream_orders` export", ""]
    runs = result["runs"]
    first = runs[0]["peak_rss_mb"]
    rows = [
        [
            f"{run['customers']:,}",
            f"{run['tally']['orders']:,}",
            f"{run['wall']:.1f}",
            f"{run['rss_before_mb']:.1f}",
            f"{run['peak_rss_mb']:.1f}",
            f"{run['peak_rss_mb'] / first:.2f}",
        ]
        for run in runs
    ]
    header = ["customers", "orders", "wall s", "RSS before MB", "peak RSS MB", "peak / smallest"]
    return lines + table(header, rows)


def export(result: Record) -> list[str]:
    """Scenario 5: orders per second of the export in each format against ``stream_orders``."""
    lines = [
        "",
        f"## Export: orders per second, {result['customers']:,} customers, unthrottled",
        "",
        "`stream` is `stream_orders` alone, each result dropped; the others are `export_orders` "
        "into that format, on the same data in the same run (medians over the rounds).",
        "",
    ]
    rows = [
        [
            fmt,
            f"{figures['orders_per_second']:,.0f}",
            f"{figures['share_of_stream']:.0%}",
            f"{figures['orders_per_cpu_second']:,.0f}",
            f"{figures['cpu_share_of_stream']:.0%}",
        ]
        for fmt, figures in result["summary"].items()
    ]
    header = ["format", "orders/s", "of stream_orders", "orders/CPU s", "of stream_orders"]
    return lines + table(header, rows)
