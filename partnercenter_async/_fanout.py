"""Many customers at once: ``max_concurrency`` workers over one operation per customer.

Generic over that operation, so that each per-customer resource (orders today) is a few lines in
the client. A customer's ``PartnerCenterError`` is its result; a failure no other customer can
escape (no token, the token refused, the client closed) ends the whole fan-out.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from typing import TypeVar

from ._errors import AuthenticationError, ClientClosedError, PartnerCenterError
from ._telemetry import Telemetry

__all__ = ["fan_out"]

R = TypeVar("R")

FATAL = (AuthenticationError, ClientClosedError)
"""Failures that end a fan-out: they would fail every other customer too."""


async def fan_out(
    customer_ids: Iterable[str] | AsyncIterable[str],
    work: Callable[[str], Awaitable[R]],
    failed: Callable[[str, PartnerCenterError], R],
    *,
    concurrency: int,
    telemetry: Telemetry,
    operation: str,
) -> AsyncGenerator[R, None]:
    """``work``'s result for each distinct customer, in completion order; a customer whose work
    raised a ``PartnerCenterError`` gives ``failed(customer_id, error)`` instead.

    Ids are read lazily, as workers free up; an id repeated in any casing (tenant ids are GUIDs,
    which compare case-insensitively) is worked on once, as first written. Memory holds the
    customers in flight and at most ``concurrency`` results not yet taken. Leaving the loop
    early, or closing the generator, cancels the work in flight.

    Args:
        customer_ids: Customer tenant ids, an iterable or an async iterable (not one string).
        work: The operation on one customer.
        failed: The result of a customer whose ``work`` raised a ``PartnerCenterError``.
        concurrency: Workers, each on one customer at a time.
        telemetry: Where each customer's work is reported.
        operation: The name of the span around the whole fan-out, e.g.
            ``"partnercenter.gather_orders"``. It is opened in the fan-out's own task, so it is
            never current in the caller's code between two results.

    Raises:
        TypeError: ``customer_ids`` is a string.
        AuthenticationError, ClientClosedError: From ``work``: the other workers are cancelled.
        Exception: Whatever reading ``customer_ids`` raised.
    """
    if isinstance(customer_ids, str):
        raise TypeError("customer_ids must be an iterable of ids, not one string")
    ids = _DistinctIds(customer_ids)
    results: asyncio.Queue[R | BaseException | None] = asyncio.Queue(concurrency)

    async def worker() -> None:
        while (customer_id := await ids.next()) is not None:
            with telemetry.customer(customer_id) as scope:
                try:
                    result = await work(customer_id)
                except FATAL:
                    raise
                except PartnerCenterError as err:
                    result = failed(customer_id, err)
                    scope.failed(err)  # kept as the customer's result, not raised
            await results.put(result)

    async def run() -> None:
        with telemetry.operation(operation, {"partnercenter.concurrency": concurrency}) as scope:
            workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
            try:
                await asyncio.gather(*workers)
            except Exception as err:  # ids failed, or a fatal failure: the stream ends with it
                scope.failed(err)
                await results.put(err)
            else:
                await results.put(None)
            finally:
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)

    runner = asyncio.create_task(run())
    try:
        while (item := await results.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


class _DistinctIds:
    """Distinct customer ids from an iterable or async iterable, shared by the workers."""

    def __init__(self, ids: Iterable[str] | AsyncIterable[str]) -> None:
        self._async: AsyncIterator[str] | None = None
        self._sync: Iterator[str] | None = None
        if isinstance(ids, AsyncIterable):
            self._async = aiter(ids)
        else:
            self._sync = iter(ids)
        self._seen: set[object] = set()
        self._lock = asyncio.Lock()

    async def next(self) -> str | None:
        """The next id not seen before, or None at the end."""
        if self._sync is not None:  # nothing awaited: no other worker can step in
            return next(filter(self._is_new, self._sync), None)
        assert self._async is not None
        async with self._lock:  # one worker at a time in the async iterator
            async for customer_id in self._async:
                if self._is_new(customer_id):
                    return customer_id
            return None

    def _is_new(self, customer_id: str) -> bool:
        key = customer_id.lower() if isinstance(customer_id, str) else customer_id
        new = key not in self._seen
        self._seen.add(key)
        return new
