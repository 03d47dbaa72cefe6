"""Regenerate Mirascope's model table from the providers' `models.toml` files.

Each provider package describes its own models in a `models.toml` next to its `capabilities.py`;
this script merges them into two generated modules of mirascope-core:

- `mirascope/llm/_model_data.py`: every known model's capabilities and prices, a dict literal
  loaded on first use (`llm.model_info`, a response's `cost`), never at import;
- `mirascope/llm/_known_model_ids.py`: `llm.KnownModel`, the `Literal` of known model ids.

A file's top-level `batch_discount` (a number in (0, 1]: `0.5` bills batch calls at half the list
price) is carried into each of its models' rows, so that `llm.batch` responses cost the batch price.
A file's top-level `profile_prefixes` (Bedrock's inference-profile geographies, `us`, `eu`, ...)
makes each of its models, and each alias, answer to `<prefix>.<name>` too, as an alias.

    python scripts/generate_models.py           # rewrite both
    python scripts/generate_models.py --check   # exit 1 if either is stale (the test command runs this)
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SOURCES = "packages/*/src/mirascope/providers/*/models.toml"
CORE = REPO / "packages/mirascope-core/src/mirascope/llm"
DATA_FILE = "_model_data.py"
IDS_FILE = "_known_model_ids.py"

HOSTING = frozenset({"bedrock"})
"""Providers that host other makers' models: their entries come last, so that an error naming a
model that takes what another lacks names a maker's own API first (`model_taking` takes the first)."""
INPUTS = ("image", "audio", "video", "pdf")
FLAGS = ("thinking", "strict_outputs", "tools", "image_output")
LIMITS = ("context_window", "max_output_tokens")
PRICES = ("input", "output", "cache_read", "cache_write")
MODEL_KEYS = frozenset({"input", *FLAGS, *LIMITS, "price", "aliases", "providers"})
FILE_KEYS = frozenset({"providers", "defaults", "models", "profile_prefixes", "batch_discount"})


class SourceError(ValueError):
    """A `models.toml` that does not follow the format."""


