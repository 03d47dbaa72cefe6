"""Sending over httpx, and turning failures into `llm.APIError` subclasses.

Shared by every provider package; imports httpx, so core loads it only when a call is made.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

import httpx

from .. import _retries
from .._json import MAX_JSON_DEPTH, JSONTooDeep, parse_json, too_deep
from .._redact import known, redactor, remember_headers, request_redactor, scrub, shown_url
from .._retries import Attempts, is_retryable
from ..exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConnectionError,
    NotFoundError,
    PermissionError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
    TimeoutError,
)
from .sse import LimitExceeded

if TYPE_CHECKING:
    from ..clients import Client
    from ..exceptions import TimeoutPhase
    from . import HTTPRequest, Provider, Request

__all__ = [
    "Attempts",
    "ErrorDetails",
    "ErrorSource",
    "error_from_event",
    "error_from_response",
    "error_type_for_status",
    "is_retryable",
    "open_stream",
    "open_stream_async",
    "parse_error_body",
    "post_json",
    "post_json_async",
    "retry_after_seconds",
    "stream_transport_error",
    "transport_error",
]

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _signed(
    provider: Provider, client: Client, url: str, content: bytes, headers: dict[str, str] | None
) -> dict[str, str] | None:
    """`headers` with the provider's signature for this attempt, when it signs its requests.

    A provider that authenticates by signing each request (AWS Signature Version 4 on
    `bedrock:`) defines `sign(url, content, client) -> headers`: it sees the exact bytes sent,
    and is asked again for each attempt, so that a retry after a wait carries a fresh signature.
    A signature is good for one request only, so it is not added to the secrets logs and errors
    are redacted of (that list would grow with every call); the provider remembers its lasting
    credentials (a session token) itself.
    """
    sign = getattr(provider, "sign", None)
    if sign is None:
        return headers
    signature: Mapping[str, str] = sign(url, content, client)
    return {**(headers or {}), **signature}


def _headers(http_request: HTTPRequest, client_headers: dict[str, str] | None) -> dict[str, str] | None:
    if http_request.headers:
        # A credential made for this request only (a Vertex AI access token) is redacted from
        # logs and errors as the client's own are.
        remember_headers(http_request.headers)
        return {**(client_headers or {}), **http_request.headers}
    return client_headers


def _json(provider: Provider, response: httpx.Response, attempts: Attempts) -> Any:
    try:
        return parse_json(response.content)
    except ValueError as exc:
        redact = redactor(response)
        text = redact.text(response.text)
        kind = _TOO_DEEP if isinstance(exc, JSONTooDeep) else "a body that is not JSON"
        error = APIError(
            f"answered {response.status_code} with {kind} "
            f"({response.headers.get('content-type', 'no content type')}): "
            f"{_snippet(text)!r}",
            provider=provider.name,
            status_code=response.status_code,
            body=text,
            headers=redact.headers(response.headers),
            hint="Check base_url: it should point at the provider's API, not a web page or proxy.",
        )
        error.attempts = attempts.count
        raise error from None


def _request_timeout(attempts: Attempts):  # the return type is inferred: httpx does not export it
    """The client's own timeouts, or with a `total`, each phase cut to the time left."""
    deadline = attempts.deadline
    if deadline is None:
        return httpx.USE_CLIENT_DEFAULT
    left = max(deadline - time.monotonic(), 0.001)
    t = attempts.timeout
    return httpx.Timeout(
        connect=left if t.connect is None else min(t.connect, left),
        read=left if t.read is None else min(t.read, left),
        write=left if t.write is None else min(t.write, left),
        pool=left if t.pool is None else min(t.pool, left),
    )


def attempts_for(client: Client, retries: int | None = None) -> Attempts:
    """A call's attempts: `retries` (the call's setting) or the client's `max_retries`, and its timeouts."""
    return Attempts(client.max_retries if retries is None else retries, client.timeout)


