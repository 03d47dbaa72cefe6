"""The OpenAI Realtime codec (`openai:` and `azure:`), checked against the recorded sessions, without a network.

Each recording's `session.update` is rebuilt from the setup it implies and compared by meaning;
every message the server sent goes through `decode`, whose events must add up to what the
server's own final events say (transcripts, audio bytes, tool calls, usage).
"""

from __future__ import annotations

import base64
import io
import json
import wave
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from mirascope import llm
from mirascope.llm.providers import RAW_ARGS_KEY
from mirascope.llm.providers._registry import get_provider
from mirascope.llm.providers.realtime import InputCommitted, Ready, RealtimeSetup, ResponseDone, ResponseStarted
from mirascope.llm.realtime import (
    AudioDelta,
    AudioFormat,
    ErrorEvent,
    InputTranscript,
    OutputTranscript,
    SpeechStarted,
    SpeechStopped,
    TextDelta,
    ToolUse,
    TurnDetection,
)
from mirascope.providers.openai.realtime import OpenAIRealtimeCodec

from tests.support.fixtures import fixtures_dir

KEY = "sk-realtime-test-0123456789"


@llm.tool
def get_weather(city: str) -> str:
    """Look up the weather for a city."""
    return f"It is foggy and 12 degrees in {city}."


@llm.tool
def remember_name(name: str) -> str:
    """Store the name the user introduced themselves with."""
    return f"Stored {name}."


TOOLS = {"get_weather": get_weather, "remember_name": remember_name}


def _recording_paths() -> list[Path]:
    root = fixtures_dir() / "realtime"
    return sorted([*root.glob("test_openai_ws/*.json"), *root.glob("test_azure_ws/*.json")])


RECORDINGS = [pytest.param(path, id=f"{path.parent.name}/{path.stem}") for path in _recording_paths()]


@cache
def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _messages(path: Path, direction: str) -> list[dict[str, Any]]:
    return [
        interaction["data"]
        for interaction in _load(path)["interactions"]
        if interaction["kind"] == "message" and interaction["direction"] == direction
    ]


def _client(provider: str, **settings: Any) -> llm.Client:
    if provider == "azure":
        settings.setdefault("resource", "r")
    return llm.client(provider, api_key=KEY, **settings)


def _codec(provider: str = "openai", *, client: llm.Client | None = None, **setup: Any) -> OpenAIRealtimeCodec:
    client = client or _client(provider)
    model = setup.pop("model", "gpt-realtime")
    realtime_setup = RealtimeSetup(model_id=f"{provider}:{model}", model=model, **setup)
    codec = client.provider.realtime_codec(realtime_setup, client)  # pyright: ignore[reportAttributeAccessIssue]
    assert isinstance(codec, OpenAIRealtimeCodec)
    return codec


def _normalized(value: Any) -> Any:
    """A message by meaning: event ids dropped, JSON-string arguments read as values."""
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, item in value.items():
            if key == "event_id":
                continue
            if key == "arguments" and isinstance(item, str):
                item = json.loads(item)
            found[key] = _normalized(item)
        return found
    if isinstance(value, list):
        return [_normalized(item) for item in value]
    return value


def _implied_setup(path: Path) -> tuple[str, dict[str, Any]]:
    """The provider, and the `RealtimeSetup` settings the recording's `session.update` implies."""
    session = _messages(path, "sent")[0]["session"]
    transcriber = session["audio"]["input"]["transcription"]["model"]
    setup: dict[str, Any] = {
        "instructions": session["instructions"],
        "output": session["output_modalities"][0],
        "tools": [TOOLS[tool["name"]] for tool in session.get("tools", [])],
        "input_transcription": True if transcriber == "gpt-realtime-whisper" else transcriber,
    }
    return ("azure" if path.parent.name == "test_azure_ws" else "openai"), setup


# Where and how the session connects


def test_openai_connects_to_the_realtime_endpoint_with_a_bearer_key() -> None:
    codec = _codec("openai")
    assert codec.url == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    assert dict(codec.headers) == {"authorization": f"Bearer {KEY}"}


