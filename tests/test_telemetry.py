"""Telemetry: spans and metrics of logical requests, customers and operations, through the SDK's
in-memory exporters; the no-op path without a provider or without the API."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

pytest.importorskip("opentelemetry.sdk")

import yarl
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from partnercenter_async import PartnerCenterClient, PartnerCenterError, export_orders
from partnercenter_async._otel import _redact_url
from partnercenter_async._telemetry import OperationTrace, RequestTrace, Telemetry
from partnercenter_async.testing import SAMPLE_CUSTOMER_ID, FakePartnerCenter, Fault

from .conftest import CountingCredential, FakeTime

ROUTE = "/customers/{customer_id}/orders"
CUSTOMER = "0e3b8e8a-3f4c-4b8e-9c1a-1d2e3f4a5b6c"
URL = f"http://127.0.0.1:8080/v1/customers/{CUSTOMER}/orders"


@dataclass
class Otel:
    """An SDK tracer and meter provider for one test, with in-memory exporters."""

    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def points(self, name: str) -> list[Any]:
        """The data points of metric ``name`` (every scope), as the reader collects them now."""
        data = self.reader.get_metrics_data()
        found: list[Any] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)
        return found


@pytest.fixture
def otel() -> Iterator[Otel]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Otel(spans, reader, tracer_provider, meter_provider)
    tracer_provider.shutdown()
    meter_provider.shutdown()


def make_telemetry(
    otel: Otel, *, rate: float = 500.0, in_flight: int = 0, port: int | None = 8080
) -> Telemetry:
    return Telemetry(
        server_address="127.0.0.1",
        server_port=port,
        rate=lambda: rate,
        in_flight=lambda: in_flight,
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
    )


def request(telemetry: Telemetry, customer_id: str | None = CUSTOMER) -> RequestTrace:
    return telemetry.request(
        "GET",
        ROUTE,
        URL,
        request_id="11111111-1111-4111-8111-111111111111",
        correlation_id="22222222-2222-4222-8222-222222222222",
        customer_id=customer_id,
    )


def events(span: ReadableSpan) -> list[tuple[str, dict[str, Any]]]:
    return [(event.name, dict(event.attributes or {})) for event in span.events]


def by_attributes(points: Sequence[Any]) -> dict[frozenset[tuple[str, Any]], Any]:
    return {frozenset(point.attributes.items()): point for point in points}


def attrs(status: int | None = None, error_type: str | None = None) -> Mapping[str, Any]:
    """The attributes of a metric point of the test's request."""
    found: dict[str, Any] = {
        "http.request.method": "GET",
        "url.template": ROUTE,
        "server.address": "127.0.0.1",
        "server.port": 8080,
    }
    if status is not None:
        found["http.response.status_code"] = status
    if error_type is not None:
        found["error.type"] = error_type
    return found


def test_a_503_then_200_is_one_span_with_resend_count_1_and_the_retry_delay(otel: Otel) -> None:
    telemetry = make_telemetry(otel)
    with request(telemetry) as trace_:
        trace_.attempt(1)
        trace_.response(503)
        trace_.retrying("503", 0.5)
        trace_.attempt(2)
        trace_.response(200)

    (span,) = otel.finished()
    assert span.name == "GET /customers/{customer_id}/orders"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "url.template": ROUTE,
        "url.full": URL,
        "server.address": "127.0.0.1",
        "server.port": 8080,
        "http.response.status_code": 200,
        "http.request.resend_count": 1,
        "partnercenter.request_id": "11111111-1111-4111-8111-111111111111",
        "partnercenter.correlation_id": "22222222-2222-4222-8222-222222222222",
        "partnercenter.customer_id": CUSTOMER,
    }
    assert events(span) == [
        (
            "partnercenter.retry",
            {
                "partnercenter.retry.reason": "503",
                "partnercenter.retry.delay": 0.5,
                "partnercenter.retry.attempt": 1,
            },
        )
    ]

    # One duration point per attempt (the semantic conventions' physical request) ...
    attempts = by_attributes(otel.points("http.client.request.duration"))
    failed = frozenset(attrs(503, error_type="503").items())
    ok = frozenset(attrs(200).items())
    assert set(attempts) == {failed, ok}
    assert attempts[failed].count == attempts[ok].count == 1
    assert list(attempts[ok].explicit_bounds)[:3] == [0.005, 0.01, 0.025]
    # ... one per logical request, and the counters.
    (logical,) = otel.points("partnercenter.request.duration")
    assert dict(logical.attributes) == attrs(200)
    (requests,) = otel.points("partnercenter.client.requests")
    assert requests.value == 2
    (retries,) = otel.points("partnercenter.client.retries")
    assert (retries.value, retries.attributes["partnercenter.retry.reason"]) == (1, "503")
    assert otel.points("partnercenter.client.throttled") == []


