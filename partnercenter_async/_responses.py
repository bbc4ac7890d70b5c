"""One attempt's outcome, made safe to show: a 2xx ``Response``, or the typed failure it ended in.

The bearer token is redacted from every error body and message, and an aiohttp error is chained
as a cause only when neither it nor its own chain can show the token (aiohttp's response errors
carry the request's headers in ``request_info``).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TypedDict, TypeVar

import aiohttp
import msgspec
from yarl import URL

from ._errors import (
    STATUS_ERRORS,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    RateLimitError,
    ResponseDecodeError,
    ResponseTooLargeError,
    ServerError,
)
from ._models import ErrorBody, error_body_decoder, strip_bom

__all__ = [
    "BodyTooLarge",
    "Context",
    "Response",
    "connection_failure",
    "read_body",
    "redact",
    "status_failure",
    "too_large_failure",
]

T = TypeVar("T")

_BODY_START = 500
_REDACTED = "[redacted]"


class Context(TypedDict):
    """What every error of a request carries."""

    request_id: str
    correlation_id: str
    attempts: int


class Response:
    """A 2xx answer to one logical GET: its body (without BOM), where it came from, and the
    context its errors carry."""

    __slots__ = ("_token", "body", "context", "url")

    def __init__(self, url: URL, body: bytes, context: Context, *, token: str) -> None:
        self.url = url
        self.body = body
        self.context = context
        self._token = token  # only to redact it from error bodies; never shown

    def __repr__(self) -> str:
        return f"<Response GET {self.url.raw_path} {len(self.body)} bytes>"

    def decode(self, decoder: msgspec.json.Decoder[T], item: msgspec.Raw | None = None) -> T:
        """The body, or one ``item`` of it, decoded.

        Raises:
            ResponseDecodeError: Not JSON of the decoder's type, not UTF-8, or nested too deep;
                ``body_start`` holds the first 500 bytes, the bearer token redacted.
        """
        data = self.body if item is None else item
        try:
            return decoder.decode(data)
        except (ValueError, RecursionError) as err:  # msgspec's errors and UnicodeDecodeError too
            start = redact(bytes(data)[:_BODY_START], self._token)
            problem = (
                "is empty" if not start else f"does not decode ({redact_text(err, self._token)})"
            )
            what = f"GET {self.url.raw_path}" + (": an item" if item is not None else "")
            failure = ResponseDecodeError(
                f"{what}: the response body {problem}", body_start=start, **self.context
            )
        raise failure  # outside the except block: msgspec's error stays out of the chain


class BodyTooLarge(Exception):
    """A body longer than the limit: ``read_body`` stopped short and closed the connection."""


async def read_body(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, decompressed, never reading past ``limit`` bytes.

    Raises:
        BodyTooLarge: The declared length, or the bytes received (after decompression, chunked
            or not), pass ``limit``; the connection is closed.
    """
    declared = response.content_length
    if declared is not None and declared > limit:
        response.close()
        raise BodyTooLarge
    if declared is not None and "Content-Encoding" not in response.headers:
        return await response.read()  # aiohttp reads no more than the declared length
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():  # chunked, or inflating: count as it comes
        size += len(chunk)
        if size > limit:
            response.close()
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def redact(data: bytes, token: str) -> bytes:
    """``data`` with every copy of the bearer ``token`` replaced by ``[redacted]``."""
    return data.replace(token.encode(), _REDACTED.encode()) if token else data


def redact_text(value: object, token: str) -> str:
    """``str(value)`` with the bearer ``token`` replaced by ``[redacted]``."""
    return str(value).replace(token, _REDACTED) if token else str(value)


def connection_failure(
    url: URL,
    err: TimeoutError | aiohttp.ClientError,
    timeout: float | None,
    token: str,
    context: Context,
) -> APIConnectionError:
    """The typed failure of an attempt that got no usable answer: timed out, refused, reset,
    cut short; ``err`` chained when it is safe to show."""
    if isinstance(err, TimeoutError):
        failure: APIConnectionError = APITimeoutError(
            f"GET {url.raw_path} timed out after {timeout or 0:g} s", **context
        )
    elif isinstance(err, aiohttp.ClientPayloadError):
        failure = APIConnectionError(
            f"GET {url.raw_path} failed: the response body was cut short "
            f"({redact_text(err, token)})",
            **context,
        )
    else:
        text = redact_text(err, token)
        detail = f"{type(err).__name__}: {text}" if text else type(err).__name__
        failure = APIConnectionError(f"GET {url.raw_path} failed: {detail}", **context)
    node: BaseException | None = err
    while node is not None:
        if hasattr(node, "request_info") or token in repr(node) or token in str(node):
            return failure
        node = node.__cause__ or node.__context__
    failure.__cause__ = err
    return failure


def status_failure(
    url: URL, status: int, body: bytes, retry_after: float | None, context: Context
) -> APIStatusError:
    """The typed error of a non-2xx answer (``body`` already redacted), its body parsed in
    either shape when it can be."""
    try:
        parsed: ErrorBody | None = error_body_decoder.decode(strip_bom(body))
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        parsed = None
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown Status"
    message = f"GET {url.raw_path}: {status} {reason}"
    if parsed is not None:
        if detail := parsed.description or parsed.message:
            message += f": {detail[:_BODY_START]}"
        if parsed.code is not None:
            message += f" (code {parsed.code})"
    if status == 429:
        cls: type[APIStatusError] = RateLimitError
    elif status >= 500:
        cls = ServerError
    else:
        cls = STATUS_ERRORS.get(status, APIStatusError)
    return cls(message, status=status, body=parsed, retry_after=retry_after, **context)


def too_large_failure(url: URL, limit: int, context: Context) -> ResponseTooLargeError:
    """The typed failure of an attempt whose body is over ``limit`` bytes, refused unread."""
    return ResponseTooLargeError(
        f"GET {url.raw_path}: the response body is larger than {limit} bytes "
        "(Limits.max_body_bytes); not read on",
        limit=limit,
        **context,
    )
