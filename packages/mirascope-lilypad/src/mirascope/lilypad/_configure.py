"""`lilypad.configure()`: switch tracing on, adding to the application's OpenTelemetry setup."""

from __future__ import annotations

import importlib
import os
import threading
import weakref
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from mirascope import llm

from ._instrument import LilypadInstrument
from ._session import SessionSpanProcessor

__all__ = ["ConfigurationError", "ExporterNotInstalledError", "configure"]


class ConfigurationError(llm.Error):
    """Lilypad could not be switched on as asked."""


class ExporterNotInstalledError(ConfigurationError):
    """`configure(otlp=...)` needs the OTLP exporter, which the `otlp` extra installs."""


_lock = threading.Lock()
_configured: weakref.WeakSet[TracerProvider] = weakref.WeakSet()
# The providers configured so far, by id: a second configure() on the same one adds nothing.
_instrument: LilypadInstrument | None = None
_exporting: set[tuple[int, str]] = set()
# (provider, endpoint) pairs already exporting: configure(otlp=True) twice exports once.


def configure(
    *,
    otlp: bool | str = False,
    capture_content: bool | None = None,
    tracer_provider: TracerProvider | None = None,
) -> TracerProvider | None:
    """Trace every `llm` call, stream, tool execution and agent run as OpenTelemetry GenAI spans.

    Where the application has already set an SDK `TracerProvider`, lilypad adds its processors
    to it rather than replacing it; otherwise it makes one and sets it as the global provider.
    Calling it again with the same provider changes nothing. Spans are flushed at exit.

    Args:
        otlp: `True` exports OTLP/HTTP to the endpoint the standard `OTEL_EXPORTER_OTLP_*`
            variables name; a string is the traces endpoint itself. Needs `mirascope[lilypad]`'s
            `otlp` extra (`mirascope-lilypad[otlp]`).
        capture_content: Record message content (`gen_ai.input.messages`, tool arguments and
            results, ...). `None` reads `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`.
        tracer_provider: The provider to add to; by default the global one, or a new one.

    Returns:
        The tracer provider the spans go to, or `None` when `OTEL_SDK_DISABLED` is true.

    Raises:
        ExporterNotInstalledError: `otlp` was asked for without the exporter installed.
        ConfigurationError: The installed `mirascope-core` has no instrumentation hook, or the
            global tracer provider is not an SDK one.
    """
    global _instrument
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    hook = _instrumentation_module()
    with _lock:
        provider = tracer_provider or _global_sdk_provider()
        if provider not in _configured:
            # An SDK provider flushes and shuts down at exit by itself (shutdown_on_exit).
            _configured.add(provider)
            provider.add_span_processor(SessionSpanProcessor())
        export_key = (id(provider), str(otlp))
        if otlp and export_key not in _exporting:
            provider.add_span_processor(BatchSpanProcessor(_otlp_exporter(otlp)))
            _exporting.add(export_key)
        if _instrument is None:
            _instrument = LilypadInstrument()
        _instrument.set_provider(provider)
        _instrument.set_capture_content(capture_content)
        hook.register(_instrument)
    return provider


def _global_sdk_provider() -> TracerProvider:
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    if not isinstance(current, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        raise ConfigurationError(
            f"the global tracer provider is a {type(current).__name__}, not an OpenTelemetry SDK TracerProvider: "
            "pass one with configure(tracer_provider=...)"
        )
    provider = TracerProvider()
    trace.set_tracer_provider(provider)
    # set_tracer_provider refuses a second provider with a warning; read back the one in place.
    current = trace.get_tracer_provider()
    return current if isinstance(current, TracerProvider) else provider


def _otlp_exporter(otlp: bool | str) -> SpanExporter:
    try:
        module = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    except ImportError as exc:
        raise ExporterNotInstalledError(
            "configure(otlp=...) needs the OTLP/HTTP exporter, which mirascope[lilypad] leaves out: "
            'install its `otlp` extra, pip install "mirascope-lilypad[otlp]"'
        ) from exc
    exporter_class: Any = module.OTLPSpanExporter
    # With no endpoint the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, headers and timeout itself.
    exporter: SpanExporter = exporter_class(endpoint=otlp) if isinstance(otlp, str) else exporter_class()
    return exporter


def _instrumentation_module() -> Any:
    try:
        return importlib.import_module("mirascope.llm.instrumentation")
    except ImportError as exc:
        raise ConfigurationError(
            "this mirascope-core has no instrumentation hook (mirascope.llm.instrumentation): "
            "install the mirascope-core release that matches mirascope-lilypad"
        ) from exc
