"""What OpenAI models can take, by model name.

Mirascope's model table (this package's `models.toml`) answers for the models it knows; the
name rules here cover the rest, and OpenAI's models served by compatible services.
"""

from __future__ import annotations

from mirascope import llm

_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


def is_reasoning_model(model: str) -> bool:
    """o-series and gpt-5 models reason: they take `reasoning_effort`, not `temperature`/`top_p`.

    `gpt-5-chat*` models are the non-reasoning chat variants.
    """
    name = model.rsplit("/", 1)[-1]
    info = llm.model_info(f"openai:{name}")
    if info is not None:
        return info.thinking
    return name.startswith(_REASONING_PREFIXES) and not name.startswith("gpt-5-chat")


def reasoning_efforts(model: str) -> tuple[str, ...] | None:
    """The `reasoning_effort` values an OpenAI model takes, least first, by its name.

    `()` for an OpenAI model that does not reason; `None` for a name these rules do not know
    (another maker's model on a compatible service), whose effort goes as given.
    """
    name = model.rsplit("/", 1)[-1]
    info = llm.model_info(f"openai:{name}")
    if info is not None and not info.thinking:
        return ()
    if name.startswith(("o1", "o3", "o4", "gpt-oss")):
        return ("low", "medium", "high")
    if name.startswith("gpt-5"):
        if name.startswith("gpt-5-chat"):
            return ()
        if name.startswith("gpt-5-pro"):
            return ("high",)
        # gpt-5.1 and later can turn reasoning off, and have no "minimal".
        return ("minimal", "low", "medium", "high") if name[5:6] in ("", "-") else ("none", "low", "medium", "high")
    if name.startswith(("gpt-4", "gpt-3.5", "chatgpt-")):
        return ()
    return None


def takes_audio_input(model: str) -> bool:
    """Audio input needs an audio model (`gpt-audio`, `gpt-4o-audio-preview`, ...) on Chat Completions."""
    info = llm.model_info(f"openai-completions:{model}")
    if info is not None:
        return info.audio_input
    return "audio" in model


AUDIO_FORMATS = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/wav": "wav", "audio/x-wav": "wav"}
"""Media types Chat Completions audio input takes, and the `format` it names them by."""


def effort_for_budget(budget: int) -> str:
    """The reasoning effort nearest to a token budget."""
    if budget <= 2048:
        return "low"
    if budget <= 8192:
        return "medium"
    return "high"
