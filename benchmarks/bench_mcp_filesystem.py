"""The filesystem server's tool-call latency: in memory, over stdio, and the reference server over stdio.

    uv run --no-sync python benchmarks/bench_mcp_filesystem.py [--calls N]

Each row is the median of N calls through the SDK's own `Client` on one open session, on a small
tree (`read_file` of a 24-byte file, `list_directory` of the root). The reference
`@modelcontextprotocol/server-filesystem` runs through `npx` when it is installed (network on
first use). Every call is checked (each path resolved, each component opened without following
symlinks, the opened descriptor checked again), so this is the price of those checks too.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mirascope.mcp.servers import filesystem

REFERENCE = "@modelcontextprotocol/server-filesystem@2026.8.31"
CALLS = {"read_file": {"path": "notes.txt"}, "list_directory": {"path": "."}}


async def _median_us(target: Any, calls: int, names: dict[str, str]) -> dict[str, float]:
    medians: dict[str, float] = {}
    async with Client(target, read_timeout_seconds=30) as client:
        for ours, arguments in CALLS.items():
            tool = names.get(ours, ours)
            for _ in range(20):  # warm up
                await client.call_tool(tool, arguments)
            times: list[float] = []
            for _ in range(calls):
                start = time.perf_counter()
                result = await client.call_tool(tool, arguments)
                times.append(time.perf_counter() - start)
                assert not result.is_error, result
            medians[ours] = statistics.median(times) * 1e6
    return medians


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder).resolve()
        (root / "notes.txt").write_text("first line\nsecond line\n")
        for index in range(20):
            (root / f"file{index}.txt").write_text("x")
        script = str(Path(sys.executable).with_name("mirascope-mcp-filesystem"))
        targets: dict[str, tuple[Any, dict[str, str]]] = {
            "mirascope-mcp-filesystem, in memory": (filesystem.build([root]), {}),
            "mirascope-mcp-filesystem, stdio": (
                StdioServerParameters(command=script, args=["--root", str(root), "--log-level", "WARNING"]),
                {},
            ),
        }
        npx = shutil.which("npx")
        if npx:
            targets[f"{REFERENCE}, stdio"] = (
                StdioServerParameters(command=npx, args=["-y", REFERENCE, str(root)], cwd=root),
                {"read_file": "read_text_file"},
            )
        print(f"| server ({calls} calls, median) | " + " | ".join(f"`{name}` us" for name in CALLS) + " |")
        print("| --- |" + " --- |" * len(CALLS))
        for label, (target, names) in targets.items():
            medians = anyio.run(_median_us, target, calls, names)
            print(f"| {label} | " + " | ".join(f"{medians[name]:.0f}" for name in CALLS) + " |")


if __name__ == "__main__":
    main()
