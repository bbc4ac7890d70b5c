"""``--otel`` for the command line: the OpenTelemetry SDK, set up from the ``OTEL_*`` variables.

The library itself uses only the API (see ``_telemetry.py``); a command-line run has no
application around it to configure the SDK, so ``--otel`` does it here::

    shutdown_otel = configure_from_environment() if args.otel else lambda: None
    try:
        ...  # the export or sync
    finally:
        shutdown_otel()  # flushes the last spans and metrics

What it reads (the names and defaults of OpenTelemetry's SDK configuration):

- ``OTEL_SDK_DISABLED=true``: configure nothing.
- ``OTEL_TRACES_EXPORTER``, ``OTEL_METRICS_EXPORTER``: ``otlp``, ``console`` or ``none``
  (comma-separated for several). Unset: ``otlp`` when an OTLP exporter package is installed
  (``opentelemetry-exporter-otlp-proto-http`` or ``-grpc``), else ``console``.
- ``OTEL_EXPORTER_OTLP_PROTOCOL`` (or ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` /
  ``..._METRICS_PROTOCOL``): ``http/protobuf`` (default) or ``grpc``; the exporters themselves
  read ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_HEADERS``, ``..._TIMEOUT``, ...
- ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``: the resource (``service.name`` defaults
  to ``partnercenter-async``); ``OTEL_TRACES_SAMPLER``, ``OTEL_BSP_*``,
  ``OTEL_METRIC_EXPORT_INTERVAL``: as the SDK reads them.

The console exporters write to stderr: stdout may carry the export's data (``--out -``). When a
provider is already set (a run under ``opentelemetry-instrument``) it is left as it is.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["DEFAULT_SERVICE_NAME", "configure_from_environment"]

logger = logging.getLogger("partnercenter_async")

DEFAULT_SERVICE_NAME: Final = "partnercenter-async"
_OTLP_MODULES: Final = {
    "http/protobuf": "opentelemetry.exporter.otlp.proto.http",
    "grpc": "opentelemetry.exporter.otlp.proto.grpc",
}


def _nothing() -> None:
    return None


def configure_from_environment(
    environ: Mapping[str, str] | None = None,
) -> Callable[[], None]:
    """Set global tracer and meter providers of the OpenTelemetry SDK from ``OTEL_*`` variables.

    Args:
        environ: The variables to read (default ``os.environ``; the SDK's own classes read
            ``os.environ`` for the settings they own).

    Returns:
        A function that flushes and shuts down the providers set here: call it once, at the end
        of the run. When nothing was set (no SDK installed, ``OTEL_SDK_DISABLED``, providers
        already set) it does nothing; a missing SDK is logged as a warning.
    """
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return _nothing
    try:
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.resources import Resource
    except ImportError:
        logger.warning(
            "--otel: the OpenTelemetry SDK is not installed, no traces or metrics are exported "
            "(pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http)"
        )
        return _nothing

    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": DEFAULT_SERVICE_NAME}))
    shutdowns: list[Callable[[], Any]] = []

    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        tracer_provider = _tracer_provider(env, resource)
        if tracer_provider is not None:
            trace.set_tracer_provider(tracer_provider)
            shutdowns.append(tracer_provider.shutdown)
    if not _meter_provider_is_set(metrics.get_meter_provider()):
        meter_provider = _meter_provider(env, resource)
        if meter_provider is not None:
            metrics.set_meter_provider(meter_provider)
            shutdowns.append(meter_provider.shutdown)

    def shutdown() -> None:
        while shutdowns:
            try:
                shutdowns.pop()()
            except Exception as err:  # an unreachable collector must not fail the run
                logger.warning("--otel: shutting down the exporter failed: %s", err)

    return shutdown


def _exporters(env: Mapping[str, str], signal: str) -> list[str]:
    """The exporter names asked for ``signal`` ("traces" or "metrics"), defaults applied."""
    names = [
        name.strip().lower()
        for name in env.get(f"OTEL_{signal.upper()}_EXPORTER", "").split(",")
        if name.strip()
    ]
    if not names:
        names = ["otlp" if _otlp_module(env, signal) is not None else "console"]
    return [name for name in names if name != "none"]


def _otlp_module(env: Mapping[str, str], signal: str) -> str | None:
    """The installed OTLP exporter package for the configured protocol, or None."""
    protocol = (
        env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    module = _OTLP_MODULES.get(protocol)
    if module is None:
        logger.warning("--otel: unknown OTLP protocol %r, using http/protobuf", protocol)
        module = _OTLP_MODULES["http/protobuf"]
    try:
        found = importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package is missing
        found = False
    return module if found else None


def _chosen_exporters(
    env: Mapping[str, str], signal: str, otlp: Callable[[str], Any], console: Callable[[], Any]
) -> list[Any]:
    """The exporters ``OTEL_{signal}_EXPORTER`` names: ``otlp(module)`` for OTLP (the console
    one when no OTLP exporter is installed), ``console()`` for console; others are ignored."""
    exporters: list[Any] = []
    for name in _exporters(env, signal):
        module = _otlp_module(env, signal) if name == "otlp" else None
        if module is not None:
            exporters.append(otlp(module))
        elif name in ("otlp", "console"):
            if name == "otlp":
                logger.warning("--otel: no OTLP exporter installed, %s go to stderr", signal)
            exporters.append(console())
        else:
            logger.warning("--otel: unknown %s exporter %r ignored", signal, name)
    return exporters


def _tracer_provider(env: Mapping[str, str], resource: Any) -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    exporters = _chosen_exporters(
        env,
        "traces",
        lambda module: importlib.import_module(f"{module}.trace_exporter").OTLPSpanExporter(),
        lambda: ConsoleSpanExporter(out=sys.stderr),
    )
    if not exporters:
        return None
    provider = TracerProvider(resource=resource)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _meter_provider(env: Mapping[str, str], resource: Any) -> Any:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        PeriodicExportingMetricReader,
    )

    exporters = _chosen_exporters(
        env,
        "metrics",
        lambda module: importlib.import_module(f"{module}.metric_exporter").OTLPMetricExporter(),
        lambda: ConsoleMetricExporter(out=sys.stderr),
    )
    if not exporters:
        return None
    readers = [PeriodicExportingMetricReader(exporter) for exporter in exporters]
    return MeterProvider(metric_readers=readers, resource=resource)


def _meter_provider_is_set(provider: object) -> bool:
    from opentelemetry.metrics import NoOpMeterProvider

    try:
        from opentelemetry.metrics._internal import _ProxyMeterProvider
    except ImportError:  # pragma: no cover (a newer API): set_meter_provider warns if it was set
        return isinstance(provider, NoOpMeterProvider)
    return not isinstance(provider, _ProxyMeterProvider)
