"""A `Request` as a Gemini `generateContent` JSON body: pure functions, plain dicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from mirascope.llm import (
    Audio,
    ContentPart,
    Document,
    FeatureNotSupportedError,
    Image,
    Text,
    Thinking,
    ThinkingLevel,
    Thought,
    ToolCall,
    ToolOutput,
    Video,
    WebSearch,
)
from mirascope.llm.providers import FORMAT_TOOL_NAME, Request, refuse_tool_cache_breakpoints, warn_ignored

from .capabilities import LEVEL_BUDGETS, UNKNOWN, thinking_for

if TYPE_CHECKING:
    from mirascope.llm import FormatMode, Tool

__all__ = ["GENERATED_ID_PREFIX", "encode", "function_declarations", "generation_config", "google_search", "merge"]

GENERATED_ID_PREFIX = "google_"
"""Tool calls Gemini sent without an id get one starting with this; it is never sent back."""

# Gemini's documented audio types are `audio/mp3` and `audio/wav`, and the recorded requests
# send MP3 as `audio/mp3`; the IANA names core sniffs are translated.
_MIME_ALIASES = {"audio/mpeg": "audio/mp3", "audio/x-wav": "audio/wav", "audio/wave": "audio/wav"}

# URIs Gemini reads itself, as `fileData`: Files API uploads, and Cloud Storage on Vertex AI.
# Anything else (a web URL) it does not fetch.
_FILE_URI_PREFIXES = ("https://generativelanguage.googleapis.com/", "gs://")
# Gemini also watches public YouTube videos by URL.
_VIDEO_URI_PREFIXES = (*_FILE_URI_PREFIXES, "https://www.youtube.com/", "https://youtu.be/")

_MEDIA = (Image, Audio, Video, Document)


def encode(request: Request, *, format_mode: FormatMode | None = None) -> dict[str, Any]:
    """The JSON body of a `generateContent` (or `streamGenerateContent`) call.

    `format_mode` says how to ask for `request.format` (see `llm.providers.format_request`,
    which also puts its instructions in the messages).

    Raises:
        FeatureNotSupportedError: A part or parameter Gemini cannot take.
    """
    contents: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    for message in request.messages:
        role = message.role
        if role == "system":
            for part in message.content:
                if not isinstance(part, Text):
                    raise _refuse(request, type(part).__name__, "system messages take text only")
                system.append({"text": part.text})
        elif role == "assistant":
            raw = message.raw
            model = message.model
            if isinstance(raw, dict) and model is not None and model.startswith("google:"):
                # Gemini's own turn goes back as it came: thoughtSignature values must round-trip.
                if raw.get("parts"):  # pyright: ignore[reportUnknownMemberType]
                    contents.append(raw)  # pyright: ignore[reportUnknownArgumentType]
                continue
            foreign = model is not None and not model.startswith("google:")
            parts = _parts(request, message.content, foreign_signatures=foreign)
            # Gemini requires parts in every turn; a reply cut off before any part has none.
            if parts:
                contents.append({"role": "model", "parts": parts})
        else:
            contents.append({"role": "user", "parts": _parts(request, message.content)})
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    config = generation_config(request)
    refuse_tool_cache_breakpoints(request)
    declarations = function_declarations(request, request.tools) if request.tools else []
    format = request.format
    if format is not None and format_mode is not None:
        if format_mode == "tool":
            declarations.append(
                {
                    "name": FORMAT_TOOL_NAME,
                    "description": format.tool_description,
                    "parametersJsonSchema": format.schema,
                }
            )
            calling: dict[str, Any] = {"mode": "ANY"}
            if len(declarations) == 1:
                calling["allowedFunctionNames"] = [FORMAT_TOOL_NAME]
            body["toolConfig"] = {"functionCallingConfig": calling}
        else:
            config["responseMimeType"] = "application/json"
            if format_mode == "native":
                # Gemini holds the reply to this schema as it writes it: the plain schema is
                # already exact, with optional fields left optional.
                config["responseJsonSchema"] = format.schema
    if config:
        body["generationConfig"] = config
    extra = request.provider_params
    tools: list[object] = [{"functionDeclarations": declarations}] if declarations else []
    if request.provider_tools:
        tools.append(google_search(request, request.provider_tools))
    if tools:
        more = extra.get("tools")
        if isinstance(more, list):
            # Built-in tools given as provider_params (`googleSearch`, ...) join the declared
            # functions rather than replace them.
            tools.extend(cast("list[object]", more))
            extra = {**extra, "tools": tools}
        body["tools"] = tools
    if extra:
        body = merge(body, extra)
    return body


def google_search(request: Request, tools: Sequence[WebSearch]) -> dict[str, Any]:
    """The `tools` entry for `llm.WebSearch`: Grounding with Google Search.

    Raises:
        FeatureNotSupportedError: An option Google Search grounding does not take.
    """
    for tool in tools:
        for option, given in (
            ("max_uses", tool.max_uses),
            ("allowed_domains", tool.allowed_domains),
            ("user_location", tool.user_location),
        ):
            if given is not None:
                raise _refuse(
                    request,
                    f"llm.WebSearch({option}=...)",
                    "Grounding with Google Search takes no options; leave it unset, or use an "
                    "'openai:' (Responses API) or 'anthropic:' model, which take it",
                )
    return {"googleSearch": {}}


def function_declarations(request: Request, tools: Sequence[Tool[..., Any]]) -> list[dict[str, Any]]:
    """Each tool as a Gemini `functionDeclaration`.

    The schema goes in `parametersJsonSchema`, which takes JSON Schema as core writes it
    (lowercase types, `additionalProperties`, `anyOf` with `null`, `prefixItems`). The older
    `parameters` field takes an OpenAPI subset that refuses some of these, so it would need a
    lossy translation.
    """
    declarations: list[dict[str, Any]] = []
    for tool in tools:
        declaration: dict[str, Any] = {"name": tool.name}
        if tool.description:
            declaration["description"] = tool.description
        declaration["parametersJsonSchema"] = tool.parameters
        if tool.strict:
            # Refused, not ignored: the caller relies on arguments that match the schema.
            raise _refuse(
                request,
                f"strict=True on tool {tool.name!r}",
                "Gemini function declarations have no strict mode; drop strict=True (arguments are "
                "then not guaranteed to match the schema) or use a model whose provider enforces it",
            )
        declarations.append(declaration)
    return declarations


def _parts(
    request: Request, content: tuple[ContentPart, ...], *, foreign_signatures: bool = False
) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    append = parts.append
    for part in content:
        if isinstance(part, Text):
            append({"text": part.text})
        elif isinstance(part, _MEDIA):
            append(_media(request, part))
        elif isinstance(part, ToolCall):
            call: dict[str, Any] = {"name": part.name, "args": part.args}
            if not part.id.startswith(GENERATED_ID_PREFIX):
                call["id"] = part.id
            append({"functionCall": call})
        elif isinstance(part, ToolOutput):
            response = {"error": part.result} if part.is_error else {"output": part.result}
            result: dict[str, Any] = {"name": part.name, "response": response}
            if not part.id.startswith(GENERATED_ID_PREFIX):
                result["id"] = part.id
            append({"functionResponse": result})
        elif isinstance(part, Thought):
            thought: dict[str, Any] = {"text": part.text, "thought": True}
            # Another provider's signature means nothing to Gemini and would be rejected.
            if part.signature is not None and not foreign_signatures:
                thought["thoughtSignature"] = part.signature
            append(thought)
        else:
            raise _refuse(
                request,
                "CacheControl",
                "prompt-cache breakpoints are for Claude models only; Gemini caches repeated "
                "prefixes implicitly, or explicitly with provider_params={'cachedContent': ...}",
            )
    return parts


def _media(request: Request, part: Image | Audio | Video | Document) -> dict[str, Any]:
    mime = part.mime_type
    if mime is not None:
        mime = _MIME_ALIASES.get(mime, mime)
    if part.data is not None:
        return {"inlineData": {"mimeType": mime, "data": part.data}}
    url = part.url or ""
    if url.startswith(_VIDEO_URI_PREFIXES if isinstance(part, Video) else _FILE_URI_PREFIXES):
        file: dict[str, Any] = {"fileUri": url}
        if mime is not None:
            file["mimeType"] = mime
        return {"fileData": file}
    kind = type(part).__name__
    raise _refuse(
        request,
        f"{kind} by URL",
        f"the Gemini API does not download {url!r}; pass the bytes instead, "
        f"e.g. llm.{kind}.from_file(...) or llm.{kind}.from_bytes(...)",
    )


def _refuse(request: Request, feature: str, why: str) -> FeatureNotSupportedError:
    return FeatureNotSupportedError(
        f"{request.model_id} cannot take {feature}: {why}.", model=request.model_id, feature=feature
    )


def generation_config(request: Request) -> dict[str, Any]:
    """The `generationConfig` for the common call parameters; empty when none was given."""
    params = request.params
    if not params:
        return {}
    config: dict[str, Any] = {}
    if "temperature" in params:
        config["temperature"] = params["temperature"]
    if "top_p" in params:
        config["topP"] = params["top_p"]
    if "top_k" in params:
        config["topK"] = params["top_k"]
    if "max_tokens" in params:
        config["maxOutputTokens"] = params["max_tokens"]
    if "stop" in params:
        stop = params["stop"]
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    if "seed" in params:
        config["seed"] = params["seed"]
    if "thinking" in params:
        thinking = _thinking_config(request, params["thinking"])
        if thinking is not None:
            config["thinkingConfig"] = thinking
    return config


def _thinking_config(request: Request, thinking: Thinking | ThinkingLevel) -> dict[str, Any] | None:
    if isinstance(thinking, str):
        level: str | None = thinking
        budget: int | None = None
        include = True
    else:
        level, budget, include = thinking.level, thinking.budget_tokens, thinking.include
    off = budget == 0 if budget is not None else level == "none"
    support = thinking_for(request.model)
    if support is None:
        if off or (level == "minimal" and budget is None):
            return None  # a model that does not think already thinks as little as it can
        raise _refuse(
            request,
            f"thinking={thinking!r}",
            "this model does not think; use a Gemini 2.5 or later model",
        )
    config: dict[str, Any] = {}
    if budget is not None:
        # A budget the user chose goes as given: the API knows each model's range best.
        config["thinkingBudget"] = budget
    elif level is not None:
        if support.levels:
            config["thinkingLevel"] = _level(request, level, support.levels)
        elif level == "none":
            if support.can_disable:
                config["thinkingBudget"] = 0
            else:
                warn_ignored(
                    request.model_id,
                    "thinking='none'",
                    f"this model always thinks; its smallest budget, {support.min_budget}, applies",
                )
                config["thinkingBudget"] = support.min_budget
        else:
            config["thinkingBudget"] = _budget(level, support.min_budget, support.max_budget)
    config["includeThoughts"] = include and not off
    return config


def _level(request: Request, level: str, levels: tuple[str, ...]) -> str:
    if level in levels:
        return level
    if level == "none":
        why = f"this model always thinks; level {levels[0]!r} applies"
        warn_ignored(request.model_id, "thinking='none'", why)
        return levels[0]
    if level == "minimal":
        return levels[0]  # the least the model has
    # Gemini 3 Pro has only low and high; medium rounds up rather than thinking too little.
    return "high" if "high" in levels else levels[-1]


def _budget(level: str, low: int, high: int) -> int:
    if high == UNKNOWN.max_budget:
        return LEVEL_BUDGETS[level]
    if level == "high":
        return high
    return min(max(LEVEL_BUDGETS[level], low), high)


def merge(base: dict[str, Any], extra: Mapping[str, object]) -> dict[str, Any]:
    """`base` updated with `extra`, nested objects merged, not replaced; neither is changed."""
    merged = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = merge(current, value)  # pyright: ignore[reportUnknownArgumentType]
        else:
            merged[key] = value
    return merged
