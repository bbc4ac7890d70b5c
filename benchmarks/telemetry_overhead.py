"""What the telemetry hooks cost per request, on and off.

    .venv/bin/python -m benchmarks.telemetry_overhead            # about 20 seconds
    .venv/bin/python -m benchmarks.telemetry_overhead --quick    # a smoke run

Each mode runs the hooks the core calls for one request of a fan-out, unthrottled and
successful: ``customer()`` around ``request()``, then ``attempt(1)``, ``waited("rate_limiter",
0.0)`` and ``response(200)``. It prints microseconds per request, the median of the repeats,
after subtracting the loop's own cost (the "no hooks" row). Compare them with the client's CPU per
request in ``benchmarks/results/latest.md`` (0.10 to 0.17 s per 1,000 requests: 100 to 170 us).

Modes:

- ``no hooks``: the timing loop calling an empty function (subtracted from the others);
- ``core's no-op``: the ``contextlib.contextmanager`` no-op the core shipped with (41199a4);
- ``api absent``: ``_telemetry`` without ``opentelemetry-api`` installed (a fresh interpreter
  where importing it fails);
- ``api, no sdk``: ``opentelemetry-api`` installed, no provider configured: the default for a
  library user who has not set up OpenTelemetry;
- ``sdk, no exporter``: an SDK tracer provider without span processors and a meter provider
  without readers (recording spans and metrics, exporting nothing): the cost when turned on;
- ``sdk, in-memory``: spans to an in-memory exporter and metrics to an in-memory reader.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable, Iterator, Mapping

from partnercenter_async._telemetry import OTEL_AVAILABLE, Telemetry

ROUTE = "/customers/{customer_id}/orders"
CUSTOMER = "0e3b8e8a-3f4c-4b8e-9c1a-1d2e3f4a5b6c"
URL = f"https://api.partnercenter.microsoft.com/v1/customers/{CUSTOMER}/orders"


def one_request(telemetry: Telemetry) -> Callable[[], None]:
    def run() -> None:
        with (
            telemetry.customer(CUSTOMER),
            telemetry.request(
                "GET",
                ROUTE,
                URL,
                request_id="11111111-1111-4111-8111-111111111111",
                correlation_id="22222222-2222-4222-8222-222222222222",
                customer_id=CUSTOMER,
            ) as trace,
        ):
            trace.attempt(1)
            trace.waited("rate_limiter", 0.0)
            trace.response(200)

    return run


def no_hooks() -> None:
    pass


class _CoreNoOpTrace:
    __slots__ = ()

    def attempt(self, number: int) -> None:
        pass

    def waited(self, what: str, seconds: float) -> None:
        pass

    def response(self, status: int) -> None:
        pass


_CORE_NO_TRACE = _CoreNoOpTrace()


class CoreNoOp:
    """The no-op ``_telemetry.Telemetry`` of commit 41199a4, its shape reproduced."""

    @contextlib.contextmanager
    def request(self, *args: object, **kwargs: object) -> Iterator[_CoreNoOpTrace]:
        yield _CORE_NO_TRACE

    @contextlib.contextmanager
    def customer(self, customer_id: str) -> Iterator[None]:
        yield


def core_noop_request(telemetry: CoreNoOp) -> Callable[[], None]:
    def run() -> None:
        with (
            telemetry.customer(CUSTOMER),
            telemetry.request(
                "GET", ROUTE, URL, request_id="r", correlation_id="c", customer_id=CUSTOMER
            ) as trace,
        ):
            trace.attempt(1)
            trace.waited("rate_limiter", 0.0)
            trace.response(200)

    return run


def telemetry(**providers: object) -> Telemetry:
    return Telemetry(
        server_address="api.partnercenter.microsoft.com",
        server_port=443,
        rate=lambda: 500.0,
        in_flight=lambda: 0,
        **providers,  # type: ignore[arg-type]
    )


def per_call_us(func: Callable[[], None], number: int, repeat: int) -> float:
    times = timeit.repeat(func, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def measure(number: int, repeat: int) -> dict[str, float]:
    """Microseconds per request of each mode measurable in this interpreter."""
    results = {
        "no hooks": per_call_us(no_hooks, number, repeat),
        "core's no-op": per_call_us(core_noop_request(CoreNoOp()), number, repeat),
    }
    if not OTEL_AVAILABLE:
        results["api absent"] = per_call_us(one_request(telemetry()), number, repeat)
        return results
    off = telemetry()
    assert not off.enabled, "a global provider is set: the no-op path cannot be measured"
    results["api, no sdk"] = per_call_us(one_request(off), number, repeat)
    try:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    except ImportError:
        return results
    bare = telemetry(tracer_provider=TracerProvider(), meter_provider=MeterProvider())
    results["sdk, no exporter"] = per_call_us(one_request(bare), number // 10, repeat)
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    memory = telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)

    def then_clear() -> None:
        one_request(memory)()

    results["sdk, in-memory"] = per_call_us(then_clear, number // 10, repeat)
    spans.clear()
    return results


def without_api(number: int, repeat: int) -> Mapping[str, float]:
    """The "api absent" row, from a fresh interpreter where opentelemetry cannot be imported."""
    code = (
        "import sys, json; sys.modules['opentelemetry'] = None\n"
        "from benchmarks.telemetry_overhead import measure\n"
        f"print(json.dumps(measure({number}, {repeat})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, float] = json.loads(out)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations: a smoke run")
    args = parser.parse_args(argv)
    number, repeat = (2_000, 3) if args.quick else (100_000, 7)
    results = measure(number, repeat)
    if OTEL_AVAILABLE:
        absent = without_api(number, repeat)
        results["api absent"] = absent["api absent"] - absent["no hooks"] + results["no hooks"]
    loop = results["no hooks"]
    print(f"{'mode':<18} {'us per request':>15}  (loop overhead {loop:.2f} us subtracted)")
    for mode in (
        "core's no-op",
        "api absent",
        "api, no sdk",
        "sdk, no exporter",
        "sdk, in-memory",
    ):
        if mode in results:
            print(f"{mode:<18} {results[mode] - loop:>15.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
