"""Calls to Claude through the public API, answered by the replay server with made-up replies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mirascope import llm

from tests.support.replay import Received, ReplayServer

MODEL = "anthropic:claude-sonnet-4-0"


def reply(
    content: list[dict[str, Any]] | None = None,
    *,
    stop_reason: str | None = "end_turn",
    usage: dict[str, Any] | None = None,
    id: str = "msg_test",
) -> dict[str, Any]:
    """A successful Messages API reply, in the recorded-response shape the replay server takes."""
    return {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "json": {
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-20250514",
            "content": [{"type": "text", "text": "ok"}] if content is None else content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage or {"input_tokens": 3, "output_tokens": 1},
        },
    }


class Claude:
    """Makes calls against the replay server and keeps what reached it."""

    def __init__(self, server: ReplayServer) -> None:
        self.server = server
        self.requests: list[Received] = []
        self._clients: list[llm.Client] = []

    def client(self, **options: Any) -> llm.Client:
        options.setdefault("base_url", self.server.url)
        options.setdefault("max_retries", 0)  # one reply is queued per call: a retry would find none
        made = llm.client("anthropic", api_key="test-key", **options)
        self._clients.append(made)
        return made

    def call(
        self,
        content: str | Sequence[llm.Message],
        *,
        model: str = MODEL,
        replies: list[dict[str, Any]] | None = None,
        client: llm.Client | None = None,
        provider_params: dict[str, object] | None = None,
        **params: Any,
    ) -> llm.CallResponse:
        """One call; `requests` then holds what the server received (nothing, if it was refused)."""
        bound = llm.model(model, client=client or self.client(), provider_params=provider_params, **params)
        with self.server.replaying(replies or [reply()]) as session:
            try:
                return bound.call(content)
            finally:
                self.requests = list(session.requests)

    @property
    def sent(self) -> dict[str, Any]:
        """The JSON body of the one request the last call sent."""
        assert len(self.requests) == 1
        return self.requests[0].json()

    def close(self) -> None:
        for made in self._clients:
            made.close()