def test_azure_connects_to_the_resource_with_the_deployment_as_model_and_an_api_key_header() -> None:
    codec = _codec("azure", model="my-realtime")
    assert codec.url == "wss://r.openai.azure.com/openai/v1/realtime?model=my-realtime"
    assert dict(codec.headers) == {"api-key": KEY}


def test_a_local_base_url_becomes_ws_and_a_bare_host_gets_v1() -> None:
    local = _codec(client=_client("openai", base_url="http://127.0.0.1:8765/v1"))
    assert local.url == "ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime"
    bare = _codec(client=_client("openai", base_url="http://127.0.0.1:8765"))
    assert bare.url == "ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime"
    azure = _codec("azure", client=_client("azure", base_url="https://proxy.example/openai/v1", resource=None))
    assert azure.url == "wss://proxy.example/openai/v1/realtime?model=gpt-realtime"


def test_the_client_headers_and_organization_go_with_the_handshake() -> None:
    client = _client("openai", organization="org-1", headers={"x-trace": "t"})
    assert dict(_codec(client=client).headers) == {
        "authorization": f"Bearer {KEY}",
        "openai-organization": "org-1",
        "x-trace": "t",
    }


def test_only_the_responses_providers_of_openai_and_azure_have_realtime() -> None:
    assert callable(getattr(get_provider("openai"), "realtime_codec", None))
    assert callable(getattr(get_provider("azure"), "realtime_codec", None))
    for name in ("openai-completions", "azure-completions", "groq", "ollama"):
        assert not hasattr(get_provider(name), "realtime_codec"), name


def test_the_codec_shows_neither_its_key_nor_its_url() -> None:
    codec = _codec("openai")
    assert KEY not in repr(codec)


# What the session sends


@pytest.mark.parametrize("path", RECORDINGS)
def test_opening_is_the_recorded_session_update(path: Path) -> None:
    provider, setup = _implied_setup(path)
    codec = _codec(provider, **setup)
    assert [_normalized(message) for message in codec.opening()] == [_normalized(_messages(path, "sent")[0])]


@pytest.mark.parametrize("path", RECORDINGS)
def test_every_later_message_is_what_the_codec_encodes_for_it(path: Path) -> None:
    provider, setup = _implied_setup(path)
    codec = _codec(provider, **setup)
    for sent in _messages(path, "sent")[1:]:
        kind = sent["type"]
        if kind == "input_audio_buffer.append":
            ours = codec.audio(base64.b64decode(sent["audio"]))
        elif kind == "response.create":
            ours = codec.respond()
        elif sent["item"]["type"] == "function_call_output":
            item = sent["item"]
            ours = codec.tool_outputs([llm.ToolOutput(id=item["call_id"], name="tool", result=item["output"])])
        else:
            ours = codec.user_text(sent["item"]["content"][0]["text"], respond=False)
        assert [_normalized(message) for message in ours] == [_normalized(sent)]


def test_a_user_turn_asks_for_a_response_unless_told_not_to() -> None:
    codec = _codec()
    item = {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
    }
    assert codec.user_text("Hi", respond=True) == [item, {"type": "response.create"}]
    assert codec.user_text("Hi", respond=False) == [item]


def test_audio_goes_as_standard_base64() -> None:
    pcm = bytes(range(256)) * 3
    [message] = _codec().audio(pcm)
    assert message == {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}


def _session(codec: OpenAIRealtimeCodec) -> dict[str, Any]:
    return codec.opening()[0]["session"]


def test_manual_turns_turn_detection_off_and_commit_audio_asks_for_the_answer() -> None:
    codec = _codec(turn_detection="manual")
    assert _session(codec)["audio"]["input"]["turn_detection"] is None
    assert codec.commit_audio(respond=True) == [{"type": "input_audio_buffer.commit"}, {"type": "response.create"}]
    assert codec.commit_audio(respond=False) == [{"type": "input_audio_buffer.commit"}]


