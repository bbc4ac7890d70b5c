"""What the core calls for traces and metrics: the no-op traces, and ``Telemetry`` to dispatch.

The transport, the pager and the fan-out call one ``Telemetry`` per client:

- ``Telemetry.request(...)`` around each *logical* request (every attempt, retry delay and
  throttling wait inside it): one span of kind CLIENT named ``"{method} {route}"`` with the route
  template (``GET /customers/{customer_id}/orders``, never an id), and the RequestTrace it yields
  is told of each attempt, wait, response, retry and the final failure;
- ``Telemetry.customer(customer_id)`` around one customer of a fan-out;
- ``Telemetry.operation(name, attributes)`` around a whole ``gather_orders``, ``stream_orders``,
  or export.

Only the ``opentelemetry-api`` package is used (``pip install 'partnercenter-async[otel]'``); the
application chooses the SDK, exporters and sampling. Without the API installed, or while no tracer
or meter provider is configured (globally or passed in), every call returns a shared object whose
methods do nothing: under a microsecond per request, see ``benchmarks/telemetry_overhead.py``.
A provider set globally after the client was built is honoured from its next request on; from
then on the calls go to ``_otel.py``, which lists the spans and metrics recorded.

Example:
    >>> telemetry = Telemetry(server_address="api.partnercenter.microsoft.com", server_port=443,
    ...                       rate=lambda: 500.0, in_flight=lambda: 0)
    >>> with telemetry.request("GET", "/customers/{customer_id}/orders", url, request_id=rid,
    ...                        correlation_id=cid, customer_id=customer) as trace:
    ...     trace.attempt(1)
    ...     trace.response(200)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

try:
    from opentelemetry import metrics as _metrics
    from opentelemetry import trace as _trace
except ImportError:  # the [otel] extra is not installed: everything below is a no-op
    OTEL_AVAILABLE = False
else:
    OTEL_AVAILABLE = True

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from ._otel import _Backend

__all__ = ["OTEL_AVAILABLE", "OperationTrace", "RequestTrace", "Telemetry"]

AttributeValue = str | bool | int | float


class _Scope:
    """A context manager that does nothing: the no-op base of both traces."""

    __slots__ = ()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class RequestTrace(_Scope):
    """What happens to one logical request; this base does nothing (the no-op path).

    A context manager: entering starts the request's span, leaving ends it. The transport calls,
    in order, for each attempt: ``waited`` (zero or more), ``attempt``, then ``response`` and/or
    ``retrying``; and ``failed`` once if the request ends in an error.
    """

    __slots__ = ()

    def attempt(self, number: int) -> None:
        """Attempt ``number`` (1-based) is about to be sent."""

    def waited(self, what: str, seconds: float) -> None:
        """The request waited ``seconds`` before an attempt.

        Args:
            what: ``"throttle_hold"`` (the client-wide hold after a 429) or ``"rate_limiter"``.
            seconds: Wall seconds waited; waits under ``_otel.MIN_RECORDED_WAIT`` (1 ms) are not
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


class OperationTrace(_Scope):
    """A customer of a fan-out, or a whole operation; this base does nothing (the no-op path).

    A context manager: an ``Exception`` leaving the block marks the span failed, and so does
    ``failed()`` for an error the code keeps instead of raising (a failed customer in
    ``stream_orders``).
    """

    __slots__ = ()

    def failed(self, error: BaseException) -> None:
        """The customer or operation ended in ``error`` without raising it."""


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
        url: object,
        *,
        request_id: str,
        correlation_id: str,
        customer_id: str | None,
    ) -> RequestTrace:
        """A context manager around one logical request, retries included.

        Args:
            method: The HTTP method, e.g. ``"GET"``.
            route: The path template, e.g. ``"/customers/{customer_id}/orders"``.
            url: The full URL (a ``yarl.URL`` or a string; rendered only when recorded; it
                never holds a token).
            request_id: The ``MS-RequestId`` sent.
            correlation_id: The ``MS-CorrelationId`` sent.
            customer_id: The customer the request is about, if any.

        Returns:
            A ``RequestTrace``, entered with ``with``; the shared no-op one when disabled.
        """
        backend = self._active()
        if backend is None:
            return _NOOP_REQUEST
        return backend.request(method, route, url, request_id, correlation_id, customer_id)

    def customer(self, customer_id: str) -> OperationTrace:
        """A context manager around one customer of a fan-out (span ``partnercenter.customer``).

        Args:
            customer_id: The customer tenant id.

        Returns:
            An ``OperationTrace``; the shared no-op one when disabled.
        """
        backend = self._active()
        if backend is None:
            return _NOOP_OPERATION
        attributes = {"partnercenter.customer_id": customer_id}
        return backend.operation("partnercenter.customer", attributes)

    def operation(self, name: str, attributes: Mapping[str, AttributeValue]) -> OperationTrace:
        """A context manager around a whole fan-out or export.

        Args:
            name: The span's name, e.g. ``"partnercenter.gather_orders"`` or
                ``"partnercenter.export"``.
            attributes: Span attributes, names under ``partnercenter.`` (e.g.
                ``{"partnercenter.customers": 20000}``).

        Returns:
            An ``OperationTrace``; the shared no-op one when disabled.
        """
        backend = self._active()
        if backend is None:
            return _NOOP_OPERATION
        return backend.operation(name, attributes)

    def close(self) -> None:
        """Stop reporting this client's rate and requests in flight. Safe to call twice."""
        self._closed = True
        if self._backend is not None:
            self._backend.instruments.forget(self)

    def _active(self) -> _Backend | None:
        if self._backend is None and OTEL_AVAILABLE and (self._explicit or _configured()):
            from . import _otel  # only now: it imports this module's base classes

            self._backend = _otel._Backend(self)
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

    def configured() -> bool:
        return _trace._TRACER_PROVIDER is not None or metrics_internal._METER_PROVIDER is not None

    return configured


_configured = _configured_check()