def post_json(
    provider: Provider, client: Client, request: Request, http_request: HTTPRequest, attempts: Attempts | None = None
) -> Any:
    """POST the JSON body and return the decoded JSON reply, or raise the mapped error.

    A retryable failure (see `is_retryable`) is sent again after a wait, up to the attempts'
    `max_retries`; the error finally raised carries `attempts`.
    """
    http, client_headers = client.sync_http()
    content = _dumps(http_request.body).encode()
    headers = _headers(http_request, client_headers)
    if attempts is None:
        attempts = attempts_for(client)
    while True:
        attempts.count += 1
        sent = http.build_request(
            "POST",
            http_request.url,
            content=content,
            headers=_signed(provider, client, http_request.url, content, headers),
            timeout=_request_timeout(attempts),
        )
        try:
            response = http.send(sent, stream=True)
            read_body(provider.name, client, response, attempts)
        except httpx.HTTPError as exc:
            error: APIError = transport_error(provider.name, client, exc, attempts.deadline)
        except APIError as exc:  # too large, or past the total timeout: final
            exc.attempts = attempts.count
            raise
        else:
            if response.status_code < 400:
                return _json(provider, response, attempts)
            error = provider.error(request, response)
        wait = attempts.wait(error)
        if wait is None:
            raise error from error.__cause__
        _retries.sleep(wait)


async def post_json_async(
    provider: Provider, client: Client, request: Request, http_request: HTTPRequest, attempts: Attempts | None = None
) -> Any:
    """The async form of `post_json`."""
    http, client_headers = client.async_http()
    content = _dumps(http_request.body).encode()
    headers = _headers(http_request, client_headers)
    if attempts is None:
        attempts = attempts_for(client)
    while True:
        attempts.count += 1
        sent = http.build_request(
            "POST",
            http_request.url,
            content=content,
            headers=_signed(provider, client, http_request.url, content, headers),
            timeout=_request_timeout(attempts),
        )
        try:
            response = await http.send(sent, stream=True)
            await aread_body(provider.name, client, response, attempts)
        except httpx.HTTPError as exc:
            error: APIError = transport_error(provider.name, client, exc, attempts.deadline)
        except APIError as exc:  # too large, or past the total timeout: final
            exc.attempts = attempts.count
            raise
        else:
            if response.status_code < 400:
                return _json(provider, response, attempts)
            error = provider.error(request, response)
        wait = attempts.wait(error)
        if wait is None:
            raise error from error.__cause__
        await _retries.asleep(wait)


def open_stream(
    provider: Provider, client: Client, request: Request, http_request: HTTPRequest, attempts: Attempts | None = None
) -> httpx.Response:
    """POST the JSON body and return the open streaming response, or raise the mapped error.

    Retried as `post_json` is. The body of a failed reply is read whole (it is the error's
    JSON, whatever its content type says) so the error carries the provider's message.
    """
    http, client_headers = client.sync_http()
    content = _dumps(http_request.body).encode()
    headers = _headers(http_request, client_headers)
    if attempts is None:
        attempts = attempts_for(client)
    while True:
        attempts.count += 1
        sent = http.build_request(
            "POST",
            http_request.url,
            content=content,
            headers=_signed(provider, client, http_request.url, content, headers),
            timeout=_request_timeout(attempts),
        )
        try:
            response = http.send(sent, stream=True)
            if response.status_code < 400:
                return response
            read_body(provider.name, client, response, attempts)
        except httpx.HTTPError as exc:
            error: APIError = transport_error(provider.name, client, exc, attempts.deadline)
        except APIError as exc:  # too large, or past the total timeout: final
            exc.attempts = attempts.count
            raise
        else:
            error = provider.error(request, response)
        wait = attempts.wait(error)
        if wait is None:
            raise error from error.__cause__
        _retries.sleep(wait)


