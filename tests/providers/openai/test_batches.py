"""OpenAI's Batch API: the adapter against a real local server speaking the Files and Batches APIs.

The adapter tests call the `BatchAPI` methods core calls; the public-API tests at the end go
through `llm.batch` end to end.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from mirascope import llm
from mirascope.llm.providers.batches import BatchCounts, BatchLine, BatchResult
from mirascope.providers.openai.batches import OpenAIBatchAPI, batch_state

from tests.support.fixtures import load
from tests.support.openai_batch_server import (
    LineError,
    OpenAIBatchServer,
    Plan,
    Reply,
    recorded_answer,
    recorded_body,
)
from tests.support.scenarios import secret_retrieval_tool
from tests.support.structured import Author, Book

KEY = "sk-batch-test-0123456789"


@pytest.fixture
def server() -> Iterator[OpenAIBatchServer]:
    with OpenAIBatchServer(api_key=KEY) as server:
        yield server


def _client(server: OpenAIBatchServer, provider: str = "openai", **settings: Any) -> llm.Client:
    return llm.client(provider, base_url=server.url + "/v1", api_key=KEY, max_retries=0, **settings)


def _lines(model_id: str, client: llm.Client, count: int) -> tuple[Any, list[BatchLine]]:
    """The lines core would build for `count` prompts: `model._request`, then `provider.prepare`."""
    model = llm.model(model_id, client=client, temperature=0.5)
    lines: list[BatchLine] = []
    provider: Any = None
    for index in range(count):
        provider, resolved, request = model._request(f"question {index}")  # pyright: ignore[reportPrivateUsage]
        lines.append(BatchLine(custom_id=f"r{index:06d}", request=request, http=provider.prepare(request, resolved)))
    return provider, lines


def _api(provider: Any, client: llm.Client) -> OpenAIBatchAPI:
    api = provider.batch_api(client)
    assert isinstance(api, OpenAIBatchAPI)
    return api


def _answer_with_question(line: dict[str, Any]) -> Reply:
    """The recorded reply, its text replaced by the line's own question, so each result shows whose it is."""
    reply = recorded_answer(line)
    body = reply.body
    question = (
        line["body"]["input"][0]["content"] if "input" in line["body"] else line["body"]["messages"][0]["content"]
    )
    if "output" in body:
        body["output"][0]["content"][0]["text"] = f"answer to {question}"
    else:
        body["choices"][0]["message"]["content"] = f"answer to {question}"
    return reply


def _run(api: OpenAIBatchAPI, batch_id: str) -> list[str]:
    """Poll until the batch is final; the statuses seen, in order."""
    seen: list[str] = []
    while not seen or seen[-1] not in ("completed", "failed", "expired", "cancelled"):
        seen.append(api.status(batch_id).state)
    return seen


# Submitting.


@pytest.mark.parametrize(
    ("model_id", "endpoint"),
    [("openai:gpt-4o-mini", "/v1/responses"), ("openai-completions:gpt-4o-mini", "/v1/chat/completions")],
)
def test_submit_uploads_the_prepared_bodies_as_jsonl_and_creates_a_batch_on_the_model_endpoint(
    server: OpenAIBatchServer, model_id: str, endpoint: str
) -> None:
    client = _client(server, model_id.split(":")[0])
    provider, lines = _lines(model_id, client, 3)
    api = _api(provider, client)

    batch_id = api.submit(lines)

    (upload,) = server.requests("POST", "/v1/files")
    assert upload.headers["authorization"] == f"Bearer {KEY}"
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    (create,) = server.requests("POST", "/v1/batches")
    file_id = create.json()["input_file_id"]
    assert create.json() == {"input_file_id": file_id, "endpoint": endpoint, "completion_window": "24h"}
    stored = server.files[file_id]
    assert (stored.purpose, stored.filename) == ("batch", "batch.jsonl")
    assert [json.loads(text) for text in stored.content.splitlines()] == [
        {"custom_id": line.custom_id, "method": "POST", "url": endpoint, "body": line.http.body} for line in lines
    ]
    assert lines[0].http.body["temperature"] == 0.5
    assert server.batches[batch_id].endpoint == endpoint


