"""Converse replies decode into Mirascope messages: every recorded reply, read again here apart from the decoder."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mirascope import llm
from mirascope.llm._decoding import check
from mirascope.llm.providers import RAW_ARGS_KEY, Request
from mirascope.providers.bedrock import decode

from tests.support.fixtures import fixtures_dir

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"

# Bedrock's stopReason values, as its API reference lists them, and what each should mean here.
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_call",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    "malformed_model_output": "other",
    "malformed_tool_use": "other",
}


def _converse_replies() -> list[tuple[str, dict[str, Any]]]:
    """Every recorded successful Converse reply: (`<test>/<model>/<mode>#<exchange>`, the exchange)."""
    root = fixtures_dir() / "bedrock"
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(root.glob("*/*/*.json")):
        for index, exchange in enumerate(json.loads(path.read_text())["exchanges"]):
            response = exchange["response"]
            if exchange["request"]["url"].endswith("/converse") and response["status"] < 400:
                found.append((f"{path.relative_to(root).as_posix()}#{index}", exchange))
    return found


REPLIES = _converse_replies()


def _request(model: str = MODEL, **params: Any) -> Request:
    return Request(
        model_id=f"bedrock:{model}",
        model=model,
        messages=(llm.messages.user("Hi"),),
        params=llm.CallParams(**params),
    )


def _model_of(exchange: dict[str, Any]) -> str:
    from urllib.parse import unquote

    return unquote(exchange["request"]["url"].split("/model/", 1)[1].rsplit("/", 1)[0])


def test_the_recordings_hold_replies_of_every_kind() -> None:
    kinds = {key for _, exchange in REPLIES for block in _content(exchange) for key in block}
    assert len(REPLIES) >= 90
    assert {"text", "toolUse", "reasoningContent"} <= kinds


def _content(exchange: dict[str, Any]) -> list[dict[str, Any]]:
    return exchange["response"]["json"]["output"]["message"]["content"]


@pytest.mark.parametrize(("name", "exchange"), REPLIES, ids=[name for name, _ in REPLIES])
def test_every_recorded_reply_decodes_as_read_here(name: str, exchange: dict[str, Any]) -> None:
    body = exchange["response"]["json"]
    request = _request(_model_of(exchange))

    decoded = check(decode.decode(request, body))

    # The reply, read here from the recording without the decoder.
    blocks = body["output"]["message"]["content"]
    text = "".join(block["text"] for block in blocks if "text" in block)
    calls = [
        (block["toolUse"]["toolUseId"], block["toolUse"]["name"], block["toolUse"]["input"])
        for block in blocks
        if "toolUse" in block
    ]
    thoughts = [
        (
            block["reasoningContent"]["reasoningText"]["text"],
            block["reasoningContent"]["reasoningText"].get("signature"),
        )
        for block in blocks
        if "reasoningText" in block.get("reasoningContent", {})
    ]
    message = decoded.message
    assert message.role == "assistant"
    assert message.model == f"bedrock:{_model_of(exchange)}"
    assert "".join(part.text for part in message.content if isinstance(part, llm.Text)) == text
    assert [(part.id, part.name, part.args) for part in message.content if isinstance(part, llm.ToolCall)] == calls
    assert [(part.text, part.signature) for part in message.content if isinstance(part, llm.Thought)] == thoughts
    assert len(message.content) == len(blocks)  # no block of these replies is left out
    # Parts keep the blocks' order.
    kinds = [next(iter(block)) for block in blocks]
    expected_types = {"text": llm.Text, "toolUse": llm.ToolCall, "reasoningContent": llm.Thought}
    assert [type(part) for part in message.content] == [expected_types[kind] for kind in kinds]
    # Resume sends back the assistant message exactly as Bedrock sent it.
    assert message.raw == body["output"]["message"]
    assert message.raw == {"role": "assistant", "content": blocks}

    assert decoded.finish_reason == FINISH_REASONS[body["stopReason"]]

    counts = body["usage"]
    cached = counts.get("cacheReadInputTokens", 0) + counts.get("cacheWriteInputTokens", 0)
    assert decoded.usage == llm.Usage(
        input_tokens=counts["inputTokens"] + cached,
        output_tokens=counts["outputTokens"],
        cache_read_tokens=counts.get("cacheReadInputTokens", 0),
        cache_write_tokens=counts.get("cacheWriteInputTokens", 0),
    )
    # Bedrock's own total counts the cached tokens: so must the usage.
    assert decoded.usage is not None
    assert decoded.usage.total_tokens == counts["totalTokens"]
    assert decoded.id is None
    assert decoded.provider_model is None


def test_cache_reads_and_writes_count_as_input_tokens() -> None:
    [write, read] = [
        exchange["response"]["json"]
        for name, exchange in REPLIES
        if name.startswith("test_bedrock_cache_write_and_read/")
    ]

    assert decode.usage(write["usage"]) == llm.Usage(input_tokens=1324, output_tokens=5, cache_write_tokens=1322)
    assert decode.usage(read["usage"]) == llm.Usage(input_tokens=1324, output_tokens=5, cache_read_tokens=1322)


@pytest.mark.parametrize(("stop_reason", "finish_reason"), [*FINISH_REASONS.items(), ("something_new", "other")])
def test_stop_reasons_become_finish_reasons(stop_reason: str, finish_reason: str) -> None:
    body = {"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}}, "stopReason": stop_reason}

    assert decode.decode(_request(), body).finish_reason == finish_reason


def _reply(*blocks: dict[str, Any], stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": list(blocks)}},
        "stopReason": stop,
        "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5},
    }


def test_redacted_reasoning_is_a_thought_without_text_whose_signature_is_the_redacted_data() -> None:
    redacted = "RXRrRUNrZ0lCeEFCR0FJcVFKVGZxUy9QWXVBRlpl"
    body = _reply(
        {"reasoningContent": {"redactedContent": redacted}},
        {"reasoningContent": {"reasoningText": {"text": "Let me think.", "signature": "sig-1"}}},
        {"text": "Hello."},
    )

    message = decode.decode(_request(), body).message

    assert message.content == (
        llm.Thought(text="", signature=redacted),
        llm.Thought(text="Let me think.", signature="sig-1"),
        llm.Text("Hello."),
    )
    assert message.raw == body["output"]["message"]


def test_thoughts_are_left_out_when_not_asked_for_but_kept_in_raw_for_resume() -> None:
    body = _reply(
        {"reasoningContent": {"reasoningText": {"text": "Let me think.", "signature": "sig-1"}}},
        {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
        {"text": "Hello."},
    )

    message = decode.decode(_request(thinking=llm.Thinking(budget_tokens=1024, include=False)), body).message

    assert message.content == (llm.Text("Hello."),)
    assert message.raw == body["output"]["message"]


def test_reasoning_without_a_signature_keeps_none() -> None:
    # gpt-oss, DeepSeek and Kimi send their reasoning unsigned.
    body = _reply({"reasoningContent": {"reasoningText": {"text": "Hmm."}}}, {"text": "ok"})

    assert decode.decode(_request(), body).message.content == (llm.Thought(text="Hmm.", signature=None), llm.Text("ok"))


def test_tool_calls_keep_their_ids_names_and_arguments_and_the_forced_format_tool_is_a_call_like_any() -> None:
    body = _reply(
        {"text": "Let me look."},
        {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
        {"toolUse": {"toolUseId": "tooluse_2", "name": "no_args", "input": {}}},
        {"toolUse": {"toolUseId": "tooluse_3", "name": "__mirascope_formatted_output_tool__", "input": {"a": 1}}},
        stop="tool_use",
    )

    decoded = decode.decode(_request(), body)

    assert decoded.message.content == (
        llm.Text("Let me look."),
        llm.ToolCall(id="tooluse_1", name="get_weather", args={"city": "Paris"}),
        llm.ToolCall(id="tooluse_2", name="no_args", args={}),
        llm.ToolCall(id="tooluse_3", name="__mirascope_formatted_output_tool__", args={"a": 1}),
    )
    assert decoded.finish_reason == "tool_call"


@pytest.mark.parametrize(
    ("value", "args"),
    [
        ('{"city": "Par', {RAW_ARGS_KEY: '{"city": "Par'}),
        ([1, 2], {RAW_ARGS_KEY: "[1, 2]"}),
        (None, {RAW_ARGS_KEY: "null"}),
    ],
)
def test_tool_input_that_is_no_object_is_kept_as_its_text(value: object, args: dict[str, Any]) -> None:
    body = _reply({"toolUse": {"toolUseId": "t", "name": "f", "input": value}}, stop="tool_use")

    [call] = decode.decode(_request(), body).message.content

    assert call == llm.ToolCall(id="t", name="f", args=args)


def test_web_citations_become_citations_of_the_cited_text() -> None:
    body = _reply(
        {
            "citationsContent": {
                "content": [{"text": "Paris is the "}, {"text": "capital."}],
                "citations": [
                    {
                        "title": "Paris - Wikipedia",
                        "sourceContent": [{"text": "Paris is the capital of France."}],
                        "location": {"web": {"url": "https://en.wikipedia.org/wiki/Paris", "domain": "wikipedia.org"}},
                    },
                    # A citation of the caller's own document has no URL: it stays in raw only.
                    {"title": "notes.pdf", "location": {"documentPage": {"documentIndex": 0, "start": 1, "end": 2}}},
                ],
            }
        },
        {"text": " More."},
    )

    message = check(decode.decode(_request(), body)).message

    assert message.content == (
        llm.Text(
            "Paris is the capital.",
            (
                llm.Citation(
                    url="https://en.wikipedia.org/wiki/Paris",
                    title="Paris - Wikipedia",
                    start=0,
                    end=21,
                    cited_text="Paris is the capital of France.",
                ),
            ),
        ),
        llm.Text(" More."),
    )
    assert message.raw == body["output"]["message"]


def test_blocks_of_other_kinds_stay_in_raw_only() -> None:
    body = _reply({"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}, {"text": "ok"})

    message = decode.decode(_request(), body).message

    assert message.content == (llm.Text("ok"),)
    assert message.raw == body["output"]["message"]


def test_an_empty_reply_decodes_to_no_parts() -> None:
    decoded = decode.decode(_request(), _reply())

    assert decoded.message.content == ()
    assert decoded.finish_reason == "stop"


@pytest.mark.parametrize(
    "body",
    [{}, {"output": {}}, {"output": {"message": None}}, {"output": {"message": {"role": "assistant"}}}],
    ids=["nothing", "no-message", "null-message", "no-content"],
)
def test_a_success_without_a_message_is_an_api_error_not_an_empty_reply(body: dict[str, Any]) -> None:
    with pytest.raises(llm.APIError) as raised:
        decode.decode(_request(), body)

    assert raised.value.provider == "bedrock"
    assert "without a reply" in str(raised.value)


def test_usage_is_none_when_bedrock_sent_none() -> None:
    body = _reply({"text": "ok"})
    del body["usage"]

    assert decode.decode(_request(), body).usage is None
