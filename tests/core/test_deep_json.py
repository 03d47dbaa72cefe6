"""JSON nested hundreds of levels deep never escapes as a `RecursionError`.

A server (or a prompt injection making the model write it) can send JSON nested as deep as it
likes: `"[" * 5000`, a 1 KB error body of 495 levels, or a depth just below the interpreter's
recursion limit, which `json.loads` reads and whatever walks it next does not. Through the
public API, against a real HTTP server on 127.0.0.1: a reply, an error body or a stream event
becomes an `llm.APIError` carrying the status; what the model wrote becomes an `llm.ParseError`,
which `max_retries` asks again for; `from_dict` data an `llm.SerializationError`; tool-call
arguments are kept as the text the model wrote. Anything up to `MAX_JSON_DEPTH` levels still reads.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from mirascope import llm

from tests.support.faults import Behaviour, FaultServer, status

LIMIT = 100  # MAX_JSON_DEPTH


def deep_list(levels: int) -> str:
    return "[" * levels + "]" * levels


def deep_object(levels: int, inner: str = "1") -> str:
    return '{"a":' * levels + inner + "}" * levels


NEAR_LIMIT = sys.getrecursionlimit() - 10
DEEP = {
    "list 5000": deep_list(5000),
    "object 5000": deep_object(5000),
    "list 495": deep_list(495),  # 1 KB: the error body the review sent
    "object 495": deep_object(495),
    "list near the recursion limit": deep_list(NEAR_LIMIT),
    "object near the recursion limit": deep_object(NEAR_LIMIT),
    "one level past the limit": deep_list(LIMIT + 1),
}


@pytest.fixture(params=list(DEEP), ids=list(DEEP))
def deep(request: pytest.FixtureRequest) -> str:
    return DEEP[request.param]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as made:
        yield made


PROVIDERS = {
    "openai": "openai:gpt-4o",
    "openai-completions": "openai-completions:gpt-4o",
    "anthropic": "anthropic:claude-sonnet-4-0",
    "google": "google:gemini-2.5-flash",
}


def _model(server: FaultServer, provider: str = "openai-completions", **settings: Any) -> llm.Model[Any]:
    client = llm.client(provider, api_key="sk-test-key", base_url=server.url, max_retries=0)
    return llm.model(PROVIDERS[provider], client=client, **settings)


def _json(data: str, code: int = 200) -> Behaviour:
    return status(code, data, content_type="application/json")


def _events(*data: str) -> Behaviour:
    return status(200, "".join(f"data: {item}\n\n" for item in data), content_type="text/event-stream")


def _completion(content: str | None = None, tool_arguments: str | None = None) -> str:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_arguments is not None:
        call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": tool_arguments}}
        message["tool_calls"] = [call]
    finish = "stop" if tool_arguments is None else "tool_calls"
    choice = {"index": 0, "message": message, "finish_reason": finish}
    return json.dumps({"id": "c", "object": "chat.completion", "model": "gpt-4o", "choices": [choice]})


def _chunks(content: str) -> Behaviour:
    """A Chat Completions stream writing `content` in pieces, as a model does."""
    base = {"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o"}
    pieces = [content[i : i + 700] for i in range(0, len(content), 700)] or [""]
    events = [json.dumps({**base, "choices": [{"index": 0, "delta": {"content": piece}}]}) for piece in pieces]
    events.append(json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    return _events(*events, "[DONE]")


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_a_deep_error_body_is_an_api_error_with_its_status(provider: str, deep: str, server: FaultServer) -> None:
    server.script(_json(deep, 400), _json(deep, 503))
    model = _model(server, provider)

    with pytest.raises(llm.BadRequestError) as raised:
        model.call("Hi")
    assert raised.value.status_code == 400
    assert "nested deeper than 100 levels" in str(raised.value)
    assert raised.value.body == deep  # kept as the text that arrived

    with pytest.raises(llm.ServerError) as raised_stream:
        model.stream("Hi")
    assert raised_stream.value.status_code == 503


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_a_deep_reply_body_is_an_api_error(provider: str, deep: str, server: FaultServer) -> None:
    server.script(_json(deep))

    with pytest.raises(llm.APIError) as raised:
        _model(server, provider).call("Hi")

    assert raised.value.status_code == 200
    assert "nested deeper than 100 levels" in str(raised.value)


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_a_deep_stream_event_is_an_api_error(provider: str, deep: str, server: FaultServer) -> None:
    server.script(_events(deep), _events('{"error": ' + deep + "}"))
    model = _model(server, provider)

    for _ in range(2):  # the event itself, then an error event holding it
        stream = model.stream("Hi")
        with pytest.raises(llm.APIError) as raised:
            list(stream)
        assert "RecursionError" not in str(raised.value)


def test_a_deep_value_inside_events_that_each_parse_is_refused_at_the_end_of_the_stream(
    server: FaultServer,
) -> None:
    # Gemini sends a function call's arguments as an object: each event parses, the reply keeps it.
    args = json.loads(deep_object(300))
    part = {"functionCall": {"name": "lookup", "args": args}}
    event = {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}]}
    server.script(_events(json.dumps(event)), _json(json.dumps(event)))
    model = _model(server, "google")

    stream = model.stream("Hi")
    with pytest.raises(llm.APIError, match="nests deeper than 100 levels"):
        list(stream)
    with pytest.raises(llm.APIError, match="nested deeper than 100 levels"):
        model.call("Hi")


def test_a_deep_field_the_decoder_skips_leaves_the_reply_and_its_raw_events_readable(server: FaultServer) -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o"}
    noisy = {**base, "extra": json.loads(deep_object(300)), "choices": [{"index": 0, "delta": {"content": "Hi"}}]}
    last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    server.script(_events(json.dumps(noisy), json.dumps(last), "[DONE]"))

    stream = _model(server).stream("Hi")
    response = stream.response

    assert response.content == "Hi"
    assert isinstance(response.raw, list)
    assert isinstance(response.raw[0], str)  # kept as its text, not decoded 300 levels deep
    json.dumps(response.to_dict())


@dataclass
class Point:
    x: int
    y: int


@pytest.mark.parametrize("written", ["list 5000", "object 495", "list near the recursion limit", "object 5000"])
def test_deep_json_written_by_the_model_is_a_parse_error_that_is_asked_again(written: str, server: FaultServer) -> None:
    deep = DEEP[written]
    fine = '{"x": 1, "y": 2}'
    model = _model(server, response_model=Point)

    server.script(_json(_completion(deep)))
    with pytest.raises(llm.ParseError, match="nested deeper than 100 levels") as raised:
        model.call("Hi").parse()
    assert raised.value.text == deep

    retried = _model(server, response_model=Point, max_retries=1)
    server.script(_json(_completion(deep)), _json(_completion(fine)))
    assert retried.call("Hi").parse() == Point(1, 2)

    server.script(_chunks(deep), _chunks(fine))
    assert retried.stream("Hi").parse() == Point(1, 2)

    server.script(_chunks(deep), _chunks(fine))
    partials = list(retried.stream("Hi").partials())
    assert partials[-1] == Point(1, 2)

    server.script(_chunks(deep))
    with pytest.raises(llm.ParseError, match="nested deeper than 100 levels"):
        list(model.stream("Hi").partials())

    async def streamed() -> list[Point]:
        stream = await retried.stream_async("Hi")
        return [partial async for partial in stream.partials()]

    server.script(_chunks(deep), _chunks(fine))
    assert asyncio.run(streamed())[-1] == Point(1, 2)


def test_json_as_deep_as_the_limit_still_parses(server: FaultServer) -> None:
    nested = json.loads(deep_list(LIMIT - 1))
    text = json.dumps({"x": 1, "y": 2, "extra": nested})
    model = _model(server, response_model=dict[str, Any])

    server.script(_json(_completion(text)), _chunks(text))

    assert model.call("Hi").parse()["extra"] == nested
    assert list(model.stream("Hi").partials())[-1]["extra"] == nested


@llm.tool
def lookup(query: str) -> str:
    """Look something up."""
    return query


@pytest.mark.parametrize("written", ["list 5000", "object 495", "object near the recursion limit"])
def test_deep_tool_call_arguments_are_kept_as_text_and_fail_the_tool_not_the_call(
    written: str, server: FaultServer
) -> None:
    deep = DEEP[written]
    server.script(_json(_completion(tool_arguments=deep)))

    response = _model(server, tools=[lookup]).call("Hi")

    (call,) = response.tool_calls
    assert call.args == {"__raw__": deep}
    (output,) = response.execute_tools()
    assert output.is_error
    restored = llm.CallResponse.from_dict(json.loads(json.dumps(response.to_dict())))
    assert restored.tool_calls == response.tool_calls


@pytest.mark.parametrize("levels", [LIMIT + 10, 495, NEAR_LIMIT, 5000])
def test_from_dict_refuses_deep_data_with_a_serialization_error(levels: int, server: FaultServer) -> None:
    server.script(_json(_completion("Hello")))
    data = _model(server).call("Hi").to_dict()
    data["metadata"] = {"note": _nested(levels)}

    with pytest.raises(llm.SerializationError, match="nested deeper than 110 levels"):
        llm.CallResponse.from_dict(data)


def test_to_dict_of_a_message_too_deep_to_write_is_a_serialization_error(server: FaultServer) -> None:
    server.script(_json(_completion("Hello")))
    response = _model(server).call("Hi")
    deep_call = llm.ToolCall(id="c", name="lookup", args={"q": _nested(NEAR_LIMIT)})
    deep = llm.CallResponse(
        messages=(*response.messages, llm.messages.assistant([deep_call])),
        model=response.model,
        finish_reason="tool_call",
    )

    with pytest.raises(llm.SerializationError, match="nested deeper than 110 levels"):
        deep.to_dict()


def _nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def test_schemas_of_deeply_nested_defaults_and_types_are_typed_errors_or_left_out() -> None:
    deep_default = _nested(NEAR_LIMIT)

    def search(query: str, filters: list[Any] = deep_default) -> str:
        """Search."""
        return query

    tool = llm.tool(search)
    assert "default" not in tool.parameters["properties"]["filters"]

    deep_type: Any = int
    for _ in range(NEAR_LIMIT):
        deep_type = list[deep_type]
    with pytest.raises(TypeError, match="nests too deeply"):
        llm.model("openai:gpt-4o", response_model=deep_type)
