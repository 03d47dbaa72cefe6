"""What every server shares: its command line, logging to stderr, tool errors and output caps.

A server module needs three things from here:

```python
def build(...) -> MCPServer[Any]: ...          # the server, ready for `mcp.Client(server)`


def main(argv: Sequence[str] | None = None) -> None:
    run(lambda args: build(...), argv, name="mirascope-mcp-x", description="...", add_arguments=_flags)
```

and, inside a tool, `fail("what went wrong and what to do")` to end the call with an MCP error
result (`is_error`), which the model reads, instead of an empty success.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

logger = logging.getLogger("mirascope.mcp.servers")


def fail(message: str) -> NoReturn:
    """End the current tool call with an MCP error result (`is_error=True`) whose text is `message`.

    The SDK turns a `ToolError` into that result and logs it at INFO without a traceback; any
    other exception reaches the client only as `Error executing tool <name>`, so a refusal the
    model should understand goes through here.
    """
    raise ToolError(message)


def parser(
    name: str, description: str, add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.ArgumentParser:
    """The command line every server shares (transport, host, port, log level), plus the server's own flags."""
    result = argparse.ArgumentParser(prog=name, description=description)
    if add_arguments is not None:
        add_arguments(result)
    common = result.add_argument_group("transport")
    common.add_argument(
        "--transport",
        choices=["stdio", "http"],
        default="stdio",
        help="stdio (default) for a client that starts the server, or streamable HTTP",
    )
    common.add_argument("--host", default=DEFAULT_HOST, help=f"HTTP address to bind (default {DEFAULT_HOST})")
    common.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT})")
    common.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default="INFO",
        help="log level; logs always go to stderr (default INFO)",
    )
    return result


def run(
    build: Callable[[argparse.Namespace], MCPServer[Any]],
    argv: Sequence[str] | None = None,
    *,
    name: str,
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """Parse `argv` (default `sys.argv[1:]`), build the server from the parsed flags and serve it until stopped.

    `build` may call `parser.error`-style exits through `SystemExit`; a `ValueError` it raises is
    reported as a usage error (exit status 2) with its message.
    """
    command_line = parser(name, description, add_arguments)
    args = command_line.parse_args(argv)
    configure_logging(args.log_level)
    try:
        server = build(args)
    except ValueError as error:
        command_line.error(str(error))
    serve(server, transport=args.transport, host=args.host, port=args.port, log_level=args.log_level)


def configure_logging(level: str = "INFO") -> None:
    """Send every log record to stderr: with stdio, stdout carries the protocol and nothing else."""
    root = logging.getLogger()
    if not any(isinstance(handler, _StderrHandler) for handler in root.handlers):
        handler = _StderrHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Ours, so that configuring twice (the dispatcher, then the server) adds one handler."""


def serve(
    server: MCPServer[Any],
    *,
    transport: str = "stdio",
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    log_level: str = "INFO",
) -> None:
    """Serve `server` over stdio or streamable HTTP (at `http://<host>:<port>/mcp`) until stopped."""
    if transport == "stdio":
        server.run("stdio")
        return
    import uvicorn

    if host not in _LOOPBACK:
        logger.warning(
            "listening on %s: anyone who can reach this address can call the tools (there is no authentication)",
            host,
        )
    # Built here rather than through `server.run("streamable-http")`, whose uvicorn logging
    # sends access lines to stdout; `log_config=None` leaves uvicorn's records to the root handler.
    app = server.streamable_http_app(host=host)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, log_level=log_level.lower())
    uvicorn.Server(config).run()