def test_line_size_is_the_bytes_each_line_adds_to_the_uploaded_file(server: OpenAIBatchServer) -> None:
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 5)
    api = _api(provider, client)

    sizes = [api.line_size(line) for line in lines]
    batch_id = api.submit(lines)

    content = server.files[server.batches[batch_id].input_file_id].content
    assert sum(sizes) == len(content)
    assert sizes == [len(text) + 1 for text in content.splitlines()]
    assert (api.max_requests, api.max_bytes) == (50_000, 200_000_000)


def test_submit_refuses_a_line_prepared_for_another_endpoint_before_uploading(server: OpenAIBatchServer) -> None:
    client = _client(server)
    _, lines = _lines("openai-completions:gpt-4o-mini", client, 1)
    responses_api = _api(_lines("openai:gpt-4o-mini", client, 1)[0], client)

    with pytest.raises(ValueError, match="/v1/responses"):
        responses_api.submit(lines)
    assert server.requests("POST", "/v1/files") == []


def test_a_refused_key_is_the_mapped_error_without_the_key(server: OpenAIBatchServer) -> None:
    client = llm.client("openai", base_url=server.url + "/v1", api_key="sk-wrong-key-999", max_retries=0)
    provider, lines = _lines("openai:gpt-4o-mini", client, 1)

    with pytest.raises(llm.AuthenticationError) as caught:
        _api(provider, client).submit(lines)
    assert "Incorrect API key" in str(caught.value)
    assert "sk-wrong-key-999" not in str(caught.value) + repr(caught.value)


# Status.


def test_status_walks_from_validating_to_completed_with_the_counts(server: OpenAIBatchServer) -> None:
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 4)
    api = _api(provider, client)
    batch_id = api.submit(lines)

    states = [api.status(batch_id) for _ in range(4)]

    assert [s.state for s in states] == ["in_progress", "finalizing", "completed", "completed"]
    assert states[0].counts == BatchCounts(total=4, succeeded=0, failed=0, pending=4)
    assert states[-1].counts.succeeded == 4
    assert states[-1].counts.pending == 0
    assert states[-1].error is None


def test_status_of_a_new_batch_is_validating(server: OpenAIBatchServer) -> None:
    server.plan = Plan(auto_advance=False)
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 2)
    api = _api(provider, client)
    batch_id = api.submit(lines)

    assert api.status(batch_id).state == "validating"
    server.set_status(batch_id, "in_progress")
    assert api.status(batch_id).state == "in_progress"


@pytest.mark.parametrize(
    "status", ["validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled"]
)
def test_every_batch_status_maps_to_the_same_core_status(status: str) -> None:
    state = batch_state({"status": status, "request_counts": {"total": 10, "completed": 6, "failed": 1}})

    assert state.state == status
    assert (state.counts.total, state.counts.succeeded) == (10, 6)
    final = status in ("completed", "failed", "expired", "cancelled")
    # A finished batch's lines that never ran are over too: failed, not pending.
    assert (state.counts.failed, state.counts.pending) == ((4, 0) if final else (1, 3))


def test_a_status_unknown_to_us_reads_as_in_progress() -> None:
    assert batch_state({"status": "paused"}).state == "in_progress"


def test_a_batch_that_failed_validation_says_why_with_the_line(server: OpenAIBatchServer) -> None:
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 2)
    api = _api(provider, client)
    # Two lines with one custom_id: core never makes them, but OpenAI's validation would refuse them.
    batch_id = api.submit([lines[0], attrs.evolve(lines[1], custom_id=lines[0].custom_id)])

    state = api.status(batch_id)

    assert state.state == "failed"
    assert state.error == "line 2: custom_id must be unique. (duplicate_custom_id)"
    assert list(api.results(batch_id)) == []


def test_a_batch_the_provider_fails_reports_its_error(server: OpenAIBatchServer) -> None:
    server.plan = Plan(fate="failed")
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 2)
    api = _api(provider, client)
    batch_id = api.submit(lines)

    assert _run(api, batch_id) == ["failed"]
    assert api.status(batch_id).error == "Enqueued token limit reached. (token_limit_exceeded)"


# Results.


def test_results_come_back_out_of_order_each_with_its_own_reply(server: OpenAIBatchServer) -> None:
    server.plan = Plan(answer=_answer_with_question)
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 20)
    api = _api(provider, client)
    batch_id = api.submit(lines)
    _run(api, batch_id)

    results = list(api.results(batch_id))

    ids = [r.custom_id for r in results]
    assert sorted(ids) == [line.custom_id for line in lines]
    assert ids != sorted(ids)  # the server shuffled them, as OpenAI may
    by_id = {line.custom_id: line for line in lines}
    for result in results:
        assert result.error is None
        decoded = provider.decode(by_id[result.custom_id].request, result.body)
        question = f"question {int(result.custom_id[1:])}"
        assert decoded.message.text == f"answer to {question}"


