"""Overhead of a non-streaming call through `llm.call` against raw httpx, same server, same run.

For each wire API, the floor is the least a user could write by hand: build the JSON body, POST it
with a shared `httpx.Client`, decode the JSON reply. Mirascope does the same exchange through
`@llm.call`, building messages and decoding into `llm.CallResponse`. Rounds alternate between the
two so machine noise hits both; the ratio is median(ours) / median(floor).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from mirascope import llm

HERE = Path(__file__).parent

# (provider prefix, model id, client base URL suffix, floor path, floor body, floor headers)
CASES: list[tuple[str, str, str, str, dict[str, Any], dict[str, str]]] = [
    (
        "openai",
        "openai:gpt-4o",
        "/v1",
        "/v1/responses",
        {"input": [{"role": "user", "content": "Recommend a fantasy book"}], "model": "gpt-4o"},
        {"authorization": "Bearer k"},
    ),
    (
        "openai-completions",
        "openai-completions:gpt-4o",
        "/v1",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "Recommend a fantasy book"}], "model": "gpt-4o"},
        {"authorization": "Bearer k"},
    ),
    (
        "anthropic",
        "anthropic:claude-sonnet-4-0",
        "",
        "/v1/messages",
        {
            "max_tokens": 16000,
            "messages": [{"role": "user", "content": "Recommend a fantasy book"}],
            "model": "claude-sonnet-4-0",
        },
        {"x-api-key": "k", "anthropic-version": "2023-06-01"},
    ),
    (
        "google",
        "google:gemini-2.5-flash",
        "",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        {"contents": [{"role": "user", "parts": [{"text": "Recommend a fantasy book"}]}]},
        {"x-goog-api-key": "k"},
    ),
]


@contextmanager
def local_server() -> Iterator[str]:
    """The fake provider server, in its own process so it does not share the GIL; yields its URL."""
    server = subprocess.Popen([sys.executable, str(HERE / "server.py")], stdout=subprocess.PIPE, text=True, cwd=HERE)
    try:
        assert server.stdout is not None
        yield f"http://127.0.0.1:{server.stdout.readline().strip()}"
    finally:
        server.terminate()
        server.wait()


def _timed(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


async def _timed_async(fn: Callable[[], Awaitable[object]], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await fn()
    return (time.perf_counter() - start) / n


def bench_sync(
    url: str, case: tuple[str, str, str, str, dict[str, Any], dict[str, str]], rounds: int, n: int
) -> tuple[float, float]:
    provider, model_id, suffix, path, body, headers = case
    raw = httpx.Client(headers=headers)
    client = llm.client(provider, base_url=url + suffix, api_key="k")

    def floor() -> object:
        payload = {**body}
        return raw.post(url + path, json=payload).json()

    @llm.call(model_id, client=client)
    def recommend(genre: str) -> str:
        return f"Recommend a {genre} book"

    def ours() -> object:
        return recommend("fantasy")

    for fn in (floor, ours):
        _timed(fn, 50)  # warm connections, caches and the provider import
    floors: list[float] = []
    mine: list[float] = []
    for _ in range(rounds):
        floors.append(_timed(floor, n))
        mine.append(_timed(ours, n))
    raw.close()
    client.close()
    return statistics.median(floors), statistics.median(mine)


def bench_async(
    url: str, case: tuple[str, str, str, str, dict[str, Any], dict[str, str]], rounds: int, n: int
) -> tuple[float, float]:
    provider, model_id, suffix, path, body, headers = case

    async def main() -> tuple[float, float]:
        raw = httpx.AsyncClient(headers=headers)
        client = llm.client(provider, base_url=url + suffix, api_key="k")

        async def floor() -> object:
            payload = {**body}
            return (await raw.post(url + path, json=payload)).json()

        @llm.call(model_id, client=client)
        async def recommend(genre: str) -> str:
            return f"Recommend a {genre} book"

        async def ours() -> object:
            return await recommend("fantasy")

        for fn in (floor, ours):
            await _timed_async(fn, 50)
        floors: list[float] = []
        mine: list[float] = []
        for _ in range(rounds):
            floors.append(await _timed_async(floor, n))
            mine.append(await _timed_async(ours, n))
        await raw.aclose()
        await client.aclose()
        return statistics.median(floors), statistics.median(mine)

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--n", type=int, default=200, help="calls per round")
    parser.add_argument("--provider", action="append", help="only these prefixes")
    args = parser.parse_args()

    with local_server() as url:
        print(f"call overhead vs raw httpx (same local server, {args.rounds} alternating rounds of {args.n})")
        print(f"{'provider':<20} {'mode':<6} {'floor µs':>9} {'ours µs':>9} {'ratio':>7}")
        for case in CASES:
            if args.provider and case[0] not in args.provider:
                continue
            for mode, bench in (("sync", bench_sync), ("async", bench_async)):
                floor, ours = bench(url, case, args.rounds, args.n)
                print(f"{case[0]:<20} {mode:<6} {floor * 1e6:>9.1f} {ours * 1e6:>9.1f} {ours / floor:>6.3f}x")


if __name__ == "__main__":
    main()
