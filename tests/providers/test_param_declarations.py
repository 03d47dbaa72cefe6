"""Every provider handles every call parameter on purpose, as it declares.

Each provider's `parameters` says, for every `CallParams` key, whether it is sent (and as which
body field), left out with a logged warning, or refused. These tests hold every installed
provider (every `mirascope.providers` entry point, `local:` included, and `google:` on Vertex AI
too) to that declaration: it names every key, so a key added to `CallParams` fails here until each
provider decides what to do with it; and, one key at a time, the request the provider encodes
does what the declaration says: the value in the declared field, a refusal before anything is
sent, or one warning on the `mirascope` logger and the value nowhere in the body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, cast

import pytest
from mirascope import llm
from mirascope.llm.providers import ParamHandling, Request, check_params

KEYS = tuple(llm.CallParams.__annotations__)

# A value for each key, distinctive enough to be found (or not) in an encoded body.
SAMPLES: dict[str, Any] = {
    "temperature": 0.37,
    "max_tokens": 321,
    "top_p": 0.83,
    "top_k": 17,
    "seed": 4242,
    "stop": ["STOP-SEQ"],
    "thinking": "low",
}


@dataclass(frozen=True)
class Target:
    """A provider and a model on which its declaration holds as stated (no per-model exception)."""

    prefix: str
    model: str = "some-model"
    thinking_model: str | None = None
    """A model that reasons, where `model` does not (the declaration's note says it refuses)."""
    options: tuple[tuple[str, object], ...] = ()

    def client(self) -> llm.Client:
        return llm.client(self.prefix, **dict(self.options))  # pyright: ignore[reportArgumentType]


# Real models where the table knows them; a provider not listed here (a newly added compatible
# service) is checked with a model no table knows, where its declaration applies as stated.
_KNOWN = {
    "openai": Target("openai", "gpt-4o", "o4-mini"),
    "openai-completions": Target("openai-completions", "gpt-4o", "o4-mini"),
    "azure": Target("azure", "my-gpt-4o-deployment", options=(("resource", "my-resource"),)),
    "azure-completions": Target("azure-completions", "my-gpt-4o-deployment", options=(("resource", "my-resource"),)),
    "groq": Target("groq", "llama-3.3-70b-versatile"),
    "together": Target("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
    "openrouter": Target("openrouter", "meta-llama/llama-3.3-70b-instruct", "openai/o4-mini"),
    "deepseek": Target("deepseek", "deepseek-chat"),
    "mistral": Target("mistral", "mistral-large-latest"),
    "anthropic": Target("anthropic", "claude-sonnet-4-0"),
    "google": Target("google", "gemini-2.5-flash"),
    "local": Target("local", "smollm2"),
    "bedrock": Target("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", options=(("region", "us-east-1"),)),
}
PREFIXES = sorted(entry_point.name for entry_point in entry_points(group="mirascope.providers"))
TARGETS = {prefix: _KNOWN.get(prefix, Target(prefix)) for prefix in PREFIXES}
TARGETS["google (Vertex AI)"] = Target(
    "google",
    "gemini-2.5-flash",
    options=(("vertexai", True), ("project", "my-project"), ("location", "us-central1"), ("api_key", "token")),
)


def _provider(prefix: str) -> Any:
    (entry_point,) = entry_points(group="mirascope.providers", name=prefix)
    return entry_point.load()


def _declaration(prefix: str) -> Mapping[str, ParamHandling]:
    return cast("Mapping[str, ParamHandling]", _provider(prefix).parameters)


def _encode(target: Target, key: str) -> dict[str, Any]:
    model = target.thinking_model if key == "thinking" and target.thinking_model else target.model
    request = Request(
        model_id=f"{target.prefix}:{model}",
        model=model,
        messages=(llm.messages.user("Hi"),),
        params=cast("llm.CallParams", {key: SAMPLES[key]}),
    )
    return _provider(target.prefix).prepare(request, target.client()).body


def _at(body: Mapping[str, Any], wire: str) -> object:
    value: object = body
    for name in wire.split("."):
        assert isinstance(value, dict), f"{wire}: {name!r} is not inside an object in {body}"
        assert name in value, f"{wire}: no {name!r} in {body}"
        value = cast("dict[str, object]", value)[name]
    return value


def test_the_samples_cover_every_parameter() -> None:
    assert set(SAMPLES) == set(KEYS)


def test_the_first_party_providers_are_all_checked() -> None:
    assert {"openai", "openai-completions", "azure", "azure-completions", "anthropic", "google", "local"} <= set(
        PREFIXES
    )


@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_provider_declares_every_parameter(prefix: str) -> None:
    declaration = _declaration(prefix)
    missing = set(KEYS) - set(declaration)
    assert not missing, f"{prefix}: declare how these CallParams keys are handled: {sorted(missing)}"
    assert set(declaration) == set(KEYS), f"{prefix}: declares keys CallParams lacks: {set(declaration) - set(KEYS)}"
    for key, handling in declaration.items():
        assert isinstance(handling, ParamHandling), (prefix, key)
        if handling.action == "send":
            assert handling.wire, f"{prefix}: {key} is sent, but as which field?"
        else:
            assert handling.why, f"{prefix}: {key} is not sent; say why, and what to do instead"


@pytest.mark.parametrize("label", sorted(TARGETS))
def test_each_provider_does_what_it_declares_with_each_parameter(label: str, caplog: pytest.LogCaptureFixture) -> None:
    target = TARGETS[label]
    for key, handling in _declaration(target.prefix).items():
        caplog.clear()
        if handling.action == "refuse":
            with pytest.raises(llm.FeatureNotSupportedError) as raised:
                _encode(target, key)
            assert raised.value.feature == key
            continue
        with caplog.at_level(logging.WARNING, logger="mirascope"):
            bodies = [_encode(target, key) for _ in range(2)]
        records = [record.getMessage() for record in caplog.records if record.name == "mirascope"]
        if handling.action == "send":
            assert records == [], (key, records)
            found = _at(bodies[0], handling.wire)
            if key == "thinking":
                assert found is not None, key  # a level becomes the provider's own setting
            else:
                assert found == SAMPLES[key], (key, bodies[0])
        else:
            for body in bodies:
                assert json.dumps(SAMPLES[key]) not in json.dumps(body), (key, body)
            assert len(records) == 1, (key, records)  # once per process for the provider and the parameter
            assert f"does not support {key} (" in records[0]
            assert handling.why in records[0]


def test_mistral_takes_the_seed_as_random_seed() -> None:
    # Mistral's API names it `random_seed`; `seed` is not one of its fields.
    body = _encode(Target("mistral", "mistral-large-latest"), "seed")
    assert body["random_seed"] == SAMPLES["seed"]
    assert "seed" not in body


# --- the helper itself ---------------------------------------------------------------------------


def _request(**params: Any) -> Request:
    return Request(
        model_id="acme:m1", model="m1", messages=(llm.messages.user("Hi"),), params=cast("llm.CallParams", params)
    )


def test_a_refused_parameter_raises_naming_it_and_why() -> None:
    declaration = {"seed": ParamHandling.refuse("the acme API has no seed; leave it out")}
    with pytest.raises(llm.FeatureNotSupportedError) as raised:
        check_params(_request(seed=1), declaration)
    assert raised.value.feature == "seed"
    assert str(raised.value) == "acme:m1 cannot take seed: the acme API has no seed; leave it out."


def test_an_undeclared_parameter_is_refused_not_dropped() -> None:
    with pytest.raises(llm.FeatureNotSupportedError) as raised:
        check_params(_request(top_k=3), {"seed": ParamHandling.send("seed")})
    assert raised.value.feature == "top_k"
    assert "does not declare" in str(raised.value)


def test_a_left_out_parameter_is_logged_once_per_provider_and_parameter(caplog: pytest.LogCaptureFixture) -> None:
    declaration = {"seed": ParamHandling.warn("no seed here"), "top_k": ParamHandling.warn("no top_k here")}
    with caplog.at_level(logging.WARNING, logger="mirascope"):
        for _ in range(3):
            check_params(_request(seed=1, top_k=2), declaration)
        check_params(
            Request(model_id="other:m", model="m", messages=(), params=cast("llm.CallParams", {"seed": 1})),
            declaration,
        )
    assert [record.getMessage() for record in caplog.records] == [
        "acme:m1 does not support seed (no seed here); it was not sent.",
        "acme:m1 does not support top_k (no top_k here); it was not sent.",
        "other:m does not support seed (no seed here); it was not sent.",
    ]


def test_a_call_without_parameters_does_nothing() -> None:
    check_params(_request(), {})


def test_each_handling_describes_itself_for_the_readme_tables() -> None:
    assert ParamHandling.send("generationConfig.topK").describe() == "`generationConfig.topK`"
    assert ParamHandling.send("stop", note="a string becomes a list").describe() == "`stop`; a string becomes a list"
    assert ParamHandling.warn("no seed").describe() == "left out with a logged warning: no seed"
    assert ParamHandling.refuse("no seed").describe() == "refused (`llm.FeatureNotSupportedError`): no seed"
