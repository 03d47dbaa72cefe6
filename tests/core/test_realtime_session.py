"""`llm.realtime` sessions in the situations the recordings do not hold.

Each test runs a session against a real WebSocket server on 127.0.0.1 whose answers are a small
script of the test's own (`tests.support.ws_script`): interrupting a reply, turns queued behind
a reply, tools answered by hand or failing, iteration rules, the conversation as messages,
secrets, usage. Refusals and the missing `realtime` extra need no server.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import subprocess
import sys
import wave
from dataclasses import dataclass
from typing import Any

import pytest
from mirascope import llm
from mirascope.llm.providers import Request

from tests.support.ws_script import Peer, ScriptServer

KEY = "sk-test-S3CRET-0123456789abcdef"
OPENAI = "openai:gpt-realtime"
GEMINI = "google:gemini-2.5-flash-native-audio-preview-09-2025"


def openai_client(port: int) -> llm.Client:
    return llm.client("openai", base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY)


def google_client(port: int) -> llm.Client:
    return llm.client("google", base_url=f"http://127.0.0.1:{port}/v1beta", api_key=KEY)


# --- what an OpenAI Realtime server says ------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def created(response_id: str = "resp_1") -> dict[str, Any]:
    return {"type": "response.created", "response": {"id": response_id}}


def text_delta(text: str, item: str = "item_text") -> dict[str, Any]:
    return {"type": "response.output_text.delta", "item_id": item, "content_index": 0, "delta": text}


def audio_delta(pcm: bytes, item: str = "item_speech") -> dict[str, Any]:
    return {"type": "response.output_audio.delta", "item_id": item, "content_index": 0, "delta": b64(pcm)}


def spoken_delta(text: str, item: str = "item_speech") -> dict[str, Any]:
    return {"type": "response.output_audio_transcript.delta", "item_id": item, "content_index": 0, "delta": text}


def usage_of(input_tokens: int, output_tokens: int, cached: int = 0) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "input_token_details": {"cached_tokens": cached},
        "output_token_details": {},
    }


def done(
    response_id: str = "resp_1",
    status: str = "completed",
    usage: dict[str, Any] | None = None,
    output: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    response: dict[str, Any] = {"id": response_id, "status": status, "output": output or []}
    if usage is not None:
        response["usage"] = usage
    return {"type": "response.done", "response": response}


def tool_call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "response.function_call_arguments.done",
        "item_id": f"item_{call_id}",
        "call_id": call_id,
        "name": name,
        "arguments": json.dumps(arguments),
    }


def function_call_item(call_id: str, name: str) -> dict[str, Any]:
    return {"type": "function_call", "id": f"item_{call_id}", "call_id": call_id, "name": name, "arguments": "{}"}


async def opened(peer: Peer, seeded: int = 0) -> list[dict[str, Any]]:
    """Take `session.update` (and `seeded` history items) and confirm the session."""
    opening = [await peer.expect("session.update")]
    opening += [await peer.expect("conversation.item.create") for _ in range(seeded)]
    await peer.send({"type": "session.updated", "session": {"id": "sess_1"}})
    return opening


async def user_turn(peer: Peer) -> str:
    """Take a text turn (item, then `response.create`); its text."""
    item = await peer.expect("conversation.item.create")
    await peer.expect("response.create")
    return item["item"]["content"][0]["text"]


def kinds(events: list[Any]) -> list[str]:
    return [type(event).__name__ for event in events]


def pcm(samples: int, level: int = 1) -> bytes:
    """`samples` 16-bit samples (distinct per `level`, so chunks can be told apart)."""
    return level.to_bytes(2, "little", signed=True) * samples


def wav_frames(part: llm.Audio) -> tuple[tuple[int, int, int], bytes]:
    with wave.open(io.BytesIO(part.to_bytes()), "rb") as reader:
        shape = (reader.getnchannels(), reader.getsampwidth(), reader.getframerate())
        return shape, reader.readframes(reader.getnframes())


def audio_parts(message: llm.Message) -> list[llm.Audio]:
    return [part for part in message.content if isinstance(part, llm.Audio)]


# --- 1. refused before anything connects ------------------------------------------------------------


@llm.tool
def get_weather(city: str) -> str:
    """Look up the weather for a city."""
    return f"Foggy in {city}."


REFUSED: list[tuple[str, dict[str, Any], type[llm.Error], tuple[str, ...]]] = [
    ("anthropic:claude-sonnet-4-5", {}, llm.FeatureNotSupportedError, ("openai", "azure", "google")),
    ("openai:gpt-4o-mini", {}, llm.FeatureNotSupportedError, ("gpt-4o-mini",)),
    ("openai:gpt-realtime", {"output": "video"}, llm.UsageError, ("output",)),
    ("openai:gpt-realtime", {"turn_detection": "x"}, llm.UsageError, ("turn_detection",)),
    ("openai:gpt-realtime", {"input_audio": "pcm"}, llm.UsageError, ("input_audio",)),
    ("openai:gpt-realtime", {"tools": [llm.WebSearch()]}, llm.FeatureNotSupportedError, ("WebSearch",)),
    ("openai:gpt-realtime", {"temprature": 1}, llm.UsageError, ("temprature",)),
    ("openai:gpt-realtime", {"temperature": 0.5}, llm.FeatureNotSupportedError, ("temperature",)),
    (GEMINI, {"turn_detection": "semantic"}, llm.FeatureNotSupportedError, ("semantic",)),
]


@pytest.mark.parametrize(("model_id", "options", "expected", "named"), REFUSED)
def test_what_cannot_work_is_refused_before_connecting(
    model_id: str, options: dict[str, Any], expected: type[llm.Error], named: tuple[str, ...]
) -> None:
    # `llm.realtime(...)` itself refuses: before `async with` could connect (nothing listens there anyway).
    provider = model_id.partition(":")[0]
    client = llm.client(provider, base_url="http://127.0.0.1:9/v1", api_key=KEY) if provider != "anthropic" else None
    with pytest.raises(llm.Error) as caught:
        llm.realtime(model_id, client=client, **options)
    assert isinstance(caught.value, expected), repr(caught.value)
    for word in named:
        assert word in str(caught.value), str(caught.value)
    assert KEY not in str(caught.value)


def test_a_client_of_another_provider_is_a_usage_error() -> None:
    client = llm.client("google", base_url="http://127.0.0.1:9/v1beta", api_key=KEY)
    with pytest.raises(llm.UsageError, match="openai"):
        llm.realtime(OPENAI, client=client)


# --- 2. the `realtime` extra ------------------------------------------------------------------------


def _run_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout


def test_without_websockets_opening_a_session_says_which_extra_to_install() -> None:
    code = """
