"""The `filesystem` server: read, list, search and inspect files under root directories; write with `--allow-write`.

Every path goes through `_guard.Roots`: resolved to its real path, contained by
`os.path.commonpath`, opened one component at a time without following symlinks, and the opened
descriptor checked again. Walks never follow symlinks (so loops cannot trap them) and stop at a
depth and an entry count; reads stop at a byte cap; writes go to a temporary file in the same
directory and replace the target with one atomic rename. The write tools are not registered at
all without `--allow-write`.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import fnmatch
import itertools
import os
import secrets
import stat
from collections.abc import Generator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

# pydantic, which builds the tools' schemas, takes only this TypedDict before Python 3.12 (the SDK depends on it).
from typing_extensions import TypedDict

from ._common import fail, run
from ._guard import Resolved, Roots

NAME = "mirascope-mcp-filesystem"
MAX_READ_BYTES = 1024 * 1024
"""Default cap on the bytes one `read_file` call returns (and on the files `edit_file` takes)."""
MAX_WRITE_BYTES = 10 * 1024 * 1024
"""Default cap on the bytes one `write_file` or `edit_file` call writes."""
MAX_ENTRIES = 1000
"""Default cap on the entries one listing, tree or search returns."""
MAX_DEPTH = 8
"""Default cap on how deep a tree or search descends."""
_SCAN_FACTOR = 20
"""A search looks at no more than this many times `max_entries` entries in all."""

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW
# What clients (and `llm.mcp.connect(read_only=True)`) read to tell the tools apart; the roots are a closed world.
_READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_ADDS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
_REPLACES = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)


class Edit(TypedDict):
    """One replacement in `edit_file`."""

    old_text: str
    """Text that occurs exactly once in the file."""
    new_text: str
    """What replaces it."""


def build(
    roots: Sequence[str | os.PathLike[str]],
    *,
    allow_write: bool = False,
    max_read_bytes: int = MAX_READ_BYTES,
    max_write_bytes: int = MAX_WRITE_BYTES,
    max_entries: int = MAX_ENTRIES,
    max_depth: int = MAX_DEPTH,
) -> MCPServer[Any]:
    """The filesystem server over `roots`, read-only unless `allow_write`.

    Raises:
        ValueError: a root is not an existing directory, or a cap is not positive.
    """
    if min(max_read_bytes, max_write_bytes, max_entries, max_depth) < 1:
        raise ValueError("every cap (bytes, entries, depth) must be at least 1")
    allowed = Roots(roots)
    depth_cap = max_depth  # the tree tool's own `max_depth` argument shadows the name
    server = MCPServer(
        NAME,
        instructions=(
            "Files under these directories only: "
            + allowed.describe()
            + ". Relative paths are taken from the first one. "
            + ("Writes are allowed." if allow_write else "Read-only: no tool writes.")
        ),
    )

    @server.tool(annotations=_READS)
    def list_allowed_directories() -> list[str]:
        """The directories this server may read (and, if allowed, write); every path must lie under one."""
        return list(allowed.paths)

    @server.tool(annotations=_READS)
    def read_file(path: str, offset: int = 0, length: int | None = None) -> str:
        """Read a UTF-8 text file, `length` bytes from byte `offset` (at most the server's read cap).

        A longer file ends with a note giving the offset to continue from.
        """
        if offset < 0 or (length is not None and length < 1):
            fail("offset must be 0 or more and length 1 or more")
        want = min(length or max_read_bytes, max_read_bytes)
        resolved = allowed.resolve(path)
        with _os_errors(resolved.given), allowed.open_file(resolved) as fd:
            size = os.fstat(fd).st_size
            if offset > size:
                fail(f"offset {offset} is past the end of {path!r}, which has {size} bytes")
            data = _read_at(fd, offset, want)
        if b"\x00" in data:
            fail(f"{path!r} is a binary file ({size} bytes); read_file reads text")
        data = _whole_characters(data) if offset + len(data) < size else data
        text = data.decode("utf-8", errors="replace")
        end = offset + len(data)
        if end < size:
            text += f"\n[truncated: bytes {offset}-{end} of {size} shown; call read_file with offset={end} to read on]"
        return text

    @server.tool(annotations=_READS)
    def list_directory(path: str) -> str:
        """List a directory's entries, one per line, marked [DIR], [FILE], [LINK] (not followed) or [OTHER]."""
        resolved = allowed.resolve(path)
        with _os_errors(resolved.given), _directory(allowed, resolved) as fd:
            entries, more = _entries(fd, max_entries)
        lines = [f"{_kind(entry)} {entry.name}" for entry in entries]
        if more:
            lines.append(f"[truncated: only the first {max_entries} entries are listed]")
        return "\n".join(lines) if lines else f"{path!r} is an empty directory"

    @server.tool(annotations=_READS)
    def directory_tree(path: str, max_depth: int = 3) -> str:
        """A directory's tree as indented lines (directories end in `/`); symlinks are shown, never followed.

        Descends `max_depth` levels (capped by the server) and stops at the server's entry cap.
        """
        if max_depth < 1:
            fail("max_depth must be 1 or more")
        depth = min(max_depth, depth_cap)
        resolved = allowed.resolve(path)
        lines: list[str] = [(resolved.name or resolved.real) + "/"]
        with _os_errors(resolved.given), _directory(allowed, resolved) as fd:
            truncated = _tree(fd, 1, depth, lines, max_entries + 1)
        if truncated:
            lines.append(f"[truncated at {max_entries} entries: list a subdirectory, or ask for less depth]")
        return "\n".join(lines)

    @server.tool(annotations=_READS)
    def search_files(path: str, pattern: str, exclude_patterns: list[str] | None = None) -> str:
        """Paths under a directory whose name (or, if the pattern has a `/`, relative path) matches a glob.

        `*` and `?` as in shell globs; `exclude_patterns` skip matching entries and whole
        subdirectories. Symlinks are never followed; depth and results are capped by the server.
        """
        if not pattern or "\x00" in pattern:
            fail("give a non-empty glob pattern, such as '*.py'")
        excluded = exclude_patterns or []
        resolved = allowed.resolve(path)
        found: list[str] = []
        budget = [max_entries * _SCAN_FACTOR]
        with _os_errors(resolved.given), _directory(allowed, resolved) as fd:
            for relative in _search(fd, (), depth_cap, pattern, excluded, budget):
                found.append(os.path.join(resolved.real, relative))
                if len(found) > max_entries:
                    break
        notes: list[str] = []
        if len(found) > max_entries:
            found = found[:max_entries]
            notes.append(f"[truncated: only the first {max_entries} matches are listed]")
        elif budget[0] <= 0:
            notes.append("[stopped early: too many entries to look through; search a smaller directory]")
        if not found:
            return "\n".join([f"no match for {pattern!r} under {resolved.real}", *notes])
        return "\n".join(found + notes)

    @server.tool(annotations=_READS)
    def get_file_info(path: str) -> dict[str, Any]:
        """A file's or directory's real path, type, size, times (UTC, ISO 8601) and permissions."""
        resolved = allowed.resolve(path)
        with _os_errors(resolved.given):
            if resolved.parts:
                with allowed.open_parent(resolved) as parent:
                    info = os.stat(resolved.name, dir_fd=parent, follow_symlinks=False)
            else:
                with allowed.open_dir(resolved) as fd:
                    info = os.fstat(fd)
        return {
            "path": resolved.real,
            "type": _type_name(info.st_mode),
            "size": info.st_size,
            "modified": _iso(info.st_mtime),
            "accessed": _iso(info.st_atime),
            "changed": _iso(info.st_ctime),
            "permissions": oct(stat.S_IMODE(info.st_mode)),
        }

    if allow_write:
        _add_write_tools(server, allowed, max_read_bytes=max_read_bytes, max_write_bytes=max_write_bytes)
    return server


def _add_write_tools(server: MCPServer[Any], allowed: Roots, *, max_read_bytes: int, max_write_bytes: int) -> None:
    edit_cap = max(max_read_bytes, max_write_bytes)

    @server.tool(annotations=_REPLACES)
    def write_file(path: str, content: str) -> str:
        """Create or replace a UTF-8 text file (its directory must exist); the file is swapped in atomically."""
        data = content.encode("utf-8")
        if len(data) > max_write_bytes:
            fail(f"the content is {len(data)} bytes, over this server's write cap of {max_write_bytes}")
        resolved = allowed.resolve(path, must_exist=False)
        with _os_errors(resolved.given):
            _replace(allowed, resolved, data)
        return f"wrote {len(data)} bytes to {resolved.real}"

    @server.tool(annotations=_REPLACES)
    def edit_file(path: str, edits: list[Edit], dry_run: bool = False) -> str:
        """Replace text in a file, each `old_text` occurring exactly once, in order; returns a unified diff.

        With `dry_run` the diff is returned and the file left as it is.
        """
        if not edits:
            fail("give at least one edit: {old_text, new_text}")
        resolved = allowed.resolve(path)
        with _os_errors(resolved.given), allowed.open_file(resolved) as fd:
            size = os.fstat(fd).st_size
            if size > edit_cap:
                fail(f"{path!r} is {size} bytes, over this server's edit cap of {edit_cap}")
            data = _read_at(fd, 0, size + 1)
        try:
            before = data.decode("utf-8")
        except UnicodeDecodeError:
            fail(f"{path!r} is not UTF-8 text; edit_file edits text")
        after = before
        for index, edit in enumerate(edits):
            old, new = edit["old_text"], edit["new_text"]
            count = after.count(old) if old else 0
            if count != 1:
                found = "is empty" if not old else ("was not found" if count == 0 else f"occurs {count} times")
                fail(f"edit {index}: old_text {found}; give text that occurs exactly once (add surrounding lines)")
            after = after.replace(old, new, 1)
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True), resolved.real, resolved.real
            )
        )
        if not dry_run:
            encoded = after.encode("utf-8")
            if len(encoded) > max_write_bytes:
                fail(f"the edited file would be {len(encoded)} bytes, over this server's write cap")
            with _os_errors(resolved.given):
                _replace(allowed, resolved, encoded)
        return diff or "no change"

    @server.tool(annotations=_ADDS)
    def create_directory(path: str) -> str:
        """Create a directory and any missing parents; succeeds if it already exists."""
        resolved = allowed.resolve(path, must_exist=False)
        with _os_errors(resolved.given):
            fd = os.open(resolved.root, _DIR_FLAGS & ~os.O_NOFOLLOW)
            try:
                for part in resolved.parts:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, dir_fd=fd)
                    try:
                        next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                    except OSError as error:
                        if error.errno in {errno.ENOTDIR, errno.ELOOP}:
                            fail(f"{path!r}: {part!r} exists and is not a directory")
                        raise
                    os.close(fd)
                    fd = next_fd
                allowed.check_opened(fd, resolved)
            finally:
                os.close(fd)
        return f"directory {resolved.real} exists"

    @server.tool(annotations=_REPLACES)
    def move_file(source: str, destination: str) -> str:
        """Move or rename a file or directory; the destination must not exist and its directory must."""
        moved = allowed.resolve(source, follow_last=False)
        target = allowed.resolve(destination, follow_last=False, must_exist=False)
        if not moved.parts:
            fail(f"{source!r} is an allowed directory itself and cannot be moved")
        if os.path.lexists(target.real):
            fail(f"{destination!r} already exists; move_file never overwrites")
        with (
            _os_errors(f"{source!r} -> {destination!r}"),
            allowed.open_parent(moved) as source_dir,
            allowed.open_parent(target) as target_dir,
        ):
            os.rename(moved.name, target.name, src_dir_fd=source_dir, dst_dir_fd=target_dir)
        return f"moved {moved.real} to {target.real}"


