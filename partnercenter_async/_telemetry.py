"""Traces and metrics of the client's work, through OpenTelemetry's API when it is installed.

The transport, the pager and the fan-out call one ``Telemetry`` per client:

- ``Telemetry.request(...)`` around each *logical* request (every attempt, retry delay and
  throttling wait inside it): one span of kind CLIENT named ``"{method} {route}"`` with the route
  template (``GET /customers/{customer_id}/orders``, never an id), and the RequestTrace it yields
  is told of each attempt, wait, response, retry and the final failure;
- ``Telemetry.customer(customer_id)`` around one customer of a fan-out;
- ``Telemetry.operation(name, attributes)`` around a whole ``gather_orders``, ``stream_orders``,
  export or sync.

Only the ``opentelemetry-api`` package is used (``pip install 'partnercenter-async[otel]'``); the
application chooses the SDK, exporters and sampling. Without the API installed, or while no tracer
or meter provider is configured (globally or passed in), every call returns a shared object whose
methods do nothing: under a microsecond per request, see ``benchmarks/telemetry_overhead.py``.
A provider set globally after the client was built is honoured from its next request on.

Spans (names and attributes; ids never appear in span names):

- ``{method} {route}`` (CLIENT): ``http.request.method``, ``server.address``, ``server.port``,
  ``url.full`` (tokens travel in headers only; user info would be redacted), ``url.template``,
  ``http.response.status_code`` (of the last attempt), ``http.request.resend_count`` (attempts
  minus 1, when above 0), ``error.type`` (the final status as a string when it is 400 or more,
  else the exception's class name), ``partnercenter.request_id`` (``MS-RequestId``),
  ``partnercenter.correlation_id`` (``MS-CorrelationId``), ``partnercenter.customer_id``.
  Events: ``partnercenter.retry`` (``partnercenter.retry.reason``: ``"429"``, ``"503"``,
  ``"timeout"``, ...; ``partnercenter.retry.delay``: seconds before the next attempt;
  ``partnercenter.retry.attempt``: the attempt that failed, 1-based), and one per wait of 1 ms
  or more, named ``partnercenter.throttle_hold`` (the client-wide hold after a 429) or
  ``partnercenter.rate_limiter``, with ``partnercenter.wait.duration`` in seconds.
- ``partnercenter.customer`` (INTERNAL): ``partnercenter.customer_id``.
- the operation's name (INTERNAL): the attributes given.

Metrics (instrumentation scope ``partnercenter_async``):

- ``http.client.request.duration`` (histogram, s): one point per *attempt* sent, as the semantic
  conventions define it, by ``http.request.method``, ``url.template``, ``server.address``,
  ``server.port``, ``http.response.status_code`` and ``error.type``;
- ``partnercenter.request.duration`` (histogram, s): one point per logical request, retries and
  waits included, same attributes (final status);
- ``partnercenter.client.requests`` (counter, {request}): attempts sent, retries included;
- ``partnercenter.client.retries`` (counter, {retry}): by ``partnercenter.retry.reason`` too;
- ``partnercenter.client.throttled`` (counter, {response}): 429 answers;
- ``partnercenter.client.rate_limit`` (observable gauge, {request}/min): the allowed request rate,
  summed over the open clients to one server;
- ``http.client.active_requests`` (observable up-down counter, {request}): requests in flight,
  summed over the open clients to one server.

The observable instruments exist once per meter provider and read every open ``Telemetry``
through a weak set: ``close()`` (called by the client's ``aclose()``) takes a client out, and a
client dropped without closing leaves when it is garbage-collected. They are read by the metric
reader, which may run in another thread: the ``rate`` and ``in_flight`` callables must only read.

Example:
    >>> telemetry = Telemetry(server_address="api.partnercenter.microsoft.com", server_port=443,
    ...                       rate=lambda: 500.0, in_flight=lambda: 0)
    >>> with telemetry.request("GET", "/customers/{customer_id}/orders", url, request_id=rid,
    ...                        correlation_id=cid, customer_id=customer) as trace:
    ...     trace.attempt(1)
    ...     trace.response(200)
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from time import perf_counter
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from ._version import __version__

try:
    from opentelemetry import context as _context
    from opentelemetry import metrics as _metrics
    from opentelemetry import trace as _trace
except ImportError:  # the [otel] extra is not installed: everything below is a no-op
    OTEL_AVAILABLE = False
else:
    OTEL_AVAILABLE = True

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context
    from opentelemetry.metrics import Meter, MeterProvider
    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = ["OTEL_AVAILABLE", "OperationTrace", "RequestTrace", "Telemetry"]

INSTRUMENTATION_NAME: Final = "partnercenter_async"
# The semantic conventions' recommended boundaries for http.client.request.duration, seconds.
DURATION_BUCKETS: Final = (
    *(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75),
    *(1.0, 2.5, 5.0, 7.5, 10.0),
)
# A logical request includes retry delays and 429 holds: the same, then up to 5 minutes.
LOGICAL_DURATION_BUCKETS: Final = (*DURATION_BUCKETS, 30.0, 60.0, 120.0, 300.0)

# Waits shorter than this are the limiter's own bookkeeping, not waiting: no event. Seconds.
MIN_RECORDED_WAIT: Final = 0.001

AttributeValue = str | bool | int | float


class RequestTrace:
    """What happens to one logical request; this base does nothing (the no-op path).

    A context manager: entering starts the request's span, leaving ends it. The transport calls,
    in order, for each attempt: ``waited`` (zero or more), ``attempt``, then ``response`` and/or
    ``retrying``; and ``failed`` once if the request ends in an error.
    """

    __slots__ = ()

    def __enter__(self) -> RequestTrace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def attempt(self, number: int) -> None:
        """Attempt ``number`` (1-based) is about to be sent."""

    def waited(self, what: str, seconds: float) -> None:
        """The request waited ``seconds`` before an attempt.

        Args:
            what: ``"throttle_hold"`` (the client-wide hold after a 429) or ``"rate_limiter"``.
            seconds: Wall seconds waited; waits under ``MIN_RECORDED_WAIT`` (1 ms) are not
                recorded.
        """

    def response(self, status: int) -> None:
        """The current attempt got a response with HTTP status ``status``."""

    def retrying(self, reason: str, delay: float) -> None:
        """The current attempt failed and the request will be sent again.

        Args:
            reason: ``"429"``, ``"503"`` (any status), ``"timeout"``, ``"connection"``, ...
            delay: Seconds the client sleeps before the next attempt.
        """

    def failed(self, error: BaseException) -> None:
        """The logical request ends in ``error`` (raised to the caller)."""


class OperationTrace:
    """A customer of a fan-out, or a whole operation; this base does nothing (the no-op path).

    A context manager: an ``Exception`` leaving the block marks the span failed, and so does
    ``failed()`` for an error the code keeps instead of raising (a failed customer in
    ``stream_orders``).
    """

    __slots__ = ()

    def __enter__(self) -> OperationTrace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def failed(self, error: BaseException) -> None:
        """The customer or operation ended in ``error`` without raising it."""

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Add an attribute to the span (e.g. ``partnercenter.customers``: a count)."""


