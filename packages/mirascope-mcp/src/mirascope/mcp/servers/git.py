"""The `git` server: one repository, read-only unless `--allow-write`, hardened against argument injection.

The reference server's record (CVE-2025-68143/68144/68145, CVE-2026-27735) is what this module is
built against:

- `git_init` and clone are absent: the server only ever touches the `--repository` it was started
  with, and every call re-checks that root (and a `repo_path` argument, if given, must resolve to
  it or inside it).
- No value from the model reaches git as an option: anything starting with `-` is refused, paths
  come after `--` under `--literal-pathspecs`, and a revision is first proven to name a commit with
  `rev-parse --verify --end-of-options <rev>^{commit}`; git then receives the full hash, never the
  model's text.
- Paths for `git_add` must stay inside the repository by real path (no `..`, no absolute path
  elsewhere, no symlink out) and never inside `.git`.
- git runs from an argument list (no shell) with system and global config ignored, hooks pointed at
  `/dev/null`, fsmonitor, external diff, textconv, signing, credential helpers and every network
  protocol off, no terminal prompt, a timeout and a cap on what it prints.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from ._common import fail, run

NAME = "mirascope-mcp-git"
DEFAULT_MAX_OUTPUT = 256 * 1024
"""Bytes of git's output returned per call; the rest is cut with a note saying so."""
DEFAULT_TIMEOUT = 30.0
"""Seconds a git command may run before it is killed."""
MAX_LOG_COUNT = 1000
MAX_COMMIT_MESSAGE = 64 * 1024

# `-c` settings on every command: these win over the repository's own config, so a `.git/config`
# that names a hook directory, an fsmonitor program, a pager, a signing program or a credential
# helper cannot make git run it.
_SAFE_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.pager=cat",
    "core.attributesFile=/dev/null",
    "core.askPass=",
    "credential.helper=",
    "protocol.allow=never",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "log.showSignature=false",
    "gc.auto=0",
    "maintenance.auto=false",
    # A submodule is another repository, with its own hooks and filters; it is not entered.
    "submodule.recurse=false",
    "diff.ignoreSubmodules=all",
)
# Commands that may pipe file contents through a `filter.<driver>.clean/smudge/process` program
# named in the repository's config (and picked by `.gitattributes`, which any checkout can bring).
_FILTERING_COMMANDS = frozenset({"status", "diff", "add", "commit", "switch"})

_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
_WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)


