"""Vertex AI: URLs under a project and location, and Bearer access tokens from a token or credentials."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import google.auth
import google.auth.exceptions
import google.oauth2.credentials
import httpx
import pytest
from mirascope import llm
from mirascope.providers.google import vertex

from tests.providers.google.support import MODEL, text_reply
from tests.support.replay import ReplayServer


class FakeCredentials:
    """google-auth's credentials interface: a token, whether it is valid, and `refresh(request)`."""

    def __init__(self, tokens: list[str], *, requires_scopes: bool = False) -> None:
        self._tokens = tokens
        self.token: str | None = None
        self.valid = False
        self.requires_scopes = requires_scopes
        self.refreshed_with: list[Any] = []
        self.scopes: list[str] | None = None

    def refresh(self, request: Any) -> None:
        self.refreshed_with.append(request)
        self.token = self._tokens.pop(0)
        self.valid = True

    def with_scopes(self, scopes: list[str]) -> FakeCredentials:
        scoped = FakeCredentials(self._tokens)
        scoped.scopes = scopes
        return scoped


@pytest.fixture(autouse=True)
def _fresh_default_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Application Default Credentials are found once per process; each test finds its own."""
    monkeypatch.setattr(vertex, "_default", [])


@pytest.fixture
def no_default_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where Application Default Credentials find nothing (and never probe the network)."""

    def default(**kwargs: Any) -> Any:
        raise google.auth.exceptions.DefaultCredentialsError("Could not automatically determine credentials.")

    monkeypatch.setattr(google.auth, "default", default)


