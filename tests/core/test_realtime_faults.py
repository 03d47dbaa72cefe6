"""Realtime sessions against a misbehaving server: byte-level faults on a real WebSocket server.

Messages split across frames, ids answered out of order, event types nobody knows yet, a close
in the middle of the model's speech, a server that never answers, a refused handshake, nothing
listening, and a server that stops answering keepalive pings.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import socket
import uuid
from typing import Any

import pytest
from mirascope import llm
from websockets.exceptions import ConnectionClosedError

from tests.core.test_realtime_replay import (
    KEY,
    MODELS,
    SCRIPTS,
    Provider,
    Script,
    check_events,
    check_sent,
    make_client,
    replay,
)
from tests.support.realtime_meaning import read, same_meaning
from tests.support.ws_replay import (
    Faults,
    Recording,
    Refusal,
    ReplayServer,
    Step,
    ThreadedReplayServer,
    iter_received_frames,
    load_recording,
)

TEXT_TURN = {
    "openai": "test_openai_ws/test_text_in_audio_out_turn",
    "azure": "test_azure_ws/test_text_in_audio_out_turn",
    "google": "test_google_ws/test_text_in_audio_out_turn",
}
SPLIT = [
    "test_openai_ws/test_text_in_audio_out_turn",
    "test_openai_ws/test_tool_call_round",
    "test_google_ws/test_tool_call_round",
    "test_google_ws/test_text_in_audio_out_turn",
]


def session_for(script: Script, port: int, **client_options: Any) -> Any:
    return llm.realtime(
        MODELS[script.provider],
        instructions=script.instructions,
        tools=list(script.tools),
        output=script.output,
        input_transcription=script.input_transcription,
        client=make_client(script.provider, port, **client_options),
    )


# --- frames -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SPLIT)
@pytest.mark.parametrize("size", [1, 7, 500])
def test_messages_split_across_frames_give_the_same_events(name: str, size: int) -> None:
    whole = asyncio.run(replay(name))
    split = asyncio.run(replay(name, faults=Faults(fragment=size)))
    check_sent(split)
    check_events(split)
    assert split.events == whole.events
    assert split.messages == whole.messages


def test_a_character_split_between_binary_frames_arrives_whole() -> None:
    """Gemini Live sends binary frames of UTF-8 JSON: a fragment may end inside a character."""
    name = "test_google_ws/test_text_in_audio_out_turn"
    recording = load_recording(name)
    words = "Grüße aus 東京 — ça va? 👋"
    steps = [
        Step(step.direction, {"serverContent": {"outputTranscription": {"text": words}}})
        if step.direction == "received" and "outputTranscription" in (step.data.get("serverContent") or {})
        else step
        for step in recording.steps
    ]
    changed = Recording(name=name, steps=tuple(steps), protocol="google")
    outcome = asyncio.run(replay(name, recording=changed, faults=Faults(fragment=1, utf8=True)))
    check_events(outcome)
    transcript = "".join(e.text for e in outcome.events if isinstance(e, llm.realtime.OutputTranscript))
    assert transcript == words


# --- ids out of order -----------------------------------------------------------------------------


def _is(step: Step, direction: str, kind: str) -> bool:
    return step.direction == direction and step.data.get("type") == kind


def two_calls_answered_out_of_order() -> Recording:
    """The OpenAI tool round with a second call (Paris): the calls finish in the other order."""
    recording = load_recording("test_openai_ws/test_tool_call_round")
    steps = list(recording.steps)
    done_at = next(
        i
        for i, s in enumerate(steps)
        if s.direction == "received" and s.data["type"] == "response.function_call_arguments.done"
    )
    london = steps[done_at].data
    paris = {**london, "call_id": "call_paris", "item_id": "item_paris", "output_index": 1}
    paris["arguments"] = '{"city": "Paris"}'
    output_at = next(
        i
        for i, s in enumerate(steps)
        if s.direction == "sent"
        and s.data["type"] == "conversation.item.create"
        and s.data["item"]["type"] == "function_call_output"
    )
    london_output = steps[output_at].data
    paris_output = copy.deepcopy(london_output)
    paris_output["item"]["call_id"] = "call_paris"
    paris_output["item"]["output"] = "It is foggy and 12 degrees in Paris."
    # Paris (the second call) finishes first; each output is sent as its call finishes.
    steps[done_at : output_at + 1] = [
        Step("received", paris),
        Step("sent", paris_output),
        *steps[done_at:output_at],
        Step("sent", london_output),
    ]
    for index, step in enumerate(steps):
        if step.direction == "received" and step.data["type"] == "response.done":
            response = step.data["response"]
            if any(item["type"] == "function_call" for item in response["output"]):
                extra = {
                    **response["output"][0],
                    "id": "item_paris",
                    "call_id": "call_paris",
                    "arguments": paris["arguments"],
                }
                data = copy.deepcopy(step.data)
                data["response"]["output"].append(extra)
                steps[index] = Step("received", data)
    return Recording(name=recording.name, steps=tuple(steps), protocol="openai")


def test_tool_calls_finishing_out_of_order_are_answered_by_id() -> None:
    name = "test_openai_ws/test_tool_call_round"
    recording = two_calls_answered_out_of_order()
    outcome = asyncio.run(replay(name, recording=recording, script=SCRIPTS[name]))
    outcome.connection.check()
    uses = [event.call for event in outcome.events if isinstance(event, llm.realtime.ToolUse)]
    assert [(call.id, call.args) for call in uses] == [
        ("call_paris", {"city": "Paris"}),
        ("call_uMNE0Myi2tDTPu0w", {"city": "London"}),
    ]
    results = {
        event.output.id: event.output.result for event in outcome.events if isinstance(event, llm.realtime.ToolResult)
    }
    assert results == {
        "call_paris": "It is foggy and 12 degrees in Paris.",
        "call_uMNE0Myi2tDTPu0w": "It is foggy and 12 degrees in London.",
    }
    sent_outputs = {
        message.data["item"]["call_id"]: message.data["item"]["output"]
        for message in outcome.connection.messages
        if message.data.get("type") == "conversation.item.create"
        and message.data["item"]["type"] == "function_call_output"
    }
    assert sent_outputs == results
    # Each output went out as its call finished, and the reply was asked for once, after both.
    differences = [same_meaning(recorded, sent.data) for recorded, sent in outcome.connection.sent_pairs]
    assert differences == [None] * len(differences)
    calls = [part for message in outcome.messages for part in message.content if isinstance(part, llm.ToolCall)]
    assert {call.id for call in calls} == set(results)


def test_gemini_tool_calls_are_answered_by_id_whatever_their_order() -> None:
    """Two calls in one toolCall, the second listed first: one toolResponse, each output under its call's id."""
    name = "test_google_ws/test_tool_call_round"
    recording = load_recording(name)
    steps = list(recording.steps)
    at = next(i for i, s in enumerate(steps) if s.direction == "received" and "toolCall" in s.data)
    first = steps[at].data["toolCall"]["functionCalls"][0]
    second = {"name": "record_reading", "args": {"zqx_measurement": 7}, "id": "function-call-2"}
    steps[at] = Step("received", {"toolCall": {"functionCalls": [second, first]}})
    recorded = steps[at + 1].data
    answer = copy.deepcopy(recorded)
    answer["tool_response"]["functionResponses"] = [
        {"id": "function-call-2", "name": "record_reading", "response": {"output": "Recorded 7 (None)."}},
        *recorded["tool_response"]["functionResponses"],
    ]
    steps[at + 1] = Step("sent", answer)
    outcome = asyncio.run(replay(name, recording=Recording(name=name, steps=tuple(steps), protocol="google")))
    outcome.connection.check()
    sent = outcome.connection.sent_pairs[2][1].data
    responses = (sent.get("toolResponse") or sent.get("tool_response"))["functionResponses"]
    assert {item["id"]: item["response"] for item in responses} == {
        "function-call-2": {"output": "Recorded 7 (None)."},
        first["id"]: {"output": "Recorded 5 (steady)."},
    }


