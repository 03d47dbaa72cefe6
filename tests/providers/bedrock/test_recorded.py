"""Every recorded Bedrock exchange, replayed through the user-level API.

For each recording found on disk (so recordings added later are replayed too): the recorded
request is turned into the user-level call that makes it (`plan_for`), that call is made against
a local server answering with the recorded reply, and then

- the request we sent means what the recorded one meant (`bedrock_meaning`), at the recorded
  path (the model id percent-encoded), signed with SigV4 for us-east-1 and `bedrock`;
- the reply decodes into what an independent reading of the recording says (text, tool calls,
  thoughts, usage, finish reason), or into the typed error with Bedrock's message;
- a stream's response equals the plain call's response to the body the stream adds up to, and
  the stream decodes into the same chunks however its bytes are cut.

A conversation of several exchanges continues from our own previous response (so what we send
back of a reply, signatures included, is checked too) wherever the recording continued it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import attrs
import httpx
import pytest
from mirascope import llm

from tests.support.bedrock_replay import (
    EVENTSTREAM,
    REGION,
    BedrockServer,
    Plan,
    Received,
    Reply,
    Unconvertible,
    action_of,
    assembled_body,
    bedrock_client,
    bedrock_meaning,
    block_at,
    continues,
    encode_response,
    error_class,
    error_message,
    expected_signature,
    is_unsupported_content,
    load,
    message_bounds,
    model_of,
    plan_for,
    reading_of,
    recordings,
    refused_block,
    request_body,
    stream_failure,
)

CASES = recordings()
STREAMS = [path for path in CASES if path.endswith("/stream.json")]
TOKEN_COUNTING = "token counting is out of scope"

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/(\d{8})/" + REGION + r"/bedrock/aws4_request, "
    r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})"
)


def _converse_exchanges(fixture: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [e for e in fixture["exchanges"] if action_of(e["request"]) != "count-tokens"]


def _run(plan: Plan, client: llm.Client) -> tuple[llm.CallResponse[Any], list[llm.Chunk]]:
    model = plan.model(client)
    if not plan.stream:
        return model.call(list(plan.messages)), []
    stream = model.stream(list(plan.messages))
    chunks = list(stream)
    return stream.response, chunks


def assert_sent_as_recorded(sent: Received, recorded: Mapping[str, Any]) -> None:
    assert_signed(sent, recorded)
    body = request_body(recorded)
    assert body is not None
    assert bedrock_meaning(sent.json(), recorded=body) == bedrock_meaning(body)


def assert_signed(sent: Received, recorded: Mapping[str, Any]) -> None:
    """Sent where the recording was sent, signed with SigV4 for us-east-1 and `bedrock`, rightly."""
    model = model_of(recorded)
    assert sent.method == "POST"
    assert sent.raw_path == f"/model/{quote(model, safe='')}/{action_of(recorded)}"
    assert unquote(sent.raw_path) == unquote(urlsplit(recorded["url"]).path)
    signed = _AUTHORIZATION.fullmatch(sent.headers.get("authorization", ""))
    assert signed is not None, sent.headers.get("authorization")
    assert "host" in signed.group(2).split(";")
    assert "x-amz-date" in signed.group(2).split(";")
    assert sent.headers["x-amz-date"].startswith(signed.group(1))
    assert signed.group(3) == expected_signature(sent)
    assert sent.headers["content-type"] == "application/json"


def assert_reply_read(response: llm.CallResponse[Any], body: Mapping[str, Any], model: str) -> None:
    want = reading_of(body)
    assert response.content == want.text
    assert [(c.id, c.name, c.args) for c in response.tool_calls] == list(want.tool_calls)
    thoughts = [part for part in response.message.content if isinstance(part, llm.Thought)]
    assert [(t.text, t.signature) for t in thoughts if t.text] == [
        (text, signature) for text, signature in zip(want.thoughts, want.signatures, strict=True) if text
    ]
    assert len(thoughts) == len(want.thoughts) + want.redacted
    assert response.finish_reason == want.finish_reason
    assert response.usage == want.usage
    assert response.model == f"bedrock:{model}"


def _history(previous: llm.CallResponse[Any]) -> list[llm.Message]:
    return [m for m in previous.messages if m.role != "system"]


@pytest.mark.parametrize("path", CASES, ids=CASES)
def test_recording_replays_through_the_public_api(path: str, server: BedrockServer) -> None:
    replay(load(path), server)


def replay(fixture: Mapping[str, Any], server: BedrockServer) -> None:
    """Make each recorded exchange's call through the public API and check it (see the module doc)."""
    exchanges = _converse_exchanges(fixture)
    if not exchanges:
        pytest.skip(TOKEN_COUNTING)
    previous: tuple[dict[str, Any], dict[str, Any], llm.CallResponse[Any]] | None = None
    # Retries are test_faults.py's: here each recorded reply answers exactly one request.
    client = bedrock_client(server.url, max_retries=0)
    with client:
        for exchange in exchanges:
            recorded, reply = exchange["request"], exchange["response"]
            if request_body(recorded) is None:
                pytest.skip("the recorded request body is not JSON: it names no call to make")
            history: list[llm.Message] = []
            if previous is not None and continues(previous[0], previous[1], recorded):
                history = _history(previous[2])
            try:
                plan = plan_for(recorded, history)
            except Unconvertible as why:
                pytest.fail(f"the recorded request cannot be asked for through the public API: {why}")
            start = server.queue([Reply.recorded(reply)])
            if reply["status"] != 200:
                _assert_refused(plan, client, server, start, recorded, reply)
                return
            failure = stream_failure(reply["aws_eventstream"]) if "aws_eventstream" in reply else None
            if failure is not None:
                _assert_failed_in_stream(plan, client, server, start, recorded, reply, failure)
                return
            response, chunks = _run(plan, client)
            [sent] = server.since(start)
            assert_sent_as_recorded(sent, recorded)
            if plan.stream:
                assert sent.headers.get("accept", EVENTSTREAM) in (EVENTSTREAM, "*/*")
                body = assembled_body(reply["aws_eventstream"])
                assert "".join(chunk.content for chunk in chunks) == response.content
                assert "".join(chunk.thinking for chunk in chunks) == "".join(reading_of(body).thoughts)
            else:
                body = reply["json"]
            assert_reply_read(response, body, model_of(recorded))
            previous = (recorded, body["output"]["message"], response)


