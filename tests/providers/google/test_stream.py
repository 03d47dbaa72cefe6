"""Gemini streams (`streamGenerateContent?alt=sse`): recorded replies replayed over a real local
server with Google's CRLF framing, tool declarations, resumes, errors and cut-off streams."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mirascope import llm
from mirascope.llm.providers import Request, StreamDecoder
from mirascope.llm.providers.sse import SSEDecoder
from mirascope.providers.google import google
from mirascope.providers.google.decode import decode

from tests.providers.google.support import MODEL
from tests.support.fixtures import load
from tests.support.meaning import joined_text_parts, meaning
from tests.support.replay import ReplayServer, encode_response
from tests.support.scenarios import secret_retrieval_tool
from tests.support.streams import read_stream

THINKING_PROMPT = (
    "How many primes below 400 contain 79 as a substring? "
    "Answer ONLY with the number, not sharing which primes they are."
)


def _recording(scenario: str, mode: str = "stream") -> dict[str, Any]:
    return load(f"{scenario}/google_gemini_2_5_flash/{mode}.json")


def _events(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [event["data"] for event in response["sse"]]


def _joined_text_parts(contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`contents` with each turn's runs of text parts joined (see `meaning.joined_text_parts`).

    The recording library sent back one thought part per streamed event; Mirascope sends the
    joined part `generateContent` would have returned. Gemini reads both the same way.
    """
    return [{**content, "parts": joined_text_parts(content.get("parts", []))} for content in contents]


