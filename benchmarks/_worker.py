"""One measurement in a process of its own: clean CPU time, clean peak RSS.

Run as ``python -m benchmarks._worker '<spec as JSON>'``; prints one JSON object. The spec's
``kind`` is one of ``throughput``, ``rate``, ``memory`` or ``decode``; see the functions of the
same names. Times are taken after imports, so only the work itself is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from typing import Any

from partnercenter_async._models import (
    order_decoder,
    orders_page_decoder,
    raw_orders_page_decoder,
)

from . import contenders

Spec = dict[str, Any]


def read_ids(path: str) -> Iterator[str]:
    """Customer ids from a file of one id per line, read lazily."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line := line.strip():
                yield line


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB: ``VmHWM`` where Linux has it.

    Not ``ru_maxrss``: on Linux, ``exec`` keeps the larger of the old and new images' peaks, and
    a child's old image is its parent's, so a child of a 200 MB runner reports at least 200 MB.
    ``VmHWM`` belongs to the image, which starts afresh at ``exec``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return ru_maxrss_mb()


def ru_maxrss_mb() -> float:
    """``ru_maxrss`` in MB (KiB on Linux), for reference; see ``peak_rss_mb``."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Current resident set size of this process, in MB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def machine_busy() -> float:
    """CPU seconds every CPU of the machine has spent busy since boot, from ``/proc/stat``."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(field) for field in stat.readline().split()[1:9]]
    except OSError:
        return 0.0
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def job(spec: Spec, ids: Iterable[str], deadline: float | None = None) -> contenders.Job:
    """The contenders' ``Job`` for ``spec``."""
    return contenders.Job(
        base_url=spec["base_url"],
        customer_ids=ids,
        concurrency=spec["concurrency"],
        requests_per_minute=spec["requests_per_minute"],
        deadline=deadline,
    )


def throughput(spec: Spec) -> Spec:
    """Run one contender over every customer (or until ``time_limit`` seconds have passed)."""
    ids = list(read_ids(spec["ids_file"]))
    limit = spec.get("time_limit")
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    busy, cpu, start = machine_busy(), time.process_time(), time.perf_counter()
    deadline = None if limit is None else start + limit
    tally = contenders.run(spec["contender"], job(spec, ids, deadline))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "tally": asdict(tally),
        "wall": wall,
        "cpu": cpu,
        "minor_faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults,
        "machine_busy": machine_busy() - busy,
        "peak_rss_mb": peak_rss_mb(),
    }


async def _rate(spec: Spec) -> Spec:
    duration = spec["duration"]
    timeline: list[tuple[float, int, int, int]] = []
    customers = orders = errors = 0
    async with contenders.client(job(spec, ())) as pc:
        start = time.perf_counter()

        async def sample() -> None:
            while True:
                stats = pc.stats
                t = time.perf_counter() - start
                timeline.append((round(t, 3), stats.requests, stats.retries, stats.throttled))
                await asyncio.sleep(1.0)

        sampler = asyncio.create_task(sample())
        stream = pc.stream_orders(read_ids(spec["ids_file"]))
        async with contextlib.aclosing(stream):
            async for result in stream:
                customers += result.error is None
                errors += result.error is not None
                orders += len(result.orders)
                if time.perf_counter() - start >= duration:
                    break
        sampler.cancel()
        stats = pc.stats
        t = time.perf_counter() - start
        timeline.append((round(t, 3), stats.requests, stats.retries, stats.throttled))
        tally = contenders.client_tally(pc, customers, orders, errors)
    return {"tally": asdict(tally), "wall": t, "timeline": timeline}


def rate(spec: Spec) -> Spec:
    """Run ``stream_orders`` for ``duration`` seconds, sampling the client's counters each 1 s."""
    return asyncio.run(_rate(spec))


def memory(spec: Spec) -> Spec:
    """Run ``stream_orders`` over every customer, ids read lazily; report the peak RSS."""
    before = rss_mb()
    start = time.perf_counter()
    tally = contenders.run("client-stream", job(spec, read_ids(spec["ids_file"])))
    return {
        "tally": asdict(tally),
        "wall": time.perf_counter() - start,
        "rss_before_mb": before,
        "peak_rss_mb": peak_rss_mb(),
        "ru_maxrss_mb": ru_maxrss_mb(),
    }