def main(argv: Sequence[str] | None = None) -> None:
    """`mirascope-mcp-filesystem --root DIR [--root DIR ...] [--allow-write] [--transport http ...]`."""
    run(
        lambda args: build(
            args.root,
            allow_write=args.allow_write,
            max_read_bytes=args.max_read_bytes,
            max_write_bytes=args.max_write_bytes,
            max_entries=args.max_entries,
            max_depth=args.max_depth,
        ),
        argv,
        name=NAME,
        description=(
            "An MCP server for the files under --root directories: read, list, tree, search and info, "
            "plus write, edit, move and mkdir with --allow-write. Nothing outside the roots is reachable, "
            "through '..', absolute paths or symlinks."
        ),
        add_arguments=_flags,
    )


def _flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        action="append",
        required=True,
        metavar="DIR",
        help="a directory the tools may reach (repeatable); relative paths are taken from the first",
    )
    parser.add_argument(
        "--allow-write",
        action="store_true",
        help="also offer write_file, edit_file, create_directory and move_file (off: they are not even listed)",
    )
    parser.add_argument("--max-read-bytes", type=int, default=MAX_READ_BYTES, help="bytes per read (default 1 MiB)")
    parser.add_argument("--max-write-bytes", type=int, default=MAX_WRITE_BYTES, help="bytes per write (default 10 MiB)")
    parser.add_argument("--max-entries", type=int, default=MAX_ENTRIES, help="entries per listing, tree or search")
    parser.add_argument("--max-depth", type=int, default=MAX_DEPTH, help="how deep a tree or search goes")


