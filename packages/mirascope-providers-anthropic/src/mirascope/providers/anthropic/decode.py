"""Anthropic Messages JSON → llm."""

from __future__ import annotations

from typing import Any

from mirascope import llm
from mirascope.llm.providers import Decoded, Request, no_reply

__all__ = ["FINISH", "citations", "decode", "includes_thoughts", "usage"]

FINISH: dict[str | None, llm.FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    # A server tool loop paused; the reply so far is complete as far as the caller can tell.
    "pause_turn": "stop",
    "max_tokens": "max_tokens",
    # Cut off by the context window rather than max_tokens: the same to the caller.
    "model_context_window_exceeded": "max_tokens",
    "tool_use": "tool_call",
    "refusal": "refusal",
}
"""Anthropic's `stop_reason` values and the finish reason each one means; any other is `"other"`."""


def usage(data: dict[str, Any] | None) -> llm.Usage | None:
    """Token counts; `input_tokens` counts cached prompt tokens too, as `llm.Usage` does."""
    if not data:
        return None
    read = data.get("cache_read_input_tokens") or 0
    write = data.get("cache_creation_input_tokens") or 0
    return llm.Usage(
        input_tokens=(data.get("input_tokens") or 0) + read + write,
        output_tokens=data.get("output_tokens") or 0,
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def citations(text: str, cited: list[dict[str, Any]]) -> tuple[llm.Citation, ...]:
    """The web sources a text block cites; Claude cites whole blocks, quoting the source.

    Citations of the caller's own documents (page, character and block locations) have no URL;
    they stay in `raw`.
    """
    return tuple(
        llm.Citation(
            url=citation["url"],
            title=citation.get("title"),
            start=0,
            end=len(text),
            cited_text=citation.get("cited_text"),
        )
        for citation in cited
        if citation.get("type") == "web_search_result_location" and citation.get("url")
    )


def includes_thoughts(request: Request) -> bool:
    """Whether thoughts belong in the reply: all but `llm.Thinking(include=False)` want them."""
    thinking = request.params.get("thinking")
    return not isinstance(thinking, llm.Thinking) or thinking.include


def decode(request: Request, body: dict[str, Any]) -> Decoded:
    """The reply of a Messages API response."""
    content: list[dict[str, Any]] | None = body.get("content")
    if content is None:  # `[]` is an empty reply Claude meant; no `content` at all is none
        raise no_reply(request, body, "the message has no content")
    # Thoughts left out here stay in `raw`, which is what resume sends back.
    thoughts = includes_thoughts(request)
    parts: list[llm.ContentPart] = []
    for block in content:
        kind = block.get("type")
        if kind == "text":
            cited = block.get("citations")
            parts.append(llm.Text(block["text"], citations(block["text"], cited)) if cited else llm.Text(block["text"]))
        elif kind == "tool_use":
            parts.append(llm.ToolCall(id=block["id"], name=block["name"], args=block.get("input") or {}))
        elif kind == "thinking" and thoughts:
            parts.append(llm.Thought(text=block.get("thinking") or "", signature=block.get("signature")))
        elif kind == "redacted_thinking" and thoughts:
            parts.append(llm.Thought(text="", signature=block.get("data")))
    return Decoded(
        message=llm.Message(role="assistant", content=tuple(parts), model=request.model_id, raw=content),
        finish_reason=FINISH.get(body.get("stop_reason"), "other"),
        usage=usage(body.get("usage")),
        id=body.get("id"),
        provider_model=body.get("model"),
    )