# --- unknown event types ---------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "google"])
def test_unknown_event_types_are_ignored_and_logged_once(provider: Provider, caplog: pytest.LogCaptureFixture) -> None:
    name = TEXT_TURN[provider]
    kind = f"future_event_{uuid.uuid4().hex[:8]}"
    if provider == "google":
        unknown: dict[str, Any] = {kind: {"detail": 1}}
    else:
        unknown = {"type": f"response.{kind}", "event_id": "event_x", "payload": {"a": [1, 2]}}
    received = len(load_recording(name).received)
    inject = {1: [unknown], 3: [unknown, unknown], received - 1: [unknown]}
    whole = asyncio.run(replay(name))
    caplog.set_level(logging.DEBUG, logger="mirascope")
    bent = asyncio.run(replay(name, faults=Faults(inject=inject)))
    check_sent(bent)
    assert bent.events == whole.events
    mentions = [record for record in caplog.records if kind in record.getMessage()]
    assert len(mentions) == 1, [record.getMessage() for record in caplog.records]


# --- a close in the middle of the reply --------------------------------------------------------------


def index_after_audio(recording: Recording, deltas: int) -> int:
    """How many received messages to send so that `deltas` audio messages went out."""
    seen = 0
    for index, data in enumerate(recording.received):
        if data.get("type") == "response.output_audio.delta" or any(
            "inlineData" in part for part in ((data.get("serverContent") or {}).get("modelTurn") or {}).get("parts", [])
        ):
            seen += 1
            if seen == deltas:
                return index + 1
    raise AssertionError("not enough audio in the recording")


