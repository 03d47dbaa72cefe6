"""Keeping API keys out of errors: what a provider echoes back is redacted before an error keeps it.

Some providers (and many proxies) write the key they were sent into their error message
(`Incorrect API key provided: sk-...`), or reflect request headers in their reply. An
`llm.APIError` keeps the provider's message, body and reply headers, and those end up in logs
and bug reports; so the credentials the request carried are found in it (the auth headers and a
`key=` query parameter) and replaced by `[redacted]` wherever they appear, and auth headers are
dropped from the kept reply headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import httpx

__all__ = ["REDACTED", "SECRET_HEADERS", "Redactor", "redactor"]

REDACTED = "[redacted]"
"""What a secret is replaced with."""

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key", "ocp-apim-subscription-key"}
)
"""Headers that carry credentials; never kept on an error."""

_SECRET_PARAMS = ("key", "api_key", "api-key", "access_token")
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
        return {name.lower(): self.text(value) for name, value in headers.items() if name.lower() not in SECRET_HEADERS}


def redactor(response: httpx.Response) -> Redactor:
    """The redactor for the credentials the request behind `response` carried."""
    try:
        request = response.request
    except RuntimeError:  # a response built by hand, with no request
        return Redactor(())
    found: set[str] = set()
    for name in SECRET_HEADERS:
        value = request.headers.get(name)
        if value:
            found.add(value)
            credential = value.partition(" ")[2].strip()  # `Bearer <token>`
            if credential:
                found.add(credential)
    params = request.url.params
    for name in _SECRET_PARAMS:
        value = params.get(name)
        if value:
            found.add(value)
    return Redactor(tuple(sorted((s for s in found if len(s) >= _MIN_LENGTH), key=len, reverse=True)))
