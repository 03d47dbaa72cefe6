"""The OpenAI-compatible services are one list, and everything else follows from it.

`mirascope/providers/openai/services.py` lists each service (prefix, base URL, key variable,
quirks). Its provider objects are derived from the list; the entry points, which packaging
cannot derive, are checked against it; core's install hints (`_EXTRAS`), the OpenAI README's
table and the providers page's table are written from it by `scripts/provider_tables.py`, whose
`--check` runs here. Adding a service is one `Service(...)`, one entry-point line, then the script.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from mirascope import llm
from mirascope.llm.providers import _registry  # pyright: ignore[reportPrivateUsage]
from mirascope.providers import openai as openai_package
from mirascope.providers.openai.services import SERVICES

REPO = Path(__file__).resolve().parents[2]
OPENAI_PYPROJECT = REPO / "packages" / "mirascope-providers-openai" / "pyproject.toml"
SCRIPT = REPO / "scripts" / "provider_tables.py"
# The prefixes of OpenAI's own APIs, which are not compatible services.
OPENAI_OWN = {
    "openai": "responses",
    "openai-completions": "completions",
    "azure": "azure",
    "azure-completions": "azure_completions",
}


def _entry_points(pyproject: Path) -> dict[str, str]:
    return tomllib.loads(pyproject.read_text())["project"]["entry-points"]["mirascope.providers"]


def test_each_service_has_exactly_one_entry_point_naming_its_provider() -> None:
    declared = _entry_points(OPENAI_PYPROJECT)
    expected = {prefix: f"mirascope.providers.openai:{attr}" for prefix, attr in OPENAI_OWN.items()}
    expected.update({name: f"mirascope.providers.openai:{name}" for name in SERVICES})
    missing = {name: value for name, value in expected.items() if declared.get(name) != value}
    assert not missing, f"add to {OPENAI_PYPROJECT.relative_to(REPO)}: " + ", ".join(
        f'{name} = "{value}"' for name, value in missing.items()
    )
    assert set(declared) == set(expected), f"entry points without a service: {set(declared) - set(expected)}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_provider_is_derived_from_its_entry_in_the_list(name: str) -> None:
    provider = getattr(openai_package, name)
    service = SERVICES[name]
    assert provider is openai_package.compatible[name]
    assert provider.name == name
    assert provider.service is service
    assert provider.api_key_env == service.api_key_env
    assert provider.api_key_required == service.api_key_required
    assert llm.client(name).base_url == service.base_url


def test_a_name_that_is_no_service_is_no_attribute_of_the_package() -> None:
    with pytest.raises(AttributeError, match="no attribute 'not_a_service'"):
        getattr(openai_package, "not_a_service")  # noqa: B009


def test_every_first_party_prefix_has_an_install_hint_naming_its_extra() -> None:
    packages = REPO / "packages"
    expected = {
        prefix: pyproject.parent.name.removeprefix("mirascope-providers-")
        for pyproject in packages.glob("mirascope-providers-*/pyproject.toml")
        for prefix in _entry_points(pyproject)
    }
    assert expected == _registry._EXTRAS  # pyright: ignore[reportPrivateUsage]
    for name in SERVICES:
        assert "mirascope[openai]" in _registry._not_found_message(name)  # pyright: ignore[reportPrivateUsage]


def test_the_tables_written_from_the_code_are_current() -> None:
    # The READMEs' parameter and service tables, the providers page, and core's `_EXTRAS`.
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
