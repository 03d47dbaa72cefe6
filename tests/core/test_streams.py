"""Streams as core runs them, whatever the provider: raw events, odd bodies, serialization."""

from __future__ import annotations

import json

import httpx
import pytest
from mirascope import llm

_BASE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4o"}


def _sse(*events: object) -> bytes:
    return b"".join(f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode() for event in events)


def _text_events(*texts: str) -> list[dict[str, object]]:
    events: list[dict[str, object]] = [
        {**_BASE, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]} for text in texts
    ]
    events.append({**_BASE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return events


def _model(body: bytes, status: int = 200) -> llm.Model[str]:
    def handler(request: httpx.Request) -> httpx.Response:
        # Bytes content: httpx hands the body over already read, as some transports do.
        return httpx.Response(status, headers={"content-type": "text/event-stream"}, content=body)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = llm.client("openai-completions", base_url="http://test/v1", api_key="k", http_client=http)
    return llm.model("openai-completions:gpt-4o", client=client)


def test_a_body_the_transport_already_read_still_streams_every_chunk() -> None:
    stream = _model(_sse(*_text_events("Hel", "lo"), "[DONE]")).stream("Hi")
    assert [chunk.content for chunk in stream if chunk.content] == ["Hel", "lo"]
    assert stream.response.content == "Hello"


def test_a_streamed_response_decodes_its_raw_events_when_read_and_leaves_out_done() -> None:
    events = _text_events("a", "b")
    stream = _model(_sse(*events, "[DONE]")).stream("Hi")
    response = stream.response
    assert response.raw == events
    assert response.raw is response.raw  # decoded once, then kept


def test_a_streamed_response_round_trips_through_json_with_its_events() -> None:
    events = _text_events("a")
    response = _model(_sse(*events, "[DONE]")).stream("Hi").response
    restored = llm.CallResponse.from_dict(json.loads(json.dumps(response.to_dict())))
    assert restored.raw == events
    assert restored == response


def test_a_json_error_body_sent_as_an_event_stream_raises_the_typed_error() -> None:
    body = json.dumps({"error": {"message": "Incorrect API key provided.", "code": "invalid_api_key"}}).encode()
    stream = _model(body).stream("Hi")
    with pytest.raises(llm.AuthenticationError, match="Incorrect API key provided"):
        list(stream)


def test_a_pretty_printed_error_body_is_read_whole() -> None:
    body = json.dumps({"error": {"message": "The server is overloaded."}}, indent=2).encode()
    with pytest.raises(llm.APIError, match="The server is overloaded"):
        list(_model(body).stream("Hi"))


def test_resume_streams_the_next_reply_to_the_whole_conversation() -> None:
    replies = iter([_sse(*_text_events("First"), "[DONE]"), _sse(*_text_events("Second"), "[DONE]")])
    sent: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=next(replies))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = llm.client("openai-completions", base_url="http://test/v1", api_key="k", http_client=http)
    stream = llm.model("openai-completions:gpt-4o", client=client).stream("Hi")
    again = stream.resume("And then?")
    assert isinstance(again, llm.Stream)
    assert "".join(chunk.content for chunk in again) == "Second"
    assert [m.text for m in again.response.messages] == ["Hi", "First", "And then?", "Second"]
    assert sent[1]["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "First"},
        {"role": "user", "content": "And then?"},
    ]
    assert sent[1]["stream"] is True


def test_a_gzipped_json_error_body_sent_as_an_event_stream_is_read_once_decoded() -> None:
    import gzip

    body = gzip.compress(
        json.dumps({"error": {"message": "Rate limit reached.", "code": "rate_limit_exceeded"}}).encode()
    )

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream", "content-encoding": "gzip"}
        return httpx.Response(200, headers=headers, content=body)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = llm.client("openai-completions", base_url="http://test/v1", api_key="k", http_client=http)
    with pytest.raises(llm.APIError, match="Rate limit reached"):
        list(llm.model("openai-completions:gpt-4o", client=client).stream("Hi"))
