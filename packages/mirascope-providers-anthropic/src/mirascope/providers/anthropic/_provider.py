"""The `anthropic:` provider: Anthropic's Messages API."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from mirascope.llm.providers import Decoded, HTTPRequest, Request, refuse_unsupported

from . import decode, encode
from .errors import CODES
from .stream import MessagesStream

if TYPE_CHECKING:
    import httpx

    from mirascope import llm

__all__ = ["AnthropicProvider"]

API_VERSION = "2023-06-01"
"""The `anthropic-version` header: the wire format this package speaks."""

_OPTIONS = frozenset({"betas"})


def _betas(options: Mapping[str, object]) -> str | None:
    betas = options.get("betas")
    if not betas:
        return None
    if isinstance(betas, str):
        return betas
    return ",".join(cast("Sequence[str]", betas))  # check_options made sure


class AnthropicProvider:
    """`anthropic:` — Claude models through the Messages API (`/v1/messages`)."""

    __slots__ = ()

    name = "anthropic"
    family = "anthropic"
    api_key_env = "ANTHROPIC_API_KEY"
    api_key_env_fallbacks = ()
    api_key_required = True

    def __repr__(self) -> str:
        return "<mirascope provider 'anthropic'>"

    def base_url(self, options: Mapping[str, object]) -> str:
        """`ANTHROPIC_BASE_URL`, else the public API; without `/v1`, as Anthropic's SDKs take it."""
        return os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"

    def check_options(self, options: Mapping[str, object]) -> None:
        """Accept `betas`, a list of beta feature names sent in the `anthropic-beta` header."""
        unknown = options.keys() - _OPTIONS
        if unknown:
            raise TypeError(
                f"llm.client('anthropic') does not take {', '.join(sorted(unknown))}; its settings "
                "are api_key, base_url, timeout, headers, http_client, async_http_client, betas."
            )
        betas = options.get("betas")
        if betas is None or isinstance(betas, str):
            return
        if not isinstance(betas, Sequence) or not all(isinstance(b, str) for b in cast("Sequence[object]", betas)):
            raise TypeError(f"betas takes a list of beta names, e.g. betas=['files-api-2025-04-14']; got {betas!r}.")

    def headers(self, api_key: str | None, options: Mapping[str, object]) -> dict[str, str]:
        """The key, the API version, and the beta features asked for."""
        headers = {"anthropic-version": API_VERSION, "content-type": "application/json"}
        if api_key:
            headers["x-api-key"] = api_key
        betas = _betas(options)
        if betas:
            headers["anthropic-beta"] = betas
        return headers

    def prepare(self, request: Request, client: llm.Client) -> HTTPRequest:
        """The `/v1/messages` request; refuses parts and parameters the model cannot take."""
        refuse_unsupported(request, stream=True, tools=True, format=False)
        base = client.base_url
        url = f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"
        if client.options.get("betas"):
            url += "?beta=true"  # as Anthropic's SDKs mark a request using beta features
        return HTTPRequest(url=url, body=encode.encode(request))

    def stream_decoder(self, request: Request) -> MessagesStream:
        """A decoder for one streamed reply (`"stream": true` in the body)."""
        return MessagesStream(self, request)

    def decode(self, request: Request, body: Any) -> Decoded:
        """The assistant message, finish reason and usage of a reply."""
        return decode.decode(request, body)

    def error(self, request: Request, response: httpx.Response) -> llm.APIError:
        """The `llm.APIError` for a failed reply, typed by Anthropic's `error.type`."""
        from mirascope.llm.providers.http import error_from_response

        return error_from_response(self, response, codes=CODES)
