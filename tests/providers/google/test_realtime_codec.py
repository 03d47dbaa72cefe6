"""The Gemini Live codec on its own: what it sends, what it reads, what it refuses (no network).

The recorded sessions (`tests/fixtures/realtime/test_google_ws`) are replayed through the codec:
every message the client sent must come out of the codec for the same intention (compared by
meaning: the recordings spell keys in snake_case and base64 URL-safe), and every message the
server sent is decoded and checked against a plain reading of the recording.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from mirascope import llm
from mirascope.llm.providers.realtime import (
    InputCommitted,
    Ready,
    RealtimeSetup,
    ResponseDone,
    ResponseStarted,
)
from mirascope.llm.realtime import (
    AudioDelta,
    AudioFormat,
    InputTranscript,
    Interrupted,
    OutputTranscript,
    TextDelta,
    ToolUse,
    TurnDetection,
)
from mirascope.providers.google import google
from mirascope.providers.google.realtime import GeminiLiveCodec, gemini_schema

from tests.support.fixtures import load
from tests.support.meaning import meaning

RECORDINGS = Path(__file__).resolve().parents[2] / "fixtures" / "realtime" / "test_google_ws"
LIVE_MODEL = "gemini-2.5-flash-native-audio-preview-09-2025"
GEMINI_WS = "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


@llm.tool
def record_reading(zqx_measurement: int, qbf_note: str | None = None) -> str:
    """Store the supplied sensor value."""
    return f"Recorded {zqx_measurement} ({qbf_note})."


@llm.tool
def queue_followup() -> str:
    return "armed"


TOOLS: dict[str, llm.Tool[..., str]] = {tool.name: tool for tool in (record_reading, queue_followup)}


def _setup(**settings: Any) -> RealtimeSetup:
    settings.setdefault("output", "audio")
    return RealtimeSetup(model_id=f"google:{LIVE_MODEL}", model=LIVE_MODEL, **settings)


def _codec(client: llm.Client | None = None, **settings: Any) -> GeminiLiveCodec:
    codec = google.realtime_codec(_setup(**settings), client or llm.client("google", api_key="test-key"))
    assert isinstance(codec, GeminiLiveCodec)
    return codec


def _recording(name: str) -> list[dict[str, Any]]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())["interactions"]


def _names() -> list[str]:
    return sorted(path.stem for path in RECORDINGS.glob("*.json"))


def _setup_from(recorded: dict[str, Any]) -> RealtimeSetup:
    """The session settings the recorded `setup` message says the user chose."""
    body = recorded["setup"]
    declarations = [d for tool in body.get("tools", []) for d in tool["functionDeclarations"]]
    return _setup(
        instructions=body["systemInstruction"]["parts"][0]["text"],
        tools=[TOOLS[declaration["name"]] for declaration in declarations],
        output=body["generationConfig"]["responseModalities"][0].lower(),
        input_transcription="inputAudioTranscription" in body,
    )


def _replay(name: str) -> tuple[list[tuple[Any, Any]], list[Any], GeminiLiveCodec]:
    """Drive a codec through a recording: (recorded sent, codec sent) pairs and the decoded events."""
    interactions = _recording(name)
    codec = google.realtime_codec(_setup_from(interactions[0]["data"]), llm.client("google", api_key="test-key"))
    assert isinstance(codec, GeminiLiveCodec)
    pairs: list[tuple[Any, Any]] = []
    events: list[Any] = []
    for interaction in interactions:
        if interaction["kind"] != "message":
            continue
        data = interaction["data"]
        if interaction["direction"] == "received":
            events.extend(codec.decode(data))
            continue
        if "setup" in data:
            (produced,) = codec.opening()
        elif "client_content" in data:
            content = data["client_content"]
            (turn,) = content["turns"]
            (produced,) = codec.user_text(turn["parts"][0]["text"], respond=content["turnComplete"])
        elif "realtime_input" in data:
            pcm = base64.urlsafe_b64decode(data["realtime_input"]["audio"]["data"] + "==")
            (produced,) = codec.audio(pcm)
        else:
            # Run the tools the model called, as a session would, and send their outputs.
            calls = [event.call for event in events if isinstance(event, ToolUse)]
            pending = {response["id"] for response in data["tool_response"]["functionResponses"]}
            outputs = [
                llm.ToolOutput(id=call.id, name=call.name, result=TOOLS[call.name](**call.args))
                for call in calls
                if call.id in pending
            ]
            (produced,) = codec.tool_outputs(outputs)
        pairs.append((data, produced))
    return pairs, events, codec


# Replaying the recordings.


@pytest.mark.parametrize("name", _names())
def test_every_recorded_client_message_is_what_the_codec_sends(name: str) -> None:
    pairs, _, _ = _replay(name)

    assert pairs
    for recorded, produced in pairs:
        assert meaning(produced) == meaning(recorded)
    # Client messages use the camelCase spelling of the top-level keys.
    assert {next(iter(produced)) for _, produced in pairs} <= {
        "setup",
        "clientContent",
        "realtimeInput",
        "toolResponse",
    }


def test_the_recorded_setups_are_matched_exactly_including_the_gemini_schema() -> None:
    (setup,) = [data for data in (i["data"] for i in _recording("test_tool_call_round")) if "setup" in data]
    codec = google.realtime_codec(_setup_from(setup), llm.client("google", api_key="test-key"))

    assert codec.opening() == [setup]
    assert setup["setup"]["tools"][0]["functionDeclarations"][0]["parameters"] == {
        "type": "OBJECT",
        "properties": {"zqx_measurement": {"type": "INTEGER"}, "qbf_note": {"nullable": True, "type": "STRING"}},
        "required": ["zqx_measurement"],
    }


def _plain_reading(interactions: list[dict[str, Any]]) -> dict[str, Any]:
    """What a recording's server messages say, read field by field without the codec."""
    heard, said, written, audio, calls, usages = "", "", "", b"", [], []
    for interaction in interactions:
        if interaction["kind"] != "message" or interaction["direction"] != "received":
            continue
        data = interaction["data"]
        content = data.get("serverContent", {})
        heard += content.get("inputTranscription", {}).get("text", "")
        said += content.get("outputTranscription", {}).get("text", "")
        for part in content.get("modelTurn", {}).get("parts", []):
            if "text" in part and not part.get("thought"):
                written += part["text"]
            if "inlineData" in part:
                audio += base64.b64decode(part["inlineData"]["data"])
        calls.extend((c["id"], c["name"], c["args"]) for c in data.get("toolCall", {}).get("functionCalls", []))
        if content.get("turnComplete"):
            metadata = data["usageMetadata"]
            usages.append(
                llm.Usage(
                    input_tokens=metadata["promptTokenCount"],
                    output_tokens=metadata["responseTokenCount"] + metadata.get("thoughtsTokenCount", 0),
                    reasoning_tokens=metadata.get("thoughtsTokenCount", 0),
                )
            )
    return {"heard": heard, "said": said, "written": written, "audio": audio, "calls": calls, "usages": usages}


