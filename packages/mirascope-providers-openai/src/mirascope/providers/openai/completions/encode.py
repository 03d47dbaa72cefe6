"""llm → Chat Completions JSON."""

from __future__ import annotations

from typing import Any

from mirascope import llm
from mirascope.llm.providers import (
    FORMAT_TOOL_NAME,
    PROVIDER_TOOLS_HINT,
    Request,
    refuse_provider_tools,
    refuse_tool_cache_breakpoints,
    warn_ignored,
)

from .._shared import (
    data_url,
    document_text,
    reasoning_effort,
    refuse,
    refuse_part,
    sampling_params,
    tool_arguments,
)
from ..capabilities import AUDIO_FORMATS, takes_audio_input


def _user_part(request: Request, part: llm.ContentPart) -> dict[str, Any]:
    if isinstance(part, llm.Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, llm.Image):
        url = part.url if part.url is not None else data_url(part.mime_type, part.data or "")
        return {"type": "image_url", "image_url": {"url": url}}
    if isinstance(part, llm.Audio):
        if part.data is None:
            raise refuse(
                request,
                "Audio by URL",
                "Chat Completions takes audio inline only; use llm.Audio.from_file or from_bytes",
            )
        audio_format = AUDIO_FORMATS.get(part.mime_type or "")
        if audio_format is None:
            raise refuse(request, f"{part.mime_type} audio", "Chat Completions takes mp3 and wav audio")
        if request.model_id.startswith("openai-completions:") and not takes_audio_input(request.model):
            raise refuse(
                request,
                "Audio",
                "audio input needs an audio model such as 'openai-completions:gpt-audio'",
            )
        return {"type": "input_audio", "input_audio": {"data": part.data, "format": audio_format}}
    if isinstance(part, llm.Document):
        if part.data is None:
            raise refuse(
                request,
                "Document by URL",
                "Chat Completions takes documents inline only; use the 'openai:' Responses API or from_file",
            )
        if part.mime_type == "application/pdf":
            return {
                "type": "file",
                "file": {
                    "file_data": data_url(part.mime_type, part.data),
                    "filename": "document.pdf",
                },
            }
        return {"type": "text", "text": document_text(part)}
    raise refuse_part(request, part)


def _user(request: Request, message: llm.Message, out: list[dict[str, Any]]) -> None:
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, llm.ToolOutput):
            out.append({"role": "tool", "tool_call_id": part.id, "content": part.result})
        else:
            parts.append(_user_part(request, part))
    if not parts:
        return
    if len(parts) == 1 and parts[0]["type"] == "text":
        out.append({"role": "user", "content": parts[0]["text"]})
    else:
        out.append({"role": "user", "content": parts})


def _assistant(request: Request, message: llm.Message) -> dict[str, Any]:
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, llm.Text):
            text.append(part.text)
        elif isinstance(part, llm.ToolCall):
            calls.append(
                {
                    "id": part.id,
                    "type": "function",
                    "function": {"name": part.name, "arguments": tool_arguments(part)},
                }
            )
        elif isinstance(part, llm.Thought):
            continue  # Chat Completions has no field for past reasoning; the model re-reasons.
        else:
            raise refuse(
                request,
                f"{type(part).__name__} in an assistant message",
                "Chat Completions assistant messages hold text and tool calls",
            )
    content: str | list[dict[str, str]] | None = None
    if len(text) > 1:
        # Separate parts stay separate (a thought written out as text, then the answer).
        content = [{"type": "text", "text": piece} for piece in text]
    elif text or not calls:
        content = "".join(text)
    encoded: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        encoded["tool_calls"] = calls
    return encoded


def _system(request: Request, message: llm.Message) -> dict[str, Any]:
    for part in message.content:
        if not isinstance(part, llm.Text):
            raise refuse(
                request,
                f"{type(part).__name__} in a system message",
                "system messages hold text only",
            )
    return {"role": "system", "content": message.text}


def _refuse_provider_tools(request: Request) -> None:
    provider = request.model_id.partition(":")[0]
    if provider == "openai-completions":
        why = f"Chat Completions runs no tools of its own; use 'openai:{request.model}', the Responses API, which does"
    else:
        why = f"the {provider!r} provider runs no tools of its own; {PROVIDER_TOOLS_HINT}"
    refuse_provider_tools(request, why)


def encode(
    request: Request, *, top_k: bool, format_mode: llm.FormatMode | None = None, strict: bool = False
) -> dict[str, Any]:
    """The Chat Completions body for a request.

    `format_mode` and `strict` say how to ask for `request.format` (see
    `llm.providers.format_request`, which also puts its instructions in the messages).

    Raises:
        FeatureNotSupportedError: A part, parameter or provider tool the API cannot take.
    """
    if request.provider_tools:
        _refuse_provider_tools(request)
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "user":
            _user(request, message, messages)
        elif message.role == "assistant":
            messages.append(_assistant(request, message))
        else:
            messages.append(_system(request, message))
    body: dict[str, Any] = {"messages": messages, "model": request.model}
    params = request.params
    reasoning = sampling_params(request, body, top_k=top_k)
    if "max_tokens" in params:
        # Reasoning models refuse `max_tokens`; older and compatible servers know only it.
        body["max_completion_tokens" if reasoning else "max_tokens"] = params["max_tokens"]
    if "seed" in params:
        body["seed"] = params["seed"]
    if "stop" in params:
        if reasoning:
            warn_ignored(request.model_id, "stop", "reasoning models refuse stop sequences")
        else:
            stop = params["stop"]
            body["stop"] = [stop] if isinstance(stop, str) else stop
    effort = reasoning_effort(request, reasoning=reasoning)
    if effort is not None:
        body["reasoning_effort"] = effort
    if request.tools:
        refuse_tool_cache_breakpoints(request)
        body["tools"] = [
            tool_definition(tool.name, tool.description, tool.parameters, tool.strict) for tool in request.tools
        ]
    if request.format is not None and format_mode is not None:
        _format(request.format, format_mode, strict, body)
    if request.stream:
        body["stream"] = True
        # Without this, a stream reports no token counts at all.
        body["stream_options"] = {"include_usage": True}
    if request.provider_params:
        body.update(request.provider_params)
    return body


def tool_definition(name: str, description: str | None, parameters: dict[str, Any], strict: bool) -> dict[str, Any]:
    """One entry of `tools`."""
    function: dict[str, Any] = {"name": name, "parameters": parameters}
    if description:
        function["description"] = description
    if strict:
        function["strict"] = True
    return {"type": "function", "function": function}


def _format(format: llm.Format[Any], mode: llm.FormatMode, strict: bool, body: dict[str, Any]) -> None:
    schema = format.schema_for(strict)
    if mode == "native":
        json_schema: dict[str, Any] = {"name": format.name, "schema": schema, "strict": strict}
        if format.description:
            json_schema["description"] = format.description
        body["response_format"] = {"type": "json_schema", "json_schema": json_schema}
    elif mode == "tool":
        tools = body.setdefault("tools", [])
        tools.append(tool_definition(FORMAT_TOOL_NAME, format.tool_description, schema, strict))
        if len(tools) == 1:
            body["tool_choice"] = {"type": "function", "function": {"name": FORMAT_TOOL_NAME}}
            body["parallel_tool_calls"] = False
        else:  # the model may call the user's tools first; it must end with the answer's
            body["tool_choice"] = "required"
    else:
        body["response_format"] = {"type": "json_object"}
