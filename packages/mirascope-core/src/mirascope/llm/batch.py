"""`llm.batch`: many calls as one job, through the provider's batch API or as bounded concurrent calls.

```python
job = recommend_book.batch([("fantasy",), ("horror",)])      # or llm.batch(llm.model(...), prompts)
job.wait()                                                    # progress on stderr
for result in job.results():                                  # in input order
    print(result.content if isinstance(result, llm.CallResponse) else f"failed: {result}")
```

`mode="provider"` (the default) uploads every call to the provider's batch API (OpenAI,
Anthropic, Gemini: half the list price, done within 24 hours); `mode="concurrent"` runs the
same job as calls, at most `concurrency` at a time, on a background thread with its own event
loop (for providers without a batch API: OpenAI-compatible services, local models).

A job is saved under `directory` (else `$MIRASCOPE_BATCH_DIR`, else `.mirascope/batches`):
`<id>.json` describes it (no keys, no headers), `<id>.lines.jsonl` holds each call's messages and
`<id>.results.jsonl` the results as they are downloaded, so `llm.batch.load(job_id)` picks a
provider job up in another process and no result is lost or repeated if a download dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import secrets
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TextIO, TypeAlias, TypeVar, cast

from ._typevars import T
from .exceptions import APIError, Error, FeatureNotSupportedError, UsageError
from .providers.batches import TERMINAL_STATUSES, BatchCounts, BatchLine, BatchStatus

if TYPE_CHECKING:
    from .clients import Client
    from .messages import Message
    from .models import Model
    from .providers import Provider, Request
    from .providers.batches import BatchAPI
    from .responses import CallResponse
    from .tools import AnyTool, Context

__all__ = ["BatchCounts", "BatchJob", "BatchMode", "BatchStatus", "load", "submit"]

R = TypeVar("R")

BatchMode: TypeAlias = Literal["provider", "concurrent"]
"""How a job runs: the provider's batch API, or bounded concurrent calls."""

_VERSION = 1
_DEFAULT_CONCURRENCY = 8
_FIRST_POLL, _LONGEST_POLL = 1.0, 30.0
_CONCURRENT_POLL = 0.2  # how often a concurrent job's progress line is refreshed at most

Prepared: TypeAlias = "tuple[Model[Any], str | Sequence[Message], Mapping[str, object], Context[Any] | None]"
# One input, ready to call: the model it calls, its prompt, its metadata and its llm.Context.


# --- the job's files ------------------------------------------------------------------------------


def _directory(directory: str | os.PathLike[str] | None) -> Path:
    found = Path(directory or os.environ.get("MIRASCOPE_BATCH_DIR") or Path.cwd() / ".mirascope" / "batches")
    if not found.is_dir():
        found.mkdir(parents=True, exist_ok=True)
        (found / ".gitignore").write_text("*\n", "utf-8")  # jobs are local state, never committed
    return found


def _write_atomically(path: Path, data: Mapping[str, Any]) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as file:
        json.dump(data, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def _read_results(path: Path) -> dict[str, dict[str, Any]]:
    """The results saved so far, by custom id; a line cut short by a crash is skipped."""
    found: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return found
    with path.open(encoding="utf-8") as file:
        for line in file:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            found.setdefault(entry["custom_id"], entry)
    return found


def _error_entry(error: Error) -> dict[str, Any]:
    body: object = getattr(error, "body", None)
    try:
        json.dumps(body)
    except (TypeError, ValueError):
        body = None
    return {
        "type": type(error).__name__,
        "message": getattr(error, "message", str(error)),
        "provider": getattr(error, "provider", None),
        "status_code": getattr(error, "status_code", None),
        "body": body,
    }


def _error_from_entry(entry: Mapping[str, Any], provider: str) -> Error:
    from . import exceptions

    kind = getattr(exceptions, str(entry.get("type")), None)
    if not (isinstance(kind, type) and issubclass(kind, APIError)):
        kind = APIError
    error = kind.__new__(kind)
    APIError.__init__(
        error,
        str(entry.get("message")),
        provider=str(entry.get("provider") or provider),
        status_code=entry.get("status_code"),
        body=entry.get("body"),
    )
    return error


def _params_data(params: Mapping[str, object]) -> dict[str, Any]:
    from .params import Thinking

    data: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Thinking):
            value = {"thinking": {"budget_tokens": value.budget_tokens, "level": value.level, "include": value.include}}
        data[key] = value
    return data


