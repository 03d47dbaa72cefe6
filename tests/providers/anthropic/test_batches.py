"""Claude's Message Batches behind core's batch SPI, against a real local server that follows the API.

Lines are built as core builds them (`model._request`, then `provider.prepare`), so each goes up
as the single call would have gone; the server answers each with the recorded single-call reply
to the same request. What is checked: the create body and headers (betas included), the status
mapping, every result type, results in any order, a results file cut short or dropped, cancel,
and a 10,000-line batch.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from mirascope import llm
from mirascope.llm.providers.batches import BatchCounts, BatchLine, BatchResult, BatchState
from mirascope.providers.anthropic import anthropic
from mirascope.providers.anthropic.batches import AnthropicBatches, batch_state

from tests.support.anthropic_batch_server import AnthropicBatchServer, error_result, recorded_answers
from tests.support.fixtures import load
from tests.support.meaning import comparable
from tests.support.scenarios import messages_for, model_id_for, params_for
from tests.support.structured import response_model_for

MODEL = "anthropic:claude-sonnet-4-0"
KEY = "sk-ant-batch-test-key-0123456789"
BETA = "structured-outputs-2025-11-13"

RECORDED = (
    "test_call/anthropic_claude_sonnet_4_0/sync.json",
    "test_call_with_params/anthropic_claude_sonnet_4_0/sync.json",
    "test_max_tokens/anthropic_claude_sonnet_4_0/sync.json",
    "test_structured_output__tool/anthropic_claude_sonnet_4_0/sync.json",
    "test_structured_output__strict/anthropic_claude_sonnet_4_5/sync.json",
    "test_model_not_found/anthropic_claude_sonnet_4_0/sync.json",
)


@pytest.fixture
def server() -> Iterator[AnthropicBatchServer]:
    with AnthropicBatchServer() as made:
        yield made


@pytest.fixture
def client(server: AnthropicBatchServer) -> Iterator[llm.Client]:
    with llm.client("anthropic", base_url=server.url, api_key=KEY, max_retries=0) as made:
        yield made


@pytest.fixture
def api(client: llm.Client) -> AnthropicBatches:
    return anthropic.batch_api(client)


def line(
    client: llm.Client,
    index: int,
    content: str | Sequence[llm.Message],
    *,
    model: str = MODEL,
    **settings: Any,
) -> BatchLine:
    """A line as core builds it: the model's request, prepared as the single call would be."""
    provider, _, request = llm.model(model, client=client, **settings)._request(content)  # pyright: ignore[reportPrivateUsage]
    return BatchLine(custom_id=f"r{index:06d}", request=request, http=provider.prepare(request, client))


def recorded_line(client: llm.Client, index: int, path: str, tmp_path: Path) -> BatchLine:
    fixture = load(path)
    settings: dict[str, Any] = params_for(fixture)
    if fixture["scenario"].get("format"):
        settings["response_model"] = response_model_for(fixture)
    return line(client, index, messages_for(fixture, tmp_path), model=model_id_for(fixture), **settings)


def plain_lines(client: llm.Client, count: int) -> list[BatchLine]:
    return [line(client, index, f"question {index}") for index in range(count)]


def created(server: AnthropicBatchServer) -> dict[str, Any]:
    [sent] = [
        received for received in server.received if received.method == "POST" and received.path.endswith("/batches")
    ]
    return sent.json()


def by_id(results: Sequence[BatchResult]) -> dict[str, BatchResult]:
    found = {result.custom_id: result for result in results}
    assert len(found) == len(results), "a custom_id came back twice"
    return found


def text_of(lines: Sequence[BatchLine], result: BatchResult) -> str:
    [made] = [made for made in lines if made.custom_id == result.custom_id]
    decoded = anthropic.decode(made.request, result.body)
    return decoded.message.text


# --- Submitting -------------------------------------------------------------------------------


def test_each_line_goes_up_as_its_single_call_would(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer, tmp_path: Path
) -> None:
    lines = [recorded_line(client, index, path, tmp_path) for index, path in enumerate(RECORDED[:4])]

    batch_id = api.submit(lines)

    assert batch_id.startswith("msgbatch_")
    [sent] = server.received
    assert (sent.method, sent.path, sent.query) == ("POST", "/v1/messages/batches", "")
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["content-type"] == "application/json"
    assert "anthropic-beta" not in sent.headers
    requests = sent.json()["requests"]
    assert [request["custom_id"] for request in requests] == ["r000000", "r000001", "r000002", "r000003"]
    for request, made, path in zip(requests, lines, RECORDED, strict=False):
        assert request["params"] == made.http.body
        recorded = load(path)["exchanges"][0]["request"]["json"]
        assert comparable(request["params"]) == comparable(recorded)


