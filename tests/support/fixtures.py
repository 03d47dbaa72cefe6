"""Locate and load the recorded provider exchanges in `tests/fixtures/` (or `$MIRASCOPE_FIXTURES`).

`tests/fixtures/` is the repository's own copy, so a clone from anywhere runs the whole suite;
`scripts/sync_fixtures.py --check` keeps it equal to the canonical `../shared/fixtures`.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def fixtures_dir() -> Path:
    configured = os.environ.get("MIRASCOPE_FIXTURES")
    path = Path(configured) if configured else REPO / "tests" / "fixtures"
    if not (path / "recorded").is_dir():
        raise RuntimeError(f"Recorded fixtures not found at {path}; set MIRASCOPE_FIXTURES to the fixtures folder.")
    return path


@cache
def load(relative: str) -> dict[str, Any]:
    """One fixture, by its path under `recorded/` (e.g. `test_call/openai_gpt_4o_responses/sync.json`)."""
    return json.loads((fixtures_dir() / "recorded" / relative).read_text())


def find(scenarios: tuple[str, ...], modes: tuple[str, ...]) -> list[str]:
    """Paths under `recorded/` of every fixture of these scenarios and modes, sorted."""
    root = fixtures_dir() / "recorded"
    found: list[str] = []
    for scenario in scenarios:
        paths = sorted((root / scenario).glob("*/*.json"))
        found.extend(path.relative_to(root).as_posix() for path in paths if path.stem in modes)
    return found
