"""llm → Chat Completions JSON."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any, cast

from mirascope import llm
from mirascope.llm.providers import (
    FORMAT_TOOL_NAME,
    PROVIDER_TOOLS_HINT,
    ParamHandling,
    Request,
    check_params,
    media_url,
    merge_provider_params,
    refusal,
    refuse_provider_tools,
    refuse_tool_cache_breakpoints,
    warn_ignored,
)

from .._shared import (
    REASONING_SAMPLING,
    data_url,
    document_text,
    obj,
    own_message,
    reasoning_effort,
    refuse_part,
    sampling_params,
    tool_arguments,
)
from ..capabilities import AUDIO_FORMATS, reasoning_efforts, takes_audio_input
from ..services import Service

_API = "Chat Completions"
OWNED = frozenset({"model", "messages", "stream"})
"""Body keys Mirascope always sets from the call itself, which `provider_params` may not."""

# Where each service's `thinking_param` puts a level, and what else it sends.
_THINKING: dict[str, tuple[str, str]] = {
    "reasoning_effort": ("reasoning_effort", ""),
    "reasoning": ("reasoning.effort", "`reasoning.max_tokens` for a budget, `reasoning.exclude` without `include`"),
    "thinking": ("thinking.type", "`enabled` or `disabled`, with `reasoning_effort` while it is on"),
    "reasoning.enabled": ("reasoning.enabled", "on hybrid models; `reasoning_effort` on models with levels (gpt-oss)"),
}
_NOT_REASONING = 'a model known not to reason refuses any level but `"none"` and `"minimal"`'


@cache
def parameters(service: Service, *, top_k: bool | None = None) -> Mapping[str, ParamHandling]:
    """How Chat Completions on `service` takes each call parameter.

    `top_k` overrides the service's own `top_k` (a server known to take it, such as llama.cpp's).
    """
    wire, how = _THINKING[service.thinking_param]
    # Read-only: one mapping, cached, is shared by every request to the service.
    return MappingProxyType(
        {
            "temperature": ParamHandling.send("temperature", note=REASONING_SAMPLING),
            "max_tokens": ParamHandling.send("max_tokens", note="`max_completion_tokens` on reasoning models"),
            "top_p": ParamHandling.send("top_p", note=REASONING_SAMPLING),
            "top_k": (
                ParamHandling.send("top_k")
                if (service.top_k if top_k is None else top_k)
                else ParamHandling.warn("the API has no top_k")
            ),
            "seed": ParamHandling.send(service.seed_field),
            "stop": ParamHandling.send(
                "stop", note="left out with a logged warning on reasoning models, which refuse stop sequences"
            ),
            "thinking": ParamHandling.send(wire, note=f"{how}; {_NOT_REASONING}" if how else _NOT_REASONING),
        }
    )


def _user_part(request: Request, part: llm.ContentPart, service: Service) -> dict[str, Any]:
    if isinstance(part, llm.Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, llm.Image):
        if part.url is not None:
            return {"type": "image_url", "image_url": {"url": media_url(request, part, reader=_API)}}
        return {"type": "image_url", "image_url": {"url": data_url(part.mime_type, part.data or "")}}
    if isinstance(part, llm.Audio):
        return _audio(request, part, service)
    if isinstance(part, llm.Document):
        return _document(request, part, service)
    raise refuse_part(request, part)


def _audio(request: Request, part: llm.Audio, service: Service) -> dict[str, Any]:
    if service.media == "mistral":
        # Mistral documents inline audio as the base64 text itself, and audio it fetches as
        # OpenAI's object with the URL for its data.
        if part.url is None:
            return {"type": "input_audio", "input_audio": part.data}
        url = media_url(request, part, reader="Mistral")
        mime = part.mime_type or ""
        audio_format = AUDIO_FORMATS.get(mime) or mime.partition("/")[2]
        if not audio_format:
            raise refusal(
                request,
                "Audio by URL of unknown type",
                "Mistral needs the audio's format; pass it, e.g. llm.Audio.from_url(url, mime_type='audio/mpeg')",
            )
        return {"type": "input_audio", "input_audio": {"data": url, "format": audio_format}}
    if part.data is None:
        media_url(request, part, reader=_API)  # another scheme is refused as such
        raise refusal(
            request,
            "Audio by URL",
            "Chat Completions takes audio inline only; pass the bytes with llm.Audio.from_file(...) "
            "or llm.Audio.from_bytes(...)",
        )
    audio_format = AUDIO_FORMATS.get(part.mime_type or "")
    if audio_format is None:
        raise refusal(request, f"{part.mime_type} audio", "Chat Completions takes mp3 and wav audio")
    if request.model_id.startswith("openai-completions:") and not takes_audio_input(request.model):
        raise refusal(
            request,
            "Audio",
            "audio input needs an audio model such as 'openai-completions:gpt-audio'",
        )
    return {"type": "input_audio", "input_audio": {"data": part.data, "format": audio_format}}


def _document(request: Request, part: llm.Document, service: Service) -> dict[str, Any]:
    # A document by URL with no known type is taken for a PDF, as every API that fetches one does.
    if part.mime_type is not None and part.mime_type != "application/pdf":
        if part.data is None:
            media_url(request, part, reader=_API)
            raise refusal(
                request,
                "text Document by URL",
                "text documents are sent as text, so they must be inline; pass the bytes with "
                "llm.Document.from_file(...) or llm.Document.from_bytes(...)",
            )
        return {"type": "text", "text": document_text(part)}
    if part.url is not None:
        url = media_url(request, part, reader=_API)
        if service.media == "mistral":
            return {"type": "document_url", "document_url": url}
        if service.media == "openrouter":  # OpenRouter fetches a PDF's URL given as its file data
            name = url.partition("?")[0].rsplit("/", 1)[-1]
            name = name if name.lower().endswith(".pdf") else "document.pdf"
            return {"type": "file", "file": {"filename": name, "file_data": url}}
        raise refusal(
            request,
            "Document by URL",
            "Chat Completions takes PDF documents inline only; pass the bytes with llm.Document.from_file(...) "
            "or llm.Document.from_bytes(...)"
            + (
                ", or use the 'openai:' Responses API, which fetches URLs"
                if request.model_id.startswith("openai-completions:")
                else ""
            ),
        )
    pdf = data_url("application/pdf", part.data or "")
    if service.media == "mistral":
        return {"type": "document_url", "document_url": pdf}
    return {"type": "file", "file": {"file_data": pdf, "filename": "document.pdf"}}


def _tool_text(request: Request, output: llm.ToolOutput, attachments: list[dict[str, Any]], service: Service) -> str:
    """A tool message's text; the media the tool returned is added to `attachments`."""
    media = [part for part in output.content if not isinstance(part, llm.Text)]
    if not media:
        return output.result
    attachments.append({"type": "text", "text": f"Attached by the {output.name} tool (call {output.id}):"})
    attachments.extend(_user_part(request, part, service) for part in media)
    note = f"({len(media)} attachment{'s' if len(media) > 1 else ''} from this tool follow in the next user message.)"
    return f"{output.result}\n{note}" if output.result else note


