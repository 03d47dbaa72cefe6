"""MCP: one tool call through `llm.mcp`, against the SDK's own `Client` calling the same tool, as ratios.

The same server, the same tool (`add`, answered with a structured result), the same run,
alternating rounds:

1. In memory: an `MCPServer` in this process. The floor is `await client.call_tool("add", ...)`
   on an `mcp.Client`; ours is `await tool(a=1, b=2)` on the `llm.Tool` that `llm.mcp.connect`
   made (the call, plus turning the MCP result into the value the model is sent), and the same
   call run by `response.execute_tools()` (binding the model's arguments, the `llm.ToolOutput`).
2. Over stdio: the server in a subprocess (`tests/support/mcp_servers.py`), one for each client.

Targets: at most 1.10x and 50 us added per call in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import mcp
from mcp.server.mcpserver import MCPServer
from mirascope import llm
from mirascope.llm.settings import CallSettings

REPO = Path(__file__).resolve().parents[1]


def memory_server() -> MCPServer:
    server = MCPServer("bench")

    @server.tool()
    async def add(a: int, b: int) -> int:  # async: no worker-thread hop to blur the comparison
        """Add two numbers."""
        return a + b

    return server


async def _per_call(fn: Callable[[], Awaitable[object]], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await fn()
    return (time.perf_counter() - start) / n


async def _compare(
    floor: Callable[[], Awaitable[object]], ours: dict[str, Callable[[], Awaitable[object]]], rounds: int, n: int
) -> tuple[float, dict[str, float]]:
    for fn in (floor, *ours.values()):
        await _per_call(fn, max(n // 5, 10))  # warm up
    floors: list[float] = []
    mine: dict[str, list[float]] = {name: [] for name in ours}
    for _ in range(rounds):
        floors.append(await _per_call(floor, n))
        for name, fn in ours.items():
            mine[name].append(await _per_call(fn, n))
    return statistics.median(floors), {name: statistics.median(times) for name, times in mine.items()}


def _report(title: str, floor: float, ours: dict[str, float]) -> None:
    print(title)
    print(f"  {'mcp.Client.call_tool':<34} {floor * 1e6:8.1f} us")
    for name, seconds in ours.items():
        added = (seconds - floor) * 1e6
        print(f"  {name:<34} {seconds * 1e6:8.1f} us  {seconds / floor:6.3f}x  {added:+7.1f} us added")


def _response(tool: llm.Tool[..., Any]) -> llm.AsyncCallResponse[str]:
    call = llm.ToolCall(id="c1", name=tool.name, args={"a": 1, "b": 2})
    return llm.AsyncCallResponse(
        messages=(llm.messages.user("add"), llm.Message(role="assistant", content=(call,))),
        model="bench:m",
        finish_reason="tool_call",
        settings=CallSettings.from_arguments(tools=[tool]),
    )


async def bench(target: Callable[[], Any], title: str, rounds: int, n: int) -> None:
    async with mcp.Client(target()) as client, llm.mcp.connect(target()) as server:
        [tool] = [tool for tool in server.tools if tool.name == "add"]
        response = _response(tool)

        async def floor() -> object:
            result = await client.call_tool("add", {"a": 1, "b": 2})
            assert result.structured_content == {"result": 3}
            return result

        async def direct() -> object:
            value = await tool(a=1, b=2)
            assert value == 3
            return value

        async def executed() -> object:
            [output] = await response.execute_tools()
            assert output.result == "3"
            return output

        base, ours = await _compare(
            floor, {"llm.mcp tool(...)": direct, "llm.mcp via execute_tools()": executed}, rounds, n
        )
    _report(title, base, ours)


def _stdio() -> mcp.StdioServerParameters:
    return mcp.StdioServerParameters(command=sys.executable, args=["-m", "tests.support.mcp_servers"], cwd=REPO)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    server = memory_server()  # one server object, two clients: each connection is its own session
    asyncio.run(
        bench(lambda: server, f"MCP tool call in memory ({args.rounds} rounds of {args.n})", args.rounds, args.n)
    )
    asyncio.run(
        bench(_stdio, f"MCP tool call over stdio ({args.rounds} rounds of {args.n // 3})", args.rounds, args.n // 3)
    )


if __name__ == "__main__":
    main()
