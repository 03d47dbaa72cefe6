"""Lilypad's spans for real calls replayed through the local server: calls, streams, tools, agents, errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import mirascope.lilypad as lilypad
import pytest
from mirascope import llm
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.support.fixtures import load
from tests.support.replay import ReplayServer
from tests.support.scenarios import client_for, messages_for, model_id_for, secret_retrieval_tool


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    lilypad.configure(tracer_provider=provider, capture_content=False)
    try:
        yield exporter
    finally:
        for instrument in llm.instrumentation.registered():
            if isinstance(instrument, lilypad.LilypadInstrument):
                llm.instrumentation.unregister(instrument)


def _attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def _span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def _trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


def _call(path: str, server: ReplayServer, tmp_path: Path, **kwargs: Any) -> Any:
    fixture = load(path)
    client = client_for(fixture, server.url)
    messages = messages_for(fixture, tmp_path)

    @llm.call(model_id_for(fixture), client=client, **kwargs)
    def prompt() -> list[llm.Message]:
        return messages

    with server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        return prompt()


PROVIDER_NAMES = {
    "anthropic_beta_claude_sonnet_4_0": "anthropic",
    "anthropic_claude_sonnet_4_0": "anthropic",
    "google_gemini_2_5_flash": "gcp.gemini",
    "openai_gpt_4o_completions": "openai",
    "openai_gpt_4o_responses": "openai",
}


MODES = ["sync", "async", "stream", "async_stream"]


def _answer(model: llm.Model, mode: str, content: list[llm.Message]) -> Any:
    """The response to `content` the way `mode` calls: a call or a stream, sync or async, read to its end."""
    if mode == "sync":
        return model.call(content)
    if mode == "stream":
        return model.stream(content).response

    async def answer() -> Any:
        if mode == "async":
            return await model.call_async(content)
        stream = await model.stream_async(content)
        async for _ in stream:
            pass
        return stream.response

    return asyncio.run(answer())


def test_a_call_is_one_client_span_with_the_genai_attributes(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    response = _call("test_call/openai_gpt_4o_completions/sync.json", replay_server, tmp_path)
    (span,) = spans.get_finished_spans()
    attributes = _attrs(span)
    assert span.name == "chat gpt-4o"
    assert span.kind == SpanKind.CLIENT
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "gpt-4o"
    assert attributes["gen_ai.response.model"] == response.provider_model
    assert attributes["mirascope.model_id"] == "openai-completions:gpt-4o"
    assert attributes["gen_ai.response.id"] == response.id
    assert attributes["gen_ai.response.finish_reasons"] == (str(response.finish_reason),)
    assert attributes["gen_ai.usage.input_tokens"] == response.usage.input_tokens
    assert attributes["gen_ai.usage.output_tokens"] == response.usage.output_tokens
    assert "gen_ai.usage.cache_read.input_tokens" in attributes
    assert attributes["gen_ai.output.type"] == "text"
    assert attributes["server.address"] == "127.0.0.1"
    assert isinstance(attributes["server.port"], int)
    # Content is opt-in, and no secret ever lands on a span.
    assert "gen_ai.input.messages" not in attributes
    assert "test-key" not in json.dumps(attributes, default=str)


def test_content_is_recorded_only_when_capture_is_on(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    lilypad.configure(tracer_provider=provider)
    _call("test_call/openai_gpt_4o_completions/sync.json", replay_server, tmp_path)
    (span,) = exporter.get_finished_spans()
    attributes = _attrs(span)
    assert "4200 + 42" in attributes["gen_ai.input.messages"]
    assert "4242" in attributes["gen_ai.output.messages"]
    assert "test-key" not in json.dumps(attributes, default=str)


def test_captured_messages_follow_the_conventions_parts_for_tool_calls_and_results(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    lilypad.configure(tracer_provider=provider, capture_content=True)
    fixture = load("test_call_with_tools/openai_gpt_4o_completions/sync.json")
    client = client_for(fixture, replay_server.url)
    messages = messages_for(fixture, tmp_path)

    @llm.call(model_id_for(fixture), client=client, tools=[secret_retrieval_tool])
    def prompt() -> list[llm.Message]:
        return messages

    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        response = prompt()
        response.resume(response.execute_tools())
    asking, answering = [span for span in exporter.get_finished_spans() if span.name.startswith("chat ")]
    (asked,) = json.loads(_attrs(asking)["gen_ai.output.messages"])
    assert asked["role"] == "assistant"
    assert asked["finish_reason"] == "tool_call"
    calls = [part for part in asked["parts"] if part["type"] == "tool_call"]
    assert {part["name"] for part in calls} == {"secret_retrieval_tool"}
    assert all(part["id"].startswith("call_") and "password" in part["arguments"] for part in calls)
    sent = json.loads(_attrs(answering)["gen_ai.input.messages"])
    (results,) = [message for message in sent if message["role"] == "tool"]
    assert {part["id"] for part in results["parts"]} == {part["id"] for part in calls}
    assert all(part["type"] == "tool_call_response" for part in results["parts"])
    assert _attrs(asking)["gen_ai.response.finish_reasons"] == ("tool_call",)


def test_a_stream_span_has_time_to_first_chunk_and_ends_when_read(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call/openai_gpt_4o_completions/stream.json")
    client = client_for(fixture, replay_server.url)
    model = llm.model(model_id_for(fixture), client=client)
    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        stream = model.stream(messages_for(fixture, tmp_path))
        assert spans.get_finished_spans() == ()
        for _ in stream:
            pass
    assert "4242" in stream.response.content
    (span,) = spans.get_finished_spans()
    attributes = _attrs(span)
    assert attributes["gen_ai.request.stream"] is True
    assert isinstance(attributes["gen_ai.response.time_to_first_chunk"], float)
    assert attributes["gen_ai.response.finish_reasons"]


def test_tool_spans_are_children_of_the_call_that_asked_for_them(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call_with_tools/openai_gpt_4o_completions/sync.json")
    client = client_for(fixture, replay_server.url)
    messages = messages_for(fixture, tmp_path)

    @llm.call(model_id_for(fixture), client=client, tools=[secret_retrieval_tool])
    def prompt() -> list[llm.Message]:
        return messages

    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        response = prompt()
        response = response.resume(response.execute_tools())
    finished = spans.get_finished_spans()
    calls = [span for span in finished if span.name.startswith("chat ")]
    tools = [span for span in finished if span.name.startswith("execute_tool ")]
    assert len(calls) == 2
    assert len(tools) == 2
    first = calls[0]
    for tool in tools:
        assert tool.name == "execute_tool secret_retrieval_tool"
        assert tool.parent is not None
        assert tool.parent.span_id == _span_id(first)
        assert _trace_id(tool) == _trace_id(first)
        attributes = _attrs(tool)
        assert attributes["gen_ai.tool.name"] == "secret_retrieval_tool"
        assert attributes["gen_ai.tool.call.id"].startswith("call_")
        assert attributes["gen_ai.tool.type"] == "function"
        assert attributes["gen_ai.tool.description"]
        assert "gen_ai.tool.call.arguments" not in attributes  # content is off


def test_an_agent_run_is_one_trace_with_its_calls_and_tools_beneath(
    spans: InMemorySpanExporter, replay_server: ReplayServer
) -> None:
    fixture = load("test_call_with_tools/openai_gpt_4o_completions/sync.json")
    client = client_for(fixture, replay_server.url)

    @llm.agent(model=model_id_for(fixture), tools=[secret_retrieval_tool], client=client)
    def keeper(ctx: llm.AgentContext[None]) -> str:
        return "Use parallel tool calling."

    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        response = keeper("Please retrieve the secrets associated with each of these passwords: mellon,radiance")
    assert "Moria" in response.content
    finished = spans.get_finished_spans()
    (agent,) = [span for span in finished if span.name == "invoke_agent keeper"]
    assert _attrs(agent)["gen_ai.agent.name"] == "keeper"
    assert _attrs(agent)["gen_ai.operation.name"] == "invoke_agent"
    calls = [span for span in finished if span.name.startswith("chat ")]
    tools = [span for span in finished if span.name.startswith("execute_tool ")]
    assert (len(calls), len(tools)) == (2, 2)
    for call in calls:
        assert call.parent is not None
        assert call.parent.span_id == _span_id(agent)
    for tool in tools:
        assert tool.parent is not None
        assert tool.parent.span_id == _span_id(calls[0])
    assert {_trace_id(span) for span in finished} == {_trace_id(agent)}


def test_async_calls_in_concurrent_tasks_each_get_their_own_parent(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call/openai_gpt_4o_completions/async.json")
    messages = messages_for(fixture, tmp_path)
    client = client_for(fixture, replay_server.url)

    @llm.call(model_id_for(fixture), client=client)
    async def prompt() -> list[llm.Message]:
        return messages

    @lilypad.trace()
    async def one(i: int) -> str:
        with lilypad.session(id=f"task-{i}"):
            return (await prompt()).content

    async def run() -> list[str]:
        async with client:
            return await asyncio.gather(*(one(i) for i in range(4)))

    with replay_server.replaying([fixture["exchanges"][0]["response"]] * 4):
        assert all("4242" in text for text in asyncio.run(run()))
    finished = spans.get_finished_spans()
    traced = {_span_id(span): span for span in finished if span.name.endswith("one")}
    chats = [span for span in finished if span.name.startswith("chat ")]
    assert len(traced) == len(chats) == 4
    for chat in chats:
        assert chat.parent is not None
        parent = traced[chat.parent.span_id]
        # The session was entered inside the traced function: only the call's span carries it.
        i = json.loads(_attrs(parent)["mirascope.trace.arguments"])["i"]
        assert _attrs(chat)["gen_ai.conversation.id"] == f"task-{i}"


@pytest.mark.parametrize("model", sorted(PROVIDER_NAMES))
@pytest.mark.parametrize("recording", ["test_authentication_error", "test_authentication_error_stream"])
def test_an_api_error_sets_error_type_and_status_on_every_provider(
    model: str, recording: str, spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(f"{recording}/{model}/{'stream' if recording.endswith('stream') else 'sync'}.json")
    llm_model = llm.model(model_id_for(fixture), client=client_for(fixture, replay_server.url))
    with (
        replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]),
        pytest.raises(llm.AuthenticationError),
    ):
        _answer(llm_model, "stream" if recording.endswith("stream") else "sync", messages_for(fixture, tmp_path))
    (span,) = spans.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert _attrs(span)["error.type"] == "AuthenticationError"
    assert [event.name for event in span.events] == ["exception"]
    assert "test-key" not in json.dumps(_attrs(span), default=str)
    assert "test-key" not in str(span.status.description)


def test_a_stream_dropped_unfinished_ends_its_span_as_garbage_collected(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call/openai_gpt_4o_completions/stream.json")
    model = llm.model(model_id_for(fixture), client=client_for(fixture, replay_server.url))
    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        stream = model.stream(messages_for(fixture, tmp_path))
        assert spans.get_finished_spans() == ()
        del stream  # its last reference: freed at once, no collector needed
    (span,) = spans.get_finished_spans()
    assert _attrs(span)["mirascope.stream.closed"] == "garbage collected"
    assert span.status.status_code == StatusCode.UNSET


def test_session_stamps_the_conversation_id_on_every_span_inside(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    @lilypad.trace()
    def outer() -> str:
        return _call("test_call/openai_gpt_4o_completions/sync.json", replay_server, tmp_path).content

    with lilypad.session(id="conversation-1"):
        outer()
    finished = spans.get_finished_spans()
    assert len(finished) == 2
    assert {_attrs(span).get("gen_ai.conversation.id") for span in finished} == {"conversation-1"}
    chat = next(span for span in finished if span.name.startswith("chat "))
    traced = next(span for span in finished if span.name.endswith("outer"))
    assert chat.parent is not None
    assert chat.parent.span_id == _span_id(traced)
    outside = lilypad.current_session_id()
    assert outside is None


def test_trace_records_json_safe_capped_arguments_and_results(spans: InMemorySpanExporter) -> None:
    class Opaque:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    @lilypad.trace(name="work")
    def work(a: int, blob: str, thing: object) -> dict[str, int]:
        return {"a": a}

    assert work(1, "x" * 10_000, Opaque()) == {"a": 1}
    (span,) = spans.get_finished_spans()
    arguments = _attrs(span)["mirascope.trace.arguments"]
    assert len(arguments) < lilypad.MAX_VALUE_CHARS + 100
    assert "more characters" in arguments
    assert _attrs(span)["mirascope.trace.result"] == '{"a": 1}'


def test_trace_covers_async_functions_and_generators_and_records_failures(spans: InMemorySpanExporter) -> None:
    @lilypad.trace()
    async def double(x: int) -> int:
        return 2 * x

    @lilypad.trace()
    def count(n: int) -> Iterator[int]:
        yield from range(n)

    @lilypad.trace()
    async def acount(n: int) -> AsyncIterator[int]:
        for i in range(n):
            yield i

    @lilypad.trace()
    def boom() -> None:
        raise ValueError("bad")

    async def collect() -> list[int]:
        return [i async for i in acount(3)]

    assert asyncio.run(double(2)) == 4
    assert list(count(3)) == [0, 1, 2]
    assert asyncio.run(collect()) == [0, 1, 2]
    with pytest.raises(ValueError, match="bad"):
        boom()
    finished = {span.name.rsplit(".", 1)[-1]: span for span in spans.get_finished_spans()}
    assert _attrs(finished["double"])["mirascope.trace.result"] == "4"
    assert '"yielded": 3' in _attrs(finished["count"])["mirascope.trace.result"]
    assert '"yielded": 3' in _attrs(finished["acount"])["mirascope.trace.result"]
    assert finished["boom"].status.status_code == StatusCode.ERROR
    assert _attrs(finished["boom"])["error.type"] == "ValueError"


def test_configure_twice_adds_its_processors_once(spans: InMemorySpanExporter) -> None:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    lilypad.configure(tracer_provider=provider)
    lilypad.configure(tracer_provider=provider)
    assert sum(isinstance(i, lilypad.LilypadInstrument) for i in llm.instrumentation.registered()) == 1

    @lilypad.trace()
    def f() -> int:
        return 1

    with lilypad.session(id="s"):
        f()
    (span,) = exporter.get_finished_spans()
    assert _attrs(span)["gen_ai.conversation.id"] == "s"


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
        timeout=60,
    )


def test_configure_adds_to_the_applications_provider_and_never_replaces_it() -> None:
    result = _python("""
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from mirascope import lilypad

        app = TracerProvider()
        exporter = InMemorySpanExporter()
        app.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(app)
        assert lilypad.configure() is app
        assert lilypad.configure() is app
        assert trace.get_tracer_provider() is app

        @lilypad.trace()
        def f() -> int:
            return 1

        with lilypad.session(id="s1"):
            f()
        (span,) = exporter.get_finished_spans()
        assert span.attributes["gen_ai.conversation.id"] == "s1", span.attributes
        print("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_configure_makes_a_provider_when_there_is_none_and_honours_otel_sdk_disabled() -> None:
    made = _python("""
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from mirascope import lilypad

        provider = lilypad.configure()
        assert isinstance(provider, TracerProvider)
        assert trace.get_tracer_provider() is provider
        print("ok")
    """)
    assert made.returncode == 0, made.stderr
    disabled = _python(
        """
        from mirascope import lilypad, llm

        assert lilypad.configure() is None
        assert llm.instrumentation.registered() == ()
        print("ok")
        """,
        OTEL_SDK_DISABLED="true",
    )
    assert disabled.returncode == 0, disabled.stderr


def test_configure_otlp_exports_to_the_endpoint_given() -> None:
    result = _python("""
        from mirascope import lilypad
        from opentelemetry.sdk.trace import TracerProvider

        provider = TracerProvider()
        lilypad.configure(tracer_provider=provider, otlp="http://127.0.0.1:9/v1/traces", store=None)
        lilypad.configure(tracer_provider=provider, otlp="http://127.0.0.1:9/v1/traces", store=None)
        processors = provider._active_span_processor._span_processors
        exporters = [p.span_exporter for p in processors if hasattr(p, "span_exporter")]
        assert len(exporters) == 1, processors
        print(type(exporters[0]).__name__)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OTLPSpanExporter"


def test_a_retried_attempt_is_an_event_and_the_call_still_ends_ok(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call/openai_gpt_4o_completions/sync.json")
    client = llm.client(
        "openai-completions",
        base_url=client_for(fixture, replay_server.url).base_url,
        api_key="test-key",
        max_retries=1,
    )
    failure = {"status": 500, "json": {"error": {"message": "try again", "type": "server_error"}}}
    with replay_server.replaying([failure, fixture["exchanges"][0]["response"]]):
        response = llm.model("openai-completions:gpt-4o", client=client).call(messages_for(fixture, tmp_path))
    assert "4242" in response.content
    (span,) = spans.get_finished_spans()
    (event,) = span.events
    assert event.name == "mirascope.retry"
    assert dict(event.attributes or {})["attempt"] == 1
    assert dict(event.attributes or {})["http.response.status_code"] == 500
    assert span.status.status_code != StatusCode.ERROR


def test_a_stream_broken_off_ends_its_span_without_an_error(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call/openai_gpt_4o_completions/stream.json")
    model = llm.model(model_id_for(fixture), client=client_for(fixture, replay_server.url))
    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        stream = model.stream(messages_for(fixture, tmp_path))
        for _ in stream:
            break
        stream.close()
    (span,) = spans.get_finished_spans()
    assert _attrs(span)["mirascope.stream.closed"] in {"closed", "broken off"}
    assert span.status.status_code != StatusCode.ERROR


def test_a_failing_tool_sets_its_span_status_to_error(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    @llm.tool(name="secret_retrieval_tool")
    def explode(password: str) -> str:
        """Always fails."""
        raise RuntimeError("boom")

    fixture = load("test_call_with_tools/openai_gpt_4o_completions/sync.json")
    client = client_for(fixture, replay_server.url)
    messages = messages_for(fixture, tmp_path)

    @llm.call(model_id_for(fixture), client=client, tools=[explode])
    def prompt() -> list[llm.Message]:
        return messages

    with replay_server.replaying([fixture["exchanges"][0]["response"]]):
        outputs = prompt().execute_tools()
    assert all(output.is_error for output in outputs)
    tools = [span for span in spans.get_finished_spans() if span.name.startswith("execute_tool ")]
    assert len(tools) == 2
    for span in tools:
        assert span.status.status_code == StatusCode.ERROR
        assert _attrs(span)["error.type"]


def test_otlp_without_the_exporter_raises_an_error_naming_the_extra() -> None:
    result = _python("""
        import sys

        sys.modules["opentelemetry.exporter.otlp.proto.http.trace_exporter"] = None
        from mirascope import lilypad
        from opentelemetry.sdk.trace import TracerProvider

        try:
            lilypad.configure(tracer_provider=TracerProvider(), otlp=True)
        except lilypad.ExporterNotInstalledError as error:
            print(error)
    """)
    assert result.returncode == 0, result.stderr
    assert "mirascope[lilypad]" in result.stdout
    assert "mirascope-lilypad[otlp]" in result.stdout


def test_a_fallback_is_a_second_call_span_naming_the_model_it_fell_back_from(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call/openai_gpt_4o_completions/sync.json")
    client = llm.client(
        "openai-completions",
        base_url=client_for(fixture, replay_server.url).base_url,
        api_key="test-key",
        max_retries=0,
    )
    failure = {"status": 500, "json": {"error": {"message": "down", "type": "server_error"}}}
    model = llm.model("openai-completions:gpt-4o", client=client, fallback=["openai-completions:gpt-4o-mini"])
    with replay_server.replaying([failure, fixture["exchanges"][0]["response"]]):
        response = model.call(messages_for(fixture, tmp_path))
    assert response.model == "openai-completions:gpt-4o-mini"
    failed, answered = sorted(spans.get_finished_spans(), key=lambda span: span.start_time or 0)
    assert failed.name == "chat gpt-4o"
    assert failed.status.status_code == StatusCode.ERROR
    assert answered.name == "chat gpt-4o-mini"
    assert _attrs(answered)["mirascope.fallback_from"] == "openai-completions:gpt-4o"
    assert _attrs(answered)["mirascope.model_id"] == "openai-completions:gpt-4o-mini"


def test_a_streamed_agent_run_is_current_while_its_steps_stream(
    spans: InMemorySpanExporter, replay_server: ReplayServer
) -> None:
    fixture = load("test_call_with_tools/openai_gpt_4o_completions/stream.json")
    client = client_for(fixture, replay_server.url)

    @llm.agent(model=model_id_for(fixture), tools=[secret_retrieval_tool], client=client)
    def keeper(ctx: llm.AgentContext[None]) -> str:
        return "Use parallel tool calling."

    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        stream = keeper.stream("Please retrieve the secrets associated with each of these passwords: mellon,radiance")
        for _ in stream:
            pass
    finished = spans.get_finished_spans()
    (agent,) = [span for span in finished if span.name == "invoke_agent keeper"]
    calls = [span for span in finished if span.name.startswith("chat ")]
    assert len(calls) == 2
    for call in calls:
        assert call.parent is not None
        assert call.parent.span_id == _span_id(agent)
        assert _attrs(call)["gen_ai.request.stream"] is True
    assert agent.status.status_code != StatusCode.ERROR


def test_code_reading_a_streamed_agent_is_never_inside_its_span(
    spans: InMemorySpanExporter, replay_server: ReplayServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A generator shares its reader's context: had the agent's span been made current there, the
    # reader's own spans would nest under it, and breaking off would detach it in the wrong place.
    fixture = load("test_call_with_tools/openai_gpt_4o_completions/stream.json")
    client = client_for(fixture, replay_server.url)

    @llm.agent(model=model_id_for(fixture), tools=[secret_retrieval_tool], client=client)
    def keeper(ctx: llm.AgentContext[None]) -> str:
        return "Use parallel tool calling."

    seen: list[object] = []
    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        stream = keeper.stream("Please retrieve the secrets associated with each of these passwords: mellon,radiance")
        chunks = iter(stream)
        next(chunks)
        seen.append(trace.get_current_span())
        del chunks  # breaking off: the run's generator is closed with its last reference
    assert seen == [trace.INVALID_SPAN]
    assert trace.get_current_span() is trace.INVALID_SPAN
    (agent,) = [span for span in spans.get_finished_spans() if span.name == "invoke_agent keeper"]
    assert _attrs(agent)["mirascope.stream.closed"] == "broken off"
    assert "Failed to detach context" not in caplog.text


def test_a_call_span_is_current_while_its_request_is_sent_and_a_tool_span_while_it_runs(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    import httpx

    fixture = load("test_call_with_tools/openai_gpt_4o_completions/sync.json")
    sending: list[str] = []

    def on_request(request: httpx.Request) -> None:  # where an httpx instrumentation's span would go
        sending.append(getattr(trace.get_current_span(), "name", "<none>"))

    http = httpx.Client(event_hooks={"request": [on_request]})
    client = llm.client(
        "openai-completions",
        base_url=client_for(fixture, replay_server.url).base_url,
        api_key="test-key",
        http_client=http,
    )
    inside_tool: list[str] = []

    @llm.tool
    def secret_retrieval_tool(password: str) -> str:
        """Retrieve the secret behind a password."""
        inside_tool.append(getattr(trace.get_current_span(), "name", "<none>"))
        return f"secret for {password}"

    @llm.call(model_id_for(fixture), client=client, tools=[secret_retrieval_tool])
    def prompt() -> list[llm.Message]:
        return messages_for(fixture, tmp_path)

    with http, replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        response = prompt()
        response.execute_tools()
    assert sending == ["chat gpt-4o"]
    assert inside_tool == ["execute_tool secret_retrieval_tool"] * 2
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_an_async_stream_span_ends_when_read(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call/openai_gpt_4o_completions/async_stream.json")
    client = client_for(fixture, replay_server.url)
    model = llm.model(model_id_for(fixture), client=client)

    async def run() -> str:
        async with client:
            stream = await model.stream_async(messages_for(fixture, tmp_path))
            async for _ in stream:
                pass
            return (await stream.aresponse()).content

    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        assert "4242" in asyncio.run(run())
    (span,) = spans.get_finished_spans()
    assert _attrs(span)["gen_ai.request.stream"] is True
    assert isinstance(_attrs(span)["gen_ai.response.time_to_first_chunk"], float)


def test_calls_in_threads_are_parented_to_their_own_threads_span(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fixture = load("test_call/openai_gpt_4o_completions/sync.json")
    client = client_for(fixture, replay_server.url)
    model = llm.model(model_id_for(fixture), client=client)
    messages = messages_for(fixture, tmp_path)

    @lilypad.trace()
    def worker(i: int) -> str:
        return model.call(messages).content

    with replay_server.replaying([fixture["exchanges"][0]["response"]] * 8), ThreadPoolExecutor(8) as pool:
        assert all("4242" in text for text in pool.map(worker, range(8)))
    finished = spans.get_finished_spans()
    workers = {_span_id(span): span for span in finished if span.name.endswith("worker")}
    chats = [span for span in finished if span.name.startswith("chat ")]
    assert len(workers) == len(chats) == 8
    assert {chat.parent.span_id for chat in chats if chat.parent is not None} == set(workers)


@pytest.mark.parametrize("model", sorted(PROVIDER_NAMES))
@pytest.mark.parametrize("mode", MODES)
def test_every_provider_reports_the_conventions_provider_name_and_usage(
    model: str, mode: str, spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(f"test_call/{model}/{mode}.json")
    client = client_for(fixture, replay_server.url)
    llm_model = llm.model(model_id_for(fixture), client=client)
    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        response = _answer(llm_model, mode, messages_for(fixture, tmp_path))
    (span,) = spans.get_finished_spans()
    attributes = _attrs(span)
    assert span.kind == SpanKind.CLIENT
    assert span.status.status_code == StatusCode.UNSET
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == PROVIDER_NAMES[model]
    assert span.name == f"chat {model_id_for(fixture).partition(':')[2]}"
    assert response.usage is not None
    assert attributes["gen_ai.usage.input_tokens"] == response.usage.input_tokens
    assert attributes["gen_ai.usage.output_tokens"] == response.usage.output_tokens
    assert attributes["gen_ai.response.finish_reasons"] == (str(response.finish_reason),)
    assert attributes["server.address"] == "127.0.0.1"
    streamed = mode.endswith("stream")
    assert streamed == ("gen_ai.response.time_to_first_chunk" in attributes)
    assert attributes.get("gen_ai.request.stream", False) is streamed


@pytest.mark.parametrize("model", sorted(PROVIDER_NAMES))
@pytest.mark.parametrize("mode", MODES)
def test_every_providers_tool_loop_is_one_trace_with_tools_under_the_asking_call(
    model: str, mode: str, spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(f"test_call_with_tools/{model}/{mode}.json")
    client = client_for(fixture, replay_server.url)
    llm_model = llm.model(model_id_for(fixture), client=client, tools=[secret_retrieval_tool])
    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        response = _answer(llm_model, mode, messages_for(fixture, tmp_path))
        asked = len(response.tool_calls)
        outputs = response.execute_tools()
        if mode.startswith("async"):
            outputs = asyncio.run(outputs)
        _answer(llm_model, mode, [*response.messages, llm.messages.user(outputs)])
    finished = spans.get_finished_spans()
    asking, answering = sorted(
        (span for span in finished if span.name.startswith("chat ")), key=lambda span: span.start_time or 0
    )
    tools = [span for span in finished if span.name == "execute_tool secret_retrieval_tool"]
    assert asked >= 1
    assert len(tools) == asked
    assert len(finished) == asked + 2
    assert _attrs(asking)["gen_ai.response.finish_reasons"] == ("tool_call",)
    for tool in tools:
        assert tool.parent is not None
        assert tool.parent.span_id == _span_id(asking)
        assert _trace_id(tool) == _trace_id(asking)
        assert tool.kind == SpanKind.INTERNAL
        assert _attrs(tool)["gen_ai.operation.name"] == "execute_tool"
    assert _attrs(answering)["gen_ai.response.finish_reasons"] != ("tool_call",)


def test_structured_output_is_output_type_json(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    from tests.support.structured import response_model_for

    fixture = load("test_structured_output/openai_gpt_4o_completions/sync.json")
    response = _call(
        "test_structured_output/openai_gpt_4o_completions/sync.json",
        replay_server,
        tmp_path,
        response_model=response_model_for(fixture),
    )
    assert response.parse().rating == 7
    (span,) = spans.get_finished_spans()
    assert _attrs(span)["gen_ai.output.type"] == "json"


class _Collector:
    """A real OTLP/HTTP endpoint on 127.0.0.1 that decodes what it receives."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        self.spans: list[Any] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource_spans in request.resource_spans:
                    for scope_spans in resource_spans.scope_spans:
                        collector.spans.extend(scope_spans.spans)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_otlp_export_reaches_a_real_collector_with_the_genai_attributes(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    collector = _Collector()
    try:
        provider = TracerProvider()
        lilypad.configure(tracer_provider=provider, otlp=collector.url)
        _call("test_call/openai_gpt_4o_completions/sync.json", replay_server, tmp_path)
        assert provider.force_flush(10_000)
    finally:
        collector.close()
    (span,) = collector.spans
    attributes = {kv.key: kv.value for kv in span.attributes}
    assert span.name == "chat gpt-4o"
    assert attributes["gen_ai.provider.name"].string_value == "openai"
    assert attributes["gen_ai.usage.input_tokens"].int_value > 0
