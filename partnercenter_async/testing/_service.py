"""The fake Partner Center: an aiohttp application over the seeded data of `_data`.

Every request passes one middleware, in this order: record it, wait `latency`, apply the rate
limit (429), apply a queued or random fault, check the bearer token (401), then route.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import math
import os
import random
import re
import signal
import socket
import struct
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import msgspec
from aiohttp import web
from aiohttp.typedefs import Handler

from . import _data, _hostile
from ._activity import Activity, Living
from ._config import FakeConfig, Fault
from ._data import JSON, SAMPLE_CUSTOMER_ID, link

_JSON_TYPE = "application/json; charset=utf-8"
_BOM = b"\xef\xbb\xbf"
_TOKEN_HEADER = "MS-ContinuationToken"
_TOKEN_SUFFIX = ",v=1/+_x"
_TOKEN_RE = re.compile(r"o=(\d+);s=(\d+)")
_SYSTEM_PURCHASES = frozenset({"SystemPurchase", "SystemBilling"})
_HTML_503 = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
    b"<body><h2>Service Unavailable</h2><p>HTTP Error 503. The service is unavailable.</p>"
    b"</body></html>"
)
_WRONG_TYPES = b'{"totalCount": "two", "items": {"id": 5}, "links": [], "attributes": null}'
_LATE_FAULTS = frozenset({Fault.RESET_MID_BODY, Fault.TRUNCATED, Fault.STALL})
_DEFAULT_CONFIG = FakeConfig()  # frozen, so safe to share as a default


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the fake received it.

    Attributes:
        method: HTTP method.
        path_qs: Path and query string, as sent.
        headers: Request headers, case-insensitive; left out of the repr (they hold the token).
        at: `FakeConfig.clock()` on arrival, in seconds.
    """

    method: str
    path_qs: str
    headers: Mapping[str, str] = field(repr=False)
    at: float


@dataclass(slots=True)
class FakeStats:
    """Counters of the fake's traffic.

    Attributes:
        requests: Every request received.
        throttled: Requests answered 429, by the rate limit or by a THROTTLE fault.
        rate_limited: Requests answered 429 by the rate limit alone.
        faulted: Requests given a queued or random fault (THROTTLE included).
        by_path: Requests per path (no query).
        in_flight: Requests being answered right now.
        max_in_flight: The most requests ever answered at once.
    """

    requests: int = 0
    throttled: int = 0
    rate_limited: int = 0
    faulted: int = 0
    by_path: collections.Counter[str] = field(default_factory=collections.Counter)
    in_flight: int = 0
    max_in_flight: int = 0


class _Refusal(Exception):
    """Raised inside a handler to answer with a Partner Center error body."""

    def __init__(self, status: int, code: int | str, name: str, description: str) -> None:
        super().__init__(description)
        self.response = _error(status, code, name, description)


def _error(status: int, code: int | str, name: str, description: str) -> web.Response:
    body: JSON = {
        "code": code,
        "description": description,
        "errorName": name,
        "isRetryable": status >= 500,
        "data": [],
        "source": "PartnerFD",
    }
    if status == 401:
        body["message"] = "Authorization failed: bearer token missing, invalid or expired."
    return _response(status, msgspec.json.encode(body))


def _response(status: int, body: bytes, content_type: str = _JSON_TYPE) -> web.Response:
    return web.Response(status=status, body=body, headers={"Content-Type": content_type})


def _throttled(seconds: int) -> web.Response:
    message = f"Rate limit is exceeded. Try again in {seconds} seconds."
    response = _response(429, msgspec.json.encode({"statusCode": 429, "message": message}))
    response.headers["Retry-After"] = str(seconds)
    return response


