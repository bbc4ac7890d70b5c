"""Bearer tokens: one single-flight cache, used by the client and by ``RefreshTokenCredential``.

Follows azure-core's ``AsyncBearerTokenCredentialPolicy``: refresh ``TOKEN_REFRESH_MARGIN`` seconds
before expiry, behind a lock created inside the running loop; a 401 drops the cached token.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable

from azure.core.credentials import AccessToken
from azure.core.credentials_async import AsyncTokenCredential

from ._config import SCOPE, TOKEN_REFRESH_MARGIN
from ._errors import CredentialError

_USABLE_TOKEN = re.compile(r"[\x21-\x7e]+").fullmatch  # visible ASCII: no space, CR, LF, NUL


class TokenCache:
    """Caches one token; concurrent callers that find it stale share one fetch.

    Args:
        fetch: Gets a new token (a coroutine function); what it raises reaches the caller that
            fetched, and each waiter then tries for itself.
        clock: Wall clock in seconds since the epoch (``AccessToken.expires_on`` is one).
    """

    __slots__ = ("_clock", "_fetch", "_fetches", "_lock", "_token")

    def __init__(
        self, fetch: Callable[[], Awaitable[AccessToken]], *, clock: Callable[[], float] = time.time
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock: asyncio.Lock | None = None
        self._fetches = 0

    def __repr__(self) -> str:
        return f"<TokenCache cached={self._token is not None}>"

    async def get(self) -> AccessToken:
        """A token valid for at least ``TOKEN_REFRESH_MARGIN`` seconds, fetched if need be.

        Callers that waited on another's fetch take its token while it is valid at all, even when
        the issuer grants tokens shorter-lived than the margin: one fetch serves them all.
        """
        token = self._token
        if token is not None and self._fresh(token):
            return token
        if self._lock is None:
            self._lock = asyncio.Lock()
        fetches = self._fetches
        async with self._lock:
            token = self._token
            shared = fetches != self._fetches  # another caller fetched while this one waited
            if token is not None and (
                self._fresh(token) or (shared and token.expires_on > self._clock())
            ):
                return token
            token = self._token = await self._fetch()
            self._fetches += 1
            return token

    def _fresh(self, token: AccessToken) -> bool:
        """Valid for at least ``TOKEN_REFRESH_MARGIN`` seconds more."""
        return token.expires_on - self._clock() > TOKEN_REFRESH_MARGIN

    def invalidate(self, token: str) -> None:
        """Drop the cached token if it is still ``token`` (the one a 401 refused)."""
        if self._token is not None and self._token.token == token:
            self._token = None


def credential_fetcher(
    credential: AsyncTokenCredential, *, timeout: float
) -> Callable[[], Awaitable[AccessToken]]:
    """A ``TokenCache`` fetch that asks ``credential`` for a Partner Center token (``SCOPE``).

    Raises (from the fetch):
        CredentialError: The credential raised anything, took longer than ``timeout`` seconds,
            or gave a token that cannot go in a header (empty, or with spaces or control
            characters). The message never holds the token; the cause is chained only when it
            is the credential's own error.
    """

    async def fetch() -> AccessToken:
        try:
            async with asyncio.timeout(timeout):
                token = await credential.get_token(SCOPE)
        except TimeoutError as err:
            raise CredentialError(f"the credential gave no token within {timeout:g} s") from err
        except Exception as err:  # any credential, any failure: typed for the caller
            raise CredentialError(
                f"the credential could not get a token for {SCOPE}: "
                f"{type(err).__name__}: {_reason(err)}"
            ) from err
        value, expires_on = getattr(token, "token", None), getattr(token, "expires_on", None)
        if not (isinstance(value, str) and _USABLE_TOKEN(value)) or not isinstance(
            expires_on, int | float
        ):
            raise CredentialError(
                "the credential gave a token that cannot be used (empty, with spaces or control "
                "characters, or without a numeric expiry); check the credential"
            )
        return token

    return fetch


def _reason(err: BaseException) -> str:
    """The first line of ``err``, and its Microsoft Entra ID (``AADSTS...``) line if any.

    ``DefaultAzureCredential`` puts its summary first and each credential's reason below it.
    """
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if not lines:
        return "no reason given"
    aadsts = next((line for line in lines if "AADSTS" in line), None)
    reason = lines[0] if aadsts in (None, lines[0]) else f"{lines[0]} {aadsts}"
    return reason[:500]
