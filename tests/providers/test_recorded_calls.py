"""Every provider against the real recordings: the same request goes out, the reply decodes right."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from mirascope import llm

from tests.support.fixtures import find, load
from tests.support.meaning import meaning
from tests.support.replay import ReplayServer
from tests.support.scenarios import (
    base_url_for,
    expected_decoding,
    messages_for,
    model_id_for,
    run_scenario,
)

SCENARIOS = (
    "test_call",
    "test_call_with_params",
    "test_max_tokens",
    "test_call_with_empty_string",
    "test_call_with_two_empty_string",
    "test_call_with_image_content",
    "test_call_with_image_url",
    "test_call_with_audio",
    "test_call_with_document_content",
    "test_call_with_document_url",
    "test_authentication_error",
    "test_model_not_found",
    "test_openai_completions_provider",
    "test_openai_responses_provider",
    "test_ollama_provider",
    "test_together_provider",
    "test_openrouter_sync",
    "test_openrouter_with_temperature",
    "test_openrouter_reasoning_model_skips_temperature",
    "test_call_non_openai_models_through_openai",
)
CASES = find(SCENARIOS, ("sync", "async"))


def _provider_message(body: dict[str, Any]) -> str:
    error = body["error"]
    return error["message"] if isinstance(error, dict) else str(error)


def test_every_listed_scenario_has_recordings() -> None:
    found = {path.split("/")[0] for path in CASES}
    assert found == set(SCENARIOS)
    assert len(CASES) >= 60


@pytest.mark.parametrize("path", CASES)
def test_recorded_exchange_sends_the_same_request_and_decodes_the_reply(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    mode = Path(path).stem
    recorded = fixture["exchanges"][0]
    provider = model_id_for(fixture).partition(":")[0]
    client = llm.client(provider, base_url=base_url_for(fixture, replay_server.url), api_key="test-key")
    messages = messages_for(fixture, tmp_path)
    expected = fixture["scenario"].get("expected") or {}

    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]) as session:
        if "raises" in expected:
            with pytest.raises(getattr(llm, expected["raises"])) as raised:
                run_scenario(fixture, mode, client, messages)
            error = raised.value
            assert isinstance(error, llm.APIError)
            assert error.status_code == recorded["response"]["status"]
            assert error.provider == provider
            assert _provider_message(recorded["response"]["json"]) in str(error)
            response = None
        else:
            response = run_scenario(fixture, mode, client, messages)

    assert len(session.requests) == 1
    sent = session.requests[0]
    assert sent.method == "POST"
    assert sent.path == urlsplit(recorded["request"]["url"]).path
    body = sent.json()
    if "reasoning_effort" in body and "reasoning_effort" not in recorded["request"]["json"]:
        # thinking="none" on a model that cannot stop reasoning goes out as its least effort; the
        # recording library sent nothing, which left gpt-5 reasoning at its default, medium.
        assert fixture["scenario"]["params"]["thinking"]["level"] == "none"
        assert body.pop("reasoning_effort") == "minimal"
    assert meaning(body) == meaning(recorded["request"]["json"])

    if response is not None:
        want = expected_decoding(fixture)
        assert response.content == want["text"]
        assert response.finish_reason == want["finish_reason"]
        assert response.id == want["id"]
        assert response.provider_model == want["provider_model"]
        assert response.model == model_id_for(fixture)
        assert response.usage is not None
        assert response.usage.input_tokens == want["input_tokens"]
        assert response.usage.output_tokens == want["output_tokens"]
        assert response.usage.reasoning_tokens == want["reasoning_tokens"]
        assert response.raw == fixture["exchanges"][0]["response"]["json"]
        assert response.messages[:-1] == tuple(messages)
        assert response.message.role == "assistant"
        if "text_contains" in expected:
            assert expected["text_contains"] in response.content
        if mode == "async":
            assert isinstance(response, llm.AsyncCallResponse)
        else:
            assert isinstance(response, llm.CallResponse)