def test_per_line_errors_are_mapped_like_single_call_errors(server: OpenAIBatchServer) -> None:
    def answer(line: dict[str, Any]) -> Reply | LineError:
        index = int(line["custom_id"][1:])
        if index == 1:
            return Reply(
                {
                    "error": {
                        "message": "Rate limit reached for gpt-4o-mini",
                        "type": "requests",
                        "code": "rate_limit_exceeded",
                    }
                },
                status=429,
            )
        if index == 2:
            return Reply(
                {
                    "error": {
                        "message": "Invalid 'temperature': too high",
                        "type": "invalid_request_error",
                        "code": None,
                    }
                },
                status=400,
            )
        if index == 3:
            return LineError("request_timeout", "The request to the model timed out.")
        return recorded_answer(line)

    server.plan = Plan(answer=answer)
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 5)
    api = _api(provider, client)
    batch_id = api.submit(lines)
    _run(api, batch_id)

    results = {r.custom_id: r for r in api.results(batch_id)}

    assert sorted(results) == [line.custom_id for line in lines]
    assert results["r000000"].body == recorded_body("/v1/responses") | {"model": "gpt-4o-mini"}
    rate_limited = results["r000001"].error
    assert isinstance(rate_limited, llm.RateLimitError)
    assert rate_limited.status_code == 429
    assert rate_limited.message == "Rate limit reached for gpt-4o-mini"
    refused = results["r000002"].error
    assert isinstance(refused, llm.BadRequestError)
    assert refused.message == "Invalid 'temperature': too high"
    timed_out = results["r000003"].error
    assert isinstance(timed_out, llm.APIError)
    assert timed_out.message == "The request to the model timed out."
    assert timed_out.provider == "openai"
    assert results["r000004"].error is None
    assert api.status(batch_id).counts == BatchCounts(total=5, succeeded=2, failed=3, pending=0)


def test_a_result_file_cut_short_loses_only_its_last_line(server: OpenAIBatchServer) -> None:
    server.plan = Plan(truncate_output=True)
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 6)
    api = _api(provider, client)
    batch_id = api.submit(lines)
    _run(api, batch_id)

    results = list(api.results(batch_id))

    assert len(results) == 5
    assert all(r.error is None for r in results)
    assert len({r.custom_id for r in results}) == 5


def test_a_download_the_connection_breaks_off_raises_so_it_is_fetched_again(server: OpenAIBatchServer) -> None:
    server.plan = Plan(drop_output=1)
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 6)
    api = _api(provider, client)
    batch_id = api.submit(lines)
    _run(api, batch_id)

    with pytest.raises(llm.ConnectionError):
        list(api.results(batch_id))
    assert len(list(api.results(batch_id))) == 6  # fetched again, whole


def test_an_expired_batch_gives_what_ran_and_an_error_for_each_line_that_did_not(server: OpenAIBatchServer) -> None:
    server.plan = Plan(fate="expired", ran=3)
    client = _client(server)
    provider, lines = _lines("openai-completions:gpt-4o-mini", client, 8)
    api = _api(provider, client)
    batch_id = api.submit(lines)

    assert _run(api, batch_id) == ["in_progress", "expired"]
    state = api.status(batch_id)
    assert state.error is not None
    assert "24h" in state.error
    assert (state.counts.succeeded, state.counts.failed, state.counts.pending) == (3, 5, 0)
    results = list(api.results(batch_id))
    assert sorted(r.custom_id for r in results) == [line.custom_id for line in lines]
    replies = [r for r in results if r.error is None]
    assert len(replies) == 3
    assert all(isinstance(r.body, dict) and r.body["object"] == "chat.completion" for r in replies)
    expired = [r.error for r in results if r.error is not None]
    assert len(expired) == 5
    assert all(e.message == "This request expired before it ran." for e in expired)
    assert all(isinstance(e.body, dict) and e.body["code"] == "batch_expired" for e in expired)


# Cancelling.


