"""llm → Converse JSON (`POST /model/{modelId}/converse`, `/converse-stream`: the same body)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import quote

from mirascope import llm
from mirascope.llm.providers import (
    FORMAT_TOOL_NAME,
    PROVIDER_TOOLS_HINT,
    ParamHandling,
    Request,
    check_params,
    format_request,
    merge_provider_params,
    refusal,
    refuse_provider_tools,
    refuse_unsupported_media,
    warn_ignored,
)

from .capabilities import Capabilities, MediaKind, base_model, capabilities

__all__ = [
    "DEFAULT_THINKING_BASE",
    "MIN_THINKING_BUDGET",
    "OWNED",
    "PARAMETERS",
    "THINKING_SHARES",
    "encode",
    "model_path",
    "tool_definition",
]

OWNED = frozenset({"messages", "system"})
"""Body keys Mirascope always sets from the call itself, which `provider_params` may not (the
model and streaming are in the URL)."""

PARAMETERS: Mapping[str, ParamHandling] = {
    "temperature": ParamHandling.send("inferenceConfig.temperature"),
    "max_tokens": ParamHandling.send(
        "inferenceConfig.maxTokens", note="left out when not given: Bedrock applies the model's own default"
    ),
    "top_p": ParamHandling.send("inferenceConfig.topP"),
    "top_k": ParamHandling.send(
        "additionalModelRequestFields.top_k",
        note="Converse's `inferenceConfig` has no `topK`, so it goes in the model family's own fields: Nova "
        "takes `additionalModelRequestFields.inferenceConfig.topK`; Llama has none and refuses it",
    ),
    "seed": ParamHandling.warn("Converse has no seed"),
    "stop": ParamHandling.send("inferenceConfig.stopSequences", note="a string becomes a one-item list"),
    "thinking": ParamHandling.send(
        "additionalModelRequestFields.thinking",
        note="each family's own field: Claude `thinking` (`enabled` with `budget_tokens`, or `disabled`); Nova 2 "
        "`reasoningConfig`; gpt-oss `reasoning_effort`; DeepSeek-R1 and Kimi K2 Thinking always reason and take "
        "no setting; a model known not to reason refuses any level but `none` and `minimal`",
    ),
}
"""How Converse takes each call parameter."""

MIN_THINKING_BUDGET = 1024
"""The smallest `budget_tokens` Claude accepts."""

DEFAULT_THINKING_BASE = 16000
"""The `max_tokens` a thinking level's share is taken of when the call sets none."""

THINKING_SHARES = {"minimal": 0.0, "low": 0.2, "medium": 0.4, "high": 0.6}
"""The share of `max_tokens` each `thinking=` level may spend thinking (Claude), as `anthropic:` does."""

_IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
_DOCUMENT_FORMATS = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/csv": "csv",
    "text/html": "html",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
_VIDEO_FORMATS = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "video/x-matroska": "mkv",
    "video/x-flv": "flv",
    "video/mpeg": "mpeg",
    "video/x-ms-wmv": "wmv",
    "video/3gpp": "three_gp",
}
_AUDIO_FORMATS = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/flac": "flac",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/aac": "aac",
    "audio/mp4": "m4a",
    "audio/webm": "webm",
}
_FORMATS: dict[MediaKind, tuple[dict[str, str], str]] = {
    "image": (_IMAGE_FORMATS, "JPEG, PNG, GIF and WebP images"),
    "document": (_DOCUMENT_FORMATS, "PDF, text, Markdown, CSV, HTML, Word and Excel documents"),
    "video": (_VIDEO_FORMATS, "MP4, MOV, WebM, MKV, FLV, MPEG, WMV and 3GP video"),
    "audio": (_AUDIO_FORMATS, "MP3, WAV, FLAC, OGG, Opus, AAC, M4A and WebM audio"),
}
_KINDS: dict[type[llm.Image | llm.Audio | llm.Video | llm.Document], MediaKind] = {
    llm.Image: "image",
    llm.Document: "document",
    llm.Video: "video",
    llm.Audio: "audio",
}


def _filler_turn() -> dict[str, Any]:
    """The assistant turn put between a tool-result turn and what follows it.

    For the families that take nothing else in a tool result's turn: Converse takes no two turns
    of one role in a row.
    """
    return {"role": "assistant", "content": [{"text": "."}]}


