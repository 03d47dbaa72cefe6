"""Every lilypad test runs in a directory of its own, so the store `configure()` keeps by default
(`.lilypad/lilypad.db` under the working directory) never lands in the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_working_directory(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path_factory.mktemp("project")
    monkeypatch.chdir(directory)
    return directory
