"""Sending over httpx, and turning failures into `llm.APIError` subclasses.

Shared by every provider package; imports httpx, so core loads it only when a call is made.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

import httpx

from ..exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConnectionError,
    NotFoundError,
    PermissionError,
    RateLimitError,
    ServerError,
    TimeoutError,
)

if TYPE_CHECKING:
    from ..clients import Client
    from . import HTTPRequest, Provider, Request

__all__ = [
    "ErrorDetails",
    "ErrorSource",
    "error_from_event",
    "error_from_response",
    "error_type_for_status",
    "open_stream",
    "open_stream_async",
    "parse_error_body",
    "post_json",
    "post_json_async",
    "retry_after_seconds",
    "stream_transport_error",
]

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _headers(http_request: HTTPRequest, client_headers: dict[str, str] | None) -> dict[str, str] | None:
    if http_request.headers:
        return {**(client_headers or {}), **http_request.headers}
    return client_headers


def _decode(provider: Provider, request: Request, response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise provider.error(request, response)
    try:
        return json.loads(response.content)
    except ValueError:
        raise APIError(
            f"answered {response.status_code} with a body that is not JSON "
            f"({response.headers.get('content-type', 'no content type')}): "
            f"{_snippet(response.text)!r}",
            provider=provider.name,
            status_code=response.status_code,
            body=response.text,
            headers=response.headers,
            hint="Check base_url: it should point at the provider's API, not a web page or proxy.",
        ) from None


def post_json(provider: Provider, client: Client, request: Request, http_request: HTTPRequest) -> Any:
    """POST the JSON body and return the decoded JSON reply, or raise the mapped error."""
    http, client_headers = client.sync_http()
    content = _dumps(http_request.body).encode()
    try:
        response = http.post(http_request.url, content=content, headers=_headers(http_request, client_headers))
    except httpx.HTTPError as exc:
        raise _transport_error(provider.name, client, exc) from exc
    return _decode(provider, request, response)


async def post_json_async(provider: Provider, client: Client, request: Request, http_request: HTTPRequest) -> Any:
    """The async form of `post_json`."""
    http, client_headers = client.async_http()
    content = _dumps(http_request.body).encode()
    try:
        response = await http.post(http_request.url, content=content, headers=_headers(http_request, client_headers))
    except httpx.HTTPError as exc:
        raise _transport_error(provider.name, client, exc) from exc
    return _decode(provider, request, response)


def open_stream(provider: Provider, client: Client, request: Request, http_request: HTTPRequest) -> httpx.Response:
    """POST the JSON body and return the open streaming response, or raise the mapped error.

    The body of a failed reply is read whole (it is the error's JSON, whatever its content
    type says) so the error carries the provider's message.
    """
    http, client_headers = client.sync_http()
    content = _dumps(http_request.body).encode()
    sent = http.build_request("POST", http_request.url, content=content, headers=_headers(http_request, client_headers))
    try:
        response = http.send(sent, stream=True)
        if response.status_code >= 400:
            try:
                response.read()
            finally:
                response.close()
    except httpx.HTTPError as exc:
        raise _transport_error(provider.name, client, exc) from exc
    if response.status_code >= 400:
        raise provider.error(request, response)
    return response


async def open_stream_async(
    provider: Provider, client: Client, request: Request, http_request: HTTPRequest
) -> httpx.Response:
    """The async form of `open_stream`."""
    http, client_headers = client.async_http()
    content = _dumps(http_request.body).encode()
    sent = http.build_request("POST", http_request.url, content=content, headers=_headers(http_request, client_headers))
    try:
        response = await http.send(sent, stream=True)
        if response.status_code >= 400:
            try:
                await response.aread()
            finally:
                await response.aclose()
    except httpx.HTTPError as exc:
        raise _transport_error(provider.name, client, exc) from exc
    if response.status_code >= 400:
        raise provider.error(request, response)
    return response


def stream_transport_error(provider: str, client: Client, exc: Exception) -> APIError | None:
    """The `llm.APIError` for a network failure while reading a stream, or `None` for other errors."""
    if isinstance(exc, httpx.HTTPError):
        error = _transport_error(provider, client, exc)
        if isinstance(error, ConnectionError):
            return ConnectionError(
                f"the connection to {client.base_url} broke mid-stream: {exc or type(exc).__name__}",
                provider=provider,
                hint="What arrived before the break is in error.partial_response; retry for the rest.",
            )
        return error
    return None


def _transport_error(provider: str, client: Client, exc: httpx.HTTPError) -> APIError:
    if isinstance(exc, httpx.TimeoutException):
        return TimeoutError(
            f"no answer from {client.base_url} within {client.timeout:g}s ({type(exc).__name__})",
            provider=provider,
            hint=f"Raise it with llm.client({provider!r}, timeout=...), or retry.",
        )
    return ConnectionError(
        f"could not reach {client.base_url}: {exc or type(exc).__name__}",
        provider=provider,
        hint="Check the network and base_url; the provider may also be down.",
    )


_STATUS_TYPES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionError,
    404: NotFoundError,
    408: TimeoutError,
    409: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_type_for_status(status: int) -> type[APIError]:
    """The error class an HTTP status maps to, before any provider-specific code."""
    found = _STATUS_TYPES.get(status)
    if found is not None:
        return found
    if status >= 500:
        return ServerError
    if status >= 400:
        return BadRequestError
    return APIError


class ErrorDetails:
    """What could be read from an error body, whatever shape it had."""

    __slots__ = ("body", "codes", "message")

    def __init__(self, message: str, codes: tuple[str, ...], body: object) -> None:
        self.message = message
        """The provider's message, or a description of the body when it had none."""
        self.codes = codes
        """Every machine-readable code found (`type`, `code`, `status`, `reason` values)."""
        self.body = body
        """The decoded JSON, or the text when it was not JSON."""


