"""Lilypad: OpenTelemetry tracing for Mirascope, switched on with `lilypad.configure()`.

Every `llm` call, stream, tool execution and agent run becomes a span following the
OpenTelemetry GenAI semantic conventions; `@lilypad.trace()` adds your own functions and
`lilypad.session(id=...)` groups spans into one conversation.
"""

from __future__ import annotations

from ._configure import ConfigurationError, ExporterNotInstalledError, configure, dropped_spans
from ._instrument import LilypadInstrument, provider_name
from ._session import SessionSpanProcessor, current_session_id, session
from ._trace import MAX_VALUE_CHARS, json_summary, trace

__all__ = [
    "ConfigurationError",
    "ExporterNotInstalledError",
    "LilypadInstrument",
    "MAX_VALUE_CHARS",
    "SessionSpanProcessor",
    "configure",
    "current_session_id",
    "dropped_spans",
    "json_summary",
    "provider_name",
    "session",
    "trace",
]
