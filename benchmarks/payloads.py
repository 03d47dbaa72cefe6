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


def reply_for(path: str) -> bytes:
    """The body the server answers a POST to `path` with."""
    if path.endswith("/responses"):
        body = OPENAI_RESPONSES
    elif path.endswith("/chat/completions"):
        body = OPENAI_COMPLETIONS
    elif path.endswith("/messages"):
        body = ANTHROPIC
    else:
        body = GOOGLE
    return json.dumps(body).encode()
