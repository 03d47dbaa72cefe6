"""Keeping credentials out of errors, reprs and logs.

Some providers (and many proxies) write the key they were sent into their error message
(`Incorrect API key provided: sk-...`), or reflect request headers in their reply. An
`llm.APIError` keeps the provider's message, body and reply headers, and those end up in logs
and bug reports; so the credentials the request carried are found in it (the auth headers, a
header whose name says it holds a key or token, a `key=` query parameter, a password in the URL)
and replaced by `[redacted]` wherever they appear, and auth headers are dropped from the kept
reply headers. The same goes for:

- an error sent inside a stream, the stream's events kept on its `partial_response`, and the
  events of a failed decode (`scrub`, done by core where it catches them);
- the exceptions chained to an error (`__cause__`, `__context__`): httpx's keep the request,
  and with it its headers, so that reference is dropped, and their text redacted;
- log records of httpx and httpcore (httpcore logs every reply's headers at DEBUG, and httpx the
  URL, password included, at INFO): a filter on their loggers redacts each secret this process
  has sent (`remember`), and costs nothing while those levels are off;
- a URL shown in an error message or a client's repr (`shown_url`), its password masked.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from .exceptions import APIError

if TYPE_CHECKING:
    import logging

    import httpx

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "Redactor",
    "known",
    "redactor",
    "remember",
    "remember_headers",
    "request_redactor",
    "scrub",
    "shown_url",
]

REDACTED = "[redacted]"
"""What a secret is replaced with."""

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key", "ocp-apim-subscription-key"}
)
"""Headers that carry credentials; never kept on an error."""

_SECRET_PARAMS = frozenset({"key", "api_key", "api-key", "apikey", "access_token", "token", "sig", "signature"})
# A request header whose name says it carries a credential, beyond the known ones: a proxy's
# key (`helicone-auth`, `x-portkey-api-key`), a cookie, a token.
_SECRET_NAME = re.compile(r"auth|key|token|secret|password|cookie|credential|signature", re.IGNORECASE)
# Shorter values are too likely to be ordinary words to be replaced wherever they appear.
_MIN_LENGTH = 8


class Redactor:
    """Replaces a request's credentials in text, JSON data and headers."""

    __slots__ = ("secrets",)

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.secrets = secrets
        """The values to replace, longest first (`Bearer sk-...` before `sk-...`)."""

    def text(self, text: str) -> str:
        """`text` with each secret replaced."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def data(self, value: object) -> Any:
        """JSON data (or text) with each secret replaced in every string."""
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            items = cast(dict[object, object], value).items()
            return {self.data(k): self.data(v) for k, v in items}
        if isinstance(value, list):
            return [self.data(item) for item in cast(list[object], value)]
        return value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Reply headers, names lowercased, without auth headers and with secrets replaced."""
        return {
            name.lower(): self.text(value)
            for name, value in headers.items()
            if name.lower() not in SECRET_HEADERS and name.lower() != "set-cookie"
        }


def _ordered(found: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({s for s in found if len(s) >= _MIN_LENGTH}, key=len, reverse=True))


def _header_secrets(headers: Iterable[tuple[str, str]]) -> set[str]:
    found: set[str] = set()
    for name, value in headers:
        if value and (name.lower() in SECRET_HEADERS or _SECRET_NAME.search(name)):
            found.add(value)
            scheme, _, credential = value.partition(" ")  # `Bearer <token>`, `Basic <base64>`
            if credential.strip():
                found.add(credential.strip())
            if scheme.lower() == "basic":
                found.update(_basic_parts(credential.strip()))
    return found


