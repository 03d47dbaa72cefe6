"""What reaches the Messages API for each part and parameter, read off the wire."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from mirascope import llm

from tests.providers.anthropic.support import MODEL, Claude, reply

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.4 tiny"
PNG_B64 = base64.b64encode(PNG).decode()
PDF_B64 = base64.b64encode(PDF).decode()


def test_a_single_text_part_is_sent_as_a_string(claude: Claude) -> None:
    claude.call("Hi")

    assert claude.sent == {
        "model": "claude-sonnet-4-0",
        "max_tokens": 16000,
        "messages": [{"role": "user", "content": "Hi"}],
    }


def test_text_and_an_inline_image_are_sent_as_blocks(claude: Claude) -> None:
    claude.call([llm.messages.user(["Describe", llm.Image.from_bytes(PNG)])])

    assert claude.sent["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Describe"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
            ],
        }
    ]


def test_an_image_url_is_sent_as_a_url_source(claude: Claude) -> None:
    claude.call([llm.messages.user([llm.Image.from_url("https://example.com/cat.png")])])

    assert claude.sent["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}
    ]


def test_an_inline_image_type_claude_cannot_read_is_refused_before_sending(claude: Claude) -> None:
    heic = llm.Image.from_bytes(b"not really heic", mime_type="image/heic")

    with pytest.raises(llm.FeatureNotSupportedError, match="image/heic") as raised:
        claude.call([llm.messages.user(["Describe", heic])])

    assert raised.value.model == MODEL
    assert claude.requests == []


def test_a_pdf_is_sent_as_a_base64_document(claude: Claude) -> None:
    claude.call([llm.messages.user(["Summarize", llm.Document.from_bytes(PDF)])])

    assert claude.sent["messages"][0]["content"][1] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64},
    }


def test_a_text_document_is_sent_as_plain_text(claude: Claude) -> None:
    notes = llm.Document.from_bytes("# Notes\ncafé".encode(), mime_type="text/markdown")

    claude.call([llm.messages.user(["Summarize", notes])])

    assert claude.sent["messages"][0]["content"][1] == {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "# Notes\ncafé"},
    }


def test_a_document_url_is_sent_as_a_url_source(claude: Claude) -> None:
    claude.call([llm.messages.user(["Summarize", llm.Document.from_url("https://example.com/a.pdf")])])

    assert claude.sent["messages"][0]["content"][1] == {
        "type": "document",
        "source": {"type": "url", "url": "https://example.com/a.pdf"},
    }


@pytest.mark.parametrize(
    "part",
    [
        llm.Audio.from_bytes(b"ID3" + b"\x00" * 8),
        llm.Audio.from_url("https://example.com/a.mp3"),
        llm.Video.from_url("https://example.com/a.mp4", mime_type="video/mp4"),
    ],
    ids=["inline audio", "audio url", "video url"],
)
def test_audio_and_video_are_refused_before_any_request(claude: Claude, part: llm.ContentPart) -> None:
    with pytest.raises(llm.FeatureNotSupportedError) as raised:
        claude.call([llm.messages.user(["Listen", part])])

    error = raised.value
    kind = type(part).__name__
    assert error.model == MODEL
    assert error.feature == kind
    assert MODEL in str(error)
    assert kind in str(error)
    assert claude.requests == []


def test_a_system_message_is_sent_as_the_top_level_system_string(claude: Claude) -> None:
    claude.call([llm.messages.system("Be terse."), llm.messages.user("Hi")])

    assert claude.sent["system"] == "Be terse."
    assert claude.sent["messages"] == [{"role": "user", "content": "Hi"}]


def test_a_system_message_refuses_images_before_sending(claude: Claude) -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="system"):
        claude.call([llm.messages.system(["Be terse.", llm.Image.from_bytes(PNG)]), llm.messages.user("Hi")])

    assert claude.requests == []


def test_cache_control_on_the_system_prompt_sends_it_as_marked_blocks(claude: Claude) -> None:
    claude.call(
        [
            llm.messages.system(["Long instructions", llm.CacheControl(), "Short tail"]),
            llm.messages.user("Hi"),
        ]
    )

    assert claude.sent["system"] == [
        {"type": "text", "text": "Long instructions", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Short tail"},
    ]


def test_cache_control_marks_the_block_before_it(claude: Claude) -> None:
    claude.call(
        [
            llm.messages.user(
                ["Look", llm.Image.from_bytes(PNG), llm.CacheControl(), "and this", llm.CacheControl(ttl="1h")]
            )
        ]
    )

    assert claude.sent["messages"][0]["content"] == [
        {"type": "text", "text": "Look"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64},
            "cache_control": {"type": "ephemeral"},
        },
        {"type": "text", "text": "and this", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    ]


def test_cache_control_after_a_single_text_part_sends_a_block_list(claude: Claude) -> None:
    claude.call([llm.messages.user(["Hi", llm.CacheControl()])])

    assert claude.sent["messages"][0]["content"] == [
        {"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}
    ]


def test_cache_control_first_in_a_message_is_an_error_before_sending(claude: Claude) -> None:
    with pytest.raises(ValueError, match="CacheControl"):
        claude.call([llm.messages.user([llm.CacheControl(), "Hi"])])

    assert claude.requests == []


def test_tool_calls_and_outputs_are_sent_as_tool_use_and_tool_result(claude: Claude) -> None:
    claude.call(
        [
            llm.messages.user("Weather in Paris and Rome?"),
            llm.messages.assistant(
                [
                    "Checking.",
                    llm.ToolCall(id="toolu_1", name="weather", args={"city": "Paris"}),
                    llm.ToolCall(id="toolu_2", name="weather", args={"city": "Rome"}),
                ]
            ),
            llm.messages.user(
                [
                    llm.ToolOutput(id="toolu_1", name="weather", result="Sunny"),
                    llm.ToolOutput(id="toolu_2", name="weather", result="no such city", is_error=True),
                ]
            ),
        ]
    )

    assert claude.sent["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sunny"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "no such city", "is_error": True},
            ],
        },
    ]


def test_thoughts_are_sent_back_with_their_signatures(claude: Claude) -> None:
    written_by_claude = llm.Message(
        role="assistant",
        content=(
            llm.Thought(text="Let me think.", signature="sig-1"),
            llm.Thought(text="", signature="encrypted"),
            llm.Text("42"),
        ),
        model=MODEL,
    )

    claude.call([llm.messages.user("Q"), written_by_claude, llm.messages.user("Why?")])

    assert claude.sent["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Let me think.", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "encrypted"},
            {"type": "text", "text": "42"},
        ],
    }


def test_thoughts_claude_cannot_verify_are_left_out(claude: Claude) -> None:
    unsigned = llm.messages.assistant([llm.Thought(text="Hmm."), "42"])
    from_gemini = llm.Message(
        role="assistant",
        content=(llm.Thought(text="Hmm.", signature="gemini-signature"), llm.Text("43")),
        model="google:gemini-2.5-flash",
        raw={"parts": []},
    )

    claude.call([llm.messages.user("Q"), unsigned, llm.messages.user("Again"), from_gemini, llm.messages.user("?")])

    assert claude.sent["messages"][1] == {"role": "assistant", "content": [{"type": "text", "text": "42"}]}
    assert claude.sent["messages"][3] == {"role": "assistant", "content": [{"type": "text", "text": "43"}]}


def test_resume_sends_claudes_own_blocks_back_unchanged(claude: Claude) -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "thinking", "thinking": "The user wants...", "signature": "sig"},
        {"type": "text", "text": "Looking it up.", "citations": None},
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "x"}},
        {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "x"}},
    ]
    client = claude.client()
    with claude.server.replaying([reply(blocks, stop_reason="tool_use"), reply()]) as session:
        first = llm.model(MODEL, client=client).call("Look it up")
        first.resume(llm.ToolOutput(id="toolu_1", name="lookup", result="found"))

    second = session.requests[1].json()
    assert second["messages"] == [
        {"role": "user", "content": "Look it up"},
        {"role": "assistant", "content": blocks},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "found"}]},
    ]


def test_seed_is_left_out_with_a_logged_warning(claude: Claude, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mirascope"):
        claude.call("Hi", seed=42)

    assert "seed" not in claude.sent
    [record] = [r for r in caplog.records if r.name == "mirascope"]
    assert record.levelno == logging.WARNING
    assert MODEL in record.getMessage()
    assert "seed" in record.getMessage()


def test_sampling_parameters_and_stop_sequences_are_sent(claude: Claude) -> None:
    claude.call("Hi", temperature=0.5, top_p=0.9, top_k=40, max_tokens=300, stop="END")

    sent = claude.sent
    assert {key: sent[key] for key in ("temperature", "top_p", "top_k", "max_tokens", "stop_sequences")} == {
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 40,
        "max_tokens": 300,
        "stop_sequences": ["END"],
    }


@pytest.mark.parametrize(
    ("model", "max_tokens"),
    [
        ("anthropic:claude-sonnet-4-0", 16000),
        ("anthropic:claude-opus-4-1", 16000),
        ("anthropic:claude-3-5-haiku-latest", 8192),
        ("anthropic:claude-3-haiku-20240307", 4096),
        ("anthropic:claude-future-9", 16000),
    ],
)
def test_max_tokens_defaults_to_what_the_model_can_write_up_to_16000(
    claude: Claude, model: str, max_tokens: int
) -> None:
    claude.call("Hi", model=model)

    assert claude.sent["max_tokens"] == max_tokens


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"thinking": "none"}, {"max_tokens": 16000, "thinking": {"type": "disabled"}}),
        ({"thinking": "low"}, {"max_tokens": 16000, "thinking": {"type": "enabled", "budget_tokens": 3200}}),
        ({"thinking": "medium"}, {"max_tokens": 16000, "thinking": {"type": "enabled", "budget_tokens": 6400}}),
        ({"thinking": "high"}, {"max_tokens": 16000, "thinking": {"type": "enabled", "budget_tokens": 9600}}),
        (
            {"thinking": "low", "max_tokens": 2000},
            {"max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 1024}},
        ),
        (
            {"thinking": llm.Thinking(budget_tokens=2048)},
            {"max_tokens": 16000, "thinking": {"type": "enabled", "budget_tokens": 2048}},
        ),
        (
            {"thinking": llm.Thinking(budget_tokens=500)},
            {"max_tokens": 16000, "thinking": {"type": "enabled", "budget_tokens": 1024}},
        ),
        (
            {"thinking": llm.Thinking(budget_tokens=20000)},
            {"max_tokens": 36000, "thinking": {"type": "enabled", "budget_tokens": 20000}},
        ),
        ({"thinking": llm.Thinking(budget_tokens=0)}, {"max_tokens": 16000, "thinking": {"type": "disabled"}}),
        (
            {"thinking": llm.Thinking(level="high")},
            {"max_tokens": 16000, "thinking": {"type": "enabled", "budget_tokens": 9600}},
        ),
        ({"thinking": llm.Thinking()}, {"max_tokens": 16000, "thinking": {"type": "enabled", "budget_tokens": 6400}}),
    ],
    ids=repr,
)
def test_thinking_maps_to_a_budget_below_max_tokens(
    claude: Claude, params: dict[str, Any], expected: dict[str, Any]
) -> None:
    claude.call("Think", **params)

    sent = claude.sent
    assert {"max_tokens": sent["max_tokens"], "thinking": sent["thinking"]} == expected


def test_thinking_that_cannot_fit_in_the_callers_max_tokens_is_refused_before_sending(claude: Claude) -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="max_tokens") as raised:
        claude.call("Think", thinking="high", max_tokens=500)

    assert raised.value.feature == "thinking"
    assert claude.requests == []


def test_thinking_none_is_not_sent_to_a_model_without_thinking(claude: Claude) -> None:
    claude.call("Hi", model="anthropic:claude-3-5-haiku-latest", thinking="none")

    assert "thinking" not in claude.sent


def test_thinking_on_a_model_without_thinking_is_refused_before_sending(claude: Claude) -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="claude-3-5-haiku"):
        claude.call("Hi", model="anthropic:claude-3-5-haiku-latest", thinking="high")

    assert claude.requests == []


def test_provider_params_are_merged_into_the_body_unchanged(claude: Claude) -> None:
    metadata = {"user_id": "user-7"}

    claude.call("Hi", provider_params={"metadata": metadata, "service_tier": "auto"})

    sent = claude.sent
    assert sent["metadata"] == metadata
    assert sent["service_tier"] == "auto"


def test_provider_params_cannot_replace_the_max_tokens_mirascope_sends(claude: Claude) -> None:
    # Claude requires max_tokens, so Mirascope always sends one: max_tokens= on the call sets it.
    with pytest.raises(llm.FeatureNotSupportedError, match=r"provider_params\['max_tokens'\]"):
        claude.call("Hi", provider_params={"max_tokens": 12})

    assert claude.requests == []
    claude.call("Hi", max_tokens=12)
    assert claude.sent["max_tokens"] == 12


@llm.tool
def weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


@llm.tool(strict=True)
def clock() -> str:
    return "noon"


def test_tools_are_sent_as_definitions_with_their_schema_as_input_schema(claude: Claude) -> None:
    claude.call("Weather in Paris?", model="anthropic:claude-sonnet-4-5", tools=[weather, clock])

    assert claude.sent["tools"] == [
        {
            "name": "weather",
            "description": "The weather in a city.",
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
        },
        {
            "name": "clock",
            # A strict tool's schema is in strict form: every property required (here none).
            "input_schema": {"type": "object", "properties": {}, "additionalProperties": False, "required": []},
            "strict": True,
        },
    ]


def test_a_tool_schema_without_a_type_is_sent_as_an_object_schema_and_left_unchanged(claude: Claude) -> None:
    typeless = llm.tool(weather.fn)
    typeless.parameters = {"properties": {"city": {"type": "string"}}}

    claude.call("Weather?", tools=[typeless])

    assert claude.sent["tools"][0]["input_schema"] == {"properties": {"city": {"type": "string"}}, "type": "object"}
    assert typeless.parameters == {"properties": {"city": {"type": "string"}}}


def test_a_strict_tool_goes_out_under_the_structured_outputs_beta(claude: Claude) -> None:
    claude.call("What time is it?", model="anthropic:claude-sonnet-4-5", tools=[clock])

    [request] = claude.requests
    assert request.headers["anthropic-beta"] == "structured-outputs-2025-11-13"
    assert (request.path, request.query) == ("/v1/messages", "beta=true")


def test_the_structured_outputs_beta_joins_the_clients_own_betas(claude: Claude) -> None:
    client = claude.client(betas=["files-api-2025-04-14"])
    claude.call("A number?", model="anthropic:claude-sonnet-4-5", client=client, response_model=int)

    assert claude.requests[0].headers["anthropic-beta"] == "files-api-2025-04-14,structured-outputs-2025-11-13"
    assert claude.sent["output_format"]["type"] == "json_schema"


def test_a_strict_tool_on_a_model_without_structured_outputs_is_refused_before_sending(claude: Claude) -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="strict"):
        claude.call("What time is it?", tools=[clock])

    assert claude.requests == []


def test_native_structured_output_on_a_model_without_it_is_refused_before_sending(claude: Claude) -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="mode='tool'") as caught:
        claude.call("A number?", response_model=llm.response_model(int, mode="native"))

    assert caught.value.feature == "response_model"
    assert claude.requests == []


def test_without_native_structured_output_the_answer_is_asked_for_through_a_forced_tool(claude: Claude) -> None:
    response = claude.call(
        "A number?",
        response_model=int,
        replies=[
            reply(
                [
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "__mirascope_formatted_output_tool__",
                        "input": {"output": 7},
                    }
                ],
                stop_reason="tool_use",
            )
        ],
    )

    assert claude.sent["tool_choice"] == {
        "type": "tool",
        "name": "__mirascope_formatted_output_tool__",
        "disable_parallel_tool_use": True,
    }
    assert "beta" not in claude.requests[0].query
    assert response.parse() == 7
    assert response.content == '{"output": 7}'
    assert (response.tool_calls, response.finish_reason) == ([], "stop")


def test_a_forced_answer_tool_is_only_asked_for_while_claude_thinks(claude: Claude) -> None:
    # Claude refuses a forced tool choice with extended thinking; the system prompt asks instead.
    claude.call("A number?", response_model=llm.response_model(int, mode="tool"), thinking="low")

    assert "tool_choice" not in claude.sent
    assert "__mirascope_formatted_output_tool__" in claude.sent["system"]


def test_beside_the_users_tools_the_answer_tool_makes_some_tool_call_required(claude: Claude) -> None:
    claude.call("Weather?", tools=[weather], response_model=llm.response_model(int, mode="tool"))

    assert [tool["name"] for tool in claude.sent["tools"]] == ["weather", "__mirascope_formatted_output_tool__"]
    assert claude.sent["tool_choice"] == {"type": "any"}


def test_strict_json_mode_is_refused_before_sending(claude: Claude) -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="strict JSON mode"):
        claude.call("A number?", response_model=llm.response_model(int, mode="json", strict=True))

    assert claude.requests == []


def test_a_cache_breakpoint_after_a_tool_marks_that_tools_definition(claude: Claude) -> None:
    claude.call("Weather?", tools=[weather, llm.CacheControl(ttl="1h")])

    [definition] = claude.sent["tools"]
    assert definition["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert weather.cache_control is None  # the tool itself is left as it was


def test_a_cache_breakpoint_before_any_tool_is_refused_with_where_it_goes() -> None:
    with pytest.raises(TypeError, match="put it after a tool"):
        llm.model("anthropic:claude-sonnet-4-5", tools=[llm.CacheControl(), weather])


def test_a_tool_cache_breakpoint_on_another_provider_is_refused_before_sending() -> None:
    model = llm.model("openai-completions:gpt-4o", tools=[weather, llm.CacheControl()])

    with pytest.raises(llm.FeatureNotSupportedError, match="caches long prompt prefixes by itself"):
        model.call("Weather?")