CLOSES = [
    # provider, recording, close code, reason, the error expected
    ("openai", "test_openai_ws/test_text_in_audio_out_turn", 1011, "internal server error", llm.APIError),
    ("openai", "test_openai_ws/test_text_in_audio_out_turn", 1000, "", llm.ConnectionError),
    ("google", "test_google_ws/test_tool_call_round", 1011, "Internal error encountered.", llm.ServerError),
    ("google", "test_google_ws/test_tool_call_round", 1000, "", llm.ConnectionError),
]


@pytest.mark.parametrize(("provider", "name", "code", "reason", "expected"), CLOSES)
def test_a_close_mid_audio_raises_with_what_arrived(
    provider: Provider, name: str, code: int, reason: str, expected: type[llm.APIError]
) -> None:
    recording = load_recording(name)
    close_after = index_after_audio(recording, 3)
    heard = read(recording.protocol, [*recording.received[:close_after], _turn_end(provider)]).turns[0]
    script = SCRIPTS[name]
    events: list[Any] = []

    async def run() -> tuple[BaseException, tuple[llm.Message, ...]]:
        faults = Faults(close_after=close_after, close_code=code, close_reason=reason)
        async with ReplayServer(recording, faults=faults) as server, session_for(script, server.port) as session:
            await session.send(script.texts[0])
            with pytest.raises(llm.APIError) as caught:
                await read_all(session, events)
            return caught.value, session.messages

    error, messages = asyncio.run(run())
    assert isinstance(error, expected), repr(error)
    assert KEY not in f"{error!r} {error}"
    audio = b"".join(event.data for event in events if isinstance(event, llm.realtime.AudioDelta))
    assert audio == heard.audio  # every chunk that arrived, in order
    assert not any(isinstance(event, llm.realtime.TurnEnd) for event in events)
    partial = error.partial_response
    assert isinstance(partial, llm.Message)
    assert partial.role == "assistant"
    assert partial.text == heard.output_transcript
    kept = [part for part in partial.content if isinstance(part, llm.Audio)]
    if kept:
        from tests.core.test_realtime_replay import pcm_of

        assert pcm_of(kept[0]) == heard.audio
    assert messages[-1] == partial


async def read_all(session: Any, into: list[Any]) -> None:
    async for event in session:
        into.append(event)  # noqa: PERF401 - what arrived before the error is the point


def _turn_end(provider: Provider) -> dict[str, Any]:
    if provider == "google":
        return {"serverContent": {"turnComplete": True}}
    return {"type": "response.done", "response": {"output": []}}


# --- servers that never answer, refuse, or are not there -----------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "azure", "google"])
def test_a_server_that_never_answers_times_out_opening(provider: Provider) -> None:
    script = SCRIPTS[TEXT_TURN[provider]]

    async def run() -> BaseException:
        async with ReplayServer(load_recording(TEXT_TURN[provider]), faults=Faults(silent=True)) as server:
            with pytest.raises(llm.APIError) as caught:
                async with session_for(script, server.port, timeout=llm.Timeout(connect=0.5)):
                    pass
            return caught.value

    error = asyncio.run(run())
    assert isinstance(error, llm.TimeoutError), repr(error)
    assert KEY not in repr(error)


REFUSALS: dict[Provider, bytes] = {
    "openai": b'{"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", '
    b'"code": "invalid_api_key"}}',
    "azure": b'{"error": {"code": "401", "message": "Access denied due to invalid subscription key."}}',
    "google": b'{"error": {"code": 401, "message": "API key not valid. Please pass a valid API key.", '
    b'"status": "UNAUTHENTICATED"}}',
}


