"""``PartnerCenterClient``: configuration, and thin methods over the transport, pager and fan-out.

Each resource method names its route (from the Partner Center REST reference), builds the first
request and a page decoder, and hands them to the layer below: ``_transport`` sends,
``_paging`` follows ``links.next``, ``_fanout`` runs many customers at once.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import random
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Self, TypeVar, overload

import aiohttp
from azure.core.credentials_async import AsyncTokenCredential
from yarl import URL

from ._auth import TokenCache, credential_fetcher
from ._config import (
    CUSTOMERS_PAGE_SIZE,
    DEFAULT_LOCALE,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_TIMEOUT,
    Cloud,
    Limits,
    RetryPolicy,
    check_base_url,
)
from ._errors import GatherError, PartnerCenterError
from ._fanout import fan_out
from ._models import (
    AuditRecord,
    Customer,
    Order,
    OrderFilters,
    ResourceCollection,
    audit_records_page_decoder,
    customers_page_decoder,
    order_decoder,
)
from ._orders import CustomerOrders, orders_page, raw_orders_page
from ._paging import AsyncPager, PageRequest
from ._responses import Response
from ._telemetry import Telemetry
from ._transport import USER_AGENT, ClientStats, Transport
from ._urls import api_url, path_segment

if TYPE_CHECKING:  # the [otel] extra: without it these are Any to mypy, and never imported
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

__all__ = ["CustomerOrders", "PartnerCenterClient"]  # CustomerOrders: from _orders

T = TypeVar("T")

_NO_FILTERS = OrderFilters()


class PartnerCenterClient:
    """Asyncio client for Partner Center's orders API.

    One aiohttp session for the client's life; every request goes through one token cache, one
    rate limiter (``requests_per_minute``) and at most ``max_concurrency`` at a time, and is
    retried per ``retry``. Use it as an async context manager, or call ``aclose()``; one client
    per event loop.

    Args:
        credential: An azure-identity async credential (any ``AsyncTokenCredential``); tokens are
            requested for ``https://api.partnercenter.microsoft.com/.default``.
        base_url: The API origin; defaults to the cloud's. Plain http only to loopback hosts.
        cloud: ``Cloud.PUBLIC`` (default), ``Cloud.CHINA`` or ``Cloud.USGOV``, or its name.
        requests_per_minute: Ceiling on request starts, retries and pages included (Partner
            Center documents 500 per minute per partner tenant).
        max_concurrency: Requests in flight at once, and customers worked on at once.
        correlation_id: ``MS-CorrelationId`` sent on every request; a new GUID per client if None.
        locale: ``X-Locale`` sent on every request.
        timeout: Seconds one attempt may take (connect, send, read the whole body); 180 by
            default, from the field (see ``DEFAULT_TIMEOUT``).
        retry: Attempts, backoff and deadline; see ``RetryPolicy``.
        limits: Largest body and longest listing; see ``Limits``.
        session: An aiohttp session to use instead of the client's own; the caller closes it.
        sleep: Awaitable sleep in seconds, for retry and throttle waits (tests pass a fake).
        clock: Monotonic clock in seconds (tests pass a fake).
        rng: Source of backoff jitter.
        tracer_provider: OpenTelemetry's ``TracerProvider`` for the client's spans; the global
            one if None (see ``docs/observability.md``; nothing without ``[otel]``).
        meter_provider: OpenTelemetry's ``MeterProvider`` for its metrics; the global one if None.

    Raises:
        UnsafeRequestError: ``base_url`` is not https and not loopback.
        ValueError: A number out of range, or an unknown cloud name.

    Example:
        >>> async with PartnerCenterClient(DefaultAzureCredential()) as client:
        ...     orders = [order async for order in client.list_orders(customer_id)]
    """

    def __init__(
        self,
        credential: AsyncTokenCredential,
        *,
        base_url: str | URL | None = None,
        cloud: Cloud | str = Cloud.PUBLIC,
        requests_per_minute: float = DEFAULT_REQUESTS_PER_MINUTE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        correlation_id: str | None = None,
        locale: str = DEFAULT_LOCALE,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen, so sharing it is safe)
        limits: Limits = Limits(),  # noqa: B008 (frozen)
        session: aiohttp.ClientSession | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        if not requests_per_minute > 0:
            raise ValueError(f"requests_per_minute must be positive, got {requests_per_minute}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive seconds, got {timeout}")
        if isinstance(cloud, str):
            try:
                cloud = Cloud[cloud.upper()]
            except KeyError:
                names = ", ".join(c.name.lower() for c in Cloud)
                raise ValueError(f"unknown cloud {cloud!r}; choose one of {names}") from None
        self.base_url = check_base_url(base_url or cloud.base_url)
        self._origin = str(self.base_url)
        self.correlation_id = correlation_id or str(uuid.uuid4())
        self.requests_per_minute = requests_per_minute
        self.max_concurrency = max_concurrency
        self.limits = limits
        self._telemetry = Telemetry(
            server_address=self.base_url.host or "",
            server_port=self.base_url.port,
            rate=lambda: self._transport.requests_per_minute,
            in_flight=lambda: self._transport.in_flight,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
        )
        self._transport = Transport(
            origin=self.base_url,
            tokens=TokenCache(credential_fetcher(credential, timeout=timeout)),
            headers={
                "Accept": "application/json",
                "MS-CorrelationId": self.correlation_id,
                "X-Locale": locale,
                "User-Agent": USER_AGENT,
            },
            correlation_id=self.correlation_id,
            requests_per_minute=requests_per_minute,
            max_concurrency=max_concurrency,
            timeout=timeout,
            retry=retry,
            limits=limits,
            session=session,
            telemetry=self._telemetry,
            sleep=sleep,
            clock=clock,
            rng=rng or random.Random(),
        )

    def __repr__(self) -> str:
        return (
            f"<PartnerCenterClient base_url={str(self.base_url)!r} "
            f"requests_per_minute={self.requests_per_minute:g} "
            f"max_concurrency={self.max_concurrency}{' closed' if self._transport.closed else ''}>"
        )

    @property
    def stats(self) -> ClientStats:
        """Counters of requests, retries, 429s and seconds held; see ``ClientStats``."""
        return self._transport.stats

    async def __aenter__(self) -> Self:
        self._transport.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client's own session; safe to call twice. A closed client cannot reopen;
        requests still in flight end with ``ClientClosedError``."""
        self._telemetry.close()
        await self._transport.aclose()

    # -- collections -------------------------------------------------------------------------

    def list_customers(self, *, size: int = CUSTOMERS_PAGE_SIZE) -> AsyncPager[Customer]:
        """Every customer of the partner: ``GET /v1/customers?size=N``, page by page.

        Args:
            size: Customers per page, 1 to 500.

        Returns:
            A pager of ``Customer``: ``async for customer in ...``, or ``.by_page()``.

        Raises:
            ValueError: ``size`` out of range (at once).
            PartnerCenterError: A subclass, while iterating, when a page fails after its
                retries; it carries the ``continuation_token`` that resumes there.
        """
        query = {"size": _page_size(size)}
        return self._pager("/customers", query, _customers_page, route="/customers")

    def list_orders(
        self, customer_id: str, *, filters: OrderFilters | None = None
    ) -> AsyncPager[Order]:
        """Every order of one customer: ``GET /v1/customers/{customer_id}/orders``, page by page.

        Source: the "Get all of a customer's orders" REST reference.

        Args:
            customer_id: The customer tenant id (percent-encoded into the path).
            filters: Billing cycle, indirect reseller, prices, system purchases.

        Returns:
            A pager of ``Order``.

        Raises:
            UnsafeRequestError: An id that cannot be one path segment (empty, ``.``/``..``,
                control characters, not valid Unicode), at once.
            ResponseDecodeError: A page that is not a collection of orders.
            PartnerCenterError: A subclass, when a page fails after its retries.
        """
        return self._orders_pager(customer_id, (filters or _NO_FILTERS).query(), orders_page)

    def list_audit_records(
        self,
        *,
        start_date: datetime.date,
        end_date: datetime.date | None = None,
        customer_id: str | None = None,
        resource_type: str | None = None,
        size: int = CUSTOMERS_PAGE_SIZE,
    ) -> AsyncPager[AuditRecord]:
        """The activity log: ``GET /v1/auditrecords?startDate=...&endDate=...``, page by page.

        The service keeps 90 days; dates are sent as ``YYYY-MM-DD`` (whole days, UTC), so filter
        on ``AuditRecord.operation_date`` for a finer window. Source: "Get a record of Partner
        Center activity", and ``shared/reference/partner-center.md``, "Activity log".

        Args:
            start_date: First day, at most 90 days ago.
            end_date: Last day, included; None for the service's default (today).
            customer_id: Only records of this customer (``{"Field": "CustomerId", ...}``).
            resource_type: Only records of this resource type, e.g. ``"Order"``.
            size: Records per page, 1 to 500.

        Returns:
            A pager of ``AuditRecord``, newest first as the service lists them.

        Raises:
            ValueError: A bad date or size, or both filters at once (the service takes one).
            BadRequestError: While iterating: the service refused the window (e.g. > 90 days).
        """
        if not isinstance(start_date, datetime.date) or not isinstance(
            end_date, datetime.date | None
        ):
            raise ValueError("start_date and end_date must be datetime.date values")
        query = {"startDate": start_date.strftime("%Y-%m-%d"), "size": _page_size(size)}
        if end_date is not None:
            query["endDate"] = end_date.strftime("%Y-%m-%d")
        if customer_id is not None and resource_type is not None:
            raise ValueError("give customer_id or resource_type, not both: the service takes one")
        for field, value in (("CustomerId", customer_id), ("ResourceType", resource_type)):
            if value is not None:
                query["filter"] = json.dumps(
                    {"Field": field, "Value": value, "Operator": "equals"}, separators=(",", ":")
                )
        return self._pager("/auditrecords", query, _audit_records_page, route="/auditrecords")

    async def get_order(
        self, customer_id: str, order_id: str, *, include_price: bool = False
    ) -> Order:
        """One order: ``GET /v1/customers/{customer_id}/orders/{order_id}``.

        Source: the "Get an order by ID" REST reference.

        Args:
            customer_id: The customer tenant id.
            order_id: The order id.
            include_price: Also fetch prices (``total_price``, each line item's ``pricing``).

        Returns:
            The ``Order``.

        Raises:
            NotFoundError: No such customer or order.
            UnsafeRequestError: An id that cannot be one path segment.
            PartnerCenterError: Another subclass, when the request fails after its retries.
        """
        path = (
            f"/customers/{path_segment(customer_id, 'customer_id')}"
            f"/orders/{path_segment(order_id, 'order_id')}"
        )
        url = api_url(self._origin, path, {"include_price": "true"} if include_price else None)
        response = await self._transport.get(
            url, route="/customers/{customer_id}/orders/{order_id}", customer_id=customer_id
        )
        return response.decode(order_decoder)

    # -- many customers ----------------------------------------------------------------------

    def stream_orders(
        self,
        customer_ids: Iterable[str] | AsyncIterable[str],
        *,
        filters: OrderFilters | None = None,
        raw_orders: bool = False,
    ) -> AsyncGenerator[CustomerOrders, None]:
        """Each customer's orders as soon as they are complete, in bounded memory.

        ``max_concurrency`` workers take customer ids as they go (read lazily; an id repeated in
        any casing is fetched once), so memory holds only the customers in flight and those
        waiting to be yielded. Breaking out of the loop cancels the requests in flight.

        Args:
            customer_ids: Customer tenant ids, an iterable or async iterable.
            filters: The filters of ``list_orders``.
            raw_orders: Also keep each order's JSON as sent, in ``CustomerOrders.raw_orders``
                (for a lossless export; decoding costs about 40% more).

        Yields:
            ``CustomerOrders`` per customer, in completion order; a failed customer carries its
            ``error`` (a ``PartnerCenterError``) and no orders.

        Raises:
            AuthenticationError: No token could be had, or the service refused it (401): no
                customer can succeed, so the stream ends.
            ClientClosedError: The client is closed.
        """
        return self._stream_orders(
            customer_ids, filters, raw_orders, operation="partnercenter.stream_orders"
        )

    def _stream_orders(
        self,
        customer_ids: Iterable[str] | AsyncIterable[str],
        filters: OrderFilters | None,
        raw_orders: bool,
        *,
        operation: str,
    ) -> AsyncGenerator[CustomerOrders, None]:
        query = (filters or _NO_FILTERS).query()  # once per stream, not per customer
        return fan_out(
            customer_ids,
            lambda customer_id: self._orders_of(customer_id, query, raw_orders),
            lambda customer_id, error: CustomerOrders(customer_id, error=error),
            concurrency=self.max_concurrency,
            telemetry=self._telemetry,
            operation=operation,
        )

    @overload
    async def gather_orders(
        self,
        customer_ids: Iterable[str] | AsyncIterable[str],
        *,
        filters: OrderFilters | None = ...,
        return_exceptions: Literal[False] = ...,
    ) -> dict[str, list[Order]]: ...

    @overload
    async def gather_orders(
        self,
        customer_ids: Iterable[str] | AsyncIterable[str],
        *,
        filters: OrderFilters | None = ...,
        return_exceptions: Literal[True],
    ) -> dict[str, list[Order] | PartnerCenterError]: ...

    async def gather_orders(
        self,
        customer_ids: Iterable[str] | AsyncIterable[str],
        *,
        filters: OrderFilters | None = None,
        return_exceptions: bool = False,
    ) -> dict[str, list[Order]] | dict[str, list[Order] | PartnerCenterError]:
        """Every order of every customer, fetched concurrently under the client's limits.

        Args:
            customer_ids: Customer tenant ids; an id repeated in any casing is fetched once.
            filters: The filters of ``list_orders``.
            return_exceptions: Map a failed customer to its error instead of raising.

        Returns:
            ``{customer_id: [Order, ...]}`` for every customer, in completion order; with
            ``return_exceptions``, a failed customer maps to its ``PartnerCenterError``.

        Raises:
            AuthenticationError: No token could be had, or the service refused it (401).
            GatherError: Some customers failed (without ``return_exceptions``), raised once
                every customer has finished; ``.results`` holds the others' orders, ``.errors``
                each failure.
        """
        results: dict[str, list[Order] | PartnerCenterError] = {}
        errors: dict[str, PartnerCenterError] = {}
        async for result in self._stream_orders(
            customer_ids, filters, False, operation="partnercenter.gather_orders"
        ):
            if result.error is not None:
                errors[result.customer_id] = result.error
            results[result.customer_id] = result.error or result.orders
        if errors and not return_exceptions:
            raise GatherError({k: v for k, v in results.items() if isinstance(v, list)}, errors)
        return results

    # -- helpers -----------------------------------------------------------------------------

    def _pager(
        self,
        path: str,
        query: Mapping[str, str],
        decode: Callable[[Response], ResourceCollection[T]],
        *,
        route: str,
        customer_id: str | None = None,
    ) -> AsyncPager[T]:
        url = api_url(self._origin, path, query)
        return AsyncPager(
            self._transport,
            PageRequest(url),
            decode,
            route=route,
            customer_id=customer_id,
            limits=self.limits,
        )

    def _orders_pager(
        self,
        customer_id: str,
        query: Mapping[str, str],
        decode: Callable[[Response], ResourceCollection[T]],
    ) -> AsyncPager[T]:
        path = f"/customers/{path_segment(customer_id, 'customer_id')}/orders"
        route = "/customers/{customer_id}/orders"
        return self._pager(path, query, decode, route=route, customer_id=customer_id)

    async def _orders_of(
        self, customer_id: str, query: Mapping[str, str], raw: bool
    ) -> CustomerOrders:
        """Every order of one customer, all pages, as one result (or the error, raised)."""
        if raw:
            pairs = await self._orders_pager(customer_id, query, raw_orders_page)._all()
            return CustomerOrders(customer_id, [o for o, _ in pairs], [r for _, r in pairs])
        return CustomerOrders(
            customer_id, await self._orders_pager(customer_id, query, orders_page)._all()
        )


def _page_size(size: int) -> str:
    """``size`` as a query value, checked against the service's page size limit."""
    if not 1 <= size <= CUSTOMERS_PAGE_SIZE:
        raise ValueError(f"size must be 1 to {CUSTOMERS_PAGE_SIZE}, got {size}")
    return str(size)


def _customers_page(response: Response) -> ResourceCollection[Customer]:
    return response.decode(customers_page_decoder)


def _audit_records_page(response: Response) -> ResourceCollection[AuditRecord]:
    return response.decode(audit_records_page_decoder)
