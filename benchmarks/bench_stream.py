"""Overhead of a 200-chunk stream through `llm.call(..., stream=True)` against raw httpx, same run.

The floor is the least a user could write by hand: POST the same body with a shared httpx
client, read the event stream with `iter_lines`, and `json.loads` every `data:` line. Mirascope
does the same exchange through `@llm.call(..., stream=True)`, yielding an `llm.Chunk` per text
delta and assembling `stream.response` at the end. The two alternate run by run so machine
noise hits both. Reported:

- whole stream: median(ours) / median(floor), and the extra microseconds per chunk;
- time to first chunk: from the call to the first decoded event (floor) or first text chunk
  (ours), as the difference of the medians in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from mirascope import llm

sys.path.insert(0, str(Path(__file__).parent))
from bench_call import CASES, local_server
from payloads import STREAM_CHUNKS

_loads = json.loads


def _floor_events(lines: Iterator[str]) -> Iterator[Any]:
    for line in lines:
        if line.startswith("data:"):
            data = line[5:].strip()
            if data != "[DONE]":
                yield _loads(data)


async def _floor_events_async(lines: AsyncIterator[str]) -> AsyncIterator[Any]:
    async for line in lines:
        if line.startswith("data:"):
            data = line[5:].strip()
            if data != "[DONE]":
                yield _loads(data)


def _stream_case(case: tuple[str, str, str, str, dict[str, Any], dict[str, str]]) -> tuple[str, dict[str, Any]]:
    provider, _, _, path, body, _ = case
    if provider == "google":
        return path.replace(":generateContent", ":streamGenerateContent") + "?alt=sse", body
    extra: dict[str, Any] = {"stream": True}
    if provider == "openai-completions":
        extra["stream_options"] = {"include_usage": True}
    return path, {**body, **extra}


def _summary(floor: list[tuple[float, float]], ours: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """Median whole-stream and first-chunk seconds, floor then ours."""
    return (
        statistics.median(r[0] for r in floor),
        statistics.median(r[1] for r in floor),
        statistics.median(r[0] for r in ours),
        statistics.median(r[1] for r in ours),
    )


def _run(floor: Callable[[], tuple[float, float]], ours: Callable[[], tuple[float, float]], runs: int) -> Any:
    """Warm both up, then alternate them run by run so drift in the machine hits both alike."""
    for _ in range(20):
        floor()
        ours()
    floors: list[tuple[float, float]] = []
    mine: list[tuple[float, float]] = []
    for _ in range(runs):
        floors.append(floor())
        mine.append(ours())
    return _summary(floors, mine)


def bench_sync(
    url: str, case: tuple[str, str, str, str, dict[str, Any], dict[str, str]], runs: int
) -> tuple[float, float, float, float]:
    provider, model_id, suffix, _, _, headers = case
    path, body = _stream_case(case)
    raw = httpx.Client(headers=headers)
    client = llm.client(provider, base_url=url + suffix, api_key="k")
    clock = time.perf_counter

    def floor() -> tuple[float, float]:
        start = clock()
        first = 0.0
        with raw.stream("POST", url + path, json=body) as response:
            for count, _ in enumerate(_floor_events(response.iter_lines())):
                if not count:
                    first = clock() - start
        return clock() - start, first

    @llm.call(model_id, client=client, stream=True)
    def recommend(genre: str) -> str:
        return f"Recommend a {genre} book"

    def ours() -> tuple[float, float]:
        start = clock()
        first = 0.0
        stream = recommend("fantasy")
        chunks = 0
        for chunk in stream:
            if chunk.content:
                if not chunks:
                    first = clock() - start
                chunks += 1
        stream.response  # noqa: B018 - assembling the response is part of the cost
        assert chunks == STREAM_CHUNKS
        return clock() - start, first

    try:
        return _run(floor, ours, runs)
    finally:
        raw.close()
        client.close()


def bench_async(
    url: str, case: tuple[str, str, str, str, dict[str, Any], dict[str, str]], runs: int
) -> tuple[float, float, float, float]:
    provider, model_id, suffix, _, _, headers = case
    path, body = _stream_case(case)
    clock = time.perf_counter

    async def main() -> tuple[float, float, float, float]:
        raw = httpx.AsyncClient(headers=headers)
        client = llm.client(provider, base_url=url + suffix, api_key="k")

        async def floor() -> tuple[float, float]:
            start = clock()
            first = 0.0
            count = 0
            async with raw.stream("POST", url + path, json=body) as response:
                async for _ in _floor_events_async(response.aiter_lines()):
                    if not count:
                        first = clock() - start
                    count += 1
            return clock() - start, first

        @llm.call(model_id, client=client, stream=True)
        async def recommend(genre: str) -> str:
            return f"Recommend a {genre} book"

        async def ours() -> tuple[float, float]:
            start = clock()
            first = 0.0
            stream = await recommend("fantasy")
            chunks = 0
            async for chunk in stream:
                if chunk.content:
                    if not chunks:
                        first = clock() - start
                    chunks += 1
            await stream.aresponse()
            assert chunks == STREAM_CHUNKS
            return clock() - start, first

        for _ in range(20):
            await floor()
            await ours()
        floors: list[tuple[float, float]] = []
        mine: list[tuple[float, float]] = []
        for _ in range(runs):
            floors.append(await floor())
            mine.append(await ours())
        await raw.aclose()
        await client.aclose()
        return _summary(floors, mine)

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=300, help="streams each, alternating")
    parser.add_argument("--provider", action="append", help="only these prefixes")
    args = parser.parse_args()

    with local_server() as url:
        print(
            f"{STREAM_CHUNKS}-chunk stream vs raw httpx + json.loads per event "
            f"(same local server, {args.runs} runs each, alternating, medians)"
        )
        print(
            f"{'provider':<20} {'mode':<6} {'floor µs':>9} {'ours µs':>9} {'ratio':>7} "
            f"{'µs/chunk':>9} {'1st chunk +ms':>14}"
        )
        for case in CASES:
            if args.provider and case[0] not in args.provider:
                continue
            for mode, bench in (("sync", bench_sync), ("async", bench_async)):
                floor, floor_first, ours, ours_first = bench(url, case, args.runs)
                print(
                    f"{case[0]:<20} {mode:<6} {floor * 1e6:>9.1f} {ours * 1e6:>9.1f} {ours / floor:>6.3f}x "
                    f"{(ours - floor) / STREAM_CHUNKS * 1e6:>9.2f} {(ours_first - floor_first) * 1e3:>+14.3f}"
                )


if __name__ == "__main__":
    main()
