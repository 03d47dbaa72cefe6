"""What a Gemini reply decodes to: parts, finish reasons, usage, ids."""

from __future__ import annotations

import pytest
from mirascope import llm

from tests.providers.google.support import MODEL, reply
from tests.support.fixtures import load
from tests.support.replay import ReplayServer


def _call(replay_server: ReplayServer, client: llm.Client, response: dict[str, object]) -> llm.CallResponse:
    with replay_server.replaying([response]):
        return llm.model(MODEL, client=client).call("Hi")


def test_text_reply_decodes_with_id_model_and_raw_content(replay_server: ReplayServer, client: llm.Client) -> None:
    recorded = load("test_call/google_gemini_2_5_flash/sync.json")["exchanges"][0]["response"]
    response = _call(replay_server, client, recorded)

    body = recorded["json"]
    assert "4242" in response.content
    assert response.finish_reason == "stop"
    assert response.id == body["responseId"]
    assert response.provider_model == "gemini-2.5-flash"
    assert response.model == MODEL
    assert response.message.model == MODEL
    assert response.message.raw == body["candidates"][0]["content"]
    assert response.raw == body
    assert response.thinking is None


def test_usage_counts_thoughts_as_output_and_reasoning(replay_server: ReplayServer, client: llm.Client) -> None:
    recorded = load("test_call/google_gemini_2_5_flash/sync.json")["exchanges"][0]["response"]
    response = _call(replay_server, client, recorded)

    assert response.usage == llm.Usage(input_tokens=13, output_tokens=77 + 25, reasoning_tokens=25)
    assert response.usage is not None
    assert response.usage.total_tokens == recorded["json"]["usageMetadata"]["totalTokenCount"]


def test_usage_reports_implicit_cache_reads(replay_server: ReplayServer, client: llm.Client) -> None:
    fixture = load("test_caching_multi_turn_conversation/google_gemini_2_5_flash/sync.json")
    response = _call(replay_server, client, fixture["exchanges"][0]["response"])

    assert response.usage is not None
    assert response.usage.cache_read_tokens == 3055
    assert response.usage.input_tokens == 3797


def test_usage_counts_built_in_tool_prompts_as_input(replay_server: ReplayServer, client: llm.Client) -> None:
    fixture = load("test_web_search_tool/google_gemini_2_5_flash/sync.json")
    recorded = fixture["exchanges"][0]["response"]
    response = _call(replay_server, client, recorded)

    assert response.usage is not None
    assert response.usage.input_tokens == 32 + 134
    assert response.usage.total_tokens == recorded["json"]["usageMetadata"]["totalTokenCount"]


def test_thought_parts_decode_as_thoughts_with_their_signature(replay_server: ReplayServer, client: llm.Client) -> None:
    response = _call(
        replay_server,
        client,
        reply({"text": "Thinking hard.", "thought": True, "thoughtSignature": "c2ln"}, {"text": "3"}),
    )

    assert response.message.content == (
        llm.Thought(text="Thinking hard.", signature="c2ln"),
        llm.Text("3"),
    )
    assert response.thinking == "Thinking hard."
    assert response.content == "3"


def test_recorded_thinking_reply_keeps_thoughts_out_of_the_text(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    fixture = load("test_call_with_thinking/google_gemini_2_5_flash/sync.json")
    response = _call(replay_server, client, fixture["exchanges"][0]["response"])

    assert response.thinking is not None
    assert response.thinking.startswith("**Analyzing Prime Numbers")
    assert "Analyzing" not in response.content
    assert response.content.endswith("3")


def test_function_calls_decode_as_tool_calls_with_stable_ids(replay_server: ReplayServer, client: llm.Client) -> None:
    fixture = load("test_call_with_tools/google_gemini_2_5_flash/sync.json")
    response = _call(replay_server, client, fixture["exchanges"][0]["response"])

    assert response.finish_reason == "tool_call"
    assert response.tool_calls == [
        llm.ToolCall(
            id="google_secret_retrieval_tool_0",
            name="secret_retrieval_tool",
            args={"password": "mellon"},
        ),
        llm.ToolCall(
            id="google_secret_retrieval_tool_1",
            name="secret_retrieval_tool",
            args={"password": "radiance"},
        ),
    ]


def test_function_call_ids_sent_by_gemini_are_kept(replay_server: ReplayServer, client: llm.Client) -> None:
    response = _call(
        replay_server,
        client,
        reply({"functionCall": {"id": "fc-1", "name": "lookup", "args": {}}}),
    )

    assert response.tool_calls == [llm.ToolCall(id="fc-1", name="lookup", args={})]


def test_image_output_decodes_as_images(replay_server: ReplayServer, client: llm.Client) -> None:
    response = _call(
        replay_server,
        client,
        reply(
            {"text": "Here it is."},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        ),
    )

    assert response.content == "Here it is."
    assert response.images == [llm.Image(mime_type="image/png", data="iVBORw0KGgo=")]


def test_unknown_parts_are_kept_only_in_raw(replay_server: ReplayServer, client: llm.Client) -> None:
    code = {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
    response = _call(replay_server, client, reply(code, {"text": "1"}))

    assert response.message.content == (llm.Text("1"),)
    assert response.message.raw == {"role": "model", "parts": [code, {"text": "1"}]}


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "max_tokens"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "other"),
        ("OTHER", "other"),
        ("SOMETHING_NEW", "other"),
    ],
)
def test_finish_reasons_map_to_core_finish_reasons(
    replay_server: ReplayServer, client: llm.Client, reason: str, expected: llm.FinishReason
) -> None:
    response = _call(replay_server, client, reply({"text": "x"}, finish=reason))

    assert response.finish_reason == expected


def test_a_reply_with_no_candidates_is_a_content_filter_stop_with_empty_content(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    blocked = {
        "status": 200,
        "json": {
            "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
            "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9},
            "modelVersion": "gemini-2.5-flash",
            "responseId": "blocked-1",
        },
    }
    response = _call(replay_server, client, blocked)

    assert response.finish_reason == "content_filter"
    assert response.content == ""
    assert response.message.content == ()
    assert response.usage == llm.Usage(input_tokens=9)
    assert response.id == "blocked-1"


def test_a_candidate_without_content_decodes_to_an_empty_message(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    response = _call(
        replay_server,
        client,
        {"status": 200, "json": {"candidates": [{"finishReason": "SAFETY", "index": 0}]}},
    )

    assert response.finish_reason == "content_filter"
    assert response.content == ""
    assert response.usage is None
