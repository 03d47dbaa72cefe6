"""The `anthropic` provider object: registration, client settings, headers and URLs."""

from __future__ import annotations

import subprocess
import sys

import mirascope.providers.anthropic as package
import pytest
from mirascope import llm
from mirascope.llm.providers import Provider

from tests.providers.anthropic.support import Claude


def test_the_package_exposes_only_the_provider_its_entry_point_names() -> None:
    provider: Provider = package.anthropic

    assert package.__all__ == ["anthropic"]
    assert llm.client("anthropic", api_key="k").provider is provider
    assert (provider.name, provider.family, provider.api_key_env, provider.api_key_required) == (
        "anthropic",
        "anthropic",
        "ANTHROPIC_API_KEY",
        True,
    )


def test_importing_the_package_loads_no_httpx() -> None:
    code = "import sys, mirascope.providers.anthropic; print('httpx' in sys.modules)"

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "False"


def test_requests_carry_the_key_version_and_json_headers(claude: Claude) -> None:
    claude.call("Hi")

    [sent] = claude.requests
    assert sent.path == "/v1/messages"
    assert sent.query == ""
    assert sent.headers["x-api-key"] == "test-key"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["content-type"] == "application/json"
    assert "anthropic-beta" not in sent.headers
    assert "authorization" not in sent.headers


def test_betas_are_sent_in_the_beta_header_on_the_beta_url(claude: Claude) -> None:
    client = claude.client(betas=["files-api-2025-04-14", "context-1m-2025-08-07"])

    claude.call("Hi", client=client)

    [sent] = claude.requests
    assert sent.headers["anthropic-beta"] == "files-api-2025-04-14,context-1m-2025-08-07"
    assert (sent.path, sent.query) == ("/v1/messages", "beta=true")


def test_a_base_url_ending_in_v1_gets_no_second_v1(claude: Claude) -> None:
    claude.call("Hi", client=claude.client(base_url=f"{claude.server.url}/v1/"))

    assert claude.requests[0].path == "/v1/messages"


def test_a_base_url_with_a_proxy_path_keeps_it(claude: Claude) -> None:
    claude.call("Hi", client=claude.client(base_url=f"{claude.server.url}/proxy/anthropic"))

    assert claude.requests[0].path == "/proxy/anthropic/v1/messages"


def test_the_base_url_comes_from_anthropic_base_url_else_the_public_api(monkeypatch: pytest.MonkeyPatch) -> None:
    assert llm.client("anthropic").base_url == "https://api.anthropic.com"

    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://gateway.example.com/anthropic")

    assert llm.client("anthropic").base_url == "https://gateway.example.com/anthropic"


def test_an_unknown_client_option_raises_type_error_naming_the_known_ones() -> None:
    with pytest.raises(TypeError) as raised:
        llm.client("anthropic", vertexai=True)

    message = str(raised.value)
    assert "vertexai" in message
    assert "betas" in message
    assert "base_url" in message


def test_betas_must_be_a_list_of_names() -> None:
    with pytest.raises(TypeError, match="betas"):
        llm.client("anthropic", betas=[1, 2])


def test_a_call_without_a_key_names_the_environment_variable(claude: Claude) -> None:
    client = llm.client("anthropic", base_url=claude.server.url)

    with pytest.raises(llm.MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        claude.call("Hi", client=client)

    assert claude.requests == []


def test_the_key_is_read_from_anthropic_api_key(claude: Claude, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "from-env")
    client = llm.client("anthropic", base_url=claude.server.url)

    with client:
        claude.call("Hi", client=client)

    assert claude.requests[0].headers["x-api-key"] == "from-env"