def export(spec: Spec) -> Spec:
    """Orders per second of ``export_orders`` into ``format`` (or of ``stream_orders`` alone,
    ``format`` "stream", each result dropped), over every customer, unthrottled."""
    import tempfile

    from partnercenter_async import export_orders

    ids = list(read_ids(spec["ids_file"]))
    orders = 0

    async def run() -> None:
        nonlocal orders
        async with contenders.client(job(spec, ())) as pc:
            if spec["format"] == "stream":
                async for result in pc.stream_orders(ids):
                    orders += len(result.orders)
                return
            with tempfile.TemporaryDirectory(prefix="pc-bench-export-") as directory:
                out = os.path.join(directory, f"orders.{spec['format']}")
                summary = await export_orders(pc, ids, out, format=spec["format"])
                orders = summary.orders

    cpu, start = time.process_time(), time.perf_counter()
    asyncio.run(run())
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"orders": orders, "wall": wall, "cpu": cpu, "orders_per_second": orders / wall}


def decoders() -> dict[str, Callable[[bytes], object]]:
    """The ways of decoding one orders page, by name."""
    from ._pydantic_models import OrdersPage  # here, so that other kinds never import pydantic

    def with_raw_orders(body: bytes) -> object:
        # As stream_orders(raw_orders=True): the page with raw items, then each order decoded
        # and its raw bytes kept.
        page = raw_orders_page_decoder.decode(body)
        return [order_decoder.decode(raw) for raw in page.items], [bytes(raw) for raw in page.items]

    return {
        "client (gather_orders, stream_orders)": orders_page_decoder.decode,
        "client, raw_orders=True": with_raw_orders,
        "json.loads (dicts)": json.loads,
        "pydantic v2": OrdersPage.model_validate_json,
    }


def best_time(decode: Callable[[bytes], object], body: bytes, budget: float) -> float:
    """Seconds per call, the best of 5 rounds of ``budget / 5`` seconds each."""
    rounds, calls = 5, 1
    while True:  # calibrate: enough calls for a round to last budget / rounds
        start = time.perf_counter()
        for _ in range(calls):
            decode(body)
        if (elapsed := time.perf_counter() - start) >= budget / rounds / 4:
            break
        calls *= 2
    calls = max(1, int(calls * budget / rounds / elapsed))
    best = elapsed / calls * 4
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            decode(body)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def first_full_page(base_url: str, ids_file: str) -> bytes:
    """The first page of the first customer whose orders span several pages, without BOM."""
    for customer_id in read_ids(ids_file):
        request = urllib.request.Request(
            f"{base_url}/v1/customers/{customer_id}/orders", headers=contenders.HEADERS
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body: bytes = response.read().removeprefix(contenders.BOM)
        if json.loads(body).get("links", {}).get("next"):
            return body
    raise LookupError("no customer has a second page of orders")


def decode(spec: Spec) -> Spec:
    """Decode one full orders page every way; MB/s and orders/s of each."""
    body = first_full_page(spec["base_url"], spec["ids_file"])
    count = len(json.loads(body)["items"])
    results = {}
    for name, decoder in decoders().items():
        seconds = best_time(decoder, body, spec["budget"])
        results[name] = {
            "seconds_per_page": seconds,
            "mb_per_s": len(body) / seconds / 1e6,
            "orders_per_s": count / seconds,
        }
    return {"page_bytes": len(body), "orders_per_page": count, "decoders": results}


KINDS: dict[str, Callable[[Spec], Spec]] = {
    "throughput": throughput,
    "rate": rate,
    "memory": memory,
    "export": export,
    "decode": decode,
}


def main() -> None:
    """Run the spec given as the first argument and print its result as JSON."""
    spec = json.loads(sys.argv[1])
    if spec.get("cpu") is not None:
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setaffinity(0, {spec["cpu"]})
    result = KINDS[spec["kind"]](spec)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
