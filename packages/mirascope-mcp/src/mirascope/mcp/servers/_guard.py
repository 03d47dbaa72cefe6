"""Path containment under a set of root directories, proof against the reference servers' escapes.

The reference filesystem server compared path strings (`/tmp/root2` passed for root `/tmp/root`,
CVE-2025-53110) and followed symlinks out of its roots (CVE-2025-53109). Here:

- a path is resolved with `os.path.realpath` (every symlink and `..` followed), then must sit
  under a root's real path by `os.path.commonpath`, never a string prefix;
- the file is then opened from the root's directory descriptor one component at a time, each
  with `O_NOFOLLOW`, so a component swapped for a symlink after the check fails to open instead
  of leading outside;
- and the opened descriptor's own path (`/proc/self/fd`, `F_GETPATH`) is checked again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import NoReturn

from ._common import fail

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW
# Opening a FIFO for reading would block until a writer comes; the file type is checked after.
_READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK


@dataclass(frozen=True)
class Resolved:
    """A path proven to lie under one of the roots."""

    given: str
    """The path as the client wrote it, for messages."""
    root: str
    """The real path of the root it lies under."""
    parts: tuple[str, ...]
    """Its components below `root` (empty for the root itself), none of them a symlink when checked."""

    @property
    def real(self) -> str:
        """Its real, absolute path."""
        return os.path.join(self.root, *self.parts)

    @property
    def name(self) -> str:
        """Its last component (`""` for a root)."""
        return self.parts[-1] if self.parts else ""


class Roots:
    """The directories a server may touch, each by its real path."""

    def __init__(self, paths: Sequence[str | os.PathLike[str]]) -> None:
        """Check each path is an existing directory and keep its real path.

        Raises:
            ValueError: a path is not an existing directory.
        """
        real: list[str] = []
        for path in paths:
            resolved: str = os.path.realpath(os.fspath(path))
            if not os.path.isdir(resolved):
                raise ValueError(f"root {os.fspath(path)!r} is not an existing directory")
            if resolved not in real:
                real.append(resolved)
        self.paths: tuple[str, ...] = tuple(real)

    def describe(self) -> str:
        """The roots, for messages."""
        return ", ".join(self.paths) if self.paths else "(none: start the server with --root DIR)"

    def resolve(self, path: str, *, follow_last: bool = True, must_exist: bool = True) -> Resolved:
        """`path` (absolute, or relative to the first root) proven to lie under a root.

        With `follow_last=False` the last component is not followed when it is a symlink: the
        entry itself is what the caller acts on (a move). A failure ends the tool call with an MCP
        error naming the path and the roots.
        """
        if not self.paths:
            fail("no root directories are configured: start the server with --root DIR")
        if not path or not path.strip():
            fail("the path is empty: give a path under one of the allowed directories: " + self.describe())
        if "\x00" in path:
            fail("the path contains a NUL byte, which no file name may contain")
        if path.lower().startswith("file:"):
            fail(f"{path!r} is a URI: give a plain path (such as {self.paths[0]}/notes.txt), not a file: URI")
        joined = os.path.join(self.paths[0], path)
        if follow_last:
            real = os.path.realpath(joined)
        else:
            head, tail = os.path.split(joined.rstrip(os.sep) or os.sep)
            if tail in {"", ".", ".."}:
                fail(f"{path!r} names no entry to act on")
            real = os.path.join(os.path.realpath(head), tail)
        for root in self.paths:
            if _within(real, root):
                relative = os.path.relpath(real, root)
                parts = () if relative == "." else tuple(relative.split(os.sep))
                resolved = Resolved(given=path, root=root, parts=parts)
                if must_exist and not os.path.lexists(real):
                    fail(f"{path!r} does not exist")
                return resolved
        fail(f"{path!r} is outside the allowed directories ({self.describe()}); symlinks out of them are not followed")

    @contextlib.contextmanager
    def open_dir(self, resolved: Resolved) -> Generator[int]:
        """A descriptor of directory `resolved`, reached without following any symlink."""
        fd = self._walk(resolved, resolved.parts)
        try:
            self.check_opened(fd, resolved)
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def open_parent(self, resolved: Resolved) -> Generator[int]:
        """A descriptor of the directory holding `resolved`, reached without following any symlink."""
        if not resolved.parts:
            fail(f"{resolved.given!r} is a root directory itself")
        parent = Resolved(given=resolved.given, root=resolved.root, parts=resolved.parts[:-1])
        with self.open_dir(parent) as fd:
            yield fd

    @contextlib.contextmanager
    def open_file(self, resolved: Resolved) -> Generator[int]:
        """A read descriptor of regular file `resolved`, opened and then checked to lie under its root."""
        with self.open_parent(resolved) as parent:
            try:
                fd = os.open(resolved.name, _READ_FLAGS, dir_fd=parent)
            except OSError as error:
                _refuse(resolved, error)
        try:
            self.check_opened(fd, resolved)
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                fail(f"{resolved.given!r} is a directory: list it with list_directory")
            if not stat.S_ISREG(mode):
                fail(f"{resolved.given!r} is not a regular file (a device, socket or pipe)")
            os.set_blocking(fd, True)
            yield fd
        finally:
            os.close(fd)

    def check_opened(self, fd: int, resolved: Resolved) -> None:
        """Refuse descriptor `fd` unless the file it refers to lies under `resolved`'s root.

        This catches a path swapped between the check and the open, whatever the swap was.
        """
        actual = opened_path(fd)
        if actual is None:
            # No way to ask the kernel: the file opened must be the one the path names now.
            opened, named = os.fstat(fd), os.stat(resolved.real, follow_symlinks=False)
            if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
                fail(f"{resolved.given!r} changed while it was being opened; try again")
            return
        if not _within(actual, resolved.root):
            fail(f"{resolved.given!r} led outside the allowed directories when opened (a symlink swapped in)")

    def _walk(self, resolved: Resolved, parts: Sequence[str]) -> int:
        fd = os.open(resolved.root, _DIR_FLAGS & ~os.O_NOFOLLOW)
        try:
            for part in parts:
                try:
                    next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as error:
                    _refuse(resolved, error)
                os.close(fd)
                fd = next_fd
        except BaseException:
            os.close(fd)
            raise
        return fd


def opened_path(fd: int) -> str | None:
    """The path the kernel has for open descriptor `fd`, where it will say."""
    if sys.platform == "darwin":
        import fcntl

        raw: bytes = fcntl.fcntl(fd, fcntl.F_GETPATH, b"\0" * 1024)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]
        return os.fsdecode(raw.split(b"\0", 1)[0])  # pyright: ignore[reportUnknownArgumentType]
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def _within(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([os.path.normcase(path), os.path.normcase(root)]) == os.path.normcase(root)
    except ValueError:  # different drives, or one relative
        return False


def _refuse(resolved: Resolved, error: OSError) -> NoReturn:
    # FreeBSD reports a symlink refused by O_NOFOLLOW as EMLINK.
    if error.errno in {errno.ELOOP, errno.ENOTDIR, errno.EMLINK}:
        fail(
            f"{resolved.given!r} goes through a symlink or a non-directory that changed after it was checked; "
            "symlinks out of the allowed directories are not followed"
        )
    if error.errno == errno.ENOENT:
        fail(f"{resolved.given!r} does not exist")
    if error.errno in {errno.EACCES, errno.EPERM}:
        fail(f"{resolved.given!r}: permission denied")
    fail(f"{resolved.given!r}: {error.strerror or error}")
