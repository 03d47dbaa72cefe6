"""Every lilypad test runs in a directory of its own, so the store `configure()` keeps by default
(`.lilypad/lilypad.db` under the working directory) never lands in the checkout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_working_directory(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path_factory.mktemp("project")
    monkeypatch.chdir(directory)
    return directory


@pytest.fixture(autouse=True, scope="session")
def _no_store_left_in_the_checkout() -> Iterator[None]:
    # A module-scoped fixture runs before the directory above is entered: its configure() must
    # name a store (or none), or it writes the default one into the checkout.
    store = Path(__file__).resolve().parents[2] / ".lilypad"
    existed = store.exists()
    yield
    assert existed or not store.exists(), f"a test left a lilypad store in the checkout: {store}"