import asyncio, sys
sys.modules["websockets"] = None  # as if the realtime extra were not installed
from mirascope import llm

async def main():
    client = llm.client("openai", base_url="http://127.0.0.1:9/v1", api_key="k")
    try:
        async with llm.realtime("openai:gpt-realtime", client=client):
            pass
    except llm.realtime.RealtimeNotInstalledError as error:
        print(type(error).__name__, isinstance(error, ImportError), isinstance(error, llm.Error))
        print(error)

asyncio.run(main())
"""
    out = _run_python(code).splitlines()
    assert out[0] == "RealtimeNotInstalledError True True"
    assert "mirascope[realtime]" in out[1]


def test_importing_llm_loads_neither_websockets_nor_the_realtime_module() -> None:
    code = """
import json, sys
from mirascope import llm
print(json.dumps(sorted(sys.modules)))
"""
    loaded = set(json.loads(_run_python(code)))
    assert "mirascope.llm" in loaded
    assert not any(name == "websockets" or name.startswith("websockets.") for name in loaded)
    assert "mirascope.llm.realtime" not in loaded


# --- 3. interrupting a reply -------------------------------------------------------------------------

SPEECH_1 = pcm(2400, 1)  # 100 ms at 24 kHz
SPEECH_2 = pcm(2400, 2)
SPEECH_3 = pcm(2400, 3)


def test_interrupt_on_openai_cancels_truncates_and_keeps_only_what_was_heard() -> None:
    later = asyncio.Event()

    async def script(peer: Peer) -> None:
        await opened(peer)
        assert await user_turn(peer) == "Tell me a story."
        # The second chunk is already on its way when the client interrupts.
        await peer.send(created(), spoken_delta("Once"), audio_delta(SPEECH_1), audio_delta(SPEECH_2))
        await peer.expect("response.cancel")
        truncate = await peer.expect("conversation.item.truncate")
        assert truncate["item_id"] == "item_speech"
        assert truncate["content_index"] == 0
        # The server goes on a little before it stops: none of it is heard.
        await peer.send(spoken_delta(" upon"), audio_delta(SPEECH_3), done(status="cancelled"))
        assert await user_turn(peer) == "Shorter."
        await peer.send(created("resp_2"), spoken_delta("Fine.", "item_2"), audio_delta(SPEECH_1, "item_2"))
        await peer.send(done("resp_2"))
        await later.wait()

    async def run() -> tuple[list[Any], tuple[llm.Message, ...], list[Any]]:
        events: list[Any] = []
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, output="audio", client=openai_client(server.port)) as session:
                await session.send("Tell me a story.")
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.AudioDelta) and len(events) == 2:
                        await session.interrupt(played_ms=10_000)
                    if isinstance(event, llm.realtime.TurnEnd):
                        if len([e for e in events if isinstance(e, llm.realtime.TurnEnd)]) == 2:
                            break
                        await session.send("Shorter.")
                messages = session.messages
                later.set()
            peer = await server.finished()
        return events, messages, peer.received

    events, messages, received = asyncio.run(run())
    first = events[: next(i for i, e in enumerate(events) if isinstance(e, llm.realtime.TurnEnd)) + 1]
    assert kinds(first) == ["OutputTranscript", "AudioDelta", "Interrupted", "TurnEnd"]
    assert first[1].data == SPEECH_1
    assert first[-1].finish_reason == "other"
    # The truncation is capped at the audio the client had: 100 ms, not the 10 s said to be played.
    truncate = next(m for m in received if m.get("type") == "conversation.item.truncate")
    assert truncate["audio_end_ms"] == 100
    assert [m["type"] for m in received].index("response.cancel") < [m["type"] for m in received].index(
        "conversation.item.truncate"
    )
    # The next turn is whole again.
    second = events[len(first) :]
    assert kinds(second) == ["OutputTranscript", "AudioDelta", "TurnEnd"]
    assert second[-1].finish_reason == "stop"
    # What was heard, and only that, is the reply in the conversation.
    reply = messages[1]
    assert reply.role == "assistant"
    assert reply.text == "Once"
    assert wav_frames(audio_parts(reply)[0])[1] == SPEECH_1
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]


def test_interrupt_with_played_ms_keeps_only_the_played_audio_in_messages() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)
        await user_turn(peer)
        await peer.send(created(), audio_delta(SPEECH_1))
        await peer.expect("response.cancel")
        truncate = await peer.expect("conversation.item.truncate")
        assert truncate["audio_end_ms"] == 50
        await peer.send(done(status="cancelled"))

    async def run() -> tuple[llm.Message, ...]:
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, output="audio", client=openai_client(server.port)) as session:
                await session.send("Tell me a story.")
                async for event in session:
                    if isinstance(event, llm.realtime.AudioDelta):
                        await session.interrupt(played_ms=50)
                    if isinstance(event, llm.realtime.TurnEnd):
                        break
                messages = session.messages
            await server.finished()
        return messages

    messages = asyncio.run(run())
    # The user heard 50 ms (1200 samples); the provider forgot the rest; so should the session.
    assert wav_frames(audio_parts(messages[1])[0])[1] == SPEECH_1[: 1200 * 2]


def gemini_audio(pcm_bytes: bytes) -> dict[str, Any]:
    part = {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": b64(pcm_bytes)}}
    return {"serverContent": {"modelTurn": {"parts": [part]}}}


def gemini_usage(prompt: int, response: int) -> dict[str, Any]:
    return {"promptTokenCount": prompt, "responseTokenCount": response, "totalTokenCount": prompt + response}


async def gemini_opened(peer: Peer) -> dict[str, Any]:
    setup = await peer.expect("setup")
    await peer.send({"setupComplete": {}})
    return setup


def test_a_gemini_barge_in_interrupts_the_reply_and_the_next_turn_works() -> None:
    async def script(peer: Peer) -> None:
        await gemini_opened(peer)
        turn = await peer.expect("clientContent")
        assert turn["clientContent"]["turnComplete"] is True
        await peer.send(
            gemini_audio(SPEECH_1),
            {"serverContent": {"outputTranscription": {"text": "Once"}}},
            {"serverContent": {"interrupted": True}},
            {"serverContent": {"turnComplete": True}},  # the cut reply's own end: nothing more to end
        )
        await peer.expect("clientContent")
        await peer.send(
            gemini_audio(SPEECH_2),
            {"serverContent": {"outputTranscription": {"text": "Yes?"}}},
            {"serverContent": {"turnComplete": True}, "usageMetadata": gemini_usage(5, 3)},
        )

    async def run() -> tuple[list[Any], tuple[llm.Message, ...]]:
        events: list[Any] = []
        async with ScriptServer(script, binary=True) as server:
            async with llm.realtime(GEMINI, output="audio", client=google_client(server.port)) as session:
                await session.send("Tell me a story.")
                ends = 0
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.TurnEnd):
                        ends += 1
                        if ends == 2:
                            break
                        await session.send("Hello?")
                messages = session.messages
            await server.finished()
        return events, messages

    events, messages = asyncio.run(run())
    assert kinds(events) == [
        "AudioDelta",
        "OutputTranscript",
        "Interrupted",
        "TurnEnd",
        "AudioDelta",
        "OutputTranscript",
        "TurnEnd",
    ]
    assert events[3].finish_reason == "other"
    assert events[6].finish_reason == "stop"
    assert events[6].usage == llm.Usage(input_tokens=5, output_tokens=3)
    assert [(m.role, m.text) for m in messages] == [
        ("user", "Tell me a story."),
        ("assistant", "Once"),
        ("user", "Hello?"),
        ("assistant", "Yes?"),
    ]


def test_interrupt_on_gemini_sends_nothing_and_drops_the_rest_of_the_reply() -> None:
    interrupted = asyncio.Event()

    async def script(peer: Peer) -> None:
        await gemini_opened(peer)
        await peer.expect("clientContent")
        await peer.send(gemini_audio(SPEECH_1))
        async with asyncio.timeout(peer.timeout):
            await interrupted.wait()
        await peer.sync()
        # Gemini has no cancel message: the reply goes on, and ends, as if nothing happened.
        await peer.send(
            gemini_audio(SPEECH_2),
            {"serverContent": {"outputTranscription": {"text": "Once upon"}}},
            {"serverContent": {"turnComplete": True}},
        )

    async def run() -> tuple[list[Any], tuple[llm.Message, ...], list[Any]]:
        events: list[Any] = []
        async with ScriptServer(script, binary=True) as server:
            async with llm.realtime(GEMINI, output="audio", client=google_client(server.port)) as session:
                await session.send("Tell me a story.")
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.AudioDelta):
                        await session.interrupt(played_ms=30)
                        interrupted.set()
                    if isinstance(event, llm.realtime.TurnEnd):
                        break
                messages = session.messages
            peer = await server.finished()
        return events, messages, peer.received

    events, messages, received = asyncio.run(run())
    assert kinds(events) == ["AudioDelta", "Interrupted", "TurnEnd"]
    assert events[-1].finish_reason == "other"
    assert [next(iter(m)) for m in received] == ["setup", "clientContent"]  # nothing to cancel with
    reply = messages[1]
    assert reply.text == ""
    # 30 ms were played: the rest of the first chunk was never heard, and is not kept.
    assert wav_frames(audio_parts(reply)[0])[1] == SPEECH_1[: 24000 * 2 * 30 // 1000]


def test_after_interrupt_no_audio_of_that_reply_is_yielded_even_from_the_same_message() -> None:
    async def script(peer: Peer) -> None:
        await gemini_opened(peer)
        await peer.expect("clientContent")
        parts = [
            {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": b64(chunk)}} for chunk in (SPEECH_1, SPEECH_2)
        ]
        await peer.send({"serverContent": {"modelTurn": {"parts": parts}}})
        await peer.send({"serverContent": {"turnComplete": True}})

    async def run() -> tuple[list[Any], tuple[llm.Message, ...]]:
        events: list[Any] = []
        async with ScriptServer(script, binary=True) as server:
            async with llm.realtime(GEMINI, output="audio", client=google_client(server.port)) as session:
                await session.send("Tell me a story.")
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.AudioDelta) and len(events) == 1:
                        await session.interrupt()
                    if isinstance(event, llm.realtime.TurnEnd):
                        break
                messages = session.messages
            await server.finished()
        return events, messages

    events, messages = asyncio.run(run())
    assert kinds(events) == ["AudioDelta", "Interrupted", "TurnEnd"]
    assert wav_frames(audio_parts(messages[1])[0])[1] == SPEECH_1


def test_openai_server_barge_in_is_one_interrupted_and_the_spoken_turn_follows() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)
        await user_turn(peer)
        await peer.send(created(), spoken_delta("Once"), audio_delta(SPEECH_1))
        await peer.expect("input_audio_buffer.append")  # the user speaks over the reply
        await peer.send(
            {"type": "input_audio_buffer.speech_started", "item_id": "item_user"},
            done(status="cancelled", usage=usage_of(9, 3)),  # the server cut its reply short itself
            {"type": "input_audio_buffer.speech_stopped", "item_id": "item_user"},
            {"type": "input_audio_buffer.committed", "item_id": "item_user"},
            created("resp_2"),
            spoken_delta("Yes?", "item_2"),
            done("resp_2", usage=usage_of(12, 2)),
        )

    async def run() -> tuple[list[Any], tuple[llm.Message, ...], llm.Usage | None]:
        events: list[Any] = []
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, output="audio", client=openai_client(server.port)) as session:
                await session.send("Tell me a story.")
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.AudioDelta):
                        await session.send_audio(SPOKEN_2)
                    if isinstance(event, llm.realtime.TurnEnd) and event.finish_reason == "stop":
                        break
                messages, usage = session.messages, session.usage
            await server.finished()
        return events, messages, usage

    events, messages, usage = asyncio.run(run())
    assert kinds(events) == [
        "OutputTranscript",
        "AudioDelta",
        "SpeechStarted",
        "Interrupted",
        "TurnEnd",
        "SpeechStopped",
        "OutputTranscript",
        "TurnEnd",
    ]
    assert events[4].finish_reason == "other"
    assert events[4].usage == llm.Usage(input_tokens=9, output_tokens=3)
    assert usage == llm.Usage(input_tokens=21, output_tokens=5)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert wav_frames(audio_parts(messages[2])[0])[1] == SPOKEN_2
    assert messages[3].text == "Yes?"


# --- 4. turns queued behind a reply ---------------------------------------------------------------------


def test_a_turn_sent_during_a_reply_reaches_the_server_after_that_reply_ends() -> None:
    second_sent = asyncio.Event()

    async def script(peer: Peer) -> None:
        await opened(peer)
        assert await user_turn(peer) == "one"
        await peer.send(created(), text_delta("A"))
        async with asyncio.timeout(peer.timeout):
            await second_sent.wait()
        await peer.sync()  # whatever the client sent with it has arrived by now
        await peer.send(done())
        assert await user_turn(peer) == "two"
        await peer.send(created("resp_2"), text_delta("B", "item_2"), done("resp_2"))

    async def run() -> tuple[list[Any], list[Any]]:
        events: list[Any] = []
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, client=openai_client(server.port)) as session:
                await session.send("one")
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.TextDelta) and event.text == "A":
                        await session.send("two")
                        second_sent.set()
                    if isinstance(event, llm.realtime.TurnEnd) and event.message.text == "B":
                        break
            peer = await server.finished()
        return events, peer.log

    events, log = asyncio.run(run())
    order = [
        (said.by, said.data.get("type"), (said.data.get("item") or {}).get("content", [{}])[0].get("text"))
        for said in log
    ]
    first_done = order.index(("server", "response.done", None))
    second_item = order.index(("client", "conversation.item.create", "two"))
    assert second_item > first_done, order
    assert [m for m in order[second_item:] if m[0] == "client"] == [
        ("client", "conversation.item.create", "two"),
        ("client", "response.create", None),
    ]
    assert kinds(events) == ["TextDelta", "TurnEnd", "TextDelta", "TurnEnd"]
    assert [e.message.text for e in events if isinstance(e, llm.realtime.TurnEnd)] == ["A", "B"]


def test_send_without_respond_sends_only_the_item() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)
        note = await peer.expect("conversation.item.create")
        assert note["item"]["content"][0]["text"] == "For later: blue."
        assert await user_turn(peer) == "Which colour?"
        await peer.send(created(), text_delta("Blue."), done())

    async def run() -> tuple[list[Any], tuple[llm.Message, ...], list[Any]]:
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, client=openai_client(server.port)) as session:
                await session.send("For later: blue.", respond=False)
                await session.send("Which colour?")
                events = [event async for event in session.text()]
                messages = session.messages
            peer = await server.finished()
        return events, messages, peer.received

    texts, messages, received = asyncio.run(run())
    assert texts == ["Blue."]
    assert [m["type"] for m in received] == [
        "session.update",
        "conversation.item.create",
        "conversation.item.create",
        "response.create",
    ]
    assert [(m.role, m.text) for m in messages] == [
        ("user", "For later: blue."),
        ("user", "Which colour?"),
        ("assistant", "Blue."),
    ]


def test_a_turn_sent_right_after_interrupt_waits_for_the_cancelled_reply_to_end() -> None:
    sent = asyncio.Event()

    async def script(peer: Peer) -> None:
        await opened(peer)
        await user_turn(peer)
        await peer.send(created(), text_delta("Long"))
        await peer.expect("response.cancel")
        async with asyncio.timeout(peer.timeout):
            await sent.wait()
        await peer.sync()
        await peer.send(text_delta(" story"), done(status="cancelled"))
        assert await user_turn(peer) == "Short one."
        await peer.send(created("resp_2"), text_delta("Ok.", "item_2"), done("resp_2"))

    async def run() -> tuple[list[Any], list[Any]]:
        events: list[Any] = []
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, client=openai_client(server.port)) as session:
                await session.send("Long story?")
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.TextDelta) and event.text == "Long":
                        await session.interrupt()
                        await session.send("Short one.")
                        sent.set()
                    if isinstance(event, llm.realtime.TurnEnd) and event.finish_reason == "stop":
                        break
            peer = await server.finished()
        return events, peer.log

    events, log = asyncio.run(run())
    assert kinds(events) == ["TextDelta", "Interrupted", "TurnEnd", "TextDelta", "TurnEnd"]
    assert [e.message.text for e in events if isinstance(e, llm.realtime.TurnEnd)] == ["Long", "Ok."]
    order = [(said.by, said.data["type"]) for said in log]
    cancelled_done = order.index(("server", "response.done"))
    assert order.index(("client", "response.cancel")) < cancelled_done
    assert order[cancelled_done + 1 :].count(("client", "conversation.item.create")) == 1
    assert order[:cancelled_done].count(("client", "conversation.item.create")) == 1  # only the first turn


# --- 5. tools ---------------------------------------------------------------------------------------------


def test_tool_calls_answered_by_hand_with_auto_tools_off() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)
        await user_turn(peer)
        await peer.send(
            created(),
            tool_call("call_1", "get_weather", {"city": "Paris"}),
            done(output=[function_call_item("call_1", "get_weather")], usage=usage_of(10, 2)),
            # A sign that all of the reply was read: the test stops reading here.
            {"type": "input_audio_buffer.speech_started"},
        )
        output = await peer.expect("conversation.item.create")
        assert output["item"] == {"type": "function_call_output", "call_id": "call_1", "output": "x"}
        await peer.expect("response.create")
        await peer.send(created("resp_2"), text_delta("It is x.", "item_2"), done("resp_2", usage=usage_of(20, 4)))
        # Nothing more may come: the session must not ask for another reply.
        await peer.sync()

    async def run() -> tuple[list[Any], list[Any], tuple[llm.Message, ...], list[Any]]:
        before: list[Any] = []
        after: list[Any] = []
        async with ScriptServer(script) as server:
            async with llm.realtime(
                OPENAI, tools=[get_weather], auto_tools=False, client=openai_client(server.port)
            ) as session:
                await session.send("Weather in Paris?")
                async for event in session:
                    before.append(event)
                    if isinstance(event, llm.realtime.SpeechStarted):
                        break
                call = next(e.call for e in before if isinstance(e, llm.realtime.ToolUse))
                await session.send_tool_outputs([llm.ToolOutput(id=call.id, name=call.name, result="x")])
                async for event in session:
                    after.append(event)
                    if isinstance(event, llm.realtime.TurnEnd):
                        break
                messages = session.messages
            peer = await server.finished()
        return before, after, messages, peer.received

    before, after, messages, received = asyncio.run(run())
    assert kinds(before) == ["ToolUse", "SpeechStarted"]  # no TurnEnd: the turn waits for the outputs
    assert before[0].call == llm.ToolCall(id="call_1", name="get_weather", args={"city": "Paris"})
    assert kinds(after) == ["TextDelta", "TurnEnd"]
    assert after[-1].finish_reason == "stop"
    assert after[-1].usage == llm.Usage(input_tokens=30, output_tokens=6)
    assert [m["type"] for m in received] == [
        "session.update",
        "conversation.item.create",
        "response.create",
        "conversation.item.create",
        "response.create",
    ]
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[2].content == (llm.ToolOutput(id="call_1", name="get_weather", result="x"),)
    assert messages[3].text == "It is x."


def test_gemini_tool_calls_answered_by_hand_go_back_in_one_tool_response() -> None:
    async def script(peer: Peer) -> None:
        await gemini_opened(peer)
        await peer.expect("clientContent")
        calls = [{"id": "fc_1", "name": "get_weather", "args": {"city": "Oslo"}}]
        await peer.send({"toolCall": {"functionCalls": calls}})
        answer = await peer.expect("toolResponse")
        assert answer["toolResponse"]["functionResponses"] == [
            {"id": "fc_1", "name": "get_weather", "response": {"output": "Snow."}}
        ]
        await peer.send(
            {"serverContent": {"modelTurn": {"parts": [{"text": "Snow in Oslo."}]}}},
            {"serverContent": {"turnComplete": True}, "usageMetadata": gemini_usage(30, 5)},
        )
        await peer.sync()  # nothing else may come: Gemini goes on by itself after the outputs

    async def run() -> tuple[list[Any], tuple[llm.Message, ...], list[Any]]:
        events: list[Any] = []
        async with ScriptServer(script, binary=True) as server:
            async with llm.realtime(
                GEMINI, tools=[get_weather], auto_tools=False, client=google_client(server.port)
            ) as session:
                await session.send("Weather in Oslo?")
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.ToolUse):
                        call = event.call
                        await session.send_tool_outputs([llm.ToolOutput(id=call.id, name=call.name, result="Snow.")])
                    if isinstance(event, llm.realtime.TurnEnd):
                        break
                messages = session.messages
            peer = await server.finished()
        return events, messages, peer.received

    events, messages, received = asyncio.run(run())
    assert kinds(events) == ["ToolUse", "TextDelta", "TurnEnd"]
    assert events[-1].usage == llm.Usage(input_tokens=30, output_tokens=5)
    assert [next(iter(m)) for m in received] == ["setup", "clientContent", "toolResponse"]
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[3].text == "Snow in Oslo."


@dataclass
class Deps:
    user_name: str


@llm.tool
def whoami(ctx: llm.Context[Deps]) -> str:
    """The name of the user."""
    return ctx.deps.user_name


@llm.tool
async def double(number: int) -> int:
    """Twice a number."""
    await asyncio.sleep(0)  # a real suspension: the tool is awaited, not called
    return number * 2


@llm.tool
def broken() -> str:
    """A tool that fails."""
    raise ValueError("the sensor is unplugged")


def test_auto_tools_get_context_run_async_and_report_failures_to_the_model() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)
        await user_turn(peer)
        calls = [function_call_item(c, n) for c, n in (("c1", "whoami"), ("c2", "double"), ("c3", "broken"))]
        await peer.send(
            created(),
            tool_call("c1", "whoami", {}),
            tool_call("c2", "double", {"number": 21}),
            tool_call("c3", "broken", {}),
            done(output=calls),
        )
        outputs = {}
        for _ in range(3):
            item = (await peer.expect("conversation.item.create"))["item"]
            assert item["type"] == "function_call_output"
            outputs[item["call_id"]] = item["output"]
        await peer.expect("response.create")
        assert outputs["c1"] == "Ada"
        assert outputs["c2"] == "42"
        assert "the sensor is unplugged" in outputs["c3"]
        await peer.send(created("resp_2"), text_delta("Done, Ada.", "item_2"), done("resp_2"))
        assert await user_turn(peer) == "Thanks."
        await peer.send(created("resp_3"), text_delta("Welcome.", "item_3"), done("resp_3"))

    async def run() -> tuple[list[Any], list[Any]]:
        events: list[Any] = []
        async with ScriptServer(script) as server:
            async with llm.realtime(
                OPENAI,
                tools=[whoami, double, broken],
                context=llm.Context(deps=Deps("Ada")),
                client=openai_client(server.port),
            ) as session:
                await session.send("Who am I, what is 21 doubled, and what does the sensor say?")
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.TurnEnd):
                        break
                await session.send("Thanks.")
                later = [text async for text in session.text()]
            await server.finished()
        return events, later

    events, later = asyncio.run(run())
    # OpenAI sends each call in a message of its own: each runs, and its output goes, as it comes.
    assert kinds(events) == [*["ToolUse", "ToolResult"] * 3, "TextDelta", "TurnEnd"]
    results = {e.output.id: e.output for e in events if isinstance(e, llm.realtime.ToolResult)}
    assert (results["c1"].result, results["c1"].is_error) == ("Ada", False)
    assert (results["c2"].result, results["c2"].is_error) == ("42", False)
    assert results["c3"].is_error
    assert events[-1].finish_reason == "stop"
    assert later == ["Welcome."]


# --- 6. iteration rules ----------------------------------------------------------------------------------


def test_breaking_out_and_reading_text_goes_on_where_it_stopped() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)
        await user_turn(peer)
        await peer.send(created(), *(text_delta(piece) for piece in ["a", "b", "c", "d", "e"]), done())

    async def run() -> tuple[list[str], list[str]]:
        first: list[str] = []
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, client=openai_client(server.port)) as session:
                await session.send("Letters?")
                async for event in session:
                    assert isinstance(event, llm.realtime.TextDelta)
                    first.append(event.text)
                    if len(first) == 2:
                        break
                rest = [text async for text in session.text()]
            await server.finished()
        return first, rest

    first, rest = asyncio.run(run())
    assert first == ["a", "b"]
    assert "".join(first + rest) == "abcde"


def test_two_tasks_reading_one_session_is_a_usage_error() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)
        await peer.send({"type": "input_audio_buffer.speech_started"})

    async def run() -> BaseException:
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, client=openai_client(server.port)) as session:
                heard = asyncio.Event()

                async def first_reader() -> None:
                    async for _ in session:
                        # No suspension between this and the next read: once the main task runs
                        # again, this one is waiting inside the session for the next message.
                        heard.set()

                reader = asyncio.create_task(first_reader())
                await heard.wait()
                with pytest.raises(llm.UsageError) as caught:
                    await anext(aiter(session))
                reader.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await reader
            await server.finished()
        return caught.value

    error = asyncio.run(run())
    assert "Two tasks" in str(error)


def test_a_normal_close_between_turns_ends_the_iteration_and_sending_after_close_is_refused() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)
        await user_turn(peer)
        await peer.send(created(), text_delta("Bye."), done())
        await peer.close(1000, "done")

    async def run() -> tuple[list[Any], list[Any], BaseException, BaseException]:
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, client=openai_client(server.port)) as session:
                await session.send("Bye?")
                events = [event async for event in session]  # ends by itself
                again = [event async for event in session]
                with pytest.raises(llm.UsageError) as while_inside:
                    await session.send("Still there?")
            with pytest.raises(llm.UsageError) as after_exit:
                await session.send("Hello?")
            await server.finished()
        return events, again, while_inside.value, after_exit.value

    events, again, inside, after = asyncio.run(run())
    assert kinds(events) == ["TextDelta", "TurnEnd"]
    assert again == []
    assert "closed" in str(inside)
    assert "closed" in str(after)


def test_a_session_opens_once() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)

    async def run() -> None:
        async with ScriptServer(script) as server:
            session = llm.realtime(OPENAI, client=openai_client(server.port))
            async with session:
                with pytest.raises(llm.UsageError, match="opens once"):
                    await session.__aenter__()
            with pytest.raises(llm.UsageError, match="opens once"):
                async with session:
                    pass
            await server.finished()
            assert len(server.peers) == 1

    asyncio.run(run())


# --- 7. the conversation as messages ----------------------------------------------------------------------

SPOKEN_1 = pcm(4800, 7)
SPOKEN_2 = pcm(2400, -7)


async def spoken_turn(peer: Peer, *, transcribed: bool = True) -> None:
    """Answer two chunks of the user's speech as OpenAI's server voice detection does."""
    chunks = [await peer.expect("input_audio_buffer.append") for _ in range(2)]
    assert base64.b64decode(chunks[0]["audio"]) + base64.b64decode(chunks[1]["audio"]) == SPOKEN_1 + SPOKEN_2
    transcription = [
        {
            "type": "conversation.item.input_audio_transcription.delta",
            "item_id": "item_user",
            "content_index": 0,
            "delta": " Hello",
        },
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "item_user",
            "content_index": 0,
            "transcript": "Hello there.",
        },
    ]
    await peer.send(
        {"type": "input_audio_buffer.speech_started", "item_id": "item_user"},
        {"type": "input_audio_buffer.speech_stopped", "item_id": "item_user"},
        {"type": "input_audio_buffer.committed", "item_id": "item_user"},
        created(),
        *(transcription if transcribed else []),
        spoken_delta("Hi!"),
        audio_delta(SPEECH_1),
        done(usage=usage_of(40, 12, cached=8)),
    )


def test_a_spoken_turn_in_messages_and_transcript_and_both_encode_for_calls() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)
        await spoken_turn(peer)

    async def run() -> tuple[list[Any], tuple[llm.Message, ...], tuple[llm.Message, ...]]:
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, output="audio", client=openai_client(server.port)) as session:
                await session.send_audio(SPOKEN_1)
                await session.send_audio(SPOKEN_2)
                events: list[Any] = []
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.TurnEnd):
                        break
                messages, transcript = session.messages, session.transcript()
            await server.finished()
        return events, messages, transcript

    events, messages, transcript = asyncio.run(run())
    heard = "".join(e.text for e in events if isinstance(e, llm.realtime.InputTranscript))
    assert heard == "Hello there."
    user, reply = messages
    assert user.role == "user"
    assert user.text == "Hello there."
    (audio,) = audio_parts(user)
    assert audio.mime_type == "audio/wav"
    assert wav_frames(audio) == ((1, 2, 24000), SPOKEN_1 + SPOKEN_2)
    assert reply.role == "assistant"
    assert reply.text == "Hi!"
    assert wav_frames(audio_parts(reply)[0]) == ((1, 2, 24000), SPEECH_1)
    # The transcript: words where there were words, no audio.
    assert [(m.role, m.text, audio_parts(m)) for m in transcript] == [
        ("user", "Hello there.", []),
        ("assistant", "Hi!", []),
    ]
    openai = llm.client("openai", api_key="k")
    openai.provider.prepare(
        Request(model_id="openai:gpt-4o-mini", model="gpt-4o-mini", messages=transcript, params={}), openai
    )
    google = llm.client("google", api_key="k")
    google.provider.prepare(
        Request(model_id="google:gemini-2.5-flash", model="gemini-2.5-flash", messages=messages, params={}), google
    )


def test_the_turn_iterators_pick_their_events_and_untranscribed_audio_stays_in_the_transcript() -> None:
    async def script(peer: Peer) -> None:
        update = (await opened(peer))[0]
        assert "transcription" not in update["session"]["audio"]["input"]
        await spoken_turn(peer, transcribed=False)
        await user_turn(peer)
        await peer.send(
            created("r2"), spoken_delta("Bye", "i2"), audio_delta(SPEECH_2, "i2"), audio_delta(SPEECH_3, "i2")
        )
        await peer.send(spoken_delta(" now.", "i2"), done("r2"))

    async def run() -> tuple[list[Any], list[Any], tuple[llm.Message, ...]]:
        async with ScriptServer(script) as server:
            async with llm.realtime(
                OPENAI, output="audio", input_transcription=False, client=openai_client(server.port)
            ) as session:
                await session.send_audio(SPOKEN_1)
                await session.send_audio(SPOKEN_2)
                transcripts = [event async for event in session.transcripts()]
                await session.send("Goodbye.")
                audio = [event async for event in session.audio()]
                transcript = session.transcript()
            await server.finished()
        return transcripts, audio, transcript

    transcripts, audio, transcript = asyncio.run(run())
    assert transcripts == [llm.realtime.OutputTranscript("Hi!")]
    assert [chunk.data for chunk in audio] == [SPEECH_2, SPEECH_3]
    assert all(chunk.format == llm.AudioFormat("pcm16", 24000) for chunk in audio)
    # A spoken turn without words keeps its audio: there is nothing to put in its place.
    assert [(m.role, m.text, len(audio_parts(m))) for m in transcript] == [
        ("user", "", 1),
        ("assistant", "Hi!", 0),
        ("user", "Goodbye.", 0),
        ("assistant", "Bye now.", 0),
    ]


def test_a_session_starts_from_seeded_history() -> None:
    seed = [llm.messages.user("hi"), llm.messages.assistant("hello")]

    async def script(peer: Peer) -> None:
        opening = await opened(peer, seeded=2)
        assert [item["item"] for item in opening[1:]] == [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hello"}]},
        ]
        assert await user_turn(peer) == "Again?"
        await peer.send(created(), text_delta("hello again"), done())

    async def run() -> tuple[tuple[llm.Message, ...], tuple[llm.Message, ...]]:
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, messages=seed, client=openai_client(server.port)) as session:
                at_start = session.messages
                await session.send("Again?")
                _ = [text async for text in session.text()]
                after = session.messages
            await server.finished()
        return at_start, after

    at_start, after = asyncio.run(run())
    assert at_start == tuple(seed)
    assert after[:2] == tuple(seed)
    assert [(m.role, m.text) for m in after[2:]] == [("user", "Again?"), ("assistant", "hello again")]


def test_a_gemini_session_starts_from_seeded_history_in_one_client_content() -> None:
    seed = [llm.messages.user("hi"), llm.messages.assistant("hello")]

    async def script(peer: Peer) -> None:
        await peer.expect("setup")
        history = await peer.expect("clientContent")
        assert history["clientContent"] == {
            "turns": [{"parts": [{"text": "hi"}], "role": "user"}, {"parts": [{"text": "hello"}], "role": "model"}],
            "turnComplete": False,
        }
        await peer.send({"setupComplete": {}})

    async def run() -> tuple[llm.Message, ...]:
        async with ScriptServer(script, binary=True) as server:
            async with llm.realtime(GEMINI, messages=seed, client=google_client(server.port)) as session:
                messages = session.messages
            await server.finished()
        return messages

    assert asyncio.run(run()) == tuple(seed)


# --- 8. secrets --------------------------------------------------------------------------------------------


def _key_in_logs(records: list[logging.LogRecord]) -> list[str]:
    """Log messages holding the key, but the test server's own (it logs the headers it got)."""
    return [r.getMessage() for r in records if KEY in r.getMessage() and not r.name.startswith("websockets.server")]