def test_cancel_stops_the_batch_which_keeps_what_finished(server: OpenAIBatchServer) -> None:
    server.plan = Plan(ran=2)
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 5)
    api = _api(provider, client)
    batch_id = api.submit(lines)
    assert api.status(batch_id).state == "in_progress"

    api.cancel(batch_id)

    assert server.requests("POST", f"/v1/batches/{batch_id}/cancel")
    assert server.batches[batch_id].status == "cancelling"
    assert _run(api, batch_id) == ["cancelled"]
    results = list(api.results(batch_id))
    assert len([r for r in results if r.error is None]) == 2
    cancelled = [r.error for r in results if r.error is not None]
    assert len(cancelled) == 3
    assert all(isinstance(e.body, dict) and e.body["code"] == "batch_cancelled" for e in cancelled)


def test_cancelling_a_finished_batch_is_the_providers_refusal(server: OpenAIBatchServer) -> None:
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 1)
    api = _api(provider, client)
    batch_id = api.submit(lines)
    _run(api, batch_id)

    with pytest.raises(llm.BadRequestError, match="Cannot cancel a batch with status 'completed'"):
        api.cancel(batch_id)


def test_an_unknown_batch_is_not_found(server: OpenAIBatchServer) -> None:
    client = _client(server)
    api = _api(llm.model("openai:gpt-4o-mini", client=client)._request("x")[0], client)  # pyright: ignore[reportPrivateUsage]

    with pytest.raises(llm.NotFoundError, match="batch_nope"):
        api.status("batch_nope")


# Scale.


def test_ten_thousand_lines_round_trip(server: OpenAIBatchServer) -> None:
    server.plan = Plan(answer=_answer_with_question)
    client = _client(server)
    provider, lines = _lines("openai:gpt-4o-mini", client, 10_000)
    api = _api(provider, client)
    assert sum(api.line_size(line) for line in lines) < api.max_bytes

    batch_id = api.submit(lines)
    _run(api, batch_id)
    results: list[BatchResult] = list(api.results(batch_id))

    assert len(results) == 10_000
    assert {r.custom_id for r in results} == {line.custom_id for line in lines}
    sample = next(r for r in results if r.custom_id == "r004242")
    assert isinstance(sample.body, dict)
    assert sample.body["output"][0]["content"][0]["text"] == "answer to question 4242"


# Which providers have it.


def test_azure_batches_on_its_v1_root_with_the_api_key_header() -> None:
    with OpenAIBatchServer(api_key=KEY, prefix="/openai/v1") as server:
        client = llm.client("azure", base_url=server.url + "/openai/v1", api_key=KEY, max_retries=0)
        provider, lines = _lines("azure:my-batch-deployment", client, 2)
        api = _api(provider, client)

        batch_id = api.submit(lines)
        _run(api, batch_id)
        results = list(api.results(batch_id))

        (upload,) = server.requests("POST", "/openai/v1/files")
        assert upload.headers["api-key"] == KEY
        assert server.batches[batch_id].endpoint == "/v1/responses"
        assert [
            json.loads(t)["body"]["model"]
            for t in server.files[server.batches[batch_id].input_file_id].content.splitlines()
        ] == [
            "my-batch-deployment",
            "my-batch-deployment",
        ]
        assert len(results) == 2


def test_an_openai_compatible_service_has_no_batch_api_and_says_to_run_concurrently() -> None:
    client = llm.client("groq", api_key="gsk-test")
    provider: Any = llm.model("groq:llama-3.3-70b-versatile", client=client)._request("x")[0]  # pyright: ignore[reportPrivateUsage]

    with pytest.raises(llm.FeatureNotSupportedError, match='mode="concurrent"'):
        provider.batch_api(client)
    with pytest.raises(llm.FeatureNotSupportedError, match='mode="concurrent"') as refused:
        llm.batch(llm.model("groq:llama-3.3-70b-versatile", client=client), ["x"])
    assert refused.value.model == "groq:llama-3.3-70b-versatile"  # the job's model, not the provider's prefix


# Through `llm.batch`: these run once core's `llm.batch` is in place.


