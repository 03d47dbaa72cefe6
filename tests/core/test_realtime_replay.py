"""Every recorded realtime session, replayed by a real WebSocket server against `llm.realtime`.

For each recording, a small script does what the recorded user did (instructions, tools, text
turns, audio chunks); the replay server answers with the recorded messages. The test checks
that every message the library sent means what the recorded client sent, in order, that the
handshake went to the right URL with the right key header, that the events it yielded say what
an independent reading of the recording says (text, transcripts, audio bytes, tool calls and
outputs, usage per turn), and that `session.messages` is the conversation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Literal
from urllib.parse import parse_qs

import attrs
import pytest
from mirascope import llm

from tests.support.realtime_meaning import Reading, TurnReading, audio_bytes, read, same_meaning, words
from tests.support.ws_replay import Connection, Faults, Recording, ReplayServer, load_recording, recording_names

KEY = "test-key"


@llm.tool
def get_weather(city: str) -> str:
    """Look up the weather for a city."""
    return f"It is foggy and 12 degrees in {city}."


@llm.tool
def remember_name(name: str) -> str:
    """Store the name the user introduced themselves with."""
    return f"Stored {name}."


@llm.tool
def record_reading(zqx_measurement: int, qbf_note: str | None = None) -> str:
    """Store the supplied sensor value."""
    return f"Recorded {zqx_measurement} ({qbf_note})."


@llm.tool
def queue_followup() -> str:
    return "armed"


Provider = Literal["openai", "azure", "google"]
MODELS: dict[Provider, str] = {
    "openai": "openai:gpt-realtime",
    "azure": "azure:gpt-realtime",
    "google": "google:gemini-2.5-flash-native-audio-preview-09-2025",
}


@attrs.frozen(kw_only=True)
class Script:
    """What the recorded user did."""

    provider: Provider
    instructions: str
    output: Literal["text", "audio"]
    tools: Sequence[Any] = ()
    texts: Sequence[str] = ()
    """User text turns, sent one after the other (each once the previous turn ended)."""
    audio: bool = False
    """Send the recorded audio chunks (all before reading, or from a task with `interleave`)."""
    interleave: bool = False
    input_transcription: bool | str = True
    follow_up_on_first_audio: str | None = None
    """A text turn sent while the first reply is still speaking (it must wait for the turn's end)."""
    tool_outputs: dict[str, str] = attrs.field(factory=dict[str, str])
    """Tool name -> the output the recorded client sent."""


SCRIPTS: dict[str, Script] = {
    "test_openai_ws/test_text_in_audio_out_turn": Script(
        provider="openai", instructions="Answer in two or three words.", output="audio", texts=["Say a short greeting."]
    ),
    "test_openai_ws/test_tool_call_round": Script(
        provider="openai",
        instructions="Use the get_weather tool for any weather question, then answer in one short sentence.",
        output="text",
        tools=[get_weather],
        texts=["What is the weather in London?"],
        tool_outputs={"get_weather": "It is foggy and 12 degrees in London."},
    ),
    "test_openai_ws/test_audio_in_server_vad_turn": Script(
        provider="openai", instructions="Reply in a few words.", output="audio", audio=True
    ),
    "test_openai_ws/test_input_audio_retention_segments_three_server_vad_turns": Script(
        provider="openai", instructions="Reply in two or three words.", output="audio", audio=True, interleave=True
    ),
    "test_azure_ws/test_text_in_audio_out_turn": Script(
        provider="azure", instructions="Answer in two or three words.", output="audio", texts=["Say a short greeting."]
    ),
    "test_azure_ws/test_tool_call_round": Script(
        provider="azure",
        instructions="Use the get_weather tool for any weather question, then answer in one short sentence.",
        output="text",
        tools=[get_weather],
        texts=["What is the weather in London?"],
        tool_outputs={"get_weather": "It is foggy and 12 degrees in London."},
    ),
    "test_azure_ws/test_audio_in_server_vad_transcribes": Script(
        provider="azure", instructions="Reply in a few words.", output="audio", audio=True
    ),
    "test_azure_ws/test_audio_in_server_vad_transcription_requires_deployment": Script(
        provider="azure", instructions="Reply in a few words.", output="audio", audio=True
    ),
    "test_azure_ws/test_spoken_turn_transcribed_drives_a_tool_and_answers_in_audio": Script(
        provider="azure",
        instructions=(
            "When someone introduces themselves, call `remember_name` with their name, "
            "then greet them by name in a few words."
        ),
        output="audio",
        tools=[remember_name],
        audio=True,
        input_transcription="gpt-4o-transcribe",
        tool_outputs={"remember_name": "Stored Marcelo."},
    ),
    "test_google_ws/test_text_in_audio_out_turn": Script(
        provider="google", instructions="Answer in two or three words.", output="audio", texts=["Say a short greeting."]
    ),
    "test_google_ws/test_audio_in_server_vad_turn": Script(
        provider="google", instructions="Reply in a few words.", output="audio", audio=True
    ),
    "test_google_ws/test_tool_call_round": Script(
        provider="google",
        instructions="Use record_reading when asked to record a reading, then confirm it in one sentence.",
        output="audio",
        tools=[record_reading],
        texts=['Please record a reading of 5 with the note "steady".'],
        tool_outputs={"record_reading": "Recorded 5 (steady)."},
    ),
    "test_google_ws/test_asap_enqueue_waits_for_response_boundary": Script(
        provider="google",
        instructions=(
            'Call queue_followup, then say exactly "FIRST RESPONSE COMPLETE". '
            'After any later user message, say exactly "QUEUED MARKER RECEIVED".'
        ),
        output="audio",
        tools=[queue_followup],
        texts=["Begin."],
        follow_up_on_first_audio="This is the queued follow-up.",
        tool_outputs={"queue_followup": "armed"},
    ),
}


def test_every_recording_has_a_script() -> None:
    assert sorted(SCRIPTS) == recording_names()


def make_client(provider: Provider, port: int, **options: Any) -> llm.Client:
    base = {"openai": "/v1", "azure": "/openai/v1", "google": "/v1beta"}[provider]
    return llm.client(provider, base_url=f"http://127.0.0.1:{port}{base}", api_key=KEY, **options)


def audio_pacing(recording: Recording) -> list[int]:
    """For each recorded audio chunk, how many server messages came before the client sent it."""
    pacing: list[int] = []
    received = 0
    for step in recording.steps:
        if step.direction == "received":
            received += 1
        elif step.direction == "sent" and (
            step.data.get("type") == "input_audio_buffer.append"
            or "audio" in (step.data.get("realtime_input") or step.data.get("realtimeInput") or {})
        ):
            pacing.append(received)
    return pacing


def first_audio(recording: Recording) -> int:
    """The index of the first received message that carries the model's speech."""
    for index, data in enumerate(recording.received):
        parts = ((data.get("serverContent") or {}).get("modelTurn") or {}).get("parts", [])
        if data.get("type") == "response.output_audio.delta" or any("inlineData" in part for part in parts):
            return index
    raise AssertionError("the recording has no speech")


def recorded_audio(recording: Recording) -> list[bytes]:
    """The user's audio chunks, decoded from the recorded client messages, in order.

    The OpenAI and Azure cassettes keep only the first 33 bytes of each chunk (see
    `realtime_meaning.Truncated`); a zero byte makes each a whole number of pcm16 samples again.
    """
    chunks: list[bytes] = []
    for message in recording.sent:
        encoded = None
        if message.get("type") == "input_audio_buffer.append":
            encoded = message["audio"]
        realtime_input = message.get("realtime_input") or message.get("realtimeInput")
        if realtime_input and "audio" in realtime_input:
            encoded = realtime_input["audio"]["data"]
        if encoded is not None:
            decoded = audio_bytes(encoded)
            assert decoded is not None
            chunks.append(decoded + b"\0" * (len(decoded) % 2))
    return chunks


@attrs.define
class Outcome:
    recording: Recording
    script: Script
    reading: Reading
    events: list[llm.RealtimeEvent]
    messages: tuple[llm.Message, ...]
    connection: Connection
    audio_sent: list[bytes]


async def replay(
    name: str, *, faults: Faults | None = None, recording: Recording | None = None, script: Script | None = None
) -> Outcome:
    """Run a recording's script against a replay of it (optionally bent by `faults`)."""
    recording = recording or load_recording(name)
    script = script or SCRIPTS[name]
    reading = read(recording.protocol, recording.received)
    chunks = recorded_audio(recording) if script.audio else []
    events: list[llm.RealtimeEvent] = []
    # A turn sent while the first reply speaks: the server holds the rest of that reply until
    # the script has sent it, so that a library sending it at once would be caught.
    sent_follow_up = asyncio.Event()
    gates = {first_audio(recording) + 1: sent_follow_up} if script.follow_up_on_first_audio else {}
    async with ReplayServer(recording, faults=faults, gates=gates) as server:
        session = llm.realtime(
            MODELS[script.provider],
            instructions=script.instructions,
            tools=list(script.tools),
            output=script.output,
            input_transcription=script.input_transcription,
            client=make_client(script.provider, server.port),
        )
        async with session:
            sender: asyncio.Task[None] | None = None
            if chunks and script.interleave:
                connection = await server.connection()

                async def speak() -> None:
                    # Speak as the recorded user did: each chunk once the server had said what it
                    # had said before it (a microphone keeps going while the model answers).
                    for chunk, after in zip(chunks, audio_pacing(recording), strict=True):
                        await connection.reached(after)
                        await session.send_audio(chunk)

                sender = asyncio.create_task(speak())
            elif chunks:
                for chunk in chunks:
                    await session.send_audio(chunk)
            texts = list(script.texts)
            if texts:
                await session.send(texts.pop(0))
            follow_up = script.follow_up_on_first_audio
            ended = 0
            async for event in session:
                events.append(event)
                if follow_up is not None and isinstance(event, llm.realtime.AudioDelta):
                    await session.send(follow_up)
                    follow_up = None
                    sent_follow_up.set()
                if isinstance(event, llm.realtime.TurnEnd):
                    ended += 1
                    if ended == len(reading.turns):
                        break
                    if texts:
                        await session.send(texts.pop(0))
            if sender is not None:
                await sender
            messages = session.messages
        connection = await server.finished()
    return Outcome(recording, script, reading, events, messages, connection, chunks)


def by_turn(events: Sequence[llm.RealtimeEvent]) -> list[list[llm.RealtimeEvent]]:
    turns: list[list[llm.RealtimeEvent]] = [[]]
    for event in events:
        turns[-1].append(event)
        if isinstance(event, llm.realtime.TurnEnd):
            turns.append([])
    return turns[:-1] if not turns[-1] else turns


def joined(events: Sequence[Any], kind: type[Any], get: Callable[[Any], Any] = lambda event: event.text) -> Any:
    parts = [get(event) for event in events if isinstance(event, kind)]
    return b"".join(parts) if parts and isinstance(parts[0], bytes) else "".join(parts)


def check_sent(outcome: Outcome) -> None:
    connection = outcome.connection
    connection.check()
    assert len(connection.sent_pairs) == len(outcome.recording.sent)
    differences = [
        f"message {index} ({brief_kind(recorded)}): {difference}"
        for index, (recorded, sent) in enumerate(connection.sent_pairs)
        if (difference := same_meaning(recorded, sent.data)) is not None
    ]
    assert not differences, "\n".join(differences[:5])


def brief_kind(message: dict[str, Any]) -> str:
    return str(message.get("type") or next(iter(message), "?"))


def check_handshake(outcome: Outcome) -> None:
    handshake = outcome.connection.handshake
    query = parse_qs(handshake.query)
    provider = outcome.script.provider
    if provider == "openai":
        assert handshake.path == "/v1/realtime"
        assert query == {"model": ["gpt-realtime"]}
        assert handshake.headers["authorization"] == f"Bearer {KEY}"
    elif provider == "azure":
        assert handshake.path == "/openai/v1/realtime"
        assert query == {"model": ["gpt-realtime"]}
        assert handshake.headers["api-key"] == KEY
        assert "authorization" not in handshake.headers
    else:
        assert handshake.path == "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
        assert handshake.headers["x-goog-api-key"] == KEY
        assert KEY not in handshake.query  # the key travels in a header, never in the URL


def check_events(outcome: Outcome) -> None:
    turns = by_turn(outcome.events)
    expected = outcome.reading.turns
    assert len(turns) == len(expected)
    assert all(isinstance(turn[-1], llm.realtime.TurnEnd) for turn in turns)
    for number, (events, reading) in enumerate(zip(turns, expected, strict=True)):
        where = f"turn {number}"
        assert joined(events, llm.realtime.TextDelta) == reading.text, where
        assert joined(events, llm.realtime.OutputTranscript) == reading.output_transcript, where
        assert words(joined(events, llm.realtime.InputTranscript)) == words(reading.input_transcript), where
        audio = [event for event in events if isinstance(event, llm.realtime.AudioDelta)]
        assert b"".join(event.data for event in audio) == reading.audio, where
        assert all(event.format == llm.AudioFormat("pcm16", 24000) for event in audio), where
        calls = [event.call for event in events if isinstance(event, llm.realtime.ToolUse)]
        assert [(call.id, call.name, call.args) for call in calls] == [
            (seen.id, seen.name, seen.args) for seen in reading.tool_calls
        ], where
        results = [event.output for event in events if isinstance(event, llm.realtime.ToolResult)]
        assert [(output.id, output.name, output.result, output.is_error) for output in results] == [
            (seen.id, seen.name, outcome.script.tool_outputs[seen.name], False) for seen in reading.tool_calls
        ], where
        end = events[-1]
        assert isinstance(end, llm.realtime.TurnEnd)
        assert end.usage == reading.usage, where
        assert end.finish_reason == "stop", where  # every recorded turn ended normally
        assert end.message in outcome.messages, where  # the turn's reply, as the conversation keeps it
        errors = [event.error for event in events if isinstance(event, llm.realtime.ErrorEvent)]
        assert len(errors) == len(reading.errors), (where, errors)
        for error, recorded in zip(errors, reading.errors, strict=True):
            assert isinstance(error, llm.APIError)
            code = recorded.split(":")[0]
            assert code in f"{error} {getattr(error, 'body', '')!r}", (where, error)
    if outcome.recording.protocol == "openai":
        heard = sum(1 for data in outcome.recording.received if data.get("type") == "input_audio_buffer.speech_started")
        assert sum(isinstance(event, llm.realtime.SpeechStarted) for event in outcome.events) == heard


def pcm_of(part: llm.Audio) -> bytes:
    """The samples of a WAV part (read by hand: the recorded replies have odd byte counts)."""
    data = part.to_bytes()
    assert (data[:4], data[8:12]) == (b"RIFF", b"WAVE"), part.mime_type
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = data[offset : offset + 4], int.from_bytes(data[offset + 4 : offset + 8], "little")
        if chunk == b"data":
            return data[offset + 8 : offset + 8 + size]
        offset += 8 + size + size % 2
    raise AssertionError("a WAV without a data chunk")


def summary(message: llm.Message) -> dict[str, Any]:
    """A message's meaning for this test: its words, audio samples, tool calls and outputs."""
    audio = [pcm_of(part) for part in message.content if isinstance(part, llm.Audio)]
    return {
        "role": message.role,
        "text": words(message.text),
        "audio": b"".join(audio) if audio else None,
        "calls": [(part.id, part.name, part.args) for part in message.content if isinstance(part, llm.ToolCall)],
        "outputs": [(part.id, part.result) for part in message.content if isinstance(part, llm.ToolOutput)],
    }


def assistant_words(reading: TurnReading) -> str:
    return words(reading.text or reading.output_transcript)


def check_messages(outcome: Outcome) -> None:
    """`session.messages`: each turn is its user message, any tool round, and the reply."""
    actual = [summary(message) for message in outcome.messages]
    expected: list[dict[str, Any]] = []
    texts = list(outcome.script.texts)
    if outcome.script.follow_up_on_first_audio:
        texts.append(outcome.script.follow_up_on_first_audio)
    all_audio = b"".join(outcome.audio_sent)
    for reading in outcome.reading.turns:
        if reading.spoken:
            heard = words(reading.input_transcript)
            expected.append({"role": "user", "text": heard, "audio": all_audio, "calls": [], "outputs": []})
        else:
            expected.append({"role": "user", "text": texts.pop(0), "audio": None, "calls": [], "outputs": []})
        if reading.tool_calls:
            calls = [(seen.id, seen.name, seen.args) for seen in reading.tool_calls]
            outputs = [(seen.id, outcome.script.tool_outputs[seen.name]) for seen in reading.tool_calls]
            expected.append({"role": "assistant", "text": "", "audio": None, "calls": calls, "outputs": []})
            expected.append({"role": "user", "text": "", "audio": None, "calls": [], "outputs": outputs})
        expected.append(
            {"role": "assistant", "text": assistant_words(reading), "audio": reading.audio, "calls": [], "outputs": []}
        )
    assert [item["role"] for item in actual] == [item["role"] for item in expected]
    for number, (got, want) in enumerate(zip(actual, expected, strict=True)):
        where = f"message {number}"
        assert got["text"] == want["text"], where
        assert got["calls"] == want["calls"], where
        assert got["outputs"] == want["outputs"], where
        if got["role"] == "assistant":
            # The reply's audio is optional in the message, but when kept it is exactly what was heard.
            assert got["audio"] in (None, want["audio"] or None), where
        elif want["audio"] is not None and not outcome.script.interleave:
            assert got["audio"] == want["audio"], where
    if outcome.script.interleave:
        # Audio sent while the model answers belongs to the next turn; where each turn's audio
        # ends depends on timing, but together the user messages hold the audio sent, in order.
        spoken = [item["audio"] for item in actual if item["role"] == "user"]
        assert all(spoken), "every spoken turn keeps its audio"
        assert all_audio.startswith(b"".join(spoken))


@pytest.mark.parametrize("name", recording_names())
def test_replay(name: str) -> None:
    outcome = asyncio.run(replay(name))
    check_sent(outcome)
    check_handshake(outcome)
    check_events(outcome)
    check_messages(outcome)


def test_a_turn_sent_during_a_reply_waits_for_the_reply_to_end() -> None:
    """Gemini Live has no response ids: a text turn sent mid-reply must be held until turnComplete."""
    name = "test_google_ws/test_asap_enqueue_waits_for_response_boundary"
    outcome = asyncio.run(replay(name))
    outcome.connection.check()
    first_turn_end = next(
        index
        for index, message in enumerate(outcome.recording.received)
        if (message.get("serverContent") or {}).get("turnComplete")
    )
    follow_up = outcome.connection.sent_pairs[-1][1]
    assert "This is the queued follow-up." in str(follow_up.data)
    assert follow_up.after_received >= first_turn_end + 1, (
        f"the follow-up reached the server after {follow_up.after_received} server messages, "
        f"before the first turn ended (message {first_turn_end})"
    )
    # ...and it was sent while the first reply was speaking, not after it.
    turns = by_turn(outcome.events)
    assert any(isinstance(event, llm.realtime.AudioDelta) for event in turns[0])


def test_a_failed_transcription_is_an_error_event_and_the_turn_goes_on() -> None:
    name = "test_azure_ws/test_audio_in_server_vad_transcription_requires_deployment"
    outcome = asyncio.run(replay(name))
    errors = [event for event in outcome.events if isinstance(event, llm.realtime.ErrorEvent)]
    assert len(errors) == 1
    error = errors[0].error
    assert isinstance(error, llm.APIError)
    assert "DeploymentNotFound" in f"{error} {getattr(error, 'body', '')!r}"
    assert KEY not in repr(error)
    assert isinstance(outcome.events[-1], llm.realtime.TurnEnd)
    assert outcome.events.index(errors[0]) < len(outcome.events) - 1
