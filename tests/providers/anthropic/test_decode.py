"""How Messages API replies become responses: parts, finish reasons, usage, raw blocks."""

from __future__ import annotations

from typing import Any

import pytest
from mirascope import llm

from tests.providers.anthropic.support import MODEL, Claude, reply

BLOCKS: list[dict[str, Any]] = [
    {"type": "thinking", "thinking": "First, the user...", "signature": "sig-1"},
    {"type": "redacted_thinking", "data": "encrypted-thought"},
    {"type": "text", "text": "Checking both.", "citations": None},
    {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "x"}},
    {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
    {"type": "tool_use", "id": "toolu_2", "name": "clock", "input": {}},
]


def test_blocks_decode_into_parts_in_order(claude: Claude) -> None:
    response = claude.call("Weather?", replies=[reply(BLOCKS, stop_reason="tool_use")])

    assert response.message == llm.Message(
        role="assistant",
        content=(
            llm.Thought(text="First, the user...", signature="sig-1"),
            llm.Thought(text="", signature="encrypted-thought"),
            llm.Text("Checking both."),
            llm.ToolCall(id="toolu_1", name="weather", args={"city": "Paris"}),
            llm.ToolCall(id="toolu_2", name="clock", args={}),
        ),
        model=MODEL,
        raw=BLOCKS,
    )
    assert response.finish_reason == "tool_call"
    assert response.content == "Checking both."
    assert response.thinking is not None
    assert response.thinking.strip() == "First, the user..."  # the redacted thought has no text
    assert [call.name for call in response.tool_calls] == ["weather", "clock"]
    assert response.id == "msg_test"
    assert response.provider_model == "claude-sonnet-4-20250514"


def test_thoughts_are_left_out_when_not_asked_for_but_kept_for_resume(claude: Claude) -> None:
    response = claude.call("Think", replies=[reply(BLOCKS[:3])], thinking=llm.Thinking(level="low", include=False))

    assert response.message.content == (llm.Text("Checking both."),)
    assert response.thinking is None
    assert response.message.raw == BLOCKS[:3]


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "max_tokens"),
        ("model_context_window_exceeded", "max_tokens"),
        ("tool_use", "tool_call"),
        ("refusal", "refusal"),
        ("something_new", "other"),
        (None, "other"),
    ],
)
def test_stop_reasons_become_finish_reasons(claude: Claude, stop_reason: str | None, finish_reason: str) -> None:
    response = claude.call("Hi", replies=[reply(stop_reason=stop_reason)])

    assert response.finish_reason == finish_reason


def test_usage_counts_cached_prompt_tokens_as_input_tokens(claude: Claude) -> None:
    usage = {
        "input_tokens": 12,
        "cache_creation_input_tokens": 598,
        "cache_read_input_tokens": 4597,
        "output_tokens": 350,
    }

    response = claude.call("Hi", replies=[reply(usage=usage)])

    assert response.usage == llm.Usage(
        input_tokens=12 + 598 + 4597,
        output_tokens=350,
        cache_read_tokens=4597,
        cache_write_tokens=598,
        reasoning_tokens=0,
    )


def test_usage_without_cache_fields_counts_plain_input(claude: Claude) -> None:
    usage = {"input_tokens": 7, "cache_creation_input_tokens": None, "output_tokens": 2}

    response = claude.call("Hi", replies=[reply(usage=usage)])

    assert response.usage == llm.Usage(input_tokens=7, output_tokens=2)


def test_an_empty_reply_decodes_to_no_parts_and_is_skipped_on_resume(claude: Claude) -> None:
    client = claude.client()
    with claude.server.replaying([reply([]), reply()]) as session:
        first = llm.model(MODEL, client=client).call("Hi")
        first.resume("Still there?")

    assert first.content == ""
    assert first.message.content == ()
    assert session.requests[1].json()["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "user", "content": "Still there?"},
    ]
