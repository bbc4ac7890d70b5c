"""The contenders: the same job, every order of every customer, written five ways.

Each contender takes a ``Job`` and returns a ``Tally``; each sends the headers Microsoft's SDKs
send (``HEADERS``, and a new ``MS-RequestId`` per request), follows ``links.next`` with its
continuation-token headers and strips byte-order marks, as the service requires.

- ``client-gather`` and ``client-stream``: this client's ``gather_orders`` and ``stream_orders``.
- ``sequential``: the loop users write today (the shape of the SDK and PowerShell loops): one
  customer at a time, synchronous, ``requests`` plus ``json``.
- ``httpx-pydantic``: the asyncio code a Python developer would write: ``httpx.AsyncClient``,
  pydantic v2 models, ``asyncio.gather`` under a semaphore.
- ``floor-gather`` and ``floor-stream``: bare aiohttp plus msgspec (this client's models, one
  decode per page) with the same concurrency and no retries, limiter or bookkeeping: the machine's
  limit for this workload. The first keeps every order, as ``gather_orders`` must; the second
  drops each customer's orders once counted, as a ``stream_orders`` consumer does.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from partnercenter_async import PartnerCenterClient, RetryPolicy
from partnercenter_async.testing import StaticTokenCredential

BOM = b"\xef\xbb\xbf"
TOKEN = "benchmark-token"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Accept": "application/json",
    "MS-CorrelationId": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "X-Locale": "en-US",
}
"""Sent with every request, as the SDKs do (``shared/reference/partner-center.md``)."""


@dataclass(frozen=True, kw_only=True)
class Job:
    """What every contender is asked to do.

    Attributes:
        base_url: The fake service's origin, e.g. ``http://127.0.0.1:54321``.
        customer_ids: The customers whose orders to fetch, read lazily.
        concurrency: Requests in flight at once (the sequential loop ignores it).
        requests_per_minute: This client's ``requests_per_minute`` (the others have no limiter).
        deadline: ``time.perf_counter()`` after which no new customer is started; None for none.
    """

    base_url: str
    customer_ids: Iterable[str]
    concurrency: int
    requests_per_minute: float
    deadline: float | None = None


@dataclass(kw_only=True)
class Tally:
    """What a contender did.

    Attributes:
        customers: Customers whose orders were all fetched.
        orders: Orders fetched.
        pages: Pages fetched (successful requests).
        requests: Requests sent, retries included.
        throttled: 429 answers received.
        errors: Customers that failed.
    """

    customers: int = 0
    orders: int = 0
    pages: int = 0
    requests: int = 0
    throttled: int = 0
    errors: int = 0


def until(ids: Iterable[str], deadline: float | None) -> Iterator[str]:
    """The ids, lazily, until ``deadline`` (``time.perf_counter()``) has passed."""
    for customer_id in ids:
        if deadline is not None and time.perf_counter() > deadline:
            return
        yield customer_id


def client(job: Job) -> PartnerCenterClient:
    """This client, configured for ``job``: its rate, its concurrency, default retries."""
    return PartnerCenterClient(
        StaticTokenCredential(TOKEN),
        base_url=job.base_url,
        requests_per_minute=job.requests_per_minute,
        max_concurrency=job.concurrency,
        retry=RetryPolicy(),
    )


def client_tally(pc: PartnerCenterClient, customers: int, orders: int, errors: int) -> Tally:
    """A ``Tally`` from the client's own counters."""
    stats = pc.stats
    return Tally(
        customers=customers,
        orders=orders,
        pages=stats.requests - stats.retries - errors,
        requests=stats.requests,
        throttled=stats.throttled,
        errors=errors,
    )


async def client_gather(job: Job) -> Tally:
    """This client's ``gather_orders``: every customer's orders in one dict."""
    async with client(job) as pc:
        results = await pc.gather_orders(
            until(job.customer_ids, job.deadline), return_exceptions=True
        )
        orders = sum(len(v) for v in results.values() if isinstance(v, list))
        errors = sum(1 for v in results.values() if not isinstance(v, list))
        return client_tally(pc, len(results) - errors, orders, errors)


async def client_stream(job: Job) -> Tally:
    """This client's ``stream_orders``: each customer's orders as they complete, then dropped."""
    customers = orders = errors = 0
    async with client(job) as pc:
        async for result in pc.stream_orders(until(job.customer_ids, job.deadline)):
            if result.error is not None:
                errors += 1
            else:
                customers += 1
                orders += len(result.orders)
        return client_tally(pc, customers, orders, errors)


