"""Messages API streams: recorded replies replayed over a real local server, breakage, and the
promise that a streamed reply assembles into exactly what the same reply decodes to unstreamed."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from mirascope import llm
from mirascope.llm.providers import Request
from mirascope.llm.providers.sse import ServerSentEvent
from mirascope.providers.anthropic import anthropic, decode

from tests.providers.anthropic.support import MODEL
from tests.support.fixtures import load
from tests.support.meaning import meaning
from tests.support.replay import ReplayServer
from tests.support.scenarios import secret_retrieval_tool
from tests.support.streams import read_stream


def _recording(scenario: str, mode: str = "stream") -> dict[str, Any]:
    return load(f"{scenario}/anthropic_claude_sonnet_4_0/{mode}.json")


def _events(exchange: dict[str, Any]) -> list[dict[str, Any]]:
    return [event["data"] for event in exchange["response"]["sse"]]


def _client(server: ReplayServer) -> llm.Client:
    return llm.client("anthropic", base_url=server.url, api_key="test-key")


def _body_from(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The Messages API body the events describe, put together here, apart from the decoder."""
    message: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    arguments: dict[int, str] = {}
    for event in events:
        kind = event["type"]
        if kind == "message_start":
            message = copy.deepcopy(event["message"])
        elif kind == "content_block_start":
            blocks[event["index"]] = copy.deepcopy(event["content_block"])
        elif kind == "content_block_delta":
            index, delta = event["index"], event["delta"]
            block = blocks[index]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] += delta["signature"]
            elif delta["type"] == "input_json_delta":
                arguments[index] = arguments.get(index, "") + delta["partial_json"]
            elif delta["type"] == "citations_delta":
                block.setdefault("citations", []).append(delta["citation"])
        elif kind == "message_delta":
            message.update(event["delta"])
            message["usage"].update(event["usage"])
    for index, text in arguments.items():
        if text:
            blocks[index]["input"] = json.loads(text)
    message["content"] = [blocks[index] for index in sorted(blocks)]
    return message


def _request(**params: Any) -> Request:
    return Request(
        model_id=MODEL,
        model=MODEL.partition(":")[2],
        messages=(llm.messages.user("Hi"),),
        params=llm.CallParams(**params),
        stream=True,
    )


def _decoded_stream(request: Request, events: list[dict[str, Any]]) -> tuple[list[llm.Chunk], Any]:
    decoder = anthropic.stream_decoder(request)
    chunks = [chunk for event in events for chunk in decoder.event(ServerSentEvent(event["type"], json.dumps(event)))]
    return chunks, decoder.finish()


@pytest.mark.parametrize("mode", ["stream", "async_stream"])
def test_a_recorded_stream_assembles_into_the_reply_it_streamed(replay_server: ReplayServer, mode: str) -> None:
    [exchange] = _recording("test_call", mode)["exchanges"]
    client = _client(replay_server)
    model = llm.model(MODEL, client=client)

    with replay_server.replaying([exchange["response"]]) as session:
        chunks, response = read_stream(model, client, "What is 4200 + 42?", mode)

    [sent] = session.requests
    assert sent.path == "/v1/messages"
    assert sent.json()["stream"] is True
    assert meaning(sent.json()) == meaning(exchange["request"]["json"])
    assert "".join(chunk.content for chunk in chunks) == response.content == "4200 + 42 = 4242"
    assert response.raw == _events(exchange)
    final = _events(exchange)[-2]
    assert final["type"] == "message_delta"
    assert chunks[-1].finish_reason == response.finish_reason == "stop"
    assert (
        chunks[-1].usage == response.usage == llm.Usage(input_tokens=17, output_tokens=final["usage"]["output_tokens"])
    )
    assert response.id == _events(exchange)[0]["message"]["id"]
    assert response.provider_model == "claude-sonnet-4-20250514"
    assert response.message.raw == [{"type": "text", "text": "4200 + 42 = 4242"}]