def test_llm_batch_submit_waits_and_returns_results_in_input_order(server: OpenAIBatchServer, tmp_path: Path) -> None:
    server.plan = Plan(answer=_answer_with_question)
    model = llm.model("openai:gpt-4o-mini", client=_client(server))
    inputs: list[Any] = [[llm.messages.user(f"question {i}")] for i in range(12)]

    job = llm.batch.submit(model, inputs, directory=tmp_path)
    results = job.wait(progress=False, poll_interval=0.01).results()

    assert job.status == "completed"
    assert [r.content for r in results] == [f"answer to question {i}" for i in range(12)]  # pyright: ignore[reportAttributeAccessIssue]
    assert all(isinstance(r, llm.CallResponse) for r in results)
    assert all(r.metadata.get("batch") == job.id for r in results)  # pyright: ignore[reportAttributeAccessIssue]


def test_llm_batch_gives_each_failed_line_its_providers_error_in_place(
    server: OpenAIBatchServer, tmp_path: Path
) -> None:
    def answer(line: dict[str, Any]) -> Reply | LineError:
        if line["custom_id"].endswith("1"):
            return Reply({"error": {"message": "Invalid 'temperature'", "type": "invalid_request_error"}}, status=400)
        return _answer_with_question(line)

    server.plan = Plan(answer=answer)
    model = llm.model("openai-completions:gpt-4o-mini", client=_client(server, "openai-completions"))

    job = llm.batch.submit(model, ["question 0", "question 1", "question 2"], directory=tmp_path)
    results = job.wait(progress=False, poll_interval=0.01).results()

    assert isinstance(results[1], llm.BadRequestError)
    assert results[1].message == "Invalid 'temperature'"
    assert [r.content for r in (results[0], results[2])] == ["answer to question 0", "answer to question 2"]  # pyright: ignore[reportAttributeAccessIssue]