def _reset(request: web.Request) -> None:
    """Drop the connection with a TCP RST (SO_LINGER 0), discarding anything unsent."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _flag(query: Mapping[str, str], name: str) -> bool:
    value = query.get(name, "false").lower()
    if value not in ("true", "false"):
        raise _Refusal(400, 400020, "InvalidInput", f"{name} must be true or false.")
    return value == "true"


def _norm_cycle(name: str) -> str:
    return name.lower().replace("_", "")


class FakePartnerCenter(Living):
    """A deterministic Partner Center serving seeded customers and orders over real HTTP.

    Serves `GET /v1/customers`, `GET /v1/customers/{id}/orders` and
    `GET /v1/customers/{id}/orders/{order_id}` with the real service's paging (next links with an
    `MS-ContinuationToken` header, uris with and without `/v1`), filters, errors, BOMs,
    throttling and injectable faults.

    Example:
        >>> async with FakePartnerCenter(FakeConfig(seed=1, customers=50)) as fake:
        ...     fake.inject(fake.customer_ids[3], Fault.THROTTLE, Fault.RESET)
        ...     await export_everything(fake.base_url)  # doctest: +SKIP

    Attributes:
        app: The aiohttp application, for `aiohttp_server`/`aiohttp_client` or a `web.AppRunner`.
        config: The settings it was built with.
        customer_ids: Every customer id in listing order, the sample customer first.
        indirect_reseller_ids: The pool of `partnerIdOnRecord` values of generated line items.
        stats: Traffic counters.
        requests: Every request received, in order.
        hostile: The hostile faults' state: what their streams sent (`_hostile.Hostile`).
    """

    def __init__(self, config: FakeConfig = _DEFAULT_CONFIG) -> None:
        self.config = config
        self.customer_ids = [SAMPLE_CUSTOMER_ID, *_data.customer_ids(config.seed, config.customers)]
        self.indirect_reseller_ids = _data.reseller_ids(config.seed)
        self.stats = FakeStats()
        self.requests: list[RecordedRequest] = []
        self.hostile = _hostile.Hostile()
        self._position = {cid: i for i, cid in enumerate(self.customer_ids)}
        self._faults: dict[str | None, collections.deque[Fault | None]] = {}
        self._raw: dict[str, tuple[int, bytes]] = {}
        self._random = random.Random(f"{config.seed}/faults")
        self._accepted: collections.deque[float] = collections.deque()
        self._cache: collections.OrderedDict[tuple[str, str, int], bytes] = (
            collections.OrderedDict()
        )
        self._stopping: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self.activity = Activity(config.seed)  # its clock, changes and log: see `Living`
        self.app = web.Application(middlewares=[self._gateway])
        self.app.router.add_get("/v1/customers", self._customers)
        self.app.router.add_get("/v1/customers/{customer_id}/orders", self._orders)
        self.app.router.add_get("/v1/customers/{customer_id}/orders/{order_id}", self._order)
        self.app.router.add_get("/v1/auditrecords", self._audit_records)
        self.app.on_startup.append(self._on_startup)
        self.app.on_shutdown.append(self._on_shutdown)
        self.app.on_shutdown.append(self.hostile.on_shutdown)

    # -- public helpers ------------------------------------------------------------------------

    def orders_of(
        self,
        customer_id: str,
        *,
        include_price: bool = False,
        include_system_purchases: bool = False,
        billing_type: str | None = None,
        indirect_reseller_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """The orders a listing with these filters serves for a customer, across all its pages.

        Raises:
            KeyError: The customer does not exist.
        """
        position = self._position[customer_id.lower()]
        if position == 0:
            found = _data.sample_orders()
        else:
            found = _data.orders(
                self.config.seed,
                position - 1,
                self.customer_ids[position],
                self.indirect_reseller_ids,
                include_price=include_price,
            )
        found = self.activity.orders(customer_id.lower(), found, include_price)
        cycle = None if billing_type is None else _norm_cycle(billing_type)
        reseller = None if indirect_reseller_id is None else indirect_reseller_id.lower()
        return [
            order
            for order in found
            if (include_system_purchases or order.get("transactionType") not in _SYSTEM_PURCHASES)
            and (cycle is None or _norm_cycle(order["billingCycle"]) == cycle)
            and (
                reseller is None
                or any(
                    item.get("partnerIdOnRecord", "").lower() == reseller
                    for item in order["lineItems"]
                )
            )
        ]

    def inject(self, customer_id: str | None, *faults: Fault | None) -> None:
        """Queue faults for the next requests about a customer (None: about anything), one each.

        A None in ``faults`` lets that request through unharmed (to fault a later page).
        """
        key = None if customer_id is None else customer_id.lower()
        self._faults.setdefault(key, collections.deque()).extend(faults)

    def serve_raw(self, customer_id: str, body: bytes, status: int = 200) -> None:
        """Answer every orders listing of a customer (one the fake knows, or any other id) with
        `body` verbatim, as application/json."""
        self._raw[customer_id.lower()] = (status, body)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The root URL, e.g. ``http://127.0.0.1:54321``, once `start` has run."""
        if self._base_url is None:
            raise RuntimeError("the fake Partner Center is not started")
        return self._base_url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on `host`:`port` (0 picks a free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("the fake Partner Center is already started")
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound = runner.addresses[0][1]
        self._base_url = f"http://{f'[{host}]' if ':' in host else host}:{bound}"
        return self._base_url

    async def close(self) -> None:
        """Stop serving; safe to call twice."""
        runner, self._runner, self._base_url = self._runner, None, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _on_startup(self, app: web.Application) -> None:
        self._stopping = asyncio.Event()

    async def _on_shutdown(self, app: web.Application) -> None:
        if self._stopping is not None:
            self._stopping.set()

    # -- the gateway: recording, rate limit, faults, auth ------------------------------------------

    @web.middleware
    async def _gateway(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        now = self.config.clock()
        self.requests.append(RecordedRequest(request.method, request.path_qs, request.headers, now))
        stats = self.stats
        stats.requests += 1
        stats.by_path[request.path] += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            return await self._answer(request, handler, now)
        finally:
            stats.in_flight -= 1

    async def _answer(
        self, request: web.Request, handler: Handler, now: float
    ) -> web.StreamResponse:
        echo = {
            "MS-RequestId": request.headers.get("MS-RequestId") or str(uuid.uuid4()),
            "MS-CorrelationId": request.headers.get("MS-CorrelationId") or str(uuid.uuid4()),
            "MS-CV": request.headers.get("MS-CV") or base64.b64encode(os.urandom(12)).decode(),
        }
        if self.config.latency > 0:
            await asyncio.sleep(self.config.latency)
        wait = self._admit(now)
        fault = None if wait else self._next_fault(request.match_info.get("customer_id"))
        if wait:
            self.stats.throttled += 1
            self.stats.rate_limited += 1
            response: web.StreamResponse = _throttled(wait)
        elif fault is not None and fault not in _LATE_FAULTS and fault not in _hostile.FAULTS:
            response = self._early_fault(request, fault)
        else:
            response = (
                self._authenticate(request)
                or await self.hostile.answer(
                    request, fault, echo, lambda r: self._route(r, handler)
                )
                or await self._route(request, handler)
            )
        if not response.prepared:  # a hostile stream has sent its headers, echo included
            response.headers.update(echo)
        if fault in _LATE_FAULTS and isinstance(response, web.Response):
            return await self._late_fault(request, fault, response)
        return response

    def _admit(self, now: float) -> int:
        """0 when the rate limit admits a request at `now`, else the seconds until it would."""
        rate, window = self.config.requests_per_minute, self.config.rate_window
        if rate is None:
            return 0
        while self._accepted and self._accepted[0] <= now - window:
            self._accepted.popleft()
        if len(self._accepted) >= rate * window / 60.0:
            return max(1, math.ceil(self._accepted[0] + window - now))
        self._accepted.append(now)
        return 0

    def _next_fault(self, customer_id: str | None) -> Fault | None:
        for key in (None if customer_id is None else customer_id.lower(), None):
            queue = self._faults.get(key)
            if queue:
                fault = queue.popleft()
                if fault is None:
                    return None
                break
        else:
            if self.config.fault_rate <= 0 or self._random.random() >= self.config.fault_rate:
                return None
            fault = self._random.choice(self.config.fault_kinds)
        self.stats.faulted += 1
        if fault is Fault.THROTTLE:
            self.stats.throttled += 1
        return fault

    def _early_fault(self, request: web.Request, fault: Fault) -> web.Response:
        match fault:
            case Fault.THROTTLE:
                return _throttled(self.config.retry_after)
            case Fault.SERVER_ERROR:
                return _error(500, 1000, "InternalServerError", "An unexpected error occurred.")
            case Fault.UNAVAILABLE:
                return _response(503, _HTML_503, "text/html")
            case Fault.BAD_GATEWAY:
                return _response(502, b"")
            case Fault.RESET:
                _reset(request)
                return _response(500, b"")  # never sent: the transport is gone
            case Fault.EMPTY:
                return _response(200, b"")
            case Fault.NOT_JSON:
                return _response(200, b"<html>oops</html>")
            case Fault.WRONG_TYPES:
                return _response(200, _WRONG_TYPES)
            case _:  # Fault.UNAUTHORIZED; the late faults never come here
                return _error(401, "Unauthorized", "Unauthorized", "The token is not valid.")

    async def _late_fault(
        self, request: web.Request, fault: Fault, real: web.Response
    ) -> web.StreamResponse:
        body = real.body if isinstance(real.body, bytes) else b""
        response = web.StreamResponse(status=real.status, headers=real.headers)
        response.content_length = len(body)
        await response.prepare(request)  # a StreamResponse sends its headers at once
        if fault is Fault.STALL:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    (self._stopping or asyncio.Event()).wait(), self.config.stall
                )
            with contextlib.suppress(ConnectionError):
                await response.write(body)
            return response
        await response.write(body[: len(body) // 2])
        if fault is Fault.RESET_MID_BODY:
            _reset(request)
        elif request.transport is not None:
            request.transport.close()  # a clean FIN, short of Content-Length
        return response

    def _authenticate(self, request: web.Request) -> web.Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token and self.config.token in (None, token):
            return None
        return _error(401, "Unauthorized", "Unauthorized", "Authentication failed.")

    async def _route(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except _Refusal as refusal:
            return refusal.response
        except web.HTTPException as exc:  # no such route or method
            return _error(exc.status, exc.status * 1000, exc.reason.replace(" ", ""), exc.reason)

    # -- routes --------------------------------------------------------------------------------

    async def _customers(self, request: web.Request) -> web.Response:
        largest = self.config.max_customers_page_size
        raw = request.query.get("size", str(min(500, largest)))
        size = int(raw) if raw.isascii() and raw.isdigit() else 0
        if not 1 <= size <= largest:
            raise _Refusal(400, 400021, "InvalidInput", f"size must be between 1 and {largest}.")
        offset = self._offset(request)
        end = min(offset + size, len(self.customer_ids))
        return self._cached(
            request,
            offset,
            lambda: self._page(
                request,
                [
                    self._customer(i)
                    for i in range(offset, end)
                    if self.customer_ids[i] not in self.activity.ended
                ],
                end if end < len(self.customer_ids) else None,
            ),
        )

    async def _orders(self, request: web.Request) -> web.Response:
        raw = self._raw.get(request.match_info["customer_id"].lower())
        if raw is not None:  # served as set, for a customer the fake knows or not
            return _response(*raw)
        customer_id = self._known(request)
        query = request.query
        include_price = _flag(query, "include_price")
        include_system = _flag(query, "include_system_purchases")
        offset = self._offset(request)

        def build() -> bytes:
            found = self.orders_of(
                customer_id,
                include_price=include_price,
                include_system_purchases=include_system,
                billing_type=query.get("billingType"),
                indirect_reseller_id=query.get("indirect_reseller_id"),
            )
            end = offset + self.config.orders_page_size
            return self._page(request, found[offset:end], end if end < len(found) else None)

        return self._cached(request, offset, build)

    async def _order(self, request: web.Request) -> web.Response:
        customer_id = self._known(request)
        include_price = _flag(request.query, "include_price")
        wanted = request.match_info["order_id"]

        def build() -> bytes:
            everything = self.orders_of(
                customer_id, include_price=include_price, include_system_purchases=True
            )
            for order in everything:
                if order["id"] == wanted:
                    return self._encode(request.path_qs, order)
            refusal = _Refusal(404, 800002, "OrderNotFound", f"Order {wanted} was not found.")
            refusal.response = _response(404, b"")  # as recorded: Content-Length 0, no body
            raise refusal

        return self._cached(request, 0, build)

    # -- route helpers -------------------------------------------------------------------------

    def _known(self, request: web.Request) -> str:
        customer_id = request.match_info["customer_id"].lower()
        gone = self.activity.ended.get(customer_id)
        if gone == 403:
            raise _Refusal(403, 900123, "Forbidden", "The supplied role does not have the rights.")
        if customer_id not in self._position or gone is not None:
            raise _Refusal(404, 600074, "CustomerNotFound", f"Customer {customer_id} not found.")
        return customer_id

    def _customer(self, position: int) -> JSON:
        if position == 0:
            return _data.sample_customer()
        return _data.customer(self.config.seed, position - 1, self.customer_ids[position])

    def _invalidate(self) -> None:
        """Forget every cached body: the data changed."""
        self._cache.clear()

    def _salt(self, path: str) -> int:
        return zlib.crc32(f"{self.config.seed}:{path.lower()}".encode())

    def _offset(self, request: web.Request) -> int:
        """The offset a continuation token names, 0 without `seekOperation`; 400 if invalid."""
        seek = request.query.get("seekOperation")
        if seek is None:
            return 0
        token = request.headers.get(_TOKEN_HEADER, "")
        head, _, tail = token.partition(",")
        with contextlib.suppress(ValueError):
            found = _TOKEN_RE.fullmatch(base64.b64decode(head, validate=True).decode())
            if (
                seek.lower() == "next"
                and f",{tail}" == _TOKEN_SUFFIX
                and found
                and int(found[2]) == self._salt(request.path)
            ):
                return int(found[1])
        raise _Refusal(
            400,
            "InvalidContinuationToken",
            "InvalidContinuationToken",
            f"seekOperation needs a valid {_TOKEN_HEADER} header.",
        )

    def _page(self, request: web.Request, items: list[JSON], next_offset: int | None) -> bytes:
        short = request.path.removeprefix("/v1")
        own = short + (f"?{request.query_string}" if request.query_string else "")
        links: JSON = {"self": link(own)}
        if next_offset is not None:
            kept = [(k, v) for k, v in request.query.items() if k != "seekOperation"]
            query = urlencode([*kept, ("seekOperation", "Next")])
            salt = self._salt(request.path)
            pages = next_offset // len(items)  # a next link follows a full page
            path = short if (salt + pages) % 2 else request.path  # both forms, alternating
            token = base64.b64encode(f"o={next_offset};s={salt}".encode()).decode()
            links["next"] = {
                "uri": f"{path}?{query}",
                "method": "GET",
                "headers": [{"key": _TOKEN_HEADER, "value": token + _TOKEN_SUFFIX}],
            }
        page = {
            "totalCount": len(items),
            "items": items,
            "links": links,
            "attributes": {"objectType": "Collection"},
        }
        if "next" in links and not request.path.endswith("/orders"):  # seek-based collections
            page["continuationToken"] = links["next"]["headers"][0]["value"]
        return self._encode(f"{request.path_qs}|{next_offset}", page)

    def _encode(self, key: str, document: JSON) -> bytes:
        body = msgspec.json.encode(document)
        chance = zlib.crc32(f"{self.config.seed}|{key}".encode()) / 2**32
        return _BOM + body if chance < self.config.bom_rate else body

    def _cached(
        self, request: web.Request, offset: int, build: Callable[[], bytes]
    ) -> web.Response:
        key = (request.path, request.query_string, offset)
        body = self._cache.get(key)
        if body is None:
            body = self._cache[key] = build()
            if len(self._cache) > self.config.cache_entries:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return _response(200, body)


def run(port: int, config: FakeConfig, *, host: str = "127.0.0.1") -> None:
    """Serve a fake Partner Center until SIGINT or SIGTERM, printing its base URL first.

    Args:
        port: TCP port; 0 picks a free one (the printed URL names it).
        config: The fake's settings.
        host: Interface to listen on.
    """

    async def serve() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows
                asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        fake = FakePartnerCenter(config)
        print(await fake.start(host, port), flush=True)
        try:
            await stop.wait()
        finally:
            await fake.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
