"""`configure()`'s store and versions end to end: replayed calls, the SQLite file, the CLI."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import mirascope.lilypad as lilypad
import pytest
from mirascope import llm
from mirascope.lilypad._cli import main as lilypad_cli
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from tests.support.fixtures import load
from tests.support.replay import ReplayServer
from tests.support.scenarios import client_for, model_id_for

FIXTURE = "test_call/openai_gpt_4o_completions/sync.json"


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    made = TracerProvider()
    try:
        yield made
    finally:
        for instrument in llm.instrumentation.registered():
            if isinstance(instrument, lilypad.LilypadInstrument):
                llm.instrumentation.unregister(instrument)
        made.shutdown()


def _module(directory: Path, name: str, source: str) -> ModuleType:
    """`source` written to `directory/name.py` and imported: user code, as an app's own module is."""
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


PROMPT = """
    from mirascope import llm, lilypad

    client = None  # set by the test: the replay server


    def shout(text: str) -> str:
        return text.upper() + {suffix!r}


    @lilypad.version()
    @llm.call("openai-completions:gpt-4o")
    def recommend_book(genre: str) -> str:
        # comments and formatting never make a new version
        return shout(f"Recommend a {{genre}} book")
"""


def _run(module: ModuleType, server: ReplayServer) -> Any:
    fixture = load(FIXTURE)
    module.recommend_book.model = llm.model(model_id_for(fixture), client=client_for(fixture, server.url))
    with server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        return module.recommend_book("fantasy")


