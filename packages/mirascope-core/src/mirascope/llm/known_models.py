"""Mirascope's model table: what each known model takes, its limits, and what it costs.

One table, which each provider package contributes to: its `models.toml`, merged into
`_model_data.py` by `scripts/generate_models.py`. The table is read on first use (the first
`llm.model_info`, or the first response with usage), never when `mirascope.llm` is imported.
A model not in the table is allowed everywhere: it is simply not checked before a call, and
its responses have no `cost`.

A provider's model name finds its entry when it is the entry's name, one of the entry's
aliases, or the name followed by a snapshot suffix: a date (`-20250929`, `-2024-08-06`,
`-0613`, `@20250929`), a version number (`-001`), `-latest`, `-exp`, or `-preview` with an
optional date (`-preview-09-2025`). Nothing else matches, so `gpt-4o-mini` is not read as
`gpt-4o`, nor `gemini-2.5-flash-image` as `gemini-2.5-flash`; where two entries fit, the longer
name wins (`gemini-2.5-flash-lite-preview-06-17` is `gemini-2.5-flash-lite`). A path before the
name (`models/gemini-2.5-flash`) is dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import frozen

from ._known_model_ids import KnownModel

if TYPE_CHECKING:
    import re
    from typing import TypeAlias

    from ._values import Usage

    # The rows by id, alias → id, each provider's names longest first, the snapshot-suffix pattern.
    _Index: TypeAlias = tuple[dict[str, dict[str, Any]], dict[str, str], dict[str, tuple[str, ...]], re.Pattern[str]]

__all__ = ["KnownModel", "ModelInfo", "cost_of", "model_info", "model_taking"]


@frozen(kw_only=True)
class ModelInfo:
    """What Mirascope's model table knows of one model: what it takes, its limits, its prices.

    Prices are the provider's list prices in USD per million tokens, `None` where the table has
    none; each provider's `models.toml` says where and when they were read.
    """

    id: str
    """The entry's model id, `provider:model`: the base name, for a dated snapshot."""
    image_input: bool = False
    """Whether it takes images (`llm.Image`)."""
    audio_input: bool = False
    """Whether it takes audio (`llm.Audio`)."""
    video_input: bool = False
    """Whether it takes video (`llm.Video`)."""
    pdf_input: bool = False
    """Whether it takes PDF documents; text documents go to every model as text."""
    thinking: bool = False
    """Whether it can think before answering, so that `thinking=` applies."""
    strict_outputs: bool = False
    """Whether it can hold its reply to a JSON schema exactly (native structured output)."""
    tools: bool = False
    """Whether it can call tools."""
    image_output: bool = False
    """Whether it can write images."""
    context_window: int | None = None
    """The most tokens a prompt and its reply may hold together."""
    max_output_tokens: int | None = None
    """The most tokens one reply may hold, thinking included."""
    input_price: float | None = None
    """USD per million prompt tokens not read from or written to a cache."""
    output_price: float | None = None
    """USD per million output tokens, reasoning tokens included."""
    cache_read_price: float | None = None
    """USD per million prompt tokens read from the provider's cache; `None` bills them as input."""
    cache_write_price: float | None = None
    """USD per million prompt tokens written to the provider's cache; `None` bills them as input."""
    batch_discount: float | None = None
    """The share of these prices its provider's batch API bills (`0.5`: half); `None` when the
    table has no batch price for it."""

    def cost(self, usage: Usage, batch: bool = False) -> float | None:
        """What `usage` costs on this model in USD; `None` when its input or output price is unknown.

        Cached prompt tokens are priced as cache reads or writes, the rest of the prompt as
        input, and every output token, reasoning included, as output (providers bill thinking as
        output). `batch=True` prices a call of a provider batch (`llm.batch`): the list price
        times `batch_discount`, or `None` when the table has no batch price.
        """
        input_price = self.input_price
        output_price = self.output_price
        if input_price is None or output_price is None:
            return None
        read = usage.cache_read_tokens
        write = usage.cache_write_tokens
        read_price = input_price if self.cache_read_price is None else self.cache_read_price
        write_price = input_price if self.cache_write_price is None else self.cache_write_price
        uncached = max(usage.input_tokens - read - write, 0)
        total = uncached * input_price + read * read_price + write * write_price + usage.output_tokens * output_price
        if batch:
            if self.batch_discount is None:
                return None
            total *= self.batch_discount
        return total / 1_000_000


