"""`lilypad.configure()`: switch tracing on, adding to the application's OpenTelemetry setup."""

from __future__ import annotations

import importlib
import logging
import os
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.environment_variables import (
    OTEL_BSP_MAX_QUEUE_SIZE,
    OTEL_EXPORTER_OTLP_TIMEOUT,
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
)
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from mirascope import llm

from ._instrument import LilypadInstrument
from ._session import SessionSpanProcessor
from ._store import DEFAULT_PATH, Store, StoreError, StoreSpanExporter
from ._version import Versioner

__all__ = ["ConfigurationError", "ExporterNotInstalledError", "configure", "dropped_spans"]

logger = logging.getLogger("mirascope.lilypad")

EXPORT_TIMEOUT_SECONDS = 5.0
"""The OTLP exporter's time for one batch, retries included, unless `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT` says.

OpenTelemetry's own default is 10 s; with the collector down or hung, exit waits for the batch in
flight, so a shorter default keeps a program that is done from lingering."""

_DEFAULT_MAX_QUEUE_SIZE = 2048  # the SDK's default for OTEL_BSP_MAX_QUEUE_SIZE


class ConfigurationError(llm.Error):
    """Lilypad could not be switched on as asked."""


class ExporterNotInstalledError(ConfigurationError):
    """`configure(otlp=...)` needs the OTLP exporter, which the `otlp` extra installs."""


_lock = threading.Lock()
_configured: weakref.WeakSet[TracerProvider] = weakref.WeakSet()
# The providers configured so far, by id: a second configure() on the same one adds nothing.
_instrument: LilypadInstrument | None = None
_exporting: weakref.WeakKeyDictionary[TracerProvider, set[str]] = weakref.WeakKeyDictionary()
# The endpoints each provider already exports to, as the exporter resolved them: configure(otlp=True)
# twice, or once with True and once with the URL the environment names, exports once.
_stores: weakref.WeakKeyDictionary[TracerProvider, dict[Path, Store]] = weakref.WeakKeyDictionary()
# The stores each provider already writes to, by absolute path: configure() twice writes once.
_dropped_lock = threading.Lock()
_dropped = 0


def dropped_spans() -> int:
    """How many spans lilypad's OTLP export has lost in this process.

    A span is lost when the collector refuses it or cannot be reached (after the exporter's own
    retries), when the export queue is full because the collector is not keeping up, or when it is
    still queued (or ends) as the tracer provider shuts down. Calls never wait for the collector
    and never fail because of it; each endpoint's first loss is logged once, as a warning on the
    `mirascope.lilypad` logger, and the rest are only counted here.
    """
    return _dropped


