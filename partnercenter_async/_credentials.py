"""App+User authentication: an async credential that redeems a stored refresh token.

Partner Center's "secure application model" has a partner's admin consent once, interactively;
the app stores the refresh token it got and redeems it for access tokens from then on.
azure-identity has no credential for that, so this module provides one.
"""

from __future__ import annotations

import inspect
import ssl
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import aiohttp
import msgspec
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

from ._auth import TokenCache
from ._config import Cloud

__all__ = ["USER_IMPERSONATION_SCOPE", "RefreshTokenCredential"]

USER_IMPERSONATION_SCOPE = "https://api.partnercenter.microsoft.com/user_impersonation"
"""The delegated (App+User) scope of Partner Center."""
_RESOURCE = "https://api.partnercenter.microsoft.com/"
_TIMEOUT = 30.0
_DESCRIPTION_LIMIT = 500


class _TokenResponse(msgspec.Struct):
    access_token: str | None = None
    expires_in: int | str | None = None
    expires_on: int | str | None = None
    refresh_token: str | None = None
    error: str | None = None
    error_description: str | None = None


_token_response = msgspec.json.Decoder(_TokenResponse)


class RefreshTokenCredential:
    """An ``AsyncTokenCredential`` for App+User access: redeems a refresh token for access tokens.

    Each access token comes from ``POST https://{authority}/{tenant_id}/oauth2/v2.0/token`` with
    ``grant_type=refresh_token`` and the scope ``{scope} offline_access``. It is cached and
    refreshed ``TOKEN_REFRESH_MARGIN`` (300) seconds before it expires; concurrent callers share
    one refresh. Microsoft Entra ID rotates refresh tokens: each new one replaces the old in
    memory and is handed to ``on_refresh_token`` so that the caller can store it.

    Args:
        tenant_id: The partner's tenant (directory) id.
        client_id: The application (client) id the refresh token was issued to.
        refresh_token: The stored refresh token.
        client_secret: The application's secret, for a confidential (web) app; None for a
            public client.
        authority: Microsoft Entra ID host, e.g. ``"login.microsoftonline.com"`` (the default),
            ``Cloud.CHINA.authority_host``, or ``"https://host:port"``; https only.
        scope: The delegated scope to ask for; the token is always for this scope.
        on_refresh_token: Called with each rotated refresh token (a plain function or a
            coroutine function). What it raises comes out of ``get_token``; the new token is
            kept in memory either way.
        connection_verify: True to verify TLS against the system's CAs, a path to a CA bundle
            (PEM) to verify against instead, or False to not verify (tests only).
        timeout: Seconds one token request may take.
        session: An aiohttp session to use; the caller closes it. By default the credential
            opens its own on first use and closes it in ``close()``.

    Raises:
        ValueError: An empty id or token, or an authority that is not https.

    Example:
        >>> credential = RefreshTokenCredential(
        ...     tenant_id, client_id, stored_token, client_secret=secret,
        ...     on_refresh_token=vault.save,
        ... )
        >>> async with credential, PartnerCenterClient(credential) as client:
        ...     orders = await client.gather_orders(customer_ids)
    """

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        refresh_token: str,
        *,
        client_secret: str | None = None,
        authority: str = Cloud.PUBLIC.authority_host,
        scope: str = USER_IMPERSONATION_SCOPE,
        on_refresh_token: Callable[[str], Awaitable[None] | None] | None = None,
        connection_verify: bool | str = True,
        timeout: float = _TIMEOUT,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        for name, value in (
            ("tenant_id", tenant_id),
            ("client_id", client_id),
            ("refresh_token", refresh_token),
        ):
            if not value or not value.strip():
                raise ValueError(f"{name} must not be empty")
        self._token_url = f"{normalize_authority(authority)}/{tenant_id.strip()}/oauth2/v2.0/token"
        self._client_id = client_id.strip()
        self._refresh_token = refresh_token.strip()
        self._client_secret = client_secret
        self._scope = scope
        self._on_refresh_token = on_refresh_token
        self._verify = connection_verify
        self._ssl: ssl.SSLContext | None = None
        self._timeout = timeout
        self._session = session
        self._owns_session = session is None
        self._tokens = TokenCache(self._redeem)
        self._unsaved: str | None = None  # a rotated refresh token not yet handed over
        self.refreshes = 0
        """Token requests made so far (successful or not)."""

    def __repr__(self) -> str:  # never a token or the secret
        return f"<RefreshTokenCredential token_url={self._token_url!r} scope={self._scope!r}>"

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """Return an access token for ``scope``, from the cache or from one token request.

        Args:
            *scopes: What the caller asks for; any Partner Center scope (such as
                ``https://api.partnercenter.microsoft.com/.default``) is answered with a token
                for this credential's ``scope``.
            claims, tenant_id, enable_cae, **kwargs: Accepted for the ``AsyncTokenCredential``
                protocol and ignored.

        Returns:
            ``AccessToken(token, expires_on)``, ``expires_on`` in seconds since the epoch, valid
            for more than 300 seconds when the service grants that much.

        Raises:
            ValueError: A scope of another resource.
            azure.core.exceptions.ClientAuthenticationError: Microsoft Entra ID refused (its
                error code and description are in the message) or could not be reached.
        """
        for scope in scopes:
            if not scope.startswith(_RESOURCE):
                raise ValueError(f"this credential gives Partner Center tokens only, not {scope!r}")
        token = await self._tokens.get()  # cached even when the store below fails
        await self._hand_over()
        return token

    async def _redeem(self) -> AccessToken:
        form = {
            "client_id": self._client_id,
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "scope": f"{self._scope} offline_access",
        }
        if self._client_secret:
            form["client_secret"] = self._client_secret
        self.refreshes += 1
        requested = time.time()
        try:
            async with self._open().post(
                self._token_url,
                data=form,
                headers={"Accept": "application/json"},
                ssl=self._ssl_context(),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                status = response.status
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            raise ClientAuthenticationError(
                message=f"could not reach {self._token_url}: {detail}"
            ) from err
        try:
            content = _token_response.decode(body)
        except msgspec.DecodeError as err:
            raise ClientAuthenticationError(
                message=f"{self._token_url} answered {status} with a body that is not a token "
                "response"
            ) from err
        if status != 200 or content.error or not content.access_token:
            description = (content.error_description or "").strip().splitlines()
            raise ClientAuthenticationError(
                message=f"Microsoft Entra ID refused the refresh token ({status} "
                f"{content.error or 'no access_token'})"
                + (f": {description[0][:_DESCRIPTION_LIMIT]}" if description else "")
            )
        if content.refresh_token and content.refresh_token != self._refresh_token:
            self._refresh_token = self._unsaved = content.refresh_token
        return AccessToken(content.access_token, _expires_on(content, requested))

    async def _hand_over(self) -> None:
        """Give the last rotated refresh token to ``on_refresh_token``, once."""
        new, self._unsaved = self._unsaved, None
        if new is not None and self._on_refresh_token is not None:
            saved = self._on_refresh_token(new)
            if inspect.isawaitable(saved):
                await saved

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def _ssl_context(self) -> ssl.SSLContext | bool:
        if isinstance(self._verify, str):
            if self._ssl is None:
                self._ssl = ssl.create_default_context(cafile=self._verify)
            return self._ssl
        return self._verify

    async def close(self) -> None:
        """Close the credential's own session; safe to call twice."""
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.close()


def normalize_authority(authority: str) -> str:
    """``"host"`` or ``"https://host[:port]"`` → ``"https://host[:port]"``, as azure-identity does.

    Raises:
        ValueError: A scheme other than https, or no host.
    """
    authority = authority.strip().rstrip("/")
    if "://" not in authority:
        authority = f"https://{authority}"
    parts = urlsplit(authority)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"the authority must be an https host, got {authority!r}")
    return authority


def _expires_on(content: _TokenResponse, requested: float) -> int:
    """Expiry in seconds since the epoch; Entra ID sends ``expires_in`` (sometimes a string)."""
    try:
        if content.expires_on is not None:
            return int(content.expires_on)
        if content.expires_in is not None:
            return int(requested + int(content.expires_in))
    except ValueError:
        pass
    raise ClientAuthenticationError(message="the token response gives no usable expiry")
