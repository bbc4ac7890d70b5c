"""A faithful, deterministic fake of Partner Center's customers and orders API, for tests.

Besides faults of a real service (429, 5xx, resets, stalls, ...), it can answer as a hostile
one would (`Fault.HUGE_BODY` and on, answered by `_hostile`): endless or compressed-bomb bodies,
looping or unsafe next links, JSON nested past any decoder's depth, bodies and headers that
echo the bearer token. ``fake.hostile`` counts what those answers streamed.

Depends on aiohttp, msgspec and azure-core (for `StaticTokenCredential`), never on the rest
of `partnercenter_async`; `FakeEntraID` (a fake Microsoft Entra ID token endpoint over TLS)
also needs `trustme`, when it starts.

Example:
    >>> from partnercenter_async.testing import FakeConfig, FakePartnerCenter
    >>> async with FakePartnerCenter(FakeConfig(seed=3, customers=2_000)) as fake:
    ...     print(fake.base_url)  # doctest: +SKIP
"""

from ._config import FakeConfig, Fault
from ._credential import StaticTokenCredential
from ._data import SAMPLE_CUSTOMER_ID
from ._entra import FakeEntraID, TokenRequest
from ._service import FakePartnerCenter, FakeStats, RecordedRequest, run

__all__ = [
    "SAMPLE_CUSTOMER_ID",
    "FakeConfig",
    "FakeEntraID",
    "FakePartnerCenter",
    "FakeStats",
    "Fault",
    "RecordedRequest",
    "StaticTokenCredential",
    "TokenRequest",
    "run",
]