def configure(
    *,
    store: str | os.PathLike[str] | None = DEFAULT_PATH,
    auto_version: bool = True,
    otlp: bool | str = False,
    capture_content: bool | None = None,
    tracer_provider: TracerProvider | None = None,
) -> TracerProvider | None:
    """Trace every `llm` call, stream, tool execution and agent run as OpenTelemetry GenAI spans.

    Where the application has already set an SDK `TracerProvider`, lilypad adds its processors
    to it rather than replacing it; otherwise it makes one and sets it as the global provider.
    Calling it again with the same provider changes nothing. Spans are flushed at exit.

    Args:
        store: The SQLite file spans, versions and annotations are kept in (`.lilypad/lilypad.db`
            under the working directory by default), written off the call's path by a batch
            worker; `None` keeps nothing locally (collector-only use). A store that is damaged,
            from a newer lilypad or read-only is logged as a warning and tracing goes on
            without it.
        auto_version: Version every `@llm.call`, `@llm.agent` and `@lilypad.trace` function, as
            `@lilypad.version()` versions the functions it decorates; `False` versions only
            those under `@lilypad.version()`.
        otlp: `True` exports OTLP/HTTP to the endpoint the standard `OTEL_EXPORTER_OTLP_*`
            variables name; a string is the traces endpoint itself. Needs `mirascope[lilypad]`'s
            `otlp` extra (`mirascope-lilypad[otlp]`). A collector that is down, slow or full
            never holds up or breaks a call: what it cannot take is counted in `dropped_spans()`.
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
        if otlp:
            _export_once(provider, otlp)
        opened = _store_once(provider, store) if store is not None else None
        if _instrument is None:
            _instrument = LilypadInstrument()
        _instrument.set_provider(provider)
        _instrument.set_capture_content(capture_content)
        _instrument.versioner = Versioner(opened, auto=auto_version)
        hook.register(_instrument)
    return provider


def exports_otlp() -> bool:
    """Whether the configured provider exports OTLP."""
    provider = _instrument.provider if _instrument is not None else None
    return isinstance(provider, TracerProvider) and bool(_exporting.get(provider))


def current_store() -> Store | None:
    """The store the last `configure()` opened, or `None`."""
    return _instrument.versioner.store if _instrument is not None else None


def _store_once(provider: TracerProvider, path: str | os.PathLike[str]) -> Store | None:
    """The store at `path`, its exporter added to `provider` once; `None` (warned) if it cannot open."""
    resolved = Path(os.path.abspath(path))
    stores = _stores.setdefault(provider, {})
    if resolved in stores:
        return stores[resolved]
    try:
        opened = Store(resolved)
    except StoreError as error:
        logger.warning("lilypad keeps no local traces: %s Tracing goes on without the store.", error)
        return None
    stores[resolved] = opened
    provider.add_span_processor(BatchSpanProcessor(StoreSpanExporter(opened)))
    return opened


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
    # With no endpoint the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and headers itself.
    options: dict[str, Any] = {"endpoint": otlp} if isinstance(otlp, str) else {}
    if not any(os.environ.get(name) for name in (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT)):
        options["timeout"] = EXPORT_TIMEOUT_SECONDS
    exporter: SpanExporter = exporter_class(**options)
    return exporter


def _export_once(provider: TracerProvider, otlp: bool | str) -> None:
    exporter = _otlp_exporter(otlp)
    # The endpoint as the exporter resolved it (from `otlp` or the environment); not public API.
    resolved = getattr(exporter, "_endpoint", None)
    endpoint = resolved if isinstance(resolved, str) else str(otlp)
    exporting = _exporting.setdefault(provider, set())
    if endpoint in exporting:
        exporter.shutdown()
        return
    exporting.add(endpoint)
    provider.add_span_processor(CountedBatchSpanProcessor(exporter, _Losses(_printable(endpoint))))


def _printable(endpoint: str) -> str:
    """The endpoint without user info, query or fragment, where a credential could hide."""
    unknown = "the OTLP endpoint configured"
    try:
        parts = urlsplit(endpoint)
        host, port = parts.hostname, parts.port
    except ValueError:
        return unknown
    if not host:
        return unknown
    netloc = f"[{host}]" if ":" in host else host
    return urlunsplit((parts.scheme, f"{netloc}:{port}" if port else netloc, parts.path, "", ""))


def _max_queue_size() -> int:
    try:
        return int(os.environ.get(OTEL_BSP_MAX_QUEUE_SIZE) or _DEFAULT_MAX_QUEUE_SIZE)
    except ValueError:  # the SDK logs the bad value and falls back likewise
        return _DEFAULT_MAX_QUEUE_SIZE


class _Losses:
    """Counts the spans one export pipeline lost; only the first loss is logged."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._warned = False

    def drop(self, count: int, why: str) -> None:
        global _dropped
        if count <= 0:
            return
        with _dropped_lock:
            _dropped += count
            first, self._warned = not self._warned, True
        if first:
            logger.warning(
                "lilypad dropped %d span(s) bound for the OTLP collector at %s: %s. Calls are not affected; "
                "further drops are only counted, in lilypad.dropped_spans(). Check that a collector is "
                "listening there (configure(otlp=...) or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / "
                "OTEL_EXPORTER_OTLP_ENDPOINT set it) and answers; the opentelemetry exporter's log says why.",
                count,
                self.endpoint,
                why,
            )