def test_semantic_and_tuned_turn_detection() -> None:
    semantic = _session(_codec(turn_detection="semantic"))["audio"]["input"]["turn_detection"]
    assert semantic == {"type": "semantic_vad", "create_response": True, "interrupt_response": True}
    tuning = TurnDetection(silence_ms=500, prefix_padding_ms=120, threshold=0.7, respond=False, interrupt=False)
    tuned = _session(_codec(turn_detection=tuning))["audio"]["input"]["turn_detection"]
    assert tuned == {
        "type": "server_vad",
        "create_response": False,
        "interrupt_response": False,
        "silence_duration_ms": 500,
        "prefix_padding_ms": 120,
        "threshold": 0.7,
    }


def test_voice_max_tokens_and_no_transcription() -> None:
    session = _session(_codec(voice="marin", input_transcription=False, params={"max_tokens": 300}))
    assert session["audio"]["output"] == {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}
    assert "transcription" not in session["audio"]["input"]
    assert session["max_output_tokens"] == 300
    assert "instructions" not in session


def test_provider_params_join_the_session_without_overriding_it() -> None:
    session = _session(
        _codec(
            instructions="Be brief.",
            provider_params={
                "tool_choice": "required",
                "audio": {"input": {"noise_reduction": {"type": "near_field"}}},
            },
        )
    )
    assert session["tool_choice"] == "required"
    assert session["audio"]["input"]["noise_reduction"] == {"type": "near_field"}
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    with pytest.raises(llm.FeatureNotSupportedError):
        _codec(instructions="Be brief.", provider_params={"instructions": "Be long."})
    with pytest.raises(llm.FeatureNotSupportedError):
        _codec(provider_params={"type": "transcription"})


def test_g711_input_is_8_khz_telephone_audio() -> None:
    codec = _codec(input_audio=AudioFormat("g711_ulaw"))
    assert codec.input_format == AudioFormat("g711_ulaw", 8000)
    assert _session(codec)["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    alaw = _codec(input_audio=AudioFormat("g711_alaw", 8000))
    assert _session(alaw)["audio"]["input"]["format"] == {"type": "audio/pcma"}
    assert alaw.output_format == AudioFormat("pcm16", 24000)


def _wav(pcm: bytes, *, rate: int = 24000, channels: int = 1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return out.getvalue()


def test_seeded_history_becomes_conversation_items_after_the_session_update() -> None:
    pcm = b"\x01\x00\x02\x00" * 240
    history = (
        llm.messages.user(["What's the weather?", llm.Audio.from_bytes(_wav(pcm))]),
        llm.messages.user([llm.Audio.from_bytes(pcm, mime_type="audio/pcm;rate=24000")]),
        llm.Message(
            role="assistant",
            content=(
                llm.Thought(text="thinking"),
                llm.Text("Let me look."),
                llm.ToolCall(id="call_1", name="get_weather", args={"city": "Paris"}),
            ),
        ),
        llm.Message(role="user", content=(llm.ToolOutput(id="call_1", name="get_weather", result="Sunny"),)),
        llm.Message(
            role="assistant",
            content=(llm.Text("Sunny in Paris."), llm.Audio.from_bytes(_wav(pcm), mime_type="audio/wav")),
        ),
    )
    opening = _codec(tools=[get_weather], messages=history).opening()
    assert opening[0]["type"] == "session.update"
    assert [message["type"] for message in opening[1:]] == ["conversation.item.create"] * 6
    items = [message["item"] for message in opening[1:]]
    raw = items.pop(1)
    assert raw == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_audio", "audio": base64.b64encode(pcm).decode()}],
    }
    assert items[0] == {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "What's the weather?"},
            {"type": "input_audio", "audio": base64.b64encode(pcm).decode()},
        ],
    }
    assert items[1] == {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Let me look."}],
    }
    assert _normalized(items[2]) == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": {"city": "Paris"},
    }
    assert items[3] == {"type": "function_call_output", "call_id": "call_1", "output": "Sunny"}
    assert items[4] == {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Sunny in Paris."}],
    }


# What the session refuses before connecting


