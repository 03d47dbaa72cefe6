"""ConverseStream events become chunks, and a stream assembles into exactly what the same reply
decodes to unstreamed: the recorded streams, every recorded plain reply streamed, streams cut
short, and exceptions sent inside a stream."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any, cast
from urllib.parse import unquote

import pytest
from mirascope import llm
from mirascope.llm._decoding import check
from mirascope.llm._retries import is_retryable
from mirascope.llm.providers import FORMAT_TOOL_NAME, RAW_ARGS_KEY, Decoded, Request
from mirascope.llm.providers.sse import ServerSentEvent
from mirascope.providers.bedrock import decode
from mirascope.providers.bedrock.stream import ConverseStream

from tests.support.fixtures import fixtures_dir

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"


def _recordings(endpoint: str) -> list[tuple[str, dict[str, Any]]]:
    root = fixtures_dir() / "bedrock"
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(root.glob("*/*/*.json")):
        for index, exchange in enumerate(json.loads(path.read_text())["exchanges"]):
            if exchange["request"]["url"].endswith(f"/{endpoint}") and exchange["response"]["status"] < 400:
                found.append((f"{path.relative_to(root).as_posix()}#{index}", exchange))
    return found


STREAMS = _recordings("converse-stream")
REPLIES = _recordings("converse")


def _model_of(exchange: dict[str, Any]) -> str:
    return unquote(exchange["request"]["url"].split("/model/", 1)[1].rsplit("/", 1)[0])


def _request(model: str = MODEL, **params: Any) -> Request:
    return Request(
        model_id=f"bedrock:{model}",
        model=model,
        messages=(llm.messages.user("Hi"),),
        params=llm.CallParams(**params),
        stream=True,
    )


def _sse(entry: dict[str, Any]) -> ServerSentEvent:
    """A recorded event-stream message as the framing hands it over."""
    return ServerSentEvent(entry["headers"][":event-type"], json.dumps(entry["data"]))


def _read(request: Request, entries: list[dict[str, Any]]) -> tuple[list[llm.Chunk], Decoded]:
    decoder = ConverseStream(request)
    chunks = [chunk for entry in entries for chunk in decoder.event(_sse(entry))]
    return chunks, check(decoder.finish())


def _body_from(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The Converse body the events describe, put together here, apart from the decoder."""
    role = "assistant"
    blocks: dict[int, dict[str, Any]] = {}
    arguments: dict[int, str] = {}
    body: dict[str, Any] = {}
    for entry in entries:
        kind, data = entry["headers"][":event-type"], entry["data"]
        if kind == "messageStart":
            role = data["role"]
        elif kind == "contentBlockStart":
            start = copy.deepcopy(data["start"]["toolUse"])
            blocks[data["contentBlockIndex"]] = {"toolUse": start}
            arguments[data["contentBlockIndex"]] = ""
        elif kind == "contentBlockDelta":
            index, delta = data["contentBlockIndex"], data["delta"]
            if "text" in delta:
                block = blocks.setdefault(index, {"text": ""})
                block["text"] += delta["text"]
            elif "toolUse" in delta:
                arguments[index] += delta["toolUse"]["input"]
            elif "reasoningContent" in delta:
                reasoning = delta["reasoningContent"]
                if "redactedContent" in reasoning:
                    blocks[index] = {"reasoningContent": {"redactedContent": reasoning["redactedContent"]}}
                    continue
                said = blocks.setdefault(index, {"reasoningContent": {"reasoningText": {"text": ""}}})
                said = said["reasoningContent"]["reasoningText"]
                said["text"] += reasoning.get("text", "")
                if "signature" in reasoning:
                    said["signature"] = said.get("signature", "") + reasoning["signature"]
        elif kind == "messageStop":
            body["stopReason"] = data["stopReason"]
        elif kind == "metadata":
            body["usage"] = data["usage"]
    for index, text in arguments.items():
        blocks[index]["toolUse"]["input"] = json.loads(text) if text else {}
    body["output"] = {"message": {"role": role, "content": [blocks[index] for index in sorted(blocks)]}}
    return body