class _CountingExporter(SpanExporter):
    """The OTLP exporter, with each failed batch counted.

    Once the collector has failed, shutdown stops trying it: exit would wait for each queued
    batch to time out in turn.
    """

    def __init__(self, inner: SpanExporter, owner: CountedBatchSpanProcessor) -> None:
        self.inner = inner
        self._owner = owner
        self._failing = False
        self._closing = False
        self._closed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not self._owner.taken(len(spans)):
            return SpanExportResult.FAILURE  # already counted as lost when shutdown gave up on them
        if self._closed or (self._closing and self._failing):
            self._owner.losses.drop(len(spans), "the collector was failing when the tracer provider shut down")
            return SpanExportResult.FAILURE
        try:
            result = self.inner.export(spans)
            why = "the collector refused them or could not be reached"
        except Exception as error:  # the batch processor would log each one with a traceback
            result, why = SpanExportResult.FAILURE, f"the exporter raised {type(error).__name__}"
        self._failing = result is not SpanExportResult.SUCCESS
        if self._failing:
            self._owner.losses.drop(len(spans), why)
        return result

    def begin_shutdown(self) -> None:
        self._closing = True
        if self._failing:
            # Ends the exporter's wait before its next retry now, rather than after the
            # batch processor has waited for every queued batch to time out.
            self.shutdown()

    def shutdown(self) -> None:
        if not self._closed:
            self._closed = True
            self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class CountedBatchSpanProcessor(SpanProcessor):
    """A `BatchSpanProcessor` in which no span is lost uncounted.

    The SDK's processor drops a span silently (a rate-limited log line) when its queue is full.
    This one keeps the queue from filling: it counts the spans queued and not yet taken by the
    exporter, and drops (and counts) a span itself when that reaches the queue's size. Between
    the processor taking a batch and handing it to the exporter the count runs high, so it may
    drop a span the queue had room for, but never lets one go unseen.
    """

    def __init__(self, exporter: SpanExporter, losses: _Losses) -> None:
        self.losses = losses
        self._capacity = _max_queue_size()
        self._exporter = _CountingExporter(exporter, self)
        self._batch = BatchSpanProcessor(self._exporter, max_queue_size=self._capacity)
        self._lock = threading.Lock()
        self._queued = 0
        self._closing = False
        self._closed = False
        if hasattr(os, "register_at_fork"):
            # The batch processor empties its queue in a forked child: the parent exports those.
            forget = weakref.WeakMethod(self._forget_queue)

            def after_in_child() -> None:
                if (method := forget()) is not None:
                    method()

            os.register_at_fork(after_in_child=after_in_child)

    @property
    def span_exporter(self) -> SpanExporter:
        """The exporter spans go to, as `BatchSpanProcessor.span_exporter` gives it."""
        return self._exporter.inner

    def _forget_queue(self) -> None:
        self._lock = threading.Lock()
        self._queued = 0

    def taken(self, count: int) -> bool:
        """The exporter took `count` queued spans; `False` once shutdown has counted them as lost."""
        with self._lock:
            if self._closed:
                return False
            self._queued -= count
            return True

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Nothing to do until the span ends."""

    def on_end(self, span: ReadableSpan) -> None:
        """Queue the span for export, or count it as dropped when the queue is full."""
        if not (span.context and span.context.trace_flags.sampled):
            return  # the batch processor exports sampled spans only
        with self._lock:
            closing = self._closing
            room = not closing and self._queued < self._capacity
            if room:
                self._queued += 1
        if room:
            self._batch.on_end(span)
        elif closing:
            self.losses.drop(1, "it ended after the tracer provider shut down")
        else:
            self.losses.drop(
                1,
                f"the export queue was full ({self._capacity} spans, OTEL_BSP_MAX_QUEUE_SIZE): "
                "the collector is not keeping up",
            )

    def shutdown(self) -> None:
        """Export what is queued (unless the collector is failing), then count what is left as lost."""
        with self._lock:
            self._closing = True
        self._exporter.begin_shutdown()
        self._batch.shutdown()
        with self._lock:
            self._closed = True
            left, self._queued = self._queued, 0
        self.losses.drop(left, "they were still queued when the tracer provider shut down")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export everything queued now."""
        return self._batch.force_flush(timeout_millis)


def _instrumentation_module() -> Any:
    try:
        return importlib.import_module("mirascope.llm.instrumentation")
    except ImportError as exc:
        raise ConfigurationError(
            "this mirascope-core has no instrumentation hook (mirascope.llm.instrumentation): "
            "install the mirascope-core release that matches mirascope-lilypad"
        ) from exc
