"""Gemini replies built by hand, for behaviour the recordings do not show."""

from __future__ import annotations

from typing import Any

MODEL = "google:gemini-2.5-flash"


def reply(
    *parts: dict[str, Any],
    finish: str | None = "STOP",
    usage: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A 200 `generateContent` reply with one candidate made of `parts`."""
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {
        "candidates": [candidate],
        "usageMetadata": usage or {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-1",
        **extra,
    }
    return {
        "status": 200,
        "headers": {"content-type": "application/json; charset=UTF-8"},
        "json": body,
    }


def text_reply(text: str = "ok") -> dict[str, Any]:
    """A plain text reply."""
    return reply({"text": text})


def error_reply(status: int, code: str, message: str, **headers: str) -> dict[str, Any]:
    """A Google-shaped error body: `{"error": {"code", "message", "status"}}`."""
    body = {"error": {"code": status, "message": message, "status": code}}
    return {
        "status": status,
        "headers": {"content-type": "application/json; charset=UTF-8", **headers},
        "json": body,
    }