def _cli_json(*args: str, capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    assert lilypad_cli(["--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_changed_helper_is_a_new_minor_version_and_both_are_stored_with_their_traces(
    provider: TracerProvider, replay_server: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lilypad.configure(tracer_provider=provider)  # the default store, under the working directory
    first = _module(tmp_path, "books_v1", PROMPT.format(suffix="!"))
    _run(first, replay_server)
    _run(first, replay_server)
    second = _module(tmp_path, "books_v2", PROMPT.format(suffix="!!"))  # the helper two calls away changed
    _run(second, replay_server)
    assert provider.force_flush(10_000)
    assert Path(".lilypad/lilypad.db").is_file()

    versions = _cli_json("versions", "recommend_book", capsys=capsys)
    assert [(v["name"], v["version"]) for v in versions] == [("recommend_book", "1.0"), ("recommend_book", "1.1")]
    assert versions[0]["hash"] != versions[1]["hash"]
    traces = _cli_json("traces", "--function", "recommend_book", capsys=capsys)
    assert sorted(t["version"] for t in traces) == ["1.0", "1.0", "1.1"]
    diff = _cli_json("diff", "recommend_book", "1.0", "1.1", capsys=capsys)
    assert "'!!'" in json.dumps(diff)


def test_a_changed_signature_is_a_new_major_version(
    provider: TracerProvider, replay_server: ReplayServer, tmp_path: Path
) -> None:
    lilypad.configure(tracer_provider=provider)
    _run(_module(tmp_path, "sig_v1", PROMPT.format(suffix="!")), replay_server)
    changed = PROMPT.format(suffix="!").replace("def recommend_book(genre: str)", "def recommend_book(genre: str, n=1)")
    module = _module(tmp_path, "sig_v2", changed)
    fixture = load(FIXTURE)
    module.recommend_book.model = llm.model(model_id_for(fixture), client=client_for(fixture, replay_server.url))
    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        module.recommend_book("fantasy", 2)
    store = lilypad.current_store()
    assert store is not None
    assert [v.version for v in store.versions("recommend_book")] == ["1.0", "2.0"]


def test_the_call_span_carries_the_version_and_the_store_keeps_the_code(
    provider: TracerProvider, replay_server: ReplayServer, tmp_path: Path
) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    lilypad.configure(tracer_provider=provider, store=tmp_path / "elsewhere.db")
    _run(_module(tmp_path, "attrs_v1", PROMPT.format(suffix="?")), replay_server)
    (span,) = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert attributes["mirascope.function"] == "recommend_book"
    assert attributes["mirascope.version"] == "1.0"
    store = lilypad.current_store()
    assert store is not None
    assert store.path == (tmp_path / "elsewhere.db").resolve()
    record = store.version("recommend_book", "1.0")
    assert record is not None
    assert record.hash == attributes["mirascope.version_hash"]
    assert "def shout" in record.code
    assert "comments and formatting" not in record.code


def test_auto_version_versions_every_prompt_function_without_a_decorator(
    provider: TracerProvider, replay_server: ReplayServer, tmp_path: Path
) -> None:
    lilypad.configure(tracer_provider=provider, auto_version=True)
    module = _module(tmp_path, "auto_v1", PROMPT.format(suffix="").replace("    @lilypad.version()\n", ""))
    _run(module, replay_server)
    store = lilypad.current_store()
    assert store is not None
    assert [v.version for v in store.versions("recommend_book")] == ["1.0"]


def test_a_plain_versioned_function_gets_its_own_span_with_the_calls_beneath(
    provider: TracerProvider, replay_server: ReplayServer, tmp_path: Path
) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    lilypad.configure(tracer_provider=provider, store=None)
    fixture = load(FIXTURE)
    model = llm.model(model_id_for(fixture), client=client_for(fixture, replay_server.url))

    @lilypad.version()
    def pipeline(question: str) -> str:
        return model.call(question).content

    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        pipeline("What is 4200 + 42?")
    chat, outer = exporter.get_finished_spans()
    assert outer.name.endswith("pipeline")
    assert chat.parent is not None
    assert outer.context is not None
    assert chat.parent.span_id == outer.context.span_id
    attributes = dict(outer.attributes or {})
    assert str(attributes["mirascope.function"]).endswith("pipeline")
    assert len(str(attributes["mirascope.version_hash"])) == 64
    assert "mirascope.version" not in attributes  # numbers come from a store; there is none


def test_annotate_stores_a_label_the_cli_shows(
    provider: TracerProvider, replay_server: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lilypad.configure(tracer_provider=provider)

    @lilypad.trace()
    def answer() -> str:
        span = trace.get_current_span()
        lilypad.annotate(span, label="pass", reason="right sum")
        return "4242"

    answer()
    assert provider.force_flush(10_000)
    (listed,) = _cli_json("traces", capsys=capsys)
    assert listed["annotation"] == "pass"
    with pytest.raises(lilypad.StoreError, match="pass"):
        lilypad.annotate(listed["trace_id"], label="maybe")  # type: ignore[arg-type]


def test_annotate_without_a_store_says_to_configure_one(provider: TracerProvider) -> None:
    lilypad.configure(tracer_provider=provider, store=None)
    with pytest.raises(lilypad.ConfigurationError, match=r"lilypad\.configure\(\)"):
        lilypad.annotate("0" * 32, label="pass")


def test_a_damaged_store_is_a_warning_and_tracing_goes_on(
    provider: TracerProvider, replay_server: ReplayServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"this is not a database" * 100)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with caplog.at_level(logging.WARNING, logger="mirascope.lilypad"):
        lilypad.configure(tracer_provider=provider, store=damaged)
    assert "keeps no local traces" in caplog.text
    assert str(damaged) in caplog.text
    _run(_module(tmp_path, "damaged_v1", PROMPT.format(suffix=".")), replay_server)
    (span,) = exporter.get_finished_spans()
    assert dict(span.attributes or {})["mirascope.function"] == "recommend_book"
    assert lilypad.current_store() is None


def test_an_annotated_span_sends_a_genai_evaluation_event_to_the_collector(provider: TracerProvider) -> None:
    from tests.support.collector import Collector

    collector = Collector()
    try:
        lilypad.configure(tracer_provider=provider, otlp=collector.url)

        @lilypad.trace()
        def answer() -> str:
            lilypad.annotate(trace.get_current_span(), label="fail", score=0.25, reason="wrong sum")
            return "4241"

        answer()
        assert provider.force_flush(10_000)
    finally:
        collector.close()
    spans = {span.name: span for span in collector.spans}
    evaluation = spans["evaluation lilypad.annotation"]
    traced = next(span for name, span in spans.items() if name.endswith("answer"))
    assert evaluation.parent_span_id == traced.span_id
    assert evaluation.trace_id == traced.trace_id
    (event,) = evaluation.events
    assert event.name == "gen_ai.evaluation.result"
    values = {kv.key: kv.value for kv in event.attributes}
    assert values["gen_ai.evaluation.name"].string_value == "lilypad.annotation"
    assert values["gen_ai.evaluation.score.label"].string_value == "fail"
    assert values["gen_ai.evaluation.score.value"].double_value == 0.25
    assert values["gen_ai.evaluation.explanation"].string_value == "wrong sum"
