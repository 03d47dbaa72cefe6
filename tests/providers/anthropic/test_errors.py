"""Failed replies become typed `llm.APIError`s carrying Anthropic's own message."""

from __future__ import annotations

import builtins
from typing import Any

import pytest
from mirascope import llm

from tests.providers.anthropic.support import Claude


def _error(status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "status": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "json": {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_1"},
    }


def test_overloaded_529_is_a_server_error_with_the_message_and_retry_after(claude: Claude) -> None:
    overloaded = _error(529, "overloaded_error", "Overloaded", {"retry-after": "7"})

    with pytest.raises(llm.ServerError) as raised:
        claude.call("Hi", replies=[overloaded])

    error = raised.value
    assert error.status_code == 529
    assert error.provider == "anthropic"
    assert error.message == "Overloaded"
    assert error.retry_after == 7.0
    assert str(error).startswith("anthropic 529: Overloaded")
    assert "retry later" in str(error)


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (400, "invalid_request_error", llm.BadRequestError),
        (401, "authentication_error", llm.AuthenticationError),
        (403, "permission_error", llm.PermissionError),
        (404, "not_found_error", llm.NotFoundError),
        (429, "rate_limit_error", llm.RateLimitError),
        (500, "api_error", llm.ServerError),
        # A proxy may change the status; Anthropic's own error type still decides.
        (400, "overloaded_error", llm.ServerError),
        (500, "authentication_error", llm.AuthenticationError),
    ],
)
def test_anthropic_error_types_decide_the_error_class(
    claude: Claude, status: int, error_type: str, expected: type[llm.APIError]
) -> None:
    with pytest.raises(expected) as raised:
        claude.call("Hi", replies=[_error(status, error_type, f"details of {error_type}")])

    assert type(raised.value) is expected
    assert raised.value.status_code == status
    assert f"details of {error_type}" in str(raised.value)


def test_an_authentication_error_names_the_key_variable(claude: Claude) -> None:
    with pytest.raises(llm.AuthenticationError, match="ANTHROPIC_API_KEY"):
        claude.call("Hi", replies=[_error(401, "authentication_error", "invalid x-api-key")])


def test_a_permission_error_is_also_the_builtin_permission_error(claude: Claude) -> None:
    with pytest.raises(builtins.PermissionError):
        claude.call("Hi", replies=[_error(403, "permission_error", "no access to this model")])


def test_an_html_5xx_page_is_a_server_error_describing_the_page(claude: Claude) -> None:
    page = {
        "status": 502,
        "headers": {"content-type": "text/html"},
        "text": "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>",
    }

    with pytest.raises(llm.ServerError) as raised:
        claude.call("Hi", replies=[page])

    message = str(raised.value)
    assert raised.value.status_code == 502
    assert "text/html" in message
    assert "Bad Gateway" in message
    assert "<h1>" not in message


def test_a_plain_text_error_body_keeps_its_text(claude: Claude) -> None:
    text = {"status": 429, "headers": {"content-type": "text/plain"}, "text": "Too many requests, slow down"}

    with pytest.raises(llm.RateLimitError, match="Too many requests, slow down") as raised:
        claude.call("Hi", replies=[text])

    assert raised.value.body == "Too many requests, slow down"


def test_an_empty_error_body_still_says_what_came_back(claude: Claude) -> None:
    empty = {"status": 503, "headers": {"content-type": "text/plain"}, "text": ""}

    with pytest.raises(llm.ServerError, match="empty body"):
        claude.call("Hi", replies=[empty])