def model_path(model: str) -> str:
    """The model id as it goes in the URL path: every reserved character escaped (`:` → `%3A`, `/` → `%2F`)."""
    return quote(model, safe="")


def _cache_point(part: llm.CacheControl) -> dict[str, Any]:
    return {"cachePoint": {"type": "default", "ttl": "1h"}} if part.ttl == "1h" else {"cachePoint": {"type": "default"}}


class _Encoder:
    """One request's encoding: the model's capabilities, and the documents named so far."""

    __slots__ = ("caps", "documents", "request")

    def __init__(self, request: Request, caps: Capabilities) -> None:
        self.request = request
        self.caps = caps
        self.documents = 0

    # --- media ------------------------------------------------------------------------------

    def media(self, part: llm.Image | llm.Audio | llm.Video | llm.Document) -> dict[str, Any]:
        """A Converse image, document, video or audio block."""
        request = self.request
        kind = _KINDS[type(part)]
        formats, takes = _FORMATS[kind]
        name = type(part).__name__
        mime = part.mime_type
        if part.url is not None:
            url = part.url
            scheme = url.partition(":")[0].lower() if ":" in url else ""
            if scheme in ("http", "https"):
                raise refusal(
                    request,
                    f"{name} by {scheme}:// URL",
                    f"Bedrock reads media only as bytes or from Amazon S3; pass the bytes with "
                    f"llm.{name}.from_file(...) or llm.{name}.from_bytes(...), or an s3:// URL",
                )
            if scheme != "s3":
                given = f"{scheme}:// URL" if scheme else "URL without a scheme"
                raise refusal(
                    request,
                    f"{name} by {given}",
                    f"Bedrock reads media only as bytes or from s3:// URLs; pass the bytes with "
                    f"llm.{name}.from_file(...)",
                )
            if self.caps.known and not self.caps.takes_s3:
                raise refusal(
                    request,
                    f"{name} by s3:// URL",
                    f"this model reads no media from Amazon S3; pass the bytes with llm.{name}.from_file(...) "
                    f"or llm.{name}.from_bytes(...), or use an Amazon Nova model",
                )
            source: dict[str, Any] = {"s3Location": {"uri": url}}
        else:
            source = {"bytes": part.data}
        wire_format = formats.get(mime or "")
        if wire_format is None and kind == "document" and mime is not None and mime.startswith("text/"):
            wire_format = "txt"  # any other text is text to the model
        if wire_format is None:
            if mime is None:
                raise refusal(
                    request,
                    f"{name} of unknown type",
                    f"say what it is with mime_type=, e.g. llm.{name}.from_url(url, mime_type=...); "
                    f"Bedrock takes {takes}",
                )
            raise refusal(request, f"{mime} {kind}s", f"Bedrock takes {takes}")
        block: dict[str, Any] = {"format": wire_format, "source": source}
        if kind == "document":
            self.documents += 1
            # Converse requires a name for each document, unique within the request.
            block = {"name": f"Document {self.documents}", **block}
        return {kind: block}

    # --- messages ---------------------------------------------------------------------------

    def system(self, message: llm.Message, out: list[dict[str, Any]]) -> None:
        for part in message.content:
            if isinstance(part, llm.Text):
                out.append({"text": part.text})
            elif isinstance(part, llm.CacheControl):
                out.append(_cache_point(part))
            else:
                raise refusal(
                    self.request,
                    f"{type(part).__name__} in a system message",
                    "Converse's system prompt holds text only; put media in a user message",
                )

    def tool_result(self, output: llm.ToolOutput, moved: list[dict[str, Any]]) -> dict[str, Any]:
        """A `toolResult` block; media the model takes only outside one goes to `moved`, named in it."""
        content: list[dict[str, Any]] = []
        if output.content:
            for part in output.content:
                if isinstance(part, llm.Text):
                    if part.text:
                        content.append({"text": part.text})
                    continue
                kind = _KINDS[type(part)]
                block = self.media(part)
                if kind in self.caps.in_tool_result:
                    content.append(block)
                    continue
                # Sent after the tool result, where the model takes it, under a name both places give.
                named = part.to_bytes() if part.data is not None else (part.url or "").encode()
                label = hashlib.sha1(named, usedforsecurity=False).hexdigest()[:6]
                content.append({"text": f"See file {label}."})
                moved.extend(({"text": f"This is file {label}:"}, block))
        elif output.result:
            content.append({"text": output.result})
        result: dict[str, Any] = {"toolUseId": output.id, "content": content}
        if output.is_error:
            result["status"] = "error"
        elif self.caps.family != "writer":  # Palmyra takes no status on a result that succeeded
            result["status"] = "success"
        return {"toolResult": result}

    def user(self, message: llm.Message) -> list[dict[str, Any]]:
        """One user message's turns: one, or a tool-result turn and the rest where the model needs it so."""
        results: list[dict[str, Any]] = []
        moved: list[dict[str, Any]] = []
        rest: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, llm.Text):
                rest.append({"text": part.text})
            elif isinstance(part, llm.ToolOutput):
                results.append(self.tool_result(part, moved))
            elif isinstance(part, llm.CacheControl):
                (rest if rest or not results else results).append(_cache_point(part))
            elif isinstance(part, llm.Image | llm.Audio | llm.Video | llm.Document):
                rest.append(self.media(part))
            else:
                raise refusal(
                    self.request,
                    f"{type(part).__name__} in a user message",
                    "a user message holds text, media, cache points and tool outputs",
                )
        others = moved + rest
        if not results:
            return [{"role": "user", "content": others}] if others else []
        if not others:
            return [{"role": "user", "content": results}]
        if self.caps.shares_tool_result_turn and not (self.caps.family == "anthropic" and _has_text_document(others)):
            return [{"role": "user", "content": results + others}]
        # Claude refuses a text document beside a tool result, and most other families any content.
        return [{"role": "user", "content": results}, _filler_turn(), {"role": "user", "content": others}]

    def assistant(self, message: llm.Message) -> list[dict[str, Any]]:
        own = self.own_reply(message)
        raw = message.raw
        if own and isinstance(raw, Mapping):
            content = cast("Mapping[str, Any]", raw).get("content")
            if isinstance(content, list):
                found = [
                    cast("dict[str, Any]", block) for block in cast("list[Any]", content) if isinstance(block, dict)
                ]
                blocks = [_resent(block) for block in found if _resendable(block)]
                return [{"role": "assistant", "content": blocks}] if blocks else []
        blocks: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, llm.Text):
                if part.text:
                    blocks.append({"text": part.text})
            elif isinstance(part, llm.ToolCall):
                blocks.append({"toolUse": {"toolUseId": part.id, "name": part.name, "input": part.args}})
            elif isinstance(part, llm.CacheControl):
                if blocks:
                    blocks.append(_cache_point(part))
            elif isinstance(part, llm.Thought):
                # A signature is checked by the model that made it; another model's can't be sent.
                if part.signature is None or not own:
                    continue
                if part.text:
                    blocks.append(
                        {"reasoningContent": {"reasoningText": {"text": part.text, "signature": part.signature}}}
                    )
                else:
                    blocks.append({"reasoningContent": {"redactedContent": part.signature}})
            else:
                raise refusal(
                    self.request,
                    f"{type(part).__name__} in an assistant message",
                    "Converse takes text, tool calls and reasoning in the model's own turns",
                )
        return [{"role": "assistant", "content": blocks}] if blocks else []

    def own_reply(self, message: llm.Message) -> bool:
        """Whether an assistant message came from this model on Bedrock (any profile of it)."""
        model = message.model
        if model is None:
            return False
        provider, _, name = model.partition(":")
        return provider == "bedrock" and base_model(name) == base_model(self.request.model)


