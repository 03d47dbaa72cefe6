"""A real HTTP server on 127.0.0.1 that follows Gemini's published Batch Mode.

What it serves (paths under `/v1beta`, as the Gemini API reference gives them):

- `POST /upload/v1beta/files`: the Files API's resumable upload. A `start` (headers
  `X-Goog-Upload-Protocol: resumable`, `X-Goog-Upload-Command: start`,
  `X-Goog-Upload-Header-Content-Length/-Content-Type`, JSON `{"file": {"display_name"}}`) answers
  with `X-Goog-Upload-URL`; the bytes then go there with `X-Goog-Upload-Command: upload, finalize`
  and `X-Goog-Upload-Offset: 0`, answered with `{"file": {"name": "files/...", ...}}`.
- `POST /v1beta/models/{model}:batchGenerateContent` with `{"batch": {"display_name",
  "input_config": {"requests": {"requests": [{"request", "metadata": {"key"}}]}} | {"file_name"}}}`
  (camelCase accepted too): an Operation named `batches/...`; inline bodies over 20 MB are refused.
- `GET /v1beta/batches/{id}`: the Operation, `metadata.state` walking `BATCH_STATE_PENDING ->
  RUNNING -> SUCCEEDED` one step per GET (or another script, or set by the test), with
  `metadata.batchStats` (int64 counts as strings, zeros left out, as proto3 JSON does) and, once
  lines are answered, `metadata.output` (`inlinedResponses.inlinedResponses[{response | error,
  metadata.key}]` for inline input, `responsesFile` for file input); a finished batch has
  `done: true` and the output again in `response`, a failed one `error`.
- `POST /v1beta/batches/{id}:cancel`: the batch shows `BATCH_STATE_CANCELLED` from then on.
- `GET /download/v1beta/files/{id}:download?alt=media`: the responses file, JSONL
  `{"key", "response" | "error"}`; `cut_results` cuts it short in one of three ways.

Every line is answered with a recorded single-call body (`tests/fixtures/recorded`, the Gemini
exchange whose request equals the line's, else the plain `test_call` reply), or with the
google.rpc.Status given for its key in `line_errors`. Results come back shuffled (seeded).
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import attrs

from tests.support.fixtures import fixtures_dir, load

INLINE_LIMIT = 20 * 1024 * 1024
"""The largest inline `batchGenerateContent` body the server takes (Gemini: 20 MB)."""

SUCCEEDS = ("PENDING", "RUNNING", "SUCCEEDED")
"""The default script: one state per GET of the batch."""

CutMode = Literal["close", "mid_line", "at_line"]
Answer = Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]


@attrs.define
class Received:
    """A request as the server saw it (the body's size, not the body: uploads can be large)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    size: int


@attrs.define
class Batch:
    """One batch the server holds."""

    name: str
    model: str
    display_name: str
    keys: list[str]
    requests: list[dict[str, Any]]
    from_file: bool
    script: tuple[str, ...]
    step: int = 0
    forced: str | None = None

    @property
    def state(self) -> str:
        return self.forced or self.script[min(self.step, len(self.script) - 1)]


def status_error(code: int = 3, message: str = "Request contains an invalid argument.") -> dict[str, Any]:
    """A google.rpc.Status, as a batch line's `error` is (`code` is gRPC's: 3 is INVALID_ARGUMENT)."""
    return {"code": code, "message": message}


@cache
def _recorded_replies() -> dict[str, dict[str, Any]]:
    """Recorded Gemini `generateContent` replies, keyed by their request body."""
    replies: dict[str, dict[str, Any]] = {}
    root = fixtures_dir() / "recorded"
    for path in sorted(root.glob("*/google_*/sync.json")):
        for exchange in json.loads(path.read_text()).get("exchanges", []):
            request, response = exchange.get("request", {}), exchange.get("response", {})
            if (
                str(request.get("url", "")).endswith(":generateContent")
                and response.get("status") == 200
                and "json" in response
            ):
                replies.setdefault(_canonical(request.get("json")), response["json"])
    return replies


def _canonical(body: object) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def recorded_reply(request: dict[str, Any]) -> dict[str, Any]:
    """The recorded reply to this request body, else the plain `test_call` one."""
    found = _recorded_replies().get(_canonical(request))
    if found is not None:
        return found
    return load("test_call/google_gemini_2_5_flash/sync.json")["exchanges"][0]["response"]["json"]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _pick(obj: dict[str, Any], name: str) -> Any:
    """A field by its camelCase or snake_case name: Google's JSON parsers take both."""
    value = obj.get(name)
    return obj.get(_snake(name)) if value is None else value


def _google_error(status: int, code: str, message: str, reason: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message, "status": code}
    if reason is not None:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
    return {"error": error}


class GeminiBatchServer:
    """Gemini's Batch Mode and Files API, in memory; see the module's description."""

    def __init__(self, *, api_key: str = "k", seed: int = 7) -> None:
        self.api_key = api_key
        self.received: list[Received] = []
        self.batches: dict[str, Batch] = {}
        self.files: dict[str, bytes] = {}
        self.script: tuple[str, ...] = SUCCEEDS
        """The states each new batch walks through, one per GET (the last one stays)."""
        self.line_errors: dict[str, dict[str, Any]] = {}
        """Keys answered with this google.rpc.Status instead of a reply."""
        self.answer: Answer = self._answer
        self.cut_results: CutMode | None = None
        """How downloads of a responses file are cut short, if they are."""
        self.snake_case = False
        """Write the batch's own fields in snake_case (Google's clients read both)."""
        self.upload_base: str | None = None
        """Where `X-Goog-Upload-URL` points, when not at this server."""
        self._uploads: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._ids = 0
        self._closed = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server._lock:
                    server.received.append(Received(self.command, url.path, url.query, headers, len(body)))
                    if headers.get("x-goog-api-key") != server.api_key:
                        reply = (
                            400,
                            {},
                            _google_error(400, "INVALID_ARGUMENT", "API key not valid.", "API_KEY_INVALID"),
                        )
                    else:
                        reply = server._route(self.command, url.path, parse_qs(url.query), headers, body)
                status, reply_headers, payload = reply
                if isinstance(payload, bytes | bytearray):
                    data = bytes(payload)
                    reply_headers.setdefault("content-type", "application/octet-stream")
                else:
                    data = json.dumps(payload).encode()
                    reply_headers.setdefault("content-type", "application/json; charset=UTF-8")
                declared = int(reply_headers.pop("x-declared-length", len(data)))
                self.send_response(status)
                for name, value in reply_headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(declared))
                if declared != len(data):
                    self.send_header("connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(data)

            do_POST = _handle
            do_GET = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()

    # -- driven by the test --

    def set_state(self, name: str, state: str) -> None:
        """Hold the batch at `state` (`RUNNING`, `FAILED`, ...) whatever its script says."""
        with self._lock:
            self.batches[name].forced = state

    def requests_to(self, path_part: str) -> list[Received]:
        """The requests whose path contains `path_part`."""
        return [r for r in self.received if path_part in r.path]

    # -- routing --

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if method == "POST" and path == "/upload/v1beta/files":
            if "upload_id" in query:
                return self._finish_upload(query["upload_id"][0], headers, body)
            return self._start_upload(headers, body)
        match = re.fullmatch(r"/v1beta/models/([^/:]+):batchGenerateContent", path)
        if method == "POST" and match:
            return self._create(match.group(1), body)
        match = re.fullmatch(r"/v1beta/(batches/[A-Za-z0-9_-]+)(:cancel)?", path)
        if match and match.group(1) in self.batches:
            batch = self.batches[match.group(1)]
            if match.group(2) and method == "POST":
                if batch.state in ("PENDING", "RUNNING"):
                    batch.forced = "CANCELLED"
                return 200, {}, {}
            if not match.group(2) and method == "GET":
                reply = self._operation(batch)
                batch.step += 1
                return 200, {}, reply
        match = re.fullmatch(r"/download/v1beta/(files/[A-Za-z0-9_-]+):download", path)
        if method == "GET" and match and match.group(1) in self.files and query.get("alt") == ["media"]:
            return self._download(self.files[match.group(1)])
        return 404, {}, _google_error(404, "NOT_FOUND", "Requested entity was not found.")

    def _new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:04d}{self._random.randrange(16**8):08x}"

    def _start_upload(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        if headers.get("x-goog-upload-protocol") != "resumable" or headers.get("x-goog-upload-command") != "start":
            return 400, {}, _google_error(400, "INVALID_ARGUMENT", "Upload has to be started (resumable, start).")
        try:
            declared = int(headers["x-goog-upload-header-content-length"])
            display_name = _pick(json.loads(body)["file"], "displayName") or ""
        except (KeyError, ValueError, TypeError):
            return 400, {}, _google_error(400, "INVALID_ARGUMENT", "Bad upload start.")
        upload_id = self._new_id("up")
        self._uploads[upload_id] = (declared, str(display_name))
        base = self.upload_base or self.url
        return (
            200,
            {
                "x-goog-upload-url": f"{base}/upload/v1beta/files?upload_id={upload_id}&upload_protocol=resumable",
                "x-goog-upload-status": "active",
                "x-goog-upload-chunk-granularity": "8388608",
            },
            b"",
        )

    def _finish_upload(self, upload_id: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        started = self._uploads.pop(upload_id, None)
        if started is None:
            return 404, {}, _google_error(404, "NOT_FOUND", "No such upload.")
        declared, display_name = started
        command = {part.strip() for part in headers.get("x-goog-upload-command", "").split(",")}
        if command != {"upload", "finalize"} or headers.get("x-goog-upload-offset") != "0" or len(body) != declared:
            return 400, {}, _google_error(400, "INVALID_ARGUMENT", "Upload does not match its start.")
        name = f"files/{self._new_id('f')}"
        self.files[name] = body
        file = {
            "name": name,
            "displayName": display_name,
            "mimeType": "application/jsonl",
            "sizeBytes": str(len(body)),
            "state": "ACTIVE",
            "source": "UPLOADED",
            "uri": f"{self.url}/v1beta/{name}",
        }
        return 200, {"x-goog-upload-status": "final"}, {"file": file}

    def _create(self, model: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        if len(body) > INLINE_LIMIT:
            return (
                400,
                {},
                _google_error(
                    400, "INVALID_ARGUMENT", f"Request payload size exceeds the limit: {INLINE_LIMIT} bytes."
                ),
            )
        try:
            batch = _pick(json.loads(body), "batch")
            display_name = _pick(batch, "displayName")
            config = _pick(batch, "inputConfig")
            inline = _pick(config, "requests")
            file_name = _pick(config, "fileName")
        except (ValueError, TypeError, AttributeError):
            return 400, {}, _google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload.")
        if not display_name or (inline is None) == (file_name is None):
            return 400, {}, _google_error(400, "INVALID_ARGUMENT", "batch needs display_name and one input.")
        keys: list[str] = []
        requests: list[dict[str, Any]] = []
        if inline is not None:
            items = _pick(inline, "requests") or []
            pairs = [(_pick(item.get("metadata") or {}, "key"), item.get("request")) for item in items]
        else:
            if file_name not in self.files:
                return 404, {}, _google_error(404, "NOT_FOUND", f"File {file_name} not found.")
            try:
                pairs = [
                    (line["key"], line["request"])
                    for line in map(json.loads, self.files[file_name].splitlines())
                    if line
                ]
            except (ValueError, KeyError, TypeError):
                return 400, {}, _google_error(400, "INVALID_ARGUMENT", "Bad line in the input file.")
        for key, request in pairs:
            if not isinstance(key, str) or not isinstance(request, dict) or "contents" not in request:
                return 400, {}, _google_error(400, "INVALID_ARGUMENT", "Each request needs contents and a key.")
            keys.append(key)
            requests.append(request)
        if not keys or len(set(keys)) != len(keys):
            return 400, {}, _google_error(400, "INVALID_ARGUMENT", "Keys must be present and unique.")
        name = f"batches/{self._new_id('b')}"
        made = Batch(name, f"models/{model}", display_name, keys, requests, file_name is not None, self.script)
        self.batches[name] = made
        return 200, {}, self._operation(made)

    # -- replies --

    def _answer(self, key: str, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if key in self.line_errors:
            return "error", self.line_errors[key]
        return "response", recorded_reply(request)

    def _answered(self, batch: Batch) -> int:
        state = batch.state
        if state == "SUCCEEDED":
            return len(batch.keys)
        if state in ("RUNNING", "CANCELLED", "EXPIRED"):
            return len(batch.keys) // 2
        return 0

    def _operation(self, batch: Batch) -> dict[str, Any]:
        key = _snake if self.snake_case else (lambda name: name)
        answered = self._answered(batch)
        results = [
            (k, *self.answer(k, r)) for k, r in zip(batch.keys[:answered], batch.requests[:answered], strict=True)
        ]
        self._random.shuffle(results)
        failed = sum(1 for _, kind, _ in results if kind == "error")
        counts = {
            "requestCount": len(batch.keys),
            "successfulRequestCount": answered - failed,
            "failedRequestCount": failed,
            "pendingRequestCount": 0 if batch.state in ("SUCCEEDED", "FAILED") else len(batch.keys) - answered,
        }
        metadata: dict[str, Any] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
            key("model"): batch.model,
            key("displayName"): batch.display_name,
            key("createTime"): "2026-12-05T01:00:00.000000Z",
            key("updateTime"): "2026-12-05T01:00:05.000000Z",
            key("batchStats"): {key(name): str(count) for name, count in counts.items() if count},
            key("state"): f"BATCH_STATE_{batch.state}",
            key("name"): batch.name,
        }
        operation: dict[str, Any] = {"name": batch.name, "metadata": metadata}
        done = batch.state in ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED")
        if done:
            operation["done"] = True
        if results:
            if batch.from_file:
                file_name = f"files/batch-{batch.name.removeprefix('batches/')}"
                self.files[file_name] = b"".join(
                    json.dumps({"key": k, kind: value}).encode() + b"\n" for k, kind, value in results
                )
                output: dict[str, Any] = {key("responsesFile"): file_name}
            else:
                lines = [{kind: value, "metadata": {"key": k}} for k, kind, value in results]
                output = {key("inlinedResponses"): {key("inlinedResponses"): lines}}
            metadata[key("output")] = output
            if batch.state == "SUCCEEDED":
                operation["response"] = {
                    "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput",
                    **output,
                }
        if batch.state == "FAILED":
            operation["error"] = status_error(13, "The batch could not be processed.")
        return operation

    def _download(self, data: bytes) -> tuple[int, dict[str, str], Any]:
        if self.cut_results == "close":  # says it is whole, then the connection drops
            return 200, {"x-declared-length": str(len(data))}, data[: len(data) // 2]
        if self.cut_results == "mid_line":
            return 200, {}, data[: len(data) // 2]
        if self.cut_results == "at_line":
            lines = data.splitlines(keepends=True)
            return 200, {}, b"".join(lines[: len(lines) // 2])
        return 200, {}, data


@contextmanager
def running(**options: Any) -> Iterator[GeminiBatchServer]:
    """A server for the length of the block."""
    server = GeminiBatchServer(**options)
    try:
        yield server
    finally:
        server.close()
