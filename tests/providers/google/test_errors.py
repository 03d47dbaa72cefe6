"""Gemini failures as `llm.APIError` subclasses, with Google's own message."""

from __future__ import annotations

import pytest
from mirascope import llm

from tests.providers.google.support import MODEL, error_reply
from tests.support.fixtures import load
from tests.support.replay import ReplayServer


def _fail(
    replay_server: ReplayServer, client: llm.Client, response: dict[str, object], model: str = MODEL
) -> llm.APIError:
    with replay_server.replaying([response]), pytest.raises(llm.APIError) as caught:
        llm.model(model, client=client, retries=0).call("Hi")  # one reply is queued: no retry
    return caught.value


def test_invalid_key_400_is_an_authentication_error_with_googles_message(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    recorded = load("test_authentication_error/google_gemini_2_5_flash/sync.json")["exchanges"][0]["response"]
    error = _fail(replay_server, client, recorded)

    assert type(error) is llm.AuthenticationError
    assert error.provider == "google"
    assert error.status_code == 400
    assert error.message == "API key not valid. Please pass a valid API key."
    assert "GOOGLE_API_KEY" in str(error)


def test_unknown_model_404_is_a_not_found_error(replay_server: ReplayServer, client: llm.Client) -> None:
    recorded = load("test_model_not_found/google_gemini_2_5_flash/sync.json")["exchanges"][0]["response"]
    error = _fail(replay_server, client, recorded, model="google:this-model-does-not-exist-12345")

    assert type(error) is llm.NotFoundError
    assert error.status_code == 404
    assert error.message.startswith("models/this-model-does-not-exist-12345 is not found")


def test_503_with_an_html_body_is_a_server_error_with_a_readable_message(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    html = "<html><body><h1>503 Service Unavailable</h1><p>Try again later.</p></body></html>"
    error = _fail(
        replay_server,
        client,
        {"status": 503, "headers": {"content-type": "text/html"}, "text": html},
    )

    assert type(error) is llm.ServerError
    assert error.status_code == 503
    assert "503 Service Unavailable" in error.message
    assert "<h1>" not in error.message


def test_resource_exhausted_is_a_rate_limit_error_with_retry_after(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    error = _fail(
        replay_server,
        client,
        error_reply(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", **{"retry-after": "7"}),
    )

    assert type(error) is llm.RateLimitError
    assert error.retry_after == 7.0
    assert error.message == "Quota exceeded."


def test_permission_denied_is_a_permission_error(replay_server: ReplayServer, client: llm.Client) -> None:
    error = _fail(replay_server, client, error_reply(403, "PERMISSION_DENIED", "Not allowed."))

    assert type(error) is llm.PermissionError


def test_unavailable_is_a_server_error_whatever_the_status(replay_server: ReplayServer, client: llm.Client) -> None:
    error = _fail(replay_server, client, error_reply(503, "UNAVAILABLE", "The model is overloaded."))

    assert type(error) is llm.ServerError
    assert error.message == "The model is overloaded."


def test_invalid_argument_without_a_key_reason_stays_a_bad_request(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    error = _fail(replay_server, client, error_reply(400, "INVALID_ARGUMENT", "Budget 0 is invalid."))

    assert type(error) is llm.BadRequestError