async def open_stream_async(
    provider: Provider, client: Client, request: Request, http_request: HTTPRequest, attempts: Attempts | None = None
) -> httpx.Response:
    """The async form of `open_stream`."""
    http, client_headers = client.async_http()
    content = _dumps(http_request.body).encode()
    headers = _headers(http_request, client_headers)
    if attempts is None:
        attempts = attempts_for(client)
    while True:
        attempts.count += 1
        sent = http.build_request(
            "POST",
            http_request.url,
            content=content,
            headers=_signed(provider, client, http_request.url, content, headers),
            timeout=_request_timeout(attempts),
        )
        try:
            response = await http.send(sent, stream=True)
            if response.status_code < 400:
                return response
            await aread_body(provider.name, client, response, attempts)
        except httpx.HTTPError as exc:
            error: APIError = transport_error(provider.name, client, exc, attempts.deadline)
        except APIError as exc:  # too large, or past the total timeout: final
            exc.attempts = attempts.count
            raise
        else:
            error = provider.error(request, response)
        wait = attempts.wait(error)
        if wait is None:
            raise error from error.__cause__
        await _retries.asleep(wait)


def read_body(provider: str, client: Client, response: httpx.Response, attempts: Attempts) -> bytes:
    """Read a reply's whole body (decoded), as `response.read()` does, but bounded.

    Counted as it arrives: past the client's `max_body_bytes` it stops with
    `llm.ResponseTooLargeError`, and past the call's `total` deadline with `llm.TimeoutError`
    (each wait for more is cut to the time left when the attempt began), so a body that
    trickles in forever ends too. The response is closed either way.
    """
    limit = client.max_body_bytes
    deadline = attempts.deadline
    parts: list[bytes] = []
    size = 0
    try:
        for part in response.iter_bytes():
            size += len(part)
            if size > limit:
                raise too_large_error(provider, client, "max_body_bytes", response.status_code)
            parts.append(part)
            if deadline is not None and time.monotonic() > deadline:
                raise total_timeout_error(provider, client)
    finally:
        response.close()
    # Kept where `read()` keeps it, so `response.content` and `.text` work as after a read.
    body = response._content = b"".join(parts)  # pyright: ignore[reportPrivateUsage]
    return body


async def aread_body(provider: str, client: Client, response: httpx.Response, attempts: Attempts) -> bytes:
    """The async form of `read_body`."""
    limit = client.max_body_bytes
    deadline = attempts.deadline
    parts: list[bytes] = []
    size = 0
    try:
        async for part in response.aiter_bytes():
            size += len(part)
            if size > limit:
                raise too_large_error(provider, client, "max_body_bytes", response.status_code)
            parts.append(part)
            if deadline is not None and time.monotonic() > deadline:
                raise total_timeout_error(provider, client)
    finally:
        await response.aclose()
    body = response._content = b"".join(parts)  # pyright: ignore[reportPrivateUsage]
    return body


def too_large_error(
    provider: str, client: Client, limit: Literal["max_body_bytes", "max_event_bytes"], status_code: int | None = None
) -> ResponseTooLargeError:
    """The error for a reply (`max_body_bytes`) or stream event (`max_event_bytes`) past the client's limit."""
    max_bytes: int = getattr(client, limit)
    what = "the reply's body" if limit == "max_body_bytes" else "an event of the stream"
    return ResponseTooLargeError(
        f"{what} from {shown_url(client.base_url)} is larger than {limit} ({_byte_size(max_bytes)}); "
        "reading stopped there",
        provider=provider,
        limit=limit,
        max_bytes=max_bytes,
        status_code=status_code,
        hint=f"If replies this large are expected, raise it: llm.client({provider!r}, {limit}=...). "
        "Otherwise check base_url: no provider's reply should be this large.",
    )


def _byte_size(count: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count} bytes"


def stream_transport_error(
    provider: str, client: Client, exc: Exception, deadline: float | None = None
) -> APIError | None:
    """The `llm.APIError` for a failure while reading a stream, or `None` for errors of other kinds.

    The failures: the network's, and an event past the client's `max_event_bytes`. `deadline`
    is the call's (`Attempts.deadline`): a timeout reaching it is the `total` one.
    """
    if isinstance(exc, LimitExceeded):
        return too_large_error(provider, client, "max_event_bytes")
    if isinstance(exc, httpx.HTTPError):
        error = transport_error(provider, client, exc, deadline)
        if isinstance(error, ConnectionError):
            error = ConnectionError(
                f"the connection to {shown_url(client.base_url)} broke mid-stream: {str(exc) or type(exc).__name__}",
                provider=provider,
                hint="What arrived before the break is in error.partial_response; retry for the rest.",
            )
            error.__cause__ = exc
        return error
    return None