def test_a_429_shows_the_hold_and_the_limiter_wait_waits_under_1_ms_are_left_out(
    otel: Otel,
) -> None:
    telemetry = make_telemetry(otel)
    with request(telemetry) as trace_:
        trace_.waited("throttle_hold", 0.0)
        trace_.waited("rate_limiter", 0.0004)  # the limiter's bookkeeping, not a wait
        trace_.attempt(1)
        trace_.response(429)
        trace_.retrying("429", 30.0)
        trace_.waited("throttle_hold", 30.0)
        trace_.waited("rate_limiter", 0.12)
        trace_.attempt(2)
        trace_.response(200)

    (span,) = otel.finished()
    assert events(span) == [
        (
            "partnercenter.retry",
            {
                "partnercenter.retry.reason": "429",
                "partnercenter.retry.delay": 30.0,
                "partnercenter.retry.attempt": 1,
            },
        ),
        ("partnercenter.throttle_hold", {"partnercenter.wait.duration": 30.0}),
        ("partnercenter.rate_limiter", {"partnercenter.wait.duration": 0.12}),
    ]
    assert span.attributes is not None and span.attributes["http.request.resend_count"] == 1
    (throttled,) = otel.points("partnercenter.client.throttled")
    assert throttled.value == 1


def test_a_final_error_status_sets_error_type_to_the_status_and_records_the_exception(
    otel: Otel,
) -> None:
    telemetry = make_telemetry(otel)
    with request(telemetry) as trace_:
        trace_.attempt(1)
        trace_.response(404)
        trace_.failed(LookupError("no such order"))

    (span,) = otel.finished()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "404"
    assert "http.request.resend_count" not in span.attributes
    assert [event.name for event in span.events] == ["exception"]
    (logical,) = otel.points("partnercenter.request.duration")
    assert dict(logical.attributes) == attrs(404, error_type="404")


def test_an_error_without_a_response_sets_error_type_to_the_exception_class(otel: Otel) -> None:
    class APITimeoutError(Exception):
        pass

    telemetry = make_telemetry(otel)
    with request(telemetry) as trace_:
        trace_.attempt(1)
        trace_.response(503)
        trace_.retrying("503", 0.5)
        trace_.attempt(2)
        trace_.retrying("timeout", 1.0)
        trace_.attempt(3)
        trace_.failed(APITimeoutError("read timed out"))

    (span,) = otel.finished()
    assert span.attributes is not None
    assert span.attributes["error.type"] == "APITimeoutError"  # not the earlier 503
    assert span.attributes["http.request.resend_count"] == 2
    attempts = by_attributes(otel.points("http.client.request.duration"))
    assert set(attempts) == {
        frozenset(attrs(503, error_type="503").items()),
        frozenset(attrs(error_type="timeout").items()),
        frozenset(attrs(error_type="APITimeoutError").items()),
    }
    retries = by_attributes(otel.points("partnercenter.client.retries"))
    assert {dict(key)["partnercenter.retry.reason"] for key in retries} == {"503", "timeout"}


def test_an_exception_leaving_the_block_fails_the_span(otel: Otel) -> None:
    telemetry = make_telemetry(otel)

    def send() -> None:
        with request(telemetry) as trace_:
            trace_.attempt(1)
            raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        send()

    (span,) = otel.finished()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "ConnectionResetError"


