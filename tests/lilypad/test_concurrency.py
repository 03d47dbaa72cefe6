"""Spans of concurrent calls, streams and agent runs stay with the task or thread that made them.

Hundreds of async tasks and several threads make real calls at once against a real HTTP server
on 127.0.0.1 that answers every request with one recording. Each task's or thread's own traced
span (and session) must be the parent of exactly its own calls: none lost, none crossed over to
another task, every one ended.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import mirascope.lilypad as lilypad
import pytest
from mirascope import llm
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.collector import Collector
from tests.support.faults import FaultServer
from tests.support.fixtures import load
from tests.support.replay import encode_response
from tests.support.scenarios import client_for, messages_for, model_id_for, secret_retrieval_tool

TASKS = 200
THREADS = 8
CALLS_PER_THREAD = 6
AGENTS = 20
HANG_GUARD = 60.0
"""Seconds a barrier waits for the others: a guard against hanging, never a measure."""

CALLS = "test_call/openai_gpt_4o_completions"
TOOLS = "test_call_with_tools/openai_gpt_4o_completions"
QUESTION = "Please retrieve the secrets associated with each of these passwords: mellon,radiance"


class OpenSpans(SpanProcessor):
    """Every span started and every span ended, by id: a span never ended shows as started only."""

    def __init__(self) -> None:
        self.started: set[int] = set()
        self.ended: set[int] = set()
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        with self._lock:
            self.started.add(_span_id(span))

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.ended.add(_span_id(span))


class Traced:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.open = OpenSpans()

    def finished(self) -> tuple[ReadableSpan, ...]:
        finished = self.exporter.get_finished_spans()
        # Nothing left open: every span started was ended, and the exporter holds each one once.
        assert self.open.started == self.open.ended
        assert len(finished) == len(self.open.ended) == len({_span_id(span) for span in finished})
        return finished


@pytest.fixture
def traced() -> Iterator[Traced]:
    provider = TracerProvider(shutdown_on_exit=False)
    spans = Traced()
    provider.add_span_processor(spans.open)
    provider.add_span_processor(SimpleSpanProcessor(spans.exporter))
    lilypad.configure(tracer_provider=provider, capture_content=False)
    try:
        yield spans
    finally:
        for instrument in llm.instrumentation.registered():
            if isinstance(instrument, lilypad.LilypadInstrument):
                llm.instrumentation.unregister(instrument)
        provider.shutdown()


def _recorded(scenario: str) -> Any:
    """A behaviour answering every request with the scenario's recording: the streamed one when
    the request asks for a stream, and (for a tool scenario) the final answer once the request
    carries the tools' results."""
    mode = {False: "sync", True: "stream"}
    replies = {
        (stream, answered): encode_response(
            load(f"{scenario}/{mode[stream]}.json")["exchanges"][-1 if answered else 0]["response"]
        )
        for stream in (False, True)
        for answered in (False, True)
    }

    def behave(handler: Any) -> None:
        request = handler.received
        status, headers, body = replies[(request.stream, b'"tool_call_id"' in request.body)]
        kept = {k: v for k, v in headers.items() if k not in ("content-length", "transfer-encoding", "connection")}
        handler.head(status, {**kept, "content-length": str(len(body))})
        handler.wfile.write(body)

    return behave


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(then=_recorded(CALLS)) as server:
        yield server


@pytest.fixture
def tool_server() -> Iterator[FaultServer]:
    with FaultServer(then=_recorded(TOOLS)) as server:
        yield server


def _span_id(span: ReadableSpan | Span) -> int:
    assert span.context is not None
    return span.context.span_id


def _trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


def _attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def _owners(finished: tuple[ReadableSpan, ...], name: str, key: str) -> dict[int, tuple[ReadableSpan, int]]:
    """The traced spans called `name`, by span id, each with the argument `key` it was called with."""
    return {
        _span_id(span): (span, int(json.loads(_attrs(span)["mirascope.trace.arguments"])[key]))
        for span in finished
        if span.name == name
    }


def _assert_each_own(
    finished: tuple[ReadableSpan, ...], owners: dict[int, tuple[ReadableSpan, int]], prefix: str, session: str
) -> Counter[int]:
    """Each span named `prefix...` is a child of a traced span, in its trace and session; how many each owner has."""
    children: Counter[int] = Counter()
    for span in finished:
        if not span.name.startswith(prefix):
            continue
        assert span.parent is not None, span.name
        owner, key = owners[span.parent.span_id]
        assert _trace_id(span) == _trace_id(owner)
        assert _attrs(span)["gen_ai.conversation.id"] == _attrs(owner)["gen_ai.conversation.id"] == f"{session}-{key}"
        children[key] += 1
    return children