@pytest.mark.parametrize("name", _names())
def test_every_recorded_server_message_decodes_to_what_it_says(name: str) -> None:
    _, events, codec = _replay(name)
    expected = _plain_reading(_recording(name))

    assert events[0] == Ready()
    assert "".join(e.text for e in events if isinstance(e, InputTranscript)) == expected["heard"]
    assert "".join(e.text for e in events if isinstance(e, OutputTranscript)) == expected["said"]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == expected["written"]
    audio = [e for e in events if isinstance(e, AudioDelta)]
    assert b"".join(e.data for e in audio) == expected["audio"]
    assert all(e.format == codec.output_format == AudioFormat(rate=24000) for e in audio)
    calls = [(e.call.id, e.call.name, e.call.args) for e in events if isinstance(e, ToolUse)]
    assert calls == expected["calls"]
    finished = [e for e in events if isinstance(e, ResponseDone) and e.finish_reason == "stop"]
    assert [e.usage for e in finished] == expected["usages"]
    assert not any(isinstance(e, Interrupted) or (isinstance(e, ResponseDone) and e.cancelled) for e in events)


@pytest.mark.parametrize("name", _names())
def test_each_reply_is_framed_by_one_started_and_one_done(name: str) -> None:
    _, events, _ = _replay(name)

    open_reply = False
    for event in events:
        if isinstance(event, ResponseStarted):
            assert not open_reply
            open_reply = True
        elif isinstance(event, ResponseDone):
            assert open_reply
            open_reply = False
        elif isinstance(event, AudioDelta | OutputTranscript | TextDelta | ToolUse):
            assert open_reply, event
    assert not open_reply


