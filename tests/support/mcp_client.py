"""The SDK's own client on an in-memory MCP server, one call at a time: what the server tests share."""

from __future__ import annotations

import asyncio
from typing import Any

from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent


def call(server: MCPServer[Any], tool: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
    """`tool` called on `server` through a fresh in-memory session."""

    async def go() -> CallToolResult:
        async with Client(server) as client:
            return await client.call_tool(tool, arguments or {})

    return asyncio.run(go())


def text(result: CallToolResult) -> str:
    """The result's first block, which must be text."""
    first = result.content[0]
    assert isinstance(first, TextContent)
    return first.text


def refused(server: MCPServer[Any], tool: str, arguments: dict[str, Any] | None = None) -> str:
    """The error text of a call that must fail as an MCP error (`is_error`)."""
    result = call(server, tool, arguments)
    assert result.is_error, text(result)
    return text(result)


def tool_names(server: MCPServer[Any]) -> set[str]:
    """The names of the tools `server` lists."""

    async def go() -> set[str]:
        async with Client(server) as client:
            return {tool.name for tool in (await client.list_tools()).tools}

    return asyncio.run(go())