def _params_from(data: Mapping[str, Any]) -> dict[str, object]:
    from .params import Thinking

    params = dict(data)
    thinking = params.get("thinking")
    if isinstance(thinking, dict) and "thinking" in thinking:
        params["thinking"] = Thinking(**cast("dict[str, Any]", thinking["thinking"]))
    return params


def _custom_id(index: int, width: int) -> str:
    return f"r{index:0{width}d}"


# --- progress -------------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class _Progress:
    """The progress display: one line rewritten in place on a terminal, else a line per change."""

    def __init__(self, job_id: str, stream: TextIO, started: float) -> None:
        self.job_id = job_id
        self.stream = stream
        self.started = started
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.last: tuple[BatchCounts, str] | None = None
        self.width = 0

    def show(self, counts: BatchCounts, status: str) -> None:
        if (counts, status) == self.last:
            return
        self.last = (counts, status)
        elapsed = time.monotonic() - self.started
        line = f"{self.job_id}: {status}, {counts.done}/{counts.total} done"
        if counts.failed:
            line += f" ({counts.failed} failed)"
        line += f", {_clock(elapsed)} elapsed"
        if 0 < counts.done < counts.total:
            line += f", ~{_clock(elapsed / counts.done * (counts.total - counts.done))} left"
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty and self.last is not None:
            self.stream.write("\n")
            self.stream.flush()


# --- the job --------------------------------------------------------------------------------------


