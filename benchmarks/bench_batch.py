"""Batches: a 10,000-call job through `llm.batch`, and concurrent mode's throughput, against raw httpx.

1. Provider mode, against a local server speaking OpenAI's Files and Batches APIs
   (`tests/support/openai_batch_server.py`, which finishes a batch at once): building the
   10,000 lines, uploading them, creating the batch, waiting, downloading the output file and
   reading every result. The floor does the same by hand: `json.dumps` of hand-written bodies,
   one multipart upload with httpx, the create and poll requests, then `json.loads` of each
   output line and the text it holds. Ours goes through `llm.batch.submit(...).wait().results()`:
   each line prepared by the provider as a single call would be, the job saved for resuming, the
   results kept on disk and decoded into `llm.CallResponse`s. Reported as a ratio of wall time.
2. Concurrent mode (`mode="concurrent"`), against the benchmarks' canned server in its own
   process: 1,000 calls at most 16 at a time, against raw `httpx.AsyncClient` posting the same
   bodies under an `asyncio.Semaphore(16)`; calls a second, as a ratio (target >= 0.9x).

    python benchmarks/bench_batch.py [--lines 10000] [--calls 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_call import local_server
from mirascope import llm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test support server: `tests.support.openai_batch_server`

MODEL = "gpt-4o-mini"
CONCURRENCY = 16


def _prompts(n: int) -> list[str]:
    return [f"Recommend a book about topic {i}" for i in range(n)]


def provider_floor(url: str, n: int) -> float:
    """Build, upload, create, poll, download and read a job by hand; seconds."""
    start = time.perf_counter()
    lines = [
        json.dumps(
            {
                "custom_id": f"r{i:06d}",
                "method": "POST",
                "url": "/v1/responses",
                "body": {"model": MODEL, "input": [{"role": "user", "content": prompt}]},
            }
        )
        for i, prompt in enumerate(_prompts(n))
    ]
    content = ("\n".join(lines) + "\n").encode()
    headers = {"authorization": "Bearer k"}
    with httpx.Client(base_url=url, headers=headers) as http:
        uploaded = http.post("/v1/files", data={"purpose": "batch"}, files={"file": ("batch.jsonl", content)}).json()
        body = {"input_file_id": uploaded["id"], "endpoint": "/v1/responses", "completion_window": "24h"}
        batch = http.post("/v1/batches", json=body).json()
        while batch["status"] not in ("completed", "failed", "expired", "cancelled"):
            batch = http.get(f"/v1/batches/{batch['id']}").json()
        texts: dict[str, str] = {}
        with http.stream("GET", f"/v1/files/{batch['output_file_id']}/content") as reply:
            for line in reply.iter_lines():
                if line:
                    result = json.loads(line)
                    output = result["response"]["body"]["output"]
                    texts[result["custom_id"]] = output[-1]["content"][0]["text"]
    assert len(texts) == n
    return time.perf_counter() - start


def provider_ours(url: str, n: int) -> float:
    start = time.perf_counter()
    client = llm.client("openai", base_url=f"{url}/v1", api_key="k")
    with tempfile.TemporaryDirectory() as jobs:
        job = llm.batch.submit(llm.model(f"openai:{MODEL}", client=client), _prompts(n), directory=jobs)
        job.wait(progress=False, poll_interval=0.001)
        results = job.results()
    failed = [r for r in results if isinstance(r, llm.Error)]
    if len(results) != n or failed:
        raise SystemExit(f"bench_batch: {len(results)} results for {n} lines, {len(failed)} failed")
    return time.perf_counter() - start


async def _concurrent_floor(url: str, n: int) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)
    body = {"model": MODEL, "input": [{"role": "user", "content": "Recommend a fantasy book"}]}
    async with httpx.AsyncClient(base_url=url, headers={"authorization": "Bearer k"}) as http:

        async def one() -> str:
            async with gate:
                reply = await http.post("/v1/responses", json=body)
                return json.loads(reply.content)["output"][-1]["content"][0]["text"]

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - start


def concurrent_floor(url: str, n: int) -> float:
    return asyncio.run(_concurrent_floor(url, n))


def concurrent_ours(url: str, n: int) -> float:
    client = llm.client("openai", base_url=f"{url}/v1", api_key="k")
    model = llm.model(f"openai:{MODEL}", client=client)
    with tempfile.TemporaryDirectory() as jobs:
        start = time.perf_counter()
        job = llm.batch(
            model, ["Recommend a fantasy book"] * n, mode="concurrent", concurrency=CONCURRENCY, directory=jobs
        )
        job.wait(progress=False)
        results = job.results()
        seconds = time.perf_counter() - start
    failed = [r for r in results if isinstance(r, llm.Error)]
    if len(results) != n or failed:
        raise SystemExit(f"bench_batch: {len(results)} results for {n} calls, {len(failed)} failed")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description="llm.batch against raw httpx, as ratios.")
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from tests.support.openai_batch_server import OpenAIBatchServer

    floor: list[float] = []
    ours: list[float] = []
    with OpenAIBatchServer() as server:
        provider_floor(server.url, 100)  # warm up both
        provider_ours(server.url, 100)
        for _ in range(args.rounds):
            floor.append(provider_floor(server.url, args.lines))
            ours.append(provider_ours(server.url, args.lines))
    f, o = statistics.median(floor), statistics.median(ours)
    print(f"Batches against raw httpx (median of {args.rounds} rounds)")
    print(f"  provider mode, {args.lines} lines: build, upload, wait, download, read")
    print(f"    raw httpx + json   {f * 1e3:8.1f} ms")
    print(f"    llm.batch          {o * 1e3:8.1f} ms   {o / f:.2f}x")
    floor, ours = [], []
    with local_server() as url:
        concurrent_floor(url, 50)
        concurrent_ours(url, 50)
        for _ in range(args.rounds):
            floor.append(concurrent_floor(url, args.calls))
            ours.append(concurrent_ours(url, args.calls))
    f, o = statistics.median(floor), statistics.median(ours)
    print(f"  concurrent mode, {args.calls} calls, {CONCURRENCY} at a time")
    print(f"    raw httpx.AsyncClient   {args.calls / f:8.0f} calls/s")
    print(f"    llm.batch concurrent    {args.calls / o:8.0f} calls/s   {f / o:.2f}x throughput (target >= 0.9x)")


if __name__ == "__main__":
    main()
