"""A success with no reply in it is an `llm.APIError`; an empty reply the provider explains is a reply.

No choices, a null message, a null `content` or `output`, no candidate without a block reason, a
candidate with no content that says it stopped normally, a stream that ends before any sign of a
reply: each would otherwise read as an empty answer with finish reason `stop`, which the caller
cannot tell from one the model meant. An empty text, a safety block, or a cut at `max_tokens`
is a reply, and stays one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from mirascope import llm

from tests.support.replay import ReplayServer

_USAGE = {"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3}


def _completion(choice: dict[str, Any] | None, **body: Any) -> dict[str, Any]:
    choices = body.pop("choices", [choice])
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o", "choices": choices, **body}


def _claude(**body: Any) -> dict[str, Any]:
    base = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5"}
    return {**base, "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 0}, **body}


def _responses(**body: Any) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "model": "gpt-4o", "status": "completed", **body}


NO_REPLY: list[tuple[str, str, dict[str, Any]]] = [
    ("openai-completions", "a null message", _completion({"index": 0, "message": None, "finish_reason": "stop"})),
    ("openai-completions", "no message", _completion({"index": 0, "finish_reason": "stop"})),
    ("openai-completions", "null choices", _completion(None, choices=None, usage=_USAGE)),
    ("openai-completions", "empty choices", _completion(None, choices=[], usage=_USAGE)),
    ("groq", "a null message", _completion({"index": 0, "message": None, "finish_reason": "stop"})),
    ("anthropic", "null content", _claude(content=None)),
    ("anthropic", "no content", _claude()),
    ("openai", "null output", _responses(output=None)),
    ("openai", "no output", _responses()),
    ("google", "no candidates and no block reason", {"candidates": [], "modelVersion": "gemini-2.5-flash"}),
    ("google", "no candidates field", {"usageMetadata": {"promptTokenCount": 3}}),
    ("google", "a candidate with no content that stopped", {"candidates": [{"finishReason": "STOP", "index": 0}]}),
    ("google", "a candidate with no parts", {"candidates": [{"content": {"role": "model"}, "finishReason": "STOP"}]}),
    ("google", "a candidate with null content and no reason", {"candidates": [{"content": None}]}),
]

MODELS = {
    "openai-completions": "openai-completions:gpt-4o",
    "groq": "groq:llama-3.3-70b-versatile",
    "anthropic": "anthropic:claude-sonnet-4-5",
    "openai": "openai:gpt-4o",
    "google": "google:gemini-2.5-flash",
}


def _model(replay_server: ReplayServer, provider: str) -> llm.Model[str]:
    client = llm.client(provider, base_url=replay_server.url, api_key="sk-test", max_retries=0)
    return llm.model(MODELS[provider], client=client)


@pytest.mark.parametrize(("provider", "what", "body"), NO_REPLY, ids=[f"{p}: {w}" for p, w, _ in NO_REPLY])
def test_a_success_without_a_reply_is_an_api_error(
    replay_server: ReplayServer, provider: str, what: str, body: dict[str, Any]
) -> None:
    with replay_server.replaying([{"status": 200, "json": body}]), pytest.raises(llm.APIError) as caught:
        _model(replay_server, provider).call("Hi")

    assert caught.value.provider == provider
    assert caught.value.status_code == 200
    assert caught.value.body == body


@pytest.mark.parametrize(("provider", "what", "body"), NO_REPLY[:1], ids=["openai-completions: a null message"])
def test_an_async_call_without_a_reply_is_an_api_error(
    replay_server: ReplayServer, provider: str, what: str, body: dict[str, Any]
) -> None:
    model = _model(replay_server, provider)

    async def main() -> None:
        try:
            await model.call_async("Hi")
        finally:
            assert model.client is not None
            await model.client.aclose()

    with replay_server.replaying([{"status": 200, "json": body}]), pytest.raises(llm.APIError, match="without a reply"):
        asyncio.run(main())


def _chunk(choices: Any, **body: Any) -> dict[str, Any]:
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": choices}
    return {"data": {**chunk, **body}}


NO_STREAMED_REPLY: list[tuple[str, str, list[dict[str, Any]]]] = [
    ("openai-completions", "null choices", [_chunk(None), _chunk(None, usage=_USAGE), {"data": "[DONE]"}]),
    ("openai-completions", "empty choices", [_chunk([]), {"data": "[DONE]"}]),
    (
        "openai-completions",
        "null deltas and no finish reason",
        [_chunk([{"index": 0, "delta": None, "finish_reason": None}]), {"data": "[DONE]"}],
    ),
    ("anthropic", "only pings", [{"event": "ping", "data": {"type": "ping"}}]),
    ("openai", "no response events", [{"event": "keepalive", "data": {"type": "keepalive"}}]),
    ("google", "no candidates", [{"data": {"usageMetadata": {"promptTokenCount": 3}, "modelVersion": "gemini"}}]),
    ("google", "a candidate with no content that stopped", [{"data": {"candidates": [{"finishReason": "STOP"}]}}]),
]


@pytest.mark.parametrize(
    ("provider", "what", "events"), NO_STREAMED_REPLY, ids=[f"{p}: {w}" for p, w, _ in NO_STREAMED_REPLY]
)
def test_a_stream_without_a_reply_is_an_api_error_at_its_end(
    replay_server: ReplayServer, provider: str, what: str, events: list[dict[str, Any]]
) -> None:
    with replay_server.replaying([{"status": 200, "sse": events}]):
        stream = _model(replay_server, provider).stream("Hi")
        with pytest.raises(llm.APIError, match="without a reply") as caught:
            for _ in stream:
                pass

    assert caught.value.provider == provider
    assert caught.value.body  # the events that arrived


def test_an_async_stream_without_a_reply_is_an_api_error(replay_server: ReplayServer) -> None:
    model = _model(replay_server, "openai-completions")

    async def main() -> None:
        stream = await model.stream_async("Hi")
        try:
            await stream.aresponse()
        finally:
            assert model.client is not None
            await model.client.aclose()

    with (
        replay_server.replaying([{"status": 200, "sse": [_chunk([]), {"data": "[DONE]"}]}]),
        pytest.raises(llm.APIError, match="without a reply"),
    ):
        asyncio.run(main())


EXPLAINED_EMPTY: list[tuple[str, str, dict[str, Any], llm.FinishReason]] = [
    (
        "openai-completions",
        "an empty text",
        _completion({"index": 0, "message": {"role": "assistant", "content": ""}, "finish_reason": "stop"}),
        "stop",
    ),
    (
        "openai-completions",
        "no text, cut at max_tokens",
        _completion({"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "length"}),
        "max_tokens",
    ),
    ("anthropic", "an empty content list", _claude(content=[]), "stop"),
    ("openai", "an empty output list", _responses(output=[]), "stop"),
    (
        "google",
        "a blocked prompt",
        {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3}},
        "content_filter",
    ),
    ("google", "a candidate stopped for safety", {"candidates": [{"finishReason": "SAFETY"}]}, "content_filter"),
    (
        "google",
        "a candidate cut at max_tokens while thinking",
        {"candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS"}]},
        "max_tokens",
    ),
    (
        "google",
        "an empty text part",
        {"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP"}]},
        "stop",
    ),
]


@pytest.mark.parametrize(
    ("provider", "what", "body", "finish_reason"),
    EXPLAINED_EMPTY,
    ids=[f"{p}: {w}" for p, w, *_ in EXPLAINED_EMPTY],
)
def test_an_empty_reply_the_provider_explains_is_a_reply(
    replay_server: ReplayServer, provider: str, what: str, body: dict[str, Any], finish_reason: llm.FinishReason
) -> None:
    with replay_server.replaying([{"status": 200, "json": body}]):
        response = _model(replay_server, provider).call("Hi")

    assert response.content == ""
    assert response.finish_reason == finish_reason


def test_a_stream_of_empty_deltas_that_finishes_is_an_empty_reply(replay_server: ReplayServer) -> None:
    events = [
        _chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]),
        _chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        {"data": "[DONE]"},
    ]
    with replay_server.replaying([{"status": 200, "sse": events}]):
        stream = _model(replay_server, "openai-completions").stream("Hi")
        chunks = list(stream)

    assert [chunk.finish_reason for chunk in chunks] == ["stop"]
    assert stream.response.content == ""
    assert stream.response.finish_reason == "stop"
