"""A real HTTP server on 127.0.0.1 that answers with recorded responses and keeps what it was sent."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import attrs


@attrs.define
class Received:
    """A request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int]

    def json(self) -> Any:
        return json.loads(self.body)


def read_request(handler: BaseHTTPRequestHandler) -> Received:
    """The request a handler is answering, body read whole, header names lowercased."""
    length = int(handler.headers.get("content-length") or 0)
    body = handler.rfile.read(length) if length else b""
    url = urlsplit(handler.path)
    headers = {k.lower(): v for k, v in handler.headers.items()}
    return Received(handler.command, url.path, url.query, headers, body, handler.client_address)


def encode_response(response: dict[str, Any], *, ascii: bool = True) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body bytes of a recorded response.

    `ascii=False` writes non-ASCII text as raw UTF-8, as most providers send it, rather than
    as `\\u` escapes.
    """
    headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
    if "sse" in response:
        ending = response.get("sse_line_ending", "\n")
        chunks: list[str] = []
        for event in response["sse"]:
            lines: list[str] = []
            if "event" in event:
                lines.append(f"event: {event['event']}")
            if "comment" in event:
                lines.append(f": {event['comment']}")
            if "data" in event:
                data = event["data"]
                text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), ensure_ascii=ascii)
                lines.append(f"data: {text}")
            if "raw" in event:
                lines.append(str(event["raw"]))
            chunks.append(ending.join(lines) + ending + ending)
        body = "".join(chunks).encode()
        headers.setdefault("content-type", "text/event-stream")
    elif "json" in response:
        body = json.dumps(response["json"]).encode()
        headers.setdefault("content-type", "application/json")
    else:
        body = str(response.get("text", "")).encode()
    return int(response["status"]), headers, body


class ReplayServer:
    """Serves queued responses in order; `received` holds every request, in order."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._queue: deque[tuple[int, dict[str, str], bytes]] = deque()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                received = read_request(self)
                with server._lock:
                    server.received.append(received)
                    reply = server._queue.popleft() if server._queue else None
                if reply is None:
                    status, reply_headers, payload = (
                        599,
                        {"content-type": "text/plain"},
                        b"no response queued",
                    )
                else:
                    status, reply_headers, payload = reply
                self.send_response(status)
                for name, value in reply_headers.items():
                    if name not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = _handle
            do_GET = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @contextmanager
    def replaying(self, responses: list[dict[str, Any]]) -> Iterator[Session]:
        """Queue recorded responses; the session lists the requests made meanwhile."""
        with self._lock:
            self._queue.clear()
            self._queue.extend(encode_response(r) for r in responses)
            session = Session(self, len(self.received))
        try:
            yield session
        finally:
            with self._lock:
                self._queue.clear()


class Session:
    """The requests a `replaying` block received."""

    def __init__(self, server: ReplayServer, start: int) -> None:
        self._server = server
        self._start = start

    @property
    def requests(self) -> list[Received]:
        return self._server.received[self._start :]
