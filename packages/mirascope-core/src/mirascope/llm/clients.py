"""`llm.client`: the one place for keys, base URLs, timeouts, retries and custom httpx clients."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import AsyncGenerator, Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Literal, cast, overload

from attrs import field, frozen

from .exceptions import MissingAPIKeyError, UsageError

if TYPE_CHECKING:
    import asyncio
    import ssl

    import httpx

    from .providers import InProcessProvider, Provider

__all__ = ["Client", "Timeout", "client"]

DEFAULT_TIMEOUT = 600.0
"""Seconds to wait for a reply; long generations are normal, so this is generous."""
DEFAULT_MAX_RETRIES = 2
"""How many times a failed request is sent again by default, as the providers' own SDKs do."""
DEFAULT_MAX_CONNECTIONS = 100
"""Open connections a client keeps at most (per event loop for async calls)."""
DEFAULT_MAX_BODY_BYTES = 128 * 2**20
"""Bytes a reply's body may have (not streamed; error bodies too). The largest real replies
carry media inline in base64: a few images (a 4K one is some 15 MiB) or minutes of audio, tens of
MiB at most. Past this a server is broken or hostile, and reading on would only fill the memory."""
DEFAULT_MAX_EVENT_BYTES = 32 * 2**20
"""Bytes one event of a stream (a line of it included) may have. The largest real events hold a
whole image (a Gemini image part, or a Responses `response.completed` repeating the reply's
images), some 15 MiB at most; a stream that never ends its line or event fails here instead of
growing without bound."""


def _positive(instance: object, attribute: object, value: float | None) -> None:
    if value is not None and not value > 0:
        raise UsageError(f"Timeouts are seconds above 0, or None for no limit; got {value!r}.")


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
    stream's reading to its end. No attempt or wait starts past it, each network wait is cut
    to the time left, and every body (a reply's, streamed or not, or an error's) is checked
    against it as its bytes arrive, so one that trickles in forever stops too. `None` (the
    default) for no limit beyond the phases."""


_DEFAULT_TIMEOUTS = Timeout()


def _as_timeout(timeout: float | Timeout | None) -> Timeout:
    """The `Timeout` a client's `timeout=` setting means."""
    if timeout is None:
        return _DEFAULT_TIMEOUTS
    if isinstance(timeout, Timeout):
        return timeout
    seconds = float(timeout)
    return Timeout(connect=min(seconds, 10.0), read=seconds, write=seconds, pool=seconds, total=seconds)


class _LoopHTTP:
    """The `httpx.AsyncClient` a `Client` uses on one event loop, owned by that loop.

    Its connections hold their loop, so a client holding it would keep every loop it was used on
    alive, sockets and all. The client holds it weakly instead, and the loop strongly, through a
    timer that never fires: a loop that is closed (dropping its timers) or dropped lets it go.
    Before that, a loop shutting down as `asyncio.run` and `asyncio.Runner` do (closing the
    async generators left open on it) closes its connections through `closer`.
    """

    __slots__ = ("__weakref__", "closer", "entries", "http", "loop", "owns_transport", "timer")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        http: httpx.AsyncClient,
        entries: weakref.WeakValueDictionary[int, _LoopHTTP],
        owns_transport: bool,
    ) -> None:
        self.http = http
        self.loop = weakref.ref(loop)
        self.entries = entries
        self.owns_transport = owns_transport
        self.timer = loop.call_later(_NEVER, _keep, self)
        self.closer = _close_at_shutdown(weakref.ref(self))
        with suppress(StopIteration):  # started here, so that the loop knows it and closes it
            self.closer.asend(None).send(None)

    async def close(self) -> None:
        self.timer.cancel()
        loop = self.loop()
        if loop is not None and self.entries.get(id(loop)) is self:
            del self.entries[id(loop)]
        # An in-process provider's transport serves every loop; `Client.close` closes it.
        if self.owns_transport:
            await self.http.aclose()


