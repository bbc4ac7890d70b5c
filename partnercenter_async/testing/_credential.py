"""A credential that hands out one fixed bearer token, for the fake service and demos."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, Self

from azure.core.credentials import AccessToken


class StaticTokenCredential:
    """An ``AsyncTokenCredential`` that always returns the same token, valid for `lifetime`.

    Example:
        >>> fake = FakePartnerCenter(FakeConfig(token="secret-token"))  # accepts only that token
        >>> client = PartnerCenterClient(StaticTokenCredential("secret-token"), base_url=...)

    Args:
        token: The bearer token to hand out.
        lifetime: Seconds each issued token claims to stay valid.
    """

    def __init__(self, token: str = "fake-token", *, lifetime: int = 3600) -> None:
        self._token = token
        self._lifetime = lifetime
        self.calls = 0

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """The fixed token, expiring `lifetime` seconds from now (Unix time)."""
        self.calls += 1
        return AccessToken(self._token, int(time.time()) + self._lifetime)

    async def close(self) -> None:
        """Nothing to release."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        pass

    def __repr__(self) -> str:
        return f"StaticTokenCredential(lifetime={self._lifetime})"  # never the token
