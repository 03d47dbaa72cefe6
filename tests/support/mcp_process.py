"""The prebuilt servers' installed console scripts, run as an MCP client runs them: over stdio and streamable HTTP.

```python
async with Client(stdio("mirascope-mcp-filesystem", "--root", str(root))) as client: ...

with http("mirascope-mcp-filesystem", "--root", str(root)) as url:   # http://127.0.0.1:<port>/mcp
    async with Client(url) as client: ...
```
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mcp import StdioServerParameters

BIN = Path(sys.executable).parent
"""The virtual environment's scripts, where `uv sync --all-packages` installs each server's."""


def script(name: str) -> str:
    """The installed console script `name`, which must exist."""
    path = BIN / name
    assert path.is_file(), f"{path} is not installed: run `uv sync --all-packages --all-extras`"
    return str(path)


def stdio(name: str, *args: str) -> StdioServerParameters:
    """Parameters that make `mcp.Client` start console script `name` with `args` and speak stdio to it."""
    return StdioServerParameters(command=script(name), args=list(args))


@contextmanager
def http(name: str, *args: str) -> Iterator[str]:
    """Run console script `name` with `args` over streamable HTTP on a free port of 127.0.0.1; yields its URL.

    The port is the one the server reports binding (it is started with `--port 0`), so no other
    process can take it in between; the process is stopped when the block ends.
    """
    process = subprocess.Popen(
        [script(name), *args, "--transport", "http", "--host", "127.0.0.1", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen: list[str] = []
    url: str | None = None
    for line in process.stderr:  # ends when the process exits, so a failed start cannot hang here
        seen.append(line)
        found = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
        if found:
            url = found.group(1) + "/mcp"
            break
    # Keep draining stderr so a chatty server never blocks on a full pipe.
    drain = threading.Thread(target=seen.extend, args=(process.stderr,), daemon=True)
    drain.start()
    try:
        assert url is not None, "the server did not start:\n" + "".join(seen)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        drain.join(30)
        stdout = process.stdout.read() if process.stdout else ""
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    # Logs go to stderr: stdout carries nothing (with stdio it is the protocol).
    assert stdout == "", stdout
