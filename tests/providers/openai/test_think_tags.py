"""Open reasoning models that write `<think>...</think>` into the reply: the thoughts are split out."""

from __future__ import annotations

import json

import httpx
import pytest
from mirascope import llm

REPLY = "<think>\nThe user greets me. Be brief.\n</think>\n\nHello!"
_BASE = {"id": "c1", "object": "chat.completion.chunk", "model": "deepseek-r1"}


def _model(handler: object) -> llm.Model[str]:
    http = httpx.Client(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    client = llm.client("ollama", base_url="http://local/v1", http_client=http)
    return llm.model("ollama:deepseek-r1", client=client)


def _reply(content: str) -> llm.Model[str]:
    def handler(request: httpx.Request) -> httpx.Response:
        message = {"role": "assistant", "content": content}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return httpx.Response(200, json={"id": "c1", "model": "deepseek-r1", "choices": [choice]})

    return _model(handler)


def _streamed(pieces: list[str]) -> llm.Model[str]:
    events = [{**_BASE, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    events += [{**_BASE, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
    events.append({**_BASE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    body = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return _model(handler)


def test_a_reply_opening_with_think_tags_is_split_into_thinking_and_content() -> None:
    response = _reply(REPLY).call("Hi")

    assert response.thinking == "\nThe user greets me. Be brief.\n"
    assert response.content == "Hello!"


def test_a_reply_cut_off_while_thinking_is_all_thinking() -> None:
    response = _reply("<think>Still going").call("Hi")

    assert (response.thinking, response.content) == ("Still going", "")


@pytest.mark.parametrize("content", ["Hello <think> is a tag", "I <think>", "", "  plain"])
def test_a_reply_without_an_opening_think_tag_is_all_content(content: str) -> None:
    response = _reply(content).call("Hi")

    assert response.thinking is None
    assert response.content == content


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_streamed_think_tags_split_at_any_point_stream_as_thinking_then_content(size: int) -> None:
    pieces = [REPLY[i : i + size] for i in range(0, len(REPLY), size)]
    stream = _streamed(pieces).stream("Hi")

    chunks = list(stream)

    assert "".join(chunk.thinking for chunk in chunks) == "\nThe user greets me. Be brief.\n"
    assert "".join(chunk.content for chunk in chunks) == "Hello!"
    assert stream.response.thinking == "\nThe user greets me. Be brief.\n"
    assert stream.response.content == "Hello!"


def test_a_streamed_reply_without_tags_streams_every_piece_as_content() -> None:
    stream = _streamed(["<b>bold</b>", " and ", "plain"]).stream("Hi")

    assert [chunk.content for chunk in stream if chunk.content] == ["<b>bold</b>", " and ", "plain"]
    assert stream.response.thinking is None


def test_the_thought_goes_back_apart_from_the_answer_when_the_conversation_continues() -> None:
    sent: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        choice = {"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}
        return httpx.Response(200, json={"id": "c1", "model": "deepseek-r1", "choices": [choice]})

    _model(handler).call("Hi").resume("And?")

    # Ollama takes earlier reasoning in the message's `reasoning` field; its chat template keeps or drops it.
    assert sent[1]["messages"][1] == {  # type: ignore[index]
        "role": "assistant",
        "content": "Hello!",
        "reasoning": "\nThe user greets me. Be brief.\n",
    }
