"""The fake Partner Center in a process of its own, driven over stdin by the benchmark runner.

Run as ``python -m benchmarks._server '<FakeConfig keyword arguments as JSON>' [--prewarm]
[--cpu N]``. It prints its base URL, then answers one command per stdin line: ``stats`` prints
the fake's counters and the process's CPU seconds as one JSON line; end of input stops it.

``--prewarm`` fetches every orders page once before the URL is printed, so that every body is
encoded before any contender runs (the fake caches encoded bodies) and the server's cost per
request stays small and the same for every contender. ``--cpu N`` pins the process to CPU N.
The list of recorded requests is cleared every second: nothing here reads it, and on a long run
it would grow without bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time

import aiohttp

from partnercenter_async.testing import FakeConfig, FakePartnerCenter

_BOM = b"\xef\xbb\xbf"


async def prewarm(fake: FakePartnerCenter, concurrency: int = 64) -> int:
    """Fetch every page of every customer's orders once; return the number of pages."""
    base = fake.base_url
    ids = iter(fake.customer_ids)
    pages = 0

    async def walk(session: aiohttp.ClientSession) -> None:
        nonlocal pages
        for customer_id in ids:
            url: str | None = f"{base}/v1/customers/{customer_id}/orders"
            headers: dict[str, str] = {}
            while url:
                async with session.get(url, headers=headers) as response:
                    page = json.loads((await response.read()).removeprefix(_BOM))
                pages += 1
                link = (page.get("links") or {}).get("next")
                url = None if link is None else base + _v1(link["uri"])
                headers = {h["key"]: h["value"] for h in (link or {}).get("headers", [])}

    auth = {"Authorization": "Bearer prewarm"}
    async with aiohttp.ClientSession(headers=auth) as session:
        await asyncio.gather(*(walk(session) for _ in range(concurrency)))
    return pages


def _v1(uri: str) -> str:
    return uri if uri.startswith("/v1") else "/v1" + uri


async def serve(config: FakeConfig, *, warm: bool) -> None:
    """Serve until stdin closes, answering ``stats`` commands."""
    fake = FakePartnerCenter(config)
    url = await fake.start()
    if warm:
        await prewarm(fake)
    print(url, flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def housekeeping() -> None:
        while True:
            fake.requests.clear()
            await asyncio.sleep(1.0)

    cleaner = asyncio.create_task(housekeeping())
    try:
        while line := await reader.readline():
            if line.strip() == b"stats":
                stats = fake.stats
                report = {
                    "requests": stats.requests,
                    "throttled": stats.throttled,
                    "cpu": time.process_time(),
                    "max_in_flight": stats.max_in_flight,
                }
                print(json.dumps(report), flush=True)
    finally:
        cleaner.cancel()
        await fake.close()


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", help="FakeConfig keyword arguments, as a JSON object")
    parser.add_argument("--prewarm", action="store_true")
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()
    if args.cpu is not None:
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setaffinity(0, {args.cpu})
    config = FakeConfig(**json.loads(args.config))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config, warm=args.prewarm))


if __name__ == "__main__":
    main()
