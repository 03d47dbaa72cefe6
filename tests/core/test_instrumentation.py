"""`llm.instrumentation`: what a registered instrument is told, against a real local server.

The instrument here is a real implementation of the protocol that records every hook in order;
calls go through the public API to `tests.support.faults.FaultServer` on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from mirascope import llm
from mirascope.llm.instrumentation import AgentStart, CallStart, StreamClosed, ToolStart

from tests.support.faults import FaultServer, Request, cut_stream, error_json, ok, status

MODEL = "openai-completions:gpt-4o"


class Recorder:
    """An instrument recording `(what, detail)` for every hook, with its observers kept by name."""

    def __init__(self, name: str = "rec") -> None:
        self.name = name
        self.events: list[tuple[str, Any]] = []
        self.calls: list[CallObserverRec] = []
        self.tools: list[ToolStart] = []
        self.agents: list[AgentStart] = []

    def call_started(self, start: CallStart) -> CallObserverRec:
        observer = CallObserverRec(self, start)
        self.calls.append(observer)
        self.events.append(("call_started", (start.kind, start.model_id, start.is_async, start.fallback_from)))
        return observer

    def tool_started(self, start: ToolStart) -> ToolObserverRec:
        self.tools.append(start)
        self.events.append(("tool_started", start.call.name))
        return ToolObserverRec(self)

    def agent_started(self, start: AgentStart) -> AgentObserverRec:
        self.agents.append(start)
        self.events.append(("agent_started", (start.name, start.is_async)))
        return AgentObserverRec(self)

    def kinds(self) -> list[str]:
        return [what for what, _ in self.events]


class CallObserverRec:
    def __init__(self, owner: Recorder, start: CallStart) -> None:
        self.owner, self.start = owner, start

    def attempt_failed(self, error: llm.APIError, attempt: int) -> None:
        self.owner.events.append(("attempt_failed", (type(error).__name__, attempt)))

    def first_chunk(self) -> None:
        self.owner.events.append(("first_chunk", None))

    def ended(self, response: llm.CallResponse[Any] | llm.AsyncCallResponse[Any]) -> None:
        self.owner.events.append(("call_ended", response))

    def failed(self, error: BaseException) -> None:
        self.owner.events.append(("call_failed", error))


class ToolObserverRec:
    def __init__(self, owner: Recorder) -> None:
        self.owner = owner

    def ended(self, output: llm.ToolOutput) -> None:
        self.owner.events.append(("tool_ended", output))

    def failed(self, error: BaseException) -> None:
        self.owner.events.append(("tool_failed", error))


class AgentObserverRec:
    def __init__(self, owner: Recorder) -> None:
        self.owner = owner

    def ended(self, result: object) -> None:
        self.owner.events.append(("agent_ended", result))

    def failed(self, error: BaseException) -> None:
        self.owner.events.append(("agent_failed", error))


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as made:
        yield made


@pytest.fixture
def rec() -> Iterator[Recorder]:
    recorder = Recorder()
    llm.instrumentation.register(recorder)
    try:
        yield recorder
    finally:
        llm.instrumentation.unregister(recorder)


def _client(server: FaultServer) -> llm.Client:
    return llm.client("openai-completions", base_url=server.url + "/v1", api_key="k")


@llm.tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@llm.tool
def explode() -> str:
    """Always fails."""
    raise ValueError("kaboom")


def _tool_calls(*calls: tuple[str, dict[str, Any]]):  # a Behaviour asking for these tools
    def behave(handler: Any) -> None:
        request: Request = handler.received
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
                for i, (name, args) in enumerate(calls)
            ],
        }
        body = {
            "id": "chatcmpl-2",
            "object": "chat.completion",
            "created": 0,
            "model": request.json().get("model", "gpt-4o"),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        status(200, body)(handler)

    return behave


# --- Calls --------------------------------------------------------------------------------------


def test_a_call_is_started_then_ended_with_its_response(server: FaultServer, rec: Recorder) -> None:
    server.script(ok())
    with _client(server) as client:
        response = llm.model(MODEL, client=client).call("Hi")
    assert rec.kinds() == ["call_started", "call_ended"]
    assert rec.events[0][1] == ("call", MODEL, False, None)
    assert rec.events[1][1] is response
    start = rec.calls[0].start
    assert start.provider == "openai-completions"
    assert start.base_url == server.url + "/v1"
    assert start.request.messages[-1].content[0] == llm.Text("Hi")


def test_a_prompt_functions_calls_name_it_and_other_calls_name_none(server: FaultServer, rec: Recorder) -> None:
    server.script(ok(), ok(), ok(), ok())
    with _client(server) as client:

        @llm.call(MODEL, client=client)
        def greet(name: str) -> str:
            return f"Greet {name}"

        @llm.call(MODEL, client=client)
        async def greet_async(name: str) -> str:
            return f"Greet {name}"

        @llm.call(MODEL, client=client, stream=True)
        def greet_streamed(name: str) -> str:
            return f"Greet {name}"

        response = greet("Ann")
        asyncio.run(greet_async("Bo"))
        for _ in greet_streamed("Cy"):
            pass
        response.resume("Again")
    functions = [observer.start.function for observer in rec.calls]
    assert functions == [greet.fn, greet_async.fn, greet_streamed.fn, None]


def test_an_async_call_is_started_then_ended(server: FaultServer, rec: Recorder) -> None:
    server.script(ok())

    async def run() -> llm.AsyncCallResponse[str]:
        async with _client(server) as client:
            return await llm.model(MODEL, client=client).call_async("Hi")

    response = asyncio.run(run())
    assert rec.kinds() == ["call_started", "call_ended"]
    assert rec.events[0][1] == ("call", MODEL, True, None)
    assert rec.events[1][1] is response


def test_a_failed_call_reports_its_error(server: FaultServer, rec: Recorder) -> None:
    server.script(error_json(400, "bad"))
    with _client(server) as client, pytest.raises(llm.BadRequestError) as caught:
        llm.model(MODEL, client=client).call("Hi")
    assert rec.kinds() == ["call_started", "call_failed"]
    assert rec.events[1][1] is caught.value


def test_a_retried_429_is_an_attempt_failed_then_the_call_ends(
    server: FaultServer, rec: Recorder, retry_waits: list[float]
) -> None:
    server.script(error_json(429, "slow down", headers={"retry-after": "0"}), ok())
    with _client(server) as client:
        llm.model(MODEL, client=client).call("Hi")
    assert rec.kinds() == ["call_started", "attempt_failed", "call_ended"]
    assert rec.events[1][1] == ("RateLimitError", 1)


def test_a_fallback_model_call_says_which_model_it_fell_back_from(
    server: FaultServer, rec: Recorder, retry_waits: list[float]
) -> None:
    server.script(error_json(503, "down"), ok())
    with _client(server) as client:
        response = llm.model(MODEL, client=client, retries=0, fallback=["openai-completions:gpt-4o-mini"]).call("Hi")
    assert response.model == "openai-completions:gpt-4o-mini"
    assert rec.kinds() == ["call_started", "call_failed", "call_started", "call_ended"]
    assert rec.events[0][1] == ("call", MODEL, False, None)
    assert isinstance(rec.events[1][1], llm.ServerError)
    assert rec.events[2][1] == ("call", "openai-completions:gpt-4o-mini", False, MODEL)


# --- Streams ------------------------------------------------------------------------------------


def test_an_exhausted_stream_reports_its_first_chunk_then_its_response(server: FaultServer, rec: Recorder) -> None:
    server.script(ok())
    with _client(server) as client:
        stream = llm.model(MODEL, client=client).stream("Hi")
        assert rec.kinds() == ["call_started"]
        chunks = list(stream)
        assert len(chunks) >= 2
        assert rec.kinds() == ["call_started", "first_chunk", "call_ended"]
        assert rec.events[2][1] is stream.response
        assert rec.events[0][1] == ("stream", MODEL, False, None)
        stream.close()  # after its end: nothing more reported
    assert rec.kinds() == ["call_started", "first_chunk", "call_ended"]


def test_reading_a_stream_through_its_response_reports_its_end(server: FaultServer, rec: Recorder) -> None:
    server.script(ok())
    with _client(server) as client:
        response = llm.model(MODEL, client=client).stream("Hi").response
    assert rec.kinds() == ["call_started", "first_chunk", "call_ended"]
    assert rec.events[2][1] is response


def test_an_async_stream_reports_its_first_chunk_then_its_response(server: FaultServer, rec: Recorder) -> None:
    server.script(ok())

    async def run() -> llm.AsyncCallResponse[str]:
        async with _client(server) as client:
            stream = await llm.model(MODEL, client=client).stream_async("Hi")
            async for _ in stream:
                pass
            return await stream.aresponse()

    response = asyncio.run(run())
    assert rec.kinds() == ["call_started", "first_chunk", "call_ended"]
    assert rec.events[0][1] == ("stream", MODEL, True, None)
    assert rec.events[2][1] is response


def test_a_stream_broken_off_is_reported_as_closed(server: FaultServer, rec: Recorder) -> None:
    server.script(ok())
    with _client(server) as client:
        stream = llm.model(MODEL, client=client).stream("Hi")
        for _ in stream:
            break
        gc.collect()
    assert rec.kinds() == ["call_started", "first_chunk", "call_failed"]
    error = rec.events[2][1]
    assert isinstance(error, StreamClosed)
    assert error.reason == "broken off"


def test_a_stream_closed_unread_is_reported_as_closed(server: FaultServer, rec: Recorder) -> None:
    server.script(ok())
    with _client(server) as client, llm.model(MODEL, client=client).stream("Hi"):
        pass
    assert rec.kinds() == ["call_started", "call_failed"]
    error = rec.events[1][1]
    assert isinstance(error, StreamClosed)
    assert error.reason == "closed"


def test_a_stream_failing_mid_way_reports_the_error_with_its_partial_response(
    server: FaultServer, rec: Recorder
) -> None:
    server.script(cut_stream(after_events=2))
    with _client(server) as client:
        stream = llm.model(MODEL, client=client, retries=0).stream("Hi")
        with pytest.raises(llm.APIError) as caught:
            list(stream)
    assert rec.kinds() == ["call_started", "first_chunk", "call_failed"]
    assert rec.events[2][1] is caught.value
    assert caught.value.partial_response is not None


def test_a_stream_dropped_unread_is_reported_when_garbage_collected(server: FaultServer, rec: Recorder) -> None:
    server.script(ok())
    with _client(server) as client:
        stream = llm.model(MODEL, client=client).stream("Hi")
        stream._http.close()  # pyright: ignore[reportPrivateUsage]  # the connection, as a collected stream's is
        del stream
        gc.collect()
    assert rec.kinds() == ["call_started", "call_failed"]
    error = rec.events[1][1]
    assert isinstance(error, StreamClosed)
    assert error.reason == "garbage collected"


# --- Tools and agents ---------------------------------------------------------------------------


def test_tools_are_told_their_callers_observer_and_error_outputs(server: FaultServer, rec: Recorder) -> None:
    other = Recorder("other")
    llm.instrumentation.register(other)
    try:
        server.script(_tool_calls(("add", {"a": 1, "b": 2}), ("explode", {}), ("missing", {})))
        with _client(server) as client:
            response = llm.model(MODEL, client=client, tools=[add, explode]).call("Add")
            outputs = response.execute_tools()
    finally:
        llm.instrumentation.unregister(other)
    assert [output.is_error for output in outputs] == [False, True, True]
    assert rec.kinds() == ["call_started", "call_ended", *["tool_started", "tool_ended"] * 3]
    assert [start.caller for start in rec.tools] == [rec.calls[0]] * 3
    assert [start.caller for start in other.tools] == [other.calls[0]] * 3
    assert [start.tool for start in rec.tools] == [add, explode, None]
    ended = [detail for what, detail in rec.events if what == "tool_ended"]
    assert ended == outputs


def test_async_tools_are_told_their_callers_observer(server: FaultServer, rec: Recorder) -> None:
    server.script(_tool_calls(("add", {"a": 1, "b": 2}), ("add", {"a": 3, "b": 4})))

    async def run() -> list[llm.ToolOutput]:
        async with _client(server) as client:
            response = await llm.model(MODEL, client=client, tools=[add]).call_async("Add")
            return await response.execute_tools()

    outputs = asyncio.run(run())
    assert [output.is_error for output in outputs] == [False, False]
    assert rec.kinds().count("tool_started") == 2
    assert rec.kinds().count("tool_ended") == 2
    assert all(start.caller is rec.calls[0] and start.is_async for start in rec.tools)


def test_an_agent_run_brackets_its_steps(server: FaultServer, rec: Recorder) -> None:
    server.script(_tool_calls(("add", {"a": 1, "b": 2})), ok())
    with _client(server) as client:

        @llm.agent(model=MODEL, tools=[add], client=client)
        def helper() -> str:
            return "You add."

        response = helper("Add 1 and 2")
    assert rec.kinds() == [
        "agent_started",
        "call_started",
        "call_ended",
        "tool_started",
        "tool_ended",
        "call_started",
        "call_ended",
        "agent_ended",
    ]
    assert rec.events[0][1] == ("helper", False)
    assert rec.events[-1][1] is response
    assert rec.agents[0].function is helper.fn
    assert all(observer.start.function is None for observer in rec.calls)  # the steps are the agent's


def test_an_async_agent_run_brackets_its_steps(server: FaultServer, rec: Recorder) -> None:
    server.script(_tool_calls(("add", {"a": 1, "b": 2})), ok())

    async def run() -> None:
        async with _client(server) as client:

            @llm.agent(model=MODEL, tools=[add], client=client)
            async def helper() -> str:
                return "You add."

            await helper("Add 1 and 2")

    asyncio.run(run())
    kinds = rec.kinds()
    assert kinds[0] == "agent_started"
    assert kinds[-1] == "agent_ended"
    assert kinds.count("call_started") == 2
    assert kinds.count("tool_started") == 1
    assert rec.events[0][1] == ("helper", True)


def test_a_streamed_agent_run_brackets_its_streamed_steps(server: FaultServer, rec: Recorder) -> None:
    server.script(ok())
    with _client(server) as client:

        @llm.agent(model=MODEL, client=client)
        def helper() -> str:
            return "You help."

        agent_stream = helper.stream("Hi")
        assert rec.kinds() == []
        response = agent_stream.response
    assert rec.kinds() == ["agent_started", "call_started", "first_chunk", "call_ended", "agent_ended"]
    assert rec.events[-1][1] is response


# --- Misbehaving instruments, registration, nothing registered ----------------------------------


class Raising:
    def call_started(self, start: CallStart) -> Raising:
        return self

    def tool_started(self, start: ToolStart) -> None:
        raise RuntimeError("tool_started broke")

    def agent_started(self, start: AgentStart) -> None:
        raise RuntimeError("agent_started broke")

    def first_chunk(self) -> None:
        raise RuntimeError("first_chunk broke")

    def attempt_failed(self, error: llm.APIError, attempt: int) -> None:
        raise RuntimeError("attempt_failed broke")

    def ended(self, response: object) -> None:
        raise RuntimeError("ended broke")

    def failed(self, error: BaseException) -> None:
        raise RuntimeError("failed broke")


def test_an_instrument_that_raises_is_logged_once_and_breaks_nothing(
    server: FaultServer, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    raising = Raising()
    llm.instrumentation.register(raising)
    try:
        server.script(ok(), ok(), ok())
        with caplog.at_level(logging.ERROR, logger="mirascope.instrumentation"), _client(server) as client:
            assert llm.model(MODEL, client=client).call("Hi").content == "Hello"
            assert llm.model(MODEL, client=client).call("Hi").content == "Hello"
            assert llm.model(MODEL, client=client).stream("Hi").response.content == "Hello"
    finally:
        llm.instrumentation.unregister(raising)
    messages = [record.getMessage() for record in caplog.records if record.name == "mirascope.instrumentation"]
    assert len(messages) == 2  # `ended` once (for all three calls), `first_chunk` once
    assert rec.kinds().count("call_ended") == 3  # the well-behaved instrument still hears everything


def test_register_and_unregister_are_idempotent(server: FaultServer) -> None:
    recorder = Recorder()
    llm.instrumentation.register(recorder)
    llm.instrumentation.register(recorder)
    try:
        assert llm.instrumentation.registered() == (recorder,)
        server.script(ok())
        with _client(server) as client:
            llm.model(MODEL, client=client).call("Hi")
        assert recorder.kinds() == ["call_started", "call_ended"]
    finally:
        llm.instrumentation.unregister(recorder)
        llm.instrumentation.unregister(recorder)
    assert llm.instrumentation.registered() == ()


def test_nothing_is_told_when_no_instrument_is_registered(server: FaultServer) -> None:
    recorder = Recorder()
    llm.instrumentation.register(recorder)
    llm.instrumentation.unregister(recorder)
    server.script(ok(), ok())
    with _client(server) as client:
        response = llm.model(MODEL, client=client, tools=[add]).call("Hi")
        response.execute_tools()
        assert llm.model(MODEL, client=client).stream("Hi").response.content == "Hello"
    assert recorder.events == []
    assert response._observers == ()  # pyright: ignore[reportPrivateUsage]