def test_spans_nest_under_the_callers_span_operation_and_customer(otel: Otel) -> None:
    telemetry = make_telemetry(otel)
    tracer = otel.tracer_provider.get_tracer("caller")
    with (
        tracer.start_as_current_span("service handler"),
        telemetry.operation("partnercenter.gather_orders", {"partnercenter.customers": 2}),
    ):
        for customer in ("a", "b"):
            with telemetry.customer(customer) as customer_trace, request(telemetry, customer):
                if customer == "b":  # a failure stream_orders keeps instead of raising
                    customer_trace.failed(PermissionError("403"))

    spans = {span.name: span for span in otel.finished()}
    names = [span.name for span in otel.finished()]
    assert names.count("GET /customers/{customer_id}/orders") == 2
    assert names.count("partnercenter.customer") == 2
    handler = spans["service handler"]
    operation = spans["partnercenter.gather_orders"]
    assert operation.parent is not None and operation.parent.span_id == handler.context.span_id
    assert operation.kind is SpanKind.INTERNAL
    assert dict(operation.attributes or {}) == {"partnercenter.customers": 2}
    customers = [span for span in otel.finished() if span.name == "partnercenter.customer"]
    requests = [span for span in otel.finished() if span.name.startswith("GET ")]
    for customer_span, request_span in zip(customers, requests, strict=True):
        assert customer_span.parent is not None
        assert customer_span.parent.span_id == operation.context.span_id
        assert request_span.parent is not None
        assert request_span.parent.span_id == customer_span.context.span_id
    assert {span.context.trace_id for span in otel.finished()} == {handler.context.trace_id}
    assert [span.status.status_code for span in customers] == [StatusCode.UNSET, StatusCode.ERROR]
    assert customers[1].attributes is not None
    assert customers[1].attributes["error.type"] == "PermissionError"
    assert trace.get_current_span() is trace.INVALID_SPAN  # everything detached


def test_an_async_generator_closed_early_ends_its_operation_without_error(otel: Otel) -> None:
    telemetry = make_telemetry(otel)

    def stream() -> Iterator[int]:
        with telemetry.operation("partnercenter.stream_orders", {}):
            yield 1
            yield 2

    items = stream()
    next(items)
    items.close()  # GeneratorExit at the yield

    (span,) = otel.finished()
    assert span.status.status_code is StatusCode.UNSET
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_an_operation_left_in_a_copy_of_its_context_ends_without_an_error_log(
    otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    # An async generator the garbage collector closes runs its finally in such a copy.
    telemetry = make_telemetry(otel)

    def scenario() -> None:
        operation = telemetry.operation("partnercenter.stream_orders", {})
        operation.__enter__()
        contextvars.copy_context().run(operation.__exit__, None, None, None)

    contextvars.copy_context().run(scenario)
    (span,) = otel.finished()
    assert span.end_time is not None
    assert not [record for record in caplog.records if "detach" in record.getMessage()]


def test_url_user_info_is_redacted_and_no_token_reaches_any_attribute(otel: Otel) -> None:
    telemetry = make_telemetry(otel)
    with telemetry.request(
        "GET",
        ROUTE,
        "https://user:token-1@127.0.0.1:8080/v1/customers/x/orders?size=500",
        request_id="r",
        correlation_id="c",
        customer_id="x",
    ) as trace_:
        trace_.attempt(1)
        trace_.response(200)

    (span,) = otel.finished()
    assert span.attributes is not None
    assert span.attributes["url.full"] == (
        "https://REDACTED:REDACTED@127.0.0.1:8080/v1/customers/x/orders?size=500"
    )
    assert not any("token-1" in str(value) for value in span.attributes.values())


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h/v1/customers?size=500", "https://h/v1/customers?size=500"),
        ("https://u:p@h:8443/v1/x", "https://REDACTED:REDACTED@h:8443/v1/x"),
        ("https://u@[::1]/v1/x?a=b@c", "https://REDACTED:REDACTED@[::1]/v1/x?a=b@c"),
        ("https://h/v1/x?next=a@b", "https://h/v1/x?next=a@b"),
    ],
)
def test_url_full_redacts_user_info_only(url: str, expected: str) -> None:
    assert _redact_url(url) == expected


