"""Lilypad's tracing beside OpenTelemetry's openai-v2 instrumentation, on the same work, in one process.

Both trace a Chat Completions call (and a 200-chunk stream) to the local fake server: the openai
SDK with `OpenAIInstrumentor` (opentelemetry-instrumentation-openai-v2, its default conventions,
content off), and `@llm.call("openai-completions:gpt-4o")` with `lilypad.configure(store=None)`. Each traced
setup has its own SDK `TracerProvider` exporting to an `InMemorySpanExporter` through a
`BatchSpanProcessor`. Rounds interleave every setup, untraced and traced, and the figures are
medians: traced/untraced for each library, and the span work per call in µs.

The openai SDK must not enter the workspace (nor `uv.lock`), so this script makes (or reuses) a
virtualenv of its own, `.cache/bench-openai-otel` at the repository's root, with uv: the pinned
openai and OpenTelemetry packages, our core, openai provider and lilypad installed editable (the
code being measured is the work tree's), and httpx, attrs and cattrs at the workspace's versions.
It then runs itself there. Without uv or the network it says why and stops; nothing else fails.

    uv run --no-sync python benchmarks/compare_otel_openai.py  # starts its own server
    uv run --no-sync python benchmarks/bench_tracing.py --otel  # runs it after the lilypad figures
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sidecar

HERE = Path(__file__).parent
ROOT = HERE.parent
VENV = ROOT / ".cache" / "bench-openai-otel"
PINS = (
    "openai==3.63.0",
    "opentelemetry-sdk==1.45.2",
    "opentelemetry-instrumentation-openai-v2==2.4b0",
    # 2.4b0 imports `opentelemetry.util.genai.instruments`, which util-genai 1.x renamed.
    "opentelemetry-util-genai==0.4b0",
)
OURS = ("mirascope-core", "mirascope-providers-openai", "mirascope-lilypad")
SHARED = ("httpx", "httpcore", "h11", "anyio", "attrs", "cattrs")
"""Dependencies of ours pinned to the workspace's versions, so that our side runs as it does there."""

MODEL = "gpt-4o"
MESSAGES = [{"role": "user", "content": "Recommend a fantasy book"}]
SETUPS = ("httpx", "openai", "openai+otel", "mirascope", "mirascope+lilypad")


# The outer run, in the workspace's Python: make the virtualenv, then run the inner one there.


def _wanted() -> list[str]:
    shared = []
    for name in SHARED:
        try:
            shared.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return [*PINS, *shared]


def prepare() -> Path | None:
    """The virtualenv's Python, made or brought up to date; `None` (having said why) if it cannot be."""
    return sidecar.prepared(VENV, _wanted(), OURS, "openai-v2 comparison")


# The inner run, in that virtualenv.


class Tracing:
    """Switches each library's tracing on and off between timed batches."""

    def __init__(self) -> None:
        from opentelemetry.instrumentation.openai_v2 import (  # pyright: ignore[reportMissingImports]
            OpenAIInstrumentor,
        )
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.exporters = [InMemorySpanExporter(), InMemorySpanExporter()]
        self.providers = [TracerProvider(shutdown_on_exit=False) for _ in self.exporters]
        for provider, exporter in zip(self.providers, self.exporters, strict=True):
            provider.add_span_processor(BatchSpanProcessor(exporter))
        self.otel = OpenAIInstrumentor()
        sys.path.insert(0, str(HERE))
        from bench_tracing import Lilypad

        self.lilypad = Lilypad()

    def use(self, setup: str) -> None:
        if setup == "openai+otel":
            if not self.otel.is_instrumented_by_opentelemetry:
                self.otel.instrument(tracer_provider=self.providers[0])
        elif self.otel.is_instrumented_by_opentelemetry:
            self.otel.uninstrument()
        if setup == "mirascope+lilypad":
            self.lilypad.on(setup, self.providers[1])  # no store: both export to memory alone
        else:
            self.lilypad.off()

    def spans(self) -> tuple[int, int]:
        for provider in self.providers:
            provider.force_flush()
        otel, lily = (len(exporter.get_finished_spans()) for exporter in self.exporters)
        return otel, lily

    def clear(self) -> None:
        for exporter in self.exporters:
            exporter.clear()


def _rotated(round_: int) -> tuple[str, ...]:
    shift = round_ % len(SETUPS)
    return SETUPS[shift:] + SETUPS[:shift]


