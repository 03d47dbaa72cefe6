"""The embedded SQLite store: real SDK spans in, the same records out, under load and on bad files.

Spans come from a real OpenTelemetry SDK `TracerProvider` (calls replayed through lilypad, or
spans made with its tracer) and reach the store through `StoreSpanExporter` in a
`BatchSpanProcessor`, as `configure()` sets it up. Concurrency is real: threads, and processes
started with `subprocess`, on one file.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mirascope.lilypad as lilypad
import pytest
from mirascope import llm
from mirascope.lilypad._store import _MAX_PARAMETERS as MAX_PARAMETERS  # pyright: ignore[reportPrivateUsage]
from mirascope.lilypad._store import (
    SCHEMA_VERSION,
    SpanRecord,
    Store,
    StoreArgumentError,
    StoreBusyError,
    StoreCorruptError,
    StoreError,
    StoreNotFoundError,
    StoreReadOnlyError,
    StoreSpanExporter,
    StoreTooNewError,
)
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from tests.support.fixtures import load
from tests.support.replay import ReplayServer
from tests.support.scenarios import client_for, messages_for, model_id_for, secret_retrieval_tool

ROOT = Path(__file__).resolve().parents[2]
HASHES = [f"{index:x}".rjust(4, "0").ljust(64, str(index % 10)) for index in range(12)]


def _hash(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


# --- Helpers: real spans into a real store ------------------------------------------------------


class Traced:
    """A tracer provider whose spans go to a store through the exporter in a batch processor."""

    def __init__(self, store: Store) -> None:
        self.provider = TracerProvider()
        self.exporter = StoreSpanExporter(store)
        self.provider.add_span_processor(BatchSpanProcessor(self.exporter))
        self.tracer: Tracer = self.provider.get_tracer("test_store")

    def flush(self) -> None:
        assert self.provider.force_flush()

    def trace(
        self,
        start_ns: int,
        *,
        function: str | None = None,
        version: str | None = None,
        version_hash: str | None = None,
        model: str | None = "gpt-4o",
        error: bool = False,
        session: str | None = None,
        cost: float | None = 0.001,
        duration_ns: int = 1_000_000,
    ) -> str:
        """A trace of a function span around a chat span; returns its trace id."""
        common: dict[str, Any] = {"gen_ai.conversation.id": session} if session else {}
        versioned: dict[str, Any] = {}
        if function is not None:
            versioned = {"mirascope.function": function}
            if version is not None:
                versioned["mirascope.version"] = version
            if version_hash is not None:
                versioned["mirascope.version_hash"] = version_hash
        root = self.tracer.start_span(function or "work", start_time=start_ns, attributes={**common, **versioned})
        chat: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 10}
        chat["gen_ai.usage.output_tokens"] = 4
        if model is not None:
            chat["gen_ai.request.model"] = model
        if cost is not None:
            chat["mirascope.response.cost_usd"] = cost
        child = self.tracer.start_span(
            f"chat {model}",
            context=trace.set_span_in_context(root),
            kind=SpanKind.CLIENT,
            start_time=start_ns + 10,
            attributes={**common, **chat},
        )
        if error:
            child.set_status(Status(StatusCode.ERROR, "boom"))
            child.set_attribute("error.type", "APIError")
        child.end(end_time=start_ns + duration_ns // 2)
        root.end(end_time=start_ns + duration_ns)
        return format(root.get_span_context().trace_id, "032x")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "lilypad.db")
    yield opened
    opened.close()


@pytest.fixture
def traced_calls() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """A provider lilypad traces into, with an in-memory copy of every span."""
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    lilypad.configure(tracer_provider=provider, capture_content=True, store=None)
    try:
        yield provider, memory
    finally:
        for instrument in llm.instrumentation.registered():
            if isinstance(instrument, lilypad.LilypadInstrument):
                llm.instrumentation.unregister(instrument)


def _by_start(records: list[SpanRecord]) -> list[SpanRecord]:
    return sorted(records, key=lambda record: (record.start_ns, record.span_id))


def _trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def _records(spans: tuple[ReadableSpan, ...], trace_id: str) -> list[SpanRecord]:
    return _by_start([record for span in spans if (record := SpanRecord.from_readable(span)).trace_id == trace_id])


# --- Round trip ---------------------------------------------------------------------------------


def test_spans_of_a_replayed_agent_run_round_trip_through_the_store(
    traced_calls: tuple[TracerProvider, InMemorySpanExporter], replay_server: ReplayServer, tmp_path: Path
) -> None:
    provider, memory = traced_calls
    store = Store(tmp_path / "store" / "lilypad.db")
    provider.add_span_processor(BatchSpanProcessor(StoreSpanExporter(store)))
    fixture = load("test_call_with_tools/openai_gpt_4o_completions/sync.json")
    client = client_for(fixture, replay_server.url)

    @llm.agent(model=model_id_for(fixture), tools=[secret_retrieval_tool], client=client)
    def keeper(ctx: llm.AgentContext[None]) -> str:
        return "Use parallel tool calling."

    with (
        replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]),
        lilypad.session(id="conversation-7"),
    ):
        response = keeper("Please retrieve the secrets associated with each of these passwords: mellon,radiance")
    assert provider.force_flush()

    finished = memory.get_finished_spans()
    (agent,) = [span for span in finished if span.name == "invoke_agent keeper"]
    trace_id = _trace_id(agent)
    stored = store.trace(trace_id)
    assert stored is not None
    # Every span comes back field for field: ids, times, status, attributes (message content
    # included), events, and the derived columns.
    assert _by_start(stored) == _records(finished, trace_id)
    assert len(stored) == 5  # the agent, two calls, two tools
    assert stored[0].name == "invoke_agent keeper"
    assert stored[0].parent_span_id is None
    calls = [span for span in stored if span.operation == "chat"]
    assert {call.parent_span_id for call in calls} == {stored[0].span_id}
    assert all(call.model == "gpt-4o" and call.provider == "openai" for call in calls)
    assert "Moria" in json.dumps(calls[1].attributes["gen_ai.output.messages"])

    (summary,) = store.traces()
    assert summary.trace_id == trace_id
    assert summary.root_name == "invoke_agent keeper"
    assert summary.span_count == 5
    assert summary.session_id == "conversation-7"
    assert summary.model == "gpt-4o"
    assert summary.error is False
    # Usage is summed over the calls only: the agent span's own total would count it twice.
    assert summary.input_tokens == sum(call.input_tokens or 0 for call in calls)
    assert all(call.input_tokens == call.attributes["gen_ai.usage.input_tokens"] for call in calls)
    assert summary.output_tokens == sum(call.output_tokens or 0 for call in calls)
    assert summary.start_ns == agent.start_time
    assert summary.end_ns == agent.end_time
    assert response.content
    (session,) = store.sessions()
    assert (session.session_id, session.trace_count) == ("conversation-7", 1)
    store.close()


def test_a_replayed_stream_keeps_its_time_to_first_chunk_and_a_failed_call_its_error(
    traced_calls: tuple[TracerProvider, InMemorySpanExporter], replay_server: ReplayServer, tmp_path: Path
) -> None:
    provider, memory = traced_calls
    store = Store(tmp_path / "lilypad.db")
    provider.add_span_processor(BatchSpanProcessor(StoreSpanExporter(store)))
    fixture = load("test_call/openai_gpt_4o_completions/stream.json")
    model = llm.model(model_id_for(fixture), client=client_for(fixture, replay_server.url))
    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        stream = model.stream(messages_for(fixture, tmp_path))
        for _ in stream:
            pass
    failing = load("test_authentication_error/openai_gpt_4o_completions/sync.json")
    failing_model = llm.model(model_id_for(failing), client=client_for(failing, replay_server.url))
    with (
        replay_server.replaying([exchange["response"] for exchange in failing["exchanges"]]),
        pytest.raises(llm.Error),
    ):
        failing_model.call(messages_for(failing, tmp_path))
    assert provider.force_flush()

    streamed, failed = memory.get_finished_spans()
    ttfc = dict(streamed.attributes or {})["gen_ai.response.time_to_first_chunk"]
    errors = store.traces(errors=True)
    assert [summary.trace_id for summary in errors] == [_trace_id(failed)]
    (record,) = store.trace(errors[0].trace_id) or []
    assert record.status == "ERROR"
    assert record.error_type == dict(failed.attributes or {})["error.type"]
    (ok,) = store.traces(errors=False)
    assert ok.ttfc == ttfc
    assert ok.cost == dict(streamed.attributes or {}).get("mirascope.response.cost_usd")
    store.close()


def test_stored_records_are_strict_json(store: Store) -> None:
    traced = Traced(store)
    span = traced.tracer.start_span(
        "odd",
        attributes={"nan": float("nan"), "inf": float("-inf"), "list": (1.5, float("inf")), "flags": (True, False)},
    )
    span.add_event("retry", {"attempt": 2, "why": ("a", "b")})
    span.end()
    traced.flush()
    (summary,) = store.traces()
    (record,) = store.trace(summary.trace_id) or []
    assert record.attributes == {"nan": "nan", "inf": "-inf", "list": [1.5, "inf"], "flags": [True, False]}
    assert record.events[0]["attributes"] == {"attempt": 2, "why": ["a", "b"]}
    store.annotate(summary.trace_id, label="pass", score=0.5)
    outputs = [record.to_json(), summary.to_json(), *(item.to_json() for item in store.annotations(summary.trace_id))]
    for output in outputs:
        json.dumps(output, allow_nan=False)
    assert record.to_json()["duration_ms"] == record.duration_ms


def test_a_new_store_is_a_versioned_wal_file_with_its_directory_made(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "lilypad.db"
    Store(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "spans", "traces", "versions", "annotations"} <= tables
    db.close()
    # Opening again migrates nothing and keeps what is there.
    with Store(path) as again:
        assert again.span_count() == 0


def test_an_empty_file_is_migrated_from_version_zero(tmp_path: Path) -> None:
    path = tmp_path / "lilypad.db"
    path.write_bytes(b"")
    with Store(path) as store:
        assert store.traces() == []
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


# --- Versions -----------------------------------------------------------------------------------


def test_version_numbers_follow_hash_and_signature(store: Store) -> None:
    first = store.record_version("recommend", HASHES[0], "(genre: str) -> str", "code 0", {"mirascope": "2.0"})
    assert (first.version, first.major, first.minor) == ("1.0", 1, 0)
    assert first.dependencies == {"mirascope": "2.0"}
    # The same hash is the same version, whatever else is passed.
    assert store.record_version("recommend", HASHES[0], "(changed)", "other", {}) == first
    assert store.record_version("recommend", HASHES[1], "(genre: str) -> str", "code 1", {}).version == "1.1"
    assert store.record_version("recommend", HASHES[2], "(genre: str) -> str", "code 2", {}).version == "1.2"
    # A changed signature starts a new major version.
    assert store.record_version("recommend", HASHES[3], "(genre: str, n: int) -> str", "c", {}).version == "2.0"
    assert store.record_version("recommend", HASHES[4], "(genre: str, n: int) -> str", "c", {}).version == "2.1"
    # Back to an old signature is still a change from the newest: another major.
    assert store.record_version("recommend", HASHES[5], "(genre: str) -> str", "c", {}).version == "3.0"
    # Each function is numbered on its own.
    assert store.record_version("other", HASHES[5], "()", "c", {}).version == "1.0"

    assert [version.version for version in store.versions("recommend")] == ["1.0", "1.1", "1.2", "2.0", "2.1", "3.0"]
    found = store.version("recommend", "1.2")
    assert found is not None
    assert found.hash == HASHES[2]
    assert found.code == "code 2"
    by_prefix = store.version("recommend", HASHES[3][:8].upper())
    assert by_prefix is not None
    assert by_prefix.version == "2.0"
    assert store.version("recommend", "9.9") is None
    assert store.version("nobody", "1.0") is None
    functions = {summary.name: summary for summary in store.functions()}
    assert (functions["recommend"].latest_version, functions["recommend"].version_count) == ("3.0", 6)


def test_version_lookups_refuse_ambiguous_and_malformed_input(store: Store) -> None:
    store.record_version("f", "abcd" + "0" * 60, "()", "a", {})
    store.record_version("f", "abcd" + "1" * 60, "()", "b", {})
    with pytest.raises(StoreArgumentError, match=r"matches several versions.*1\.0.*1\.1"):
        store.version("f", "abcd")
    with pytest.raises(StoreArgumentError, match="at least 4 hex digits"):
        store.version("f", "ab")
    with pytest.raises(StoreArgumentError, match="64 hex digits"):
        store.record_version("f", "not-a-hash", "()", "c", {})
    with pytest.raises(ValueError, match="64 hex digits"):  # a StoreArgumentError is a ValueError
        store.record_version("f", "ab" * 31, "()", "c", {})


def test_version_stats_count_calls_latency_cost_and_pass_rate(store: Store) -> None:
    traced = Traced(store)
    one = store.record_version("recommend", HASHES[0], "()", "v1", {})
    two = store.record_version("recommend", HASHES[1], "()", "v2", {})
    ids_one = [
        traced.trace(1_000 + index, function="recommend", version="1.0", version_hash=one.hash, duration_ns=ms * 10**6)
        for index, ms in enumerate([10, 20, 30, 40, 50])
    ]
    traced.trace(5_000, function="recommend", version="1.1", version_hash=two.hash, cost=None)
    traced.flush()
    store.annotate(ids_one[0], label="pass")
    store.annotate(ids_one[1], label="fail")
    store.annotate(ids_one[1], label="pass")  # the latest label counts
    store.annotate(ids_one[2], label="fail")
    store.annotate(ids_one[3], score=0.2)  # no label: not counted
    first, second = store.versions("recommend")
    assert (first.version, first.call_count, first.trace_count) == ("1.0", 5, 5)
    assert first.p50_ms == pytest.approx(30.0)
    assert first.p95_ms == pytest.approx(48.0)
    assert first.mean_cost == pytest.approx(0.001)
    assert first.pass_rate == pytest.approx(2 / 3)
    assert (second.version, second.call_count, second.mean_cost, second.pass_rate) == ("1.1", 1, None, None)
    assert store.versions("nobody") == []
    assert second.to_json()["name"] == "recommend"


def _record_versions_in_process(path: str, seed: str, go: str) -> None:
    """Subprocess body: record the same versions as the other processes, in its own order."""
    store = Store(path)
    plan = [(HASHES[index], "(a)" if index < 4 or index >= 8 else "(a, b)") for index in range(12)]
    random.Random(int(seed)).shuffle(plan)
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
    numbers = {hash: store.record_version("f", hash, signature, "code", {}).version for hash, signature in plan}
    print(json.dumps(numbers), flush=True)
    store.close()


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); {code}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def test_processes_recording_versions_at_once_get_distinct_consistent_numbers(tmp_path: Path) -> None:
    path = tmp_path / "lilypad.db"
    go = tmp_path / "go"
    code = "from tests.lilypad.test_store import _record_versions_in_process as run; run(*sys.argv[1:])"
    workers = [_python(code, str(path), str(seed), str(go)) for seed in range(4)]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready", worker.stderr.read() if worker.stderr else ""
    go.touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        results.append(json.loads(out))
    # Every process got the same number for each hash, and no two hashes share one.
    assert all(result == results[0] for result in results)
    assert len(set(results[0].values())) == 12
    with Store(path) as store:
        stored = store.versions("f")
        assert {version.hash: version.version for version in stored} == results[0]
        # In the order they were numbered, each follows the rules from the newest before it.
        assert stored[0].version == "1.0"
        for before, after in itertools.pairwise(stored):
            if after.signature != before.signature:
                assert (after.major, after.minor) == (before.major + 1, 0)
            else:
                assert (after.major, after.minor) == (before.major, before.minor + 1)


# --- Listing traces -----------------------------------------------------------------------------


def test_traces_are_listed_newest_first_and_filtered(store: Store) -> None:
    traced = Traced(store)
    v1 = store.record_version("recommend", HASHES[0], "()", "v1", {})
    v2 = store.record_version("recommend", HASHES[1], "()", "v2", {})
    ids = {
        "r1": traced.trace(1_000, function="recommend", version="1.0", version_hash=v1.hash),
        "r2": traced.trace(2_000, function="recommend", version="1.1", version_hash=v2.hash, session="s1"),
        "r3": traced.trace(
            3_000, function="recommend", version="1.1", version_hash=v2.hash, model="claude", error=True
        ),
        "other": traced.trace(4_000, function="summarize", version="1.0", version_hash=HASHES[9], session="s1"),
        "plain": traced.trace(5_000, model=None, cost=None),
    }
    traced.flush()

    def listed(**filters: Any) -> list[str]:
        found = [summary.trace_id for summary in store.traces(**filters)]
        assert store.trace_count(
            **{key: value for key, value in filters.items() if key not in ("limit", "offset")}
        ) >= len(found)
        return [name for trace_id in found for name, known in ids.items() if known == trace_id]

    assert listed() == ["plain", "other", "r3", "r2", "r1"]
    assert listed(limit=2) == ["plain", "other"]
    assert listed(limit=2, offset=2) == ["r3", "r2"]
    assert listed(function="recommend") == ["r3", "r2", "r1"]
    assert listed(function="recommend", version="1.1") == ["r3", "r2"]
    assert listed(function="recommend", version=HASHES[0][:6]) == ["r1"]
    assert listed(version="1.0") == ["other", "r1"]
    assert listed(version=HASHES[9][:10]) == ["other"]
    assert listed(function="recommend", version="7.0") == []
    assert listed(model="claude") == ["r3"]
    assert listed(errors=True) == ["r3"]
    assert listed(errors=False) == ["plain", "other", "r2", "r1"]
    assert listed(session="s1") == ["other", "r2"]
    assert listed(since_ns=2_000, until_ns=4_000) == ["r3", "r2"]
    assert listed(function="recommend", errors=False, since_ns=1_500) == ["r2"]
    assert store.trace_count() == 5
    assert store.trace_count(function="recommend", version="1.1") == 2

    newest = store.traces(limit=1)[0]
    assert (newest.function, newest.model, newest.cost, newest.input_tokens) == (None, None, None, 10)
    r3 = store.traces(model="claude")[0]
    assert (r3.function, r3.version, r3.version_hash, r3.error) == ("recommend", "1.1", v2.hash, True)
    assert r3.duration_ms == pytest.approx(1.0)
    assert store.trace("0" * 32) is None
    with pytest.raises(StoreArgumentError):
        store.traces(version="not a version")

    functions = {summary.name: summary for summary in store.functions()}
    assert (functions["recommend"].trace_count, functions["recommend"].version_count) == (3, 2)
    # A function known from its spans only (no version recorded here).
    assert (functions["summarize"].trace_count, functions["summarize"].latest_version) == (1, None)
    (session,) = store.sessions()
    assert (session.session_id, session.trace_count, session.first_ns) == ("s1", 2, 2_000)

    # All spans, oldest trace first, each trace's spans together in start order.
    exported = list(store.iter_spans())
    assert len(exported) == store.span_count() == 10
    assert [span.trace_id for span in exported[::2]] == [ids[name] for name in ("r1", "r2", "r3", "other", "plain")]
    assert [span.span_id for span in store.iter_spans(session="s1")] == [
        span.span_id for trace_id in (ids["r2"], ids["other"]) for span in store.trace(trace_id) or []
    ]


def test_a_trace_written_in_several_batches_is_summed_once(store: Store) -> None:
    traced = Traced(store)
    root = traced.tracer.start_span("root", start_time=100)
    context = trace.set_span_in_context(root)
    for index in range(3):
        child = traced.tracer.start_span(
            "chat", context=context, start_time=200 + index, attributes={"gen_ai.usage.input_tokens": 5}
        )
        child.end(end_time=300 + index)
        traced.flush()  # each child in its own batch, before the root
    root.end(end_time=1_000)
    traced.flush()
    duplicate = store.trace(format(root.get_span_context().trace_id, "032x")) or []
    store.write_spans(duplicate)  # a batch exported twice changes nothing
    (summary,) = store.traces()
    assert (summary.root_name, summary.span_count, summary.input_tokens) == ("root", 4, 15)
    assert (summary.start_ns, summary.end_ns) == (100, 1_000)
    assert store.span_count() == 4


def test_iter_spans_pages_through_more_traces_than_one_read(store: Store) -> None:
    traced = Traced(store)
    count = MAX_PARAMETERS + 7
    for index in range(count):
        traced.trace(10_000 + index)
    traced.flush()
    spans = list(store.iter_spans())
    assert len(spans) == 2 * count
    assert len({span.trace_id for span in spans}) == count
    assert [span.start_ns for span in spans[::2]] == [10_000 + index for index in range(count)]


# --- Annotations and pruning --------------------------------------------------------------------


def test_annotations_are_kept_per_trace_and_the_latest_label_shows(store: Store) -> None:
    traced = Traced(store)
    trace_id = format(random.getrandbits(128), "032x")
    # Annotated before its spans are written (they may still wait in the export queue).
    early = store.annotate(trace_id.upper(), label="fail", reason="wrong genre", source="cli")
    assert (early.trace_id, early.label, early.source) == (trace_id, "fail", "cli")
    written = traced.trace(1_000)
    traced.flush()
    assert store.traces()[0].annotation is None
    store.annotate(written, span_id="00000000000000ab", score=3, reason="ok")
    store.annotate(written, label="fail")
    store.annotate(written, label="pass", reason="on reflection")
    store.annotate(written, score=1.0)  # no label: the latest label stays
    assert store.traces()[0].annotation == "pass"
    notes = store.annotations(written)
    assert [(note.label, note.score, note.span_id) for note in notes] == [
        (None, 3.0, "00000000000000ab"),
        ("fail", None, None),
        ("pass", None, None),
        (None, 1.0, None),
    ]
    assert [note.id for note in notes] == sorted(note.id for note in notes)
    assert [note.reason for note in store.annotations(trace_id)] == ["wrong genre"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"trace_id": "xyz", "label": "pass"}, "32 hex digits"),
        ({"trace_id": "a" * 32, "span_id": "short", "label": "pass"}, "16 hex digits"),
        ({"trace_id": "a" * 32, "label": "good"}, '"pass" or "fail"'),
        ({"trace_id": "a" * 32, "score": float("nan")}, "finite number"),
        ({"trace_id": "a" * 32, "score": True}, "finite number"),
        ({"trace_id": "a" * 32}, "needs a label, a score or a reason"),
    ],
)
def test_a_malformed_annotation_is_refused(store: Store, arguments: dict[str, Any], message: str) -> None:
    trace_id = arguments.pop("trace_id")
    with pytest.raises(StoreArgumentError, match=message):
        store.annotate(trace_id, **arguments)
    assert store.annotations(arguments.get("trace_id", "a" * 32)) == []


def test_prune_deletes_whole_traces_by_age_or_count(store: Store) -> None:
    traced = Traced(store)
    store.record_version("f", HASHES[0], "()", "v", {})
    ids = [traced.trace(1_000 * (index + 1), function="f", version="1.0", version_hash=HASHES[0]) for index in range(6)]
    traced.flush()
    for trace_id in ids:
        store.annotate(trace_id, label="pass")
    with pytest.raises(StoreArgumentError, match="before_ns or keep_last"):
        store.prune()
    with pytest.raises(StoreArgumentError):
        store.prune(keep_last=-1)
    assert store.prune(before_ns=2_500) == 2  # traces started at 1000 and 2000
    assert [summary.trace_id for summary in store.traces()] == ids[:1:-1]
    assert store.prune(keep_last=3) == 1
    assert store.prune(before_ns=0, keep_last=3) == 0
    # Both: either condition prunes (4000 is among the newest 3 but too old).
    assert store.prune(before_ns=4_500, keep_last=3) == 1
    assert [summary.trace_id for summary in store.traces()] == [ids[5], ids[4]]
    assert store.span_count() == 4
    assert store.annotations(ids[0]) == []
    assert len(store.annotations(ids[5])) == 1
    assert [version.version for version in store.versions("f")] == ["1.0"]  # versions are kept
    assert store.versions("f")[0].trace_count == 2
    assert store.prune(keep_last=0) == 2
    assert store.traces() == []
    assert store.span_count() == 0


# --- Stores the running code cannot use ----------------------------------------------------------


def _export_one(path: Path, caplog: pytest.LogCaptureFixture) -> tuple[StoreSpanExporter, InMemorySpanExporter]:
    """Trace two spans to a store at `path` and to memory; tracing must go on whatever the store does."""
    provider = TracerProvider()
    exporter = StoreSpanExporter(path)
    memory = InMemorySpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test_store")
    with caplog.at_level(logging.WARNING, logger="mirascope.lilypad"):
        for name in ("first", "second"):
            with tracer.start_as_current_span(name):
                pass
            assert provider.force_flush()
        provider.shutdown()
    return exporter, memory


def _assert_failed_once(
    exporter: StoreSpanExporter, memory: InMemorySpanExporter, caplog: pytest.LogCaptureFixture, message: str
) -> None:
    assert [span.name for span in memory.get_finished_spans()] == ["first", "second"]
    assert exporter.failed_spans == 2
    warnings_logged = [record for record in caplog.records if record.name == "mirascope.lilypad"]
    assert len(warnings_logged) == 1  # logged once, then only counted
    assert message in warnings_logged[0].getMessage()
    assert "Tracing goes on without the store" in warnings_logged[0].getMessage()


def test_a_corrupt_store_raises_a_clear_error_and_tracing_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "lilypad.db"
    path.write_bytes(bytes(random.Random(7).getrandbits(8) for _ in range(8192)))
    with pytest.raises(StoreCorruptError, match="damaged or not a SQLite database") as raised:
        Store(path)
    assert str(path) in str(raised.value)
    assert "move it aside" in str(raised.value)
    assert isinstance(raised.value, llm.Error)
    with pytest.raises(StoreCorruptError):
        Store(path, readonly=True)
    exporter, memory = _export_one(path, caplog)
    _assert_failed_once(exporter, memory, caplog, "damaged or not a SQLite database")


def test_another_programs_sqlite_file_is_not_taken_for_a_store(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (name TEXT)")
    db.commit()
    db.close()
    with pytest.raises(StoreCorruptError, match="another program, not a lilypad store"):
        Store(path)
    assert sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 1  # untouched


def test_a_store_from_a_newer_release_raises_and_tracing_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "lilypad.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    for readonly in (False, True):
        with pytest.raises(StoreTooNewError, match="upgrade mirascope-lilypad") as raised:
            Store(path, readonly=readonly)
        assert f"schema version {SCHEMA_VERSION + 5}" in str(raised.value)
    exporter, memory = _export_one(path, caplog)
    _assert_failed_once(exporter, memory, caplog, "upgrade mirascope-lilypad")
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5


def test_a_read_only_store_raises_and_tracing_goes_on_yet_it_can_be_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "project"
    path = directory / "lilypad.db"
    with Store(path) as store:
        traced = Traced(store)
        trace_id = traced.trace(1_000)
        traced.flush()
    path.chmod(0o444)
    directory.chmod(0o555)
    try:
        # Root may write anything; the store still honours the mode the file was given.
        with pytest.raises(StoreReadOnlyError, match="is read-only: make it and its directory writable") as raised:
            Store(path)
        assert str(path) in str(raised.value)
        exporter, memory = _export_one(path, caplog)
        _assert_failed_once(exporter, memory, caplog, "is read-only")
        with Store(path, readonly=True) as reader:
            assert trace_id in [summary.trace_id for summary in reader.traces()]
            with pytest.raises(StoreReadOnlyError, match="readonly=True"):
                reader.annotate(trace_id, label="pass")
    finally:
        directory.chmod(0o755)
        path.chmod(0o644)


def test_a_directory_that_cannot_be_made_is_a_read_only_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreReadOnlyError, match="cannot create the directory"):
        Store(blocker / "sub" / "lilypad.db")


def test_a_directory_given_as_the_store_is_refused_with_the_file_to_name(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"is a directory: name the store's file, e\.g\. .*lilypad\.db"):
        Store(tmp_path)


def test_a_read_only_open_of_a_missing_store_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="no lilypad store at") as raised:
        Store(tmp_path / "missing.db", readonly=True)
    assert str(tmp_path / "missing.db") in str(raised.value)
    assert not (tmp_path / "missing.db").exists()


def test_a_closed_store_or_exporter_fails_cleanly(tmp_path: Path) -> None:
    store = Store(tmp_path / "lilypad.db")
    exporter = StoreSpanExporter(store)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    store.close()
    with pytest.raises(StoreError, match="was closed"):
        store.traces()
    with provider.get_tracer("t").start_as_current_span("after close"):
        pass  # the exporter returns FAILURE, never raises into the SDK
    assert exporter.failed_spans == 1
    exporter.shutdown()
    assert exporter.export([]) is SpanExportResult.SUCCESS


# --- Locks: retried, never surfaced; readers never block writers --------------------------------


def test_a_write_waits_for_another_connections_lock_instead_of_failing(store: Store) -> None:
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO meta VALUES ('held', '1')")
    done = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            store.record_version("f", HASHES[0], "()", "code", {})
        except BaseException as error:
            failures.append(error)
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert not done.wait(0.3)  # held by the other connection
    # Readers are not held up by the lock.
    assert store.versions("f") == []
    other.execute("COMMIT")
    writer.join()
    assert failures == []
    assert [version.version for version in store.versions("f")] == ["1.0"]
    other.close()


def test_a_lock_held_past_the_retry_time_is_a_store_busy_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("mirascope.lilypad._store.BUSY_TIMEOUT_SECONDS", 0.01)
    monkeypatch.setattr("mirascope.lilypad._store.RETRY_SECONDS", 0.05)
    store = Store(tmp_path / "lilypad.db")
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreBusyError, match="stayed locked by another connection"):
        store.annotate("a" * 32, label="pass")
    exporter = StoreSpanExporter(store)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with (
        caplog.at_level(logging.WARNING, logger="mirascope.lilypad"),
        provider.get_tracer("t").start_as_current_span("locked out"),
    ):
        pass
    assert exporter.failed_spans == 1
    assert "stayed locked" in caplog.text
    assert "database is locked" not in caplog.text
    other.execute("ROLLBACK")
    other.close()
    store.annotate("a" * 32, label="pass")  # and works again once released
    store.close()


def test_an_open_read_never_blocks_a_write_and_sees_its_own_snapshot(store: Store) -> None:
    traced = Traced(store)
    traced.trace(1_000)
    traced.flush()
    reader = sqlite3.connect(store.path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM spans").fetchone()[0] == 2
    traced.trace(2_000)
    traced.flush()  # commits while the read is open
    assert traced.exporter.failed_spans == 0
    assert reader.execute("SELECT count(*) FROM spans").fetchone()[0] == 2
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM spans").fetchone()[0] == 4
    reader.close()


def test_an_uncommitted_write_elsewhere_does_not_hold_up_or_show_in_reads(store: Store) -> None:
    traced = Traced(store)
    traced.trace(1_000)
    traced.flush()
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("DELETE FROM traces")
    assert len(store.traces()) == 1
    other.execute("ROLLBACK")
    other.close()


def test_a_forked_child_writes_through_its_own_connections(store: Store) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("no fork() on this platform")
    traced = Traced(store)
    traced.trace(1_000)
    traced.flush()
    assert store.traces()  # the parent has a reader and a writer open
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads running
        child = os.fork()
    if child == 0:
        code = 1
        try:
            store.annotate("b" * 32, label="pass")
            code = 0 if store.annotations("b" * 32) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.annotate("c" * 32, label="fail")
    assert [note.label for note in store.annotations("b" * 32)] == ["pass"]
    assert len(store.traces()) == 1


# --- Under load ---------------------------------------------------------------------------------


class _CountedExporter(StoreSpanExporter):
    """The store exporter, telling the load threads how far export has got (for back-pressure)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.exported = 0
        self.changed = threading.Condition()

    def export(self, spans: Any) -> SpanExportResult:
        result = super().export(spans)
        with self.changed:
            self.exported += len(spans)
            self.changed.notify_all()
        return result


