"""What each Claude model can take, by model name.

The facts about each model (output limit, thinking, structured outputs) come from Mirascope's
model table, which this package's `models.toml` feeds; the constants here are about the API.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from mirascope import llm

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "MIN_THINKING_BUDGET",
    "STRUCTURED_OUTPUTS_BETA",
    "THINKING_SHARES",
    "Capabilities",
    "capabilities",
]

DEFAULT_MAX_TOKENS = 16000
"""`max_tokens` sent when the call sets none: the Messages API requires one."""

STRUCTURED_OUTPUTS_BETA = "structured-outputs-2025-11-13"
"""The beta that structured outputs (`output_format`) and strict tools are sent under."""

MIN_THINKING_BUDGET = 1024
"""The smallest `budget_tokens` the API accepts for extended thinking."""

THINKING_SHARES = {"minimal": 0.0, "low": 0.2, "medium": 0.4, "high": 0.6}
"""The share of `max_tokens` each `thinking=` level may spend thinking.

A share rather than a fixed budget keeps the budget below `max_tokens`, as the API requires;
`"medium"` with the default 16000 gives the 6400 tokens the recorded calls sent. `"minimal"` is
the API's smallest budget, `MIN_THINKING_BUDGET`.
"""


class Capabilities(NamedTuple):
    """What a model can take."""

    max_output_tokens: int
    """The most tokens one reply may hold."""
    thinks: bool
    """Whether the model has extended thinking."""
    structured_outputs: bool = False
    """Whether the model takes structured outputs (`output_format`, strict tools) on the beta surface."""

    @property
    def default_max_tokens(self) -> int:
        """`max_tokens` for a call that sets none."""
        return min(DEFAULT_MAX_TOKENS, self.max_output_tokens)


# A model not listed is most likely newer than this table: every Claude model since 3.7 thinks,
# and every one since Sonnet 4.5 takes structured outputs.
_UNKNOWN = Capabilities(DEFAULT_MAX_TOKENS, True, structured_outputs=True)


@lru_cache(maxsize=64)
def capabilities(model: str) -> Capabilities:
    """What the model named `model` (the part after `anthropic:`) can take, from the model table."""
    info = llm.model_info(f"anthropic:{model}")
    if info is None:
        return _UNKNOWN
    return Capabilities(
        info.max_output_tokens or DEFAULT_MAX_TOKENS, info.thinking, structured_outputs=info.strict_outputs
    )
