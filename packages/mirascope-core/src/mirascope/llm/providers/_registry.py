"""Find the provider for a `provider:` prefix: registered in-process first, then entry points."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import Error, ProviderNotFoundError

if TYPE_CHECKING:
    from . import Provider

GROUP = "mirascope.providers"
"""The entry-point group provider packages register in."""

# Which extra of the `mirascope` meta-package installs each first-party prefix.
# _EXTRAS: written by scripts/provider_tables.py from the packages' entry points; do not edit by hand
_EXTRAS = {
    "openai": "openai",
    "openai-completions": "openai",
    "azure": "openai",
    "azure-completions": "openai",
    "ollama": "openai",
    "vllm": "openai",
    "groq": "openai",
    "together": "openai",
    "openrouter": "openai",
    "xai": "openai",
    "deepseek": "openai",
    "mistral": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "local": "local",
    "bedrock": "bedrock",
}
# /_EXTRAS

_registered: dict[str, Provider] = {}
_loaded: dict[str, Provider] = {}
_generation = 0


def generation() -> int:
    """A number `register`/`unregister` change, so that models drop the provider they resolved."""
    return _generation


def register(name: str, provider: Provider) -> None:
    """Make `provider` answer to `name:` in this process, ahead of any entry point."""
    global _generation
    _registered[name] = provider
    _generation += 1


def unregister(name: str) -> None:
    """Undo `register`; entry points answer again."""
    global _generation
    _registered.pop(name, None)
    _generation += 1


def get_provider(name: str) -> Provider:
    """The provider for a prefix, loading its package on first use."""
    found = _registered.get(name) or _loaded.get(name)
    if found is not None:
        return found
    found = _load(name)
    _loaded[name] = found
    return found


def _load(name: str) -> Provider:
    # Imported here: scanning distributions costs milliseconds, paid once, on first use.
    from importlib.metadata import entry_points

    matches = list(entry_points(group=GROUP, name=name))
    if not matches:
        raise ProviderNotFoundError(_not_found_message(name), provider=name)
    dists = {ep.dist.name if ep.dist else ep.value for ep in matches}
    if len(dists) > 1:
        raise Error(f"Two installed packages both provide {name!r}: {', '.join(sorted(dists))}. Uninstall one of them.")
    provider: Provider = matches[0].load()
    return provider


def install_hint(extra: str) -> str:
    """The command that installs `mirascope[extra]` of this very release.

    Pinned to the installed core's version, label included: unpinned, the public index's
    unrelated `mirascope` distribution would be installed instead (see the README's Install).
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        pin = f"=={version('mirascope-core')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        pin = ""
    return f'pip install --find-links dist "mirascope[{extra}]{pin}" (wheels built with scripts/build.sh)'


def _not_found_message(name: str) -> str:
    extra = _EXTRAS.get(name)
    if extra is not None:
        return f"The {name!r} provider is not installed: {install_hint(extra)}."
    from difflib import get_close_matches
    from importlib.metadata import entry_points

    known = sorted({*_EXTRAS, *_registered, *(ep.name for ep in entry_points(group=GROUP))})
    close = get_close_matches(name, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Unknown provider {name!r}.{hint} Known providers: {', '.join(known)}."
