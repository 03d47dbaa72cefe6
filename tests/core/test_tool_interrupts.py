"""`KeyboardInterrupt` and `SystemExit` from a tool reach the code that ran the tools, as themselves.

A tool's ordinary exception becomes an error output; these two are the user (or the process)
asking to stop, so they propagate: through `await execute_tools()`, with the sibling tools
cancelled, never handed to the event loop behind the caller's back.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from mirascope import llm
from mirascope.llm.settings import CallSettings

from tests.support.replay import ReplayServer

MODEL = "openai-completions:gpt-4o"

started: list[str] = []
cancelled: list[str] = []
finished: list[str] = []


@llm.tool
async def slow(name: str) -> str:
    """Take a long time."""
    started.append(name)
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        cancelled.append(name)
        raise
    finished.append(name)
    return name


@llm.tool
async def exits(code: int) -> str:
    """End the program."""
    await asyncio.sleep(0.01)
    raise SystemExit(code)


@llm.tool
def interrupted() -> str:
    """Stand for the user pressing Ctrl-C while a sync tool runs."""
    raise KeyboardInterrupt


def _calls(*calls: tuple[str, dict[str, Any]]) -> list[llm.ToolCall]:
    return [llm.ToolCall(id=f"call_{i}", name=name, args=args) for i, (name, args) in enumerate(calls)]


def _response(calls: list[llm.ToolCall], tools: list[Any]) -> llm.AsyncCallResponse[str]:
    reply = llm.Message(role="assistant", content=tuple(calls))
    return llm.AsyncCallResponse(
        messages=(llm.messages.user("go"), reply),
        model=MODEL,
        finish_reason="tool_call",
        settings=CallSettings.from_arguments(tools=tools),
    )


@pytest.fixture(autouse=True)
def _forget_cancellations() -> None:
    for record in (started, cancelled, finished):
        record.clear()


@pytest.mark.parametrize(
    ("failing", "raised"),
    [(("exits", {"code": 3}), SystemExit), (("interrupted", {}), KeyboardInterrupt)],
)
def test_an_interrupt_from_one_of_several_async_tools_reaches_the_awaiting_code_and_cancels_the_others(
    failing: tuple[str, dict[str, Any]], raised: type[BaseException]
) -> None:
    response = _response(_calls(("slow", {"name": "a"}), failing, ("slow", {"name": "b"})), [slow, exits, interrupted])

    async def main() -> BaseException | None:
        try:
            await response.execute_tools()
        except BaseException as error:  # what a user's cleanup code writes
            return error
        return None

    # `asyncio.run` returns: the interrupt went to `main`'s `except`, not to the event loop.
    caught = asyncio.run(main())

    assert type(caught) is raised
    # Those that had started were cancelled; those that had not never will.
    assert "a" in started
    assert cancelled == started
    assert finished == []


def test_an_interrupt_from_the_only_async_tool_propagates_as_itself() -> None:
    response = _response(_calls(("exits", {"code": 4})), [exits])

    async def main() -> None:
        await response.execute_tools()

    with pytest.raises(SystemExit) as caught:
        asyncio.run(main())

    assert caught.value.code == 4


def test_an_interrupt_from_a_tool_run_by_the_sync_api_propagates_as_itself() -> None:
    reply = llm.Message(role="assistant", content=tuple(_calls(("exits", {"code": 5}))))
    response = llm.CallResponse(
        messages=(llm.messages.user("go"), reply),
        model=MODEL,
        finish_reason="tool_call",
        settings=CallSettings.from_arguments(tools=[exits]),
    )

    with pytest.raises(SystemExit) as caught:
        response.execute_tools()

    assert caught.value.code == 5


def test_a_reply_without_tool_calls_runs_nothing_async() -> None:
    assert asyncio.run(_response([], [slow]).execute_tools()) == []


def test_a_cancelled_caller_cancels_the_tools_it_was_running() -> None:
    response = _response(_calls(("slow", {"name": "a"}), ("slow", {"name": "b"})), [slow])

    async def main() -> None:
        task = asyncio.ensure_future(response.execute_tools())
        async with asyncio.timeout(10):  # a hang guard
            while len(started) < 2:  # until both tools are running
                await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())

    assert sorted(cancelled) == ["a", "b"]


def _tool_call_reply(*calls: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    tool_calls = [
        {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (name, args) in enumerate(calls)
    ]
    message = {"role": "assistant", "content": None, "tool_calls": tool_calls}
    body = {"id": "r", "model": "gpt-4o", "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
    return {"status": 200, "json": body}


def _stream_reply(*calls: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    tool_calls = [
        {"index": i, "id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        for i, (name, args) in enumerate(calls)
    ]
    delta = {"role": "assistant", "content": None, "tool_calls": tool_calls}
    chunk = {"id": "r", "model": "gpt-4o", "choices": [{"index": 0, "delta": delta, "finish_reason": "tool_calls"}]}
    return {"status": 200, "sse": [{"data": chunk}, {"data": "[DONE]"}]}


def test_an_interrupt_from_a_tool_of_an_async_agent_reaches_the_caller(replay_server: ReplayServer) -> None:
    client = llm.client("openai-completions", base_url=replay_server.url, api_key="sk-test")

    @llm.agent(model=MODEL, tools=[slow, exits], client=client)
    async def bot() -> str:
        return "You help."

    async def main() -> BaseException | None:
        async with client:
            try:
                await bot("go")
            except BaseException as error:
                return error
        return None

    with replay_server.replaying([_tool_call_reply(("slow", {"name": "a"}), ("exits", {"code": 6}))]):
        caught = asyncio.run(main())

    assert isinstance(caught, SystemExit)
    assert cancelled == ["a"]


def test_an_interrupt_from_a_tool_of_an_async_stream_reaches_the_caller(replay_server: ReplayServer) -> None:
    client = llm.client("openai-completions", base_url=replay_server.url, api_key="sk-test")
    model = llm.model(MODEL, tools=[slow, exits], client=client)

    async def main() -> BaseException | None:
        async with client:
            stream = await model.stream_async("go")
            try:
                await stream.execute_tools()
            except BaseException as error:
                return error
        return None

    with replay_server.replaying([_stream_reply(("slow", {"name": "a"}), ("exits", {"code": 7}))]):
        caught = asyncio.run(main())

    assert isinstance(caught, SystemExit)
    assert cancelled == ["a"]


def test_a_context_the_tools_lack_is_refused_before_any_tool_runs() -> None:
    ran: list[str] = []

    @llm.tool
    async def record() -> str:
        """Note that it ran."""
        ran.append("record")
        return "ok"

    @llm.tool
    def needs_context(ctx: llm.Context[None]) -> str:
        """Wants a context."""
        return "ok"

    response = _response(_calls(("record", {}), ("needs_context", {})), [record, needs_context])

    with pytest.raises(llm.ToolError, match=r"llm\.Context"):
        asyncio.run(response.execute_tools())

    assert ran == []
