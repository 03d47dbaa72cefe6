"""Realistic prompt functions: the versioning tests hash them in other processes, the benchmark times them.

Imported with this directory on `sys.path` (as `prompts`, next to `catalogue`), as an application would.
"""

from __future__ import annotations

import json

import catalogue
from catalogue import note_for
from mirascope import llm

STYLE = "friendly"
MAX_TITLES = 3
SHELVES = {"fiction", "history", "science"}


@llm.tool
def lookup_book(title: str) -> str:
    """Look a book up in the catalogue by its title."""
    return json.dumps({"title": title, "available": True})


class Shelf:
    """Where a genre's books are kept."""

    def __init__(self, genre: str) -> None:
        self.genre = genre

    def label(self) -> str:
        return catalogue.shelf_label(self.genre, MAX_TITLES)


def genre_hint(genre: str) -> str:
    # Two calls away from the prompt: note_for -> catalogue.GENRE_NOTES.
    return f"{note_for(genre)}; {Shelf(genre).label()}; shelves: {sorted(SHELVES)}"


@llm.call("openai:gpt-4o-mini")
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book."


@llm.call("openai:gpt-4o-mini", tools=[lookup_book], temperature=0.2)
def recommend_with_tools(genre: str, reader: str) -> str:
    """Recommend books, checking that they are on the shelves."""
    hint = genre_hint(genre)
    return f"You are a {STYLE} librarian. Recommend up to {MAX_TITLES} {genre} books for {reader} ({hint})."


@llm.agent(model="openai:gpt-4o-mini", tools=[lookup_book])
def librarian() -> str:
    return f"You are a {STYLE} librarian."


def make_prompt(tone: str) -> llm.Call[[str], llm.CallResponse[str]]:
    @llm.call("openai:gpt-4o-mini")
    def tone_prompt(topic: str) -> str:
        return f"In a {tone} tone, write about {topic}."

    return tone_prompt


cheerful = make_prompt("cheerful")

PROMPTS = {
    "recommend_book": recommend_book,
    "recommend_with_tools": recommend_with_tools,
    "librarian": librarian,
    "cheerful": cheerful,
    "lookup_book": lookup_book,
}
