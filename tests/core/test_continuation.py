"""Replies cut off at `max_tokens`: `response.continue_()` and `continue_on_max_tokens` join the rest on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest
from mirascope import llm

from tests.support.completions import Server


def _cut(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text, "finish_reason": "length"}


def test_continue_asks_for_the_rest_and_joins_it_into_one_reply() -> None:
    server = Server(_cut("The states are: Alabama, Ala"), "ska, Arizona.")
    first = server.model().call("List the states.")

    whole = first.continue_()

    assert first.finish_reason == "max_tokens"
    assert whole.content == "The states are: Alabama, Alaska, Arizona."
    assert whole.finish_reason == "stop"
    assert [message.role for message in whole.messages] == ["user", "assistant"]
    assert whole.usage == llm.Usage(input_tokens=20, output_tokens=10)
    asked = server.sent[1]["messages"]
    assert asked[1] == {"role": "assistant", "content": "The states are: Alabama, Ala"}
    assert "cut off" in asked[2]["content"]


def test_the_joined_reply_is_what_goes_back_when_the_conversation_continues() -> None:
    server = Server(_cut("Alabama, Ala"), "ska.", "Done.")
    server.model().call("States?").continue_().resume("Thanks")

    assert server.sent[2]["messages"][1] == {"role": "assistant", "content": "Alabama, Alaska."}
    assert len(server.sent[2]["messages"]) == 3


def test_continue_on_max_tokens_continues_until_the_reply_is_whole() -> None:
    server = Server(_cut('{"title": "Du'), _cut('ne", "ye'), 'ar": 1965}')

    @dataclass
    class Book:
        title: str
        year: int

    response = server.model(Book, continue_on_max_tokens=3).call("A book?")

    assert response.parse() == Book("Dune", 1965)  # one JSON text, joined from three pieces
    assert len(server.sent) == 3


def test_continue_on_max_tokens_stops_at_its_limit() -> None:
    server = Server(_cut("a"), _cut("b"), "c")

    response = server.model(continue_on_max_tokens=1).call("?")

    assert (response.content, response.finish_reason) == ("ab", "max_tokens")
    assert len(server.sent) == 2


def test_a_resumed_call_continues_a_cut_reply_as_the_first_call_does() -> None:
    server = Server("Hello.", _cut("Ala"), "bama.")

    resumed = server.model(continue_on_max_tokens=1).call("Hi").resume("A state?")

    assert (resumed.content, resumed.finish_reason) == ("Alabama.", "stop")
    assert len(server.sent) == 3


def test_a_whole_reply_cannot_be_continued() -> None:
    response = Server("Done.").model().call("?")

    with pytest.raises(llm.Error, match="finish_reason='stop'"):
        response.continue_()


def test_the_async_response_continues_the_same_way() -> None:
    server = Server(_cut("Hel"), "lo")

    async def run() -> str:
        http = httpx.AsyncClient(transport=httpx.MockTransport(server.handler))
        client = llm.client("openai-completions", base_url="http://test/v1", api_key="k", async_http_client=http)
        async with client:
            first = await llm.model("openai-completions:gpt-4o", client=client).call_async("?")
            return (await first.continue_()).content

    assert asyncio.run(run()) == "Hello"


def test_an_async_resumed_call_continues_a_cut_reply_as_the_first_call_does() -> None:
    server = Server("Hello.", _cut("Ala"), "bama.")

    async def run() -> llm.AsyncCallResponse[str]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(server.handler))
        client = llm.client("openai-completions", base_url="http://test/v1", api_key="k", async_http_client=http)
        async with client:
            model = llm.model("openai-completions:gpt-4o", client=client, continue_on_max_tokens=1)
            return await (await model.call_async("Hi")).resume("A state?")

    resumed = asyncio.run(run())

    assert (resumed.content, resumed.finish_reason) == ("Alabama.", "stop")
    assert len(server.sent) == 3
