"""Made-up structured replies in each provider's wire format, and where each request puts its schema.

For tests that need a structured answer in every mode (native schema, forced tool, JSON mode)
from every provider, called and streamed, where no recording has that combination. The shapes
follow the recorded exchanges in `../shared/fixtures`.
"""

from __future__ import annotations

import json
from typing import Any

from mirascope import llm

FORMAT_TOOL = "__mirascope_formatted_output_tool__"
JSON_INSTRUCTIONS = "Respond only with valid JSON that matches this exact schema:\n"

PROVIDERS = ("openai", "openai-completions", "anthropic", "google")
"""The wire formats: Responses, Chat Completions, Messages, Gemini."""

# The model each provider is called as: one that has every mode it offers.
MODELS = {
    "openai": "openai:gpt-4o",
    "openai-completions": "openai-completions:gpt-4o",
    "anthropic": "anthropic:claude-sonnet-4-5",
    "google": "google:gemini-2.5-flash",
}


def client(provider: str, server_url: str) -> llm.Client:
    """A client for `provider` pointed at the replay server, sending each request once."""
    base_url = server_url + "/v1" if provider.startswith("openai") else server_url
    return llm.client(provider, base_url=base_url, api_key="test-key", max_retries=0)


def _pieces(text: str, size: int = 7) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)] or [""]