def test_gauges_sum_the_open_clients_of_a_server_and_forget_closed_ones(otel: Otel) -> None:
    first = make_telemetry(otel, rate=500.0, in_flight=3)
    second = make_telemetry(otel, rate=250.0, in_flight=1)
    other = make_telemetry(otel, rate=100.0, in_flight=2, port=None)
    for telemetry in (first, second, other):
        with request(telemetry):
            pass  # the first request registers the client

    def gauges() -> dict[str, dict[frozenset[tuple[str, Any]], float]]:
        return {
            name: {key: point.value for key, point in by_attributes(otel.points(name)).items()}
            for name in ("partnercenter.client.rate_limit", "http.client.active_requests")
        }

    server = frozenset({"server.address": "127.0.0.1", "server.port": 8080}.items())
    no_port = frozenset({"server.address": "127.0.0.1"}.items())
    assert gauges() == {
        "partnercenter.client.rate_limit": {server: 750.0, no_port: 100.0},
        "http.client.active_requests": {server: 4, no_port: 2},
    }
    first.close()
    first.close()  # twice is fine
    del other, telemetry  # the loop variable held it too
    gc.collect()  # a client dropped without close() leaves too
    assert gauges() == {  # a server without open clients reports 0
        "partnercenter.client.rate_limit": {server: 250.0, no_port: 0.0},
        "http.client.active_requests": {server: 1, no_port: 0},
    }


def test_a_failing_gauge_callable_does_not_break_collection(otel: Otel) -> None:
    def broken() -> int:
        raise RuntimeError("client torn down")

    telemetry = Telemetry(
        server_address="127.0.0.1",
        server_port=8080,
        rate=lambda: 500.0,
        in_flight=broken,
        meter_provider=otel.meter_provider,
        tracer_provider=otel.tracer_provider,
    )
    with request(telemetry):
        pass
    (rate,) = otel.points("partnercenter.client.rate_limit")
    assert rate.value == 500.0


def test_instruments_are_created_once_per_meter_provider(otel: Otel) -> None:
    for _ in range(3):
        with request(make_telemetry(otel)) as trace_:
            trace_.attempt(1)
            trace_.response(200)
    (requests,) = otel.points("partnercenter.client.requests")
    assert requests.value == 3


def test_without_a_provider_everything_is_the_shared_no_op() -> None:
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        pytest.skip("a global tracer provider was set in this process")
    telemetry = Telemetry(
        server_address="h", server_port=None, rate=lambda: 1.0, in_flight=lambda: 0
    )
    assert not telemetry.enabled
    assert request(telemetry) is request(telemetry)
    assert type(request(telemetry)) is RequestTrace
    assert type(telemetry.customer("c")) is OperationTrace
    assert type(telemetry.operation("o", {})) is OperationTrace
    with request(telemetry) as trace_:
        trace_.attempt(1)
        trace_.waited("rate_limiter", 1.0)
        trace_.response(500)
        trace_.retrying("500", 1.0)
        trace_.failed(RuntimeError())
    telemetry.close()


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_a_global_provider_set_after_the_client_is_built_is_honoured() -> None:
    out = run_python(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from partnercenter_async._telemetry import Telemetry, _configured, _configured_public

        telemetry = Telemetry(server_address="h", server_port=443, rate=lambda: 1.0,
                              in_flight=lambda: 0)
        with telemetry.request("GET", "/customers", "https://h/v1/customers", request_id="r",
                               correlation_id="c", customer_id=None):
            pass
        print(telemetry.enabled, _configured(), _configured_public())
        spans = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(spans))
        trace.set_tracer_provider(provider)
        with telemetry.request("GET", "/customers", "https://h/v1/customers", request_id="r",
                               correlation_id="c", customer_id=None):
            pass
        print(telemetry.enabled, _configured(), _configured_public())
        print([span.name for span in spans.get_finished_spans()])
        """
    )
    assert out.splitlines() == ["False False False", "True True True", "['GET /customers']"]


def test_the_module_works_without_opentelemetry_installed() -> None:
    out = run_python(
        """
        import sys
        sys.modules["opentelemetry"] = None  # as if the [otel] extra were not installed
        from partnercenter_async import _telemetry
        telemetry = _telemetry.Telemetry(server_address="h", server_port=None,
                                         rate=lambda: 1.0, in_flight=lambda: 0)
        with telemetry.operation("o", {}), telemetry.customer("c"):
            with telemetry.request("GET", "/r", "https://h/r", request_id="r",
                                   correlation_id="c", customer_id="c") as trace:
                trace.attempt(1)
                trace.response(200)
        telemetry.close()
        print(_telemetry.OTEL_AVAILABLE, telemetry.enabled)
        """
    )
    assert out.strip() == "False False"


# The command line's --otel: configure_from_environment, each case in a fresh interpreter (global
# providers can be set only once per process).
CLI_RUN = """
import logging, sys
logging.basicConfig(stream=sys.stderr, format="%(levelname)s %(message)s")
from partnercenter_async._otel_cli import configure_from_environment
from partnercenter_async._telemetry import Telemetry
shutdown = configure_from_environment()
telemetry = Telemetry(server_address="h", server_port=443, rate=lambda: 500.0,
                      in_flight=lambda: 0)
