"""`@llm.agent`: the tool loop run for you, the conversation kept, the steps bounded."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from mirascope import llm


@dataclass
class Deps:
    user_name: str


escalations: list[str] = []


@llm.tool
def escalate(ctx: llm.AgentContext[Deps], reason: str) -> str:
    """Hand the case to a human."""
    escalations.append(f"{ctx.deps.user_name}: {reason}")
    return "A human will call you back."


def _tool_call(call_id: str) -> dict[str, Any]:
    arguments = json.dumps({"reason": "locked out"})
    call = {"id": call_id, "type": "function", "function": {"name": "escalate", "arguments": arguments}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"id": "r", "model": "gpt-4o", "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}


def _text(text: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {"id": "r", "model": "gpt-4o", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


def _sse(reply: dict[str, Any]) -> bytes:
    # The same reply as a one-chunk stream.
    choice = reply["choices"][0]
    message = choice["message"]
    delta: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
    if message.get("tool_calls"):
        delta["tool_calls"] = [{**call, "index": i} for i, call in enumerate(message["tool_calls"])]
    chunk = {
        "id": "r",
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "finish_reason": choice["finish_reason"]}],
    }
    return f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()


class Server:
    def __init__(self, replies: list[dict[str, Any]]) -> None:
        self.replies = iter(replies)
        self.sent: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.sent.append(body)
        reply = next(self.replies)
        if body.get("stream"):
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=_sse(reply))
        return httpx.Response(200, json=reply)


def _client(server: Server, *, asynchronous: bool = False) -> llm.Client:
    transport = httpx.MockTransport(server.handler)
    if asynchronous:
        http = httpx.AsyncClient(transport=transport)
        return llm.client("openai-completions", base_url="http://test/v1", api_key="k", async_http_client=http)
    return llm.client(
        "openai-completions", base_url="http://test/v1", api_key="k", http_client=httpx.Client(transport=transport)
    )


def _bot(server: Server, max_steps: int = 10) -> llm.Agent[Deps, str]:
    client = _client(server)

    @llm.agent(model="openai-completions:gpt-4o", tools=[escalate], deps_type=Deps, max_steps=max_steps, client=client)
    def support_bot(ctx: llm.AgentContext[Deps]) -> str:
        return f"You are a customer support bot helping {ctx.deps.user_name}"

    return support_bot


def test_an_agent_runs_its_tools_to_a_final_answer_with_the_callers_deps() -> None:
    escalations.clear()
    server = Server([_tool_call("call_1"), _text("A human will call you back soon.")])
    bot = _bot(server)

    response = bot("I'm unable to access my account", deps=Deps(user_name="William"))

    assert response.content == "A human will call you back soon."
    assert escalations == ["William: locked out"]
    first, second = server.sent
    assert first["messages"][0] == {"role": "system", "content": "You are a customer support bot helping William"}
    assert first["messages"][1] == {"role": "user", "content": "I'm unable to access my account"}
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "A human will call you back.",
    }
    assert "ctx" not in json.dumps(first["tools"])


def test_an_agent_keeps_its_history_for_the_next_call() -> None:
    server = Server([_text("Hello William."), _text("You said hi.")])
    bot = _bot(server)
    bot("Hi", deps=Deps(user_name="William"))
    bot("What did I say?", deps=Deps(user_name="William"))

    roles = [m["role"] for m in server.sent[1]["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert [m.role for m in bot.history] == ["user", "assistant", "user", "assistant"]
    bot.reset()
    assert bot.history == []


def test_an_agent_that_keeps_calling_tools_stops_at_max_steps_with_the_conversation() -> None:
    server = Server([_tool_call("call_1"), _tool_call("call_2"), _tool_call("call_3")])
    bot = _bot(server, max_steps=2)
    with pytest.raises(llm.MaxStepsError, match="max_steps") as raised:
        bot("Help", deps=Deps(user_name="William"))
    assert len(server.sent) == 2
    assert raised.value.messages[-1].role == "assistant"
    assert [call.id for call in raised.value.messages[-1].content if isinstance(call, llm.ToolCall)] == ["call_2"]
    assert bot.history == []  # a failed run leaves the conversation as it was


def test_an_agent_streams_every_step() -> None:
    escalations.clear()
    server = Server([_tool_call("call_1"), _text("Escalated.")])
    bot = _bot(server)
    stream = bot.stream("Locked out", deps=Deps(user_name="Ann"))
    chunks = list(stream)
    assert [c.tool_call_delta.name for c in chunks if c.tool_call_delta] == ["escalate"]
    assert "".join(c.content for c in chunks) == "Escalated."
    assert stream.response.content == "Escalated."
    assert escalations == ["Ann: locked out"]
    assert all(body["stream"] for body in server.sent)


def test_an_agent_gives_a_typed_final_answer() -> None:
    @dataclass
    class Verdict:
        escalated: bool

    server = Server([_text('{"escalated": true}')])

    @llm.agent(model="openai-completions:gpt-4o", deps_type=Deps, response_model=Verdict, client=_client(server))
    def judge(ctx: llm.AgentContext[Deps]) -> str:
        return "Judge."

    assert judge("Case", deps=Deps(user_name="W")).parse() == Verdict(escalated=True)


def test_an_async_agent_awaits_its_loop() -> None:
    server = Server([_tool_call("call_1"), _text("Done.")])
    client = _client(server, asynchronous=True)

    @llm.agent(model="openai-completions:gpt-4o", tools=[escalate], deps_type=Deps, client=client)
    async def bot(ctx: llm.AgentContext[Deps]) -> str:
        return "Async bot."

    async def run() -> str:
        async with client:
            response = await bot("Help", deps=Deps(user_name="Zed"))
        return response.content

    assert asyncio.run(run()) == "Done."
    assert isinstance(bot, llm.AsyncAgent)


def test_max_steps_must_allow_one_reply() -> None:
    with pytest.raises(ValueError, match="max_steps"):

        @llm.agent(model="openai-completions:gpt-4o", max_steps=0)
        def nothing() -> str:
            return "x"
