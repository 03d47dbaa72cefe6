"""The `google:` provider: the Gemini API, or Vertex AI with `vertexai=True`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mirascope.llm.providers import (
    Decoded,
    HTTPRequest,
    ParamHandling,
    Request,
    StreamDecoder,
    format_request,
    refuse_unsupported_media,
)

from . import vertex
from .capabilities import base_name
from .decode import decode
from .encode import PARAMETERS, encode
from .errors import CODES
from .stream import GoogleStream

if TYPE_CHECKING:
    import httpx

    from mirascope import llm
    from mirascope.llm.providers.realtime import RealtimeCodec, RealtimeSetup

    from .batches import GeminiBatchAPI

__all__ = ["GoogleProvider"]

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com"

_OPTIONS: dict[str, type] = {
    "api_version": str,
    "credentials": object,
    "location": str,
    "project": str,
    "vertexai": bool,
}
_SETTINGS = "api_key, base_url, timeout, max_retries, max_connections, headers, http_client, async_http_client"
# A base URL that already names a version (a proxy, a pinned endpoint) gets no second one.
_VERSIONS = ("/v1", "/v1beta", "/v1alpha", "/v1beta1")
_JSON = "application/json"


def _has_auth(headers: Mapping[str, str]) -> bool:
    return any(name.lower() == "authorization" for name in headers)


class GoogleProvider:
    """`google:` models, over `generateContent` (`streamGenerateContent?alt=sse` for streams).

    The key comes from `api_key=`, else `GOOGLE_API_KEY`, else `GEMINI_API_KEY`. With
    `vertexai=True` it is an OAuth access token instead (see `vertex`).
    """

    name = "google"
    family = "google"
    api_key_env = "GOOGLE_API_KEY"
    api_key_env_fallbacks = ("GEMINI_API_KEY",)
    api_key_required = True

    def __repr__(self) -> str:
        return "<mirascope provider 'google'>"

    @property
    def parameters(self) -> Mapping[str, ParamHandling]:
        """How it takes each call parameter (`encode.PARAMETERS`), on Vertex AI too."""
        return PARAMETERS

    def base_url(self, options: Mapping[str, object]) -> str:
        """`GOOGLE_GEMINI_BASE_URL`, else `GOOGLE_BASE_URL`, else the public endpoint.

        On Vertex AI: `GOOGLE_VERTEX_BASE_URL`, else `GOOGLE_BASE_URL`, else the regional host.
        """
        if options.get("vertexai"):
            return vertex.base_url(options)
        return os.environ.get("GOOGLE_GEMINI_BASE_URL") or os.environ.get(vertex.BASE_URL_ENV) or GEMINI_BASE_URL

    def check_options(self, options: Mapping[str, object]) -> None:
        """Accept `vertexai`, `project`, `location`, `credentials` and `api_version`; refuse anything else."""
        unknown = options.keys() - _OPTIONS.keys()
        if unknown:
            raise TypeError(
                f"llm.client('google') does not take {', '.join(sorted(unknown))}; its settings "
                f"are {_SETTINGS}, and for Google {', '.join(sorted(_OPTIONS))}."
            )
        for key, value in options.items():
            kind = _OPTIONS[key]
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"llm.client('google', {key}=...) takes a {kind.__name__}, not {type(value).__name__}.")
        if options.get("vertexai"):
            if vertex.project(options) is None:
                raise TypeError(
                    "llm.client('google', vertexai=True) needs project='...' "
                    "(or the GOOGLE_CLOUD_PROJECT environment variable)."
                )
            credentials = options.get("credentials")
            if credentials is not None and not vertex.is_credentials(credentials):
                raise TypeError(
                    "llm.client('google', vertexai=True, credentials=...) takes google-auth credentials "
                    f"(with .token and .refresh(request)), not {type(credentials).__name__}."
                )
        elif any(options.get(key) is not None for key in ("project", "location", "credentials")):
            raise TypeError(
                "project, location and credentials are Vertex AI settings: add vertexai=True to "
                "llm.client('google', ...), or leave them out for the Gemini API."
            )

    def takes_api_key(self, options: Mapping[str, object]) -> bool:
        """Whether a client reads its key from the environment: not on Vertex AI.

        Vertex AI authenticates with an access token given as `api_key`, or else with Google
        credentials (see `vertex`).
        """
        return not options.get("vertexai")

    def headers(self, api_key: str | None, options: Mapping[str, object]) -> dict[str, str]:
        """`x-goog-api-key` for the Gemini API; `Authorization: Bearer` on Vertex AI."""
        if options.get("vertexai"):
            if api_key is None:  # a token from the credentials goes with each request (`prepare`)
                return {"content-type": _JSON}
            return {"content-type": _JSON, "authorization": f"Bearer {api_key}"}
        return {"content-type": _JSON, "x-goog-api-key": api_key or ""}

    def prepare(self, request: Request, client: llm.Client) -> HTTPRequest:
        """The `generateContent` URL and JSON body for a request; for a stream, the SSE URL."""
        refuse_unsupported_media(request)
        # Gemini 2 cannot hold a reply to a schema while it may also call functions; Gemini 3 can.
        native = not (request.tools and base_name(request.model).startswith(("gemini-2", "gemini-1")))
        mode, _, request = format_request(request, native=native, strict_native=True, strict_tool=False)
        if request.stream:
            # Without `alt=sse` Gemini streams one JSON array, which no event parser reads.
            url = self.url(client, request.model, "streamGenerateContent") + "?alt=sse"
        else:
            url = self.url(client, request.model)
        body = encode(request, format_mode=mode)
        if client.api_key is None and client.options.get("vertexai") and not _has_auth(client.headers):
            # Vertex AI with Google credentials: a token that is valid now, refreshed when it expires.
            return HTTPRequest(
                url=url, body=body, headers={"authorization": f"Bearer {vertex.access_token(client.options)}"}
            )
        return HTTPRequest(url=url, body=body)

    def url(self, client: llm.Client, model: str, method: str = "generateContent") -> str:
        """The URL of `method` on `model`, for this client's base URL and options."""
        options = client.options
        base = client.base_url
        if options.get("vertexai"):
            version = options.get("api_version") or "v1"
            path = vertex.model_path(model, options)
        else:
            version = options.get("api_version") or "v1beta"
            path = model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"
        if not base.endswith(_VERSIONS):
            base = f"{base}/{version}"
        return f"{base}/{path}:{method}"

    def realtime_codec(self, setup: RealtimeSetup, client: llm.Client) -> RealtimeCodec:
        """A Gemini Live (`BidiGenerateContent`) codec for one `llm.realtime` session.

        The setup is checked before anything is sent; on Vertex AI without a given token, an
        access token is fetched from the client's credentials here (see `realtime`).
        """
        from .realtime import make_codec  # loaded with the first realtime session

        return make_codec(self, setup, client)

    def batch_api(self, client: llm.Client) -> GeminiBatchAPI:
        """Gemini's Batch Mode for `llm.batch` (see `batches`), on the Gemini API only.

        Vertex AI runs batches as batch prediction jobs over Cloud Storage or BigQuery, a
        different API that Mirascope does not speak: there `llm.FeatureNotSupportedError` is
        raised before anything is sent, pointing at `mode="concurrent"`.
        """
        if client.options.get("vertexai"):
            from mirascope import llm

            raise llm.FeatureNotSupportedError(
                "google: Vertex AI runs batches as batch prediction jobs, which Mirascope does not "
                'support; run the job as concurrent calls with mode="concurrent" (e.g. '
                'llm.batch(model, inputs, mode="concurrent")), or use the Gemini API (no vertexai=True).',
                model="google",
                feature="batch",
            )
        from .batches import GeminiBatchAPI  # loaded with the first batch job

        return GeminiBatchAPI(self, client)

    def stream_decoder(self, request: Request) -> StreamDecoder:
        """A decoder for one `streamGenerateContent` reply."""
        return GoogleStream(self, request)

    def decode(self, request: Request, body: Any) -> Decoded:
        """Decode a `generateContent` reply."""
        return decode(request, body)

    def error(self, request: Request, response: httpx.Response) -> llm.APIError:
        """The `llm.APIError` for a failed reply, Google's status and reason codes first."""
        from mirascope.llm.providers.http import error_from_response

        return error_from_response(self, response, codes=CODES)
