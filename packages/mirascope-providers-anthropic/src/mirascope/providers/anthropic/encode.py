"""llm → Anthropic Messages JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from mirascope import llm
from mirascope.llm.providers import (
    FORMAT_TOOL_NAME,
    ParamHandling,
    Request,
    check_params,
    media_url,
    merge_provider_params,
    refusal,
)

from .capabilities import MIN_THINKING_BUDGET, THINKING_SHARES, Capabilities, capabilities

__all__ = ["OWNED", "PARAMETERS", "WEB_SEARCH_TOOL", "encode", "tool_definition", "web_search_definition"]

OWNED = frozenset({"model", "messages", "stream"})
"""Body keys Mirascope always sets from the call itself, which `provider_params` may not."""

WEB_SEARCH_TOOL = "web_search_20250305"
"""The version of Anthropic's web search server tool that `llm.WebSearch` is sent as."""

PARAMETERS: Mapping[str, ParamHandling] = {
    "temperature": ParamHandling.send("temperature"),
    "max_tokens": ParamHandling.send(
        "max_tokens",
        note="the API requires it, so a call without one sends `min(16000, the model's output limit)` "
        "(4096 for Claude 3, 8192 for Claude 3.5, 16000 otherwise)",
    ),
    "top_p": ParamHandling.send("top_p"),
    "top_k": ParamHandling.send("top_k"),
    "seed": ParamHandling.warn("the Messages API has no seed"),
    "stop": ParamHandling.send("stop_sequences", note="a string becomes a one-item list"),
    "thinking": ParamHandling.send(
        "thinking.type",
        note="`enabled` with `budget_tokens`, or `disabled` (see Thinking below); a model without extended "
        'thinking refuses any level but `"none"` and `"minimal"`',
    ),
}
"""How the Messages API takes each call parameter."""

_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def _mark(blocks: list[dict[str, Any]], part: llm.CacheControl, role: str) -> None:
    if not blocks:
        raise ValueError(
            f"llm.CacheControl ends a cached prefix, so it must follow the part it closes; "
            f"it comes first in a {role} message. Move it after the text or media to cache."
        )
    blocks[-1]["cache_control"] = _cache_control(part)


def _cache_control(part: llm.CacheControl) -> dict[str, str]:
    return {"type": "ephemeral", "ttl": "1h"} if part.ttl == "1h" else {"type": "ephemeral"}


def _image(request: Request, part: llm.Image) -> dict[str, Any]:
    if part.url is not None:
        return {"type": "image", "source": {"type": "url", "url": media_url(request, part, reader="Claude")}}
    if part.mime_type not in _IMAGE_TYPES:
        raise refusal(request, f"{part.mime_type} images", "Claude takes JPEG, PNG, GIF and WebP images")
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": part.mime_type, "data": part.data},
    }


def _document(request: Request, part: llm.Document) -> dict[str, Any]:
    if part.url is not None:
        url = media_url(request, part, reader="Claude")
        if part.mime_type is not None and part.mime_type != "application/pdf":
            raise refusal(
                request,
                "text Document by URL",
                "Claude fetches only PDFs by URL; pass the text's bytes with llm.Document.from_file(...) "
                "or llm.Document.from_bytes(...)",
            )
        return {"type": "document", "source": {"type": "url", "url": url}}
    if part.mime_type == "application/pdf":
        return {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": part.data},
        }
    # The API reads inline text documents as text/plain only; Markdown, CSV and HTML are text too.
    text = part.to_bytes().decode("utf-8", errors="replace")
    return {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": text},
    }


def _tool_result(request: Request, output: llm.ToolOutput) -> list[dict[str, Any]]:
    """The content list of a tool result holding the parts a tool returned."""
    blocks: list[dict[str, Any]] = []
    for part in output.content:
        if isinstance(part, llm.Text):
            if part.text:  # the API refuses empty text blocks
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, llm.Image):
            blocks.append(_image(request, part))
        elif isinstance(part, llm.Document):
            blocks.append(_document(request, part))
        else:
            raise refusal(
                request,
                f"{type(part).__name__} in a tool output",
                "Claude takes text, images and documents in tool results",
            )
    return blocks


