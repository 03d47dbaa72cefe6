"""The prebuilt servers by name, each loaded only when asked for.

Every server module exposes `build(...) -> MCPServer` and `main(argv=None)`; its thin
distribution `mirascope-mcp-<name>` installs a console script of that name pointing at `main`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

SERVERS: dict[str, str] = {
    "filesystem": "mirascope.mcp.servers.filesystem",
    "fetch": "mirascope.mcp.servers.fetch",
    "web-search": "mirascope.mcp.servers.web_search",
    "git": "mirascope.mcp.servers.git",
    "sqlite": "mirascope.mcp.servers.sqlite",
    "time": "mirascope.mcp.servers.time",
}
"""Server name (as in `mirascope-mcp <name>` and `mirascope-mcp-<name>`) to its module."""


def load(name: str) -> ModuleType:
    """The module of server `name`.

    Raises:
        KeyError: `name` is not one of `SERVERS`.
    """
    return importlib.import_module(SERVERS[name])


__all__ = ["SERVERS", "load"]