def test_thoughts_are_not_text() -> None:
    _, events, _ = _replay("test_text_in_audio_out_turn")

    assert not any(isinstance(e, TextDelta) for e in events)
    assert "Crafting a Greeting" in json.dumps(_recording("test_text_in_audio_out_turn"))
    assert [type(e) for e in events if not isinstance(e, AudioDelta)] == [
        Ready,
        ResponseStarted,
        OutputTranscript,
        ResponseDone,
    ]
    (done,) = [e for e in events if isinstance(e, ResponseDone)]
    assert done.usage == llm.Usage(input_tokens=1131, output_tokens=26 + 24, reasoning_tokens=24)


def test_a_spoken_turn_s_reply_begins_after_its_transcript() -> None:
    _, events, _ = _replay("test_audio_in_server_vad_turn")

    kinds = [type(e) for e in events if not isinstance(e, AudioDelta)]
    assert kinds == [Ready, *[InputTranscript] * 5, ResponseStarted, OutputTranscript, ResponseDone]
    assert not any(isinstance(e, InputCommitted) for e in events)  # Gemini never says; core infers it


def test_a_tool_round_is_one_reply_that_ends_at_turn_complete() -> None:
    _, events, _ = _replay("test_tool_call_round")

    kinds = [type(e) for e in events if not isinstance(e, AudioDelta | OutputTranscript)]
    assert kinds == [Ready, ResponseStarted, ToolUse, ResponseDone]
    (done,) = [e for e in events if isinstance(e, ResponseDone)]
    assert done == ResponseDone(usage=llm.Usage(input_tokens=1267, output_tokens=103), finish_reason="stop")


# Sending.


def test_the_setup_without_tools_matches_the_recording() -> None:
    codec = _codec(instructions="Reply in a few words.")

    assert codec.opening() == [
        {
            "setup": {
                "model": f"models/{LIVE_MODEL}",
                "generationConfig": {"responseModalities": ["AUDIO"]},
                "systemInstruction": {"parts": [{"text": "Reply in a few words."}], "role": "user"},
                "inputAudioTranscription": {},
                "outputAudioTranscription": {},
            }
        }
    ]


def test_text_output_asks_for_text_and_no_output_transcription() -> None:
    (opening,) = _codec(output="text", input_transcription=False).opening()

    assert opening == {"setup": {"model": f"models/{LIVE_MODEL}", "generationConfig": {"responseModalities": ["TEXT"]}}}


def test_a_tool_with_no_parameters_and_no_docstring() -> None:
    (opening,) = _codec(tools=[queue_followup]).opening()

    assert opening["setup"]["tools"] == [
        {
            "functionDeclarations": [
                {"description": "", "name": "queue_followup", "parameters": {"properties": {}, "type": "OBJECT"}}
            ]
        }
    ]


def test_user_text_with_and_without_a_reply() -> None:
    codec = _codec()

    assert codec.user_text("Hi", respond=True) == [
        {"clientContent": {"turns": [{"parts": [{"text": "Hi"}], "role": "user"}], "turnComplete": True}}
    ]
    assert codec.user_text("Later", respond=False)[0]["clientContent"]["turnComplete"] is False


def test_audio_is_standard_base64_at_the_input_rate() -> None:
    codec = _codec(input_audio=AudioFormat(rate=24000))

    assert codec.input_format == AudioFormat(rate=24000)
    assert codec.audio(b"\xff\xfe\x00\x01") == [
        {"realtimeInput": {"audio": {"data": "//4AAQ==", "mimeType": "audio/pcm;rate=24000"}}}
    ]
    assert _codec().input_format == AudioFormat(rate=16000)


def test_tool_outputs_go_together_with_data_as_data_and_errors_as_errors() -> None:
    codec = _codec()
    outputs = [
        llm.ToolOutput(id="call-1", name="a", result="text"),
        llm.ToolOutput(id="call-2", name="b", value={"n": 1}),
        llm.ToolOutput(id="call-3", name="c", result="boom", is_error=True),
        llm.ToolOutput(id="google_d_0", name="d", result="no id"),
    ]

    assert codec.tool_outputs(outputs) == [
        {
            "toolResponse": {
                "functionResponses": [
                    {"id": "call-1", "name": "a", "response": {"output": "text"}},
                    {"id": "call-2", "name": "b", "response": {"output": {"n": 1}}},
                    {"id": "call-3", "name": "c", "response": {"error": "boom"}},
                    {"name": "d", "response": {"output": "no id"}},
                ]
            }
        }
    ]
    assert codec.tool_outputs([]) == []
    assert codec.respond() == []
    assert codec.interrupt(1200) == []