class _Repository:
    """The one repository a server may touch, and how git is run inside it."""

    def __init__(self, root: str, *, max_output: int, timeout: float) -> None:
        path = Path(root).expanduser()
        if shutil.which("git") is None:
            raise ValueError("git is not installed (or not on PATH); install git to use this server")
        if not path.is_dir():
            raise ValueError(f"--repository {root!r} is not a directory; pass the top level of a git work tree")
        self.root = os.path.realpath(path)
        self.max_output = max_output
        self.timeout = timeout
        self.git_dir = ""
        # Discovery runs once, here; every later command names the git directory and work tree
        # explicitly, so a nested repository or a GIT_DIR in the environment cannot redirect it.
        found = self.git(["rev-parse", "--show-toplevel"], check=False)
        top = found.output.strip()
        if found.returncode != 0 or os.path.realpath(top) != self.root:
            reason = f"its top level is {top!r}" if found.returncode == 0 else found.error.strip()
            raise ValueError(f"--repository {root!r} is not the top level of a git work tree ({reason})")
        git_dir, ok = self._plain(["rev-parse", "--absolute-git-dir"])
        if not ok:
            raise ValueError(f"--repository {root!r}: git could not find its git directory")
        self.git_dir = os.path.realpath(git_dir)
        self.identity = self._identity()

    def _plain(self, args: list[str]) -> tuple[str, bool]:
        result = self.git(args, check=False)
        return result.output.strip(), result.returncode == 0

    def _identity(self) -> list[str]:
        # Global config is ignored while serving, which would also drop the user's name and email;
        # reading two values from it executes nothing, so they are read once here and passed with
        # `-c` to `git commit` unless the repository sets its own.
        identity: list[str] = []
        for key in ("user.name", "user.email"):
            local, ok = self._plain(["config", "--local", "--get", key])
            if ok and local:
                continue
            completed = subprocess.run(
                ["git", "config", "--global", "--get", key],
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=self.timeout,
                env=_environment(read_only=True, global_config=True),
                cwd=self.root,
                check=False,
            )
            value = completed.stdout.strip()
            if completed.returncode == 0 and value:
                identity += ["-c", f"{key}={value}"]
        return identity

    def check(self, repo_path: str | None) -> None:
        """Refuse the call unless the root is still the repository and `repo_path` lies inside it."""
        if not os.path.isdir(self.root) or os.path.realpath(self.root) != self.root:
            fail(f"the repository {self.root} is gone or has been replaced; restart the server")
        if self.git_dir and not os.path.exists(self.git_dir):
            fail(f"the repository {self.root} no longer has its git directory {self.git_dir}; restart the server")
        if repo_path is None or repo_path == "":
            return
        _refuse_unsafe("repo_path", repo_path)
        candidate = os.path.realpath(os.path.join(self.root, os.path.expanduser(repo_path)))
        if not _inside(candidate, self.root):
            fail(
                f"repo_path {repo_path!r} is outside the repository this server serves ({self.root}); "
                "leave repo_path out or pass that directory"
            )
        if not os.path.isdir(candidate):
            fail(f"repo_path {repo_path!r} is not an existing directory of the repository {self.root}")

    def git(
        self, args: list[str], *, read_only: bool = True, stdin: bytes | None = None, check: bool = True
    ) -> _Result:
        """Run `git <args>` in the repository, with the safe settings, a timeout and an output cap."""
        command = ["git", "--no-pager", "--literal-pathspecs"]
        for setting in _SAFE_CONFIG:
            command += ["-c", setting]
        if self.git_dir:
            command += [f"--git-dir={self.git_dir}", f"--work-tree={self.root}"]
            if args[0] in _FILTERING_COMMANDS:
                command += self._filter_overrides()
        command += args
        result = _run(command, cwd=self.root, env=_environment(read_only=read_only), stdin=stdin, repo=self)
        if check and result.returncode != 0:
            reason = result.error.strip() or result.output.strip() or f"exit status {result.returncode}"
            fail(f"git {args[0]} failed: {reason}")
        return result

    def _filter_overrides(self) -> list[str]:
        # An empty command turns a filter driver off; the names come from the config as it is now,
        # since they cannot be known in advance.
        listed = self.git(
            ["config", "--name-only", "--get-regexp", r"^filter\..*\.(clean|smudge|process)$"], check=False
        )
        overrides: list[str] = []
        for key in listed.output.splitlines():
            overrides += ["-c", f"{key.strip()}=", "-c", f"{key.strip().rsplit('.', 1)[0]}.required=false"]
        return overrides

    def commit_of(self, what: str, revision: str) -> str:
        """The full hash of the commit `revision` names, or an MCP error saying it names none."""
        _refuse_unsafe(what, revision)
        result = self.git(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"], check=False
        )
        commit = result.output.strip()
        if result.returncode != 0 or not commit:
            fail(f"{what} {revision!r} does not name a commit in this repository; pass a branch, tag or commit hash")
        return commit

    def branch_exists(self, name: str) -> bool:
        result = self.git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"refs/heads/{name}"], check=False)
        return result.returncode == 0

    def path_for_add(self, path: str) -> str:
        """`path` relative to the root, after proving it (and whatever it links to) stays inside the repository."""
        _refuse_unsafe("path", path)
        joined = os.path.normpath(os.path.join(self.root, path))
        if not _inside(joined, self.root) or not _inside(os.path.realpath(joined), self.root):
            fail(f"path {path!r} is outside the repository {self.root}; pass a path inside it")
        if _inside(joined, self.git_dir) or _inside(os.path.realpath(joined), self.git_dir):
            fail(f"path {path!r} is inside the git directory; only work tree files can be added")
        relative = os.path.relpath(joined, self.root)
        return "." if relative == os.curdir else relative


class _Result:
    __slots__ = ("error", "output", "returncode")

    def __init__(self, output: str, error: str, returncode: int) -> None:
        self.output = output
        self.error = error
        self.returncode = returncode


def _environment(*, read_only: bool, global_config: bool = False) -> dict[str, str]:
    # Inherited GIT_* variables (GIT_DIR, GIT_CONFIG_PARAMETERS, GIT_SSH_COMMAND, GIT_EXEC_PATH...)
    # would override what this module sets up, so none is passed on.
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_ATTR_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_PAGER="cat",
        GIT_EDITOR="false",
        GIT_NO_REPLACE_OBJECTS="1",
        LC_ALL="C",
    )
    env.pop("SSH_ASKPASS", None)  # a prompt program to run; nothing here may ask for credentials
    if not global_config:
        env["GIT_CONFIG_GLOBAL"] = os.devnull
    if read_only:
        # Keeps `git status` from refreshing (writing) the index.
        env["GIT_OPTIONAL_LOCKS"] = "0"
    return env


