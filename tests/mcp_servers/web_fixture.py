"""A real HTTP server on 127.0.0.1 serving scripted pages, for the fetch and web-search servers.

```python
with WebFixture({"/": page("<h1>Hi</h1>", "text/html")}) as site:
    ...  # fetch f"{site.origin}/"
    assert site.paths == ["/"]
```
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

Route = Callable[["_Handler"], None]
"""Writes one reply on the handler's connection."""


def page(body: str | bytes, content_type: str | None = "text/html; charset=utf-8", status: int = 200) -> Route:
    """A complete reply with a content-length."""
    data = body.encode() if isinstance(body, str) else body

    def reply(handler: _Handler) -> None:
        handler.send_response(status)
        if content_type is not None:
            handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return reply


def encoded(data: bytes, encoding: str, content_type: str = "text/plain") -> Route:
    """A reply whose body is already compressed, sent with `Content-Encoding: encoding`."""

    def reply(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Encoding", encoding)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return reply


def trickle(release: threading.Event) -> Route:
    """A text body sent one byte at a time until `release` is set (or the reader hangs up)."""

    def reply(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", "1000000")
        handler.end_headers()
        try:
            while not release.wait(0.05):
                handler.wfile.write(b"x")
                handler.wfile.flush()
        except OSError:
            return

    return reply


def redirect(location: str, status: int = 302) -> Route:
    """A redirect to `location`, as given (absolute or relative)."""

    def reply(handler: _Handler) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return reply


def endless(content_type: str = "text/plain") -> Route:
    """A chunked body that never ends on its own: only a reader's byte cap stops it."""

    def reply(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"x" * 4096
        try:
            for _ in range(100_000):
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            return

    return reply


@dataclass
class Seen:
    """One request the fixture received."""

    path: str
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        assert isinstance(self.server, _Server)
        fixture = self.server.fixture
        fixture.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
        route = fixture.routes.get(self.path.split("?", 1)[0])
        (route or page("not found", "text/plain", 404))(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fixture: WebFixture


@dataclass
class WebFixture:
    """Serves `routes` (path without query → reply) on 127.0.0.1 at a free port."""

    routes: dict[str, Route] = field(default_factory=dict[str, Route])
    tls: ssl.SSLContext | None = None
    """A server-side context: serve https with it."""
    seen: list[Seen] = field(default_factory=list[Seen])
    _server: _Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def paths(self) -> list[str]:
        return [request.path for request in self.seen]

    def __enter__(self) -> Self:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fixture = self
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
