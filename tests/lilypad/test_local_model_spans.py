"""Lilypad's spans for a real model generating in process: SmolLM2-135M through llama.cpp."""

from __future__ import annotations

from collections.abc import Iterator

import mirascope.lilypad as lilypad
import pytest
from mirascope import llm
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

pytestmark = pytest.mark.slow  # a model load and real generation


@pytest.fixture(scope="module")
def client() -> Iterator[llm.Client]:
    with llm.client("local", threads=1, context_size=1024, seed=7) as local_client:
        yield local_client


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument_count = len(llm.instrumentation.registered())
    lilypad.configure(tracer_provider=provider, capture_content=True)
    try:
        yield exporter
    finally:
        for instrument in llm.instrumentation.registered()[instrument_count:]:
            llm.instrumentation.unregister(instrument)
        provider.shutdown()


def _model(client: llm.Client) -> llm.Model:
    return llm.model("local:smollm2", client=client, temperature=0, max_tokens=16)


def test_a_local_call_is_a_chat_span_with_real_usage(client: llm.Client, spans: InMemorySpanExporter) -> None:
    response = _model(client).call("Name a colour.")
    (span,) = spans.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert span.name == "chat smollm2"
    assert span.kind == SpanKind.CLIENT
    assert span.status.status_code != StatusCode.ERROR
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "local"
    assert attributes["gen_ai.request.model"] == "smollm2"
    assert attributes["gen_ai.request.temperature"] == 0
    assert attributes["gen_ai.request.max_tokens"] == 16
    assert response.usage is not None
    assert attributes["gen_ai.usage.input_tokens"] == response.usage.input_tokens > 0
    assert attributes["gen_ai.usage.output_tokens"] == response.usage.output_tokens > 0
    assert attributes["gen_ai.response.finish_reasons"] in (("stop",), ("length",))
    assert "Name a colour." in str(attributes["gen_ai.input.messages"])
    assert response.content in str(attributes["gen_ai.output.messages"])


def test_a_local_stream_span_times_its_first_chunk_and_ends_when_read(
    client: llm.Client, spans: InMemorySpanExporter
) -> None:
    stream = _model(client).stream("Count to five.")
    assert spans.get_finished_spans() == ()  # open while the model writes
    text = "".join(chunk.content for chunk in stream)
    (span,) = spans.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert text
    assert attributes["gen_ai.request.stream"] is True
    ttfc = attributes["gen_ai.response.time_to_first_chunk"]
    assert isinstance(ttfc, float)
    assert ttfc > 0
    assert span.end_time is not None
    assert span.start_time is not None
    assert ttfc * 1e9 <= span.end_time - span.start_time
    assert stream.response.usage is not None
    assert attributes["gen_ai.usage.output_tokens"] == stream.response.usage.output_tokens > 0
