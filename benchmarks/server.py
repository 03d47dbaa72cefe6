"""A fast local fake provider: HTTP/1.1 keep-alive on 127.0.0.1, canned JSON per wire API.

Run in its own process so it does not share the GIL with the client being measured:
`python benchmarks/server.py` prints the port, then serves until killed.
"""

from __future__ import annotations

import asyncio
import sys

from payloads import reply_for

_cache: dict[bytes, bytes] = {}


def _response(path: bytes) -> bytes:
    found = _cache.get(path)
    if found is None:
        body = reply_for(path.decode().split("?", 1)[0])
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        found = _cache[path] = head.encode() + body
    return found


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
            self.buffer = self.buffer[total:]
            self.transport.write(_response(path))


async def main() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Protocol, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
