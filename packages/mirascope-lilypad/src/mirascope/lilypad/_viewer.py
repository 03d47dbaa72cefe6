"""`lilypad view`: a local web page over the store, and the small JSON API it reads.

A stdlib `ThreadingHTTPServer` bound to 127.0.0.1 by default. The page is three hand-written
files in `_viewer_static/` (no build step, nothing fetched from the internet); everything else is
JSON under `/api/`, which scripts may read too:

    GET  /api/traces?function=&version=&model=&errors=&session=&since_ns=&until_ns=&limit=&offset=
    GET  /api/traces/<trace_id>                   spans as a tree, and the trace's annotations
    GET  /api/traces/<trace_id>/annotations
    POST /api/traces/<trace_id>/annotations       {"label": "pass"|"fail", "score": 0.5, "reason": "..."}
    GET  /api/functions
    GET  /api/functions/<name>/versions           with counts, p50/p95 latency, mean cost, pass rate
    GET  /api/functions/<name>/diff?a=1.0&b=1.1   both versions' code, a unified and a side-by-side diff
    GET  /api/sessions

Reads open the store read-only; the one write is an annotation. Because a page on any web site
can make the browser send requests to 127.0.0.1, every request must name the viewer in its
`Host` header (which defeats DNS rebinding) and every POST must come from the viewer's own
origin (which defeats cross-site request forgery). The page renders stored strings as text only,
under a `Content-Security-Policy` that allows no inline script.
"""

from __future__ import annotations

import difflib
import errno
import ipaddress
import itertools
import json
import logging
import os
import socket
import threading
import webbrowser
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, ClassVar, NoReturn, cast, overload
from urllib.parse import parse_qs, unquote, urlsplit

from mirascope import llm

from ._store import SpanRecord, Store, StoreArgumentError, StoreError, StoreReadOnlyError

__all__ = ["ViewerError", "ViewerServer", "make_server", "serve"]

logger = logging.getLogger("mirascope.lilypad")

MAX_LIMIT = 1000
"""The most traces one `/api/traces` page returns."""

_MAX_BODY_BYTES = 64 * 1024
_DRAIN_BYTES = 1024 * 1024
_MAX_SQLITE_INTEGER = 2**63 - 1
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
_TRACE_QUERY = frozenset(
    {"function", "version", "model", "errors", "session", "since_ns", "until_ns", "limit", "offset"}
)
_ANNOTATION_FIELDS = frozenset({"label", "score", "reason", "span_id"})

_STATIC: Mapping[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
}

