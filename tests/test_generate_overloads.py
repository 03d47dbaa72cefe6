"""scripts/generate_overloads.py: the signatures of `llm.call`, `llm.model`, `@llm.agent`, `llm.override`
and `llm.context` are written from `llm.CallSettings`, `llm.CallParams` and the model table.

Each change is made on a copy of core's modules (`--root`), never on the tree itself.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORE = Path("packages/mirascope-core/src/mirascope/llm")
SCRIPT = REPO / "scripts/generate_overloads.py"
TARGETS = {"call": "calls.py", "model": "models.py", "agent": "agents.py", "override": "context.py"}
TARGETS["context"] = "context.py"


def _generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / CORE, tmp_path / CORE, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / CORE


def _add_setting(core: Path, param: str, doc: str) -> None:
    """A new field in the copy's `CallSettings`, before its first one."""
    path = core / "settings.py"
    text = path.read_text("utf-8")
    settings = next(
        node for node in ast.parse(text).body if isinstance(node, ast.ClassDef) and node.name == "CallSettings"
    )
    first = next(node for node in settings.body if isinstance(node, ast.AnnAssign))
    lines = text.split("\n")
    name, _, rest = param.partition(":")
    annotation, _, default = rest.partition("=")
    field = f"    {name}: {annotation.strip()} = field(default={default.strip()}, metadata=_meta({param!r}, {doc!r}))"
    lines.insert(first.lineno - 1, field)
    path.write_text("\n".join(lines), "utf-8")


def _signatures(core: Path, name: str) -> list[str]:
    """The text of every `def name(...)` in its module: the overloads and the implementation."""
    text = (core / TARGETS[name]).read_text("utf-8")
    return re.findall(rf"^def {name}\(\n(.*?)^\) ->", text, flags=re.MULTILINE | re.DOTALL)


def test_the_generated_signatures_are_up_to_date() -> None:
    result = _generate("--check")

    assert result.returncode == 0, result.stderr


def test_a_new_setting_reaches_every_signature_and_docstring(tmp_path: Path) -> None:
    core = _copy(tmp_path)
    _add_setting(core, "deadline: float | None = None", "Seconds the whole call may take, retries included.")

    stale = _generate("--check", "--root", str(tmp_path))
    assert stale.returncode == 1
    for file in ("calls.py", "models.py", "agents.py", "context.py", "_overloads.py"):
        assert file in stale.stderr

    written = _generate("--root", str(tmp_path))
    assert written.returncode == 0, written.stderr
    for name, file in TARGETS.items():
        signatures = _signatures(core, name)
        assert signatures, name
        stubs, implementation = signatures[:-1], signatures[-1]
        for stub in stubs:  # every overload; the overrides' implementation takes `**params`
            assert re.search(r"^    deadline: float \| None = (None|\.\.\.),$", stub, re.MULTILINE), (name, stub)
        if name in ("call", "model", "agent"):
            assert "    deadline: float | None = None,\n" in implementation
        text = (core / file).read_text("utf-8")
        docstring = text[text.index(f"def {name}(") :]
        assert "deadline: Seconds the whole call may take, retries included." in docstring, name
    overloads = (core / "_overloads.py").read_text("utf-8")
    assert "    deadline: float | None\n" in overloads  # SettingsAndParams, what the overrides take
    assert _generate("--check", "--root", str(tmp_path)).returncode == 0


def test_a_changed_setting_changes_the_signatures(tmp_path: Path) -> None:
    core = _copy(tmp_path)
    settings = core / "settings.py"
    text = settings.read_text("utf-8")
    assert text.count('"max_retries: int = 0"') == 1
    settings.write_text(text.replace('"max_retries: int = 0"', '"max_retries: int = 2"'), "utf-8")

    assert _generate("--check", "--root", str(tmp_path)).returncode == 1
    assert _generate("--root", str(tmp_path)).returncode == 0

    assert all("    max_retries: int = 2,\n" in signature for signature in _signatures(core, "call"))
    assert "max_retries: int = 0" not in (core / "calls.py").read_text("utf-8")


def test_the_thinking_flag_follows_the_model_table(tmp_path: Path) -> None:
    core = _copy(tmp_path)
    assert '    "openai:gpt-4o",\n' in (core / "_overloads.py").read_text("utf-8")
    data = core / "_model_data.py"
    text = data.read_text("utf-8")
    row = text.index('    "openai:gpt-4o": {')
    at = text.index('"thinking": False', row)
    data.write_text(text[:at] + '"thinking": True' + text[at + len('"thinking": False') :], "utf-8")

    assert _generate("--root", str(tmp_path)).returncode == 0

    assert '    "openai:gpt-4o",\n' not in (core / "_overloads.py").read_text("utf-8")


def test_a_module_without_its_block_is_named(tmp_path: Path) -> None:
    core = _copy(tmp_path)
    agents = core / "agents.py"
    agents.write_text(agents.read_text("utf-8").replace("# BEGIN GENERATED overloads of llm.agent", "# moved"), "utf-8")

    result = _generate("--check", "--root", str(tmp_path))

    assert result.returncode == 2
    assert "no # BEGIN GENERATED overloads of llm.<name> ... # END GENERATED block for agent" in result.stderr


def test_what_it_writes_is_as_ruff_formats_it(tmp_path: Path) -> None:
    core = _copy(tmp_path)
    _add_setting(core, "deadline: float | None = None", "Seconds the whole call may take, retries included.")
    assert _generate("--root", str(tmp_path)).returncode == 0
    files = [str(core / file) for file in (*set(TARGETS.values()), "_overloads.py")]

    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "format", "--check", "--config", str(REPO / "pyproject.toml"), *files],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
