"""Fixtures: the fake Partner Center on a real socket, a counting credential, fake time."""

from __future__ import annotations

import asyncio
import random
import selectors
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from azure.core.credentials import AccessToken
from pytest_aiohttp import AiohttpServer

from partnercenter_async import PartnerCenterClient
from partnercenter_async.testing import FakeConfig, FakePartnerCenter

T = TypeVar("T")
DATA = Path(__file__).parent / "data"


class CountingCredential:
    """An ``AsyncTokenCredential`` that issues ``token-1``, ``token-2``, ... and counts calls."""

    def __init__(self, *, lifetime: float = 3600.0, fail: BaseException | None = None) -> None:
        self.calls = 0
        self.scopes: list[str] = []
        self.lifetime = lifetime
        self.fail = fail

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        self.scopes.extend(scopes)
        await asyncio.sleep(0)  # let concurrent callers pile up, as a real token request would
        if self.fail is not None:
            raise self.fail
        return AccessToken(f"token-{self.calls}", int(time.time() + self.lifetime))

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> CountingCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        pass


class FakeTime:
    """A monotonic clock and a sleep that moves it on at once, recording every wait.

    Concurrent sleeps overlap as real ones do: each moves the clock to at most its own wake-up time.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        wake = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, wake)


@pytest.fixture
def fake_config() -> FakeConfig:
    return FakeConfig(seed=7, customers=40, bom_rate=0.2)


@pytest.fixture
def fake(fake_config: FakeConfig) -> FakePartnerCenter:
    return FakePartnerCenter(fake_config)


@pytest.fixture
async def base_url(fake: FakePartnerCenter, aiohttp_server: AiohttpServer) -> str:
    server = await aiohttp_server(fake.app)
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
def credential() -> CountingCredential:
    return CountingCredential()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(
    base_url: str, credential: CountingCredential, fake_time: FakeTime
) -> Callable[..., PartnerCenterClient]:
    """Build a client on the fake service, with fake time and a rate high enough not to wait."""

    def make(**kwargs: Any) -> PartnerCenterClient:
        options: dict[str, Any] = {
            "base_url": base_url,
            "requests_per_minute": 1_000_000.0,
            "sleep": fake_time.sleep,
            "clock": fake_time.clock,
            "rng": random.Random(0),
        }
        options.update(kwargs)
        return PartnerCenterClient(options.pop("credential", credential), **options)

    return make


@pytest.fixture
async def client(
    make_client: Callable[..., PartnerCenterClient],
) -> AsyncIterator[PartnerCenterClient]:
    async with make_client() as client:
        yield client


class _VirtualTimeSelector(selectors.DefaultSelector):
    """Instead of blocking until the next timer, jump the loop's virtual clock to it.

    Every turn of the loop also moves the clock on by a microsecond, as a real clock would: code
    that reschedules itself at "now plus a rounding error" then still gets somewhere.
    """

    loop: VirtualTimeLoop

    def select(self, timeout: float | None = None) -> list[Any]:
        self.loop.now += max(timeout or 0.0, 1e-6)
        return super().select(0)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock is virtual: timers fire at once, in order, at their own time."""

    def __init__(self) -> None:
        selector = _VirtualTimeSelector()
        super().__init__(selector)
        selector.loop = self
        self.now = 0.0

    def time(self) -> float:
        return self.now


def run_in_virtual_time(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``main()`` to completion on a fresh ``VirtualTimeLoop`` (for code without sockets)."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()
