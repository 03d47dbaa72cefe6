"""OpenAI's Batch API, for `llm.batch` jobs on `openai:`, `openai-completions:` and Azure's v1 API.

One provider batch is one uploaded JSONL file: `POST {root}/files` (multipart, `purpose=batch`),
then `POST {root}/batches` naming that file and the endpoint every line calls (`/v1/responses`
or `/v1/chat/completions`). `GET {root}/batches/{id}` reports the status; once it is final,
`output_file_id` holds the replies and `error_file_id` the lines that failed, each downloaded
from `GET {root}/files/{id}/content` as JSONL, one line per request, in no particular order.

Each input line's body is exactly what `provider.prepare` builds for a single call, so a batch
line takes every parameter a call does, and each reply body decodes as a single call's does.

A result file cut short (its last line not whole JSON) loses that line only: it is not yielded,
so core reports its request as unanswered. A download the network breaks off raises the mapped
`llm.ConnectionError` instead, so the part is downloaded again rather than marked done.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

# Loaded with the first batch only (`batch_api` imports this module), and `http` imports httpx anyway.
import httpx  # noqa: TID253

from mirascope.llm.exceptions import APIError
from mirascope.llm.providers.batches import BatchCounts, BatchLine, BatchResult, BatchState, BatchStatus
from mirascope.llm.providers.http import (
    attempts_for,
    error_from_event,
    error_from_response,
    read_body,
    transport_error,
)

from .errors import CODES

if TYPE_CHECKING:
    from mirascope import llm

    from ._provider import _OpenAIProtocol  # pyright: ignore[reportPrivateUsage]

__all__ = ["MAX_BYTES", "MAX_REQUESTS", "OpenAIBatchAPI"]

MAX_REQUESTS = 50_000
"""The most requests one batch's input file may hold."""
MAX_BYTES = 200 * 1000 * 1000
"""The largest input file a batch takes (200 MB; counted in decimal megabytes to stay on the safe side)."""

