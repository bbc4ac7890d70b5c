"""Bearer tokens: cached, refreshed early, one refresh shared by every concurrent caller.

Follows azure-core's ``AsyncBearerTokenCredentialPolicy``: refresh ``TOKEN_REFRESH_MARGIN`` seconds
before expiry, behind a lock created inside the running loop; a 401 drops the cached token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from azure.core.credentials import AccessToken
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError

from ._config import SCOPE, TOKEN_REFRESH_MARGIN
from ._errors import CredentialError


class TokenCache:
    """Caches the access token of one credential for one scope.

    Args:
        credential: Any ``AsyncTokenCredential`` (``await credential.get_token(scope)``).
        timeout: Seconds one ``get_token`` may take before it counts as failed.
        clock: Wall clock in seconds since the epoch (``AccessToken.expires_on`` is one).
    """

    __slots__ = ("_clock", "_credential", "_fetches", "_lock", "_timeout", "_token")

    def __init__(
        self,
        credential: AsyncTokenCredential,
        *,
        timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credential = credential
        self._timeout = timeout
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock: asyncio.Lock | None = None
        self._fetches = 0

    def __repr__(self) -> str:
        return f"<TokenCache cached={self._token is not None}>"

    def _fresh(self, token: AccessToken) -> bool:
        return token.expires_on - self._clock() > TOKEN_REFRESH_MARGIN

    def cached(self) -> str | None:
        """The cached token while it is valid for at least the refresh margin, else None."""
        token = self._token
        return token.token if token is not None and self._fresh(token) else None

    async def get(self) -> str:
        """Return a token valid for at least the refresh margin, fetching one if needed.

        Callers that waited on another's fetch take its token while it is valid at all, even when
        the credential issues tokens shorter-lived than the margin: one fetch serves them all.

        Raises:
            CredentialError: The credential raised, or took longer than ``timeout``.
        """
        if (cached := self.cached()) is not None:
            return cached
        if self._lock is None:
            self._lock = asyncio.Lock()
        fetches = self._fetches
        async with self._lock:
            token = self._token
            waited_for_one = fetches != self._fetches
            if token is None or not (
                self._fresh(token) or (waited_for_one and token.expires_on > self._clock())
            ):
                token = self._token = await self._request()
                self._fetches += 1
        return token.token

    def invalidate(self, token: str) -> None:
        """Drop the cached token if it is still ``token`` (the one a 401 refused)."""
        if self._token is not None and self._token.token == token:
            self._token = None

    async def _request(self) -> AccessToken:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._credential.get_token(SCOPE)
        except TimeoutError as err:
            raise CredentialError(
                f"the credential gave no token within {self._timeout:g} s"
            ) from err
        except (AzureError, ValueError, OSError) as err:
            raise CredentialError(
                f"the credential could not get a token for {SCOPE}: "
                f"{type(err).__name__}: {_reason(err)}"
            ) from err


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
