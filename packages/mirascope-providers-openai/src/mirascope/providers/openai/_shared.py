"""Encoding pieces both OpenAI APIs share."""

from __future__ import annotations

import json
from typing import Any, cast

from mirascope import llm
from mirascope.llm.providers import Request, warn_ignored

from .capabilities import effort_for_budget, is_reasoning_model


def obj(value: object) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one: decoders read optional fields safely."""
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def objs(value: object) -> list[dict[str, Any]]:
    """The JSON objects in `value` if it is a list, else none."""
    if not isinstance(value, list):
        return []
    return [cast(dict[str, Any], item) for item in cast(list[object], value) if isinstance(item, dict)]


def data_url(mime_type: str | None, data: str) -> str:
    """A `data:` URL for inline base64 bytes."""
    return f"data:{mime_type};base64,{data}"


def refuse(request: Request, feature: str, why: str) -> llm.FeatureNotSupportedError:
    """The error for a part or parameter this API cannot take."""
    return llm.FeatureNotSupportedError(
        f"{request.model_id} cannot take {feature}: {why}", model=request.model_id, feature=feature
    )


def refuse_part(request: Request, part: llm.ContentPart) -> llm.FeatureNotSupportedError:
    """The error for a user-message part neither OpenAI API takes."""
    if isinstance(part, llm.Video):
        return refuse(request, "Video", "OpenAI models take no video input")
    if isinstance(part, llm.CacheControl):
        return refuse(
            request, "CacheControl", "prompt-cache breakpoints are for Claude models; OpenAI caches prefixes itself"
        )
    return refuse(request, type(part).__name__, "it cannot appear in a user message")


def document_text(part: llm.Document) -> str:
    """A text document's content, sent as text where the API takes only PDF files."""
    return part.to_bytes().decode("utf-8", errors="replace")


def reasoning_effort(request: Request, *, reasoning: bool) -> str | None:
    """The `reasoning_effort` for `thinking=`, or `None` to send none."""
    thinking = request.params.get("thinking")
    if thinking is None:
        return None
    if isinstance(thinking, str):
        level: str | None = thinking
    elif thinking.level is not None:
        level = thinking.level
    elif thinking.budget_tokens is not None:
        level = "none" if thinking.budget_tokens == 0 else effort_for_budget(thinking.budget_tokens)
    else:
        level = "medium"
    if level == "none":
        if reasoning:
            warn_ignored(
                request.model_id,
                "thinking='none'",
                "this model always reasons; its default effort applies",
            )
        return None
    if level == "minimal":
        if not reasoning:
            return None  # a model that does not reason already thinks as little as it can
        # Only the gpt-5 family has a "minimal" effort; the o-series' least is "low".
        return "minimal" if request.model.rsplit("/", 1)[-1].startswith("gpt-5") else "low"
    if not reasoning:
        raise refuse(
            request,
            f"thinking={level!r}",
            "it is not a reasoning model; use an o-series or gpt-5 model",
        )
    return level  # low, medium and high are OpenAI's own effort names


def sampling_params(request: Request, body: dict[str, Any], *, top_k: bool) -> bool:
    """Put temperature and top_p in the body where the model takes them; return whether it reasons."""
    params = request.params
    reasoning = is_reasoning_model(request.model)
    for name, value in (("temperature", params.get("temperature")), ("top_p", params.get("top_p"))):
        if value is not None:
            if reasoning:
                warn_ignored(request.model_id, name, "reasoning models fix their sampling")
            else:
                body[name] = value
    if "top_k" in params:
        if top_k:
            body["top_k"] = params["top_k"]
        else:
            warn_ignored(request.model_id, "top_k", "the API has no top_k")
    return reasoning


def tool_arguments(call: llm.ToolCall) -> str:
    """A tool call's arguments as the JSON text OpenAI expects."""
    return json.dumps(call.args, separators=(",", ":"), ensure_ascii=False)


def parse_arguments(text: str) -> dict[str, object]:
    """Tool-call arguments from the model's JSON; malformed JSON is kept, not dropped."""
    try:
        value: object = json.loads(text) if text else {}
    except ValueError:
        return {"__raw__": text}
    return obj(value) if isinstance(value, dict) else {"__raw__": text}  # pyright: ignore[reportUnknownArgumentType]
