"""Fault soak: thousands of customers, one request in ten faulted, a server-side rate limit.

Runs on the real clock (the server's limit is in real seconds): about half a minute. Deselect
with ``-m "not soak"`` for quick runs; ``.ci/run`` runs it.
"""

from __future__ import annotations

import pytest
from pytest_aiohttp import AiohttpServer

from partnercenter_async import PartnerCenterClient
from partnercenter_async.testing import FakeConfig, FakePartnerCenter, Fault

from .conftest import CountingCredential

SERVER_RATE = 12_000.0  # requests per minute, over a sliding 5 s window: 1,000 per window
CLIENT_RATE = 1.5 * SERVER_RATE  # the user does not know the real limit


@pytest.mark.soak
@pytest.mark.timeout(300)
async def test_soak_every_order_exactly_once(aiohttp_server: AiohttpServer) -> None:
    fake = FakePartnerCenter(
        FakeConfig(
            seed=11,
            customers=2_000,
            fault_rate=0.1,
            fault_kinds=(
                Fault.SERVER_ERROR,
                Fault.UNAVAILABLE,
                Fault.BAD_GATEWAY,
                Fault.RESET,
                Fault.RESET_MID_BODY,
                Fault.TRUNCATED,
                Fault.THROTTLE,
            ),
            retry_after=0,
            requests_per_minute=SERVER_RATE,
            rate_window=5.0,
        )
    )
    server = await aiohttp_server(fake.app)
    async with PartnerCenterClient(
        CountingCredential(),
        base_url=str(server.make_url("")).rstrip("/"),
        requests_per_minute=CLIENT_RATE,
        max_concurrency=32,
    ) as client:
        result = await client.gather_orders(fake.customer_ids)

    assert set(result) == set(fake.customer_ids), "no customer missing"
    for customer_id, orders in result.items():
        assert [o.id for o in orders] == [o["id"] for o in fake.orders_of(customer_id)]
    assert fake.stats.faulted >= 0.09 * fake.stats.requests
    # The server admitted nothing over its limit (it refuses instead), so what matters is how
    # often the client ran into it: 429s from the limit, once the first one taught the client.
    first = next(i for i, r in enumerate(fake.requests) if r.at >= fake.requests[0].at + 5.0)
    assert fake.stats.rate_limited / (len(fake.requests) - first) < 0.02