class BatchJob(Generic[T]):
    """Many calls run as one job: `wait()` for it, then `results()` in input order.

    Made by `Call.batch(...)`, `llm.batch(...)` / `llm.batch.submit(...)`, or `llm.batch.load(id)`.
    """

    def __init__(
        self,
        *,
        id: str,
        mode: BatchMode,
        model: Model[T],
        directory: Path,
        data: dict[str, Any],
    ) -> None:
        self.id = id
        """The job's id, `batch_` + 26 hex digits: the same in every process."""
        self.mode: BatchMode = mode
        """`"provider"` or `"concurrent"`."""
        self.model = model
        """The model every call of the job uses (a `DynamicConfig` may change it per input, concurrently)."""
        self.directory = directory
        """Where the job's files are."""
        self._data = data
        self._lock = threading.Lock()
        self._requests: dict[str, Request] = {}  # in the submitting process: each line's request
        self._metadata: dict[str, Mapping[str, object]] = {}
        self._contexts: dict[str, Context[Any] | None] = {}
        self._run: _ConcurrentRun | None = None
        self._api: BatchAPI | None = None
        self._provider: Provider | None = None
        self._client: Client | None = None
        self._results: list[CallResponse[T] | Error] | None = None
        self._saved: dict[str, dict[str, Any]] | None = None  # the results file, as read or downloaded here

    def __repr__(self) -> str:
        return f"<llm.BatchJob {self.id} {self.mode} {self.model.id!r} lines={self._data['lines']}>"

    @property
    def _path(self) -> Path:
        return self.directory / f"{self.id}.json"

    @property
    def _results_path(self) -> Path:
        return self.directory / f"{self.id}.results.jsonl"

    def _save(self) -> None:
        _write_atomically(self._path, self._data)

    def _connect(self) -> tuple[Provider, Client, BatchAPI]:
        if self._api is None or self._provider is None or self._client is None:
            provider, client = self.model._resolve()  # pyright: ignore[reportPrivateUsage]
            self._provider, self._client = provider, client
            self._api = _batch_api(provider, client, self.model.id)
        return self._provider, self._client, self._api

    # --- status ---

    def _refresh(self) -> None:
        """Ask the provider for each unfinished part's state (provider mode)."""
        _, client, api = self._connect()
        changed = False
        for part in self._data["parts"]:
            if part["state"] in TERMINAL_STATUSES:
                continue
            state = _retried(client, lambda part=part: api.status(part["provider_batch_id"]))
            counts = state.counts
            entry = {
                "state": state.state,
                "counts": [counts.total, counts.succeeded, counts.failed, counts.pending],
                "error": state.error,
            }
            if any(part.get(key) != value for key, value in entry.items()):
                part.update(entry)
                changed = True
        if changed:
            with self._lock:
                self._save()

    @property
    def status(self) -> BatchStatus:
        """Where the job stands (asked of the provider on each read until it is finished)."""
        if self._run is not None:
            return self._run.status
        if self.mode == "concurrent":
            return cast("BatchStatus", self._data.get("status", "completed"))
        if not self._finished():
            self._refresh()
        return _overall([part["state"] for part in self._data["parts"]])

    @property
    def counts(self) -> BatchCounts:
        """How many calls the job has, and how many succeeded, failed or are pending."""
        if self._run is not None:
            return self._run.counts()
        if self.mode == "concurrent":
            total = self._data["lines"]
            failed = self._data.get("failed", 0)
            return BatchCounts(total, total - failed, failed, 0)
        return self._cached_counts()

    def _cached_counts(self) -> BatchCounts:
        total = succeeded = failed = pending = 0
        for part in self._data["parts"]:
            size = len(part["custom_ids"])
            _, part_succeeded, part_failed, _ = part.get("counts") or [size, 0, 0, size]
            part_succeeded = min(part_succeeded, size)
            part_failed = min(part_failed, size - part_succeeded)
            if part["state"] in TERMINAL_STATUSES:  # what never ran failed too
                part_failed = size - part_succeeded
            total += size
            succeeded += part_succeeded
            failed += part_failed
            pending += size - part_succeeded - part_failed
        return BatchCounts(total, succeeded, failed, pending)

    def _finished(self) -> bool:
        return all(part["state"] in TERMINAL_STATUSES for part in self._data["parts"])

    # --- waiting ---

    def wait(self, progress: bool = True, poll_interval: float | None = None) -> BatchJob[T]:
        """Block until every call is finished; progress on stderr unless `progress=False`.

        `poll_interval` is the seconds between status checks: by default 1 s, growing to 30 s
        for a provider job. Ctrl-C during the wait of a concurrent job cancels its calls.
        """
        shown = _Progress(self.id, sys.stderr, time.monotonic()) if progress else None
        try:
            if self._run is not None:
                self._wait_concurrent(shown, poll_interval)
            elif self.mode == "provider":
                self._wait_provider(shown, poll_interval)
        finally:
            if shown is not None:
                shown.end()
        return self

    def _wait_provider(self, shown: _Progress | None, poll_interval: float | None) -> None:
        interval = _FIRST_POLL if poll_interval is None else poll_interval
        while True:
            self._refresh()
            if shown is not None:
                shown.show(self._cached_counts(), _overall([part["state"] for part in self._data["parts"]]))
            if self._finished():
                return
            time.sleep(interval)
            if poll_interval is None:
                interval = min(interval * 1.5, _LONGEST_POLL)

    def _wait_concurrent(self, shown: _Progress | None, poll_interval: float | None) -> None:
        run = self._run
        assert run is not None
        interval = _CONCURRENT_POLL if poll_interval is None else poll_interval
        try:
            while not run.finished.wait(interval):
                if shown is not None:
                    shown.show(run.counts(), run.status)
        except KeyboardInterrupt:
            run.cancel()
            run.finished.wait()
            raise
        if shown is not None:
            shown.show(run.counts(), run.status)
        if run.crash is not None:
            raise run.crash

    async def wait_async(self, progress: bool = True, poll_interval: float | None = None) -> BatchJob[T]:
        """The async form of `wait` (the waiting runs on a worker thread)."""
        await asyncio.to_thread(self.wait, progress, poll_interval)
        return self

    # --- results ---

    def results(self) -> list[CallResponse[T] | Error]:
        """One `llm.CallResponse` or `llm.Error` per input, in input order; waits for the job first.

        Each error is the provider's for that call (an `llm.APIError` subclass), or says why the
        call was never answered (the batch expired, failed or was cancelled).
        """
        if self._results is not None:
            return self._results
        if self._run is not None:
            self.wait(progress=False)
            self._results = self._run.results()
            return self._results
        if self.mode == "concurrent":
            return self._decoded()
        self.wait(progress=False)
        self._download()
        self._results = self._decoded()
        return self._results

    async def results_async(self) -> list[CallResponse[T] | Error]:
        """The async form of `results` (the downloads run on a worker thread)."""
        return await asyncio.to_thread(self.results)

    def _download(self) -> None:
        """Save each finished part's results not saved yet; a part is marked done once all are fsynced."""
        _, client, api = self._connect()
        pending = [part for part in self._data["parts"] if not part.get("done") and part["state"] in TERMINAL_STATUSES]
        if not pending:
            return
        # Read once: the results saved so far (by this process, or one that died part-way).
        saved = self._saved if self._saved is not None else _read_results(self._results_path)
        self._saved = saved
        for part in pending:
            # A download cut off (a dropped connection, a 5xx) is taken up again as a call would
            # be retried: what was saved stays saved, and only the rest is kept from the next try.
            _retried(client, lambda part=part: self._download_part(api, part, saved))
            part["done"] = True
            with self._lock:
                self._save()

    def _download_part(self, api: BatchAPI, part: dict[str, Any], saved: dict[str, dict[str, Any]]) -> None:
        wanted = set(part["custom_ids"])
        with self._results_path.open("a+b") as file:
            file.seek(0, os.SEEK_END)
            if file.tell():
                file.seek(-1, os.SEEK_END)
                if file.read(1) != b"\n":  # a line cut short by a crash: start a fresh one
                    file.write(b"\n")
            try:
                for result in api.results(part["provider_batch_id"]):
                    if result.custom_id not in wanted or result.custom_id in saved:
                        continue
                    entry: dict[str, Any] = {"custom_id": result.custom_id}
                    if result.error is not None:
                        entry["error"] = _error_entry(result.error)
                    else:
                        entry["body"] = result.body
                    saved[result.custom_id] = entry
                    file.write(json.dumps(entry).encode() + b"\n")
            finally:  # what arrived before a failure is kept, for the next try to go on from
                file.flush()
                os.fsync(file.fileno())

    def _decoded(self) -> list[CallResponse[T] | Error]:
        # What this process downloaded is at hand; only a job loaded after its download reads the file.
        saved = self._saved if self._saved is not None else _read_results(self._results_path)
        parts_by_id = {cid: part for part in self._data["parts"] for cid in part["custom_ids"]}
        messages = self._line_messages() if not self._requests else {}
        provider, client = self.model._resolve()  # pyright: ignore[reportPrivateUsage]
        results: list[CallResponse[T] | Error] = []
        for custom_id in self._data["order"]:
            entry = saved.get(custom_id)
            if entry is None:
                part = parts_by_id.get(custom_id)
                state = part["state"] if part else self._data.get("status", "cancelled")
                why = f" ({part['error']})" if part and part.get("error") else ""
                results.append(
                    APIError(
                        f"no result for this call: its batch ended {state}{why} before answering it",
                        provider=provider.name,
                    )
                )
                continue
            if "error" in entry:
                results.append(_error_from_entry(entry["error"], provider.name))
                continue
            request = self._requests.get(custom_id) or self._rebuilt_request(custom_id, messages)
            try:
                results.append(self._response(provider, client, request, custom_id, entry["body"]))
            except Error as error:
                results.append(error)
        return results

    def _response(
        self, provider: Provider, client: Client, request: Request, custom_id: str, body: object
    ) -> CallResponse[T]:
        from ._decoding import decode_reply
        from .responses import CallResponse, made_response

        decoded = decode_reply(provider, request, body)
        metadata = {**self._metadata.get(custom_id, {}), "batch": self.id}
        return made_response(
            cast("type[CallResponse[T]]", CallResponse),
            self.model,
            request,
            decoded,
            body,
            client,
            metadata,
            self._contexts.get(custom_id),
            batch=self.mode == "provider",
        )

    def _line_messages(self) -> dict[str, tuple[Message, ...]]:
        from .messages import Message
        from .serialization import from_dict

        found: dict[str, tuple[Message, ...]] = {}
        path = self.directory / f"{self.id}.lines.jsonl"
        if path.exists():
            with path.open(encoding="utf-8") as file:
                for line in file:
                    entry = json.loads(line)
                    found[entry["custom_id"]] = tuple(from_dict(Message, item) for item in entry["messages"])
        return found

    def _rebuilt_request(self, custom_id: str, messages: Mapping[str, tuple[Message, ...]]) -> Request:
        """A loaded job's request for a line: what decoding needs (format, tools, the conversation)."""
        from .providers import Request

        model = self.model
        request = Request(
            model_id=model.id,
            model=model.name,
            messages=messages.get(custom_id, ()),
            params=model.params,
            provider_params=model.provider_params,
            tools=model.tools,
            provider_tools=model.provider_tools,
            format=model.format,
        )
        self._requests[custom_id] = request
        return request

    # --- cancelling ---

    def cancel(self) -> None:
        """Ask the provider to cancel every unfinished part (calls already answered are kept)."""
        if self._run is not None:
            self._run.cancel()
            return
        if self.mode != "provider":
            return
        _, _, api = self._connect()
        for part in self._data["parts"]:
            if part["state"] not in TERMINAL_STATUSES:
                api.cancel(part["provider_batch_id"])
        self._refresh()

    async def cancel_async(self) -> None:
        """The async form of `cancel`."""
        await asyncio.to_thread(self.cancel)