with telemetry.operation("partnercenter.export", {"partnercenter.customers": 1}):
    with telemetry.request("GET", "/customers", "https://h/v1/customers", request_id="r",
                           correlation_id="c", customer_id=None) as trace:
        trace.attempt(1)
        trace.response(200)
print("enabled", telemetry.enabled)
shutdown()
shutdown()
"""


def run_cli(env: Mapping[str, str], prelude: str = "") -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-c", prelude + CLI_RUN],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean | dict(env),
        check=True,
    )


def test_otel_flag_without_an_otlp_exporter_writes_spans_and_metrics_to_stderr() -> None:
    if installed("opentelemetry.exporter.otlp.proto.http"):
        pytest.skip("an OTLP exporter is installed: it would be the default")
    result = run_cli({"OTEL_SERVICE_NAME": "nightly-export"})
    assert result.stdout == "enabled True\n"  # stdout stays the data's
    documents = [json.loads(chunk) for chunk in split_json(result.stderr)]
    spans = [document for document in documents if "resource_metrics" not in document]
    assert [span["name"] for span in spans] == ["GET /customers", "partnercenter.export"]
    assert spans[0]["resource"]["attributes"]["service.name"] == "nightly-export"
    (metrics,) = [document for document in documents if "resource_metrics" in document]
    assert "partnercenter.client.requests" in json.dumps(metrics)  # flushed at shutdown


def test_otel_service_name_defaults_to_the_package() -> None:
    result = run_cli({"OTEL_METRICS_EXPORTER": "none", "OTEL_TRACES_EXPORTER": "console"})
    (span, _) = [json.loads(chunk) for chunk in split_json(result.stderr)]
    assert span["resource"]["attributes"]["service.name"] == "partnercenter-async"


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_SDK_DISABLED": "true"},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"},
    ],
)
def test_otel_flag_configures_nothing_when_the_environment_says_so(env: dict[str, str]) -> None:
    result = run_cli(env)
    assert (result.stdout, result.stderr) == ("enabled False\n", "")


def test_otel_flag_without_the_sdk_warns_and_runs_on() -> None:
    result = run_cli({}, prelude="import sys; sys.modules['opentelemetry.sdk'] = None\n")
    assert result.stdout == "enabled False\n"
    assert result.stderr.startswith("WARNING --otel: the OpenTelemetry SDK is not installed")


def test_otel_flag_leaves_a_provider_already_set_alone() -> None:
    prelude = (
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "trace.set_tracer_provider(TracerProvider())\n"
    )
    result = run_cli({"OTEL_METRICS_EXPORTER": "none"}, prelude=prelude)
    assert (result.stdout, result.stderr) == ("enabled True\n", "")  # and no console output


async def test_otel_flag_with_the_otlp_exporter_sends_traces_and_metrics_to_the_collector(
    aiohttp_server: AiohttpServer,
) -> None:
    if not installed("opentelemetry.exporter.otlp.proto.http"):
        pytest.skip("opentelemetry-exporter-otlp-proto-http is not installed")
    received: list[tuple[str, str]] = []

    async def collect(request: web.Request) -> web.Response:
        await request.read()
        received.append((request.path, request.headers["Content-Type"]))
        return web.Response(body=b"", content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", collect)
    app.router.add_post("/v1/metrics", collect)
    server = await aiohttp_server(app)
    clean = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    clean["OTEL_EXPORTER_OTLP_ENDPOINT"] = str(server.make_url("")).rstrip("/")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLI_RUN,
        env=clean,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert (stdout, stderr) == (b"enabled True\n", b"")  # nothing on the console
    assert sorted(received) == [
        ("/v1/metrics", "application/x-protobuf"),
        ("/v1/traces", "application/x-protobuf"),
    ]


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package is missing
        return False


def split_json(text: str) -> list[str]:
    """The top-level JSON documents the console exporters wrote, one after another."""
    decoder = json.JSONDecoder()
    documents, index = [], 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        _, end = decoder.raw_decode(text, index)
        documents.append(text[index:end])
        index = end
    return documents


# End to end: the client on the fake service over real sockets, fake time.

ORDERS = "GET /customers/{customer_id}/orders"


@pytest.fixture
def traced_client(
    make_client: Callable[..., PartnerCenterClient], otel: Otel
) -> Callable[..., PartnerCenterClient]:
    """``make_client`` whose telemetry reports to the test's in-memory providers."""
    providers = {"tracer_provider": otel.tracer_provider, "meter_provider": otel.meter_provider}

    def make(**kwargs: Any) -> PartnerCenterClient:
        return make_client(**providers, **kwargs)

    return make


