"""Realtime sessions: reading a recorded stream through `llm.realtime` against raw `websockets`.

A server in another process (`realtime_server.py`) sends a recorded session's messages (its turn
repeated to a few thousand messages) as fast as it can, to each client in turn:

- the floor: a raw `websockets` client reading every frame and `json.loads`-ing it;
- ours: `async with llm.realtime(...)` iterating every event (decoding, audio bytes, transcripts,
  the conversation kept as `llm.Message` values).

Measured as the client's CPU time (the server's work is in its own process and counts for
neither), alternating rounds, median; the ratio is the target (<= 1.15x). Then the time from a
frame carrying audio arriving to its `AudioDelta` reaching the user, against the floor's time
from the frame arriving to its bytes decoded (json + base64), in microseconds.

    python benchmarks/bench_realtime.py [--repeats 60] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mirascope import llm
from mirascope.llm.providers.realtime import RealtimeSetup
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK

REPO = Path(__file__).resolve().parents[1]
RECORDINGS = REPO / "tests" / "fixtures" / "realtime"

CASES = {
    "openai audio turn": ("test_openai_ws/test_audio_in_server_vad_turn.json", "openai", "gpt-realtime", "/v1"),
    "gemini audio turn": (
        "test_google_ws/test_audio_in_server_vad_turn.json",
        "google",
        "gemini-2.5-flash-native-audio-preview-09-2025",
        "/v1beta",
    ),
}


def _server(recording: str, repeats: int) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "realtime_server.py"), str(RECORDINGS / recording), str(repeats)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def _client(provider: str, port: int, root: str) -> llm.Client:
    return llm.client(provider, base_url=f"http://127.0.0.1:{port}{root}", api_key="bench-key")


def _codec(client: llm.Client, model_id: str) -> Any:
    provider = client.provider
    setup = RealtimeSetup(model_id=model_id, model=model_id.partition(":")[2], output="audio")
    return provider.realtime_codec(setup, client)  # pyright: ignore[reportAttributeAccessIssue]


async def raw(client: llm.Client, model_id: str, latencies: list[float] | None = None) -> tuple[int, float]:
    codec = _codec(client, model_id)
    opening = [json.dumps(message) for message in codec.opening()]
    start = time.process_time()
    frames = 0
    # The connection as `llm.realtime` opens it (the same read queue), so that only the reading differs.
    async with connect(codec.url, additional_headers=dict(codec.headers), max_size=None, max_queue=64) as ws:
        for message in opening:
            await ws.send(message)
        try:
            while True:
                frame = await ws.recv()
                arrived = time.perf_counter()
                message = json.loads(frame)
                frames += 1
                if latencies is not None:
                    audio = _audio_of(message)
                    if audio is not None:
                        base64.b64decode(audio)
                        latencies.append(time.perf_counter() - arrived)
        except ConnectionClosedOK:
            pass
    return frames, time.process_time() - start


def _audio_of(message: dict[str, Any]) -> str | None:
    if message.get("type") == "response.output_audio.delta":
        return message["delta"]
    parts = message.get("serverContent", {}).get("modelTurn", {}).get("parts", ())
    return next((part["inlineData"]["data"] for part in parts if "inlineData" in part), None)


async def ours(client: llm.Client, model_id: str, latencies: list[float] | None = None) -> tuple[int, float]:
    start = time.process_time()
    events = 0
    async with llm.realtime(model_id, client=client, output="audio") as session:
        arrived = [0.0]
        if latencies is not None:  # time each frame as it leaves the socket's reader
            ws = session._ws  # pyright: ignore[reportPrivateUsage]
            recv = ws.recv

            async def timed_recv() -> Any:
                frame = await recv()
                arrived[0] = time.perf_counter()
                return frame

            ws.recv = timed_recv
        async for event in session:
            events += 1
            if latencies is not None and isinstance(event, llm.realtime.AudioDelta):
                latencies.append(time.perf_counter() - arrived[0])
    return events, time.process_time() - start


async def compare(name: str, repeats: int, rounds: int) -> None:
    recording, provider, model, root = CASES[name]
    model_id = f"{provider}:{model}"
    process, port = _server(recording, repeats)
    try:
        client = _client(provider, port, root)
        await raw(client, model_id)  # warm up both
        await ours(client, model_id)
        floor: list[float] = []
        mine: list[float] = []
        frames = events = 0
        for _ in range(rounds):
            frames, seconds = await raw(client, model_id)
            floor.append(seconds / frames)
            events, seconds = await ours(client, model_id)
            mine.append(seconds / frames)
        raw_latency: list[float] = []
        our_latency: list[float] = []
        await raw(client, model_id, raw_latency)
        await ours(client, model_id, our_latency)
    finally:
        process.terminate()
        process.wait()
    floor_us, mine_us = statistics.median(floor) * 1e6, statistics.median(mine) * 1e6
    print(f"{name}: {frames} messages a session ({events} events), client CPU per message:")
    print(f"  raw websockets + json.loads   {floor_us:7.1f} us")
    print(f"  llm.realtime session          {mine_us:7.1f} us   {mine_us / floor_us:.2f}x  (target <= 1.15x)")
    raw_audio, our_audio = statistics.median(raw_latency) * 1e6, statistics.median(our_latency) * 1e6
    print(f"  audio frame -> bytes in hand: raw {raw_audio:.1f} us, llm.realtime AudioDelta {our_audio:.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description="Realtime sessions against raw websockets, as ratios.")
    parser.add_argument("--repeats", type=int, default=60, help="times the recorded turn is sent in a session")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print("Realtime sessions against raw websockets, same server, same run (median of rounds)")
    for name in CASES:
        asyncio.run(compare(name, args.repeats, args.rounds))


if __name__ == "__main__":
    main()
