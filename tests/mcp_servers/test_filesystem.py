"""The filesystem server through the SDK's own client: every tool in memory, over stdio and HTTP, and its exploits."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from mirascope.mcp.servers import _guard, filesystem

from tests.support.fs_exploits import SECRET, attempts, make_tree, snapshot
from tests.support.mcp_client import call, tool_names
from tests.support.mcp_process import http, script, stdio

READ_TOOLS = {
    "list_allowed_directories",
    "read_file",
    "list_directory",
    "directory_tree",
    "search_files",
    "get_file_info",
}
WRITE_TOOLS = {"write_file", "edit_file", "create_directory", "move_file"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_tree(tmp_path)


def text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def ok(server: MCPServer[Any], tool: str, arguments: dict[str, Any] | None = None) -> str:
    result = call(server, tool, arguments)
    assert not result.is_error, text(result)
    return text(result)


def refused(server: MCPServer[Any], tool: str, arguments: dict[str, Any] | None = None) -> str:
    result = call(server, tool, arguments)
    assert result.is_error, text(result)
    return text(result)


# Every tool


def test_read_only_server_lists_only_the_read_tools(root: Path) -> None:
    assert tool_names(filesystem.build([root])) == READ_TOOLS


def test_allow_write_adds_the_write_tools(root: Path) -> None:
    assert tool_names(filesystem.build([root], allow_write=True)) == READ_TOOLS | WRITE_TOOLS


def test_the_read_tools_and_only_they_are_annotated_read_only(root: Path) -> None:
    async def go() -> dict[str, bool | None]:
        async with Client(filesystem.build([root], allow_write=True)) as client:
            tools = (await client.list_tools()).tools
            return {tool.name: tool.annotations.read_only_hint if tool.annotations else None for tool in tools}

    hints = asyncio.run(go())
    assert {name for name, read_only in hints.items() if read_only} == READ_TOOLS
    assert all(hints[name] is False for name in WRITE_TOOLS)


def test_list_allowed_directories_gives_each_root_by_its_real_path(root: Path, tmp_path: Path) -> None:
    (tmp_path / "alias").symlink_to(root)
    result = call(filesystem.build([tmp_path / "alias", tmp_path / "outside"]), "list_allowed_directories")
    assert result.structured_content == {"result": [str(root), str(tmp_path / "outside")]}


def test_read_file_reads_relative_absolute_and_inner_symlink_paths(root: Path) -> None:
    server = filesystem.build([root])
    assert ok(server, "read_file", {"path": "notes.txt"}) == "first line\nsecond line\n"
    assert ok(server, "read_file", {"path": str(root / "sub" / "code.py")}) == "print('hi')\n"
    assert ok(server, "read_file", {"path": "sub/../notes.txt"}) == "first line\nsecond line\n"
    assert ok(server, "read_file", {"path": "inner_link"}) == "first line\nsecond line\n"


def test_read_file_pages_by_offset_and_length_and_says_where_to_go_on(root: Path) -> None:
    server = filesystem.build([root])
    first = ok(server, "read_file", {"path": "notes.txt", "length": 5})
    assert first.startswith("first\n[truncated: bytes 0-5 of 23 shown; call read_file with offset=5")
    assert ok(server, "read_file", {"path": "notes.txt", "offset": 11}) == "second line\n"
    assert ok(server, "read_file", {"path": "notes.txt", "offset": 23}) == ""
    past_the_end = refused(server, "read_file", {"path": "notes.txt", "offset": 10**30})
    assert past_the_end.endswith(f"offset {10**30} is past the end of 'notes.txt', which has 23 bytes")
    assert "offset must be 0 or more" in refused(server, "read_file", {"path": "notes.txt", "offset": -1})


def test_read_file_never_cuts_a_character_in_two(root: Path) -> None:
    (root / "accents.txt").write_text("aé€😀z", encoding="utf-8")  # 1, 2, 3 and 4 bytes
    server = filesystem.build([root])
    pieces: list[str] = []
    offset = 0
    while True:
        page = ok(server, "read_file", {"path": "accents.txt", "offset": offset, "length": 4})
        body, _, note = page.partition("\n[truncated:")
        pieces.append(body)
        if not note:
            break
        offset = int(note.split("offset=")[1].split(" ")[0])
    assert "".join(pieces) == "aé€😀z"
    assert "\ufffd" not in "".join(pieces)


def test_read_file_refuses_binary_files_and_directories(root: Path) -> None:
    (root / "image.bin").write_bytes(b"\x89PNG\x00\x01")
    server = filesystem.build([root])
    assert "binary file" in refused(server, "read_file", {"path": "image.bin"})
    assert "is a directory" in refused(server, "read_file", {"path": "sub"})


def test_read_file_refuses_a_fifo_without_blocking(root: Path) -> None:
    os.mkfifo(root / "pipe")
    assert "not a regular file" in refused(filesystem.build([root]), "read_file", {"path": "pipe"})


def test_list_directory_marks_each_kind_and_never_follows_links(root: Path) -> None:
    listing = ok(filesystem.build([root]), "list_directory", {"path": "."}).splitlines()
    assert "[FILE] notes.txt" in listing
    assert "[DIR] sub" in listing
    assert "[LINK] link_dir" in listing
    assert "[LINK] link_file" in listing


def test_list_directory_says_an_empty_directory_is_empty(root: Path) -> None:
    (root / "empty").mkdir()
    assert "empty directory" in ok(filesystem.build([root]), "list_directory", {"path": "empty"})


def test_directory_tree_shows_the_tree_and_symlinks_unfollowed(root: Path) -> None:
    tree = ok(filesystem.build([root]), "directory_tree", {"path": "sub"}).splitlines()
    assert tree == ["sub/", "  code.py", "  deep/", "    data.json", "  loop (symlink, not followed)"]


def test_directory_tree_stops_at_the_asked_depth(root: Path) -> None:
    tree = ok(filesystem.build([root]), "directory_tree", {"path": "sub", "max_depth": 1}).splitlines()
    assert tree == ["sub/", "  code.py", "  deep/ ...", "  loop (symlink, not followed)"]


def test_search_files_matches_names_or_relative_paths_and_honours_excludes(root: Path) -> None:
    server = filesystem.build([root])
    assert ok(server, "search_files", {"path": ".", "pattern": "*.py"}) == str(root / "sub" / "code.py")
    assert ok(server, "search_files", {"path": ".", "pattern": "sub/deep/*"}) == str(
        root / "sub" / "deep" / "data.json"
    )
    found = ok(server, "search_files", {"path": ".", "pattern": "*", "exclude_patterns": ["deep", "link*"]})
    assert str(root / "sub" / "deep") not in found
    assert str(root / "sub" / "deep" / "data.json") not in found
    assert str(root / "notes.txt") in found
    assert "no match for '*.rs'" in ok(server, "search_files", {"path": ".", "pattern": "*.rs"})


def test_get_file_info_gives_type_size_times_and_permissions(root: Path) -> None:
    (root / "notes.txt").chmod(0o640)
    result = call(filesystem.build([root]), "get_file_info", {"path": "notes.txt"})
    assert not result.is_error, text(result)
    info = result.structured_content
    assert info is not None
    assert info["path"] == str(root / "notes.txt")
    assert (info["type"], info["size"], info["permissions"]) == ("file", 23, "0o640")
    assert info["modified"].endswith("+00:00")
    assert ok(filesystem.build([root]), "get_file_info", {"path": "."}).count('"directory"') == 1


def test_write_file_creates_and_replaces_atomically_keeping_the_mode(root: Path) -> None:
    server = filesystem.build([root], allow_write=True)
    assert "wrote 5 bytes" in ok(server, "write_file", {"path": "new.txt", "content": "hello"})
    assert (root / "new.txt").read_text() == "hello"
    (root / "notes.txt").chmod(0o600)
    before = (root / "notes.txt").stat().st_ino
    ok(server, "write_file", {"path": "notes.txt", "content": "replaced ✓"})
    assert (root / "notes.txt").read_text() == "replaced ✓"
    assert (root / "notes.txt").stat().st_mode & 0o777 == 0o600
    assert (root / "notes.txt").stat().st_ino != before  # a new file renamed over the old one
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]


def test_write_file_through_an_inner_symlink_writes_its_target(root: Path) -> None:
    ok(filesystem.build([root], allow_write=True), "write_file", {"path": "inner_link", "content": "via link"})
    assert (root / "notes.txt").read_text() == "via link"
    assert (root / "inner_link").is_symlink()


def test_write_file_needs_an_existing_directory_and_respects_the_cap(root: Path) -> None:
    server = filesystem.build([root], allow_write=True, max_write_bytes=10)
    assert "does not exist" in refused(server, "write_file", {"path": "nowhere/new.txt", "content": "x"})
    assert "write cap" in refused(server, "write_file", {"path": "big.txt", "content": "x" * 11})
    assert "is a directory" in refused(server, "write_file", {"path": "sub", "content": "x"})
    assert not (root / "big.txt").exists()


def test_edit_file_replaces_unique_text_and_returns_a_diff(root: Path) -> None:
    server = filesystem.build([root], allow_write=True)
    edits = [{"old_text": "first", "new_text": "1st"}, {"old_text": "second line", "new_text": "2nd line"}]
    preview = ok(server, "edit_file", {"path": "notes.txt", "edits": edits, "dry_run": True})
    assert "-first line\n-second line\n+1st line\n+2nd line" in preview
    assert (root / "notes.txt").read_text() == "first line\nsecond line\n"
    ok(server, "edit_file", {"path": "notes.txt", "edits": edits})
    assert (root / "notes.txt").read_text() == "1st line\n2nd line\n"


def test_edit_file_refuses_text_that_is_missing_or_not_unique(root: Path) -> None:
    server = filesystem.build([root], allow_write=True)
    missing = refused(server, "edit_file", {"path": "notes.txt", "edits": [{"old_text": "zzz", "new_text": ""}]})
    assert "edit 0: old_text was not found" in missing
    twice = refused(server, "edit_file", {"path": "notes.txt", "edits": [{"old_text": "line", "new_text": ""}]})
    assert "occurs 2 times" in twice
    assert (root / "notes.txt").read_text() == "first line\nsecond line\n"


def test_create_directory_makes_parents_and_accepts_an_existing_one(root: Path) -> None:
    server = filesystem.build([root], allow_write=True)
    ok(server, "create_directory", {"path": "a/b/c"})
    assert (root / "a" / "b" / "c").is_dir()
    ok(server, "create_directory", {"path": "a/b/c"})
    assert "not a directory" in refused(server, "create_directory", {"path": "notes.txt/x"})


def test_move_file_renames_and_never_overwrites(root: Path) -> None:
    server = filesystem.build([root], allow_write=True)
    ok(server, "move_file", {"source": "notes.txt", "destination": "sub/moved.txt"})
    assert (root / "sub" / "moved.txt").read_text() == "first line\nsecond line\n"
    assert not (root / "notes.txt").exists()
    assert "already exists" in refused(server, "move_file", {"source": "sub/moved.txt", "destination": "sub/code.py"})
    assert (root / "sub" / "code.py").read_text() == "print('hi')\n"


def test_move_file_moves_a_symlink_itself_not_its_target(root: Path, tmp_path: Path) -> None:
    ok(filesystem.build([root], allow_write=True), "move_file", {"source": "link_file", "destination": "sub/link"})
    assert (root / "sub" / "link").is_symlink()
    assert (tmp_path / "outside" / "secret.txt").read_text() == SECRET


def test_a_missing_path_is_an_error_for_every_tool_never_an_empty_success(root: Path) -> None:
    server = filesystem.build([root], allow_write=True)
    for tool, arguments in [
        ("read_file", {"path": "missing"}),
        ("list_directory", {"path": "missing"}),
        ("directory_tree", {"path": "missing"}),
        ("search_files", {"path": "missing", "pattern": "*"}),
        ("get_file_info", {"path": "missing"}),
        ("edit_file", {"path": "missing", "edits": [{"old_text": "a", "new_text": "b"}]}),
        ("move_file", {"source": "missing", "destination": "elsewhere"}),
    ]:
        message = refused(server, tool, arguments)
        assert message.endswith("'missing' does not exist"), message


def test_a_plain_file_given_as_a_directory_is_an_error(root: Path) -> None:
    server = filesystem.build([root])
    assert "not a directory" in refused(server, "list_directory", {"path": "notes.txt"})
    assert "not a directory" in refused(server, "directory_tree", {"path": "notes.txt"})
    assert "not a directory" in refused(server, "search_files", {"path": "notes.txt", "pattern": "*"})


# Caps


def test_a_huge_file_is_read_only_up_to_the_cap(root: Path) -> None:
    (root / "huge.txt").write_bytes(b"line\n" * 2_000_000)  # 10 MB of text
    page = ok(filesystem.build([root], max_read_bytes=1000), "read_file", {"path": "huge.txt"})
    body, _, note = page.partition("\n[truncated:")
    assert len(body) == 1000
    assert "of 10000000 shown; call read_file with offset=1000" in note
    capped = ok(filesystem.build([root], max_read_bytes=1000), "read_file", {"path": "huge.txt", "length": 10**9})
    assert len(capped.partition("\n[truncated:")[0]) == 1000


def test_listing_tree_and_search_stop_at_the_entry_cap(root: Path) -> None:
    many = root / "many"
    many.mkdir()
    for index in range(50):
        (many / f"f{index:03}.txt").write_text("")
    server = filesystem.build([root], max_entries=10)
    listing = ok(server, "list_directory", {"path": "many"}).splitlines()
    assert len(listing) == 11
    assert listing[-1].startswith("[truncated: only the first 10 entries")
    tree = ok(server, "directory_tree", {"path": "many"}).splitlines()
    assert len(tree) == 12  # the directory, 10 entries, the note
    assert tree[-1].startswith("[truncated at 10 entries")
    found = ok(server, "search_files", {"path": "many", "pattern": "*.txt"}).splitlines()
    assert len(found) == 11
    assert found[-1].startswith("[truncated: only the first 10 matches")


def test_tree_and_search_depth_are_capped_by_the_server(root: Path) -> None:
    deep = root / "d1" / "d2" / "d3" / "d4" / "d5"
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_text("")
    server = filesystem.build([root], max_depth=3)
    tree = ok(server, "directory_tree", {"path": "d1", "max_depth": 50})
    assert "d4/ ..." in tree
    assert "d5" not in tree
    assert "no match" in ok(server, "search_files", {"path": "d1", "pattern": "bottom.txt"})
    assert "bottom.txt" in ok(filesystem.build([root]), "search_files", {"path": "d1", "pattern": "bottom.txt"})


def test_symlink_loops_never_trap_tree_or_search(root: Path) -> None:
    (root / "sub" / "deep" / "up").symlink_to("../..")
    (root / "self").symlink_to("self")
    server = filesystem.build([root], max_depth=50, max_entries=10_000)
    tree = ok(server, "directory_tree", {"path": ".", "max_depth": 50})
    assert tree.count("code.py") == 1
    assert "up (symlink, not followed)" in tree
    assert ok(server, "search_files", {"path": ".", "pattern": "code.py"}) == str(root / "sub" / "code.py")
    assert "symlink" in refused(server, "read_file", {"path": "self"})


def test_search_never_finds_files_through_a_symlink_out(root: Path) -> None:
    found = ok(filesystem.build([root]), "search_files", {"path": ".", "pattern": "*secret*"})
    assert found.startswith("no match")


# Exploits: each refused with an MCP error, nothing outside the root read or written.

ATTEMPTS = sorted(attempts(Path("/r"), Path("/t")))


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_exploit_is_refused_with_a_clear_error_and_nothing_outside_is_touched(
    root: Path, tmp_path: Path, attempt: str
) -> None:
    tool, arguments, allow_write = attempts(root, tmp_path)[attempt]
    before_outside = snapshot(tmp_path)
    before_root = snapshot(root)
    message = refused(filesystem.build([root], allow_write=allow_write), tool, arguments)
    assert SECRET not in message
    assert "root:" not in message  # not /etc/passwd's first line
    reason = message.removeprefix(f"Error executing tool {tool}: ")
    assert len(reason) > 15, message
    assert snapshot(tmp_path) == before_outside  # nothing written, moved or created anywhere
    assert snapshot(root) == before_root


def test_the_exploit_suite_has_at_least_25_attempts() -> None:
    assert len(ATTEMPTS) >= 25


def test_refusals_say_why_and_what_is_allowed(root: Path, tmp_path: Path) -> None:
    server = filesystem.build([root], allow_write=True)
    out = refused(server, "read_file", {"path": str(tmp_path / "root2" / "secret.txt")})
    assert "is outside the allowed directories" in out
    assert str(root) in out
    assert "NUL byte" in refused(server, "read_file", {"path": "a\x00"})
    assert "not a file: URI" in refused(server, "read_file", {"path": f"file://{root}/notes.txt"})
    assert "Unknown tool" in refused(filesystem.build([root]), "write_file", {"path": "x", "content": ""})


# Races: a path swapped for a symlink between the check and the open


def _swap_before_open(monkeypatch: pytest.MonkeyPatch, when: Callable[[Any], bool], swap: Callable[[], None]) -> None:
    """Run `swap` once, just before the first `os.open` whose path `when` accepts: the attacker's moment."""
    real_open = os.open
    done: list[bool] = []

    def racing_open(path: Any, *args: Any, **kwargs: Any) -> int:
        if not done and when(path):
            done.append(True)
            swap()
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", racing_open)