def _run(command: list[str], *, cwd: str, env: dict[str, str], stdin: bytes | None, repo: _Repository) -> _Result:
    timed_out = threading.Event()
    with tempfile.TemporaryFile() as errors:
        # stderr goes to a file so that a chatty command cannot fill a pipe nobody is reading.
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
        )

        def kill() -> None:
            timed_out.set()
            process.kill()

        timer = threading.Timer(repo.timeout, kill)
        timer.start()
        try:
            if process.stdin is not None:
                try:
                    process.stdin.write(stdin or b"")
                    process.stdin.close()
                except BrokenPipeError:
                    pass
            assert process.stdout is not None
            output = process.stdout.read(repo.max_output + 1)
            truncated = len(output) > repo.max_output
            if truncated:
                process.kill()
            returncode = process.wait()
        finally:
            timer.cancel()
            if process.stdout is not None:
                process.stdout.close()
        errors.seek(0)
        error = errors.read(repo.max_output).decode("utf-8", "replace")
    if timed_out.is_set():
        fail(f"git took longer than {repo.timeout:g} seconds and was stopped; ask for less (a smaller max_count)")
    text = output[: repo.max_output].decode("utf-8", "replace")
    if truncated:
        text += f"\n[output truncated at {repo.max_output} bytes]"
        returncode = 0
    return _Result(text, error, returncode)


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives on Windows
        return False


def _refuse_unsafe(what: str, value: str) -> None:
    if not value:
        fail(f"{what} is empty")
    if "\x00" in value or any(character in value for character in "\r\n"):
        fail(f"{what} {value!r} contains a NUL byte or a line break, which git arguments never need")
    if value.startswith("-"):
        fail(f"{what} {value!r} starts with '-', which git would read as an option; refused")