@pytest.mark.parametrize(
    ("setup", "named"),
    [
        pytest.param({"input_audio": AudioFormat(rate=16000)}, "16000 Hz", id="pcm16-16k"),
        pytest.param({"params": {"temperature": 0.5}}, "temperature", id="temperature"),
        pytest.param({"params": {"top_p": 0.5}}, "top_p", id="top_p"),
        pytest.param({"params": {"top_k": 5}}, "top_k", id="top_k"),
        pytest.param({"params": {"seed": 5}}, "seed", id="seed"),
        pytest.param({"params": {"stop": "x"}}, "stop", id="stop"),
        pytest.param({"params": {"thinking": "high"}}, "thinking", id="thinking"),
        pytest.param({"tools": [llm.WebSearch()]}, "WebSearch", id="provider-tool"),
        pytest.param({"messages": (llm.messages.system("Be brief."),)}, "instructions=", id="system-message"),
        pytest.param(
            {"messages": (llm.messages.user([llm.Image.from_url("https://example.com/a.png")]),)},
            "Image",
            id="image",
        ),
        pytest.param(
            {"messages": (llm.messages.user([llm.Video.from_url("https://example.com/a.mp4")]),)}, "Video", id="video"
        ),
        pytest.param(
            {"messages": (llm.messages.user([llm.Document.from_url("https://example.com/a.pdf")]),)},
            "Document",
            id="document",
        ),
        pytest.param(
            {"messages": (llm.messages.user([llm.Audio.from_url("https://example.com/a.wav")]),)},
            "URL",
            id="audio-url",
        ),
        pytest.param(
            {"messages": (llm.messages.user([llm.Audio.from_bytes(_wav(b"\x00\x00" * 80, rate=16000))]),)},
            "16000 Hz",
            id="wav-16k",
        ),
        pytest.param(
            {"messages": (llm.messages.user([llm.Audio.from_bytes(b"ID3" + b"\x00" * 64)]),)},
            "audio/mpeg",
            id="mp3",
        ),
        pytest.param(
            {"messages": (llm.messages.user([llm.Audio.from_bytes(b"\x00\x00", mime_type="audio/pcm")]),)},
            "audio/pcm",
            id="pcm-without-rate",
        ),
        pytest.param(
            {"messages": (llm.Message(role="assistant", content=(llm.Audio.from_bytes(_wav(b"\x00\x00")),)),)},
            "Audio",
            id="assistant-audio-without-transcript",
        ),
    ],
)
def test_what_the_realtime_api_cannot_take_is_refused_before_connecting(setup: dict[str, Any], named: str) -> None:
    with pytest.raises(llm.FeatureNotSupportedError) as raised:
        _codec(**setup)
    assert named in str(raised.value)
    assert raised.value.model == "openai:gpt-realtime"


def test_max_tokens_alone_is_taken() -> None:
    assert _session(_codec(params={"max_tokens": 50}))["max_output_tokens"] == 50


# What the server sends


def _decoded(path: Path) -> list[Any]:
    provider, setup = _implied_setup(path)
    codec = _codec(provider, **setup)
    events: list[Any] = []
    for message in _messages(path, "received"):
        events.extend(codec.decode(message))
    return events


def _received(path: Path, kind: str) -> list[dict[str, Any]]:
    return [message for message in _messages(path, "received") if message["type"] == kind]


def _texts(events: list[Any], kind: type) -> str:
    return "".join(event.text for event in events if isinstance(event, kind))


@pytest.mark.parametrize("path", RECORDINGS)
def test_decoded_texts_add_up_to_the_final_transcripts(path: Path) -> None:
    events = _decoded(path)
    texts = "".join(done["text"] for done in _received(path, "response.output_text.done"))
    spoken = "".join(done["transcript"] for done in _received(path, "response.output_audio_transcript.done"))
    heard = "".join(
        done["transcript"] for done in _received(path, "conversation.item.input_audio_transcription.completed")
    )
    assert _texts(events, TextDelta) == texts
    assert _texts(events, OutputTranscript) == spoken
    assert _texts(events, InputTranscript) == heard
    assert texts or spoken  # every recording has an answer to check


