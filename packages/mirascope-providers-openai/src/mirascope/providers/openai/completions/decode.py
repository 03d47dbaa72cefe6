"""Chat Completions JSON → llm."""

from __future__ import annotations

from typing import Any, cast

from mirascope import llm
from mirascope.llm.providers import Decoded, Request, no_reply, parse_tool_args

from .._shared import obj, objs

FINISH: dict[str | None, llm.FinishReason] = {
    "stop": "stop",
    "length": "max_tokens",
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    "content_filter": "content_filter",
}


THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def split_thinking(text: str) -> tuple[str, str]:
    """The reasoning and the answer of a reply that opens with `<think>...</think>`.

    Open reasoning models served through Chat Completions (DeepSeek R1, Qwen3, ... on Ollama,
    vLLM, Together) write their reasoning into the reply between these tags. A reply cut off
    while thinking is all reasoning. Anything else is all answer.
    """
    head = text.lstrip()
    if not head.startswith(THINK_OPEN):
        return "", text
    end = head.find(THINK_CLOSE)
    if end < 0:
        return head[len(THINK_OPEN) :], ""
    return head[len(THINK_OPEN) : end], head[end + len(THINK_CLOSE) :].lstrip()


def usage(data: dict[str, Any]) -> llm.Usage | None:
    """Token counts, including the cache and reasoning details where a server sends them."""
    if not data:
        return None
    prompt_details = obj(data.get("prompt_tokens_details"))
    completion_details = obj(data.get("completion_tokens_details"))
    return llm.Usage(
        input_tokens=data.get("prompt_tokens") or 0,
        output_tokens=data.get("completion_tokens") or 0,
        cache_read_tokens=prompt_details.get("cached_tokens") or data.get("cached_tokens") or 0,
        cache_write_tokens=prompt_details.get("cache_write_tokens") or 0,
        reasoning_tokens=completion_details.get("reasoning_tokens") or 0,
    )


def content_parts(content: list[Any]) -> tuple[str, str]:
    """The text and the thinking of a content list (Mistral's reasoning models send one).

    Text parts are `{"type": "text", "text": ...}`; thinking parts are
    `{"type": "thinking", "thinking": [{"type": "text", "text": ...}, ...]}`. Other parts
    (references) carry neither.
    """
    text: list[str] = []
    thinking: list[str] = []
    for part in objs(content):
        kind = part.get("type")
        if kind == "text":
            piece = part.get("text")
            if isinstance(piece, str):
                text.append(piece)
        elif kind == "thinking":
            inner = part.get("thinking")
            if isinstance(inner, str):
                thinking.append(inner)
            else:
                thinking.extend(p["text"] for p in objs(inner) if isinstance(p.get("text"), str))
    return "".join(text), "".join(thinking)


def parts_of(message: dict[str, Any]) -> list[llm.ContentPart]:
    """The parts of an assistant message: reasoning, text (`<think>` tags split out), refusal, tool calls."""
    parts: list[llm.ContentPart] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    content = message.get("content")
    if isinstance(content, list):
        content, listed = content_parts(cast("list[Any]", content))
        if listed:
            reasoning = f"{reasoning}{listed}" if isinstance(reasoning, str) else listed
    if isinstance(reasoning, str) and reasoning:  # DeepSeek, OpenRouter and vLLM send thinking beside the answer.
        parts.append(llm.Thought(text=reasoning))
    if isinstance(content, str) and content:
        if not parts:
            thought, content = split_thinking(content)
            if thought:
                parts.append(llm.Thought(text=thought))
        if content:
            parts.append(llm.Text(content))
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        parts.append(llm.Text(refusal))
    for call in objs(message.get("tool_calls")):
        function = obj(call.get("function"))
        arguments = parse_tool_args(function.get("arguments") or "")
        parts.append(llm.ToolCall(id=call.get("id") or "", name=function.get("name") or "", args=arguments))
    return parts


def decode(request: Request, body: dict[str, Any]) -> Decoded:
    """The reply of a Chat Completions response."""
    choices = objs(body.get("choices"))
    if not choices:
        raise llm.APIError(
            f"answered with no choices: {str(body)[:300]}",
            provider=request.model_id.partition(":")[0],
            status_code=200,
            body=body,
            hint="The request may have been filtered; check the provider's message above.",
        )
    choice = choices[0]
    if not isinstance(choice.get("message"), dict):
        raise no_reply(request, body, "the choice's message is null")
    message = obj(choice.get("message"))
    parts = parts_of(message)
    refusal = message.get("refusal")
    finish = "refusal" if refusal else FINISH.get(choice.get("finish_reason"), "other")
    return Decoded(
        message=llm.Message(role="assistant", content=tuple(parts), model=request.model_id, raw=message),
        finish_reason=finish,
        usage=usage(obj(body.get("usage"))),
        id=body.get("id"),
        provider_model=body.get("model"),
    )