def build(
    repository: str,
    *,
    allow_write: bool = False,
    max_output: int = DEFAULT_MAX_OUTPUT,
    timeout: float = DEFAULT_TIMEOUT,
) -> MCPServer[Any]:
    """The git server for the work tree at `repository` (its top level); write tools only with `allow_write`.

    Raises:
        ValueError: `repository` is not the top level of a git work tree.
    """
    repo = _Repository(repository, max_output=max_output, timeout=timeout)
    server: MCPServer[Any] = MCPServer(
        NAME,
        instructions=(
            f"Git tools for the repository at {repo.root}. Tools act on that repository only; "
            "repo_path may be left out." + ("" if allow_write else " The server is read-only.")
        ),
    )
    diff_flags = ["--no-color", "--no-ext-diff", "--no-textconv"]

    @server.tool(annotations=_READ_ONLY)
    def git_status(repo_path: str | None = None) -> str:
        """Show the working tree status."""
        repo.check(repo_path)
        return repo.git(["status", "--ignore-submodules=all"]).output

    @server.tool(annotations=_READ_ONLY)
    def git_diff_unstaged(repo_path: str | None = None, context_lines: int = 3) -> str:
        """Show changes in the working tree that are not yet staged."""
        repo.check(repo_path)
        return repo.git(["diff", *diff_flags, _unified(context_lines), "--"]).output

    @server.tool(annotations=_READ_ONLY)
    def git_diff_staged(repo_path: str | None = None, context_lines: int = 3) -> str:
        """Show changes that are staged for commit."""
        repo.check(repo_path)
        return repo.git(["diff", "--cached", *diff_flags, _unified(context_lines), "--"]).output

    @server.tool(annotations=_READ_ONLY)
    def git_diff(target: str, repo_path: str | None = None, context_lines: int = 3) -> str:
        """Show the differences between the working tree and `target` (a branch, tag or commit)."""
        repo.check(repo_path)
        commit = repo.commit_of("target", target)
        return repo.git(["diff", *diff_flags, _unified(context_lines), commit, "--"]).output

    @server.tool(annotations=_READ_ONLY)
    def git_log(repo_path: str | None = None, max_count: int = 10, revision: str | None = None) -> str:
        """Show the commit log, newest first, from `revision` (default HEAD)."""
        repo.check(repo_path)
        if not 1 <= max_count <= MAX_LOG_COUNT:
            fail(f"max_count must be between 1 and {MAX_LOG_COUNT}, not {max_count}")
        start = repo.commit_of("revision", revision or "HEAD")
        return repo.git(["log", "--no-color", "--no-decorate", f"--max-count={max_count}", start, "--"]).output

    @server.tool(annotations=_READ_ONLY)
    def git_show(revision: str, repo_path: str | None = None) -> str:
        """Show a commit: its message and its changes."""
        repo.check(repo_path)
        commit = repo.commit_of("revision", revision)
        return repo.git(["show", *diff_flags, commit, "--"]).output

    @server.tool(annotations=_READ_ONLY)
    def git_branch(
        repo_path: str | None = None,
        branch_type: Literal["local", "remote", "all"] = "local",
        contains: str | None = None,
        not_contains: str | None = None,
    ) -> str:
        """List branches: local, remote or all, optionally only those that contain (or not) a commit."""
        repo.check(repo_path)
        args = ["branch", "--list", "--no-color"]
        if branch_type == "remote":
            args.append("--remotes")
        elif branch_type == "all":
            args.append("--all")
        if contains:
            args.append(f"--contains={repo.commit_of('contains', contains)}")
        if not_contains:
            args.append(f"--no-contains={repo.commit_of('not_contains', not_contains)}")
        return repo.git(args).output

    if not allow_write:
        return server

    @server.tool(annotations=_WRITE)
    def git_add(files: list[str], repo_path: str | None = None) -> str:
        """Stage files (paths relative to the repository root) for the next commit."""
        repo.check(repo_path)
        if not files:
            fail("files is empty; pass at least one path to stage")
        paths = [repo.path_for_add(path) for path in files]
        repo.git(["add", "--", *paths], read_only=False)
        return f"Staged {len(paths)} path(s): {', '.join(paths)}"

    @server.tool(annotations=_WRITE)
    def git_commit(message: str, repo_path: str | None = None) -> str:
        """Record the staged changes as a new commit with `message`."""
        repo.check(repo_path)
        if not message.strip():
            fail("message is empty; write a commit message")
        if "\x00" in message or len(message.encode()) > MAX_COMMIT_MESSAGE:
            fail(f"message must be text without NUL bytes and at most {MAX_COMMIT_MESSAGE} bytes")
        # The message goes through stdin, so no part of it is ever parsed as an argument.
        repo.git([*repo.identity, "commit", "--no-verify", "--file=-"], read_only=False, stdin=message.encode())
        commit = repo.commit_of("revision", "HEAD")
        return f"Committed {commit}"

    @server.tool(annotations=_WRITE)
    def git_checkout(branch_name: str, repo_path: str | None = None) -> str:
        """Switch the working tree to an existing local branch."""
        repo.check(repo_path)
        _refuse_unsafe("branch_name", branch_name)
        if not repo.branch_exists(branch_name):
            fail(f"branch_name {branch_name!r} is not a local branch; list them with git_branch")
        repo.git(["switch", "--no-guess", "--end-of-options", branch_name], read_only=False)
        return f"Switched to branch {branch_name}"

    @server.tool(annotations=_WRITE)
    def git_create_branch(branch_name: str, base_branch: str | None = None, repo_path: str | None = None) -> str:
        """Create a local branch at `base_branch` (default HEAD) without switching to it."""
        repo.check(repo_path)
        _refuse_unsafe("branch_name", branch_name)
        if repo.git(["check-ref-format", "--branch", branch_name], check=False).returncode != 0:
            fail(f"branch_name {branch_name!r} is not a valid branch name")
        if repo.branch_exists(branch_name):
            fail(f"branch {branch_name!r} already exists")
        base = repo.commit_of("base_branch", base_branch or "HEAD")
        repo.git(["branch", "--no-track", "--end-of-options", branch_name, base], read_only=False)
        return f"Created branch {branch_name} at {base}"

    return server


def _unified(context_lines: int) -> str:
    if not 0 <= context_lines <= 10_000:
        fail(f"context_lines must be between 0 and 10000, not {context_lines}")
    return f"--unified={context_lines}"


def _flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repository", required=True, help="top level of the git work tree to serve (the only one it touches)"
    )
    parser.add_argument(
        "--allow-write",
        action="store_true",
        help="also offer git_add, git_commit, git_checkout and git_create_branch",
    )
    parser.add_argument(
        "--max-output",
        type=int,
        default=DEFAULT_MAX_OUTPUT,
        help=f"bytes of git output returned per call (default {DEFAULT_MAX_OUTPUT})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds a git command may run before it is stopped (default {DEFAULT_TIMEOUT:g})",
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the git server from the command line (`mirascope-mcp-git --repository PATH`)."""
    run(
        lambda args: build(
            args.repository, allow_write=args.allow_write, max_output=args.max_output, timeout=args.timeout
        ),
        argv,
        name=NAME,
        description="A hardened git MCP server for one repository (read-only unless --allow-write).",
        add_arguments=_flags,
    )


if __name__ == "__main__":
    main()