def test_200_concurrent_async_calls_and_streams_each_stay_under_their_own_tasks_span(
    traced: Traced, server: FaultServer, tmp_path: Path
) -> None:
    fixture = load(f"{CALLS}/async.json")
    client = client_for(fixture, server.url)
    model = llm.model(model_id_for(fixture), client=client)
    messages = messages_for(fixture, tmp_path)

    async def run() -> list[str]:
        everyone = asyncio.Barrier(TASKS)

        @lilypad.trace(name="task")
        async def task(i: int) -> str:
            # Every task's span is open before any of them calls: the most chances to cross over.
            await asyncio.wait_for(everyone.wait(), HANG_GUARD)
            if i % 2 == 0:
                return (await model.call_async(messages)).content
            stream = await model.stream_async(messages)
            async for _ in stream:
                await asyncio.sleep(0)  # interleave with the other tasks' chunks
            return (await stream.aresponse()).content

        async def one(i: int) -> str:
            with lilypad.session(id=f"task-{i}"):
                return await task(i)

        async with client:
            return await asyncio.gather(*(one(i) for i in range(TASKS)))

    assert all("4242" in text for text in asyncio.run(run()))
    assert server.count == TASKS
    finished = traced.finished()
    owners = _owners(finished, "task", "i")
    assert sorted(key for _, key in owners.values()) == list(range(TASKS))
    children = _assert_each_own(finished, owners, "chat ", "task")
    assert children == Counter(range(TASKS))  # one call or stream each: none lost, none doubled
    assert len(finished) == 2 * TASKS
    assert len({_trace_id(span) for span in finished}) == TASKS
    streamed = [span for span in finished if _attrs(span).get("gen_ai.request.stream")]
    assert len(streamed) == TASKS // 2


def test_threads_of_sync_calls_and_streams_each_stay_under_their_own_threads_span(
    traced: Traced, server: FaultServer, tmp_path: Path
) -> None:
    fixture = load(f"{CALLS}/sync.json")
    model = llm.model(model_id_for(fixture), client=client_for(fixture, server.url))
    messages = messages_for(fixture, tmp_path)
    everyone = threading.Barrier(THREADS, timeout=HANG_GUARD)

    @lilypad.trace(name="worker")
    def worker(t: int) -> list[str]:
        everyone.wait()
        texts: list[str] = []
        for n in range(CALLS_PER_THREAD):
            if n % 2 == 0:
                texts.append(model.call(messages).content)
            else:
                stream = model.stream(messages)
                for _ in stream:
                    pass
                texts.append(stream.response.content)
        return texts

    def one(t: int) -> list[str]:
        with lilypad.session(id=f"thread-{t}"):
            return worker(t)

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(one, range(THREADS)))
    assert all("4242" in text for texts in results for text in texts)
    assert server.count == THREADS * CALLS_PER_THREAD
    finished = traced.finished()
    owners = _owners(finished, "worker", "t")
    assert sorted(key for _, key in owners.values()) == list(range(THREADS))
    children = _assert_each_own(finished, owners, "chat ", "thread")
    assert children == Counter(dict.fromkeys(range(THREADS), CALLS_PER_THREAD))
    assert len(finished) == THREADS * (1 + CALLS_PER_THREAD)