@contextlib.contextmanager
def _os_errors(what: str) -> Generator[None]:
    """Turn an operating-system error into an MCP error naming the path, never a bare crash."""
    try:
        yield
    except OSError as error:
        reason = {errno.EACCES: "permission denied", errno.EPERM: "operation not permitted"}.get(
            error.errno or 0, error.strerror or str(error)
        )
        fail(f"{what}: {reason}")


@contextlib.contextmanager
def _directory(allowed: Roots, resolved: Resolved) -> Generator[int]:
    if not os.path.isdir(resolved.real):
        fail(f"{resolved.given!r} is not a directory")
    with allowed.open_dir(resolved) as fd:
        yield fd


def _read_at(fd: int, offset: int, count: int) -> bytes:
    chunks: list[bytes] = []
    while count > 0:
        chunk = os.pread(fd, min(count, 1 << 20), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _whole_characters(data: bytes) -> bytes:
    """`data` without a UTF-8 character cut at its end, so the next read starts on a character."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: the start of the last character
            length = 1 if byte < 0x80 else 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4
            return data if length <= back else data[:-back]
    return data


def _entries(fd: int, limit: int) -> tuple[list[os.DirEntry[str]], bool]:
    """At most `limit` entries of directory `fd`, by name, and whether there were more."""
    with os.scandir(fd) as scan:
        entries = list(itertools.islice(scan, limit + 1))
    entries.sort(key=lambda entry: entry.name)
    return entries[:limit], len(entries) > limit


def _kind(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return "[LINK]"
    if entry.is_dir(follow_symlinks=False):
        return "[DIR]"
    return "[FILE]" if entry.is_file(follow_symlinks=False) else "[OTHER]"


@contextlib.contextmanager
def _subdirectory(fd: int, name: str) -> Generator[int | None]:
    """Directory `name` inside `fd`, never through a symlink; None if it cannot be opened."""
    try:
        child = os.open(name, _DIR_FLAGS, dir_fd=fd)
    except OSError:
        yield None
        return
    try:
        yield child
    finally:
        os.close(child)


def _tree(fd: int, level: int, depth: int, lines: list[str], budget: int) -> bool:
    """Append directory `fd`'s tree to `lines`; True if the entry budget ran out."""
    indent = "  " * level
    entries, more = _entries(fd, budget)
    for entry in entries:
        if len(lines) >= budget:
            return True
        if entry.is_symlink():
            lines.append(f"{indent}{entry.name} (symlink, not followed)")
        elif entry.is_dir(follow_symlinks=False):
            if level >= depth:
                lines.append(f"{indent}{entry.name}/ ...")
                continue
            lines.append(f"{indent}{entry.name}/")
            with _subdirectory(fd, entry.name) as child:
                if child is None:
                    lines.append(f"{indent}  [unreadable]")
                elif _tree(child, level + 1, depth, lines, budget):
                    return True
        else:
            lines.append(f"{indent}{entry.name}")
    return more or len(lines) >= budget


def _search(
    fd: int, prefix: tuple[str, ...], depth: int, pattern: str, excluded: list[str], budget: list[int]
) -> Iterator[str]:
    """Relative paths under directory `fd` matching `pattern`, depth first; `budget[0]` counts entries left."""
    with os.scandir(fd) as scan:
        entries = list(itertools.islice(scan, max(budget[0], 0) + 1))
    entries.sort(key=lambda entry: entry.name)
    for entry in entries:
        budget[0] -= 1
        if budget[0] < 0:
            return
        relative = "/".join((*prefix, entry.name))
        if any(_matches(relative, entry.name, rule) for rule in excluded):
            continue
        if _matches(relative, entry.name, pattern):
            yield relative
        if len(prefix) + 1 < depth and not entry.is_symlink() and entry.is_dir(follow_symlinks=False):
            with _subdirectory(fd, entry.name) as child:
                if child is not None:
                    yield from _search(child, (*prefix, entry.name), depth, pattern, excluded, budget)


def _matches(relative: str, name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(relative if "/" in pattern else name, pattern)


def _replace(allowed: Roots, resolved: Resolved, data: bytes) -> None:
    """Write `data` to a temporary file beside `resolved`, then rename it over `resolved` in one step."""
    with allowed.open_parent(resolved) as parent:
        mode: int | None = None
        try:
            existing = os.stat(resolved.name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            pass
        else:
            if stat.S_ISDIR(existing.st_mode):
                fail(f"{resolved.given!r} is a directory")
            if stat.S_ISREG(existing.st_mode):
                mode = stat.S_IMODE(existing.st_mode)
        temporary = f".{resolved.name}.{secrets.token_hex(6)}.tmp"
        # 0o666 before the umask, as a new file gets from any editor.
        fd = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666, dir_fd=parent
        )
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if mode is not None:
                    os.fchmod(fd, mode)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, resolved.name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=parent)
            raise


def _type_name(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISREG(mode):
        return "file"
    return "symlink" if stat.S_ISLNK(mode) else "other"


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
