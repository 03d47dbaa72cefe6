"""`lilypad.annotate(...)`: label, score or explain a trace or span after the fact.

Spans are immutable once ended (and exported), so annotations live in the store beside them.
Where spans are also exported over OTLP, the annotation is sent there too, as the GenAI
conventions' `gen_ai.evaluation.result` event on a short span beneath the annotated one.
"""

from __future__ import annotations

from typing import Literal

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, TraceFlags

from . import _semconv as sc
from ._configure import ConfigurationError, current_store, exports_otlp
from ._instrument import current_tracer
from ._store import AnnotationRecord

__all__ = ["annotate"]


def annotate(
    target: str | Span | SpanContext,
    *,
    label: Literal["pass", "fail"] | None = None,
    score: float | None = None,
    reason: str | None = None,
) -> AnnotationRecord:
    """Annotate a trace (its id, 32 hex digits) or a span (an OpenTelemetry span or its context).

    Args:
        target: A trace id, or the span (e.g. `trace.get_current_span()`) or span context.
        label: `"pass"` or `"fail"`; the viewer's pass rates count these.
        score: Any finite number.
        reason: Why, in words.

    Returns:
        The stored annotation.

    Raises:
        ConfigurationError: No store is configured (`lilypad.configure()` keeps one by default).
        StoreArgumentError: A malformed id, a label other than pass/fail, a score that is not a
            finite number, or none of label, score and reason.
    """
    store = current_store()
    if store is None:
        raise ConfigurationError(
            "lilypad.annotate needs the local store: call lilypad.configure() first (it keeps "
            "one at .lilypad/lilypad.db unless given store=None)"
        )
    trace_id, span_id = _ids(target)
    record = store.annotate(trace_id, span_id=span_id, label=label, score=score, reason=reason, source="api")
    if span_id is not None and exports_otlp():
        _emit(record, int(trace_id, 16), int(span_id, 16))
    return record


def _ids(target: str | Span | SpanContext) -> tuple[str, str | None]:
    if isinstance(target, str):
        return target, None
    context = target if isinstance(target, SpanContext) else target.get_span_context()
    if not context.is_valid:
        raise ConfigurationError("lilypad.annotate was given a span that is not recording (no trace id)")
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def _emit(record: AnnotationRecord, trace_id: int, span_id: int) -> None:
    parent = NonRecordingSpan(SpanContext(trace_id, span_id, is_remote=False, trace_flags=TraceFlags(1)))
    attributes: dict[str, str | float] = {sc.GEN_AI_EVALUATION_NAME: "lilypad.annotation"}
    if record.label is not None:
        attributes[sc.GEN_AI_EVALUATION_SCORE_LABEL] = record.label
    if record.score is not None:
        attributes[sc.GEN_AI_EVALUATION_SCORE_VALUE] = record.score
    if record.reason:
        attributes[sc.GEN_AI_EVALUATION_EXPLANATION] = record.reason
    span = current_tracer().start_span("evaluation lilypad.annotation", context=trace.set_span_in_context(parent))
    span.add_event(sc.EVENT_EVALUATION_RESULT, attributes)
    span.end()