def _retried(client: Client, action: Callable[[], R]) -> R:
    """`action()`, tried again after a retryable failure as a call would be (the client's `max_retries`).

    For what is safe to repeat: asking a batch's state, downloading its results. Submitting
    is never retried here: a repeat could run, and bill, the whole batch twice.
    """
    from ._retries import sleep
    from .providers.http import attempts_for

    attempts = attempts_for(client)
    while True:
        attempts.count += 1
        try:
            return action()
        except APIError as error:
            wait = attempts.wait(error)
            if wait is None:
                raise
            sleep(wait)


def _overall(states: Sequence[str]) -> BatchStatus:
    """One status for a job split into parts."""
    unique = set(states)
    if not unique:
        return "completed"
    if len(unique) == 1:
        return cast("BatchStatus", states[0])
    if unique <= TERMINAL_STATUSES:
        for state in ("failed", "expired", "cancelled"):
            if state in unique:
                return cast("BatchStatus", state)
    if "cancelling" in unique:
        return "cancelling"
    if unique - TERMINAL_STATUSES == {"finalizing"}:
        return "finalizing"
    return "in_progress"


def _batch_api(provider: Provider, client: Client, model_id: str) -> BatchAPI:
    batch_api = getattr(provider, "batch_api", None)
    if batch_api is None:
        raise FeatureNotSupportedError(
            f"{model_id}: the {provider.name!r} provider has no batch API in Mirascope; run the job as "
            'concurrent calls instead with mode="concurrent" (e.g. llm.batch(model, inputs, mode="concurrent")).',
            model=model_id,
            feature="batch",
        )
    try:
        return cast("BatchAPI", batch_api(client))
    except FeatureNotSupportedError as error:
        # A provider class serving several prefixes may refuse some of them (the OpenAI-compatible
        # services); the model it names is then this job's.
        error.model = model_id
        raise