def _standard_signatures(node: Any) -> Any:
    """Signatures in standard base64: the recording library re-encoded them URL-safe."""
    if isinstance(node, dict):
        return {
            key: value.translate(str.maketrans("-_", "+/"))
            if key == "thoughtSignature"
            else _standard_signatures(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_standard_signatures(item) for item in node]
    return node


def _independent_body(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The `generateContent` body of the reply `events` carry, built without the library.

    Text of one kind (answer, thought) runs together as in a non-streamed reply, and a
    signature stays on the text it came with; every other part is kept as sent. The last event
    says how it ended and what it cost.
    """
    parts: list[dict[str, Any]] = []
    for event in events:
        for part in event["candidates"][0]["content"].get("parts", []):
            last = parts[-1] if parts else None
            if (
                last is not None
                and "text" in part
                and "text" in last
                and part.get("thought", False) == last.get("thought", False)
                and not ("thoughtSignature" in part and "thoughtSignature" in last)
            ):
                parts[-1] = {**last, **part, "text": last["text"] + part["text"]}
            else:
                parts.append(part)
    last_event = events[-1]
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": last_event["candidates"][0]["finishReason"],
            }
        ],
        "usageMetadata": last_event["usageMetadata"],
        "responseId": last_event["responseId"],
        "modelVersion": last_event["modelVersion"],
    }


def _request() -> Request:
    return Request(
        model_id=MODEL, model="gemini-2.5-flash", messages=(llm.messages.user("Hi"),), params={}, stream=True
    )


def _decode_stream(request: Request, response: dict[str, Any], size: int = 7) -> tuple[list[llm.Chunk], StreamDecoder]:
    """Feed a recorded stream's bytes to the decoder in small pieces, as a network might."""
    _, _, payload = encode_response(response)
    decoder = google.stream_decoder(request)
    sse = SSEDecoder()
    chunks: list[llm.Chunk] = []
    for start in range(0, len(payload), size):
        for event in sse.feed(payload[start : start + size]):
            chunks.extend(decoder.event(event))
    for event in sse.flush():
        chunks.extend(decoder.event(event))
    return chunks, decoder


@pytest.mark.parametrize("mode", ["stream", "async_stream"])
def test_a_recorded_stream_posts_to_stream_generate_content_with_alt_sse_and_assembles_its_text(
    replay_server: ReplayServer, mode: str
) -> None:
    recording = _recording("test_call", mode)
    exchange = recording["exchanges"][0]
    assert exchange["response"]["sse_line_ending"] == "\r\n"
    client = llm.client("google", base_url=replay_server.url, api_key="test-key")
    model = llm.model(MODEL, client=client)

    with replay_server.replaying([exchange["response"]]) as session:
        chunks, response = read_stream(model, client, "What is 4200 + 42?", mode)

    (sent,) = session.requests
    assert sent.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert sent.query == "alt=sse"
    assert sent.headers["x-goog-api-key"] == "test-key"
    assert meaning(sent.json()) == meaning(exchange["request"]["json"])

    events = _events(exchange["response"])
    assert response.raw == events
    assert "".join(chunk.content for chunk in chunks) == response.content
    assert "4242" in response.content
    assert [chunk.finish_reason for chunk in chunks if chunk.finish_reason] == ["stop"]
    assert response.finish_reason == "stop"
    last = events[-1]
    assert chunks[-1].usage == response.usage
    assert response.usage is not None
    assert response.usage.input_tokens == last["usageMetadata"]["promptTokenCount"]
    assert response.usage.output_tokens == (
        last["usageMetadata"]["candidatesTokenCount"] + last["usageMetadata"]["thoughtsTokenCount"]
    )
    assert response.id == last["responseId"]
    assert response.provider_model == "gemini-2.5-flash"
    assert response.message.content == (llm.Text(response.content),)
    assert isinstance(response, llm.AsyncCallResponse if mode == "async_stream" else llm.CallResponse)


def test_thoughts_stream_as_thinking_chunks_and_go_back_joined_on_the_next_turn(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    first, second = _recording("test_call_with_thinking")["exchanges"]
    model = llm.model(MODEL, client=client, thinking=llm.Thinking(level="medium", include=True))
    follow_up = "If you remember what the primes were, then share them, or say 'I don't remember.'"

    with replay_server.replaying([first["response"], second["response"]]) as session:
        stream = model.stream(THINKING_PROMPT)
        chunks = list(stream)
        response = stream.response
        again = model.stream([*response.messages, llm.messages.user(follow_up)])
        final = again.response

    thoughts = [
        part["text"]
        for event in _events(first["response"])
        for part in event["candidates"][0]["content"]["parts"]
        if part.get("thought")
    ]
    assert [chunk.thinking for chunk in chunks if chunk.thinking] == thoughts
    assert [chunk.content for chunk in chunks if chunk.content] == ["3"]
    assert response.message.content == (llm.Thought(text="".join(thoughts)), llm.Text("3"))
    assert response.thinking == "".join(thoughts)
    assert response.usage is not None
    assert response.usage.reasoning_tokens == 1947
    assert session.requests[0].json()["generationConfig"]["thinkingConfig"]["includeThoughts"] is True
    # The second turn carries the first reply's thoughts back, as the recorded request did.
    sent = session.requests[1].json()["contents"]
    recorded = second["request"]["json"]["contents"]
    assert meaning(_joined_text_parts(sent)) == meaning(_joined_text_parts(recorded))
    assert sent[1] == response.message.raw
    assert final.content == "I don't remember."


def test_thinking_without_included_thoughts_streams_no_thinking(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    exchange = _recording("test_call_with_thinking_no_include_thoughts")["exchanges"][0]
    model = llm.model(MODEL, client=client, thinking=llm.Thinking(level="medium", include=False))

    with replay_server.replaying([exchange["response"]]) as session:
        stream = model.stream(THINKING_PROMPT)
        chunks = list(stream)
        response = stream.response

    sent = session.requests[0].json()
    assert sent["generationConfig"]["thinkingConfig"]["includeThoughts"] is False
    assert sent["contents"] == exchange["request"]["json"]["contents"]
    assert all(not chunk.thinking for chunk in chunks)
    assert response.thinking is None
    assert response.content == "3"
    assert response.usage is not None
    assert response.usage.reasoning_tokens == 2814


def test_function_calls_stream_as_whole_tool_call_deltas_and_their_outputs_go_back(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    first, second = _recording("test_call_with_tools")["exchanges"]
    model = llm.model(MODEL, client=client, tools=[secret_retrieval_tool])
    messages = [
        llm.messages.system("Use parallel tool calling."),
        llm.messages.user("Please retrieve the secrets associated with each of these passwords: mellon,radiance"),
    ]

    with replay_server.replaying([first["response"], second["response"]]) as session:
        stream = model.stream(messages)
        chunks = list(stream)
        response = stream.response
        outputs = [
            llm.ToolOutput(id=call.id, name=call.name, result=secret_retrieval_tool(str(call.args["password"])))
            for call in response.tool_calls
        ]
        again = model.stream([*response.messages, llm.messages.user(outputs)])
        final_chunks = list(again)
        final = again.response

    deltas = [chunk.tool_call_delta for chunk in chunks if chunk.tool_call_delta is not None]
    assert deltas == [
        llm.ToolCallDelta(
            index=0, id="google_secret_retrieval_tool_0", name="secret_retrieval_tool", args='{"password": "mellon"}'
        ),
        llm.ToolCallDelta(
            index=1, id="google_secret_retrieval_tool_1", name="secret_retrieval_tool", args='{"password": "radiance"}'
        ),
    ]
    assert [chunk.finish_reason for chunk in chunks if chunk.finish_reason] == ["tool_call"]
    assert chunks[-1].finish_reason == "tool_call"
    assert response.finish_reason == "tool_call"
    assert [(call.id, call.args) for call in response.tool_calls] == [
        ("google_secret_retrieval_tool_0", {"password": "mellon"}),
        ("google_secret_retrieval_tool_1", {"password": "radiance"}),
    ]
    assert response.message.raw == first["response"]["sse"][0]["data"]["candidates"][0]["content"]

    # The declaration means what the recorded one did: the recording library's SDK translated
    # the same schema into `parameters`' OpenAPI form (upper-case types, no
    # additionalProperties); Mirascope sends it unchanged as `parametersJsonSchema`.
    sent = session.requests[0].json()
    (declaration,) = sent["tools"][0]["functionDeclarations"]
    (recorded_declaration,) = first["request"]["json"]["tools"][0]["functionDeclarations"]
    assert declaration["name"] == recorded_declaration["name"]
    assert declaration["description"] == recorded_declaration["description"]
    schema = declaration["parametersJsonSchema"]
    assert schema == secret_retrieval_tool.parameters
    assert schema["additionalProperties"] is False
    recorded_schema = recorded_declaration["parameters"]
    assert schema["type"].upper() == recorded_schema["type"]
    assert schema["required"] == recorded_schema["required"]
    assert {name: prop["type"].upper() for name, prop in schema["properties"].items()} == {
        name: prop["type"] for name, prop in recorded_schema["properties"].items()
    }
    assert sent["contents"] == first["request"]["json"]["contents"]
    assert sent["systemInstruction"]["parts"] == first["request"]["json"]["systemInstruction"]["parts"]

    # The second turn: Gemini's own turn, thought signature and all, then the outputs.
    resumed = session.requests[1].json()
    assert session.requests[1].path.endswith(":streamGenerateContent")
    assert meaning(_standard_signatures(resumed["contents"])) == meaning(
        _standard_signatures(second["request"]["json"]["contents"])
    )
    assert resumed["tools"] == sent["tools"]
    assert "".join(chunk.content for chunk in final_chunks) == final.content
    assert "Moria" in final.content
    assert "Life before Death" in final.content
    assert final.finish_reason == "stop"


def test_a_stream_cut_off_at_max_tokens_finishes_with_max_tokens(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    exchange = _recording("test_max_tokens")["exchanges"][0]
    with replay_server.replaying([exchange["response"]]) as session:
        stream = llm.model(MODEL, client=client, max_tokens=50).stream("List all U.S. states.")
        chunks = list(stream)

    assert meaning(session.requests[0].json()) == meaning(exchange["request"]["json"])
    assert [chunk.finish_reason for chunk in chunks] == ["max_tokens"]
    assert stream.response.finish_reason == "max_tokens"
    assert stream.response.content == "Here are all 50 U.S."


FINISH_CASES = [
    (scenario, mode, exchange)
    for scenario, exchanges in (
        ("test_call", 1),
        ("test_call_with_thinking", 2),
        ("test_call_with_thinking_no_include_thoughts", 1),
        ("test_call_with_tools", 2),
        ("test_max_tokens", 1),
    )
    for mode in ("stream", "async_stream")
    for exchange in range(exchanges)
]


@pytest.mark.parametrize(("scenario", "mode", "exchange"), FINISH_CASES)
def test_finish_equals_the_non_streaming_decode_of_the_same_reply(scenario: str, mode: str, exchange: int) -> None:
    response = _recording(scenario, mode)["exchanges"][exchange]["response"]
    request = _request()
    chunks, decoder = _decode_stream(request, response)
    events = _events(response)

    finished = decoder.finish()
    assert finished == decode(request, _independent_body(events))
    assert "".join(chunk.content for chunk in chunks) == finished.message.text
    assert [chunk.finish_reason for chunk in chunks if chunk.finish_reason] == [finished.finish_reason]
    assert [chunk.usage for chunk in chunks if chunk.usage] == [finished.usage]


def _sse(*bodies: dict[str, Any]) -> dict[str, Any]:
    """A 200 event stream of `bodies`, framed with CRLF as Google frames it."""
    return {
        "status": 200,
        "headers": {"content-type": "text/event-stream"},
        "sse": [{"data": body} for body in bodies],
        "sse_line_ending": "\r\n",
    }


def _text_event(text: str, **candidate: Any) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "index": 0, **candidate}],
        "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "totalTokenCount": 6},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-1",
    }


def test_an_error_event_raises_the_typed_error_with_the_text_so_far(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    error = {"error": {"code": 429, "message": "Resource has been exhausted.", "status": "RESOURCE_EXHAUSTED"}}
    reply = _sse(_text_event("The first "), _text_event("half"), error)
    received: list[str] = []

    with replay_server.replaying([reply]), pytest.raises(llm.RateLimitError) as caught:
        received.extend(chunk.content for chunk in llm.model(MODEL, client=client).stream("Hi"))

    assert caught.value.message == "Resource has been exhausted."
    assert caught.value.status_code == 429
    assert caught.value.provider == "google"
    partial = caught.value.partial_response
    assert isinstance(partial, llm.CallResponse)
    assert partial.content == "The first half" == "".join(received)
    assert partial.raw == [event["data"] for event in reply["sse"]]  # the error event too
    assert partial.finish_reason == "other"


def test_an_internal_error_event_is_a_server_error(replay_server: ReplayServer, client: llm.Client) -> None:
    error = {"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}
    with replay_server.replaying([_sse(error)]), pytest.raises(llm.ServerError, match="internal error"):
        list(llm.model(MODEL, client=client).stream("Hi"))


class _Breaking(httpx.SyncByteStream):
    """Sends some bytes, then the connection drops."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __iter__(self) -> Iterator[bytes]:
        yield self.payload
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def test_a_connection_dropped_mid_stream_keeps_what_arrived() -> None:
    _, _, payload = encode_response(_sse(_text_event("Hello, "), _text_event("wor")))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=_Breaking(payload))

    client = llm.client(
        "google",
        api_key="k",
        base_url="http://gemini.test",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    with pytest.raises(llm.ConnectionError) as caught:
        list(llm.model(MODEL, client=client).stream("Hi"))

    partial = caught.value.partial_response
    assert isinstance(partial, llm.CallResponse)
    assert partial.content == "Hello, wor"
    assert partial.finish_reason == "other"
    assert partial.message.raw == {"role": "model", "parts": [{"text": "Hello, wor"}]}


def test_finish_before_any_event_is_an_api_error_not_an_empty_reply() -> None:
    with pytest.raises(llm.APIError, match="without a reply"):
        google.stream_decoder(_request()).finish()


def test_a_prompt_blocked_in_a_stream_is_an_empty_content_filter_stop(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    blocked = {
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-2",
    }
    with replay_server.replaying([_sse(blocked)]):
        stream = llm.model(MODEL, client=client).stream("Hi")
        chunks = list(stream)

    assert [(chunk.finish_reason, chunk.usage) for chunk in chunks] == [("content_filter", llm.Usage(input_tokens=7))]
    assert stream.response.content == ""
    assert stream.response.finish_reason == "content_filter"
    assert stream.response.id == "resp-2"


def _event(*parts: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate]}


def test_text_runs_join_with_the_signature_that_closes_them_and_signed_pieces_stay_apart() -> None:
    events = [
        _event({"text": "Let me ", "thought": True}),
        _event({"text": "think.", "thought": True}, {"text": "", "thought": True, "thoughtSignature": "c2lnMQ=="}),
        _event({"text": "Yes", "thoughtSignature": "c2lnMg=="}),
        _event({"text": ", it is", "thoughtSignature": "c2lnMw=="}),
        _event({"text": "."}, finish="STOP"),
    ]
    original = json.loads(json.dumps(events))
    chunks, decoder = _decode_stream(_request(), _sse(*events))

    finished = decoder.finish()
    assert finished.message.content == (
        llm.Thought(text="Let me think.", signature="c2lnMQ=="),
        llm.Text("Yes"),
        llm.Text(", it is."),
    )
    assert finished.message.raw == {
        "role": "model",
        "parts": [
            {"text": "Let me think.", "thought": True, "thoughtSignature": "c2lnMQ=="},
            {"text": "Yes", "thoughtSignature": "c2lnMg=="},
            {"text": ", it is.", "thoughtSignature": "c2lnMw=="},
        ],
    }
    assert [chunk.thinking or chunk.content for chunk in chunks] == ["Let me ", "think.", "Yes", ", it is", "."]
    assert [chunk.raw for chunk in chunks] == original  # the event bodies are left as received


def test_tool_call_ids_count_every_part_before_them_as_decode_does() -> None:
    call = {"functionCall": {"name": "lookup", "args": {}}}
    events = [
        _event({"text": "Looking", "thought": True}, {"text": " it up", "thought": True}),
        _event({"text": "Let me check."}, call),
        _event({"functionCall": {"name": "lookup", "args": {"q": 1}, "id": "call-7"}}, finish="STOP"),
    ]
    chunks, decoder = _decode_stream(_request(), _sse(*events))

    deltas = [chunk.tool_call_delta for chunk in chunks if chunk.tool_call_delta is not None]
    assert [(delta.index, delta.id, delta.args) for delta in deltas] == [
        (0, "google_lookup_2", "{}"),
        (1, "call-7", '{"q": 1}'),
    ]
    assert [call.id for call in decoder.finish().message.content if isinstance(call, llm.ToolCall)] == [
        "google_lookup_2",
        "call-7",
    ]
    assert decoder.finish().finish_reason == "tool_call"


def test_vertex_ai_streams_from_stream_generate_content_under_project_and_location(
    replay_server: ReplayServer,
) -> None:
    exchange = _recording("test_call")["exchanges"][0]
    with (
        llm.client(
            "google",
            vertexai=True,
            project="my-project",
            location="us-central1",
            base_url=replay_server.url,
            api_key="ya29.token",
        ) as client,
        replay_server.replaying([exchange["response"]]) as session,
    ):
        stream = llm.model(MODEL, client=client).stream("What is 4200 + 42?")
        assert "4242" in stream.response.content

    (sent,) = session.requests
    assert sent.path == (
        "/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent"
    )
    assert sent.query == "alt=sse"
    assert sent.headers["authorization"] == "Bearer ya29.token"


def test_a_strict_tool_is_refused_before_sending_since_gemini_cannot_enforce_it(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    strict_tool = llm.tool(strict=True)(secret_retrieval_tool.fn)
    with replay_server.replaying([]) as session, pytest.raises(llm.FeatureNotSupportedError, match="strict=True"):
        llm.model(MODEL, client=client, tools=[strict_tool]).stream("Hi")
    assert session.requests == []


def test_built_in_tools_in_provider_params_join_the_declared_functions(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    model = llm.model(
        MODEL, client=client, tools=[secret_retrieval_tool], provider_params={"tools": [{"googleSearch": {}}]}
    )
    with replay_server.replaying([_sse(_text_event("ok", finishReason="STOP"))]) as session:
        _ = model.stream("Hi").response

    tools = session.requests[0].json()["tools"]
    assert [sorted(tool) for tool in tools] == [["functionDeclarations"], ["googleSearch"]]


@dataclasses.dataclass
class _Answer:
    value: int


def test_strict_structured_output_through_a_tool_is_refused_before_any_request(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    answer = llm.response_model(_Answer, mode="tool", strict=True)
    with replay_server.replaying([]) as session, pytest.raises(llm.FeatureNotSupportedError, match="mode='native'"):
        llm.model(MODEL, client=client, response_model=answer).stream("Hi")
    assert session.requests == []


def test_on_gemini_2_a_schema_beside_tools_is_asked_for_through_a_tool(client: llm.Client) -> None:
    # Gemini 2 cannot hold a reply to a schema while it may also call functions; Gemini 3 can.
    def prepared(model: str, answer: object) -> dict[str, Any]:
        format = llm.response_models.format_for(answer)  # type: ignore[arg-type]
        request = Request(
            model_id=f"google:{model}",
            model=model,
            messages=(llm.messages.user("Hi"),),
            params={},
            tools=(secret_retrieval_tool,),
            format=format,
        )
        return google.prepare(request, client).body

    gemini_2 = prepared("gemini-2.5-flash", _Answer)
    assert gemini_2["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert [d["name"] for d in gemini_2["tools"][0]["functionDeclarations"]] == [
        "secret_retrieval_tool",
        "__mirascope_formatted_output_tool__",
    ]
    gemini_3 = prepared("gemini-3-pro-preview", _Answer)
    assert gemini_3["generationConfig"]["responseMimeType"] == "application/json"
    assert "toolConfig" not in gemini_3
    with pytest.raises(llm.FeatureNotSupportedError, match="native"):
        prepared("gemini-2.5-flash", llm.response_model(_Answer, mode="native"))
