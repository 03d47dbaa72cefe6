from __future__ import annotations

from collections.abc import Iterator

import pytest
from mirascope import llm

from tests.support.replay import ReplayServer


@pytest.fixture
def client(replay_server: ReplayServer) -> Iterator[llm.Client]:
    """A Gemini client pointed at the replay server, with a key that is never real."""
    with llm.client("google", base_url=replay_server.url, api_key="test-key") as made:
        yield made
