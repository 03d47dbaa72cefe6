"""Responses API JSON → llm."""

from __future__ import annotations

from typing import Any

from mirascope import llm
from mirascope.llm.providers import Decoded, Request, no_reply, parse_tool_args

from .._shared import obj, objs

_INCOMPLETE: dict[str, llm.FinishReason] = {
    "max_output_tokens": "max_tokens",
    "content_filter": "content_filter",
}


def usage(data: dict[str, Any]) -> llm.Usage | None:
    """Token counts of a response."""
    if not data:
        return None
    return llm.Usage(
        input_tokens=data.get("input_tokens") or 0,
        output_tokens=data.get("output_tokens") or 0,
        cache_read_tokens=obj(data.get("input_tokens_details")).get("cached_tokens") or 0,
        reasoning_tokens=obj(data.get("output_tokens_details")).get("reasoning_tokens") or 0,
    )


def citations(annotations: object) -> tuple[llm.Citation, ...]:
    """The web sources an `output_text` cites (`url_citation` annotations, spans in characters)."""
    return tuple(
        llm.Citation(
            url=annotation["url"],
            title=annotation.get("title"),
            start=annotation.get("start_index"),
            end=annotation.get("end_index"),
        )
        for annotation in objs(annotations)
        if annotation.get("type") == "url_citation" and annotation.get("url")
    )


def decode(request: Request, body: dict[str, Any]) -> Decoded:
    """The reply of a Responses API response."""
    if body.get("status") == "failed":
        raise llm.ServerError(
            obj(body.get("error")).get("message") or "the response failed",
            provider="openai",
            status_code=200,
            body=body,
            hint="The model failed while generating; retry, or check the request.",
        )
    if body.get("output") is None:  # `[]` is an empty reply the model meant; no `output` at all is none
        raise no_reply(request, body, "the response has no output")
    output = objs(body.get("output"))
    parts: list[llm.ContentPart] = []
    refused = False
    for item in output:
        kind = item.get("type")
        if kind == "message":
            for content in objs(item.get("content")):
                if content.get("type") == "output_text":
                    annotations = content.get("annotations")
                    text: str = content.get("text") or ""
                    parts.append(llm.Text(text, citations(annotations)) if annotations else llm.Text(text))
                elif content.get("type") == "refusal":
                    refused = True
                    parts.append(llm.Text(content.get("refusal") or ""))
        elif kind == "function_call":
            arguments = parse_tool_args(item.get("arguments") or "")
            parts.append(llm.ToolCall(id=item.get("call_id") or "", name=item.get("name") or "", args=arguments))
        elif kind == "reasoning":
            summary = "\n".join(s.get("text") or "" for s in objs(item.get("summary")))
            parts.append(llm.Thought(text=summary, signature=item.get("encrypted_content")))
    if refused:
        finish: llm.FinishReason = "refusal"
    elif body.get("status") == "incomplete":
        finish = _INCOMPLETE.get(obj(body.get("incomplete_details")).get("reason") or "", "other")
    elif any(isinstance(p, llm.ToolCall) for p in parts):
        finish = "tool_call"
    else:
        finish = "stop"
    return Decoded(
        message=llm.Message(role="assistant", content=tuple(parts), model=request.model_id, raw=body.get("output")),
        finish_reason=finish,
        usage=usage(obj(body.get("usage"))),
        id=body.get("id"),
        provider_model=body.get("model"),
    )