def test_a_stream_flag_is_never_sent_in_a_batch(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    provider, _, request = llm.model(MODEL, client=client)._request("Hi", stream=True)  # pyright: ignore[reportPrivateUsage]
    streamed = BatchLine(custom_id="r000000", request=request, http=provider.prepare(request, client))
    assert streamed.http.body["stream"] is True

    api.submit([streamed])

    [sent] = created(server)["requests"]
    assert "stream" not in sent["params"]
    assert sent["params"]["messages"] == streamed.http.body["messages"]


def test_line_size_counts_every_byte_of_the_create_body(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    lines = [line(client, 0, "short"), line(client, 1, "é" * 500), line(client, 2, "日本語のテキスト")]
    sizes = [api.line_size(made) for made in lines]

    api.submit(lines)

    [sent] = server.received
    envelope = len(b'{"requests":[]}')
    assert sum(sizes) - 1 == len(sent.body) - envelope  # one comma fewer than lines
    assert sizes[1] > 1000  # counted in UTF-8 bytes, not characters


def test_the_limits_are_anthropics(api: AnthropicBatches) -> None:
    assert api.max_requests == 100_000
    assert api.max_bytes <= 256 * 1024 * 1024


def test_a_line_needing_the_structured_outputs_beta_sends_the_batch_under_it(
    client: llm.Client, server: AnthropicBatchServer, tmp_path: Path
) -> None:
    with llm.client("anthropic", base_url=server.url, api_key=KEY, betas=["files-api-2025-04-14"]) as beta_client:
        api = anthropic.batch_api(beta_client)
        strict = recorded_line(
            beta_client, 0, "test_structured_output__strict/anthropic_claude_sonnet_4_5/sync.json", tmp_path
        )
        plain = line(beta_client, 1, "Hi")

        api.submit([plain, strict])

    [sent] = server.received
    assert (sent.path, sent.query) == ("/v1/messages/batches", "beta=true")
    assert sent.headers["anthropic-beta"].split(",") == ["files-api-2025-04-14", BETA]
    assert "output_format" in sent.json()["requests"][1]["params"]


def test_a_batch_of_lines_needing_no_beta_goes_to_the_plain_url(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    api.submit(plain_lines(client, 3))

    [sent] = server.received
    assert sent.query == ""
    assert "anthropic-beta" not in sent.headers


def test_a_refused_create_raises_the_apis_error(api: AnthropicBatches, client: llm.Client) -> None:
    twice = [line(client, 0, "a"), line(client, 0, "b")]

    with pytest.raises(llm.BadRequestError) as caught:
        api.submit(twice)

    assert caught.value.status_code == 400
    assert "custom_id values must be unique" in caught.value.message
    assert KEY not in str(caught.value)


def test_an_empty_batch_is_refused_before_sending(api: AnthropicBatches, server: AnthropicBatchServer) -> None:
    with pytest.raises(llm.UsageError):
        api.submit([])

    assert server.received == []


# --- Status -----------------------------------------------------------------------------------


def _batch(status: str, **counts: int) -> dict[str, Any]:
    zero = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    return {"id": "msgbatch_x", "processing_status": status, "request_counts": {**zero, **counts}}


@pytest.mark.parametrize(
    ("batch", "want"),
    [
        (_batch("in_progress", processing=5), BatchState(state="in_progress", counts=BatchCounts(5, 0, 0, 5))),
        (
            _batch("in_progress", processing=2, succeeded=2, errored=1),
            BatchState(state="in_progress", counts=BatchCounts(5, 2, 1, 2)),
        ),
        (
            _batch("canceling", processing=3, succeeded=1),
            BatchState(state="cancelling", counts=BatchCounts(4, 1, 0, 3)),
        ),
        (_batch("ended", succeeded=3, errored=1), BatchState(state="completed", counts=BatchCounts(4, 3, 1, 0))),
        (_batch("ended", succeeded=1, canceled=3), BatchState(state="completed", counts=BatchCounts(4, 1, 3, 0))),
        (_batch("ended", canceled=4), BatchState(state="cancelled", counts=BatchCounts(4, 0, 4, 0))),
        (
            _batch("ended", expired=4),
            BatchState(
                state="expired",
                counts=BatchCounts(4, 0, 4, 0),
                error="4 of 4 requests expired: Anthropic did not process them within 24 hours",
            ),
        ),
        (
            _batch("ended", succeeded=3, expired=1),
            BatchState(
                state="completed",
                counts=BatchCounts(4, 3, 1, 0),
                error="1 of 4 requests expired: Anthropic did not process them within 24 hours",
            ),
        ),
    ],
)
def test_processing_status_maps_onto_cores_statuses(batch: dict[str, Any], want: BatchState) -> None:
    assert batch_state(batch) == want


def test_an_unknown_processing_status_is_an_error_not_a_guess() -> None:
    with pytest.raises(llm.APIError, match="'archiving'"):
        batch_state(_batch("archiving", processing=1))


def test_status_follows_the_batch_from_in_progress_to_completed(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    batch_id = api.submit(plain_lines(client, 4))  # the server processes half per read

    first = api.status(batch_id)
    second = api.status(batch_id)

    assert first == BatchState(state="in_progress", counts=BatchCounts(4, 2, 0, 2))
    assert second == BatchState(state="completed", counts=BatchCounts(4, 4, 0, 0))
    reads = server.requests_to(batch_id)
    assert [(sent.method, sent.path) for sent in reads] == [("GET", f"/v1/messages/batches/{batch_id}")] * 2
    assert all(sent.headers["x-api-key"] == KEY for sent in reads)


def test_an_expired_batch_reports_expired(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    server.advance = False
    batch_id = api.submit(plain_lines(client, 3))
    server.expire(batch_id)

    state = api.status(batch_id)

    assert (state.state, state.counts) == ("expired", BatchCounts(3, 0, 3, 0))
    assert state.error is not None
    assert "24 hours" in state.error


def test_status_of_an_unknown_batch_is_not_found(api: AnthropicBatches) -> None:
    with pytest.raises(llm.NotFoundError) as caught:
        api.status("msgbatch_nope")

    assert "msgbatch_nope" in caught.value.message


# --- Results ----------------------------------------------------------------------------------


def test_recorded_replies_come_back_for_the_lines_that_asked_for_them(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer, tmp_path: Path
) -> None:
    lines = [recorded_line(client, index, path, tmp_path) for index, path in enumerate(RECORDED)]
    server.advance = False
    batch_id = api.submit(lines)
    server.finish(batch_id)

    results = by_id(list(api.results(batch_id)))

    assert set(results) == {made.custom_id for made in lines}
    for made, path in zip(lines, RECORDED, strict=True):
        recorded = load(path)["exchanges"][0]["response"]
        result = results[made.custom_id]
        if recorded["status"] == 200:
            # Several scenarios recorded this same request; the reply is one of theirs.
            replies = [answer["message"] for answer in recorded_answers(made.http.body)]
            assert recorded["json"] in replies
            assert result.error is None
            assert result.body in replies
            assert anthropic.decode(made.request, result.body).id == replies[replies.index(result.body)]["id"]
        else:  # the recorded 404 for a model that does not exist, as a per-line error
            assert result.body is None
            assert isinstance(result.error, llm.NotFoundError)
            assert result.error.message == recorded["json"]["error"]["message"]
            assert result.error.provider == "anthropic"


def test_every_result_type_becomes_a_reply_or_the_lines_error(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    errors = {
        "r000001": error_result("invalid_request_error", "max_tokens: 99999999 > 64000, the maximum allowed"),
        "r000002": error_result("overloaded_error", "Overloaded"),
        "r000003": error_result("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
        "r000004": error_result("authentication_error", "invalid x-api-key"),
        "r000005": {"type": "canceled"},
        "r000006": {"type": "expired"},
        "r000007": {"type": "summarized"},
    }
    server.override = lambda custom_id, params: errors.get(custom_id)
    lines = plain_lines(client, 8)
    server.advance = False
    batch_id = api.submit(lines)
    server.finish(batch_id)

    results = by_id(list(api.results(batch_id)))

    assert text_of(lines, results["r000000"]) == "echo: question 0"
    kinds = {custom_id: type(result.error) for custom_id, result in results.items() if result.error is not None}
    assert kinds == {
        "r000001": llm.BadRequestError,
        "r000002": llm.ServerError,
        "r000003": llm.RateLimitError,
        "r000004": llm.AuthenticationError,
        "r000005": llm.APIError,
        "r000006": llm.APIError,
        "r000007": llm.APIError,
    }
    assert results["r000001"].error is not None
    assert results["r000001"].error.message == "max_tokens: 99999999 > 64000, the maximum allowed"
    assert all(results[custom_id].body is None for custom_id in kinds)
    canceled, expired, unknown = (results[custom_id].error for custom_id in ("r000005", "r000006", "r000007"))
    assert canceled is not None
    assert "cancelled before this request was processed" in canceled.message
    assert expired is not None
    assert "24 hours ran out" in expired.message
    assert unknown is not None
    assert "'summarized'" in unknown.message


def test_results_in_any_order_are_matched_by_custom_id(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    lines = plain_lines(client, 50)
    server.advance = False
    batch_id = api.submit(lines)
    server.finish(batch_id)

    results = list(api.results(batch_id))

    order = [result.custom_id for result in results]
    assert order != sorted(order)  # the server shuffles, as the API may
    assert sorted(order) == [made.custom_id for made in lines]
    for result in results:
        assert text_of(lines, result) == f"echo: question {int(result.custom_id[1:])}"


def test_the_download_goes_where_results_url_says_with_the_key(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    batch_id = api.submit(plain_lines(client, 2))
    server.finish(batch_id)

    list(api.results(batch_id))

    [download] = server.requests_to("/results")
    assert (download.method, download.path) == ("GET", f"/v1/messages/batches/{batch_id}/results")
    assert download.headers["x-api-key"] == KEY
    assert download.headers["anthropic-version"] == "2023-06-01"


def test_a_results_url_on_another_host_is_fetched_from_the_base_url_instead(
    client: llm.Client, server: AnthropicBatchServer
) -> None:
    # Same server, another name for it: the key must go only to the host the client was given.
    port = server.url.rsplit(":", 1)[1]
    with llm.client("anthropic", base_url=f"http://localhost:{port}", api_key=KEY) as by_name:
        api = anthropic.batch_api(by_name)
        batch_id = api.submit([line(by_name, 0, "Hi")])
        server.finish(batch_id)

        [result] = api.results(batch_id)

    assert result.custom_id == "r000000"
    [download] = server.requests_to("/results")
    assert download.headers["host"] == f"localhost:{port}"
    assert download.path == f"/v1/messages/batches/{batch_id}/results"


def test_results_before_the_batch_ends_is_a_usage_error(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    server.advance = False
    batch_id = api.submit(plain_lines(client, 2))

    with pytest.raises(llm.UsageError, match="no results yet"):
        api.results(batch_id)


def test_results_stream_line_by_line_as_the_file_downloads(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    batch_id = api.submit(plain_lines(client, 20))
    server.finish(batch_id)

    with server.held_results() as rest_of_file:
        results = api.results(batch_id)
        first = next(results)
        # The server has sent one line and waits: the adapter yielded it without the rest.
        assert not rest_of_file.is_set()
        rest_of_file.set()
        rest = list(results)

    assert not server.hold_timed_out
    assert len({first.custom_id, *(result.custom_id for result in rest)}) == 20


@pytest.mark.parametrize("how", ["mid_line", "dropped"])
def test_a_results_file_cut_short_raises_after_the_lines_that_arrived(
    how: str, api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    lines = plain_lines(client, 40)
    batch_id = api.submit(lines)
    server.finish(batch_id)
    server.cut_next_results = (how, 0.5)  # pyright: ignore[reportAttributeAccessIssue]

    arrived: list[BatchResult] = []
    with pytest.raises(llm.ConnectionError) as caught:
        arrived.extend(api.results(batch_id))

    assert 0 < len(arrived) < 40
    assert all(result.error is None for result in arrived)
    assert KEY not in str(caught.value)
    # Downloading again gives every line; a caller merging by custom_id loses and repeats none.
    again = by_id(list(api.results(batch_id)))
    assert set(again) == {made.custom_id for made in lines}
    assert {result.custom_id for result in arrived} <= set(again)


def test_a_results_line_past_max_event_bytes_stops_the_download(server: AnthropicBatchServer) -> None:
    with llm.client("anthropic", base_url=server.url, api_key=KEY, max_event_bytes=256) as small:
        api = anthropic.batch_api(small)
        batch_id = api.submit([line(small, 0, "Hi")])
        server.finish(batch_id)

        with pytest.raises(llm.ResponseTooLargeError):
            list(api.results(batch_id))


@pytest.mark.parametrize(
    "bad",
    [b"not json at all", b'{"custom_id": "r000000"}', b'["custom_id", "result"]', b'{"custom_id": 7, "result": {}}'],
)
def test_a_results_line_that_is_not_a_result_is_an_error(
    bad: bytes, api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    batch_id = api.submit(plain_lines(client, 1))
    server.finish(batch_id)
    server.extra_result_lines = [bad]

    with pytest.raises(llm.APIError, match="results file"):
        list(api.results(batch_id))


# --- Cancel -----------------------------------------------------------------------------------


def test_cancel_asks_for_it_and_the_batch_ends_cancelled(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    batch_id = api.submit(plain_lines(client, 4))

    api.cancel(batch_id)
    cancelling = server.batches[batch_id].status
    state = api.status(batch_id)  # the server finishes cancelling on the next read

    [sent] = server.requests_to("/cancel")
    assert (sent.method, sent.path) == ("POST", f"/v1/messages/batches/{batch_id}/cancel")
    assert sent.headers["x-api-key"] == KEY
    assert cancelling == "canceling"
    assert state == BatchState(state="cancelled", counts=BatchCounts(4, 0, 4, 0))
    results = list(api.results(batch_id))
    assert len(results) == 4
    assert all(isinstance(result.error, llm.APIError) and "cancelled" in result.error.message for result in results)


def test_a_batch_cancelled_part_way_keeps_the_replies_it_made(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    server.advance = False
    batch_id = api.submit(plain_lines(client, 6))
    server.process(batch_id, 2)

    api.cancel(batch_id)
    assert api.status(batch_id).state == "cancelling"
    server.advance = True
    state = api.status(batch_id)

    assert state == BatchState(state="completed", counts=BatchCounts(6, 2, 4, 0))
    results = list(api.results(batch_id))
    assert sum(result.body is not None for result in results) == 2
    assert sum(result.error is not None for result in results) == 4


def test_a_batch_id_names_one_batch_and_never_another_path(api: AnthropicBatches, server: AnthropicBatchServer) -> None:
    with pytest.raises(llm.NotFoundError):
        api.cancel("../../messages?x=1")

    [sent] = server.received
    assert sent.path == "/v1/messages/batches/..%2F..%2Fmessages%3Fx%3D1/cancel"
    assert sent.query == ""


def test_cancelling_an_unknown_batch_is_not_found(api: AnthropicBatches) -> None:
    with pytest.raises(llm.NotFoundError):
        api.cancel("msgbatch_nope")


# --- Size -------------------------------------------------------------------------------------


def test_a_10000_line_batch_goes_up_in_one_request_and_every_result_comes_back(
    api: AnthropicBatches, client: llm.Client, server: AnthropicBatchServer
) -> None:
    lines = plain_lines(client, 10_000)
    total = sum(api.line_size(made) for made in lines)
    assert total < api.max_bytes

    batch_id = api.submit(lines)
    server.finish(batch_id)
    results = list(api.results(batch_id))

    assert len(created(server)["requests"]) == 10_000
    assert len(by_id(results)) == 10_000
    assert {result.custom_id for result in results} == {made.custom_id for made in lines}
    assert all(result.body is not None for result in results)
    spot = next(result for result in results if result.custom_id == "r009999")
    assert text_of(lines, spot) == "echo: question 9999"


# --- Errors and secrets -----------------------------------------------------------------------


def test_no_key_appears_in_the_adapter_or_its_errors(api: AnthropicBatches, client: llm.Client) -> None:
    assert KEY not in repr(api)
    with pytest.raises(llm.APIError) as caught:
        api.status("msgbatch_nope")
    assert KEY not in str(caught.value)
    assert KEY not in json.dumps(caught.value.body)
    assert KEY not in json.dumps(caught.value.headers)


def test_an_unreachable_server_is_a_connection_error(client: llm.Client) -> None:
    with llm.client("anthropic", base_url="http://127.0.0.1:9", api_key=KEY, max_retries=0) as nowhere:
        api = anthropic.batch_api(nowhere)
        with pytest.raises(llm.ConnectionError):
            api.status("msgbatch_x")


# --- Through the public API: llm.batch --------------------------------------------------------

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "jobs"
    monkeypatch.setenv("MIRASCOPE_BATCH_DIR", str(folder))
    return folder


def contents(results: Sequence[llm.CallResponse[Any] | llm.Error]) -> list[str]:
    return [
        result.content if isinstance(result, llm.CallResponse) else f"{type(result).__name__}: {result.message}"  # pyright: ignore[reportAttributeAccessIssue]
        for result in results
    ]


def test_llm_batch_submit_answers_every_input_in_order_at_the_batch_price(
    client: llm.Client, server: AnthropicBatchServer, jobs: Path
) -> None:
    model = llm.model(MODEL, client=client)
    inputs: list[Any] = ["What is 4200 + 42?", *(f"question {index}" for index in range(1, 30))]
    inputs.append([llm.messages.system("Be brief."), llm.messages.user("last one")])

    job = llm.batch.submit(model, inputs)
    job.wait(progress=False, poll_interval=0)
    results = job.results()

    assert job.status == "completed"
    assert job.counts == BatchCounts(31, 31, 0, 0)
    recorded = load("test_call/anthropic_claude_sonnet_4_0/sync.json")["exchanges"][0]["response"]["json"]
    assert contents(results) == [
        recorded["content"][0]["text"],
        *(f"echo: question {index}" for index in range(1, 30)),
        "echo: last one",
    ]
    first = results[0]
    assert isinstance(first, llm.CallResponse)
    assert first.metadata["batch"] == job.id
    info = llm.model_info(MODEL)
    assert info is not None
    assert first.usage is not None
    list_price = info.cost(first.usage)
    assert list_price is not None
    assert first.cost == pytest.approx(list_price / 2)  # Anthropic's batch discount: half the list price
    [sent] = [received for received in server.requests_to("/batches") if received.method == "POST"]
    assert sent.headers["x-api-key"] == KEY
    assert [request["custom_id"] for request in sent.json()["requests"]] == [f"r{index:06d}" for index in range(31)]


def test_a_prompt_functions_batch_takes_its_arguments_and_keeps_per_line_errors(
    client: llm.Client, server: AnthropicBatchServer, jobs: Path
) -> None:
    @llm.call(MODEL, client=client)
    def describe(topic: str, style: str = "short") -> str:
        return f"Describe {topic}, {style}."

    server.override = lambda custom_id, params: (
        error_result("invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum")
        if "horror" in json.dumps(params)
        else None
    )

    job = describe.batch([("fantasy",), {"topic": "sci-fi", "style": "long"}, "horror", ("mystery", "funny")])
    results = job.wait(progress=False, poll_interval=0).results()

    assert contents(results) == [
        "echo: Describe fantasy, short.",
        "echo: Describe sci-fi, long.",
        "BadRequestError: prompt is too long: 250000 tokens > 200000 maximum",
        "echo: Describe mystery, funny.",
    ]
    assert job.counts == BatchCounts(4, 3, 1, 0)


def test_an_async_prompt_functions_batch(client: llm.Client, server: AnthropicBatchServer, jobs: Path) -> None:
    @llm.call(MODEL, client=client)
    async def describe(topic: str) -> str:
        return f"Describe {topic}."

    async def run() -> list[str]:
        job = await describe.batch(["cats", "dogs"])
        await job.wait_async(progress=False, poll_interval=0)
        return contents(await job.results_async())

    assert asyncio.run(run()) == ["echo: Describe cats.", "echo: Describe dogs."]


def test_a_structured_batch_goes_under_the_beta_and_parses(
    server: AnthropicBatchServer, jobs: Path, tmp_path: Path
) -> None:
    fixture = load(RECORDED[4])  # test_structured_output__strict on claude-sonnet-4-5
    with llm.client("anthropic", base_url=server.url, api_key=KEY) as client:
        model = llm.model(model_id_for(fixture), client=client, response_model=response_model_for(fixture))

        job = llm.batch(model, [messages_for(fixture, tmp_path)])
        [result] = job.wait(progress=False, poll_interval=0).results()

    [sent] = [received for received in server.requests_to("/batches") if received.method == "POST"]
    assert sent.query == "beta=true"
    assert BETA in sent.headers["anthropic-beta"].split(",")
    assert isinstance(result, llm.CallResponse)
    recorded = json.loads(fixture["exchanges"][0]["response"]["json"]["content"][0]["text"])
    book = result.parse()
    assert book.title == recorded["title"]
    assert book.rating == recorded["rating"]  # pyright: ignore[reportAttributeAccessIssue]


def test_a_results_download_cut_short_is_finished_by_the_next_call_without_duplicates(
    client: llm.Client, server: AnthropicBatchServer, jobs: Path
) -> None:
    job = llm.batch(llm.model(MODEL, client=client), [f"question {index}" for index in range(40)])
    job.wait(progress=False, poll_interval=0)
    server.cut_next_results = ("dropped", 0.5)

    with pytest.raises(llm.ConnectionError):
        job.results()
    results = job.results()

    assert contents(results) == [f"echo: question {index}" for index in range(40)]
    saved = (jobs / f"{job.id}.results.jsonl").read_text().splitlines()
    ids = [json.loads(entry)["custom_id"] for entry in saved if entry.strip()]
    assert sorted(ids) == [f"r{index:06d}" for index in range(40)]  # each line saved exactly once
    assert len(server.requests_to("/results")) == 2


def test_a_fresh_process_collects_the_job_with_only_the_environment(
    client: llm.Client, server: AnthropicBatchServer, jobs: Path
) -> None:
    server.override = lambda custom_id, params: (
        error_result("overloaded_error", "Overloaded") if custom_id == "r000001" else None
    )
    job = llm.batch(llm.model(MODEL, client=client), ["What is 4200 + 42?", "b", "c"])
    script = (
        "import sys\n"
        "from mirascope import llm\n"
        "job = llm.batch.load(sys.argv[1])\n"
        "job.wait(progress=False, poll_interval=0)\n"
        "for result in job.results():\n"
        "    print(result.content if isinstance(result, llm.CallResponse) else type(result).__name__)\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ANTHROPIC_BASE_URL": server.url,
        "ANTHROPIC_API_KEY": KEY,
        "MIRASCOPE_BATCH_DIR": str(jobs),
    }

    done = subprocess.run(
        [sys.executable, "-c", script, job.id], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["4200 + 42 = 4242", "ServerError", "echo: c"]
    for saved in jobs.iterdir():
        assert KEY not in saved.read_text()


def test_cancelling_a_job_cancels_its_batch(client: llm.Client, server: AnthropicBatchServer, jobs: Path) -> None:
    server.advance = False
    job = llm.batch(llm.model(MODEL, client=client), ["a", "b", "c", "d"])
    [batch_id] = server.batches
    server.process(batch_id, 1)

    job.cancel()
    server.advance = True  # the server ends the cancelling batch on its next read
    results = job.wait(progress=False, poll_interval=0).results()

    assert len(server.requests_to("/cancel")) == 1
    answered = [result for result in results if isinstance(result, llm.CallResponse)]
    assert len(answered) == 1
    assert all("cancelled" in result.message for result in results if isinstance(result, llm.APIError))
    assert job.counts == BatchCounts(4, 1, 3, 0)


def test_an_expired_job_says_so_for_each_call_it_never_answered(
    client: llm.Client, server: AnthropicBatchServer, jobs: Path
) -> None:
    server.advance = False
    job = llm.batch(llm.model(MODEL, client=client), ["a", "b"])
    [batch_id] = server.batches
    server.expire(batch_id)

    results = job.wait(progress=False, poll_interval=0).results()

    assert job.status == "expired"
    assert [type(result) for result in results] == [llm.APIError, llm.APIError]
    assert all("24 hours" in result.message for result in results if isinstance(result, llm.APIError))


def test_a_10000_call_job_through_the_public_api(client: llm.Client, server: AnthropicBatchServer, jobs: Path) -> None:
    job = llm.batch(llm.model(MODEL, client=client), [f"q{index}" for index in range(10_000)])
    results = job.wait(progress=False, poll_interval=0).results()

    assert len(results) == 10_000
    assert contents(results[:3]) == ["echo: q0", "echo: q1", "echo: q2"]
    assert contents(results[-1:]) == ["echo: q9999"]
    assert all(isinstance(result, llm.CallResponse) for result in results)