def test_manual_turns_open_with_activity_start_and_end_on_commit() -> None:
    codec = _codec(turn_detection="manual")
    (opening,) = codec.opening()

    assert opening["setup"]["realtimeInputConfig"] == {"automaticActivityDetection": {"disabled": True}}
    first = codec.audio(b"\x00\x00")
    assert first[0] == {"realtimeInput": {"activityStart": {}}}
    assert "audio" in first[1]["realtimeInput"]
    assert len(codec.audio(b"\x00\x00")) == 1
    assert codec.commit_audio(respond=True) == [{"realtimeInput": {"activityEnd": {}}}]
    assert codec.commit_audio(respond=True) == []  # nothing said since
    assert codec.audio(b"\x00\x00")[0] == {"realtimeInput": {"activityStart": {}}}


def test_committing_with_server_detection_ends_the_audio_stream() -> None:
    assert _codec().commit_audio(respond=True) == [{"realtimeInput": {"audioStreamEnd": True}}]


def test_commit_without_a_reply_is_refused() -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="respond=False"):
        _codec(turn_detection="manual").commit_audio(respond=False)


def test_tuned_voice_detection() -> None:
    detection = TurnDetection(silence_ms=500, prefix_padding_ms=200, interrupt=False)
    (opening,) = _codec(turn_detection=detection).opening()

    assert opening["setup"]["realtimeInputConfig"] == {
        "automaticActivityDetection": {"silenceDurationMs": 500, "prefixPaddingMs": 200},
        "activityHandling": "NO_INTERRUPTION",
    }
    (default,) = _codec(turn_detection=TurnDetection()).opening()
    assert "realtimeInputConfig" not in default["setup"]


def test_params_and_voice_go_into_the_generation_config() -> None:
    (opening,) = _codec(
        voice="Kore",
        params={"max_tokens": 200, "temperature": 0.5, "top_p": 0.9, "top_k": 20, "seed": 7, "thinking": "none"},
    ).opening()

    assert opening["setup"]["generationConfig"] == {
        "responseModalities": ["AUDIO"],
        "temperature": 0.5,
        "topP": 0.9,
        "topK": 20,
        "maxOutputTokens": 200,
        "seed": 7,
        "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": False},
        "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}},
    }


def test_provider_params_are_merged_into_the_setup() -> None:
    (opening,) = _codec(
        provider_params={
            "generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_LOW"},
            "sessionResumption": {},
            "tools": [{"googleSearch": {}}],
        },
        tools=[queue_followup],
    ).opening()

    setup = opening["setup"]
    assert setup["generationConfig"] == {"responseModalities": ["AUDIO"], "mediaResolution": "MEDIA_RESOLUTION_LOW"}
    assert setup["sessionResumption"] == {}
    assert setup["tools"][1] == {"googleSearch": {}}


@pytest.mark.parametrize(
    "provider_params",
    [{"model": "models/other"}, {"generationConfig": {"responseModalities": ["TEXT"]}}],
)
def test_provider_params_cannot_replace_what_the_session_sets(provider_params: dict[str, Any]) -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="provider_params"):
        _codec(provider_params=provider_params)


def test_history_is_one_client_content_that_asks_for_no_reply() -> None:
    call = llm.ToolCall(id="call-1", name="record_reading", args={"zqx_measurement": 5})
    messages = (
        llm.messages.system("Be terse."),
        llm.messages.user("Record 5."),
        llm.Message(role="assistant", content=(llm.Thought(text="hmm"), call)),
        llm.Message(role="user", content=(llm.ToolOutput(id="call-1", name="record_reading", result="done"),)),
        llm.Message(role="assistant", content=(llm.Audio(mime_type="audio/wav", data="AAAA"), llm.Text("Done."))),
    )
    codec = _codec(instructions="Help.", messages=messages)

    setup, history = codec.opening()
    assert setup["setup"]["systemInstruction"] == {"parts": [{"text": "Help."}, {"text": "Be terse."}], "role": "user"}
    assert history == {
        "clientContent": {
            "turns": [
                {"parts": [{"text": "Record 5."}], "role": "user"},
                {
                    "parts": [
                        {"functionCall": {"name": "record_reading", "args": {"zqx_measurement": 5}, "id": "call-1"}}
                    ],
                    "role": "model",
                },
                {
                    "parts": [
                        {"functionResponse": {"id": "call-1", "name": "record_reading", "response": {"output": "done"}}}
                    ],
                    "role": "user",
                },
                {"parts": [{"text": "Done."}], "role": "model"},
            ],
            "turnComplete": False,
        }
    }


