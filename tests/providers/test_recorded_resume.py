"""A conversation started on one provider resumes on another, against the real recordings.

`test_resume_with_override`: the first reply comes from a different provider; the model under
test gets the whole conversation, so it must encode another provider's assistant turn.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from mirascope import llm

from tests.support.fixtures import find, load
from tests.support.meaning import comparable
from tests.support.replay import ReplayServer
from tests.support.scenarios import client_for, expected_decoding, model_id_for

CASES = find(("test_resume_with_override",), ("sync",))


def _step(fixture: dict[str, Any], index: int) -> dict[str, Any]:
    """The fixture as if it held only its `index`th exchange (each has its own provider)."""
    return {**fixture, "endpoints": [fixture["endpoints"][index]], "exchanges": [fixture["exchanges"][index]]}


def test_every_provider_has_a_cross_provider_recording() -> None:
    assert len(CASES) >= 4


@pytest.mark.parametrize("path", CASES)
def test_another_providers_reply_resumes_on_the_model_under_test(path: str, replay_server: ReplayServer) -> None:
    fixture = load(path)
    first, second = _step(fixture, 0), _step(fixture, 1)
    assert model_id_for(first).partition(":")[0] != model_id_for(second).partition(":")[0]
    other, tested = client_for(first, replay_server.url), client_for(second, replay_server.url)

    with replay_server.replaying([e["response"] for e in fixture["exchanges"]]) as session, other, tested:
        started = llm.model(model_id_for(first), client=other).call("Who created you?")
        resumed = llm.model(model_id_for(second), client=tested).call(
            [*started.messages, llm.messages.user("Can you double-check that?")]
        )

    for sent, exchange in zip(session.requests, fixture["exchanges"], strict=True):
        assert sent.path == urlsplit(exchange["request"]["url"]).path
        assert comparable(sent.json()) == comparable(exchange["request"]["json"])
    assert started.content == expected_decoding(first)["text"]
    assert resumed.content == expected_decoding(second)["text"]
    assert resumed.messages[1].model == started.model  # the other provider's turn, kept as it was
