"""Structured output on every provider, against the real recordings.

Each case makes the user-level call with the scenario's response model, asked for the way the
recording asked (native schema, forced tool, JSON mode; strict or not), and checks that the
request asks for the same output with the same messages, that `parse()` gives what the scenario
expects, and, for the multi-turn scenarios, that what goes back to the provider is what the
recorded library sent.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest
from mirascope import llm

from tests.support.fixtures import find, load
from tests.support.meaning import structured_comparable
from tests.support.replay import ReplayServer
from tests.support.scenarios import client_for, messages_for, model_id_for, params_for
from tests.support.structured import (
    Author,
    Book,
    BookReview,
    IntegerAdditionResponse,
    LuckyNumber,
    RatedBook,
    customAdditionImplementation,
    recorded_mode,
    response_model_for,
)

MODES = ("sync", "async", "stream", "async_stream")
SINGLE = find(
    (
        "test_structured_output",
        "test_structured_output__json",
        "test_structured_output__strict",
        "test_structured_output__tool",
        "test_structured_output_with_formatting_instructions",
        "test_structured_output_with_formatting_instructions__json",
        "test_structured_output_with_formatting_instructions__strict",
        "test_structured_output_with_formatting_instructions__tool",
        "test_structured_output_with_primitive_types_int",
        "test_structured_output_with_primitive_types_list",
        "test_structured_output_with_output_parser",
        "test_strict_mode",
        "test_strict_mode_streamed",
        "test_strict_mode_with_thinking",
        "test_strict_mode_with_streamed_thinking",
        "test_structured_stream_sync",
        "test_structured_stream_async",
    ),
    MODES,
)
RESUME = find(
    (
        "test_structured_output_resume",
        "test_structured_output_resume__json",
        "test_structured_output_resume__strict",
        "test_structured_output_resume__tool",
        "test_structured_output_resume_stream",
        "test_structured_output_resume_stream__json",
        "test_structured_output_resume_stream__strict",
        "test_structured_output_resume_stream__tool",
    ),
    MODES,
)
RETRY = find(("test_validation_retry", "test_call_with_parse_error"), MODES)
WITH_TOOLS = find(("test_strict_mode_with_tools", "test_strict_mode_with_tools_streamed"), MODES)

THE_NAME_OF_THE_WIND = Book(title="THE NAME OF THE WIND", author=Author("Patrick", "Rothfuss"), rating=7)


def _model(fixture: dict[str, Any], client: llm.Client, **extra: Any) -> llm.Model[Any]:
    return llm.model(
        model_id_for(fixture), client=client, response_model=response_model_for(fixture), **params_for(fixture), **extra
    )


def _turns(
    model: llm.Model[Any],
    mode: str,
    client: llm.Client,
    first: list[llm.Message],
    then: list[Any],
) -> list[tuple[llm.CallResponse[Any] | llm.AsyncCallResponse[Any], Any]]:
    """Call, then resume with each of `then` (text, or `"tools"` to run the reply's tools):
    each turn's response and its parsed reply (or the `llm.ParseError`)."""

    def parsed(response: Any) -> Any:
        try:
            return response.parse()
        except llm.ParseError as error:
            return error

    if mode in ("async", "async_stream"):

        async def run() -> list[tuple[Any, Any]]:
            turns: list[tuple[Any, Any]] = []
            async with client:
                if mode == "async":
                    response: Any = await model.call_async(first)
                    turns.append((response, parsed(response)))
                    for step in then:
                        step = await response.execute_tools() if step == "tools" else step
                        response = await response.resume(step)
                        turns.append((response, parsed(response)))
                    return turns
                stream: Any = await model.stream_async(first)
                for step in [None, *then]:
                    if step is not None:
                        step = await stream.execute_tools() if step == "tools" else step
                        stream = await stream.resume(step)
                    [chunk async for chunk in stream]
                    response = await stream.aresponse()
                    turns.append((response, parsed(response)))
                return turns

        return asyncio.run(run())
    turns: list[tuple[Any, Any]] = []
    with client:
        if mode == "sync":
            response: Any = model.call(first)
            turns.append((response, parsed(response)))
            for step in then:
                response = response.resume(response.execute_tools() if step == "tools" else step)
                turns.append((response, parsed(response)))
            return turns
        stream: Any = model.stream(first)
        for step in [None, *then]:
            if step is not None:
                stream = stream.resume(stream.execute_tools() if step == "tools" else step)
            list(stream)
            turns.append((stream.response, parsed(stream.response)))
        return turns


def _expected(fixture: dict[str, Any]) -> dict[str, Any] | None:
    return (fixture["scenario"].get("expected") or {}).get("parsed")


def _comparable(body: dict[str, Any]) -> Any:
    # How a thinking level maps to each provider's setting is the thinking tests' subject.
    config = body.get("generationConfig")
    if config:
        body = {**body, "generationConfig": {k: v for k, v in config.items() if k != "thinkingConfig"}}
    return structured_comparable(body)


def _check_requests(session: Any, exchanges: list[dict[str, Any]]) -> None:
    assert len(session.requests) == len(exchanges)
    for sent, exchange in zip(session.requests, exchanges, strict=True):
        assert _comparable(sent.json()) == _comparable(exchange["request"]["json"])


def _replayed(
    path: str, replay_server: ReplayServer, tmp_path: Path, then: list[Any], **extra: Any
) -> list[tuple[Any, Any]]:
    """The recorded scenario's turns, made against its replies; the requests are checked too."""
    fixture = load(path)
    client = client_for(fixture, replay_server.url)
    exchanges = fixture["exchanges"]
    model = _model(fixture, client, **extra)
    with replay_server.replaying([exchange["response"] for exchange in exchanges]) as session:
        turns = _turns(model, Path(path).stem, client, messages_for(fixture, tmp_path), then)
    _check_requests(session, exchanges)
    return turns


def test_every_structured_scenario_has_recordings() -> None:
    assert len(SINGLE) >= 100
    assert len(RESUME) >= 30
    assert len(RETRY) >= 20
    assert len(WITH_TOOLS) == 4


@pytest.mark.parametrize("path", SINGLE)
def test_structured_output_is_asked_for_as_recorded_and_parses_into_the_response_model(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    [(response, parsed)] = _replayed(path, replay_server, tmp_path, [])

    scenario = path.split("/")[0]
    assert not isinstance(parsed, llm.ParseError), parsed
    if scenario.startswith("test_structured_output__") or scenario == "test_structured_output":
        assert parsed == THE_NAME_OF_THE_WIND
    elif scenario.startswith("test_structured_output_with_formatting_instructions"):
        assert (parsed.title, parsed.author, parsed.rating) == ("THE NAME OF THE WIND", "Patrick Rothfuss", 7)
    elif scenario.startswith("test_strict_mode"):
        assert isinstance(parsed, IntegerAdditionResponse)
        assert parsed.answer == _expected(fixture)["answer"] == 4  # type: ignore[index]
    elif scenario.endswith("_int"):
        assert isinstance(parsed, int)
        assert 1 <= parsed <= 100
    elif scenario.endswith("_list"):
        assert len(parsed) == 3
        assert all(isinstance(book, RatedBook) and book.rating == 7 for book in parsed)
    elif scenario.startswith("test_structured_stream"):
        assert isinstance(parsed, BookReview)
        assert parsed.themes
    else:  # the XML output parser
        assert parsed == RatedBook(title="The Name of the Wind", rating=7)
    # The answer is the reply's text, whichever way it was asked for: no tool call is left to run.
    assert response.tool_calls == []
    assert response.finish_reason == "stop"


@pytest.mark.parametrize("path", RESUME)
def test_a_structured_reply_resumes_with_its_answer_as_text_and_parses_again(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    turns = _replayed(path, replay_server, tmp_path, ["Ok, now choose a different lucky number"])

    (first, number), (second, other) = turns
    assert isinstance(number, int)
    assert isinstance(other, int)
    assert 1 <= min(number, other) <= max(number, other) <= 10
    assert second.messages[: len(first.messages)] == first.messages


@pytest.mark.parametrize("path", RETRY)
def test_a_reply_that_does_not_parse_is_asked_for_again_with_the_reason(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    client = client_for(fixture, replay_server.url)
    exchanges = fixture["exchanges"]
    mode = Path(path).stem
    model = _model(fixture, client, max_retries=len(exchanges) - 1)
    messages = messages_for(fixture, tmp_path)

    with replay_server.replaying([exchange["response"] for exchange in exchanges]) as session:
        if mode == "sync":
            with client:
                response: Any = model.call(messages)
                parsed = response.parse()
        elif mode == "async":

            async def run() -> tuple[Any, Any]:
                async with client:
                    response = await model.call_async(messages)
                    return response, response.parse()

            response, parsed = asyncio.run(run())
        elif mode == "stream":
            with client:
                parsed = model.stream(messages).parse()
        else:

            async def run_stream() -> Any:
                async with client:
                    return await (await model.stream_async(messages)).parse()

            parsed = asyncio.run(run_stream())

    assert len(session.requests) == len(exchanges)
    for sent, exchange in zip(session.requests, exchanges, strict=True):
        *before, retry = structured_comparable(sent.json())[_messages_key(exchange)]
        *recorded, recorded_retry = structured_comparable(exchange["request"]["json"])[_messages_key(exchange)]
        if sent is session.requests[0]:
            assert [*before, retry] == [*recorded, recorded_retry]
        else:
            # Our retry message words the reason our way; the conversation before it is the recording's.
            assert before == recorded
            reason = "173" if "validation" in path else "cake"
            assert reason in str(retry)
    if "validation" in path:
        assert parsed == LuckyNumber(173)
    else:
        assert parsed == "cake"


def _messages_key(exchange: dict[str, Any]) -> str:
    body = exchange["request"]["json"]
    return next(key for key in ("messages", "input", "contents") if key in body)


@pytest.mark.parametrize("path", WITH_TOOLS)
def test_strict_structured_output_and_a_tool_loop_end_in_the_parsed_answer(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    first_request = fixture["exchanges"][0]["request"]["json"]
    strict_tool = '"strict": true' in str(first_request.get("tools")).replace("True", "true").replace("'", '"')
    tool = llm.tool(strict=True)(customAdditionImplementation.fn) if strict_tool else customAdditionImplementation

    (first, before), (_, answer) = _replayed(path, replay_server, tmp_path, ["tools"], tools=[tool])

    assert [call.name for call in first.tool_calls] == ["customAdditionImplementation"]
    assert first.finish_reason == "tool_call"
    assert isinstance(before, llm.ParseError)  # a tool call is not the answer
    assert answer == IntegerAdditionResponse(integer_a=2, integer_b=3, answer=13)
    assert answer.answer == _expected(fixture)["answer"]  # type: ignore[index]


# Only this scenario: in the resume scenario's older recordings, the recording library still
# asked Claude Sonnet 4.5 by a forced tool, before it knew the model's native structured outputs.
DEFAULTS = find(("test_structured_output",), ("sync",))


@pytest.mark.parametrize("path", DEFAULTS)
def test_without_a_mode_each_model_is_asked_the_way_the_recording_chose(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    client = client_for(fixture, replay_server.url)
    model = llm.model(model_id_for(fixture), client=client, response_model=Book)
    exchange = fixture["exchanges"][0]

    with replay_server.replaying([exchange["response"]]) as session, client:
        assert model.call(messages_for(fixture, tmp_path)).parse() is not None

    assert recorded_mode(session.requests[0].json())[0] == recorded_mode(exchange["request"]["json"])[0]
    assert structured_comparable(session.requests[0].json()) == structured_comparable(exchange["request"]["json"])


PARTIALS = find(("test_structured_stream_sync", "test_structured_stream_async"), ("stream",))


@pytest.mark.parametrize("path", PARTIALS)
def test_a_structured_stream_yields_partial_objects_as_fields_arrive_then_the_parsed_one(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    client = client_for(fixture, replay_server.url)
    model = _model(fixture, client)
    exchange = fixture["exchanges"][0]
    is_async = "async" in path.split("/")[0]

    with replay_server.replaying([exchange["response"]]):
        if is_async:

            async def run() -> list[BookReview]:
                async with client:
                    return [
                        partial
                        async for partial in (await model.stream_async(messages_for(fixture, tmp_path))).partials()
                    ]

            partials = asyncio.run(run())
        else:
            with client:
                partials = list(model.stream(messages_for(fixture, tmp_path)).partials())

    *growing, final = partials
    assert isinstance(final, BookReview)
    assert final.title in ("The Midnight Library", "The Great Gatsby")  # what each recording chose
    assert len(growing) >= 5
    assert all(type(partial) is BookReview for partial in growing)
    # Fields fill in order, each one's text only ever growing, and nothing arrives twice.
    for before, after in itertools.pairwise(growing):
        assert before != after
        for field in ("title", "author"):
            old, new = getattr(before, field), getattr(after, field)
            assert old is None or new.startswith(old)
        assert before.themes is None or after.themes[: len(before.themes) - 1] == before.themes[:-1]
    assert growing[0].author is None
    assert growing[0].rating is None
    assert any(partial.themes and partial.rating is None for partial in growing)
    assert growing[-1].themes == final.themes