@pytest.mark.parametrize(
    "part",
    [llm.Image(mime_type="image/png", data="AAAA"), llm.Audio(mime_type="audio/wav", data="AAAA")],
    ids=["image", "audio without transcript"],
)
def test_history_with_media_is_refused(part: Any) -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="messages"):
        _codec(messages=(llm.Message(role="user", content=(part,)),))


@pytest.mark.parametrize(
    ("settings", "feature"),
    [
        ({"turn_detection": "semantic"}, "semantic"),
        ({"turn_detection": TurnDetection(threshold=0.7)}, "threshold"),
        ({"turn_detection": TurnDetection(respond=False)}, "respond=False"),
        ({"input_transcription": "whisper-1"}, "input_transcription"),
        ({"input_audio": AudioFormat("g711_ulaw", rate=8000)}, "input_audio"),
        ({"params": {"stop": "END"}}, "stop"),
        ({"output": "text", "voice": "Kore"}, "voice"),
        ({"tools": [llm.tool(strict=True)(record_reading.fn)]}, "strict"),
    ],
)
def test_what_gemini_live_cannot_take_is_refused_before_connecting(settings: dict[str, Any], feature: str) -> None:
    with pytest.raises(llm.FeatureNotSupportedError) as caught:
        _codec(**settings)

    assert feature in caught.value.feature
    assert caught.value.model == f"google:{LIVE_MODEL}"


# Tool schemas.