def _assert_refused(
    plan: Plan,
    client: llm.Client,
    server: BedrockServer,
    start: int,
    recorded: Mapping[str, Any],
    reply: Mapping[str, Any],
) -> None:
    expected = error_class(reply["status"])
    if is_unsupported_content(reply):
        # Bedrock refused a kind of content the model cannot take: refusing it ourselves, before
        # sending anything, is the better outcome; sending it and raising Bedrock's error is right too.
        with pytest.raises((llm.FeatureNotSupportedError, expected)) as raised:
            _run(plan, client)
        if isinstance(raised.value, llm.FeatureNotSupportedError):
            assert server.since(start) == []
            return
    else:
        with pytest.raises(expected) as raised:
            _run(plan, client)
    error = raised.value
    assert isinstance(error, llm.APIError)
    [sent] = server.since(start)
    malformed = refused_block(reply)
    body = request_body(recorded)
    assert body is not None
    if malformed is not None and block_at(sent.json(), malformed) != block_at(body, malformed):
        # Bedrock named the block it refused, and we did not send that block there: the request was
        # shaped differently on purpose (what Bedrock makes of it, the recording cannot say).
        assert_signed(sent, recorded)
    else:
        assert_sent_as_recorded(sent, recorded)
    assert error.provider == "bedrock"
    assert error.status_code == reply["status"]
    message = error_message(reply)
    if message is not None:
        assert error.message == message
        assert message in str(error)


def _assert_failed_in_stream(
    plan: Plan,
    client: llm.Client,
    server: BedrockServer,
    start: int,
    recorded: Mapping[str, Any],
    reply: Mapping[str, Any],
    failure: tuple[int, type[llm.APIError], str | None],
) -> None:
    index, expected, message = failure
    with pytest.raises(expected) as raised:
        _run(plan, client)
    [sent] = server.since(start)
    assert_sent_as_recorded(sent, recorded)
    error = raised.value
    assert error.provider == "bedrock"
    if message is not None:
        assert error.message == message
    arrived = reading_of(assembled_body(reply["aws_eventstream"][:index]))
    if arrived.text:
        assert error.partial_response is not None, "the error keeps what arrived before it"
        assert error.partial_response.content == arrived.text


# --- streams: the same response as the plain call, however the bytes are cut ---------------------


def _stream_case(path: str) -> tuple[dict[str, Any], Plan] | None:
    fixture = load(path)
    exchanges = _converse_exchanges(fixture)
    if len(exchanges) != 1 or exchanges[0]["response"]["status"] != 200:
        return None
    exchange = exchanges[0]
    try:
        return exchange, plan_for(exchange["request"])
    except Unconvertible:
        return None


def _same(left: llm.CallResponse[Any], right: llm.CallResponse[Any]) -> None:
    assert left.message.content == right.message.content
    assert left.finish_reason == right.finish_reason
    assert left.usage == right.usage
    assert left.model == right.model