def _write_load(path: str, seconds: str, threads: str, go: str, process: str) -> None:
    """Subprocess body: `threads` threads make traces for `seconds`; prints what it made and saw."""
    problems: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            problems.append(f"log {record.name}: {record.getMessage()}")

    logging.getLogger().addHandler(Keep(logging.WARNING))
    threading.excepthook = lambda hook: problems.append(f"thread: {hook.exc_value!r}")
    exporter = _CountedExporter(path)
    provider = TracerProvider()
    # The queue never fills: threads wait while more than `ahead` spans are unexported.
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=100_000, schedule_delay_millis=50))
    tracer = provider.get_tracer("load")
    store = Store(path)
    version = store.record_version("load", HASHES[int(process) % 3], "()", f"code {process}", {})
    made = [0] * int(threads)
    traces = [0] * int(threads)
    ahead = 20_000
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
    deadline = time.monotonic() + float(seconds)

    def work(index: int) -> None:
        while time.monotonic() < deadline:
            with exporter.changed:
                exporter.changed.wait_for(lambda: sum(made) - exporter.exported < ahead)
            with tracer.start_as_current_span(
                "load",
                attributes={
                    "mirascope.function": "load",
                    "mirascope.version": version.version,
                    "mirascope.version_hash": version.hash,
                    "gen_ai.conversation.id": f"session-{process}-{index}",
                },
            ) as root:
                for turn in range(2):
                    with tracer.start_as_current_span(
                        "chat gpt-4o",
                        attributes={
                            "gen_ai.operation.name": "chat",
                            "gen_ai.request.model": "gpt-4o",
                            "gen_ai.usage.input_tokens": 12,
                            "gen_ai.usage.output_tokens": turn,
                            "mirascope.response.cost_usd": 0.0001,
                        },
                    ):
                        pass
            made[index] += 3
            traces[index] += 1
            if traces[index] % 500 == 0:
                store.annotate(format(root.get_span_context().trace_id, "032x"), label="pass", source="load")

    workers = [threading.Thread(target=work, args=(index,)) for index in range(int(threads))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    provider.shutdown()
    store.close()
    print(
        json.dumps({"spans": sum(made), "traces": sum(traces), "failed": exporter.failed_spans, "problems": problems})
    )


def _load(tmp_path: Path, *, seconds: float, processes: int, threads: int) -> None:
    path = tmp_path / "lilypad.db"
    go = tmp_path / "go"
    code = "from tests.lilypad.test_store import _write_load as run; run(*sys.argv[1:])"
    workers = [_python(code, str(path), str(seconds), str(threads), str(go), str(index)) for index in range(processes)]
    for worker in workers:
        assert worker.stdout is not None
        line = worker.stdout.readline().strip()
        assert line == "ready", worker.stderr.read() if worker.stderr else line
    # The viewer's side: a read-only handle querying all the time, in a thread of this process.
    reader = Store(path, readonly=True)
    stop = threading.Event()
    read_errors: list[BaseException] = []
    reads = [0]
    seen: list[int] = []

    def read() -> None:
        try:
            while not stop.is_set():
                listed = reader.traces(limit=50)
                if listed:
                    assert reader.trace(listed[0].trace_id)
                reader.traces(function="load", errors=False, limit=20)
                reader.versions("load")
                reader.functions()
                reader.sessions()
                seen.append(reader.trace_count())
                reads[0] += 1
        except BaseException as error:
            read_errors.append(error)

    reading = threading.Thread(target=read)
    reading.start()
    go.touch()
    results = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=seconds + 300)
            assert worker.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        stop.set()
        reading.join()
    assert read_errors == []
    assert reads[0] > 0
    assert seen == sorted(seen)  # committed traces only ever add up
    for result in results:
        assert result["problems"] == []
        assert result["failed"] == 0
    # Nothing lost: every span every thread made is stored, and every trace.
    assert reader.span_count() == sum(result["spans"] for result in results)
    assert reader.trace_count() == sum(result["traces"] for result in results)
    assert sum(version.trace_count for version in reader.versions("load")) == reader.trace_count()
    assert {session.trace_count for session in reader.sessions()} != {0}
    reader.close()


def test_processes_and_threads_writing_while_a_reader_reads_lose_nothing_quick(tmp_path: Path) -> None:
    _load(tmp_path, seconds=2, processes=4, threads=16)


@pytest.mark.slow
def test_processes_and_threads_writing_while_a_reader_reads_lose_nothing(tmp_path: Path) -> None:
    _load(tmp_path, seconds=30, processes=4, threads=16)