def test_a_file_swapped_for_a_symlink_out_after_the_check_is_refused(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = filesystem.build([root])

    def swap() -> None:
        (root / "notes.txt").unlink()
        (root / "notes.txt").symlink_to(tmp_path / "outside" / "secret.txt")

    _swap_before_open(monkeypatch, lambda path: path == "notes.txt", swap)
    message = refused(server, "read_file", {"path": "notes.txt"})
    assert "symlink" in message
    assert SECRET not in message


def test_a_directory_swapped_for_a_symlink_out_after_the_check_is_refused(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "outside" / "code.py").write_text(SECRET)
    server = filesystem.build([root], allow_write=True)

    def swap() -> None:
        (root / "sub").rename(root / "sub_moved")
        (root / "sub").symlink_to(tmp_path / "outside")

    _swap_before_open(monkeypatch, lambda path: path == "sub", swap)
    message = refused(server, "read_file", {"path": "sub/code.py"})
    assert SECRET not in message
    assert "symlink" in message


def test_a_root_swapped_for_a_symlink_out_is_caught_by_the_check_after_open(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The root itself is opened by name, so only the check of the opened descriptor can see this.
    server = filesystem.build([root])

    def swap() -> None:
        root.rename(tmp_path / "root_moved")
        root.symlink_to(tmp_path / "outside")

    _swap_before_open(monkeypatch, lambda path: path == str(root), swap)
    message = refused(server, "read_file", {"path": "notes.txt"})
    assert "led outside the allowed directories when opened" in message
    assert SECRET not in message


def test_a_write_racing_a_directory_swap_never_lands_outside(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = filesystem.build([root], allow_write=True)

    def swap() -> None:
        (root / "sub").rename(root / "sub_moved")
        (root / "sub").symlink_to(tmp_path / "outside")

    _swap_before_open(monkeypatch, lambda path: path == "sub", swap)
    refused(server, "write_file", {"path": "sub/new.txt", "content": "x"})
    assert not (tmp_path / "outside" / "new.txt").exists()


def test_the_check_after_open_refuses_a_descriptor_outside_the_root(root: Path, tmp_path: Path) -> None:
    roots = _guard.Roots([root])
    resolved = roots.resolve("notes.txt")
    fd = os.open(tmp_path / "outside" / "secret.txt", os.O_RDONLY)
    try:
        with pytest.raises(ToolError, match="led outside"):
            roots.check_opened(fd, resolved)
    finally:
        os.close(fd)


def test_a_root_that_is_not_a_directory_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an existing directory"):
        filesystem.build([tmp_path / "missing"])


# The installed console script, over stdio and streamable HTTP


async def _exercise(client: Client, root: Path) -> None:
    names = {tool.name for tool in (await client.list_tools()).tools}
    assert names == READ_TOOLS | WRITE_TOOLS
    result = await client.call_tool("read_file", {"path": "notes.txt"})
    assert not result.is_error
    assert text(result) == "first line\nsecond line\n"
    result = await client.call_tool("write_file", {"path": "sub/new.txt", "content": "over the wire"})
    assert not result.is_error, text(result)
    assert (root / "sub" / "new.txt").read_text() == "over the wire"
    for tool, arguments in [
        ("read_file", {"path": "link_file"}),
        ("read_file", {"path": "../root2/secret.txt"}),
        ("write_file", {"path": "link_dir/new.txt", "content": "x"}),
    ]:
        result = await client.call_tool(tool, arguments)
        assert result.is_error
        assert SECRET not in text(result)


def test_the_console_script_serves_every_tool_over_stdio(root: Path, tmp_path: Path) -> None:
    async def go() -> None:
        params = stdio("mirascope-mcp-filesystem", "--root", str(root), "--allow-write", "--log-level", "WARNING")
        async with Client(params) as client:
            await _exercise(client, root)
            listed = {tool.name for tool in (await client.list_tools()).tools}
            for name in sorted(listed - {"read_file", "write_file"}):
                arguments: dict[str, Any] = {
                    "list_allowed_directories": {},
                    "list_directory": {"path": "."},
                    "directory_tree": {"path": "."},
                    "search_files": {"path": ".", "pattern": "*.py"},
                    "get_file_info": {"path": "notes.txt"},
                    "edit_file": {"path": "notes.txt", "edits": [{"old_text": "first", "new_text": "1st"}]},
                    "create_directory": {"path": "made"},
                    "move_file": {"source": "sub/new.txt", "destination": "made/new.txt"},
                }[name]
                result = await client.call_tool(name, arguments)
                assert not result.is_error, (name, text(result))

    asyncio.run(go())
    assert (root / "made" / "new.txt").read_text() == "over the wire"
    assert (root / "notes.txt").read_text().startswith("1st line")
    assert (tmp_path / "outside" / "secret.txt").read_text() == SECRET


def test_the_console_script_serves_over_streamable_http(root: Path) -> None:
    with http("mirascope-mcp-filesystem", "--root", str(root), "--allow-write") as url:

        async def go() -> None:
            async with Client(url) as client:
                await _exercise(client, root)

        asyncio.run(go())
        # A web page the user visits cannot reach it through a DNS name rebound to 127.0.0.1.
        rebound = httpx.post(
            url,
            headers={"host": "attacker.example", "content-type": "application/json", "accept": "application/json"},
            content=b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}',
        )
        assert rebound.status_code in {403, 421}, rebound.text


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)


def test_the_scripts_answer_help() -> None:
    for command in (
        [script("mirascope-mcp-filesystem"), "--help"],
        [script("mirascope-mcp"), "filesystem", "--help"],
    ):
        result = _run(*command)
        assert result.returncode == 0, result.stderr
        for flag in ("--root", "--allow-write", "--transport", "--host", "--port"):
            assert flag in result.stdout
    listing = _run(script("mirascope-mcp"), "--help")
    assert listing.returncode == 0
    assert "filesystem" in listing.stdout


def test_the_script_refuses_to_start_without_a_usable_root(tmp_path: Path) -> None:
    missing = _run(script("mirascope-mcp-filesystem"))
    assert missing.returncode == 2
    assert "--root" in missing.stderr
    bad = _run(script("mirascope-mcp-filesystem"), "--root", str(tmp_path / "nope"))
    assert bad.returncode == 2
    assert "not an existing directory" in bad.stderr
    assert bad.stdout == ""


def test_the_dispatcher_refuses_an_unknown_server_and_no_server() -> None:
    result = _run(script("mirascope-mcp"), "nope")
    assert result.returncode == 2
    assert "unknown server 'nope'" in result.stderr
    bare = _run(script("mirascope-mcp"))
    assert bare.returncode == 2
    assert "usage: mirascope-mcp <server>" in bare.stderr


def test_the_servers_never_import_mirascope_llm() -> None:
    code = (
        "import sys, mirascope.mcp.servers.filesystem, mirascope.mcp.servers._cli;"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('mirascope.'))))"
    )
    result = _run(sys.executable, "-c", "import json;" + code)
    assert result.returncode == 0, result.stderr
    assert not [name for name in json.loads(result.stdout) if name.startswith("mirascope.llm")]
