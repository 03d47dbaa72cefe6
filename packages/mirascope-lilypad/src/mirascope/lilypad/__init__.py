"""Lilypad: OpenTelemetry tracing for Mirascope, switched on with `lilypad.configure()`.

Every `llm` call, stream, tool execution and agent run becomes a span following the
OpenTelemetry GenAI semantic conventions; `@lilypad.trace()` adds your own functions and
`lilypad.session(id=...)` groups spans into one conversation.
"""

from __future__ import annotations

from ._annotate import annotate
from ._configure import ConfigurationError, ExporterNotInstalledError, configure, current_store, dropped_spans
from ._instrument import LilypadInstrument, provider_name
from ._session import SessionSpanProcessor, current_session_id, session
from ._store import (
    AnnotationRecord,
    SpanRecord,
    Store,
    StoreCorruptError,
    StoreError,
    StoreReadOnlyError,
    StoreTooNewError,
    TraceSummary,
    VersionRecord,
)
from ._trace import MAX_VALUE_CHARS, json_summary, trace
from ._version import version

__all__ = [
    "MAX_VALUE_CHARS",
    "AnnotationRecord",
    "ConfigurationError",
    "ExporterNotInstalledError",
    "LilypadInstrument",
    "SessionSpanProcessor",
    "SpanRecord",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "StoreReadOnlyError",
    "StoreTooNewError",
    "TraceSummary",
    "VersionRecord",
    "annotate",
    "configure",
    "current_session_id",
    "current_store",
    "dropped_spans",
    "json_summary",
    "provider_name",
    "session",
    "trace",
    "version",
]
