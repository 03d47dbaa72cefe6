"""Failed Bedrock replies become typed `llm.APIError`s carrying Bedrock's own message, and retries follow them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from mirascope import llm
from mirascope.llm._retries import is_retryable
from mirascope.llm.providers import Request
from mirascope.providers.bedrock import bedrock, errors

from tests.support.fixtures import fixtures_dir

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
URL = "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"


def _recorded_errors() -> list[tuple[str, dict[str, Any]]]:
    root = fixtures_dir() / "bedrock"
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(root.glob("*/*/*.json")):
        for index, exchange in enumerate(json.loads(path.read_text())["exchanges"]):
            if exchange["response"]["status"] >= 400:
                found.append((f"{path.relative_to(root).as_posix()}#{index}", exchange))
    return found


RECORDED = _recorded_errors()


def _request() -> Request:
    return Request(
        model_id=f"bedrock:{MODEL}", model=MODEL, messages=(llm.messages.user("Hi"),), params=llm.CallParams()
    )


def _response(status: int, body: object, headers: dict[str, str] | None = None, url: str = URL) -> httpx.Response:
    return httpx.Response(
        status,
        headers={"content-type": "application/json", **(headers or {})},
        content=json.dumps(body).encode(),
        request=httpx.Request("POST", url),
    )


def _error(status: int, body: object, headers: dict[str, str] | None = None) -> llm.APIError:
    return errors.error(bedrock, _request(), _response(status, body, headers))


def test_the_recordings_hold_errors() -> None:
    assert len(RECORDED) >= 10


@pytest.mark.parametrize(("name", "exchange"), RECORDED, ids=[name for name, _ in RECORDED])
def test_every_recorded_error_becomes_the_class_of_its_status_with_the_recorded_message(
    name: str, exchange: dict[str, Any]
) -> None:
    recorded = exchange["response"]
    response = _response(recorded["status"], recorded["json"], recorded["headers"], exchange["request"]["url"])

    error = errors.error(bedrock, _request(), response)

    # Every recorded failure is a 400 ValidationException; the recordings kept no x-amzn-errortype.
    assert recorded["status"] == 400
    assert type(error) is llm.BadRequestError
    assert error.status_code == 400
    assert error.provider == "bedrock"
    assert error.message == recorded["json"]["message"]
    assert error.body == recorded["json"]
    assert str(error).startswith(f"bedrock 400: {recorded['json']['message']}")
    assert not is_retryable(error)


@pytest.mark.parametrize(
    ("status", "error_type", "expected", "retried"),
    [
        (429, "ThrottlingException", llm.RateLimitError, True),
        (400, "ServiceQuotaExceededException", llm.RateLimitError, True),
        (429, "ModelNotReadyException", llm.RateLimitError, True),
        (400, "ValidationException", llm.BadRequestError, False),
        (403, "AccessDeniedException", llm.PermissionError, False),
        (403, "UnrecognizedClientException", llm.AuthenticationError, False),
        (403, "InvalidSignatureException", llm.AuthenticationError, False),
        (403, "ExpiredTokenException", llm.AuthenticationError, False),
        (404, "ResourceNotFoundException", llm.NotFoundError, False),
        (408, "ModelTimeoutException", llm.TimeoutError, True),
        (424, "ModelErrorException", llm.ServerError, True),
        (500, "InternalServerException", llm.ServerError, True),
        (503, "ServiceUnavailableException", llm.ServerError, True),
    ],
)
def test_bedrock_error_types_decide_the_class_and_retries_follow_them(
    status: int, error_type: str, expected: type[llm.APIError], retried: bool
) -> None:
    header = f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"

    error = _error(status, {"message": f"details of {error_type}"}, {"x-amzn-errortype": header})

    assert type(error) is expected
    assert error.status_code == status
    assert error.message == f"details of {error_type}"
    assert str(error).startswith(f"bedrock {status}: details of {error_type}\n")
    assert is_retryable(error) is retried
    assert error.headers["x-amzn-errortype"] == header


def test_the_error_type_wins_over_a_status_a_proxy_changed() -> None:
    error = _error(
        400,
        {"message": "Too many requests, please wait before trying again."},
        {"x-amzn-errortype": "ThrottlingException"},
    )

    assert type(error) is llm.RateLimitError
    assert error.status_code == 400
    assert is_retryable(error)


def test_a_capitalised_message_from_aws_front_door_is_the_message() -> None:
    body = {"Message": "The security token included in the request is invalid."}

    error = _error(403, body, {"x-amzn-errortype": "UnrecognizedClientException:http://internal.amazon.com/coral/"})

    assert type(error) is llm.AuthenticationError
    assert error.message == "The security token included in the request is invalid."
    assert error.body == body
    assert "AWS_ACCESS_KEY_ID" in str(error)  # the hint names the credentials to check


def test_a_type_in_the_body_counts_when_the_header_is_missing() -> None:
    body = {"__type": "com.amazon.coral.service#ExpiredTokenException", "message": "The security token has expired."}

    error = _error(403, body)

    assert type(error) is llm.AuthenticationError
    assert error.message == "The security token has expired."


def test_without_a_type_the_status_decides_and_core_s_hint_stays() -> None:
    error = _error(429, {"message": "Too many tokens, please wait before trying again."}, {"retry-after": "3"})

    assert type(error) is llm.RateLimitError
    assert error.retry_after == 3.0
    assert is_retryable(error)
    assert "Wait and retry" in str(error)


def test_a_typed_error_keeps_the_wait_bedrock_asked_for() -> None:
    error = _error(
        503,
        {"message": "Service unavailable"},
        {
            "x-amzn-errortype": "ServiceUnavailableException",
            "retry-after": "2",
        },
    )

    assert type(error) is llm.ServerError
    assert error.retry_after == 2.0


def test_an_error_type_not_known_here_leaves_the_status_to_decide() -> None:
    error = _error(409, {"message": "conflict"}, {"x-amzn-errortype": "SomethingNewException"})

    assert type(error) is llm.BadRequestError
    assert error.message == "conflict"


def test_a_body_that_is_not_json_still_gives_a_typed_error() -> None:
    response = httpx.Response(
        502,
        headers={"content-type": "text/html"},
        content=b"<html><body>Bad Gateway</body></html>",
        request=httpx.Request("POST", URL),
    )

    error = errors.error(bedrock, _request(), response)

    assert type(error) is llm.ServerError
    assert "Bad Gateway" in error.message


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", "ThrottlingException"),
        ("throttlingException", "ThrottlingException"),
        ("com.amazon.coral.service#UnrecognizedClientException", "UnrecognizedClientException"),
        (" ValidationException ", "ValidationException"),
    ],
)
def test_error_type_names_are_read_in_every_spelling(name: str, code: str) -> None:
    assert errors.error_code(name) == code


def test_every_type_with_a_status_keeps_the_status_of_its_class() -> None:
    # An in-stream exception gets these statuses: they must agree with the class it raises.
    from mirascope.llm.providers.http import error_type_for_status

    for code, status in errors.STATUS.items():
        cls = errors.CODES[code]
        if cls in (llm.RateLimitError, llm.ServerError, llm.TimeoutError):
            assert is_retryable(cls("x", provider="bedrock", status_code=status)), code
        elif code != "ServiceQuotaExceededException":
            assert error_type_for_status(status) is cls or cls is llm.AuthenticationError, code
