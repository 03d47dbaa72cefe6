"""`llm.Context`: the prompt function's context reaches the tools, and survives `resume`."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx
from mirascope import llm


@dataclass
class Deps:
    user_name: str


@llm.tool
def whoami(ctx: llm.Context[Deps]) -> str:
    """The name of the user being helped."""
    return ctx.deps.user_name


def _client(replies: list[dict[str, object]], sent: list[dict[str, object]]) -> llm.Client:
    queue = iter(replies)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=next(queue))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return llm.client("openai-completions", base_url="http://test/v1", api_key="k", http_client=http)


def _reply(message: dict[str, object], finish: str) -> dict[str, object]:
    return {"id": "x", "model": "gpt-4o", "choices": [{"index": 0, "message": message, "finish_reason": finish}]}


TOOL_CALL = _reply(
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "whoami", "arguments": "{}"}}],
    },
    "tool_calls",
)


def test_the_prompt_functions_context_reaches_its_tools_and_the_model_never_sees_it() -> None:
    sent: list[dict[str, object]] = []
    done = _reply({"role": "assistant", "content": "You are William."}, "stop")
    client = _client([TOOL_CALL, TOOL_CALL, done], sent)

    @llm.call("openai-completions:gpt-4o", client=client, tools=[whoami])
    def support(ctx: llm.Context[Deps], question: str) -> str:
        return f"{question} (helping {ctx.deps.user_name})"

    response = support(llm.Context(deps=Deps("William")), "Who am I?")
    outputs = response.execute_tools()
    assert outputs == [llm.ToolOutput(id="call_1", name="whoami", result="William")]
    again = response.resume(outputs)
    # The context went on with `resume`: the second turn's tools get it too.
    assert again.execute_tools() == outputs
    final = again.resume(outputs)
    assert final.content == "You are William."
    tool = sent[0]["tools"][0]["function"]  # type: ignore[index]
    assert tool["parameters"]["properties"] == {}
    assert "ctx" not in json.dumps(sent[0])


def test_a_context_does_not_go_into_to_dict() -> None:
    sent: list[dict[str, object]] = []
    client = _client([TOOL_CALL], sent)

    @llm.call("openai-completions:gpt-4o", client=client, tools=[whoami])
    def support(ctx: llm.Context[Deps]) -> str:
        return "Who am I?"

    response = support(ctx=llm.Context(deps=Deps("William")))  # by keyword works too
    assert response.execute_tools() == [llm.ToolOutput(id="call_1", name="whoami", result="William")]
    assert "context" not in response.to_dict()
    assert llm.CallResponse.from_dict(response.to_dict()).content == response.content