@pytest.mark.parametrize("path", STREAMS, ids=STREAMS)
def test_a_stream_responds_as_the_plain_call_to_what_it_adds_up_to(path: str, server: BedrockServer) -> None:
    case = _stream_case(path)
    if case is None:
        pytest.skip("not a single successful stream")
    exchange, plan = case
    reply = exchange["response"]
    plain = attrs.evolve(plan, stream=False)
    body = assembled_body(reply["aws_eventstream"])
    # Served through the real server in pieces cut just inside each message: every read splits one.
    whole = encode_response(reply)[2]
    cuts = [start + 1 for start in message_bounds(whole)] + [start + 7 for start in message_bounds(whole)]
    client = bedrock_client(server.url)
    with client:
        start = server.queue(
            [Reply.recorded(reply, cuts), Reply(200, {"content-type": "application/json"}, (_json(body),))]
        )
        streamed, _ = _run(plan, client)
        called, _ = _run(plain, client)
    sent_stream, sent_call = server.since(start)
    assert sent_stream.raw_path.endswith("/converse-stream")
    assert sent_call.raw_path.endswith("/converse")
    # The same call, streamed or not, sends the same body.
    assert bedrock_meaning(sent_stream.json()) == bedrock_meaning(sent_call.json())
    _same(streamed, called)
    assert streamed.message.raw == called.message.raw


def _json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _mock_stream(plan: Plan, headers: Mapping[str, str], pieces: list[bytes]) -> tuple[list[llm.Chunk], Any]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=dict(headers), content=iter(pieces))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = bedrock_client("http://127.0.0.1:9", http_client=http)
    try:
        stream = plan.model(client).stream(list(plan.messages))
        chunks = list(stream)
        return chunks, stream.response
    finally:
        http.close()


@pytest.mark.parametrize("path", STREAMS, ids=STREAMS)
def test_a_stream_cut_at_every_byte_decodes_into_the_same_chunks(path: str) -> None:
    case = _stream_case(path)
    if case is None:
        pytest.skip("not a single successful stream")
    exchange, plan = case
    _, headers, body = encode_response(exchange["response"])
    whole_chunks, whole = _mock_stream(plan, headers, [body])
    assert whole_chunks
    # One byte at a time: every boundary at once.
    one_by_one, response = _mock_stream(plan, headers, [body[i : i + 1] for i in range(len(body))])
    assert one_by_one == whole_chunks
    _same(response, whole)
    # Two pieces, cut at each offset in turn.
    for offset in range(1, len(body)):
        chunks, response = _mock_stream(plan, headers, [body[:offset], body[offset:]])
        assert chunks == whole_chunks, f"cut at byte {offset}"
        assert response.message.content == whole.message.content, f"cut at byte {offset}"


# --- shapes the shared recordings lack, made from them, so that unseen recordings of them replay ---


def _first_stream() -> dict[str, Any]:
    return load(next(path for path in STREAMS if "nova" in path))


def test_a_recording_failing_in_stream_replays_as_the_typed_error(server: BedrockServer) -> None:
    fixture = _first_stream()
    exchange = fixture["exchanges"][0]
    events = exchange["response"]["aws_eventstream"]
    throttled = {
        "headers": {
            ":exception-type": "throttlingException",
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        "data": {"message": "Too many tokens, please wait before trying again."},
    }
    broken = {**exchange, "response": {**exchange["response"], "aws_eventstream": [*events[:4], throttled]}}
    assert stream_failure(broken["response"]["aws_eventstream"]) is not None
    replay({**fixture, "exchanges": [broken]}, server)


@pytest.mark.parametrize(("status", "message"), [(429, "Too many requests."), (503, "Service unavailable.")])
def test_a_recording_of_a_retryable_failure_replays_as_the_typed_error(
    server: BedrockServer, status: int, message: str
) -> None:
    fixture = load(next(path for path in CASES if "model_instructions/" in path))
    exchange = fixture["exchanges"][0]
    failed = {**exchange, "response": {"status": status, "headers": {}, "json": {"message": message}}}
    replay({**fixture, "exchanges": [failed]}, server)


@pytest.mark.parametrize("path", STREAMS, ids=STREAMS)
def test_an_async_stream_read_one_byte_at_a_time_decodes_into_the_same_response(path: str) -> None:
    case = _stream_case(path)
    if case is None:
        pytest.skip("not a single successful stream")
    exchange, plan = case
    _, headers, body = encode_response(exchange["response"])
    _, whole = _mock_stream(plan, headers, [body])

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(len(body)):
            yield body[i : i + 1]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=dict(headers), content=pieces())

    async def run() -> tuple[str, llm.AsyncCallResponse[Any]]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = bedrock_client("http://127.0.0.1:9", async_http_client=http)
        try:
            stream = await plan.model(client).stream_async(list(plan.messages))
            text = "".join([chunk.content async for chunk in stream])
            return text, await stream.aresponse()
        finally:
            await http.aclose()

    text, response = asyncio.run(run())
    assert text == whole.content
    assert response.message.content == whole.message.content
    assert response.usage == whole.usage
    assert response.finish_reason == whole.finish_reason