async def _one_text_turn(port: int, shown: list[str]) -> None:
    session = llm.realtime(OPENAI, client=openai_client(port))
    shown.append(repr(session))
    async with session:
        shown.append(repr(session))
        await session.send("hi")
        shown.extend([repr(event) async for event in session.text()])
    shown.append(repr(session))


async def _answer_one_text_turn(peer: Peer) -> None:
    await opened(peer)
    await user_turn(peer)
    await peer.send(created(), {"type": "response.some_future_event"}, text_delta("ok"), done())


def test_the_key_is_in_no_repr_of_the_session(caplog: pytest.LogCaptureFixture) -> None:
    async def run() -> list[str]:
        shown: list[str] = []
        async with ScriptServer(_answer_one_text_turn) as server:
            await _one_text_turn(server.port, shown)
            await server.finished()
        return shown

    caplog.set_level(logging.DEBUG, logger="mirascope")
    shown = asyncio.run(run())
    assert shown[0] == "<llm.realtime session 'openai:gpt-realtime' (not opened)>"
    assert "'ok'" in shown[2]
    assert [text for text in shown if KEY in text] == []
    assert _key_in_logs(caplog.records) == []


def test_no_log_record_holds_the_key_with_every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    async def run() -> None:
        async with ScriptServer(_answer_one_text_turn) as server:
            await _one_text_turn(server.port, [])
            await server.finished()

    caplog.set_level(logging.DEBUG)
    asyncio.run(run())
    assert _key_in_logs(caplog.records) == []