def sequential(job: Job) -> Tally:
    """One customer at a time, synchronous: ``requests.Session`` plus ``json.loads``."""
    import requests

    tally = Tally()
    results: dict[str, list[dict[str, Any]]] = {}
    with requests.Session() as session:
        session.headers.update(HEADERS)
        for customer_id in until(job.customer_ids, job.deadline):
            url = f"{job.base_url}/v1/customers/{customer_id}/orders"
            headers: dict[str, str] = {}
            orders: list[dict[str, Any]] = []
            while True:
                headers["MS-RequestId"] = str(uuid.uuid4())
                response = session.get(url, headers=headers, timeout=60)
                tally.requests += 1
                response.raise_for_status()
                page = json.loads(response.content.decode("utf-8-sig"))
                tally.pages += 1
                orders.extend(page["items"])
                link = (page.get("links") or {}).get("next")
                if not link:
                    break
                url = job.base_url + v1(link["uri"])
                headers = {h["key"]: h["value"] for h in link.get("headers", [])}
            results[customer_id] = orders
            tally.orders += len(orders)
    tally.customers = len(results)
    return tally


async def httpx_pydantic(job: Job) -> Tally:
    """``httpx.AsyncClient`` and pydantic v2 models, ``asyncio.gather`` under a semaphore."""
    import httpx

    from ._pydantic_models import Order, OrdersPage

    tally = Tally()
    semaphore = asyncio.Semaphore(job.concurrency)
    limits = httpx.Limits(
        max_connections=job.concurrency, max_keepalive_connections=job.concurrency
    )
    async with httpx.AsyncClient(
        base_url=job.base_url, headers=HEADERS, limits=limits, timeout=60
    ) as http:

        async def fetch(customer_id: str) -> list[Order] | None:
            async with semaphore:
                if job.deadline is not None and time.perf_counter() > job.deadline:
                    return None
                url = f"/v1/customers/{customer_id}/orders"
                headers: dict[str, str] = {}
                orders: list[Order] = []
                while True:
                    headers["MS-RequestId"] = str(uuid.uuid4())
                    response = await http.get(url, headers=headers)
                    tally.requests += 1
                    response.raise_for_status()
                    page = OrdersPage.model_validate_json(response.content.removeprefix(BOM))
                    tally.pages += 1
                    orders.extend(page.items)
                    link = page.links.next if page.links else None
                    if link is None:
                        return orders
                    url = v1(link.uri)
                    headers = {h.key: h.value for h in link.headers}

        ids = list(job.customer_ids)
        results = await asyncio.gather(*(fetch(customer_id) for customer_id in ids))
    done = [orders for orders in results if orders is not None]
    tally.customers = len(done)
    tally.orders = sum(len(orders) for orders in done)
    return tally


async def floor(job: Job, *, keep: bool) -> Tally:
    """Bare aiohttp plus msgspec, ``concurrency`` workers: no retries, limiter or bookkeeping.

    Args:
        job: The job.
        keep: Keep every customer's orders until the end, as ``gather_orders`` does.
    """
    import aiohttp
    import msgspec
    from yarl import URL

    from partnercenter_async import Order, ResourceCollection

    decoder = msgspec.json.Decoder(ResourceCollection[Order])
    ids = until(job.customer_ids, job.deadline)
    results: dict[str, list[Order]] = {}
    customers = orders_seen = pages = 0
    connector = aiohttp.TCPConnector(limit=job.concurrency)
    async with aiohttp.ClientSession(headers=HEADERS, connector=connector) as session:

        async def worker() -> None:
            nonlocal customers, orders_seen, pages
            for customer_id in ids:
                url = URL(f"{job.base_url}/v1/customers/{customer_id}/orders", encoded=True)
                headers: dict[str, str] = {}
                orders: list[Order] = []
                while True:
                    headers["MS-RequestId"] = str(uuid.uuid4())
                    async with session.get(url, headers=headers) as response:
                        response.raise_for_status()
                        body = await response.read()
                    page = decoder.decode(body[3:] if body.startswith(BOM) else body)
                    pages += 1
                    orders.extend(page.items)
                    link = page.links.next if page.links else None
                    if link is None:
                        break
                    url = URL(job.base_url + v1(link.uri), encoded=True)
                    headers = {h.key: h.value for h in link.headers}
                customers += 1
                orders_seen += len(orders)
                if keep:
                    results[customer_id] = orders

        await asyncio.gather(*(worker() for _ in range(job.concurrency)))
    return Tally(customers=customers, orders=orders_seen, pages=pages, requests=pages)


def v1(uri: str) -> str:
    """A next link's uri with the ``/v1`` prefix (the service sends it with or without)."""
    return uri if uri.startswith("/v1") else "/v1" + uri


def run(name: str, job: Job) -> Tally:
    """Run contender ``name`` on ``job``, in this process, and return its tally."""
    if name == "sequential":
        return sequential(job)
    return asyncio.run(ASYNC_CONTENDERS[name](job))


ASYNC_CONTENDERS: dict[str, Callable[[Job], Coroutine[Any, Any, Tally]]] = {
    "client-gather": client_gather,
    "client-stream": client_stream,
    "floor-gather": functools.partial(floor, keep=True),
    "floor-stream": functools.partial(floor, keep=False),
    "httpx-pydantic": httpx_pydantic,
}
CONTENDERS = (
    "client-gather",
    "client-stream",
    "floor-gather",
    "floor-stream",
    "httpx-pydantic",
    "sequential",
)
"""Every contender's name; ``client-gather`` is the reference of the ratios."""
