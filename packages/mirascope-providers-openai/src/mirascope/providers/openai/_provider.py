"""The OpenAI providers: Responses, Chat Completions, and the compatible services."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mirascope.llm.providers import (
    Decoded,
    HTTPRequest,
    ParamHandling,
    Request,
    StreamDecoder,
    format_request,
    refuse_unsupported_media,
)

from .completions import decode as completions_decode
from .completions import encode as completions_encode
from .completions.stream import CompletionsStream
from .errors import CODES
from .responses import decode as responses_decode
from .responses import encode as responses_encode
from .services import OPENAI, Service

if TYPE_CHECKING:
    import httpx

    from mirascope import llm
    from mirascope.llm.providers.realtime import RealtimeSetup

    from .batches import OpenAIBatchAPI
    from .realtime import OpenAIRealtimeCodec

_OPENAI_OPTIONS = frozenset({"organization", "project"})
_BATCH_SERVICES = frozenset({"openai", "azure"})
"""The services with OpenAI's Batch API (`/files` + `/batches`) under their API root."""


class _OpenAIProtocol:
    """What every OpenAI-protocol provider shares: keys, base URLs, headers, errors."""

    known_options: frozenset[str] = frozenset()
    """The provider-specific `llm.client` settings it takes (OpenAI's own are `_OPENAI_OPTIONS`)."""

    def __init__(self, name: str, service: Service) -> None:
        self.name = name
        self.service = service
        self.family = service.name
        self.api_key_env = service.api_key_env
        self.api_key_required = service.api_key_required
        self.api_key_env_fallbacks: tuple[str, ...] = ()
        # `{PREFIX}_BASE_URL`, named after the service: the default client reads it on every call.
        self.base_url_env = f"{service.name.upper()}_BASE_URL"

    def __repr__(self) -> str:
        return f"<mirascope provider {self.name!r}>"

    def base_url(self, options: Mapping[str, object]) -> str:
        return os.environ.get(self.base_url_env) or self.service.base_url

    def check_options(self, options: Mapping[str, object]) -> None:
        known = _OPENAI_OPTIONS if self.service is OPENAI else self.known_options
        unknown = options.keys() - known
        if unknown:
            raise TypeError(
                f"llm.client({self.name!r}) does not take {', '.join(sorted(unknown))}; "
                f"its settings are api_key, base_url, timeout, max_retries, max_connections, headers, http_client, "
                "async_http_client" + (f", {', '.join(sorted(known))}" if known else "") + "."
            )

    def headers(self, api_key: str | None, options: Mapping[str, object]) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        organization = options.get("organization")
        if isinstance(organization, str):
            headers["openai-organization"] = organization
        project = options.get("project")
        if isinstance(project, str):
            headers["openai-project"] = project
        return headers

    def error(self, request: Request, response: httpx.Response) -> llm.APIError:
        from mirascope.llm.providers.http import error_from_response

        return error_from_response(self, response, codes=CODES)

    def root(self, base_url: str) -> str:
        """The URL under which `/responses` and `/chat/completions` live, for a client's base URL."""
        return api_root(base_url)


_api_roots: dict[str, str] = {}


def api_root(base_url: str) -> str:
    """The base URL under which `/responses` and `/chat/completions` live.

    A bare `http://host:port` gets `/v1`: every OpenAI-protocol server serves its API there, and
    nothing at the root, so the bare form can only mean that.
    """
    found = _api_roots.get(base_url)
    if found is None:
        found = _api_roots[base_url] = base_url + "/v1" if urlsplit(base_url).path in ("", "/") else base_url
    return found


class ResponsesProvider(_OpenAIProtocol):
    """`openai:` — OpenAI's Responses API."""

    @property
    def parameters(self) -> Mapping[str, ParamHandling]:
        """How it takes each call parameter."""
        return responses_encode.PARAMETERS

    def prepare(self, request: Request, client: llm.Client) -> HTTPRequest:
        refuse_unsupported_media(request)
        mode, strict, request = format_request(request, native=True, strict_tool=True)
        body = responses_encode.encode(request, format_mode=mode, strict=strict)
        return HTTPRequest(url=f"{self.root(client.base_url)}/responses", body=body)

    def decode(self, request: Request, body: Any) -> Decoded:
        return responses_decode.decode(request, body)

    def stream_decoder(self, request: Request) -> StreamDecoder:
        from .responses.stream import ResponsesStream

        return ResponsesStream(self, request)

    def realtime_codec(self, setup: RealtimeSetup, client: llm.Client) -> OpenAIRealtimeCodec:
        """A codec for one `llm.realtime` session on the Realtime API (`{root}/realtime`, GA protocol).

        Raises:
            FeatureNotSupportedError: A setting the Realtime API cannot take, before any connection.
        """
        from .realtime import realtime_codec  # loaded with the first session, not with the provider

        return realtime_codec(self, setup, client)

    def batch_api(self, client: llm.Client) -> OpenAIBatchAPI:
        """`llm.batch` jobs on the Batch API, each line a `/v1/responses` call."""
        from .batches import OpenAIBatchAPI  # loaded with the first batch, not with the provider

        return OpenAIBatchAPI(self, client, endpoint="/v1/responses")


class CompletionsProvider(_OpenAIProtocol):
    """`openai-completions:` and the OpenAI-compatible services — Chat Completions."""

    @property
    def parameters(self) -> Mapping[str, ParamHandling]:
        """How its service takes each call parameter."""
        return completions_encode.parameters(self.service)

    def prepare(self, request: Request, client: llm.Client) -> HTTPRequest:
        refuse_unsupported_media(request)
        mode, strict, request = format_request(request, native=True, strict_tool=True)
        body = completions_encode.encode(
            request, service=self.service, parameters=self.parameters, format_mode=mode, strict=strict
        )
        return HTTPRequest(url=f"{self.root(client.base_url)}/chat/completions", body=body)

    def decode(self, request: Request, body: Any) -> Decoded:
        return completions_decode.decode(request, body)

    def stream_decoder(self, request: Request) -> CompletionsStream:
        return CompletionsStream(self, request)

    def batch_api(self, client: llm.Client) -> OpenAIBatchAPI:
        """`llm.batch` jobs on the Batch API, each line a `/v1/chat/completions` call.

        Raises:
            FeatureNotSupportedError: An OpenAI-compatible service, which has no batch API here.
        """
        if self.service.name not in _BATCH_SERVICES:
            from mirascope.llm.exceptions import FeatureNotSupportedError

            # Core asks for `batch_api` only when the provider has one; this provider class also
            # serves the compatible services, so it refuses for them as core would.
            raise FeatureNotSupportedError(
                f"the {self.name!r} provider has no batch API in Mirascope; run the job as concurrent calls "
                'instead with mode="concurrent" (e.g. llm.batch(model, inputs, mode="concurrent")).',
                model=f"{self.name}:",
                feature="batch",
            )
        from .batches import OpenAIBatchAPI

        return OpenAIBatchAPI(self, client, endpoint="/v1/chat/completions")