@pytest.mark.parametrize("path", RECORDINGS)
def test_decoded_audio_is_every_byte_the_server_sent(path: Path) -> None:
    events = _decoded(path)
    audio = [event for event in events if isinstance(event, AudioDelta)]
    sent = b"".join(base64.b64decode(delta["delta"]) for delta in _received(path, "response.output_audio.delta"))
    assert b"".join(event.data for event in audio) == sent
    assert all(event.format == AudioFormat("pcm16", 24000) for event in audio)


@pytest.mark.parametrize("path", RECORDINGS)
def test_decoded_markers_tool_calls_and_usage(path: Path) -> None:
    events = _decoded(path)
    session_id = _received(path, "session.updated")[0]["session"]["id"]
    assert [event for event in events if isinstance(event, Ready)] == [Ready(session_id)]
    assert events.index(Ready(session_id)) < min(
        (index for index, event in enumerate(events) if isinstance(event, ResponseStarted)), default=len(events)
    )

    calls = [event.call for event in events if isinstance(event, ToolUse)]
    recorded_calls = _received(path, "response.function_call_arguments.done")
    assert [(call.id, call.name, call.args) for call in calls] == [
        (done["call_id"], done["name"], json.loads(done["arguments"])) for done in recorded_calls
    ]

    started = [event.id for event in events if isinstance(event, ResponseStarted)]
    done = [event for event in events if isinstance(event, ResponseDone)]
    recorded = [message["response"] for message in _received(path, "response.done")]
    assert started == [message["response"]["id"] for message in _received(path, "response.created")]
    assert [event.id for event in done] == [response["id"] for response in recorded]
    for event, response in zip(done, recorded, strict=True):
        usage = response["usage"]
        assert event.usage == llm.Usage(
            input_tokens=usage["input_tokens"],
            output_tokens=usage["output_tokens"],
            cache_read_tokens=usage["input_token_details"]["cached_tokens"],
            reasoning_tokens=usage["output_token_details"].get("reasoning_tokens", 0),
        )
        called = any(item["type"] == "function_call" for item in response["output"])
        assert event.finish_reason == ("tool_call" if called else "stop")
        assert not event.cancelled

    for marker, kind in (
        (SpeechStarted, "input_audio_buffer.speech_started"),
        (SpeechStopped, "input_audio_buffer.speech_stopped"),
        (InputCommitted, "input_audio_buffer.committed"),
    ):
        assert sum(isinstance(event, marker) for event in events) == len(_received(path, kind))


def test_some_recording_has_cached_tokens_and_a_tool_call() -> None:
    # The parametrized checks above must meet both, or they check nothing of them.
    events = [event for path in _recording_paths() for event in _decoded(path)]
    assert any(isinstance(event, ResponseDone) and event.usage and event.usage.cache_read_tokens for event in events)
    assert any(isinstance(event, ResponseDone) and event.finish_reason == "tool_call" for event in events)


def test_a_failed_transcription_is_an_error_event_the_session_survives() -> None:
    [path] = [path for path in _recording_paths() if path.stem.endswith("transcription_requires_deployment")]
    events = _decoded(path)
    [error] = [event for event in events if isinstance(event, ErrorEvent)]
    assert isinstance(error.error, llm.NotFoundError)
    assert "Input transcription failed" in str(error.error)
    assert error.error.provider == "azure"
    assert events.index(error) < max(index for index, event in enumerate(events) if isinstance(event, ResponseDone))


def test_a_final_transcript_without_deltas_is_sent_whole_and_one_that_disagrees_adds_nothing() -> None:
    codec = _codec()
    done = {"type": "response.output_audio_transcript.done", "item_id": "a", "content_index": 0, "transcript": "Hi!"}
    assert codec.decode(done) == [OutputTranscript("Hi!")]
    delta = {"type": "response.output_audio_transcript.delta", "item_id": "b", "content_index": 0, "delta": "Hel"}
    assert codec.decode(delta) == [OutputTranscript("Hel")]
    assert codec.decode({**done, "item_id": "b", "transcript": "Hello"}) == [OutputTranscript("lo")]
    codec.decode({**delta, "item_id": "c", "delta": "Bye"})
    assert codec.decode({**done, "item_id": "c", "transcript": "Hello"}) == []


