"""A lilypad store filled with real spans: replayed calls traced by lilypad, for the viewer's tests."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any

import attrs
import mirascope.lilypad as lilypad
from mirascope import llm
from mirascope.lilypad._store import SpanRecord, Store
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.fixtures import load
from tests.support.replay import ReplayServer
from tests.support.scenarios import client_for, messages_for, model_id_for, secret_retrieval_tool

HOSTILE_PROMPT = "<script>window.__pwned = 1; alert('xss')</script><img src=x onerror=\"window.__pwned = 2\">"
HOSTILE_NAME = '<script>alert("name")</script>'

RECOMMEND_V1 = """@lilypad.version()
@llm.call("openai-completions:gpt-4o")
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book"
"""
RECOMMEND_V2 = """@lilypad.version()
@llm.call("openai-completions:gpt-4o")
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book <script>alert('v')</script>, and say why"
"""


@attrs.frozen
class FilledStore:
    """The store's path and the trace ids of what was recorded in it."""

    path: Path
    agent: str
    stream: str
    error: str
    session: str
    hostile: str
    versioned: dict[str, list[str]]  # version -> trace ids
    session_id: str = "conversation-1"


def _hex_trace(span: ReadableSpan) -> str:
    assert span.context is not None
    return f"{span.context.trace_id:032x}"


def fill_store(path: Path, server: ReplayServer, tmp_path: Path) -> FilledStore:
    """Trace an agent with tools, a stream, a failure, a session, a hostile prompt and two versions."""
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # The spans go to `path` below, with only the two declared versions: no store of configure's
    # own (its default is under the working directory, which a module fixture does not move).
    lilypad.configure(tracer_provider=provider, capture_content=True, auto_version=False, store=None)
    tracer = provider.get_tracer("tests.viewer")
    try:
        plain = load("test_call/openai_gpt_4o_completions/sync.json")
        client = client_for(plain, server.url)
        model = llm.model(model_id_for(plain), client=client)

        def call(messages: list[llm.Message]) -> Any:
            with server.replaying([plain["exchanges"][0]["response"]]):
                return model.call(messages)

        # An agent run: a chat that asks for two tools, the tools, and the chat that answers.
        tools = load("test_call_with_tools/openai_gpt_4o_completions/sync.json")

        @llm.agent(model=model_id_for(tools), tools=[secret_retrieval_tool], client=client_for(tools, server.url))
        def keeper(ctx: llm.AgentContext[None]) -> str:
            return "Use parallel tool calling."

        with server.replaying([exchange["response"] for exchange in tools["exchanges"]]):
            keeper("Please retrieve the secrets associated with each of these passwords: mellon,radiance")
        agent = _hex_trace(exporter.get_finished_spans()[-1])

        # Two versions of one function, as the versioning records them on the function's span.
        versions = {"1.0": RECOMMEND_V1, "1.1": RECOMMEND_V2}
        versioned: dict[str, list[str]] = {}
        for version, runs in (("1.0", 2), ("1.1", 1)):
            for _ in range(runs):
                attributes = {
                    "mirascope.function": "recommend_book",
                    "mirascope.version": version,
                    "mirascope.version_hash": hashlib.sha256(versions[version].encode()).hexdigest(),
                    "mirascope.trace.arguments": '{"genre": "fantasy"}',
                }
                with tracer.start_as_current_span("recommend_book", attributes=attributes):
                    call(messages_for(plain, tmp_path))
                versioned.setdefault(version, []).append(_hex_trace(exporter.get_finished_spans()[-1]))

        stream_fixture = load("test_call/openai_gpt_4o_completions/stream.json")
        with server.replaying([stream_fixture["exchanges"][0]["response"]]):
            stream = model.stream(messages_for(stream_fixture, tmp_path))
            for _ in stream:
                pass
        stream_trace = _hex_trace(exporter.get_finished_spans()[-1])

        failing = load("test_authentication_error/openai_gpt_4o_completions/sync.json")
        failing_model = llm.model(model_id_for(failing), client=client_for(failing, server.url))
        with (
            server.replaying([exchange["response"] for exchange in failing["exchanges"]]),
            contextlib.suppress(llm.AuthenticationError),
        ):
            failing_model.call(messages_for(failing, tmp_path))
        error = _hex_trace(exporter.get_finished_spans()[-1])

        with lilypad.session(id="conversation-1"):
            call(messages_for(plain, tmp_path))
        session = _hex_trace(exporter.get_finished_spans()[-1])

        @lilypad.trace(name=HOSTILE_NAME)
        def hostile() -> str:
            return call([llm.messages.user(HOSTILE_PROMPT)]).content

        hostile()
        hostile_trace = _hex_trace(exporter.get_finished_spans()[-1])
    finally:
        for instrument in llm.instrumentation.registered():
            if isinstance(instrument, lilypad.LilypadInstrument):
                llm.instrumentation.unregister(instrument)

    store = Store(path)
    try:
        store.write_spans([SpanRecord.from_readable(span) for span in exporter.get_finished_spans()])
        for code in versions.values():
            store.record_version(
                "recommend_book",
                hashlib.sha256(code.encode()).hexdigest(),
                "(genre: str) -> str",
                code,
                {"mirascope-core": "2.0.0a1+v2"},
            )
    finally:
        store.close()
    return FilledStore(
        path=path,
        agent=agent,
        stream=stream_trace,
        error=error,
        session=session,
        hostile=hostile_trace,
        versioned=versioned,
    )
