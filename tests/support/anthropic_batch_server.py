"""A real HTTP server on 127.0.0.1 that follows Anthropic's Message Batches API.

`POST /v1/messages/batches` creates a batch, `GET /v1/messages/batches/{id}` reports it (each
read moves it along, unless the test drives it), `POST .../cancel` cancels it, and its
`results_url` serves the results as JSONL, shuffled, as the API warns they may be. Each line is
answered as a single call would be: with the recorded reply to the same request (found by
meaning among the Anthropic recordings in tests/fixtures/recorded), a recorded error for a
request that was recorded failing, and otherwise the recorded `test_call` reply echoing the
line's last user text. A test can make any line fail, expire or be cancelled, cut the results
file short, or hold it mid-download.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs

from tests.support.fixtures import fixtures_dir, load
from tests.support.meaning import structured_comparable
from tests.support.replay import Received, read_request

CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
MAX_REQUESTS = 100_000
MAX_BYTES = 256_000_000

Outcome = Literal["succeeded", "errored", "canceled", "expired"]
Override = Callable[[str, dict[str, Any]], dict[str, Any] | None]
"""Given a line's custom_id and params, the `result` object to answer it with, or None for the usual answer."""


def _key(params: dict[str, Any]) -> str:
    return json.dumps(structured_comparable(params), sort_keys=True)


@cache
def _recorded_answers() -> dict[str, list[dict[str, Any]]]:
    answers: dict[str, list[dict[str, Any]]] = {}
    # The same request was recorded on the plain and the beta surface (`anthropic_beta_*`), and
    # in several scenarios, each with its own reply: the plain surface's come first.
    paths = sorted((fixtures_dir() / "recorded").glob("*/anthropic*/sync.json"))
    for path in sorted(paths, key=lambda path: "anthropic_beta" in path.parent.name):
        fixture = load(path.relative_to(fixtures_dir() / "recorded").as_posix())
        for exchange in fixture["exchanges"]:
            request, response = exchange["request"], exchange["response"]
            if urlsplit(request["url"]).path != "/v1/messages" or "json" not in response:
                continue
            if response["status"] == 200:
                result = {"type": "succeeded", "message": response["json"]}
            else:
                error = {key: value for key, value in response["json"].items() if key != "request_id"}
                result = {"type": "errored", "error": error}
            answers.setdefault(_key(request["json"]), []).append(result)
    return answers