def _entry(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "headers": {":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
        "data": data,
    }


def _pieces(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _stream_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ConverseStream events that would carry a Converse reply, as Bedrock cuts them."""
    message = body["output"]["message"]
    entries = [_entry("messageStart", {"role": message["role"], "p": "abc"})]
    for index, block in enumerate(message["content"]):
        if "text" in block:
            entries += [
                _entry("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": piece}})
                for piece in _pieces(block["text"])
            ]
        elif "toolUse" in block:
            start = {key: value for key, value in block["toolUse"].items() if key != "input"}
            entries.append(_entry("contentBlockStart", {"contentBlockIndex": index, "start": {"toolUse": start}}))
            arguments = json.dumps(block["toolUse"]["input"])
            entries += [
                _entry("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": piece}}})
                for piece in _pieces(arguments, 5)
            ]
        elif "redactedContent" in block["reasoningContent"]:
            redacted = block["reasoningContent"]["redactedContent"]
            delta = {"reasoningContent": {"redactedContent": redacted}}
            entries.append(_entry("contentBlockDelta", {"contentBlockIndex": index, "delta": delta}))
        else:
            said = block["reasoningContent"]["reasoningText"]
            entries += [
                _entry(
                    "contentBlockDelta", {"contentBlockIndex": index, "delta": {"reasoningContent": {"text": piece}}}
                )
                for piece in _pieces(said["text"], 11)
            ]
            if "signature" in said:
                delta = {"reasoningContent": {"signature": said["signature"]}}
                entries.append(_entry("contentBlockDelta", {"contentBlockIndex": index, "delta": delta}))
        entries.append(_entry("contentBlockStop", {"contentBlockIndex": index, "p": "abcdef"}))
    entries.append(_entry("messageStop", {"stopReason": body["stopReason"], "p": "ab"}))
    entries.append(_entry("metadata", {"usage": body["usage"], "metrics": {"latencyMs": 12}, "p": "abcd"}))
    return entries


def _raw(decoded: Decoded) -> dict[str, Any]:
    raw = decoded.message.raw
    assert isinstance(raw, dict)
    return cast("dict[str, Any]", raw)


def _joined(chunks: list[llm.Chunk]) -> tuple[str, str, dict[int, str]]:
    arguments: dict[int, str] = {}
    for chunk in chunks:
        delta = chunk.tool_call_delta
        if delta is not None:
            arguments[delta.index] = arguments.get(delta.index, "") + delta.args
    return "".join(chunk.content for chunk in chunks), "".join(chunk.thinking for chunk in chunks), arguments


def test_the_recordings_hold_streams_of_text_thinking_and_redacted_thinking() -> None:
    names = {name.split("/", 1)[0] for name, _ in STREAMS}
    assert names == {
        "test_bedrock_model_stream_with_extra_headers",
        "test_bedrock_model_thinking_part_stream",
        "test_bedrock_model_thinking_part_redacted_stream",
    }


@pytest.mark.parametrize(("name", "exchange"), STREAMS, ids=[name for name, _ in STREAMS])
def test_every_recorded_stream_gives_its_deltas_and_assembles_into_the_plain_reply(
    name: str, exchange: dict[str, Any]
) -> None:
    entries = exchange["response"]["aws_eventstream"]
    request = _request(_model_of(exchange))

    chunks, decoded = _read(request, entries)

    deltas = [entry["data"]["delta"] for entry in entries if "delta" in entry["data"]]
    content, thinking, arguments = _joined(chunks)
    assert content == "".join(delta.get("text", "") for delta in deltas)
    assert thinking == "".join(delta.get("reasoningContent", {}).get("text", "") for delta in deltas)
    assert arguments == {}
    assert decoded == check(decode.decode(request, _body_from(entries)))
    [stop] = [entry["data"]["stopReason"] for entry in entries if "stopReason" in entry["data"]]
    assert [chunk.finish_reason for chunk in chunks if chunk.finish_reason] == [decode.FINISH[stop]]
    [usage] = [chunk.usage for chunk in chunks if chunk.usage is not None]
    assert usage == decoded.usage
    [counts] = [entry["data"]["usage"] for entry in entries if "usage" in entry["data"]]
    assert usage is not None
    assert usage.total_tokens == counts["totalTokens"]
    assert _raw(decoded)["role"] == "assistant"


def test_a_streamed_thought_keeps_its_signature_for_resume() -> None:
    [(_, exchange)] = [(n, e) for n, e in STREAMS if n.startswith("test_bedrock_model_thinking_part_stream/")]
    entries = exchange["response"]["aws_eventstream"]
    [signature] = [
        entry["data"]["delta"]["reasoningContent"]["signature"]
        for entry in entries
        if "signature" in entry["data"].get("delta", {}).get("reasoningContent", {})
    ]

    chunks, decoded = _read(_request(), entries)

    thought, text = decoded.message.content
    assert isinstance(thought, llm.Thought)
    assert thought.signature == signature
    assert thought.text == "".join(chunk.thinking for chunk in chunks)
    assert thought.text.startswith("The user has greeted me")
    assert text == llm.Text("Hello! It's nice to meet you. How can I help you today?")
    assert decoded.message.raw == {
        "role": "assistant",
        "content": [
            {"reasoningContent": {"reasoningText": {"text": thought.text, "signature": signature}}},
            {"text": "Hello! It's nice to meet you. How can I help you today?"},
        ],
    }
    assert decoded.finish_reason == "stop"
    assert decoded.usage == llm.Usage(input_tokens=36, output_tokens=73)


def test_streamed_redacted_thinking_keeps_the_redacted_data_exactly_as_sent() -> None:
    [(_, exchange)] = [(n, e) for n, e in STREAMS if n.startswith("test_bedrock_model_thinking_part_redacted_stream/")]
    entries = exchange["response"]["aws_eventstream"]
    redacted = [
        entry["data"]["delta"]["reasoningContent"]["redactedContent"]
        for entry in entries
        if "redactedContent" in entry["data"].get("delta", {}).get("reasoningContent", {})
    ]

    chunks, decoded = _read(_request("us.anthropic.claude-3-7-sonnet-20250219-v1:0"), entries)

    assert len(redacted) == 2
    assert not any(chunk.thinking for chunk in chunks)
    first, second, text = decoded.message.content
    assert first == llm.Thought(text="", signature=redacted[0])
    assert second == llm.Thought(text="", signature=redacted[1])
    assert isinstance(text, llm.Text)
    assert text.text.startswith("I notice you've sent")
    assert _raw(decoded)["content"][:2] == [
        {"reasoningContent": {"redactedContent": redacted[0]}},
        {"reasoningContent": {"redactedContent": redacted[1]}},
    ]


@pytest.mark.parametrize(("name", "exchange"), REPLIES, ids=[name for name, _ in REPLIES])
def test_every_recorded_reply_streamed_assembles_into_what_it_decodes_to_unstreamed(
    name: str, exchange: dict[str, Any]
) -> None:
    body = exchange["response"]["json"]
    request = _request(_model_of(exchange))
    entries = _stream_of(body)

    chunks, decoded = _read(request, entries)

    assert decoded == check(decode.decode(request, body))
    blocks = body["output"]["message"]["content"]
    content, thinking, arguments = _joined(chunks)
    assert content == "".join(block.get("text", "") for block in blocks)
    reasoning = [block["reasoningContent"].get("reasoningText", {}) for block in blocks if "reasoningContent" in block]
    assert thinking == "".join(said.get("text", "") for said in reasoning)
    calls = [block["toolUse"] for block in blocks if "toolUse" in block]
    assert {index: json.loads(text) for index, text in arguments.items()} == {
        index: call["input"] for index, call in enumerate(calls)
    }
    starts = [chunk.tool_call_delta for chunk in chunks if chunk.tool_call_delta and chunk.tool_call_delta.id]
    assert [(delta.index, delta.id, delta.name) for delta in starts] == [
        (index, call["toolUseId"], call["name"]) for index, call in enumerate(calls)
    ]


def _thinking_tool_reply() -> dict[str, Any]:
    return {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "Weather: use the tool.", "signature": "c2ln"}}},
                    {"text": "Checking."},
                    {"toolUse": {"toolUseId": "tooluse_a", "name": "get_weather", "input": {"city": "Paris"}}},
                    {"toolUse": {"toolUseId": "tooluse_b", "name": "get_time", "input": {}}},
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {"inputTokens": 10, "outputTokens": 20, "cacheReadInputTokens": 5, "totalTokens": 35},
    }


def test_a_stream_cut_short_still_assembles_what_arrived() -> None:
    body = _thinking_tool_reply()
    entries = _stream_of(body)

    for cut in range(1, len(entries)):
        chunks, decoded = _read(_request(), entries[:cut])
        content, thinking, arguments = _joined(chunks)
        parts = decoded.message.content
        assert "".join(part.text for part in parts if isinstance(part, llm.Text)) == content
        assert "".join(part.text for part in parts if isinstance(part, llm.Thought)) == thinking
        for call in (part for part in parts if isinstance(part, llm.ToolCall)):
            index = ["tooluse_a", "tooluse_b"].index(call.id)
            text = arguments.get(index, "")
            try:
                expected = json.loads(text) if text else {}
            except ValueError:
                expected = {RAW_ARGS_KEY: text}
            assert call.args == expected
        if not any(entry["headers"][":event-type"] == "messageStop" for entry in entries[:cut]):
            assert decoded.finish_reason == "other"
            assert decoded.usage is None
    # A cut in the middle of the arguments keeps their text.
    cut = next(
        i
        for i, entry in enumerate(entries)
        if entry["data"].get("delta", {}).get("toolUse", {}).get("input") == '{"cit'
    )
    _, decoded = _read(_request(), entries[: cut + 1])
    assert decoded.message.content[-1] == llm.ToolCall(id="tooluse_a", name="get_weather", args={RAW_ARGS_KEY: '{"cit'})


def test_a_stream_with_nothing_of_a_reply_is_an_api_error() -> None:
    decoder = ConverseStream(_request())

    with pytest.raises(llm.APIError) as raised:
        decoder.finish()

    assert raised.value.provider == "bedrock"
    assert "without a reply" in str(raised.value)


def test_a_stream_that_started_its_message_but_sent_nothing_more_is_an_empty_reply() -> None:
    decoder = ConverseStream(_request())
    decoder.event(_sse(_entry("messageStart", {"role": "assistant"})))

    decoded = decoder.finish()

    assert decoded.message.content == ()
    assert decoded.message.raw == {"role": "assistant", "content": []}
    assert decoded.finish_reason == "other"


def test_thoughts_not_asked_for_send_no_thinking_chunks_but_stay_in_raw() -> None:
    body = _thinking_tool_reply()
    request = _request(thinking=llm.Thinking(budget_tokens=1024, include=False))

    chunks, decoded = _read(request, _stream_of(body))

    assert not any(chunk.thinking for chunk in chunks)
    assert not any(isinstance(part, llm.Thought) for part in decoded.message.content)
    assert decoded.message.raw == body["output"]["message"]
    assert decoded == decode.decode(request, body)


def test_the_format_tool_streams_as_a_call_named_for_core_to_turn_into_text() -> None:
    body = _thinking_tool_reply()
    body["output"]["message"]["content"] = [
        {"toolUse": {"toolUseId": "tooluse_f", "name": FORMAT_TOOL_NAME, "input": {"answer": 42}}}
    ]

    chunks, decoded = _read(_request(), _stream_of(body))

    [first, *rest] = [chunk.tool_call_delta for chunk in chunks if chunk.tool_call_delta is not None]
    assert (first.index, first.id, first.name) == (0, "tooluse_f", FORMAT_TOOL_NAME)
    assert json.loads("".join(delta.args for delta in rest)) == {"answer": 42}
    assert decoded.message.content == (llm.ToolCall(id="tooluse_f", name=FORMAT_TOOL_NAME, args={"answer": 42}),)


def test_redacted_thinking_in_several_deltas_joins_the_bytes() -> None:
    first, second = base64.b64encode(b"secret-1").decode(), base64.b64encode(b"+more").decode()
    decoder = ConverseStream(_request())
    for redacted in (first, second):
        delta = {"reasoningContent": {"redactedContent": redacted}}
        decoder.event(_sse(_entry("contentBlockDelta", {"contentBlockIndex": 0, "delta": delta})))

    decoded = decoder.finish()

    joined = base64.b64encode(b"secret-1+more").decode()
    assert decoded.message.content == (llm.Thought(text="", signature=joined),)
    assert _raw(decoded)["content"] == [{"reasoningContent": {"redactedContent": joined}}]


def test_streamed_citations_assemble_into_a_cited_text() -> None:
    citation = {
        "title": "Paris",
        "sourceContent": [{"text": "Paris is the capital of France."}],
        "location": {"web": {"url": "https://example.org/paris", "domain": "example.org"}},
    }
    decoder = ConverseStream(_request())
    chunks = [
        chunk
        for data in (
            {"contentBlockIndex": 0, "delta": {"text": "Paris is "}},
            {"contentBlockIndex": 0, "delta": {"text": "the capital."}},
            {"contentBlockIndex": 0, "delta": {"citation": citation}},
        )
        for chunk in decoder.event(_sse(_entry("contentBlockDelta", data)))
    ]

    decoded = check(decoder.finish())

    assert "".join(chunk.content for chunk in chunks) == "Paris is the capital."
    [text] = decoded.message.content
    assert isinstance(text, llm.Text)
    assert text.text == "Paris is the capital."
    assert [(c.url, c.title, c.cited_text) for c in text.citations] == [
        ("https://example.org/paris", "Paris", "Paris is the capital of France.")
    ]
    assert _raw(decoded)["content"] == [
        {"citationsContent": {"content": [{"text": "Paris is the capital."}], "citations": [citation]}}
    ]


def test_unknown_events_and_deltas_are_skipped() -> None:
    decoder = ConverseStream(_request())
    skipped = [
        ServerSentEvent("somethingNew", json.dumps({"x": 1})),
        _sse(_entry("contentBlockStart", {"contentBlockIndex": 0, "start": {"image": {"format": "png"}}})),
        _sse(_entry("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"image": {"source": {}}}})),
        # Arguments for a call that never started.
        _sse(_entry("contentBlockDelta", {"contentBlockIndex": 3, "delta": {"toolUse": {"input": "{}"}}})),
        _sse(_entry("contentBlockStop", {"contentBlockIndex": 0})),
    ]

    assert [decoder.event(event) for event in skipped] == [(), (), (), (), ()]


@pytest.mark.parametrize(
    ("exception", "expected", "status", "retried"),
    [
        ("throttlingException", llm.RateLimitError, 429, True),
        ("serviceUnavailableException", llm.ServerError, 503, True),
        ("internalServerException", llm.ServerError, 500, True),
        ("modelStreamErrorException", llm.ServerError, 424, True),
        ("validationException", llm.BadRequestError, 400, False),
        ("accessDeniedException", llm.PermissionError, 403, False),
    ],
)
def test_an_exception_inside_the_stream_raises_its_typed_error(
    exception: str, expected: type[llm.APIError], status: int, retried: bool
) -> None:
    decoder = ConverseStream(_request())
    decoder.event(_sse(_entry("messageStart", {"role": "assistant"})))
    decoder.event(_sse(_entry("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hel"}})))
    message = f"details of {exception}"

    with pytest.raises(expected) as raised:
        decoder.event(ServerSentEvent(f"exception:{exception}", json.dumps({"message": message})))

    error = raised.value
    assert type(error) is expected
    assert error.provider == "bedrock"
    assert error.message == message
    assert error.status_code == status
    assert error.body == {"message": message}
    assert is_retryable(error) is retried
    # What arrived before the exception is still there for the partial response.
    assert decoder.finish().message.content == (llm.Text("Hel"),)


def test_a_model_stream_error_keeps_its_original_status_in_the_body() -> None:
    payload = {"message": "Model failed", "originalStatusCode": 500, "originalMessage": "boom"}
    decoder = ConverseStream(_request())

    with pytest.raises(llm.ServerError) as raised:
        decoder.event(ServerSentEvent("exception:modelStreamErrorException", json.dumps(payload)))

    assert raised.value.message == "Model failed"
    assert raised.value.body == payload


def test_a_protocol_error_in_the_stream_is_an_api_error_with_its_message() -> None:
    decoder = ConverseStream(_request())

    with pytest.raises(llm.APIError) as raised:
        decoder.event(ServerSentEvent("error:InternalFailure", "The request processing has failed."))

    assert type(raised.value) is llm.ServerError
    assert raised.value.message == "The request processing has failed."
    assert is_retryable(raised.value)


def test_an_exception_of_an_unknown_type_is_a_plain_api_error_naming_it() -> None:
    decoder = ConverseStream(_request())

    with pytest.raises(llm.APIError) as raised:
        decoder.event(ServerSentEvent("exception:brandNewException", ""))

    assert type(raised.value) is llm.APIError
    assert "brandNewException" in raised.value.message
    assert not is_retryable(raised.value)