def _row(source: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One model's fields, in `llm.ModelInfo`'s order and under its names."""
    unknown = spec.keys() - MODEL_KEYS
    if unknown:
        raise SourceError(f"{source}: model {name!r} has unknown keys {sorted(unknown)}; see {sorted(MODEL_KEYS)}")
    inputs = spec.get("input", [])
    bad = set(inputs) - set(INPUTS)
    if bad:
        raise SourceError(f"{source}: model {name!r} lists unknown inputs {sorted(bad)}; inputs are {list(INPUTS)}")
    row: dict[str, Any] = {f"{kind}_input": kind in inputs for kind in INPUTS}
    for flag in FLAGS:
        value = spec.get(flag, False)
        if not isinstance(value, bool):
            raise SourceError(f"{source}: model {name!r}: {flag} must be true or false")
        row[flag] = value
    for limit in LIMITS:
        value = spec.get(limit)
        if value is not None and not isinstance(value, int):
            raise SourceError(f"{source}: model {name!r}: {limit} must be an integer")
        row[limit] = value
    price = spec.get("price", {})
    unknown = price.keys() - set(PRICES)
    if unknown:
        raise SourceError(f"{source}: model {name!r} has unknown prices {sorted(unknown)}; prices are {list(PRICES)}")
    for kind in PRICES:
        value = price.get(kind)
        if value is not None and not isinstance(value, int | float):
            raise SourceError(f"{source}: model {name!r}: price.{kind} must be a number")
        row[f"{kind}_price"] = None if value is None else float(value)
    return row


def load(root: Path = REPO) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Every model by id, and every alias's target, from the providers' source files."""
    models: dict[str, dict[str, Any]] = {}
    aliases: dict[str, str] = {}
    for path in sorted(root.glob(SOURCES), key=lambda path: (path.parent.name in HOSTING, str(path))):
        source = str(path.relative_to(root))
        data = tomllib.loads(path.read_text("utf-8"))
        unknown = data.keys() - FILE_KEYS
        if unknown:
            raise SourceError(f"{source}: unknown top-level keys {sorted(unknown)}; they are {sorted(FILE_KEYS)}")
        providers: list[str] = data.get("providers") or [path.parent.name]
        defaults: dict[str, Any] = data.get("defaults", {})
        prefixes: list[str] = data.get("profile_prefixes", [])
        discount = data.get("batch_discount")
        if discount is not None and not (
            isinstance(discount, int | float) and not isinstance(discount, bool) and 0 < discount <= 1
        ):
            raise SourceError(f"{source}: batch_discount must be a number in (0, 1], the share of the list price")
        if not isinstance(prefixes, list) or not all(isinstance(prefix, str) for prefix in prefixes):
            raise SourceError(f"{source}: profile_prefixes must be a list of strings")
        for provider in providers:
            for name, own in data.get("models", {}).items():
                spec = {**defaults, **own}
                if provider not in spec.get("providers", providers):
                    continue
                model_id = f"{provider}:{name}"
                if model_id in models:
                    raise SourceError(f"{source}: {model_id} is described twice")
                models[model_id] = _row(source, name, spec)
                models[model_id]["batch_discount"] = None if discount is None else float(discount)
                names = [name, *spec.get("aliases", [])]
                for alias in names[1:]:
                    aliases[f"{provider}:{alias}"] = model_id
                # A prefix a provider puts before its models' names (Bedrock's inference profiles,
                # `us.anthropic...`) names the same model.
                for prefix in prefixes:
                    for known in names:
                        aliases[f"{provider}:{prefix}.{known}"] = model_id
    clash = aliases.keys() & models.keys()
    if clash:
        raise SourceError(f"aliases {sorted(clash)} are also model names")
    return models, aliases


_HEADER = '"""GENERATED by scripts/generate_models.py from the providers\' models.toml files: do not edit.'


def render_data(models: dict[str, dict[str, Any]], aliases: dict[str, str]) -> str:
    """The `_model_data.py` module."""
    lines = [
        _HEADER,
        "",
        "Loaded on first use (`llm.model_info`, a response's `cost`), never when `mirascope.llm` is imported.",
        '"""',
        "",
        "from typing import Any",
        "",
        "MODELS: dict[str, dict[str, Any]] = {",
    ]
    for model_id, row in models.items():
        lines.append(f'    "{model_id}": {{')
        lines.extend(f'        "{key}": {value!r},' for key, value in row.items())
        lines.append("    },")
    lines += [
        "}",
        '"""Every known model\'s `llm.ModelInfo` fields, by id (`provider:model`)."""',
        "",
        "ALIASES: dict[str, str] = {",
        *(f'    "{alias}": "{target}",' for alias, target in aliases.items()),
        "}",
        '"""Other names a provider takes for a known model; dated snapshots match without one."""',
        "",
    ]
    return "\n".join(lines)


def render_ids(models: dict[str, dict[str, Any]]) -> str:
    """The `_known_model_ids.py` module."""
    lines = [
        _HEADER + '"""',
        "",
        "from typing import Literal, TypeAlias",
        "",
        "KnownModel: TypeAlias = Literal[",
        *(f'    "{model_id}",' for model_id in models),
        "]",
        '"""A model id in Mirascope\'s model table; any other `provider:model` id works too, unchecked."""',
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if a generated file is stale; write nothing")
    parser.add_argument("--root", type=Path, default=REPO, help="the repository to read the sources from")
    parser.add_argument("--out", type=Path, default=CORE, help="the directory the generated modules go in")
    args = parser.parse_args(argv)
    try:
        models, aliases = load(args.root)
    except (SourceError, tomllib.TOMLDecodeError) as error:
        print(f"generate_models: {error}", file=sys.stderr)
        return 2
    stale: list[str] = []
    for name, text in ((DATA_FILE, render_data(models, aliases)), (IDS_FILE, render_ids(models))):
        path: Path = args.out / name
        if path.exists() and path.read_text("utf-8") == text:
            continue
        if args.check:
            stale.append(str(path))
        else:
            path.write_text(text, "utf-8")
            print(f"wrote {path}")
    if not args.check and args.root == REPO:
        # The signatures flag `thinking=` on the table's non-thinking models: keep them in step.
        import runpy

        overloads = runpy.run_path(str(REPO / "scripts" / "generate_overloads.py"))
        return overloads["main"]([])
    if stale:
        print(
            f"generate_models: stale {', '.join(stale)}; run `python scripts/generate_models.py` and commit it.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