def total_timeout_error(provider: str, client: Client) -> TimeoutError:
    """The error for a call that ran past its `total` timeout between network waits."""
    return _timeout_error(provider, client, "total", client.timeout.total, None)


_PHASES: dict[type[httpx.TimeoutException], TimeoutPhase] = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}

_TIMEOUT_TEXT: dict[TimeoutPhase, str] = {
    "connect": "could not connect to {url} within the connect timeout{seconds}",
    "read": "{url} sent nothing within the read timeout{seconds}",
    "write": "could not send the request to {url} within the write timeout{seconds}",
    "pool": "no connection to {url} came free within the pool timeout{seconds}; "
    "raise max_connections on llm.client, or make fewer calls at once",
    "total": "the call to {url} ran past its total timeout{seconds}",
}


def _timeout_error(
    provider: str, client: Client, phase: TimeoutPhase, seconds: float | None, exc: httpx.HTTPError | None
) -> TimeoutError:
    text = _TIMEOUT_TEXT[phase].format(
        url=shown_url(client.base_url), seconds="" if seconds is None else f" ({seconds:g}s)"
    )
    if exc is not None:
        text = f"{text} ({type(exc).__name__})"
    error = TimeoutError(
        text,
        provider=provider,
        phase=phase,
        hint=f"Raise it with llm.client({provider!r}, timeout=llm.Timeout({phase}=...)), or retry.",
    )
    error.__cause__ = exc
    return error


def _phase_seconds(exc: httpx.HTTPError, phase: TimeoutPhase) -> float | None:
    # The timeouts the request was actually sent with: the client's, or those cut to a total.
    try:
        timeouts = cast(dict[str, float | None], exc.request.extensions.get("timeout") or {})
    except RuntimeError:  # no request attached
        return None
    return timeouts.get(phase)


def transport_error(provider: str, client: Client, exc: httpx.HTTPError, deadline: float | None = None) -> APIError:
    """The `llm.APIError` for a network failure, chained to `exc` with its credentials taken out.

    An httpx exception keeps its request, auth headers and all: `scrub` drops it, and redacts
    the exceptions' text (a URL with a password in it, say).
    """
    try:
        redact = request_redactor(exc.request)
    except RuntimeError:  # no request attached
        redact = known()
    error = _mapped_transport_error(provider, client, exc, deadline)
    scrub(error, redact)
    return error


def _mapped_transport_error(
    provider: str, client: Client, exc: httpx.HTTPError, deadline: float | None = None
) -> APIError:
    if isinstance(exc, httpx.TimeoutException):
        # A total timeout cuts each network wait to the time left: a wait ending at the deadline
        # ran out the total, not its own phase.
        if deadline is not None and time.monotonic() >= deadline - 0.01:
            return _timeout_error(provider, client, "total", client.timeout.total, exc)
        phase = _PHASES.get(type(exc), "read")
        return _timeout_error(provider, client, phase, _phase_seconds(exc, phase), exc)
    if isinstance(exc, httpx.DecodingError):
        error = APIError(
            f"the reply from {shown_url(client.base_url)} could not be decoded: {exc}",
            provider=provider,
            hint="Its body did not match its content-encoding (often a proxy's doing); check base_url.",
        )
    elif isinstance(exc, httpx.ConnectError | httpx.UnsupportedProtocol):
        error = ConnectionError(
            f"could not reach {shown_url(client.base_url)}: {str(exc) or type(exc).__name__}",
            provider=provider,
            hint="Check the network and base_url; the provider may also be down.",
        )
    else:
        error = ConnectionError(
            f"the connection to {shown_url(client.base_url)} broke: {str(exc) or type(exc).__name__}",
            provider=provider,
            hint="The provider or a proxy dropped it; retry.",
        )
    error.__cause__ = exc
    return error


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


_TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels, which no real reply is"


def _snippet(text: str, limit: int = 300) -> str:
    text = re.sub(r"<[^>]+>", " ", text) if "<" in text else text
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def parse_error_body(response: httpx.Response) -> ErrorDetails:
    """Read the message and codes from an error body: JSON of any common shape, text or HTML."""
    text = response.text
    try:
        body: object = parse_json(text)
    except ValueError as exc:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        if not text.strip():
            return ErrorDetails(f"empty body ({kind})", (), text)
        what = _TOO_DEEP if isinstance(exc, JSONTooDeep) else "non-JSON body"
        return ErrorDetails(f"{what} ({kind}): {_snippet(text)!r}", (), text)
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
    """Seconds to wait, as the provider's headers say (names lowercased).

    `retry-after-ms`, else `Retry-After` (seconds or an HTTP date), else the reset time of each
    exhausted rate limit (a `...ratelimit...reset...` header whose `...remaining...` twin is 0):
    OpenAI's `x-ratelimit-reset-requests: 6m0s`, Anthropic's
    `anthropic-ratelimit-tokens-reset: 2025-01-01T00:00:30Z`, and the like; the latest one wins.
    """
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        found = _seconds_until(value)
        if found is not None:
            return found
    latest: float | None = None
    for name, reset in headers.items():
        if "ratelimit" not in name or "reset" not in name:
            continue
        remaining = headers.get(name.replace("reset", "remaining"))
        if remaining is None or remaining.strip() not in ("0", "0.0"):
            continue
        found = _seconds_until(reset)
        if found is not None and (latest is None or found > latest):
            latest = found
    return latest


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?")


def _seconds_until(value: str) -> float | None:
    """Seconds from a wait or a time: `7`, `1.5`, `6m0s`, `20ms`, an RFC 3339 time, an HTTP date."""
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # A number that large is a Unix time to wait until, not a wait.
        return max(0.0, seconds - time.time()) if seconds > 1e9 else max(0.0, seconds)
    match = _DURATION.fullmatch(value)
    if match and any(match.groups()):
        hours, minutes, secs, millis = (float(group) if group else 0.0 for group in match.groups())
        return hours * 3600 + minutes * 60 + secs + millis / 1000
    from datetime import datetime

    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _retry_delay_in(body: object) -> float | None:
    # Google sends the wait in the body: {"error": {"details": [{"@type": ".../google.rpc.RetryInfo",
    # "retryDelay": "37s"}]}}.
    if not isinstance(body, dict):
        return None
    error = cast(dict[str, object], body).get("error")
    details = cast(dict[str, object], error).get("details") if isinstance(error, dict) else None
    for detail in cast(list[object], details) if isinstance(details, list) else ():
        if isinstance(detail, dict):
            delay = cast(dict[str, object], detail).get("retryDelay")
            if isinstance(delay, str):
                return _seconds_until(delay)
    return None


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
    # A key the provider echoes back (or a proxy reflects in its headers) is not kept.
    redact = redactor(response)
    details.message = redact.text(details.message)
    details.body = redact.data(details.body)
    return _build_error(provider, details, response.status_code, redact.headers(response.headers), codes)


def error_from_event(
    provider: ErrorSource,
    body: object,
    *,
    codes: Mapping[str, type[APIError]] | None = None,
) -> APIError:
    """Build the `llm.APIError` for an error sent inside a stream (an `error` event).

    The HTTP status was 200; a status inside the body (`code: 429`, say) picks the class.
    """
    if too_deep(body):  # read by recursion below; the event's text stays on the stream's error
        return _build_error(provider, ErrorDetails(f"an error event in {_TOO_DEEP}", (), None), None, {}, codes)
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
    retry_after = retry_after_seconds(headers)
    if retry_after is None:
        retry_after = _retry_delay_in(details.body)
    return error_type(
        details.message,
        provider=provider.name,
        status_code=status,
        body=details.body,
        headers=headers,
        retry_after=retry_after,
        hint=hint,
    )
