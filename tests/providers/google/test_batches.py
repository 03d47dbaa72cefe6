"""Gemini Batch Mode: the adapter against a local server that follows Google's published API."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mirascope import llm
from mirascope.llm.providers import HTTPRequest
from mirascope.llm.providers.batches import BatchLine, BatchResult
from mirascope.providers.google.batches import GeminiBatchAPI

from tests.support.fixtures import load
from tests.support.gemini_batch_server import GeminiBatchServer, status_error

MODEL = "google:gemini-2.5-flash"
KEY = "gemini-test-key-9c1e"
QUESTION = "What is 4200 + 42?"  # the recorded `test_call` request: each line is answered with its reply


@pytest.fixture
def server() -> Iterator[GeminiBatchServer]:
    made = GeminiBatchServer(api_key=KEY)
    yield made
    made.close()


@pytest.fixture
def client(server: GeminiBatchServer) -> Iterator[llm.Client]:
    with llm.client("google", base_url=server.url, api_key=KEY) as made:
        yield made


def batch_api(client: llm.Client, **options: int) -> GeminiBatchAPI:
    api = client.provider.batch_api(client)  # pyright: ignore[reportAttributeAccessIssue]
    assert isinstance(api, GeminiBatchAPI)
    if options:
        return GeminiBatchAPI(client.provider, client, **options)  # pyright: ignore[reportArgumentType]
    return api


def lines_for(client: llm.Client, count: int, text: str = QUESTION) -> list[BatchLine]:
    model = llm.model(MODEL, client=client)
    lines: list[BatchLine] = []
    for index in range(count):
        provider, resolved, request = model._request(text)  # pyright: ignore[reportPrivateUsage]
        lines.append(BatchLine(custom_id=f"r{index:06d}", request=request, http=provider.prepare(request, resolved)))
    return lines


def text_of(client: llm.Client, line: BatchLine, result: BatchResult) -> str:
    decoded = client.provider.decode(line.request, result.body)
    return "".join(getattr(part, "text", "") for part in decoded.message.content)


def poll_until_done(api: GeminiBatchAPI, batch_id: str) -> list[str]:
    seen: list[str] = []
    for _ in range(10):
        state = api.status(batch_id)
        seen.append(state.state)
        if state.state in ("completed", "failed", "expired", "cancelled"):
            return seen
    raise AssertionError(f"never finished: {seen}")


# -- inline requests --


def test_inline_batch_walks_its_states_and_answers_every_line(server: GeminiBatchServer, client: llm.Client) -> None:
    api = batch_api(client)
    lines = lines_for(client, 5)
    batch_id = api.submit(lines)

    assert batch_id.startswith("batches/")
    (create,) = server.requests_to(":batchGenerateContent")
    assert create.path == "/v1beta/models/gemini-2.5-flash:batchGenerateContent"
    assert create.headers["x-goog-api-key"] == KEY
    assert not server.requests_to("/upload/")
    made = server.batches[batch_id]
    assert not made.from_file
    assert made.keys == [line.custom_id for line in lines]
    assert made.requests[0] == lines[0].http.body
    assert poll_until_done(api, batch_id) == ["validating", "in_progress", "completed"]

    results = {result.custom_id: result for result in api.results(batch_id)}
    assert sorted(results) == [line.custom_id for line in lines]
    for line in lines:
        assert results[line.custom_id].error is None
        assert "4242" in text_of(client, line, results[line.custom_id])


def test_counts_follow_the_batch_stats(server: GeminiBatchServer, client: llm.Client) -> None:
    api = batch_api(client)
    batch_id = api.submit(lines_for(client, 4))
    server.set_state(batch_id, "RUNNING")
    running = api.status(batch_id)
    assert running.state == "in_progress"
    assert (running.counts.total, running.counts.succeeded, running.counts.failed, running.counts.pending) == (
        4,
        2,
        0,
        2,
    )
    server.set_state(batch_id, "SUCCEEDED")
    done = api.status(batch_id)
    assert (done.counts.succeeded, done.counts.pending, done.error) == (4, 0, None)


def test_per_line_errors_carry_googles_message_and_class(server: GeminiBatchServer, client: llm.Client) -> None:
    server.line_errors = {
        "r000001": status_error(3, 'Invalid JSON payload received. Unknown name "frobnicate"'),
        "r000002": status_error(8, "Resource has been exhausted (e.g. check quota)."),
    }
    api = batch_api(client)
    batch_id = api.submit(lines_for(client, 4))
    server.set_state(batch_id, "SUCCEEDED")

    state = api.status(batch_id)
    assert (state.counts.succeeded, state.counts.failed) == (2, 2)
    results = {result.custom_id: result for result in api.results(batch_id)}
    bad, limited = results["r000001"].error, results["r000002"].error
    assert isinstance(bad, llm.BadRequestError)
    assert "frobnicate" in str(bad)
    assert isinstance(limited, llm.RateLimitError)
    assert results["r000000"].body is not None
    assert results["r000003"].body is not None


def test_a_large_inline_body_goes_as_a_file_instead(server: GeminiBatchServer, client: llm.Client) -> None:
    api = batch_api(client, inline_max_bytes=1_000)
    batch_id = api.submit(lines_for(client, 20))
    assert server.batches[batch_id].from_file
    assert len(server.requests_to("/upload/v1beta/files")) == 2


# -- file input --


def test_file_batch_uploads_with_the_resumable_protocol(server: GeminiBatchServer, client: llm.Client) -> None:
    api = batch_api(client, inline_max_requests=10)
    lines = lines_for(client, 60)
    batch_id = api.submit(lines)

    start, finish = server.requests_to("/upload/v1beta/files")
    assert start.headers["x-goog-upload-protocol"] == "resumable"
    assert start.headers["x-goog-upload-command"] == "start"
    assert start.headers["x-goog-upload-header-content-type"] == "application/jsonl"
    assert int(start.headers["x-goog-upload-header-content-length"]) == finish.size
    assert finish.headers["x-goog-upload-command"] == "upload, finalize"
    assert finish.headers["x-goog-upload-offset"] == "0"
    assert finish.headers["x-goog-api-key"] == KEY
    # `line_size` is exactly what each line adds to the uploaded file.
    assert sum(api.line_size(line) for line in lines) == finish.size
    uploaded = next(data for data in server.files.values() if len(data) == finish.size)
    first = json.loads(uploaded.splitlines()[0])
    assert first == {"key": "r000000", "request": lines[0].http.body}

    assert poll_until_done(api, batch_id)[-1] == "completed"
    order = [result.custom_id for result in api.results(batch_id)]
    assert order != sorted(order)  # the server answers out of order
    assert sorted(order) == [line.custom_id for line in lines]
    (download,) = server.requests_to("/download/")
    assert download.path.startswith("/download/v1beta/files/batch-")
    assert download.query == "alt=media"


def test_file_results_carry_per_line_errors(server: GeminiBatchServer, client: llm.Client) -> None:
    server.line_errors = {"r000007": status_error(13, "Internal error encountered.")}
    api = batch_api(client, inline_max_requests=0)
    batch_id = api.submit(lines_for(client, 12))
    server.set_state(batch_id, "SUCCEEDED")
    results = {result.custom_id: result for result in api.results(batch_id)}
    assert len(results) == 12
    error = results["r000007"].error
    assert isinstance(error, llm.ServerError)
    assert "Internal error encountered." in str(error)


@pytest.mark.parametrize(
    ("cut", "error_type"), [("at_line", llm.APIError), ("mid_line", llm.APIError), ("close", llm.ConnectionError)]
)
def test_a_results_file_cut_short_raises_after_its_whole_lines(
    server: GeminiBatchServer, client: llm.Client, cut: str, error_type: type[llm.APIError]
) -> None:
    api = batch_api(client, inline_max_requests=0)
    batch_id = api.submit(lines_for(client, 40))
    server.set_state(batch_id, "SUCCEEDED")
    server.cut_results = cut  # pyright: ignore[reportAttributeAccessIssue]
    got: list[str] = []
    with pytest.raises(error_type) as raised:
        got.extend(result.custom_id for result in api.results(batch_id))
    assert len(got) < 40
    if cut != "close":
        assert "cut short" in str(raised.value)
    # Downloading again, whole this time, gives every line.
    server.cut_results = None
    assert len({result.custom_id for result in api.results(batch_id)}) == 40


def test_ten_thousand_lines_round_trip(server: GeminiBatchServer, client: llm.Client) -> None:
    api = batch_api(client)
    lines = lines_for(client, 10_000)
    assert sum(api.line_size(line) for line in lines) < api.max_bytes
    batch_id = api.submit(lines)
    assert server.batches[batch_id].from_file  # more lines than go inline
    server.set_state(batch_id, "SUCCEEDED")
    assert api.status(batch_id).counts.succeeded == 10_000
    ids = [result.custom_id for result in api.results(batch_id)]
    assert len(ids) == 10_000
    assert set(ids) == {line.custom_id for line in lines}


# -- other endings --


def test_a_failed_batch_says_why(server: GeminiBatchServer, client: llm.Client) -> None:
    api = batch_api(client)
    batch_id = api.submit(lines_for(client, 3))
    server.set_state(batch_id, "FAILED")
    state = api.status(batch_id)
    assert state.state == "failed"
    assert state.error == "The batch could not be processed."
    assert (state.counts.failed, state.counts.pending) == (3, 0)
    assert list(api.results(batch_id)) == []


@pytest.mark.parametrize("inline", [True, False])
def test_an_expired_batch_keeps_the_lines_it_answered(
    server: GeminiBatchServer, client: llm.Client, inline: bool
) -> None:
    api = batch_api(client, inline_max_requests=100 if inline else 0)
    batch_id = api.submit(lines_for(client, 10))
    server.set_state(batch_id, "EXPIRED")
    state = api.status(batch_id)
    assert state.state == "expired"
    assert state.error is not None
    assert "expired" in state.error
    assert (state.counts.succeeded, state.counts.failed, state.counts.pending) == (5, 5, 0)
    assert len(list(api.results(batch_id))) == 5


def test_cancel_stops_the_batch(server: GeminiBatchServer, client: llm.Client) -> None:
    api = batch_api(client)
    batch_id = api.submit(lines_for(client, 6))
    server.set_state(batch_id, "RUNNING")
    assert api.status(batch_id).state == "in_progress"
    server.batches[batch_id].forced = None
    server.batches[batch_id].step = 1  # RUNNING, where a cancel applies
    api.cancel(batch_id)
    (cancel,) = server.requests_to(":cancel")
    assert cancel.method == "POST"
    assert cancel.path == f"/v1beta/{batch_id}:cancel"
    state = api.status(batch_id)
    assert state.state == "cancelled"
    assert (state.counts.succeeded, state.counts.failed) == (3, 3)
    assert len(list(api.results(batch_id))) == 3


# -- what Google's JSON may look like --


def test_snake_case_replies_read_the_same(server: GeminiBatchServer, client: llm.Client) -> None:
    server.snake_case = True
    api = batch_api(client, inline_max_requests=0)
    batch_id = api.submit(lines_for(client, 4))
    server.set_state(batch_id, "SUCCEEDED")
    state = api.status(batch_id)
    assert (state.state, state.counts.total, state.counts.succeeded) == ("completed", 4, 4)
    assert len(list(api.results(batch_id))) == 4


def test_job_state_names_and_missing_counts_are_read() -> None:
    from mirascope.providers.google.batches import batch_state

    state = batch_state(
        {"name": "batches/x", "metadata": {"state": "JOB_STATE_RUNNING", "batchStats": {"requestCount": "3"}}}
    )
    assert state.state == "in_progress"
    assert (state.counts.total, state.counts.succeeded, state.counts.pending) == (3, 0, 0)


def test_recorded_replies_of_other_scenarios_come_back_as_recorded(
    server: GeminiBatchServer, client: llm.Client
) -> None:
    api = batch_api(client)
    scenarios = ("test_call_with_tools", "test_call_with_thinking", "test_structured_output")
    template = lines_for(client, 1)[0]
    lines: list[BatchLine] = []
    replies: dict[str, object] = {}
    for index, scenario in enumerate(scenarios):
        exchange = load(f"{scenario}/google_gemini_2_5_flash/sync.json")["exchanges"][0]
        custom_id = f"r{index:06d}"
        http = HTTPRequest(url=template.http.url, body=exchange["request"]["json"])
        lines.append(BatchLine(custom_id=custom_id, request=template.request, http=http))
        replies[custom_id] = exchange["response"]["json"]
    batch_id = api.submit(lines)
    server.set_state(batch_id, "SUCCEEDED")
    assert {result.custom_id: result.body for result in api.results(batch_id)} == replies


def test_a_users_http_client_gets_the_key_with_each_request(server: GeminiBatchServer) -> None:
    import httpx

    with httpx.Client() as http, llm.client("google", base_url=server.url, api_key=KEY, http_client=http) as given:
        api = batch_api(given, inline_max_requests=0)
        batch_id = api.submit(lines_for(given, 3))
        server.set_state(batch_id, "SUCCEEDED")
        assert len(list(api.results(batch_id))) == 3
    assert "x-goog-api-key" not in http.headers
    assert all(request.headers.get("x-goog-api-key") == KEY for request in server.received)


def test_a_base_url_naming_the_version_is_not_doubled(server: GeminiBatchServer) -> None:
    with llm.client("google", base_url=f"{server.url}/v1beta", api_key=KEY) as pinned:
        api = batch_api(pinned, inline_max_requests=0)
        batch_id = api.submit(lines_for(pinned, 2))
        server.set_state(batch_id, "SUCCEEDED")
        assert len(list(api.results(batch_id))) == 2
        api.cancel(batch_id)
    paths = {request.path.split("/files")[0] for request in server.received}
    assert not any("v1beta/v1beta" in path for path in paths)
    assert server.requests_to("/upload/v1beta/files")
    assert server.requests_to("/download/v1beta/files/")


# -- failures of the batch endpoints --


def test_a_wrong_key_is_an_authentication_error(server: GeminiBatchServer) -> None:
    with llm.client("google", base_url=server.url, api_key="wrong-key-123") as wrong:
        api = batch_api(wrong)
        with pytest.raises(llm.AuthenticationError) as raised:
            api.submit(lines_for(wrong, 1))
    assert "wrong-key-123" not in str(raised.value)
    assert "wrong-key-123" not in repr(api)


def test_an_unknown_batch_is_not_found(client: llm.Client) -> None:
    with pytest.raises(llm.NotFoundError):
        batch_api(client).status("batches/nosuchbatch")


def test_an_unreachable_api_is_a_connection_error(server: GeminiBatchServer) -> None:
    url = server.url
    server.close()  # nothing listens on its port any more
    with llm.client("google", base_url=url, api_key=KEY) as gone, pytest.raises(llm.ConnectionError) as raised:
        batch_api(gone).status("batches/b1")
    assert KEY not in str(raised.value)


def test_a_batch_id_cannot_name_another_path(client: llm.Client) -> None:
    api = batch_api(client)
    with pytest.raises(ValueError, match="not a Gemini batch id"):
        api.status("batches/../../files/secret")


def test_an_upload_url_on_another_host_is_refused(server: GeminiBatchServer, client: llm.Client) -> None:
    server.upload_base = "http://127.0.0.2:9"
    api = batch_api(client, inline_max_requests=0)
    with pytest.raises(llm.APIError, match="another host"):
        api.submit(lines_for(client, 2))
    assert len(server.requests_to("/upload/")) == 1  # the bytes (and the key) never left


def test_lines_for_two_models_are_refused(client: llm.Client) -> None:
    lines = lines_for(client, 1)
    other = llm.model("google:gemini-2.5-pro", client=client)
    provider, resolved, request = other._request(QUESTION)  # pyright: ignore[reportPrivateUsage]
    lines.append(BatchLine(custom_id="r000001", request=request, http=provider.prepare(request, resolved)))
    with pytest.raises(ValueError, match="same model"):
        batch_api(client).submit(lines)


def test_vertex_ai_refuses_and_points_at_concurrent_mode() -> None:
    vertex = llm.client("google", vertexai=True, project="p", api_key="token")
    with vertex, pytest.raises(llm.FeatureNotSupportedError, match='mode="concurrent"') as raised:
        vertex.provider.batch_api(vertex)  # pyright: ignore[reportAttributeAccessIssue]
    assert raised.value.feature == "batch"


# -- the public API (core's `llm.batch`), once it is there --

needs_llm_batch = pytest.mark.skipif(
    importlib.util.find_spec("mirascope.llm.batch") is None, reason="core's llm.batch has not landed"
)


@needs_llm_batch
def test_llm_batch_submit_collects_in_input_order(
    server: GeminiBatchServer, client: llm.Client, tmp_path: Path
) -> None:
    server.line_errors = {"r000001": status_error(3, "The line was refused.")}
    model = llm.model(MODEL, client=client)
    job = llm.batch.submit(model, [QUESTION, [llm.messages.user(QUESTION)], QUESTION], directory=tmp_path)
    job.wait(progress=False, poll_interval=0)
    assert job.status == "completed"
    first, refused, third = job.results()
    assert isinstance(first, llm.CallResponse)
    assert "4242" in first.content
    assert isinstance(refused, llm.BadRequestError)
    assert "The line was refused." in str(refused)
    assert isinstance(third, llm.CallResponse)
    assert "4242" in third.content
    assert first.metadata["batch"] == job.id
    # Priced at Gemini's batch rate: half of what the same call costs on its own.
    from mirascope.llm.known_models import cost_of

    assert first.usage is not None
    single = cost_of(MODEL, first.usage)
    assert single is not None
    assert first.cost == pytest.approx(single / 2)


@needs_llm_batch
def test_llm_batch_resumes_in_a_fresh_process(
    server: GeminiBatchServer, client: llm.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = llm.model(MODEL, client=client)
    job = llm.batch.submit(model, [QUESTION] * 1_200, directory=tmp_path)
    assert server.requests_to("/upload/v1beta/files")  # past 1,000 lines: a file
    saved = (tmp_path / f"{job.id}.json").read_text()
    assert KEY not in saved
    # Another process, with only the usual variables set, picks the job up and collects it.
    script = (
        "import sys; from mirascope import llm\n"
        "job = llm.batch.load(sys.argv[1], directory=sys.argv[2]).wait(progress=False, poll_interval=0)\n"
        "results = job.results()\n"
        "print(job.status, len(results), sum('4242' in r.content for r in results if not isinstance(r, llm.Error)))\n"
    )
    env = {**os.environ, "GOOGLE_API_KEY": KEY, "GOOGLE_GEMINI_BASE_URL": server.url}
    done = subprocess.run(
        [sys.executable, "-c", script, job.id, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["completed", "1200", "1200"]
    # Loaded here again, the results come from the saved file: nothing is downloaded twice.
    downloads = len(server.requests_to("/download/"))
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
    again = llm.batch.load(job.id, directory=tmp_path)
    assert len(again.results()) == 1_200
    assert len(server.requests_to("/download/")) == downloads


@needs_llm_batch
def test_llm_batch_on_vertex_ai_says_to_run_concurrently(tmp_path: Path) -> None:
    with llm.client("google", vertexai=True, project="p", api_key="token") as vertex:
        model = llm.model(MODEL, client=vertex)
        with pytest.raises(llm.FeatureNotSupportedError, match='mode="concurrent"'):
            llm.batch.submit(model, [QUESTION], directory=tmp_path)


@needs_llm_batch
def test_llm_batch_async_with_an_expired_part(server: GeminiBatchServer, client: llm.Client, tmp_path: Path) -> None:
    server.script = ("PENDING", "RUNNING", "EXPIRED")
    model = llm.model(MODEL, client=client)

    async def run() -> list[llm.CallResponse[str] | llm.Error]:
        job = llm.batch.submit(model, [QUESTION] * 6, directory=tmp_path)
        await job.wait_async(progress=False, poll_interval=0)
        assert job.status == "expired"
        return await job.results_async()

    results = asyncio.run(run())
    answered = [r for r in results if isinstance(r, llm.CallResponse)]
    unanswered = [r for r in results if isinstance(r, llm.Error)]
    assert (len(answered), len(unanswered)) == (3, 3)
