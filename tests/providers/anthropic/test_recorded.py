"""Claude's real recorded exchanges: the same request goes out (headers and betas too), replies decode.

`tests/providers/test_recorded_calls.py` runs the common scenarios for every provider; this file
adds what is Anthropic's own: headers, the beta surface, thinking signatures on resume, caching.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mirascope import llm

from tests.support.fixtures import find, load
from tests.support.meaning import meaning
from tests.support.replay import Received, ReplayServer
from tests.support.scenarios import (
    client_for,
    expected_decoding,
    messages_for,
    model_id_for,
    params_for,
    run_scenario,
)

SCENARIOS = (
    "test_call",
    "test_call_with_params",
    "test_max_tokens",
    "test_call_with_image_content",
    "test_call_with_image_url",
    "test_call_with_document_content",
    "test_call_with_document_url",
    "test_authentication_error",
    "test_model_not_found",
)
CASES = [path for path in find(SCENARIOS, ("sync", "async")) if path.split("/")[1].startswith("anthropic")]


def _client(fixture: dict[str, Any], server: ReplayServer) -> llm.Client:
    return client_for(fixture, server.url)


def _assert_sent_as_recorded(sent: Received, recorded: dict[str, Any]) -> None:
    headers = recorded["headers"]
    assert sent.method == "POST"
    assert sent.path == "/v1/messages"
    assert sent.query == ("beta=true" if "anthropic-beta" in headers else "")
    assert sent.headers["x-api-key"] == "test-key"
    assert sent.headers["anthropic-version"] == headers["anthropic-version"]
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers.get("anthropic-beta") == headers.get("anthropic-beta")
    assert meaning(sent.json()) == meaning(recorded["json"])


@pytest.mark.parametrize("path", [path for path in CASES if "_error/" not in path and "_not_found/" not in path])
def test_recorded_call_sends_the_recorded_request_and_decodes_the_reply(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    exchange = fixture["exchanges"][0]
    messages = messages_for(fixture, tmp_path)

    with replay_server.replaying([exchange["response"]]) as session:
        response = run_scenario(fixture, Path(path).stem, _client(fixture, replay_server), messages)

    [sent] = session.requests
    _assert_sent_as_recorded(sent, exchange["request"])
    want = expected_decoding(fixture)
    usage = exchange["response"]["json"]["usage"]
    assert response.content == want["text"]
    assert response.finish_reason == want["finish_reason"]
    assert response.id == want["id"]
    assert response.provider_model == want["provider_model"]
    assert response.usage == llm.Usage(
        input_tokens=want["input_tokens"],
        output_tokens=want["output_tokens"],
        cache_read_tokens=usage["cache_read_input_tokens"],
        cache_write_tokens=usage["cache_creation_input_tokens"],
    )
    assert response.message.raw == exchange["response"]["json"]["content"]


@pytest.mark.parametrize("path", [path for path in CASES if "_error/" in path or "_not_found/" in path])
def test_recorded_failure_raises_the_typed_error_with_anthropics_message(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    exchange = fixture["exchanges"][0]
    messages = messages_for(fixture, tmp_path)
    expected: type[llm.APIError] = getattr(llm, fixture["scenario"]["expected"]["raises"])

    with replay_server.replaying([exchange["response"]]) as session, pytest.raises(expected) as raised:
        run_scenario(fixture, Path(path).stem, _client(fixture, replay_server), messages)

    [sent] = session.requests
    _assert_sent_as_recorded(sent, exchange["request"])
    error = raised.value
    assert error.status_code == exchange["response"]["status"]
    assert error.provider == "anthropic"
    assert error.message == exchange["response"]["json"]["error"]["message"]
    assert error.message in str(error)


def test_recorded_thinking_decodes_thoughts_and_resume_sends_their_signatures(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call_with_thinking/anthropic_claude_sonnet_4_0/sync.json")
    first, second = fixture["exchanges"]
    recorded_blocks = first["response"]["json"]["content"]
    follow_up = second["request"]["json"]["messages"][-1]["content"][0]["text"]
    client = _client(fixture, replay_server)

    with client, replay_server.replaying([first["response"], second["response"]]) as session:
        response = llm.model(model_id_for(fixture), client=client, **params_for(fixture)).call(
            messages_for(fixture, tmp_path)
        )
        # The recorded follow-up asked for less thinking and marked a cache breakpoint.
        again = llm.model(model_id_for(fixture), client=client, thinking=llm.Thinking(budget_tokens=1024))
        final = again.call([*response.messages, llm.messages.user([follow_up, llm.CacheControl()])])

    assert response.message.content[0] == llm.Thought(
        text=recorded_blocks[0]["thinking"], signature=recorded_blocks[0]["signature"]
    )
    assert response.thinking == recorded_blocks[0]["thinking"]
    assert response.content == "3"
    _assert_sent_as_recorded(session.requests[0], first["request"])
    _assert_sent_as_recorded(session.requests[1], second["request"])
    assert "79, 179, and 379" in final.content


def test_recorded_thinking_without_include_keeps_thoughts_out_of_the_response(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call_with_thinking_no_include_thoughts/anthropic_claude_sonnet_4_0/sync.json")
    [exchange] = fixture["exchanges"]
    client = _client(fixture, replay_server)

    with client, replay_server.replaying([exchange["response"]]) as session:
        thinking = llm.Thinking(level="medium", include=False)
        response = llm.model(model_id_for(fixture), client=client, thinking=thinking).call(
            messages_for(fixture, tmp_path)
        )

    _assert_sent_as_recorded(session.requests[0], exchange["request"])
    assert response.thinking is None
    assert response.content == "3"
    assert response.message.raw == exchange["response"]["json"]["content"]


def test_recorded_system_prompt_cache_is_written_then_read(replay_server: ReplayServer) -> None:
    fixture = load("test_caching_system_message/anthropic_claude_sonnet_4_0/sync.json")
    first, second = fixture["exchanges"]
    system = llm.messages.system([first["request"]["json"]["system"][0]["text"], llm.CacheControl()])
    client = _client(fixture, replay_server)
    model = llm.model(model_id_for(fixture), client=client)

    with client, replay_server.replaying([first["response"], second["response"]]) as session:
        written = model.call([system, llm.messages.user("Hello there.")])
        read = model.call([system, llm.messages.user("What should I have for breakfast?")])

    _assert_sent_as_recorded(session.requests[0], first["request"])
    _assert_sent_as_recorded(session.requests[1], second["request"])
    assert written.usage == llm.Usage(input_tokens=8 + 4167, output_tokens=204, cache_write_tokens=4167)
    assert read.usage == llm.Usage(input_tokens=12 + 4167, output_tokens=350, cache_read_tokens=4167)


def test_recorded_multi_turn_caching_resends_claudes_replies(replay_server: ReplayServer) -> None:
    fixture = load("test_caching_multi_turn_conversation/anthropic_claude_sonnet_4_0/sync.json")
    exchanges = fixture["exchanges"]
    prompt = exchanges[0]["request"]["json"]["messages"][0]["content"]
    client = _client(fixture, replay_server)

    with client, replay_server.replaying([e["response"] for e in exchanges]) as session:
        first = llm.model(model_id_for(fixture), client=client).call(prompt)
        second = first.resume(["This deal is getting worse all the time!", llm.CacheControl()])
        # The recording moved the breakpoint to the newest message.
        history = [*second.messages[:2], llm.messages.user("This deal is getting worse all the time!"), second.message]
        third = llm.model(model_id_for(fixture), client=client).call(
            [*history, llm.messages.user(["I have a bad feeling about this", llm.CacheControl()])]
        )

    for sent, exchange in zip(session.requests, exchanges, strict=True):
        _assert_sent_as_recorded(sent, exchange["request"])
    assert second.usage == llm.Usage(input_tokens=3 + 4597, output_tokens=588, cache_write_tokens=4597)
    assert third.usage == llm.Usage(
        input_tokens=3 + 598 + 4597, output_tokens=350, cache_read_tokens=4597, cache_write_tokens=598
    )
