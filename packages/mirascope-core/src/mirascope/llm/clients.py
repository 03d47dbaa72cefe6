"""`llm.client`: the one place for keys, base URLs, timeouts, retries and custom httpx clients."""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, cast, overload

from attrs import field, frozen

from .exceptions import MissingAPIKeyError

if TYPE_CHECKING:
    import asyncio

    import httpx

    from .providers import InProcessProvider, Provider

__all__ = ["Client", "Timeout", "client"]

DEFAULT_TIMEOUT = 600.0
"""Seconds to wait for a reply; long generations are normal, so this is generous."""
DEFAULT_MAX_RETRIES = 2
"""How many times a failed request is sent again by default, as the providers' own SDKs do."""
DEFAULT_MAX_CONNECTIONS = 100
"""Open connections a client keeps at most (per event loop for async calls)."""


def _positive(instance: object, attribute: object, value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"Timeouts are seconds above 0, or None for no limit; got {value!r}.")


@frozen(kw_only=True)
class Timeout:
    """How long a call may wait, phase by phase: `llm.client(..., timeout=llm.Timeout(read=30))`.

    A plain number of seconds, `timeout=30`, sets every phase and `total` to it (`connect` to at
    most 10). Each is seconds, or `None` for no limit. The one that runs out is named by
    `llm.TimeoutError.phase`.
    """

    connect: float | None = field(default=10.0, validator=_positive)
    """Seconds to open a connection (TCP and TLS)."""
    read: float | None = field(default=DEFAULT_TIMEOUT, validator=_positive)
    """Seconds to wait for the next bytes of the reply: the first ones, and on a stream each
    later one (a stream that stalls longer fails)."""
    write: float | None = field(default=DEFAULT_TIMEOUT, validator=_positive)
    """Seconds to wait while sending the request."""
    pool: float | None = field(default=DEFAULT_TIMEOUT, validator=_positive)
    """Seconds to wait for a free connection when all `max_connections` are busy."""
    total: float | None = field(default=None, validator=_positive)
    """Seconds the whole call may take: every attempt, the waits between retries, and a
    stream's reading to its end. No attempt or wait starts past it, and each network wait is cut
    to the time left. `None` (the default) for no limit beyond the phases."""


_DEFAULT_TIMEOUTS = Timeout()


def _as_timeout(timeout: float | Timeout | None) -> Timeout:
    """The `Timeout` a client's `timeout=` setting means."""
    if timeout is None:
        return _DEFAULT_TIMEOUTS
    if isinstance(timeout, Timeout):
        return timeout
    seconds = float(timeout)
    return Timeout(connect=min(seconds, 10.0), read=seconds, write=seconds, pool=seconds, total=seconds)


