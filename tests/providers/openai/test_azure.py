"""Azure OpenAI: `azure:` and `azure-completions:` on a resource's v1 endpoint, keyed by `api-key`."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from mirascope import llm

from tests.support.fixtures import load
from tests.support.replay import encode_response

KEY = "azure-key-0123456789"


def _recorded(mode: str, completions: bool = False) -> dict[str, Any]:
    model = "openai_gpt_4o_completions" if completions else "openai_gpt_4o_responses"
    return copy.deepcopy(load(f"test_call/{model}/{mode}.json")["exchanges"][0]["response"])


def _client(sent: list[httpx.Request], replies: list[dict[str, Any]], **settings: Any) -> llm.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        status, headers, body = encode_response(replies.pop(0))
        return httpx.Response(status, headers=headers, content=body)

    transport = httpx.MockTransport(handler)
    return llm.client(
        "azure",
        max_retries=0,
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
        **settings,
    )


def test_azure_calls_the_responses_api_of_the_resource_with_the_deployment_as_model() -> None:
    sent: list[httpx.Request] = []
    client = _client(sent, [_recorded("sync")], resource="my-resource", api_key=KEY)

    response = llm.model("azure:my-gpt-4o-deployment", client=client, temperature=0.2).call("Hi")

    (request,) = sent
    assert str(request.url) == "https://my-resource.openai.azure.com/openai/v1/responses"
    assert request.headers["api-key"] == KEY
    assert "authorization" not in request.headers
    assert json.loads(request.content) == {
        "model": "my-gpt-4o-deployment",
        "input": [{"role": "user", "content": "Hi"}],
        "temperature": 0.2,
    }
    assert response.content
    assert response.model == "azure:my-gpt-4o-deployment"


def test_azure_completions_calls_chat_completions_on_the_same_endpoint_with_the_same_client() -> None:
    sent: list[httpx.Request] = []
    client = _client(sent, [_recorded("sync", completions=True)], resource="my-resource", api_key=KEY)

    response = llm.model("azure-completions:my-gpt-4o-deployment", client=client).call("Hi")

    assert str(sent[0].url) == "https://my-resource.openai.azure.com/openai/v1/chat/completions"
    assert sent[0].headers["api-key"] == KEY
    assert json.loads(sent[0].content)["model"] == "my-gpt-4o-deployment"
    assert response.content


def test_azure_streams_from_the_responses_api() -> None:
    sent: list[httpx.Request] = []
    client = _client(sent, [_recorded("stream")], resource="my-resource", api_key=KEY)

    stream = llm.model("azure:my-gpt-4o-deployment", client=client).stream("Hi")
    text = "".join(chunk.content for chunk in stream)

    assert text
    assert text == stream.response.content
    assert json.loads(sent[0].content)["stream"] is True


def test_azure_reads_the_endpoint_and_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://env-resource.openai.azure.com/")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    sent: list[httpx.Request] = []

    llm.model("azure:dep", client=_client(sent, [_recorded("sync")])).call("Hi")

    assert str(sent[0].url) == "https://env-resource.openai.azure.com/openai/v1/responses"
    assert sent[0].headers["api-key"] == KEY


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://res.openai.azure.com", "https://res.openai.azure.com/openai/v1/responses"),
        ("https://res.openai.azure.com/openai/", "https://res.openai.azure.com/openai/v1/responses"),
        ("https://res.openai.azure.com/openai/v1/", "https://res.openai.azure.com/openai/v1/responses"),
        ("https://res.services.ai.azure.com/openai/v1", "https://res.services.ai.azure.com/openai/v1/responses"),
        ("http://127.0.0.1:8080/proxy/azure", "http://127.0.0.1:8080/proxy/azure/responses"),
    ],
)
def test_azure_takes_a_base_url_as_a_bare_endpoint_or_the_v1_api_itself(base_url: str, expected: str) -> None:
    sent: list[httpx.Request] = []

    llm.model("azure:dep", client=_client(sent, [_recorded("sync")], base_url=base_url, api_key=KEY)).call("Hi")

    assert str(sent[0].url) == expected


def test_azure_without_a_key_names_its_environment_variable() -> None:
    sent: list[httpx.Request] = []

    with pytest.raises(llm.MissingAPIKeyError, match="AZURE_OPENAI_API_KEY"):
        llm.model("azure:dep", client=_client(sent, [], resource="my-resource")).call("Hi")

    assert sent == []


def test_azure_without_a_resource_or_endpoint_says_how_to_give_one() -> None:
    with pytest.raises(TypeError, match=r"resource='my-resource'.*AZURE_OPENAI_ENDPOINT"):
        llm.client("azure", api_key=KEY)


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"resource": 3}, "takes the resource's name"), ({"organization": "org"}, "does not take organization")],
)
def test_azure_refuses_settings_it_cannot_use(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        llm.client("azure", api_key=KEY, **settings)


def test_an_azure_authentication_error_is_an_authentication_error() -> None:
    failure = {
        "status": 401,
        "headers": {"content-type": "application/json"},
        "json": {"error": {"code": "401", "message": "Access denied due to invalid subscription key."}},
    }
    client = _client([], [failure], resource="my-resource", api_key=KEY)

    with pytest.raises(llm.AuthenticationError, match="invalid subscription key") as raised:
        llm.model("azure:dep", client=client).call("Hi")

    assert raised.value.provider == "azure"
    assert "AZURE_OPENAI_API_KEY" in str(raised.value)


def test_an_openai_client_cannot_call_an_azure_model() -> None:
    with pytest.raises(ValueError, match=r"llm\.client\('azure'"):
        llm.model("azure:dep", client=llm.client("openai", api_key=KEY)).call("Hi")
