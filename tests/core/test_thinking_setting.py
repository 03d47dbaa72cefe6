"""`thinking=` takes a level or an `llm.Thinking`; anything else is refused, saying what to write,
before any request."""

from __future__ import annotations

from typing import Any

import pytest
from mirascope import llm

from tests.support.replay import ReplayServer


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        (True, "thinking='medium'"),
        (False, "thinking='none'"),
        (1, "thinking='medium'"),
        ("max", "thinking='medium'"),
        ({"level": "high"}, "llm.Thinking("),
        (llm.Thinking(level="max"), "'minimal', 'low', 'medium', 'high'"),  # type: ignore[arg-type]
        (llm.Thinking(budget_tokens=-5), "0 or more"),
    ],
)
def test_a_value_that_is_not_a_thinking_setting_is_refused_when_the_model_is_made(given: Any, hint: str) -> None:
    with pytest.raises(llm.UsageError) as raised:
        llm.model("openai:gpt-5", thinking=given)
    assert hint in str(raised.value)
    assert "openai:gpt-5" in str(raised.value)


def test_the_call_decorator_refuses_it_when_it_is_written(replay_server: ReplayServer) -> None:
    client = llm.client("anthropic", base_url=replay_server.url, api_key="k")
    with replay_server.replaying([]) as session, pytest.raises(llm.UsageError, match="thinking=True"):
        llm.call("anthropic:claude-sonnet-4-5", client=client, thinking=True)  # type: ignore[call-overload]
    assert session.requests == []


def test_an_override_or_dynamic_config_that_sets_it_is_refused_before_sending(replay_server: ReplayServer) -> None:
    client = llm.client("openai", base_url=replay_server.url + "/v1", api_key="k")

    @llm.call("openai:gpt-5", client=client)
    def ask(question: str) -> llm.DynamicConfig:
        return {"messages": [llm.messages.user(question)], "call_params": {"thinking": True}}  # type: ignore[typeddict-item]

    with replay_server.replaying([]) as session:
        with pytest.raises(llm.UsageError, match="thinking=True"):
            ask("Hi")
        with pytest.raises(llm.UsageError, match="thinking=True"), llm.context(thinking=True):  # type: ignore[call-arg]
            llm.model("openai:gpt-5", client=client).call("Hi")
    assert session.requests == []


@pytest.mark.parametrize(
    "given", ["none", "minimal", "low", "medium", "high", llm.Thinking(), llm.Thinking(budget_tokens=0)]
)
def test_every_level_and_thinking_is_taken(given: Any) -> None:
    assert llm.model("openai:gpt-5", thinking=given).params.get("thinking") == given
