"""Converse JSON → llm.

The reply's assistant message is kept whole as the message's `raw`, exactly as Bedrock sent it
(`{"role": "assistant", "content": [...]}`): resuming sends it back, so reasoning signatures and
redacted reasoning reach the model unchanged.
"""

from __future__ import annotations

import json
from typing import Any, cast

from mirascope import llm
from mirascope.llm.providers import RAW_ARGS_KEY, Decoded, Request, no_reply

__all__ = ["FINISH", "citations", "decode", "includes_thoughts", "parts", "tool_args", "usage"]

FINISH: dict[str | None, llm.FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_call",
    "max_tokens": "max_tokens",
    # Cut off by the context window rather than maxTokens: the same to the caller.
    "model_context_window_exceeded": "max_tokens",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
"""Bedrock's `stopReason` values and the finish reason each one means; any other
(`malformed_model_output`, `malformed_tool_use`, ...) is `"other"`."""


def usage(data: dict[str, Any] | None) -> llm.Usage | None:
    """Token counts; `input_tokens` counts cached prompt tokens too, as `llm.Usage` does.

    Bedrock's `inputTokens` leaves out the tokens read from or written to the cache
    (`totalTokens` is the sum of all four counts).
    """
    if not data:
        return None
    read: int = data.get("cacheReadInputTokens") or 0
    write: int = data.get("cacheWriteInputTokens") or 0
    return llm.Usage(
        input_tokens=(data.get("inputTokens") or 0) + read + write,
        output_tokens=data.get("outputTokens") or 0,
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def includes_thoughts(request: Request) -> bool:
    """Whether thoughts belong in the reply: all but `llm.Thinking(include=False)` want them."""
    thinking = request.params.get("thinking")
    return not isinstance(thinking, llm.Thinking) or thinking.include


def tool_args(value: object) -> dict[str, Any]:
    """A `toolUse.input` as call arguments; anything but an object is kept as its JSON text."""
    if isinstance(value, dict):
        return cast("dict[str, Any]", value)
    return {RAW_ARGS_KEY: value if isinstance(value, str) else json.dumps(value)}


def citations(text: str, cited: list[dict[str, Any]]) -> tuple[llm.Citation, ...]:
    """The web sources a `citationsContent` block cites, each over the whole block's text.

    Citations of the caller's own documents (character, page and chunk locations) have no URL;
    they stay in `raw`.
    """
    found: list[llm.Citation] = []
    for citation in cited:
        location: dict[str, Any] = citation.get("location") or {}
        web: dict[str, Any] = location.get("web") or {}
        url: str | None = web.get("url")
        if not url:
            continue
        quoted = [piece.get("text") for piece in citation.get("sourceContent") or () if piece.get("text")]
        found.append(
            llm.Citation(
                url=url,
                title=citation.get("title") or web.get("domain"),
                start=0,
                end=len(text),
                cited_text="".join(quoted) if quoted else None,
            )
        )
    return tuple(found)


def parts(content: list[dict[str, Any]], thoughts: bool) -> list[llm.ContentPart]:
    """The message parts of a reply's content blocks.

    `reasoningText` becomes an `llm.Thought` with its signature; `redactedContent` (reasoning
    the provider encrypted) a `Thought` with no text whose signature is the redacted data as
    Bedrock sent it, base64. Blocks of other kinds (images, guard content) stay in `raw` only.
    """
    found: list[llm.ContentPart] = []
    for block in content:
        text = block.get("text")
        if text is not None:
            found.append(llm.Text(text))
            continue
        call = block.get("toolUse")
        if call is not None:
            found.append(llm.ToolCall(id=call["toolUseId"], name=call["name"], args=tool_args(call.get("input"))))
            continue
        reasoning = block.get("reasoningContent")
        if reasoning is not None:
            if not thoughts:
                continue  # left out here, kept in `raw`, which is what resume sends back
            said = reasoning.get("reasoningText")
            if said is not None:
                found.append(llm.Thought(text=said.get("text") or "", signature=said.get("signature")))
            elif reasoning.get("redactedContent") is not None:
                found.append(llm.Thought(text="", signature=reasoning["redactedContent"]))
            continue
        cited = block.get("citationsContent")
        if cited is not None:
            joined = "".join(piece.get("text") or "" for piece in cited.get("content") or ())
            sources = citations(joined, cited.get("citations") or [])
            found.append(llm.Text(joined, sources) if sources else llm.Text(joined))
    return found


def decode(request: Request, body: dict[str, Any]) -> Decoded:
    """The reply of a Converse response."""
    output: dict[str, Any] = body.get("output") or {}
    message: dict[str, Any] | None = output.get("message")
    if message is None or message.get("content") is None:
        # `[]` is an empty reply the model meant; no message at all is none.
        raise no_reply(request, body, "the output has no message")
    content: list[dict[str, Any]] = message["content"]
    return Decoded(
        message=llm.Message(
            role="assistant",
            content=tuple(parts(content, includes_thoughts(request))),
            model=request.model_id,
            raw=message,
        ),
        finish_reason=FINISH.get(body.get("stopReason"), "other"),
        usage=usage(body.get("usage")),
    )
