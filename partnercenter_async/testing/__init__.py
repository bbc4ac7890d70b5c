"""A faithful, deterministic fake of Partner Center's customers and orders API, for tests.

Depends on aiohttp, msgspec and azure-core (for `StaticTokenCredential`), never on the rest
of `partnercenter_async`.

Example:
    >>> from partnercenter_async.testing import FakeConfig, FakePartnerCenter
    >>> async with FakePartnerCenter(FakeConfig(seed=3, customers=2_000)) as fake:
    ...     print(fake.base_url)  # doctest: +SKIP
"""

from ._config import FakeConfig, Fault
from ._credential import StaticTokenCredential
from ._data import SAMPLE_CUSTOMER_ID
from ._service import FakePartnerCenter, FakeStats, RecordedRequest, run

__all__ = [
    "SAMPLE_CUSTOMER_ID",
    "FakeConfig",
    "FakePartnerCenter",
    "FakeStats",
    "Fault",
    "RecordedRequest",
    "StaticTokenCredential",
    "run",
]