def test_streamed_thinking_arrives_as_thinking_chunks_and_resume_sends_the_signed_thought_back(
    replay_server: ReplayServer,
) -> None:
    first, second = _recording("test_call_with_thinking")["exchanges"]
    prompt = first["request"]["json"]["messages"][0]["content"]
    follow_up = second["request"]["json"]["messages"][-1]["content"][0]["text"]
    signature = next(
        e["delta"]["signature"] for e in _events(first) if e.get("delta", {}).get("type") == "signature_delta"
    )
    client = _client(replay_server)

    with client, replay_server.replaying([first["response"], second["response"]]) as session:
        stream = llm.model(MODEL, client=client, thinking="medium").stream(prompt)
        chunks = list(stream)
        response = stream.response
        # The recorded follow-up asked for less thinking and marked a cache breakpoint.
        again = llm.model(MODEL, client=client, thinking=llm.Thinking(budget_tokens=1024))
        final = again.stream([*response.messages, llm.messages.user([follow_up, llm.CacheControl()])]).response

    thought = response.message.content[0]
    assert isinstance(thought, llm.Thought)
    assert thought.signature == signature
    assert thought.text == "".join(chunk.thinking for chunk in chunks) == response.thinking
    assert response.content == "".join(chunk.content for chunk in chunks)
    assert response.content == second["request"]["json"]["messages"][1]["content"][1]["text"]
    assert meaning(session.requests[0].json()) == meaning(first["request"]["json"])
    assert meaning(session.requests[1].json()) == meaning(second["request"]["json"])
    assert session.requests[1].json()["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": thought.text,
        "signature": signature,
    }
    assert "79, 179, and 379" in final.content


def test_a_stream_without_thoughts_sends_no_thinking_chunks_but_keeps_the_thought_for_resume(
    replay_server: ReplayServer,
) -> None:
    [exchange] = _recording("test_call_with_thinking_no_include_thoughts")["exchanges"]
    prompt = exchange["request"]["json"]["messages"][0]["content"]
    client = _client(replay_server)

    with client, replay_server.replaying([exchange["response"]]) as session:
        stream = llm.model(MODEL, client=client, thinking=llm.Thinking(level="medium", include=False)).stream(prompt)
        chunks = list(stream)
        response = stream.response

    assert meaning(session.requests[0].json()) == meaning(exchange["request"]["json"])
    assert not any(chunk.thinking for chunk in chunks)
    assert response.thinking is None
    assert response.message.content == (llm.Text(response.content),)
    assert response.content == "3"
    [thinking, text] = cast("list[dict[str, Any]]", response.message.raw)
    assert thinking["type"] == "thinking"
    assert thinking["thinking"]
    assert thinking["signature"]
    assert text == {"type": "text", "text": "3"}


def test_a_streamed_tool_call_arrives_as_deltas_and_assembles_into_the_call(replay_server: ReplayServer) -> None:
    first, second = _recording("test_call_with_tools")["exchanges"]
    recorded = first["request"]["json"]
    client = _client(replay_server)
    system = llm.messages.system([recorded["system"][0]["text"], llm.CacheControl()])
    model = llm.model(MODEL, client=client, tools=[secret_retrieval_tool])

    with client, replay_server.replaying([first["response"], second["response"]]) as session:
        stream = model.stream([system, llm.messages.user(recorded["messages"][0]["content"])])
        chunks = list(stream)
        response = stream.response
        outputs = [
            llm.ToolOutput(id=call.id, name=call.name, result=secret_retrieval_tool(str(call.args["password"])))
            for call in response.tool_calls
        ]
        # The recording marked a cache breakpoint after the last tool result.
        final = model.stream([*response.messages, llm.messages.user([*outputs, llm.CacheControl()])]).response

    deltas = [chunk.tool_call_delta for chunk in chunks if chunk.tool_call_delta is not None]
    assert [delta.index for delta in deltas if delta.id is not None] == [0, 1]
    assert [(delta.id, delta.name) for delta in deltas if delta.id is not None] == [
        (call.id, "secret_retrieval_tool") for call in response.tool_calls
    ]
    for index, password in enumerate(["mellon", "radiance"]):
        args = "".join(delta.args for delta in deltas if delta.index == index)
        assert json.loads(args) == {"password": password}
    assert response.tool_calls == [
        llm.ToolCall(id="toolu_015cUijgET79LXjgeYQerN2h", name="secret_retrieval_tool", args={"password": "mellon"}),
        llm.ToolCall(id="toolu_01XZTimPexA7h3EVKesnKt5T", name="secret_retrieval_tool", args={"password": "radiance"}),
    ]
    assert response.content == "".join(chunk.content for chunk in chunks)
    assert response.finish_reason == chunks[-1].finish_reason == "tool_call"
    sent = [request.json() for request in session.requests]
    for body, exchange in zip(sent, (first, second), strict=True):
        wanted = exchange["request"]["json"]
        for key in ("model", "max_tokens", "system", "messages", "stream"):
            assert meaning(body[key]) == meaning(wanted[key]), key
        # The recording's schema came from another library (titles, a cache mark); ours is the tool's own.
        assert body["tools"] == [
            {
                "name": "secret_retrieval_tool",
                "description": "A tool that requires a password to retrieve a secret.",
                "input_schema": secret_retrieval_tool.parameters,
            }
        ]
    assert "Moria" in final.content
    assert "Life before Death" in final.content