def _basic_parts(credential: str) -> tuple[str, ...]:
    import base64
    import binascii

    try:
        user, _, password = base64.b64decode(credential, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ()
    return (password, f"{user}:{password}") if password else ()


def _url_secrets(url: str) -> set[str]:
    """The password of a URL's user info, and its credential-like query parameters."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # a malformed port, say: such a URL cannot have been sent
        return set()
    found: set[str] = {password} if password else set()
    found.update(value for name, value in parse_qsl(parts.query) if name.lower() in _SECRET_PARAMS)
    return found


def request_redactor(request: httpx.Request) -> Redactor:
    """The redactor for the credentials `request` carried, and those of every client so far."""
    found = _header_secrets(request.headers.items())
    found.update(_url_secrets(str(request.url)))
    if found:
        remember(found)  # one a user's own httpx client added: its logs are redacted from now on
    return known()


def redactor(response: httpx.Response) -> Redactor:
    """The redactor for the credentials the request behind `response` carried."""
    try:
        request = response.request
    except RuntimeError:  # a response built by hand, with no request
        return known()
    return request_redactor(request)


# Every secret this process has sent, longest first: what the log filter and errors with no
# request at hand are redacted of. Replaced whole (never changed in place) under the lock, so a
# reader in another thread always sees a consistent tuple.
_known: tuple[str, ...] = ()
_known_redactor = Redactor(())
_lock = threading.Lock()
_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "hpack.hpack",
    "hpack.table",
    "mirascope",
    # The MCP SDK's HTTP client (`llm.mcp`), a fork of httpx and httpcore, and its transports,
    # which log the server's URL.
    "httpx2",
    "httpcore2.connection",
    "httpcore2.http11",
    "httpcore2.http2",
    "httpcore2.proxy",
    "httpcore2.socks",
    "mcp.client.streamable_http",
    "mcp.client.sse",
    # `llm.realtime`'s WebSocket client, which logs the handshake's headers at DEBUG.
    "websockets.client",
)
"""The loggers that may print a secret: httpx (URLs), httpcore and hpack (reply headers), their
MCP SDK counterparts, and the WebSocket client."""


def remember(secrets: Iterable[str]) -> None:
    """Add secrets this process sends to those every log record and error is redacted of."""
    global _known, _known_redactor
    fresh = {s for s in secrets if len(s) >= _MIN_LENGTH}.difference(_known)
    if not fresh:
        return
    with _lock:
        first = not _known
        _known = _ordered((*_known, *fresh))
        _known_redactor = Redactor(_known)
        if first:
            import logging  # only once a secret is known: `from mirascope import llm` stays light

            for name in _LOGGERS:
                logging.getLogger(name).addFilter(_log_filter)


def remember_headers(headers: Mapping[str, str], url: str | None = None) -> None:
    """`remember` the credentials among request headers (and in a URL)."""
    found = _header_secrets(headers.items())
    if url is not None:
        found.update(_url_secrets(url))
    if found:
        remember(found)


def known() -> Redactor:
    """The redactor of every secret this process has sent."""
    return _known_redactor


class _LogFilter:
    """Redacts known secrets from a record's message; a logger runs it only for records it emits.

    Any object with `filter(record)` serves as a logging filter, so this need not subclass
    `logging.Filter`, nor load `logging` before a secret is known.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _known
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: left to logging to report
            return True
        if any(secret in message for secret in secrets):
            record.msg = _known_redactor.text(message)
            record.args = None
        return True


_log_filter = _LogFilter()


def shown_url(url: str) -> str:
    """`url` as it may be shown in a message or repr: a password masked, credential parameters too."""
    if "@" not in url and "=" not in url:
        return url  # nearly every base URL: nothing to mask
    secrets = _url_secrets(url)
    if not secrets:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", f":{REDACTED}@", 1)
    return Redactor(_ordered(secrets)).text(urlunsplit(parts._replace(netloc=netloc)))


def scrub(error: BaseException, redact: Redactor) -> None:
    """Take the credentials out of `error` and every exception chained to it, in place.

    An httpx exception's reference to its request (and so to the auth headers it carried) is
    dropped; every string argument and attribute is redacted, and an `llm.APIError`'s body and
    headers too. For errors only: this walks whatever the exceptions hold.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        exc = pending.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        attributes: dict[str, object] = getattr(exc, "__dict__", {})
        if "_request" in attributes:  # httpx's exceptions: `exc.request` then says it is not set
            attributes["_request"] = None
        if redact.secrets:
            exc.args = tuple(redact.text(arg) if isinstance(arg, str) else arg for arg in exc.args)
            for name, value in list(attributes.items()):
                if isinstance(value, str):
                    attributes[name] = redact.text(value)
            if isinstance(exc, APIError):
                exc.body = redact.data(exc.body)
                exc.headers = redact.headers(exc.headers)
        pending.extend(linked for linked in (exc.__cause__, exc.__context__) if linked is not None)
