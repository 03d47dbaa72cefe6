"""A Chat Completions server in-process (`httpx.MockTransport`) for core tests: replies in turn."""

from __future__ import annotations

import json
from typing import Any

import httpx
from mirascope import llm


class Server:
    """Answers Chat Completions requests with the given replies, in order, and keeps the requests."""

    def __init__(self, *replies: str | dict[str, Any]) -> None:
        self.replies = list(replies)
        self.sent: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(json.loads(request.content))
        reply = self.replies.pop(0)
        message = {"role": "assistant", "content": reply} if isinstance(reply, str) else dict(reply)
        finish = message.pop("finish_reason", "tool_calls" if "tool_calls" in message else "stop")
        body = {
            "id": "chatcmpl-1",
            "model": "gpt-4o",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        }
        body["usage"] = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        return httpx.Response(200, json=body)

    def model(self, response_model: Any = None, **kwargs: Any) -> llm.Model[Any]:
        http = httpx.Client(transport=httpx.MockTransport(self.handler))
        client = llm.client("openai-completions", base_url="http://test/v1", api_key="k", http_client=http)
        return llm.model("openai-completions:gpt-4o", client=client, response_model=response_model, **kwargs)
