"""Lilypad's SQLite store: write throughput against raw sqlite3, and query latency at 100k spans.

The spans are real OpenTelemetry SDK spans, made once up front by a `TracerProvider`: traces of
a versioned function span around two chat spans and a tool span, with the attributes lilypad
sets (model, usage, cost, time to first chunk, a session on some), spread over 4 functions with
10 versions each; 1 trace in 20 fails.

1. Writes, in batches of 512 (the `BatchSpanProcessor` default), each run on a fresh file:
   - store: `StoreSpanExporter.export(batch)`, everything the batch worker does: turning each
     span into a row (derived columns, JSON), inserting with the indexes and refreshing the
     per-trace summary rows, one transaction per batch;
   - floor: raw `sqlite3` `executemany` of the same rows (already converted and encoded) into a
     table with the same columns and no index, same WAL/synchronous settings, one transaction
     per batch: the least any SQLite store could do.
   Reported: spans/s and CPU time per span of each, store/floor as ratios, and the share of
   the conversion (Python, holding the GIL) in the store's time.
2. Queries on the store holding all spans (100k by default): `traces()` with and without
   filters, `trace_count()`, `trace(id)`, `versions(f)`, `functions()`, `sessions()`; the median
   of repeated runs, in ms.

Rounds alternate between the contestants; write figures are the fastest round. Timings are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mirascope.lilypad._store import (
    SpanRecord,
    Store,
    StoreSpanExporter,
    _readable_row,  # pyright: ignore[reportPrivateUsage]
    _span_row,  # pyright: ignore[reportPrivateUsage]
)
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode

BATCH = 512
FUNCTIONS = 4
VERSIONS = 10


class _Collect(SpanProcessor):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)


def _hash(function: int, version: int) -> str:
    return f"{function:02x}{version:02x}".ljust(64, "e")


def make_spans(count: int) -> list[ReadableSpan]:
    """`count` finished spans, four to a trace, in the order a batch processor would see them."""
    provider = TracerProvider()
    collect = _Collect()
    provider.add_span_processor(collect)
    tracer = provider.get_tracer("bench_store")
    for index in range(count // 4):
        function, version = index % FUNCTIONS, (index // FUNCTIONS) % VERSIONS
        fails = index % 20 == 0
        common = {"mirascope.function": f"function_{function}"}
        with tracer.start_as_current_span(
            f"function_{function}",
            attributes={
                **common,
                "mirascope.version": f"1.{version}",
                "mirascope.version_hash": _hash(function, version),
                "mirascope.trace.arguments": '{"genre":"fantasy"}',
            },
        ) as root:
            for turn in range(2):
                with tracer.start_as_current_span(
                    "chat gpt-4o-mini",
                    kind=SpanKind.CLIENT,
                    attributes={
                        "gen_ai.operation.name": "chat",
                        "gen_ai.provider.name": "openai",
                        "gen_ai.request.model": "gpt-4o-mini" if index % 3 else "claude-sonnet-4-5",
                        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                        "gen_ai.response.id": f"chatcmpl-{index}-{turn}",
                        "gen_ai.response.finish_reasons": ("stop",),
                        "gen_ai.usage.input_tokens": 120 + index % 50,
                        "gen_ai.usage.output_tokens": 40 + index % 30,
                        "gen_ai.response.time_to_first_chunk": 0.21,
                        "mirascope.response.cost_usd": 0.00012,
                        "mirascope.model_id": "openai:gpt-4o-mini",
                        "server.address": "api.openai.com",
                        "server.port": 443,
                        **({"gen_ai.conversation.id": f"session-{index // 10}"} if index % 2 else {}),
                    },
                ):
                    pass
                if turn == 0:
                    with tracer.start_as_current_span(
                        "execute_tool search",
                        attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
                    ) as tool:
                        tool.add_event("mirascope.retry", {"attempt": 1})
            if fails:
                root.set_status(Status(StatusCode.ERROR, "boom"))
                root.set_attribute("error.type", "ValueError")
            root.set_attribute("mirascope.trace.result", '"The Hobbit"')
    return collect.spans


def _batches(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[start : start + BATCH] for start in range(0, len(items), BATCH)]


def write_store(path: Path, spans: Sequence[ReadableSpan]) -> tuple[float, float]:
    store = Store(path)
    for function in range(FUNCTIONS):
        for version in range(VERSIONS):
            store.record_version(f"function_{function}", _hash(function, version), "()", "code", {})
    exporter = StoreSpanExporter(store)
    batches = _batches(spans)
    started, cpu = time.perf_counter(), time.thread_time()
    for batch in batches:
        exporter.export(batch)
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    assert exporter.failed_spans == 0
    store.close()
    return elapsed, cpu


def write_floor(path: Path, rows: Sequence[tuple[object, ...]]) -> tuple[float, float]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(f"CREATE TABLE spans ({', '.join(f'c{index}' for index in range(len(rows[0])))})")
    insert = f"INSERT INTO spans VALUES ({', '.join('?' * len(rows[0]))})"
    batches = _batches(rows)
    started, cpu = time.perf_counter(), time.thread_time()
    for batch in batches:
        db.execute("BEGIN IMMEDIATE")
        db.executemany(insert, batch)
        db.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    db.close()
    return elapsed, cpu


def convert(spans: Sequence[ReadableSpan]) -> float:
    started = time.perf_counter()
    for span in spans:
        _readable_row(span)
    return time.perf_counter() - started


def _fresh(directory: Path, name: str) -> Path:
    path = directory / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def bench_writes(spans: Sequence[ReadableSpan], rounds: int, directory: Path) -> Path:
    records = [SpanRecord.from_readable(span) for span in spans]
    rows = [_span_row(record) for record in records]
    size = sum(len(str(row[-2])) + len(str(row[-1] or "")) for row in rows) / len(rows)
    best = {name: float("inf") for name in ("store", "floor", "convert", "store_cpu", "floor_cpu")}
    store_path = directory / "store.db"
    for _ in range(rounds):
        elapsed, cpu = write_floor(_fresh(directory, "floor.db"), rows)
        best["floor"], best["floor_cpu"] = min(best["floor"], elapsed), min(best["floor_cpu"], cpu)
        best["convert"] = min(best["convert"], convert(spans))
        elapsed, cpu = write_store(_fresh(directory, "store.db"), spans)
        best["store"], best["store_cpu"] = min(best["store"], elapsed), min(best["store_cpu"], cpu)
    count = len(spans)
    print(f"writes: {count} spans in batches of {BATCH} (~{size:.0f} bytes of JSON each); fastest of {rounds} rounds")
    print("                                        spans/s    CPU µs/span (the writing thread's)")
    print(
        f"  store  StoreSpanExporter.export  {count / best['store']:>10,.0f}   {best['store_cpu'] / count * 1e6:8.1f}"
    )
    print(
        f"  floor  sqlite3 executemany       {count / best['floor']:>10,.0f}   {best['floor_cpu'] / count * 1e6:8.1f}"
    )
    print(
        f"  store / floor                    {best['store'] / best['floor']:>9.2f}x   "
        f"{best['store_cpu'] / best['floor_cpu']:7.2f}x"
    )
    print(
        f"  of the store's time, turning spans into rows (JSON included): {best['convert'] / best['store']:.0%} "
        f"({best['convert'] / count * 1e6:.1f} µs/span)"
    )
    print("  (that part holds the GIL; inside SQLite the worker releases it for the application's threads)")
    return store_path


def _median_ms(work: Callable[[], object], repeats: int) -> float:
    times: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def bench_queries(path: Path, repeats: int) -> None:
    store = Store(path)
    spans = store.span_count()
    newest = store.traces(limit=1)[0].trace_id
    session = store.sessions()[0].session_id
    queries: list[tuple[str, Callable[[], object]]] = [
        ("traces()  (newest 100)", lambda: store.traces()),
        ("traces(offset=10000)", lambda: store.traces(offset=10_000)),
        ("traces(function=)", lambda: store.traces(function="function_1")),
        ("traces(function=, version=)", lambda: store.traces(function="function_1", version="1.3")),
        ("traces(model=) (1 in 3)", lambda: store.traces(model="claude-sonnet-4-5")),
        ("traces(errors=True) (1 in 20)", lambda: store.traces(errors=True)),
        ("traces(session=)", lambda: store.traces(session=session)),
        ("trace_count()", lambda: store.trace_count()),
        ("trace(id)", lambda: store.trace(newest)),
        ("versions(function)", lambda: store.versions("function_1")),
        ("functions()", lambda: store.functions()),
        ("sessions()", lambda: store.sessions()),
    ]
    print(f"queries on {spans:,} spans ({store.trace_count():,} traces); median of {repeats}, ms")
    for label, work in queries:
        print(f"  {label:<32} {_median_ms(work, repeats):8.2f}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    arguments = parser.parse_args()
    spans = make_spans(arguments.spans)
    with tempfile.TemporaryDirectory(prefix="bench_store") as directory:
        path = bench_writes(spans, arguments.rounds, Path(directory))
        print()
        bench_queries(path, arguments.repeats)
        print(f"  store file: {os.path.getsize(path) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
