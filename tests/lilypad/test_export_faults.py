"""A collector that is down, slow or full never slows or breaks a call; every span it loses is counted.

The collectors are real OTLP/HTTP servers on 127.0.0.1 (or a port nothing listens on); calls
are real recordings replayed through the local server. Ordering, never timing, shows that a
call did not wait for the collector.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mirascope.lilypad as lilypad
import pytest
from mirascope import llm
from opentelemetry.sdk.trace import TracerProvider

from tests.support.collector import Collector
from tests.support.fixtures import load
from tests.support.replay import ReplayServer
from tests.support.scenarios import client_for, messages_for, model_id_for

HANG_GUARD = 60.0
"""Seconds a waiting test gives up after: a guard against hanging, never a measure."""


@pytest.fixture
def providers() -> Iterator[list[TracerProvider]]:
    """Providers the test configures; shut down (their exporters too) and unhooked afterwards."""
    made: list[TracerProvider] = []
    try:
        yield made
    finally:
        for instrument in llm.instrumentation.registered():
            if isinstance(instrument, lilypad.LilypadInstrument):
                llm.instrumentation.unregister(instrument)
        for provider in made:
            provider.shutdown()


def _provider(providers: list[TracerProvider], otlp: str) -> TracerProvider:
    provider = TracerProvider(shutdown_on_exit=False)
    providers.append(provider)
    lilypad.configure(tracer_provider=provider, otlp=otlp)
    return provider


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound (so no one else takes it), never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@lilypad.trace()
def ask(replay_server: ReplayServer, tmp_path: Path, turn: int) -> str:
    """A traced function around one real call replayed through the local server: two spans."""
    fixture = load("test_call/openai_gpt_4o_completions/sync.json")
    model = llm.model(model_id_for(fixture), client=client_for(fixture, replay_server.url))
    with replay_server.replaying([fixture["exchanges"][0]["response"]]):
        return model.call(messages_for(fixture, tmp_path)).content


def _lilypad_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "mirascope.lilypad"]


def test_a_collector_that_is_down_never_breaks_a_call_and_its_drops_are_counted_and_logged_once(
    providers: list[TracerProvider],
    replay_server: ReplayServer,
    tmp_path: Path,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A short export budget so each failed batch gives up after the first refusal, not after retries.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0.5")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "authorization=Bearer header-secret")
    endpoint = f"http://collector-user:url-password@127.0.0.1:{closed_port}/v1/traces?token=query-secret"
    provider = _provider(providers, endpoint)
    before = lilypad.dropped_spans()
    for turn in range(1, 4):
        assert "4242" in ask(replay_server, tmp_path, turn)
        assert provider.force_flush(int(HANG_GUARD * 1000))
        # Each batch (the traced function's span and the call's) is lost, and counted.
        assert lilypad.dropped_spans() == before + 2 * turn
    (warning,) = _lilypad_records(caplog)
    assert warning.levelno == logging.WARNING
    message = warning.getMessage()
    assert f"http://127.0.0.1:{closed_port}/v1/traces" in message
    assert "dropped_spans()" in message
    assert "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" in message
    for secret in ("collector-user", "url-password", "query-secret", "header-secret"):
        assert secret not in message


def test_a_slow_collector_never_holds_up_a_call_and_receives_its_spans_once_it_answers(
    providers: list[TracerProvider],
    replay_server: ReplayServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", str(HANG_GUARD))  # the export waits, never gives up
    collector = Collector(gate=threading.Event())
    try:
        provider = _provider(providers, collector.url)
        before = lilypad.dropped_spans()
        assert "4242" in ask(replay_server, tmp_path, 1)
        exporting = threading.Thread(target=provider.force_flush)
        exporting.start()
        assert collector.arrived.wait(HANG_GUARD)
        # The collector holds the export open; a traced call meanwhile runs to its end.
        assert "4242" in ask(replay_server, tmp_path, 2)
        assert exporting.is_alive()
        assert collector.spans == []
        assert collector.gate is not None
        collector.gate.set()
        exporting.join(HANG_GUARD)
        assert provider.force_flush(int(HANG_GUARD * 1000))
    finally:
        collector.close()
    assert sorted(collector.names()) == sorted(["ask", "chat gpt-4o"] * 2)
    asked = [span for span in collector.spans if span.name == "ask"]
    assert sorted(json.loads(_attribute(span, "mirascope.trace.arguments"))["turn"] for span in asked) == [1, 2]
    assert lilypad.dropped_spans() == before
    assert _lilypad_records(caplog) == []


def _attribute(span: Any, key: str) -> str:
    (value,) = [attribute.value.string_value for attribute in span.attributes if attribute.key == key]
    return value


def test_a_full_export_queue_drops_spans_without_waiting_and_counts_every_one(
    providers: list[TracerProvider], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", str(HANG_GUARD))
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2")
    collector = Collector(gate=threading.Event())

    @lilypad.trace(name="step")
    def step(i: int) -> int:
        return i

    try:
        provider = _provider(providers, collector.url)
        before = lilypad.dropped_spans()
        step(0)
        exporting = threading.Thread(target=provider.force_flush)
        exporting.start()
        assert collector.arrived.wait(HANG_GUARD)
        # Step 0 is in the export the collector holds; the queue takes 4 more, the other 6 are dropped.
        assert [step(i) for i in range(1, 11)] == list(range(1, 11))
        assert exporting.is_alive()
        assert lilypad.dropped_spans() == before + 6
        assert collector.gate is not None
        collector.gate.set()
        exporting.join(HANG_GUARD)
        assert provider.force_flush(int(HANG_GUARD * 1000))
    finally:
        collector.close()
    exported = sorted(json.loads(_attribute(span, "mirascope.trace.arguments"))["i"] for span in collector.spans)
    assert exported == [0, 1, 2, 3, 4]  # every span accounted for: 5 exported + 6 counted as dropped
    (warning,) = _lilypad_records(caplog)
    assert "queue was full" in warning.getMessage()


def test_shutdown_gives_up_on_a_failing_collector_without_trying_it_again(
    providers: list[TracerProvider], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 500 is not retried: one request per batch the exporter tries.
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2")
    collector = Collector(status=500)

    @lilypad.trace(name="step")
    def step(i: int) -> int:
        return i

    try:
        provider = _provider(providers, collector.url)
        before = lilypad.dropped_spans()
        step(0)
        assert provider.force_flush(int(HANG_GUARD * 1000))
        assert (collector.requests, lilypad.dropped_spans()) == (1, before + 1)
        for i in range(1, 7):
            step(i)
        # Shutdown (as at exit) drops the three batches still queued, without a request each:
        # exit would otherwise wait out every batch's export timeout against a failing collector.
        provider.shutdown()
        providers.remove(provider)
    finally:
        collector.close()
    assert collector.requests == 1
    assert lilypad.dropped_spans() == before + 7
    assert len(_lilypad_records(caplog)) == 1


def test_spans_that_end_after_shutdown_are_counted_as_dropped(
    providers: list[TracerProvider], caplog: pytest.LogCaptureFixture
) -> None:
    collector = Collector()

    @lilypad.trace(name="late")
    def late() -> None:
        pass

    try:
        provider = _provider(providers, collector.url)
        provider.shutdown()
        providers.remove(provider)
        before = lilypad.dropped_spans()
        late()
    finally:
        collector.close()
    assert lilypad.dropped_spans() == before + 1
    assert collector.requests == 0
    (warning,) = _lilypad_records(caplog)
    assert "after the tracer provider shut down" in warning.getMessage()


def test_configure_twice_with_otlp_exports_each_span_once(
    providers: list[TracerProvider], monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = Collector()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", collector.url)

    @lilypad.trace(name="once")
    def once() -> int:
        return 1

    try:
        provider = _provider(providers, collector.url)
        # The same endpoint again, explicitly and through the environment: still one exporter.
        assert lilypad.configure(tracer_provider=provider, otlp=collector.url) is provider
        assert lilypad.configure(tracer_provider=provider, otlp=True) is provider
        assert sum(isinstance(i, lilypad.LilypadInstrument) for i in llm.instrumentation.registered()) == 1
        once()
        assert provider.force_flush(int(HANG_GUARD * 1000))
    finally:
        collector.close()
    assert collector.names() == ["once"]
    assert collector.requests == 1


def test_the_export_timeout_defaults_short_unless_the_environment_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from mirascope.lilypad import _configure  # pyright: ignore[reportPrivateUsage]

    for name in ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    exporter: Any = _configure._otlp_exporter("http://127.0.0.1:9/v1/traces")  # pyright: ignore[reportPrivateUsage]
    assert exporter._client._timeout == _configure.EXPORT_TIMEOUT_SECONDS
    exporter.shutdown()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "42")
    exporter = _configure._otlp_exporter("http://127.0.0.1:9/v1/traces")  # pyright: ignore[reportPrivateUsage]
    assert exporter._client._timeout == 42.0
    exporter.shutdown()


class _BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class _BrokenDict(dict[str, int]):
    def items(self) -> Any:
        raise RuntimeError("no items")


class _BrokenList(list[int]):
    def __iter__(self) -> Any:
        raise RuntimeError("no iteration")


def _awkward_arguments() -> dict[str, object]:
    cycle: list[object] = [1]
    cycle.append(cycle)
    loop: dict[str, object] = {}
    loop["self"] = loop
    deep: list[object] = []
    node = deep
    for _ in range(100_000):
        child: list[object] = []
        node.append(child)
        node = child
    return {
        "broken_repr": _BrokenRepr(),
        "huge": "x" * 1_000_000,
        "cycle": cycle,
        "loop": loop,
        "deep": deep,
        "big_int": 10**5000,
        "tuple_keys": {(1, 2): 3},
        "broken_dict": _BrokenDict(a=1),
        "broken_list": _BrokenList([1]),
        "raw": b"\xff",
    }


@pytest.mark.parametrize("name", sorted(_awkward_arguments()))
def test_trace_summarises_arguments_json_cannot_hold_and_never_raises(
    name: str, providers: list[TracerProvider]
) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider(shutdown_on_exit=False)
    providers.append(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    lilypad.configure(tracer_provider=provider)
    value = _awkward_arguments()[name]

    @lilypad.trace(name="plain")
    def plain(label: str, value: object) -> object:
        return value

    @lilypad.trace(name="generator")
    def generator(label: str, value: object) -> Iterator[object]:
        yield value

    async def run_async() -> object:
        @lilypad.trace(name="coroutine")
        async def coroutine(label: str, value: object) -> object:
            return value

        return await coroutine("kept", value)

    import asyncio

    assert plain("kept", value) is value
    (yielded,) = list(generator("kept", value))
    assert yielded is value
    assert asyncio.run(run_async()) is value
    finished = exporter.get_finished_spans()
    assert sorted(span.name for span in finished) == ["coroutine", "generator", "plain"]
    for span in finished:
        attributes = dict(span.attributes or {})
        arguments = attributes["mirascope.trace.arguments"]
        result = attributes["mirascope.trace.result"]
        assert isinstance(arguments, str)
        assert isinstance(result, str)
        assert len(arguments) < lilypad.MAX_VALUE_CHARS + 100
        assert len(result) < lilypad.MAX_VALUE_CHARS + 100
        # One argument JSON cannot hold is summarised on its own; the others are still recorded.
        assert '"label": "kept"' in arguments, arguments
