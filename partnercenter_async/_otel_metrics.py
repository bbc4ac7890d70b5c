"""The OpenTelemetry metrics of ``_telemetry``: the instruments, created once per meter provider.

Only ``_otel`` (the tracing side) imports this module: each client's ``_Backend`` holds the
``_Instruments`` of its meter provider, and its traces record into them. It still imports without
the ``opentelemetry-api`` package, it is then never used.

The metrics and their attributes are tabled in ``docs/observability.md``, "What is recorded":
per-attempt and per-request duration histograms, counters of requests, retries and 429s, and two
observable instruments.

The observable instruments exist once per meter provider and read every open ``Telemetry``
through a weak set: ``close()`` (called by the client's ``aclose()``) takes a client out, and a
client dropped without closing leaves when it is garbage-collected. They are read by the metric
reader, which may run in another thread: the ``rate`` and ``in_flight`` callables must only read.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from ._version import __version__

try:  # noqa: SIM105 (the same guard as _otel's and _telemetry's)
    from opentelemetry import metrics as _metrics
except ImportError:  # the [otel] extra is not installed: Telemetry never builds a _Backend
    pass

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter, MeterProvider

    from ._telemetry import AttributeValue, Telemetry

INSTRUMENTATION_NAME: Final = "partnercenter_async"
# The semantic conventions' recommended boundaries for http.client.request.duration, seconds.
DURATION_BUCKETS: Final = (
    *(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75),
    *(1.0, 2.5, 5.0, 7.5, 10.0),
)
# A logical request includes retry delays and 429 holds: the same, then up to 5 minutes.
LOGICAL_DURATION_BUCKETS: Final = (*DURATION_BUCKETS, 30.0, 60.0, 120.0, 300.0)


class _Instruments:
    """The instruments of one meter provider, shared by every client that uses it."""

    def __init__(self, provider: MeterProvider) -> None:
        meter = _metrics.get_meter(INSTRUMENTATION_NAME, __version__, provider)
        self.attempt_duration = _histogram(
            meter,
            "http.client.request.duration",
            "Duration of HTTP client requests (one per attempt sent).",
            DURATION_BUCKETS,
        )
        self.request_duration = _histogram(
            meter,
            "partnercenter.request.duration",
            "Duration of logical requests: every attempt, retry delay and throttling wait.",
            LOGICAL_DURATION_BUCKETS,
        )
        self.requests = meter.create_counter(
            "partnercenter.client.requests", "{request}", "Requests sent, retries included."
        )
        self.retries = meter.create_counter(
            "partnercenter.client.retries", "{retry}", "Requests sent again after a failure."
        )
        self.throttled = meter.create_counter(
            "partnercenter.client.throttled", "{response}", "429 Too Many Requests answers."
        )
        self.clients: weakref.WeakSet[Telemetry] = weakref.WeakSet()
        # Servers reported once are reported as 0 when their last client closes: an SDK keeps
        # exporting the last value of an attribute set that is no longer observed.
        self.servers: set[tuple[str, int | None]] = set()
        meter.create_observable_gauge(
            "partnercenter.client.rate_limit",
            [lambda options: self._observe(lambda telemetry: telemetry._rate())],
            "{request}/min",
            "Allowed request rate, summed over the open clients to one server.",
        )
        meter.create_observable_up_down_counter(
            "http.client.active_requests",
            [lambda options: self._observe(lambda telemetry: telemetry._in_flight())],
            "{request}",
            "Requests in flight, summed over the open clients to one server.",
        )

    @staticmethod
    def of(provider: MeterProvider) -> _Instruments:
        """The instruments of ``provider``, created on first use."""
        with _lock:
            try:
                instruments = _instruments_by_provider.get(provider)
            except TypeError:  # a provider that cannot be weakly referenced: not shared
                return _Instruments(provider)
            if instruments is None:
                instruments = _instruments_by_provider[provider] = _Instruments(provider)
            return instruments

    def remember(self, telemetry: Telemetry) -> None:
        with _lock:
            self.clients.add(telemetry)

    def forget(self, telemetry: Telemetry) -> None:
        with _lock:
            self.clients.discard(telemetry)

    def _observe(self, read: Callable[[Telemetry], float]) -> Iterable[Any]:
        with _lock:
            clients = list(self.clients)
        totals: dict[tuple[str, int | None], float] = dict.fromkeys(self.servers, 0)
        for telemetry in clients:
            key = (telemetry._server_address, telemetry._server_port)
            try:
                value = read(telemetry)
            except Exception:  # a client being torn down in another thread: skip it
                continue
            totals[key] = totals.get(key, 0) + value
        self.servers.update(totals)
        observations = []
        for (address, port), value in totals.items():
            attributes: dict[str, AttributeValue] = {"server.address": address}
            if port is not None:
                attributes["server.port"] = port
            observations.append(_metrics.Observation(value, attributes))
        return observations


# Instruments are created once per meter provider (an SDK drops the callbacks of an observable
# instrument registered twice); the lock also guards each one's set of clients, which the metric
# reader's thread iterates.
_instruments_by_provider: weakref.WeakKeyDictionary[MeterProvider, _Instruments] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def _histogram(meter: Meter, name: str, description: str, buckets: tuple[float, ...]) -> Any:
    try:
        return meter.create_histogram(
            name, "s", description, explicit_bucket_boundaries_advisory=buckets
        )
    except TypeError:  # opentelemetry-api before 1.23 has no advisory
        return meter.create_histogram(name, "s", description)
