"""What Gemini is sent: each content part, system instructions, parameters and resumed turns."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from mirascope import llm

from tests.providers.google.support import MODEL, reply, text_reply
from tests.support.fixtures import load
from tests.support.replay import ReplayServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
MP3 = b"ID3" + b"\x00" * 16
PDF = b"%PDF-1.4\n" + b"\x00" * 16


def _sent(
    replay_server: ReplayServer,
    client: llm.Client,
    messages: list[llm.Message] | str,
    model: str = MODEL,
    **params: Any,
) -> dict[str, Any]:
    with replay_server.replaying([text_reply()]) as session:
        llm.model(model, client=client, **params).call(messages)
    (request,) = session.requests
    return request.json()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_system_messages_become_system_instruction(replay_server: ReplayServer, client: llm.Client) -> None:
    body = _sent(
        replay_server,
        client,
        [llm.messages.system("You are terse."), llm.messages.user("Hi")],
    )

    assert body == {
        "systemInstruction": {"parts": [{"text": "You are terse."}]},
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
    }


def test_assistant_messages_are_sent_with_role_model(replay_server: ReplayServer, client: llm.Client) -> None:
    body = _sent(
        replay_server,
        client,
        [llm.messages.user("Hi"), llm.messages.assistant("Hello!"), llm.messages.user("Bye")],
    )

    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "model", "parts": [{"text": "Hello!"}]},
        {"role": "user", "parts": [{"text": "Bye"}]},
    ]


def test_empty_text_parts_are_still_sent(replay_server: ReplayServer, client: llm.Client) -> None:
    body = _sent(replay_server, client, [llm.messages.user(["", ""])])

    assert body["contents"] == [{"role": "user", "parts": [{"text": ""}, {"text": ""}]}]


def test_inline_media_is_sent_as_inline_data(replay_server: ReplayServer, client: llm.Client) -> None:
    content: list[str | llm.ContentPart] = [
        "Look",
        llm.Image.from_bytes(PNG),
        llm.Document.from_bytes(PDF),
        llm.Document.from_bytes(b"plain words", mime_type="text/plain"),
        llm.Video.from_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 8),
    ]
    body = _sent(replay_server, client, [llm.messages.user(content)])

    assert body["contents"][0]["parts"] == [
        {"text": "Look"},
        {"inlineData": {"mimeType": "image/png", "data": _b64(PNG)}},
        {"inlineData": {"mimeType": "application/pdf", "data": _b64(PDF)}},
        {"inlineData": {"mimeType": "text/plain", "data": _b64(b"plain words")}},
        {
            "inlineData": {
                "mimeType": "video/mp4",
                "data": _b64(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 8),
            }
        },
    ]


def test_mp3_audio_is_sent_as_audio_mp3(replay_server: ReplayServer, client: llm.Client) -> None:
    audio = llm.Audio.from_bytes(MP3)
    assert audio.mime_type == "audio/mpeg"

    body = _sent(replay_server, client, [llm.messages.user(["Repeat exactly what you hear:", audio])])

    assert body["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "audio/mp3", "data": _b64(MP3)}}


@pytest.mark.parametrize(
    "part",
    [
        llm.Image.from_url("s3://bucket/cat.png"),
        llm.Audio.from_url("s3://bucket/a.mp3"),
        llm.Video.from_url("file:///tmp/v.mp4"),
        llm.Document.from_url("ftp://example.com/doc.pdf"),
    ],
    ids=["image", "audio", "video", "document"],
)
def test_media_by_a_uri_gemini_does_not_read_is_refused_before_any_request(
    replay_server: ReplayServer, client: llm.Client, part: llm.ContentPart
) -> None:
    kind = type(part).__name__
    with (
        replay_server.replaying([text_reply()]) as session,
        pytest.raises(llm.FeatureNotSupportedError) as caught,
    ):
        llm.model(MODEL, client=client).call([llm.messages.user(["Describe", part])])

    assert session.requests == []
    message = str(caught.value)
    assert MODEL in message
    assert f"{kind} by " in message
    assert f"llm.{kind}.from_file" in message
    assert caught.value.model == MODEL
    assert caught.value.feature.startswith(f"{kind} by ")


def test_web_files_api_cloud_storage_and_youtube_uris_are_sent_as_file_data_with_their_type(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    uploaded = "https://generativelanguage.googleapis.com/v1beta/files/abc123"
    content: list[str | llm.ContentPart] = [
        llm.Document.from_url(uploaded, mime_type="application/pdf"),
        llm.Video.from_url("gs://bucket/clip.mp4"),
        llm.Video.from_url("https://www.youtube.com/watch?v=9hE5-98ZeCg"),
        llm.Image.from_url("https://example.com/cat.png"),
    ]
    body = _sent(replay_server, client, [llm.messages.user(content)])

    assert body["contents"][0]["parts"] == [
        {"fileData": {"fileUri": uploaded, "mimeType": "application/pdf"}},
        {"fileData": {"fileUri": "gs://bucket/clip.mp4", "mimeType": "video/mp4"}},
        {"fileData": {"fileUri": "https://www.youtube.com/watch?v=9hE5-98ZeCg", "mimeType": "video/mp4"}},
        {"fileData": {"fileUri": "https://example.com/cat.png", "mimeType": "image/png"}},
    ]


def test_cache_control_is_refused_as_claude_only(replay_server: ReplayServer, client: llm.Client) -> None:
    with (
        replay_server.replaying([text_reply()]) as session,
        pytest.raises(llm.FeatureNotSupportedError, match="Claude") as caught,
    ):
        llm.model(MODEL, client=client).call([llm.messages.user(["Long prompt", llm.CacheControl()])])

    assert session.requests == []
    assert caught.value.feature == "CacheControl"


def test_non_text_system_content_is_refused(replay_server: ReplayServer, client: llm.Client) -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="Image"):
        _sent(
            replay_server,
            client,
            [llm.messages.system(llm.Image.from_bytes(PNG)), llm.messages.user("Hi")],
        )


def test_tool_calls_and_outputs_become_function_call_and_function_response(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    messages = [
        llm.messages.user("Secrets for mellon?"),
        llm.messages.assistant(
            [
                llm.ToolCall(id="call_abc", name="secret", args={"password": "mellon"}),
                llm.ToolCall(id="google_secret_1", name="secret", args={"password": "x"}),
            ]
        ),
        llm.messages.user(
            [
                llm.ToolOutput(id="call_abc", name="secret", result="Welcome to Moria!"),
                llm.ToolOutput(id="google_secret_1", name="secret", result="bad password", is_error=True),
            ]
        ),
    ]
    body = _sent(replay_server, client, messages)

    assert body["contents"][1:] == [
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {
                        "name": "secret",
                        "args": {"password": "mellon"},
                        "id": "call_abc",
                    }
                },
                {"functionCall": {"name": "secret", "args": {"password": "x"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {
                    "functionResponse": {
                        "name": "secret",
                        "response": {"output": "Welcome to Moria!"},
                        "id": "call_abc",
                    }
                },
                {"functionResponse": {"name": "secret", "response": {"error": "bad password"}}},
            ],
        },
    ]


def test_own_thoughts_are_sent_as_thought_parts_with_their_signature_and_others_are_not(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    written_here = llm.Message(
        role="assistant",
        content=(llm.Thought(text="Let me think.", signature="c2ln"), llm.Text("Yes.")),
    )
    from_claude = llm.Message(
        role="assistant",
        content=(llm.Thought(text="Claude thought.", signature="anthropic-sig"), llm.Text("No.")),
        model="anthropic:claude-sonnet-4-5",
        raw={"role": "assistant", "content": []},
    )
    body = _sent(
        replay_server,
        client,
        [
            llm.messages.user("Q1"),
            written_here,
            llm.messages.user("Q2"),
            from_claude,
            llm.messages.user("Q3"),
        ],
    )

    assert body["contents"][1]["parts"] == [
        {"text": "Let me think.", "thought": True, "thoughtSignature": "c2ln"},
        {"text": "Yes."},
    ]
    # Claude's thought is not Gemini's: it is not sent as a thought part (only as text, when asked).
    assert body["contents"][3] == {"role": "model", "parts": [{"text": "No."}]}


def test_resume_sends_geminis_own_turn_back_unchanged_with_thought_signatures(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    fixture = load("test_call_with_tools/google_gemini_2_5_flash/sync.json")
    first, second = fixture["exchanges"]
    secrets = {"mellon": "Welcome to Moria!", "radiance": "Life before Death"}
    messages = [
        llm.messages.system("Use parallel tool calling."),
        llm.messages.user("Please retrieve the secrets associated with each of these passwords: mellon,radiance"),
    ]

    with replay_server.replaying([first["response"], second["response"]]) as session:
        response = llm.model(MODEL, client=client).call(messages)
        assert response.finish_reason == "tool_call"
        outputs = [
            llm.ToolOutput(id=call.id, name=call.name, result=secrets[str(call.args["password"])])
            for call in response.tool_calls
        ]
        final = response.resume(outputs)

    assert "Moria" in final.content
    resumed = session.requests[1].json()
    recorded_turn = first["response"]["json"]["candidates"][0]["content"]
    assert "thoughtSignature" in recorded_turn["parts"][0]
    assert resumed["contents"][1] == recorded_turn
    assert resumed["contents"][2] == second["request"]["json"]["contents"][2]


def test_resume_after_thinking_sends_thought_parts_back(replay_server: ReplayServer, client: llm.Client) -> None:
    thought = {"text": "Primes: 79, 179, 379.", "thought": True, "thoughtSignature": "CiQB0e2Kb"}
    answer = {"text": "3", "thoughtSignature": "EiQB0e2Kc"}
    with replay_server.replaying([reply(thought, answer), text_reply("79, 179, 379")]) as session:
        response = llm.model(MODEL, client=client, thinking="medium").call("How many primes?")
        assert response.thinking == "Primes: 79, 179, 379."
        response.resume("Which were they?")

    contents = session.requests[1].json()["contents"]
    assert contents[1] == {"role": "model", "parts": [thought, answer]}
    assert contents[2] == {"role": "user", "parts": [{"text": "Which were they?"}]}


def test_an_empty_model_turn_is_left_out_on_resume(replay_server: ReplayServer, client: llm.Client) -> None:
    cut_off = {
        "status": 200,
        "json": {"candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS"}]},
    }
    with replay_server.replaying([cut_off, text_reply()]) as session:
        response = llm.model(MODEL, client=client, max_tokens=1).call("Hi")
        assert response.finish_reason == "max_tokens"
        response.resume("Again")

    assert session.requests[1].json()["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "user", "parts": [{"text": "Again"}]},
    ]


def test_common_params_go_into_generation_config(replay_server: ReplayServer, client: llm.Client) -> None:
    body = _sent(
        replay_server,
        client,
        "Hi",
        temperature=0.7,
        max_tokens=500,
        top_p=0.3,
        top_k=50,
        seed=42,
        stop=["4242"],
        thinking="none",
    )

    assert body["generationConfig"] == {
        "temperature": 0.7,
        "topP": 0.3,
        "topK": 50,
        "maxOutputTokens": 500,
        "stopSequences": ["4242"],
        "seed": 42,
        "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": False},
    }


def test_a_single_stop_string_is_sent_as_a_list(replay_server: ReplayServer, client: llm.Client) -> None:
    body = _sent(replay_server, client, "Hi", stop="END")

    assert body["generationConfig"] == {"stopSequences": ["END"]}


def test_no_params_sends_no_generation_config(replay_server: ReplayServer, client: llm.Client) -> None:
    assert "generationConfig" not in _sent(replay_server, client, "Hi")


@pytest.mark.parametrize(
    ("model", "thinking", "expected"),
    [
        ("google:gemini-2.5-flash", "low", {"thinkingBudget": 1024, "includeThoughts": True}),
        ("google:gemini-2.5-flash", "medium", {"thinkingBudget": 8192, "includeThoughts": True}),
        ("google:gemini-2.5-flash", "high", {"thinkingBudget": 24576, "includeThoughts": True}),
        ("google:gemini-2.5-pro", "high", {"thinkingBudget": 32768, "includeThoughts": True}),
        ("google:gemini-2.5-flash-lite", "none", {"thinkingBudget": 0, "includeThoughts": False}),
        (
            "google:gemini-2.5-flash",
            llm.Thinking(budget_tokens=2048, include=False),
            {"thinkingBudget": 2048, "includeThoughts": False},
        ),
        (
            "google:gemini-2.5-flash",
            llm.Thinking(level="high", include=True),
            {"thinkingBudget": 24576, "includeThoughts": True},
        ),
        ("google:gemini-2.5-flash", llm.Thinking(), {"includeThoughts": True}),
        ("google:gemini-3-pro-preview", "low", {"thinkingLevel": "low", "includeThoughts": True}),
        (
            "google:gemini-3-pro-preview",
            "medium",
            {"thinkingLevel": "high", "includeThoughts": True},
        ),
        (
            "google:gemini-3-flash-preview",
            "medium",
            {"thinkingLevel": "medium", "includeThoughts": True},
        ),
        ("google:some-future-model", "medium", {"thinkingBudget": 8192, "includeThoughts": True}),
    ],
)
def test_thinking_maps_to_thinking_config(
    replay_server: ReplayServer,
    client: llm.Client,
    model: str,
    thinking: llm.Thinking | llm.ThinkingLevel,
    expected: dict[str, Any],
) -> None:
    body = _sent(replay_server, client, "Hi", model=model, thinking=thinking)

    assert body["generationConfig"] == {"thinkingConfig": expected}


def test_thinking_none_on_a_model_that_always_thinks_logs_and_uses_the_smallest_budget(
    replay_server: ReplayServer, client: llm.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mirascope"):
        body = _sent(replay_server, client, "Hi", model="google:gemini-2.5-pro", thinking="none")

    assert body["generationConfig"] == {"thinkingConfig": {"thinkingBudget": 128, "includeThoughts": False}}
    assert "google:gemini-2.5-pro does not support thinking='none'" in caplog.text


def test_thinking_on_a_model_that_cannot_think_is_refused_before_any_request(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    with (
        replay_server.replaying([text_reply()]) as session,
        pytest.raises(llm.FeatureNotSupportedError, match="does not think"),
    ):
        llm.model("google:gemini-2.0-flash", client=client, thinking="high").call("Hi")

    assert session.requests == []


def test_thinking_none_on_a_model_that_cannot_think_sends_nothing(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    body = _sent(replay_server, client, "Hi", model="google:gemini-2.0-flash", thinking="none")

    assert "generationConfig" not in body


def test_provider_params_merge_into_the_body_and_generation_config(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    provider_params: dict[str, object] = {
        "safetySettings": safety,
        "generationConfig": {
            "responseMimeType": "application/json",
            "thinkingConfig": {"includeThoughts": True},  # as thinking="low" sets it: no replacement
        },
    }
    with replay_server.replaying([text_reply()]) as session:
        llm.model(MODEL, client=client, provider_params=provider_params, temperature=0.5, thinking="low").call("Hi")

    body = session.requests[0].json()
    assert body["safetySettings"] == safety
    config = body["generationConfig"]
    assert config["temperature"] == 0.5
    assert config["responseMimeType"] == "application/json"
    assert config["thinkingConfig"] == {"thinkingBudget": 1024, "includeThoughts": True}
    assert provider_params["generationConfig"] == {
        "responseMimeType": "application/json",
        "thinkingConfig": {"includeThoughts": True},
    }


def test_provider_params_cannot_replace_a_generation_config_field_set_from_the_call(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    provider_params = {"generationConfig": {"thinkingConfig": {"includeThoughts": False}}}
    with replay_server.replaying([text_reply()]) as session:
        with pytest.raises(llm.FeatureNotSupportedError, match=r"\['thinkingConfig'\]\['includeThoughts'\]"):
            llm.model(MODEL, client=client, provider_params=provider_params, thinking="low").call("Hi")
        assert session.requests == []
        # `thinking=` says it: thoughts left out.
        llm.model(MODEL, client=client, thinking=llm.Thinking(level="low", include=False)).call("Hi")
    assert session.requests[0].json()["generationConfig"]["thinkingConfig"]["includeThoughts"] is False
