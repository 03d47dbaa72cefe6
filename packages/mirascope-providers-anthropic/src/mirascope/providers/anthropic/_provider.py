"""The `anthropic:` provider: Anthropic's Messages API."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from mirascope import llm
from mirascope.llm.providers import (
    Decoded,
    HTTPRequest,
    ParamHandling,
    Request,
    format_request,
    refusal,
    refuse_unsupported_media,
)

from . import decode, encode
from .capabilities import STRUCTURED_OUTPUTS_BETA, capabilities
from .errors import CODES
from .stream import MessagesStream

if TYPE_CHECKING:
    import httpx

    from .batches import AnthropicBatches

__all__ = ["AnthropicProvider"]

API_VERSION = "2023-06-01"
"""The `anthropic-version` header: the wire format this package speaks."""

_OPTIONS = frozenset({"betas"})


_BETA_HEADER = "anthropic-beta"


def _betas(options: Mapping[str, object]) -> str | None:
    betas = options.get("betas")
    if not betas:
        return None
    if isinstance(betas, str):
        return betas
    return ",".join(cast("Sequence[str]", betas))  # check_options made sure


def _uses_structured_outputs(body: Mapping[str, Any]) -> bool:
    """Whether a body uses what the structured-outputs beta brings: `output_format` or a strict tool.

    Read from the body as sent, so that `provider_params` asking for either get the beta too.
    """
    if body.get("output_format") is not None:
        return True
    tools: object = body.get("tools")
    return isinstance(tools, list) and any(
        isinstance(tool, dict) and cast("dict[str, Any]", tool).get("strict") is True
        for tool in cast("list[object]", tools)
    )


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

    @property
    def parameters(self) -> Mapping[str, ParamHandling]:
        """How it takes each call parameter (`encode.PARAMETERS`)."""
        return encode.PARAMETERS

    def base_url(self, options: Mapping[str, object]) -> str:
        """`ANTHROPIC_BASE_URL`, else the public API; without `/v1`, as Anthropic's SDKs take it."""
        return os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"

    def check_options(self, options: Mapping[str, object]) -> None:
        """Accept `betas`, a list of beta feature names sent in the `anthropic-beta` header."""
        unknown = options.keys() - _OPTIONS
        if unknown:
            raise TypeError(
                f"llm.client('anthropic') does not take {', '.join(sorted(unknown))}; its settings are api_key, "
                "base_url, timeout, max_retries, max_connections, headers, http_client, async_http_client, betas."
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
        refuse_unsupported_media(request)
        caps = capabilities(request.model)
        structured = caps.structured_outputs
        mode, strict, request = format_request(request, native=structured, strict_tool=structured)
        if not structured and (mode == "native" or strict or any(tool.strict for tool in request.tools)):
            raise refusal(
                request,
                "strict tools",
                "the model has no strict tools; use strict=False, or claude-sonnet-4-5 or newer",
            )
        body = encode.encode(request, format_mode=mode, strict=strict)
        base = client.base_url
        url = f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"
        # The betas the client sends already: its `betas`, and an `anthropic-beta` of its own headers.
        header = next((name for name in client.headers if name.lower() == _BETA_HEADER), _BETA_HEADER)
        names = [
            name.strip()
            for given in (_betas(client.options), client.headers.get(header))
            if given
            for name in given.split(",")
            if name.strip()
        ]
        headers = None
        if _uses_structured_outputs(body) and STRUCTURED_OUTPUTS_BETA not in names:
            names.append(STRUCTURED_OUTPUTS_BETA)
            headers = {header: ",".join(dict.fromkeys(names))}
        if names:
            url += "?beta=true"  # as Anthropic's SDKs mark a request using beta features
        return HTTPRequest(url=url, body=body, headers=headers)

    def stream_decoder(self, request: Request) -> MessagesStream:
        """A decoder for one streamed reply (`"stream": true` in the body)."""
        return MessagesStream(self, request)

    def decode(self, request: Request, body: Any) -> Decoded:
        """The assistant message, finish reason and usage of a reply."""
        return decode.decode(request, body)

    def batch_api(self, client: llm.Client) -> AnthropicBatches:
        """The Message Batches API (`/v1/messages/batches`) through `client`, for `llm.batch` jobs."""
        from .batches import AnthropicBatches

        return AnthropicBatches(self, client)

    def error(self, request: Request, response: httpx.Response) -> llm.APIError:
        """The `llm.APIError` for a failed reply, typed by Anthropic's `error.type`."""
        from mirascope.llm.providers.http import error_from_response

        return error_from_response(self, response, codes=CODES)