def _calls(url: str, tracing: Tracing, rounds: int, n: int, is_async: bool) -> dict[str, float]:
    import httpx
    import openai  # noqa: TID251  # pyright: ignore[reportMissingImports] - only in the comparison's own venv
    from mirascope import llm

    body = {"messages": MESSAGES, "model": MODEL}
    headers = {"authorization": "Bearer k"}

    def sync_work() -> dict[str, Callable[[], object]]:
        raw = httpx.Client(headers=headers)
        sdk = openai.OpenAI(base_url=url + "/v1", api_key="k")
        client = llm.client("openai-completions", base_url=url + "/v1", api_key="k")

        @llm.call(f"openai-completions:{MODEL}", client=client)
        def recommend(genre: str) -> str:
            return f"Recommend a {genre} book"

        def sdk_call() -> object:
            return sdk.chat.completions.create(model=MODEL, messages=MESSAGES)

        return {
            "httpx": lambda: raw.post(url + "/v1/chat/completions", json={**body}).json(),
            "openai": sdk_call,
            "mirascope": lambda: recommend("fantasy"),
        }

    def timed(fn: Callable[[], object]) -> float:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - start) / n

    if not is_async:
        work = sync_work()
        return _interleave(tracing, rounds, lambda setup: timed(work[setup.split("+")[0]]))

    async def main() -> dict[str, float]:
        raw = httpx.AsyncClient(headers=headers)
        sdk = openai.AsyncOpenAI(base_url=url + "/v1", api_key="k")
        client = llm.client("openai-completions", base_url=url + "/v1", api_key="k")

        @llm.call(f"openai-completions:{MODEL}", client=client)
        async def recommend(genre: str) -> str:
            return f"Recommend a {genre} book"

        async def floor() -> object:
            return (await raw.post(url + "/v1/chat/completions", json={**body})).json()

        async def sdk_call() -> object:
            return await sdk.chat.completions.create(model=MODEL, messages=MESSAGES)

        work: dict[str, Callable[[], Awaitable[object]]] = {
            "httpx": floor,
            "openai": sdk_call,
            "mirascope": lambda: recommend("fantasy"),
        }

        async def atimed(fn: Callable[[], Awaitable[object]]) -> float:
            start = time.perf_counter()
            for _ in range(n):
                await fn()
            return (time.perf_counter() - start) / n

        times: dict[str, list[float]] = {setup: [] for setup in SETUPS}
        for setup in SETUPS:
            tracing.use(setup)
            await atimed(work[setup.split("+")[0]])
        for round_ in range(rounds):
            tracing.clear()
            for setup in _rotated(round_):
                tracing.use(setup)
                times[setup].append(await atimed(work[setup.split("+")[0]]))
        tracing.use("httpx")
        return {setup: statistics.median(values) for setup, values in times.items()}

    return asyncio.run(main())


def _interleave(tracing: Tracing, rounds: int, run: Callable[[str], float]) -> dict[str, float]:
    times: dict[str, list[float]] = {setup: [] for setup in SETUPS}
    for setup in SETUPS:  # warm up each
        tracing.use(setup)
        run(setup)
    for round_ in range(rounds):
        tracing.clear()
        for setup in _rotated(round_):
            tracing.use(setup)
            times[setup].append(run(setup))
    tracing.use("httpx")
    return {setup: statistics.median(values) for setup, values in times.items()}


Marks = tuple[float, float, float]
"""One stream, in seconds from the call: to the first text chunk, to the last, and to its end."""