_NOOP_REQUEST: Final = RequestTrace()
_NOOP_OPERATION: Final = OperationTrace()


class Telemetry:
    """The client's telemetry: spans and metrics through OpenTelemetry's API, or nothing.

    One per client. Tracer and meter come from the providers passed in, else from the global ones
    (``opentelemetry.trace.set_tracer_provider``); they are looked up at the first request that
    finds a provider configured, so an application may configure OpenTelemetry after building the
    client.

    Args:
        server_address: The API's host name, e.g. ``"api.partnercenter.microsoft.com"``.
        server_port: Its port, or None to leave ``server.port`` out.
        rate: Returns the currently allowed request rate, requests per minute.
        in_flight: Returns the number of requests in flight.
        tracer_provider: An OpenTelemetry ``TracerProvider``; the global one if None.
        meter_provider: An OpenTelemetry ``MeterProvider``; the global one if None.

    Example:
        >>> telemetry = Telemetry(server_address="localhost", server_port=8080,
        ...                       rate=limiter.rate, in_flight=lambda: len(tasks),
        ...                       tracer_provider=provider)
        >>> with telemetry.operation("partnercenter.gather_orders", {"partnercenter.customers": 3}):
        ...     with telemetry.customer(customer_id):
        ...         ...
        >>> telemetry.close()
    """

    __slots__ = (
        "__weakref__",
        "_backend",
        "_closed",
        "_explicit",
        "_in_flight",
        "_meter_provider",
        "_rate",
        "_server_address",
        "_server_port",
        "_tracer_provider",
    )

    def __init__(
        self,
        *,
        server_address: str,
        server_port: int | None,
        rate: Callable[[], float],
        in_flight: Callable[[], int],
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._server_address = server_address
        self._server_port = server_port
        self._rate = rate
        self._in_flight = in_flight
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._explicit = tracer_provider is not None or meter_provider is not None
        self._backend: _Backend | None = None
        self._closed = False

    @property
    def enabled(self) -> bool:
        """True when spans and metrics are being produced (a provider is configured)."""
        return self._active() is not None

    def request(
        self,
        method: str,
        route: str,
        url: str,
        *,
        request_id: str,
        correlation_id: str,
        customer_id: str | None,
    ) -> RequestTrace:
        """A context manager around one logical request, retries included.

        Args:
            method: The HTTP method, e.g. ``"GET"``.
            route: The path template, e.g. ``"/customers/{customer_id}/orders"``.
            url: The full URL of the first attempt (never holds a token).
            request_id: The ``MS-RequestId`` sent.
            correlation_id: The ``MS-CorrelationId`` sent.
            customer_id: The customer the request is about, if any.

        Returns:
            A ``RequestTrace``, entered with ``with``; the shared no-op one when disabled.
        """
        backend = self._backend or self._active()
        if backend is None:
            return _NOOP_REQUEST
        return _TracedRequest(backend, method, route, url, request_id, correlation_id, customer_id)

    def customer(self, customer_id: str) -> OperationTrace:
        """A context manager around one customer of a fan-out (span ``partnercenter.customer``).

        Args:
            customer_id: The customer tenant id.

        Returns:
            An ``OperationTrace``; the shared no-op one when disabled.
        """
        backend = self._backend or self._active()
        if backend is None:
            return _NOOP_OPERATION
        return _TracedOperation(
            backend.tracer, "partnercenter.customer", {"partnercenter.customer_id": customer_id}
        )

    def operation(self, name: str, attributes: Mapping[str, AttributeValue]) -> OperationTrace:
        """A context manager around a whole fan-out, export or sync.

        Args:
            name: The span's name, e.g. ``"partnercenter.gather_orders"`` or
                ``"partnercenter.export"``.
            attributes: Span attributes, names under ``partnercenter.`` (e.g.
                ``{"partnercenter.customers": 20000}``).

        Returns:
            An ``OperationTrace``; the shared no-op one when disabled.
        """
        backend = self._backend or self._active()
        if backend is None:
            return _NOOP_OPERATION
        return _TracedOperation(backend.tracer, name, dict(attributes))

    def close(self) -> None:
        """Stop reporting this client's rate and requests in flight. Safe to call twice."""
        self._closed = True
        if self._backend is not None:
            self._backend.instruments.forget(self)

    def _active(self) -> _Backend | None:
        if self._backend is None and OTEL_AVAILABLE and (self._explicit or _configured()):
            self._backend = _Backend(self)
        return self._backend


def _configured_public() -> bool:
    """True once a global tracer or meter provider is set (the API's proxies stand in till then).

    About 3 us: each ``get_*_provider()`` looks its variable up in ``os.environ`` while unset.
    """
    return not isinstance(_trace.get_tracer_provider(), _UNSET_TRACER_PROVIDERS) or not isinstance(
        _metrics.get_meter_provider(), _UNSET_METER_PROVIDERS
    )


def _unset_provider_types() -> tuple[tuple[type[Any], ...], tuple[type[Any], ...]]:
    if not OTEL_AVAILABLE:
        return (), ()
    tracers: tuple[type[Any], ...] = (_trace.ProxyTracerProvider, _trace.NoOpTracerProvider)
    meters: tuple[type[Any], ...] = (_metrics.NoOpMeterProvider,)
    try:  # private: without it the no-op path is only slower (the proxy meter records nothing)
        from opentelemetry.metrics._internal import _ProxyMeterProvider
    except ImportError:  # pragma: no cover
        pass
    else:
        meters = (*meters, _ProxyMeterProvider)
    return tracers, meters


_UNSET_TRACER_PROVIDERS, _UNSET_METER_PROVIDERS = _unset_provider_types()


def _configured_check() -> Callable[[], bool]:
    """The cheapest exact test of "a global provider is set" this API version allows.

    The no-op path runs it on every request, so it reads the two globals the API's own proxies
    read (0.07 us), private names unchanged since opentelemetry-api 1.0; if they are missing, or a
    provider is named by ``OTEL_PYTHON_TRACER_PROVIDER``/``OTEL_PYTHON_METER_PROVIDER`` (loaded by
    the API on first use), it falls back to the public ``get_*_provider()`` calls.
    """
    if not OTEL_AVAILABLE:
        return lambda: False
    if "OTEL_PYTHON_TRACER_PROVIDER" in os.environ or "OTEL_PYTHON_METER_PROVIDER" in os.environ:
        return _configured_public
    try:
        from opentelemetry.metrics import _internal as metrics_internal

        _trace._TRACER_PROVIDER  # noqa: B018 (probes that the names exist)
        metrics_internal._METER_PROVIDER  # noqa: B018
    except (ImportError, AttributeError):  # pragma: no cover (a future API)
        return _configured_public
    trace_module = _trace

    def configured() -> bool:
        return (
            trace_module._TRACER_PROVIDER is not None
            or metrics_internal._METER_PROVIDER is not None
        )

    return configured


_configured = _configured_check()


class _Backend:
    """One client's tracer, its meter provider's instruments, and the attributes of its server."""

    __slots__ = ("base", "instruments", "tracer")

    def __init__(self, telemetry: Telemetry) -> None:
        self.tracer: Tracer = _trace.get_tracer(
            INSTRUMENTATION_NAME, __version__, tracer_provider=telemetry._tracer_provider
        )
        meter_provider = telemetry._meter_provider or _metrics.get_meter_provider()
        self.instruments = _Instruments.of(meter_provider)
        self.base: dict[str, AttributeValue] = {"server.address": telemetry._server_address}
        if telemetry._server_port is not None:
            self.base["server.port"] = telemetry._server_port
        if not telemetry._closed:
            self.instruments.remember(telemetry)


class _Instruments:
    """The instruments of one meter provider, shared by every client that uses it."""

    def __init__(self, meter: Meter) -> None:
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
            [self._observe_rate],
            "{request}/min",
            "Allowed request rate, summed over the open clients to one server.",
        )
        meter.create_observable_up_down_counter(
            "http.client.active_requests",
            [self._observe_in_flight],
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
                return _Instruments(_metrics.get_meter(INSTRUMENTATION_NAME, __version__, provider))
            if instruments is None:
                meter = _metrics.get_meter(INSTRUMENTATION_NAME, __version__, provider)
                instruments = _instruments_by_provider[provider] = _Instruments(meter)
            return instruments

    def remember(self, telemetry: Telemetry) -> None:
        with _lock:
            self.clients.add(telemetry)

    def forget(self, telemetry: Telemetry) -> None:
        with _lock:
            self.clients.discard(telemetry)

    def _observe_rate(self, options: object) -> Iterable[Any]:
        return self._observe(lambda telemetry: telemetry._rate())

    def _observe_in_flight(self, options: object) -> Iterable[Any]:
        return self._observe(lambda telemetry: telemetry._in_flight())

    def _observe(self, read: Callable[[Telemetry], float]) -> list[Any]:
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


def _redact_url(url: str) -> str:
    """``url`` with any user info replaced by ``REDACTED``, per the semantic conventions."""
    if "@" not in url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"REDACTED:REDACTED@{host}" + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _error_type(error: BaseException) -> str:
    return type(error).__name__


class _TracedRequest(RequestTrace):
    __slots__ = (
        "_attempt_started",
        "_attempt_status",
        "_attempts",
        "_backend",
        "_context",
        "_error",
        "_metric_attributes",
        "_name",
        "_span",
        "_span_attributes",
        "_started",
        "_status",
        "_token",
    )

    def __init__(
        self,
        backend: _Backend,
        method: str,
        route: str,
        url: str,
        request_id: str,
        correlation_id: str,
        customer_id: str | None,
    ) -> None:
        self._backend = backend
        attributes = dict(backend.base)
        attributes["http.request.method"] = method
        attributes["url.template"] = route
        self._metric_attributes = dict(attributes)
        attributes["url.full"] = _redact_url(url)
        attributes["partnercenter.request_id"] = request_id
        attributes["partnercenter.correlation_id"] = correlation_id
        if customer_id is not None:
            attributes["partnercenter.customer_id"] = customer_id
        self._name = f"{method} {route}"
        self._span_attributes = attributes
        self._span: Span = _trace.INVALID_SPAN  # till __enter__
        self._context: Context | None = None
        self._token: Token[Context] | None = None
        self._started = 0.0
        self._attempts = 0
        self._attempt_started: float | None = None
        self._attempt_status: int | None = None
        self._status: int | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> RequestTrace:
        self._span = self._backend.tracer.start_span(
            self._name, kind=_trace.SpanKind.CLIENT, attributes=self._span_attributes
        )
        self._started = perf_counter()
        # Current while the request runs: spans of aiohttp's instrumentation nest under it.
        self._context = _trace.set_span_in_context(self._span)
        self._token = _context.attach(self._context)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._error is None and isinstance(exc, Exception):
            self._error = exc
        if self._attempt_started is not None:  # left during an attempt
            ended_by = self._error or exc
            self._end_attempt(None if ended_by is None else _error_type(ended_by))
        span = self._span
        if self._attempts > 1:
            span.set_attribute("http.request.resend_count", self._attempts - 1)
        error_type = None
        if self._error is not None:
            status = self._attempt_status
            error_type = (
                str(status) if status is not None and status >= 400 else _error_type(self._error)
            )
            if isinstance(self._error, Exception):
                span.record_exception(self._error)
        elif self._status is not None and self._status >= 400:
            error_type = str(self._status)
        attributes = dict(self._metric_attributes)
        if self._status is not None:
            attributes["http.response.status_code"] = self._status
        if error_type is not None:
            span.set_attribute("error.type", error_type)
            span.set_status(_trace.Status(_trace.StatusCode.ERROR, error_type))
            attributes["error.type"] = error_type
        span.end()
        self._backend.instruments.request_duration.record(
            perf_counter() - self._started, attributes
        )
        _detach(self._context, self._token)

    def attempt(self, number: int) -> None:
        if self._attempt_started is not None:  # the previous attempt was never answered
            self._end_attempt("_OTHER")
        self._attempts = max(self._attempts, number)
        self._attempt_status = None
        self._attempt_started = perf_counter()
        self._backend.instruments.requests.add(1, self._metric_attributes)

    def waited(self, what: str, seconds: float) -> None:
        if self._attempt_started is not None and self._attempt_status is None:
            self._attempt_started = perf_counter()  # the attempt is sent after its waits
        if seconds >= MIN_RECORDED_WAIT:
            self._span.add_event(
                f"partnercenter.{what}", {"partnercenter.wait.duration": float(seconds)}
            )

    def response(self, status: int) -> None:
        self._status = self._attempt_status = status
        self._span.set_attribute("http.response.status_code", status)
        if status == 429:
            self._backend.instruments.throttled.add(1, self._metric_attributes)
        if self._attempt_started is not None:
            self._end_attempt(str(status) if status >= 400 else None)

    def retrying(self, reason: str, delay: float) -> None:
        if self._attempt_started is not None:  # failed without a response: timeout, reset, ...
            self._end_attempt(reason)
        self._span.add_event(
            "partnercenter.retry",
            {
                "partnercenter.retry.reason": reason,
                "partnercenter.retry.delay": float(delay),
                "partnercenter.retry.attempt": self._attempts,
            },
        )
        attributes = dict(self._metric_attributes)
        attributes["partnercenter.retry.reason"] = reason
        self._backend.instruments.retries.add(1, attributes)

    def failed(self, error: BaseException) -> None:
        self._error = error
        if self._attempt_started is not None:
            self._end_attempt(_error_type(error))

    def _end_attempt(self, error_type: str | None) -> None:
        assert self._attempt_started is not None
        elapsed = perf_counter() - self._attempt_started
        self._attempt_started = None
        attributes = dict(self._metric_attributes)
        if self._attempt_status is not None:
            attributes["http.response.status_code"] = self._attempt_status
        if error_type is not None:
            attributes["error.type"] = error_type
        self._backend.instruments.attempt_duration.record(elapsed, attributes)


class _TracedOperation(OperationTrace):
    __slots__ = ("_attributes", "_context", "_error", "_name", "_span", "_token", "_tracer")

    def __init__(self, tracer: Tracer, name: str, attributes: dict[str, AttributeValue]) -> None:
        self._tracer = tracer
        self._name = name
        self._attributes = attributes
        self._span: Span = _trace.INVALID_SPAN  # till __enter__
        self._context: Context | None = None
        self._token: Token[Context] | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> OperationTrace:
        self._span = self._tracer.start_span(
            self._name, kind=_trace.SpanKind.INTERNAL, attributes=self._attributes
        )
        self._context = _trace.set_span_in_context(self._span)
        self._token = _context.attach(self._context)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        error = self._error
        if isinstance(exc, Exception):  # not GeneratorExit or CancelledError: no failures
            error = exc
        if error is not None:
            error_type = _error_type(error)
            self._span.set_attribute("error.type", error_type)
            self._span.set_status(_trace.Status(_trace.StatusCode.ERROR, error_type))
            if isinstance(error, Exception):
                self._span.record_exception(error)
        self._span.end()
        _detach(self._context, self._token)

    def failed(self, error: BaseException) -> None:
        self._error = error

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self._span.set_attribute(key, value)


def _detach(current: Context | None, token: Token[Context] | None) -> None:
    """Make the context before ``attach`` current again, if ours still is.

    An async generator closed by the garbage collector exits in another context, where ours is
    not current, or is current in a copy of the context it was attached in: there is nothing to
    undo (the API's ``detach`` would log an error).
    """
    if token is None or _context.get_current() is not current:
        return
    if not isinstance(token, contextvars.Token):  # a runtime context of another kind
        _context.detach(token)
        return
    # What the API's detach does, without its error log when ours is current in a copy of the
    # context it was attached in.
    with contextlib.suppress(ValueError):
        token.var.reset(token)
