"""`provider_params` add to the body each provider's encoder builds; they never replace what Mirascope set.

Run on every provider's encoder, through the public API against the replay server answering
with the provider's recorded reply: a key Mirascope always sets (the model, the conversation,
the stream flag) is refused, as is a value it set from the call's own settings; anything else
is added, objects merged into key by key. The same holds for a response restored from untrusted
data with `from_dict` and then resumed: its `provider_params` cannot move the call to another
model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest
from mirascope import llm

from tests.support.fixtures import load
from tests.support.replay import ReplayServer


@dataclass(frozen=True)
class Target:
    model_id: str
    recorded: str
    """The recorded model folder whose `test_call` reply the server answers with."""
    owned: tuple[str, ...]
    """The body keys Mirascope always sets itself."""
    conflicting: dict[str, Any]
    """provider_params replacing what `temperature=0.5` set."""
    added: dict[str, Any]
    """provider_params Mirascope sets nothing for."""
    options: tuple[tuple[str, Any], ...] = ()


TARGETS = (
    Target(
        "openai:gpt-4o",
        "openai_gpt_4o_responses",
        ("model", "input", "stream"),
        {"temperature": 0.9},
        {"user": "u-1", "text": {"verbosity": "low"}},
    ),
    Target(
        "openai-completions:gpt-4o",
        "openai_gpt_4o_completions",
        ("model", "messages", "stream"),
        {"temperature": 0.9},
        {"user": "u-1", "logprobs": True},
    ),
    Target(
        "azure:my-gpt-4o",
        "openai_gpt_4o_responses",
        ("model", "input", "stream"),
        {"temperature": 0.9},
        {"user": "u-1"},
        (("resource", "my-resource"),),
    ),
    Target(
        "anthropic:claude-sonnet-4-0",
        "anthropic_claude_sonnet_4_0",
        ("model", "messages", "stream"),
        {"temperature": 0.9},
        {"metadata": {"user_id": "u-1"}, "service_tier": "auto"},
    ),
    Target(
        "google:gemini-2.5-flash",
        "google_gemini_2_5_flash",
        ("contents",),
        {"generationConfig": {"temperature": 0.9}},
        {
            "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
            "generationConfig": {"candidateCount": 1},
        },
    ),
)
IDS = [target.model_id.partition(":")[0] for target in TARGETS]


def _reply(target: Target) -> dict[str, Any]:
    return copy.deepcopy(load(f"test_call/{target.recorded}/sync.json")["exchanges"][0]["response"])


def _model(target: Target, server: ReplayServer, **settings: Any) -> llm.Model[Any]:
    client = llm.client(
        target.model_id.partition(":")[0],
        api_key="test-key",
        base_url=server.url,
        max_retries=0,
        **dict(target.options),
    )
    return llm.model(target.model_id, client=client, temperature=0.5, **settings)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_provider_params_are_added_to_the_body(target: Target, replay_server: ReplayServer) -> None:
    model = _model(target, replay_server, provider_params=target.added)

    with replay_server.replaying([_reply(target)]) as session:
        model.call("Hi")

    sent = session.requests[0].json()
    for key, value in target.added.items():
        if isinstance(value, dict):
            assert sent[key].items() >= value.items()
        else:
            assert sent[key] == value
    if "generationConfig" in target.added:
        assert sent["generationConfig"]["temperature"] == 0.5  # merged into, not replaced


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_provider_params_cannot_set_the_model_the_conversation_or_the_stream_flag(
    target: Target, replay_server: ReplayServer
) -> None:
    for key in target.owned:
        for value in ("gpt-4o-mini", [], True):
            model = _model(target, replay_server, provider_params={key: value})
            with replay_server.replaying([_reply(target)]) as session:
                with pytest.raises(llm.FeatureNotSupportedError, match=rf"provider_params\['{key}'\]") as raised:
                    model.call("Hi")
                assert session.requests == []
            assert raised.value.feature == f"provider_params[{key!r}]"
            assert "leave it out of provider_params" in str(raised.value)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_provider_params_cannot_replace_a_value_set_from_the_calls_settings(
    target: Target, replay_server: ReplayServer
) -> None:
    model = _model(target, replay_server, provider_params=target.conflicting)

    with replay_server.replaying([_reply(target)]) as session:
        with pytest.raises(llm.FeatureNotSupportedError, match=r"'temperature'\]: it would replace") as raised:
            model.call("Hi")
        assert session.requests == []
    assert "temperature=" in str(raised.value)

    # The same value as the call's own is no replacement.
    same = _model(target, replay_server, provider_params=_with_temperature(target.conflicting, 0.5))
    with replay_server.replaying([_reply(target)]) as session:
        same.call("Hi")
    assert len(session.requests) == 1


def _with_temperature(params: dict[str, Any], value: float) -> dict[str, Any]:
    if "generationConfig" in params:
        return {"generationConfig": {"temperature": value}}
    return {"temperature": value}


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_a_restored_response_cannot_move_resume_to_another_model(target: Target, replay_server: ReplayServer) -> None:
    model = _model(target, replay_server)
    with replay_server.replaying([_reply(target)]):
        response = model.call("Hi")
    data = response.to_dict()
    owned = target.owned[0]
    data["provider_params"] = {owned: "some-other-model"}
    restored = llm.CallResponse.from_dict(data)

    with replay_server.replaying([_reply(target)]) as session:
        with llm.context(client=model.client), pytest.raises(llm.FeatureNotSupportedError, match=owned):
            restored.resume("And then?")
        assert session.requests == []


def test_built_in_tools_in_provider_params_join_the_declared_functions_on_every_provider(
    replay_server: ReplayServer,
) -> None:
    @llm.tool
    def weather(city: str) -> str:
        """The weather in a city."""
        return city

    target = TARGETS[1]
    model = _model(target, replay_server, tools=[weather], provider_params={"tools": [{"type": "custom"}]})
    with replay_server.replaying([_reply(target)]) as session:
        model.call("Hi")

    tools = session.requests[0].json()["tools"]
    assert [tool.get("function", {}).get("name") for tool in tools] == ["weather", None]
    assert tools[1] == {"type": "custom"}