def _agent_families(finished: tuple[ReadableSpan, ...], session: str) -> None:
    """Each run's agent span is beneath its own traced span; its calls beneath it; its tools beneath its first call."""
    owners = _owners(finished, "run", "i")
    agents = {_span_id(span): span for span in finished if span.name == "invoke_agent keeper"}
    assert len(agents) == len(owners)
    agent_of: dict[int, int] = {}
    for agent_id, agent in agents.items():
        assert agent.parent is not None
        owner, key = owners[agent.parent.span_id]
        assert _trace_id(agent) == _trace_id(owner)
        assert _attrs(agent)["gen_ai.conversation.id"] == f"{session}-{key}"
        agent_of[agent_id] = key
    calls: Counter[int] = Counter()
    call_owner: dict[int, int] = {}
    for span in finished:
        if span.name.startswith("chat "):
            assert span.parent is not None
            key = agent_of[span.parent.span_id]
            assert _attrs(span)["gen_ai.conversation.id"] == f"{session}-{key}"
            calls[key] += 1
            call_owner[_span_id(span)] = key
    assert calls == Counter(dict.fromkeys(agent_of.values(), 2))  # the tool call, then the answer
    tools: Counter[int] = Counter()
    for span in finished:
        if span.name.startswith("execute_tool "):
            assert span.parent is not None
            key = call_owner[span.parent.span_id]
            assert _attrs(span)["gen_ai.conversation.id"] == f"{session}-{key}"
            tools[key] += 1
    assert tools == Counter(dict.fromkeys(agent_of.values(), 2))  # two passwords, two tool runs


def test_concurrent_async_agent_runs_keep_their_calls_and_tools_beneath_their_own_run(
    traced: Traced, tool_server: FaultServer
) -> None:
    fixture = load(f"{TOOLS}/async.json")
    client = client_for(fixture, tool_server.url)

    async def run_all() -> list[str]:
        everyone = asyncio.Barrier(AGENTS)

        @lilypad.trace(name="run")
        async def run(i: int) -> str:
            # An agent keeps its conversation: each run has its own.
            @llm.agent(model=model_id_for(fixture), tools=[secret_retrieval_tool], client=client)
            async def keeper(ctx: llm.AgentContext[None]) -> str:
                return "Use parallel tool calling."

            await asyncio.wait_for(everyone.wait(), HANG_GUARD)
            return (await keeper(QUESTION)).content

        async def one(i: int) -> str:
            with lilypad.session(id=f"agent-{i}"):
                return await run(i)

        async with client:
            return await asyncio.gather(*(one(i) for i in range(AGENTS)))

    assert all("Moria" in text for text in asyncio.run(run_all()))
    finished = traced.finished()
    _agent_families(finished, "agent")
    assert len(finished) == AGENTS * (1 + 1 + 2 + 2)


def test_agent_runs_in_threads_keep_their_calls_and_tools_beneath_their_own_run(
    traced: Traced, tool_server: FaultServer
) -> None:
    fixture = load(f"{TOOLS}/sync.json")
    client = client_for(fixture, tool_server.url)
    everyone = threading.Barrier(THREADS, timeout=HANG_GUARD)

    @lilypad.trace(name="run")
    def run(i: int) -> str:
        # An agent keeps its conversation: each run has its own.
        @llm.agent(model=model_id_for(fixture), tools=[secret_retrieval_tool], client=client)
        def keeper(ctx: llm.AgentContext[None]) -> str:
            return "Use parallel tool calling."

        everyone.wait()
        return keeper(QUESTION).content

    def one(i: int) -> str:
        with lilypad.session(id=f"agent-thread-{i}"):
            return run(i)

    with ThreadPoolExecutor(THREADS) as pool:
        assert all("Moria" in text for text in pool.map(one, range(THREADS)))
    finished = traced.finished()
    _agent_families(finished, "agent-thread")
    assert len(finished) == THREADS * (1 + 1 + 2 + 2)


def test_spans_ended_in_many_threads_all_reach_the_collector_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Small batches, so the exporter thread takes batches while the threads are still ending spans.
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16")
    per_thread = 50
    collector = Collector()
    provider = TracerProvider(shutdown_on_exit=False)
    everyone = threading.Barrier(THREADS, timeout=HANG_GUARD)

    @lilypad.trace(name="step")
    def step(t: int, n: int) -> int:
        return n

    def work(t: int) -> None:
        everyone.wait()
        for n in range(per_thread):
            step(t, n)

    try:
        lilypad.configure(tracer_provider=provider, otlp=collector.url)
        before = lilypad.dropped_spans()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(work, range(THREADS)))
        assert provider.force_flush(int(HANG_GUARD * 1000))
    finally:
        for instrument in llm.instrumentation.registered():
            if isinstance(instrument, lilypad.LilypadInstrument):
                llm.instrumentation.unregister(instrument)
        provider.shutdown()
        collector.close()
    received = Counter(bytes(span.span_id) for span in collector.spans)
    assert len(received) == THREADS * per_thread  # nothing lost
    assert set(received.values()) == {1}  # nothing sent twice
    assert lilypad.dropped_spans() == before
