"""API keys never show: not in errors, reprs, logs, `to_dict()` output or raw bodies.

Each provider is called with a distinctive key, given to `llm.client` or read from the
environment, against an `httpx.MockTransport` that fails in every way a call can fail (a
rejected key echoed back in the error body and headers, as some providers and proxies do, a
refused connection, a timeout) or succeeds. Everything a user might print or log is gathered,
and the key is looked for in all of it.
"""

from __future__ import annotations

import copy
import json
import logging
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from mirascope import llm

from tests.support.fixtures import load
from tests.support.replay import encode_response

KEY = "sk-test-SECRET-1234567890"


@dataclass(frozen=True)
class Target:
    """A provider to call, and where its recordings are."""

    provider: str
    model_id: str
    env_var: str
    recorded: str
    """The recorded model folder whose replies it answers with."""
    options: tuple[tuple[str, object], ...] = ()


TARGETS = (
    Target("openai", "openai:gpt-4o", "OPENAI_API_KEY", "openai_gpt_4o_responses"),
    Target("openai-completions", "openai-completions:gpt-4o", "OPENAI_API_KEY", "openai_gpt_4o_completions"),
    Target("anthropic", "anthropic:claude-sonnet-4-0", "ANTHROPIC_API_KEY", "anthropic_claude_sonnet_4_0"),
    Target("google", "google:gemini-2.5-flash", "GOOGLE_API_KEY", "google_gemini_2_5_flash"),
    Target(
        "azure",
        "azure:my-gpt-4o",
        "AZURE_OPENAI_API_KEY",
        "openai_gpt_4o_responses",
        (("resource", "my-resource"),),
    ),
)
IDS = [target.provider for target in TARGETS]


def _recorded(target: Target, scenario: str, mode: str) -> dict[str, Any]:
    return copy.deepcopy(load(f"{scenario}/{target.recorded}/{mode}.json")["exchanges"][0]["response"])


