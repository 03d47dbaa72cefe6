"""A fast local fake provider: HTTP/1.1 keep-alive on 127.0.0.1, canned JSON per wire API.

Run in its own process so it does not share the GIL with the client being measured:
`python benchmarks/server.py` prints the port, then serves until killed.
"""

from __future__ import annotations

import asyncio
import sys

from payloads import TOOL_RESULT_MARKERS, reply_for, stream_for, tool_reply_for

_cache: dict[tuple[bytes, bool, int], bytes] = {}


def _response(path: bytes, stream: bool, tool_step: int) -> bytes:
    found = _cache.get((path, stream, tool_step))
    if found is None:
        route = path.decode().split("?", 1)[0]
        if stream:
            body = stream_for(route)
        elif tool_step == 1:
            body = tool_reply_for(route)
        else:
            body = reply_for(route)
        kind = "text/event-stream" if stream else "application/json"
        if stream and route.endswith("/converse-stream"):
            kind = "application/vnd.amazon.eventstream"  # Bedrock's binary frames
        head = f"HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {len(body)}\r\n\r\n"
        found = _cache[(path, stream, tool_step)] = head.encode() + body
    return found


def _tool_step(body: bytes) -> int:
    """0 without tools; 1 for a request offering tools; 2 for one carrying a tool's result."""
    if b'"tools"' not in body:
        return 0
    return 2 if any(marker in body for marker in TOOL_RESULT_MARKERS) else 1


def _streaming(path: bytes, body: bytes) -> bool:
    return (
        b"streamGenerateContent" in path
        or b"converse-stream" in path
        or b'"stream":true' in body
        or b'"stream": true' in body
    )


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            path = head.split(b" ", 2)[1]
            body = self.buffer[end + 4 : total]
            self.buffer = self.buffer[total:]
            self.transport.write(_response(path, _streaming(path, body), _tool_step(body)))


async def main() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Protocol, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