_STATUSES: dict[str, BatchStatus] = {
    "validating": "validating",
    "in_progress": "in_progress",
    "finalizing": "finalizing",
    "completed": "completed",
    "failed": "failed",
    "expired": "expired",
    "cancelling": "cancelling",
    "cancelled": "cancelled",
}

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class OpenAIBatchAPI:
    """One client's access to the Batch API of an OpenAI-protocol provider.

    `endpoint` is what every line calls, as the Batch API names it (`/v1/responses`); each
    line's URL must be that endpoint under the client's API root (what `prepare` gives).
    """

    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES

    def __init__(self, provider: _OpenAIProtocol, client: llm.Client, *, endpoint: str) -> None:
        self._provider = provider
        self._client = client
        self._root = provider.root(client.base_url)
        self._endpoint = endpoint
        self._line_url = self._root + endpoint.removeprefix("/v1")
        # Each line's JSON, made once for `line_size` and reused by `submit`: a 200 MB batch is
        # not encoded twice. Keyed by the line object, which is kept so its id is not reused.
        self._encoded: dict[int, tuple[BatchLine, bytes]] = {}

    def __repr__(self) -> str:
        return f"<OpenAIBatchAPI {self._provider.name!r} {self._endpoint}>"

    def line_size(self, line: BatchLine) -> int:
        """The bytes this line adds to the input file: its JSON and a newline."""
        return len(self._line(line)) + 1

    def submit(self, lines: Sequence[BatchLine]) -> str:
        """Upload the lines as one JSONL file and create a batch of it; returns the batch's id.

        Raises:
            ValueError: No lines, too many, or a line made for another endpoint.
            APIError: The upload or the creation failed (the provider's error, mapped).
        """
        if not lines:
            raise ValueError("a batch needs at least one line")
        if len(lines) > self.max_requests:
            raise ValueError(f"a batch takes at most {self.max_requests} requests; got {len(lines)}")
        content = b"".join([part for line in lines for part in (self._line(line, forget=True), b"\n")])
        if len(content) > self.max_bytes:
            raise ValueError(f"a batch's input file may be at most {self.max_bytes} bytes; this one is {len(content)}")
        file_id = self._upload(content)
        batch = self._json(
            "POST",
            f"{self._root}/batches",
            body={"input_file_id": file_id, "endpoint": self._endpoint, "completion_window": "24h"},
        )
        batch_id = _field(batch, "id")
        if not isinstance(batch_id, str):
            raise self._unexpected("creating a batch", batch)
        return batch_id

    def status(self, batch_id: str) -> BatchState:
        """The batch's status and request counts, with the reason when it failed or expired."""
        batch = self._batch(batch_id)
        return batch_state(batch)

    def results(self, batch_id: str) -> Iterator[BatchResult]:
        """The replies (output file), then the failed lines (error file), streamed line by line."""
        batch = self._batch(batch_id)
        for key in ("output_file_id", "error_file_id"):
            file_id = batch.get(key)
            if isinstance(file_id, str) and file_id:
                for record in self._lines(file_id):
                    result = result_from_line(self._provider, record)
                    if result is not None:
                        yield result

    def cancel(self, batch_id: str) -> None:
        """Ask OpenAI to cancel the batch: it turns `cancelling`, then `cancelled` with what finished."""
        self._json("POST", f"{self._root}/batches/{batch_id}/cancel")

    # The wire.

    def _line(self, line: BatchLine, *, forget: bool = False) -> bytes:
        found = self._encoded.pop(id(line), None) if forget else self._encoded.get(id(line))
        if found is not None and found[0] is line:
            return found[1]
        if line.http.url != self._line_url:
            raise ValueError(
                f"line {line.custom_id!r} calls {line.http.url}, but this batch calls {self._endpoint} "
                f"({self._line_url})"
            )
        encoded = _dumps(
            {"custom_id": line.custom_id, "method": "POST", "url": self._endpoint, "body": line.http.body}
        ).encode()
        if not forget:
            self._encoded[id(line)] = (line, encoded)
        return encoded

    def _upload(self, content: bytes) -> str:
        # The client's own headers say `content-type: application/json`; a multipart body
        # needs its own, with the boundary, so the form is built here rather than by httpx.
        boundary = secrets.token_hex(16)
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="batch.jsonl"\r\n'
            "Content-Type: application/jsonl\r\n\r\n"
        ).encode()
        form = b"".join((head, content, f"\r\n--{boundary}--\r\n".encode()))
        uploaded = self._json(
            "POST",
            f"{self._root}/files",
            content=form,
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        file_id = _field(uploaded, "id")
        if not isinstance(file_id, str):
            raise self._unexpected("uploading the batch's file", uploaded)
        return file_id

    def _batch(self, batch_id: str) -> dict[str, Any]:
        batch: object = self._json("GET", f"{self._root}/batches/{batch_id}")
        if not isinstance(_field(batch, "status"), str):
            raise self._unexpected(f"reading batch {batch_id}", batch)
        return cast(dict[str, Any], batch)

    def _json(
        self,
        method: str,
        url: str,
        *,
        body: object = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> object:
        http, headers = self._client.sync_http()
        if body is not None:
            content = _dumps(body).encode()
        if content_type is not None:
            headers = {**(headers or {}), "content-type": content_type}
        attempts = attempts_for(self._client, 0)
        try:
            response = http.send(http.build_request(method, url, content=content, headers=headers), stream=True)
            read_body(self._provider.name, self._client, response, attempts)
        except httpx.HTTPError as exc:
            error = transport_error(self._provider.name, self._client, exc)
            raise error from error.__cause__
        if response.status_code >= 400:
            raise error_from_response(self._provider, response, codes=CODES)
        try:
            return json.loads(response.content)
        except ValueError:
            raise self._unexpected(f"{method} {httpx.URL(url).path}", response.text[:300]) from None

    def _lines(self, file_id: str) -> Iterator[dict[str, Any]]:
        """A result file's records, read off the wire one line at a time."""
        http, headers = self._client.sync_http()
        url = f"{self._root}/files/{file_id}/content"
        try:
            with http.stream("GET", url, headers=headers) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_from_response(self._provider, response, codes=CODES)
                for text in response.iter_lines():
                    record = _record(text)
                    if record is not None:
                        yield record
        except httpx.HTTPError as exc:
            error = transport_error(self._provider.name, self._client, exc)
            raise error from error.__cause__

    def _unexpected(self, doing: str, reply: object) -> APIError:
        return APIError(
            f"{doing} got a reply that is not what the Batch API sends: {str(reply)[:300]!r}",
            provider=self._provider.name,
            hint="Check base_url: it should point at the provider's API root (the one ending in /v1).",
        )


def _field(reply: object, name: str) -> object:
    return cast(dict[str, object], reply).get(name) if isinstance(reply, dict) else None


def _record(text: str) -> dict[str, Any] | None:
    # A line that is not whole JSON is the end of a file cut short: that line is lost, and core
    # reports its request as unanswered.
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return cast(dict[str, Any], record) if isinstance(record, dict) else None


def batch_state(batch: Mapping[str, Any]) -> BatchState:
    """A batch object's status, counts and (when it failed or expired) the reason."""
    status = _STATUSES.get(str(batch.get("status")), "in_progress")
    counts_obj = batch.get("request_counts")
    counts = cast(dict[str, Any], counts_obj) if isinstance(counts_obj, dict) else {}
    total = _count(counts.get("total"))
    succeeded = _count(counts.get("completed"))
    failed = _count(counts.get("failed"))
    pending = max(total - succeeded - failed, 0)
    if status in ("completed", "failed", "expired", "cancelled"):
        # Lines a finished batch never ran are over too: they come back as errors (or not at all).
        failed, pending = failed + pending, 0
    error: str | None = None
    if status == "failed":
        error = _batch_errors(batch.get("errors")) or "the batch failed without saying why"
    elif status == "expired":
        error = _batch_errors(batch.get("errors")) or (
            "the batch did not finish within its 24h completion window; requests not run by then failed"
        )
    return BatchState(
        state=status, counts=BatchCounts(total=total, succeeded=succeeded, failed=failed, pending=pending), error=error
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _batch_errors(errors: object) -> str | None:
    # {"object": "list", "data": [{"code", "message", "param", "line"}]}: validation failures,
    # each naming the input line (1-based) it found wrong.
    data = cast(dict[str, Any], errors).get("data") if isinstance(errors, dict) else None
    if not isinstance(data, list):
        return None
    messages: list[str] = []
    for item in cast(list[object], data):
        if not isinstance(item, dict):
            continue
        entry = cast(dict[str, Any], item)
        message = str(entry.get("message") or entry.get("code") or "error")
        line = entry.get("line")
        code = entry.get("code")
        prefix = f"line {line}: " if isinstance(line, int) else ""
        suffix = f" ({code})" if isinstance(code, str) and code and code != message else ""
        messages.append(f"{prefix}{message}{suffix}")
    return "; ".join(messages) or None


def result_from_line(provider: _OpenAIProtocol, record: Mapping[str, Any]) -> BatchResult | None:
    """One line of an output or error file as a result, or `None` for a line with no custom_id.

    A reply with a status under 400 gives its body. A reply of 400 or more is mapped as a single
    call's failed reply would be (its status picks the class); an `error` object without a reply
    (`batch_expired`, `batch_cancelled`, `request_timeout`) is mapped as a streamed error event.
    """
    custom_id = record.get("custom_id")
    if not isinstance(custom_id, str):
        return None
    response_obj = record.get("response")
    response = cast(dict[str, Any], response_obj) if isinstance(response_obj, dict) else None
    status = response.get("status_code") if response is not None else None
    if response is not None and isinstance(status, int):
        if status < 400:
            return BatchResult(custom_id=custom_id, body=response.get("body"))
        reply = httpx.Response(
            status,
            content=_dumps(response.get("body")).encode(),
            headers={"content-type": "application/json"},
        )
        return BatchResult(custom_id=custom_id, error=error_from_response(provider, reply, codes=CODES))
    error = record.get("error")
    if error is None:
        error = {"message": f"the batch returned no reply and no error for {custom_id}"}
    return BatchResult(custom_id=custom_id, error=error_from_event(provider, error, codes=CODES))
