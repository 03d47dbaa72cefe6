"""Small, realistic reply bodies for the benchmark server, one per wire API."""

from __future__ import annotations

import json

OPENAI_RESPONSES = {
    "id": "resp_0bee99a5de5b12910068f9669f8f3481958652a29720d87669",
    "object": "response",
    "created_at": 1761175200,
    "status": "completed",
    "error": None,
    "incomplete_details": None,
    "model": "gpt-4o-2024-08-06",
    "output": [
        {
            "id": "msg_0bee99a5de5b12910068f966a1fb3c819587e157227fc327ff",
            "type": "message",
            "status": "completed",
            "content": [
                {
                    "type": "output_text",
                    "annotations": [],
                    "logprobs": [],
                    "text": "Try The Name of the Wind by Patrick Rothfuss.",
                }
            ],
            "role": "assistant",
        }
    ],
    "parallel_tool_calls": True,
    "reasoning": {"effort": None, "summary": None},
    "store": True,
    "temperature": 1.0,
    "text": {"format": {"type": "text"}, "verbosity": "medium"},
    "tool_choice": "auto",
    "tools": [],
    "top_p": 1.0,
    "truncation": "disabled",
    "usage": {
        "input_tokens": 16,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 11,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 27,
    },
    "metadata": {},
}

OPENAI_COMPLETIONS = {
    "id": "chatcmpl-CvvKcKR1etlDbBPZihbYLStLOckUZ",
    "object": "chat.completion",
    "created": 1767921114,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Try The Name of the Wind by Patrick Rothfuss.",
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 16,
        "completion_tokens": 9,
        "total_tokens": 25,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    },
    "service_tier": "default",
    "system_fingerprint": "fp_deacdd5f6f",
}

ANTHROPIC = {
    "model": "claude-sonnet-4-20250514",
    "id": "msg_01EXuhhFC9buDpjCcznFPSDs",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "Try The Name of the Wind by Patrick Rothfuss."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 17,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 15,
        "service_tier": "standard",
    },
}

