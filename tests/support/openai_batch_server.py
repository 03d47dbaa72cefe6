"""A real HTTP server on 127.0.0.1 speaking OpenAI's Files and Batches APIs, as published.

`POST /v1/files` (multipart: `purpose=batch`, `file=` JSONL), `POST /v1/batches`,
`GET /v1/batches/{id}`, `POST /v1/batches/{id}/cancel`, `GET /v1/files/{id}/content`.
A batch moves one state per `GET` along its plan (validating -> in_progress -> finalizing ->
completed by default; or to failed, expired, cancelled), or where the test moves it with
`set_status`. When it finishes, each line it ran is answered by the plan's `answer` (a recorded
single-call body by default), replies go to the output file and failures to the error file,
each in shuffled order, as OpenAI writes them.
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import json
import random
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import attrs

from tests.support.fixtures import load
from tests.support.replay import Received, read_request

ENDPOINTS = ("/v1/responses", "/v1/chat/completions")
MAX_LINES = 50_000
MAX_FILE_BYTES = 200 * 1000 * 1000

Fate = Literal["completed", "failed", "expired", "cancelled"]


@attrs.frozen
class Reply:
    """The line ran: its reply, with an HTTP status (400 and up go to the error file)."""

    body: Any
    status: int = 200


@attrs.frozen
class LineError:
    """The line did not run: an `error` object and no reply (`batch_expired`, `request_timeout`)."""

    code: str
    message: str


Answer = Callable[[dict[str, Any]], Reply | LineError]
"""How the server answers one input line (the parsed JSONL object)."""


def recorded_body(endpoint: str) -> dict[str, Any]:
    """The recorded reply body of a plain single call to this endpoint (gpt-4o, "What is 4200 + 42?")."""
    kind = "responses" if endpoint == "/v1/responses" else "completions"
    exchange = load(f"test_call/openai_gpt_4o_{kind}/sync.json")["exchanges"][0]
    return copy.deepcopy(exchange["response"]["json"])


def recorded_answer(line: dict[str, Any]) -> Reply:
    """The recorded body for the line's endpoint, with the line's model."""
    body = recorded_body(str(line.get("url")))
    body["model"] = line.get("body", {}).get("model", body.get("model"))
    return Reply(body)


@attrs.define
class Plan:
    """How the next batch created behaves."""

    fate: Fate = "completed"
    """Where it ends."""
    answer: Answer = recorded_answer
    ran: int | None = None
    """For an expired or cancelled batch: how many lines ran before it stopped (default: half)."""
    seed: int = 7
    """Shuffles the result files."""
    truncate_output: bool = False
    """The output file ends in the middle of its last line (the HTTP reply itself is whole)."""
    drop_output: int = 0
    """The first this many downloads of the output file break off half-way (the connection closes)."""
    auto_advance: bool = True
    """Each GET moves the batch one state on; otherwise only `set_status` moves it."""


@attrs.define
class StoredFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    truncate: bool = False
    drops: int = 0


@attrs.define
class FakeBatch:
    id: str
    endpoint: str
    input_file_id: str
    plan: Plan
    lines: list[dict[str, Any]]
    status: str = "validating"
    steps: list[str] = attrs.field(factory=list[str])
    errors: list[dict[str, Any]] = attrs.field(factory=list[dict[str, Any]])
    output_file_id: str | None = None
    error_file_id: str | None = None
    counts: dict[str, int] = attrs.field(factory=lambda: {"total": 0, "completed": 0, "failed": 0})
    created_at: int = attrs.field(factory=lambda: int(time.time()))
    cancel_requested: bool = False
    gets: int = 0


def _error(message: str, *, type: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": None, "code": code}}


class OpenAIBatchServer:
    """The server; `url` is its root (the API is under `url + prefix`, `/v1` as OpenAI serves it).

    `api_key`: the key every request must carry, as `Authorization: Bearer` (or as Azure's
    `api-key` header); `None` takes any.
    """

    def __init__(self, *, api_key: str | None = "k", prefix: str = "/v1") -> None:
        self.api_key = api_key
        self.prefix = prefix
        self.plan = Plan()
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, FakeBatch] = {}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._ids = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                received = read_request(self)
                with server._lock:
                    server.received.append(received)
                    status, reply, cut = server._route(self.command, received.path, received.headers, received.body)
                payload = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header(
                    "content-type", "application/json" if not isinstance(reply, bytes) else "application/jsonl"
                )
                self.send_header("content-length", str(len(payload)))
                self.send_header("x-request-id", f"req_{server._next_hex()}")
                if cut:
                    self.send_header("connection", "close")
                self.end_headers()
                if cut:
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(payload)

            do_POST = _handle
            do_GET = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OpenAIBatchServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # What a test reads or drives.

    def requests(self, method: str, path_prefix: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.method == method and r.path.startswith(path_prefix)]

    def uploaded_lines(self, batch_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.batches[batch_id].lines)

    def set_status(self, batch_id: str, status: str) -> None:
        """Move a batch to a state now (and finish it, with its files, when that state is final)."""
        with self._lock:
            batch = self.batches[batch_id]
            batch.steps = []
            self._enter(batch, status)

    # The API.

    def _next_hex(self) -> str:
        self._ids += 1
        return f"{self._ids:08x}{random.getrandbits(64):016x}"

    def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, bool]:
        keys = (headers.get("authorization"), f"Bearer {headers.get('api-key')}")
        if self.api_key is not None and f"Bearer {self.api_key}" not in keys:
            return 401, _error("Incorrect API key provided.", code="invalid_api_key"), False
        if not path.startswith(self.prefix + "/"):
            return 404, _error(f"Invalid URL ({method} {path})"), False
        parts = path.removeprefix(self.prefix + "/").split("/")
        if method == "POST" and parts == ["files"]:
            return self._create_file(headers, body)
        if method == "GET" and len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
            return self._file_content(parts[1])
        if method == "POST" and parts == ["batches"]:
            return self._create_batch(body)
        if method == "GET" and len(parts) == 2 and parts[0] == "batches":
            return self._get_batch(parts[1])
        if method == "POST" and len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel":
            return self._cancel(parts[1])
        return 404, _error(f"Invalid URL ({method} {path})"), False

    def _create_file(self, headers: dict[str, str], body: bytes) -> tuple[int, Any, bool]:
        content_type = headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return 400, _error(f"Expected multipart/form-data, got {content_type!r}"), False
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = (part.get_filename(), payload)
        purpose = fields.get("purpose", (None, b""))[1].decode()
        if purpose != "batch":
            return 400, _error(f"purpose must be 'batch' for a batch input file, got {purpose!r}"), False
        if "file" not in fields:
            return 400, _error("Missing required parameter: 'file'."), False
        filename, content = fields["file"]
        if len(content) > MAX_FILE_BYTES:
            return 400, _error("File is larger than the 200 MB a batch takes."), False
        file = StoredFile(
            id=f"file-{self._next_hex()}", filename=filename or "upload", purpose=purpose, content=content
        )
        self.files[file.id] = file
        return 200, self._file_object(file), False

    def _file_object(self, file: StoredFile) -> dict[str, Any]:
        return {
            "id": file.id,
            "object": "file",
            "bytes": len(file.content),
            "created_at": int(time.time()),
            "filename": file.filename,
            "purpose": file.purpose,
        }

    def _file_content(self, file_id: str) -> tuple[int, Any, bool]:
        file = self.files.get(file_id)
        if file is None:
            return 404, _error(f"No such File object: {file_id}"), False
        content = file.content
        if file.truncate:
            content = content[: content.rstrip(b"\n").rfind(b"\n") + 1 + 40]
        drop = file.drops > 0
        file.drops -= drop
        return 200, content, drop

    def _create_batch(self, body: bytes) -> tuple[int, Any, bool]:
        request = json.loads(body)
        file = self.files.get(request.get("input_file_id", ""))
        if file is None:
            return 404, _error(f"No such File object: {request.get('input_file_id')}"), False
        endpoint = request.get("endpoint")
        if endpoint not in ENDPOINTS:
            return 400, _error(f"Invalid endpoint {endpoint!r}", code="invalid_value"), False
        if request.get("completion_window") != "24h":
            return 400, _error("completion_window must be '24h'", code="invalid_value"), False
        batch = FakeBatch(
            id=f"batch_{self._next_hex()}", endpoint=endpoint, input_file_id=file.id, plan=self.plan, lines=[]
        )
        batch.errors = self._validate(file.content, endpoint, batch.lines)
        if batch.errors:
            batch.steps = ["failed"]
        elif self.plan.fate in ("completed", "cancelled"):
            batch.steps = ["in_progress", "finalizing", "completed"]
        elif self.plan.fate == "expired":
            batch.steps = ["in_progress", "expired"]
        else:
            batch.steps = ["failed"]
            batch.errors = [{"code": "token_limit_exceeded", "message": "Enqueued token limit reached.", "line": None}]
        self.batches[batch.id] = batch
        return 200, self._batch_object(batch), False

    def _validate(self, content: bytes, endpoint: str, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = []
        seen: set[str] = set()
        for number, text in enumerate(content.splitlines(), start=1):
            try:
                line = json.loads(text)
            except ValueError:
                errors.append(
                    {
                        "code": "invalid_json_line",
                        "message": "This line is not parseable as valid JSON.",
                        "line": number,
                    }
                )
                continue
            if line.get("method") != "POST" or line.get("url") != endpoint or not isinstance(line.get("body"), dict):
                errors.append(
                    {
                        "code": "invalid_request",
                        "message": f"The line must POST to {endpoint} with a body.",
                        "line": number,
                    }
                )
            custom_id = line.get("custom_id")
            if not isinstance(custom_id, str) or custom_id in seen:
                errors.append({"code": "duplicate_custom_id", "message": "custom_id must be unique.", "line": number})
            seen.add(str(custom_id))
            lines.append(line)
        if len(lines) > MAX_LINES:
            errors.append(
                {"code": "too_many_requests", "message": f"A batch takes at most {MAX_LINES} requests.", "line": None}
            )
        return errors

    def _get_batch(self, batch_id: str) -> tuple[int, Any, bool]:
        batch = self.batches.get(batch_id)
        if batch is None:
            return 404, _error(f"No batch found with id '{batch_id}'."), False
        batch.gets += 1
        if batch.plan.auto_advance and batch.steps:
            self._enter(batch, batch.steps.pop(0))
        return 200, self._batch_object(batch), False

    def _cancel(self, batch_id: str) -> tuple[int, Any, bool]:
        batch = self.batches.get(batch_id)
        if batch is None:
            return 404, _error(f"No batch found with id '{batch_id}'."), False
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return 400, _error(f"Cannot cancel a batch with status '{batch.status}'."), False
        batch.cancel_requested = True
        batch.status = "cancelling"
        batch.steps = ["cancelled"]
        return 200, self._batch_object(batch), False

    def _enter(self, batch: FakeBatch, status: str) -> None:
        batch.status = status
        total = len(batch.lines)
        if status == "in_progress":
            batch.counts = {"total": total, "completed": 0, "failed": 0}
        elif status in ("finalizing", "completed"):
            self._finish(batch, ran=total)
        elif status in ("expired", "cancelled"):
            ran = batch.plan.ran if batch.plan.ran is not None else total // 2
            self._finish(batch, ran=ran, stopped="batch_expired" if status == "expired" else "batch_cancelled")

    def _finish(self, batch: FakeBatch, *, ran: int, stopped: str | None = None) -> None:
        if batch.output_file_id is not None or batch.error_file_id is not None:
            return
        output: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for index, line in enumerate(batch.lines):
            record: dict[str, Any] = {"id": f"batch_req_{self._next_hex()}", "custom_id": line["custom_id"]}
            answer = batch.plan.answer(line) if index < ran else None
            if answer is None:
                what = "expired before it ran" if stopped == "batch_expired" else "was cancelled before it ran"
                record.update(response=None, error={"code": stopped, "message": f"This request {what}."})
                failures.append(record)
            elif isinstance(answer, LineError):
                record.update(response=None, error={"code": answer.code, "message": answer.message})
                failures.append(record)
            else:
                reply = {"status_code": answer.status, "request_id": self._next_hex(), "body": answer.body}
                record.update(response=reply, error=None)
                (output if answer.status < 400 else failures).append(record)
        shuffle = random.Random(batch.plan.seed).shuffle
        shuffle(output)
        shuffle(failures)
        batch.counts = {"total": len(batch.lines), "completed": len(output), "failed": len(failures)}
        if stopped is not None:
            # The counts say what ran; the lines never run are in the error file only.
            batch.counts["failed"] = sum(1 for r in failures if r["error"] is None or r["error"]["code"] != stopped)
        if output:
            file = StoredFile(
                id=f"file-{self._next_hex()}",
                filename="batch_output.jsonl",
                purpose="batch_output",
                content=b"".join(json.dumps(r).encode() + b"\n" for r in output),
                truncate=batch.plan.truncate_output,
                drops=batch.plan.drop_output,
            )
            self.files[file.id] = file
            batch.output_file_id = file.id
        if failures:
            file = StoredFile(
                id=f"file-{self._next_hex()}",
                filename="batch_errors.jsonl",
                purpose="batch_output",
                content=b"".join(json.dumps(r).encode() + b"\n" for r in failures),
            )
            self.files[file.id] = file
            batch.error_file_id = file.id

    def _batch_object(self, batch: FakeBatch) -> dict[str, Any]:
        final = batch.status in ("completed", "failed", "expired", "cancelled")
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": batch.endpoint,
            "errors": {"object": "list", "data": batch.errors} if batch.errors else None,
            "input_file_id": batch.input_file_id,
            "completion_window": "24h",
            "status": batch.status,
            "output_file_id": batch.output_file_id if final else None,
            "error_file_id": batch.error_file_id if final else None,
            "created_at": batch.created_at,
            "in_progress_at": None,
            "expires_at": batch.created_at + 86400,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": dict(batch.counts),
            "metadata": None,
        }