def test_an_error_event_echoing_the_key_does_not_show_it() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)
        await user_turn(peer)
        error = {"type": "invalid_request_error", "message": f"Incorrect API key provided: {KEY}."}
        await peer.send({"type": "error", "error": error})

    async def run() -> llm.APIError:
        async with ScriptServer(script) as server, llm.realtime(OPENAI, client=openai_client(server.port)) as session:
            await session.send("hi")
            async for event in session:
                if isinstance(event, llm.realtime.ErrorEvent):
                    return event.error
        raise AssertionError("no error event")

    error = asyncio.run(run())
    assert "Incorrect API key provided" in str(error)
    assert KEY not in f"{error!s} {error!r} {error.body!r}"


@pytest.mark.parametrize("provider", ["openai", "google"])
def test_a_refused_handshake_echoing_the_key_does_not_show_it(provider: str) -> None:
    body = json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}.", "code": "invalid_api_key"}})

    async def never(peer: Peer) -> None:
        raise AssertionError("the handshake was refused: no connection")

    async def run() -> llm.APIError:
        async with ScriptServer(never, refuse=(401, body.encode())) as server:
            client = openai_client(server.port) if provider == "openai" else google_client(server.port)
            with pytest.raises(llm.APIError) as caught:
                async with llm.realtime(OPENAI if provider == "openai" else GEMINI, client=client):
                    pass
        return caught.value

    error = asyncio.run(run())
    assert isinstance(error, llm.AuthenticationError), repr(error)
    assert KEY not in f"{error!s} {error!r} {error.body!r}"