def all_attribute_values(otel: Otel) -> list[str]:
    """Every attribute value of every span, span event and metric point, as text."""
    values: list[str] = []
    for span in otel.finished():
        values += [str(value) for value in (span.attributes or {}).values()]
        for event in span.events:
            values += [str(value) for value in (event.attributes or {}).values()]
    data = otel.reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    values += [str(value) for value in point.attributes.values()]
    return values


async def test_client_a_503_on_the_first_page_is_one_span_with_resend_count_1(
    traced_client: Callable[..., PartnerCenterClient],
    otel: Otel,
    fake: FakePartnerCenter,
    fake_time: FakeTime,
    base_url: str,
) -> None:
    fake.inject(SAMPLE_CUSTOMER_ID, Fault.UNAVAILABLE)
    async with traced_client() as client:
        orders = [order async for order in client.list_orders(SAMPLE_CUSTOMER_ID)]
    assert len(orders) == len(fake.orders_of(SAMPLE_CUSTOMER_ID))

    spans = [span for span in otel.finished() if span.name == ORDERS]
    first, *later_pages = spans
    assert len(spans) == len({r.headers["MS-RequestId"] for r in fake.requests})  # one per page
    assert first.kind is SpanKind.CLIENT
    assert first.status.status_code is StatusCode.UNSET
    attributes = dict(first.attributes or {})
    (delay,) = fake_time.sleeps
    assert attributes == {
        "http.request.method": "GET",
        "url.template": "/customers/{customer_id}/orders",
        "url.full": f"{base_url}/v1/customers/{SAMPLE_CUSTOMER_ID}/orders",
        "server.address": "127.0.0.1",
        "server.port": yarl.URL(base_url).port,
        "http.response.status_code": 200,
        "http.request.resend_count": 1,
        "partnercenter.request_id": fake.requests[0].headers["MS-RequestId"],
        "partnercenter.correlation_id": client.correlation_id,
        "partnercenter.customer_id": SAMPLE_CUSTOMER_ID,
    }
    assert events(first) == [
        (
            "partnercenter.retry",
            {
                "partnercenter.retry.reason": "503",
                "partnercenter.retry.delay": delay,
                "partnercenter.retry.attempt": 1,
            },
        )
    ]
    for page in later_pages:
        assert page.attributes is not None and "http.request.resend_count" not in page.attributes
    attempts = by_attributes(otel.points("http.client.request.duration"))
    statuses = {
        dict(key).get("http.response.status_code"): point for key, point in attempts.items()
    }
    assert statuses[503].count == 1
    assert statuses[200].count == len(spans)
    (retries,) = otel.points("partnercenter.client.retries")
    assert retries.value == client.stats.retries == 1


