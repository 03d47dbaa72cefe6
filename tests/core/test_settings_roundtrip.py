"""Every call setting and every call parameter survives each way a call leads to the next.

The table below is made from `attrs.fields(CallSettings)` and `CallParams.__annotations__`:
a new setting or parameter fails `test_the_table_holds_every_setting_and_parameter` until it is
given a value here, and from then on is checked on every path. Each check reads what reached
the next request (a provider registered for the test writes everything it is given into the
body it sends to an in-process server), or, for the settings no request shows (`retries`,
`fallback`, `max_retries`, `continue_on_max_tokens`, `client`), the next response's `settings`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import httpx
import pytest
from mirascope import llm
from mirascope.llm.providers import Decoded, HTTPRequest, ParamHandling, Request, register, unregister
from mirascope.llm.providers.http import error_from_response
from mirascope.llm.providers.sse import ServerSentEvent
from mirascope.llm.settings import CallSettings

MODEL = "recorder:m"
OTHER = "recorder:other"


@llm.tool
def lookup(key: str) -> str:
    """Look a key up."""
    return key


_FORMAT = llm.response_model(int, mode="json")

# A value for every `CallSettings` field, other than its default: keyed by field name, given as
# the keyword argument that sets it.
SETTINGS: dict[str, tuple[str, Any]] = {
    "client": ("client", None),  # filled in per test: the test's own client
    "provider_params": ("provider_params", {"custom": "yes"}),
    "tools": ("tools", [lookup]),
    "provider_tools": ("tools", [llm.WebSearch()]),
    "format": ("response_model", _FORMAT),
    "max_retries": ("max_retries", 2),
    "continue_on_max_tokens": ("continue_on_max_tokens", 2),
    "retries": ("retries", 3),
    "fallback": ("fallback", [OTHER]),
}
# A value for every `CallParams` key, other than no value.
PARAMS: dict[str, Any] = {
    "temperature": 0.3,
    "max_tokens": 77,
    "top_p": 0.9,
    "top_k": 5,
    "seed": 11,
    "stop": ["END"],
    "thinking": llm.Thinking(budget_tokens=1024),
}
NOT_SERIALIZED = {"client", "tools", "provider_tools", "format", "max_retries", "continue_on_max_tokens", "retries"}
"""What `to_dict` leaves out: live objects, and the settings of the call rather than of its
reply (`fallback` too: see `llm.CallResponse.fallback`)."""
NOT_SERIALIZED |= {"fallback"}


class Recorder:
    """A provider that takes every parameter and writes everything it is given into the body."""

    name = "recorder"
    family = "recorder"
    api_key_env = None
    api_key_env_fallbacks = ()
    api_key_required = False
    parameters: Mapping[str, ParamHandling] = MappingProxyType(
        {key: ParamHandling.send(key) for key in llm.CallParams.__annotations__}
    )

    def base_url(self, options: Mapping[str, object]) -> str:
        return "http://recorder.test"

    def check_options(self, options: Mapping[str, object]) -> None:
        pass

    def headers(self, api_key: str | None, options: Mapping[str, object]) -> dict[str, str]:
        return {"content-type": "application/json"}

    def prepare(self, request: Request, client: llm.Client) -> HTTPRequest:
        params = {key: repr(value) for key, value in request.params.items()}
        body = {
            "model": request.model_id,
            "texts": [message.text for message in request.messages],
            "params": params,
            "provider_params": dict(request.provider_params),
            "tools": [tool.name for tool in request.tools],
            "provider_tools": [repr(tool) for tool in request.provider_tools],
            "format": None if request.format is None else repr(request.format.mode),
            "stream": request.stream,
        }
        return HTTPRequest(url=f"{client.base_url}/generate", body=body)

    def decode(self, request: Request, body: Any) -> Decoded:
        return _decoded(request, body["text"], body["finish"])

    def stream_decoder(self, request: Request) -> _StreamDecoder:
        return _StreamDecoder(request)

    def error(self, request: Request, response: httpx.Response) -> llm.APIError:
        return error_from_response(self, response)


def _decoded(request: Request, text: str, finish: str) -> Decoded:
    message = llm.Message(role="assistant", content=(llm.Text(text),), model=request.model_id)
    return Decoded(message=message, finish_reason="max_tokens" if finish == "length" else "stop")


class _StreamDecoder:
    def __init__(self, request: Request) -> None:
        self.request = request
        self.text = ""
        self.finish_reason = "stop"

    def event(self, event: ServerSentEvent) -> Sequence[llm.Chunk]:
        data = json.loads(event.data)
        self.text += data["text"]
        self.finish_reason = data["finish"]
        return [llm.Chunk(content=data["text"])]

    def finish(self) -> Decoded:
        return _decoded(self.request, self.text, self.finish_reason)


class Server:
    """Answers each request with the next scripted reply (then `'{"output": 42}'`), keeping the requests."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.replies: list[tuple[str, str]] = []
        self.client = llm.client(
            "recorder", base_url="http://recorder.test", http_client=httpx.Client(transport=httpx.MockTransport(self))
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.sent.append(body)
        text, finish = self.replies.pop(0) if self.replies else ('{"output": 42}', "stop")
        if body["stream"]:
            event = json.dumps({"text": text, "finish": finish})
            return httpx.Response(200, content=f"data: {event}\n\n", headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json={"text": text, "finish": finish})


@pytest.fixture
def server() -> Iterator[Server]:
    register("recorder", Recorder())
    try:
        yield Server()
    finally:
        unregister("recorder")


def _arguments(name: str, server: Server, *, parsed: bool = True) -> dict[str, Any]:
    """The keyword arguments of a call setting the setting or parameter `name`, with the base ones.

    The base: the test's client, and (when `parsed`) an `int` response model.
    """
    arguments: dict[str, Any] = {"client": server.client, "response_model": int if parsed else None}
    if name in SETTINGS:
        keyword, value = SETTINGS[name]
        arguments[keyword] = server.client if name == "client" else value
    else:
        arguments[name] = PARAMS[name]
    return arguments


def _expected(name: str, server: Server) -> Any:
    """What the settings (or parameters) of the next call hold for `name`."""
    if name in PARAMS:
        return PARAMS[name]
    if name == "client":
        return server.client
    if name == "format":
        return _FORMAT
    return getattr(CallSettings.from_arguments(**_arguments(name, server)), name)


def _assert_survived(name: str, server: Server, response: llm.CallResponse[Any], request: dict[str, Any]) -> None:
    """`name` has its value in `response`, the next call's, and in the request it sent."""
    expected = _expected(name, server)
    if name in PARAMS:
        assert response.params[name] == expected
        assert request["params"][name] == repr(expected)
        return
    kept = getattr(response.settings, name)
    if name in ("client", "format"):
        assert kept is expected
    elif name in ("tools", "provider_tools"):
        assert list(kept) == list(expected)
    else:
        assert kept == expected
    seen_in_request = {
        "provider_params": lambda: request["provider_params"] == expected,
        "tools": lambda: request["tools"] == [tool.name for tool in expected],
        "provider_tools": lambda: request["provider_tools"] == [repr(tool) for tool in expected],
        "format": lambda: request["format"] == repr(expected.mode),
    }
    assert seen_in_request.get(name, lambda: True)()


def _decorated(name: str, server: Server) -> Any:
    """A prompt function decorated with `llm.call`, setting `name`."""

    def ask() -> str:
        return "Hi"

    decorate: Any = llm.call(MODEL, **_arguments(name, server))
    return decorate(ask)


NAMES = sorted(attrs.fields_dict(CallSettings)) + sorted(llm.CallParams.__annotations__)


def test_the_table_holds_every_setting_and_parameter() -> None:
    assert set(SETTINGS) == set(attrs.fields_dict(CallSettings))
    assert set(PARAMS) == set(llm.CallParams.__annotations__)


@pytest.mark.parametrize("name", NAMES)
def test_resume_keeps_every_setting(name: str, server: Server) -> None:
    first = llm.model(MODEL, **_arguments(name, server)).call("Hi")

    second = first.resume("More")

    _assert_survived(name, server, second, server.sent[-1])
    assert server.sent[-1]["texts"][-1] == "More"


@pytest.mark.parametrize("name", NAMES)
def test_stream_resume_keeps_every_setting(name: str, server: Server) -> None:
    stream = llm.model(MODEL, **_arguments(name, server)).stream("Hi")
    list(stream)

    resumed = stream.resume("More")
    list(resumed)

    _assert_survived(name, server, resumed.response, server.sent[-1])
    assert server.sent[-1]["stream"] is True


@pytest.mark.parametrize("name", NAMES)
def test_continue_keeps_every_setting(name: str, server: Server) -> None:
    server.replies = [('{"output": 4', "length")] * 3  # cut, however often it is continued by itself
    first = llm.model(MODEL, **_arguments(name, server, parsed=False)).call("Hi")
    assert first.finish_reason == "max_tokens"
    server.replies = [("2}", "stop")]

    whole = first.continue_()

    _assert_survived(name, server, whole, server.sent[-1])
    assert whole.content.endswith("2}")


@pytest.mark.parametrize("name", NAMES)
def test_validate_keeps_every_setting(name: str, server: Server) -> None:
    server.replies = [("not a number", "stop")]
    response = llm.model(MODEL, **_arguments(name, server)).call("Hi")
    if name != "max_retries":  # with `max_retries`, the call validates by itself
        response = response.validate(max_retries=1)

    assert response.parse() == 42
    assert len(server.sent) == 2
    _assert_survived(name, server, response, server.sent[-1])


@pytest.mark.parametrize("name", NAMES)
def test_an_override_keeps_every_setting_it_does_not_change(name: str, server: Server) -> None:
    ask = _decorated(name, server)

    changed = llm.override(ask, model=OTHER)
    response = changed()

    assert response.model == OTHER
    _assert_survived(name, server, response, server.sent[-1])


@pytest.mark.parametrize("name", NAMES)
def test_a_context_block_keeps_every_setting_it_does_not_change(name: str, server: Server) -> None:
    ask = _decorated(name, server)

    with llm.context(model=OTHER):
        response = ask()
        resumed = response.resume("More")

    assert (response.model, resumed.model) == (OTHER, OTHER)
    _assert_survived(name, server, response, server.sent[-2])
    _assert_survived(name, server, resumed, server.sent[-1])


@pytest.mark.parametrize("name", NAMES)
def test_to_dict_keeps_the_parameters_and_provider_params_and_leaves_the_rest_out(name: str, server: Server) -> None:
    response = llm.model(MODEL, **_arguments(name, server)).call("Hi")

    restored = llm.CallResponse.from_dict(json.loads(json.dumps(response.to_dict(), default=repr)))

    if name in NOT_SERIALIZED:
        assert getattr(restored.settings, name) == getattr(CallSettings(), name)
    elif name == "provider_params":
        assert restored.provider_params == SETTINGS[name][1]
    else:
        assert name in PARAMS
        assert restored.params[name] == PARAMS[name]
    assert restored == response


def test_a_resumed_call_continues_a_reply_cut_at_max_tokens_as_a_direct_call_does(server: Server) -> None:
    model = llm.model(MODEL, client=server.client, continue_on_max_tokens=1)
    first = model.call("Hi")
    server.replies = [("Ala", "length"), ("bama.", "stop")]

    resumed = first.resume("A state?")

    assert (resumed.content, resumed.finish_reason) == ("Alabama.", "stop")
    assert len(server.sent) == 3


@pytest.mark.parametrize(
    "given",
    [{"max_retries": -1}, {"retries": -2}, {"fallback": ["gpt-4o"]}, {"thinking": "loud"}, {"client": "openai"}],
    ids=str,
)
def test_a_bad_setting_in_a_block_is_refused_where_it_is_written(given: dict[str, Any]) -> None:
    with pytest.raises(llm.Error), llm.context(**given):
        pass  # pragma: no cover - the block is never entered