@pytest.mark.parametrize(("provider", "code"), [("openai", 1008), ("openai", 1011), ("google", 1008), ("google", 1007)])
def test_a_close_reason_echoing_the_key_does_not_show_it(provider: str, code: int) -> None:
    reason = f"API key not valid: {KEY}"

    async def script(peer: Peer) -> None:
        if provider == "openai":
            await opened(peer)
            await user_turn(peer)
            await peer.send(created(), text_delta("par"))
        else:
            await gemini_opened(peer)
            await peer.expect("clientContent")
            await peer.send({"serverContent": {"modelTurn": {"parts": [{"text": "par"}]}}})
        await peer.close(code, reason)

    async def run() -> llm.APIError:
        async with ScriptServer(script, binary=provider == "google") as server:
            client = openai_client(server.port) if provider == "openai" else google_client(server.port)
            async with llm.realtime(OPENAI if provider == "openai" else GEMINI, client=client) as session:
                await session.send("hi")
                with pytest.raises(llm.APIError) as caught:
                    async for _ in session:
                        pass
            await server.finished()
        return caught.value

    error = asyncio.run(run())
    assert "par" in repr(error.partial_response)  # what arrived is kept
    assert "API key not valid" in str(error)
    assert KEY not in f"{error!s} {error!r} {error.body!r}"