def reply(provider: str, answer: Any, *, tool: bool, stream: bool, cut: bool = False) -> dict[str, Any]:
    """A recorded-response dict answering with `answer`: as text, or as the format tool's call.

    `cut=True`: the reply stops at `max_tokens` halfway through the answer's JSON.
    """
    text = json.dumps(answer)
    if cut:
        text = text[: len(text) // 2]
    build = {
        "openai": _responses,
        "openai-completions": _completions,
        "anthropic": _messages,
        "google": _gemini,
    }[provider]
    return build(text, answer, tool, stream, cut)


def _responses(text: str, answer: Any, tool: bool, stream: bool, cut: bool) -> dict[str, Any]:
    status = "incomplete" if cut else "completed"
    if tool:
        item: dict[str, Any] = {
            "id": "fc_1",
            "type": "function_call",
            "status": status,
            "arguments": text,
            "call_id": "call_1",
            "name": FORMAT_TOOL,
        }
    else:
        content = [{"type": "output_text", "annotations": [], "text": text}]
        item = {"id": "msg_1", "type": "message", "status": status, "role": "assistant", "content": content}
    usage = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    body: dict[str, Any] = {"id": "resp_1", "object": "response", "status": status, "model": "gpt-4o", "output": [item]}
    if cut:
        body["incomplete_details"] = {"reason": "max_output_tokens"}
    final = {**body, "usage": usage}
    if not stream:
        return {"status": 200, "headers": {"content-type": "application/json"}, "json": final}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**body, "status": "in_progress", "output": []}},
    ]
    if tool:
        events.append({"type": "response.output_item.added", "output_index": 0, "item": {**item, "arguments": ""}})
        events += [
            {"type": "response.function_call_arguments.delta", "output_index": 0, "item_id": "fc_1", "delta": piece}
            for piece in _pieces(text)
        ]
    else:
        events.append({"type": "response.output_item.added", "output_index": 0, "item": {**item, "content": []}})
        events += [
            {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": piece}
            for piece in _pieces(text)
        ]
    events.append({"type": "response.output_item.done", "output_index": 0, "item": item})
    events.append({"type": "response.incomplete" if cut else "response.completed", "response": final})
    return {"status": 200, "sse": [{"event": event["type"], "data": event} for event in events]}


def _completions(text: str, answer: Any, tool: bool, stream: bool, cut: bool) -> dict[str, Any]:
    base = {"id": "chatcmpl-1", "model": "gpt-4o"}
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    call = {"id": "call_1", "type": "function", "function": {"name": FORMAT_TOOL, "arguments": text}}
    finish = "length" if cut else "stop"  # OpenAI ends a forced tool call with "stop"
    if not stream:
        message: dict[str, Any] = (
            {"role": "assistant", "content": None, "tool_calls": [call]}
            if tool
            else {"role": "assistant", "content": text}
        )
        body = {
            **base,
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        }
        return {"status": 200, "headers": {"content-type": "application/json"}, "json": {**body, "usage": usage}}
    chunk = {**base, "object": "chat.completion.chunk"}
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": None if tool else ""}]
    if tool:
        first = {"index": 0, "id": "call_1", "type": "function", "function": {"name": FORMAT_TOOL, "arguments": ""}}
        deltas.append({"tool_calls": [first]})
        deltas += [{"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} for piece in _pieces(text)]
    else:
        deltas += [{"content": piece} for piece in _pieces(text)]
    events: list[Any] = [{**chunk, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    events.append({**chunk, "choices": [], "usage": usage})
    return {"status": 200, "sse": [*({"data": event} for event in events), {"data": "[DONE]"}]}


def _messages(text: str, answer: Any, tool: bool, stream: bool, cut: bool) -> dict[str, Any]:
    if tool:
        block: dict[str, Any] = {"type": "tool_use", "id": "toolu_1", "name": FORMAT_TOOL, "input": answer}
    else:
        block = {"type": "text", "text": text}
    stop = "max_tokens" if cut else "tool_use" if tool else "end_turn"
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5"}
    usage = {"input_tokens": 10, "output_tokens": 5}
    if not stream:
        body = {**message, "content": [block], "stop_reason": stop, "stop_sequence": None, "usage": usage}
        return {"status": 200, "headers": {"content-type": "application/json"}, "json": body}
    start = {**block, "input": {}} if tool else {**block, "text": ""}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {**message, "content": [], "stop_reason": None, "usage": usage}},
        {"type": "content_block_start", "index": 0, "content_block": start},
    ]
    for piece in _pieces(text):
        delta = {"type": "input_json_delta", "partial_json": piece} if tool else {"type": "text_delta", "text": piece}
        events.append({"type": "content_block_delta", "index": 0, "delta": delta})
    events += [
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 5}},
        {"type": "message_stop"},
    ]
    return {"status": 200, "sse": [{"event": event["type"], "data": event} for event in events]}


def _gemini(text: str, answer: Any, tool: bool, stream: bool, cut: bool) -> dict[str, Any]:
    usage = {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}
    base = {"modelVersion": "gemini-2.5-flash", "responseId": "r1"}
    if tool:
        parts: list[dict[str, Any]] = [{"functionCall": {"name": FORMAT_TOOL, "args": answer}}]
    else:
        parts = [{"text": text}]
    if not stream:
        finish = "MAX_TOKENS" if cut else "STOP"
        candidate = {"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}
        body = {**base, "candidates": [candidate], "usageMetadata": usage}
        return {"status": 200, "headers": {"content-type": "application/json"}, "json": body}
    pieces = [[part] for part in parts] if tool else [[{"text": piece}] for piece in _pieces(text)]
    events = [{**base, "candidates": [{"content": {"role": "model", "parts": p}, "index": 0}]} for p in pieces]
    events[-1]["candidates"][0]["finishReason"] = "MAX_TOKENS" if cut else "STOP"
    events[-1]["usageMetadata"] = usage
    return {"status": 200, "sse": [{"data": event} for event in events], "sse_line_ending": "\r\n"}


def schema_sent(provider: str, mode: str, body: dict[str, Any]) -> dict[str, Any]:
    """The output schema a request asked for, wherever its provider and mode put it."""
    if mode == "json":
        return json.loads(_system_text(provider, body).split(JSON_INSTRUCTIONS, 1)[1])
    if provider == "openai":
        return body["text"]["format"]["schema"] if mode == "native" else _format_tool(body["tools"])["parameters"]
    if provider == "openai-completions":
        if mode == "native":
            return body["response_format"]["json_schema"]["schema"]
        return _format_tool([tool["function"] for tool in body["tools"]])["parameters"]
    if provider == "anthropic":
        return body["output_format"]["schema"] if mode == "native" else _format_tool(body["tools"])["input_schema"]
    if mode == "native":
        return body["generationConfig"]["responseJsonSchema"]
    declarations = [declaration for tool in body["tools"] for declaration in tool.get("functionDeclarations", ())]
    return _format_tool(declarations)["parametersJsonSchema"]


def _format_tool(tools: list[dict[str, Any]]) -> dict[str, Any]:
    return next(tool for tool in tools if tool.get("name") == FORMAT_TOOL)


def _system_text(provider: str, body: dict[str, Any]) -> str:
    if provider == "openai":
        return next(item["content"] for item in body["input"] if item.get("role") in ("system", "developer"))
    if provider == "openai-completions":
        return next(item["content"] for item in body["messages"] if item.get("role") in ("system", "developer"))
    if provider == "anthropic":
        system = body["system"]
        return system if isinstance(system, str) else "\n".join(block["text"] for block in system)
    return "\n".join(part["text"] for part in body["systemInstruction"]["parts"])


def asks_for_output(provider: str, mode: str, body: dict[str, Any]) -> bool:
    """Whether a request carries what asks for the output in `mode` (the format tool, schema or JSON switch)."""
    if mode == "tool":
        tools = body.get("tools") or []
        if provider == "google":
            tools = [declaration for tool in tools for declaration in tool.get("functionDeclarations", ())]
        elif provider == "openai-completions":
            tools = [tool.get("function", {}) for tool in tools]
        declared = any(tool.get("name") == FORMAT_TOOL for tool in tools)
        return declared and ("toolConfig" in body if provider == "google" else "tool_choice" in body)
    if mode == "native":
        try:
            schema_sent(provider, mode, body)
        except (KeyError, StopIteration):
            return False
        return True
    if provider == "openai":
        return body.get("text", {}).get("format", {}).get("type") == "json_object"
    if provider == "openai-completions":
        return body.get("response_format", {}).get("type") == "json_object"
    if provider == "google":
        return body.get("generationConfig", {}).get("responseMimeType") == "application/json"
    return JSON_INSTRUCTIONS in _system_text(provider, body)
