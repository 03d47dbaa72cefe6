"""Bedrock's error shapes as typed `llm.APIError`s.

A failed Bedrock reply names its error type in the `x-amzn-errortype` header
(`ValidationException:http://internal.amazon.com/coral/...`), sometimes also as `__type` in the
body, and carries the text in `message` (or `Message`, from AWS's front door: bad signatures,
unknown keys). Inside a ConverseStream an error arrives as an exception message whose type is
spelled in lower camel case (`throttlingException`): the event-stream framing hands it over as
the event `exception:<type>`, and a protocol error as `error:<code>`.

The type decides the class where the status alone would mislead (a 424 `ModelErrorException`
is the model failing, not a bad request), and each class keeps a status, in-stream too, so
that core's retries treat a throttled stream as they treat a throttled call.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from mirascope import llm

if TYPE_CHECKING:
    import httpx
    from mirascope.llm.providers import Request
    from mirascope.llm.providers.http import ErrorSource

__all__ = ["CODES", "STATUS", "error", "error_code", "stream_error"]

CODES: dict[str, type[llm.APIError]] = {
    "ThrottlingException": llm.RateLimitError,
    "ServiceQuotaExceededException": llm.RateLimitError,
    # The model is still being loaded (a custom or imported model): a wait fixes it, as for a rate limit.
    "ModelNotReadyException": llm.RateLimitError,
    "ValidationException": llm.BadRequestError,
    "SerializationException": llm.BadRequestError,
    "ConflictException": llm.BadRequestError,
    "AccessDeniedException": llm.PermissionError,
    "UnrecognizedClientException": llm.AuthenticationError,
    "InvalidSignatureException": llm.AuthenticationError,
    "SignatureDoesNotMatch": llm.AuthenticationError,
    "IncompleteSignature": llm.AuthenticationError,
    "IncompleteSignatureException": llm.AuthenticationError,
    "MissingAuthenticationToken": llm.AuthenticationError,
    "MissingAuthenticationTokenException": llm.AuthenticationError,
    "InvalidClientTokenId": llm.AuthenticationError,
    "ExpiredToken": llm.AuthenticationError,
    "ExpiredTokenException": llm.AuthenticationError,
    "RequestExpired": llm.AuthenticationError,
    "ResourceNotFoundException": llm.NotFoundError,
    "ModelTimeoutException": llm.TimeoutError,
    "InternalServerException": llm.ServerError,
    "InternalFailure": llm.ServerError,
    "ServiceUnavailableException": llm.ServerError,
    "ServiceUnavailable": llm.ServerError,
    "ModelErrorException": llm.ServerError,
    "ModelStreamErrorException": llm.ServerError,
}
"""Bedrock error types (as `x-amzn-errortype` names them) and the error each one raises."""

STATUS: dict[str, int] = {
    "ThrottlingException": 429,
    "ServiceQuotaExceededException": 400,
    "ModelNotReadyException": 429,
    "ValidationException": 400,
    "SerializationException": 400,
    "ConflictException": 400,
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "ExpiredTokenException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
    "ModelErrorException": 424,
    "ModelStreamErrorException": 424,
}
"""The HTTP status Bedrock documents for each error type: given to an in-stream exception, which has none."""

_HINTS: dict[str, str] = {
    "ThrottlingException": "Bedrock throttled the request; it is retried with backoff (max_retries on "
    "llm.client). If it persists, ask AWS for a higher quota for this model and region.",
    "ServiceQuotaExceededException": "A Bedrock service quota of the account ran out; retry later, or ask AWS "
    "for a higher quota (Service Quotas console).",
    "ModelNotReadyException": "The model is not ready yet (it is being loaded); it is retried, or try again shortly.",
    "AccessDeniedException": "The AWS identity may not use this model: enable the model in the Bedrock console "
    "(Model access) for this region, and allow bedrock:InvokeModel / bedrock:InvokeModelWithResponseStream on it.",
    "ResourceNotFoundException": "Check the model id after 'bedrock:' (an inference profile such as "
    "'us.anthropic...' where the model needs one) and the region.",
    "ModelTimeoutException": "The model took too long; retry, or ask for a shorter reply.",
    "ModelErrorException": "The model failed while answering; retry.",
    "ModelStreamErrorException": "The model failed while streaming; retry.",
}
_AUTH_HINT = (
    "Check the AWS credentials: region, access key and secret (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a "
    "profile, or llm.client('bedrock', access_key_id=..., secret_access_key=...)), the session token's expiry, "
    "and the machine's clock; or a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK."
)
_CORE_HINTS: dict[type[llm.APIError], str] = {
    llm.BadRequestError: "Bedrock refused the request; its message above says what to change.",
    llm.RateLimitError: "Wait and retry (retry_after says how long, when Bedrock told us).",
    llm.ServerError: "Bedrock failed on its side; retry later.",
    llm.AuthenticationError: _AUTH_HINT,
}


def error_code(name: str) -> str:
    """An error type as `CODES` spells it: `throttlingException` and `ThrottlingException:http://...` alike."""
    name = name.partition(":")[0].strip()
    # `__type` in a body may be namespaced: `com.amazon.coral.service#UnrecognizedClientException`.
    name = name.rpartition("#")[2]
    return name[:1].upper() + name[1:]


def _hint(code: str | None, cls: type[llm.APIError]) -> str | None:
    if code is not None:
        found = _HINTS.get(code)
        if found is not None:
            return found
    return _CORE_HINTS.get(cls)


def _fields(body: object) -> dict[str, Any] | None:
    return cast("dict[str, Any]", body) if isinstance(body, dict) else None


def _code_in(response: httpx.Response, fields: dict[str, Any] | None) -> str | None:
    header = response.headers.get("x-amzn-errortype")
    if header:
        return error_code(header)
    found = fields.get("__type") if fields is not None else None
    return error_code(found) if isinstance(found, str) and found else None


def error(provider: ErrorSource, request: Request, response: httpx.Response) -> llm.APIError:
    """The `llm.APIError` for a failed Converse or ConverseStream reply (status >= 400).

    Core's reading of the reply (message, redaction of any echoed key, `Retry-After`) is kept;
    Bedrock's error type, when it sent one, picks the class, and `Message` counts as `message`.
    """
    from mirascope.llm.providers.http import error_from_response

    found = error_from_response(provider, response, codes=CODES)
    fields = _fields(found.body)
    message = found.message
    if fields is not None and not isinstance(fields.get("message"), str) and isinstance(fields.get("Message"), str):
        message = fields["Message"]  # the body is already redacted
    code = _code_in(response, fields)
    cls = CODES.get(code, type(found)) if code is not None else type(found)
    if code is None and message == found.message and cls is not llm.AuthenticationError:
        return found  # nothing Bedrock-specific to add: core's error as it is
    return cls(
        message,
        provider=found.provider,
        status_code=found.status_code,
        body=found.body,
        headers=found.headers,
        retry_after=found.retry_after,
        hint=_hint(code, cls),
    )


def stream_error(provider: str, event: str, data: str) -> llm.APIError:
    """The `llm.APIError` for an error inside a ConverseStream.

    Args:
        provider: The provider prefix (`"bedrock"`).
        event: The event's name: `exception:<type>` for a modelled exception
            (`exception:throttlingException`), `error:<code>` for a protocol error.
        data: Its payload: the exception's JSON (`{"message": ...}`), or the error's message.
    """
    kind, _, name = event.partition(":")
    code = error_code(name) if name else None
    message = data
    try:
        body: object = cast("object", json.loads(data)) if data else data
    except ValueError:
        body = data  # an `error:` event's message is plain text
    fields = _fields(body)
    if fields is not None:
        text = fields.get("message", fields.get("Message"))
        message = text if isinstance(text, str) else data
    if not message:
        message = f"the stream sent {'an exception' if kind == 'exception' else 'an error'} ({name or 'no type'})"
    cls = CODES.get(code, llm.APIError) if code is not None else llm.APIError
    return cls(
        message,
        provider=provider,
        status_code=STATUS.get(code) if code is not None else None,
        body=body,
        hint=_hint(code, cls),
    )
