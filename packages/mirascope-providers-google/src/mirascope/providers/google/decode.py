"""A Gemini `generateContent` JSON reply as a `Decoded`: plain dict reads, no validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mirascope.llm import (
    Audio,
    Citation,
    ContentPart,
    FinishReason,
    Image,
    Message,
    Text,
    Thought,
    ToolCall,
    Usage,
)
from mirascope.llm.providers import Decoded, Request, no_reply

from .encode import GENERATED_ID_PREFIX

__all__ = ["FINISH_REASONS", "decode", "usage"]

FINISH_REASONS: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "max_tokens",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
}
"""Gemini `finishReason` values; any other (`MALFORMED_FUNCTION_CALL`, `OTHER`, ...) is
`"other"`."""


def decode(request: Request, body: dict[str, Any]) -> Decoded:
    """Decode a `generateContent` reply.

    A prompt blocked before any candidate was written (`promptFeedback.blockReason`) decodes
    to an empty message with finish reason `"content_filter"`, and a candidate stopped without
    content (`SAFETY`, `MAX_TOKENS`, ...) to an empty message with that reason.

    Raises:
        APIError: No reply at all: no candidate and no block reason, or a candidate with no
            content that says it stopped normally.
    """
    candidates = body.get("candidates")
    if not candidates:
        feedback: dict[str, Any] = body.get("promptFeedback") or {}
        if not feedback.get("blockReason"):
            raise no_reply(request, body, "no candidate, and no block reason")
        return Decoded(
            message=Message(role="assistant", content=(), model=request.model_id),
            finish_reason="content_filter",
            usage=usage(body.get("usageMetadata")),
            id=body.get("responseId"),
            provider_model=body.get("modelVersion"),
        )
    candidate: dict[str, Any] = candidates[0]
    content: dict[str, Any] | None = candidate.get("content")
    reason = candidate.get("finishReason")
    if not (content and content.get("parts")) and reason in (None, "STOP"):
        raise no_reply(request, body, "a candidate with no content that stopped normally")
    parts: list[ContentPart] = []
    calls = False
    if content:
        append = parts.append
        grounding: dict[str, Any] | None = candidate.get("groundingMetadata")
        cited = _citations(content, grounding) if grounding else None
        for index, part in enumerate(content.get("parts") or ()):
            text = part.get("text")
            if text is not None:
                if part.get("thought"):
                    append(Thought(text=text, signature=part.get("thoughtSignature")))
                elif cited and index in cited:
                    append(Text(text, tuple(cited[index])))
                else:
                    append(Text(text))
                continue
            call = part.get("functionCall")
            if call is not None:
                name = call.get("name", "")
                call_id = call.get("id") or f"{GENERATED_ID_PREFIX}{name}_{index}"
                append(ToolCall(id=call_id, name=name, args=call.get("args") or {}))
                calls = True
                continue
            blob = part.get("inlineData")
            if blob is not None:
                mime: str = blob.get("mimeType") or ""
                if mime.startswith("image/"):
                    append(Image(mime_type=mime, data=blob.get("data")))
                elif mime.startswith("audio/"):
                    append(Audio(mime_type=mime, data=blob.get("data")))
            # Other parts (executableCode, codeExecutionResult, ...) stay in `raw`, resent as is.
    if calls:
        finish: FinishReason = "tool_call"
    elif reason is None:
        finish = "stop"
    else:
        finish = FINISH_REASONS.get(reason, "other")
    return Decoded(
        message=Message(role="assistant", content=tuple(parts), model=request.model_id, raw=content),
        finish_reason=finish,
        usage=usage(body.get("usageMetadata")),
        id=body.get("responseId"),
        provider_model=body.get("modelVersion"),
    )


def _citations(content: dict[str, Any], grounding: dict[str, Any]) -> dict[int, list[Citation]]:
    """The web sources Google Search grounding cites, by the index of the part they cite.

    Each `groundingSupport` ties a segment of a part (in UTF-8 bytes) to grounding chunks; each
    chunk a source becomes one citation of that segment, spanned in characters. The metadata
    itself is not sent back: only the parts are.
    """
    sources: list[dict[str, Any]] = grounding.get("groundingChunks") or []
    parts: list[dict[str, Any]] = content.get("parts") or []
    found: dict[int, list[Citation]] = {}
    supports: list[dict[str, Any]] = grounding.get("groundingSupports") or []
    for support in supports:
        segment: dict[str, Any] = support.get("segment") or {}
        index: int = segment.get("partIndex", 0)
        text = parts[index].get("text") if 0 <= index < len(parts) else None
        if text is None:
            continue
        start, end = _characters(text, segment.get("startIndex", 0), segment.get("endIndex"))
        indices: list[int] = support.get("groundingChunkIndices") or []
        for chunk in indices:
            if not 0 <= chunk < len(sources):
                continue
            source: dict[str, Any] = sources[chunk].get("web") or sources[chunk].get("retrievedContext") or {}
            url = source.get("uri")
            if url:
                citation = Citation(url=url, title=source.get("title"), start=start, end=end)
                found.setdefault(index, []).append(citation)
    return found


def _characters(text: str, start: int, end: int | None) -> tuple[int, int | None]:
    """Byte offsets into `text`'s UTF-8 form as character offsets (the same for ASCII text)."""
    if text.isascii():
        return start, end
    data = text.encode()
    start = len(data[:start].decode(errors="ignore"))
    return start, None if end is None else len(data[:end].decode(errors="ignore"))


def usage(metadata: Mapping[str, Any] | None, output: str = "candidatesTokenCount") -> Usage | None:
    """`usageMetadata` as `llm.Usage`, counted the way core counts.

    Thinking is output (`thoughtsTokenCount` is not inside `candidatesTokenCount`), and the
    prompt of a built-in tool such as Google Search (`toolUsePromptTokenCount`) is input: with
    both, `total_tokens` equals Gemini's `totalTokenCount`. `output` names the field of the
    reply's own tokens (Gemini Live calls it `responseTokenCount`).
    """
    if not metadata:
        return None
    thoughts: int = metadata.get("thoughtsTokenCount", 0)
    tool_prompt: int = metadata.get("toolUsePromptTokenCount", 0)
    return Usage(
        input_tokens=metadata.get("promptTokenCount", 0) + tool_prompt,
        output_tokens=metadata.get(output, 0) + thoughts,
        cache_read_tokens=metadata.get("cachedContentTokenCount", 0),
        reasoning_tokens=thoughts,
    )