def _blocks(request: Request, message: llm.Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    # A signature is checked against Anthropic's keys: another provider's reasoning can't be sent.
    own_thoughts = message.model is None or message.model.startswith("anthropic:")
    for part in message.content:
        if isinstance(part, llm.Text):
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, llm.CacheControl):
            _mark(blocks, part, message.role)
        elif isinstance(part, llm.ToolOutput):
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": part.id,
                "content": _tool_result(request, part) if part.content else part.result,
            }
            if part.is_error:
                block["is_error"] = True
            blocks.append(block)
        elif isinstance(part, llm.ToolCall):
            blocks.append({"type": "tool_use", "id": part.id, "name": part.name, "input": part.args})
        elif isinstance(part, llm.Image):
            blocks.append(_image(request, part))
        elif isinstance(part, llm.Document):
            blocks.append(_document(request, part))
        elif isinstance(part, llm.Thought):
            if part.signature is None or not own_thoughts:
                continue
            if part.text:
                blocks.append({"type": "thinking", "thinking": part.text, "signature": part.signature})
            else:
                blocks.append({"type": "redacted_thinking", "data": part.signature})
        else:
            raise refusal(request, type(part).__name__, "Claude models take text, images and PDF or text documents")
    return blocks


def _message(request: Request, message: llm.Message) -> dict[str, Any] | None:
    raw = message.raw
    if (
        isinstance(raw, list)
        and raw
        and message.role == "assistant"
        and message.model is not None
        and message.model.startswith("anthropic:")
    ):
        # Claude's own reply goes back as it came: signatures, citations and server-tool blocks.
        return {"role": "assistant", "content": cast("list[Any]", raw)}
    content = message.content
    if len(content) == 1:
        only = content[0]
        if isinstance(only, llm.Text):
            return {"role": message.role, "content": only.text}
    blocks = _blocks(request, message)
    if not blocks:
        return None
    return {"role": message.role, "content": blocks}


def _system(request: Request, message: llm.Message, out: list[dict[str, Any]]) -> None:
    for part in message.content:
        if isinstance(part, llm.Text):
            out.append({"type": "text", "text": part.text})
        elif isinstance(part, llm.CacheControl):
            _mark(out, part, "system")
        else:
            raise refusal(request, f"{type(part).__name__} in a system message", "the system prompt holds text only")


def _thinking(
    request: Request,
    caps: Capabilities,
    thinking: llm.Thinking | llm.ThinkingLevel,
    body: dict[str, Any],
    max_tokens: int,
) -> None:
    if isinstance(thinking, str):
        level: str | None = thinking
        budget: int | None = None
    else:
        level, budget = thinking.level, thinking.budget_tokens
    if budget == 0 or (budget is None and level == "none"):
        if caps.thinks:
            body["thinking"] = {"type": "disabled"}
        return
    if level == "minimal" and budget is None and not caps.thinks:
        return  # a model that does not think already thinks as little as it can
    if not caps.thinks:
        raise refusal(request, "thinking", "this model has no extended thinking; use claude-sonnet-4-5 or newer")
    if budget is None:
        budget = int(max_tokens * THINKING_SHARES.get(level or "medium", THINKING_SHARES["medium"]))
    budget = max(budget, MIN_THINKING_BUDGET)
    if budget >= max_tokens:
        # The budget is part of max_tokens and must be smaller: raise a default, never the caller's.
        if "max_tokens" in request.params:
            raise refusal(
                request,
                "thinking",
                f"a thinking budget of {budget} tokens needs max_tokens above it, "
                f"and max_tokens is {max_tokens}; raise max_tokens or leave it unset",
            )
        max_tokens = min(budget + max_tokens, caps.max_output_tokens)
        if budget >= max_tokens:
            raise refusal(
                request,
                "thinking",
                f"a thinking budget of {budget} tokens leaves no room in its {caps.max_output_tokens}-token replies",
            )
        body["max_tokens"] = max_tokens
    body["thinking"] = {"type": "enabled", "budget_tokens": budget}