async def test_client_a_429_shows_the_retry_and_the_hold(
    traced_client: Callable[..., PartnerCenterClient],
    otel: Otel,
    fake: FakePartnerCenter,
    fake_time: FakeTime,
) -> None:
    woke_early = False

    async def sleep(seconds: float) -> None:
        # The first sleep (the retry's) ends a quarter of the way in, as when a later 429 has
        # moved the hold past the retry delay: the client-wide hold makes up the rest.
        nonlocal woke_early
        if woke_early:
            await fake_time.sleep(seconds)
        else:
            woke_early = True
            await fake_time.sleep(seconds / 4)

    fake.inject(SAMPLE_CUSTOMER_ID, Fault.THROTTLE)
    async with traced_client(sleep=sleep) as client:
        await client.gather_orders([SAMPLE_CUSTOMER_ID])

    first = next(span for span in otel.finished() if span.name == ORDERS)
    retry_after = float(fake.config.retry_after)
    assert events(first) == [
        (
            "partnercenter.retry",
            {
                "partnercenter.retry.reason": "429",
                "partnercenter.retry.delay": retry_after,
                "partnercenter.retry.attempt": 1,
            },
        ),
        ("partnercenter.throttle_hold", {"partnercenter.wait.duration": retry_after * 3 / 4}),
    ]
    assert first.attributes is not None and first.attributes["http.request.resend_count"] == 1
    (throttled,) = otel.points("partnercenter.client.throttled")
    assert throttled.value == client.stats.throttled == 1


async def test_client_no_token_reaches_any_attribute_event_or_metric(
    traced_client: Callable[..., PartnerCenterClient],
    otel: Otel,
    fake: FakePartnerCenter,
    credential: CountingCredential,
) -> None:
    fake.inject(SAMPLE_CUSTOMER_ID, Fault.UNAUTHORIZED, Fault.THROTTLE, Fault.RESET)
    fake.inject(fake.customer_ids[1], Fault.SERVER_ERROR)
    async with traced_client() as client:
        await client.gather_orders(fake.customer_ids[:3], return_exceptions=True)
        with pytest.raises(PartnerCenterError):
            await client.get_order(SAMPLE_CUSTOMER_ID, "no-such-order")
    assert credential.calls >= 2  # the 401 made the client fetch a second token
    values = all_attribute_values(otel)
    assert values
    tokens = [f"token-{n}" for n in range(1, credential.calls + 1)]
    assert not [value for value in values if any(t in value for t in tokens)]
    assert not [value for value in values if "bearer" in value.lower()]


async def test_client_a_fan_out_gives_one_span_per_customer_under_the_callers_span(
    traced_client: Callable[..., PartnerCenterClient], otel: Otel, fake: FakePartnerCenter
) -> None:
    customers = fake.customer_ids[:5]
    tracer = otel.tracer_provider.get_tracer("caller")
    with tracer.start_as_current_span("nightly sync") as caller:
        async with traced_client(max_concurrency=3) as client:
            await client.gather_orders(customers)

    spans = otel.finished()
    customer_spans = {
        (span.attributes or {})["partnercenter.customer_id"]: span
        for span in spans
        if span.name == "partnercenter.customer"
    }
    assert set(customer_spans) == set(customers)
    operations = [span for span in spans if span.name == "partnercenter.gather_orders"]
    parent_id = caller.get_span_context().span_id
    if operations:
        (operation,) = operations
        assert operation.parent is not None and operation.parent.span_id == parent_id
        parent_id = operation.context.span_id
    for customer, span in customer_spans.items():
        assert span.parent is not None and span.parent.span_id == parent_id
        pages = [
            page
            for page in spans
            if page.name == ORDERS and page.parent and page.parent.span_id == span.context.span_id
        ]
        assert pages, f"no request span under customer {customer}"
        assert {(page.attributes or {})["partnercenter.customer_id"] for page in pages} == {
            customer
        }
    assert {span.context.trace_id for span in spans} == {caller.get_span_context().trace_id}
    assert operations, "no operation span around gather_orders"
    assert dict(operation.attributes or {}) == {"partnercenter.concurrency": 3}