def _streams(url: str, tracing: Tracing, runs: int, batch: int) -> dict[str, Marks]:
    import httpx
    import openai  # noqa: TID251  # pyright: ignore[reportMissingImports] - only in the comparison's own venv
    from mirascope import llm

    sys.path.insert(0, str(HERE))
    from bench_stream import _floor_events  # pyright: ignore[reportPrivateUsage]
    from payloads import STREAM_CHUNKS

    clock = time.perf_counter
    raw = httpx.Client(headers={"authorization": "Bearer k"})
    sdk = openai.OpenAI(base_url=url + "/v1", api_key="k")
    client = llm.client("openai-completions", base_url=url + "/v1", api_key="k")
    body = {"messages": MESSAGES, "model": MODEL, "stream": True, "stream_options": {"include_usage": True}}

    def marked(chunks: Iterator[bool]) -> Marks:
        start = clock()
        first = last = 0.0
        count = 0
        for text in chunks:
            if text:
                last = clock()
                if not count:
                    first = last
                count += 1
        assert count == STREAM_CHUNKS, count
        return first - start, last - start, clock() - start

    def floor() -> Iterator[bool]:
        with raw.stream("POST", url + "/v1/chat/completions", json=body) as response:
            for event in _floor_events(response.iter_lines()):
                choices = event["choices"]
                yield bool(choices and choices[0]["delta"].get("content"))

    def sdk_stream() -> Iterator[bool]:
        stream = sdk.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        for chunk in stream:
            yield bool(chunk.choices and chunk.choices[0].delta.content)

    @llm.call(f"openai-completions:{MODEL}", client=client, stream=True)
    def recommend(genre: str) -> str:
        return f"Recommend a {genre} book"

    def ours() -> Iterator[bool]:
        stream = recommend("fantasy")
        for chunk in stream:
            yield bool(chunk.content)
        stream.response  # noqa: B018 - assembling the response is part of the cost

    work = {"httpx": floor, "openai": sdk_stream, "mirascope": ours}
    times: dict[str, list[Marks]] = {setup: [] for setup in SETUPS}
    for setup in SETUPS:
        tracing.use(setup)
        for _ in range(5):
            marked(work[setup.split("+")[0]]())
    for round_ in range(runs // batch):
        tracing.clear()
        for setup in _rotated(round_):
            tracing.use(setup)
            fn = work[setup.split("+")[0]]
            times[setup].extend(marked(fn()) for _ in range(batch))
    tracing.use("httpx")
    return {
        setup: (
            statistics.median(t[0] for t in marks),
            statistics.median(t[1] for t in marks),
            statistics.median(t[2] for t in marks),
        )
        for setup, marks in times.items()
    }


def _check(url: str, tracing: Tracing) -> None:
    """Each traced setup makes exactly one span per call, and each untraced one none."""
    import openai  # noqa: TID251  # pyright: ignore[reportMissingImports] - only in the comparison's own venv
    from mirascope import llm

    sdk = openai.OpenAI(base_url=url + "/v1", api_key="k")
    client = llm.client("openai-completions", base_url=url + "/v1", api_key="k")
    for setup, expected in (
        ("openai", (0, 0)),
        ("openai+otel", (1, 0)),
        ("mirascope", (0, 0)),
        ("mirascope+lilypad", (0, 1)),
    ):
        tracing.clear()
        tracing.use(setup)
        if setup.startswith("openai"):
            sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
        else:
            llm.call(f"openai-completions:{MODEL}", client=client)(lambda: "Recommend a fantasy book")()
        spans = tracing.spans()
        assert spans == expected, f"{setup}: {spans} spans (openai-v2, lilypad), expected {expected}"
    tracing.use("httpx")
    tracing.clear()


def inner(args: argparse.Namespace) -> None:
    from importlib.metadata import version

    tracing = Tracing()
    _check(args.url, tracing)
    print(
        f"lilypad vs OpenTelemetry openai-v2 {version('opentelemetry-instrumentation-openai-v2')} "
        f"(openai {version('openai')}, opentelemetry-sdk {version('opentelemetry-sdk')}), Chat Completions on the "
        f"same local server, one process; {args.rounds} rounds, each running every setup {args.n} times; medians"
    )
    print(f"{'mode':<6} {'library':<10} {'untraced µs':>11} {'traced µs':>10} {'traced/untraced':>16} {'+µs/call':>9}")
    for mode in ("sync", "async"):
        medians = _calls(args.url, tracing, args.rounds, args.n, mode == "async")
        for library, traced in (("openai", "openai+otel"), ("mirascope", "mirascope+lilypad")):
            plain, with_spans = medians[library], medians[traced]
            print(
                f"{mode:<6} {library:<10} {plain * 1e6:>11.1f} {with_spans * 1e6:>10.1f} "
                f"{with_spans / plain:>15.3f}x {(with_spans - plain) * 1e6:>+9.1f}"
            )
        print(f"{mode:<6} {'(httpx)':<10} {medians['httpx'] * 1e6:>11.1f}")
    if args.runs:
        marks = _streams(args.url, tracing, args.runs, args.batch)
        chunks = 200

        def per_chunk(m: Marks) -> float:
            return (m[1] - m[0]) / (chunks - 1)

        def fixed(m: Marks) -> float:
            return m[0] + (m[2] - m[1])

        print(
            f"\n{chunks}-chunk stream, sync ({args.runs} streams per setup, in turns of {args.batch}; medians): "
            "+%/chunk from the first text chunk to the last, +µs fixed before the first and after the last"
        )
        print(
            f"{'library':<10} {'untraced µs':>11} {'µs/chunk':>9} {'traced/untraced':>16} "
            f"{'+%/chunk':>9} {'+µs fixed':>10}"
        )
        for library, traced in (("openai", "openai+otel"), ("mirascope", "mirascope+lilypad")):
            plain, with_spans = marks[library], marks[traced]
            added = (per_chunk(with_spans) - per_chunk(plain)) / per_chunk(plain)
            print(
                f"{library:<10} {plain[2] * 1e6:>11.0f} {per_chunk(plain) * 1e6:>9.2f} "
                f"{with_spans[2] / plain[2]:>15.3f}x {added * 100:>+8.2f}% "
                f"{(fixed(with_spans) - fixed(plain)) * 1e6:>+10.1f}"
            )
        print(f"{'(httpx)':<10} {marks['httpx'][2] * 1e6:>11.0f} {per_chunk(marks['httpx']) * 1e6:>9.2f}")


@contextmanager
def _server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    sys.path.insert(0, str(HERE))
    from bench_call import local_server

    with local_server() as started:
        yield started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="the fake server's URL (default: start benchmarks/server.py)")
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--n", type=int, default=10, help="calls per setup per round")
    parser.add_argument("--runs", type=int, default=90, help="streams per setup (0: no streams)")
    parser.add_argument("--batch", type=int, default=3, help="streams per setup before switching")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args)
        return
    python = prepare()
    if python is None:
        return
    with _server(args.url) as url:
        forwarded = [
            "--rounds",
            str(args.rounds),
            "--n",
            str(args.n),
            "--runs",
            str(args.runs),
            "--batch",
            str(args.batch),
        ]
        subprocess.run([str(python), __file__, "--inner", "--url", url, *forwarded], check=False)


if __name__ == "__main__":
    main()
