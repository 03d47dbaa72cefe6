"""Vertex AI: URLs under a project and location, and Bearer access tokens."""

from __future__ import annotations

import json

import httpx
import pytest
from mirascope import llm

from tests.providers.google.support import MODEL, text_reply
from tests.support.replay import ReplayServer


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


def test_vertex_ai_without_a_token_raises_missing_api_key(replay_server: ReplayServer) -> None:
    with (
        llm.client("google", vertexai=True, project="p", base_url=replay_server.url) as client,
        replay_server.replaying([text_reply()]) as session,
        pytest.raises(llm.MissingAPIKeyError),
    ):
        llm.model(MODEL, client=client).call("Hi")

    assert session.requests == []


def test_vertex_ai_without_a_project_is_refused() -> None:
    with pytest.raises(TypeError, match="project="):
        llm.client("google", vertexai=True, api_key="t")