def _user(request: Request, message: llm.Message, out: list[dict[str, Any]], service: Service) -> None:
    parts: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, llm.ToolOutput):
            out.append(
                {"role": "tool", "tool_call_id": part.id, "content": _tool_text(request, part, attachments, service)}
            )
        else:
            parts.append(_user_part(request, part, service))
    # Tool messages take text only: media a tool returned follows in a user message, after every
    # tool message (the API wants those right after the calls).
    parts[:0] = attachments
    if not parts:
        return
    if len(parts) == 1 and parts[0]["type"] == "text":
        out.append({"role": "user", "content": parts[0]["text"]})
    else:
        out.append({"role": "user", "content": parts})


def _assistant(request: Request, message: llm.Message, service: Service) -> dict[str, Any]:
    pieces: list[dict[str, Any]] = []  # the content parts, in order
    calls: list[dict[str, Any]] = []
    thoughts: list[str] = []
    # Reasoning goes back only to the service that wrote it, and only where it keeps reasoning
    # across turns; another provider's thoughts are not this service's to read.
    back = service.reasoning_back if own_message(request, message) else None
    for part in message.content:
        if isinstance(part, llm.Text):
            pieces.append({"type": "text", "text": part.text})
        elif isinstance(part, llm.ToolCall):
            calls.append(
                {
                    "id": part.id,
                    "type": "function",
                    "function": {"name": part.name, "arguments": tool_arguments(part)},
                }
            )
        elif isinstance(part, llm.Thought):
            if back is None or not part.text:
                continue
            if back == "content":
                pieces.append({"type": "thinking", "thinking": [{"type": "text", "text": part.text}]})
            else:
                thoughts.append(part.text)
        else:
            raise refusal(
                request,
                f"{type(part).__name__} in an assistant message",
                "Chat Completions assistant messages hold text and tool calls",
            )
    content: str | list[dict[str, Any]] | None = None
    if len(pieces) > 1 or (pieces and pieces[0]["type"] != "text"):
        # Separate parts stay separate (a thought written out as text, then the answer).
        content = pieces
    elif pieces:
        content = pieces[0]["text"]
    elif not calls:
        content = ""
    encoded: dict[str, Any] = {"role": "assistant", "content": content}
    if thoughts:
        encoded[cast(str, back)] = "\n\n".join(thoughts)
        details = obj(message.raw).get("reasoning_details")
        if details:  # OpenRouter's reasoning as the model's provider wrote it: signatures, encrypted parts
            encoded["reasoning_details"] = details
    if calls:
        encoded["tool_calls"] = calls
    return encoded


