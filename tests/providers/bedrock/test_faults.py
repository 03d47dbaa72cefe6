"""Bedrock failing as Bedrock fails: its error shapes over HTTP, and broken binary event streams.

A real HTTP server on 127.0.0.1 answers in Bedrock's shapes (`x-amzn-errortype` naming the
error, a JSON `{"message"}` body), and streams are AWS event-stream messages written by the
test's own encoder, then corrupted or cut. Retries do not sleep in tests (see `tests/conftest.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from mirascope import llm

from tests.support.bedrock_replay import (
    EVENTSTREAM,
    SECRET_ACCESS_KEY,
    BedrockServer,
    Reply,
    bedrock_client,
    encode_event,
    expected_signature,
    signature_of,
)

MODEL = "bedrock:us.amazon.nova-micro-v1:0"
SESSION_TOKEN = "FQoGZXIvYXdzEXAMPLESESSIONTOKENnotreal0123456789"

_EVENT = {":content-type": "application/json", ":message-type": "event"}


def _ok_body(text: str = "Paris.") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 7, "outputTokens": 2, "totalTokens": 9},
        "metrics": {"latencyMs": 100},
    }


def ok(text: str = "Paris.") -> Reply:
    return Reply(200, {"content-type": "application/json"}, (json.dumps(_ok_body(text)).encode(),))


def bedrock_error(status: int, error_type: str, message: str) -> Reply:
    """An error as Bedrock sends it: the type in `x-amzn-errortype` (with its namespace), a JSON message."""
    headers = {
        "content-type": "application/json",
        "x-amzn-errortype": f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        "x-amzn-requestid": "0b7c2a4e-0000-4000-8000-000000000000",
    }
    return Reply(status, headers, (json.dumps({"message": message}).encode(),))


def _event(kind: str, data: Mapping[str, Any]) -> bytes:
    return encode_event({":event-type": kind, **_EVENT}, json.dumps(data).encode())


def stream_messages() -> list[bytes]:
    """A whole ConverseStream reply, one message per item: "Hello, world." in three pieces."""
    return [
        _event("messageStart", {"role": "assistant", "p": "abc"}),
        _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hello"}, "p": "ab"}),
        _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": ", world"}, "p": "abcd"}),
        _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "."}, "p": "a"}),
        _event("contentBlockStop", {"contentBlockIndex": 0, "p": "abcdef"}),
        _event("messageStop", {"stopReason": "end_turn", "p": "ab"}),
        _event("metadata", {"usage": {"inputTokens": 5, "outputTokens": 4, "totalTokens": 9}, "metrics": {}}),
    ]


def streamed(messages: list[bytes], pieces: int = 1) -> Reply:
    body = b"".join(messages)
    step = max(1, len(body) // pieces)
    return Reply(200, {"content-type": EVENTSTREAM}, tuple(body[i : i + step] for i in range(0, len(body), step)))


def _call(server: BedrockServer, replies: list[Reply], **options: Any) -> tuple[Any, list[Any]]:
    start = server.queue(replies)
    with bedrock_client(server.url, **options) as client:
        try:
            result: Any = llm.model(MODEL, client=client).call("What is the capital of France?")
        except llm.Error as error:
            result = error
    return result, server.since(start)


def _stream(server: BedrockServer, replies: list[Reply], **options: Any) -> tuple[Any, list[Any], str]:
    start = server.queue(replies)
    text: list[str] = []
    with bedrock_client(server.url, **options) as client:
        try:
            stream = llm.model(MODEL, client=client).stream("Say hello.")
            text.extend(chunk.content for chunk in stream)
            result: Any = stream.response
        except llm.Error as error:
            result = error
    return result, server.since(start), "".join(text)


# --- errors over HTTP ---------------------------------------------------------------------------


def test_throttling_is_retried_with_a_fresh_signature_then_succeeds(server: BedrockServer) -> None:
    response, sent = _call(
        server,
        [bedrock_error(429, "ThrottlingException", "Too many requests, please wait before trying again."), ok()],
    )
    assert isinstance(response, llm.CallResponse), response
    assert response.content == "Paris."
    assert len(sent) == 2
    first, second = sent
    assert first.body == second.body
    # Each attempt is signed on its own, and each signature is right for what was sent.
    for attempt in sent:
        assert signature_of(attempt) == expected_signature(attempt)


def test_throttling_that_persists_raises_rate_limit_after_the_retries(server: BedrockServer) -> None:
    throttled = bedrock_error(429, "ThrottlingException", "Too many requests, please wait before trying again.")
    error, sent = _call(server, [throttled] * 5, max_retries=2)
    assert isinstance(error, llm.RateLimitError), error
    assert len(sent) == 3
    assert error.attempts == 3
    assert error.status_code == 429
    assert error.message == "Too many requests, please wait before trying again."


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (400, "ValidationException", llm.BadRequestError),
        (403, "AccessDeniedException", llm.PermissionError),
        (403, "UnrecognizedClientException", llm.AuthenticationError),
        (403, "InvalidSignatureException", llm.AuthenticationError),
        (403, "ExpiredTokenException", llm.AuthenticationError),
        (404, "ResourceNotFoundException", llm.NotFoundError),
    ],
)
def test_a_client_error_is_typed_by_bedrocks_error_type_and_not_retried(
    server: BedrockServer, status: int, error_type: str, expected: type[llm.APIError]
) -> None:
    message = f"{error_type} says no."
    error, sent = _call(server, [bedrock_error(status, error_type, message), ok()])
    assert type(error) is expected, error
    assert len(sent) == 1
    assert error.provider == "bedrock"
    assert error.status_code == status
    assert error.message == message
    assert message in str(error)


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (503, "ServiceUnavailableException"),
        (500, "InternalServerException"),
        (424, "ModelErrorException"),
        (429, "ModelNotReadyException"),
    ],
)
def test_a_passing_server_side_failure_is_retried(server: BedrockServer, status: int, error_type: str) -> None:
    response, sent = _call(server, [bedrock_error(status, error_type, "try again"), ok("Lyon.")])
    assert isinstance(response, llm.CallResponse), response
    assert response.content == "Lyon."
    assert len(sent) == 2


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (503, "ServiceUnavailableException", llm.ServerError),
        (424, "ModelErrorException", llm.ServerError),
        (429, "ServiceQuotaExceededException", llm.RateLimitError),
    ],
)
def test_a_server_side_failure_without_retries_is_typed(
    server: BedrockServer, status: int, error_type: str, expected: type[llm.APIError]
) -> None:
    error, sent = _call(server, [bedrock_error(status, error_type, "the model failed")], max_retries=0)
    assert isinstance(error, expected), error
    assert len(sent) == 1
    assert error.status_code == status
    assert error.message == "the model failed"


def test_a_model_timeout_is_a_timeout_error(server: BedrockServer) -> None:
    error, _ = _call(server, [bedrock_error(408, "ModelTimeoutException", "Model has timed out.")], max_retries=0)
    assert isinstance(error, llm.TimeoutError), error
    assert error.message == "Model has timed out."


def test_an_error_type_without_its_namespace_is_read_too(server: BedrockServer) -> None:
    reply = Reply(403, {"x-amzn-errortype": "AccessDeniedException"}, (b'{"Message": "You do not have access."}',))
    error, _ = _call(server, [reply])
    assert isinstance(error, llm.PermissionError), error
    assert error.message == "You do not have access."


def test_a_stream_request_refused_before_any_event_is_retried(server: BedrockServer) -> None:
    throttled = bedrock_error(429, "ThrottlingException", "Too many requests.")
    response, sent, text = _stream(server, [throttled, streamed(stream_messages())])
    assert isinstance(response, llm.CallResponse), response
    assert text == response.content == "Hello, world."
    assert len(sent) == 2
    assert all(attempt.raw_path.endswith("/converse-stream") for attempt in sent)


# --- broken event streams -----------------------------------------------------------------------


def test_a_whole_stream_decodes(server: BedrockServer) -> None:
    response, _, text = _stream(server, [streamed(stream_messages(), pieces=7)])
    assert isinstance(response, llm.CallResponse), response
    assert text == response.content == "Hello, world."
    assert response.finish_reason == "stop"
    assert response.usage == llm.Usage(input_tokens=5, output_tokens=4)


def _flipped(message: bytes, at: int) -> bytes:
    return message[:at] + bytes([message[at] ^ 0x5A]) + message[at + 1 :]


def _assert_stream_failed_after_hello(error: object) -> llm.APIError:
    assert isinstance(error, llm.APIError), error
    assert error.provider == "bedrock"
    partial = error.partial_response
    assert partial is not None, "the error keeps what arrived before it"
    assert partial.content == "Hello"
    return error


@pytest.mark.parametrize("where", ["prelude CRC", "total length", "payload", "message CRC", "headers"])
def test_a_corrupted_message_mid_stream_is_a_typed_error_with_what_arrived(server: BedrockServer, where: str) -> None:
    messages = stream_messages()
    broken = messages[2]
    at = {"prelude CRC": 9, "total length": 3, "payload": len(broken) - 10, "message CRC": len(broken) - 1}.get(
        where, 14
    )
    messages[2] = _flipped(broken, at)
    error, sent, text = _stream(server, [streamed(messages), streamed(stream_messages())])
    failed = _assert_stream_failed_after_hello(error)
    assert text == "Hello"
    # Events had arrived: the stream is not sent again (its text was already handed out).
    assert len(sent) == 1
    assert "Hello, world" not in str(failed)


def test_a_stream_cut_mid_message_is_a_typed_error_with_what_arrived(server: BedrockServer) -> None:
    messages = stream_messages()
    body = b"".join(messages[:2]) + messages[2][: len(messages[2]) // 2]
    error, sent, text = _stream(server, [Reply(200, {"content-type": EVENTSTREAM}, (body,))])
    _assert_stream_failed_after_hello(error)
    assert text == "Hello"
    assert len(sent) == 1


def _exception(kind: str, message: str) -> bytes:
    headers = {":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"}
    return encode_event(headers, json.dumps({"message": message}).encode())


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("throttlingException", llm.RateLimitError),
        ("serviceUnavailableException", llm.ServerError),
        ("internalServerException", llm.ServerError),
        ("modelStreamErrorException", llm.ServerError),
        ("validationException", llm.BadRequestError),
    ],
)
def test_an_exception_message_in_the_stream_is_the_typed_error(
    server: BedrockServer, kind: str, expected: type[llm.APIError]
) -> None:
    messages = stream_messages()
    body = [*messages[:2], _exception(kind, "Too many tokens, please wait before trying again.")]
    error, sent, text = _stream(server, [streamed(body)])
    assert isinstance(error, expected), error
    assert error.message == "Too many tokens, please wait before trying again."
    assert text == "Hello"
    assert error.partial_response is not None
    assert error.partial_response.content == "Hello"
    assert len(sent) == 1


def test_a_throttling_exception_before_any_of_the_reply_is_retried_then_streams(server: BedrockServer) -> None:
    messages = stream_messages()
    throttled = [messages[0], _exception("throttlingException", "Too many requests, please wait.")]
    result, sent, text = _stream(server, [streamed(throttled), streamed(messages)])
    assert not isinstance(result, llm.Error), result
    assert text == result.content
    assert "Hello" in text
    assert len(sent) == 2  # sent again, signed again: nothing of the reply had gone out


def test_a_refused_request_inside_the_stream_is_not_retried(server: BedrockServer) -> None:
    refused = [_exception("validationException", "The model does not take this.")]
    error, sent, _ = _stream(server, [streamed(refused), streamed(stream_messages())])
    assert isinstance(error, llm.BadRequestError), error
    assert len(sent) == 1


# --- keys never show ----------------------------------------------------------------------------


def _secrets_absent(*texts: object) -> None:
    for text in texts:
        assert SECRET_ACCESS_KEY not in str(text)
        assert SESSION_TOKEN not in str(text)


def test_keys_never_appear_in_errors_or_reprs(server: BedrockServer) -> None:
    options = {"session_token": SESSION_TOKEN}
    denied = bedrock_error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
    error, sent = _call(server, [denied], **options)
    assert isinstance(error, llm.AuthenticationError), error
    [attempt] = sent
    assert attempt.headers["x-amz-security-token"] == SESSION_TOKEN
    assert "x-amz-security-token" in attempt.headers["authorization"]
    assert signature_of(attempt) == expected_signature(attempt)
    _secrets_absent(error, repr(error), error.message, error.body, error.headers, error.__dict__)

    messages = stream_messages()
    broken = [*messages[:2], _flipped(messages[2], 9)]
    stream_error, _, _ = _stream(server, [streamed(broken)], **options)
    assert isinstance(stream_error, llm.APIError), stream_error
    _secrets_absent(stream_error, repr(stream_error), stream_error.__dict__)

    with bedrock_client(server.url, **options) as client:
        _secrets_absent(repr(client), str(client))