GOOGLE = {
    "candidates": [
        {
            "content": {
                "parts": [{"text": "Try The Name of the Wind by Patrick Rothfuss."}],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {"promptTokenCount": 13, "candidatesTokenCount": 12, "totalTokenCount": 25},
    "modelVersion": "gemini-2.5-flash",
    "responseId": "dJ9gaf-WFaelmtkP0vP24Qc",
}


BEDROCK = {
    "output": {
        "message": {"role": "assistant", "content": [{"text": "Try The Name of the Wind by Patrick Rothfuss."}]}
    },
    "stopReason": "end_turn",
    "usage": {"inputTokens": 13, "outputTokens": 12, "totalTokens": 25},
    "metrics": {"latencyMs": 412},
}


def reply_for(path: str) -> bytes:
    """The body the server answers a POST to `path` with."""
    if path.endswith("/converse"):
        return json.dumps(BEDROCK).encode()
    if path.endswith("/responses"):
        body = OPENAI_RESPONSES
    elif path.endswith("/chat/completions"):
        body = OPENAI_COMPLETIONS
    elif path.endswith("/messages"):
        body = ANTHROPIC
    else:
        body = GOOGLE
    return json.dumps(body).encode()


STREAM_CHUNKS = 200
"""Text deltas in every benchmark stream."""

_WORDS = [f" word{i}" for i in range(STREAM_CHUNKS)]


def _sse(events: list[tuple[str | None, object]], ending: str = "\n") -> bytes:
    out: list[str] = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        head = f"event: {name}{ending}" if name else ""
        out.append(f"{head}data: {text}{ending}{ending}")
    return "".join(out).encode()


def _responses_stream() -> bytes:
    item = {"id": "msg_1", "type": "message", "status": "in_progress", "content": [], "role": "assistant"}
    events: list[tuple[str | None, object]] = [
        ("response.created", {"type": "response.created", "response": {**OPENAI_RESPONSES, "output": []}}),
        ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": item}),
    ]
    for i, word in enumerate(_WORDS):
        delta = {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0}
        events.append(
            ("response.output_text.delta", {**delta, "content_index": 0, "delta": word, "sequence_number": i})
        )
    done = {
        **item,
        "status": "completed",
        "content": [{"type": "output_text", "annotations": [], "text": "".join(_WORDS)}],
    }
    events.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": done}))
    final = {**OPENAI_RESPONSES, "output": [done]}
    events.append(("response.completed", {"type": "response.completed", "response": final}))
    return _sse(events)


def _completions_stream() -> bytes:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1767921114, "model": "gpt-4o-2024-08-06"}
    events: list[tuple[str | None, object]] = [
        (
            None,
            {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
        )
    ]
    events.extend(
        (None, {**base, "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]})
        for word in _WORDS
    )
    events.append((None, {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    events.append((None, {**base, "choices": [], "usage": OPENAI_COMPLETIONS["usage"]}))
    events.append((None, "[DONE]"))
    return _sse(events)


def _anthropic_stream() -> bytes:
    start = {**ANTHROPIC, "content": [], "stop_reason": None, "usage": {**ANTHROPIC["usage"], "output_tokens": 1}}
    events: list[tuple[str | None, object]] = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
    ]
    for word in _WORDS:
        delta = {"type": "text_delta", "text": word}
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}))
    events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    stop = {"stop_reason": "end_turn", "stop_sequence": None}
    events.append(("message_delta", {"type": "message_delta", "delta": stop, "usage": {"output_tokens": 200}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return _sse(events)


def _google_stream() -> bytes:
    events: list[tuple[str | None, object]] = []
    for i, word in enumerate(_WORDS):
        candidate: dict[str, object] = {"content": {"parts": [{"text": word}], "role": "model"}, "index": 0}
        if i == len(_WORDS) - 1:
            candidate["finishReason"] = "STOP"
        chunk = {
            "candidates": [candidate],
            "usageMetadata": GOOGLE["usageMetadata"],
            "modelVersion": "gemini-2.5-flash",
            "responseId": "dJ9gaf-WFaelmtkP0vP24Qc",
        }
        events.append((None, chunk))
    return _sse(events, "\r\n")


def _event_message(event_type: str, payload: object) -> bytes:
    """One AWS event-stream message: prelude, string headers, JSON payload, CRCs."""
    import struct
    import zlib

    headers = b""
    for name, value in ((":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")):
        encoded = value.encode()
        headers += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(encoded)) + encoded
    body = json.dumps(payload, separators=(",", ":")).encode()
    total = 16 + len(headers) + len(body)
    prelude = struct.pack(">II", total, len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


def _bedrock_stream() -> bytes:
    parts = [_event_message("messageStart", {"role": "assistant"})]
    parts += [_event_message("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": word}}) for word in _WORDS]
    parts.append(_event_message("contentBlockStop", {"contentBlockIndex": 0}))
    parts.append(_event_message("messageStop", {"stopReason": "end_turn"}))
    usage = {"usage": BEDROCK["usage"], "metrics": {"latencyMs": 412}}
    parts.append(_event_message("metadata", usage))
    return b"".join(parts)


def stream_for(path: str) -> bytes:
    """The event stream the server answers a streaming POST to `path` with."""
    if path.endswith("/converse-stream"):
        return _bedrock_stream()
    if path.endswith("/responses"):
        return _responses_stream()
    if path.endswith("/chat/completions"):
        return _completions_stream()
    if path.endswith("/messages"):
        return _anthropic_stream()
    return _google_stream()


def _tool_reply(path: str) -> dict[str, object]:
    """A reply asking for one `get_weather(city="Paris")` call, in the API's own shape."""
    args = '{"city": "Paris"}'
    if path.endswith("/responses"):
        call = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather", "arguments": args}
        return {**OPENAI_RESPONSES, "output": [{**call, "status": "completed"}]}
    if path.endswith("/chat/completions"):
        call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": args}}
        message = {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
        return {**OPENAI_COMPLETIONS, "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
    if path.endswith("/messages"):
        use = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
        return {**ANTHROPIC, "content": [use], "stop_reason": "tool_use"}
    part = {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}
    candidate = {"content": {"parts": [part], "role": "model"}, "finishReason": "STOP", "index": 0}
    return {**GOOGLE, "candidates": [candidate]}


TOOL_RESULT_MARKERS = (b'"tool_call_id"', b'"function_call_output"', b'"tool_result"', b'"functionResponse"')
"""Bytes only a request carrying a tool's result holds, in each API's spelling."""


def tool_reply_for(path: str) -> bytes:
    """The reply to a request offering tools: one call of `get_weather`."""
    return json.dumps(_tool_reply(path)).encode()