def _system(request: Request, message: llm.Message) -> dict[str, Any]:
    for part in message.content:
        if not isinstance(part, llm.Text):
            raise refusal(
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
    request: Request,
    *,
    service: Service,
    parameters: Mapping[str, ParamHandling],
    format_mode: llm.FormatMode | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """The Chat Completions body for a request.

    `format_mode` and `strict` say how to ask for `request.format` (see
    `llm.providers.format_request`, which also puts its instructions in the messages);
    `service` says how the service takes `thinking=` and earlier reasoning; the call
    parameters are handled as `parameters` (the provider's declaration) says.

    Raises:
        FeatureNotSupportedError: A part, parameter or provider tool the API cannot take.
    """
    check_params(request, parameters)
    if request.provider_tools:
        _refuse_provider_tools(request)
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "user":
            _user(request, message, messages, service)
        elif message.role == "assistant":
            messages.append(_assistant(request, message, service))
        else:
            messages.append(_system(request, message))
    body: dict[str, Any] = {"messages": messages, "model": request.model}
    params = request.params
    reasoning = sampling_params(request, body, top_k=parameters["top_k"].action == "send")
    if "max_tokens" in params:
        # Reasoning models refuse `max_tokens`; older and compatible servers know only it.
        body["max_completion_tokens" if reasoning else "max_tokens"] = params["max_tokens"]
    if "seed" in params:
        body[service.seed_field] = params["seed"]
    if "stop" in params:
        if reasoning:
            warn_ignored(request.model_id, "stop", "reasoning models refuse stop sequences")
        else:
            stop = params["stop"]
            body["stop"] = [stop] if isinstance(stop, str) else stop
    effort = reasoning_effort(request)
    if effort is not None:
        _thinking(request, service, effort, body)
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
        body = merge_provider_params(request, body, owned=OWNED)
    return body


def _thinking(request: Request, service: Service, effort: str, body: dict[str, Any]) -> None:
    if service.thinking_param == "reasoning":
        thinking = request.params.get("thinking")
        settings = thinking if isinstance(thinking, llm.Thinking) else llm.Thinking()
        reasoning: dict[str, Any] = (
            {"max_tokens": settings.budget_tokens} if settings.budget_tokens else {"effort": effort}
        )
        if not settings.include:
            reasoning["exclude"] = True
        body["reasoning"] = reasoning
    elif service.thinking_param == "thinking":
        body["thinking"] = {"type": "disabled" if effort == "none" else "enabled"}
        if effort != "none":
            body["reasoning_effort"] = effort
    elif service.thinking_param == "reasoning.enabled" and not reasoning_efforts(request.model):
        # A hybrid model (Qwen, DeepSeek, GLM, Kimi...) turns thinking on or off; it has no levels.
        body["reasoning"] = {"enabled": effort != "none"}
    else:
        body["reasoning_effort"] = effort


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
