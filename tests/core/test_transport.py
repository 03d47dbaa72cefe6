"""What a client holds and how much it reads, against a real server on 127.0.0.1.

Event loops that ended leave nothing behind (no loop kept alive, no socket open); threads making
their first calls together share one pool; `total` bounds a reply whose body trickles in; and
a body or stream event past the client's size limit stops with `llm.ResponseTooLargeError`.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import warnings
import weakref
from collections.abc import Iterator

import pytest
from mirascope import llm

from tests.support.faults import (
    FaultServer,
    endless_body,
    large_reply,
    ok,
    open_fds,
    padded_stream,
    settled_fds,
    trickle,
    within,
)

MODEL = "anthropic:claude-haiku-4-5"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(then=ok()) as made:
        yield made


def _client(server: FaultServer, **settings: object) -> llm.Client:
    return llm.client("anthropic", base_url=server.url, api_key="k", **settings)  # pyright: ignore[reportArgumentType]


def _run(model: llm.Model[str], mode: str, *, stream: bool = False) -> None:
    """Make one call, sync or async, reading a stream to its end."""
    if mode == "sync":
        if stream:
            for _ in model.stream("Hi"):
                pass
        else:
            model.call("Hi")
        return

    async def main() -> None:
        if stream:
            async for _ in await model.stream_async("Hi"):
                pass
        else:
            await model.call_async("Hi")

    asyncio.run(main())


# --- Event loops --------------------------------------------------------------------------------


@pytest.mark.slow  # a soak: 200 calls over 50 loops, some 3 s each
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts file descriptors through /proc")
@pytest.mark.parametrize("which", ["default", "explicit"])
def test_fifty_asyncio_runs_leave_no_loop_and_no_socket_behind(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    client = _client(server) if which == "explicit" else None
    model = llm.model(MODEL, client=client)
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def main() -> list[str]:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        responses = await asyncio.gather(*(model.call_async("Hi") for _ in range(3)))
        stream = await model.stream_async("Hi")
        streamed = [chunk.content async for chunk in stream if chunk.content]
        return [response.content for response in responses] + ["".join(streamed)]

    gc.collect()
    before = open_fds()
    with within(120.0):  # a hang guard: some 3 s here, more on a loaded machine
        results = [asyncio.run(main()) for _ in range(50)]
    gc.collect()
    assert results == [["Hello"] * 4] * 50
    assert [loop for loop in loops if loop() is not None] == []
    assert settled_fds(server, before) <= before
    assert server.count == 200


def test_a_loop_closed_by_hand_is_not_kept_alive(server: FaultServer) -> None:
    model = llm.model(MODEL, client=_client(server))
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def main() -> str:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        return (await model.call_async("Hi")).content

    def run_by_hand() -> str:
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(main())
        finally:
            loop.close()  # without closing its async generators first, as asyncio.run does

    with warnings.catch_warnings():
        # Such a loop's sockets cannot be closed on it any more; asyncio says so as they are
        # collected, whenever that is.
        warnings.simplefilter("ignore", ResourceWarning)
        assert [run_by_hand() for _ in range(3)] == ["Hello"] * 3
        gc.collect()
    assert [loop for loop in loops if loop() is not None] == []
    server.wait_until_idle()
    assert server.open_connections == 0


def test_aclose_closes_the_running_loops_connections_and_the_client_works_on_after(server: FaultServer) -> None:
    client = _client(server)
    model = llm.model(MODEL, client=client)

    async def main() -> tuple[int, str]:
        await asyncio.gather(*(model.call_async("Hi") for _ in range(3)))
        await client.aclose()
        server.wait_until_idle()
        open_after_close = server.open_connections
        return open_after_close, (await model.call_async("Hi")).content

    open_after_close, content = asyncio.run(main())
    assert (open_after_close, content) == (0, "Hello")
    server.wait_until_idle()
    assert server.open_connections == 0  # the second pool closed as its loop ended


def test_clients_and_event_loops_load_the_certificates_at_most_once(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loading the CA bundle costs some 25 ms; it was paid for every client and every loop.
    import ssl

    loads: list[object] = []
    create_default_context = ssl.create_default_context

    def counted(*args: object, **kwargs: object) -> ssl.SSLContext:
        loads.append(args)
        return create_default_context(*args, **kwargs)  # pyright: ignore[reportArgumentType]

    monkeypatch.setattr(ssl, "create_default_context", counted)
    for _ in range(3):
        model = llm.model(MODEL, client=_client(server))
        model.call("Hi")
        for _ in range(2):
            asyncio.run(model.call_async("Hi"))
    assert server.count == 9
    assert len(loads) <= 1  # once per process, or none if a client made it already


# --- Threads ------------------------------------------------------------------------------------


def test_sixteen_threads_making_their_first_calls_at_once_share_one_pool(server: FaultServer) -> None:
    client = _client(server, max_connections=4)
    model = llm.model(MODEL, client=client)
    barrier = threading.Barrier(16)
    contents: list[str] = []

    def first_call() -> None:
        barrier.wait()
        contents.append(model.call("Hi").content)

    threads = [threading.Thread(target=first_call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert contents == ["Hello"] * 16
    assert server.most_open_connections <= 4
    client.close()
    server.wait_until_idle()
    assert server.open_connections == 0


def test_sixteen_threads_without_a_client_share_the_one_default_client(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    model = llm.model(MODEL)
    barrier = threading.Barrier(16)
    clients: list[object] = []

    def first_call() -> None:
        barrier.wait()
        clients.append(model.call("Hi").client)

    threads = [threading.Thread(target=first_call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(clients) == 16
    assert len({id(client) for client in clients}) == 1


# --- The total timeout on bodies that trickle in ------------------------------------------------


@pytest.mark.parametrize(
    ("code", "stream"),
    [(200, False), (500, False), (500, True)],
    ids=["reply", "error-body", "stream-refusal-body"],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_body_that_trickles_in_stops_at_the_total_timeout(
    server: FaultServer, code: int, stream: bool, mode: str
) -> None:
    server.script(trickle(code, every=0.05))
    client = _client(server, timeout=llm.Timeout(read=5, total=0.5), max_retries=3)
    with within(), pytest.raises(llm.TimeoutError) as raised:
        _run(llm.model(MODEL, client=client), mode, stream=stream)
    assert raised.value.phase == "total"
    assert "total timeout (0.5s)" in str(raised.value)
    assert raised.value.attempts == 1
    assert server.count == 1
    client.close()


# --- Size limits --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    ("behaviour", "code"),
    [(large_reply(200_000), 200), (large_reply(200_000, code=500), 500), (endless_body(), 200)],
    ids=["reply", "error-body", "endless-body"],
)
def test_a_body_past_max_body_bytes_is_a_response_too_large_error(
    server: FaultServer, behaviour: object, code: int, mode: str
) -> None:
    server.script(behaviour)  # pyright: ignore[reportArgumentType]
    client = _client(server, max_body_bytes=100_000)
    with within(), pytest.raises(llm.ResponseTooLargeError) as raised:
        _run(llm.model(MODEL, client=client), mode)
    error = raised.value
    assert isinstance(error, llm.APIError)
    assert type(error).__module__ == "mirascope.llm"
    assert (error.limit, error.max_bytes, error.status_code) == ("max_body_bytes", 100_000, code)
    assert "larger than max_body_bytes (100000 bytes)" in str(error)
    assert "llm.client('anthropic', max_body_bytes=...)" in str(error)
    assert error.attempts == 1
    assert server.count == 1
    client.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    "behaviour",
    [endless_body(stream=True), padded_stream(200_000), padded_stream(200_000, blank_lines=False)],
    ids=["line-never-ends", "one-large-event", "event-never-ends"],
)
def test_a_stream_event_past_max_event_bytes_is_a_response_too_large_error(
    server: FaultServer, behaviour: object, mode: str
) -> None:
    server.script(behaviour)  # pyright: ignore[reportArgumentType]
    client = _client(server, max_event_bytes=64 * 1024)
    with within(), pytest.raises(llm.ResponseTooLargeError) as raised:
        _run(llm.model(MODEL, client=client), mode, stream=True)
    error = raised.value
    assert (error.limit, error.max_bytes) == ("max_event_bytes", 64 * 1024)
    assert "an event of the stream" in str(error)
    assert "larger than max_event_bytes (64 KiB)" in str(error)
    assert "llm.client('anthropic', max_event_bytes=...)" in str(error)
    assert error.attempts == 1
    assert server.count == 1
    client.close()


def test_a_stream_with_no_line_end_stops_at_the_default_limit_without_a_total(server: FaultServer) -> None:
    server.script(endless_body(stream=True))
    with _client(server) as client, within(), pytest.raises(llm.ResponseTooLargeError) as raised:
        _run(llm.model(MODEL, client=client), "sync", stream=True)
    assert raised.value.max_bytes == 32 * 2**20
    assert "(32 MiB)" in str(raised.value)


def test_replies_and_events_within_the_limits_are_read_whole(server: FaultServer) -> None:
    server.script(large_reply(60_000), padded_stream(60_000))
    with _client(server, max_body_bytes=100_000, max_event_bytes=64 * 1024) as client:
        model = llm.model(MODEL, client=client)
        assert model.call("Hi").content == "Hello"
        assert "".join(chunk.content for chunk in model.stream("Hi")) == "Hello"


def test_size_limits_out_of_range_are_refused() -> None:
    for setting in ("max_body_bytes", "max_event_bytes"):
        for value in (0, -1, 1.5):
            with pytest.raises(llm.UsageError, match=f"{setting} must be a whole number of bytes"):
                llm.client("anthropic", api_key="k", **{setting: value})  # pyright: ignore[reportArgumentType]