def _echoing_the_key(node: Any) -> Any:
    """A recorded error body with the key written into each of its messages."""
    if isinstance(node, dict):
        return {
            key: f"{value.replace('REDACTED', KEY)} (key: {KEY})"
            if key == "message" and isinstance(value, str)
            else _echoing_the_key(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_echoing_the_key(item) for item in node]
    return node


def _auth_error(target: Target) -> dict[str, Any]:
    response = _recorded(target, "test_authentication_error", "sync")
    response["json"] = _echoing_the_key(response["json"])
    # A proxy that reflects the request's credentials in its reply headers.
    response["headers"] = {
        **response["headers"],
        "authorization": f"Bearer {KEY}",
        "x-api-key": KEY,
        "x-goog-api-key": KEY,
        "api-key": KEY,
        "x-echo": f"you sent {KEY}",
    }
    return response


class Seen:
    """Everything a user could print or log, as text."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.sent_keys = 0

    def error(self, error: BaseException) -> None:
        assert isinstance(error, llm.Error), error
        self.texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        self.texts.append(repr(vars(error)))
        if isinstance(error, llm.APIError):
            self.texts += [json.dumps(error.body, default=repr), json.dumps(error.headers)]

    def response(self, response: llm.CallResponse[Any] | llm.AsyncCallResponse[Any]) -> None:
        self.texts += [repr(response), json.dumps(response.to_dict()), json.dumps(response.raw, default=repr)]
        self.texts += [repr(response.messages)]

    def objects(self, *objects: object) -> None:
        self.texts += [repr(o) for o in objects]

    def logs(self, caplog: pytest.LogCaptureFixture) -> None:
        for record in caplog.records:
            self.texts += [record.getMessage(), repr(record.args), repr(record.exc_info)]
        self.texts.append(caplog.text)

    def assert_no_key(self) -> None:
        assert self.sent_keys, "the key was never sent: the test proves nothing"
        leaks = [text for text in self.texts if KEY in text or KEY[8:] in text]
        assert not leaks, leaks[0]


Handler = Callable[[httpx.Request], httpx.Response]


def _answering(response: dict[str, Any]) -> Handler:
    status, headers, body = encode_response(response)
    return lambda request: httpx.Response(status, headers=headers, content=body)


def _raising(exc: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(f"{exc.__name__} while sending to {request.url}", request=request)

    return handler


@pytest.fixture(params=["argument", "environment"])
def key_from(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def seen(caplog: pytest.LogCaptureFixture) -> Iterator[Seen]:
    caplog.set_level(logging.DEBUG)  # every logger, the `mirascope` one included
    found = Seen()
    yield found
    found.logs(caplog)
    found.assert_no_key()


def _client(target: Target, key_from: str, handler: Handler, seen: Seen, monkeypatch: pytest.MonkeyPatch) -> llm.Client:
    def sending(request: httpx.Request) -> httpx.Response:
        sent = [value for value in request.headers.values() if KEY in value]
        assert sent, "the key is not in the request headers"
        assert KEY not in str(request.url), "the key is in the URL"
        seen.sent_keys += 1
        return handler(request)

    transport = httpx.MockTransport(sending)
    settings: dict[str, Any] = dict(target.options)
    if key_from == "argument":
        settings["api_key"] = KEY
    elif key_from == "environment":
        monkeypatch.setenv(target.env_var, KEY)
    client = llm.client(
        target.provider,
        max_retries=0,
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
        **settings,
    )
    seen.objects(client)
    return client


def _call_and_stream(model: llm.Model[Any], seen: Seen) -> None:
    """Call, then stream; record whatever each raises or returns."""
    seen.objects(model)
    try:
        seen.response(model.call("hi"))
    except llm.Error as error:
        seen.error(error)
    try:
        stream = model.stream("hi")
        seen.response(stream.response)
    except llm.Error as error:
        seen.error(error)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_a_rejected_key_echoed_in_the_error_body_and_headers_is_redacted_everywhere(
    target: Target, key_from: str, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(target, key_from, _answering(_auth_error(target)), seen, monkeypatch)
    model = llm.model(target.model_id, client=client)

    with pytest.raises(llm.AuthenticationError) as raised:
        model.call("hi")
    _call_and_stream(model, seen)

    error = raised.value
    assert "[redacted]" in error.message  # the provider's message is kept, less the key
    assert error.headers["x-echo"] == "you sent [redacted]"
    assert {"authorization", "x-api-key", "x-goog-api-key", "api-key"}.isdisjoint(error.headers)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_an_error_body_sent_as_an_event_stream_is_redacted(
    target: Target, key_from: str, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = _auth_error(target)
    response["status"] = 200
    response["headers"]["content-type"] = "text/event-stream"
    client = _client(target, key_from, _answering(response), seen, monkeypatch)

    with pytest.raises(llm.APIError) as raised:
        _ = llm.model(target.model_id, client=client).stream("hi").response
    seen.error(raised.value)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError])
def test_connection_failures_and_timeouts_do_not_show_the_key(
    target: Target,
    failure: type[httpx.TransportError],
    key_from: str,
    seen: Seen,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _client(target, key_from, _raising(failure), seen, monkeypatch)

    with pytest.raises(llm.APIError):
        llm.model(target.model_id, client=client).call("hi")
    _call_and_stream(llm.model(target.model_id, client=client), seen)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_a_successful_call_and_stream_do_not_show_the_key(
    target: Target, key_from: str, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    replies = iter([_recorded(target, "test_call", "sync"), _recorded(target, "test_call", "stream")])
    answers = [_answering(reply) for reply in replies]
    client = _client(target, key_from, lambda request: answers.pop(0)(request), seen, monkeypatch)
    model = llm.model(target.model_id, client=client, temperature=0.5)

    response = model.call("hi")
    stream = model.stream("hi")
    for _ in stream:
        pass

    assert response.content
    assert stream.response.content
    seen.response(response)
    seen.response(stream.response)
    seen.objects(model, client, stream)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_async_calls_do_not_show_the_key(
    target: Target, key_from: str, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    client = _client(target, key_from, _answering(_auth_error(target)), seen, monkeypatch)
    model = llm.model(target.model_id, client=client)

    async def main() -> None:
        with pytest.raises(llm.AuthenticationError) as raised:
            await model.call_async("hi")
        seen.error(raised.value)
        with pytest.raises(llm.AuthenticationError) as raised:
            await model.stream_async("hi")
        seen.error(raised.value)

    asyncio.run(main())


class _Credentials:
    """Google credentials whose access token is the secret."""

    token = KEY
    valid = True

    def refresh(self, request: object) -> None:
        raise AssertionError("a valid token needs no refresh")


@pytest.mark.parametrize("how", ["access token", "credentials"])
def test_a_vertex_ai_token_echoed_in_an_error_is_redacted(
    how: str, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = TARGETS[3]
    settings: dict[str, Any] = {"vertexai": True, "project": "p"}
    if how == "access token":
        settings["api_key"] = KEY
    else:
        settings["credentials"] = _Credentials()
    client = _client(
        Target("google", target.model_id, "", target.recorded, tuple(settings.items())),
        "",
        _answering(_auth_error(target)),
        seen,
        monkeypatch,
    )

    with pytest.raises(llm.AuthenticationError) as raised:
        llm.model(target.model_id, client=client).call("hi")
    seen.error(raised.value)
    _call_and_stream(llm.model(target.model_id, client=client), seen)
