"""The pager of every collection, in azure-core's ``AsyncItemPaged`` shape; the one paging loop.

Source: ``shared/reference/partner-center.md``, "Paging": a collection page is
``{totalCount, items, links: {self, next?}}``; the next link's ``headers`` carry the
``MS-ContinuationToken`` and must be sent verbatim; its uri is relative, with or without ``/v1``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Callable
from typing import Generic, NamedTuple, TypeVar

import msgspec
from yarl import URL

from ._config import Limits
from ._errors import PagingError, PartnerCenterError, UnsafeRequestError
from ._models import ResourceCollection
from ._responses import Response
from ._transport import Transport
from ._urls import check_link, resolve_link

__all__ = ["AsyncPager", "PageRequest"]

T = TypeVar("T")


class PageRequest(NamedTuple):
    """The request of one page: its URL and the next link's headers (the continuation token)."""

    url: URL
    headers: tuple[tuple[str, str], ...] = ()


class _Token(msgspec.Struct, array_like=True):
    """What a continuation token holds: the page's path and query, and its headers."""

    path_qs: str
    headers: list[tuple[str, str]]


_token_decoder = msgspec.json.Decoder(_Token)

_Followed = tuple[str, tuple[tuple[str, str], ...]]
"""A request already sent in a listing: its path and query, and its headers."""


class AsyncPager(Generic[T]):
    """The items of a collection, fetched page by page as they are iterated.

    ``async for item in pager`` yields items; ``pager.by_page()`` yields pages
    (``ResourceCollection[T]``: ``items``, ``total_count`` of the page, ``links``). An error raised
    while paging carries ``continuation_token``: ``pager.by_page(err.continuation_token)`` resumes
    at the page that failed (None when the first page failed: start again). Nothing is requested
    until iteration starts; each iteration starts a new listing. Made by the client's ``list_*``
    methods, not constructed directly.

    A listing never loops: a next link already followed in it (same uri and headers) raises
    ``PagingError``, and so does a listing longer than ``Limits.max_pages``.

    Example:
        >>> pager = client.list_customers()
        >>> try:
        ...     async for page in pager.by_page():
        ...         save(page.items)
        ... except PartnerCenterError as err:
        ...     async for page in pager.by_page(err.continuation_token):
        ...         save(page.items)
    """

    def __init__(
        self,
        transport: Transport,
        first: PageRequest,
        decode: Callable[[Response], ResourceCollection[T]],
        *,
        route: str,
        customer_id: str | None = None,
        limits: Limits,
    ) -> None:
        self._transport = transport
        self._first = first
        self._decode = decode
        self._route = route
        self._customer_id = customer_id
        self._max_pages = limits.max_pages

    def __repr__(self) -> str:
        return f"<AsyncPager {self._route}>"

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.by_page():
            for item in page.items:
                yield item

    def by_page(
        self, continuation_token: str | None = None
    ) -> AsyncIterator[ResourceCollection[T]]:
        """The pages, from the first or from the one ``continuation_token`` names.

        Args:
            continuation_token: From a ``PartnerCenterError.continuation_token`` raised by this
                listing (or one of the same path), or None for the first page.

        Returns:
            An async iterator of ``ResourceCollection[T]``.

        Raises:
            UnsafeRequestError: A token this client did not issue, or for another listing.
            PagingError: A next link already followed, or more than ``Limits.max_pages`` pages.
            PartnerCenterError: A subclass, when a page fails after its retries; it carries the
                ``continuation_token`` of that page.
        """
        first = self._first if continuation_token is None else self._resume(continuation_token)
        return self._pages(first)

    async def _pages(self, request: PageRequest | None) -> AsyncIterator[ResourceCollection[T]]:
        followed: set[_Followed] = set()
        while request is not None:
            page, request = await self._page(request, followed)
            yield page

    async def _all(self) -> list[T]:
        """Every item of the listing from the first page, or the error: the fan-out's way to
        read a customer whole, with no async generator between its pages."""
        followed: set[_Followed] = set()
        items: list[T] = []
        request: PageRequest | None = self._first
        while request is not None:
            page, request = await self._page(request, followed)
            items += page.items
        return items

    async def _page(
        self, request: PageRequest, followed: set[_Followed]
    ) -> tuple[ResourceCollection[T], PageRequest | None]:
        """One page of the listing, and the request of the next (None at the end).

        ``followed`` holds the requests this listing sent: one sent again is a loop.
        """
        key = (request.url.raw_path_qs, request.headers)
        if key in followed:
            raise PagingError(
                f"GET {request.url.raw_path_qs}: the service sent a next link already "
                "followed in this listing; stopped to avoid a loop"
            )
        if len(followed) >= self._max_pages:
            raise PagingError(
                f"{self._route}: more than {self._max_pages} pages (Limits.max_pages); "
                "stopped to avoid an endless listing"
            )
        followed.add(key)
        try:
            response = await self._transport.get(
                request.url,
                route=self._route,
                headers=request.headers,
                customer_id=self._customer_id,
            )
            page = self._decode(response)
            return page, self._next(page)
        except PartnerCenterError as err:
            err.continuation_token = None if request == self._first else _encode(request)
            raise

    def _next(self, page: ResourceCollection[T]) -> PageRequest | None:
        link = page.links.next if page.links is not None else None
        if link is None:
            return None
        headers = tuple((header.key, header.value) for header in link.headers)
        check_link(link.uri, link.method, headers)
        return PageRequest(resolve_link(self._transport.origin, link.uri), headers)

    def _resume(self, token: str) -> PageRequest:
        try:
            state = _token_decoder.decode(base64.urlsafe_b64decode(token.encode("ascii")))
        except (ValueError, binascii.Error, msgspec.DecodeError):
            raise UnsafeRequestError(
                "continuation_token is not a token this client issued"
            ) from None
        url = resolve_link(self._transport.origin, state.path_qs)
        if url.path != self._first.url.path:
            raise UnsafeRequestError(
                f"continuation_token belongs to {url.path}, not to this listing "
                f"({self._first.url.path})"
            )
        headers = tuple(state.headers)
        check_link(state.path_qs, "GET", headers)
        return PageRequest(url, headers)


def _encode(request: PageRequest) -> str:
    """The opaque continuation token of ``request``: base64url of its path, query and headers."""
    state = _Token(request.url.raw_path_qs, list(request.headers))
    return base64.urlsafe_b64encode(msgspec.json.encode(state)).decode("ascii")