class Client:
    """Settings and connections for one provider.

    Built with `llm.client(...)`. It holds one `httpx.Client`, and one `httpx.AsyncClient` per
    event loop, created on first use and reused by every call made with it.
    """

    __slots__ = (
        "__weakref__",
        "_async_http",
        "_headers",
        "_sync_http",
        "_transports",
        "_user_async_http",
        "_user_sync_http",
        "api_key",
        "base_url",
        "headers",
        "max_connections",
        "max_retries",
        "options",
        "provider",
        "timeout",
    )

    def __init__(
        self,
        provider: Provider,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout | None = None,
        max_retries: int | None = None,
        max_connections: int | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        options: Mapping[str, object] | None = None,
    ) -> None:
        if max_retries is not None and max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more; got {max_retries}.")
        if max_connections is not None and max_connections < 1:
            raise ValueError(f"max_connections must be 1 or more; got {max_connections}.")
        self.provider = provider
        """The provider this client talks to."""
        self.api_key = api_key
        """The key given here; `None` reads the provider's environment variable at first use."""
        self.base_url = (base_url or provider.base_url(options or {})).rstrip("/")
        """Where requests go, e.g. `https://api.openai.com/v1`."""
        self.timeout = _as_timeout(timeout)
        """How long a call may wait, phase by phase (a number given is every phase and `total`)."""
        if max_retries is None:
            # A model run in-process has no network to be flaky: its failures repeat.
            max_retries = 0 if getattr(provider, "transports", None) is not None else DEFAULT_MAX_RETRIES
        self.max_retries = max_retries
        """How many times a failed request is sent again (rate limits, 5xx, broken connections)."""
        self.max_connections = DEFAULT_MAX_CONNECTIONS if max_connections is None else max_connections
        """Open connections at most; more concurrent calls wait for one (`Timeout.pool`)."""
        self.headers: dict[str, str] = dict(headers or {})
        """Extra headers sent with every request."""
        self.options: dict[str, object] = dict(options or {})
        """Provider-specific settings (e.g. Google's `vertexai`, `project`, `location`)."""
        self._user_sync_http = http_client
        self._user_async_http = async_http_client
        self._sync_http: httpx.Client | None = None
        self._async_http: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._headers: dict[str, str] | None = None
        self._transports: tuple[httpx.BaseTransport, httpx.AsyncBaseTransport] | None = None

    def __repr__(self) -> str:
        return f"llm.client({self.provider.name!r}, base_url={self.base_url!r})"

    def resolve_api_key(self) -> str | None:
        """The key to send: the one given, else the environment's; raises if required and absent."""
        if self.api_key is not None:
            return self.api_key
        env_var = self.provider.api_key_env
        if env_var is None:
            return None
        # A provider whose settings authenticate another way (Google credentials on Vertex AI)
        # says so with `takes_api_key(options)`: no key is then read from the environment.
        takes_api_key = getattr(self.provider, "takes_api_key", None)
        if takes_api_key is not None and not takes_api_key(self.options):
            return None
        for name in (env_var, *self.provider.api_key_env_fallbacks):
            key = os.environ.get(name)
            if key:
                return key
        if self.provider.api_key_required:
            raise MissingAPIKeyError(provider=self.provider.name, env_var=env_var)
        return None

    def request_headers(self) -> dict[str, str]:
        """Auth and protocol headers for every request, built once per client."""
        if self._headers is None:
            headers = self.provider.headers(self.resolve_api_key(), self.options)
            headers.update(self.headers)
            self._headers = headers
        return self._headers

    def sync_http(self) -> tuple[httpx.Client, dict[str, str] | None]:
        """The shared `httpx.Client`, created on first use, and the headers to add per request.

        A client we create carries the auth headers itself (merging them into every request
        costs more than the rest of Mirascope's work); one the user gave us is left untouched,
        so the headers go with each request instead.
        """
        if self._user_sync_http is not None:
            return self._user_sync_http, self.request_headers()
        if self._sync_http is None:
            import httpx

            self._sync_http = httpx.Client(
                timeout=self._httpx_timeout(),
                limits=self._limits(),
                headers=self.request_headers(),
                transport=self._transport(0),
            )
        return self._sync_http, None

    def async_http(self) -> tuple[httpx.AsyncClient, dict[str, str] | None]:
        """The `httpx.AsyncClient` for the running event loop, and the headers to add per request.

        An `AsyncClient`'s connections belong to the loop that opened them, so each loop gets
        its own: calling `asyncio.run` twice does not reuse a dead pool.
        """
        if self._user_async_http is not None:
            return self._user_async_http, self.request_headers()
        from asyncio import get_running_loop

        loop = get_running_loop()
        http = self._async_http.get(loop)
        if http is None:
            import httpx

            http = httpx.AsyncClient(
                timeout=self._httpx_timeout(),
                limits=self._limits(),
                headers=self.request_headers(),
                transport=self._transport(1),
            )
            self._async_http[loop] = http
        return http, None

    def _httpx_timeout(self) -> httpx.Timeout:
        import httpx

        t = self.timeout
        return httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool)

    def _limits(self) -> httpx.Limits:
        import httpx

        # Every connection may stay open between calls: a burst of concurrent calls then
        # reuses them rather than opening and closing all but httpx's default 20 each time.
        n = self.max_connections
        return httpx.Limits(max_connections=n, max_keepalive_connections=n)

    @overload
    def _transport(self, which: Literal[0]) -> httpx.BaseTransport | None: ...
    @overload
    def _transport(self, which: Literal[1]) -> httpx.AsyncBaseTransport | None: ...
    def _transport(self, which: Literal[0, 1]) -> httpx.BaseTransport | httpx.AsyncBaseTransport | None:
        # In-process providers (local models) answer through their own transports.
        make = getattr(self.provider, "transports", None)
        if make is None:
            return None
        if self._transports is None:
            self._transports = cast("InProcessProvider", self.provider).transports(self)
        return self._transports[which]

    def close(self) -> None:
        """Close the connections this client opened (not ones it was given), and its local models."""
        if self._sync_http is not None:
            self._sync_http.close()
            self._sync_http = None
        if self._transports is not None:
            self._transports[0].close()
            self._transports = None

    async def aclose(self) -> None:
        """Close the connections this client opened (not ones it was given).

        Async connections close for the running event loop; those of loops that have ended
        cannot be closed any more and are let go.
        """
        self.close()
        from asyncio import get_running_loop

        loop = get_running_loop()
        http = self._async_http.pop(loop, None)
        self._async_http.clear()
        if http is not None:
            await http.aclose()

    def __del__(self) -> None:
        # A dropped client should not leave its sockets for the garbage collector to warn about.
        # (One whose settings were refused in `__init__` has none, nor the attribute.)
        http = getattr(self, "_sync_http", None)
        if http is not None:
            http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def client(
    provider: str,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | Timeout | None = None,
    max_retries: int | None = None,
    max_connections: int | None = None,
    headers: Mapping[str, str] | None = None,
    http_client: httpx.Client | None = None,
    async_http_client: httpx.AsyncClient | None = None,
    **options: object,
) -> Client:
    """A client for `provider` with its own settings; pass it to a call with `client=`.

    Args:
        provider: The provider prefix, e.g. `"openai"`, `"anthropic"`, `"google"`, `"groq"`.
        api_key: The key; by default read from the provider's environment variable.
        base_url: Where to send requests, e.g. a proxy or a local server.
        timeout: Seconds a call may take, retries included (every phase and `total`), or an
            `llm.Timeout` to set each phase; by default 10 s to connect, 600 s for each read
            or write, no total.
        max_retries: How many times to send a failed request again (default 2): rate limits
            (429), server errors (5xx), 408/409, broken connections and timeouts, with
            exponential backoff and jitter, or the wait the provider asks for (`Retry-After`).
            Other 4xx errors are never retried. A call's `retries=` wins over this.
        max_connections: Open connections at most (default 100; for async calls, per event
            loop); more concurrent calls queue for one.
        headers: Extra headers for every request.
        http_client: Your own `httpx.Client` (transport, proxies, event hooks); its own
            timeouts and connection limits apply, and a `total` timeout still bounds each call.
        async_http_client: Your own `httpx.AsyncClient`, likewise.
        **options: Provider-specific settings, e.g. `vertexai=True, project=..., location=...`
            for Google; each provider's README lists its own.

    Raises:
        ProviderNotFoundError: The provider is unknown or its package is not installed.
        TypeError: A setting the provider does not know.
    """
    from .providers._registry import get_provider

    found = get_provider(provider)
    found.check_options(options)
    return Client(
        found,
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        max_connections=max_connections,
        headers=headers,
        http_client=http_client,
        async_http_client=async_http_client,
        options=options,
    )


_defaults: dict[str, Client] = {}


def default_client(provider: Provider) -> Client:
    """The client a call uses when none is given: one per provider, for the process."""
    found = _defaults.get(provider.name)
    if found is None or found.provider is not provider:
        found = _defaults[provider.name] = Client(provider)
    return found
