"""Every decoder against mutated recorded replies: whatever a provider sends, only `llm.Error`s escape.

The recorded successful replies of each provider (whole JSON bodies, and the event lists of
streams) are mutated structurally by hypothesis: keys dropped, values replaced by JSON of another
type, lists cut short or with an item repeated, one part of the reply copied over another,
strings turned to junk. Each mutant is answered to an ordinary call through an
`httpx.MockTransport`, and the response is read the way a user reads it. Decoding may succeed;
anything it raises must be an `llm.Error`, so that `except llm.Error` is enough around a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mirascope import llm

from tests.support.fixtures import fixtures_dir, load
from tests.support.scenarios import model_id_for, provider_for
from tests.support.structured import response_model_for

# Hypothesis runs hundreds of mutants per provider: seconds, so out of the `-m "not slow"` loop.
pytestmark = pytest.mark.slow

PROVIDERS = ("openai", "openai-completions", "anthropic", "google")

# Hypothesis runs derandomized (the same examples on every run) and keeps no database, so CI
# sees exactly what a developer sees. MIRASCOPE_FUZZ_EXAMPLES=5000 searches longer, by hand.
FUZZ = settings(
    max_examples=int(os.environ.get("MIRASCOPE_FUZZ_EXAMPLES", "175")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Case:
    """One recorded successful reply, and how to call for it."""

    model_id: str
    response_model: Any
    reply: Any
    """The JSON body, or for a stream the list of recorded events."""
    line_ending: str = "\n"


def _recorded(provider: str, stream: bool) -> Iterator[Case]:
    root = fixtures_dir() / "recorded"
    seen: set[str] = set()
    for path in sorted(root.glob("*/*/*.json")):
        if path.stem != ("stream" if stream else "sync"):
            continue
        fixture = load(path.relative_to(root).as_posix())
        try:
            if provider_for(fixture) != provider:
                continue
        except ValueError:
            continue
        format = fixture["scenario"].get("format")
        for exchange in fixture["exchanges"]:
            response = exchange["response"]
            reply = response.get("sse" if stream else "json")
            if response["status"] != 200 or reply is None:
                continue
            key = json.dumps(reply, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            yield Case(
                model_id=model_id_for(fixture),
                response_model=response_model_for(fixture) if format else None,
                reply=reply,
                line_ending=response.get("sse_line_ending", "\n"),
            )


class _Answer:
    """What the mock transport answers next: set before each call."""

    body = b""
    content_type = "application/json"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=self.body, headers={"content-type": self.content_type})


_answers: dict[str, _Answer] = {}


@functools.cache
def _client(provider: str) -> llm.Client:
    answer = _answers[provider] = _Answer()
    transport = httpx.MockTransport(answer)
    return llm.client(
        provider,
        base_url="http://fuzz.invalid",
        api_key="k",
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
    )


def _model(case: Case) -> llm.Model[Any]:
    provider = case.model_id.partition(":")[0]
    return llm.model(case.model_id, client=_client(provider), response_model=case.response_model)


def _read(response: llm.CallResponse[Any], case: Case) -> None:
    """Read the response as a user would."""
    _ = (response.content, response.tool_calls, response.thinking, response.usage, response.finish_reason)
    _ = (response.message, response.messages, response.images, response.cost, response.raw)
    json.dumps(response.to_dict())
    if case.response_model is not None:
        response.parse()


def _sse(events: object, line_ending: str) -> bytes:
    """An event stream carrying `events`, whatever their shape after mutation."""
    frames: list[str] = []
    for event in events if isinstance(events, list) else [events]:
        lines: list[str] = []
        if isinstance(event, dict):
            if "event" in event:
                lines.append(f"event: {' '.join(str(event['event']).split())}")
            data = event.get("data")
            if data is None and "data" not in event:
                if not lines:
                    continue
                data = ""
        else:
            data = event
        text = data if isinstance(data, str) else json.dumps(data)
        lines.extend(f"data: {line}" for line in re.split(r"\r\n|\r|\n", text))
        frames.append(line_ending.join(lines) + line_ending * 2)
    return "".join(frames).encode("utf-8", "surrogatepass")


def _answer(case: Case, reply: object, stream: bool) -> None:
    answer = _answers[case.model_id.partition(":")[0]]
    if stream:
        answer.body, answer.content_type = _sse(reply, case.line_ending), "text/event-stream"
    else:
        answer.body, answer.content_type = json.dumps(reply).encode(), "application/json"


@functools.cache
def _working_cases(provider: str, stream: bool) -> tuple[Case, ...]:
    """The recorded replies whose unmutated form decodes: a valid setup for every mutant."""
    working: list[Case] = []
    for case in _recorded(provider, stream):
        try:
            _call(case, case.reply, stream)
        except llm.Error:
            continue
        working.append(case)
    return tuple(working)


def _call(case: Case, reply: object, stream: bool) -> None:
    model = _model(case)
    _answer(case, reply, stream)
    if stream:
        with model.stream("hi") as streamed:
            for chunk in streamed:
                _ = (chunk.content, chunk.thinking, chunk.tool_call_delta, chunk.usage, chunk.finish_reason)
            _read(streamed.response, case)
            _ = streamed.tool_calls
    else:
        _read(model.call("hi"), case)


# -- mutations ---------------------------------------------------------------------------------

_JUNK = st.sampled_from(["", " ", "\x00", "\ud800", "\u202e", "💥", "[DONE]", "null", "{", '{"a":', "\n\n", "data: x"])
_TEXT = st.text(max_size=8) | _JUNK
_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
_JSON = st.recursive(
    _LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
_OPS = ("drop", "replace", "truncate", "duplicate", "swap", "junk")


def _paths(value: object, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _get(root: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        root = root[key]
    return root


def _set(root: Any, path: tuple[Any, ...], value: object) -> Any:
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


def _mutate(data: st.DataObject, root: Any) -> Any:
    paths = list(_paths(root))
    path = data.draw(st.sampled_from(paths), label="path")
    node = _get(root, path)
    op = data.draw(st.sampled_from(_OPS), label="op")
    if op == "drop" and path:
        parent = _get(root, path[:-1])
        if isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
        return root
    if op == "truncate" and isinstance(node, list | str) and node:
        return _set(root, path, node[: data.draw(st.integers(0, len(node) - 1), label="keep")])
    if op == "duplicate" and isinstance(node, list) and node:
        item = copy.deepcopy(data.draw(st.sampled_from(node), label="item"))
        node.insert(data.draw(st.integers(0, len(node)), label="at"), item)
        return root
    if op == "swap":
        other = copy.deepcopy(_get(root, data.draw(st.sampled_from(paths), label="from")))
        return _set(root, path, other)
    if op == "junk":
        return _set(root, path, data.draw(_TEXT, label="junk"))
    return _set(root, path, data.draw(_JSON, label="value"))


def _mutant(data: st.DataObject, case: Case) -> Any:
    reply = copy.deepcopy(case.reply)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        reply = _mutate(data, reply)
    return reply


def _fuzz(provider: str, stream: bool, data: st.DataObject) -> None:
    cases = _working_cases(provider, stream)
    case = data.draw(st.sampled_from(cases), label="recording")
    reply = _mutant(data, case)
    # A clear failure is fine; anything else escaping is the bug this test looks for.
    with contextlib.suppress(llm.Error):
        _call(case, reply, stream)


# -- tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_provider_has_recorded_replies_to_mutate(provider: str) -> None:
    assert len(_working_cases(provider, False)) >= 10
    assert len(_working_cases(provider, True)) >= 5


@pytest.mark.parametrize("provider", PROVIDERS)
@FUZZ
@given(data=st.data())
def test_a_mutated_reply_raises_nothing_but_llm_errors(provider: str, data: st.DataObject) -> None:
    _fuzz(provider, False, data)


@pytest.mark.parametrize("provider", PROVIDERS)
@FUZZ
@given(data=st.data())
def test_a_mutated_stream_raises_nothing_but_llm_errors(provider: str, data: st.DataObject) -> None:
    _fuzz(provider, True, data)


# -- what the guard makes of a reply no decoder can read ---------------------------------------


_MODELS = {
    "openai": "openai:gpt-4o",
    "openai-completions": "openai-completions:gpt-4o",
    "anthropic": "anthropic:claude-sonnet-4-0",
    "google": "google:gemini-2.5-flash",
}


def _garbled(provider: str, stream: bool) -> llm.Model[Any]:
    """A model whose provider answers JSON of a shape no decoder reads: a list, not an object."""
    model = _model(Case(model_id=_MODELS[provider], response_model=None, reply=None))
    answer = _answers[provider]
    if stream:
        answer.body, answer.content_type = b'data: ["not", "an", "event"]\n\n', "text/event-stream"
    else:
        answer.body, answer.content_type = b'["not", "a", "reply"]', "application/json"
    return model


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_reply_of_the_wrong_shape_is_an_api_error_naming_the_provider_and_keeping_the_body(
    provider: str,
) -> None:
    model = _garbled(provider, stream=False)

    with pytest.raises(llm.APIError) as raised:
        model.call("hi")

    error = raised.value
    assert type(error) is llm.APIError
    assert error.provider == provider
    assert error.status_code == 200
    assert error.body == ["not", "a", "reply"]
    assert "could not be decoded" in str(error)
    assert isinstance(error.__cause__, AttributeError)  # the decoder's own failure, chained


def test_a_field_of_the_wrong_type_is_an_api_error_naming_the_field_not_a_later_crash() -> None:
    model = _model(Case(model_id=_MODELS["openai-completions"], response_model=None, reply=None))
    reply = {
        "choices": [{"message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": "5", "completion_tokens": 2},
    }
    _answers["openai-completions"].body = json.dumps(reply).encode()
    _answers["openai-completions"].content_type = "application/json"

    with pytest.raises(llm.APIError, match="usage's input_tokens is str, not int") as raised:
        model.call("hi")

    assert raised.value.body == reply


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_stream_event_of_the_wrong_shape_is_an_api_error_keeping_the_event(provider: str) -> None:
    stream = _garbled(provider, stream=True).stream("hi")

    with pytest.raises(llm.APIError) as raised:
        _ = stream.response

    error = raised.value
    assert error.provider == provider
    assert error.status_code == 200
    assert error.body == '["not", "an", "event"]'
    assert "could not be decoded" in str(error)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_async_calls_and_streams_turn_an_unreadable_reply_into_an_api_error(provider: str) -> None:
    async def main() -> None:
        with pytest.raises(llm.APIError, match="could not be decoded"):
            await _garbled(provider, stream=False).call_async("hi")
        stream = await _garbled(provider, stream=True).stream_async("hi")
        with pytest.raises(llm.APIError, match="could not be decoded"):
            await stream.aresponse()

    asyncio.run(main())
