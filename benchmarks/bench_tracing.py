"""What lilypad's tracing costs: traced against untraced calls and streams, same server, same run.

Every round runs each setup in turn on the same local fake server (in its own process), so
machine noise hits them alike; the figures are medians over the rounds:

- floor: the raw httpx exchange of `bench_call.py` / `bench_stream.py`;
- untraced: `@llm.call` with nothing registered on the hook (`llm.instrumentation`);
- traced: `lilypad.configure(tracer_provider=..., store=None)` on a fresh SDK `TracerProvider`
  exporting to an `InMemorySpanExporter` through a `BatchSpanProcessor` (the realistic setup:
  export is off the call's path), the same with `capture_content=True`, and with a
  `SimpleSpanProcessor` (export on the call's path); and `store`: configure()'s default local
  SQLite store (in a temporary directory) instead of the in-memory exporter. Versioning is on,
  as configure() has it by default. Exporters are cleared between rounds so memory stays flat.

Reported for calls: traced/untraced (the issue asks ≤ 1.05x), the span work per call in µs
(traced minus untraced), and untraced/httpx, which `bench_call.py` reports too: with nothing
registered the hook must not move it. For streams, each run is timed at the first and at the last
text chunk, so the cost splits into a fixed part per stream (opening and ending the span, before
the first chunk and after the last) and a part per chunk (between them; the issue asks ≤ 2%).

`compare_otel_openai.py` puts the same figures beside OpenTelemetry's own openai-v2
instrumentation on the openai SDK, in a separate virtualenv (`--otel` runs it from here).
`--instructions` counts instructions instead (valgrind's callgrind, as `bench_instructions.py`
does): CPU work only, which the load of a shared machine does not move.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import mirascope.lilypad as lilypad
from mirascope import llm
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

sys.path.insert(0, str(Path(__file__).parent))
from bench_call import CASES, local_server
from bench_stream import (  # the floor of bench_stream.py, as it is
    _floor_events,  # pyright: ignore[reportPrivateUsage]
    _floor_events_async,  # pyright: ignore[reportPrivateUsage]
    _stream_case,  # pyright: ignore[reportPrivateUsage]
)
from payloads import STREAM_CHUNKS

HERE = Path(__file__).parent

Case = tuple[str, str, str, str, dict[str, Any], dict[str, str]]


class Lilypad:
    """Switches lilypad on with one setup's configuration, or off.

    Each configuration is made by `lilypad.configure()` once; switching back to it puts the
    instrument's state (provider, content capture, versioner) back as configure() left it.
    Calling configure() again would start a new versioner, and the next call would version its
    function again (its closure's source, parsed): a once-per-function cost, not span work.
    """

    def __init__(self) -> None:
        self._states: dict[str, tuple[lilypad.LilypadInstrument, Any]] = {}

    def on(self, name: str, provider: TracerProvider, capture: bool = False, store: Path | None = None) -> None:
        state = self._states.get(name)
        if state is None:
            if lilypad.configure(tracer_provider=provider, capture_content=capture, store=store) is None:
                sys.exit("OTEL_SDK_DISABLED is true: lilypad.configure() traces nothing, so there is nothing to time")
            instrument = next(i for i in llm.instrumentation.registered() if isinstance(i, lilypad.LilypadInstrument))
            self._states[name] = (instrument, instrument.versioner)
            return
        instrument, versioner = state
        instrument.set_provider(provider)
        instrument.set_capture_content(capture)
        instrument.versioner = versioner
        llm.instrumentation.register(instrument)

    @staticmethod
    def off() -> None:
        for instrument in llm.instrumentation.registered():
            llm.instrumentation.unregister(instrument)


class Setups:
    """The setups timed against each other, switched between timed batches.

    batch, batch+content and simple export to in-memory exporters (no store); store is
    `configure()`'s default local SQLite store (in a temporary directory), alone on its provider.
    """

    def __init__(self, store_dir: Path) -> None:
        self.exporters: list[InMemorySpanExporter] = []
        self.batch = self._provider(BatchSpanProcessor)
        self.simple = self._provider(SimpleSpanProcessor)
        self.with_store = TracerProvider(shutdown_on_exit=False)
        self.store_path = store_dir / "lilypad.db"
        self.lilypad = Lilypad()

    def _provider(self, processor: Callable[[InMemorySpanExporter], Any]) -> TracerProvider:
        exporter = InMemorySpanExporter()
        self.exporters.append(exporter)
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(processor(exporter))
        return provider

    def use(self, setup: str) -> None:
        """Switch lilypad on as the named setup has it, or off for `floor` and `untraced`."""
        if setup in ("floor", "untraced"):
            self.lilypad.off()
        elif setup == "store":
            self.lilypad.on(setup, self.with_store, store=self.store_path)
        else:
            provider = self.simple if setup == "simple" else self.batch
            self.lilypad.on(setup, provider, capture=setup == "batch+content")

    def clear(self) -> None:
        """Drop the finished spans (outside the timed part), so memory does not grow run by run."""
        for exporter in self.exporters:
            exporter.clear()

    def check(self, setups: tuple[str, ...]) -> None:
        """After each setup has run: the traced ones made spans (tracing was not silently off)."""
        for provider in (self.batch, self.simple, self.with_store):
            provider.force_flush()
        made = {
            "batch": len(self.exporters[0].get_finished_spans()),
            "simple": len(self.exporters[1].get_finished_spans()),
        }
        if "store" in setups:
            store = lilypad.current_store()
            made["store"] = len(store.traces(limit=1)) if store is not None else 0
        missing = [name for name, count in made.items() if not count and any(s.startswith(name) for s in setups)]
        assert not missing, f"no spans from {missing}"
        self.clear()

    def close(self) -> None:
        self.lilypad.off()
        for provider in (self.batch, self.simple, self.with_store):
            provider.shutdown()


CALL_SETUPS = ("floor", "untraced", "batch", "batch+content", "simple", "store")
STREAM_SETUPS = ("floor", "untraced", "batch", "batch+content")

Timing = tuple[float, float]
"""Seconds per call: wall clock, and the process's CPU time (all threads: the batch exporter's too)."""


def _timed(fn: Callable[[], object], n: int) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n


async def _timed_async(fn: Callable[[], Awaitable[object]], n: int) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        await fn()
    return (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n


def _rotated(setups: tuple[str, ...], round_: int) -> tuple[str, ...]:
    """Each round starts with the next setup, so none always runs right after a clear or a switch."""
    shift = round_ % len(setups)
    return setups[shift:] + setups[:shift]


def _medians(times: dict[str, list[Timing]]) -> dict[str, Timing]:
    return {
        setup: (statistics.median(t[0] for t in runs), statistics.median(t[1] for t in runs))
        for setup, runs in times.items()
    }


def call_sync(url: str, case: Case, setups: Setups, rounds: int, n: int) -> dict[str, Timing]:
    provider, model_id, suffix, path, body, headers = case
    raw = httpx.Client(headers=headers)
    client = llm.client(provider, base_url=url + suffix, api_key="k")

    def floor() -> object:
        return raw.post(url + path, json={**body}).json()

    @llm.call(model_id, client=client)
    def recommend(genre: str) -> str:
        return f"Recommend a {genre} book"

    def ours() -> object:
        return recommend("fantasy")

    times: dict[str, list[Timing]] = {setup: [] for setup in CALL_SETUPS}
    for setup in CALL_SETUPS:  # warm connections, caches, the provider import and each setup
        setups.use(setup)
        _timed(floor if setup == "floor" else ours, 50)
    setups.check(CALL_SETUPS)
    for round_ in range(rounds):
        setups.clear()
        for setup in _rotated(CALL_SETUPS, round_):
            setups.use(setup)
            times[setup].append(_timed(floor if setup == "floor" else ours, n))
    setups.use("untraced")
    raw.close()
    client.close()
    return _medians(times)


def call_async(url: str, case: Case, setups: Setups, rounds: int, n: int) -> dict[str, Timing]:
    provider, model_id, suffix, path, body, headers = case

    async def main() -> dict[str, Timing]:
        raw = httpx.AsyncClient(headers=headers)
        client = llm.client(provider, base_url=url + suffix, api_key="k")

        async def floor() -> object:
            return (await raw.post(url + path, json={**body})).json()

        @llm.call(model_id, client=client)
        async def recommend(genre: str) -> str:
            return f"Recommend a {genre} book"

        async def ours() -> object:
            return await recommend("fantasy")

        times: dict[str, list[Timing]] = {setup: [] for setup in CALL_SETUPS}
        for setup in CALL_SETUPS:
            setups.use(setup)
            await _timed_async(floor if setup == "floor" else ours, 50)
        setups.check(CALL_SETUPS)
        for round_ in range(rounds):
            setups.clear()
            for setup in _rotated(CALL_SETUPS, round_):
                setups.use(setup)
                times[setup].append(await _timed_async(floor if setup == "floor" else ours, n))
        setups.use("untraced")
        await raw.aclose()
        await client.aclose()
        return _medians(times)

    return asyncio.run(main())


Marks = tuple[float, float, float]
"""One stream, in seconds from the call: to the first text chunk, to the last, and to the response."""


def _stream_medians(times: dict[str, list[Marks]]) -> dict[str, Marks]:
    return {
        setup: (
            statistics.median(t[0] for t in runs),
            statistics.median(t[1] for t in runs),
            statistics.median(t[2] for t in runs),
        )
        for setup, runs in times.items()
    }


def stream_sync(url: str, case: Case, setups: Setups, runs: int, batch: int) -> dict[str, Marks]:
    provider, model_id, suffix, _, _, headers = case
    path, body = _stream_case(case)
    raw = httpx.Client(headers=headers)
    client = llm.client(provider, base_url=url + suffix, api_key="k")
    clock = time.perf_counter

    def floor() -> Marks:
        start = clock()
        first = last = 0.0
        with raw.stream("POST", url + path, json=body) as response:
            for count, _ in enumerate(_floor_events(response.iter_lines())):
                last = clock()
                if not count:
                    first = last
        return first - start, last - start, clock() - start

    @llm.call(model_id, client=client, stream=True)
    def recommend(genre: str) -> str:
        return f"Recommend a {genre} book"

    def ours() -> Marks:
        start = clock()
        first = last = 0.0
        stream = recommend("fantasy")
        chunks = 0
        for chunk in stream:
            if chunk.content:
                last = clock()
                if not chunks:
                    first = last
                chunks += 1
        stream.response  # noqa: B018 - assembling the response is part of the cost
        assert chunks == STREAM_CHUNKS
        return first - start, last - start, clock() - start

    times: dict[str, list[Marks]] = {setup: [] for setup in STREAM_SETUPS}
    for setup in STREAM_SETUPS:
        setups.use(setup)
        for _ in range(10):
            (floor if setup == "floor" else ours)()
    for round_ in range(runs // batch):
        setups.clear()
        for setup in _rotated(STREAM_SETUPS, round_):
            setups.use(setup)
            fn = floor if setup == "floor" else ours
            times[setup].extend(fn() for _ in range(batch))
    setups.use("untraced")
    raw.close()
    client.close()
    return _stream_medians(times)


def stream_async(url: str, case: Case, setups: Setups, runs: int, batch: int) -> dict[str, Marks]:
    provider, model_id, suffix, _, _, headers = case
    path, body = _stream_case(case)
    clock = time.perf_counter

    async def main() -> dict[str, Marks]:
        raw = httpx.AsyncClient(headers=headers)
        client = llm.client(provider, base_url=url + suffix, api_key="k")

        async def floor() -> Marks:
            start = clock()
            first = last = 0.0
            count = 0
            async with raw.stream("POST", url + path, json=body) as response:
                async for _ in _floor_events_async(response.aiter_lines()):
                    last = clock()
                    if not count:
                        first = last
                    count += 1
            return first - start, last - start, clock() - start

        @llm.call(model_id, client=client, stream=True)
        async def recommend(genre: str) -> str:
            return f"Recommend a {genre} book"

        async def ours() -> Marks:
            start = clock()
            first = last = 0.0
            stream = await recommend("fantasy")
            chunks = 0
            async for chunk in stream:
                if chunk.content:
                    last = clock()
                    if not chunks:
                        first = last
                    chunks += 1
            await stream.aresponse()
            assert chunks == STREAM_CHUNKS
            return first - start, last - start, clock() - start

        times: dict[str, list[Marks]] = {setup: [] for setup in STREAM_SETUPS}
        for setup in STREAM_SETUPS:
            setups.use(setup)
            for _ in range(10):
                await (floor if setup == "floor" else ours)()
        for round_ in range(runs // batch):
            setups.clear()
            for setup in _rotated(STREAM_SETUPS, round_):
                setups.use(setup)
                fn = floor if setup == "floor" else ours
                for _ in range(batch):
                    times[setup].append(await fn())
        setups.use("untraced")
        await raw.aclose()
        await client.aclose()
        return _stream_medians(times)

    return asyncio.run(main())


def _print_calls(name: str, mode: str, medians: dict[str, Timing]) -> None:
    floor, untraced = medians["floor"], medians["untraced"]
    print(f"{name:<20} {mode:<6} {'httpx':<14} {floor[0] * 1e6:>8.1f}")
    print(f"{'':<20} {'':<6} {'untraced':<14} {untraced[0] * 1e6:>8.1f} {untraced[0] / floor[0]:>9.3f}x httpx")
    for setup in CALL_SETUPS[2:]:
        traced = medians[setup]
        print(
            f"{'':<20} {'':<6} {setup:<14} {traced[0] * 1e6:>8.1f} {traced[0] / untraced[0]:>9.3f}x "
            f"{(traced[0] - untraced[0]) * 1e6:>+9.1f} {(traced[1] - untraced[1]) * 1e6:>+9.1f}"
        )


def _print_streams(name: str, mode: str, medians: dict[str, Marks]) -> None:
    def per_chunk(marks: Marks) -> float:
        return (marks[1] - marks[0]) / (STREAM_CHUNKS - 1)

    def fixed(marks: Marks) -> float:
        return marks[0] + (marks[2] - marks[1])

    floor, untraced = medians["floor"], medians["untraced"]
    print(f"{name:<20} {mode:<6} {'httpx':<14} {floor[2] * 1e6:>8.0f} {'':>10} {per_chunk(floor) * 1e6:>9.2f}")
    print(
        f"{'':<20} {'':<6} {'untraced':<14} {untraced[2] * 1e6:>8.0f} {untraced[2] / floor[2]:>9.3f}x "
        f"{per_chunk(untraced) * 1e6:>9.2f}   (vs httpx)"
    )
    for setup in STREAM_SETUPS[2:]:
        traced = medians[setup]
        added = (per_chunk(traced) - per_chunk(untraced)) / per_chunk(untraced)
        print(
            f"{'':<20} {'':<6} {setup:<14} {traced[2] * 1e6:>8.0f} {traced[2] / untraced[2]:>9.3f}x "
            f"{per_chunk(traced) * 1e6:>9.2f} {added * 100:>+8.2f}% {(fixed(traced) - fixed(untraced)) * 1e6:>+9.1f}"
        )


# Instruction counts (`--instructions`): the CPU work alone, which machine load does not move.

_EVENTS_AROUND = {"openai": (2, 2), "openai-completions": (1, 3), "anthropic": (2, 3), "google": (0, 1)}
"""Per wire API, the events before the text deltas of a payloads stream and after them."""


def _shortened(provider: str, body: bytes, chunks: int) -> bytes:
    """A payloads stream with only its first `chunks` text deltas (and its opening and closing events)."""
    separator = b"\r\n\r\n" if b"\r\n\r\n" in body else b"\n\n"
    events = body.split(separator)[:-1]
    before, after = _EVENTS_AROUND[provider]
    kept = events[: before + chunks] + events[len(events) - after :]
    if provider == "google":  # its last delta is also its closing event
        kept = events[: chunks - 1] + events[-1:]
    return b"".join(event + separator for event in kept)


def child(provider: str, setup: str, calls: int, streams: int, chunks: int, mode: str) -> None:
    """In this process: warm both setups up, then `calls` calls and `streams` streams under `setup`."""
    from payloads import reply_for, stream_for

    case = next(case for case in CASES if case[0] == provider)
    _, model_id, suffix, path, _, _ = case
    stream_path, _ = _stream_case(case)
    full = stream_for(stream_path.split("?", 1)[0])
    stream_body = [full]  # the warm-up reads whole streams whatever the length measured
    reply = reply_for(path)

    def handler(request: httpx.Request) -> httpx.Response:
        if b"stream" in request.content or "streamGenerateContent" in request.url.path:
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=stream_body[0])
        return httpx.Response(200, headers={"content-type": "application/json"}, content=reply)

    transport = httpx.MockTransport(handler)
    client = llm.client(
        provider,
        base_url="http://bench" + suffix,
        api_key="k",
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
    )

    @llm.call(model_id, client=client)
    def recommend(genre: str) -> str:
        return f"Recommend a {genre} book"

    @llm.call(model_id, client=client, stream=True)
    def recommend_stream(genre: str) -> str:
        return f"Recommend a {genre} book"

    @llm.call(model_id, client=client, stream=True)
    async def recommend_async_stream(genre: str) -> str:
        return f"Recommend a {genre} book"

    async def async_streams(times: int, length: int) -> None:
        for _ in range(times):
            reading = await recommend_async_stream("fantasy")
            count = 0
            async for chunk in reading:
                count += bool(chunk.content)
            await reading.aresponse()
            assert count == length, count

    def streams_of(times: int, length: int) -> None:
        if mode == "async":
            asyncio.run(async_streams(times, length))
            return
        for _ in range(times):
            reading = recommend_stream("fantasy")
            count = sum(1 for chunk in reading if chunk.content)
            reading.response  # noqa: B018 - assembling the response is part of the cost
            assert count == length, count

    with tempfile.TemporaryDirectory() as store_dir:
        setups = Setups(Path(store_dir))
        for warm in dict.fromkeys(("untraced", setup)):
            setups.use(warm)
            for _ in range(3):
                recommend("fantasy")
            streams_of(3, STREAM_CHUNKS)
        stream_body[0] = _shortened(provider, full, chunks)
        setups.use(setup)
        # Start-up's objects out of the collector's way: a full collection over them costs
        # millions of instructions, and whether one falls among a few calls would decide the figures.
        gc.collect()
        gc.freeze()
        for _ in range(calls):
            recommend("fantasy")
        streams_of(streams, chunks)
        setups.close()  # the batch processors export what is left: that is part of the work


def _instructions(provider: str, setup: str, calls: int, streams: int, chunks: int, mode: str = "sync") -> int:
    command = [
        *("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__),
        *("--child", provider, setup, str(calls), str(streams), str(chunks), mode),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or found is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def instructions(cases: list[Case], calls: int, streams: int) -> None:
    """Traced against untraced, in instructions; each count in its own process, start-up subtracted.

    Counts are repeatable to about 0.01% as long as no module changes under them: one edited
    during the run is compiled again by the processes after the edit.
    """
    if shutil.which("valgrind") is None:
        print("instruction counts skipped: valgrind is not installed (Debian: apt-get install valgrind)")
        return
    short = STREAM_CHUNKS // 4
    print(
        f"instructions, CPU only (callgrind; in-process httpx.MockTransport, no server): {calls} calls, "
        f"{streams} streams of {STREAM_CHUNKS} and of {short} chunks, per setup\n"
        "batch: lilypad.configure() on an SDK TracerProvider, BatchSpanProcessor -> InMemorySpanExporter; "
        "store: configure()'s SQLite store (its writer thread counted too);\n"
        "per chunk from the two stream lengths, fixed = the rest of a stream"
    )
    print(
        f"{'provider':<20} {'setup':<9} {'k/call':>8} {'x':>7} {'+k/call':>8} {'mode':>6} {'k/stream':>9} {'x':>7} "
        f"{'/chunk':>7} {'+%/chunk':>9} {'+k fixed':>9}"
    )
    for case in cases:
        provider = case[0]
        runs: list[Run] = [("store", 0, 0, STREAM_CHUNKS, "sync"), ("store", calls, 0, STREAM_CHUNKS, "sync")]
        for setup in ("untraced", "batch"):
            runs += [(setup, 0, 0, STREAM_CHUNKS, "sync"), (setup, calls, 0, STREAM_CHUNKS, "sync")]
            for mode in ("sync", "async"):
                runs += [(setup, 0, streams, STREAM_CHUNKS, mode), (setup, 0, streams, short, mode)]
        # Once without valgrind, so that every module is compiled already (a .pyc written under
        # callgrind would count its compilation); then two counts at a time, which do not depend
        # on what else runs; and the first count again, last: the code did not change meanwhile.
        subprocess.run([sys.executable, __file__, "--child", provider, "untraced", "1", "1", "1", "async"], check=True)
        with ThreadPoolExecutor(2) as pool:
            found = list(pool.map(_instructions, *zip(*[(provider, *run) for run in [*runs, runs[0]]], strict=True)))
        if abs(found[-1] - found[0]) > found[0] / 1000:
            print(f"{provider:<20} the same count came out {found[0]} and {found[-1]}: was the code edited? rerun")
            continue
        _print_instructions(provider, dict(zip(runs, found, strict=False)), calls, streams, short)


Run = tuple[str, int, int, int, str]
"""One counted process: setup, calls, streams, chunks per stream, and `sync` or `async` streams."""


def _print_instructions(provider: str, count: dict[Run, int], calls: int, streams: int, short: int) -> None:
    def per_call(setup: str) -> float:
        return (count[setup, calls, 0, STREAM_CHUNKS, "sync"] - count[setup, 0, 0, STREAM_CHUNKS, "sync"]) / calls

    def per_stream(setup: str, mode: str) -> tuple[float, float]:
        base = count[setup, 0, 0, STREAM_CHUNKS, "sync"]  # start-up and warm-up alone, same setup
        long = (count[setup, 0, streams, STREAM_CHUNKS, mode] - base) / streams
        brief = (count[setup, 0, streams, short, mode] - base) / streams
        return long, (long - brief) / (STREAM_CHUNKS - short)

    plain = per_call("untraced")
    for setup in ("untraced", "batch", "store"):
        call = per_call(setup)
        added = "" if setup == "untraced" else f"{call / plain:>6.3f}x {(call - plain) / 1e3:>+8.1f}"
        print(f"{provider if setup == 'untraced' else '':<20} {setup:<9} {call / 1e3:>8.0f} {added:>16}", end="")
        if setup == "store":
            print()
            continue
        for index, mode in enumerate(("sync", "async")):
            stream, chunk = per_stream(setup, mode)
            line = f" {mode:>6} {stream / 1e3:>9.0f}"
            if setup == "untraced":
                line += f" {'':>7} {chunk:>7.0f}"
            else:
                plain_stream, plain_chunk = per_stream("untraced", mode)
                fixed = (stream - STREAM_CHUNKS * chunk) - (plain_stream - STREAM_CHUNKS * plain_chunk)
                line += (
                    f" {stream / plain_stream:>6.3f}x {chunk:>7.0f} "
                    f"{(chunk - plain_chunk) / plain_chunk * 100:>+8.2f}% {fixed / 1e3:>+9.1f}"
                )
            print(line if not index else f"{'':<56}{line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=100, help="interleaved rounds of calls")
    parser.add_argument("--n", type=int, default=10, help="calls per setup per round")
    parser.add_argument("--runs", type=int, default=120, help="streams per setup")
    parser.add_argument("--batch", type=int, default=3, help="streams per setup before switching")
    parser.add_argument("--provider", action="append", help="only these prefixes")
    parser.add_argument("--no-calls", action="store_true")
    parser.add_argument("--no-streams", action="store_true")
    parser.add_argument("--otel", action="store_true", help="then run compare_otel_openai.py on the same server")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions instead (valgrind; load-proof, about four minutes per provider)",
    )
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        provider, setup, calls, streams, chunks, mode = args.child
        child(provider, setup, int(calls), int(streams), int(chunks), mode)
        return
    cases = [case for case in CASES if not args.provider or case[0] in args.provider]
    if args.instructions:
        instructions(cases, calls=200, streams=40)
        return

    store_dir = tempfile.TemporaryDirectory()
    setups = Setups(Path(store_dir.name))
    with local_server() as url:
        if not args.no_calls:
            print(
                f"traced vs untraced call (same local server; {args.rounds} rounds, each running every setup "
                f"{args.n} times; medians)\n"
                "traced: lilypad.configure(tracer_provider=..., store=None) on an SDK TracerProvider with an "
                "InMemorySpanExporter behind a BatchSpanProcessor (batch; batch+content: capture_content=True) or a "
                "SimpleSpanProcessor; store: configure()'s local SQLite store instead (in a temporary directory)\n"
                "x: traced/untraced (untraced: vs httpx); +µs: the span work per call, wall clock and process CPU"
            )
            print(f"{'provider':<20} {'mode':<6} {'setup':<14} {'µs/call':>8} {'x':>10} {'+µs wall':>9} {'+µs cpu':>9}")
            for case in cases:
                for mode, bench in (("sync", call_sync), ("async", call_async)):
                    _print_calls(case[0], mode, bench(url, case, setups, args.rounds, args.n))
            print(
                "untraced vs httpx is the call with the hook present and nothing registered: "
                "bench_call.py measures the same ratio, which the hook must leave unchanged"
            )
        if not args.no_streams:
            print()
            print(
                f"traced vs untraced {STREAM_CHUNKS}-chunk stream ({args.runs} streams per setup, in turns of "
                f"{args.batch}; medians)\n"
                "x: whole stream traced/untraced (untraced: vs httpx); µs/chunk: from the first text chunk to the "
                "last; +%/chunk: added per chunk; +µs fixed: added before the first chunk and after the last"
            )
            print(
                f"{'provider':<20} {'mode':<6} {'setup':<14} {'µs':>8} {'x':>10} {'µs/chunk':>9} "
                f"{'+%/chunk':>9} {'+µs fixed':>9}"
            )
            for case in cases:
                for mode, bench in (("sync", stream_sync), ("async", stream_async)):
                    _print_streams(case[0], mode, bench(url, case, setups, args.runs, args.batch))
            print(
                "untraced vs httpx is the stream with nothing registered: "
                "bench_stream.py measures the same ratio, which the hook must leave unchanged"
            )
        if args.otel:
            print()
            sys.stdout.flush()
            subprocess.run([sys.executable, str(HERE / "compare_otel_openai.py"), "--url", url], check=False)
    setups.close()
    store_dir.cleanup()


if __name__ == "__main__":
    main()
