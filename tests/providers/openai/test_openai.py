"""OpenAI specifics: what each API refuses, drops or maps, and how a conversation goes back."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from mirascope import llm

from tests.support.replay import ReplayServer

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
MP3 = b"ID3\x04" + b"\x00" * 16

RESPONSES_REPLY = {
    "id": "resp_1",
    "model": "gpt-4o-2024-08-06",
    "status": "completed",
    "output": [
        {
            "id": "rs_1",
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "Thinking."}],
            "encrypted_content": "enc",
        },
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Hi.", "annotations": []}],
        },
        {
            "id": "fc_1",
            "type": "function_call",
            "call_id": "call_1",
            "name": "lookup",
            "arguments": '{"q": "x"}',
            "status": "completed",
        },
    ],
    "usage": {
        "input_tokens": 5,
        "output_tokens": 7,
        "input_tokens_details": {"cached_tokens": 2},
        "output_tokens_details": {"reasoning_tokens": 4},
    },
}
COMPLETIONS_REPLY = {
    "id": "chatcmpl-1",
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2},
}


@pytest.fixture
def responses(replay_server: ReplayServer) -> Iterator[llm.Client]:
    with llm.client("openai", base_url=replay_server.url + "/v1", api_key="sk-test") as client:
        yield client


@pytest.fixture
def completions(replay_server: ReplayServer) -> Iterator[llm.Client]:
    with llm.client("openai-completions", base_url=replay_server.url + "/v1", api_key="sk-test") as client:
        yield client


def _sent(
    replay_server: ReplayServer, reply: dict[str, Any], model: llm.Model, content: Any
) -> tuple[dict[str, Any], llm.CallResponse]:
    with replay_server.replaying([{"status": 200, "json": reply}]) as session:
        response = model.call(content)
    assert len(session.requests) == 1
    return session.requests[0].json(), response


@pytest.mark.parametrize(
    ("model_id", "part", "feature"),
    [
        ("openai:gpt-4o", llm.Audio.from_bytes(MP3), "Audio"),
        ("openai:gpt-4o", llm.Video.from_url("https://example.com/v.mp4"), "Video"),
        ("openai:gpt-4o", llm.CacheControl(), "CacheControl"),
        ("openai-completions:gpt-4o", llm.Audio.from_bytes(MP3), "Audio"),
        (
            "openai-completions:gpt-audio",
            llm.Audio.from_url("https://example.com/a.mp3"),
            "Audio by URL",
        ),
        (
            "openai-completions:gpt-4o",
            llm.Document.from_url("https://example.com/a.pdf"),
            "Document by URL",
        ),
    ],
)
def test_a_part_the_api_cannot_take_is_refused_before_sending(
    model_id: str, part: llm.ContentPart, feature: str, replay_server: ReplayServer
) -> None:
    client = llm.client(model_id.partition(":")[0], base_url=replay_server.url + "/v1", api_key="sk-test")
    with (
        replay_server.replaying([]) as session,
        pytest.raises(llm.FeatureNotSupportedError) as raised,
    ):
        llm.model(model_id, client=client).call([llm.messages.user(["Look", part])])
    assert raised.value.feature == feature
    assert raised.value.model == model_id
    assert model_id in str(raised.value)
    assert session.requests == []


def test_responses_drops_seed_and_stop_with_a_log_record(
    responses: llm.Client, replay_server: ReplayServer, caplog: pytest.LogCaptureFixture
) -> None:
    model = llm.model("openai:gpt-4o", client=responses, seed=1, stop=["x"], max_tokens=20, top_p=0.5)
    with caplog.at_level(logging.WARNING, logger="mirascope"):
        sent, _ = _sent(replay_server, RESPONSES_REPLY, model, "Hi")
    assert sent == {
        "input": [{"role": "user", "content": "Hi"}],
        "model": "gpt-4o",
        "max_output_tokens": 20,
        "top_p": 0.5,
    }
    assert [r.getMessage() for r in caplog.records] == [
        "openai:gpt-4o does not support seed (the Responses API has no seed); it was not sent.",
        "openai:gpt-4o does not support stop (the Responses API has no stop sequences; "
        "use 'openai-completions:'); it was not sent.",
    ]


def test_responses_decodes_reasoning_text_and_tool_calls(responses: llm.Client, replay_server: ReplayServer) -> None:
    _, response = _sent(replay_server, RESPONSES_REPLY, llm.model("openai:gpt-4o", client=responses), "Hi")
    assert response.content == "Hi."
    assert response.thinking == "Thinking."
    assert response.tool_calls == [llm.ToolCall(id="call_1", name="lookup", args={"q": "x"})]
    assert response.finish_reason == "tool_call"
    assert response.usage == llm.Usage(input_tokens=5, output_tokens=7, cache_read_tokens=2, reasoning_tokens=4)


def test_responses_resume_sends_the_output_items_back_unchanged(
    responses: llm.Client, replay_server: ReplayServer
) -> None:
    _, response = _sent(replay_server, RESPONSES_REPLY, llm.model("openai:gpt-4o", client=responses), "Hi")
    with replay_server.replaying([{"status": 200, "json": RESPONSES_REPLY}]) as session:
        response.resume(llm.ToolOutput(id="call_1", name="lookup", result="42"))
    assert session.requests[0].json()["input"] == [
        {"role": "user", "content": "Hi"},
        *RESPONSES_REPLY["output"],
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
    ]


def test_responses_encodes_a_conversation_from_another_provider_from_its_parts(
    responses: llm.Client, replay_server: ReplayServer
) -> None:
    history = [
        llm.messages.system("Be brief."),
        llm.messages.user("Look it up"),
        llm.Message(
            role="assistant",
            content=(
                llm.Thought(text="x", signature="s"),
                llm.Text("Sure."),
                llm.ToolCall(id="t1", name="lookup", args={"q": 1}),
            ),
            model="anthropic:claude-sonnet-4-5",
            raw=[{"type": "text"}],
        ),
        llm.messages.user(
            [
                llm.ToolOutput(id="t1", name="lookup", result="found"),
                "Thanks",
                llm.Document.from_bytes(PDF),
            ]
        ),
    ]
    sent, _ = _sent(replay_server, RESPONSES_REPLY, llm.model("openai:gpt-4o", client=responses), history)
    assert sent["input"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Look it up"},
        {"type": "function_call", "call_id": "t1", "name": "lookup", "arguments": '{"q":1}'},
        {"role": "assistant", "content": "Sure."},
        {"type": "function_call_output", "call_id": "t1", "output": "found"},
        {
            "role": "user",
            "type": "message",
            "content": [
                {"type": "input_text", "text": "Thanks"},
                {
                    "type": "input_file",
                    "file_data": "data:application/pdf;base64,JVBERi0xLjQKJeLjz9MK",
                    "filename": "document.pdf",
                },
            ],
        },
    ]


def test_reasoning_models_get_max_completion_tokens_and_no_sampling_params(
    completions: llm.Client, replay_server: ReplayServer, caplog: pytest.LogCaptureFixture
) -> None:
    model = llm.model(
        "openai-completions:gpt-5-mini",
        client=completions,
        max_tokens=50,
        temperature=0.3,
        thinking="high",
    )
    with caplog.at_level(logging.WARNING, logger="mirascope"):
        sent, _ = _sent(replay_server, COMPLETIONS_REPLY, model, "Hi")
    assert sent == {
        "messages": [{"role": "user", "content": "Hi"}],
        "model": "gpt-5-mini",
        "max_completion_tokens": 50,
        "reasoning_effort": "high",
    }
    assert "temperature" in caplog.text


def test_responses_asks_reasoning_models_for_a_summary(responses: llm.Client, replay_server: ReplayServer) -> None:
    model = llm.model("openai:o4-mini", client=responses, thinking=llm.Thinking(budget_tokens=1000))
    sent, _ = _sent(replay_server, RESPONSES_REPLY, model, "Hi")
    assert sent["reasoning"] == {"effort": "low", "summary": "auto"}


def test_thinking_on_a_model_that_cannot_think_is_refused(completions: llm.Client) -> None:
    with pytest.raises(llm.FeatureNotSupportedError, match="not a reasoning model"):
        llm.model("openai-completions:gpt-4o", client=completions, thinking="low").call("Hi")


def test_completions_sends_tool_results_as_tool_messages_and_text_documents_as_text(
    completions: llm.Client, replay_server: ReplayServer
) -> None:
    history = [
        llm.messages.user("Look it up"),
        llm.messages.assistant([llm.ToolCall(id="t1", name="lookup", args={})]),
        llm.messages.user(
            [
                llm.ToolOutput(id="t1", name="lookup", result="found"),
                llm.Document.from_bytes(b"notes", mime_type="text/plain"),
            ]
        ),
    ]
    sent, _ = _sent(
        replay_server,
        COMPLETIONS_REPLY,
        llm.model("openai-completions:gpt-4o", client=completions),
        history,
    )
    assert sent["messages"] == [
        {"role": "user", "content": "Look it up"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "found"},
        {"role": "user", "content": "notes"},
    ]


def test_top_k_goes_to_services_that_take_it_and_is_logged_elsewhere(
    replay_server: ReplayServer, caplog: pytest.LogCaptureFixture
) -> None:
    with llm.client("together", base_url=replay_server.url + "/v1", api_key="k") as together:
        sent, _ = _sent(
            replay_server,
            COMPLETIONS_REPLY,
            llm.model("together:meta-llama/Llama-3.3-70B-Instruct-Turbo", client=together, top_k=5),
            "Hi",
        )
    assert sent["top_k"] == 5
    with (
        llm.client("groq", base_url=replay_server.url + "/v1", api_key="k") as groq,
        caplog.at_level(logging.WARNING, logger="mirascope"),
    ):
        sent, _ = _sent(
            replay_server,
            COMPLETIONS_REPLY,
            llm.model("groq:llama-3.3-70b-versatile", client=groq, top_k=5),
            "Hi",
        )
    assert "top_k" not in sent
    assert "groq:llama-3.3-70b-versatile does not support top_k" in caplog.text


@pytest.mark.parametrize(
    ("prefix", "env_var", "base_url"),
    [
        ("openai", "OPENAI_API_KEY", "https://api.openai.com/v1"),
        ("groq", "GROQ_API_KEY", "https://api.groq.com/openai/v1"),
        ("together", "TOGETHER_API_KEY", "https://api.together.xyz/v1"),
        ("openrouter", "OPENROUTER_API_KEY", "https://openrouter.ai/api/v1"),
        ("xai", "XAI_API_KEY", "https://api.x.ai/v1"),
        ("deepseek", "DEEPSEEK_API_KEY", "https://api.deepseek.com/v1"),
        ("mistral", "MISTRAL_API_KEY", "https://api.mistral.ai/v1"),
    ],
)
def test_each_service_has_its_base_url_and_key_variable(prefix: str, env_var: str, base_url: str) -> None:
    client = llm.client(prefix)
    assert client.base_url == base_url
    with pytest.raises(llm.MissingAPIKeyError, match=env_var):
        llm.model(f"{prefix}:some-model", client=client).call("Hi")


def test_local_services_default_to_localhost() -> None:
    assert llm.client("ollama").base_url == "http://localhost:11434/v1"
    assert llm.client("vllm").base_url == "http://localhost:8000/v1"


def test_the_base_url_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://proxy.local/v1/")
    assert llm.client("openai").base_url == "http://proxy.local/v1"


def test_organization_and_project_become_headers(replay_server: ReplayServer) -> None:
    with (
        llm.client(
            "openai",
            base_url=replay_server.url + "/v1",
            api_key="k",
            organization="org-1",
            project="proj-1",
        ) as client,
        replay_server.replaying([{"status": 200, "json": RESPONSES_REPLY}]) as session,
    ):
        llm.model("openai:gpt-4o", client=client).call("Hi")
    assert session.requests[0].headers["openai-organization"] == "org-1"
    assert session.requests[0].headers["openai-project"] == "proj-1"


def test_a_responses_client_also_serves_chat_completions(responses: llm.Client, replay_server: ReplayServer) -> None:
    sent, response = _sent(
        replay_server,
        COMPLETIONS_REPLY,
        llm.model("openai-completions:gpt-4o", client=responses),
        "Hi",
    )
    assert sent["messages"] == [{"role": "user", "content": "Hi"}]
    assert response.content == "Hi."


def test_compatible_servers_reasoning_text_becomes_a_thought(replay_server: ReplayServer) -> None:
    reply = {
        **COMPLETIONS_REPLY,
        "choices": [
            {
                "message": {"role": "assistant", "content": "42", "reasoning_content": "6 x 7"},
                "finish_reason": "stop",
            }
        ],
    }
    with llm.client("deepseek", base_url=replay_server.url + "/v1", api_key="k") as client:
        _, response = _sent(replay_server, reply, llm.model("deepseek:deepseek-reasoner", client=client), "Hi")
    assert response.thinking == "6 x 7"
    assert response.content == "42"


def test_a_response_with_no_choices_is_an_api_error(completions: llm.Client, replay_server: ReplayServer) -> None:
    with (
        replay_server.replaying([{"status": 200, "json": {"id": "x", "choices": []}}]),
        pytest.raises(llm.APIError, match="no choices"),
    ):
        llm.model("openai-completions:gpt-4o", client=completions).call("Hi")


def test_a_bare_host_base_url_serves_the_api_under_v1(replay_server: ReplayServer) -> None:
    client = llm.client("openai", base_url=replay_server.url, api_key="k")
    with client, replay_server.replaying([{"status": 200, "json": RESPONSES_REPLY}]) as session:
        llm.model("openai:gpt-4o", client=client).call("Hi")
    assert session.requests[0].path == "/v1/responses"