def test_a_stream_cut_off_by_max_tokens_finishes_with_max_tokens(replay_server: ReplayServer) -> None:
    [exchange] = _recording("test_max_tokens")["exchanges"]
    client = _client(replay_server)

    with client, replay_server.replaying([exchange["response"]]) as session:
        stream = llm.model(MODEL, client=client, max_tokens=50).stream("List all U.S. states.")
        chunks = list(stream)
        response = stream.response

    assert meaning(session.requests[0].json()) == meaning(exchange["request"]["json"])
    assert [chunk.finish_reason for chunk in chunks if chunk.finish_reason] == ["max_tokens"]
    assert response.finish_reason == "max_tokens"
    assert response.usage is not None
    assert response.usage.output_tokens == 50
    assert response.content.endswith("8. Delaware\n9")


def _text_events(*texts: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_start",
            "message": {
                "id": "msg_test",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-20250514",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 9, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}} for t in texts),
    ]


@pytest.mark.parametrize(
    ("error_type", "raised"),
    [("overloaded_error", llm.ServerError), ("rate_limit_error", llm.RateLimitError)],
)
def test_an_error_event_mid_stream_raises_the_typed_error_with_the_text_so_far(
    replay_server: ReplayServer, error_type: str, raised: type[llm.APIError]
) -> None:
    error = {"type": "error", "error": {"type": error_type, "message": "Overloaded"}}
    events = [*_text_events("Hello, ", "wor"), {"type": "ping"}, error]
    reply = {"status": 200, "sse": [{"event": event["type"], "data": event} for event in events]}
    client = _client(replay_server)
    received: list[str] = []

    with client, replay_server.replaying([reply]):
        stream = llm.model(MODEL, client=client).stream("Hi")
        with pytest.raises(raised, match="Overloaded") as caught:
            received.extend(chunk.content for chunk in stream)

    assert type(caught.value) is raised
    assert caught.value.provider == "anthropic"
    assert received == ["Hello, ", "wor"]
    partial = caught.value.partial_response
    assert isinstance(partial, llm.CallResponse)
    assert partial.content == "Hello, wor"
    assert partial.raw == events


class _Breaking(httpx.SyncByteStream):
    """Sends some events, then the connection drops."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events

    def __iter__(self) -> Iterator[bytes]:
        for event in self.events:
            yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def test_a_connection_dropped_mid_tool_call_raises_with_the_reply_so_far() -> None:
    events = _events(_recording("test_call_with_tools")["exchanges"][0])
    cut = next(i for i, e in enumerate(events) if e.get("delta", {}).get("partial_json") == 'rd": "mellon') + 1

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=_Breaking(events[:cut]))

    client = llm.client(
        "anthropic",
        api_key="test-key",
        base_url="http://api.test",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    stream = llm.model(MODEL, client=client, tools=[secret_retrieval_tool]).stream("Secrets?")
    with pytest.raises(llm.ConnectionError) as caught:
        list(stream)

    partial = caught.value.partial_response
    assert isinstance(partial, llm.CallResponse)
    assert partial.content == "I'll retrieve the secrets for both passwords you provided."
    # The arguments stopped mid-string: their text is kept rather than lost or raised over.
    assert partial.tool_calls == [
        llm.ToolCall(
            id="toolu_015cUijgET79LXjgeYQerN2h", name="secret_retrieval_tool", args={"__raw__": '{"password": "mellon'}
        )
    ]
    assert partial.finish_reason == "other"


FINISHED = [
    ("test_call", "stream", 0, {}),
    ("test_call", "async_stream", 0, {}),
    ("test_max_tokens", "stream", 0, {"max_tokens": 50}),
    ("test_call_with_thinking", "stream", 0, {"thinking": "medium"}),
    ("test_call_with_thinking", "stream", 1, {"thinking": llm.Thinking(budget_tokens=1024)}),
    ("test_call_with_thinking_no_include_thoughts", "stream", 0, {"thinking": llm.Thinking(include=False)}),
    ("test_call_with_tools", "stream", 0, {}),
    ("test_call_with_tools", "stream", 1, {}),
    ("test_web_search_tool_stream", "stream", 0, {}),
    ("test_web_search_tool_stream", "stream", 1, {}),
]


@pytest.mark.parametrize(("scenario", "mode", "exchange", "params"), FINISHED)
def test_a_finished_stream_decodes_exactly_as_the_whole_reply_would(
    scenario: str, mode: str, exchange: int, params: dict[str, Any]
) -> None:
    events = _events(_recording(scenario, mode)["exchanges"][exchange])
    request = _request(**params)

    _, finished = _decoded_stream(request, events)

    assert finished == decode.decode(request, _body_from(events))


def test_only_tool_use_blocks_count_as_tool_calls_and_server_tool_input_is_not_streamed_as_one() -> None:
    events = _events(_recording("test_web_search_tool_stream")["exchanges"][0])

    chunks, finished = _decoded_stream(_request(), events)

    assert not any(chunk.tool_call_delta for chunk in chunks)
    assert finished.message.raw[0] == {
        "type": "server_tool_use",
        "id": "srvtoolu_01VP1tXCqzHttqTbUeJPKmWU",
        "name": "web_search",
        "input": {"query": "bitcoin price January 1 2026"},
    }
    citations = [c for block in finished.message.raw if block["type"] == "text" for c in block.get("citations", ())]
    assert citations == [e["delta"]["citation"] for e in events if e.get("delta", {}).get("type") == "citations_delta"]
    assert len(citations) == 5
    assert finished.usage == decode.usage(events[-2]["usage"])


def test_events_with_nothing_for_the_caller_yield_no_chunks_but_are_kept_in_raw() -> None:
    decoder = anthropic.stream_decoder(_request())
    quiet = [
        {"type": "ping"},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": ""}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_stop"},
        {"type": "a_future_event", "index": 3},
    ]

    for event in quiet:
        assert decoder.event(ServerSentEvent(event["type"], json.dumps(event))) == ()
    assert decoder.event(ServerSentEvent("message", "")) == ()


def test_a_stream_cut_off_mid_thought_still_finishes() -> None:
    events = _events(_recording("test_call_with_thinking")["exchanges"][0])
    cut = next(i for i, e in enumerate(events) if e.get("delta", {}).get("type") == "signature_delta")

    _, finished = _decoded_stream(_request(thinking="medium"), events[:cut])

    assert finished.message.content == (llm.Thought(text=_body_from(events)["content"][0]["thinking"], signature=""),)
    assert finished.finish_reason == "other"
    assert finished.usage == llm.Usage(input_tokens=67, output_tokens=events[0]["message"]["usage"]["output_tokens"])