def test_a_schema_core_writes_becomes_gemini_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "Where."},
            "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
            "days": {"type": "array", "items": {"type": "integer", "minimum": 1}, "maxItems": 7},
            "where": {"$ref": "#/$defs/Point", "description": "A point."},
            "either": {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
            "maybe": {"type": ["number", "null"]},
        },
        "required": ["city"],
        "additionalProperties": False,
        "title": "Args",
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}, "title": "Point"}},
    }

    assert gemini_schema(schema) == {
        "type": "OBJECT",
        "properties": {
            "city": {"type": "STRING", "description": "Where."},
            "unit": {"type": "STRING", "enum": ["c", "f"]},
            "days": {"type": "ARRAY", "items": {"type": "INTEGER", "minimum": 1}, "maxItems": 7},
            "where": {"type": "OBJECT", "properties": {"x": {"type": "NUMBER"}}, "description": "A point."},
            "either": {"anyOf": [{"type": "INTEGER"}, {"type": "STRING"}], "nullable": True},
            "maybe": {"type": "NUMBER", "nullable": True},
        },
        "required": ["city"],
    }


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        (
            {"type": "object", "properties": {"d": {"type": "object", "additionalProperties": {"type": "integer"}}}},
            "additionalProperties",
        ),
        (
            {"type": "object", "properties": {"t": {"type": "array", "prefixItems": [{"type": "integer"}]}}},
            "prefixItems",
        ),
        ({"type": "object", "properties": {"n": {"type": "integer", "enum": [1, 2]}}}, "enum"),
        ({"type": "object", "properties": {"c": {"const": "x"}}}, "type None"),
        ({"type": "object", "properties": {"a": {}}}, "type None"),
        (
            {
                "type": "object",
                "properties": {"r": {"$ref": "#/$defs/R"}},
                "$defs": {"R": {"type": "object", "properties": {"r": {"$ref": "#/$defs/R"}}}},
            },
            "reference",
        ),
    ],
    ids=["map", "tuple", "int enum", "const", "any", "recursive"],
)
def test_a_schema_gemini_schema_cannot_say_is_sent_as_json_schema(schema: dict[str, Any], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        gemini_schema(schema)
    tool = llm.Tool(lambda **kwargs: "", name="odd", description="Odd.", parameters=schema)
    (opening,) = _codec(tools=[tool]).opening()

    assert opening["setup"]["tools"] == [
        {"functionDeclarations": [{"description": "Odd.", "name": "odd", "parametersJsonSchema": schema}]}
    ]


# Decoding what the recordings do not show.


def _content(**fields: Any) -> dict[str, Any]:
    return {"serverContent": fields}


def test_text_output_decodes_to_text_deltas() -> None:
    codec = _codec(output="text")

    events = codec.decode(_content(modelTurn={"parts": [{"text": "Hel"}, {"text": "lo", "thought": True}]}))
    assert events == [ResponseStarted(), TextDelta("Hel")]
    assert codec.decode(_content(modelTurn={"parts": [{"text": "lo"}]})) == [TextDelta("lo")]


def test_an_interrupted_reply_ends_once_even_when_its_turn_complete_follows() -> None:
    codec = _codec()
    codec.decode(_content(outputTranscription={"text": "Well"}))

    assert codec.decode(_content(interrupted=True)) == [
        Interrupted(),
        ResponseDone(finish_reason="other", cancelled=True),
    ]
    assert codec.decode({**_content(turnComplete=True), "usageMetadata": {"promptTokenCount": 3}}) == []
    # The next reply is framed as usual.
    assert codec.decode(_content(outputTranscription={"text": "Yes"})) == [ResponseStarted(), OutputTranscript("Yes")]


def test_an_interruption_with_no_reply_open_only_says_so() -> None:
    assert _codec().decode(_content(interrupted=True)) == [Interrupted()]


def test_an_empty_turn_still_ends() -> None:
    assert _codec().decode(_content(turnComplete=True)) == [ResponseStarted(), ResponseDone()]


def test_usage_sent_before_turn_complete_is_the_turn_s() -> None:
    codec = _codec()
    codec.decode(_content(outputTranscription={"text": "Hi"}))
    assert (
        codec.decode({"usageMetadata": {"promptTokenCount": 10, "responseTokenCount": 4, "cachedContentTokenCount": 6}})
        == []
    )

    assert codec.decode(_content(turnComplete=True)) == [
        ResponseDone(usage=llm.Usage(input_tokens=10, output_tokens=4, cache_read_tokens=6))
    ]


def test_usage_between_replies_belongs_to_none() -> None:
    codec = _codec()
    codec.decode(_content(outputTranscription={"text": "Hi"}))
    codec.decode({**_content(turnComplete=True), "usageMetadata": {"promptTokenCount": 10}})
    assert codec.decode({"usageMetadata": {"promptTokenCount": 99}}) == []

    codec.user_text("Once more.", respond=True)
    codec.decode(_content(outputTranscription={"text": "Again"}))
    assert codec.decode(_content(turnComplete=True)) == [ResponseDone()]


def test_a_transcript_trailing_a_finished_reply_opens_no_new_one() -> None:
    codec = _codec()
    codec.decode(_content(outputTranscription={"text": "Hi"}))
    codec.decode(_content(turnComplete=True))
    # Nothing was asked since: these words are the last reply's, and no end would come for a new one.
    assert codec.decode(_content(outputTranscription={"text": " there."})) == [OutputTranscript(" there.")]


def test_a_tool_call_without_an_id_gets_one_that_is_not_sent_back() -> None:
    codec = _codec()
    events = codec.decode({"toolCall": {"functionCalls": [{"name": "queue_followup", "args": {}}]}})

    assert events == [
        ResponseStarted(),
        ToolUse(llm.ToolCall(id="google_queue_followup_0", name="queue_followup", args={})),
    ]
    (message,) = codec.tool_outputs([llm.ToolOutput(id="google_queue_followup_0", name="queue_followup", result="ok")])
    assert message["toolResponse"]["functionResponses"] == [{"name": "queue_followup", "response": {"output": "ok"}}]


def test_audio_at_another_rate_says_so() -> None:
    events = _codec().decode(
        _content(modelTurn={"parts": [{"inlineData": {"mimeType": "audio/pcm;rate=16000", "data": "AAE"}}]})
    )

    assert events[1] == AudioDelta(b"\x00\x01", AudioFormat(rate=16000))


def test_known_messages_without_events_and_unknown_ones(caplog: pytest.LogCaptureFixture) -> None:
    codec = _codec()
    caplog.set_level(logging.INFO, logger="mirascope.llm.realtime")

    assert codec.decode({"sessionResumptionUpdate": {"newHandle": "h", "resumable": True}}) == []
    assert codec.decode({"toolCallCancellation": {"ids": ["call-1"]}}) == []
    assert codec.decode(_content(generationComplete=True)) == []
    assert codec.decode({"goAway": {"timeLeft": "10s"}}) == []
    assert "goAway" in caplog.text
    assert codec.decode({"brandNewThing": {}}) == []
    assert codec.decode(_content(brandNewField=1)) == []
    assert "brandNewThing" in caplog.text
    assert "serverContent.brandNewField" in caplog.text


# Errors.


@pytest.mark.parametrize(
    ("code", "reason", "kind"),
    [
        (1007, "Request contains an invalid argument.", llm.BadRequestError),
        (1008, "API key not valid. Please pass a valid API key.", llm.AuthenticationError),
        (1008, "Operation is not implemented, or supported, or enabled.", llm.PermissionError),
        (1011, "Internal error encountered.", llm.ServerError),
        (1011, "You exceeded your current quota, please check your plan and billing details.", llm.RateLimitError),
        (1006, "", llm.APIError),
    ],
)
def test_close_codes_are_errors(code: int, reason: str, kind: type[llm.APIError]) -> None:
    error = _codec().close_error(code, reason)

    assert isinstance(error, kind)
    assert type(error) is kind
    assert error.provider == "google"
    assert reason in error.message


def test_a_normal_close_is_no_error() -> None:
    codec = _codec()

    assert codec.close_error(1000, "") is None
    assert codec.close_error(1001, "going away") is None


def test_a_refused_handshake_is_mapped_like_an_http_error() -> None:
    recorded = load("test_authentication_error/google_gemini_2_5_flash/sync.json")["exchanges"][0]["response"]
    codec = _codec()

    error = codec.handshake_error(recorded["status"], recorded["headers"], json.dumps(recorded["json"]).encode())
    assert type(error) is llm.AuthenticationError
    assert error.status_code == 400
    assert error.message == "API key not valid. Please pass a valid API key."
    assert type(codec.handshake_error(429, {"retry-after": "3"}, b"")) is llm.RateLimitError


# Connecting.


def test_the_gemini_api_url_and_key_header() -> None:
    codec = _codec(llm.client("google", api_key="AIza-secret", headers={"x-extra": "1"}))

    assert codec.url == GEMINI_WS
    assert dict(codec.headers) == {"x-goog-api-key": "AIza-secret", "x-extra": "1"}
    assert "AIza-secret" not in repr(codec)


@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        (
            "http://127.0.0.1:8765/v1beta",
            "ws://127.0.0.1:8765/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
        ),
        (
            "https://proxy.example/gemini/",
            "wss://proxy.example/gemini/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
        ),
        (
            "http://127.0.0.1:8765/v1alpha",
            "ws://127.0.0.1:8765/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent",
        ),
    ],
)
def test_a_custom_base_url_gives_the_websocket_url(base_url: str, url: str) -> None:
    assert _codec(llm.client("google", api_key="k", base_url=base_url)).url == url


