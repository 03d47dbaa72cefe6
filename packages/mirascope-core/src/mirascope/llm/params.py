"""Call parameters common to every model, and the `Thinking` setting."""

from __future__ import annotations

from typing import Literal, TypeAlias, TypedDict

from attrs import frozen

__all__ = ["CallParams", "Thinking", "ThinkingLevel"]

ThinkingLevel: TypeAlias = Literal["none", "minimal", "low", "medium", "high"]
"""How hard a reasoning model thinks; `"none"` turns thinking off where the model allows it, and
`"minimal"` thinks as little as the model can while still thinking."""


@frozen(kw_only=True)
class Thinking:
    """Reasoning settings for a thinking model."""

    budget_tokens: int | None = None
    """Tokens the model may spend thinking; `0` turns thinking off where the model allows it."""
    level: ThinkingLevel | None = None
    """A level instead of a budget; each provider maps it to its own scale."""
    include: bool = True
    """Whether to ask for the reasoning text back (`response.thinking`)."""
    encode_thoughts_as_text: bool = False
    """Send the thoughts of earlier replies back as plain text (`**Thinking:** ...`) rather than
    as the provider's reasoning blocks: for a conversation whose thoughts came from another
    provider, whose signatures the model cannot check, or from a model that does not think."""


class CallParams(TypedDict, total=False):
    """Parameters every provider understands, given as keyword arguments to a call.

    A provider that lacks one either raises `llm.FeatureNotSupportedError` before sending, or,
    where leaving it out cannot change what the caller relies on, logs a warning on the
    `mirascope` logger and leaves it out. Each provider's README lists which.
    """

    temperature: float
    """Sampling temperature."""
    max_tokens: int
    """The most tokens the reply may use (thinking included, where the provider counts it)."""
    top_p: float
    """Nucleus sampling mass."""
    top_k: int
    """Sample only from the k likeliest tokens."""
    seed: int
    """Best-effort reproducible sampling."""
    stop: str | list[str]
    """Text that ends the reply when the model writes it."""
    thinking: Thinking | ThinkingLevel
    """Reasoning effort for thinking models (see `llm.Thinking`)."""
