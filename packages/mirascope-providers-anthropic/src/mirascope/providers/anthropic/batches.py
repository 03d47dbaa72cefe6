"""Anthropic's Message Batches API (`/v1/messages/batches`) behind core's batch SPI.

Each line goes up as `{"custom_id", "params"}`, where `params` is the very Messages body a single
call sends (less `stream`), so a batched call asks for exactly what the call would. The reply
bodies in the results file are Messages replies, which `provider.decode` reads as for a call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlsplit

from mirascope import llm
from mirascope.llm.providers.batches import BatchCounts, BatchLine, BatchResult, BatchState, BatchStatus

from .errors import CODES

if TYPE_CHECKING:
    import httpx

    from ._provider import AnthropicProvider

__all__ = ["MAX_BYTES", "MAX_REQUESTS", "AnthropicBatches", "batch_state", "line_result"]

MAX_REQUESTS = 100_000
"""The most requests one Message Batch may hold."""

MAX_BYTES = 256_000_000
"""The largest create body one Message Batch may have (Anthropic's "256 MB", read as decimal to stay under it)."""

_BETA_HEADER = "anthropic-beta"

# As core sends a call's body: the bytes counted by `line_size` are the bytes uploaded.
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode

_UNANSWERED: dict[str, str] = {
    "canceled": "the batch was cancelled before this request was processed",
    "expired": "the batch's 24 hours ran out before this request was processed",
}

_UNANSWERED_HINTS: dict[str, str] = {
    "canceled": "Submit it again in a new batch if you still want its answer.",
    "expired": "Submit it again in a new batch; Anthropic processes a batch within 24 hours.",
}


def batch_state(batch: Mapping[str, Any]) -> BatchState:
    """Core's view of a Message Batch object: its status literal, counts, and why it expired.

    `in_progress` and `canceling` map directly; `ended` is `completed`, unless no request was
    answered and every one was cancelled (`cancelled`) or ran out of time (`expired`).
    """
    raw_counts = cast("Mapping[str, Any]", batch.get("request_counts") or {})
    processing, succeeded, errored, canceled, expired = (
        int(raw_counts.get(name) or 0) for name in ("processing", "succeeded", "errored", "canceled", "expired")
    )
    total = processing + succeeded + errored + canceled + expired
    counts = BatchCounts(total=total, succeeded=succeeded, failed=errored + canceled + expired, pending=processing)
    processing_status = batch.get("processing_status")
    state: BatchStatus
    error = None
    if processing_status == "in_progress":
        state = "in_progress"
    elif processing_status == "canceling":
        state = "cancelling"
    elif processing_status == "ended":
        state = "completed"
        if total and canceled == total:
            state = "cancelled"
        elif total and expired == total:
            state = "expired"
        if expired:
            error = f"{expired} of {total} requests expired: Anthropic did not process them within 24 hours"
    else:
        raise llm.APIError(
            f"the Message Batch {batch.get('id')!r} has a processing_status Mirascope does not know: "
            f"{processing_status!r}",
            provider="anthropic",
            body=dict(batch),
            hint="Upgrade mirascope-providers-anthropic; the API may have added a state.",
        )
    return BatchState(state=state, counts=counts, error=error)


def line_result(provider: AnthropicProvider, line: Mapping[str, Any]) -> BatchResult:
    """One decoded line of a results file: the reply of a `succeeded` result, else the error."""
    custom_id = line.get("custom_id")
    result: object = line.get("result")
    if not isinstance(custom_id, str) or not isinstance(result, dict):
        raise llm.APIError(
            "a line of the batch's results file has no custom_id or result",
            provider=provider.name,
            body=dict(line),
            hint="Check base_url: the results came from something other than Anthropic's API.",
        )
    result = cast("dict[str, Any]", result)
    kind = result.get("type")
    if kind == "succeeded":
        return BatchResult(custom_id=custom_id, body=result.get("message"))
    if kind == "errored":
        from mirascope.llm.providers.http import error_from_event

        return BatchResult(custom_id=custom_id, error=error_from_event(provider, result.get("error"), codes=CODES))
    if isinstance(kind, str) and kind in _UNANSWERED:
        error = llm.APIError(_UNANSWERED[kind], provider=provider.name, body=result, hint=_UNANSWERED_HINTS[kind])
        return BatchResult(custom_id=custom_id, error=error)
    error = llm.APIError(
        f"the batch answered this request with a result type Mirascope does not know: {kind!r}",
        provider=provider.name,
        body=result,
        hint="Upgrade mirascope-providers-anthropic; the API may have added a result type.",
    )
    return BatchResult(custom_id=custom_id, error=error)


def _params(line: BatchLine) -> dict[str, Any]:
    body = line.http.body
    if "stream" in body:  # a batch request is never streamed; the API refuses the key
        body = {key: value for key, value in body.items() if key != "stream"}
    return body


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class AnthropicBatches:
    """One client's access to the Message Batches endpoints (`llm.providers.batches.BatchAPI`)."""

    __slots__ = ("_client", "_encoded", "_provider")

    max_requests = MAX_REQUESTS
    max_bytes = MAX_BYTES

    def __init__(self, provider: AnthropicProvider, client: llm.Client) -> None:
        self._provider = provider
        self._client = client
        # A line's encoding, made once by `line_size` and used again by `submit` (same line object).
        self._encoded: dict[str, tuple[BatchLine, bytes]] = {}

    def __repr__(self) -> str:
        return f"<AnthropicBatches {self._client!r}>"

    @property
    def _root(self) -> str:
        # Where the API's paths start, as `prepare` reckons it: the base URL ends in `/v1` or not.
        base = self._client.base_url
        return base if base.endswith("/v1") else f"{base}/v1"

    def _encode(self, line: BatchLine) -> bytes:
        cached = self._encoded.get(line.custom_id)
        if cached is not None and cached[0] is line:
            return cached[1]
        encoded = _dumps({"custom_id": line.custom_id, "params": _params(line)}).encode()
        self._encoded[line.custom_id] = (line, encoded)
        return encoded

    def line_size(self, line: BatchLine) -> int:
        """The bytes the line adds to the create body: its `{"custom_id", "params"}` and a comma."""
        return len(self._encode(line)) + 1

    def submit(self, lines: Sequence[BatchLine]) -> str:
        """Create one Message Batch of the lines; returns its id (`msgbatch_...`).

        A line a single call would send under a beta (structured outputs) makes the whole batch
        go under it: the union of the lines' betas goes in the `anthropic-beta` header, and the
        URL is marked `?beta=true`, as for the call.
        """
        if not lines:
            raise llm.UsageError("a Message Batch needs at least one request")
        encoded = [self._encode(line) for line in lines]
        for line in lines:
            self._encoded.pop(line.custom_id, None)
        content = b'{"requests":[' + b",".join(encoded) + b"]}"
        headers, beta = self._line_headers(lines)
        url = f"{self._root}/messages/batches" + ("?beta=true" if beta else "")
        batch: object = self._json("POST", url, content=content, headers=headers)
        batch_id = cast("dict[str, object]", batch).get("id") if isinstance(batch, dict) else None
        if not isinstance(batch_id, str) or not batch_id:
            raise llm.APIError(
                "creating the Message Batch answered with no batch id",
                provider=self._provider.name,
                body=cast("object", batch),
                hint="Check base_url: it should point at Anthropic's API.",
            )
        return batch_id

    def _line_headers(self, lines: Sequence[BatchLine]) -> tuple[dict[str, str], bool]:
        """The per-request headers the lines carry, their betas joined; and whether any is a beta request."""
        headers: dict[str, str] = {}
        betas: dict[str, None] = {}
        beta_header = _BETA_HEADER
        beta = False
        seen: set[int] = set()
        for line in lines:
            http = line.http
            if not beta and "beta=true" in urlsplit(http.url).query:
                beta = True
            given = http.headers
            if not given or id(given) in seen:
                continue
            seen.add(id(given))
            for name, value in given.items():
                if name.lower() == _BETA_HEADER:
                    beta_header = name
                    betas.update(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
                else:
                    headers.setdefault(name, value)
        if betas:
            headers[beta_header] = ",".join(betas)
            beta = True
        return headers, beta

    def _batch_url(self, batch_id: str, action: str = "") -> str:
        # The id may come from a job file on disk: it names one batch, never another path.
        return f"{self._root}/messages/batches/{quote(batch_id, safe='')}{action}"

    def status(self, batch_id: str) -> BatchState:
        """The batch's processing status and request counts (`GET /v1/messages/batches/{id}`)."""
        return batch_state(self._batch(batch_id))

    def _batch(self, batch_id: str) -> dict[str, Any]:
        batch = self._json("GET", self._batch_url(batch_id))
        if not isinstance(batch, dict):
            raise llm.APIError(
                f"the Message Batch {batch_id!r} came back as something other than an object",
                provider=self._provider.name,
                body=batch,
                hint="Check base_url: it should point at Anthropic's API.",
            )
        return cast("dict[str, Any]", batch)

    def cancel(self, batch_id: str) -> None:
        """Ask Anthropic to cancel the batch (`POST .../cancel`); requests already running still finish."""
        self._json("POST", self._batch_url(batch_id, "/cancel"))

    def results(self, batch_id: str) -> Iterator[BatchResult]:
        """The batch's results file, read and decoded line by line as it downloads.

        A file that ends mid-line (the download was cut) raises `llm.ConnectionError` after the
        lines that did arrive; core keeps those and downloads again.
        """
        batch = self._batch(batch_id)
        results_url = batch.get("results_url")
        if not isinstance(results_url, str) or not results_url:
            raise llm.UsageError(
                f"the Message Batch {batch_id!r} has no results yet (processing_status "
                f"{batch.get('processing_status')!r}); results exist once it has ended"
            )
        return self._download(self._results_location(results_url))

    def _results_location(self, results_url: str) -> str:
        """The results URL to fetch: the one given, or its path on our base URL if it names another host.

        The client sends its key with every request; it is not handed to a host the user never
        named (a proxy in front of the API passes the API's own URL through, for instance).
        """
        if _origin(results_url) == _origin(self._client.base_url):
            return results_url
        parts = urlsplit(results_url)
        path = parts.path
        path = path[len("/v1") :] if path.startswith("/v1/") else path
        return f"{self._root}{path}" + (f"?{parts.query}" if parts.query else "")

    def _download(self, url: str) -> Iterator[BatchResult]:
        import httpx

        from mirascope.llm.providers.http import stream_transport_error, too_large_error

        provider = self._provider
        client = self._client
        http, headers = client.sync_http()
        limit = client.max_event_bytes
        response = self._send(http, "GET", url, headers=headers, stream=True)
        try:
            pending = b""
            chunks = response.iter_bytes()
            while True:
                try:
                    chunk = next(chunks, None)
                except httpx.HTTPError as exc:
                    error = stream_transport_error(provider.name, client, exc)
                    if error is None:
                        raise
                    raise error from error.__cause__
                if chunk is None:
                    break
                lines = (pending + chunk).split(b"\n") if pending else chunk.split(b"\n")
                pending = lines.pop()
                if len(pending) > limit:
                    raise too_large_error(provider.name, client, "max_event_bytes")
                for raw in lines:
                    if len(raw) > limit:
                        raise too_large_error(provider.name, client, "max_event_bytes")
                    if raw.strip():
                        yield line_result(provider, self._parse_line(raw))
            if pending.strip():
                # The last line may come without a newline; a cut one does not parse.
                try:
                    last = self._parse_line(pending)
                except llm.APIError:
                    raise self._cut_short() from None
                yield line_result(provider, last)
        finally:
            response.close()

    def _cut_short(self) -> llm.ConnectionError:
        return llm.ConnectionError(
            "the batch's results file ended in the middle of a line; the download was cut short",
            provider=self._provider.name,
            hint="The lines before the cut were kept; download the results again for the rest.",
        )

    def _parse_line(self, raw: bytes) -> dict[str, Any]:
        try:
            line: object = json.loads(raw)
        except (ValueError, RecursionError):
            line = None
        if not isinstance(line, dict):
            raise llm.APIError(
                f"a line of the batch's results file is not a JSON object: {raw[:200]!r}",
                provider=self._provider.name,
                hint="Check base_url: the results came from something other than Anthropic's API.",
            )
        return cast("dict[str, Any]", line)

    def _json(
        self, method: str, url: str, *, content: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Any:
        """Send one request to a batch endpoint and return its JSON reply, or raise the mapped error."""
        from mirascope.llm.providers.http import attempts_for, read_body

        http, client_headers = self._client.sync_http()
        merged = {**(client_headers or {}), **(headers or {})} or None
        response = self._send(http, method, url, content=content, headers=merged, stream=True)
        body = read_body(self._provider.name, self._client, response, attempts_for(self._client, 0))
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise llm.APIError(
                f"answered {response.status_code} with a body that is not JSON "
                f"({response.headers.get('content-type', 'no content type')})",
                provider=self._provider.name,
                status_code=response.status_code,
                hint="Check base_url: it should point at Anthropic's API, not a web page or proxy.",
            ) from None

    def _send(
        self,
        http: httpx.Client,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool,
    ) -> httpx.Response:
        """Send once; a failed reply (status >= 400) raises its `llm.APIError`.

        Not retried here: creating a batch twice would run (and bill) it twice; core decides what to retry.
        """
        import httpx

        from mirascope.llm.providers.http import attempts_for, error_from_response, read_body, transport_error

        provider = self._provider
        client = self._client
        try:
            response = http.send(http.build_request(method, url, content=content, headers=headers), stream=stream)
            if response.status_code >= 400:
                read_body(provider.name, client, response, attempts_for(client, 0))
        except httpx.HTTPError as exc:
            error = transport_error(provider.name, client, exc)
            raise error from error.__cause__
        if response.status_code >= 400:
            raise error_from_response(provider, response, codes=CODES)
        return response
