"""Vertex AI: the same `generateContent` (and streaming) wire format, under a project and a location.

```python
client = llm.client("google", vertexai=True, project="my-project", location="us-central1")
```

Vertex authenticates with an OAuth access token, sent as `Authorization: Bearer ...`. It comes
from, in order:

1. `api_key=`: an access token you got yourself (`gcloud auth print-access-token`); it is sent
   as given, and expires (about an hour): make a new client with a fresh one.
2. `credentials=`: a `google.auth` credentials object (service account, user, workload
   identity, ...); its token is refreshed whenever it is no longer valid.
3. Neither: Application Default Credentials (`google.auth.default()`: the
   `GOOGLE_APPLICATION_CREDENTIALS` file, `gcloud auth application-default login`, or the
   metadata server on Google Cloud), refreshed the same way.

The last two need google-auth, the optional `vertexai` extra
(`pip install --find-links dist "mirascope-providers-google[vertexai]==<this version>"`, as
the README's Install says); it is imported only then. Refreshing
tokens goes over httpx, so google-auth needs no `requests` either.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from mirascope import llm

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_LOCATION",
    "EXTRA",
    "SCOPE",
    "Credentials",
    "access_token",
    "base_url",
    "location",
    "model_path",
    "project",
]

DEFAULT_LOCATION = "global"
"""Where requests go when neither `location=` nor `GOOGLE_CLOUD_LOCATION` says."""

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
"""The OAuth scope Vertex AI calls need."""

EXTRA = "mirascope-providers-google[vertexai]"
"""What to install for `credentials=` and Application Default Credentials."""


class Credentials(Protocol):
    """What `credentials=` takes: the interface of `google.auth.credentials.Credentials`."""

    @property
    def token(self) -> str | None:
        """The current access token."""
        ...

    @property
    def valid(self) -> bool:
        """Whether the token is present and not (about to be) expired."""
        ...

    def refresh(self, request: Any) -> None:
        """Fetch a new token, sending HTTP requests through `request`."""
        ...


def project(options: Mapping[str, object]) -> str | None:
    """The Google Cloud project: the `project` option, else `GOOGLE_CLOUD_PROJECT`."""
    value = options.get("project")
    if isinstance(value, str):
        return value
    return os.environ.get("GOOGLE_CLOUD_PROJECT")


def location(options: Mapping[str, object]) -> str:
    """The region: the `location` option, else `GOOGLE_CLOUD_LOCATION`, else `"global"`."""
    value = options.get("location")
    if isinstance(value, str):
        return value
    return os.environ.get("GOOGLE_CLOUD_LOCATION") or DEFAULT_LOCATION


BASE_URL_ENV = "GOOGLE_BASE_URL"
"""The `{PREFIX}_BASE_URL` of `google:`, for either API; `GOOGLE_GEMINI_BASE_URL` and
`GOOGLE_VERTEX_BASE_URL` (the names Google's own SDK reads) win for their own."""


def base_url(options: Mapping[str, object]) -> str:
    """`GOOGLE_VERTEX_BASE_URL`, else `GOOGLE_BASE_URL`, else the regional endpoint.

    The `global` location has no region in its host name.
    """
    configured = os.environ.get("GOOGLE_VERTEX_BASE_URL") or os.environ.get(BASE_URL_ENV)
    if configured:
        return configured
    where = location(options)
    if where == "global":
        return "https://aiplatform.googleapis.com"
    return f"https://{where}-aiplatform.googleapis.com"


def model_path(model: str, options: Mapping[str, object]) -> str:
    """The resource path of a model, after the API version.

    A bare name is a Google publisher model; `publishers/meta/models/...` or `endpoints/123`
    are placed under the project and location; a full `projects/...` path is kept.
    """
    if model.startswith("projects/"):
        return model
    prefix = f"projects/{project(options)}/locations/{location(options)}"
    if "/" in model:
        return f"{prefix}/{model}"
    return f"{prefix}/publishers/google/models/{model}"


def is_credentials(value: object) -> bool:
    """Whether `value` looks like google-auth credentials (a `refresh` method and a `token`)."""
    return callable(getattr(value, "refresh", None)) and hasattr(value, "token")


# One refresh at a time: a token expiring under many concurrent calls is fetched once.
_lock = threading.Lock()
_default: list[Credentials] = []  # Application Default Credentials, found once per process
_scoped: weakref.WeakKeyDictionary[Any, Credentials] = weakref.WeakKeyDictionary()


def access_token(options: Mapping[str, object]) -> str:
    """A valid access token from the client's `credentials`, else from Application Default Credentials.

    The credentials are refreshed first when their token is missing or expired.

    Raises:
        MissingAPIKeyError: No credentials given, and google-auth is not installed or finds none.
        AuthenticationError: The credentials could not be refreshed.
    """
    given = options.get("credentials")
    credentials = _with_scope(given) if given is not None else _application_default()
    if not credentials.valid:
        with _lock:
            if not credentials.valid:
                _refresh(credentials)
    token = credentials.token
    if not isinstance(token, str) or not token:
        raise llm.AuthenticationError(
            "the Google credentials gave no access token after a refresh",
            provider="google",
            hint="Check the credentials passed to llm.client('google', vertexai=True, credentials=...).",
        )
    return token


def _with_scope(credentials: Any) -> Credentials:
    # Service-account credentials made without scopes cannot fetch a token until given one.
    if not getattr(credentials, "requires_scopes", False):
        return credentials
    found = _scoped.get(credentials)
    if found is None:
        found = _scoped[credentials] = credentials.with_scopes([SCOPE])
    return found


def _application_default() -> Credentials:
    if _default:
        return _default[0]
    try:
        import google.auth
        import google.auth.exceptions
    except ImportError:
        raise llm.MissingAPIKeyError(
            provider="google",
            env_var="GOOGLE_APPLICATION_CREDENTIALS",
            message=(
                "No credentials for Vertex AI: pass credentials=<google.auth credentials> or "
                "api_key=<access token> to llm.client('google', vertexai=True, ...), or install "
                f'"{EXTRA}" (google-auth) to use Application Default Credentials.'
            ),
        ) from None
    with _lock:
        if not _default:
            try:
                found = google.auth.default(scopes=[SCOPE])  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            except google.auth.exceptions.DefaultCredentialsError as exc:
                raise llm.MissingAPIKeyError(
                    provider="google",
                    env_var="GOOGLE_APPLICATION_CREDENTIALS",
                    message=(
                        "No credentials for Vertex AI: Application Default Credentials found none "
                        f"({exc}). Run `gcloud auth application-default login`, set "
                        "GOOGLE_APPLICATION_CREDENTIALS to a key file, or pass credentials= or "
                        "api_key=<access token> to llm.client('google', vertexai=True, ...)."
                    ),
                ) from exc
            _default.append(cast(Credentials, found[0]))
    return _default[0]


def _refresh(credentials: Credentials) -> None:
    import httpx

    try:
        with httpx.Client(timeout=30.0) as http:
            credentials.refresh(_Request(http))
    except llm.Error:
        raise
    except Exception as exc:
        raise llm.AuthenticationError(
            f"could not refresh the Google credentials' access token: {exc or type(exc).__name__}",
            provider="google",
            hint="Check the credentials (and the network to Google's token endpoint); "
            "`gcloud auth application-default login` renews a user's.",
        ) from exc


class _Response:
    """google-auth's `google.auth.transport.Response`, for an httpx reply."""

    __slots__ = ("_response",)

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class _Request:
    """google-auth's `google.auth.transport.Request` over httpx: what a refresh sends through."""

    __slots__ = ("_http",)

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        import httpx

        try:
            response = self._http.request(method, url, content=body, headers=headers, timeout=timeout or 30.0)
        except httpx.HTTPError as exc:
            from google.auth.exceptions import TransportError  # only google-auth calls this

            raise TransportError(exc) from exc
        return _Response(response)
