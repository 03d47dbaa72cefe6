"""`llm.batch`: jobs through a provider's batch API (a made-up one, served on 127.0.0.1) and as concurrent calls.

The `batchtest` provider below speaks a small protocol of its own: `POST /generate {"prompt"}`
answers one call (`{"text": PROMPT.upper(), "usage"}`), and `/batches` runs many. The server is a
real HTTP server in a thread; each status request moves a batch one state on, so no test waits
on a clock.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from mirascope import llm
from mirascope.llm.providers import Decoded, HTTPRequest, ParamHandling, Request, StreamDecoder, register, unregister
from mirascope.llm.providers.batches import BatchAPI, BatchCounts, BatchLine, BatchResult, BatchState
from mirascope.llm.providers.http import error_from_event, error_from_response

REPO = Path(__file__).resolve().parents[2]
SECRET = "sk-batchtest-do-not-leak-0123456789"
FAST = 0.001  # seconds between status polls: each poll moves the fake batch on

# --- the provider -------------------------------------------------------------------------------


class BatchTestProvider:
    """A minimal provider with a batch API; `max_requests`/`max_bytes` and faults set per test."""

    family = "batchtest"
    api_key_env = "BATCHTEST_API_KEY"
    api_key_env_fallbacks = ()
    api_key_required = True
    parameters: Mapping[str, ParamHandling] = MappingProxyType(
        {key: ParamHandling.refuse("the test protocol takes no parameters") for key in llm.CallParams.__annotations__}
    )

    def __init__(self, name: str = "batchtest", max_requests: int = 1000, max_bytes: int = 10_000_000) -> None:
        self.name = name
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.crash_after: dict[str, int] = {}  # by batch id: its download breaks once, after this many lines

    def base_url(self, options: Mapping[str, object]) -> str:
        return os.environ.get("BATCHTEST_BASE_URL", "http://127.0.0.1:9")

    def check_options(self, options: Mapping[str, object]) -> None:
        if options:
            raise TypeError("batchtest takes no options")

    def headers(self, api_key: str | None, options: Mapping[str, object]) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"}

    def prepare(self, request: Request, client: llm.Client) -> HTTPRequest:
        if request.messages[-1].text == "BUG":
            raise RuntimeError("a bug in the provider")
        if request.tools:
            raise llm.FeatureNotSupportedError("batchtest takes no tools", model=request.model_id, feature="tools")
        return HTTPRequest(
            url=f"{client.base_url}/generate", body={"model": request.model, "prompt": request.messages[-1].text}
        )

    def decode(self, request: Request, body: Any) -> Decoded:
        message = llm.Message(role="assistant", content=(llm.Text(body["text"]),), model=request.model_id, raw=body)
        usage = llm.Usage(input_tokens=body["usage"]["input"], output_tokens=body["usage"]["output"])
        return Decoded(message=message, finish_reason="stop", usage=usage, id=body.get("id"))

    def stream_decoder(self, request: Request) -> StreamDecoder:
        raise NotImplementedError("batchtest does not stream")

    def error(self, request: Request, response: httpx.Response) -> llm.APIError:
        return error_from_response(self, response)

    def batch_api(self, client: llm.Client) -> BatchAPI:
        return EchoBatchAPI(self, client)


class EchoBatchAPI:
    """The adapter for the test protocol's `/batches` endpoints, as a provider package writes one."""

    def __init__(self, provider: BatchTestProvider, client: llm.Client) -> None:
        self.provider = provider
        self.client = client
        self.max_requests = provider.max_requests
        self.max_bytes = provider.max_bytes

    def _send(self, method: str, path: str, body: object = None) -> httpx.Response:
        http, headers = self.client.sync_http()
        extra = headers or self.client.request_headers()
        response = http.request(method, f"{self.client.base_url}{path}", json=body, headers=extra)
        if response.status_code >= 400:
            raise error_from_response(self.provider, response)
        return response

    def line_size(self, line: BatchLine) -> int:
        return len(json.dumps({"custom_id": line.custom_id, "body": line.http.body})) + 1

    def submit(self, lines: Sequence[BatchLine]) -> str:
        requests = [{"custom_id": line.custom_id, "body": line.http.body} for line in lines]
        return self._send("POST", "/batches", {"requests": requests}).json()["id"]

    def status(self, batch_id: str) -> BatchState:
        data = self._send("GET", f"/batches/{batch_id}").json()
        counts = data["counts"]
        return BatchState(
            state=data["status"],
            counts=BatchCounts(counts["total"], counts["succeeded"], counts["failed"], counts["pending"]),
            error=data.get("error"),
        )

    def results(self, batch_id: str) -> Iterator[BatchResult]:
        text = self._send("GET", f"/batches/{batch_id}/results").text
        for index, line in enumerate(text.splitlines()):
            if self.provider.crash_after.get(batch_id) == index:
                del self.provider.crash_after[batch_id]
                raise ConnectionResetError("the download broke off")
            entry = json.loads(line)
            if "error" in entry:
                yield BatchResult(custom_id=entry["custom_id"], error=error_from_event(self.provider, entry["error"]))
            else:
                yield BatchResult(custom_id=entry["custom_id"], body=entry["response"])

    def cancel(self, batch_id: str) -> None:
        self._send("POST", f"/batches/{batch_id}/cancel")