def recorded_answers(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The `result` of every recording of this request (by meaning), the one the server answers with first."""
    return _recorded_answers().get(_key(params), [])


def plain_reply() -> dict[str, Any]:
    """The recorded reply of `test_call` (a plain text answer)."""
    fixture = load("test_call/anthropic_claude_sonnet_4_0/sync.json")
    return fixture["exchanges"][0]["response"]["json"]


def _last_user_text(params: dict[str, Any]) -> str:
    for message in reversed(params.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [part.get("text", "") for part in content or [] if part.get("type") == "text"]
        if texts:
            return " ".join(texts)
    return ""


def echo_reply(custom_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The recorded plain reply, saying back the line's last user text (so a test can tell lines apart)."""
    message = dict(plain_reply())
    message["id"] = f"msg_{custom_id}"
    message["model"] = params.get("model", message["model"])
    message["content"] = [{"type": "text", "text": f"echo: {_last_user_text(params)}"}]
    return message


def error_result(error_type: str, message: str) -> dict[str, Any]:
    """An `errored` result, as the results file spells it."""
    return {"type": "errored", "error": {"type": "error", "error": {"type": error_type, "message": message}}}


def _now() -> datetime:
    return datetime.now(UTC)


def _time(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat().replace("+00:00", "Z")


@attrs.define
class Batch:
    """One Message Batch as the server keeps it."""

    id: str
    custom_ids: list[str]
    params: list[dict[str, Any]]
    planned: list[dict[str, Any]]
    """The result each line gets once it is processed."""
    order: list[int]
    """The order the lines are processed in (shuffled)."""
    headers: dict[str, str]
    created_at: datetime
    status: Literal["in_progress", "canceling", "ended"] = "in_progress"
    processed: int = 0
    """How many lines (taken in `order`) have their planned result."""
    final: dict[int, dict[str, Any]] = attrs.field(factory=dict)
    """Each line's result once the batch ended (processed, cancelled or expired)."""
    cancel_initiated_at: datetime | None = None
    ended_at: datetime | None = None

    def counts(self) -> dict[str, int]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if self.status == "ended":
            for result in self.final.values():
                counts[result["type"] if result["type"] in counts else "errored"] += 1
            return counts
        done = set(self.order[: self.processed])
        for index, result in enumerate(self.planned):
            kind = result["type"] if result["type"] in counts else "errored"
            counts[kind if index in done else "processing"] += 1
        return counts

    def end(self, unprocessed: Outcome) -> None:
        done = set(self.order[: self.processed])
        self.final = {
            index: self.planned[index] if index in done else {"type": unprocessed} for index in range(len(self.planned))
        }
        self.status = "ended"
        self.ended_at = _now()


class AnthropicBatchServer:
    """Anthropic's Message Batches API on 127.0.0.1; `received` holds every request it got.

    Args:
        reads_to_end: With `advance=True`, how many reads of a batch it takes to end it; each
            read processes an equal share of its lines.
        advance: Whether reading a batch moves it along; without, the test ends it (`finish`,
            `expire`, `process`).
        seed: For the shuffled processing and results order.
    """

    def __init__(self, *, reads_to_end: int = 2, advance: bool = True, seed: int = 22) -> None:
        self.received: list[Received] = []
        self.batches: dict[str, Batch] = {}
        self.reads_to_end = reads_to_end
        self.advance = advance
        self.override: Override | None = None
        """Answers chosen by the test, line by line (see `Override`)."""
        self.cut_next_results: tuple[Literal["mid_line", "dropped"], float] | None = None
        """Cut the next results download at this fraction of its bytes: `mid_line` ends the body
        there (its length says so), `dropped` closes the connection there (its length says more)."""
        self.hold_results: threading.Event | None = None
        """When set to an event, the next download sends its first line, then waits for the event."""
        self.hold_timed_out = False
        self.extra_result_lines: list[bytes] = []
        """Raw lines added to the end of every results file (to serve what the API never should)."""
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._count = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                received = read_request(self)
                with server._lock:
                    server.received.append(received)
                server._route(self, received)

            do_GET = _handle
            do_POST = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> AnthropicBatchServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # The test's hand on the batches.

    def process(self, batch_id: str, count: int | None = None) -> None:
        """Process `count` more lines of the batch (all that are left by default)."""
        with self._lock:
            batch = self.batches[batch_id]
            left = len(batch.order) - batch.processed
            batch.processed += left if count is None else min(count, left)

    def finish(self, batch_id: str) -> None:
        """Process every line left and end the batch."""
        with self._lock:
            batch = self.batches[batch_id]
            batch.processed = len(batch.order)
            batch.end("expired")

    def expire(self, batch_id: str) -> None:
        """End the batch as its 24 hours running out would: every line not processed expires."""
        with self._lock:
            self.batches[batch_id].end("expired")

    def requests_to(self, path_end: str) -> list[Received]:
        with self._lock:
            return [received for received in self.received if received.path.endswith(path_end)]

    @contextmanager
    def held_results(self) -> Iterator[threading.Event]:
        """The next download sends its first line and waits until the event is set."""
        event = threading.Event()
        self.hold_results = event
        try:
            yield event
        finally:
            event.set()
            self.hold_results = None

    # Routing.

    def _route(self, handler: BaseHTTPRequestHandler, received: Received) -> None:
        if not received.headers.get("x-api-key"):
            return _error(handler, 401, "authentication_error", "x-api-key header is required")
        if not received.headers.get("anthropic-version"):
            return _error(handler, 400, "invalid_request_error", "anthropic-version: header is required")
        parts = received.path.split("/")
        if parts[:4] != ["", "v1", "messages", "batches"]:
            return _error(handler, 404, "not_found_error", "Not Found")
        rest = parts[4:]
        if received.method == "POST" and rest == []:
            return self._create(handler, received)
        if not rest:
            return _error(handler, 405, "invalid_request_error", "Method Not Allowed")
        with self._lock:
            batch = self.batches.get(rest[0])
        if batch is None:
            return _error(handler, 404, "not_found_error", f"batch {rest[0]!r} not found")
        if received.method == "GET" and len(rest) == 1:
            return self._retrieve(handler, batch)
        if received.method == "POST" and rest[1:] == ["cancel"]:
            return self._cancel(handler, batch)
        if received.method == "GET" and rest[1:] == ["results"]:
            return self._results(handler, batch)
        return _error(handler, 404, "not_found_error", "Not Found")

    def _create(self, handler: BaseHTTPRequestHandler, received: Received) -> None:
        if len(received.body) > MAX_BYTES:
            return _error(handler, 413, "request_too_large", "Request exceeds the maximum allowed number of bytes.")
        try:
            body = received.json()
        except ValueError:
            return _error(handler, 400, "invalid_request_error", "The request body is not valid JSON.")
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not 1 <= len(requests) <= MAX_REQUESTS:
            return _error(handler, 400, "invalid_request_error", "requests: must hold 1 to 100000 items")
        custom_ids: list[str] = []
        params_list: list[dict[str, Any]] = []
        for index, item in enumerate(requests):
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            params = item.get("params") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not CUSTOM_ID.fullmatch(custom_id):
                return _error(handler, 400, "invalid_request_error", f"requests.{index}.custom_id: invalid")
            if not isinstance(params, dict) or not {"model", "max_tokens", "messages"} <= params.keys():
                return _error(
                    handler, 400, "invalid_request_error", f"requests.{index}.params: model, max_tokens, messages"
                )
            if "stream" in params:
                return _error(
                    handler,
                    400,
                    "invalid_request_error",
                    f"requests.{index}.params.stream: Extra inputs are not permitted",
                )
            custom_ids.append(custom_id)
            params_list.append(params)
        if len(set(custom_ids)) != len(custom_ids):
            return _error(handler, 400, "invalid_request_error", "custom_id values must be unique within a batch")
        planned = [self._answer(custom_id, params) for custom_id, params in zip(custom_ids, params_list, strict=True)]
        with self._lock:
            self._count += 1
            batch_id = f"msgbatch_{self._count:024x}"
            order = list(range(len(custom_ids)))
            self._random.shuffle(order)
            batch = Batch(batch_id, custom_ids, params_list, planned, order, received.headers, _now())
            self.batches[batch_id] = batch
            reply = self._batch_object(batch)
        _json(handler, 200, reply)

    def _answer(self, custom_id: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.override is not None:
            chosen = self.override(custom_id, params)
            if chosen is not None:
                return chosen
        recorded = recorded_answers(params)
        if recorded:
            return recorded[0]
        return {"type": "succeeded", "message": echo_reply(custom_id, params)}

    def _retrieve(self, handler: BaseHTTPRequestHandler, batch: Batch) -> None:
        with self._lock:
            if self.advance:
                if batch.status == "canceling":
                    batch.end("canceled")
                elif batch.status == "in_progress":
                    share = -(-len(batch.order) // max(self.reads_to_end, 1))
                    batch.processed = min(batch.processed + share, len(batch.order))
                    if batch.processed == len(batch.order):
                        batch.end("expired")
            reply = self._batch_object(batch)
        _json(handler, 200, reply)

    def _cancel(self, handler: BaseHTTPRequestHandler, batch: Batch) -> None:
        with self._lock:
            if batch.status == "in_progress":
                batch.status = "canceling"
                batch.cancel_initiated_at = _now()
            reply = self._batch_object(batch)
        _json(handler, 200, reply)

    def _results(self, handler: BaseHTTPRequestHandler, batch: Batch) -> None:
        with self._lock:
            if batch.status != "ended":
                return _error(handler, 400, "invalid_request_error", f"Message Batch {batch.id} has not yet ended.")
            indexes = list(batch.final)
            self._random.shuffle(indexes)
            lines = [
                json.dumps({"custom_id": batch.custom_ids[index], "result": batch.final[index]}).encode() + b"\n"
                for index in indexes
            ]
            lines.extend(extra + b"\n" for extra in self.extra_result_lines)
            cut, self.cut_next_results = self.cut_next_results, None
            hold = self.hold_results
        payload = b"".join(lines)
        length = len(payload)
        if cut is not None:
            how, fraction = cut
            at = max(1, int(len(payload) * fraction))
            while payload[at - 1 : at] == b"\n":  # a cut right after a line would not show
                at += 1
            payload = payload[:at]
            if how == "mid_line":
                length = at
        handler.send_response(200)
        handler.send_header("content-type", "application/binary")
        handler.send_header("content-length", str(length))
        handler.end_headers()
        if hold is not None:
            first = len(lines[0]) if lines else 0
            handler.wfile.write(payload[:first])
            handler.wfile.flush()
            if not hold.wait(10):
                self.hold_timed_out = True
            payload = payload[first:]
        handler.wfile.write(payload)
        handler.wfile.flush()
        if cut is not None and cut[0] == "dropped":
            handler.close_connection = True

    def _batch_object(self, batch: Batch) -> dict[str, Any]:
        ended = batch.status == "ended"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": batch.counts(),
            "ended_at": _time(batch.ended_at),
            "created_at": _time(batch.created_at),
            "expires_at": _time(batch.created_at + timedelta(hours=24)),
            "archived_at": None,
            "cancel_initiated_at": _time(batch.cancel_initiated_at),
            "results_url": f"{self.url}/v1/messages/batches/{batch.id}/results" if ended else None,
        }


def _json(handler: BaseHTTPRequestHandler, status: int, body: object) -> None:
    payload = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("request-id", "req_batch_test")
    handler.send_header("content-length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def _error(handler: BaseHTTPRequestHandler, status: int, error_type: str, message: str) -> None:
    _json(handler, status, {"type": "error", "error": {"type": error_type, "message": message}})