async def test_client_a_customer_that_fails_is_an_error_span_in_an_operation_that_goes_on(
    traced_client: Callable[..., PartnerCenterClient], otel: Otel, fake: FakePartnerCenter
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"  # no such customer: 404
    async with traced_client() as client:
        results = [r async for r in client.stream_orders([SAMPLE_CUSTOMER_ID, missing])]
    assert [r.error is None for r in results if r.customer_id == missing] == [False]

    spans = otel.finished()
    (failed_request,) = [
        span
        for span in spans
        if span.name == ORDERS and (span.attributes or {})["partnercenter.customer_id"] == missing
    ]
    assert failed_request.status.status_code is StatusCode.ERROR
    assert (failed_request.attributes or {})["error.type"] == "404"
    customers = {
        (span.attributes or {})["partnercenter.customer_id"]: span
        for span in spans
        if span.name == "partnercenter.customer"
    }
    operations = [span for span in spans if span.name == "partnercenter.stream_orders"]
    assert customers[missing].status.status_code is StatusCode.ERROR
    assert (customers[missing].attributes or {})["error.type"] == "NotFoundError"
    assert customers[SAMPLE_CUSTOMER_ID].status.status_code is StatusCode.UNSET
    (operation,) = operations
    assert operation.status.status_code is StatusCode.UNSET  # the fan-out itself went on


async def test_client_gauges_read_the_open_client_and_forget_it_once_closed(
    traced_client: Callable[..., PartnerCenterClient], otel: Otel
) -> None:
    client = traced_client(requests_per_minute=600.0)
    async with client:
        await client.gather_orders([SAMPLE_CUSTOMER_ID])
        (rate,) = otel.points("partnercenter.client.rate_limit")
        (in_flight,) = otel.points("http.client.active_requests")
        assert (rate.value, in_flight.value) == (600.0, 0)
    (rate,) = otel.points("partnercenter.client.rate_limit")
    assert rate.value == 0  # aclose() called Telemetry.close()
    del client
    gc.collect()
    (rate,) = otel.points("partnercenter.client.rate_limit")
    assert rate.value == 0


def test_the_observability_docs_snippet_runs_and_prints_the_retried_request() -> None:
    docs = Path(__file__).parent.parent / "docs" / "observability.md"
    if not docs.exists():
        pytest.skip("docs/observability.md was folded into the README")
    snippet = docs.read_text().split("```python\n", 1)[1].split("```", 1)[0]
    result = subprocess.run(
        [sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60, check=True
    )
    printed, count = re.subn(r"(?m)^\d+ orders$", "", result.stdout)
    assert count == 1
    documents = [json.loads(chunk) for chunk in split_json(printed)]
    spans = [document for document in documents if "resource_metrics" not in document]
    retried = [span for span in spans if span["attributes"].get("http.request.resend_count")]
    assert [span["events"][0]["name"] for span in retried] == ["partnercenter.retry"]
    assert spans[-1]["name"] == "nightly sync"


async def test_an_export_is_one_trace_its_listing_and_fan_out_under_one_span(
    traced_client: Callable[..., PartnerCenterClient], otel: Otel, tmp_path: Path
) -> None:
    async with traced_client() as client:
        await export_orders(client, None, str(tmp_path / "orders.jsonl"))
    spans = otel.finished()
    (export,) = [span for span in spans if span.name == "partnercenter.export"]
    listing = [span for span in spans if span.name == "GET /customers"]
    (stream,) = [span for span in spans if span.name == "partnercenter.stream_orders"]
    assert listing
    assert {span.parent.span_id for span in [*listing, stream] if span.parent} == {
        export.context.span_id
    }
    assert {span.context.trace_id for span in spans} == {export.context.trace_id}