_NEVER = 100 * 365 * 86400.0
"""Seconds: the delay of the timer through which a loop holds its `_LoopHTTP`."""


def _keep(holder: _LoopHTTP) -> None:
    """The timer's callback; the timer exists only to hold `holder`."""


async def _close_at_shutdown(holder: weakref.ref[_LoopHTTP]) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        found = holder()
        if found is not None:
            await found.close()


_ssl_context: ssl.SSLContext | None = None


def _shared_ssl_context() -> ssl.SSLContext:
    """The certificates every httpx client we make verifies servers against, loaded once.

    httpx loads the whole CA bundle for each client it builds (some 25 ms of CPU), and we build
    one per `llm.client` and one per event loop: `asyncio.run` in a loop paid it on every run.
    A context is not changed once made, so threads and loops share it safely. It reads
    `SSL_CERT_FILE`/`SSL_CERT_DIR` as httpx does, once, when the first client is made.
    """
    global _ssl_context
    if _ssl_context is None:
        import httpx

        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


class Client:
    """Settings and connections for one provider.

    Built with `llm.client(...)`. It holds one `httpx.Client`, and one `httpx.AsyncClient` per
    event loop, created on first use and reused by every call made with it. An event loop's
    connections close when that loop shuts down (as `asyncio.run` ends); nothing of a loop that
    has ended is kept.
    """

    __slots__ = (
        "__weakref__",
        "_async_http",
        "_env_api_key",
        "_headers",
        "_lock",
        "_sync_http",
        "_transports",
        "_user_async_http",
        "_user_sync_http",
        "api_key",
        "base_url",
        "headers",
        "max_body_bytes",
        "max_connections",
        "max_event_bytes",
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
        max_body_bytes: int | None = None,
        max_event_bytes: int | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        options: Mapping[str, object] | None = None,
    ) -> None:
        if max_retries is not None and max_retries < 0:
            raise UsageError(f"max_retries must be 0 or more; got {max_retries}.")
        if max_connections is not None and max_connections < 1:
            raise UsageError(f"max_connections must be 1 or more; got {max_connections}.")
        for name, value in (("max_body_bytes", max_body_bytes), ("max_event_bytes", max_event_bytes)):
            if value is not None and not (isinstance(cast(object, value), int) and value >= 1):
                raise UsageError(f"{name} must be a whole number of bytes, 1 or more; got {value!r}.")
        self.provider = provider
        """The provider this client talks to."""
        self.api_key = api_key
        """The key given here; `None` takes the provider's environment variable as it is when the
        client is made (or, if it is unset then, at the first call)."""
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
        self.max_body_bytes = DEFAULT_MAX_BODY_BYTES if max_body_bytes is None else max_body_bytes
        """Bytes a reply's body may have (not streamed; error bodies too); past it,
        `llm.ResponseTooLargeError`."""
        self.max_event_bytes = DEFAULT_MAX_EVENT_BYTES if max_event_bytes is None else max_event_bytes
        """Bytes one event of a stream (or a line of it) may have; past it, `llm.ResponseTooLargeError`."""
        self.headers: dict[str, str] = dict(headers or {})
        """Extra headers sent with every request."""
        self.options: dict[str, object] = dict(options or {})
        """Provider-specific settings (e.g. Google's `vertexai`, `project`, `location`)."""
        self._user_sync_http = http_client
        self._user_async_http = async_http_client
        self._sync_http: httpx.Client | None = None
        # Keyed by `id(loop)`: each holds its loop, so the id is that loop's while it lives.
        self._async_http: weakref.WeakValueDictionary[int, _LoopHTTP] = weakref.WeakValueDictionary()
        self._headers: dict[str, str] | None = None
        self._transports: tuple[httpx.BaseTransport, httpx.AsyncBaseTransport] | None = None
        # Connections are made on first use, which many threads may reach at once: one makes them.
        self._lock = threading.Lock()
        # Read now, so that a client keeps the key it was made with (`default_client` follows
        # the environment instead, by making a new client when it changes).
        self._env_api_key = None if api_key is not None else self._environment_key()

    def __repr__(self) -> str:
        from ._redact import shown_url  # redaction loads when first needed, not with `llm`

        return f"llm.client({self.provider.name!r}, base_url={shown_url(self.base_url)!r})"

    def resolve_api_key(self) -> str | None:
        """The key to send: the one given, else the environment's when the client was made.

        A key the environment did not hold then is read again now; raises if one is required
        and there is none.
        """
        if self.api_key is not None:
            return self.api_key
        key = self._env_api_key or self._environment_key()
        env_var = self.provider.api_key_env
        if key is None and env_var is not None and self.provider.api_key_required and self._takes_api_key():
            raise MissingAPIKeyError(provider=self.provider.name, env_var=env_var)
        return key

    def _takes_api_key(self) -> bool:
        # A provider whose settings authenticate another way (Google credentials on Vertex AI)
        # says so with `takes_api_key(options)`: no key is then read from the environment.
        takes_api_key = getattr(self.provider, "takes_api_key", None)
        return takes_api_key is None or bool(takes_api_key(self.options))

    def _environment_key(self) -> str | None:
        """The key the environment holds for this client's provider, if it takes one."""
        env_var = self.provider.api_key_env
        if env_var is None or not self._takes_api_key():
            return None
        return next(filter(None, map(os.environ.get, (env_var, *self.provider.api_key_env_fallbacks))), None)

    def request_headers(self) -> dict[str, str]:
        """Auth and protocol headers for every request, built once per client."""
        if self._headers is None:
            headers = self.provider.headers(self.resolve_api_key(), self.options)
            headers.update(self.headers)
            # Logs and errors are redacted of what this client sends (see `_redact`).
            from ._redact import remember_headers

            remember_headers(headers, self.base_url)
            for given in (self._user_sync_http, self._user_async_http):
                if given is not None:
                    remember_headers(given.headers, str(given.base_url))
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
        http = self._sync_http
        if http is None:
            with self._lock:
                http = self._sync_http
                if http is None:
                    import httpx

                    http = self._sync_http = httpx.Client(
                        verify=_shared_ssl_context(),
                        timeout=self._httpx_timeout(),
                        limits=self._limits(),
                        headers=self.request_headers(),
                        transport=self._transport(0),
                    )
        return http, None

    def async_http(self) -> tuple[httpx.AsyncClient, dict[str, str] | None]:
        """The `httpx.AsyncClient` for the running event loop, and the headers to add per request.

        An `AsyncClient`'s connections belong to the loop that opened them, so each loop gets
        its own (see `_LoopHTTP`): calling `asyncio.run` twice does not reuse a dead pool, nor
        keep the first loop alive.
        """
        if self._user_async_http is not None:
            return self._user_async_http, self.request_headers()
        from asyncio import get_running_loop

        loop = get_running_loop()
        found = self._async_http.get(id(loop))
        if found is None or found.loop() is not loop:
            found = self._loop_http(loop)
        return found.http, None

    def _loop_http(self, loop: asyncio.AbstractEventLoop) -> _LoopHTTP:
        with self._lock:
            found = self._async_http.get(id(loop))
            if found is not None and found.loop() is loop:
                return found
            import httpx

            transport = self._transport(1)
            http = httpx.AsyncClient(
                verify=_shared_ssl_context(),
                timeout=self._httpx_timeout(),
                limits=self._limits(),
                headers=self.request_headers(),
                transport=transport,
            )
            found = self._async_http[id(loop)] = _LoopHTTP(loop, http, self._async_http, transport is None)
            return found

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
        # In-process providers (local models) answer through their own transports, made once
        # (under `_lock`, by the caller) and shared by the sync client and every loop's.
        make = getattr(self.provider, "transports", None)
        if make is None:
            return None
        if self._transports is None:
            self._transports = cast("InProcessProvider", self.provider).transports(self)
        return self._transports[which]

    def close(self) -> None:
        """Close the connections this client opened (not ones it was given), and its local models.

        Async connections are let go: each event loop closes its own as it shuts down (and
        `aclose()` closes the running loop's now).
        """
        with self._lock:
            if self._sync_http is not None:
                self._sync_http.close()
                self._sync_http = None
            if self._transports is not None:
                self._transports[0].close()
                self._transports = None
            self._async_http.clear()

    async def aclose(self) -> None:
        """Close the connections this client opened (not ones it was given).

        The running event loop's close now; another loop's close when that loop shuts down.
        """
        from asyncio import get_running_loop

        loop = get_running_loop()
        found = self._async_http.get(id(loop))
        if found is not None and found.loop() is loop:
            await found.closer.aclose()
        self.close()

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
    max_body_bytes: int | None = None,
    max_event_bytes: int | None = None,
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
        max_body_bytes: Bytes a reply's body may have (default 128 MiB), an error's too; a
            larger one raises `llm.ResponseTooLargeError` rather than filling the memory.
        max_event_bytes: Bytes one event of a stream, or a line of it, may have (default
            32 MiB); likewise.
        headers: Extra headers for every request.
        http_client: Your own `httpx.Client` (transport, proxies, event hooks); its own
            timeouts and connection limits apply, and a `total` timeout still bounds each call.
        async_http_client: Your own `httpx.AsyncClient`, likewise.
        **options: Provider-specific settings, e.g. `vertexai=True, project=..., location=...`
            for Google; each provider's README lists its own.

    Raises:
        ProviderNotFoundError: The provider is unknown or its package is not installed.
        UsageError: A setting the provider does not know, or one out of range (also a `TypeError`).
    """
    if not isinstance(provider, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UsageError(
            f"llm.client takes the provider prefix, e.g. llm.client('openai'); got {type(provider).__name__}."
        )
    from .providers._registry import get_provider  # the SPI package: loaded with the first client

    found = get_provider(provider)
    try:
        found.check_options(options)
    except UsageError:
        raise
    except TypeError as error:  # a provider refuses a setting with a `TypeError`; the user sees ours
        raise UsageError(str(error)) from None
    return Client(
        found,
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        max_connections=max_connections,
        max_body_bytes=max_body_bytes,
        max_event_bytes=max_event_bytes,
        headers=headers,
        http_client=http_client,
        async_http_client=async_http_client,
        options=options,
    )


_defaults: dict[str, Client] = {}
_defaults_lock = threading.Lock()
# What of the environment each default client was made from (see `_environment`).
_made_from: dict[str, tuple[str | None, ...]] = {}


def _environment(provider: Provider) -> tuple[str | None, ...]:
    """What a default client reads from the environment when it is made: its keys and base URL."""
    names = (provider.api_key_env, *provider.api_key_env_fallbacks) if provider.api_key_env else ()
    return (*map(os.environ.get, names), provider.base_url({}))


def default_client(provider: Provider) -> Client:
    """The client a call uses when none is given: one per provider, following the environment.

    It is made again when the provider's key or base URL variable changes (a few dictionary
    reads per call check that), so a key set or replaced after the first call is the one sent.
    The client it replaces is left to the calls and streams still using it.
    """
    name = provider.name
    made_from = _environment(provider)
    found = _defaults.get(name)
    if found is None or found.provider is not provider or _made_from.get(name) != made_from:
        with _defaults_lock:  # threads making their first calls at once share one client
            found = _defaults.get(name)
            if found is None or found.provider is not provider or _made_from.get(name) != made_from:
                found = _defaults[name] = Client(provider)
                _made_from[name] = made_from
    return found