def test_llm_batch_load_resumes_the_job_from_its_file(
    server: OpenAIBatchServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.plan = Plan(answer=_answer_with_question, auto_advance=False)
    model = llm.model("openai:gpt-4o-mini", client=_client(server))
    job = llm.batch.submit(model, ["question 0", "question 1"], directory=tmp_path)
    (batch_id,) = server.batches
    server.set_status(batch_id, "completed")
    # Another process has only the environment: the job file holds no key and no client.
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")

    loaded = llm.batch.load(job.id, directory=tmp_path)

    assert loaded.id == job.id
    assert [r.content for r in loaded.wait(progress=False, poll_interval=0.01).results()] == [  # pyright: ignore[reportAttributeAccessIssue]
        "answer to question 0",
        "answer to question 1",
    ]


def test_llm_batch_resumes_in_a_fresh_process_from_the_environment_alone(
    server: OpenAIBatchServer, tmp_path: Path
) -> None:
    server.plan = Plan(answer=_answer_with_question, auto_advance=False)
    model = llm.model("openai:gpt-4o-mini", client=_client(server))
    job = llm.batch.submit(model, [f"question {i}" for i in range(5)], directory=tmp_path)
    (batch_id,) = server.batches
    server.set_status(batch_id, "completed")
    script = (
        "import json, sys\n"
        "from mirascope import llm\n"
        "job = llm.batch.load(sys.argv[1], directory=sys.argv[2]).wait(progress=False, poll_interval=0.01)\n"
        "print(json.dumps([r.content for r in job.results()]))\n"
    )
    env = {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.url + "/v1"}

    done = subprocess.run(
        [sys.executable, "-c", script, job.id, str(tmp_path)], env=env, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [f"answer to question {i}" for i in range(5)]
    assert KEY not in (tmp_path / f"{job.id}.json").read_text()


def test_llm_batch_download_broken_off_is_fetched_again_without_losing_or_repeating_a_result(
    server: OpenAIBatchServer, tmp_path: Path
) -> None:
    server.plan = Plan(answer=_answer_with_question, drop_output=1)
    model = llm.model("openai:gpt-4o-mini", client=_client(server))
    job = llm.batch.submit(model, [f"question {i}" for i in range(8)], directory=tmp_path)
    job.wait(progress=False, poll_interval=0.01)

    with pytest.raises(llm.ConnectionError, match="broke"):
        job.results()
    results = job.results()  # the part was not marked done: its file is fetched again

    assert [r.content for r in results] == [f"answer to question {i}" for i in range(8)]  # pyright: ignore[reportAttributeAccessIssue]
    (output_file,) = [b.output_file_id for b in server.batches.values()]
    assert len(server.requests("GET", f"/v1/files/{output_file}/content")) == 2


def test_llm_batch_of_ten_thousand_calls(server: OpenAIBatchServer, tmp_path: Path) -> None:
    server.plan = Plan(answer=_answer_with_question)
    model = llm.model("openai-completions:gpt-4o-mini", client=_client(server, "openai-completions"))

    job = llm.batch.submit(model, [f"question {i}" for i in range(10_000)], directory=tmp_path)
    results = job.wait(progress=False, poll_interval=0.01).results()

    assert len(results) == 10_000
    assert [r.content for r in results[4240:4243]] == [f"answer to question {i}" for i in range(4240, 4243)]  # pyright: ignore[reportAttributeAccessIssue]
    assert all(isinstance(r, llm.CallResponse) for r in results)


def _recorded_reply(scenario: str, kind: str) -> Callable[[dict[str, Any]], Reply]:
    exchange = load(f"{scenario}/openai_gpt_4o_{kind}/sync.json")["exchanges"][0]

    def answer(line: dict[str, Any]) -> Reply:
        return Reply(copy.deepcopy(exchange["response"]["json"]))

    return answer


def _single_call_client(provider: str, reply: dict[str, Any], sent: list[dict[str, Any]]) -> llm.Client:
    """A client whose calls are answered with `reply`; `sent` collects each request body."""

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=reply)

    return llm.client(provider, api_key=KEY, http_client=httpx.Client(transport=httpx.MockTransport(handler)))


def test_a_prompt_functions_structured_output_batch_sends_and_parses_as_a_single_call(
    server: OpenAIBatchServer, tmp_path: Path
) -> None:
    server.plan = Plan(answer=_recorded_reply("test_structured_output", "responses"))

    def prompt(author: str) -> str:
        return f"Please recommend the most popular book by {author}"

    recommend_book = llm.call("openai:gpt-4o", client=_client(server), response_model=Book)(prompt)
    single: list[dict[str, Any]] = []
    reply = _recorded_reply("test_structured_output", "responses")({}).body
    llm.call("openai:gpt-4o", client=_single_call_client("openai", reply, single), response_model=Book)(prompt)(
        "Patrick Rothfuss"
    )

    job = recommend_book.batch([("Patrick Rothfuss",), "Patrick Rothfuss"], directory=tmp_path)
    results = job.wait(progress=False, poll_interval=0.01).results()

    (batch,) = server.batches.values()
    sent = [json.loads(text)["body"] for text in server.files[batch.input_file_id].content.splitlines()]
    assert sent == single * 2  # what a single call sends, format and all
    assert sent[0]["text"]["format"]["name"] == "Book"
    expected = Book(title="THE NAME OF THE WIND", author=Author("Patrick", "Rothfuss"), rating=7)
    assert [r.parse() for r in results] == [expected, expected]  # pyright: ignore[reportAttributeAccessIssue]


def test_a_tool_calling_batch_on_chat_completions_returns_each_lines_tool_calls(
    server: OpenAIBatchServer, tmp_path: Path
) -> None:
    server.plan = Plan(answer=_recorded_reply("test_call_with_tools", "completions"))
    client = _client(server, "openai-completions")
    model = llm.model("openai-completions:gpt-4o", client=client, tools=[secret_retrieval_tool])
    conversation = [
        llm.messages.system("Use parallel tool calling."),
        llm.messages.user("Please retrieve the secrets associated with each of these passwords: mellon,radiance"),
    ]

    single: list[dict[str, Any]] = []
    reply = _recorded_reply("test_call_with_tools", "completions")({}).body
    single_client = _single_call_client("openai-completions", reply, single)
    single_response = llm.model("openai-completions:gpt-4o", client=single_client, tools=[secret_retrieval_tool]).call(
        conversation
    )

    job = llm.batch.submit(model, [conversation], directory=tmp_path)
    (result,) = job.wait(progress=False, poll_interval=0.01).results()

    (batch,) = server.batches.values()
    (text,) = server.files[batch.input_file_id].content.splitlines()
    assert [json.loads(text)["body"]] == single
    assert single[0]["tools"][0]["function"]["name"] == "secret_retrieval_tool"
    assert isinstance(result, llm.CallResponse)
    assert [(call.name, call.args) for call in result.tool_calls] == [
        ("secret_retrieval_tool", {"password": "mellon"}),
        ("secret_retrieval_tool", {"password": "radiance"}),
    ]
    assert single_response.cost is not None
    assert result.cost == pytest.approx(single_response.cost / 2)  # OpenAI's batch price: half the list price
    assert result.metadata["batch"] == job.id