# --- concurrent mode -----------------------------------------------------------------------------


class _ConcurrentRun:
    """A concurrent job's calls, at most `concurrency` at a time, on a thread with its own event loop."""

    def __init__(self, job: BatchJob[Any], prepared: Sequence[Prepared], concurrency: int) -> None:
        self.job = job
        self.prepared = prepared
        self.concurrency = concurrency
        self.outcomes: list[CallResponse[Any] | Error | None] = [None] * len(prepared)
        self.succeeded = 0
        self.failed = 0
        self.status: BatchStatus = "in_progress"
        self.finished = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._cancelled = False
        self.crash: BaseException | None = None  # what no call's result can be: a bug, raised by `wait`
        # The calls see the caller's `llm.context` blocks, as calls made in its thread would.
        calls_context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=calls_context.run, args=(self._main,), name=f"mirascope-{job.id}", daemon=True
        )
        self._thread.start()

    def counts(self) -> BatchCounts:
        total = len(self.prepared)
        succeeded, failed = self.succeeded, self.failed
        return BatchCounts(total, succeeded, failed, total - succeeded - failed)

    def _main(self) -> None:
        try:
            asyncio.run(self._all())
        except BaseException as error:  # not an llm.Error of one call: raised in the caller's thread
            self.crash = error
        finally:
            self._finish()

    async def _all(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self._cancelled:
            return
        gate = asyncio.Semaphore(self.concurrency)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*(self._one(index, gate) for index in range(len(self.prepared))))

    async def _one(self, index: int, gate: asyncio.Semaphore) -> None:
        model, content, metadata, context = self.prepared[index]
        async with gate:
            try:
                response = await model.call_with_async(content, {**metadata, "batch": self.job.id}, context)
            except Error as error:
                self.outcomes[index] = error
                self.failed += 1
                return
        self.outcomes[index] = _as_sync_response(response)
        self.succeeded += 1

    def cancel(self) -> None:
        self._cancelled = True
        self.status = "cancelling"
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing left to cancel
                loop.call_soon_threadsafe(task.cancel)

    def _finish(self) -> None:
        provider = self.job.model.provider_name
        for index, outcome in enumerate(self.outcomes):
            if outcome is None:
                self.outcomes[index] = APIError("not called: the job was cancelled", provider=provider)
                self.failed += 1
        self.status = "cancelled" if self._cancelled else "completed"
        try:
            self._save()
        finally:
            self.finished.set()

    def _save(self) -> None:
        job = self.job
        with job._results_path.open("w", encoding="utf-8") as file:  # pyright: ignore[reportPrivateUsage]
            for custom_id, outcome in zip(job._data["order"], self.outcomes, strict=True):  # pyright: ignore[reportPrivateUsage]
                entry: dict[str, Any] = {"custom_id": custom_id}
                if isinstance(outcome, Error):
                    entry["error"] = _error_entry(outcome)
                else:
                    entry["body"] = None if outcome is None else outcome.raw
                file.write(json.dumps(entry, default=str) + "\n")
            file.flush()
            os.fsync(file.fileno())
        job._data.update(status=self.status, failed=self.failed)  # pyright: ignore[reportPrivateUsage]
        with job._lock:  # pyright: ignore[reportPrivateUsage]
            job._save()  # pyright: ignore[reportPrivateUsage]

    def results(self) -> list[CallResponse[Any] | Error]:
        return [cast("CallResponse[Any] | Error", outcome) for outcome in self.outcomes]


