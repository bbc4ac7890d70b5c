"""The OpenTelemetry tracing side of ``_telemetry``: its spans, and when it records metrics.

``Telemetry`` (in ``_telemetry.py``) imports this module only once a provider is configured; it
still imports without the ``opentelemetry-api`` package, it is then never used.

What is recorded (span names, attributes and events; the metrics and their attributes) is
tabled in ``docs/observability.md``, "What is recorded": a span of kind CLIENT per logical
request, an INTERNAL one per customer of a fan-out and per operation. ``_TracedRequest`` also
records each attempt and request into the metric instruments of ``_otel_metrics.py``, which
holds the instruments, their buckets, and the registry that shares them per meter provider.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Mapping
from time import perf_counter
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self
from urllib.parse import urlsplit, urlunsplit

from ._otel_metrics import INSTRUMENTATION_NAME, _Instruments
from ._telemetry import AttributeValue, OperationTrace, RequestTrace, Telemetry
from ._version import __version__

try:
    from opentelemetry import context as _context
    from opentelemetry import metrics as _metrics
    from opentelemetry import trace as _trace
except ImportError:  # the [otel] extra is not installed: Telemetry never builds a _Backend
    pass

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context
    from opentelemetry.trace import Span, SpanKind, Tracer

# Waits shorter than this are the limiter's own bookkeeping, not waiting: no event. Seconds.
MIN_RECORDED_WAIT: Final = 0.001


class _Backend:
    """One client's tracer, its meter provider's instruments, and the attributes of its server."""

    __slots__ = ("base", "instruments", "tracer")

    def __init__(self, telemetry: Telemetry) -> None:
        self.tracer: Tracer = _trace.get_tracer(
            INSTRUMENTATION_NAME, __version__, tracer_provider=telemetry._tracer_provider
        )
        self.instruments = _Instruments.of(
            telemetry._meter_provider or _metrics.get_meter_provider()
        )
        self.base: dict[str, AttributeValue] = {"server.address": telemetry._server_address}
        if telemetry._server_port is not None:
            self.base["server.port"] = telemetry._server_port
        if not telemetry._closed:
            self.instruments.remember(telemetry)

    def request(
        self,
        method: str,
        route: str,
        url: object,
        request_id: str,
        correlation_id: str,
        customer_id: str | None,
    ) -> RequestTrace:
        return _TracedRequest(self, method, route, url, request_id, correlation_id, customer_id)

    def operation(self, name: str, attributes: Mapping[str, AttributeValue]) -> OperationTrace:
        return _TracedOperation(self.tracer, name, dict(attributes))


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


def _start_span(
    tracer: Tracer, name: str, kind: SpanKind, attributes: Mapping[str, AttributeValue]
) -> tuple[Span, Context, Token[Context]]:
    """Start a span and make it current (spans of aiohttp's instrumentation nest under it)."""
    span = tracer.start_span(name, kind=kind, attributes=attributes)
    current = _trace.set_span_in_context(span)
    return span, current, _context.attach(current)


def _end_span(span: Span, error_type: str | None, error: BaseException | None) -> None:
    """End ``span``, marked failed when ``error_type`` is given (the exception recorded)."""
    if isinstance(error, Exception):
        span.record_exception(error)
    if error_type is not None:
        span.set_attribute("error.type", error_type)
        span.set_status(_trace.Status(_trace.StatusCode.ERROR, error_type))
    span.end()


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
        url: object,
        request_id: str,
        correlation_id: str,
        customer_id: str | None,
    ) -> None:
        self._backend = backend
        self._metric_attributes: dict[str, AttributeValue] = {
            **backend.base,
            "http.request.method": method,
            "url.template": route,
        }
        self._span_attributes = {
            **self._metric_attributes,
            "url.full": _redact_url(str(url)),
            "partnercenter.request_id": request_id,
            "partnercenter.correlation_id": correlation_id,
        }
        if customer_id is not None:
            self._span_attributes["partnercenter.customer_id"] = customer_id
        self._name = f"{method} {route}"
        self._span: Span = _trace.INVALID_SPAN  # till __enter__
        self._context: Context | None = None
        self._token: Token[Context] | None = None
        self._started = 0.0
        self._attempts = 0
        self._attempt_started: float | None = None
        self._attempt_status: int | None = None
        self._status: int | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> Self:
        self._span, self._context, self._token = _start_span(
            self._backend.tracer, self._name, _trace.SpanKind.CLIENT, self._span_attributes
        )
        self._started = perf_counter()
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
        if self._attempts > 1:
            self._span.set_attribute("http.request.resend_count", self._attempts - 1)
        error_type = None
        if self._error is not None:
            status = self._attempt_status
            error_type = (
                str(status) if status is not None and status >= 400 else _error_type(self._error)
            )
        elif self._status is not None and self._status >= 400:
            error_type = str(self._status)
        _end_span(self._span, error_type, self._error)
        # Recorded while the span is current: an SDK's exemplars point at it.
        self._backend.instruments.request_duration.record(
            perf_counter() - self._started, self._attributes(self._status, error_type)
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
        self._backend.instruments.retries.add(
            1, {**self._metric_attributes, "partnercenter.retry.reason": reason}
        )

    def failed(self, error: BaseException) -> None:
        self._error = error
        if self._attempt_started is not None:
            self._end_attempt(_error_type(error))

    def _end_attempt(self, error_type: str | None) -> None:
        assert self._attempt_started is not None
        elapsed = perf_counter() - self._attempt_started
        self._attempt_started = None
        self._backend.instruments.attempt_duration.record(
            elapsed, self._attributes(self._attempt_status, error_type)
        )

    def _attributes(self, status: int | None, error_type: str | None) -> dict[str, AttributeValue]:
        """The metric attributes, with the status and error type when there are."""
        attributes = dict(self._metric_attributes)
        if status is not None:
            attributes["http.response.status_code"] = status
        if error_type is not None:
            attributes["error.type"] = error_type
        return attributes


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

    def __enter__(self) -> Self:
        self._span, self._context, self._token = _start_span(
            self._tracer, self._name, _trace.SpanKind.INTERNAL, self._attributes
        )
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
        error_type = None if error is None else _error_type(error)
        _end_span(self._span, error_type, error)
        _detach(self._context, self._token)

    def failed(self, error: BaseException) -> None:
        self._error = error


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