@pytest.mark.parametrize("provider", ["openai", "azure", "google"])
def test_a_refused_handshake_is_an_authentication_error(provider: Provider) -> None:
    script = SCRIPTS[TEXT_TURN[provider]]

    async def run() -> tuple[BaseException, int]:
        faults = Faults(refuse=Refusal(401, REFUSALS[provider]))
        async with ReplayServer(load_recording(TEXT_TURN[provider]), faults=faults) as server:
            with pytest.raises(llm.APIError) as caught:
                async with session_for(script, server.port):
                    pass
            return caught.value, len(server.handshakes)

    error, handshakes = asyncio.run(run())
    assert isinstance(error, llm.AuthenticationError), repr(error)
    assert handshakes == 1  # not retried
    assert KEY not in f"{error!r} {error}"


def test_nothing_listening_is_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    script = SCRIPTS[TEXT_TURN["openai"]]

    async def run() -> BaseException:
        with pytest.raises(llm.APIError) as caught:
            async with session_for(script, port):
                pass
        return caught.value

    error = asyncio.run(run())
    assert isinstance(error, llm.ConnectionError), repr(error)
    assert KEY not in repr(error)


@pytest.mark.parametrize("provider", ["openai", "google"])
def test_a_message_past_max_event_bytes_is_a_response_too_large_error(provider: Provider) -> None:
    name = TEXT_TURN[provider]
    script = SCRIPTS[name]
    big = {"serverContent": {"outputTranscription": {"text": "x" * 5000}}}
    if provider != "google":
        big = {"type": "response.output_audio_transcript.delta", "item_id": "i", "delta": "x" * 5000}
    ready = 2 if provider != "google" else 1

    async def run() -> BaseException:
        faults = Faults(inject={ready: [big]})
        async with ReplayServer(load_recording(name), faults=faults) as server:
            async with session_for(script, server.port, max_event_bytes=4096) as session:
                await session.send(script.texts[0])
                with pytest.raises(llm.APIError) as caught:
                    async for _ in session:
                        pass
            return caught.value

    error = asyncio.run(run())
    assert isinstance(error, llm.ResponseTooLargeError), repr(error)
    assert error.limit == "max_event_bytes"
    assert error.max_bytes == 4096


# --- keepalive -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "google"])
def test_a_server_that_stops_answering_pings_times_out(provider: Provider) -> None:
    name = TEXT_TURN[provider]
    recording = load_recording(name)
    ready = 2 if provider != "google" else 1  # session.created + session.updated; setupComplete
    script = SCRIPTS[name]

    async def run() -> BaseException:
        async with ReplayServer(recording, faults=Faults(stall_after=ready)) as server:
            async with session_for(script, server.port, timeout=llm.Timeout(read=0.3)) as session:
                with pytest.raises(llm.APIError) as caught:
                    async for _ in session:
                        pass
            return caught.value

    error = asyncio.run(run())
    assert isinstance(error, llm.TimeoutError), repr(error)
    assert error.phase == "read"


async def drain(websocket: Any) -> None:
    async for _ in websocket:
        pass


def test_the_replay_server_reports_a_missing_client_message() -> None:
    """The harness itself: a client that sends too little fails with what was expected, never hangs."""
    recording = load_recording("test_openai_ws/test_tool_call_round")

    async def run() -> list[str]:
        async with ReplayServer(recording, timeout=0.3) as server:
            from websockets.asyncio.client import connect

            async with connect(f"ws://127.0.0.1:{server.port}/v1/realtime") as websocket:
                with pytest.raises(ConnectionClosedError, match="1011"):
                    await drain(websocket)
            connection = await server.finished()
        return connection.failures

    failures = asyncio.run(run())
    assert len(failures) == 1
    assert "expected a client message like" in failures[0]
    assert "session.update" in failures[0]


def test_a_threaded_blast_server_serves_every_received_frame_in_order() -> None:
    """The harness for benchmarks: its own thread and loop, every received message at once, binary for Gemini."""
    from websockets.sync.client import connect

    recording = load_recording("test_google_ws/test_tool_call_round")
    expected = list(iter_received_frames(recording))
    with ThreadedReplayServer(recording, blast=True) as server:
        with connect(f"ws://127.0.0.1:{server.port}/ws") as websocket:
            frames = [websocket.recv() for _ in expected]
        connection = server.finished()
    assert frames == expected
    assert all(isinstance(frame, bytes) for frame in frames)
    assert connection.received_sent == len(expected)
