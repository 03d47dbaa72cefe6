"""Real MCP servers, built with the official SDK, for `tests/core/test_mcp.py` and `benchmarks/bench_mcp.py`.

Over stdio, as an MCP client starts them (a fresh interpreter: about a second to start):

    python -m tests.support.mcp_servers

Over HTTP, in this process, on a free port of 127.0.0.1:

    with serving(secrets_server().streamable_http_app()) as url: ...   # url + "/mcp"
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from tests.support.scenarios import SECRETS


def secrets_server() -> MCPServer:
    """The tool of the recorded tool scenarios (`secret_retrieval_tool`), and tools that misbehave."""
    server = MCPServer("secrets", instructions="Ask secret_retrieval_tool for a secret by its password.")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def secret_retrieval_tool(password: str) -> str:
        """A tool that requires a password to retrieve a secret."""
        return SECRETS.get(password, "Invalid password!")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool()
    def exit_now() -> str:
        """End the server's process in the middle of the call."""
        os._exit(3)

    @server.tool()
    async def hang() -> str:
        """Never answer."""
        await anyio.sleep_forever()
        return "never"

    return server


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve an ASGI app (an `MCPServer`'s `streamable_http_app()` or `sse_app()`) on 127.0.0.1.

    Yields its base URL, `http://127.0.0.1:<port>`; the server stops when the block ends.
    """
    import uvicorn

    class Server(uvicorn.Server):
        listening = threading.Event()

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            self.listening.set()  # told when it listens, rather than polled

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not server.listening.wait(30):
            raise RuntimeError("the MCP test server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


if __name__ == "__main__":
    secrets_server().run()