def _as_sync_response(response: Any) -> CallResponse[Any]:
    """The `llm.CallResponse` with an `AsyncCallResponse`'s fields: results are one type in either API."""
    import attrs

    from .responses import CallResponse

    fields = attrs.fields(CallResponse)
    return CallResponse(**{field.alias: getattr(response, field.name) for field in fields if field.init})


# --- submitting -----------------------------------------------------------------------------------


def _new_id() -> str:
    return "batch_" + secrets.token_hex(13)


def _base_data(job_id: str, mode: BatchMode, model: Model[Any], lines: int, order: list[str]) -> dict[str, Any]:
    format = model.format
    return {
        "version": _VERSION,
        "id": job_id,
        "mode": mode,
        "model_id": model.id,
        "provider": model.provider_name,
        "created_at": time.time(),
        "settings": {
            "params": _params_data(model.params),
            "provider_params": dict(model.provider_params),
            "format": None
            if format is None
            else {"name": format.name, "schema": format.schema, "mode": format.mode, "strict": format.strict},
            "tools": [tool.name for tool in model.tools],
        },
        "parts": [],
        "lines": lines,
        "order": order,
    }


def submit_prepared(
    model: Model[T],
    prepared: Sequence[Prepared],
    *,
    mode: BatchMode = "provider",
    concurrency: int | None = None,
    directory: str | os.PathLike[str] | None = None,
) -> BatchJob[T]:
    """Start a job of calls already prepared (a model, prompt, metadata and context per input)."""
    if mode not in ("provider", "concurrent"):
        raise UsageError(f'mode= is "provider" or "concurrent"; got {mode!r}.')
    if concurrency is not None and (not isinstance(concurrency, int) or concurrency < 1):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UsageError(f"concurrency= is a whole number, 1 or more; got {concurrency!r}.")
    if concurrency is not None and mode != "concurrent":
        raise UsageError('concurrency= applies to mode="concurrent" only.')
    if not prepared:
        raise UsageError("A batch needs at least one input.")
    folder = _directory(directory)
    job_id = _new_id()
    width = max(6, len(str(len(prepared) - 1)))
    order = [_custom_id(index, width) for index in range(len(prepared))]
    if mode == "concurrent":
        data = _base_data(job_id, mode, model, len(prepared), order)
        data["status"] = "in_progress"
        job = BatchJob(id=job_id, mode=mode, model=model, directory=folder, data=data)
        job._save()  # pyright: ignore[reportPrivateUsage]
        job._run = _ConcurrentRun(job, prepared, concurrency or _DEFAULT_CONCURRENCY)  # pyright: ignore[reportPrivateUsage]
        return job
    return _submit_to_provider(model, prepared, folder, job_id, order)