def _format(format: llm.Format[Any], mode: llm.FormatMode, strict: bool, body: dict[str, Any]) -> None:
    schema = format.schema_for(strict)
    if mode == "native":
        body["output_format"] = {"type": "json_schema", "schema": schema}
    elif mode == "tool":
        definition: dict[str, Any] = {
            "name": FORMAT_TOOL_NAME,
            "description": format.tool_description,
            "input_schema": schema,
        }
        if strict:
            definition["strict"] = True
        tools = body.setdefault("tools", [])
        tools.append(definition)
        if body.get("thinking", {}).get("type") == "enabled":
            pass  # Claude refuses a forced tool while it thinks; the system prompt asks for it instead
        elif len(tools) == 1:
            body["tool_choice"] = {"type": "tool", "name": FORMAT_TOOL_NAME, "disable_parallel_tool_use": True}
        else:  # the user's tools may run first; some tool must be called, the answer's last
            body["tool_choice"] = {"type": "any"}
    # JSON mode: Claude has no switch for it; the instructions in the system prompt are all.


def tool_definition(tool: llm.Tool[..., Any]) -> dict[str, Any]:
    """One entry of `tools`: a tool Claude may call."""
    schema = tool.parameters
    if schema.get("type") != "object":
        # The API takes only object schemas; `parameters` is shared, so it is copied, not changed.
        schema = {**schema, "type": "object"}
    definition: dict[str, Any] = {"name": tool.name, "input_schema": schema}
    if tool.description:
        definition["description"] = tool.description
    if tool.strict:
        definition["strict"] = True
    if tool.cache_control is not None:
        definition["cache_control"] = _cache_control(tool.cache_control)
    return definition


def web_search_definition(tool: llm.WebSearch) -> dict[str, Any]:
    """One entry of `tools`: the web search server tool, which Anthropic runs itself."""
    definition: dict[str, Any] = {"type": WEB_SEARCH_TOOL, "name": "web_search"}
    if tool.max_uses is not None:
        definition["max_uses"] = tool.max_uses
    if tool.allowed_domains is not None:
        definition["allowed_domains"] = list(tool.allowed_domains)
    if tool.user_location is not None:
        definition["user_location"] = tool.user_location.approximate()
    return definition


def encode(request: Request, *, format_mode: llm.FormatMode | None = None, strict: bool = False) -> dict[str, Any]:
    """The Messages API body for a request.

    `format_mode` and `strict` say how to ask for `request.format` (see
    `llm.providers.format_request`, which also puts its instructions in the messages). The
    call parameters are handled as `PARAMETERS` declares.

    Raises:
        FeatureNotSupportedError: A part or parameter the model cannot take.
    """
    check_params(request, PARAMETERS)
    caps = capabilities(request.model)
    messages: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            _system(request, message, system)
        else:
            encoded = _message(request, message)
            if encoded is not None:
                messages.append(encoded)
    params = request.params
    max_tokens = params.get("max_tokens", caps.default_max_tokens)
    body: dict[str, Any] = {"model": request.model, "max_tokens": max_tokens, "messages": messages}
    if system:
        body["system"] = system[0]["text"] if len(system) == 1 and "cache_control" not in system[0] else system
    if params:
        if "temperature" in params:
            body["temperature"] = params["temperature"]
        if "top_p" in params:
            body["top_p"] = params["top_p"]
        if "top_k" in params:
            body["top_k"] = params["top_k"]
        if "stop" in params:
            stop = params["stop"]
            body["stop_sequences"] = [stop] if isinstance(stop, str) else stop
        thinking = params.get("thinking")
        if thinking is not None:
            _thinking(request, caps, thinking, body, max_tokens)
    if request.tools:
        body["tools"] = [tool_definition(tool) for tool in request.tools]
    if request.provider_tools:
        body.setdefault("tools", []).extend(web_search_definition(tool) for tool in request.provider_tools)
    if request.format is not None and format_mode is not None:
        _format(request.format, format_mode, strict, body)
    if request.stream:
        body["stream"] = True
    if request.provider_params:
        body = merge_provider_params(request, body, owned=OWNED)
    return body
