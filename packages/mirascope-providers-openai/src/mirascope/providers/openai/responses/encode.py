"""llm → Responses API JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mirascope import llm
from mirascope.llm.providers import (
    FORMAT_TOOL_NAME,
    ParamHandling,
    Request,
    check_params,
    media_url,
    merge_provider_params,
    refusal,
    refuse_tool_cache_breakpoints,
)

from .._shared import (
    REASONING_SAMPLING,
    data_url,
    document_text,
    objs,
    own_message,
    reasoning_effort,
    refuse_part,
    sampling_params,
    tool_arguments,
)

_API = "the Responses API"
OWNED = frozenset({"model", "input", "stream"})
"""Body keys Mirascope always sets from the call itself, which `provider_params` may not."""

PARAMETERS: Mapping[str, ParamHandling] = {
    "temperature": ParamHandling.send("temperature", note=REASONING_SAMPLING),
    "max_tokens": ParamHandling.send("max_output_tokens"),
    "top_p": ParamHandling.send("top_p", note=REASONING_SAMPLING),
    "top_k": ParamHandling.warn("the API has no top_k"),
    "seed": ParamHandling.warn("the Responses API has no seed"),
    "stop": ParamHandling.warn("the Responses API has no stop sequences; use 'openai-completions:'"),
    "thinking": ParamHandling.send(
        "reasoning.effort",
        note='with `summary: "auto"` when `include`; a model known not to reason refuses any level but '
        '`"none"` and `"minimal"`',
    ),
}
"""How the Responses API (`openai:`, `azure:`) takes each call parameter."""


def _user_part(request: Request, part: llm.ContentPart) -> dict[str, Any]:
    if isinstance(part, llm.Text):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, llm.Image):
        if part.url is not None:
            return {"type": "input_image", "image_url": media_url(request, part, reader=_API)}
        return {"type": "input_image", "image_url": data_url(part.mime_type, part.data or "")}
    if isinstance(part, llm.Document):
        if part.url is not None:
            return {"type": "input_file", "file_url": media_url(request, part, reader=_API)}
        if part.mime_type == "application/pdf":
            return {
                "type": "input_file",
                "file_data": data_url(part.mime_type, part.data or ""),
                "filename": "document.pdf",
            }
        return {"type": "input_text", "text": document_text(part)}
    if isinstance(part, llm.Audio):
        raise refusal(
            request,
            "Audio",
            "the Responses API takes no audio input; use 'openai-completions:gpt-audio'",
        )
    raise refuse_part(request, part)


def _user(request: Request, message: llm.Message, out: list[dict[str, Any]]) -> None:
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, llm.ToolOutput):
            # Parts a tool returned go as an output list, encoded as a user message's parts are.
            output: str | list[dict[str, Any]] = (
                [_user_part(request, item) for item in part.content if not isinstance(item, llm.Text) or item.text]
                if part.content
                else part.result
            )
            out.append({"type": "function_call_output", "call_id": part.id, "output": output})
        else:
            parts.append(_user_part(request, part))
    if not parts:
        return
    if len(parts) == 1 and parts[0]["type"] == "input_text":
        out.append({"role": "user", "content": parts[0]["text"]})
    else:
        out.append({"role": "user", "type": "message", "content": parts})


def _assistant(request: Request, message: llm.Message, out: list[dict[str, Any]]) -> None:
    # Only the same provider can read its own reasoning items: OpenAI's encrypted reasoning means
    # nothing to Azure's keys, nor Azure's to OpenAI's.
    raw_items = objs(message.raw) if own_message(request, message) else []
    if raw_items:
        # The output items as received: ids, reasoning and its encrypted content go back unchanged.
        out.extend(raw_items)
        return
    text: list[str] = []
    for part in message.content:
        if isinstance(part, llm.Text):
            text.append(part.text)
        elif isinstance(part, llm.ToolCall):
            out.append(
                {
                    "type": "function_call",
                    "call_id": part.id,
                    "name": part.name,
                    "arguments": tool_arguments(part),
                }
            )
        elif isinstance(part, llm.Thought):
            continue  # Reasoning from another provider cannot be replayed to OpenAI.
        else:
            raise refusal(
                request,
                f"{type(part).__name__} in an assistant message",
                "assistant messages hold text and tool calls",
            )
    # Each text part as its own assistant item: separate parts stay separate (a thought written
    # out as text, then the answer).
    out.extend({"role": "assistant", "content": piece} for piece in text)


def encode(request: Request, *, format_mode: llm.FormatMode | None = None, strict: bool = False) -> dict[str, Any]:
    """The Responses API body for a request.

    `format_mode` and `strict` say how to ask for `request.format` (see
    `llm.providers.format_request`, which also puts its instructions in the messages). The
    call parameters are handled as `PARAMETERS` declares.

    Raises:
        FeatureNotSupportedError: A part, parameter or setting the API cannot take.
    """
    check_params(request, PARAMETERS)
    items: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "user":
            _user(request, message, items)
        elif message.role == "assistant":
            _assistant(request, message, items)
        else:
            for part in message.content:
                if not isinstance(part, llm.Text):
                    raise refusal(
                        request,
                        f"{type(part).__name__} in a system message",
                        "system messages hold text only",
                    )
            items.append({"role": "system", "content": message.text})
    body: dict[str, Any] = {"input": items, "model": request.model}
    params = request.params
    sampling_params(request, body, top_k=False)
    if "max_tokens" in params:
        body["max_output_tokens"] = params["max_tokens"]
    effort = reasoning_effort(request)
    if effort is not None:
        thinking = params.get("thinking")
        include = effort != "none" and (not isinstance(thinking, llm.Thinking) or thinking.include)
        body["reasoning"] = {"effort": effort, "summary": "auto"} if include else {"effort": effort}
    if request.tools:
        refuse_tool_cache_breakpoints(request)
        body["tools"] = [tool_definition(tool) for tool in request.tools]
    if request.provider_tools:
        # Before the answer's tool: beside a hosted tool it is required, not forced, so the
        # model can still search first.
        _web_search(request.provider_tools, body)
    if request.format is not None and format_mode is not None:
        _format(request.format, format_mode, strict, body)
    if request.stream:
        body["stream"] = True
    if request.provider_params:
        body = merge_provider_params(request, body, owned=OWNED)
    return body


def _format(format: llm.Format[Any], mode: llm.FormatMode, strict: bool, body: dict[str, Any]) -> None:
    schema = format.schema_for(strict)
    if mode == "native":
        text_format: dict[str, Any] = {"type": "json_schema", "name": format.name, "schema": schema, "strict": strict}
        if format.description:
            text_format["description"] = format.description
        body["text"] = {"format": text_format}
    elif mode == "tool":
        tools = body.setdefault("tools", [])
        tools.append(
            {
                "type": "function",
                "name": FORMAT_TOOL_NAME,
                "description": format.tool_description,
                "parameters": schema,
                "strict": strict,
            }
        )
        # Alone, the answer's tool is forced; beside the user's tools, some call is required,
        # and the answer's ends the loop.
        body["tool_choice"] = {"type": "function", "name": FORMAT_TOOL_NAME} if len(tools) == 1 else "required"
    else:
        body["text"] = {"format": {"type": "json_object"}}


def _web_search(tools: Sequence[llm.WebSearch], body: dict[str, Any]) -> None:
    definitions = body.setdefault("tools", [])
    for tool in tools:
        definition: dict[str, Any] = {"type": "web_search"}
        if tool.allowed_domains is not None:
            definition["filters"] = {"allowed_domains": list(tool.allowed_domains)}
        if tool.user_location is not None:
            definition["user_location"] = tool.user_location.approximate()
        definitions.append(definition)
    limits = [tool.max_uses for tool in tools if tool.max_uses is not None]
    if limits:
        # A cap on every hosted tool call of the reply; web search being the only hosted tool
        # offered, it caps the searches.
        body["max_tool_calls"] = min(limits)


def tool_definition(tool: llm.Tool[..., Any]) -> dict[str, Any]:
    """One entry of `tools`: a Responses function tool."""
    definition: dict[str, Any] = {"type": "function", "name": tool.name}
    if tool.description:
        definition["description"] = tool.description
    definition["parameters"] = tool.parameters
    # Always sent: the Responses API takes a missing `strict` as true, unlike Chat Completions.
    definition["strict"] = tool.strict
    return definition
