"""`llm.override` and `llm.context`: change the model, client, tools or parameters of calls."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from mirascope import llm

from tests.support.completions import Server


def _server_client(server: Server) -> llm.Client:
    http = httpx.Client(transport=httpx.MockTransport(server.handler))
    return llm.client("openai-completions", base_url="http://test/v1", api_key="k", http_client=http)


def _claude(sent: list[dict[str, Any]]) -> llm.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        body = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-haiku-4-5",
            "content": [{"type": "text", "text": "from Claude"}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
        return httpx.Response(200, json=body)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return llm.client("anthropic", base_url="http://claude", api_key="k", http_client=http)


def test_override_makes_a_new_call_and_leaves_the_original_as_it_was() -> None:
    server = Server("a", "b")
    client = _server_client(server)

    @llm.call("openai-completions:gpt-4o", client=client, temperature=0.7)
    def recommend(genre: str) -> str:
        return f"Recommend a {genre} book"

    fast = llm.override(recommend, model="openai-completions:gpt-4o-mini", temperature=0.0, max_tokens=10)
    fast("sci-fi")
    recommend("sci-fi")

    assert (server.sent[0]["model"], server.sent[0]["temperature"], server.sent[0]["max_tokens"]) == (
        "gpt-4o-mini",
        0.0,
        10,
    )
    assert (server.sent[1]["model"], server.sent[1]["temperature"]) == ("gpt-4o", 0.7)
    assert "max_tokens" not in server.sent[1]


def test_a_context_block_changes_every_call_inside_it_and_none_outside() -> None:
    server = Server("a", "b", "c")
    client = _server_client(server)

    @llm.call("openai-completions:gpt-4o", client=client)
    def ask(question: str) -> str:
        return question

    with llm.context(model="openai-completions:gpt-4o-mini", max_tokens=256):
        response = ask("inside")
        response.resume("and resume inside")
    ask("outside")

    assert [(sent["model"], sent.get("max_tokens")) for sent in server.sent] == [
        ("gpt-4o-mini", 256),
        ("gpt-4o-mini", 256),
        ("gpt-4o", None),
    ]
    assert response.model == "openai-completions:gpt-4o-mini"


def test_nested_blocks_compose_the_inner_one_winning_setting_by_setting() -> None:
    server = Server("a", "b")
    model = server.model()

    with llm.context(temperature=0.1, max_tokens=100):
        with llm.context(max_tokens=5):
            model.call("inner")
        model.call("outer")

    assert (server.sent[0]["temperature"], server.sent[0]["max_tokens"]) == (0.1, 5)
    assert (server.sent[1]["temperature"], server.sent[1]["max_tokens"]) == (0.1, 100)


def test_a_block_wins_over_what_the_prompt_function_returned() -> None:
    server = Server("a")
    client = _server_client(server)

    @llm.call("openai-completions:gpt-4o", client=client)
    def ask() -> llm.DynamicConfig:
        return {"messages": "hi", "call_params": {"temperature": 0.9, "max_tokens": 50}}

    with llm.context(temperature=0.0):
        ask()

    assert (server.sent[0]["temperature"], server.sent[0]["max_tokens"]) == (0.0, 50)


def test_each_thread_sees_only_its_own_blocks() -> None:
    server = Server(*["ok"] * 6)
    model = server.model()
    together = threading.Barrier(3)  # all three threads are inside their calls at once

    def work(name: str, tokens: int | None) -> None:
        together.wait()
        if tokens is None:
            model.call(name).resume(name)
            return
        with llm.context(max_tokens=tokens):
            model.call(name).resume(name)

    threads = [threading.Thread(target=work, args=args) for args in (("a", 1), ("b", 2), ("c", None))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    by_prompt: dict[str, set[object]] = {}
    for sent in server.sent:
        by_prompt.setdefault(sent["messages"][0]["content"], set()).add(sent.get("max_tokens"))
    assert by_prompt == {"a": {1}, "b": {2}, "c": {None}}


def test_each_asyncio_task_sees_the_blocks_it_was_made_in() -> None:
    server = Server(*["ok"] * 3)

    async def run() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(server.handler))
        client = llm.client("openai-completions", base_url="http://test/v1", api_key="k", async_http_client=http)
        model = llm.model("openai-completions:gpt-4o", client=client)

        async def in_block(tokens: int) -> None:
            with llm.context(max_tokens=tokens):
                await asyncio.sleep(0)  # the other tasks run in between
                await model.call_async(f"t{tokens}")

        async with client:
            await asyncio.gather(in_block(1), in_block(2), model.call_async("none"))

    asyncio.run(run())

    assert {(sent["messages"][0]["content"], sent.get("max_tokens")) for sent in server.sent} == {
        ("t1", 1),
        ("t2", 2),
        ("none", None),
    }


def test_moving_to_another_provider_leaves_the_old_client_behind() -> None:
    server = Server("never")
    sent: list[dict[str, Any]] = []

    @llm.call("openai-completions:gpt-4o", client=_server_client(server))
    def ask() -> str:
        return "Who are you?"

    with llm.context(model="anthropic:claude-haiku-4-5", client=_claude(sent), max_tokens=64):
        response = ask()

    assert response.content == "from Claude"
    assert response.model == "anthropic:claude-haiku-4-5"
    assert (sent[0]["model"], sent[0]["max_tokens"]) == ("claude-haiku-4-5", 64)
    assert server.sent == []


def test_provider_params_for_one_provider_are_refused_when_an_override_moves_the_call() -> None:
    @llm.call("openai-completions:gpt-4o", provider_params={"logprobs": True})
    def ask() -> str:
        return "hi"

    with pytest.raises(llm.FeatureNotSupportedError, match="written for 'openai-completions'") as caught:
        llm.override(ask, model="anthropic:claude-haiku-4-5")
    assert caught.value.feature == "provider_params"

    sent: list[dict[str, Any]] = []
    moved = llm.override(ask, model="anthropic:claude-haiku-4-5", client=_claude(sent), provider_params={})
    assert moved().content == "from Claude"
    assert "logprobs" not in sent[0]


def test_a_block_can_change_the_tools_and_the_response_model() -> None:
    @dataclass
    class Answer:
        value: int

    @llm.tool
    def lookup(key: str) -> str:
        """Look a key up."""
        return key

    server = Server('{"value": 7}')
    with llm.context(tools=[lookup], response_model=Answer):
        response = server.model().call("?")

    assert response.parse() == Answer(7)
    assert [tool["function"]["name"] for tool in server.sent[0]["tools"]] == ["lookup"]
    assert server.sent[0]["response_format"]["json_schema"]["name"] == "Answer"


def test_an_unknown_setting_is_refused_naming_the_valid_ones() -> None:
    with pytest.raises(TypeError, match="Unknown call parameter"), llm.context(temprature=0.1):  # type: ignore[call-arg]
        pass


def test_a_malformed_model_id_is_refused_when_the_block_opens() -> None:
    with pytest.raises(llm.ProviderNotFoundError, match="provider:model"), llm.context(model="gpt-4o"):
        pass
