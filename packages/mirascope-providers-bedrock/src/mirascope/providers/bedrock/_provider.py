"""The `bedrock:` provider: Amazon Bedrock's Converse API, signed here (SigV4) or with a Bedrock API key."""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mirascope import llm
from mirascope.llm.providers import Decoded, HTTPRequest, ParamHandling, Request

from . import decode, encode, errors
from .credentials import Credentials, region_of, resolve

if TYPE_CHECKING:
    import httpx

    from .eventstream import EventStreamFraming
    from .stream import ConverseStream

__all__ = ["BedrockProvider"]

BASE_URL_ENV = "BEDROCK_BASE_URL"
"""Replaces the endpoint root, as `OPENAI_BASE_URL` does for `openai:`."""

DEFAULT_SIGNING_REGION = "us-east-1"
"""The region signed for when a base URL is given and no region is (a proxy or a local server)."""

_OPTIONS = frozenset({"region", "profile", "access_key_id", "secret_access_key", "session_token"})


class BedrockProvider:
    """`bedrock:` — every model Bedrock hosts (Claude, Nova, Llama, Mistral, DeepSeek, ...), through Converse."""

    __slots__ = ("__weakref__", "_credentials")

    name = "bedrock"
    family = "bedrock"
    api_key_env = "AWS_BEARER_TOKEN_BEDROCK"
    """A Bedrock API key, sent as a bearer token; without one, requests are signed with AWS credentials."""
    api_key_env_fallbacks = ()
    api_key_required = False

    def __init__(self) -> None:
        # Each client's credentials, resolved once (environment, shared files, or botocore's
        # resolver): a call signs with them and never reads a file.
        self._credentials: weakref.WeakKeyDictionary[llm.Client, Credentials] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return "<mirascope provider 'bedrock'>"

    @property
    def parameters(self) -> Mapping[str, ParamHandling]:
        """How it takes each call parameter (`encode.PARAMETERS`)."""
        return encode.PARAMETERS

    def base_url(self, options: Mapping[str, object]) -> str:
        """`BEDROCK_BASE_URL`, else the region's endpoint, `https://bedrock-runtime.{region}.amazonaws.com`."""
        configured = os.environ.get(BASE_URL_ENV)
        if configured:
            return configured
        region = region_of(options)
        if region is None:
            raise llm.UsageError(
                "bedrock: no region. Set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's region), or pass "
                "llm.client('bedrock', region='us-east-1'); the region picks the endpoint."
            )
        return f"https://bedrock-runtime.{region}.amazonaws.com"

    def check_options(self, options: Mapping[str, object]) -> None:
        """Accept the AWS settings: `region`, `profile`, `access_key_id`, `secret_access_key`, `session_token`."""
        unknown = options.keys() - _OPTIONS
        if unknown:
            raise TypeError(
                f"llm.client('bedrock') does not take {', '.join(sorted(unknown))}; its settings are api_key (a "
                "Bedrock API key), base_url, timeout, max_retries, max_connections, headers, http_client, "
                "async_http_client, region, profile, access_key_id, secret_access_key, session_token."
            )
        for key in _OPTIONS:
            value = options.get(key)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{key} takes a str; got {type(value).__name__}.")
        if ("access_key_id" in options) != ("secret_access_key" in options) or (
            "session_token" in options and "access_key_id" not in options
        ):
            raise TypeError(
                "access_key_id and secret_access_key go together (and session_token only with them): pass both, "
                "or neither to use the AWS_* variables or a profile."
            )

    def headers(self, api_key: str | None, options: Mapping[str, object]) -> dict[str, str]:
        """JSON, and a Bedrock API key as a bearer token when there is one (else `sign` signs each request)."""
        headers = {"content-type": "application/json"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        return headers

    def prepare(self, request: Request, client: llm.Client) -> HTTPRequest:
        """`POST /model/{modelId}/converse` (or `/converse-stream`); refuses what the model cannot take."""
        body = encode.encode(request)
        action = "converse-stream" if request.stream else "converse"
        return HTTPRequest(url=f"{client.base_url}/model/{encode.model_path(request.model)}/{action}", body=body)

    def sign(self, url: str, content: bytes, client: llm.Client) -> dict[str, str]:
        """AWS Signature Version 4 headers for one attempt; none with a Bedrock API key."""
        if client.resolve_api_key():
            return {}
        from .sigv4 import sign  # with the first signed request

        credentials = self._credentials.get(client)
        if credentials is None:
            credentials = self._credentials[client] = resolve(client.options)
        region = region_of(client.options) or DEFAULT_SIGNING_REGION
        return sign(
            method="POST",
            url=url,
            headers=client.request_headers(),
            payload=content,
            credentials=credentials,
            region=region,
        )

    def decode(self, request: Request, body: Any) -> Decoded:
        """A Converse reply."""
        return decode.decode(request, body)

    def stream_decoder(self, request: Request) -> ConverseStream:
        """A decoder for one ConverseStream reply."""
        from .stream import ConverseStream

        return ConverseStream(request)

    def stream_framing(self, max_event_bytes: int) -> EventStreamFraming:
        """Bedrock streams are AWS binary event streams, not Server-Sent Events."""
        from .eventstream import EventStreamFraming

        return EventStreamFraming(max_event_bytes)

    def error(self, request: Request, response: httpx.Response) -> llm.APIError:
        """Bedrock's error shapes (`x-amzn-errortype`, `message`) as typed `llm.APIError`s."""
        return errors.error(self, request, response)
