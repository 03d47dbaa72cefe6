"""`mirascope-mcp-filesystem` alone, from the built wheels, in a fresh virtual environment without Mirascope."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.types import TextContent

from tests.support import dists

pytestmark = pytest.mark.slow


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    return uv


def test_the_thin_distribution_installs_alone_and_serves_over_stdio(tmp_path: Path) -> None:
    uv = _uv()
    env_dir = tmp_path / "venv"
    subprocess.run([uv, "venv", "--quiet", str(env_dir)], check=True, capture_output=True)
    python = env_dir / "bin" / "python"
    # Offline: third-party wheels come from uv's cache (the workspace's own sync put `mcp` there).
    installed = subprocess.run(
        [uv, "pip", "install", "--offline", "--quiet", "--python", str(python), "--find-links", str(dists.built()),
         f"mirascope-mcp-filesystem=={dists.VERSION}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if installed.returncode != 0:
        pytest.skip(f"the SDK's wheels are not in uv's cache, and the test stays offline: {installed.stderr}")
    listed = subprocess.run(
        [uv, "pip", "list", "--python", str(python), "--format", "freeze"], capture_output=True, text=True, check=True
    ).stdout
    ours = sorted(line.split("==")[0] for line in listed.splitlines() if line.startswith("mirascope"))
    assert ours == ["mirascope-mcp", "mirascope-mcp-filesystem"]
    no_llm = subprocess.run([str(python), "-c", "import mirascope.llm"], capture_output=True, text=True, check=False)
    assert no_llm.returncode != 0
    assert "No module named 'mirascope.llm'" in no_llm.stderr

    root = tmp_path / "root"
    root.mkdir()
    (root / "hello.txt").write_text("hello from a fresh venv\n")
    params = StdioServerParameters(
        command=str(env_dir / "bin" / "mirascope-mcp-filesystem"), args=["--root", str(root)]
    )

    async def go() -> str:
        async with Client(params) as client:
            result = await client.call_tool("read_file", {"path": "hello.txt"})
            assert not result.is_error
            first = result.content[0]
            assert isinstance(first, TextContent)
            return first.text

    assert asyncio.run(go()) == "hello from a fresh venv\n"
