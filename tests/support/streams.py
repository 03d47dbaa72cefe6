"""Read a recorded stream independently of the library: its events, and the reply they add up to.

`assembled_body` rebuilds the body the same reply would have had without streaming, following
each provider's documented accumulation rules, so a test can decode it through the ordinary
non-streaming call and compare the two responses field by field.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from mirascope import llm


def events(response: dict[str, Any]) -> list[Any]:
    """The decoded JSON of every event, in order (`[DONE]` and comments left out)."""
    return [event["data"] for event in response["sse"] if isinstance(event.get("data"), dict)]


def assembled_body(endpoint: str, response: dict[str, Any]) -> dict[str, Any]:
    """The non-streaming body of the reply a recorded stream carries."""
    data = events(response)
    if endpoint.startswith("openai.responses"):
        return _responses(data)
    if endpoint.startswith("openai.chat"):
        return _completions(data)
    if endpoint.startswith("anthropic"):
        return _anthropic(data)
    if endpoint.startswith("google"):
        return _google(data)
    raise ValueError(endpoint)


def _responses(data: list[dict[str, Any]]) -> dict[str, Any]:
    # The terminal event carries the whole response object.
    for event in data:
        if event["type"] in ("response.completed", "response.incomplete"):
            return event["response"]
    raise ValueError("no terminal response event")


def _completions(data: list[dict[str, Any]]) -> dict[str, Any]:
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish = None
    usage = None
    for chunk in data:
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            text.append(delta.get("content") or "")
            for piece in delta.get("tool_calls") or []:
                call = calls.setdefault(piece["index"], {"id": "", "name": "", "arguments": ""})
                function = piece.get("function") or {}
                call["id"] = piece.get("id") or call["id"]
                call["name"] = function.get("name") or call["name"]
                call["arguments"] += function.get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text) or None}
    if calls:
        message["tool_calls"] = [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for _, c in sorted(calls.items())
        ]
    return {
        "id": data[0]["id"],
        "model": data[0]["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


def _anthropic(data: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    partial_json: dict[int, str] = {}
    for event in data:
        kind = event["type"]
        if kind == "message_start":
            body = copy.deepcopy(event["message"])
        elif kind == "content_block_start":
            body["content"].append(copy.deepcopy(event["content_block"]))
        elif kind == "content_block_delta":
            block = body["content"][event["index"]]
            delta = event["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = block.get("signature", "") + delta["signature"]
            elif delta["type"] == "input_json_delta":
                partial_json[event["index"]] = partial_json.get(event["index"], "") + delta["partial_json"]
            elif delta["type"] == "citations_delta":
                block["citations"] = [*(block.get("citations") or []), delta["citation"]]
        elif kind == "content_block_stop":
            index = event["index"]
            if index in partial_json:
                body["content"][index]["input"] = json.loads(partial_json[index] or "{}")
        elif kind == "message_delta":
            body.update(event["delta"])
            body["usage"] = {**body.get("usage", {}), **event.get("usage", {})}
    return body


def _google(data: list[dict[str, Any]]) -> dict[str, Any]:
    # Consecutive text parts of the same kind (answer or thought) join into one, as Google's
    # own SDKs merge a streamed reply; a signature rides on the joined part.
    parts: list[dict[str, Any]] = []
    body: dict[str, Any] = {}
    candidate: dict[str, Any] = {}
    for chunk in data:
        body = {**body, **{k: v for k, v in chunk.items() if k != "candidates"}}
        for piece in ((chunk.get("candidates") or [{}])[0].get("content") or {}).get("parts") or []:
            last = parts[-1] if parts else None
            if (
                last is not None
                and "text" in piece
                and "text" in last
                and bool(piece.get("thought")) == bool(last.get("thought"))
            ):
                last["text"] += piece["text"]
                if "thoughtSignature" in piece:
                    last["thoughtSignature"] = piece["thoughtSignature"]
            else:
                parts.append(copy.deepcopy(piece))
        first = (chunk.get("candidates") or [{}])[0]
        candidate = {**candidate, **{k: v for k, v in first.items() if k != "content"}}
    candidate["content"] = {"role": "model", "parts": parts}
    body["candidates"] = [candidate]
    return body


def read_stream(
    model: llm.Model[Any], client: llm.Client, content: str | list[llm.Message], mode: str
) -> tuple[list[llm.Chunk], llm.CallResponse[Any] | llm.AsyncCallResponse[Any]]:
    """Stream `content` through `model` the way `mode` says (`stream` or `async_stream`).

    Returns the chunks and the assembled response; the client is closed afterwards, inside the
    event loop for async streams.
    """
    if mode == "async_stream":

        async def run() -> tuple[list[llm.Chunk], llm.AsyncCallResponse[Any]]:
            async with client:
                stream = await model.stream_async(content)
                chunks = [chunk async for chunk in stream]
                return chunks, await stream.aresponse()

        return asyncio.run(run())
    with client:
        stream = model.stream(content)
        chunks = list(stream)
        return chunks, stream.response
