"""Where requests go and how they authenticate: Gemini API, Vertex AI, keys and client options."""

from __future__ import annotations

import asyncio

import pytest
from mirascope import llm
from mirascope.providers.google import google

from tests.providers.google.support import MODEL, text_reply
from tests.support.replay import ReplayServer


def test_call_posts_to_generate_content_with_the_key_in_x_goog_api_key(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    @llm.call(MODEL, client=client)
    def add(a: int, b: int) -> str:
        return f"What is {a} + {b}?"

    with replay_server.replaying([text_reply("4242")]) as session:
        response = add(4200, 42)

    assert response.content == "4242"
    (sent,) = session.requests
    assert sent.method == "POST"
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.query == ""
    assert sent.headers["x-goog-api-key"] == "test-key"
    assert sent.headers["content-type"] == "application/json"
    assert "authorization" not in sent.headers
    assert sent.json() == {"contents": [{"role": "user", "parts": [{"text": "What is 4200 + 42?"}]}]}


def test_async_call_sends_the_same_request(replay_server: ReplayServer, client: llm.Client) -> None:
    @llm.call(MODEL, client=client)
    async def add(a: int, b: int) -> str:
        return f"What is {a} + {b}?"

    async def run() -> llm.AsyncCallResponse:
        try:
            return await add(4200, 42)
        finally:
            await client.aclose()

    with replay_server.replaying([text_reply("4242")]) as session:
        response = asyncio.run(run())

    assert response.content == "4242"
    assert session.requests[0].path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert session.requests[0].headers["x-goog-api-key"] == "test-key"


def test_base_url_that_names_a_version_gets_no_second_one(replay_server: ReplayServer) -> None:
    with (
        llm.client("google", base_url=f"{replay_server.url}/v1", api_key="k") as client,
        replay_server.replaying([text_reply()]) as session,
    ):
        llm.model(MODEL, client=client).call("Hi")

    assert session.requests[0].path == "/v1/models/gemini-2.5-flash:generateContent"


def test_api_version_option_changes_the_path(replay_server: ReplayServer) -> None:
    with (
        llm.client("google", base_url=replay_server.url, api_key="k", api_version="v1alpha") as client,
        replay_server.replaying([text_reply()]) as session,
    ):
        llm.model(MODEL, client=client).call("Hi")

    assert session.requests[0].path == "/v1alpha/models/gemini-2.5-flash:generateContent"


def test_tuned_model_paths_are_kept(replay_server: ReplayServer, client: llm.Client) -> None:
    with replay_server.replaying([text_reply()]) as session:
        llm.model("google:tunedModels/my-model-123", client=client).call("Hi")

    assert session.requests[0].path == "/v1beta/tunedModels/my-model-123:generateContent"


def test_google_gemini_base_url_environment_variable_sets_the_default_base_url(
    replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", replay_server.url)
    with (
        llm.client("google", api_key="k") as client,
        replay_server.replaying([text_reply()]) as session,
    ):
        llm.model(MODEL, client=client).call("Hi")

    assert client.base_url == replay_server.url
    assert session.requests[0].path == "/v1beta/models/gemini-2.5-flash:generateContent"


def test_public_endpoint_is_the_default_base_url() -> None:
    assert llm.client("google", api_key="k").base_url == "https://generativelanguage.googleapis.com"


def test_google_api_key_environment_variable_is_used(
    replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "from-google-env")
    monkeypatch.setenv("GEMINI_API_KEY", "from-gemini-env")
    with (
        llm.client("google", base_url=replay_server.url) as client,
        replay_server.replaying([text_reply()]) as session,
    ):
        llm.model(MODEL, client=client).call("Hi")

    assert session.requests[0].headers["x-goog-api-key"] == "from-google-env"


def test_gemini_api_key_is_the_fallback_when_google_api_key_is_unset(
    replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "from-gemini-env")
    with (
        llm.client("google", base_url=replay_server.url) as client,
        replay_server.replaying([text_reply()]) as session,
    ):
        llm.model(MODEL, client=client).call("Hi")

    assert session.requests[0].headers["x-goog-api-key"] == "from-gemini-env"


def test_missing_key_raises_naming_google_api_key_before_any_request(
    replay_server: ReplayServer,
) -> None:
    with (
        llm.client("google", base_url=replay_server.url) as client,
        replay_server.replaying([text_reply()]) as session,
        pytest.raises(llm.MissingAPIKeyError) as caught,
    ):
        llm.model(MODEL, client=client).call("Hi")

    assert caught.value.env_var == "GOOGLE_API_KEY"
    assert "GOOGLE_API_KEY" in str(caught.value)
    assert session.requests == []


def test_project_without_vertexai_is_refused() -> None:
    with pytest.raises(TypeError, match="vertexai=True"):
        llm.client("google", project="p", api_key="t")


def test_unknown_client_option_raises_type_error_naming_the_known_ones() -> None:
    with pytest.raises(TypeError) as caught:
        llm.client("google", api_key="k", organization="acme")

    message = str(caught.value)
    assert "organization" in message
    for known in ("vertexai", "project", "location", "api_version"):
        assert known in message


def test_client_option_of_the_wrong_type_raises_type_error() -> None:
    with pytest.raises(TypeError, match="vertexai"):
        llm.client("google", api_key="k", vertexai="yes")


def test_entry_point_names_the_google_provider() -> None:
    from importlib.metadata import entry_points

    (entry_point,) = entry_points(group="mirascope.providers", name="google")
    assert entry_point.load() is google
    assert (google.name, google.family, google.api_key_env) == (
        "google",
        "google",
        "GOOGLE_API_KEY",
    )


def test_importing_the_provider_does_not_import_httpx() -> None:
    import subprocess
    import sys

    code = "import sys; import mirascope.providers.google; print('httpx' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
