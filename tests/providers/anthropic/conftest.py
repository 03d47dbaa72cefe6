"""The `claude` fixture: calls through the public API against the replay server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.providers.anthropic.support import Claude
from tests.support.replay import ReplayServer


@pytest.fixture
def claude(replay_server: ReplayServer) -> Iterator[Claude]:
    helper = Claude(replay_server)
    yield helper
    helper.close()
