"""Encoding pieces both OpenAI APIs share."""

from __future__ import annotations

import json
from typing import Any, cast

from mirascope import llm
from mirascope.llm.providers import Request, refusal, warn_ignored

from .capabilities import effort_for_budget, is_reasoning_model, reasoning_efforts

REASONING_SAMPLING = "left out with a logged warning on reasoning models (o-series, gpt-5), which fix their sampling"
"""Where `temperature` and `top_p` are not sent, on both OpenAI APIs (a declaration's note)."""


def obj(value: object) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one: decoders read optional fields safely."""
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def objs(value: object) -> list[dict[str, Any]]:
    """The JSON objects in `value` if it is a list, else none."""
    if not isinstance(value, list):
        return []
    return [cast(dict[str, Any], item) for item in cast(list[object], value) if isinstance(item, dict)]


def own_message(request: Request, message: llm.Message) -> bool:
    """Whether an assistant message came from the provider the request goes to (or was written by hand).

    Only then can its reasoning, signatures and raw items go back as the provider's own.
    """
    return message.model is None or message.model.partition(":")[0] == request.model_id.partition(":")[0]


def data_url(mime_type: str | None, data: str) -> str:
    """A `data:` URL for inline base64 bytes."""
    return f"data:{mime_type};base64,{data}"


def refuse_part(request: Request, part: llm.ContentPart) -> llm.FeatureNotSupportedError:
    """The error for a user-message part neither OpenAI API takes."""
    if isinstance(part, llm.Video):
        provider = request.model_id.partition(":")[0]
        if provider in ("openai", "openai-completions", "azure", "azure-completions"):
            return refusal(request, "Video", "OpenAI models take no video input")
        return refusal(request, "Video", "Mirascope sends no video over Chat Completions; use a 'google:' model")
    if isinstance(part, llm.CacheControl):
        return refusal(
            request, "CacheControl", "prompt-cache breakpoints are for Claude models; OpenAI caches prefixes itself"
        )
    return refusal(request, type(part).__name__, "it cannot appear in a user message")


def document_text(part: llm.Document) -> str:
    """A text document's content, sent as text where the API takes only PDF files."""
    return part.to_bytes().decode("utf-8", errors="replace")


def thinking_level(thinking: llm.Thinking | llm.ThinkingLevel) -> str:
    """The level `thinking=` asks for: a budget becomes the nearest level, `0` is `"none"`."""
    if isinstance(thinking, str):
        return thinking
    if thinking.level is not None:
        return thinking.level
    if thinking.budget_tokens is not None:
        return "none" if thinking.budget_tokens == 0 else effort_for_budget(thinking.budget_tokens)
    return "medium"


def reasoning_effort(request: Request) -> str | None:
    """The reasoning effort for `thinking=`, as the model takes it, or `None` to send none.

    A model the table knows not to reason refuses a level (`"none"` and `"minimal"` ask for
    nothing it lacks). An OpenAI model gets the effort it takes nearest the level: where it
    cannot stop reasoning, `"none"` is its least effort, with a log record. Any other model is
    not checked: the level goes as given, for the service to judge.
    """
    thinking = request.params.get("thinking")
    if thinking is None:
        return None
    level = thinking_level(thinking)
    info = llm.model_info(request.model_id)
    if info is not None and not info.thinking:
        if level in ("none", "minimal"):
            return None  # a model that does not reason already thinks as little as it can
        raise refusal(request, f"thinking={level!r}", "it is not a reasoning model; use an o-series or gpt-5 model")
    efforts = reasoning_efforts(request.model)
    if not efforts:
        # Unknown to the name rules: sent as given. Known not to reason: only a level it lacks.
        return None if efforts is not None and level in ("none", "minimal") else level
    if level in efforts:
        return level
    least = next(effort for effort in efforts if effort != "none")
    if level == "none":
        why = f"this model always reasons; its least effort, {least!r}, applies"
        warn_ignored(request.model_id, "thinking='none'", why)
    return least  # a level it lacks ("none" where it cannot stop, "minimal" where it has none): its least


def sampling_params(request: Request, body: dict[str, Any], *, top_k: bool) -> bool:
    """Put temperature, top_p and top_k in the body where the model takes them; return whether it reasons.

    `top_k` says whether the API takes `top_k`; one it lacks was already warned about by
    `check_params`, from the provider's declaration.
    """
    params = request.params
    reasoning = is_reasoning_model(request.model)
    for name, value in (("temperature", params.get("temperature")), ("top_p", params.get("top_p"))):
        if value is not None:
            if reasoning:
                warn_ignored(request.model_id, name, "reasoning models fix their sampling")
            else:
                body[name] = value
    if top_k and "top_k" in params:
        body["top_k"] = params["top_k"]
    return reasoning


def tool_arguments(call: llm.ToolCall) -> str:
    """A tool call's arguments as the JSON text OpenAI expects."""
    return json.dumps(call.args, separators=(",", ":"), ensure_ascii=False)
