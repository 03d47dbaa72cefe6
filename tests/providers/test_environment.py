"""What the environment sets: each provider's `{PREFIX}_BASE_URL` and key, and when they are read.

A client reads them when it is made (a key unset then is read at its first call); the default
client follows the environment, made again when the variables it was made from change.
"""

from __future__ import annotations

from typing import Any

import pytest
from mirascope import llm
from mirascope.llm.providers import _registry  # pyright: ignore[reportPrivateUsage]
from mirascope.providers.openai.services import SERVICES

from tests.support.replay import ReplayServer

_COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
}
_RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "model": "m",
    "status": "completed",
    "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi."}]}],
}
_CLAUDE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "m",
    "content": [{"type": "text", "text": "Hi."}],
    "stop_reason": "end_turn",
}
_GEMINI = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi."}]}, "finishReason": "STOP"}]}
_CONVERSE = {"output": {"message": {"role": "assistant", "content": [{"text": "Hi."}]}}, "stopReason": "end_turn"}

# prefix: (its base URL variable, its key variable, a reply, the path after the base URL's own)
ENVIRONMENT: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "openai": ("OPENAI_BASE_URL", "OPENAI_API_KEY", _RESPONSE, "/v1/responses"),
    "openai-completions": ("OPENAI_BASE_URL", "OPENAI_API_KEY", _COMPLETION, "/v1/chat/completions"),
    "azure": ("AZURE_BASE_URL", "AZURE_OPENAI_API_KEY", _RESPONSE, "/openai/v1/responses"),
    "azure-completions": ("AZURE_BASE_URL", "AZURE_OPENAI_API_KEY", _COMPLETION, "/openai/v1/chat/completions"),
    **{  # every compatible service in the list, so that a new one is checked too
        name: (f"{name.upper()}_BASE_URL", service.api_key_env or "", _COMPLETION, "/v1/chat/completions")
        for name, service in SERVICES.items()
    },
    "anthropic": ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", _CLAUDE, "/v1/messages"),
    "google": ("GOOGLE_BASE_URL", "GOOGLE_API_KEY", _GEMINI, "/v1beta/models/m:generateContent"),
    # A Bedrock API key (a bearer token): no AWS credentials, no signature.
    "bedrock": ("BEDROCK_BASE_URL", "AWS_BEARER_TOKEN_BEDROCK", _CONVERSE, "/model/m/converse"),
}


def test_the_table_covers_every_provider_that_speaks_http() -> None:
    in_process = {"local"}
    assert set(ENVIRONMENT) == set(_registry._EXTRAS) - in_process  # pyright: ignore[reportPrivateUsage]


@pytest.mark.parametrize("prefix", sorted(ENVIRONMENT))
def test_each_provider_sends_to_its_prefix_base_url_with_its_key_variable(
    replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    base_var, key_var, reply, path = ENVIRONMENT[prefix]
    root = "/openai/v1" if prefix.startswith("azure") else "/v1" if path.startswith("/v1/") else ""
    monkeypatch.setenv(base_var, f"{replay_server.url}/proxy-{prefix}{root}")
    monkeypatch.setenv(key_var, f"sk-{prefix}-from-the-environment")

    with replay_server.replaying([{"status": 200, "json": reply}]) as session:
        response = llm.model(f"{prefix}:m").call("Hi")  # the default client

    assert response.content == "Hi."
    (request,) = session.requests
    assert request.path == f"/proxy-{prefix}{path}"
    assert f"sk-{prefix}-from-the-environment" in " ".join(request.headers.values())


def test_google_gemini_base_url_wins_over_google_base_url_for_the_gemini_api(
    replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_BASE_URL", f"{replay_server.url}/general")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", f"{replay_server.url}/gemini")

    assert llm.client("google", api_key="k").base_url == f"{replay_server.url}/gemini"


def test_google_base_url_serves_vertex_ai_too(replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_BASE_URL", f"{replay_server.url}/proxy")
    client = llm.client("google", vertexai=True, project="p", location="us-central1", api_key="token")

    with replay_server.replaying([{"status": 200, "json": _GEMINI}]) as session:
        llm.model("google:gemini-2.5-flash", client=client).call("Hi")

    assert session.requests[0].path.startswith("/proxy/v1/projects/p/locations/us-central1/")


def _authorization(replay_server: ReplayServer, model: llm.Model[str]) -> str:
    with replay_server.replaying([{"status": 200, "json": _COMPLETION}]) as session:
        model.call("Hi")
    return session.requests[0].headers["authorization"]


def test_the_default_client_sends_the_key_the_environment_holds_now(
    replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", replay_server.url)
    model = llm.model("openai-completions:gpt-4o")

    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-first-key")
    first = _authorization(replay_server, model)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-second-key")
    second = _authorization(replay_server, model)

    assert (first, second) == ("Bearer sk-the-first-key", "Bearer sk-the-second-key")


def test_the_default_client_sends_to_the_base_url_the_environment_holds_now(
    replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    model = llm.model("openai-completions:gpt-4o")
    paths: list[str] = []
    for proxy in ("first", "second"):
        monkeypatch.setenv("OPENAI_BASE_URL", f"{replay_server.url}/{proxy}/v1")
        with replay_server.replaying([{"status": 200, "json": _COMPLETION}]) as session:
            model.call("Hi")
        paths.append(session.requests[0].path)

    assert paths == ["/first/v1/chat/completions", "/second/v1/chat/completions"]


def test_the_default_client_is_kept_while_the_environment_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    from mirascope.llm.clients import default_client

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    provider = _registry.get_provider("openai")

    assert default_client(provider) is default_client(provider)


def test_a_client_keeps_the_key_it_was_made_with(replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-when-it-was-made")
    client = llm.client("openai-completions", base_url=replay_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-set-afterwards")

    assert _authorization(replay_server, llm.model("openai-completions:gpt-4o", client=client)) == (
        "Bearer sk-when-it-was-made"
    )


def test_a_client_made_before_its_key_was_set_reads_it_at_its_first_call(
    replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = llm.client("openai-completions", base_url=replay_server.url)
    model = llm.model("openai-completions:gpt-4o", client=client)
    with pytest.raises(llm.MissingAPIKeyError, match="OPENAI_API_KEY"):
        model.call("Hi")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-set-later")

    assert _authorization(replay_server, model) == "Bearer sk-set-later"
