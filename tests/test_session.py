"""The session: headers on every request, the token cache, where requests may go, open and close."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from partnercenter_async import (
    SCOPE,
    ClientClosedError,
    Cloud,
    CredentialError,
    PartnerCenterClient,
    UnauthorizedError,
    UnsafeRequestError,
    __version__,
)
from partnercenter_async.testing import SAMPLE_CUSTOMER_ID, FakePartnerCenter, Fault

from .conftest import CountingCredential

MakeClient = Callable[..., PartnerCenterClient]


async def test_every_request_carries_the_standard_headers(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    [order async for order in client.list_orders(SAMPLE_CUSTOMER_ID)]
    await client.get_order(SAMPLE_CUSTOMER_ID, "YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1")
    assert len(fake.requests) == 2
    request_ids = set()
    for request in fake.requests:
        headers = request.headers
        assert headers["Authorization"] == "Bearer token-1"
        assert headers["Accept"] == "application/json"
        assert headers["MS-CorrelationId"] == client.correlation_id
        assert headers["X-Locale"] == "en-US"
        assert headers["User-Agent"].startswith(f"partnercenter-async/{__version__} ")
        request_id = uuid.UUID(headers["MS-RequestId"])
        assert request_id.version == 4 and str(request_id) == headers["MS-RequestId"]
        request_ids.add(request_id)
    assert len(request_ids) == len(fake.requests), "a new MS-RequestId per request"


async def test_correlation_id_and_locale_can_be_set(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    async with make_client(correlation_id="corr-1", locale="de-DE") as client:
        [customer async for customer in client.list_customers()]
    assert {r.headers["MS-CorrelationId"] for r in fake.requests} == {"corr-1"}
    assert {r.headers["X-Locale"] for r in fake.requests} == {"de-DE"}


async def test_concurrent_cold_callers_share_one_token_request(
    client: PartnerCenterClient, credential: CountingCredential, fake: FakePartnerCenter
) -> None:
    await client.gather_orders(fake.customer_ids[:20])
    assert credential.calls == 1
    assert credential.scopes == [SCOPE]


async def test_token_is_refreshed_before_it_expires(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    credential = CountingCredential(lifetime=200.0)  # inside the 5-minute refresh margin
    async with make_client(credential=credential) as client:
        for customer_id in fake.customer_ids[:3]:
            [order async for order in client.list_orders(customer_id)]
    assert credential.calls == len(fake.requests) >= 3


async def test_short_lived_tokens_are_still_fetched_once_for_concurrent_callers(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    credential = CountingCredential(lifetime=200.0)
    async with make_client(credential=credential) as client:
        await client.gather_orders(fake.customer_ids[:20])
    assert credential.calls < 20


async def test_credential_error_keeps_the_entra_id_reason(make_client: MakeClient) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    message = (
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials:\n\tEnvironmentCredential: Authentication failed: "
        "AADSTS7000215: Invalid client secret provided."
    )
    credential = CountingCredential(fail=ClientAuthenticationError(message))
    async with make_client(credential=credential) as client:
        with pytest.raises(CredentialError, match=r"failed to retrieve.*AADSTS7000215"):
            await client.get_order("c", "o")


async def test_401_gets_one_retry_with_a_new_token(
    client: PartnerCenterClient, credential: CountingCredential, fake: FakePartnerCenter
) -> None:
    customer_id = fake.customer_ids[1]
    fake.inject(customer_id, Fault.UNAUTHORIZED)
    orders = [order async for order in client.list_orders(customer_id)]
    assert len(orders) == len(fake.orders_of(customer_id))
    assert credential.calls == 2
    assert [r.headers["Authorization"] for r in fake.requests[:2]] == [
        "Bearer token-1",
        "Bearer token-2",
    ]


async def test_401_after_the_refresh_is_an_authentication_error(
    client: PartnerCenterClient, fake: FakePartnerCenter
) -> None:
    customer_id = fake.customer_ids[1]
    fake.inject(customer_id, Fault.UNAUTHORIZED, Fault.UNAUTHORIZED)
    with pytest.raises(UnauthorizedError) as caught:
        [order async for order in client.list_orders(customer_id)]
    assert caught.value.status == 401
    assert "token-" not in str(caught.value)


async def test_failing_credential_is_a_credential_error_at_once(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    credential = CountingCredential(fail=ClientAuthenticationError("AADSTS7000215: bad secret"))
    async with make_client(credential=credential) as client:
        with pytest.raises(CredentialError, match="AADSTS7000215"):
            await client.gather_orders(fake.customer_ids)
    assert fake.requests == []
    assert credential.calls <= client.max_concurrency, "no retry storm on the credential"


@pytest.mark.parametrize(
    "url",
    ["http://api.partnercenter.microsoft.com", "ftp://x", "https://h/v1", "https://u:p@h", "h"],
)
def test_base_url_must_be_an_https_origin(url: str, credential: CountingCredential) -> None:
    with pytest.raises(UnsafeRequestError):
        PartnerCenterClient(credential, base_url=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"])
def test_plain_http_is_allowed_to_loopback(url: str, credential: CountingCredential) -> None:
    assert PartnerCenterClient(credential, base_url=url).base_url.scheme == "http"


def test_clouds_by_name(credential: CountingCredential) -> None:
    china = PartnerCenterClient(credential, cloud="china")
    assert str(china.base_url) == "https://partner.partnercenterapi.microsoftonline.cn"
    assert (
        PartnerCenterClient(credential).base_url
        == PartnerCenterClient(credential, cloud=Cloud.USGOV).base_url
    )
    with pytest.raises(ValueError, match="unknown cloud"):
        PartnerCenterClient(credential, cloud="mars")


async def test_closed_client_refuses_work_and_closes_twice(client: PartnerCenterClient) -> None:
    await client.aclose()
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await client.get_order("c", "o")
    with pytest.raises(ClientClosedError):
        async with client:
            pass


async def test_repr_shows_no_secret(client: PartnerCenterClient) -> None:
    await client.gather_orders([])
    assert "token" not in repr(client).lower()
    assert "127.0.0.1" in repr(client)


async def test_caller_session_is_used_and_left_open(
    make_client: MakeClient, fake: FakePartnerCenter
) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with make_client(session=session) as client:
            [customer async for customer in client.list_customers()]
        assert not session.closed
    [request] = fake.requests  # the client's headers go with each request on a caller's session
    assert request.headers["MS-CorrelationId"] == client.correlation_id
    assert request.headers["Accept"] == "application/json"
    assert request.headers["X-Locale"] == "en-US"