def _has_text_document(blocks: list[dict[str, Any]]) -> bool:
    return any("document" in block and block["document"]["format"] != "pdf" for block in blocks)


def _resendable(block: dict[str, Any]) -> bool:
    # Reasoning goes back only with what proves it the model's own: a signature, or the redacted data.
    reasoning = block.get("reasoningContent")
    if reasoning is None:
        return True
    said = reasoning.get("reasoningText")
    return reasoning.get("redactedContent") is not None or (said is not None and said.get("signature") is not None)


def _resent(block: dict[str, Any]) -> dict[str, Any]:
    call = block.get("toolUse")
    if call is not None and "type" in call:
        # Claude's replies mark a tool call `"type": "tool_use"`; a request's tool calls carry none.
        return {"toolUse": {key: value for key, value in call.items() if key != "type"}}
    return block


def _turns(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adjacent turns of one role joined: Converse takes no two in a row.

    A filler turn never meets another assistant turn: it always stands between two user turns.
    """
    joined: list[dict[str, Any]] = []
    for turn in turns:
        if joined and joined[-1]["role"] == turn["role"]:
            joined[-1] = {"role": turn["role"], "content": [*joined[-1]["content"], *turn["content"]]}
        else:
            joined.append(turn)
    return joined


# --- parameters ----------------------------------------------------------------------------


def _thinking_level(thinking: llm.Thinking | llm.ThinkingLevel) -> tuple[str, int | None]:
    if isinstance(thinking, str):
        return thinking, None
    budget = thinking.budget_tokens
    if budget == 0:
        return "none", 0
    if thinking.level is not None:
        return thinking.level, budget
    if budget is not None:
        return ("low" if budget <= 4096 else "medium" if budget <= 12000 else "high"), budget
    return "medium", None


def _thinking(request: Request, caps: Capabilities, fields: dict[str, Any]) -> None:
    """Put `thinking=` in `additionalModelRequestFields` as the model's family takes it."""
    thinking = request.params.get("thinking")
    if thinking is None:
        return
    level, budget = _thinking_level(thinking)
    family = caps.family
    if caps.known and not caps.thinks:
        if level in ("none", "minimal"):
            return  # a model that does not reason already thinks as little as it can
        raise refusal(
            request,
            f"thinking={level!r}",
            "this model does not reason; use a reasoning model such as "
            "'bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0'",
        )
    if family == "anthropic":
        if level == "none":
            fields["thinking"] = {"type": "disabled"}
            return
        max_tokens = request.params.get("max_tokens")
        if budget is None:
            base = DEFAULT_THINKING_BASE if max_tokens is None else max_tokens
            budget = int(base * THINKING_SHARES.get(level, THINKING_SHARES["medium"]))
        budget = max(budget, MIN_THINKING_BUDGET)
        if max_tokens is not None and budget >= max_tokens:
            raise refusal(
                request,
                "thinking",
                f"a thinking budget of {budget} tokens needs max_tokens above it, and max_tokens is {max_tokens}; "
                "raise max_tokens or leave it unset",
            )
        fields["thinking"] = {"type": "enabled", "budget_tokens": budget}
    elif family == "amazon":
        if level != "none":
            effort = "low" if level == "minimal" else level
            fields["reasoningConfig"] = {"type": "enabled", "maxReasoningEffort": effort}
    elif family == "openai":
        if level == "none":
            warn_ignored(
                request.model_id, "thinking='none'", "gpt-oss always reasons; its least effort, 'low', applies"
            )
        fields["reasoning_effort"] = "low" if level in ("none", "minimal") else level
    elif family in ("deepseek", "moonshot"):
        if level == "none":
            warn_ignored(request.model_id, "thinking='none'", "this model always reasons and takes no setting for it")
    else:
        raise refusal(
            request,
            f"thinking={level!r}",
            "Mirascope does not know how this model family takes a reasoning setting; set it yourself with "
            "provider_params={'additionalModelRequestFields': {...}}, or call without thinking=",
        )


def _inference(request: Request, caps: Capabilities, body: dict[str, Any]) -> None:
    params = request.params
    config: dict[str, Any] = body["inferenceConfig"]
    if not params:
        return
    if "max_tokens" in params:
        config["maxTokens"] = params["max_tokens"]
    if "temperature" in params:
        config["temperature"] = params["temperature"]
    if "top_p" in params:
        config["topP"] = params["top_p"]
    if "stop" in params:
        stop = params["stop"]
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    fields: dict[str, Any] = {}
    if "top_k" in params:
        if caps.family == "amazon":
            fields["inferenceConfig"] = {"topK": params["top_k"]}
        elif caps.family == "meta":
            raise refusal(request, "top_k", "Llama models on Bedrock have no top_k; use temperature or top_p")
        else:
            fields["top_k"] = params["top_k"]
    _thinking(request, caps, fields)
    if fields:
        body["additionalModelRequestFields"] = fields


# --- tools and structured output -----------------------------------------------------------


def tool_definition(tool: llm.Tool[..., Any]) -> dict[str, Any]:
    """One `toolSpec` of `toolConfig.tools`."""
    schema = tool.parameters
    if schema.get("type") != "object":
        # Converse takes only object schemas; `parameters` is shared, so it is copied, not changed.
        schema = {**schema, "type": "object"}
    spec: dict[str, Any] = {"name": tool.name, "inputSchema": {"json": schema}}
    if tool.description:
        spec["description"] = tool.description
    if tool.strict:
        spec["strict"] = True
    return {"toolSpec": spec}


def _tools(request: Request, caps: Capabilities, body: dict[str, Any]) -> None:
    if not request.tools:
        return
    if caps.known and not caps.native_output and any(tool.strict for tool in request.tools):
        raise refusal(
            request,
            "strict tools",
            "this model has no strict tools; use strict=False, or a model that has them such as "
            "'bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0'",
        )
    tools: list[dict[str, Any]] = []
    for tool in request.tools:
        tools.append(tool_definition(tool))
        if tool.cache_control is not None:
            tools.append(_cache_point(tool.cache_control))
    config: dict[str, Any] = {"tools": tools}
    if caps.says_auto and not _chosen_in_provider_params(request):
        config["toolChoice"] = {"auto": {}}
    body["toolConfig"] = config


def _chosen_in_provider_params(request: Request) -> bool:
    # `auto` is only the default: a `toolChoice` of the caller's (a tool by name) takes its place.
    given = request.provider_params.get("toolConfig")
    return isinstance(given, Mapping) and "toolChoice" in given


def _format(request: Request, caps: Capabilities, mode: llm.FormatMode, strict: bool, body: dict[str, Any]) -> None:
    format = request.format
    assert format is not None
    schema = format.schema_for(strict)
    if mode == "native":
        described: dict[str, Any] = {"name": format.name, "schema": json.dumps(schema)}
        if format.description:
            described["description"] = format.description
        body["outputConfig"] = {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": described}}}
    elif mode == "tool":
        spec: dict[str, Any] = {
            "name": FORMAT_TOOL_NAME,
            "description": format.tool_description,
            "inputSchema": {"json": schema},
        }
        if strict:
            spec["strict"] = True
        config = body.setdefault("toolConfig", {"tools": []})
        tools: list[dict[str, Any]] = config["tools"]
        functions = sum(1 for tool in tools if "toolSpec" in tool)
        tools.append({"toolSpec": spec})
        thinks = body.get("additionalModelRequestFields", {}).get("thinking", {}).get("type") == "enabled"
        if not caps.forces_tools or thinks:
            return  # no forced call here (Claude refuses one while it thinks): the system prompt asks for it
        config["toolChoice"] = {"tool": {"name": FORMAT_TOOL_NAME}} if functions == 0 else {"any": {}}
    # JSON mode: Converse has no switch for it; the instructions in the system prompt are all.


def encode(request: Request) -> dict[str, Any]:
    """The Converse body for a request, refusing before anything is sent what the model cannot take.

    The call parameters are handled as `PARAMETERS` declares; structured output is asked for
    with `outputConfig` where the model table says the model has it, with a forced tool
    otherwise; `provider_params` are merged in one level deep at a time.

    Raises:
        FeatureNotSupportedError: A part, parameter or setting the model cannot take.
    """
    check_params(request, PARAMETERS)
    refuse_provider_tools(request, f"Mirascope sends Bedrock no tools that it runs itself; {PROVIDER_TOOLS_HINT}")
    refuse_unsupported_media(request)
    caps = capabilities(request.model)
    mode, strict, request = format_request(request, native=caps.native_output, strict_tool=caps.native_output)
    encoder = _Encoder(request, caps)
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            encoder.system(message, system)
        elif message.role == "user":
            turns.extend(encoder.user(message))
        else:
            turns.extend(encoder.assistant(message))
    body: dict[str, Any] = {"messages": _turns(turns), "system": system, "inferenceConfig": {}}
    _inference(request, caps, body)
    _tools(request, caps, body)
    if mode is not None:
        _format(request, caps, mode, strict, body)
    if request.provider_params:
        body = merge_provider_params(request, body, owned=OWNED)
    return body
