"""Responses API streams: recorded replies replayed over a real local server, resumes, and breakage."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from mirascope import llm
from mirascope.llm.providers import Request
from mirascope.llm.providers.sse import SSEDecoder
from mirascope.providers.openai import responses as responses_provider
from mirascope.providers.openai.responses.decode import decode

from tests.support.fixtures import load
from tests.support.meaning import meaning
from tests.support.replay import ReplayServer, encode_response
from tests.support.scenarios import secret_retrieval_tool as scenario_tool
from tests.support.streams import read_stream

RECORDINGS = [
    f"{scenario}/{mode}.json"
    for scenario in (
        "test_call/openai_gpt_4o_responses",
        "test_call_with_thinking/openai_gpt_5_responses",
        "test_call_with_thinking_no_include_thoughts/openai_gpt_5_responses",
        "test_call_with_tools/openai_gpt_4o_responses",
        "test_max_tokens/openai_gpt_4o_responses",
    )
    for mode in ("stream", "async_stream")
]
EXCHANGES = [(path, index) for path in RECORDINGS for index in range(len(load(path)["exchanges"]))]


# The recording asked for a strict schema, as the Responses API treats tools by default.
secret_retrieval_tool = llm.tool(strict=True)(scenario_tool.fn)


def _events(exchange: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["data"] for e in exchange["response"]["sse"] if isinstance(e.get("data"), dict)]


def _final_body(exchange: dict[str, Any]) -> dict[str, Any]:
    last = _events(exchange)[-1]
    assert last["type"] in ("response.completed", "response.incomplete")
    return last["response"]


def _client(replay_server: ReplayServer) -> llm.Client:
    return llm.client("openai", base_url=replay_server.url + "/v1", api_key="sk-test")


def _system_as_developer(node: Any) -> Any:
    # The recordings' library sent system text as a `developer` item; OpenAI takes both the same.
    if isinstance(node, list):
        return [_system_as_developer(item) for item in node]
    if isinstance(node, dict) and node.get("role") == "developer":
        return {**node, "role": "system"}
    return node


def _tool_calls(chunks: Sequence[llm.Chunk]) -> dict[int, list[llm.ToolCallDelta]]:
    calls: dict[int, list[llm.ToolCallDelta]] = {}
    for chunk in chunks:
        if chunk.tool_call_delta is not None:
            calls.setdefault(chunk.tool_call_delta.index, []).append(chunk.tool_call_delta)
    return calls


@pytest.mark.parametrize("mode", ["stream", "async_stream"])
def test_a_recorded_stream_assembles_into_the_reply_it_streamed(replay_server: ReplayServer, mode: str) -> None:
    recording = load(f"test_call/openai_gpt_4o_responses/{mode}.json")
    exchange = recording["exchanges"][0]
    client = _client(replay_server)
    model = llm.model("openai:gpt-4o", client=client)

    with replay_server.replaying([exchange["response"]]) as session:
        chunks, response = read_stream(model, client, "What is 4200 + 42?", mode)

    sent = session.requests[0]
    assert sent.path == "/v1/responses"
    assert meaning(sent.json()) == meaning(exchange["request"]["json"])
    assert "".join(chunk.content for chunk in chunks) == response.content
    assert "4242" in response.content
    assert response.finish_reason == "stop"
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage == response.usage
    events = _events(exchange)
    final = _final_body(exchange)
    assert response.raw == events
    assert response.id == final["id"]
    assert response.provider_model == final["model"]
    assert response.usage is not None
    assert response.usage.input_tokens == final["usage"]["input_tokens"]
    assert response.usage.output_tokens == final["usage"]["output_tokens"]
    assert response.message.raw == final["output"]


def _decode_stream(exchange: dict[str, Any]) -> tuple[Any, list[llm.Chunk], Request]:
    request = Request(
        model_id=f"openai:{exchange['request']['json']['model']}",
        model=exchange["request"]["json"]["model"],
        messages=(),
        params={},
        stream=True,
    )
    decoder = responses_provider.stream_decoder(request)
    _, _, payload = encode_response(exchange["response"])
    sse = SSEDecoder()
    chunks: list[llm.Chunk] = []
    # Small reads, so events arrive split across them as they do off the network.
    for start in range(0, len(payload), 97):
        for event in sse.feed(payload[start : start + 97]):
            chunks.extend(decoder.event(event))
    for event in sse.flush():
        chunks.extend(decoder.event(event))
    return decoder, chunks, request


@pytest.mark.parametrize(("path", "index"), EXCHANGES)
def test_every_recorded_stream_finishes_equal_to_decoding_its_final_response(path: str, index: int) -> None:
    exchange = load(path)["exchanges"][index]
    decoder, chunks, request = _decode_stream(exchange)

    expected = decode(request, _final_body(exchange))
    assert decoder.finish() == expected
    assert "".join(chunk.content for chunk in chunks) == expected.message.text
    thoughts = [part.text for part in expected.message.content if isinstance(part, llm.Thought) and part.text]
    assert "".join(chunk.thinking for chunk in chunks) == "\n".join(thoughts)
    calls = [part for part in expected.message.content if isinstance(part, llm.ToolCall)]
    streamed = _tool_calls(chunks)
    assert sorted(streamed) == list(range(len(calls)))
    for position, call in enumerate(calls):
        pieces = streamed[position]
        assert (pieces[0].id, pieces[0].name) == (call.id, call.name)
        assert all(piece.id is None and piece.name is None for piece in pieces[1:])
        assert json.loads("".join(piece.args for piece in pieces)) == call.args
    assert chunks[-1].finish_reason == expected.finish_reason
    assert chunks[-1].usage == expected.usage
    assert all(chunk.finish_reason is None and chunk.usage is None for chunk in chunks[:-1])


def _resume_prompt(recording: dict[str, Any]) -> str:
    return recording["exchanges"][1]["request"]["json"]["input"][-1]["content"]


def test_thinking_streams_as_thinking_chunks_and_the_resume_sends_the_reasoning_back(
    replay_server: ReplayServer,
) -> None:
    recording = load("test_call_with_thinking/openai_gpt_5_responses/stream.json")
    first, second = recording["exchanges"]
    client = _client(replay_server)
    prompt = recording["scenario"]["messages"][0]["content"]

    with replay_server.replaying([first["response"], second["response"]]) as session:
        stream = llm.model("openai:gpt-5", client=client, thinking="medium").stream(prompt)
        chunks = list(stream)
        response = stream.response
        # `minimal` is an OpenAI-only effort, so it goes through provider_params.
        resumed_model = llm.model("openai:gpt-5", client=client, provider_params={"reasoning": {"effort": "minimal"}})
        resumed = resumed_model.stream([*response.messages, llm.messages.user(_resume_prompt(recording))])
        resumed_text = "".join(chunk.content for chunk in resumed)

    assert meaning(session.requests[0].json()) == meaning(first["request"]["json"])
    thinking = "".join(chunk.thinking for chunk in chunks)
    assert thinking == response.thinking
    assert thinking.startswith("**Exploring prime numbers**")
    assert "\n**Testing prime candidates**" in thinking
    assert response.content == "3"
    assert response.usage is not None
    assert response.usage.reasoning_tokens == _final_body(first)["usage"]["output_tokens_details"]["reasoning_tokens"]
    assert meaning(session.requests[1].json()) == meaning(second["request"]["json"])
    assert resumed_text == resumed.response.content == "I don't remember."


def test_reasoning_without_include_streams_no_thinking(replay_server: ReplayServer) -> None:
    recording = load("test_call_with_thinking_no_include_thoughts/openai_gpt_5_responses/stream.json")
    exchange = recording["exchanges"][0]
    model = llm.model(
        "openai:gpt-5", client=_client(replay_server), thinking=llm.Thinking(level="medium", include=False)
    )
    with replay_server.replaying([exchange["response"]]) as session:
        stream = model.stream(recording["scenario"]["messages"][0]["content"])
        chunks = list(stream)
    assert meaning(session.requests[0].json()) == meaning(exchange["request"]["json"])
    assert all(not chunk.thinking for chunk in chunks)
    assert stream.response.thinking is None
    assert stream.response.content == "3"
    # The reasoning item still goes back on resume, though it carries no text.
    assert stream.response.message.raw == _final_body(exchange)["output"]


@pytest.mark.parametrize("mode", ["stream", "async_stream"])
def test_tool_calls_stream_by_index_and_the_resume_sends_calls_and_outputs(
    replay_server: ReplayServer, mode: str
) -> None:
    recording = load(f"test_call_with_tools/openai_gpt_4o_responses/{mode}.json")
    first, second = recording["exchanges"]
    client = _client(replay_server)
    model = llm.model("openai:gpt-4o", client=client, tools=[secret_retrieval_tool])
    messages = [
        llm.messages.system("Use parallel tool calling."),
        llm.messages.user("Please retrieve the secrets associated with each of these passwords: mellon,radiance"),
    ]

    async def run_async() -> tuple[list[llm.Chunk], llm.AsyncCallResponse, list[llm.Chunk], llm.AsyncCallResponse]:
        async with client:
            stream = await model.stream_async(messages)
            chunks = [chunk async for chunk in stream]
            response = await stream.aresponse()
            outputs = [
                llm.ToolOutput(id=call.id, name=call.name, result=secret_retrieval_tool(str(call.args["password"])))
                for call in response.tool_calls
            ]
            resumed = await model.stream_async([*response.messages, llm.messages.user(outputs)])
            resumed_chunks = [chunk async for chunk in resumed]
            return chunks, response, resumed_chunks, await resumed.aresponse()

    with replay_server.replaying([first["response"], second["response"]]) as session:
        if mode == "stream":
            stream = model.stream(messages)
            chunks = list(stream)
            response = stream.response
            outputs = [
                llm.ToolOutput(id=call.id, name=call.name, result=secret_retrieval_tool(str(call.args["password"])))
                for call in response.tool_calls
            ]
            resumed = model.stream([*response.messages, llm.messages.user(outputs)])
            resumed_chunks = list(resumed)
            resumed_response = resumed.response
        else:
            chunks, response, resumed_chunks, resumed_response = asyncio.run(run_async())

    sent = [request.json() for request in session.requests]
    recorded = [exchange["request"]["json"] for exchange in (first, second)]
    for body, want in zip(sent, recorded, strict=True):
        assert body["stream"] is True
        assert meaning(body["input"]) == meaning(_system_as_developer(want["input"]))
        # The recorded schema had pydantic's titles; ours has none. The rest must match.
        assert [{**tool, "parameters": None} for tool in body["tools"]] == [
            {**tool, "parameters": None} for tool in want["tools"]
        ]
        assert body["tools"][0]["parameters"]["required"] == ["password"]
        assert body["tools"][0]["parameters"]["additionalProperties"] is False

    streamed = _tool_calls(chunks)
    assert sorted(streamed) == [0, 1]
    assert [pieces[0].name for pieces in streamed.values()] == ["secret_retrieval_tool"] * 2
    assert ["".join(piece.args for piece in pieces) for pieces in streamed.values()] == [
        '{"password":"mellon"}',
        '{"password":"radiance"}',
    ]
    assert [(call.id, call.args) for call in response.tool_calls] == [
        (streamed[0][0].id, {"password": "mellon"}),
        (streamed[1][0].id, {"password": "radiance"}),
    ]
    assert response.finish_reason == "tool_call"
    assert "Welcome to Moria!" in resumed_response.content
    assert "".join(chunk.content for chunk in resumed_chunks) == resumed_response.content
    assert resumed_response.finish_reason == "stop"


def test_a_stream_cut_by_max_tokens_finishes_with_max_tokens(replay_server: ReplayServer) -> None:
    exchange = load("test_max_tokens/openai_gpt_4o_responses/stream.json")["exchanges"][0]
    model = llm.model("openai:gpt-4o", client=_client(replay_server), max_tokens=50)
    with replay_server.replaying([exchange["response"]]) as session:
        stream = model.stream("List all U.S. states.")
        chunks = list(stream)
    assert meaning(session.requests[0].json()) == meaning(exchange["request"]["json"])
    assert chunks[-1].finish_reason == "max_tokens"
    assert stream.response.finish_reason == "max_tokens"
    assert "".join(chunk.content for chunk in chunks) == stream.response.content
    assert stream.response.content.endswith("9. Florida")


def _sse(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"event": e["type"], "data": e} for e in events]


def _started(n: int = 2) -> list[dict[str, Any]]:
    response = {"id": "resp_1", "model": "gpt-4o-2024-08-06", "status": "in_progress", "output": []}
    message = {"id": "msg_1", "type": "message", "status": "in_progress", "role": "assistant", "content": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response},
        {"type": "response.output_item.added", "output_index": 0, "item": message},
    ]
    events.extend(
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": piece}
        for piece in ["Hello", " wor", "ld"][:n]
    )
    return events


@pytest.mark.parametrize(
    ("failure", "error_type", "message"),
    [
        (
            {"type": "error", "code": "rate_limit_exceeded", "message": "Rate limit reached", "param": None},
            llm.RateLimitError,
            "Rate limit reached",
        ),
        (
            {"type": "error", "error": {"type": "server_error", "code": "server_error", "message": "Try again"}},
            llm.ServerError,
            "Try again",
        ),
        (
            {
                "type": "response.failed",
                "response": {
                    "id": "resp_1",
                    "status": "failed",
                    "error": {"code": "rate_limit_exceeded", "message": "Slow down"},
                },
            },
            llm.RateLimitError,
            "Slow down",
        ),
        (
            {
                "type": "response.failed",
                "response": {"id": "resp_1", "status": "failed", "error": {"code": "odd", "message": "It broke"}},
            },
            llm.ServerError,
            "It broke",
        ),
    ],
)
def test_a_failure_mid_stream_raises_the_typed_error_with_the_text_so_far(
    replay_server: ReplayServer, failure: dict[str, Any], error_type: type[llm.APIError], message: str
) -> None:
    reply = {"status": 200, "sse": _sse([*_started(), failure])}
    model = llm.model("openai:gpt-4o", client=_client(replay_server))
    received: list[str] = []
    with replay_server.replaying([reply]):
        stream = model.stream("Hi")
        with pytest.raises(error_type, match=message) as caught:
            received.extend(chunk.content for chunk in stream)
    assert type(caught.value) is error_type
    assert caught.value.provider == "openai"
    partial = caught.value.partial_response
    assert isinstance(partial, llm.CallResponse)
    assert partial.content == "".join(received) == "Hello wor"
    assert partial.id == "resp_1"
    assert partial.finish_reason == "other"


def test_a_stream_that_ends_before_its_final_event_still_gives_what_arrived(replay_server: ReplayServer) -> None:
    exchange = load("test_call_with_tools/openai_gpt_4o_responses/stream.json")["exchanges"][0]
    events = _events(exchange)
    # Cut inside the second call's arguments: the first call is done, the second half-written.
    cut = next(i for i, e in enumerate(events) if e.get("delta") == '"radi')
    reply = {"status": 200, "sse": _sse(events[: cut + 1])}
    model = llm.model("openai:gpt-4o", client=_client(replay_server), tools=[secret_retrieval_tool])
    with replay_server.replaying([reply]):
        stream = model.stream("Hi")
        chunks = list(stream)
    response = stream.response
    assert response.finish_reason == "other"
    assert response.usage is None
    assert response.id == events[0]["response"]["id"]
    first, second = response.tool_calls
    assert first.args == {"password": "mellon"}
    assert second.name == "secret_retrieval_tool"
    assert second.args == {"__raw__": '{"password":"radi'}
    assert "".join(d.args for d in _tool_calls(chunks)[1]) == '{"password":"radi'
    raw = response.message.raw
    assert isinstance(raw, list)
    done = next(e for e in events if e["type"] == "response.output_item.done")
    assert raw[0] == done["item"]  # the first call as its output_item.done sent it
    assert raw[1]["status"] == "incomplete"
    assert raw[1]["arguments"] == '{"password":"radi'


def test_a_reply_cut_short_keeps_partial_text_reasoning_and_refusal() -> None:
    request = Request(model_id="openai:o4-mini", model="o4-mini", messages=(), params={}, stream=True)
    decoder = responses_provider.stream_decoder(request)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {"id": "resp_9", "model": "o4-mini"}},
        {"type": "response.output_item.added", "output_index": 0, "item": {"id": "rs_1", "type": "reasoning"}},
        {"type": "response.reasoning_summary_part.added", "output_index": 0, "summary_index": 0},
        {"type": "response.reasoning_summary_text.delta", "output_index": 0, "summary_index": 0, "delta": "Hm"},
        {"type": "response.reasoning_summary_part.added", "output_index": 0, "summary_index": 1},
        {"type": "response.reasoning_summary_text.delta", "output_index": 0, "summary_index": 1, "delta": "Ok"},
        {"type": "response.output_item.added", "output_index": 1, "item": {"id": "m", "type": "message"}},
        {"type": "response.refusal.delta", "output_index": 1, "content_index": 0, "delta": "I can't"},
    ]
    chunks = [chunk for e in events for chunk in decoder.event(_event(e))]
    assert "".join(chunk.thinking for chunk in chunks) == "Hm\nOk"
    assert "".join(chunk.content for chunk in chunks) == "I can't"
    decoded = decoder.finish()
    assert decoded.message.content == (llm.Thought(text="Hm\nOk"), llm.Text("I can't"))
    assert decoded.finish_reason == "refusal"
    assert (decoded.id, decoded.provider_model) == ("resp_9", "o4-mini")


def _event(body: dict[str, Any]) -> Any:
    from mirascope.llm.providers.sse import ServerSentEvent

    return ServerSentEvent(body["type"], json.dumps(body))


def test_a_stream_with_no_events_is_an_api_error_not_an_empty_reply() -> None:
    request = Request(model_id="openai:gpt-4o", model="gpt-4o", messages=(), params={}, stream=True)
    with pytest.raises(llm.APIError, match="without a reply"):
        responses_provider.stream_decoder(request).finish()


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


def test_a_connection_dropped_mid_stream_raises_with_what_arrived() -> None:
    body = _Breaking([f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in _started(3)])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)

    client = llm.client(
        "openai",
        api_key="sk-test",
        base_url="http://api.test/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    stream = llm.model("openai:gpt-4o", client=client).stream("Hi")
    with pytest.raises(llm.ConnectionError) as caught:
        list(stream)
    partial = caught.value.partial_response
    assert isinstance(partial, llm.CallResponse)
    assert partial.content == "Hello world"
    assert body.closed


@pytest.mark.parametrize(
    ("scenario", "error_type"),
    [("test_authentication_error_stream", llm.AuthenticationError), ("test_model_not_found_stream", llm.NotFoundError)],
)
def test_an_error_status_on_a_stream_raises_before_any_chunk(
    replay_server: ReplayServer, scenario: str, error_type: type[llm.APIError]
) -> None:
    exchange = load(f"{scenario}/openai_gpt_4o_responses/stream.json")["exchanges"][0]
    sent = exchange["request"]["json"]
    model = llm.model(f"openai:{sent['model']}", client=_client(replay_server))
    with replay_server.replaying([exchange["response"]]) as session, pytest.raises(error_type) as caught:
        model.stream(sent["input"][0]["content"])
    assert meaning(session.requests[0].json()) == meaning(sent)
    assert caught.value.message == exchange["response"]["json"]["error"]["message"]


def test_strict_json_mode_on_openai_is_refused_before_sending(replay_server: ReplayServer) -> None:
    answer = llm.response_model(int, mode="json", strict=True)
    model = llm.model("openai:gpt-4o", client=_client(replay_server), response_model=answer)
    with replay_server.replaying([]) as session, pytest.raises(llm.FeatureNotSupportedError) as caught:
        model.stream("Pick a number")
    assert caught.value.feature == "response_model"
    assert "mode='native'" in str(caught.value)
    assert session.requests == []
