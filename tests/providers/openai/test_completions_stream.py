"""Chat Completions streams: recorded replies replayed over a real local server, and breakage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mirascope import llm

from tests.support.fixtures import load
from tests.support.replay import ReplayServer
from tests.support.streams import read_stream


def _recording(mode: str) -> dict[str, Any]:
    return load(f"test_call/openai_gpt_4o_completions/{mode}.json")


def _events(recording: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["data"] for e in recording["exchanges"][0]["response"]["sse"] if isinstance(e["data"], dict)]


@pytest.mark.parametrize("mode", ["stream", "async_stream"])
def test_a_recorded_stream_assembles_into_the_reply_it_streamed(replay_server: ReplayServer, mode: str) -> None:
    recording = _recording(mode)
    exchange = recording["exchanges"][0]
    client = llm.client("openai-completions", base_url=replay_server.url, api_key="sk-test")
    model = llm.model("openai-completions:gpt-4o", client=client)

    with replay_server.replaying([exchange["response"]]) as session:
        chunks, response = read_stream(model, client, "What is 4200 + 42?", mode)
    texts = [chunk.content for chunk in chunks]

    sent = session.requests[0].json()
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == exchange["request"]["json"]["messages"]
    assert "".join(texts) == response.content
    assert "4242" in response.content
    assert response.finish_reason == "stop"
    events = _events(recording)
    assert response.raw == events
    last_usage = events[-1]["usage"]
    assert response.usage is not None
    assert response.usage.input_tokens == last_usage["prompt_tokens"]
    assert response.usage.output_tokens == last_usage["completion_tokens"]
    assert response.provider_model == events[0]["model"]


def _sse_bytes(events: list[dict[str, Any]]) -> list[bytes]:
    return [f"data: {json.dumps(e)}\n\n".encode() for e in events]


class _Breaking(httpx.SyncByteStream):
    """Sends some events, then the connection drops."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    def close(self) -> None:
        self.closed = True


def _client_streaming(body: httpx.SyncByteStream) -> llm.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)

    return llm.client(
        "openai-completions",
        api_key="sk-test",
        base_url="http://api.test/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )


def test_a_connection_dropped_mid_stream_raises_with_what_arrived() -> None:
    events = _events(_recording("stream"))
    body = _Breaking(_sse_bytes(events[:3]))
    stream = llm.model("openai-completions:gpt-4o", client=_client_streaming(body)).stream("Hi")
    received: list[str] = []
    with pytest.raises(llm.ConnectionError) as caught:
        received.extend(chunk.content for chunk in stream)
    partial = caught.value.partial_response
    assert isinstance(partial, llm.CallResponse)
    assert partial.content == "".join(received)
    assert partial.content
    assert "partial_response" in str(caught.value)
    assert body.closed


def test_a_stream_left_early_closes_its_connection() -> None:
    events = _events(_recording("stream"))
    body = _Breaking(_sse_bytes(events))
    stream = llm.model("openai-completions:gpt-4o", client=_client_streaming(body)).stream("Hi")
    for chunk in stream:
        if chunk.content:
            break
    assert body.closed
    with pytest.raises(llm.Error, match="closed before it finished"):
        _ = stream.response


def test_an_error_event_raises_the_typed_error() -> None:
    error = {"error": {"message": "Rate limit reached", "type": "requests", "code": 429}}

    class Body(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield from _sse_bytes([error])

    stream = llm.model("openai-completions:gpt-4o", client=_client_streaming(Body())).stream("Hi")
    with pytest.raises(llm.RateLimitError, match="Rate limit reached"):
        list(stream)


def test_an_error_status_on_a_stream_raises_before_any_chunk(replay_server: ReplayServer) -> None:
    client = llm.client("openai-completions", base_url=replay_server.url, api_key="sk-bad")
    reply = {
        "status": 401,
        "headers": {"content-type": "text/event-stream"},
        "json": {
            "error": {
                "message": "Incorrect API key provided",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        },
    }
    with replay_server.replaying([reply]), pytest.raises(llm.AuthenticationError, match="Incorrect API key"):
        llm.model("openai-completions:gpt-4o", client=client).stream("Hi")