def _submit_to_provider(
    model: Model[T], prepared: Sequence[Prepared], folder: Path, job_id: str, order: list[str]
) -> BatchJob[T]:
    from .serialization import to_dict

    base = model  # what the inputs' DynamicConfigs were applied to
    # An `llm.context` block around the submit changes every call of the job.
    model = model._overridden() or model  # pyright: ignore[reportPrivateUsage]
    provider, client = model._resolve()  # pyright: ignore[reportPrivateUsage]
    api = _batch_api(provider, client, model.id)
    job = BatchJob(
        id=job_id, mode="provider", model=model, directory=folder, data=_base_data(job_id, "provider", model, 0, order)
    )
    lines: list[BatchLine] = []
    with (folder / f"{job_id}.lines.jsonl").open("w", encoding="utf-8") as saved_lines:
        for custom_id, (line_model, content, metadata, context) in zip(order, prepared, strict=True):
            if line_model is not base and line_model.id != base.id:
                raise UsageError(
                    f"Every call of a provider batch goes to one model; input {custom_id} asks for "
                    f"{line_model.id!r} rather than {base.id!r} (from its DynamicConfig). Run it as its own "
                    'batch, or use mode="concurrent".'
                )
            if line_model is not model and (line_model.params != model.params or line_model.settings != model.settings):
                raise UsageError(
                    f"Every call of a provider batch uses the same settings; input {custom_id}'s DynamicConfig "
                    'changes its call_params or tools. Set them on the call, or use mode="concurrent".'
                )
            _, _, request = model._request(content)  # pyright: ignore[reportPrivateUsage]
            http = provider.prepare(request, client)  # refuses what the model cannot take, before any upload
            lines.append(BatchLine(custom_id=custom_id, request=request, http=http))
            job._requests[custom_id] = request  # pyright: ignore[reportPrivateUsage]
            if metadata:
                job._metadata[custom_id] = metadata  # pyright: ignore[reportPrivateUsage]
            if context is not None:
                job._contexts[custom_id] = context  # pyright: ignore[reportPrivateUsage]
            entry = {"custom_id": custom_id, "messages": [to_dict(message) for message in request.messages]}
            saved_lines.write(json.dumps(entry) + "\n")
    job._data["lines"] = len(lines)  # pyright: ignore[reportPrivateUsage]
    for part in _split(lines, api):
        batch_id = api.submit(part)
        job._data["parts"].append(  # pyright: ignore[reportPrivateUsage]
            {
                "provider_batch_id": batch_id,
                "custom_ids": [line.custom_id for line in part],
                "state": "validating",
                "counts": [len(part), 0, 0, len(part)],
                "error": None,
                "done": False,
            }
        )
        job._save()  # pyright: ignore[reportPrivateUsage]
    job._provider, job._client, job._api = provider, client, api  # pyright: ignore[reportPrivateUsage]
    return job


def _split(lines: Sequence[BatchLine], api: BatchAPI) -> Iterator[list[BatchLine]]:
    """The lines in parts within the provider's limits on requests and bytes per batch."""
    max_requests, max_bytes = api.max_requests, api.max_bytes
    part: list[BatchLine] = []
    size = 0
    for line in lines:
        line_size = api.line_size(line)
        if line_size > max_bytes:
            raise UsageError(
                f"Input {line.custom_id} alone is {line_size} bytes, more than the {max_bytes} bytes one "
                "batch may hold; make it smaller, or call it on its own."
            )
        if part and (len(part) >= max_requests or size + line_size > max_bytes):
            yield part
            part, size = [], 0
        part.append(line)
        size += line_size
    if part:
        yield part


def _model_inputs(model: Model[Any], inputs: Iterable[str | Sequence[Message]]) -> list[Prepared]:
    prepared: list[Prepared] = []
    for content in inputs:
        if not isinstance(content, str | Sequence):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UsageError(
                f"Each input of llm.batch(model, inputs) is a prompt: a str or a list of llm.Message; "
                f"got {type(content).__name__}."
            )
        prepared.append((model, content, {}, None))
    return prepared


