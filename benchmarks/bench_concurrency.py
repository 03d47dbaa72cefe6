"""Throughput of 500 concurrent async calls on one client, against raw httpx with the same limits.

The floor is the least a user could write by hand: one `httpx.AsyncClient` with the same
connection limits, and `asyncio.gather` of 500 POSTs each decoding its JSON reply. Mirascope does
the same through one `llm.client(..., max_connections=N)` and an async `@llm.call`, retries
armed (none fire: the server answers every call). Rounds alternate between the two so machine
noise hits both; each side's best round is kept (the least disturbed), and the ratio is
throughput(ours) / throughput(floor): 1.0 is as fast as raw httpx, the target is 0.9 or more.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from mirascope import llm

sys.path.insert(0, str(Path(__file__).parent))
from bench_call import CASES, local_server


async def _timed_round(call: Callable[[], Awaitable[object]], calls: int) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(call() for _ in range(calls)))
    return time.perf_counter() - start


def bench(
    url: str,
    case: tuple[str, str, str, str, dict[str, Any], dict[str, str]],
    rounds: int,
    calls: int,
    connections: int,
) -> tuple[float, float]:
    provider, model_id, suffix, path, body, headers = case

    async def main() -> tuple[float, float]:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        raw = httpx.AsyncClient(headers=headers, limits=limits, timeout=httpx.Timeout(600, connect=10))
        client = llm.client(provider, base_url=url + suffix, api_key="k", max_connections=connections)

        async def floor() -> object:
            return (await raw.post(url + path, json={**body})).json()

        @llm.call(model_id, client=client)
        async def recommend(genre: str) -> str:
            return f"Recommend a {genre} book"

        async def ours() -> object:
            return await recommend("fantasy")

        for fn in (floor, ours):
            await _timed_round(fn, calls)  # open the connections, warm caches and the provider import
        floors: list[float] = []
        mine: list[float] = []
        for _ in range(rounds):
            floors.append(await _timed_round(floor, calls))
            mine.append(await _timed_round(ours, calls))
        await raw.aclose()
        await client.aclose()
        return min(floors), min(mine)

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=500, help="concurrent calls per round")
    parser.add_argument("--connections", type=int, default=100, help="max_connections on both clients")
    parser.add_argument("--provider", action="append", help="only these prefixes")
    args = parser.parse_args()

    with local_server() as url:
        print(
            f"{args.calls} concurrent async calls on one client, max_connections={args.connections}, "
            f"vs raw httpx.AsyncClient with the same limits (best of {args.rounds} alternating rounds)"
        )
        print(f"{'provider':<20} {'floor calls/s':>13} {'ours calls/s':>13} {'ratio':>7}")
        for case in CASES:
            if args.provider and case[0] not in args.provider:
                continue
            floor, ours = bench(url, case, args.rounds, args.calls, args.connections)
            print(f"{case[0]:<20} {args.calls / floor:>13.0f} {args.calls / ours:>13.0f} {floor / ours:>6.3f}x")


if __name__ == "__main__":
    main()
