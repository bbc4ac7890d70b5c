"""Hostile answers of the fake Partner Center: what a broken or malicious service could send.

Each `Fault` from ``HUGE_BODY`` on (see their comments in `_config`) is answered here, after the
gateway has recorded the request, applied the rate limit and checked the token. The service hooks
this module in with one call, `Hostile.answer`, which returns None for anything not hostile.

Loops go on by their continuation token: a request carrying a token this module minted gets the
same misbehaviour again, so a single ``fake.inject(customer_id, Fault.SELF_LOOP)`` loops for as
long as a client follows. Streamed bodies pace themselves (``CHUNK`` bytes, then a millisecond's
pause), stop when the client disconnects or the server shuts down, and add what they wrote to
`Hostile.streamed_bytes`, so a test can tell how far a client read before it gave up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import struct
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from urllib.parse import urlencode

import msgspec
from aiohttp import web

from ._config import Fault

__all__ = ["DEEP_JSON_DEPTH", "FAULTS", "HUGE_LENGTH", "Hostile", "gzip_bomb"]

FAULTS = frozenset(
    {
        Fault.BAD_REQUEST,
        Fault.HUGE_BODY,
        Fault.ENDLESS_CHUNKED,
        Fault.GZIP_BOMB,
        Fault.SELF_LOOP,
        Fault.ENDLESS_EMPTY_PAGES,
        Fault.DEEP_JSON,
        Fault.NEXT_LINK_CRLF,
        Fault.NEXT_LINK_DELETE,
        Fault.NEXT_LINK_SPACE,
        Fault.NEXT_LINK_AUTH,
        Fault.ECHO_AUTH_ERROR,
        Fault.ECHO_AUTH_SERVER_ERROR,
        Fault.ECHO_AUTH_NOT_JSON,
        Fault.HUGE_HEADER,
    }
)
HUGE_LENGTH = 2**31
"""The Content-Length of a HUGE_BODY answer: 2 GiB."""
BOMB_SIZE = 2**30
"""Bytes a GZIP_BOMB body inflates to, besides its JSON head: 1 GiB."""
DEEP_JSON_DEPTH = 2_000
"""Nesting of a DEEP_JSON body's ``provisioningContext`` (msgspec recurses past ~1,000)."""
CHUNK = 64 * 1024
"""Bytes a stream writes before each pause of `PAUSE` seconds: at most 64 MiB/s, so that a
client that reads without a limit grows slowly enough for a test to stop it."""
PAUSE = 0.001
HEADER_SIZE = 10_000
"""Length of a HUGE_HEADER's value; aiohttp's client refuses fields over 8,190 bytes."""

_TOKEN_HEADER = "MS-ContinuationToken"
_LOOP_TOKEN = "hostile-loop,v=1/+_"
_EMPTY_PREFIX = "hostile-empty,n="
_JSON_TYPE = "application/json; charset=utf-8"
_HEAD = b'{"totalCount": 1, "items": ['
_BOM = b"\xef\xbb\xbf"

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


