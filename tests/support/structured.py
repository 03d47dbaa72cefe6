"""The response models of the recorded structured-output scenarios, as plain Python types.

The recordings were made with Pydantic models; these are the same shapes as dataclasses, with
descriptions where the scenarios put them, so the schemas Mirascope writes from them must ask
for what the recorded ones asked for.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Annotated, Any

from mirascope import llm


@dataclass
class Author:
    """The author of a book."""

    first_name: str
    last_name: str


@dataclass
class Book:
    """A book with a rating. The title should be in all caps!"""

    title: str
    author: Author
    rating: Annotated[int, "For testing purposes, the rating should be 7"]


@dataclass
class IntegerAdditionResponse:
    """A simple response for testing."""

    integer_a: int
    integer_b: int
    answer: int


class Formatted:
    """The formatting-instructions scenario's `Book`, apart from the other scenarios' one."""

    @dataclass
    class Book:
        title: str
        author: str
        rating: int


@dataclass
class RatedBook:
    title: str
    rating: Annotated[int, "For testing purposes, the rating should be 7"]


@dataclass
class BookReview:
    title: str
    author: str
    themes: list[str]
    rating: int


@dataclass
class LuckyNumber:
    """A lucky number chosen by the model."""

    value: int

    def __post_init__(self) -> None:
        # A rule no schema states: only the parse can catch it, and a retry can fix it.
        if self.value != 173:
            raise ValueError(f"The number must be exactly 173, but got {self.value}")


@llm.tool
def customAdditionImplementation(a: int, b: int) -> int:  # the recorded tool's name
    """Perform computation on integers."""
    return a**2 + b**2


@llm.output_parser(instructions="Respond with a single word: the passphrase.")
def extract_passphrase(text: str) -> str:
    """The passphrase, when the reply is exactly it (in any case)."""
    if text.strip().lower() != "cake":
        raise ValueError("Incorrect passphrase. The correct passphrase is 'cake'")
    return text.strip().lower()


@llm.output_parser(instructions="Return book as XML: <book><title>Mistborn</title><rating>7</rating></book>")
def parse_book(text: str) -> RatedBook:
    """The first `<book>` element of the reply."""
    match = re.search(r"<book>.*?</book>", text, re.DOTALL)
    if match is None:
        raise ValueError("No <book> element in the reply")
    element = ET.fromstring(match.group(0))
    return RatedBook(title=element.findtext("title", ""), rating=int(element.findtext("rating", "0")))


FORMATTING_INSTRUCTIONS = (
    "Output a structured book as JSON in the format {title: str, author: str, rating: int}.\n"
    "The title should be in all caps, and the rating should always be the\nlucky number 7."
)

_TYPES: dict[str, Any] = {
    "Book": Book,
    "IntegerAdditionResponse": IntegerAdditionResponse,
    "BookReview": BookReview,
    "LuckyNumber": LuckyNumber,
    "int": int,
    "list[Book]": list[RatedBook],
    "output_parser:extract_passphrase": extract_passphrase,
    "output_parser:parse_book": parse_book,
}


def recorded_mode(request: dict[str, Any]) -> tuple[llm.FormatMode, bool | None]:
    """How a recorded request asked for its output: the mode, and whether it asked for strictness."""
    text = json.dumps(request)
    strict = '"strict": true' in text
    if "__mirascope_formatted_output_tool__" in text:
        return "tool", strict
    if (
        "output_format" in request
        or '"json_schema"' in text
        or "responseSchema" in text
        or "responseJsonSchema" in text
    ):
        # Claude and Gemini hold a native reply to the schema whatever the flag says.
        return "native", strict if '"json_schema"' in text and "output_format" not in request else None
    return "json", False


def response_model_for(fixture: dict[str, Any]) -> Any:
    """The scenario's response model, asked for the way the recording asked for it."""
    format = fixture["scenario"]["format"]
    tp = _TYPES[format["class"]]
    if isinstance(tp, llm.Format):
        return tp
    mode, strict = recorded_mode(fixture["exchanges"][0]["request"]["json"])
    instructions = FORMATTING_INSTRUCTIONS if "formatting_instructions" in format else None
    if instructions is not None:
        tp = Formatted.Book
    return llm.response_model(tp, mode=mode, strict=strict, instructions=instructions)
