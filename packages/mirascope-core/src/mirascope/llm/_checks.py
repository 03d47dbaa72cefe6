"""Every check of what a model is made with, in one place: its id, call parameters and settings.

`Model` runs `check_model` whenever one is made, by `llm.model`, `llm.call`, `@llm.agent`, an
override, a `DynamicConfig`, a fallback or `resume`: bad input is refused there, before any request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast, get_args

from .clients import Client
from .exceptions import ProviderNotFoundError, UsageError
from .params import CallParams, Thinking, ThinkingLevel

if TYPE_CHECKING:
    from .settings import CallSettings

__all__ = ["PARAM_NAMES", "check_model", "check_params", "check_settings", "check_thinking", "split_model_id"]

PARAM_NAMES = frozenset(CallParams.__annotations__)
"""The names of the common call parameters, `llm.CallParams`'s keys."""

# A bare model name is a common slip; these prefixes say which provider it most likely belongs to.
_GUESSES = (
    ("gpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("claude", "anthropic"),
    ("gemini", "google"),
)


def split_model_id(model_id: str) -> tuple[str, str]:
    """Split `provider:model` at the first `:`; the model part is left untouched."""
    if not isinstance(model_id, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UsageError(
            f"A model id is a str, 'provider:model', e.g. 'openai:gpt-4o-mini'; got {type(model_id).__name__}."
        )
    provider, sep, name = model_id.partition(":")
    if not sep or not provider or not name:
        guess = next((p for prefix, p in _GUESSES if model_id.startswith(prefix)), None)
        example = f"{guess}:{model_id}" if guess else "openai:gpt-4o-mini"
        raise ProviderNotFoundError(
            f"Model ids are written 'provider:model', e.g. {example!r}; got {model_id!r}.",
            provider=provider,
        )
    return provider, name


_THINKING_LEVELS: tuple[str, ...] = get_args(ThinkingLevel)


def check_thinking(model_id: str, thinking: object) -> None:
    """Refuse a `thinking=` that is neither a level nor a well-formed `llm.Thinking`, saying what to write."""
    if isinstance(thinking, Thinking):
        level: object = thinking.level
        budget: object = thinking.budget_tokens
        if (level is None or level in _THINKING_LEVELS) and (budget is None or (type(budget) is int and budget >= 0)):
            return
        given = f"llm.Thinking(level={level!r}, budget_tokens={budget!r})"
    elif isinstance(thinking, str) and thinking in _THINKING_LEVELS:
        return
    else:
        given = repr(thinking)
    off = thinking is False or thinking is None
    write = "thinking='none' to turn thinking off" if off else "a level, e.g. thinking='medium'"
    raise UsageError(
        f"{model_id}: thinking={given} is not a thinking setting; write {write} (the levels are "
        f"{', '.join(map(repr, _THINKING_LEVELS))}), or llm.Thinking(budget_tokens=2048) for a budget "
        "of thinking tokens (0 or more)."
    )


def check_params(params: Mapping[str, object]) -> None:
    """Refuse keyword arguments that are not call parameters, naming the valid ones."""
    unknown = params.keys() - PARAM_NAMES
    if unknown:
        raise UsageError(
            f"Unknown call parameter(s) {', '.join(sorted(unknown))}; the common ones are "
            f"{', '.join(sorted(PARAM_NAMES))}. Pass provider-specific ones in provider_params={{...}}."
        )


def check_model(model_id: str, params: Mapping[str, object], settings: CallSettings) -> None:
    """Refuse a model id, call parameters or settings that no call could be made with.

    Raises:
        ProviderNotFoundError: A model id (or a fallback's) not written `provider:model`.
        UsageError: Any other setting that cannot be right, with what to write instead.
    """
    provider_name = split_model_id(model_id)[0]
    check_params(params)
    if "thinking" in params:
        check_thinking(model_id, params["thinking"])
    check_settings(settings, provider_name)


def check_settings(settings: CallSettings, provider_name: str = "openai") -> None:
    """Refuse settings no call could be made with (`provider_name` goes into the example)."""
    for name in ("max_retries", "continue_on_max_tokens", "retries"):
        value: object = getattr(settings, name)
        if value is not None and (type(value) is not int or value < 0):
            raise UsageError(f"{name} must be 0 or more; got {value!r}.")
    for fallback_id in settings.fallback:
        split_model_id(fallback_id)  # a malformed id is refused here, not when it is needed
    client = cast(object, settings.client)  # typed, but given by the user
    if client is not None and not isinstance(client, Client):
        raise UsageError(
            f"client= takes a client from llm.client(...), e.g. client=llm.client({provider_name!r}); "
            f"got {type(client).__name__}."
        )
