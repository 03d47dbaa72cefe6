"""Gemini Batch Mode (`batchGenerateContent`) behind core's batch SPI (`llm.providers.batches`).

One provider batch is created from inline requests when it is small, or from a JSONL file
uploaded through the Files API (the resumable upload protocol: `start`, then
`upload, finalize`) when it is not:

- inline when the `batchGenerateContent` body is at most 20 MB (Gemini's inline limit) and the
  batch has at most 1,000 lines. Inline results come back inside the batch itself, so every
  status poll of a finished batch carries all of them; past a thousand lines a results file,
  read line by line, is cheaper.
- a file otherwise, up to 2 GB (the Files API's limit, `max_bytes`); core splits larger jobs.

Gemini publishes no limit on requests per batch; `max_requests` (100,000) is ours, so that one
batch that fails loses a bounded part of a job.

Each line carries its `custom_id` as Gemini's `key` (`metadata.key` inline), and results are
matched by it, whatever order they come back in. Batch states map onto core's: `PENDING` is
`validating`, `RUNNING` `in_progress`, then `completed`, `failed`, `cancelled` or `expired`.
Replies are read as Google writes them (camelCase, `int64` counts as strings) and in snake_case
too. On Vertex AI (batch prediction jobs, a different API) `batch_api` refuses with
`llm.FeatureNotSupportedError`, pointing at `mode="concurrent"`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from mirascope import llm
from mirascope.llm.providers.batches import BatchCounts, BatchLine, BatchResult, BatchState, BatchStatus
from mirascope.llm.providers.http import (
    attempts_for,
    error_from_event,
    error_from_response,
    read_body,
    stream_transport_error,
    too_large_error,
    transport_error,
)

from .errors import CODES

if TYPE_CHECKING:
    import httpx

    from ._provider import GoogleProvider

__all__ = [
    "INLINE_MAX_BYTES",
    "INLINE_MAX_REQUESTS",
    "MAX_FILE_BYTES",
    "MAX_REQUESTS",
    "GeminiBatchAPI",
]

INLINE_MAX_BYTES = 20_000_000
"""The largest `batchGenerateContent` body sent with inline requests (Gemini's limit is 20 MB)."""
INLINE_MAX_REQUESTS = 1_000
"""The most lines sent inline; a larger batch is uploaded as a file, and its results read as one."""
MAX_FILE_BYTES = 2_000_000_000
"""The largest input file the Files API takes (2 GB)."""
MAX_REQUESTS = 100_000
"""Lines per provider batch: our bound, not Gemini's (which publishes none)."""

_VERSIONS = ("v1", "v1beta", "v1alpha")
_BATCH_NAME = re.compile(r"batches/[A-Za-z0-9_-]+")
_FILE_NAME = re.compile(r"files/[A-Za-z0-9_-]+")
_JSONL = "application/jsonl"

_STATES: dict[str, BatchStatus] = {
    "PENDING": "validating",
    "RUNNING": "in_progress",
    "SUCCEEDED": "completed",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
    "EXPIRED": "expired",
}

# A line's error is a google.rpc.Status, whose `code` is a gRPC code, not an HTTP status: these
# are the HTTP statuses and names Google gives each, so the error gets the class a call's would.
_GRPC: dict[int, tuple[int, str]] = {
    1: (499, "CANCELLED"),
    2: (500, "UNKNOWN"),
    3: (400, "INVALID_ARGUMENT"),
    4: (504, "DEADLINE_EXCEEDED"),
    5: (404, "NOT_FOUND"),
    6: (409, "ALREADY_EXISTS"),
    7: (403, "PERMISSION_DENIED"),
    8: (429, "RESOURCE_EXHAUSTED"),
    9: (400, "FAILED_PRECONDITION"),
    10: (409, "ABORTED"),
    11: (400, "OUT_OF_RANGE"),
    12: (501, "UNIMPLEMENTED"),
    13: (500, "INTERNAL"),
    14: (503, "UNAVAILABLE"),
    15: (500, "DATA_LOSS"),
    16: (401, "UNAUTHENTICATED"),
}

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _encode(value: object) -> bytes:
    return _dumps(value).encode()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _mapping(value: object) -> Mapping[str, Any] | None:
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else None


def _field(obj: object, name: str) -> Any:
    """`obj[name]` (camelCase, as Google writes it), else its snake_case twin, else None."""
    mapping = _mapping(obj)
    if mapping is None:
        return None
    value = mapping.get(name)
    return mapping.get(_snake(name)) if value is None else value


def _count(stats: object, name: str) -> int:
    # int64 fields arrive as JSON strings; a zero is left out altogether.
    value = _field(stats, name)
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def batch_state(operation: Mapping[str, Any]) -> BatchState:
    """Core's view of a batch from its `batches/{id}` reply (an Operation, or the batch itself)."""
    batch = _mapping(_field(operation, "metadata")) or operation
    raw = str(_field(batch, "state") or _field(operation, "state") or "")
    name = raw.removeprefix("BATCH_STATE_").removeprefix("JOB_STATE_")
    state: BatchStatus = _STATES.get(name, "in_progress")
    stats = _field(batch, "batchStats")
    succeeded = _count(stats, "successfulRequestCount")
    failed = _count(stats, "failedRequestCount")
    pending = _count(stats, "pendingRequestCount")
    total = _count(stats, "requestCount") or succeeded + failed + pending
    if state in ("failed", "cancelled", "expired"):
        # Lines never answered count as failed once the batch is over (see `BatchCounts`).
        failed, pending = total - succeeded, 0
    error: str | None = None
    status = _mapping(_field(operation, "error"))
    if status is not None:
        error = str(_field(status, "message") or dict(status))
    elif state == "expired":
        error = "the batch expired: Gemini did not finish it within its time limit"
    elif state == "failed":
        error = "the batch failed; Gemini gave no reason"
    counts = BatchCounts(total=total, succeeded=succeeded, failed=failed, pending=pending)
    return BatchState(state=state, counts=counts, error=error)


def _answered(operation: Mapping[str, Any]) -> int:
    """How many lines the batch says it answered, with a reply or an error."""
    stats = _field(_mapping(_field(operation, "metadata")) or operation, "batchStats")
    return _count(stats, "successfulRequestCount") + _count(stats, "failedRequestCount")


def _output(operation: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The batch's output: in `metadata.output`, or in the finished Operation's `response`."""
    metadata = _field(operation, "metadata")
    response = _field(operation, "response")
    for candidate in (_field(metadata, "output"), response, _field(response, "output")):
        place = _mapping(candidate)
        if place is not None and (
            _field(place, "inlinedResponses") is not None or _field(place, "responsesFile") is not None
        ):
            return place
    return None


def _batch_name(batch_id: str) -> str:
    name = batch_id if batch_id.startswith("batches/") else f"batches/{batch_id}"
    if not _BATCH_NAME.fullmatch(name):
        raise ValueError(f"{batch_id!r} is not a Gemini batch id (batches/...)")
    return name


class GeminiBatchAPI:
    """One client's access to Gemini's Batch Mode; see the module's description."""

    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_FILE_BYTES

    def __init__(
        self,
        provider: GoogleProvider,
        client: llm.Client,
        *,
        inline_max_bytes: int = INLINE_MAX_BYTES,
        inline_max_requests: int = INLINE_MAX_REQUESTS,
    ) -> None:
        self._provider = provider
        self._client = client
        self.inline_max_bytes = inline_max_bytes
        """The largest body sent with inline requests; larger batches go as a file."""
        self.inline_max_requests = inline_max_requests
        """The most lines sent inline."""

    def __repr__(self) -> str:
        return f"<GeminiBatchAPI {self._client.base_url}>"

    # -- the SPI --

    def line_size(self, line: BatchLine) -> int:
        """The bytes of the line in an input file (`{"key", "request"}` and its newline)."""
        return len(_file_line(line.custom_id, _encode(line.http.body))) + 1

    def submit(self, lines: Sequence[BatchLine]) -> str:
        """Create one batch of `lines`, inline or from an uploaded file; returns `batches/...`."""
        if not lines:
            raise ValueError("a Gemini batch needs at least one line")
        model = lines[0].request.model
        if any(line.request.model != model for line in lines):
            raise ValueError("every line of a Gemini batch must be for the same model")
        bodies = [_encode(line.http.body) for line in lines]
        display_name = f"mirascope {lines[0].custom_id}-{lines[-1].custom_id}"
        inline = _inline_body(display_name, lines, bodies) if len(lines) <= self.inline_max_requests else None
        if inline is not None and len(inline) <= self.inline_max_bytes:
            body = inline
        else:
            data = b"".join(_file_line(line.custom_id, body) + b"\n" for line, body in zip(lines, bodies, strict=True))
            file_name = self._upload(display_name, data)
            body = _encode({"batch": {"display_name": display_name, "input_config": {"file_name": file_name}}})
        url = self._provider.url(self._client, model, "batchGenerateContent")
        operation = self._json(self._send("POST", url, content=body))
        name = _field(operation, "name")
        if not (isinstance(name, str) and _BATCH_NAME.fullmatch(name)):
            name = _field(_field(operation, "metadata"), "name")
        if not (isinstance(name, str) and _BATCH_NAME.fullmatch(name)):
            raise self._bad_reply("batchGenerateContent answered without a batch name (batches/...)")
        return name

    def status(self, batch_id: str) -> BatchState:
        """The batch's state and counts, from `GET batches/{id}`."""
        return batch_state(self._get_batch(batch_id))

    def results(self, batch_id: str) -> Iterator[BatchResult]:
        """Every answered line: inline ones from the batch, else its results file, streamed.

        A results file that ends before every answered line was read raises an `llm.APIError`
        after the lines it did hold; downloading again is safe (core drops duplicates).
        """
        operation = self._get_batch(batch_id)
        output = _output(operation)
        if output is None:
            return
        inlined = _field(output, "inlinedResponses")
        if inlined is not None:
            items = _field(inlined, "inlinedResponses") if _mapping(inlined) is not None else inlined
            for item in cast(list[object], items) if isinstance(items, list) else ():
                metadata = _field(item, "metadata")
                yield self._result(item, _field(metadata, "key"))
            return
        file_name = _field(output, "responsesFile")
        if not (isinstance(file_name, str) and _FILE_NAME.fullmatch(file_name)):
            raise self._bad_reply(f"batch {batch_id} names a results file that is not files/...: {file_name!r}")
        yield from self._download(file_name, _answered(operation))

    def cancel(self, batch_id: str) -> None:
        """`POST batches/{id}:cancel`; lines already answered keep their results."""
        root, version = self._root()
        self._send("POST", f"{root}/{version}/{_batch_name(batch_id)}:cancel", content=b"{}")

    # -- the wire --

    def _root(self) -> tuple[str, str]:
        """The host root (no version) and the API version, for this client."""
        base = self._client.base_url.rstrip("/")
        for version in _VERSIONS:
            if base.endswith(f"/{version}"):
                return base[: -len(version) - 1], version
        version = self._client.options.get("api_version")
        return base, version if isinstance(version, str) else "v1beta"

    def _send(
        self, method: str, url: str, *, content: bytes | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """Send one request and read its reply whole; a failure raises the mapped `llm.APIError`."""
        import httpx

        response = self._open(method, url, content=content, headers=headers)
        try:
            read_body(self._provider.name, self._client, response, attempts_for(self._client, 0))
        except httpx.HTTPError as exc:
            error = transport_error(self._provider.name, self._client, exc)
            raise error from error.__cause__
        return response

    def _open(
        self, method: str, url: str, *, content: bytes | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """Send one request and return the reply with its body unread (a failed one read whole)."""
        import httpx

        http, client_headers = self._client.sync_http()
        merged = {**(client_headers or {}), **(headers or {})}
        request = http.build_request(method, url, content=content, headers=merged or None)
        try:
            response = http.send(request, stream=True)
            if response.status_code >= 400:
                read_body(self._provider.name, self._client, response, attempts_for(self._client, 0))
        except httpx.HTTPError as exc:
            error = transport_error(self._provider.name, self._client, exc)
            raise error from error.__cause__
        if response.status_code >= 400:
            raise error_from_response(self._provider, response, codes=CODES)
        return response

    def _json(self, response: httpx.Response) -> Mapping[str, Any]:
        try:
            body = json.loads(response.content)
        except ValueError:
            raise self._bad_reply(f"{response.url.path} answered with a body that is not JSON") from None
        if not isinstance(body, dict):
            raise self._bad_reply(f"{response.url.path} answered with JSON that is not an object")
        return cast(dict[str, Any], body)

    def _bad_reply(self, message: str) -> llm.APIError:
        return llm.APIError(
            message,
            provider=self._provider.name,
            hint="Check base_url: it should point at the Gemini API, not a proxy that changes replies.",
        )

    def _get_batch(self, batch_id: str) -> Mapping[str, Any]:
        root, version = self._root()
        return self._json(self._send("GET", f"{root}/{version}/{_batch_name(batch_id)}"))

    def _upload(self, display_name: str, data: bytes) -> str:
        """Upload a JSONL input file (resumable protocol, in one piece); returns `files/...`."""
        root, version = self._root()
        start = self._send(
            "POST",
            f"{root}/upload/{version}/files",
            content=_encode({"file": {"display_name": display_name}}),
            headers={
                "content-type": "application/json",
                "x-goog-upload-protocol": "resumable",
                "x-goog-upload-command": "start",
                "x-goog-upload-header-content-length": str(len(data)),
                "x-goog-upload-header-content-type": _JSONL,
            },
        )
        upload_url = start.headers.get("x-goog-upload-url")
        if not upload_url:
            raise self._bad_reply("the Files API started an upload without giving its URL (x-goog-upload-url)")
        # The client's key goes with the bytes: only to the API's own host.
        given, ours = urlsplit(str(upload_url)), urlsplit(root)
        if (given.scheme, given.netloc) != (ours.scheme, ours.netloc):
            raise self._bad_reply(f"the Files API gave an upload URL on another host ({given.netloc})")
        finished = self._send(
            "POST",
            upload_url,
            content=data,
            headers={
                "content-type": _JSONL,
                "x-goog-upload-command": "upload, finalize",
                "x-goog-upload-offset": "0",
            },
        )
        name = _field(_field(self._json(finished), "file"), "name")
        if not (isinstance(name, str) and _FILE_NAME.fullmatch(name)):
            raise self._bad_reply("the Files API finished an upload without naming the file (files/...)")
        return name

    def _download(self, file_name: str, answered: int) -> Iterator[BatchResult]:
        """Stream a results file, one `BatchResult` a line; check that none is missing."""
        import httpx

        root, version = self._root()
        url = f"{root}/download/{version}/{file_name}:download?alt=media"
        response = self._open("GET", url)
        read = 0
        limit = self._client.max_body_bytes
        try:
            for line in response.iter_lines():
                if not line.strip():
                    continue
                if len(line) > limit:
                    raise too_large_error(self._provider.name, self._client, "max_body_bytes")
                try:
                    item = json.loads(line)
                except ValueError:
                    raise self._cut_short(file_name, read, answered) from None
                read += 1
                yield self._result(item, _field(item, "key"))
        except httpx.HTTPError as exc:
            error = stream_transport_error(self._provider.name, self._client, exc)
            if error is None:  # pragma: no cover - every httpx error maps
                raise
            raise error from error.__cause__
        finally:
            response.close()
        if read < answered:
            raise self._cut_short(file_name, read, answered)

    def _cut_short(self, file_name: str, read: int, answered: int) -> llm.APIError:
        return llm.APIError(
            f"the results file {file_name} was cut short: {read} whole lines of {answered}",
            provider=self._provider.name,
            hint="Download the results again; lines already saved are not duplicated.",
        )

    def _result(self, item: object, key: object) -> BatchResult:
        if not isinstance(key, str | int) or isinstance(key, bool):
            raise self._bad_reply("a batch result came without the key of its request")
        custom_id = str(key)
        response = _mapping(_field(item, "response"))
        if response is not None:
            return BatchResult(custom_id=custom_id, body=response)
        error = _mapping(_field(item, "error") or _field(item, "status"))
        if error is None:
            error = {"message": f"Gemini gave neither a response nor an error for {custom_id}"}
        return BatchResult(custom_id=custom_id, error=self._line_error(error))

    def _line_error(self, status: Mapping[str, Any]) -> llm.APIError:
        body = dict(status)
        code = body.get("code")
        if isinstance(code, int) and code in _GRPC:
            http_status, name = _GRPC[code]
            body["code"] = http_status
            body.setdefault("status", name)
        return error_from_event(self._provider, body, codes=CODES)


def _file_line(custom_id: str, body: bytes) -> bytes:
    return b'{"key":' + _encode(custom_id) + b',"request":' + body + b"}"


def _inline_body(display_name: str, lines: Sequence[BatchLine], bodies: Sequence[bytes]) -> bytes:
    # Assembled from the bodies encoded once, rather than encoding every request a second time.
    requests = b",".join(
        b'{"request":' + body + b',"metadata":{"key":' + _encode(line.custom_id) + b"}}"
        for line, body in zip(lines, bodies, strict=True)
    )
    head = _encode({"display_name": display_name})[:-1]
    return b'{"batch":' + head + b',"input_config":{"requests":{"requests":[' + requests + b"]}}}}"
