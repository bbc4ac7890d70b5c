"""Building request URLs: ids as single path segments, next links kept on the client's origin.

Source: ``shared/reference/partner-center.md``, "Paging": a next link's uri is relative, with or
without ``/v1``; join it to the host, add ``/v1`` only where the path lacks it, keep its query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode

from yarl import URL

from ._errors import UnsafeRequestError

API_VERSION = "/v1"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+").fullmatch  # RFC 3986's unreserved characters
_UNSENDABLE = re.compile(r"[\x00-\x20\x7f]|[^\x00-\x7f]")  # in a link: controls, space, non-ASCII
_CLIENTS_HEADERS = frozenset({"authorization", "host", "content-length"})
"""Headers only the client sets: a link naming one would replace the bearer token or the host."""


def path_segment(value: object, what: str) -> str:
    """Percent-encode ``value`` as one path segment, so that no id can change the path or query.

    Raises:
        UnsafeRequestError: ``value`` is not a string, is empty or blank, is ``.`` or ``..``,
            holds control characters, or is not valid Unicode (a lone surrogate).
    """
    if not isinstance(value, str) or not value.strip() or value in (".", ".."):
        raise UnsafeRequestError(f"{what} must be a non-empty string, got {value!r}")
    if _UNRESERVED(value):
        return value  # a GUID, the usual case: nothing to encode
    if _CONTROL.search(value):
        raise UnsafeRequestError(f"{what} must not contain control characters, got {value!r}")
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise UnsafeRequestError(f"{what} is not valid Unicode, got {value!r}") from None


def api_url(base: str, path: str, query: Mapping[str, str] | None = None) -> URL:
    """``base`` (an origin) + ``/v1`` + ``path`` (already encoded) + ``query`` (encoded here).

    Raises:
        UnsafeRequestError: A query value that is not valid Unicode (a lone surrogate).
    """
    url = f"{base}{API_VERSION}{path}"
    if query:
        try:
            url += "?" + urlencode(query, quote_via=quote)
        except UnicodeEncodeError:
            raise UnsafeRequestError(f"a query value is not valid Unicode: {query!r}") from None
    return URL(url, encoded=True)


def check_link(uri: str, method: str, headers: Sequence[tuple[str, str]]) -> None:
    """Refuse a next link that is not a plain GET, or whose uri or headers cannot be sent as is.

    Raises:
        UnsafeRequestError: The method is not GET (a link is followed with the bearer token, so
            only reads are); the uri has spaces, control or non-ASCII characters (they would
            reach the request line); a header name or value has control characters; a header
            is one only the client sets (``Authorization``, ``Host``, ``Content-Length``).
    """
    if method.upper() != "GET":
        raise UnsafeRequestError(f"refusing to follow a next link with method {method!r}")
    if not uri or _UNSENDABLE.search(uri):
        raise UnsafeRequestError(f"refusing to follow a next link whose uri is {uri[:200]!r}")
    for key, value in headers:
        if not key or _UNSENDABLE.search(key) or _CONTROL.search(value) or not value.isascii():
            raise UnsafeRequestError(
                f"refusing to follow a next link with an unsendable header {key[:100]!r}"
            )
        if key.lower() in _CLIENTS_HEADERS:
            raise UnsafeRequestError(f"refusing to follow a next link that sets {key}")


def resolve_link(base: URL, uri: str) -> URL:
    """The absolute URL of a link's ``uri``, which must stay on ``base``'s origin.

    The uri is used as given: its path gets ``/v1`` only where it lacks it, its query is kept.

    Raises:
        UnsafeRequestError: The uri names another scheme, host or port than ``base``, or is not
            a URL.
    """
    try:
        link = URL(uri, encoded=True)
    except ValueError as err:
        raise UnsafeRequestError(f"refusing to follow a link that is not a URL: {uri!r}") from err
    if link.absolute or uri.startswith("//"):
        if not link.scheme or link.origin() != base:
            raise UnsafeRequestError(
                f"refusing to follow a link to {link.with_query(None).with_fragment(None)!s}: "
                f"the bearer token is only sent to {base}"
            )
        uri = link.raw_path_qs
    elif not uri.startswith("/"):
        uri = "/" + uri
    if not (uri == API_VERSION or uri.startswith((API_VERSION + "/", API_VERSION + "?"))):
        uri = API_VERSION + uri
    return URL(f"{base}{uri}", encoded=True)
