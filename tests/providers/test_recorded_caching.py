"""Prompt caching on every provider, against the real recordings.

OpenAI and Gemini cache long prompt prefixes by themselves; Claude caches where the caller puts
an `llm.CacheControl` breakpoint (here, where the recording library put its `cache_control`).
Each case replays the scenario's calls, checks every request by meaning, and checks that the
cached-token counts each provider reported come back in `response.usage`.
"""

from __future__ import annotations

from typing import Any

import pytest
from mirascope import llm

from tests.support.fixtures import find, load
from tests.support.meaning import comparable
from tests.support.replay import ReplayServer
from tests.support.scenarios import client_for, model_id_for

CASES = find(
    (
        "test_caching_system_message",
        "test_caching_user_message",
        "test_caching_multi_turn_conversation",
        "test_caching_tool",
    ),
    ("sync",),
)
QUESTIONS = ("Hello there.", "What should I have for breakfast?")
FOLLOW_UPS = ("This deal is getting worse all the time!", "I have a bad feeling about this")


def _prompt(fixture: dict[str, Any]) -> str:
    """The long Star Wars prompt, as the recorded request sent it."""
    body = fixture["exchanges"][0]["request"]["json"]
    for found in _strings(body):
        if len(found) > 5000:
            return found
    raise AssertionError("no long prompt in the recorded request")


def _strings(node: Any) -> Any:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def _cached_parts(fixture: dict[str, Any], *parts: str | llm.ContentPart) -> list[str | llm.ContentPart]:
    # Claude caches where the caller asks; the others ignore no breakpoint: they take none.
    return [*parts, llm.CacheControl()] if model_id_for(fixture).startswith("anthropic:") else list(parts)


def _usage(body: dict[str, Any]) -> tuple[int, int]:
    """(cache read, cache write) tokens as the provider reported them, read independently."""
    usage = body.get("usage") or {}
    if "usageMetadata" in body:
        return body["usageMetadata"].get("cachedContentTokenCount", 0), 0
    if "input_tokens_details" in usage:
        return usage["input_tokens_details"].get("cached_tokens", 0), 0
    if "prompt_tokens_details" in usage:
        return usage["prompt_tokens_details"].get("cached_tokens", 0), 0
    return usage.get("cache_read_input_tokens", 0), usage.get("cache_creation_input_tokens", 0)


@llm.tool
def star_wars_tool() -> str:
    """Replaced per test by the recorded long description."""
    return "May the force be with you."


def _run(fixture: dict[str, Any], client: llm.Client) -> list[llm.CallResponse]:
    scenario = fixture["scenario"]["description"]
    model = llm.model(model_id_for(fixture), client=client)
    prompt = _prompt(fixture)
    if "system message" in scenario:
        system = llm.messages.system(_cached_parts(fixture, prompt))
        return [model.call([system, llm.messages.user(question)]) for question in QUESTIONS]
    if "tool whose description" in scenario:
        tool = llm.tool(description=prompt)(star_wars_tool.fn)
        tools: list[Any] = [tool, llm.CacheControl()] if model.id.startswith("anthropic:") else [tool]
        with_tool = llm.model(model.id, client=client, tools=tools)
        return [with_tool.call(question) for question in QUESTIONS]
    if "Multi-turn" in scenario:
        first = model.call([llm.messages.user(_cached_parts(fixture, prompt))])
        second = first.resume(_cached_parts(fixture, FOLLOW_UPS[0]))
        # Claude's breakpoint moves to the newest message, as the recording's did.
        history = list(second.messages)
        if model.id.startswith("anthropic:"):
            history = [llm.messages.user(prompt), history[1], llm.messages.user(FOLLOW_UPS[0]), history[3]]
        third = model.call([*history, llm.messages.user(_cached_parts(fixture, FOLLOW_UPS[1]))])
        return [first, second, third]
    message = llm.messages.user(_cached_parts(fixture, prompt))
    return [model.call([message]), model.call([message])]


@pytest.mark.parametrize("path", CASES)
def test_cached_prompt_tokens_are_reported_in_usage_and_requests_go_out_as_recorded(
    path: str, replay_server: ReplayServer
) -> None:
    fixture = load(path)
    exchanges = fixture["exchanges"]
    client = client_for(fixture, replay_server.url)

    with replay_server.replaying([exchange["response"] for exchange in exchanges]) as session, client:
        responses = _run(fixture, client)

    assert len(session.requests) == len(exchanges)
    for sent, exchange in zip(session.requests, exchanges, strict=True):
        assert comparable(sent.json()) == comparable(exchange["request"]["json"])
    for response, exchange in zip(responses, exchanges, strict=True):
        read, written = _usage(exchange["response"]["json"])
        assert response.usage is not None
        assert (response.usage.cache_read_tokens, response.usage.cache_write_tokens) == (read, written)
        assert response.usage.input_tokens >= read + written