_SECURITY_HEADERS: Mapping[str, str] = {
    # No inline script or style, nothing from elsewhere: a stored `<script>` that slipped into the
    # DOM could still not run.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class ViewerError(llm.Error):
    """The viewer could not start as asked (the port is taken, the address cannot be bound)."""


class _HTTPError(Exception):
    """A request the API answers with an error status and a JSON body saying what to do."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _fail(status: HTTPStatus, message: str) -> NoReturn:
    raise _HTTPError(status, message)


class ViewerServer(ThreadingHTTPServer):
    """The viewer's HTTP server: `.url`, `.serve_forever()`, `.shutdown()`, `.server_close()`."""

    daemon_threads = True  # a browser's idle keep-alive connection never holds up shutdown

    def __init__(self, store: Store, host: str, port: int, static: Mapping[str, bytes]) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.store = store
        """The store, opened read-only; shared by the request threads, as `Store` allows."""
        self.store_path = store.path
        self.host = host
        self.static = static
        self._writer: Store | None = None
        self._writer_lock = threading.Lock()
        super().__init__((host, port), _Handler)
        self.port: int = self.server_address[1]

    def writer(self) -> Store:
        """The store opened for writing, on the first annotation: a viewer that only reads never locks it."""
        with self._writer_lock:
            if self._writer is None:
                self._writer = Store(self.store_path)
            return self._writer

    def server_close(self) -> None:
        """Stop listening and close the store."""
        super().server_close()
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self.store.close()

    @property
    def url(self) -> str:
        """Where a browser on this machine opens the viewer."""
        host = "127.0.0.1" if self.host in _WILDCARD_HOSTS else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def allows_host(self, authority: str | None) -> bool:
        """Whether a `Host` header (or an origin's host and port) names this viewer.

        A DNS-rebinding page reaches 127.0.0.1 under its own domain name, which it cannot make
        one of ours; IP literals are safe, so a viewer bound to every interface accepts them.
        """
        if not authority:
            return False
        try:
            parts = urlsplit(f"//{authority}")
            hostname, port = parts.hostname, parts.port
        except ValueError:
            return False
        if hostname is None or parts.username is not None or (port or 80) != self.port:
            return False
        if hostname in _LOOPBACK_NAMES or hostname == self.host.lower():
            return True
        if self.host in _WILDCARD_HOSTS:
            try:
                ipaddress.ip_address(hostname)
            except ValueError:
                return False
            return True
        return False


def make_server(store_path: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 0) -> ViewerServer:
    """A viewer over the store at `store_path`, bound but not yet serving (`port=0`: any free port).

    Raises:
        StoreError: the store cannot be read (missing, corrupt, from a newer release).
        ViewerError: the address cannot be bound (the port is in use, the host is not this machine).
    """
    folder = resources.files(__name__.rpartition(".")[0]).joinpath("_viewer_static")
    static = {name: folder.joinpath(name).read_bytes() for name, _ in _STATIC.values()}
    store = Store(store_path, readonly=True)  # fails here, with the store's own message
    try:
        return ViewerServer(store, host, port, static)
    except OSError as error:
        store.close()
        if error.errno == errno.EADDRINUSE:
            raise ViewerError(
                f"port {port} on {host} is in use: stop what listens there or choose another port (0 picks a free one)"
            ) from None
        raise ViewerError(f"cannot listen on {host}:{port} ({error.strerror or error}): use 127.0.0.1") from None


def serve(
    store_path: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 0,
    open_browser: bool = False,
) -> None:
    """Serve the viewer until interrupted (Ctrl-C), printing its address first (`port=0`: any free port)."""
    server = make_server(store_path, host, port)
    print(f"Lilypad viewer on {server.url} for {server.store_path} (Ctrl-C stops it)", flush=True)
    if host in _WILDCARD_HOSTS:
        print("Listening on every interface: anyone who can reach this machine can read the traces.", flush=True)
    if open_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    server_version = "lilypad-viewer"
    sys_version = ""

    _GET_ROUTES: ClassVar[list[tuple[tuple[str | None, ...], str]]] = [
        (("api", "traces"), "_list_traces"),
        (("api", "traces", None), "_get_trace"),
        (("api", "traces", None, "annotations"), "_list_annotations"),
        (("api", "functions"), "_list_functions"),
        (("api", "functions", None, "versions"), "_list_versions"),
        (("api", "functions", None, "diff"), "_diff_versions"),
        (("api", "sessions"), "_list_sessions"),
    ]

    _body_read = False

    @property
    def viewer(self) -> ViewerServer:
        return cast(ViewerServer, self.server)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("viewer: " + format, *args)

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_POST(self) -> None:
        self._answer(self._post)

    def do_PUT(self) -> None:
        self._answer(self._not_allowed)

    def do_PATCH(self) -> None:
        self._answer(self._not_allowed)

    def do_DELETE(self) -> None:
        self._answer(self._not_allowed)

    # Plumbing.

    def _answer(self, handle: Callable[[], tuple[HTTPStatus, object]]) -> None:
        try:
            if not self.viewer.allows_host(self.headers.get("Host")):
                _fail(
                    HTTPStatus.FORBIDDEN,
                    f"the Host header must name this viewer (open {self.viewer.url}); other names are refused "
                    "so that a web page cannot reach it through DNS rebinding",
                )
            status, payload = handle()
        except _HTTPError as error:
            status, payload = error.status, {"error": {"status": error.status.value, "message": error.message}}
        except StoreArgumentError as error:
            status, payload = HTTPStatus.BAD_REQUEST, {"error": {"status": 400, "message": str(error)}}
        except StoreReadOnlyError as error:
            status, payload = HTTPStatus.SERVICE_UNAVAILABLE, {"error": {"status": 503, "message": str(error)}}
        except StoreError as error:
            status, payload = HTTPStatus.INTERNAL_SERVER_ERROR, {"error": {"status": 500, "message": str(error)}}
        except Exception as error:  # the page shows the message; the server keeps serving
            logger.exception("lilypad viewer: %s %s failed", self.command, self.path)
            message = f"{type(error).__name__}: {error}"
            status, payload = HTTPStatus.INTERNAL_SERVER_ERROR, {"error": {"status": 500, "message": message}}
        try:
            self._drain()
            if isinstance(payload, _Static):
                self._send(status, payload.body, payload.content_type)
            else:
                body = json.dumps(payload, separators=(",", ":")).encode()
                self._send(status, body, "application/json; charset=utf-8")
        except (BrokenPipeError, ConnectionResetError):  # the page went away meanwhile: nobody to tell
            self.close_connection = True

    def _drain(self) -> None:
        """Read a body left unread (a refused POST), so that closing the socket does not reset the connection.

        Closing with unread bytes makes the kernel send a reset, which can destroy the error response
        before the client reads it; past `_DRAIN_BYTES` the connection is dropped anyway.
        """
        if self._body_read:
            return
        self._body_read = True
        try:
            remaining = min(int(self.headers.get("Content-Length") or 0), _DRAIN_BYTES)
        except ValueError:
            return
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                break
            remaining -= len(chunk)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in _SECURITY_HEADERS.items():
            self.send_header(name, value)
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, POST")
        self.end_headers()
        self.wfile.write(body)

    def _route(self) -> tuple[list[str], dict[str, str]]:
        """The path's segments (each percent-decoded on its own, so `%2F` stays inside one) and the query."""
        parts = urlsplit(self.path)
        segments = [unquote(segment) for segment in parts.path.strip("/").split("/")] if parts.path != "/" else []
        query: dict[str, str] = {}
        try:
            pairs = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        except ValueError:
            _fail(HTTPStatus.BAD_REQUEST, f"malformed query string {parts.query!r}")
        for name, values in pairs.items():
            if len(values) > 1:
                _fail(HTTPStatus.BAD_REQUEST, f"query parameter {name!r} is given {len(values)} times: give it once")
            query[name] = values[0]
        return segments, query

    @staticmethod
    def _match(segments: list[str], pattern: tuple[str | None, ...]) -> list[str] | None:
        if len(segments) != len(pattern):
            return None
        captured: list[str] = []
        for segment, expected in zip(segments, pattern, strict=True):
            if expected is None:
                captured.append(segment)
            elif segment != expected:
                return None
        return captured

    def _not_allowed(self) -> tuple[HTTPStatus, object]:
        _fail(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"{self.command} is not supported: the API reads with GET and annotates with POST",
        )

    def _get(self) -> tuple[HTTPStatus, object]:
        path = urlsplit(self.path).path
        if path in _STATIC:
            name, content_type = _STATIC[path]
            return HTTPStatus.OK, _Static(self.viewer.static[name], content_type)
        if path == "/favicon.ico":
            return HTTPStatus.OK, _Static(b"", "image/x-icon")
        segments, query = self._route()
        for pattern, method in self._GET_ROUTES:
            captured = self._match(segments, pattern)
            if captured is not None:
                handler: Callable[..., tuple[HTTPStatus, object]] = getattr(self, method)
                return handler(*captured, query=query)
        _fail(HTTPStatus.NOT_FOUND, f"no such page or endpoint: {path} (the API is under /api/)")

    def _post(self) -> tuple[HTTPStatus, object]:
        self._check_origin()
        segments, _ = self._route()
        captured = self._match(segments, ("api", "traces", None, "annotations"))
        if captured is None:
            _fail(
                HTTPStatus.NOT_FOUND,
                f"nothing to POST at {urlsplit(self.path).path}: only /api/traces/<id>/annotations",
            )
        return self._annotate(captured[0], self._json_body())

    def _check_origin(self) -> None:
        origin = self.headers.get("Origin")
        allowed = False
        if origin and origin != "null":
            try:
                parts = urlsplit(origin)
            except ValueError:
                parts = None
            allowed = (
                parts is not None
                and parts.scheme == "http"
                and parts.path in ("", "/")
                and not parts.query
                and self.viewer.allows_host(parts.netloc)
            )
        if not allowed:
            _fail(
                HTTPStatus.FORBIDDEN,
                f"a POST must come from the viewer's own page (Origin {self.viewer.url.rstrip('/')}), "
                "so that other web sites cannot write to the store; scripts annotate with `lilypad annotate` "
                "or `lilypad.annotate()`",
            )

    def _json_body(self) -> dict[str, Any]:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            _fail(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the annotation as JSON (Content-Type: application/json)")
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            _fail(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length header")
        if length < 0 or length > _MAX_BODY_BYTES:
            _fail(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is limited to {_MAX_BODY_BYTES} bytes")
        self._body_read = True
        try:
            body = json.loads(self.rfile.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            _fail(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {error}")
        if not isinstance(body, dict):
            _fail(HTTPStatus.BAD_REQUEST, 'the body must be a JSON object such as {"label": "pass", "reason": "..."}')
        return dict(body)  # pyright: ignore[reportUnknownArgumentType]

    # Endpoints.

    def _list_traces(self, *, query: dict[str, str]) -> tuple[HTTPStatus, object]:
        unknown = sorted(set(query) - _TRACE_QUERY)
        if unknown:
            _fail(
                HTTPStatus.BAD_REQUEST,
                f"unknown query parameter(s) {', '.join(unknown)}: use {', '.join(sorted(_TRACE_QUERY))}",
            )
        traces = self.viewer.store.traces(
            function=query.get("function") or None,
            version=query.get("version") or None,
            model=query.get("model") or None,
            errors=_bool_param(query, "errors"),
            session=query.get("session") or None,
            since_ns=_int_param(query, "since_ns", None, low=0, high=_MAX_SQLITE_INTEGER),
            until_ns=_int_param(query, "until_ns", None, low=0, high=_MAX_SQLITE_INTEGER),
            limit=_int_param(query, "limit", 100, low=1, high=MAX_LIMIT),
            offset=_int_param(query, "offset", 0, low=0, high=_MAX_SQLITE_INTEGER),
        )
        return HTTPStatus.OK, [trace.to_json() for trace in traces]

    def _get_trace(self, trace_id: str, *, query: dict[str, str]) -> tuple[HTTPStatus, object]:
        spans = _spans_or_404(self.viewer.store, trace_id)
        trace_id = spans[0].trace_id
        return HTTPStatus.OK, {
            "trace_id": trace_id,
            "span_count": len(spans),
            "spans": span_tree(spans),
            "annotations": [annotation.to_json() for annotation in self.viewer.store.annotations(trace_id)],
        }

    def _list_annotations(self, trace_id: str, *, query: dict[str, str]) -> tuple[HTTPStatus, object]:
        trace_id = _spans_or_404(self.viewer.store, trace_id)[0].trace_id
        return HTTPStatus.OK, [annotation.to_json() for annotation in self.viewer.store.annotations(trace_id)]

    def _list_functions(self, *, query: dict[str, str]) -> tuple[HTTPStatus, object]:
        return HTTPStatus.OK, [function.to_json() for function in self.viewer.store.functions()]

    def _list_versions(self, name: str, *, query: dict[str, str]) -> tuple[HTTPStatus, object]:
        store = self.viewer.store
        versions = store.versions(name)
        if not versions and all(function.name != name for function in store.functions()):
            _fail(HTTPStatus.NOT_FOUND, f"no function named {name!r} in the store: see /api/functions")
        return HTTPStatus.OK, [version.to_json() for version in versions]

    def _diff_versions(self, name: str, *, query: dict[str, str]) -> tuple[HTTPStatus, object]:
        if not query.get("a") or not query.get("b"):
            _fail(HTTPStatus.BAD_REQUEST, "name the two versions to compare: ?a=1.0&b=1.1 (a version or a hash prefix)")
        records = [self.viewer.store.version(name, query[side]) for side in ("a", "b")]
        for side, record in zip(("a", "b"), records, strict=True):
            if record is None:
                _fail(
                    HTTPStatus.NOT_FOUND,
                    f"function {name!r} has no version {query[side]!r}: see /api/functions/{name}/versions",
                )
        a, b = records
        assert a is not None
        assert b is not None
        return HTTPStatus.OK, {
            "function": name,
            "a": a.to_json(),
            "b": b.to_json(),
            **code_diff(a.code, b.code, f"{name} {a.version}", f"{name} {b.version}"),
        }

    def _list_sessions(self, *, query: dict[str, str]) -> tuple[HTTPStatus, object]:
        return HTTPStatus.OK, [session.to_json() for session in self.viewer.store.sessions()]

    def _annotate(self, trace_id: str, body: dict[str, Any]) -> tuple[HTTPStatus, object]:
        # The store checks the label, the score and that something is given; what JSON can get
        # wrong besides (a type the store would take as it is) is checked here.
        unknown = sorted(set(body) - _ANNOTATION_FIELDS)
        if unknown:
            _fail(HTTPStatus.BAD_REQUEST, f"unknown field(s) {', '.join(unknown)}: send label, score, reason, span_id")
        label, score, reason, span_id = (body.get(field) for field in ("label", "score", "reason", "span_id"))
        for field, value in (("label", label), ("reason", reason), ("span_id", span_id)):
            if value is not None and not isinstance(value, str):
                _fail(HTTPStatus.BAD_REQUEST, f"{field} must be a string (or left out), not {value!r}")
        spans = _spans_or_404(self.viewer.store, trace_id)
        if span_id is not None and all(span.span_id != span_id.strip().lower() for span in spans):
            _fail(HTTPStatus.NOT_FOUND, f"trace {spans[0].trace_id} has no span {span_id!r}")
        record = self.viewer.writer().annotate(
            spans[0].trace_id, span_id=span_id, label=label, score=score, reason=reason or None, source="viewer"
        )
        return HTTPStatus.CREATED, record.to_json()


class _Static:
    def __init__(self, body: bytes, content_type: str) -> None:
        self.body = body
        self.content_type = content_type


def _spans_or_404(store: Store, trace_id: str) -> list[SpanRecord]:
    spans = store.trace(trace_id)
    if not spans:
        _fail(HTTPStatus.NOT_FOUND, f"no trace {trace_id!r} in the store: see /api/traces")
    return spans


@overload
def _int_param(query: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int: ...
@overload
def _int_param(query: Mapping[str, str], name: str, default: None, *, low: int, high: int) -> int | None: ...
def _int_param(query: Mapping[str, str], name: str, default: int | None, *, low: int, high: int) -> int | None:
    text = query.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        _fail(HTTPStatus.BAD_REQUEST, f"{name} must be a whole number, not {text!r}")
    if not low <= value <= high:
        _fail(HTTPStatus.BAD_REQUEST, f"{name} must be from {low} to {high}, not {value}")
    return value


def _bool_param(query: Mapping[str, str], name: str) -> bool | None:
    text = (query.get(name) or "").lower()
    if not text:
        return None
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    _fail(HTTPStatus.BAD_REQUEST, f"{name} must be true or false, not {text!r}")


def span_tree(spans: list[SpanRecord]) -> list[dict[str, object]]:
    """The trace's spans nested under their parents, each as its JSON plus its `children`.

    A span whose parent is not in the store (exported from another process, or pruned) is a root,
    so nothing stored is hidden.
    """
    nodes: dict[str, dict[str, object]] = {}
    children: dict[str, list[dict[str, object]]] = {}
    for span in spans:
        nodes[span.span_id] = {**span.to_json(), "children": children.setdefault(span.span_id, [])}
    roots: list[dict[str, object]] = []
    for span in spans:
        parent = span.parent_span_id
        siblings = children[parent] if parent in nodes and parent != span.span_id else roots
        siblings.append(nodes[span.span_id])
    return roots


def code_diff(a: str, b: str, a_name: str, b_name: str) -> dict[str, object]:
    """Two versions' code compared: a unified diff, and rows for a side-by-side view."""
    a_lines, b_lines = a.splitlines(), b.splitlines()
    unified = "\n".join(difflib.unified_diff(a_lines, b_lines, fromfile=a_name, tofile=b_name, lineterm=""))
    rows: list[dict[str, object]] = []
    matcher = difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False)
    for kind, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        pairs = itertools.zip_longest(range(a_start, a_end), range(b_start, b_end))
        for a_index, b_index in pairs:
            rows.append(
                {
                    "kind": kind,  # "equal", "replace", "delete" or "insert"
                    "a_line": None if a_index is None else a_index + 1,
                    "a": None if a_index is None else a_lines[a_index],
                    "b_line": None if b_index is None else b_index + 1,
                    "b": None if b_index is None else b_lines[b_index],
                }
            )
    return {"unified": unified, "side_by_side": rows, "identical": a_lines == b_lines}
