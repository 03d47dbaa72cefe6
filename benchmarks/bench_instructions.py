"""Streaming overhead as a ratio of interpreter instructions, which machine load does not move.

Wall-clock ratios on a shared machine drift by ±0.1 between runs. This counts the instructions
the CPU executes (valgrind's callgrind) for a 200-chunk stream through `@llm.call(...,
stream=True)` and for the raw-httpx floor reading the same bytes with `iter_lines` and
`json.loads`. Both read from an in-process `httpx.MockTransport`, so only CPU work is counted,
not the network or the server. Each side runs in its own process twice (warm-up only, then
warm-up plus N streams): the difference over N is one stream, with start-up cancelled out.

Needs `valgrind` (Debian: `apt-get install valgrind`). Run: `python benchmarks/bench_instructions.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

# provider prefix → (model id, client base URL, path the payloads module routes on)
CASES = {
    "openai": ("openai:gpt-4o", "http://bench/v1", "/v1/responses"),
    "openai-completions": ("openai-completions:gpt-4o", "http://bench/v1", "/v1/chat/completions"),
    "anthropic": ("anthropic:claude-sonnet-4-0", "http://bench", "/v1/messages"),
    "google": ("google:gemini-2.5-flash", "http://bench", "/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
}


def child(provider: str, side: str, streams: int) -> None:
    """Run `streams` streams of one side (after two warm-up ones), in this process."""
    import httpx
    from mirascope import llm

    sys.path.insert(0, str(HERE))
    from payloads import STREAM_CHUNKS, stream_for

    model_id, base_url, path = CASES[provider]
    body = stream_for(path)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = llm.client(provider, base_url=base_url, api_key="k", http_client=http)

    @llm.call(model_id, client=client, stream=True)
    def recommend(genre: str) -> str:
        return f"Recommend a {genre} book"

    def ours() -> None:
        stream = recommend("fantasy")
        chunks = sum(1 for chunk in stream if chunk.content)
        stream.response  # noqa: B018 - assembling the response is part of the cost
        assert chunks == STREAM_CHUNKS

    loads = json.loads

    def floor() -> None:
        with http.stream("POST", base_url + path, json={"stream": True}) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    data = line[5:].strip()
                    if data != "[DONE]":
                        loads(data)

    run = ours if side == "ours" else floor
    for _ in range(2 + streams):
        run()


def _instructions(provider: str, side: str, streams: int) -> int:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        provider,
        side,
        str(streams),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--provider", action="append", help="only these prefixes")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        provider, side, streams = args.child
        child(provider, side, int(streams))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    print(f"instructions per 200-chunk stream, CPU only (callgrind, {args.streams} streams)")
    print(f"{'provider':<20} {'floor k':>9} {'ours k':>9} {'ratio':>7} {'extra/chunk':>12}")
    for provider in CASES:
        if args.provider and provider not in args.provider:
            continue
        per_stream: dict[str, float] = {}
        for side in ("floor", "ours"):
            base = _instructions(provider, side, 0)
            full = _instructions(provider, side, args.streams)
            per_stream[side] = (full - base) / args.streams
        floor, ours = per_stream["floor"], per_stream["ours"]
        extra = (ours - floor) / 200
        print(f"{provider:<20} {floor / 1e3:>9.0f} {ours / 1e3:>9.0f} {ours / floor:>6.3f}x {extra:>12.0f}")


if __name__ == "__main__":
    main()
