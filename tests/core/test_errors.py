"""Bad input and failures give typed `llm.Error`s whose messages say what to do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from mirascope import llm

from tests.support.replay import ReplayServer


def _client(handler: Any, provider: str = "openai-completions") -> llm.Client:
    return llm.client(
        provider,
        api_key="sk-test",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )


def _call(client: llm.Client) -> llm.CallResponse:
    return llm.model("openai-completions:gpt-4o-mini", client=client).call("Hi")


def test_an_unknown_provider_suggests_the_nearest_name() -> None:
    with pytest.raises(llm.ProviderNotFoundError, match="Did you mean 'openai'") as raised:
        llm.model("opnai:gpt-4o").call("Hi")
    assert raised.value.provider == "opnai"


def test_a_known_provider_that_is_not_installed_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    from mirascope.llm.providers import _registry  # pyright: ignore[reportPrivateUsage]

    installed = importlib.metadata.entry_points

    def without_local(**selection: Any) -> Any:
        found = installed(**selection)
        return [ep for ep in found if ep.name != "local"] if selection.get("name") == "local" else found

    # As if mirascope-providers-local were not installed (nor loaded by an earlier test).
    monkeypatch.setattr(importlib.metadata, "entry_points", without_local)
    monkeypatch.delitem(_registry._loaded, "local", raising=False)  # pyright: ignore[reportPrivateUsage]
    with pytest.raises(
        llm.ProviderNotFoundError, match=r'pip install --find-links dist "mirascope\[local\]==2\.0\.0a1\+v2"'
    ):
        llm.model("local:smollm2").call("Hi")


def test_a_model_id_without_a_provider_shows_the_form() -> None:
    with pytest.raises(llm.ProviderNotFoundError, match="'anthropic:claude-sonnet-4-5'"):
        llm.model("claude-sonnet-4-5")


def test_a_missing_key_names_the_variable_before_any_request(replay_server: ReplayServer) -> None:
    client = llm.client("anthropic", base_url=replay_server.url)
    with (
        replay_server.replaying([]) as session,
        pytest.raises(llm.MissingAPIKeyError, match="ANTHROPIC_API_KEY") as raised,
    ):
        llm.model("anthropic:claude-sonnet-4-5", client=client).call("Hi")
    assert raised.value.env_var == "ANTHROPIC_API_KEY"
    assert session.requests == []


def test_a_local_service_needs_no_key(replay_server: ReplayServer) -> None:
    body = {
        "id": "c",
        "model": "gemma3:4b",
        "choices": [{"message": {"role": "assistant", "content": "4242"}, "finish_reason": "stop"}],
    }
    with (
        llm.client("ollama", base_url=replay_server.url + "/v1") as client,
        replay_server.replaying([{"status": 200, "json": body}]) as session,
    ):
        response = llm.model("ollama:gemma3:4b", client=client).call("What is 4200 + 42?")
    assert response.content == "4242"
    assert "authorization" not in session.requests[0].headers
    assert session.requests[0].json()["model"] == "gemma3:4b"


def test_a_5xx_html_page_becomes_a_server_error_with_readable_text() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    client = _client(lambda request: httpx.Response(502, text=page, headers={"content-type": "text/html"}))
    with pytest.raises(llm.ServerError) as raised:
        _call(client)
    error = raised.value
    assert error.status_code == 502
    assert "502 Bad Gateway" in str(error)
    assert "<h1>" not in str(error)
    assert "retry later" in str(error)


def test_a_truncated_json_error_body_is_reported_not_crashed_on() -> None:
    client = _client(
        lambda request: httpx.Response(
            400, text='{"error": {"message": "bad', headers={"content-type": "application/json"}
        )
    )
    with pytest.raises(llm.BadRequestError, match="non-JSON body") as raised:
        _call(client)
    assert raised.value.body == '{"error": {"message": "bad'


def test_an_empty_error_body_still_gives_the_status_type() -> None:
    client = _client(lambda request: httpx.Response(403))
    with pytest.raises(llm.PermissionError, match="empty body"):
        _call(client)


def test_a_rate_limit_carries_retry_after() -> None:
    body = {
        "error": {
            "message": "Rate limit reached",
            "type": "requests",
            "code": "rate_limit_exceeded",
        }
    }
    client = _client(lambda request: httpx.Response(429, json=body, headers={"retry-after": "7"}))
    with pytest.raises(llm.RateLimitError, match="Rate limit reached") as raised:
        _call(client)
    assert raised.value.retry_after == 7.0
    assert raised.value.headers["retry-after"] == "7"


def test_an_auth_failure_says_where_the_key_comes_from() -> None:
    body = {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
    client = _client(lambda request: httpx.Response(401, json=body))
    with pytest.raises(llm.AuthenticationError, match="OPENAI_API_KEY"):
        _call(client)


def test_a_success_status_with_a_non_json_body_is_an_api_error() -> None:
    client = _client(
        lambda request: httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"})
    )
    with pytest.raises(llm.APIError, match="not JSON"):
        _call(client)


def test_a_refused_connection_is_a_connection_error() -> None:
    # Nothing listens on port 9: the refusal is immediate; the timeout only guards against a hang.
    client = llm.client("openai-completions", base_url="http://127.0.0.1:9/v1", api_key="sk-test", timeout=2)
    with pytest.raises(llm.ConnectionError, match=r"could not reach http://127\.0\.0\.1:9/v1"):
        _call(client)
    client.close()


def test_a_timeout_is_a_timeout_error_and_a_builtin_one() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(TimeoutError, match="timeout=") as raised:
        _call(_client(slow))
    assert isinstance(raised.value, llm.TimeoutError)


def test_a_client_for_one_provider_family_refuses_another() -> None:
    with (
        llm.client("anthropic", api_key="k") as client,
        pytest.raises(ValueError, match=r"llm.client\('openai'"),
    ):
        llm.model("openai:gpt-4o", client=client).call("Hi")


def test_an_unknown_client_setting_is_refused_with_the_known_ones() -> None:
    with pytest.raises(TypeError, match="organization, project"):
        llm.client("openai", organisation="x")