def _snippet(text: str, limit: int = 300) -> str:
    text = re.sub(r"<[^>]+>", " ", text) if "<" in text else text
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def parse_error_body(response: httpx.Response) -> ErrorDetails:
    """Read the message and codes from an error body: JSON of any common shape, text or HTML."""
    text = response.text
    try:
        body: object = json.loads(text)
    except ValueError:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        if not text.strip():
            return ErrorDetails(f"empty body ({kind})", (), text)
        return ErrorDetails(f"non-JSON body ({kind}): {_snippet(text)!r}", (), text)
    codes: list[str] = []
    message = _find_message(body, codes)
    if not message:
        message = _snippet(text)
    return ErrorDetails(message, tuple(codes), body)


def _find_message(body: object, codes: list[str]) -> str | None:
    # OpenAI: {"error": {"message", "type", "code"}}; Anthropic: {"type": "error", "error":
    # {"type", "message"}}; Google: {"error": {"code", "message", "status", "details": [{"reason"}]}};
    # many compatible servers: {"message"} or {"detail"}; some send a list of those.
    if isinstance(body, list):
        items = cast(list[object], body)
        return _find_message(items[0], codes) if items else None
    if not isinstance(body, dict):
        return str(body) if body is not None else None
    body_dict = cast(dict[str, object], body)
    for key in ("type", "code", "status", "reason"):
        value = body_dict.get(key)
        if isinstance(value, str) and value != "error":
            codes.append(value)
    details = body_dict.get("details")
    for detail in cast(list[object], details) if isinstance(details, list) else ():
        if isinstance(detail, dict):
            reason = cast(dict[str, object], detail).get("reason")
            if isinstance(reason, str):
                codes.append(reason)
    inner = body_dict.get("error")
    if isinstance(inner, dict | list):
        found = _find_message(cast(object, inner), codes)
        if found:
            return found
    elif isinstance(inner, str):
        return inner
    for key in ("message", "detail", "error_message"):
        value = body_dict.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_HINTS: dict[type[APIError], str] = {
    AuthenticationError: "Check the API key: {key_hint}.",
    PermissionError: "The key works but may not use this model or feature; check its project and access.",
    NotFoundError: "Check the model name after '{provider}:' and that your key can use it.",
    RateLimitError: "Wait and retry (retry_after says how long, when the provider told us).",
    ServerError: "The provider failed on its side; retry later.",
    BadRequestError: "The provider refused the request; its message above says what to change.",
    TimeoutError: "The provider timed out; retry, or raise the timeout with llm.client(...).",
}


class ErrorSource(Protocol):
    """What `error_from_response` needs to know of a provider."""

    @property
    def name(self) -> str:
        """The provider prefix."""
        ...

    @property
    def api_key_env(self) -> str | None:
        """The environment variable holding the key."""
        ...


def error_from_response(
    provider: ErrorSource,
    response: httpx.Response,
    *,
    codes: Mapping[str, type[APIError]] | None = None,
) -> APIError:
    """Build the `llm.APIError` subclass for a failed reply.

    Args:
        provider: The provider that was called.
        response: The failed response (status >= 400).
        codes: Provider error codes that override the status, e.g. Google's `API_KEY_INVALID`
            (sent with a 400) means `AuthenticationError`.
    """
    details = parse_error_body(response)
    headers = {name.lower(): value for name, value in response.headers.items()}
    return _build_error(provider, details, response.status_code, headers, codes)


def error_from_event(
    provider: ErrorSource,
    body: object,
    *,
    codes: Mapping[str, type[APIError]] | None = None,
) -> APIError:
    """Build the `llm.APIError` for an error sent inside a stream (an `error` event).

    The HTTP status was 200; a status inside the body (`code: 429`, say) picks the class.
    """
    codes_found: list[str] = []
    message = _find_message(body, codes_found) or str(body)[:300]
    status = _status_in(body)
    details = ErrorDetails(message, tuple(codes_found), body)
    return _build_error(provider, details, status, {}, codes)


def _status_in(body: object) -> int | None:
    if isinstance(body, dict):
        body_dict = cast(dict[str, object], body)
        for key in ("code", "status"):
            value = body_dict.get(key)
            if isinstance(value, int) and 400 <= value < 600:
                return value
        inner = body_dict.get("error")
        if inner is not None:
            return _status_in(inner)
    return None


def _build_error(
    provider: ErrorSource,
    details: ErrorDetails,
    status: int | None,
    headers: dict[str, str],
    codes: Mapping[str, type[APIError]] | None,
) -> APIError:
    error_type = error_type_for_status(status) if status is not None else APIError
    if codes:
        for code in details.codes:
            if code in codes:
                error_type = codes[code]
                break
    env_var = provider.api_key_env
    key_hint = (
        f"set {env_var} or pass api_key to llm.client({provider.name!r}, ...)"
        if env_var
        else f"pass api_key to llm.client({provider.name!r}, ...)"
    )
    hint = _HINTS.get(error_type, "").format(key_hint=key_hint, provider=provider.name) or None
    return error_type(
        details.message,
        provider=provider.name,
        status_code=status,
        body=details.body,
        headers=headers,
        retry_after=retry_after_seconds(headers),
        hint=hint,
    )