class NoBatchProvider(BatchTestProvider):
    batch_api = None  # pyright: ignore[reportAssignmentType]


# --- the server ----------------------------------------------------------------------------------


def answer(prompt: str) -> tuple[int, dict[str, Any]]:
    if prompt.startswith("FAIL"):
        return 400, {"error": {"message": f"cannot answer {prompt!r}", "code": 400}}
    return 200, {"text": prompt.upper(), "usage": {"input": len(prompt), "output": len(prompt)}, "id": "r-1"}


class Server:
    """The test protocol over HTTP, with the state tests look at."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.batches: dict[str, dict[str, Any]] = {}
        self.ending = "completed"  # how the next batches end: "completed" or "expired"
        self.downloads = 0
        self.auth: set[str] = set()
        # Concurrent calls: how many are in the handler at once; each waits for `gate` others.
        self.in_flight = 0
        self.max_in_flight = 0
        self.started = 0
        self.gate = 1
        self.expected_calls = 0
        self.unavailable = 0  # the next GETs answered 503, as a provider's blip
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _reply(self, status: int, body: object, content_type: str = "application/json") -> None:
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                server.auth.add(self.headers.get("authorization", ""))
                self._reply(*server.get(self.path))

            def do_POST(self) -> None:
                server.auth.add(self.headers.get("authorization", ""))
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                if self.path == "/generate":
                    self._reply(*server.generate(body))
                else:
                    self._reply(*server.post(self.path, body))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def generate(self, body: dict[str, Any]) -> tuple[int, object]:
        with self.lock:
            self.in_flight += 1
            self.started += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.lock.notify_all()
            # Hold each call until `gate` are in the handler together (or no more will come), so
            # that the bound is reached; a bound not kept shows as more than `gate` at once.
            self.lock.wait_for(lambda: self.in_flight >= self.gate or self.started >= self.expected_calls, timeout=10)
            self.in_flight -= 1
        return answer(body["prompt"])

    def post(self, path: str, body: Any) -> tuple[int, object]:
        with self.lock:
            if path == "/batches":
                batch_id = f"b{len(self.batches)}"
                self.batches[batch_id] = {
                    "requests": body["requests"],
                    "status": "validating",
                    "ending": self.ending,
                    "answered": 0,
                }
                return 200, {"id": batch_id}
            batch_id = path.split("/")[2]
            batch = self.batches[batch_id]
            batch["status"] = "cancelling"
            batch["answered"] = 1  # one line was done before the cancel arrived
            return 200, {"id": batch_id}

    def _advance(self, batch: dict[str, Any]) -> None:
        requests = batch["requests"]
        step = {"validating": "in_progress", "in_progress": "finalizing", "cancelling": "cancelled"}
        status = batch["status"]
        if status == "finalizing":
            batch["status"] = batch["ending"]
            # An expired batch answered only its first half.
            batch["answered"] = len(requests) if batch["ending"] == "completed" else len(requests) // 2
        elif status in step:
            batch["status"] = step[status]

    def get(self, path: str) -> tuple[int, object, str]:
        with self.lock:
            if self.unavailable:
                self.unavailable -= 1
                return 503, {"error": {"message": "try again"}}, "application/json"
            parts = path.split("/")
            batch = self.batches.get(parts[2])
            if batch is None:
                return 404, {"error": {"message": "no such batch"}}, "application/json"
            requests = batch["requests"]
            if len(parts) == 3:
                self._advance(batch)
                answered = (
                    requests[: batch["answered"]] if batch["status"] in ("completed", "expired", "cancelled") else []
                )
                failed = sum(1 for request in answered if request["body"]["prompt"].startswith("FAIL"))
                done = batch["status"] in ("completed", "expired", "cancelled")
                reply = {
                    "status": batch["status"],
                    "counts": {
                        "total": len(requests),
                        "succeeded": len(answered) - failed,
                        "failed": len(requests) - len(answered) + failed if done else failed,
                        "pending": 0 if done else len(requests) - len(answered),
                    },
                    "error": "the 24h window passed" if batch["status"] == "expired" else None,
                }
                return 200, reply, "application/json"
            self.downloads += 1
            lines: list[str] = []
            for request in reversed(requests[: batch["answered"]]):  # out of order, as providers may
                status, reply = answer(request["body"]["prompt"])
                key = "response" if status == 200 else "error"
                lines.append(json.dumps({"custom_id": request["custom_id"], key: reply}))
            return 200, "\n".join(lines) + "\n", "application/jsonl"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Server]:
    found = Server()
    monkeypatch.setenv("BATCHTEST_BASE_URL", found.url)
    monkeypatch.setenv("BATCHTEST_API_KEY", SECRET)
    monkeypatch.setenv("MIRASCOPE_BATCH_DIR", str(tmp_path / "jobs"))
    yield found
    found.close()


@pytest.fixture
def provider() -> Iterator[BatchTestProvider]:
    found = BatchTestProvider()
    register("batchtest", found)
    yield found
    unregister("batchtest")


def contents(results: Sequence[llm.CallResponse[Any] | llm.Error]) -> list[str]:
    return [r.content if isinstance(r, llm.CallResponse) else f"error: {type(r).__name__}" for r in results]


# --- provider mode ---------------------------------------------------------------------------------


def test_a_job_returns_results_in_input_order_with_per_line_errors(server: Server, provider: BatchTestProvider) -> None:
    @llm.call("batchtest:echo")
    def shout(word: str) -> str:
        return word

    job = shout.batch([("a",), "b", {"word": "FAIL c"}, ("d",)])
    assert job.id.startswith("batch_")
    assert len(job.id) == len("batch_") + 26
    assert job.wait(progress=False, poll_interval=FAST) is job
    assert job.status == "completed"
    assert job.counts == BatchCounts(4, 3, 1, 0)
    results = job.results()
    assert contents(results) == ["A", "B", "error: BadRequestError", "D"]  # the server answered in reverse
    error = results[2]
    assert isinstance(error, llm.BadRequestError)
    assert "cannot answer 'FAIL c'" in str(error)
    first = results[0]
    assert isinstance(first, llm.CallResponse)
    assert first.metadata["batch"] == job.id
    assert [m.role for m in first.messages] == ["user", "assistant"]
    assert server.auth == {f"Bearer {SECRET}"}


def test_the_job_files_hold_no_key(server: Server, provider: BatchTestProvider, tmp_path: Path) -> None:
    job = llm.batch(llm.model("batchtest:echo"), ["one", "two"])
    job.wait(progress=False, poll_interval=FAST).results()
    folder = tmp_path / "jobs"
    files = sorted(path.name for path in folder.iterdir())
    assert files == [".gitignore", f"{job.id}.json", f"{job.id}.lines.jsonl", f"{job.id}.results.jsonl"]
    saved = json.loads((folder / f"{job.id}.json").read_text())
    assert saved["order"] == ["r000000", "r000001"]
    assert saved["model_id"] == "batchtest:echo"
    for path in folder.iterdir():
        text = path.read_text()
        assert SECRET not in text
        assert "authorization" not in text.lower()


def test_jobs_are_split_by_request_count(server: Server, provider: BatchTestProvider) -> None:
    provider.max_requests = 3
    job = llm.batch.submit(llm.model("batchtest:echo"), [f"p{i}" for i in range(8)])
    assert [len(batch["requests"]) for batch in server.batches.values()] == [3, 3, 2]
    assert contents(job.wait(progress=False, poll_interval=FAST).results()) == [f"P{i}" for i in range(8)]


def test_jobs_are_split_by_bytes(server: Server, provider: BatchTestProvider) -> None:
    line = BatchLine(
        custom_id="r000000",
        request=llm.model("batchtest:echo")._request("p0")[2],  # pyright: ignore[reportPrivateUsage]
        http=HTTPRequest(url="-", body={"model": "echo", "prompt": "p0"}),
    )
    size = EchoBatchAPI(provider, llm.client("batchtest")).line_size(line)
    provider.max_bytes = size * 2 + 1  # two lines fit, not three
    job = llm.batch(llm.model("batchtest:echo"), [f"p{i}" for i in range(5)])
    assert [len(batch["requests"]) for batch in server.batches.values()] == [2, 2, 1]
    assert contents(job.wait(progress=False, poll_interval=FAST).results()) == [f"P{i}" for i in range(5)]

    provider.max_bytes = size - 1
    with pytest.raises(llm.UsageError, match="more than the"):
        llm.batch(llm.model("batchtest:echo"), ["p0"])


def test_a_fresh_process_collects_a_job(server: Server, provider: BatchTestProvider, tmp_path: Path) -> None:
    job = llm.batch(llm.model("batchtest:echo"), ["x", "FAIL y", "z"])
    job.wait(progress=False, poll_interval=FAST)
    script = (
        "import sys\n"
        "from mirascope import llm\n"
        "from mirascope.llm.providers import register\n"
        "from tests.core.test_batch import BatchTestProvider, contents\n"
        "register('batchtest', BatchTestProvider())\n"
        "job = llm.batch.load(sys.argv[1])\n"
        "results = job.results()\n"
        "print(contents(results), results[0].messages[0].text, results[0].cost)\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "BATCHTEST_BASE_URL": server.url,
        "BATCHTEST_API_KEY": SECRET,
        "MIRASCOPE_BATCH_DIR": str(tmp_path / "jobs"),
    }
    done = subprocess.run(
        [sys.executable, "-c", script, job.id], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['X',", "'error:", "BadRequestError',", "'Z']", "x", "None"]


def test_a_download_cut_short_is_resumed_without_loss_or_duplicates(
    server: Server, provider: BatchTestProvider, tmp_path: Path
) -> None:
    provider.max_requests = 4
    job = llm.batch(llm.model("batchtest:echo"), [f"p{i}" for i in range(8)])
    job.wait(progress=False, poll_interval=FAST)
    provider.crash_after = {"b1": 2}  # the second part's download breaks after 2 of its 4 lines
    with pytest.raises(ConnectionResetError):
        job.results()
    saved = json.loads((tmp_path / "jobs" / f"{job.id}.json").read_text())
    assert [part["done"] for part in saved["parts"]] == [True, False]
    # Another job object (as in a new process) downloads only the second part, again.
    downloads = server.downloads
    again = llm.batch.load(job.id)
    assert contents(again.results()) == [f"P{i}" for i in range(8)]
    assert server.downloads == downloads + 1
    lines = (tmp_path / "jobs" / f"{job.id}.results.jsonl").read_text().splitlines()
    ids = [json.loads(line)["custom_id"] for line in lines]
    assert sorted(ids) == [f"r00000{i}" for i in range(8)]  # each line exactly once


def test_a_blip_while_checking_or_downloading_is_retried(server: Server, provider: BatchTestProvider) -> None:
    job = llm.batch(llm.model("batchtest:echo"), ["a", "b"])
    server.unavailable = 1  # the first state check fails
    job.wait(progress=False, poll_interval=FAST)
    assert job.status == "completed"
    server.unavailable = 1  # so does the first download
    assert contents(job.results()) == ["A", "B"]
    assert server.downloads == 1  # the 503 was no download; the retry was


def test_a_line_cut_short_in_the_results_file_is_skipped(server: Server, provider: BatchTestProvider) -> None:
    job = llm.batch(llm.model("batchtest:echo"), ["a", "b"])
    job.wait(progress=False, poll_interval=FAST)
    path = job.directory / f"{job.id}.results.jsonl"
    path.write_text('{"custom_id": "r000001", "body": {"text": "B", "usage"')  # a crash mid-write
    assert contents(llm.batch.load(job.id).results()) == ["A", "B"]


def test_cancel_keeps_what_was_answered(server: Server, provider: BatchTestProvider) -> None:
    job = llm.batch(llm.model("batchtest:echo"), ["a", "b", "c"])
    job.cancel()
    assert job.status in ("cancelling", "cancelled")
    job.wait(progress=False, poll_interval=FAST)
    assert job.status == "cancelled"
    assert job.counts == BatchCounts(3, 1, 2, 0)
    results = job.results()
    assert contents(results)[0] == "A"
    assert all(isinstance(r, llm.APIError) and "ended cancelled" in str(r) for r in results[1:])


def test_an_expired_batch_reports_the_lines_it_never_answered(server: Server, provider: BatchTestProvider) -> None:
    server.ending = "expired"
    job = llm.batch(llm.model("batchtest:echo"), ["a", "b", "c", "d"])
    job.wait(progress=False, poll_interval=FAST)
    assert job.status == "expired"
    results = job.results()
    assert contents(results)[:2] == ["A", "B"]
    assert all(isinstance(r, llm.APIError) and "expired (the 24h window passed)" in str(r) for r in results[2:])


def test_a_job_of_ten_thousand_lines(server: Server, provider: BatchTestProvider) -> None:
    provider.max_requests = 4000
    prompts = [f"q{i}" for i in range(10_000)]
    job = llm.batch(llm.model("batchtest:echo"), prompts)
    assert len(server.batches) == 3
    results = job.wait(progress=False, poll_interval=FAST).results()
    assert contents(results) == [prompt.upper() for prompt in prompts]


def test_progress_lines_when_not_a_terminal(
    server: Server, provider: BatchTestProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    job = llm.batch(llm.model("batchtest:echo"), ["a", "FAIL b", "c"])
    job.wait(poll_interval=FAST)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"{job.id}: in_progress, 0/3 done")
    assert lines[-1].startswith(f"{job.id}: completed, 3/3 done (1 failed)")
    assert len(lines) == len(set(lines))  # a line only when something changed

    quiet = llm.batch(llm.model("batchtest:echo"), ["a"])
    quiet.wait(progress=False, poll_interval=FAST)
    quiet.results()
    assert capsys.readouterr().err == ""


def test_provider_mode_without_a_batch_api_says_to_use_concurrent(server: Server) -> None:
    register("nobatch", NoBatchProvider(name="nobatch"))
    try:
        with pytest.raises(llm.FeatureNotSupportedError, match='mode="concurrent"'):
            llm.batch(llm.model("nobatch:echo"), ["a"])
    finally:
        unregister("nobatch")


def test_a_line_the_model_cannot_take_is_refused_before_upload(server: Server, provider: BatchTestProvider) -> None:
    @llm.tool
    def lookup(word: str) -> str:
        return word

    with pytest.raises(llm.FeatureNotSupportedError, match="no tools"):
        llm.batch(llm.model("batchtest:echo", tools=[lookup]), ["a"])
    assert server.batches == {}


def test_a_dynamic_config_changing_the_model_is_refused(server: Server, provider: BatchTestProvider) -> None:
    @llm.call("batchtest:echo")
    def moving(word: str) -> llm.DynamicConfig:
        return {"messages": word, "model": "batchtest:other"}

    with pytest.raises(llm.UsageError, match="one model"):
        moving.batch(["a"])
    assert server.batches == {}


def test_an_llm_context_block_changes_every_call_of_a_job(server: Server, provider: BatchTestProvider) -> None:
    server.expected_calls = 1
    with llm.context(model="batchtest:other"):
        job = llm.batch(llm.model("batchtest:echo"), ["a"])
        concurrent = llm.batch(llm.model("batchtest:echo"), ["b"], mode="concurrent")
    assert [request["body"]["model"] for request in server.batches["b0"]["requests"]] == ["other"]
    response = job.wait(progress=False, poll_interval=FAST).results()[0]
    assert isinstance(response, llm.CallResponse)
    assert response.model == "batchtest:other"
    response = concurrent.results()[0]
    assert isinstance(response, llm.CallResponse)
    assert response.model == "batchtest:other"


def test_batch_responses_cost_the_batch_price(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    register("openai", BatchTestProvider(name="openai"))  # the table's prices, this protocol
    try:
        job = llm.batch(llm.model("openai:gpt-4o-mini", client=llm.client("openai", base_url=server.url)), ["hello"])
        response = job.wait(progress=False, poll_interval=FAST).results()[0]
    finally:
        unregister("openai")
    assert isinstance(response, llm.CallResponse)
    assert response.usage is not None
    info = llm.model_info("openai:gpt-4o-mini")
    assert info is not None
    assert info.batch_discount == 0.5
    list_price = info.cost(response.usage)
    assert list_price is not None
    assert response.cost == pytest.approx(list_price / 2)


def test_async_call_batch(server: Server, provider: BatchTestProvider) -> None:
    @llm.call("batchtest:echo")
    async def shout(word: str) -> str:
        return word

    async def run() -> list[str]:
        job = await shout.batch(["a", "b"])
        await job.wait_async(progress=False, poll_interval=FAST)
        return contents(await job.results_async())

    assert asyncio.run(run()) == ["A", "B"]


# --- concurrent mode ---------------------------------------------------------------------------------


def test_concurrent_mode_keeps_its_bound_and_the_input_order(server: Server, provider: BatchTestProvider) -> None:
    server.gate, server.expected_calls = 4, 20

    @llm.call("batchtest:echo")
    def shout(word: str) -> str:
        return word

    inputs = [f"w{i}" if i != 7 else "FAIL w7" for i in range(20)]
    job = shout.batch(inputs, mode="concurrent", concurrency=4)
    results = job.wait(progress=False).results()
    assert server.max_in_flight == 4
    expected = [word.upper() for word in inputs]
    expected[7] = "error: BadRequestError"
    assert contents(results) == expected
    assert job.status == "completed"
    assert job.counts == BatchCounts(20, 19, 1, 0)
    assert server.batches == {}

    # A finished concurrent job can be loaded elsewhere; its replies are decoded again.
    assert contents(llm.batch.load(job.id).results()) == expected


def test_concurrent_mode_works_where_there_is_no_batch_api(server: Server) -> None:
    register("nobatch", NoBatchProvider(name="nobatch"))
    server.expected_calls = 2
    try:
        job = llm.batch(llm.model("nobatch:echo"), ["a", "b"], mode="concurrent")
        assert contents(job.results()) == ["A", "B"]
    finally:
        unregister("nobatch")


def test_a_bug_in_concurrent_mode_is_raised_not_kept_as_a_result(server: Server, provider: BatchTestProvider) -> None:
    server.expected_calls = 1
    job = llm.batch(llm.model("batchtest:echo"), ["a", "BUG"], mode="concurrent")
    with pytest.raises(RuntimeError, match="a bug in the provider"):
        job.wait(progress=False)


def test_an_unfinished_concurrent_job_cannot_be_loaded(server: Server, provider: BatchTestProvider) -> None:
    server.gate, server.expected_calls = 2, 2  # the first call waits in the server for the second
    job = llm.batch(llm.model("batchtest:echo"), ["a", "b"], mode="concurrent", concurrency=1)
    try:
        with pytest.raises(llm.UsageError, match="cannot be resumed"):
            llm.batch.load(job.id)
    finally:
        job.cancel()
        job.wait(progress=False)
    assert job.status == "cancelled"
    results = job.results()
    assert isinstance(results[1], llm.APIError)
    assert "cancelled" in str(results[1])


def test_bad_arguments_are_usage_errors(server: Server, provider: BatchTestProvider) -> None:
    model = llm.model("batchtest:echo")
    with pytest.raises(llm.UsageError, match="mode="):
        llm.batch(model, ["a"], mode="fast")  # pyright: ignore[reportArgumentType]
    with pytest.raises(llm.UsageError, match="concurrency="):
        llm.batch(model, ["a"], mode="concurrent", concurrency=0)
    with pytest.raises(llm.UsageError, match="at least one"):
        llm.batch(model, [])
    with pytest.raises(llm.UsageError, match="No batch job"):
        llm.batch.load("batch_missing")


def test_model_info_batch_cost() -> None:
    info = llm.ModelInfo(id="x:y", input_price=2.0, output_price=4.0, batch_discount=0.5)
    usage = llm.Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert info.cost(usage) == 6.0
    assert info.cost(usage, batch=True) == 3.0
    assert llm.ModelInfo(id="x:y", input_price=2.0, output_price=4.0).cost(usage, batch=True) is None


def test_progress_on_a_terminal_rewrites_one_line() -> None:
    import io

    from mirascope.llm.batch import _Progress  # pyright: ignore[reportPrivateUsage]

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    shown = _Progress("batch_x", terminal, started=0.0)
    shown.show(BatchCounts(4, 1, 1, 2), "in_progress")
    shown.show(BatchCounts(4, 1, 1, 2), "in_progress")  # unchanged: not written again
    shown.show(BatchCounts(4, 3, 1, 0), "completed")
    shown.end()
    text = terminal.getvalue()
    assert text.count("\r") == 2
    assert text.endswith("\n")
    assert "\n" not in text[:-1]
    first = text.split("\r")[1]
    assert first.startswith("batch_x: in_progress, 2/4 done (1 failed),")
    assert "left" in first