def test_the_first_input_transcript_delta_loses_its_leading_space() -> None:
    codec = _codec()
    delta = {"type": "conversation.item.input_audio_transcription.delta", "item_id": "u", "content_index": 0}
    assert codec.decode({**delta, "delta": " "}) == []
    assert codec.decode({**delta, "delta": " Hello"}) == [InputTranscript("Hello", "u")]
    assert codec.decode({**delta, "delta": " there"}) == [InputTranscript(" there", "u")]


def _response_done(status: str, **details: Any) -> dict[str, Any]:
    return {
        "type": "response.done",
        "response": {"id": "resp_1", "status": status, "status_details": {"type": status, **details}, "output": []},
    }


def test_response_statuses_become_finish_reasons() -> None:
    codec = _codec()
    [cancelled] = codec.decode(_response_done("cancelled", reason="turn_detected"))
    assert cancelled == ResponseDone(id="resp_1", finish_reason="other", cancelled=True)
    [capped] = codec.decode(_response_done("incomplete", reason="max_output_tokens"))
    assert capped == ResponseDone(id="resp_1", finish_reason="max_tokens")
    [filtered] = codec.decode(_response_done("incomplete", reason="content_filter"))
    assert filtered == ResponseDone(id="resp_1", finish_reason="content_filter")
    error, done = codec.decode(
        _response_done("failed", error={"type": "server_error", "code": "internal", "message": "It broke."})
    )
    assert isinstance(error, ErrorEvent)
    assert isinstance(error.error, llm.ServerError)
    assert "It broke." in str(error.error)
    assert done == ResponseDone(id="resp_1", finish_reason="other")


def test_a_tool_call_makes_the_reply_finish_for_tools_and_bad_json_is_kept_raw() -> None:
    codec = _codec()
    codec.decode({"type": "response.created", "response": {"id": "resp_1"}})
    [use] = codec.decode(
        {"type": "response.function_call_arguments.done", "call_id": "c1", "name": "get_weather", "arguments": "{oops"}
    )
    assert isinstance(use, ToolUse)
    assert use.call.args == {RAW_ARGS_KEY: "{oops"}
    [done] = codec.decode(_response_done("completed"))
    assert isinstance(done, ResponseDone)
    assert done.finish_reason == "tool_call"
    codec.decode({"type": "response.created", "response": {"id": "resp_2"}})
    [after] = codec.decode(_response_done("completed"))
    assert isinstance(after, ResponseDone)
    assert after.finish_reason == "stop"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"type": "invalid_request_error", "code": "invalid_api_key", "message": "Bad key."}, llm.AuthenticationError),
        ({"type": "invalid_request_error", "code": "invalid_value", "message": "Nope."}, llm.BadRequestError),
        ({"type": "server_error", "code": None, "message": "Oops."}, llm.ServerError),
        ({"type": "tokens", "code": "rate_limit_exceeded", "message": "Slow down."}, llm.RateLimitError),
        ({"type": "invalid_request_error", "code": "model_not_found", "message": "No model."}, llm.NotFoundError),
    ],
)
def test_error_events_become_the_matching_api_error(error: dict[str, Any], kind: type[llm.APIError]) -> None:
    [event] = _codec().decode({"type": "error", "event_id": "e1", "error": error})
    assert isinstance(event, ErrorEvent)
    assert type(event.error) is kind
    assert error["message"] in str(event.error)


def test_cancelling_a_reply_that_already_ended_is_no_error() -> None:
    error = {"type": "invalid_request_error", "code": "response_cancel_not_active", "message": "No active response."}
    assert _codec().decode({"type": "error", "error": error}) == []


