"""`@llm.agent`, `llm.override` and `llm.context` take every call setting `llm.call` takes, and use it.

Their signatures are generated from `llm.CallSettings` (scripts/generate_overloads.py); these tests
check that the settings they gained (`continue_on_max_tokens`, `retries`, `fallback`, `max_retries`)
reach the requests, against an in-process Chat Completions server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from mirascope import llm


@dataclass
class Book:
    title: str


class Server:
    """Replies in turn; a reply that is an int is that HTTP status, with an error body."""

    def __init__(self, *replies: int | str | dict[str, Any]) -> None:
        self.replies = list(replies)
        self.sent: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(json.loads(request.content))
        reply = self.replies.pop(0)
        if isinstance(reply, int):
            return httpx.Response(reply, json={"error": {"message": "overloaded", "type": "server_error"}})
        message = {"role": "assistant", "content": reply} if isinstance(reply, str) else dict(reply)
        finish = message.pop("finish_reason", "stop")
        choice = {"index": 0, "message": message, "finish_reason": finish}
        return httpx.Response(200, json={"id": "c", "model": "gpt-4o", "choices": [choice]})

    def client(self) -> llm.Client:
        http = httpx.Client(transport=httpx.MockTransport(self.handler))
        return llm.client("openai-completions", base_url="http://test/v1", api_key="k", http_client=http)

    def models(self) -> list[str]:
        return [body["model"] for body in self.sent]


def _cut(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text, "finish_reason": "length"}


def test_an_agent_continues_a_reply_cut_off_at_max_tokens() -> None:
    server = Server(_cut("The states: Alabama, Ala"), "ska.")

    @llm.agent(model="openai-completions:gpt-4o", client=server.client(), continue_on_max_tokens=1)
    def bot() -> str:
        return "You list states."

    response = bot("States?")

    assert response.content == "The states: Alabama, Alaska."
    assert len(server.sent) == 2


def test_an_agent_falls_back_with_its_own_retries() -> None:
    # retries=0: the 500 is not sent again to gpt-4o (the client's default would retry it) but
    # moves straight to the fallback model.
    server = Server(500, "Hello.")

    @llm.agent(model="openai-completions:gpt-4o", client=server.client(), retries=0, fallback="openai-completions:o3")
    def bot() -> str:
        return "You greet."

    response = bot("Hi")

    assert response.content == "Hello."
    assert server.models() == ["gpt-4o", "o3"]
    assert response.model == "openai-completions:o3"


def test_an_override_takes_continue_on_max_tokens_retries_and_fallback() -> None:
    server = Server(500, _cut("Alabama, Ala"), "ska.")
    client = server.client()

    @llm.call("openai-completions:gpt-4o", client=client)
    def states() -> str:
        return "States?"

    changed = llm.override(states, retries=0, fallback=["openai-completions:o3"], continue_on_max_tokens=1)
    response = changed()

    assert response.content == "Alabama, Alaska."
    assert server.models() == ["gpt-4o", "o3", "o3"]


def test_a_context_block_takes_max_retries_for_a_reply_that_does_not_parse() -> None:
    server = Server("not json", '{"title": "Dune"}')

    @llm.call("openai-completions:gpt-4o", client=server.client(), response_model=Book)
    def pick() -> str:
        return "A book?"

    with llm.context(max_retries=1):
        response = pick()

    assert response.parse() == Book("Dune")
    assert len(server.sent) == 2
