"""Retries, timeouts, fallbacks and concurrency against a real server that misbehaves on cue.

Each test scripts the server's replies, calls through the public API, and checks the typed
error or the successful retry, the attempts on both sides, and that nothing waited past its
timeout. Retry waits are recorded, not slept (the `retry_waits` fixture in conftest).
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from mirascope import llm
from mirascope.llm.providers.http import retry_after_seconds

from tests.support.faults import (
    HOLD,
    FaultServer,
    corrupt_gzip,
    cut_stream,
    dripping_stream,
    error_json,
    html_page,
    not_json,
    ok,
    open_fds,
    reset,
    settled_fds,
    stall,
    stalled_stream,
    status,
    truncated_json,
    within,
)

MODEL = "openai-completions:gpt-4o"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as made:
        yield made


def _client(server: FaultServer, **settings: object) -> llm.Client:
    return llm.client("openai-completions", base_url=server.url + "/v1", api_key="k", **settings)  # pyright: ignore[reportArgumentType]


# --- Retries on status --------------------------------------------------------------------------


def test_a_429_is_retried_after_the_wait_its_retry_after_asks_for(
    server: FaultServer, retry_waits: list[float]
) -> None:
    server.script(error_json(429, "Rate limit reached", headers={"retry-after": "0.25"}), ok())
    with _client(server) as client:
        response = llm.model(MODEL, client=client).call("Hi")
    assert response.content == "Hello"
    assert server.count == 2
    assert retry_waits == [0.25]


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after-ms": "150", "retry-after": "9"}, 0.15),
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1s",
          "x-ratelimit-remaining-tokens": "9000", "x-ratelimit-reset-tokens": "6m0s"}, 1.0),
        ({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1m2.5s"}, 62.5),
    ],
)  # fmt: skip
def test_a_429_waits_as_retry_after_ms_or_the_exhausted_rate_limits_reset_says(
    server: FaultServer, retry_waits: list[float], headers: dict[str, str], wait: float
) -> None:
    server.script(error_json(429, headers=headers), ok())
    with _client(server) as client:
        if wait > 60:
            with pytest.raises(llm.RateLimitError, match="longer than the 60s") as raised:
                llm.model(MODEL, client=client).call("Hi")
            assert raised.value.attempts == 1
            assert server.count == 1
            assert retry_waits == []
        else:
            assert llm.model(MODEL, client=client).call("Hi").content == "Hello"
            assert retry_waits == [wait]


def test_a_429_asking_for_more_than_a_minute_raises_at_once_saying_so(
    server: FaultServer, retry_waits: list[float]
) -> None:
    server.script(error_json(429, "Rate limit reached", headers={"retry-after": "120"}))
    with _client(server) as client, pytest.raises(llm.RateLimitError) as raised:
        llm.model(MODEL, client=client).call("Hi")
    error = raised.value
    assert error.retry_after == 120
    assert error.attempts == 1
    assert "Not retried: the provider asked for a wait of 120s" in str(error)
    assert server.count == 1
    assert retry_waits == []


def test_a_500_is_retried_up_to_max_retries_then_raises_a_server_error_with_the_attempts(
    server: FaultServer, retry_waits: list[float]
) -> None:
    server.script(*[error_json(500, "The server had an error")] * 3)
    with _client(server, max_retries=2) as client, pytest.raises(llm.ServerError, match="had an error") as raised:
        llm.model(MODEL, client=client).call("Hi")
    assert raised.value.attempts == 3
    assert "Gave up after 3 attempts (max_retries=2)" in str(raised.value)
    assert server.count == 3
    # Exponential backoff with full jitter: up to 0.5 s, then up to 1 s.
    assert len(retry_waits) == 2
    assert 0 <= retry_waits[0] <= 0.5
    assert 0 <= retry_waits[1] <= 1.0


def test_the_calls_retries_win_over_the_clients_max_retries(server: FaultServer) -> None:
    server.script(*[error_json(500)] * 6)
    with _client(server, max_retries=5) as client:
        with pytest.raises(llm.ServerError) as raised:
            llm.model(MODEL, client=client, retries=1).call("Hi")
        assert raised.value.attempts == 2

        @llm.call(MODEL, client=client, retries=0)
        def ask() -> str:
            return "Hi"

        with pytest.raises(llm.ServerError) as raised:
            ask()
        assert raised.value.attempts == 1
    assert server.count == 3


def test_a_503_html_page_is_retried_and_a_last_one_is_reported_readably(server: FaultServer) -> None:
    server.script(html_page(503), ok(), html_page(503), html_page(503))
    with _client(server, max_retries=1) as client:
        assert llm.model(MODEL, client=client).call("Hi").content == "Hello"
        with pytest.raises(llm.ServerError) as raised:
            llm.model(MODEL, client=client).call("Hi")
    assert server.count == 4
    assert raised.value.attempts == 2
    assert "503 Service Unavailable" in str(raised.value)
    assert "<h1>" not in str(raised.value)


@pytest.mark.parametrize("code", [408, 409, 502, 529])
def test_408_409_and_every_5xx_are_retried(server: FaultServer, code: int) -> None:
    server.script(error_json(code), ok())
    with _client(server) as client:
        assert llm.model(MODEL, client=client).call("Hi").content == "Hello"
    assert server.count == 2


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        (400, llm.BadRequestError),
        (401, llm.AuthenticationError),
        (403, llm.PermissionError),
        (404, llm.NotFoundError),
        (422, llm.BadRequestError),
    ],
)
def test_other_4xx_errors_are_never_retried(
    server: FaultServer, retry_waits: list[float], code: int, error_type: type[llm.APIError]
) -> None:
    server.script(error_json(code), ok())
    with _client(server, max_retries=3) as client, pytest.raises(error_type) as raised:
        llm.model(MODEL, client=client).call("Hi")
    assert type(raised.value) is error_type
    assert raised.value.attempts == 1
    assert server.count == 1
    assert retry_waits == []


# --- Broken bodies and connections --------------------------------------------------------------


def test_a_truncated_json_body_is_a_broken_connection_and_the_retry_answers(server: FaultServer) -> None:
    server.script(truncated_json(), ok(), truncated_json(), truncated_json())
    with _client(server, max_retries=1) as client:
        assert llm.model(MODEL, client=client).call("Hi").content == "Hello"
        with pytest.raises(llm.ConnectionError, match="broke") as raised:
            llm.model(MODEL, client=client).call("Hi")
    assert raised.value.attempts == 2
    assert server.count == 4


def test_a_success_status_with_a_body_that_is_not_json_is_an_api_error_and_not_retried(
    server: FaultServer,
) -> None:
    server.script(not_json(), ok())
    with _client(server) as client, pytest.raises(llm.APIError, match="not JSON") as raised:
        llm.model(MODEL, client=client).call("Hi")
    assert type(raised.value) is llm.APIError
    assert raised.value.status_code == 200
    assert "Please log in" in str(raised.value)
    assert raised.value.attempts == 1
    assert server.count == 1


def test_a_reset_connection_is_a_connection_error_retried_until_max_retries(server: FaultServer) -> None:
    server.script(reset(), ok(), reset(), reset(), reset())
    with _client(server, max_retries=2) as client:
        assert llm.model(MODEL, client=client).call("Hi").content == "Hello"
        with pytest.raises(llm.ConnectionError) as raised:
            llm.model(MODEL, client=client).call("Hi")
    assert isinstance(raised.value, ConnectionError)
    assert raised.value.attempts == 3
    assert server.count == 5


def test_a_gzip_body_that_does_not_decode_is_an_api_error_and_not_retried(server: FaultServer) -> None:
    server.script(corrupt_gzip(), ok())
    with _client(server) as client, pytest.raises(llm.APIError, match="could not be decoded") as raised:
        llm.model(MODEL, client=client).call("Hi")
    assert not isinstance(raised.value, llm.ConnectionError)
    assert raised.value.attempts == 1
    assert server.count == 1


def test_a_refused_connection_is_retried_then_a_connection_error() -> None:
    with (
        llm.client("openai-completions", base_url="http://127.0.0.1:9/v1", api_key="k", max_retries=1) as client,
        pytest.raises(llm.ConnectionError, match="could not reach") as raised,
    ):
        llm.model(MODEL, client=client).call("Hi")
    assert raised.value.attempts == 2


# --- Timeouts -----------------------------------------------------------------------------------


def test_a_reply_that_never_comes_is_a_read_timeout_naming_the_phase_and_retried(server: FaultServer) -> None:
    server.script(stall(), stall())
    with (
        _client(server, timeout=llm.Timeout(read=0.3), max_retries=1) as client,
        within(),
        pytest.raises(llm.TimeoutError) as raised,
    ):
        llm.model(MODEL, client=client).call("Hi")
    error = raised.value
    assert isinstance(error, TimeoutError)
    assert error.phase == "read"
    assert "read timeout (0.3s)" in str(error)
    assert "timeout=llm.Timeout(read=...)" in str(error)
    assert error.attempts == 2
    assert server.count == 2


def test_a_total_timeout_cuts_the_wait_for_a_reply_and_is_not_retried(server: FaultServer) -> None:
    server.script(stall(), ok())
    with (
        _client(server, timeout=llm.Timeout(read=30, total=0.5), max_retries=3) as client,
        within(),
        pytest.raises(llm.TimeoutError) as raised,
    ):
        llm.model(MODEL, client=client).call("Hi")
    assert raised.value.phase == "total"
    assert "total timeout (0.5s)" in str(raised.value)
    assert raised.value.attempts == 1
    assert server.count == 1


def test_a_total_timeout_counts_the_waits_between_retries(server: FaultServer, retry_waits: list[float]) -> None:
    server.script(error_json(503, headers={"retry-after": "5"}), ok())
    with (
        _client(server, timeout=llm.Timeout(total=2.0)) as client,
        pytest.raises(llm.ServerError, match="would pass the total timeout") as raised,
    ):
        llm.model(MODEL, client=client).call("Hi")
    assert raised.value.attempts == 1
    assert retry_waits == []


def test_a_number_for_timeout_is_every_phase_and_the_total() -> None:
    with llm.client("openai", api_key="k", timeout=30) as client:
        assert client.timeout == llm.Timeout(connect=10, read=30, write=30, pool=30, total=30)
    with llm.client("openai", api_key="k") as client:
        assert client.timeout == llm.Timeout()
        assert client.timeout.total is None
    with pytest.raises(ValueError, match="above 0"):
        llm.Timeout(read=0)


@pytest.mark.parametrize(
    ("exception", "phase", "words"),
    [
        (httpx.ConnectTimeout, "connect", "could not connect to http://x/v1 within the connect timeout (10s)"),
        (httpx.ReadTimeout, "read", "http://x/v1 sent nothing within the read timeout (600s)"),
        (httpx.WriteTimeout, "write", "could not send the request to http://x/v1 within the write timeout (600s)"),
        (httpx.PoolTimeout, "pool", "no connection to http://x/v1 came free within the pool timeout (600s)"),
    ],
)
def test_each_timeout_phase_is_named_in_the_error(
    exception: type[httpx.TimeoutException], phase: str, words: str
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exception("timed out", request=request)

    # The seconds come from the request's own timeouts: here those of an http_client left at ours.
    timeouts = httpx.Timeout(600, connect=10)
    http = httpx.Client(transport=httpx.MockTransport(fail), timeout=timeouts)
    client = llm.client("openai-completions", base_url="http://x/v1", api_key="k", http_client=http, max_retries=1)
    with pytest.raises(llm.TimeoutError) as raised:
        llm.model(MODEL, client=client).call("Hi")
    assert raised.value.phase == phase
    assert words in str(raised.value)
    assert raised.value.attempts == 2
    http.close()


def test_settings_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="max_retries must be 0 or more"):
        llm.client("openai", api_key="k", max_retries=-1)
    with pytest.raises(ValueError, match="max_connections must be 1 or more"):
        llm.client("openai", api_key="k", max_connections=0)
    with pytest.raises(ValueError, match="retries must be 0 or more"):
        llm.model(MODEL, retries=-1)


def test_waiting_for_a_free_connection_is_a_pool_timeout(server: FaultServer) -> None:
    server.script(stall(), ok())
    timeout = llm.Timeout(read=0.6, pool=0.2)

    async def main() -> list[object]:
        async with _client(server, timeout=timeout, max_connections=1, max_retries=0) as client:
            model = llm.model(MODEL, client=client)
            first = asyncio.create_task(model.call_async("Hi"))
            async with asyncio.timeout(HOLD):  # a hang guard
                while server.count == 0:  # until the first call holds the one connection
                    await asyncio.sleep(0.01)
            return list(await asyncio.gather(first, model.call_async("Hi"), return_exceptions=True))

    with within():
        first, second = asyncio.run(main())
    assert isinstance(first, llm.TimeoutError)
    assert first.phase == "read"
    assert isinstance(second, llm.TimeoutError)
    assert second.phase == "pool"
    assert "max_connections" in str(second)


# --- Streams ------------------------------------------------------------------------------------


def _read(stream: llm.Stream[str]) -> tuple[list[str], llm.APIError | None]:
    texts: list[str] = []
    try:
        texts.extend(chunk.content for chunk in stream if chunk.content)
    except llm.APIError as error:
        return texts, error
    return texts, None


def test_a_stream_refused_with_a_429_is_retried_before_its_first_chunk(
    server: FaultServer, retry_waits: list[float]
) -> None:
    server.script(error_json(429, headers={"retry-after": "0"}), ok())
    with _client(server) as client:
        texts, error = _read(llm.model(MODEL, client=client).stream("Hi"))
    assert (texts, error) == (["Hel", "lo"], None)
    assert server.count == 2
    assert retry_waits == [0.0]


@pytest.mark.parametrize("fault", [cut_stream(after_events=0), stalled_stream(after_events=0), reset()])
def test_a_stream_that_fails_before_its_first_event_is_opened_again(server: FaultServer, fault: object) -> None:
    server.script(fault, ok())  # pyright: ignore[reportArgumentType]
    with _client(server, timeout=llm.Timeout(read=0.3)) as client, within():
        stream = llm.model(MODEL, client=client).stream("Hi")
        texts, error = _read(stream)
    assert (texts, error) == (["Hel", "lo"], None)
    assert stream.response.content == "Hello"
    assert server.count == 2


def test_a_stream_cut_after_its_first_chunk_raises_with_the_partial_response_and_is_not_retried(
    server: FaultServer,
) -> None:
    server.script(cut_stream(after_events=1), ok())
    with _client(server) as client:
        texts, error = _read(llm.model(MODEL, client=client).stream("Hi"))
    assert texts == ["Hel"]
    assert isinstance(error, llm.ConnectionError)
    assert "mid-stream" in str(error)
    assert error.partial_response is not None
    assert error.partial_response.content == "Hel"
    assert error.attempts == 1
    assert server.count == 1


def test_a_stream_that_stalls_after_its_first_chunk_is_a_read_timeout_keeping_the_partial(
    server: FaultServer,
) -> None:
    server.script(stalled_stream(after_events=1))
    with _client(server, timeout=llm.Timeout(read=0.3)) as client, within():
        texts, error = _read(llm.model(MODEL, client=client).stream("Hi"))
    assert texts == ["Hel"]
    assert isinstance(error, llm.TimeoutError)
    assert error.phase == "read"
    assert error.partial_response.content == "Hel"
    assert server.count == 1


def test_a_stream_that_never_ends_stops_at_the_total_timeout(server: FaultServer) -> None:
    server.script(dripping_stream(every=0.05))
    with _client(server, timeout=llm.Timeout(read=5, total=0.5)) as client, within():
        texts, error = _read(llm.model(MODEL, client=client).stream("Hi"))
    assert texts  # the stream was flowing (an event every 0.05 s) when the total cut it
    assert isinstance(error, llm.TimeoutError)
    assert error.phase == "total"
    assert error.partial_response.content == "Hel" * len(texts)


def test_async_calls_and_streams_retry_the_same_way(server: FaultServer, retry_waits: list[float]) -> None:
    server.script(error_json(500), ok(), reset(), ok(), cut_stream(after_events=1))

    async def main() -> tuple[str, list[str], list[str], llm.APIError | None]:
        async with _client(server) as client:
            model = llm.model(MODEL, client=client)
            response = await model.call_async("Hi")
            reopened = [chunk.content async for chunk in await model.stream_async("Hi") if chunk.content]
            cut: list[str] = []
            try:
                async for chunk in await model.stream_async("Hi"):
                    cut.append(chunk.content)  # noqa: PERF401 (a comprehension would lose what came before the error)
            except llm.APIError as error:
                return response.content, reopened, cut, error
            return response.content, reopened, cut, None

    content, reopened, cut, error = asyncio.run(main())
    assert content == "Hello"
    assert reopened == ["Hel", "lo"]
    assert cut == ["Hel"]
    assert isinstance(error, llm.ConnectionError)
    assert error.partial_response.content == "Hel"
    assert server.count == 5
    assert len(retry_waits) == 2


# --- Anthropic and Google -----------------------------------------------------------------------


def test_an_anthropic_429_waits_for_the_rate_limit_reset_time(server: FaultServer, retry_waits: list[float]) -> None:
    reset = datetime.now(UTC) + timedelta(seconds=3)
    headers = {
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": reset.isoformat().replace("+00:00", "Z"),
    }
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "Number of requests exceeded"}}
    server.script(status(429, body, headers=headers), ok())
    started = time.time()
    with llm.client("anthropic", base_url=server.url, api_key="k") as client:
        response = llm.model("anthropic:claude-haiku-4-5", client=client).call("Hi")
    ended = time.time()
    assert response.content == "Hello"
    assert server.paths == ["/v1/messages", "/v1/messages"]
    assert len(retry_waits) == 1
    # The time left until the reset, read at some moment during the call, however long it took.
    assert reset.timestamp() - ended - 0.001 <= retry_waits[0] <= reset.timestamp() - started + 0.001


def test_an_anthropic_overloaded_stream_is_retried(server: FaultServer) -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    server.script(status(529, body), ok())
    with llm.client("anthropic", base_url=server.url, api_key="k") as client:
        stream = llm.model("anthropic:claude-haiku-4-5", client=client).stream("Hi")
        assert "".join(chunk.content for chunk in stream) == "Hello"
    assert server.count == 2


def test_a_google_unavailable_is_retried_and_its_retry_info_honoured(
    server: FaultServer, retry_waits: list[float]
) -> None:
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}]
    body = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE", "details": details}}
    server.script(status(503, body), ok())
    with llm.client("google", base_url=server.url, api_key="k") as client:
        response = llm.model("google:gemini-2.5-flash", client=client).call("Hi")
    assert response.content == "Hello"
    assert server.count == 2
    assert server.paths[0].endswith(":generateContent")
    assert retry_waits == [2.0]


# --- Fallback -----------------------------------------------------------------------------------


@pytest.fixture
def anthropic_on(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Anthropic's default client goes to the fault server."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")


@pytest.mark.usefixtures("anthropic_on")
def test_a_model_failing_after_its_retries_falls_back_and_the_response_names_the_one_that_answered(
    server: FaultServer,
) -> None:
    server.script(error_json(500), error_json(500), ok())
    with _client(server, max_retries=1) as client:

        @llm.call(MODEL, client=client, fallback=["anthropic:claude-haiku-4-5"], temperature=0.5)
        def ask() -> str:
            return "Hi"

        response = ask()
    assert response.content == "Hello"
    assert response.model == "anthropic:claude-haiku-4-5"
    assert server.paths == ["/v1/chat/completions", "/v1/chat/completions", "/v1/messages"]
    assert server.requests[2].json()["temperature"] == 0.5


@pytest.mark.usefixtures("anthropic_on")
def test_a_bad_request_does_not_fall_back(server: FaultServer) -> None:
    server.script(error_json(400, "Invalid 'messages'"), ok())
    with _client(server) as client, pytest.raises(llm.BadRequestError) as raised:
        llm.model(MODEL, client=client, fallback="anthropic:claude-haiku-4-5").call("Hi")
    assert raised.value.errors == ()
    assert server.count == 1


@pytest.mark.usefixtures("anthropic_on")
def test_when_every_model_fails_the_error_carries_each_models_error(server: FaultServer) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    server.script(*[error_json(500, "openai down")] * 2, *[status(529, overloaded)] * 2)
    with _client(server) as client, pytest.raises(llm.ServerError) as raised:
        # The call's retries go for every model it falls back to.
        llm.model(MODEL, client=client, retries=1, fallback=["anthropic:claude-haiku-4-5"]).call("Hi")
    error = raised.value
    assert error.provider == "anthropic"
    assert [(e.provider, e.attempts) for e in error.errors] == [("openai-completions", 2), ("anthropic", 2)]
    assert error.errors[-1] is error
    assert "Every model of the fallback failed" in str(error)
    assert "openai-completions:gpt-4o: ServerError 500 after 2 attempt(s): openai down" in str(error)
    assert "anthropic:claude-haiku-4-5: ServerError 529 after 2 attempt(s): Overloaded" in str(error)
    assert server.count == 4


def test_a_fallback_on_the_same_provider_keeps_the_client_and_resume_stays_on_it(server: FaultServer) -> None:
    server.script(error_json(503), ok(), ok())
    with _client(server, max_retries=0) as client:
        response = llm.model(MODEL, client=client, fallback=["openai-completions:gpt-4o-mini"]).call("Hi")
        assert response.model == "openai-completions:gpt-4o-mini"
        again = response.resume("And again?")
    assert again.model == "openai-completions:gpt-4o-mini"
    assert [request.json()["model"] for request in server.requests] == ["gpt-4o", "gpt-4o-mini", "gpt-4o-mini"]


@pytest.mark.usefixtures("anthropic_on")
def test_a_stream_that_cannot_open_falls_back(server: FaultServer) -> None:
    server.script(error_json(500), ok())

    async def main() -> tuple[str, str]:
        async with _client(server, max_retries=0) as client:
            stream = await llm.model(MODEL, client=client, fallback=["anthropic:claude-haiku-4-5"]).stream_async("Hi")
            response = await stream.aresponse()
            assert response.client is not None
            await response.client.aclose()  # Anthropic's default client, opened on this loop
            return response.content, response.model

    assert asyncio.run(main()) == ("Hello", "anthropic:claude-haiku-4-5")
    assert server.paths == ["/v1/chat/completions", "/v1/messages"]


def test_a_malformed_fallback_id_is_refused_when_the_model_is_made() -> None:
    with pytest.raises(llm.ProviderNotFoundError, match="provider:model"):
        llm.model(MODEL, fallback=["claude-haiku-4-5"])


# --- Concurrency --------------------------------------------------------------------------------


@pytest.mark.slow  # a soak: 520 requests, some 4 s
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts file descriptors through /proc")
def test_500_gathered_calls_on_one_client_share_bounded_connections_and_leave_no_sockets() -> None:
    with FaultServer(then=ok()) as server:
        # Some calls meet a rate limit or a reset connection on the way, and are retried.
        server.script(*[error_json(429, headers={"retry-after": "0"}), reset()] * 10)
        gc.collect()  # sockets earlier tests dropped must not be counted
        before = open_fds()

        async def main() -> list[str]:
            # Retries do not sleep here, so one call may meet every fault: 20 retries cover them.
            async with _client(server, max_connections=20, max_retries=20) as client:
                model = llm.model(MODEL, client=client)
                responses = await asyncio.gather(*(model.call_async(f"Call {i}") for i in range(500)))
                return [response.content for response in responses]

        with within(120.0):  # a hang guard: some 4 s here, more on a loaded machine
            contents = asyncio.run(main())
        assert contents == ["Hello"] * 500
        assert server.count == 520
        assert server.most_open_connections <= 20
        assert settled_fds(server, before) <= before


# --- Header parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20ms"}, 0.02),
        ({"x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "20ms"}, None),
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1h2m3s"}, 3723.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_the_wait_is_read_from_retry_after_or_an_exhausted_rate_limit(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert retry_after_seconds(headers) == seconds
