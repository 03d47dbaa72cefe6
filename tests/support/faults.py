"""A real HTTP server on 127.0.0.1 that misbehaves on cue: one scripted behaviour per request.

```python
with FaultServer() as server:
    server.script(status(429, headers={"retry-after": "0"}), ok())
    ...  # the first request is refused with a 429, the second answered
    assert server.count == 2
```

Each behaviour writes the raw reply itself, so it can break HTTP in the ways networks do: a
body shorter than its `content-length`, a stream cut mid-event, a connection reset, a reply
that never comes. `ok()` answers as the provider the request was sent to would (OpenAI Chat
Completions, Anthropic Messages, Gemini), streamed when the request asked for a stream.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

Behaviour = Callable[["_Handler"], None]
"""Writes one reply (or fails to) on the handler's connection."""

HOLD = 30.0
"""Seconds a stalled, dripping or trickling reply keeps its connection before giving up.

The timeouts under test are a second or less, so a call that ends in well under `HOLD` was
ended by its own timeout; the margin is wide enough for a loaded 2-core machine."""


@contextmanager
def within(seconds: float = HOLD / 2) -> Iterator[None]:
    """Fail if the block takes `seconds` or more.

    A bound with room for a loaded machine, never a measure of speed: the default (`HOLD / 2`)
    tells a call ended by its own timeout from one ended by the server giving up after `HOLD`;
    larger bounds are hang guards.
    """
    start = time.monotonic()
    yield
    elapsed = time.monotonic() - start
    assert elapsed < seconds, f"took {elapsed:.2f}s, more than {seconds}s"


@attrs.define
class Request:
    """A request as the server saw it."""

    path: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def stream(self) -> bool:
        return "streamGenerateContent" in self.path or b'"stream":true' in self.body.replace(b" ", b"")


class _QuietServer(ThreadingHTTPServer):
    # 500 concurrent connects must not overflow the listen backlog: the kernel drops the SYNs
    # past it, and each such client waits a second to try again. Read by `listen`, in __init__.
    request_queue_size = 1024

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up mid-reply is what many faults test (limits, timeouts): not news.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # pyright: ignore[reportArgumentType]


