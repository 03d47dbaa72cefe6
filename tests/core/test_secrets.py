"""API keys never show: not in errors, reprs, logs, `to_dict()` output or raw bodies.

Each provider is called with a distinctive key, given to `llm.client` or read from the
environment, against an `httpx.MockTransport` that fails in every way a call can fail (a
rejected key echoed back in the error body and headers, as some providers and proxies do, an
error event inside a stream echoing it, a refused connection, a timeout) or succeeds, and
against a real HTTP server on 127.0.0.1 (so that httpx and httpcore log as they do for real).
Everything a user might print or log is gathered (the error, every exception chained to it and
the request it may hold, its `partial_response` and that response's `to_dict()`, its
traceback, every log record at DEBUG), and the key is looked for in all of it.
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

from tests.support.faults import FaultServer, error_json, reset, stall, status
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

    def __init__(self, secrets: tuple[str, ...] = (KEY, KEY[8:])) -> None:
        self.texts: list[str] = []
        self.sent_keys = 0
        self.secrets = secrets

    def error(self, error: BaseException) -> None:
        assert isinstance(error, llm.Error), error
        self.texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        self.texts.append(repr(vars(error)))
        if isinstance(error, llm.APIError):
            self.texts += [json.dumps(error.body, default=repr), json.dumps(error.headers)]
            if error.partial_response is not None:
                self.response(error.partial_response)
        for linked in _chain(error):
            self.texts += [str(linked), repr(linked), repr(getattr(linked, "__dict__", {}))]
            try:  # httpx's exceptions keep the request they failed on
                request: httpx.Request | None = getattr(linked, "request", None)
            except RuntimeError:
                request = None
            if request is not None:
                self.texts += [repr(dict(request.headers)), str(request.url)]

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
        leaks = [text for text in self.texts if any(secret in text for secret in self.secrets)]
        assert not leaks, leaks[0]


def _chain(error: BaseException) -> list[BaseException]:
    """Every exception chained to `error`, as causes or contexts, however deep."""
    found: list[BaseException] = []
    pending = [error.__cause__, error.__context__]
    while pending:
        linked = pending.pop()
        if linked is None or any(linked is seen for seen in found):
            continue
        found.append(linked)
        pending += [linked.__cause__, linked.__context__]
    return found


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


def _error_event(target: Target) -> dict[str, Any]:
    """An error sent inside the stream, in the provider's own shape, echoing the key."""
    message = f"Incorrect API key provided: {KEY}"
    if target.recorded.endswith("_responses"):
        return {"event": "error", "data": {"type": "error", "code": "invalid_api_key", "message": message}}
    if target.recorded.startswith("anthropic"):
        error = {"type": "authentication_error", "message": message}
        return {"event": "error", "data": {"type": "error", "error": error}}
    if target.recorded.startswith("google"):
        return {"data": {"error": {"code": 401, "message": message, "status": "UNAUTHENTICATED"}}}
    return {"data": {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}}}


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_a_key_echoed_in_an_error_event_inside_a_stream_is_redacted(
    target: Target, key_from: str, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = _recorded(target, "test_call", "stream")
    response["sse"] = [*response["sse"][:2], _error_event(target)]
    client = _client(target, key_from, _answering(response), seen, monkeypatch)

    stream = llm.model(target.model_id, client=client).stream("hi")
    with pytest.raises(llm.APIError) as raised:
        for _ in stream:
            pass
    seen.error(raised.value)

    error = raised.value
    assert "[redacted]" in str(error)
    assert error.partial_response is not None  # what arrived before the error is kept, redacted
    assert "[redacted]" in json.dumps(error.partial_response.to_dict())


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_an_undecodable_event_echoing_the_key_is_redacted(
    target: Target, key_from: str, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = _recorded(target, "test_call", "stream")
    response["sse"] = [*response["sse"][:2], {"raw": f"data: {{not json, key {KEY}"}]
    client = _client(target, key_from, _answering(response), seen, monkeypatch)

    with pytest.raises(llm.APIError) as raised:
        _ = llm.model(target.model_id, client=client).stream("hi").response
    seen.error(raised.value)


# --- Against a real server: httpx and httpcore log as they do for real, and our own httpx client
# carries the auth headers (not the request, as with a user's `http_client`).


def _real_client(target: Target, server: FaultServer, **settings: Any) -> llm.Client:
    return llm.client(
        target.provider, api_key=KEY, base_url=server.url, max_retries=0, **dict(target.options), **settings
    )


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_reply_headers_echoing_the_key_stay_out_of_httpx_and_httpcore_debug_logs(
    target: Target, seen: Seen, caplog: pytest.LogCaptureFixture
) -> None:
    echo = {"x-echo": f"you sent {KEY}", "x-api-key": KEY, "authorization": f"Bearer {KEY}"}
    reply = _recorded(target, "test_call", "sync")
    with FaultServer() as server:
        server.script(
            status(401, json.dumps(_auth_error(target)["json"]), headers=echo, content_type="application/json"),
            status(200, json.dumps(reply["json"]), headers=echo, content_type="application/json"),
        )
        model = llm.model(target.model_id, client=_real_client(target, server))
        with pytest.raises(llm.AuthenticationError) as raised:
            model.call("hi")
        seen.error(raised.value)
        seen.response(model.call("hi"))
        seen.sent_keys = server.count

    logged = caplog.text
    assert "receive_response_headers.complete" in logged  # httpcore did log the reply headers
    assert "[redacted]" in logged


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
@pytest.mark.parametrize("failure", ["refused", "reset", "timeout"])
def test_connection_failures_keep_no_request_with_the_key_in_the_cause_chain(
    target: Target, failure: str, seen: Seen
) -> None:
    with FaultServer() as server:
        server.script(*([reset()] if failure == "reset" else [stall()]) * 2)
        client = _real_client(target, server, timeout=llm.Timeout(read=0.2))
        if failure == "refused":
            server.close()
        model = llm.model(target.model_id, client=client)
        for call in (lambda: model.call("hi"), lambda: model.stream("hi")):
            with pytest.raises(llm.APIError) as raised:
                call()
            seen.error(raised.value)
            causes = _chain(raised.value)
            assert causes, "the network failure is chained"
            for cause in causes:
                if isinstance(cause, httpx.HTTPError):
                    with pytest.raises(RuntimeError):
                        _ = cause.request
        seen.sent_keys = 1  # sent by our own httpx client; a refused connection never reaches a server


PASSWORD = "pa55-SECRET-word-987654"


def test_a_password_in_base_url_shows_in_no_repr_error_or_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seen = Seen((PASSWORD,))
    with FaultServer() as server:
        url = server.url.replace("http://", f"http://user:{PASSWORD}@") + "/v1"
        server.script(error_json(401, f"bad credentials for user:{PASSWORD}"), stall())
        client = llm.client(
            "openai-completions", base_url=url, api_key=KEY, max_retries=0, timeout=llm.Timeout(read=0.2)
        )
        model = llm.model("openai-completions:gpt-4o", client=client)
        seen.objects(client, model)
        assert "user:[redacted]@127.0.0.1" in repr(client)
        with pytest.raises(llm.AuthenticationError) as echoed:
            model.call("hi")
        seen.error(echoed.value)
        assert echoed.value.message.startswith("bad credentials for ")
        assert echoed.value.message.endswith("[redacted]")
        with pytest.raises(llm.TimeoutError) as timed_out:
            model.call("hi")
        seen.error(timed_out.value)
        assert "user:[redacted]@" in timed_out.value.message
        seen.sent_keys = server.count
    server_gone = llm.client("openai-completions", base_url=url, api_key=KEY, max_retries=0)
    with pytest.raises(llm.ConnectionError) as refused:
        llm.model("openai-completions:gpt-4o", client=server_gone).call("hi")
    seen.error(refused.value)
    assert "user:[redacted]@" in str(refused.value)
    seen.logs(caplog)
    assert "HTTP Request: POST" in caplog.text  # httpx logged the URL, less its password
    seen.assert_no_key()
