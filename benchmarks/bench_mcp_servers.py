"""Our MCP servers against the reference servers on the same work, in the same run.

    uv run --no-sync python benchmarks/bench_mcp_servers.py [--calls N] [--seconds S]

For each piece of work (filesystem `read_file` and `list_directory` on a small tree, `fetch` of a
tiny page from an `http.server` on 127.0.0.1, `git_log` on a small real repository) every server
is driven through the SDK's own `mcp.Client` on one open session: the latency is the median of N
calls (or of those done in S seconds, for a slow server), the throughput the number of
back-to-back calls finished in S seconds. Ours runs in memory (where `build` allows) and over
stdio; the references run over stdio:
`npx @modelcontextprotocol/server-filesystem`, `uvx mcp-server-fetch`, `uvx mcp-server-git`
(fetched from npm and PyPI on first use: network). A reference that cannot start is reported with
the reason and skipped. The ratio column is the reference's latency over ours on stdio.

To reach the local page, ours in memory exempts exactly that origin (`FetchPolicy.exempt_origins`);
over stdio both fetch servers get their private-address flag (`--allow-private`,
`--allow-private-ips`). The SDK hands a stdio server only a minimal environment, so the `uvx`
references get ours (its certificate settings, to reach PyPI). The page's robots.txt allows
everything, so robots checks still run.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import anyio
from mcp import Client, StdioServerParameters
from mirascope.mcp.servers import fetch, filesystem, git

FILESYSTEM_REFERENCE = "@modelcontextprotocol/server-filesystem@2026.8.31"
PAGE = b"<html><head><title>Bench</title></head><body><h1>Hello</h1><p>A small page.</p></body></html>"


@dataclass
class Work:
    """One tool call, and the servers that do it (label -> target, tool name, arguments)."""

    name: str
    servers: dict[str, tuple[Any, str, dict[str, Any]]] = field(default_factory=lambda: {})
    skipped: dict[str, str] = field(default_factory=lambda: {})


class _Page(BaseHTTPRequestHandler):
    bodies: ClassVar[dict[str, tuple[str, bytes]]] = {
        "/page": ("text/html; charset=utf-8", PAGE),
        "/robots.txt": ("text/plain", b"User-agent: *\nAllow: /\n"),
    }
    protocol_version = "HTTP/1.1"
    # Headers and body in one segment: two small writes on a kept-alive connection meet the
    # client's delayed ACK (Nagle), which would add ~40 ms to every call and measure nothing of ours.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        media_type, body = self.bodies.get(self.path, ("text/plain", b"not found"))
        self.send_response(200 if self.path in self.bodies else 404)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _reference_runs(command: list[str]) -> str | None:
    """None when `command --help` answers (installing it on first use), else why not."""
    if shutil.which(command[0]) is None:
        return f"`{command[0]}` is not installed"
    try:
        done = subprocess.run(
            [*command, "--help"], capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return f"`{' '.join(command)} --help` did not answer in 180 s"
    if done.returncode != 0:
        return f"`{' '.join(command)}` failed: {(done.stderr or done.stdout).strip()[-200:]}"
    return None


def _make_repository(root: Path) -> None:
    def run_git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    run_git("init", "-q", "-b", "main")
    run_git("config", "user.name", "Bench")
    run_git("config", "user.email", "bench@example.com")
    for index in range(20):
        (root / f"file{index}.txt").write_text(f"line {index}\n")
        run_git("add", f"file{index}.txt")
        run_git("commit", "-q", "-m", f"commit {index}")


async def _measure(
    target: Any, tool: str, arguments: dict[str, Any], calls: int, seconds: float
) -> tuple[float, float]:
    """(median latency in µs, calls per second over `seconds`) on one session.

    The median is over `calls` calls, or over those done in `seconds` if fewer (a slow server)."""
    async with Client(target, read_timeout_seconds=60) as client:
        for _ in range(10):  # warm up
            result = await client.call_tool(tool, arguments)
            if result.is_error:
                raise RuntimeError(" ".join(getattr(block, "text", "") for block in result.content)[:200])
        times: list[float] = []
        latency_deadline = time.perf_counter() + seconds
        while len(times) < calls and time.perf_counter() < latency_deadline:
            start = time.perf_counter()
            result = await client.call_tool(tool, arguments)
            times.append(time.perf_counter() - start)
            assert not result.is_error, result
        done = 0
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            await client.call_tool(tool, arguments)
            done += 1
        rate = done / (time.perf_counter() - start)
    return statistics.median(times) * 1e6, rate


def _works(folder: Path, origin: str) -> list[Work]:
    tree = folder / "tree"
    tree.mkdir()
    (tree / "notes.txt").write_text("first line\nsecond line\n")
    for index in range(20):
        (tree / f"file{index}.txt").write_text("x")
    repository = folder / "repo"
    repository.mkdir()
    _make_repository(repository)

    works: list[Work] = []
    quiet = ["--log-level", "WARNING"]
    fs_ours = StdioServerParameters(command=_script("mirascope-mcp-filesystem"), args=["--root", str(tree), *quiet])
    npx = ["npx", "-y", FILESYSTEM_REFERENCE]
    fs_reference = StdioServerParameters(command="npx", args=[*npx[1:], str(tree)], cwd=tree, env=dict(os.environ))
    # The npm server has no --help (it would start serving); a failure to start is reported by `main`.
    fs_problem = None if shutil.which("npx") else "`npx` is not installed"
    for tool, reference_tool, arguments in [
        ("read_file", "read_text_file", {"path": "notes.txt"}),
        ("list_directory", "list_directory", {"path": "."}),
    ]:
        work = Work(f"filesystem `{tool}`")
        work.servers["ours, in memory"] = (filesystem.build([tree.resolve()]), tool, arguments)
        work.servers["ours, stdio"] = (fs_ours, tool, arguments)
        if fs_problem is None:
            reference_arguments = {"path": str(tree.resolve() / arguments["path"])}
            work.servers["reference, stdio"] = (fs_reference, reference_tool, reference_arguments)
        else:
            work.skipped["reference"] = fs_problem
        works.append(work)

    url = {"url": f"{origin}/page"}
    work = Work("fetch of a local page")
    work.servers["ours, in memory"] = (
        fetch.build(fetch.FetchPolicy(exempt_origins=frozenset({origin}))),
        "fetch",
        url,
    )
    work.servers["ours, stdio"] = (
        StdioServerParameters(command=_script("mirascope-mcp-fetch"), args=["--allow-private", *quiet]),
        "fetch",
        url,
    )
    problem = _reference_runs(["uvx", "mcp-server-fetch"])
    if problem is None:
        reference = StdioServerParameters(
            command="uvx", args=["mcp-server-fetch", "--allow-private-ips"], env=dict(os.environ)
        )
        work.servers["reference, stdio"] = (reference, "fetch", url)
    else:
        work.skipped["reference"] = problem
    works.append(work)

    log = {"max_count": 10}
    work = Work("git `git_log` (10 of 20 commits)")
    work.servers["ours, in memory"] = (git.build(str(repository)), "git_log", log)
    work.servers["ours, stdio"] = (
        StdioServerParameters(command=_script("mirascope-mcp-git"), args=["--repository", str(repository), *quiet]),
        "git_log",
        log,
    )
    problem = _reference_runs(["uvx", "mcp-server-git"])
    if problem is None:
        reference = StdioServerParameters(
            command="uvx", args=["mcp-server-git", "--repository", str(repository)], env=dict(os.environ)
        )
        work.servers["reference, stdio"] = (reference, "git_log", {"repo_path": str(repository), **log})
    else:
        work.skipped["reference"] = problem
    works.append(work)
    return works


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200, help="most calls per latency median (default 200)")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds of back-to-back calls (default 2)")
    options = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # in-memory fetch logs each request otherwise
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    print(
        f"MCP servers: median latency of up to {options.calls} calls, "
        f"throughput over {options.seconds:g} s, one session"
    )
    print()
    print("| work | server | median µs | calls/s | latency vs ours (stdio) |")
    print("| --- | --- | --- | --- | --- |")
    try:
        with tempfile.TemporaryDirectory() as folder:
            for work in _works(Path(folder).resolve(), origin):
                results: dict[str, tuple[float, float]] = {}
                for label, (target, tool, arguments) in work.servers.items():
                    try:
                        results[label] = anyio.run(_measure, target, tool, arguments, options.calls, options.seconds)
                    except Exception as error:  # a reference that starts but fails is reported, not fatal
                        work.skipped[label] = f"{type(error).__name__}: {str(error)[:160]}"
                base = results.get("ours, stdio")
                for label, (median, rate) in results.items():
                    ratio = f"{median / base[0]:.2f}x" if base else "n/a"
                    print(f"| {work.name} | {label} | {median:,.0f} | {rate:,.0f} | {ratio} |")
                for label, why in work.skipped.items():
                    print(f"| {work.name} | {label} | skipped: {why} | | |")
    finally:
        httpd.shutdown()


if __name__ == "__main__":
    main()