class FaultServer:
    """Serves the scripted behaviours in order, then `then` (by default a 599 saying nothing was scripted)."""

    def __init__(self, then: Behaviour | None = None) -> None:
        self.requests: list[Request] = []
        self.then = then
        self.open_connections = 0
        self.most_open_connections = 0
        self._script: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self.released = threading.Event()  # stalled replies wait for this (set on close)
        server = self

        class Handler(_Handler):
            owner = server

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests, in order."""
        with self._lock:
            self._script.extend(behaviours)

    @property
    def count(self) -> int:
        """Requests received so far."""
        return len(self.requests)

    @property
    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    def _next(self, request: Request) -> Behaviour | None:
        with self._lock:
            self.requests.append(request)
            return self._script.popleft() if self._script else self.then

    def wait_until_idle(self, timeout: float = 5.0) -> None:
        """Wait for every connection to be closed on the server's side too.

        `timeout` is a hang guard: the caller asserts on `open_connections` afterwards.
        """
        deadline = time.monotonic() + timeout
        while self.open_connections and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: FaultServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.owner._lock:  # pyright: ignore[reportPrivateUsage]
            self.owner.open_connections += 1
            self.owner.most_open_connections = max(self.owner.most_open_connections, self.owner.open_connections)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.owner._lock:  # pyright: ignore[reportPrivateUsage]
                self.owner.open_connections -= 1

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.received = Request(self.path, self.rfile.read(length) if length else b"")
        behaviour = self.owner._next(self.received)  # pyright: ignore[reportPrivateUsage]
        if behaviour is None:
            behaviour = status(599, "nothing was scripted for this request", content_type="text/plain")
        try:
            behaviour(self)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up first: that is its right
            self.close_connection = True

    def head(self, code: int, headers: dict[str, str]) -> None:
        lines = [f"HTTP/1.1 {code} {_REASONS.get(code, 'Status')}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def hang_up(self) -> None:
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)


_REASONS = {200: "OK", 400: "Bad Request", 408: "Request Timeout", 409: "Conflict", 429: "Too Many Requests"}
_REASONS |= {500: "Internal Server Error", 503: "Service Unavailable", 529: "Overloaded"}


def open_fds() -> int:
    """File descriptors this process has open (Linux: `/proc/self/fd`)."""
    return len(os.listdir("/proc/self/fd"))


def settled_fds(server: FaultServer, before: int) -> int:
    """Open fds once the server's side has closed too (a moment after the client's).

    Callers assert this is at most `before`, not equal to it: fds that earlier tests left to
    close (their servers' threads, the garbage collector) may close during the test, never open.
    """
    server.wait_until_idle()
    deadline = time.monotonic() + 5  # a hang guard: the caller asserts on the count
    while open_fds() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    return open_fds()


# --- Behaviours ---------------------------------------------------------------------------------


def status(
    code: int,
    body: str | dict[str, Any] = "",
    *,
    headers: dict[str, str] | None = None,
    content_type: str | None = None,
) -> Behaviour:
    """A complete reply: `code`, `body` (JSON for a dict), `headers`."""
    if isinstance(body, dict):
        data, kind = json.dumps(body).encode(), content_type or "application/json"
    else:
        data, kind = body.encode(), content_type or "text/plain"

    def behave(handler: _Handler) -> None:
        handler.head(code, {"content-type": kind, "content-length": str(len(data)), **(headers or {})})
        handler.wfile.write(data)

    return behave


def error_json(code: int, message: str = "boom", *, headers: dict[str, str] | None = None) -> Behaviour:
    """An OpenAI-shaped JSON error."""
    return status(code, {"error": {"message": message, "type": "server_error"}}, headers=headers)


def html_page(code: int) -> Behaviour:
    """An HTML error page, as a load balancer sends."""
    title = f"{code} {_REASONS.get(code, 'Error')}"
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>Try again.</p></body></html>"
    return status(code, page, content_type="text/html")


def ok() -> Behaviour:
    """The provider's successful reply to the request: "Hello", whole or streamed."""

    def behave(handler: _Handler) -> None:
        request = handler.received
        if request.stream:
            data = b"".join(_events(request.path))
            handler.head(200, {"content-type": "text/event-stream", "content-length": str(len(data))})
        else:
            data = json.dumps(_reply(request)).encode()
            handler.head(200, {"content-type": "application/json", "content-length": str(len(data))})
        handler.wfile.write(data)

    return behave


def truncated_json() -> Behaviour:
    """A 200 whose JSON body stops halfway, the connection closed short of its `content-length`."""

    def behave(handler: _Handler) -> None:
        data = json.dumps(_reply(handler.received)).encode()
        handler.head(200, {"content-type": "application/json", "content-length": str(len(data))})
        handler.wfile.write(data[: len(data) // 2])
        handler.hang_up()

    return behave


def not_json() -> Behaviour:
    """A 200 whose body is a web page, as a wrong base URL or a captive portal gives."""
    return status(200, "<html><body>Please log in</body></html>", content_type="text/html")


def corrupt_gzip() -> Behaviour:
    """A 200 labelled `content-encoding: gzip` whose body is not gzip."""

    def behave(handler: _Handler) -> None:
        data = b"\x1f\x8b\x08\x00this is not deflate data at all"
        headers = {"content-type": "application/json", "content-encoding": "gzip", "content-length": str(len(data))}
        handler.head(200, headers)
        handler.wfile.write(data)

    return behave


def reset() -> Behaviour:
    """The connection reset (TCP RST) after the request arrived, with no reply."""

    def behave(handler: _Handler) -> None:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        handler.rfile.close()  # the one other holder of the socket: closing both sends the RST now
        handler.connection.close()

    return behave


def stall() -> Behaviour:
    """No reply at all: the request is read, then nothing until the server closes (or `HOLD` passes)."""

    def behave(handler: _Handler) -> None:
        handler.owner.released.wait(HOLD)
        handler.close_connection = True

    return behave


def cut_stream(after_events: int) -> Behaviour:
    """A stream (chunked) that sends `after_events` whole events, half of the next, then drops the connection."""

    def behave(handler: _Handler) -> None:
        events = _events(handler.received.path)
        handler.head(200, {"content-type": "text/event-stream", "transfer-encoding": "chunked"})
        for event in events[:after_events]:
            _chunk(handler, event)
        following = events[after_events]
        _chunk(handler, following[: len(following) // 2])
        handler.hang_up()

    return behave


def stalled_stream(after_events: int) -> Behaviour:
    """A stream that sends `after_events` whole events, then nothing until the server closes (or `HOLD` passes)."""

    def behave(handler: _Handler) -> None:
        handler.head(200, {"content-type": "text/event-stream", "transfer-encoding": "chunked"})
        for event in _events(handler.received.path)[:after_events]:
            _chunk(handler, event)
        handler.wfile.flush()
        handler.owner.released.wait(HOLD)
        handler.close_connection = True

    return behave


def dripping_stream(every: float) -> Behaviour:
    """A stream that does not end: a text event every `every` seconds, until the server closes
    (or `HOLD` passes, when the connection is dropped)."""

    def behave(handler: _Handler) -> None:
        first = _events(handler.received.path)[0]
        handler.head(200, {"content-type": "text/event-stream", "transfer-encoding": "chunked"})
        end = time.monotonic() + HOLD
        while not handler.owner.released.wait(every) and time.monotonic() < end:
            _chunk(handler, first)
        handler.hang_up()

    return behave


def trickle(code: int = 200, every: float = 0.05, *, until: float = HOLD) -> Behaviour:
    """A reply whose body does not complete: headers promising a large JSON body (`code` may be
    an error's), then one byte every `every` seconds until the client hangs up, the server
    closes, or `until` seconds have passed."""

    def behave(handler: _Handler) -> None:
        handler.head(code, {"content-type": "application/json", "content-length": str(10**9)})
        handler.wfile.write(b'{"error": ')
        handler.wfile.flush()
        end = time.monotonic() + until
        while not handler.owner.released.wait(every) and time.monotonic() < end:
            handler.wfile.write(b" ")
            handler.wfile.flush()
        handler.hang_up()

    return behave


def endless_body(code: int = 200, *, stream: bool = False, until: int = 64 << 20) -> Behaviour:
    """A body (chunked) that does not end, sent as fast as the client reads: JSON that never
    closes, or with `stream`, an event stream whose one line never ends. After `until` bytes
    (or when the server closes) the connection is dropped."""

    def behave(handler: _Handler) -> None:
        kind = "text/event-stream" if stream else "application/json"
        handler.head(code, {"content-type": kind, "transfer-encoding": "chunked"})
        _chunk(handler, b'data: {"text": "' if stream else b'{"text": "')
        data = b"x" * (1 << 16)
        for _ in range(until >> 16):
            if handler.owner.released.is_set():
                break
            _chunk(handler, data)
        handler.hang_up()

    return behave


def padded_stream(pad: int, *, blank_lines: bool = True) -> Behaviour:
    """The provider's streamed "Hello", after a keep-alive comment `pad` bytes long.

    Without `blank_lines`, the comment is `pad` one-byte comment lines with no blank line
    between them, so they never end an event.
    """

    def behave(handler: _Handler) -> None:
        handler.head(200, {"content-type": "text/event-stream", "transfer-encoding": "chunked"})
        padding = b": " + b"x" * pad + b"\n\n" if blank_lines else b":\n" * pad
        for start in range(0, len(padding), 1 << 16):
            _chunk(handler, padding[start : start + (1 << 16)])
        for event in _events(handler.received.path):
            _chunk(handler, event)
        _chunk(handler, b"")

    return behave


def large_reply(size: int, code: int = 200) -> Behaviour:
    """The provider's reply (or an OpenAI-shaped error, for a `code` of 400 or more), padded
    with an unread field to about `size` bytes."""

    def behave(handler: _Handler) -> None:
        if code >= 400:
            reply: dict[str, Any] = {"error": {"message": "boom", "type": "server_error"}}
        else:
            reply = _reply(handler.received)
        reply["padding"] = "x" * size
        data = json.dumps(reply).encode()
        handler.head(code, {"content-type": "application/json", "content-length": str(len(data))})
        handler.wfile.write(data)

    return behave


def _chunk(handler: _Handler, data: bytes) -> None:
    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    handler.wfile.flush()


# --- Provider replies ---------------------------------------------------------------------------


def _reply(request: Request) -> dict[str, Any]:
    path = request.path
    if path.endswith("/messages"):
        return {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-haiku-4-5",
            "content": [{"type": "text", "text": "Hello"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    if ":generateContent" in path:
        return {
            "candidates": [{"content": {"role": "model", "parts": [{"text": "Hello"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
            "modelVersion": "gemini-2.5-flash",
        }
    model = request.json().get("model", "gpt-4o")
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _sse(data: dict[str, Any] | str, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return ((f"event: {event}\n" if event else "") + f"data: {text}\n\n").encode()


def _events(path: str) -> list[bytes]:
    """The events of a streamed "Hello", split "Hel" + "lo", as the provider at `path` sends them."""
    if path.endswith("/messages"):
        message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "content": []}
        message |= {"stop_reason": None, "usage": {"input_tokens": 1, "output_tokens": 0}}
        return [
            _sse({"type": "message_start", "message": message}, "message_start"),
            _sse(
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                "content_block_start",
            ),
            _sse(
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
                "content_block_delta",
            ),
            _sse(
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}},
                "content_block_delta",
            ),
            _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
            _sse(
                {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
                "message_delta",
            ),
            _sse({"type": "message_stop"}, "message_stop"),
        ]
    if "streamGenerateContent" in path:
        return [
            _sse({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}}]}),
            _sse(
                {
                    "candidates": [{"content": {"role": "model", "parts": [{"text": "lo"}]}, "finishReason": "STOP"}],
                    "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 2, "totalTokenCount": 3},
                }
            ),
        ]
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o"}
    return [
        _sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]}),
        _sse({**base, "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]}),
        _sse("[DONE]"),
    ]