_index: _Index | None = None  # built on first use
_infos: dict[str, ModelInfo] = {}  # by entry id
_found: dict[str, ModelInfo | None] = {}  # by the id asked for
_FOUND_LIMIT = 1024  # a program asking for ever-new ids cannot grow the cache without bound

_SNAPSHOT = r"(?:[-@](?:\d{8}|\d{4}-\d{2}-\d{2}|\d{4}|\d{3}|latest|exp|preview)|-\d{2}-\d{2,4})+"


def _load() -> _Index:
    global _index
    import re

    from ._model_data import ALIASES, MODELS  # the large table: loaded on the first lookup

    names: dict[str, list[str]] = {}
    for model_id in MODELS:
        provider, _, name = model_id.partition(":")
        names.setdefault(provider, []).append(name)
    bases = {provider: tuple(sorted(found, key=len, reverse=True)) for provider, found in names.items()}
    _index = (MODELS, ALIASES, bases, re.compile(_SNAPSHOT))
    return _index


def _lookup(model_id: str) -> ModelInfo | None:
    models, aliases, bases, snapshot = _index or _load()
    provider, _, name = model_id.partition(":")
    name = name.rsplit("/", 1)[-1]
    key = f"{provider}:{name}"
    key = aliases.get(key, key)
    row = models.get(key)
    if row is None:
        for base in bases.get(provider, ()):
            if name.startswith(base) and snapshot.fullmatch(name, len(base)):
                key = f"{provider}:{base}"
                row = models[key]
                break
        else:
            return None
    info = _infos.get(key)
    if info is None:
        info = _infos[key] = ModelInfo(id=key, **row)
    return info


def model_info(model_id: KnownModel | str) -> ModelInfo | None:
    """What Mirascope's model table knows of a model, or `None` for a model not in it.

    ```python
    info = llm.model_info("anthropic:claude-sonnet-4-5-20250929")
    info.id, info.thinking, info.pdf_input  # ("anthropic:claude-sonnet-4-5", True, True)
    ```

    Args:
        model_id: The model id, `provider:model`; a dated snapshot finds its base entry.
    """
    try:
        return _found[model_id]
    except KeyError:
        pass
    if len(_found) >= _FOUND_LIMIT:
        _found.clear()
    info = _found[model_id] = _lookup(model_id)
    return info


def cost_of(model_id: str, usage: Usage, provider_model: str | None = None, batch: bool = False) -> float | None:
    """What `usage` cost on `model_id` in USD; `None` for a model or price not in the table.

    `batch=True` prices a call of a provider batch (see `ModelInfo.cost`).

    A model id not in the table is tried again with the model name the provider reported
    (`provider_model`), under the same provider: an alias the table lacks may answer with a
    snapshot it has.
    """
    info = model_info(model_id)
    if info is None:
        if not provider_model:
            return None
        info = model_info(f"{model_id.partition(':')[0]}:{provider_model}")
        if info is None:
            return None
    return info.cost(usage, batch)


def model_taking(field: str, provider: str) -> str | None:
    """A known model id whose `field` (`"image_input"`, `"thinking"`, ...) is true, for an error to name.

    One of `provider`'s if it has one, else one of its family's (`openai` for
    `openai-completions`), else any; `None` when no known model has it.
    """
    models = (_index or _load())[0]
    family = provider.split("-", 1)[0]
    found = [model_id for model_id, row in models.items() if row[field]]
    for model_id in found:
        if model_id.startswith(f"{provider}:"):
            return model_id
    for model_id in found:
        if model_id.partition(":")[0].split("-", 1)[0] == family:
            return model_id
    return found[0] if found else None
