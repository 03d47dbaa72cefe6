"""Thinking on every provider, against the real recordings.

One interface (`thinking=` a level or an `llm.Thinking`) reaches each provider's setting; the
reasoning comes back as `response.thinking` (and as `chunk.thinking` when streamed), and the
provider's signatures and encrypted reasoning go back when the conversation continues, here
under another thinking level, as the recording's second request shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mirascope import llm

from tests.support.fixtures import find, load
from tests.support.meaning import comparable
from tests.support.replay import ReplayServer
from tests.support.scenarios import client_for, messages_for, model_id_for

MODES = ("sync", "async", "stream", "async_stream")
THINKING = find(("test_call_with_thinking",), MODES)
NO_INCLUDE = find(("test_call_with_thinking_no_include_thoughts",), MODES)
TEXT_ENCODED = find(("test_call_with_text_encoded_thoughts",), MODES)

RESUME_PROMPT = "If you remember what the primes were, then share them, or say 'I don't remember.'"


def _thinking(fixture: dict[str, Any]) -> llm.Thinking:
    given = fixture["scenario"]["params"]["thinking"]
    return llm.Thinking(
        level=given["level"],
        include=given.get("include_thoughts", False),  # the recording library did not ask by default
        encode_thoughts_as_text=given.get("encode_thoughts_as_text", False),
    )


Step = tuple[llm.Model[str], "list[llm.Message] | Callable[[Any], list[llm.Message]]"]
"""A model, and the messages to call it with or a function of the previous response giving them."""


def _messages(step: Step, results: list[tuple[Any, str]]) -> list[llm.Message]:
    messages = step[1]
    return messages(results[-1][0]) if callable(messages) else messages


def _run(steps: list[Step], mode: str, client: llm.Client) -> list[tuple[Any, str]]:
    """Each step's call in the recording's mode: its response, and its streamed chunks' thinking.

    A step's messages may be a function of the previous response. The client is closed at the
    end, inside the event loop for the async modes.
    """
    if mode in ("async", "async_stream"):

        async def run() -> list[tuple[Any, str]]:
            results: list[tuple[Any, str]] = []
            async with client:
                for step in steps:
                    model, given = step[0], _messages(step, results)
                    if mode == "async":
                        results.append((await model.call_async(given), ""))
                    else:
                        stream = await model.stream_async(given)
                        thinking = "".join([chunk.thinking async for chunk in stream])
                        results.append((await stream.aresponse(), thinking))
            return results

        return asyncio.run(run())
    results: list[tuple[Any, str]] = []
    with client:
        for step in steps:
            model, given = step[0], _messages(step, results)
            if mode == "sync":
                results.append((model.call(given), ""))
            else:
                stream = model.stream(given)
                thinking = "".join(chunk.thinking for chunk in stream)
                results.append((stream.response, thinking))
    return results


def _check(session: Any, exchanges: list[dict[str, Any]]) -> None:
    assert len(session.requests) == len(exchanges)
    for sent, exchange in zip(session.requests, exchanges, strict=True):
        assert comparable(sent.json()) == comparable(exchange["request"]["json"])


def test_every_thinking_scenario_has_recordings() -> None:
    assert len(THINKING) == len(NO_INCLUDE) == 16
    assert len(TEXT_ENCODED) == 5


@pytest.mark.parametrize("path", THINKING)
def test_thoughts_come_back_and_go_back_with_their_signatures_under_another_level(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    mode = Path(path).stem
    exchanges = fixture["exchanges"]
    model_id = model_id_for(fixture)
    client = client_for(fixture, replay_server.url)

    thinking = llm.model(model_id, client=client, thinking=_thinking(fixture))
    # The same conversation continues on the same model, thinking as little as it can.
    briefly = llm.model(model_id, client=client, thinking=llm.Thinking(level="minimal", include=False))

    with replay_server.replaying([exchange["response"] for exchange in exchanges]) as session:
        (first, streamed), (second, _) = _run(
            [
                (thinking, messages_for(fixture, tmp_path)),
                (briefly, lambda first: [*first.messages, llm.messages.user(RESUME_PROMPT)]),
            ],
            mode,
            client,
        )

    _check(session, exchanges)
    assert first.thinking
    assert any(isinstance(part, llm.Thought) for part in first.message.content)
    if mode.endswith("stream"):
        assert streamed == first.thinking
    assert second.content


@pytest.mark.parametrize("path", NO_INCLUDE)
def test_thinking_without_include_keeps_the_thoughts_out_of_the_response(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    mode = Path(path).stem
    exchange = fixture["exchanges"][0]
    client = client_for(fixture, replay_server.url)

    model = llm.model(model_id_for(fixture), client=client, thinking=_thinking(fixture))
    with replay_server.replaying([exchange["response"]]) as session:
        [(response, streamed)] = _run([(model, messages_for(fixture, tmp_path))], mode, client)

    _check(session, [exchange])
    assert response.thinking is None
    assert streamed == ""
    assert response.content


@pytest.mark.parametrize("path", TEXT_ENCODED)
def test_another_providers_thoughts_can_go_back_as_plain_text(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    exchange = fixture["exchanges"][0]
    client = client_for(fixture, replay_server.url)
    recorded = exchange["request"]["json"]
    history = recorded.get("messages") or recorded.get("contents") or recorded["input"]
    thought_text = next(_texts_starting(history, "**Thinking:** "))
    system, question, _, follow_up = (message["content"] for message in fixture["scenario"]["messages"])
    # The earlier reply came from another provider: its thought carries that provider's signature.
    reply = llm.Message(
        role="assistant",
        content=(llm.Thought(text=thought_text.removeprefix("**Thinking:** "), signature="sig"), llm.Text("Yes.")),
        model="somewhere-else:model",
    )
    messages = [llm.messages.system(system), llm.messages.user(question), reply, llm.messages.user(follow_up)]

    with replay_server.replaying([exchange["response"]]) as session, client:
        model = llm.model(model_id_for(fixture), client=client, thinking=_thinking(fixture))
        response = model.call(messages)

    _check(session, [exchange])
    assert fixture["scenario"]["expected"]["text_contains"] in response.content


def _texts_starting(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        for value in node.values():
            yield from _texts_starting(value, prefix)
    elif isinstance(node, list):
        for item in node:
            yield from _texts_starting(item, prefix)
    elif isinstance(node, str) and node.startswith(prefix):
        yield node
