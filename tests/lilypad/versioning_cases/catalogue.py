"""A user module the prompt functions in `prompts.py` import helpers and constants from."""

from __future__ import annotations

GENRE_NOTES = {"fantasy": "with a map", "mystery": "with a twist"}


def note_for(genre: str) -> str:
    return GENRE_NOTES.get(genre, "")


def shelf_label(genre: str, count: int) -> str:
    return f"{genre.title()} shelf ({count} books)"
