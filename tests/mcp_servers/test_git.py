"""The git server through the SDK's own client, in memory, against real repositories made with the real git."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mirascope.mcp.servers import git

from tests.support.mcp_client import call, refused, text, tool_names
from tests.support.mcp_process import http, script, stdio

READ_TOOLS = {"git_status", "git_diff_unstaged", "git_diff_staged", "git_diff", "git_log", "git_show", "git_branch"}
WRITE_TOOLS = {"git_add", "git_commit", "git_checkout", "git_create_branch"}


def run_git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    run_git(path, "init", "-q", "-b", "main")
    run_git(path, "config", "user.name", "Tester")
    run_git(path, "config", "user.email", "tester@example.com")
    (path / "a.txt").write_text("first\n")
    run_git(path, "add", "a.txt")
    run_git(path, "commit", "-q", "-m", "initial commit")
    return path


def ok(server: MCPServer[Any], tool: str, arguments: dict[str, Any] | None = None) -> str:
    result = call(server, tool, arguments)
    assert not result.is_error, text(result)
    return text(result)


def executable(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# Every tool


def test_read_only_server_lists_only_the_read_tools(repo: Path) -> None:
    assert tool_names(git.build(str(repo))) == READ_TOOLS


def test_allow_write_adds_the_write_tools(repo: Path) -> None:
    assert tool_names(git.build(str(repo), allow_write=True)) == READ_TOOLS | WRITE_TOOLS


def test_status_reports_a_modified_file(repo: Path) -> None:
    (repo / "a.txt").write_text("changed\n")
    output = ok(git.build(str(repo)), "git_status")
    assert "On branch main" in output
    assert "modified:   a.txt" in output


def test_diff_unstaged_and_staged_show_their_own_changes(repo: Path) -> None:
    server = git.build(str(repo))
    (repo / "a.txt").write_text("first\nunstaged\n")
    assert "+unstaged" in ok(server, "git_diff_unstaged")
    assert ok(server, "git_diff_staged") == ""
    run_git(repo, "add", "a.txt")
    assert "+unstaged" in ok(server, "git_diff_staged", {"context_lines": 0})
    assert ok(server, "git_diff_unstaged") == ""


def test_diff_against_a_target_commit(repo: Path) -> None:
    first = run_git(repo, "rev-parse", "HEAD").strip()
    (repo / "a.txt").write_text("second\n")
    run_git(repo, "commit", "-q", "-am", "second")
    output = ok(git.build(str(repo)), "git_diff", {"target": first})
    assert "-first" in output
    assert "+second" in output


def test_log_lists_commits_newest_first_and_honours_max_count(repo: Path) -> None:
    run_git(repo, "commit", "-q", "--allow-empty", "-m", "second commit")
    server = git.build(str(repo))
    output = ok(server, "git_log")
    assert output.index("second commit") < output.index("initial commit")
    assert "initial commit" not in ok(server, "git_log", {"max_count": 1})
    assert "second commit" not in ok(server, "git_log", {"revision": "HEAD~1"})
    assert "max_count" in refused(server, "git_log", {"max_count": 0})


def test_show_prints_a_commit_with_its_patch(repo: Path) -> None:
    output = ok(git.build(str(repo)), "git_show", {"revision": "main"})
    assert "initial commit" in output
    assert "+first" in output


def test_branch_lists_local_branches_and_filters_by_commit(repo: Path) -> None:
    first = run_git(repo, "rev-parse", "HEAD").strip()
    run_git(repo, "branch", "old")
    run_git(repo, "commit", "-q", "--allow-empty", "-m", "later")
    server = git.build(str(repo))
    listed = ok(server, "git_branch")
    assert "* main" in listed
    assert "old" in listed
    assert "old" not in ok(server, "git_branch", {"contains": "main"})
    assert "main" not in ok(server, "git_branch", {"not_contains": "main", "branch_type": "all"})
    assert "old" in ok(server, "git_branch", {"contains": first})
    assert ok(server, "git_branch", {"branch_type": "remote"}) == ""


def test_add_commit_create_branch_and_checkout(repo: Path) -> None:
    server = git.build(str(repo), allow_write=True)
    (repo / "b.txt").write_text("new\n")
    ok(server, "git_add", {"files": ["b.txt"]})
    assert "A  b.txt" in run_git(repo, "status", "--short")
    committed = ok(server, "git_commit", {"message": "add b"})
    head = run_git(repo, "rev-parse", "HEAD").strip()
    assert head in committed
    assert run_git(repo, "log", "-1", "--format=%s%n%an").splitlines() == ["add b", "Tester"]
    ok(server, "git_create_branch", {"branch_name": "feature", "base_branch": "HEAD~1"})
    assert run_git(repo, "rev-parse", "feature").strip() == run_git(repo, "rev-parse", "HEAD~1").strip()
    ok(server, "git_checkout", {"branch_name": "feature"})
    assert run_git(repo, "branch", "--show-current").strip() == "feature"
    assert not (repo / "b.txt").exists()
    assert "already exists" in refused(server, "git_create_branch", {"branch_name": "feature"})


def test_repo_path_equal_to_or_inside_the_root_is_accepted(repo: Path) -> None:
    (repo / "sub").mkdir()
    server = git.build(str(repo))
    ok(server, "git_status", {"repo_path": str(repo)})
    ok(server, "git_status", {"repo_path": "sub"})
    assert "not an existing directory" in refused(server, "git_status", {"repo_path": "missing"})


def test_output_is_capped(repo: Path) -> None:
    (repo / "a.txt").write_text("x\n" * 10_000)
    output = ok(git.build(str(repo), max_output=1000), "git_diff_unstaged")
    assert "[output truncated at 1000 bytes]" in output
    assert len(output) < 1100


def test_commits_take_the_identity_from_global_config_when_the_repository_has_none(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_git(repo, "config", "--unset", "user.name")
    run_git(repo, "config", "--unset", "user.email")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Global Person\n\temail = global@example.com\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    server = git.build(str(repo), allow_write=True)
    (repo / "b.txt").write_text("b\n")
    ok(server, "git_add", {"files": ["b.txt"]})
    ok(server, "git_commit", {"message": "by global"})
    assert run_git(repo, "log", "-1", "--format=%an <%ae>").strip() == "Global Person <global@example.com>"


def test_a_missing_git_is_refused_at_start(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="git is not installed"):
        git.build(str(repo))


def test_a_hung_git_is_stopped(repo: Path) -> None:
    server = git.build(str(repo), timeout=0.5)
    # git opens packed-refs to resolve a name that is not a loose ref; a FIFO with no writer never answers.
    os.mkfifo(repo / ".git" / "packed-refs")
    assert "was stopped" in refused(server, "git_log", {"revision": "no-such-ref"})


def test_a_directory_that_is_not_a_repository_top_level_is_refused_at_start(repo: Path, tmp_path: Path) -> None:
    (repo / "sub").mkdir()
    with pytest.raises(ValueError, match="not the top level"):
        git.build(str(repo / "sub"))
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(ValueError, match="not the top level"):
        git.build(str(plain))
    with pytest.raises(ValueError, match="not a directory"):
        git.build(str(tmp_path / "missing"))


def test_main_requires_a_repository_and_answers_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        git.main(["--help"])
    assert exited.value.code == 0
    assert "--repository" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        git.main([])
    assert exited.value.code == 2


async def exercise(client: Client, repo: Path) -> None:
    """Every tool once, through whichever transport `client` speaks."""
    (repo / "b.txt").write_text("b\n")

    async def ok_text(tool: str, arguments: dict[str, Any]) -> str:
        result = await client.call_tool(tool, arguments)
        assert not result.is_error, text(result)
        return text(result)

    assert {tool.name for tool in (await client.list_tools()).tools} == READ_TOOLS | WRITE_TOOLS
    assert "b.txt" in await ok_text("git_status", {})
    await ok_text("git_add", {"files": ["b.txt"]})
    assert "+b" in await ok_text("git_diff_staged", {})
    assert "Committed" in await ok_text("git_commit", {"message": "add b"})
    (repo / "b.txt").write_text("b2\n")
    assert "+b2" in await ok_text("git_diff_unstaged", {})
    assert "+b2" in await ok_text("git_diff", {"target": "HEAD~1", "context_lines": 0})
    assert "add b" in await ok_text("git_log", {"max_count": 1})
    assert "add b" in await ok_text("git_show", {"revision": "HEAD"})
    assert "feature" in await ok_text("git_create_branch", {"branch_name": "feature", "base_branch": "HEAD~1"})
    assert "feature" in await ok_text("git_branch", {"branch_type": "all"})
    (repo / "b.txt").write_text("b\n")
    assert "feature" in await ok_text("git_checkout", {"branch_name": "feature"})
    assert not (repo / "b.txt").exists()
    refusal = await client.call_tool("git_diff", {"target": "--output=/tmp/x"})
    assert refusal.is_error


def test_the_console_script_serves_every_tool_over_stdio(repo: Path) -> None:
    async def go() -> None:
        params = stdio("mirascope-mcp-git", "--repository", str(repo), "--allow-write", "--log-level", "WARNING")
        async with Client(params) as client:
            await exercise(client, repo)

    asyncio.run(go())


def test_the_console_script_serves_every_tool_over_streamable_http(repo: Path) -> None:
    with http("mirascope-mcp-git", "--repository", str(repo), "--allow-write") as url:

        async def go() -> None:
            async with Client(url) as client:
                await exercise(client, repo)

        asyncio.run(go())


def test_the_scripts_answer_help_and_refuse_a_non_repository(tmp_path: Path) -> None:
    for command in ([script("mirascope-mcp-git"), "--help"], [script("mirascope-mcp"), "git", "--help"]):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert "--repository" in result.stdout
        assert "--allow-write" in result.stdout
    bad = subprocess.run(
        [script("mirascope-mcp-git"), "--repository", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert "not the top level of a git work tree" in bad.stderr


# Exploits: each refused with an MCP error, nothing written, nothing executed


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("git_diff", {"target": "--output={marker}"}),
        ("git_log", {"revision": "--output={marker}"}),
        ("git_show", {"revision": "--output={marker}"}),
        ("git_show", {"revision": "--upload-pack=touch {marker}"}),
        ("git_branch", {"contains": "--output={marker}"}),
        ("git_branch", {"not_contains": "-c core.pager=touch {marker}"}),
        ("git_diff", {"target": "-c"}),
        ("git_log", {"revision": "HEAD\n--output={marker}"}),
        ("git_create_branch", {"branch_name": "--upload-pack=touch {marker}"}),
        ("git_create_branch", {"branch_name": "x", "base_branch": "--output={marker}"}),
        ("git_create_branch", {"branch_name": "a..b"}),
        ("git_checkout", {"branch_name": "--orphan={marker}"}),
        ("git_checkout", {"branch_name": "-f"}),
        ("git_add", {"files": ["--chmod=+x", "a.txt"]}),
        ("git_add", {"files": ["-A"]}),
        ("git_status", {"repo_path": "--git-dir={marker}"}),
    ],
)
def test_option_shaped_arguments_are_refused(repo: Path, tmp_path: Path, tool: str, arguments: dict[str, Any]) -> None:
    marker = tmp_path / "pwned"
    filled = {
        key: [item.format(marker=marker) for item in value] if isinstance(value, list) else value.format(marker=marker)
        for key, value in arguments.items()
    }
    before = run_git(repo, "status", "--porcelain"), run_git(repo, "branch")
    refused(git.build(str(repo), allow_write=True), tool, filled)
    assert not marker.exists()
    assert (run_git(repo, "status", "--porcelain"), run_git(repo, "branch")) == before


def test_a_revision_that_names_a_blob_or_nothing_is_refused(repo: Path) -> None:
    server = git.build(str(repo))
    assert "does not name a commit" in refused(server, "git_show", {"revision": "HEAD:a.txt"})
    assert "does not name a commit" in refused(server, "git_diff", {"target": "no-such-branch"})
    assert "does not name a commit" in refused(server, "git_log", {"revision": "HEAD..main"})


def test_checkout_of_a_file_name_does_not_discard_changes(repo: Path) -> None:
    # `git checkout a.txt` would overwrite the edit; only existing local branches are accepted.
    (repo / "a.txt").write_text("unsaved work\n")
    assert "not a local branch" in refused(
        git.build(str(repo), allow_write=True), "git_checkout", {"branch_name": "a.txt"}
    )
    assert (repo / "a.txt").read_text() == "unsaved work\n"


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink_file", "symlink_dir", "git_dir", "sibling_prefix"])
def test_add_refuses_paths_outside_the_work_tree(repo: Path, tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n")
    sibling = tmp_path / "repo-evil"
    sibling.mkdir()
    (sibling / "s.txt").write_text("s\n")
    (repo / "link.txt").symlink_to(outside / "secret.txt")
    (repo / "linkdir").symlink_to(outside)
    path = {
        "dotdot": "../outside/secret.txt",
        "absolute": str(outside / "secret.txt"),
        "symlink_file": "link.txt",
        "symlink_dir": "linkdir/secret.txt",
        "git_dir": ".git/config",
        "sibling_prefix": str(sibling / "s.txt"),
    }[kind]
    refused(git.build(str(repo), allow_write=True), "git_add", {"files": [path]})
    assert run_git(repo, "diff", "--cached", "--name-only") == ""


def test_add_treats_pathspec_magic_literally(repo: Path) -> None:
    (repo / "b.txt").write_text("b\n")
    server = git.build(str(repo), allow_write=True)
    refused(server, "git_add", {"files": ["*.txt"]})
    refused(server, "git_add", {"files": [":(top)b.txt"]})
    assert run_git(repo, "diff", "--cached", "--name-only") == ""


@pytest.mark.parametrize("repo_path", ["/", "..", "../repo-evil", "{tmp}/repo-evil", "outlink"])
def test_repo_path_outside_the_root_is_refused(repo: Path, tmp_path: Path, repo_path: str) -> None:
    other = tmp_path / "repo-evil"
    other.mkdir()
    run_git(other, "init", "-q")
    (repo / "outlink").symlink_to(other)
    message = refused(git.build(str(repo)), "git_status", {"repo_path": repo_path.format(tmp=tmp_path)})
    assert "outside the repository" in message


def test_init_and_clone_do_not_exist(repo: Path, tmp_path: Path) -> None:
    server = git.build(str(repo), allow_write=True)
    assert not {name for name in tool_names(server) if "init" in name or "clone" in name}
    assert "Unknown tool" in refused(server, "git_init", {"repo_path": str(tmp_path / "new")})
    assert "Unknown tool" in refused(server, "git_clone", {"url": "file:///etc", "repo_path": str(tmp_path / "c")})
    assert not (tmp_path / "new").exists()


def test_write_tools_are_unknown_without_allow_write(repo: Path) -> None:
    (repo / "b.txt").write_text("b\n")
    assert "Unknown tool" in refused(git.build(str(repo)), "git_add", {"files": ["b.txt"]})
    assert run_git(repo, "diff", "--cached", "--name-only") == ""


def test_hooks_in_the_repository_do_not_run(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "hook-ran"
    for hook in ("pre-commit", "commit-msg", "post-commit", "post-checkout", "reference-transaction"):
        executable(repo / ".git" / "hooks" / hook, f"echo {hook} >> {marker}")
    # The trap works: plain git runs it.
    run_git(repo, "commit", "-q", "--allow-empty", "-m", "plain")
    assert marker.exists()
    marker.unlink()
    server = git.build(str(repo), allow_write=True)
    (repo / "b.txt").write_text("b\n")
    ok(server, "git_add", {"files": ["b.txt"]})
    ok(server, "git_commit", {"message": "through the server"})
    ok(server, "git_create_branch", {"branch_name": "other"})
    ok(server, "git_checkout", {"branch_name": "other"})
    assert not marker.exists()


def test_hooks_path_in_the_repository_config_does_not_run(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "hook-ran"
    hooks = tmp_path / "evil-hooks"
    hooks.mkdir()
    executable(hooks / "post-commit", f"touch {marker}")
    run_git(repo, "config", "core.hooksPath", str(hooks))
    server = git.build(str(repo), allow_write=True)
    (repo / "b.txt").write_text("b\n")
    ok(server, "git_add", {"files": ["b.txt"]})
    ok(server, "git_commit", {"message": "no hook"})
    assert not marker.exists()


def test_fsmonitor_in_the_repository_config_does_not_run(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "fsmonitor-ran"
    monitor = executable(tmp_path / "monitor.sh", f"touch {marker}")
    run_git(repo, "config", "core.fsmonitor", str(monitor))
    run_git(repo, "status")
    assert marker.exists()  # the trap works with plain git
    marker.unlink()
    server = git.build(str(repo), allow_write=True)
    (repo / "b.txt").write_text("b\n")
    ok(server, "git_status")
    ok(server, "git_diff_unstaged")
    ok(server, "git_add", {"files": ["b.txt"]})
    assert not marker.exists()


def test_external_diff_and_pager_in_the_repository_config_do_not_run(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "program-ran"
    program = executable(tmp_path / "program.sh", f"touch {marker}")
    run_git(repo, "config", "diff.external", str(program))
    run_git(repo, "config", "core.pager", str(program))
    (repo / "a.txt").write_text("changed\n")
    server = git.build(str(repo))
    assert "+changed" in ok(server, "git_diff_unstaged")
    ok(server, "git_show", {"revision": "HEAD"})
    ok(server, "git_log")
    assert not marker.exists()


def test_filter_drivers_in_the_repository_config_do_not_run(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "filter-ran"
    program = executable(tmp_path / "filter.sh", f"touch {marker}; cat")
    run_git(repo, "config", "filter.evil.clean", str(program))
    run_git(repo, "config", "filter.evil.smudge", str(program))
    run_git(repo, "config", "filter.evil.required", "true")
    (repo / ".gitattributes").write_text("*.txt filter=evil\n")
    (repo / "b.txt").write_text("b\n")
    run_git(repo, "add", "b.txt")
    run_git(repo, "reset", "-q")
    assert marker.exists()  # the trap works with plain git
    marker.unlink()
    server = git.build(str(repo), allow_write=True)
    (repo / "a.txt").write_text("changed\n")
    ok(server, "git_status")
    ok(server, "git_diff_unstaged")
    ok(server, "git_add", {"files": ["b.txt", "a.txt", ".gitattributes"]})
    ok(server, "git_commit", {"message": "filtered"})
    ok(server, "git_create_branch", {"branch_name": "back", "base_branch": "HEAD~1"})
    ok(server, "git_checkout", {"branch_name": "back"})
    assert not marker.exists()


def test_inherited_git_environment_cannot_redirect_the_server(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = git.build(str(repo))
    other = tmp_path / "other"
    other.mkdir()
    run_git(other, "init", "-q", "-b", "elsewhere")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.pager'='touch {tmp_path / 'pwned'}'")
    assert "On branch main" in ok(server, "git_status")
    assert not (tmp_path / "pwned").exists()


def test_commit_message_is_never_parsed_as_an_option(repo: Path) -> None:
    server = git.build(str(repo), allow_write=True)
    (repo / "b.txt").write_text("b\n")
    ok(server, "git_add", {"files": ["b.txt"]})
    ok(server, "git_commit", {"message": "--amend --reset-author"})
    assert run_git(repo, "log", "--format=%s").splitlines() == ["--amend --reset-author", "initial commit"]


def test_a_replaced_root_is_refused(repo: Path, tmp_path: Path) -> None:
    server = git.build(str(repo))
    os.rename(repo, tmp_path / "moved")
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", repo)
    assert "restart the server" in refused(server, "git_status")
