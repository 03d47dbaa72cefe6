"""A WebSocket server for bench_realtime.py: serves a recorded realtime stream as fast as it can.

Run as a subprocess; it prints its port, then for each connection reads the client's first
message (the session's configuration) and sends the prepared frames in one burst, then closes
normally. The frames are a recording's received messages: the session's opening replies once,
then its turn(s) repeated, so that a client reads thousands of real messages.

    python benchmarks/realtime_server.py <recording.json> <repeats>
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve


def frames(path: Path, repeats: int) -> list[str | bytes]:
    """The received messages: opening ones once, the rest `repeats` times (binary for Gemini)."""
    recording = json.loads(path.read_text())
    received: list[dict[str, Any]] = [
        step["data"]
        for step in recording["interactions"]
        if step["kind"] == "message" and step["direction"] == "received"
    ]
    opening_types = {"session.created", "session.updated"}
    opening = [m for m in received if m.get("type") in opening_types or "setupComplete" in m]
    turns = [m for m in received if m not in opening]
    binary = "test_google_ws" in str(path)
    encoded = [json.dumps(m) for m in (*opening, *turns * repeats)]
    return [text.encode() if binary else text for text in encoded]


async def main() -> None:
    prepared = frames(Path(sys.argv[1]), int(sys.argv[2]))

    async def handle(websocket: ServerConnection) -> None:
        await websocket.recv()  # the client's configuration; a Gemini client waits for setupComplete
        for frame in prepared:
            await websocket.send(frame)
        await websocket.close()

    async with serve(handle, "127.0.0.1", 0, max_size=None, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