# --- 9. usage ------------------------------------------------------------------------------------------------


def test_session_usage_is_the_sum_of_its_turns() -> None:
    async def script(peer: Peer) -> None:
        await opened(peer)
        await user_turn(peer)
        await peer.send(created(), text_delta("1"), done(usage=usage_of(10, 1, cached=4)))
        await user_turn(peer)
        await peer.send(created("r2"), text_delta("2", "i2"), done("r2", usage=usage_of(20, 2)))

    async def run() -> tuple[list[llm.Usage | None], llm.Usage | None]:
        ends: list[llm.Usage | None] = []
        async with ScriptServer(script) as server:
            async with llm.realtime(OPENAI, client=openai_client(server.port)) as session:
                for text in ("one", "two"):
                    await session.send(text)
                    async for event in session:
                        if isinstance(event, llm.realtime.TurnEnd):
                            ends.append(event.usage)
                            break
                total = session.usage
            await server.finished()
        return ends, total

    ends, total = asyncio.run(run())
    assert ends == [
        llm.Usage(input_tokens=10, output_tokens=1, cache_read_tokens=4),
        llm.Usage(input_tokens=20, output_tokens=2),
    ]
    assert total == llm.Usage(input_tokens=30, output_tokens=3, cache_read_tokens=4)


def test_a_gemini_transcript_trailing_its_turn_opens_no_reply_and_a_text_turn_goes_out_at_once() -> None:
    async def script(peer: Peer) -> None:
        await gemini_opened(peer)
        await peer.expect("clientContent")
        await peer.send(
            {"serverContent": {"outputTranscription": {"text": "Hello"}}},
            gemini_audio(SPEECH_1),
            {"serverContent": {"turnComplete": True}},
            # Gemini's transcript may trail the turn it belongs to.
            {"serverContent": {"outputTranscription": {"text": " there."}}},
        )
        await peer.expect("clientContent")  # the second turn arrives: it was not held back
        await peer.send(
            {"serverContent": {"outputTranscription": {"text": "Bye."}}},
            {"serverContent": {"turnComplete": True}},
        )

    async def run() -> tuple[list[Any], tuple[llm.Message, ...]]:
        events: list[Any] = []
        async with ScriptServer(script, binary=True) as server:
            async with llm.realtime(GEMINI, output="audio", client=google_client(server.port)) as session:
                await session.send("Say hello.")
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.OutputTranscript) and event.text == " there.":
                        break
                await session.send("Now say bye.")
                async for event in session:
                    events.append(event)
                    if isinstance(event, llm.realtime.TurnEnd):
                        break
                messages = session.messages
            await server.finished()
        return events, messages

    events, messages = asyncio.run(run())
    assert kinds(events) == [
        "OutputTranscript",
        "AudioDelta",
        "TurnEnd",
        "OutputTranscript",
        "OutputTranscript",
        "TurnEnd",
    ]
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1].text == "Hello there."  # the trailing words joined their own reply
    assert messages[3].text == "Bye."
