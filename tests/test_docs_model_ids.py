"""The model ids the docs and READMEs name are real, and name each model one way.

An id on a provider with a model table is in it (or is one of the placeholders below); ids on
services without one never name one model two ways (`groq:llama-3.3-70b` beside
`groq:llama-3.3-70b-versatile`).
"""

from __future__ import annotations

import re
from pathlib import Path

from mirascope import llm
from mirascope.llm.providers import _registry  # pyright: ignore[reportPrivateUsage]

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(
    [
        REPO / "README.md",
        *(REPO / "docs").rglob("*.md"),
        *(REPO / "docs").rglob("*.py"),
        *(REPO / "examples").rglob("*.py"),
        *(REPO / "packages").glob("*/README.md"),
    ]
)
TABLED = ("openai", "openai-completions", "anthropic", "google")
"""The providers whose models the model table lists."""
PLACEHOLDERS = {
    "openai:my-model",  # a model behind a base_url of the user's
    # Realtime models (`llm.realtime`): the model table holds the models calls reach, not these.
    "openai:gpt-realtime",
    "openai:gpt-realtime-mini",
    "google:gemini-2.5-flash-native-audio-preview-09-2025",
    "google:endpoints/123",
    "google:publishers/meta/models/...",
    "google:tunedModels/my-model",
}


def _ids() -> dict[str, set[str]]:
    prefixes = "|".join(sorted((re.escape(name) for name in _registry._EXTRAS), key=len, reverse=True))  # pyright: ignore[reportPrivateUsage]
    pattern = re.compile(rf"[\"'`]((?:{prefixes}):[A-Za-z0-9._/:\-]+)[\"'`]")
    found: dict[str, set[str]] = {}
    for document in DOCUMENTS:
        for match in pattern.finditer(document.read_text()):
            found.setdefault(match.group(1), set()).add(str(document.relative_to(REPO)))
    return found


def test_the_docs_name_models_at_all() -> None:
    assert len(_ids()) > 10


def test_each_id_on_a_provider_with_a_model_table_is_in_it() -> None:
    unknown = {
        model_id: sorted(where)
        for model_id, where in _ids().items()
        if model_id.partition(":")[0] in TABLED and model_id not in PLACEHOLDERS and llm.model_info(model_id) is None
    }
    assert unknown == {}


def test_no_model_of_a_service_without_a_table_is_named_two_ways() -> None:
    # The table judges the others: `gpt-4o` and `gpt-4o-mini` are two models, a dated id a snapshot.
    ids = sorted(model_id for model_id in _ids() if model_id.partition(":")[0] not in TABLED)
    doubled = [(shorter, longer) for shorter in ids for longer in ids if longer.startswith(f"{shorter}-")]
    assert doubled == []
