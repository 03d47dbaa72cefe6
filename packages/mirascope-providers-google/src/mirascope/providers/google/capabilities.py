"""What Gemini models can take, by model name."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from mirascope import llm

__all__ = [
    "LEVEL_BUDGETS",
    "ThinkingSupport",
    "UNKNOWN",
    "base_name",
    "thinking_for",
]


class ThinkingSupport(NamedTuple):
    """How a model thinks, and how far it can be steered."""

    min_budget: int
    """The smallest positive `thinkingBudget` it takes."""
    max_budget: int
    """The largest `thinkingBudget` it takes."""
    can_disable: bool
    """Whether `thinkingBudget: 0` turns thinking off."""
    levels: tuple[str, ...] = ()
    """The `thinkingLevel` values it takes (Gemini 3); empty for budget-only models."""


UNKNOWN = ThinkingSupport(0, 0, can_disable=True)
"""A model not in the table (a new release, a tuned model): its thinking settings are sent as
given, unclamped, and the API judges them."""

LEVEL_BUDGETS = {"minimal": 512, "low": 1024, "medium": 8192, "high": 24576}
"""`thinking=` levels as token budgets, before clamping to a model's range."""

# Longest prefix first: `gemini-2.5-flash-lite` and `gemini-2.5-flash-image` must not match
# `gemini-2.5-flash`. Ranges are Google's documented ones (ai.google.dev/gemini-api/docs/thinking).
_TABLE: tuple[tuple[str, ThinkingSupport | None], ...] = (
    ("gemini-2.5-flash-image", None),
    ("gemini-2.5-flash-lite", ThinkingSupport(512, 24576, can_disable=True)),
    ("gemini-2.5-flash", ThinkingSupport(1, 24576, can_disable=True)),
    ("gemini-2.5-pro", ThinkingSupport(128, 32768, can_disable=False)),
    ("gemini-3-pro-image", UNKNOWN),
    ("gemini-3-pro", ThinkingSupport(128, 32768, can_disable=False, levels=("low", "high"))),
    (
        "gemini-3",
        ThinkingSupport(1, 24576, can_disable=False, levels=("minimal", "low", "medium", "high")),
    ),
    ("gemini-2.0", None),
    ("gemini-1.5", None),
    ("gemini-1.0", None),
    ("gemma", None),
)


def base_name(model: str) -> str:
    """The bare model name of `models/x`, `publishers/google/models/x` or `tunedModels/x`."""
    return model.rsplit("/", 1)[-1]


@cache
def thinking_for(model: str) -> ThinkingSupport | None:
    """How `model` thinks: `None` for a model that cannot, `UNKNOWN` when not in the table.

    Whether a model thinks at all is the model table's to say (this package's `models.toml`);
    the budgets here cover the models it does not know as well.
    """
    name = base_name(model)
    info = llm.model_info(f"google:{name}")
    if info is not None and not info.thinking:
        return None
    for prefix, thinking in _TABLE:
        if name.startswith(prefix):
            return thinking
    return UNKNOWN
