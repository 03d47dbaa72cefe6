"""Thinking on Chat Completions services: each service's reasoning setting, `"none"` as an explicit
off, reasoning sent back where the service keeps it, and replies whose content is a list of parts.

Every request goes to the local replay server over real HTTP; what it received is checked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from mirascope import llm

from tests.support.replay import ReplayServer

REPLY = {
    "id": "c1",
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2},
}


def _client(replay_server: ReplayServer, model_id: str) -> llm.Client:
    return llm.client(model_id.partition(":")[0], base_url=replay_server.url + "/v1", api_key="k")


def _sent(replay_server: ReplayServer, model_id: str, content: Any = "Hi", **params: Any) -> dict[str, Any]:
    """The body `model_id` sends for `content` with these call parameters."""
    with (
        _client(replay_server, model_id) as client,
        replay_server.replaying([{"status": 200, "json": REPLY}]) as session,
    ):
        llm.model(model_id, client=client, **params).call(content)
    [request] = session.requests
    return request.json()


def _thinking_fields(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in ("reasoning_effort", "reasoning", "thinking") if key in body}


@pytest.mark.parametrize(
    ("model_id", "thinking", "sent"),
    [
        # Open reasoning models the table does not know, on the services that serve them.
        ("groq:openai/gpt-oss-120b", "high", {"reasoning_effort": "high"}),
        ("groq:qwen/qwen3-32b", "low", {"reasoning_effort": "low"}),
        ("together:openai/gpt-oss-20b", "medium", {"reasoning_effort": "medium"}),
        ("together:deepseek-ai/DeepSeek-V3.1", "high", {"reasoning": {"enabled": True}}),
        ("ollama:gpt-oss:20b", "low", {"reasoning_effort": "low"}),
        ("vllm:Qwen/Qwen3-8B", "high", {"reasoning_effort": "high"}),
        ("xai:grok-3-mini", "high", {"reasoning_effort": "high"}),
        ("mistral:mistral-small-latest", "high", {"reasoning_effort": "high"}),
        ("deepseek:deepseek-chat", "high", {"thinking": {"type": "enabled"}, "reasoning_effort": "high"}),
        ("openrouter:deepseek/deepseek-r1", "medium", {"reasoning": {"effort": "medium"}}),
        (
            "openrouter:anthropic/claude-sonnet-4",
            llm.Thinking(budget_tokens=2048, include=False),
            {"reasoning": {"max_tokens": 2048, "exclude": True}},
        ),
        # OpenAI reasoning models newer than the table.
        ("openai-completions:gpt-5.1", "high", {"reasoning_effort": "high"}),
        ("openai-completions:o3-pro", "medium", {"reasoning_effort": "medium"}),
        ("azure-completions:my-deployment", "low", {"reasoning_effort": "low"}),
    ],
)
def test_a_model_the_table_does_not_know_gets_the_services_reasoning_setting(
    model_id: str, thinking: Any, sent: dict[str, Any], replay_server: ReplayServer
) -> None:
    if model_id.startswith("azure"):
        with (
            llm.client("azure", base_url=replay_server.url + "/v1", api_key="k") as client,
            replay_server.replaying([{"status": 200, "json": REPLY}]) as session,
        ):
            llm.model(model_id, client=client, thinking=thinking).call("Hi")
        body = session.requests[0].json()
    else:
        body = _sent(replay_server, model_id, thinking=thinking)
    assert _thinking_fields(body) == sent


def test_a_responses_model_newer_than_the_table_takes_thinking(replay_server: ReplayServer) -> None:
    reply = {
        "id": "resp_1",
        "model": "gpt-5.1",
        "status": "completed",
        "output": [
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hi.", "annotations": []}],
            }
        ],
    }
    with (
        llm.client("openai", base_url=replay_server.url + "/v1", api_key="k") as client,
        replay_server.replaying([{"status": 200, "json": reply}]) as session,
    ):
        llm.model("openai:gpt-5.1", client=client, thinking="low").call("Hi")
    assert session.requests[0].json()["reasoning"] == {"effort": "low", "summary": "auto"}


def test_a_known_model_that_does_not_reason_is_still_refused_before_sending(replay_server: ReplayServer) -> None:
    with (
        _client(replay_server, "openai-completions:gpt-4o") as client,
        replay_server.replaying([]) as session,
        pytest.raises(llm.FeatureNotSupportedError, match="not a reasoning model"),
    ):
        llm.model("openai-completions:gpt-4o", client=client, thinking="high").call("Hi")
    assert session.requests == []


@pytest.mark.parametrize(
    ("model_id", "thinking", "sent", "logged"),
    [
        # OpenAI: gpt-5.1 and later turn reasoning off; earlier models think as little as they can.
        ("openai-completions:gpt-5.1", "none", {"reasoning_effort": "none"}, False),
        ("openai-completions:gpt-5", "none", {"reasoning_effort": "minimal"}, True),
        ("openai-completions:gpt-5-mini", llm.Thinking(budget_tokens=0), {"reasoning_effort": "minimal"}, True),
        ("openai-completions:o3", "none", {"reasoning_effort": "low"}, True),
        ("openai-completions:gpt-5.1", "minimal", {"reasoning_effort": "low"}, False),
        ("groq:openai/gpt-oss-120b", "none", {"reasoning_effort": "low"}, True),
        # Services: their own off switch.
        ("groq:qwen/qwen3-32b", "none", {"reasoning_effort": "none"}, False),
        ("ollama:qwen3:8b", "none", {"reasoning_effort": "none"}, False),
        ("mistral:mistral-small-latest", "none", {"reasoning_effort": "none"}, False),
        ("deepseek:deepseek-chat", "none", {"thinking": {"type": "disabled"}}, False),
        ("together:Qwen/Qwen3.5-9B", "none", {"reasoning": {"enabled": False}}, False),
        ("openrouter:qwen/qwen3-235b-a22b", "none", {"reasoning": {"effort": "none"}}, False),
        # A known model that does not reason already does not.
        ("openai-completions:gpt-4o", "none", {}, False),
    ],
)
def test_thinking_none_sends_the_explicit_off_or_the_least_effort(
    model_id: str,
    thinking: Any,
    sent: dict[str, Any],
    logged: bool,
    replay_server: ReplayServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="mirascope"):
        body = _sent(replay_server, model_id, thinking=thinking)
    assert _thinking_fields(body) == sent
    assert ("always reasons" in caplog.text) is logged


@pytest.mark.parametrize(
    ("model_id", "reasoning"),
    [
        ("openai:gpt-5", {"effort": "minimal", "summary": "auto"}),
        ("openai:gpt-5.1", {"effort": "none"}),  # no reasoning, so no summary to ask for
        ("openai:o4-mini", {"effort": "low", "summary": "auto"}),
    ],
)
def test_thinking_none_on_the_responses_api(
    model_id: str, reasoning: dict[str, Any], replay_server: ReplayServer
) -> None:
    reply = {
        "id": "resp_1",
        "model": model_id.partition(":")[2],
        "status": "completed",
        "output": [
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hi.", "annotations": []}],
            }
        ],
    }
    with (
        llm.client("openai", base_url=replay_server.url + "/v1", api_key="k") as client,
        replay_server.replaying([{"status": 200, "json": reply}]) as session,
    ):
        llm.model(model_id, client=client, thinking="none").call("Hi")
    assert session.requests[0].json()["reasoning"] == reasoning


# Mistral's reasoning models: the content is a list of thinking and text parts, streamed too.
MISTRAL_THINKING = [{"type": "text", "text": "The user greets me. "}, {"type": "text", "text": "Be brief."}]


def _mistral_events() -> list[dict[str, Any]]:
    base = {"id": "m1", "object": "chat.completion.chunk", "model": "magistral-medium-2509"}

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        return {"data": {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}}

    return [
        event({"role": "assistant", "content": ""}),
        event({"content": [{"type": "thinking", "thinking": MISTRAL_THINKING[:1]}]}),
        event({"content": [{"type": "thinking", "thinking": MISTRAL_THINKING[1:]}]}),
        event({"content": [{"type": "text", "text": "Hello"}]}),
        event({"content": "!"}),
        event({"content": [{"type": "text", "text": " Bye."}]}),
        event({}, "stop", usage={"prompt_tokens": 5, "completion_tokens": 9}),
        {"data": "[DONE]"},
    ]


@pytest.fixture
def mistral(replay_server: ReplayServer) -> Iterator[llm.Client]:
    with _client(replay_server, "mistral:magistral-medium-latest") as client:
        yield client


def test_a_streamed_content_list_becomes_thinking_and_text(replay_server: ReplayServer, mistral: llm.Client) -> None:
    model = llm.model("mistral:magistral-medium-latest", client=mistral)
    with replay_server.replaying([{"status": 200, "sse": _mistral_events()}]):
        stream = model.stream("Hi")
        chunks = list(stream)

    assert "".join(chunk.thinking for chunk in chunks) == "The user greets me. Be brief."
    assert "".join(chunk.content for chunk in chunks) == "Hello! Bye."
    assert all(isinstance(chunk.content, str) for chunk in chunks)
    response = stream.response
    assert response.thinking == "The user greets me. Be brief."
    assert response.content == "Hello! Bye."


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_streamed_content_list_reads_the_same_async(
    mode: str, replay_server: ReplayServer, mistral: llm.Client
) -> None:
    import asyncio

    model = llm.model("mistral:magistral-medium-latest", client=mistral)

    async def run() -> tuple[str, str]:
        stream = await model.stream_async("Hi")
        parts = [(chunk.thinking, chunk.content) async for chunk in stream]
        return "".join(t for t, _ in parts), "".join(c for _, c in parts)

    with replay_server.replaying([{"status": 200, "sse": _mistral_events()}]):
        if mode == "async":
            thinking, content = asyncio.run(run())
        else:
            stream = model.stream("Hi")
            pieces = [(chunk.thinking, chunk.content) for chunk in stream]
            thinking, content = "".join(t for t, _ in pieces), "".join(c for _, c in pieces)
    assert (thinking, content) == ("The user greets me. Be brief.", "Hello! Bye.")


def test_a_whole_reply_with_a_content_list_becomes_a_thought_and_text(
    replay_server: ReplayServer, mistral: llm.Client
) -> None:
    reply = {
        **REPLY,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": MISTRAL_THINKING},
                        {"type": "text", "text": "Hello!"},
                    ],
                },
                "finish_reason": "stop",
            }
        ],
    }
    with replay_server.replaying([{"status": 200, "json": reply}, {"status": 200, "json": REPLY}]) as session:
        response = llm.model("mistral:magistral-medium-latest", client=mistral).call("Hi")
        response.resume("And?")

    assert response.thinking == "The user greets me. Be brief."
    assert response.content == "Hello!"
    # Mistral keeps reasoning across turns as thinking parts in the assistant's content.
    assert session.requests[1].json()["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": [{"type": "text", "text": "The user greets me. Be brief."}]},
            {"type": "text", "text": "Hello!"},
        ],
    }


@llm.tool
def lookup(city: str) -> str:
    """Look up the weather in a city."""
    return f"Sunny in {city}"


def test_deepseek_gets_the_reasoning_content_back_in_a_tool_loop(replay_server: ReplayServer) -> None:
    tool_reply = {
        **REPLY,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "",
                    "reasoning_content": "I should look up Paris.",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "lookup", "arguments": '{"city":"Paris"}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    with (
        _client(replay_server, "deepseek:deepseek-reasoner") as client,
        replay_server.replaying([{"status": 200, "json": tool_reply}, {"status": 200, "json": REPLY}]) as session,
    ):
        response = llm.model("deepseek:deepseek-reasoner", client=client, tools=[lookup]).call("Weather in Paris?")
        response.resume(response.execute_tools())

    assistant = session.requests[1].json()["messages"][1]
    assert assistant["reasoning_content"] == "I should look up Paris."
    assert assistant["tool_calls"][0]["id"] == "call_1"


@pytest.mark.parametrize(
    ("model_id", "field"),
    [("groq:openai/gpt-oss-120b", "reasoning"), ("ollama:gpt-oss:20b", "reasoning"), ("openrouter:x/y", "reasoning")],
)
def test_services_that_keep_reasoning_get_it_back_in_their_field(
    model_id: str, field: str, replay_server: ReplayServer
) -> None:
    reply = {
        **REPLY,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "42", "reasoning": "6 x 7"},
                "finish_reason": "stop",
            }
        ],
    }
    with (
        _client(replay_server, model_id) as client,
        replay_server.replaying([{"status": 200, "json": reply}, {"status": 200, "json": REPLY}]) as session,
    ):
        llm.model(model_id, client=client).call("Hi").resume("Sure?")
    assert session.requests[1].json()["messages"][1] == {"role": "assistant", "content": "42", field: "6 x 7"}


@pytest.mark.parametrize("model_id", ["openai-completions:o3", "xai:grok-3-mini", "together:deepseek-ai/DeepSeek-R1"])
def test_services_that_do_not_keep_reasoning_get_only_the_answer_back(
    model_id: str, replay_server: ReplayServer
) -> None:
    reply = {
        **REPLY,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "42", "reasoning_content": "6 x 7"},
                "finish_reason": "stop",
            }
        ],
    }
    with (
        _client(replay_server, model_id) as client,
        replay_server.replaying([{"status": 200, "json": reply}, {"status": 200, "json": REPLY}]) as session,
    ):
        llm.model(model_id, client=client).call("Hi").resume("Sure?")
    assert session.requests[1].json()["messages"][1] == {"role": "assistant", "content": "42"}


OPENROUTER_DETAILS = [
    {"type": "reasoning.text", "text": "6 x 7", "signature": "sig-abc", "format": "anthropic-claude-v1", "index": 0}
]


def test_openrouter_gets_its_reasoning_details_back(replay_server: ReplayServer) -> None:
    reply = {
        **REPLY,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "42",
                    "reasoning": "6 x 7",
                    "reasoning_details": OPENROUTER_DETAILS,
                },
                "finish_reason": "stop",
            }
        ],
    }
    with (
        _client(replay_server, "openrouter:anthropic/claude-sonnet-4") as client,
        replay_server.replaying([{"status": 200, "json": reply}, {"status": 200, "json": REPLY}]) as session,
    ):
        llm.model("openrouter:anthropic/claude-sonnet-4", client=client).call("Hi").resume("Sure?")
    assert session.requests[1].json()["messages"][1] == {
        "role": "assistant",
        "content": "42",
        "reasoning": "6 x 7",
        "reasoning_details": OPENROUTER_DETAILS,
    }


def test_openrouter_streamed_reasoning_details_are_gathered_and_sent_back(replay_server: ReplayServer) -> None:
    base = {"id": "gen-1", "object": "chat.completion.chunk", "model": "anthropic/claude-sonnet-4"}

    def event(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"data": {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}}

    def detail(**fields: Any) -> dict[str, Any]:
        return {"type": "reasoning.text", "format": "anthropic-claude-v1", "index": 0, **fields}

    events = [
        event({"role": "assistant", "content": ""}),
        event({"reasoning": "6 x", "reasoning_details": [detail(text="6 x")]}),
        event({"reasoning": " 7", "reasoning_details": [detail(text=" 7")]}),
        event({"reasoning_details": [detail(text="", signature="sig-abc")]}),
        event({"content": "42"}),
        event({}, "stop"),
        {"data": "[DONE]"},
    ]
    with (
        _client(replay_server, "openrouter:anthropic/claude-sonnet-4") as client,
        replay_server.replaying([{"status": 200, "sse": events}, {"status": 200, "json": REPLY}]) as session,
    ):
        stream = llm.model("openrouter:anthropic/claude-sonnet-4", client=client).stream("Hi")
        assert "".join(chunk.thinking for chunk in stream) == "6 x 7"
        stream.response.resume("Sure?")
    assert session.requests[1].json()["messages"][1] == {
        "role": "assistant",
        "content": "42",
        "reasoning": "6 x 7",
        "reasoning_details": OPENROUTER_DETAILS,
    }


REASONING_REPLY = {
    "id": "resp_1",
    "model": "gpt-5",
    "status": "completed",
    "output": [
        {
            "id": "rs_1",
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "Hm."}],
            "encrypted_content": "enc",
        },
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Hi.", "annotations": []}],
        },
    ],
}


@pytest.mark.parametrize(
    ("first", "second", "goes_back"),
    [
        ("azure:gpt-5", "azure:gpt-5", True),
        ("openai:gpt-5", "azure:gpt-5", False),
        ("azure:gpt-5", "openai:gpt-5", False),
    ],
)
def test_responses_reasoning_items_go_back_only_to_the_provider_that_wrote_them(
    first: str, second: str, goes_back: bool, replay_server: ReplayServer
) -> None:
    def client(model_id: str) -> llm.Client:
        return llm.client(model_id.partition(":")[0], base_url=replay_server.url + "/v1", api_key="k")

    replies = [{"status": 200, "json": REASONING_REPLY}] * 2
    with client(first) as one, client(second) as two, replay_server.replaying(replies) as session:
        started = llm.model(first, client=one, thinking="low").call("Hi")
        llm.model(second, client=two, thinking="low").call([*started.messages, llm.messages.user("Sure?")])

    items = session.requests[1].json()["input"]
    assert (REASONING_REPLY["output"][0] in items) is goes_back
    assert ("enc" in json.dumps(items)) is goes_back
    assert {"role": "assistant", "content": "Hi."} in items or REASONING_REPLY["output"][1] in items
