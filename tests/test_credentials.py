"""Authentication for real: azure-identity's own credential classes and our RefreshTokenCredential
against a fake Microsoft Entra ID over TLS (a throwaway CA), their tokens used by the client on the
fake Partner Center."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme
from azure.core.exceptions import ClientAuthenticationError
from azure.identity.aio import CertificateCredential, ClientSecretCredential

from partnercenter_async import (
    SCOPE,
    CredentialError,
    PartnerCenterClient,
    RefreshTokenCredential,
)
from partnercenter_async.testing import FakeConfig, FakeEntraID, FakePartnerCenter

USER_SCOPE = "https://api.partnercenter.microsoft.com/user_impersonation offline_access"


@pytest.fixture
async def entra() -> AsyncIterator[FakeEntraID]:
    async with FakeEntraID() as fake:
        yield fake


def refresh_credential(entra: FakeEntraID, **kwargs: Any) -> RefreshTokenCredential:
    options: dict[str, Any] = {
        "client_secret": entra.client_secret,
        "authority": entra.authority,
        "connection_verify": str(entra.ca_file),
    }
    options.update(kwargs)
    return RefreshTokenCredential(
        entra.tenant_id,
        entra.client_id,
        options.pop("refresh_token", entra.refresh_token),
        **options,
    )


def secret_credential(entra: FakeEntraID, secret: str | None = None) -> ClientSecretCredential:
    return ClientSecretCredential(
        entra.tenant_id,
        entra.client_id,
        secret or entra.client_secret,
        authority=entra.authority,
        connection_verify=str(entra.ca_file),
    )


def authorizations(fake: FakePartnerCenter) -> list[str]:
    return [r.headers["Authorization"] for r in fake.requests]


# -- azure-identity's ClientSecretCredential, App-only --------------------------------------------


async def test_app_only_token_is_issued_over_tls_and_used(entra: FakeEntraID) -> None:
    config = FakeConfig(customers=3, token=entra.access_token(1))  # accepts only that token
    async with (
        FakePartnerCenter(config) as fake,
        secret_credential(entra) as credential,
        PartnerCenterClient(credential, base_url=fake.base_url) as client,
    ):
        orders = await client.gather_orders(fake.customer_ids)
    assert sum(map(len, orders.values())) == sum(len(fake.orders_of(c)) for c in orders)
    assert [(r.grant_type, r.scope, r.status) for r in entra.requests] == [
        ("client_credentials", SCOPE, 200)
    ], "one token for the whole run, nothing else asked of Entra ID"
    assert set(authorizations(fake)) == {f"Bearer {entra.access_token(1)}"}


async def test_an_expired_token_is_refreshed_and_the_new_one_used(entra: FakeEntraID) -> None:
    entra.lifetime = 0  # every token expires at once: each request needs a new one
    async with (
        FakePartnerCenter(FakeConfig(customers=3)) as fake,
        secret_credential(entra) as credential,
        PartnerCenterClient(credential, base_url=fake.base_url, max_concurrency=1) as client,
    ):
        for customer_id in fake.customer_ids:
            [order async for order in client.list_orders(customer_id)]
    assert len(entra.issued) == len(fake.requests) > len(fake.customer_ids)
    assert authorizations(fake) == [f"Bearer {token}" for token in entra.issued]


async def test_a_wrong_client_secret_is_a_credential_error_naming_the_reason(
    entra: FakeEntraID,
) -> None:
    async with (
        FakePartnerCenter(FakeConfig(customers=1)) as fake,
        secret_credential(entra, "not-the-secret-42") as credential,
        PartnerCenterClient(credential, base_url=fake.base_url) as client,
    ):
        with pytest.raises(CredentialError) as caught:
            await client.gather_orders(fake.customer_ids)
    assert "AADSTS7000215" in str(caught.value.__cause__)
    assert "not-the-secret-42" not in str(caught.value)
    assert fake.requests == [], "no request goes out without a token"


async def test_a_certificate_credential_signs_its_way_to_a_token() -> None:
    app = trustme.CA().issue_cert("partner-app.example", key_type=trustme.KeyType.RSA)
    certificate = app.cert_chain_pems[0].bytes()
    async with FakeEntraID(client_certificate=certificate) as entra:
        config = FakeConfig(customers=2, token=entra.access_token(1))
        async with (
            FakePartnerCenter(config) as fake,
            CertificateCredential(
                entra.tenant_id,
                entra.client_id,
                certificate_data=app.private_key_and_cert_chain_pem.bytes(),
                authority=entra.authority,
                connection_verify=str(entra.ca_file),
            ) as credential,
            PartnerCenterClient(credential, base_url=fake.base_url) as client,
        ):
            orders = await client.gather_orders(fake.customer_ids)
        assert set(orders) == set(fake.customer_ids)
        assert [(r.grant_type, r.status) for r in entra.requests] == [("client_credentials", 200)]

        # Signed with a certificate that is not the registered one:
        other = trustme.CA().issue_cert("someone-else.example", key_type=trustme.KeyType.RSA)
        async with CertificateCredential(
            entra.tenant_id,
            entra.client_id,
            certificate_data=other.private_key_and_cert_chain_pem.bytes(),
            authority=entra.authority,
            connection_verify=str(entra.ca_file),
        ) as credential:
            with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
                await credential.get_token(SCOPE)


# -- RefreshTokenCredential, App+User ------------------------------------------------------------


async def test_refresh_token_is_redeemed_for_user_impersonation(entra: FakeEntraID) -> None:
    async with refresh_credential(entra) as credential:
        token = await credential.get_token(SCOPE)
    assert token.token == entra.access_token(1)
    assert abs(token.expires_on - (time.time() + 3600)) < 60
    assert [(r.grant_type, r.scope, r.status) for r in entra.requests] == [
        ("refresh_token", USER_SCOPE, 200)
    ]


async def test_concurrent_callers_share_one_refresh_and_then_the_cache(
    entra: FakeEntraID,
) -> None:
    async with refresh_credential(entra) as credential:
        tokens = await asyncio.gather(*(credential.get_token(SCOPE) for _ in range(20)))
        again = await credential.get_token(SCOPE)
    assert {t.token for t in tokens} == {again.token} == {entra.access_token(1)}
    assert len(entra.requests) == credential.refreshes == 1


async def test_each_rotated_refresh_token_is_handed_over_and_redeemed_next(
    entra: FakeEntraID,
) -> None:
    entra.lifetime = 240  # under the 5-minute margin: each call refreshes
    stored: list[str] = []

    async def store(token: str) -> None:
        await asyncio.sleep(0)
        stored.append(token)

    async with refresh_credential(entra, on_refresh_token=store) as credential:
        first = await asyncio.gather(*(credential.get_token(SCOPE) for _ in range(10)))
        second = await credential.get_token(SCOPE)
        third = await credential.get_token(SCOPE)
    assert {t.token for t in first} == {entra.access_token(1)}, "one refresh for ten callers"
    assert (second.token, third.token) == (entra.access_token(2), entra.access_token(3))
    # The fake honours only the latest refresh token: each success proves the rotated one was used.
    assert [r.status for r in entra.requests] == [200, 200, 200]
    assert stored == [f"0.AXEAfake-refresh-token-{n}" for n in (1, 2, 3)]
    assert stored[-1] == entra.refresh_token


async def test_a_failing_store_is_raised_but_the_token_kept(entra: FakeEntraID) -> None:
    def store(token: str) -> None:
        raise OSError("vault unavailable")

    async with refresh_credential(entra, on_refresh_token=store) as credential:
        with pytest.raises(OSError, match="vault unavailable"):
            await credential.get_token(SCOPE)
        token = await credential.get_token(SCOPE)
    assert token.token == entra.access_token(1) and credential.refreshes == 1


async def test_a_refused_refresh_token_gives_entra_ids_reason_and_no_secret(
    entra: FakeEntraID,
) -> None:
    stale = "0.AXEAstale-refresh-token"
    async with refresh_credential(entra, refresh_token=stale) as credential:
        with pytest.raises(ClientAuthenticationError) as caught:
            await credential.get_token(SCOPE)
    message = str(caught.value)
    assert "invalid_grant" in message and "AADSTS70000" in message
    assert stale not in message and entra.client_secret not in message
    assert "Trace ID" not in message, "only the first line of the description"
    assert stale not in repr(credential) and entra.client_secret not in repr(credential)


async def test_a_wrong_secret_and_an_unreachable_authority_are_authentication_errors(
    entra: FakeEntraID,
) -> None:
    async with refresh_credential(entra, client_secret="wrong-secret") as credential:
        with pytest.raises(ClientAuthenticationError, match=r"invalid_client.*AADSTS7000215"):
            await credential.get_token(SCOPE)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    async with refresh_credential(entra, authority=f"127.0.0.1:{port}") as credential:
        with pytest.raises(ClientAuthenticationError, match="could not reach"):
            await credential.get_token(SCOPE)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="https"):
        RefreshTokenCredential("t", "c", "r", authority="http://login.example")
    with pytest.raises(ValueError, match="refresh_token"):
        RefreshTokenCredential("t", "c", " ")
    credential = RefreshTokenCredential("t", "c", "r")
    with pytest.raises(ValueError, match="Partner Center"):
        asyncio.run(credential.get_token("https://graph.microsoft.com/.default"))


async def test_the_client_uses_the_app_and_user_token(entra: FakeEntraID) -> None:
    config = FakeConfig(customers=2, token=entra.access_token(1))
    async with (
        FakePartnerCenter(config) as fake,
        refresh_credential(entra) as credential,
        PartnerCenterClient(credential, base_url=fake.base_url) as client,
    ):
        orders = await client.gather_orders(fake.customer_ids)
    assert set(orders) == set(fake.customer_ids)
    assert len(entra.requests) == 1