def _answering(sent: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        body = {"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}
        if request.url.params.get("alt") == "sse":
            content = f"data: {json.dumps(body)}\r\n\r\n".encode()
            return httpx.Response(200, content=content, headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


def _vertex_client(sent: list[httpx.Request], **settings: Any) -> llm.Client:
    transport = _answering(sent)
    return llm.client(
        "google",
        vertexai=True,
        project="p",
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
        **settings,
    )


def test_vertex_ai_posts_under_project_and_location_with_a_bearer_token(
    replay_server: ReplayServer,
) -> None:
    with (
        llm.client(
            "google",
            vertexai=True,
            project="my-project",
            location="us-central1",
            base_url=replay_server.url,
            api_key="ya29.token",
        ) as client,
        replay_server.replaying([text_reply()]) as session,
    ):
        llm.model(MODEL, client=client).call("Hi")

    (sent,) = session.requests
    assert sent.path == (
        "/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
    )
    assert sent.headers["authorization"] == "Bearer ya29.token"
    assert "x-goog-api-key" not in sent.headers
    assert sent.json() == {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


def _capture(urls: list[str]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        body = {"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}
        return httpx.Response(200, content=json.dumps(body), headers={"content-type": "application/json"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_vertex_ai_regional_location_uses_the_regional_host() -> None:
    urls: list[str] = []
    with _capture(urls) as http:
        client = llm.client(
            "google",
            vertexai=True,
            project="p",
            location="europe-west4",
            api_key="t",
            http_client=http,
        )
        llm.model(MODEL, client=client).call("Hi")

    assert urls == [
        "https://europe-west4-aiplatform.googleapis.com/v1/projects/p/locations/europe-west4"
        "/publishers/google/models/gemini-2.5-flash:generateContent"
    ]


def test_vertex_ai_global_location_is_the_default_and_has_no_region_in_the_host() -> None:
    urls: list[str] = []
    with _capture(urls) as http:
        client = llm.client("google", vertexai=True, project="p", api_key="t", http_client=http)
        llm.model(MODEL, client=client).call("Hi")

    assert urls == [
        "https://aiplatform.googleapis.com/v1/projects/p/locations/global"
        "/publishers/google/models/gemini-2.5-flash:generateContent"
    ]


def test_vertex_ai_reads_project_and_location_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "asia-east1")
    urls: list[str] = []
    with _capture(urls) as http:
        client = llm.client("google", vertexai=True, api_key="t", http_client=http)
        llm.model("google:publishers/meta/models/llama-4", client=client).call("Hi")

    assert urls == [
        "https://asia-east1-aiplatform.googleapis.com/v1/projects/env-project/locations/asia-east1"
        "/publishers/meta/models/llama-4:generateContent"
    ]


def test_vertex_ai_without_a_token_or_any_credentials_raises_missing_api_key(
    replay_server: ReplayServer, no_default_credentials: None
) -> None:
    with (
        llm.client("google", vertexai=True, project="p", base_url=replay_server.url) as client,
        replay_server.replaying([text_reply()]) as session,
        pytest.raises(llm.MissingAPIKeyError, match="gcloud auth application-default login") as raised,
    ):
        llm.model(MODEL, client=client).call("Hi")

    assert session.requests == []
    assert raised.value.env_var == "GOOGLE_APPLICATION_CREDENTIALS"


def test_vertex_ai_without_a_project_is_refused() -> None:
    with pytest.raises(TypeError, match="project="):
        llm.client("google", vertexai=True, api_key="t")


def test_vertex_ai_with_credentials_sends_their_token_refreshing_it_only_when_it_expires() -> None:
    credentials = FakeCredentials(["ya29.first", "ya29.second"])
    sent: list[httpx.Request] = []
    model = llm.model(MODEL, client=_vertex_client(sent, credentials=credentials))

    model.call("Hi")
    model.call("Hi again")
    credentials.valid = False  # expired
    model.call("And again")

    assert [request.headers["authorization"] for request in sent] == [
        "Bearer ya29.first",
        "Bearer ya29.first",
        "Bearer ya29.second",
    ]
    assert len(credentials.refreshed_with) == 2
    assert all(callable(request) for request in credentials.refreshed_with)
    assert all("x-goog-api-key" not in request.headers for request in sent)


def test_vertex_ai_credentials_work_for_streams_and_async_calls() -> None:
    credentials = FakeCredentials(["ya29.token"])
    sent: list[httpx.Request] = []
    model = llm.model(MODEL, client=_vertex_client(sent, credentials=credentials))

    async def main() -> None:
        await model.call_async("Hi")
        stream = await model.stream_async("Hi")
        await stream.aresponse()

    asyncio.run(main())

    assert [request.headers["authorization"] for request in sent] == ["Bearer ya29.token"] * 2
    assert sent[1].url.path.endswith(":streamGenerateContent")


def test_vertex_ai_credentials_without_scopes_get_the_cloud_platform_scope() -> None:
    credentials = FakeCredentials(["ya29.scoped"], requires_scopes=True)
    sent: list[httpx.Request] = []

    llm.model(MODEL, client=_vertex_client(sent, credentials=credentials)).call("Hi")

    assert sent[0].headers["authorization"] == "Bearer ya29.scoped"
    assert credentials.refreshed_with == []  # the scoped copy was refreshed, not the original


def test_vertex_ai_sends_the_given_access_token_over_the_credentials() -> None:
    credentials = FakeCredentials(["ya29.from-credentials"])
    sent: list[httpx.Request] = []

    llm.model(MODEL, client=_vertex_client(sent, credentials=credentials, api_key="ya29.given")).call("Hi")

    assert sent[0].headers["authorization"] == "Bearer ya29.given"
    assert credentials.refreshed_with == []


def test_vertex_ai_without_credentials_uses_application_default_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    found = FakeCredentials(["ya29.adc"])
    asked: list[dict[str, Any]] = []

    def default(**kwargs: Any) -> tuple[FakeCredentials, str]:
        asked.append(kwargs)
        return found, "adc-project"

    monkeypatch.setattr(google.auth, "default", default)
    sent: list[httpx.Request] = []
    model = llm.model(MODEL, client=_vertex_client(sent))

    model.call("Hi")
    model.call("Hi")

    assert [request.headers["authorization"] for request in sent] == ["Bearer ya29.adc"] * 2
    assert asked == [{"scopes": ["https://www.googleapis.com/auth/cloud-platform"]}]  # looked up once


def test_vertex_ai_reads_no_gemini_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-a-gemini-key")
    sent: list[httpx.Request] = []

    llm.model(MODEL, client=_vertex_client(sent, credentials=FakeCredentials(["ya29.token"]))).call("Hi")

    assert sent[0].headers["authorization"] == "Bearer ya29.token"
    assert "AIza-a-gemini-key" not in str(sent[0].headers)


def test_vertex_ai_without_google_auth_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.auth", None)  # as if google-auth were not installed
    sent: list[httpx.Request] = []

    with pytest.raises(llm.MissingAPIKeyError, match=r"mirascope-providers-google\[vertexai\]"):
        llm.model(MODEL, client=_vertex_client(sent)).call("Hi")

    assert sent == []


def test_vertex_ai_credentials_that_cannot_refresh_raise_authentication_error() -> None:
    class Revoked(FakeCredentials):
        def refresh(self, request: Any) -> None:
            raise google.auth.exceptions.RefreshError("invalid_grant: Token has been expired or revoked.")

    sent: list[httpx.Request] = []

    with pytest.raises(llm.AuthenticationError, match="invalid_grant") as raised:
        llm.model(MODEL, client=_vertex_client(sent, credentials=Revoked([]))).call("Hi")

    assert sent == []
    assert isinstance(raised.value.__cause__, google.auth.exceptions.RefreshError)


def test_google_auth_credentials_refresh_over_httpx_without_requests(replay_server: ReplayServer) -> None:
    credentials = google.oauth2.credentials.Credentials(
        token=None,
        refresh_token="1//refresh",
        client_id="client-id",
        client_secret="client-secret",
        token_uri=f"{replay_server.url}/token",
    )
    token_reply = {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "json": {"access_token": "ya29.refreshed", "expires_in": 3600, "token_type": "Bearer"},
    }
    with (
        llm.client("google", vertexai=True, project="p", base_url=replay_server.url, credentials=credentials) as client,
        replay_server.replaying([token_reply, text_reply()]) as session,
    ):
        llm.model(MODEL, client=client).call("Hi")

    token_request, call = session.requests
    assert token_request.path == "/token"
    assert b"grant_type=refresh_token" in token_request.body
    assert call.headers["authorization"] == "Bearer ya29.refreshed"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"credentials": FakeCredentials([])}, "add vertexai=True"),
        ({"vertexai": True, "project": "p", "credentials": "ya29.a-string"}, "takes google-auth credentials"),
    ],
)
def test_credentials_are_refused_where_they_cannot_be_used(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        llm.client("google", **settings)
