"""A conversation started on one provider resumes on another, against the real recordings.

`test_resume_with_override`: the first reply comes from a different provider; the model under
test gets the whole conversation, so it must encode another provider's assistant turn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from mirascope import llm

from tests.support.fixtures import find, load
from tests.support.meaning import comparable
from tests.support.replay import ReplayServer
from tests.support.scenarios import client_for, expected_decoding, model_id_for

CASES = find(("test_resume_with_override",), ("sync",))


def _step(fixture: dict[str, Any], index: int) -> dict[str, Any]:
    """The fixture as if it held only its `index`th exchange (each has its own provider)."""
    return {**fixture, "endpoints": [fixture["endpoints"][index]], "exchanges": [fixture["exchanges"][index]]}


def test_every_provider_has_a_cross_provider_recording() -> None:
    assert len(CASES) >= 4


@pytest.mark.parametrize("path", CASES)
def test_another_providers_reply_resumes_on_the_model_under_test(path: str, replay_server: ReplayServer) -> None:
    fixture = load(path)
    first, second = _step(fixture, 0), _step(fixture, 1)
    assert model_id_for(first).partition(":")[0] != model_id_for(second).partition(":")[0]
    other, tested = client_for(first, replay_server.url), client_for(second, replay_server.url)

    with replay_server.replaying([e["response"] for e in fixture["exchanges"]]) as session, other, tested:
        started = llm.model(model_id_for(first), client=other).call("Who created you?")
        resumed = llm.model(model_id_for(second), client=tested).call(
            [*started.messages, llm.messages.user("Can you double-check that?")]
        )

    for sent, exchange in zip(session.requests, fixture["exchanges"], strict=True):
        assert sent.path == urlsplit(exchange["request"]["url"]).path
        assert comparable(sent.json()) == comparable(exchange["request"]["json"])
    assert started.content == expected_decoding(first)["text"]
    assert resumed.content == expected_decoding(second)["text"]
    assert resumed.messages[1].model == started.model  # the other provider's turn, kept as it was


# Thoughts from one provider, resumed on another: a real thinking reply from each provider (the
# recordings; hand-written replies for the Chat Completions services), then the conversation goes
# to every other provider. Another provider's reasoning is never sent as the new provider's own
# thought (its signature, encrypted reasoning or reasoning field): it goes as text when
# `encode_thoughts_as_text` asks for it, and not at all otherwise.

_COMPLETIONS_OK = {
    "id": "c1",
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Yes."}, "finish_reason": "stop"}],
}
_THINKING_REPLIES: dict[str, dict[str, Any]] = {
    "deepseek:deepseek-reasoner": {
        **_COMPLETIONS_OK,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "3", "reasoning_content": "DeepSeek counts the primes."},
                "finish_reason": "stop",
            }
        ],
    },
    "mistral:magistral-medium-latest": {
        **_COMPLETIONS_OK,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": [{"type": "text", "text": "Magistral counts the primes."}]},
                        {"type": "text", "text": "3"},
                    ],
                },
                "finish_reason": "stop",
            }
        ],
    },
}
_PRODUCERS = [
    "test_call_with_thinking/anthropic_claude_sonnet_4_0/sync.json",
    "test_call_with_thinking/google_gemini_2_5_flash/sync.json",
    "test_call_with_thinking/openai_gpt_5_responses/sync.json",
    *_THINKING_REPLIES,
]
_RESUMERS = [
    "test_call/openai_gpt_4o_responses/sync.json",
    "test_call/openai_gpt_4o_completions/sync.json",
    "test_call/anthropic_claude_sonnet_4_0/sync.json",
    "test_call/google_gemini_2_5_flash/sync.json",
    *_THINKING_REPLIES,
]


def _side(source: str, server_url: str) -> tuple[str, llm.Client, dict[str, Any]]:
    """A model id, a client pointed at the replay server, and the reply the server gives it."""
    if source in _THINKING_REPLIES:
        client = llm.client(source.partition(":")[0], base_url=server_url + "/v1", api_key="k")
        return source, client, {"status": 200, "json": _THINKING_REPLIES[source]}
    fixture = load(source)
    return model_id_for(fixture), client_for(fixture, server_url), fixture["exchanges"][0]["response"]


def _own_reasoning(message: llm.Message) -> list[str]:
    """What only the provider that wrote `message` may read back: thought texts, signatures, reasoning item ids."""
    found = [part.text for part in message.content if isinstance(part, llm.Thought) and part.text]
    found += [part.signature for part in message.content if isinstance(part, llm.Thought) and part.signature]
    if isinstance(message.raw, list):
        items = cast("list[Any]", message.raw)
        found += [item["id"] for item in items if isinstance(item, dict) and item.get("type") == "reasoning"]
    return found


@pytest.mark.parametrize("as_text", [False, True], ids=["dropped", "as_text"])
@pytest.mark.parametrize("resumer", _RESUMERS)
@pytest.mark.parametrize("producer", _PRODUCERS)
def test_another_providers_thoughts_never_go_as_the_new_providers_own(
    producer: str, resumer: str, as_text: bool, replay_server: ReplayServer, tmp_path: Path
) -> None:
    first_id, first_client, first_reply = _side(producer, replay_server.url)
    second_id, second_client, second_reply = _side(resumer, replay_server.url)
    if first_id.partition(":")[0] == second_id.partition(":")[0]:
        pytest.skip("the same provider reads its own reasoning back")
    thinking = llm.Thinking(level="none", encode_thoughts_as_text=as_text)

    with replay_server.replaying([first_reply, second_reply]) as session, first_client, second_client:
        started = llm.model(first_id, client=first_client, thinking="medium").call("How many primes below 400 hold 79?")
        llm.model(second_id, client=second_client, thinking=thinking).call(
            [*started.messages, llm.messages.user("Are you sure?")]
        )

    own = _own_reasoning(started.message)
    thoughts = [part.text for part in started.message.content if isinstance(part, llm.Thought) and part.text]
    assert thoughts, "the producing reply must hold a thought"
    sent = json.dumps(session.requests[1].json())
    written_out = json.dumps(f"**Thinking:** {thoughts[0]}")[1:-1]
    for secret in own:
        if as_text and secret in thoughts:
            continue
        assert json.dumps(secret)[1:-1] not in sent.replace(written_out, "")
    assert (written_out in sent) is as_text
