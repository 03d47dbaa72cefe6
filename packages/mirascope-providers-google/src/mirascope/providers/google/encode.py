"""A `Request` as a Gemini `generateContent` JSON body: pure functions, plain dicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mirascope.llm import (
    Audio,
    ContentPart,
    Document,
    Image,
    Text,
    Thinking,
    ThinkingLevel,
    Thought,
    ToolCall,
    ToolOutput,
    Video,
    WebSearch,
    model_info,
)
from mirascope.llm.content import media_type_of
from mirascope.llm.providers import (
    FORMAT_TOOL_NAME,
    ParamHandling,
    Request,
    check_params,
    media_url,
    merge_provider_params,
    refusal,
    refuse_tool_cache_breakpoints,
    warn_ignored,
)

from .capabilities import LEVEL_BUDGETS, UNKNOWN, base_name, thinking_for

if TYPE_CHECKING:
    from mirascope.llm import FormatMode, Tool

__all__ = [
    "GENERATED_ID_PREFIX",
    "OWNED",
    "PARAMETERS",
    "encode",
    "function_declarations",
    "generation_config",
    "google_search",
]

OWNED = frozenset({"contents"})
"""Body keys Mirascope always sets from the call itself, which `provider_params` may not (the
model and streaming are in the URL, out of their reach)."""

PARAMETERS: Mapping[str, ParamHandling] = {
    "temperature": ParamHandling.send("generationConfig.temperature"),
    "max_tokens": ParamHandling.send("generationConfig.maxOutputTokens", note="thinking tokens count against it"),
    "top_p": ParamHandling.send("generationConfig.topP"),
    "top_k": ParamHandling.send("generationConfig.topK"),
    "seed": ParamHandling.send("generationConfig.seed"),
    "stop": ParamHandling.send("generationConfig.stopSequences", note="a string becomes a one-item list"),
    "thinking": ParamHandling.send(
        "generationConfig.thinkingConfig",
        note="a budget or level, below; a model the table knows not to think refuses any level but "
        '`"none"` and `"minimal"`',
    ),
}
"""How Gemini takes each call parameter, on the Gemini API and on Vertex AI alike."""

GENERATED_ID_PREFIX = "google_"
"""Tool calls Gemini sent without an id get one starting with this; it is never sent back."""

# Gemini's documented audio types are `audio/mp3` and `audio/wav`, and the recorded requests
# send MP3 as `audio/mp3`; the IANA names core sniffs are translated.
_MIME_ALIASES = {"audio/mpeg": "audio/mp3", "audio/x-wav": "audio/wav", "audio/wave": "audio/wav"}

# URIs Gemini reads itself, as `fileData`: web URLs (Files API uploads, public files, YouTube) and
# Cloud Storage.
_FILE_URI_SCHEMES = ("https", "http", "gs")
_YOUTUBE = ("https://www.youtube.com/", "https://youtube.com/", "https://youtu.be/", "https://m.youtube.com/")

_MEDIA = (Image, Audio, Video, Document)


def encode(request: Request, *, format_mode: FormatMode | None = None) -> dict[str, Any]:
    """The JSON body of a `generateContent` (or `streamGenerateContent`) call.

    `format_mode` says how to ask for `request.format` (see `llm.providers.format_request`,
    which also puts its instructions in the messages).

    Raises:
        FeatureNotSupportedError: A part or parameter Gemini cannot take.
    """
    check_params(request, PARAMETERS)
    contents: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    for message in request.messages:
        role = message.role
        if role == "system":
            for part in message.content:
                if not isinstance(part, Text):
                    raise refusal(request, type(part).__name__, "system messages take text only")
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
            parts = _parts(request, message.content, foreign_thoughts=foreign)
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
    tools: list[object] = [{"functionDeclarations": declarations}] if declarations else []
    if request.provider_tools:
        tools.append(google_search(request, request.provider_tools))
    if tools:
        body["tools"] = tools
    if request.provider_params:
        # Built-in tools given as provider_params (`googleSearch`, ...) join the declared functions.
        body = merge_provider_params(request, body, owned=OWNED)
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
                raise refusal(
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
            raise refusal(
                request,
                f"strict=True on tool {tool.name!r}",
                "Gemini function declarations have no strict mode; drop strict=True (arguments are "
                "then not guaranteed to match the schema) or use a model whose provider enforces it",
            )
        declarations.append(declaration)
    return declarations


def _parts(
    request: Request, content: tuple[ContentPart, ...], *, foreign_thoughts: bool = False
) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    beside: list[dict[str, Any]] = []  # media from tool outputs that go after the function responses
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
            append({"functionResponse": _function_response(request, part, beside)})
        elif isinstance(part, Thought):
            if foreign_thoughts:
                # Another provider's reasoning is not Gemini's own thought (its signature would be
                # rejected); `llm.Thinking(encode_thoughts_as_text=True)` sends it as text instead.
                continue
            thought: dict[str, Any] = {"text": part.text, "thought": True}
            if part.signature is not None:
                thought["thoughtSignature"] = part.signature
            append(thought)
        else:
            raise refusal(
                request,
                "CacheControl",
                "prompt-cache breakpoints are for Claude models only; Gemini caches repeated "
                "prefixes implicitly, or explicitly with provider_params={'cachedContent': ...}",
            )
    parts.extend(beside)
    return parts


# What Gemini 3 takes inside a `functionResponse`; other media a tool returns goes beside it.
_NESTED_TYPES = ("image/", "application/pdf", "text/plain")


def _function_response(request: Request, output: ToolOutput, beside: list[dict[str, Any]]) -> dict[str, Any]:
    if output.is_error:
        response: dict[str, Any] = {"error": output.result}
    else:  # data as the JSON object it is, text as text (Google's documented `output` key)
        response = {"output": output.value if output.value is not None else output.result}
    result: dict[str, Any] = {"name": output.name, "response": response}
    if not output.id.startswith(GENERATED_ID_PREFIX):
        result["id"] = output.id
    name = base_name(request.model)
    gemini_3 = name.startswith("gemini-") and not name.startswith(("gemini-1", "gemini-2"))
    nested: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for part in output.content:
        if not isinstance(part, Text):
            nests = gemini_3 and (media_type_of(part) or "").startswith(_NESTED_TYPES)
            (nested if nests else rest).append(_media(request, part))
    if nested:
        result["parts"] = nested
    if rest:
        beside.append({"text": f"Attached by the {output.name} tool (call {output.id}):"})
        beside.extend(rest)
    return result


def _media(request: Request, part: Image | Audio | Video | Document) -> dict[str, Any]:
    if part.data is not None:
        mime = part.mime_type
        return {"inlineData": {"mimeType": _MIME_ALIASES.get(mime, mime) if mime else mime, "data": part.data}}
    url = media_url(request, part, reader="Gemini", schemes=_FILE_URI_SCHEMES)
    # `fileData` needs the media type (Vertex AI refuses a part without it): the part's, else
    # its URL's file extension's; a YouTube page is read as video.
    mime = media_type_of(part)
    if mime is None and isinstance(part, Video) and url.startswith(_YOUTUBE):
        mime = "video/mp4"
    if mime is None:
        kind = type(part).__name__
        raise refusal(
            request,
            f"{kind} by URL of unknown type",
            f"Gemini needs the media type of a file it reads by URI, and the URL names none; pass it, "
            f"e.g. llm.{kind}.from_url(url, mime_type={_EXAMPLE_TYPES[kind]!r})",
        )
    return {"fileData": {"mimeType": _MIME_ALIASES.get(mime, mime), "fileUri": url}}


_EXAMPLE_TYPES = {"Image": "image/png", "Audio": "audio/mp3", "Video": "video/mp4", "Document": "application/pdf"}


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
        if model_info(request.model_id) is not None:
            raise refusal(
                request,
                f"thinking={thinking!r}",
                "this model does not think; use a Gemini 2.5 or later model",
            )
        support = UNKNOWN  # not in the model table, so not checked: the API judges the setting
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