@functools.cache
def gzip_bomb() -> bytes:
    """A gzip member of about 1 MiB that inflates to ``_HEAD`` and then `BOMB_SIZE` spaces.

    Built once per process in well under a second: one MiB of spaces is deflated with a full
    flush (a byte-aligned, self-contained run of blocks, ~1 KiB) and that run is repeated.
    """
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = raw.compress(_HEAD) + raw.flush(zlib.Z_FULL_FLUSH)
    block = b" " * 2**20
    run = raw.compress(block) + raw.flush(zlib.Z_FULL_FLUSH)
    tail = raw.flush(zlib.Z_FINISH)
    crc = zlib.crc32(_HEAD)
    for _ in range(BOMB_SIZE // len(block)):
        crc = zlib.crc32(block, crc)
    size = (len(_HEAD) + BOMB_SIZE) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # gzip, deflate, no name, no mtime
    body = head + run * (BOMB_SIZE // len(block)) + tail
    return header + body + struct.pack("<II", crc, size)


@functools.cache
def _deep_page() -> bytes:
    nested = b'{"a": ' * DEEP_JSON_DEPTH + b"1" + b"}" * DEEP_JSON_DEPTH
    item = b'{"id": "deep", "lineItems": [{"lineItemNumber": 0, "provisioningContext": '
    return _HEAD + item + nested + b"}]}], " + b'"attributes": {"objectType": "Collection"}}'


def _json(status: int, document: object, echo: Mapping[str, str]) -> web.Response:
    headers = {**echo, "Content-Type": _JSON_TYPE}
    return web.Response(status=status, body=msgspec.json.encode(document), headers=headers)


def _first_page_uri(request: web.Request, *, seek: bool = False) -> str:
    """The listing's uri as the service writes links: no ``/v1``, query kept, seek optional."""
    query = [(k, v) for k, v in request.query.items() if k != "seekOperation"]
    if seek:
        query.append(("seekOperation", "Next"))
    path = request.path.removeprefix("/v1")
    return f"{path}?{urlencode(query)}" if query else path


def _next(uri: str, token: str, method: str = "GET") -> dict[str, object]:
    return {"uri": uri, "method": method, "headers": [{"key": _TOKEN_HEADER, "value": token}]}


class Hostile:
    """The hostile answers of one fake, and what its streams sent.

    Attributes:
        streamed_bytes: Bytes written by every stream (HUGE_BODY, ENDLESS_CHUNKED, GZIP_BOMB).
        streams: Streams started.
        open_streams: Streams still writing.
    """

    def __init__(self) -> None:
        self.streamed_bytes = 0
        self.streams = 0
        self.open_streams = 0
        self._transports: set[asyncio.Transport] = set()
        self._stopping = False

    async def on_shutdown(self, app: web.Application) -> None:
        """Stop every stream: a client that no longer reads must not hold the shutdown."""
        self._stopping = True
        for transport in list(self._transports):
            transport.abort()

    async def answer(
        self, request: web.Request, fault: Fault | None, echo: Mapping[str, str], route: Route
    ) -> web.StreamResponse | None:
        """The hostile answer to `request`, or None to answer it normally.

        Args:
            request: The request, authenticated.
            fault: The fault drawn for it, if any (non-hostile ones are ignored).
            echo: The ``MS-RequestId``/``MS-CorrelationId``/``MS-CV`` headers to send back.
            route: Answers a request normally (a listing's real page).
        """
        token = request.headers.get(_TOKEN_HEADER, "")
        if fault not in FAULTS:
            if token == _LOOP_TOKEN:
                fault = Fault.SELF_LOOP
            elif token.startswith(_EMPTY_PREFIX):
                fault = Fault.ENDLESS_EMPTY_PAGES
            else:
                return None
        auth = request.headers.get("Authorization", "")
        match fault:
            case Fault.BAD_REQUEST:
                return _json(400, _error_body(400, "The request is not valid."), echo)
            case Fault.HUGE_BODY | Fault.ENDLESS_CHUNKED:
                length = HUGE_LENGTH if fault is Fault.HUGE_BODY else None
                return await self._stream(request, echo, _spaces(length), length, {})
            case Fault.GZIP_BOMB:
                bomb = gzip_bomb()
                chunks = (bomb[i : i + CHUNK] for i in range(0, len(bomb), CHUNK))
                gzip = {"Content-Encoding": "gzip"}
                return await self._stream(request, echo, chunks, len(bomb), gzip)
            case Fault.ENDLESS_EMPTY_PAGES:
                count = token.removeprefix(_EMPTY_PREFIX).partition("/")[0]
                n = int(count) if token.startswith(_EMPTY_PREFIX) and count.isdigit() else 0
                page = {
                    "totalCount": 0,
                    "items": [],
                    "links": {
                        "self": {"uri": _first_page_uri(request), "method": "GET", "headers": []},
                        "next": _next(
                            _first_page_uri(request, seek=True), f"{_EMPTY_PREFIX}{n + 1}/+_"
                        ),
                    },
                    "attributes": {"objectType": "Collection"},
                }
                return _json(200, page, echo)
            case Fault.DEEP_JSON:
                return web.Response(body=_deep_page(), headers={**echo, "Content-Type": _JSON_TYPE})
            case Fault.ECHO_AUTH_ERROR:
                body = _error_body(400, f"Invalid header Authorization: {auth}")
                return _json(400, body | {"data": [auth], "message": auth}, echo)
            case Fault.ECHO_AUTH_SERVER_ERROR:
                body = _error_body(500, f"Unexpected failure serving Authorization: {auth}")
                body["message"] = f"request headers: Authorization={auth}"
                return _json(500, body, echo)
            case Fault.ECHO_AUTH_NOT_JSON:
                text = f"<html>Unexpected request. Authorization: {auth}</html>"
                return web.Response(
                    body=text.encode(), headers={**echo, "Content-Type": _JSON_TYPE}
                )
            case Fault.HUGE_HEADER:
                response = await route(request)
                filler = "x" * HEADER_SIZE
                response.headers["X-Debug-Request"] = f"Authorization={auth}; {filler}"
                return response
            case _:  # the next-link faults: the real page, its next link replaced
                return await self._relink(request, fault, route)

    async def _relink(self, request: web.Request, fault: Fault, route: Route) -> web.StreamResponse:
        real = await route(request)
        if real.status != 200 or not isinstance(real, web.Response):
            return real
        body = real.body if isinstance(real.body, bytes) else b""
        page = msgspec.json.decode(body.removeprefix(_BOM))
        first, seek = _first_page_uri(request), _first_page_uri(request, seek=True)
        match fault:
            case Fault.SELF_LOOP:
                link = _next(first, _LOOP_TOKEN)
            case Fault.NEXT_LINK_CRLF:
                link = _next(seek, "b2Zmc2V0PTI=,v=1\r\nX-Injected: yes")
            case Fault.NEXT_LINK_DELETE:
                link = _next(seek, "b2Zmc2V0PTI=,v=1/+_", "DELETE")
            case Fault.NEXT_LINK_AUTH:
                link = _next(seek, "b2Zmc2V0PTI=,v=1/+_")
                link["headers"] = [
                    *link["headers"],  # type: ignore[misc]
                    {"key": "Authorization", "value": "Bearer the-link-s-own"},
                    {"key": "Host", "value": "elsewhere.example"},
                ]
            case _:  # Fault.NEXT_LINK_SPACE
                link = _next(f"{seek} HTTP/1.1\r\nX-Injected: yes", "b2Zmc2V0PTI=,v=1/+_")
        page.setdefault("links", {})["next"] = link
        real.body = msgspec.json.encode(page)
        return real

    async def _stream(
        self,
        request: web.Request,
        echo: Mapping[str, str],
        chunks: Iterator[bytes],
        length: int | None,
        extra: Mapping[str, str],
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={**echo, "Content-Type": _JSON_TYPE, **extra})
        if length is None:
            response.enable_chunked_encoding()
        else:
            response.content_length = length
        transport = request.transport
        self.streams += 1
        self.open_streams += 1
        if transport is not None:
            self._transports.add(transport)
        try:
            await response.prepare(request)
            with contextlib.suppress(ConnectionError):
                for chunk in chunks:
                    if self._stopping or transport is None or transport.is_closing():
                        break
                    await response.write(chunk)
                    self.streamed_bytes += len(chunk)
                    await asyncio.sleep(PAUSE)
        finally:
            self.open_streams -= 1
            if transport is not None:
                self._transports.discard(transport)
        return response


def _spaces(length: int | None) -> Iterator[bytes]:
    """``_HEAD`` then spaces: `length` bytes in all, or forever when None."""
    yield _HEAD
    left = None if length is None else length - len(_HEAD)
    block = b" " * CHUNK
    while left is None or left > 0:
        piece = block if left is None or left >= CHUNK else block[:left]
        if left is not None:
            left -= len(piece)
        yield piece


def _error_body(status: int, description: str) -> dict[str, object]:
    return {
        "code": status * 1000,
        "description": description,
        "errorName": "BadRequest" if status < 500 else "InternalServerError",
        "isRetryable": status >= 500,
        "data": [],
        "source": "PartnerFD",
    }