def test_unknown_and_uninteresting_messages_give_no_events(caplog: pytest.LogCaptureFixture) -> None:
    codec = _codec()
    caplog.set_level("INFO", logger="mirascope.llm.realtime")
    assert codec.decode({"type": "response.brand_new_thing.delta"}) == []
    assert codec.decode({"type": "response.brand_new_thing.delta"}) == []
    assert codec.decode(["not", "an", "object"]) == []
    assert codec.decode({"no": "type"}) == []
    assert sum("brand_new_thing" in record.getMessage() for record in caplog.records) == 1
    caplog.clear()
    for kind in ("session.created", "rate_limits.updated", "conversation.item.added", "response.output_audio.done"):
        assert codec.decode({"type": kind}) == []
    assert not caplog.records


# Interrupting a reply


def test_interrupt_cancels_and_truncates_the_spoken_item_to_what_was_heard() -> None:
    codec = _codec()
    assert codec.interrupt(None) == [{"type": "response.cancel"}]
    assert codec.interrupt(500) == [{"type": "response.cancel"}]  # no audio yet: nothing to truncate
    second = base64.b64encode(b"\x00" * 48000).decode()  # one second of 24 kHz PCM16
    for _ in range(2):
        codec.decode({"type": "response.output_audio.delta", "item_id": "item_a", "content_index": 0, "delta": second})
    truncate = {"type": "conversation.item.truncate", "item_id": "item_a", "content_index": 0}
    assert codec.interrupt(1250) == [{"type": "response.cancel"}, {**truncate, "audio_end_ms": 1250}]
    assert codec.interrupt(9000) == [{"type": "response.cancel"}, {**truncate, "audio_end_ms": 2000}]
    codec.decode({"type": "response.output_audio.delta", "item_id": "item_b", "content_index": 0, "delta": second})
    assert codec.interrupt(9000)[1] == {**truncate, "item_id": "item_b", "audio_end_ms": 1000}


# Errors of the connection


def test_close_codes_become_api_errors() -> None:
    codec = _codec()
    assert codec.close_error(1000, "") is None
    assert codec.close_error(1001, "going away") is None
    assert isinstance(codec.close_error(1011, "internal error"), llm.ServerError)
    assert isinstance(codec.close_error(1008, "Invalid API key"), llm.AuthenticationError)
    assert isinstance(codec.close_error(1008, "Not allowed"), llm.PermissionError)
    assert isinstance(codec.close_error(1007, "bad payload"), llm.BadRequestError)
    assert isinstance(codec.close_error(1006, ""), llm.ConnectionError)
    rate_limited = codec.close_error(4429, "too many sessions")
    assert isinstance(rate_limited, llm.RateLimitError)
    assert "too many sessions" in str(rate_limited)
    assert type(codec.close_error(4000, "")) is llm.APIError


def test_a_refused_handshake_is_the_provider_http_error() -> None:
    codec = _codec()
    body = json.dumps(
        {
            "error": {
                "message": "Incorrect API key provided.",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        }
    ).encode()
    error = codec.handshake_error(401, {"content-type": "application/json"}, body)
    assert isinstance(error, llm.AuthenticationError)
    assert error.status_code == 401
    assert "Incorrect API key provided." in str(error)
    limited = codec.handshake_error(429, {"retry-after": "7"}, b'{"error": {"message": "Slow down."}}')
    assert isinstance(limited, llm.RateLimitError)
    assert limited.retry_after == 7.0
    assert isinstance(codec.handshake_error(404, {}, b"not found"), llm.NotFoundError)
    assert isinstance(codec.handshake_error(503, {}, b""), llm.ServerError)


def test_usage_reads_cached_and_reasoning_tokens() -> None:
    message = _response_done("completed")
    message["response"]["usage"] = {
        "input_tokens": 120,
        "output_tokens": 40,
        "input_token_details": {"cached_tokens": 64},
        "output_token_details": {"reasoning_tokens": 12},
    }
    [done] = _codec().decode(message)
    assert done == ResponseDone(
        id="resp_1",
        usage=llm.Usage(input_tokens=120, output_tokens=40, cache_read_tokens=64, reasoning_tokens=12),
        finish_reason="stop",
    )
