"""`lilypad.session(id=...)`: a conversation id stamped on every span started inside it."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Span, SpanProcessor

from . import _semconv

__all__ = ["SessionSpanProcessor", "current_session_id", "session"]

_session_id: ContextVar[str | None] = ContextVar("mirascope_lilypad_session_id", default=None)


def current_session_id() -> str | None:
    """The id of the innermost `lilypad.session` this code runs in, or `None`."""
    return _session_id.get()


@contextmanager
def session(id: str) -> Generator[str]:
    """Stamp `gen_ai.conversation.id` on every span started inside, from any instrumentation.

    The id travels with the context: tasks and `contextvars.copy_context()` runs started inside
    carry it on.
    """
    token = _session_id.set(id)
    try:
        yield id
    finally:
        _session_id.reset(token)


class SessionSpanProcessor(SpanProcessor):
    """Stamps the current session id on every span as it starts, whoever started it."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Set `gen_ai.conversation.id` when a session is active."""
        session_id = _session_id.get()
        if session_id is not None:
            span.set_attribute(_semconv.GEN_AI_CONVERSATION_ID, session_id)