def test_no_key_is_refused_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)

    with pytest.raises(llm.MissingAPIKeyError):
        _codec(llm.client("google"))


def test_vertex_ai_url_model_and_token() -> None:
    client = llm.client("google", vertexai=True, project="my-project", location="us-central1", api_key="ya29.token")
    codec = _codec(client)

    assert codec.url == (
        "wss://us-central1-aiplatform.googleapis.com/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent"
    )
    assert dict(codec.headers) == {"authorization": "Bearer ya29.token"}
    assert codec.opening()[0]["setup"]["model"] == (
        f"projects/my-project/locations/us-central1/publishers/google/models/{LIVE_MODEL}"
    )


def test_vertex_ai_global_location_has_no_region_in_the_host() -> None:
    codec = _codec(llm.client("google", vertexai=True, project="p", api_key="t"))

    assert (
        codec.url == "wss://aiplatform.googleapis.com/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent"
    )


class FakeCredentials:
    """google-auth's credentials interface: a token, whether it is valid, and `refresh(request)`."""

    def __init__(self, token: str) -> None:
        self._next = token
        self.token: str | None = None
        self.valid = False
        self.refreshes = 0

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.token = self._next
        self.valid = True


def test_vertex_ai_credentials_give_the_bearer_token_once_when_the_codec_is_made() -> None:
    credentials = FakeCredentials("ya29.from-credentials")
    client = llm.client("google", vertexai=True, project="p", location="europe-west4", credentials=credentials)
    codec = _codec(client)

    assert dict(codec.headers) == {"authorization": "Bearer ya29.from-credentials"}
    assert credentials.refreshes == 1
    assert codec.url.startswith("wss://europe-west4-aiplatform.googleapis.com/ws/")