def submit(
    model: Model[T],
    inputs: Iterable[str | Sequence[Message]],
    *,
    mode: BatchMode = "provider",
    concurrency: int | None = None,
    directory: str | os.PathLike[str] | None = None,
) -> BatchJob[T]:
    """Start a job calling `model` once per input (a `str` or a list of `llm.Message`).

    Args:
        model: `llm.model(...)`, with the parameters and settings every call uses.
        inputs: The prompts, in order; `results()` follows this order.
        mode: `"provider"`: the provider's batch API (OpenAI, Anthropic, Gemini); `"concurrent"`:
            calls, `concurrency` at a time, for any provider.
        concurrency: At most this many calls at once (`mode="concurrent"`; default 8).
        directory: Where the job is saved; else `$MIRASCOPE_BATCH_DIR`, else `.mirascope/batches`.

    Raises:
        FeatureNotSupportedError: `mode="provider"` on a provider without a batch API, or a
            call the model cannot take (found before anything is uploaded).
        UsageError: An argument that cannot be right.
    """
    return submit_prepared(model, _model_inputs(model, inputs), mode=mode, concurrency=concurrency, directory=directory)


def load(
    job_id: str,
    directory: str | os.PathLike[str] | None = None,
    *,
    client: Client | None = None,
    response_model: type[Any] | None = None,
    tools: Sequence[AnyTool] | None = None,
) -> BatchJob[Any]:
    """A job saved by `submit` (in this process or another), to wait for and collect.

    Only the usual key and base-URL environment variables are needed (or `client=`). The job
    file keeps the model id, call parameters, `provider_params`, the response model's schema and
    the tools' names, not Python objects: pass `response_model=` for `response.parse()` to build
    your type (without it, the parsed JSON is returned) and `tools=` for `execute_tools()`.
    Prompt functions' metadata and `llm.Context` are not restored.

    Raises:
        UsageError: No such job, or a concurrent job not finished (its calls ran in the process
            that started it).
    """
    from .models import Model
    from .response_models import Format

    folder = _directory(directory)
    path = folder / f"{job_id}.json"
    if not path.exists():
        raise UsageError(f"No batch job {job_id!r} in {folder}; pass directory= where it was saved.")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    if data.get("version") != _VERSION:
        raise UsageError(
            f"{path} is a batch job file of version {data.get('version')!r}; this release reads {_VERSION}."
        )
    mode = cast("BatchMode", data["mode"])
    if mode == "concurrent" and data.get("status") not in TERMINAL_STATUSES:
        raise UsageError(
            f"Batch job {job_id} ran concurrent calls in the process that started it, which did not finish "
            "it; a concurrent job cannot be resumed elsewhere. Submit the unfinished inputs again."
        )
    settings = data["settings"]
    saved_format = settings.get("format")
    format: Any = response_model
    if format is None and saved_format is not None:
        # The saved schema stands in for the user's type: replies decode as they did, and
        # `parse()` returns the JSON.
        format = Format(dict[str, Any], mode=saved_format.get("mode"), strict=saved_format.get("strict"))
        format.name = saved_format["name"]
        format.schema = saved_format["schema"]
        format.wrapped = False
    model = Model.from_arguments(
        data["model_id"],
        _params_from(settings.get("params") or {}),
        client=client,
        provider_params=settings.get("provider_params") or None,
        response_model=format,
        tools=tools,
    )
    return BatchJob(id=job_id, mode=mode, model=model, directory=folder, data=data)


# --- `llm.batch` ----------------------------------------------------------------------------------


class _Batch:
    """`llm.batch(model, inputs, ...)` starts a job; `llm.batch.load(job_id)` picks one up."""

    BatchJob = BatchJob
    BatchCounts = BatchCounts

    def __repr__(self) -> str:
        return "llm.batch"

    def __call__(
        self,
        model: Model[T],
        inputs: Iterable[str | Sequence[Message]],
        *,
        mode: BatchMode = "provider",
        concurrency: int | None = None,
        directory: str | os.PathLike[str] | None = None,
    ) -> BatchJob[T]:
        """The same as `llm.batch.submit`."""
        return submit(model, inputs, mode=mode, concurrency=concurrency, directory=directory)

    submit = staticmethod(submit)
    load = staticmethod(load)


batch = _Batch()
"""Start a job: `llm.batch(llm.model("openai:gpt-4o-mini"), prompts)`."""


class _CallableModule(types.ModuleType):
    """This module, callable: `llm.batch(...)` is `llm.batch.submit(...)`."""

    def __call__(self, model: Model[Any], inputs: Iterable[Any], **options: Any) -> BatchJob[Any]:
        return submit(model, inputs, **options)


sys.modules[__name__].__class__ = _CallableModule
