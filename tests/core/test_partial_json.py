"""Partial JSON of streamed structured output: `PartialJSON` and `partial_object`.

Every document is checked against `json.loads`, whatever the chunking: the final value is the
same, and every value seen along the way is a prefix of it.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import itertools
import json
import subprocess
import sys
import typing
from collections.abc import Sequence
from typing import Annotated, Any, Literal, NamedTuple, Optional, TypedDict

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mirascope.llm._partial_json import NOTHING, PartialJSON
from mirascope.llm._partial_objects import partial_object

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def same(a: object, b: object) -> bool:
    """Equal as JSON: `True` is not `1`, `1` is not `1.0`, and key order counts."""
    return json.dumps(a) == json.dumps(b)


def is_prefix_of(partial: object, final: object) -> bool:
    """Whether `partial` is what `final` looks like partway through its text.

    Containers hold a prefix of the final items (keys, for objects), all equal but the last,
    which is itself a prefix; a string is a prefix of the final string; anything else is complete.
    """
    if isinstance(final, dict):
        if not isinstance(partial, dict):
            return False
        final_dict = typing.cast("dict[str, object]", final)
        partial_dict = typing.cast("dict[str, object]", partial)
        keys = list(partial_dict)
        if keys != list(final_dict)[: len(keys)]:
            return False
        if not all(same(partial_dict[key], final_dict[key]) for key in keys[:-1]):
            return False
        return not keys or is_prefix_of(partial_dict[keys[-1]], final_dict[keys[-1]])
    if isinstance(final, list):
        if not isinstance(partial, list):
            return False
        final_list = typing.cast("list[object]", final)
        partial_list = typing.cast("list[object]", partial)
        if len(partial_list) > len(final_list):
            return False
        if not all(same(a, b) for a, b in zip(partial_list[:-1], final_list, strict=False)):
            return False
        return not partial_list or is_prefix_of(partial_list[-1], final_list[len(partial_list) - 1])
    if isinstance(final, str):
        return isinstance(partial, str) and final.startswith(partial)
    return same(partial, final)


def parse_in_chunks(chunks: Sequence[str]) -> tuple[object, list[object]]:
    """Feed the chunks; return the final value and the value after every chunk that changed it.

    Also checks that `feed` says truly whether the value changed, and that no value returned
    earlier is changed by a later feed.
    """
    parser = PartialJSON()
    seen: list[tuple[object, str]] = []
    assert parser.value is NOTHING
    before = "NOTHING"
    for chunk in chunks:
        changed = parser.feed(chunk)
        value = parser.value
        now = "NOTHING" if value is NOTHING else json.dumps(value)
        assert changed == (now != before), (chunk, before, now)
        before = now
        if changed:
            seen.append((value, now))
    final = parser.finish()
    for value, text in seen:
        assert json.dumps(value) == text, "a later feed changed a value returned earlier"
    return final, [value for value, _ in seen]


def split_at(text: str, *positions: int) -> list[str]:
    cuts = [0, *sorted(positions), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(cuts)]


DOCUMENTS = [
    "{}",
    "[]",
    '{"a": 1}',
    "[1, -2, 3.5, -0.25e-3, 1E+2, 0, -0, 10.0]",
    '{"name": "Ada", "born": 1815, "tags": ["math", "poetry"], "alive": false, "heir": null}',
    '{"nested": {"deeper": {"deepest": [[], [[]], {}, [{}]]}}, "after": true}',
    r'["quote \" backslash \\ slash \/ controls \b\f\n\r\t"]',
    r'{"accents": "caf\u00e9", "emoji": "\ud83d\ude00!", "raw": "caf\u00e9 😀 ☃"}',
    r'["lone high \ud83d then text", "lone high at end \ud83d", "high then escape \ud83d\n"]',
    r'["two highs \ud83d\ud83d\ude00", "high then non-low \ud83d\u0041", "lone low \ude00"]',
    ' \n\t[ 1 ,\n  "x" , { "k" :\t[ true , false , null ] } ]\n ',
    json.dumps({"long": "x" * 300, "list": list(range(50))}, indent=2),
]


# ---------------------------------------------------------------------------------------------
# What the partial value shows
# ---------------------------------------------------------------------------------------------


def test_nothing_is_shown_before_the_first_bracket() -> None:
    parser = PartialJSON()
    assert parser.value is NOTHING
    assert parser.feed("Here is the JSON you asked for: ") is False
    assert parser.value is NOTHING
    assert parser.feed("{") is True
    assert parser.value == {}


def test_nothing_is_distinct_from_null() -> None:
    assert NOTHING is not None
    assert repr(NOTHING) == "NOTHING"


def test_an_unfinished_string_value_shows_the_text_so_far() -> None:
    parser = PartialJSON()
    parser.feed('{"title": "')
    assert parser.value == {"title": ""}
    parser.feed("The Left Hand of")
    assert parser.value == {"title": "The Left Hand of"}
    parser.feed(' Darkness", ')
    assert parser.value == {"title": "The Left Hand of Darkness"}


def test_an_unfinished_key_is_not_shown() -> None:
    parser = PartialJSON()
    parser.feed('{"a": 1, "tit')
    assert parser.value == {"a": 1}


def test_a_key_whose_value_has_not_started_is_not_shown() -> None:
    parser = PartialJSON()
    for chunk in ['{"a": 1, "title"', " ", ":", " "]:
        parser.feed(chunk)
        assert parser.value == {"a": 1}
    parser.feed("[")
    assert parser.value == {"a": 1, "title": []}


@pytest.mark.parametrize(
    ("start", "rest", "complete"),
    [
        ("[12", "3]", 123),
        ("[-", "1]", -1),
        ("[1.", "5]", 1.5),
        ("[1e", "3]", 1000.0),
        ("[tru", "e]", True),
        ("[f", "alse]", False),
        ("[nul", "l]", None),
    ],
)
def test_unfinished_numbers_and_literals_are_not_shown(start: str, rest: str, complete: object) -> None:
    parser = PartialJSON()
    parser.feed(start)
    assert parser.value == []
    parser.feed(rest)
    assert same(parser.value, [complete])


def test_a_number_shows_once_a_delimiter_follows_it() -> None:
    parser = PartialJSON()
    parser.feed('{"n": 42')
    assert parser.value == {}
    assert parser.feed(" ") is True
    assert parser.value == {"n": 42}


def test_a_literal_shows_as_soon_as_it_is_complete() -> None:
    parser = PartialJSON()
    parser.feed('{"ok": true')
    assert parser.value == {"ok": True}


def test_an_array_shows_its_complete_items_and_the_partial_last_item() -> None:
    parser = PartialJSON()
    parser.feed('{"items": [{"id": 1, "name": "a"}, {"id": 2, "name": "b')
    assert parser.value == {"items": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}
    parser.feed('c"}, 3')
    assert parser.value == {"items": [{"id": 1, "name": "a"}, {"id": 2, "name": "bc"}]}


@pytest.mark.parametrize(
    ("chunks", "shown"),
    [
        ([r'["caf\u00', "e9", '"]'], ["caf", "café", "café"]),
        ([r'["a\\', 'b"]'], ["a\\", "a\\b"]),
        (['["a\\', 'nb"]'], ["a", "a\nb"]),
        ([r'["\ud83d', r'\ude00"]'], ["", "😀"]),
        ([r'["\ud83d\ude', '00"]'], ["", "😀"]),
        (['["\\ud83d\\', 'ude00"]'], ["", "😀"]),
        ([r'["\ud83d', '"]'], ["", "\ud83d"]),
        (['["\\ud83d\\', 'n"]'], ["", "\ud83d\n"]),
    ],
)
def test_a_split_escape_waits_for_the_rest(chunks: list[str], shown: list[str]) -> None:
    parser = PartialJSON()
    values: list[object] = []
    for chunk in chunks[:-1]:
        parser.feed(chunk)
        values.append(parser.value)
    parser.feed(chunks[-1])
    values.append(parser.value)
    assert values == [[text] for text in shown]
    assert parser.finish() == json.loads("".join(chunks))


def test_the_value_is_the_same_object_until_it_changes() -> None:
    parser = PartialJSON()
    parser.feed('{"a": [1, 2 ')
    first = parser.value
    parser.feed("   ")
    assert parser.value is first
    parser.feed(', "')
    assert parser.value is not first
    assert parser.value == {"a": [1, 2, ""]}


def test_later_feeds_do_not_change_values_returned_earlier() -> None:
    parser = PartialJSON()
    parser.feed('{"a": {"b": [1, "x')
    early = parser.value
    kept = copy.deepcopy(early)
    parser.feed('yz", 2], "c": 3}, "d": [')
    middle = parser.value
    kept_middle = copy.deepcopy(middle)
    parser.feed("4, 5]}")
    assert early == kept == {"a": {"b": [1, "x"]}}
    assert middle == kept_middle == {"a": {"b": [1, "xyz", 2], "c": 3}, "d": []}
    assert parser.finish() == {"a": {"b": [1, "xyz", 2], "c": 3}, "d": [4, 5]}


def test_finished_parts_are_shared_between_values_and_open_ones_are_copied() -> None:
    parser = PartialJSON()
    parser.feed('{"done": {"x": [1, 2]}, "open": [1')
    first = typing.cast("dict[str, Any]", parser.value)
    parser.feed(", 2")
    second = typing.cast("dict[str, Any]", parser.value)
    assert second["done"] is first["done"]
    assert second["open"] is not first["open"]


def test_finish_returns_the_complete_value_and_ignores_text_after_it() -> None:
    parser = PartialJSON()
    parser.feed('{"a": [1, {"b": null}]}\n```\nHope this helps! {"not": "parsed"}')
    assert parser.done
    assert parser.feed("more text [1]") is False
    assert parser.finish() == {"a": [1, {"b": None}]}
    assert parser.value == {"a": [1, {"b": None}]}


@pytest.mark.parametrize(
    "text",
    [
        'Sure! Here it is:\n```json\n{"city": "Paris", "sights": ["Louvre"]}\n```\nAnything else?',
        '```json\n{"city": "Paris", "sights": ["Louvre"]}\n```',
        '{"city": "Paris", "sights": ["Louvre"]}',
    ],
)
def test_prose_and_a_code_fence_around_the_json_are_skipped(text: str) -> None:
    expected = {"city": "Paris", "sights": ["Louvre"]}
    for position in range(len(text) + 1):
        final, values = parse_in_chunks(split_at(text, position))
        assert final == expected
        assert all(is_prefix_of(value, expected) for value in values)


def test_repeated_keys_keep_the_last_value_as_json_loads_does() -> None:
    text = '{"a": 1, "b": 2, "a": 3}'
    parser = PartialJSON()
    parser.feed(text)
    assert same(parser.finish(), json.loads(text))


def test_a_large_string_streamed_in_small_chunks_is_not_reparsed() -> None:
    # Only the new text is scanned: a megabyte fed in 64-character chunks stays fast.
    body = "lorem ipsum \\n dolor \\u00e9 " * 40_000
    text = '{"text": "' + body + '"}'
    parser = PartialJSON()
    for start in range(0, len(text), 64):
        parser.feed(text[start : start + 64])
    assert parser.finish() == json.loads(text)


# ---------------------------------------------------------------------------------------------
# Any chunking gives what `json.loads` gives
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("document", DOCUMENTS)
def test_a_document_split_at_every_position_parses_to_what_json_loads_gives(document: str) -> None:
    expected = json.loads(document)
    for position in range(len(document) + 1):
        final, values = parse_in_chunks(split_at(document, position))
        assert same(final, expected), position
        assert all(is_prefix_of(value, expected) for value in values), position


@pytest.mark.parametrize("document", DOCUMENTS)
def test_a_document_fed_one_character_at_a_time_parses_to_what_json_loads_gives(document: str) -> None:
    expected = json.loads(document)
    final, values = parse_in_chunks(list(document))
    assert same(final, expected)
    assert all(is_prefix_of(value, expected) for value in values)
    assert same(values[-1], expected)


def test_a_short_document_split_at_every_pair_of_positions_parses_the_same() -> None:
    document = r'{"k": ["\ud83d\ude00", -1.5e3, true], "e": {}}'
    expected = json.loads(document)
    for first in range(len(document) + 1):
        for second in range(first, len(document) + 1):
            final, values = parse_in_chunks(split_at(document, first, second))
            assert same(final, expected)
            assert all(is_prefix_of(value, expected) for value in values)


_special_characters = st.sampled_from(['"', "\\", "/", "\n", "\t", "\b", "\x00", "\x1f", "\x7f", "\u2028", "é", "😀"])
_json_strings = st.text(st.characters(exclude_categories=["Cs"]) | _special_characters, max_size=12)
_leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _json_strings
_json_values = st.recursive(
    _leaves,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_json_strings, children, max_size=5),
    max_leaves=25,
)
_documents = st.lists(_json_values, max_size=5) | st.dictionaries(_json_strings, _json_values, max_size=5)


@pytest.mark.slow  # 300 generated documents: seconds, the rest of the module well under one
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=_documents,
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 0, 2]),
    prose=st.sampled_from([("", ""), ("Here you go:\n```json\n", "\n```\n"), ("Answer: ", " Done. {x")]),
    data=st.data(),
)
def test_generated_json_split_into_random_chunks_parses_to_the_original_value(
    value: object, ensure_ascii: bool, indent: int | None, prose: tuple[str, str], data: st.DataObject
) -> None:
    document = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent)
    text = prose[0] + document + prose[1]
    positions = data.draw(st.lists(st.integers(0, len(text)), max_size=12), label="cuts")
    final, values = parse_in_chunks(split_at(text, *positions))
    assert same(final, value)
    assert all(is_prefix_of(partial, value) for partial in values)


# ---------------------------------------------------------------------------------------------
# Invalid and incomplete JSON
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "offset"),
    [
        ('{"a" 1}', 5),
        ("[1,]", 3),
        ("{,}", 1),
        ('{"a": 1,}', 8),
        ('{"a": 1]', 7),
        ("[1 2]", 3),
        ("[01]", 1),
        ("[1.]", 1),
        ("[-]", 1),
        ("[1e]", 1),
        ("[.5]", 1),
        ("[+1]", 1),
        ("[1-2]", 1),
        ("[tru]", 4),
        ("[nulL]", 4),
        ("{'a': 1}", 1),
        ('{"a": 1 "b": 2}', 8),
        (r'["a\x"]', 3),
        (r'["\u12g4"]', 2),
        (r'["\ud83d\u12g4"]', 2),
        ('["a\nb"]', 3),
        ("[٣]", 1),
        ('prose {"a": tx}', 13),
    ],
)
def test_invalid_json_raises_a_value_error_that_says_where(document: str, offset: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the reference is whatever json.loads raises
        json.loads(document.removeprefix("prose "))
    for position in range(len(document) + 1):
        with pytest.raises(ValueError, match=rf"^Invalid JSON at offset {offset}: "):
            parse_in_chunks(split_at(document, position))


@pytest.mark.parametrize("document", ["[NaN]", "[Infinity]", "[-Infinity]"])
def test_nan_and_infinity_are_refused_though_json_loads_takes_them(document: str) -> None:
    parser = PartialJSON()
    with pytest.raises(ValueError, match=r"^Invalid JSON at offset 1: "):
        parser.feed(document)


def test_an_error_is_raised_again_by_every_later_call() -> None:
    parser = PartialJSON()
    with pytest.raises(ValueError, match="offset 5") as first:
        parser.feed('{"a" 1}')
    with pytest.raises(ValueError, match="offset 5") as again:
        parser.feed("}")
    assert again.value is first.value
    with pytest.raises(ValueError, match="offset 5"):
        parser.finish()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"a": 1', "inside a number"),
        ('{"a": "x', "inside a string"),
        ('{"a', "inside a string"),
        ('{"a"', "after an object key"),
        ('{"a":', "before a value"),
        ('{"a": [1, 2]', "after a value"),
        ("[tr", "inside a literal"),
        ("[", "inside an array"),
        ("{", "inside an object"),
        (r'["\u00', "inside a string"),
    ],
)
def test_finish_raises_when_the_json_is_incomplete(text: str, where: str) -> None:
    parser = PartialJSON()
    parser.feed(text)
    with pytest.raises(ValueError, match=f"^Incomplete JSON: the text ends at offset {len(text)} {where}"):
        parser.finish()


def test_finish_raises_when_the_text_holds_no_json() -> None:
    parser = PartialJSON()
    parser.feed("I cannot answer that.")
    with pytest.raises(ValueError, match="no JSON object or array"):
        parser.finish()


# ---------------------------------------------------------------------------------------------
# Partial instances of response types. Module level, so that their string annotations resolve.
# ---------------------------------------------------------------------------------------------


class Genre(enum.Enum):
    FICTION = "fiction"
    SCIENCE = "science"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Author:
    name: str
    born: int


@dataclasses.dataclass(frozen=True, slots=True)
class Book:
    title: str
    author: Author
    genre: Genre
    tags: list[str]
    rating: Literal["good", "bad"]
    year: int | None = None

    def __post_init__(self) -> None:
        raise AssertionError("partial objects are built without __init__")


@attrs.frozen
class Point:
    x: int = attrs.field(validator=attrs.validators.gt(0))
    label: Annotated[str, "What the point is"]


class Pair(NamedTuple):
    left: int
    right: str = "r"


class Movie(TypedDict):
    title: str
    year: int
    cast: list[Author]


@dataclasses.dataclass
class Cat:
    meow: str


@dataclasses.dataclass
class Dog:
    bark: str


@dataclasses.dataclass
class Tree:
    label: str
    children: list[Tree]


def test_a_nested_dataclass_has_none_for_missing_fields() -> None:
    book = partial_object({"title": "Dune", "author": {"name": "Frank"}, "tags": ["sf", "cl"]}, Book)
    assert isinstance(book, Book)
    assert book.title == "Dune"
    assert book.author == Author(name="Frank", born=None)  # type: ignore[arg-type]
    assert book.tags == ["sf", "cl"]
    assert book.genre is None
    assert book.rating is None
    assert book.year is None


def test_fields_whose_json_type_does_not_fit_become_none() -> None:
    book = partial_object(
        {"title": 12, "author": "Frank", "genre": "poetry", "tags": "sf", "rating": "goo", "year": "1965"}, Book
    )
    assert isinstance(book, Book)
    assert dataclasses.astuple(book) == (None, None, None, None, None, None)


def test_enum_and_literal_values_become_themselves_once_complete() -> None:
    book = partial_object({"genre": "fiction", "rating": "good", "tags": ["a", 1, None]}, Book)
    assert isinstance(book, Book)
    assert book.genre is Genre.FICTION
    assert book.rating == "good"
    assert book.tags == ["a", None, None]


def test_a_frozen_attrs_class_is_built_without_running_its_validators() -> None:
    point = partial_object({"x": -5}, Point)
    assert isinstance(point, Point)
    assert point.x == -5
    assert point.label is None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        point.x = 1


def test_a_named_tuple_takes_an_object_or_an_array() -> None:
    assert partial_object({"left": 1}, Pair) == (1, None)
    assert partial_object({"right": "x", "left": "bad"}, Pair) == (None, "x")
    assert partial_object([1], Pair) == (1, None)
    pair = partial_object([1, "x", "extra"], Pair)
    assert isinstance(pair, Pair)
    assert pair == Pair(1, "x")


def test_a_typed_dict_leaves_out_the_keys_not_there_yet() -> None:
    movie = partial_object({"title": "Alien", "cast": [{"name": "Sigourney"}], "extra": 1}, Movie)
    assert movie == {"title": "Alien", "cast": [Author(name="Sigourney", born=None)]}  # type: ignore[arg-type]


def test_lists_tuples_sets_and_dicts_are_built_item_by_item() -> None:
    assert partial_object([{"name": "a", "born": 1}, {"name": "b"}], list[Author]) == [
        Author("a", 1),
        Author("b", None),  # type: ignore[arg-type]
    ]
    assert partial_object([1, 2], Sequence[int]) == [1, 2]
    assert partial_object([1, "x"], tuple[int, ...]) == (1, None)
    assert partial_object([1], tuple[int, str]) == (1,)
    assert partial_object([1, "x", 3], tuple[int, str]) == (1, "x")
    assert partial_object(["a", "b", "a"], set[str]) == {"a", "b"}
    assert partial_object([1], frozenset[int]) == frozenset({1})
    assert partial_object({"k": "high", "j": 2}, dict[str, Genre | int]) == {"k": "high", "j": 2}
    assert partial_object({"x": [1]}, list[int]) is None
    assert partial_object([1], dict[str, int]) is None


def test_numbers_fit_as_json_does_and_booleans_are_not_numbers() -> None:
    assert partial_object(3.0, int) == 3
    assert partial_object(3.5, int) is None
    float_value = partial_object(1, float)
    assert float_value == 1.0
    assert isinstance(float_value, float)
    assert partial_object(True, int) is None
    assert partial_object(True, float) is None
    assert partial_object(1, bool) is None
    assert partial_object(2, Level) is Level.HIGH
    assert partial_object(True, Level) is None
    assert partial_object(True, Literal[1]) is None
    assert partial_object(1, Literal[1]) == 1


def test_a_union_takes_the_first_member_the_data_fits() -> None:
    assert partial_object(None, Optional[int]) is None  # noqa: UP045 - Optional is what users write
    assert partial_object(3, int | None) == 3
    assert partial_object("x", int | str) == "x"
    assert partial_object(True, int | bool) is True
    assert partial_object({"bark": "woof"}, Cat | Dog) == Dog(bark="woof")
    assert partial_object({}, Cat | Dog) == Cat(meow=None)  # type: ignore[arg-type]
    assert partial_object("fic", Genre | str) == "fic"
    assert partial_object("fiction", Genre | str) is Genre.FICTION


def test_an_optional_no_member_fits_gives_none_and_another_union_the_data_as_it_is() -> None:
    assert partial_object("x", int | None) is None
    assert partial_object("fic", Genre | None) is None
    assert partial_object({"purr": 1}, Cat | Dog) == {"purr": 1}
    assert partial_object([1], int | str) == [1]


def test_annotated_any_and_unknown_types_keep_the_data_or_unwrap() -> None:
    assert partial_object("x", Annotated[str, "a description"]) == "x"
    assert partial_object(1, Annotated[str, "a description"]) is None
    assert partial_object({"a": [1]}, Any) == {"a": [1]}
    assert partial_object("2024-01-01", complex) == "2024-01-01"
    assert partial_object(None, None) is None
    assert partial_object(1, None) is None


def test_nothing_yet_gives_none() -> None:
    assert partial_object(NOTHING, Book) is None


def test_a_recursive_dataclass_is_built_to_any_depth() -> None:
    tree = partial_object({"label": "root", "children": [{"label": "leaf", "children": [{"label": "x"}]}]}, Tree)
    assert tree == Tree("root", [Tree("leaf", [Tree("x", None)])])  # type: ignore[arg-type]


def test_the_data_is_left_as_it_was() -> None:
    data = {"title": "Dune", "author": {"name": "Frank"}, "tags": ["sf"]}
    kept = copy.deepcopy(data)
    partial_object(data, Book)
    assert data == kept


def test_type_introspection_is_cached_per_type(monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclasses.dataclass
    class Local:
        n: int

    calls: list[object] = []
    real = typing.get_type_hints

    def counting(obj: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(obj)
        return real(obj, *args, **kwargs)

    monkeypatch.setattr(typing, "get_type_hints", counting)
    assert partial_object({"n": 1}, Local) == Local(1)
    assert partial_object({"n": 2}, list[Local]) is None
    assert partial_object([{"n": 2}], list[Local]) == [Local(2)]
    assert calls == [Local]


def test_a_pydantic_model_is_built_with_model_construct() -> None:
    import pydantic

    class Inner(pydantic.BaseModel):
        value: int

        @pydantic.field_validator("value")
        @classmethod
        def positive(cls, value: int) -> int:
            assert value > 0
            return value

    class Outer(pydantic.BaseModel):
        name: str = pydantic.Field(alias="fullName")
        inner: Inner
        items: list[Inner] = []

    outer = partial_object({"fullName": "x", "inner": {"value": -1}, "items": [{}]}, Outer)
    assert isinstance(outer, Outer)
    assert outer.name == "x"
    assert isinstance(outer.inner, Inner)
    assert outer.inner.value == -1
    assert outer.items[0].value is None
    assert outer.model_fields_set == {"name", "inner", "items"}
    empty = partial_object({}, Outer)
    assert isinstance(empty, Outer)
    assert empty.inner is None
    assert empty.model_fields_set == set()


def test_partial_objects_of_a_stream_never_raise_and_end_as_the_full_object() -> None:
    books = [
        {"title": "Dune", "author": {"name": "Frank", "born": 1920}, "genre": "fiction", "tags": ["sf"]},
        {"title": "Cosmos", "author": {"name": "Carl", "born": 1934}, "genre": "science", "tags": []},
    ]
    text = "```json\n" + json.dumps(books) + "\n```"
    parser = PartialJSON()
    for char in text:
        if parser.feed(char):
            partial = partial_object(parser.value, list[Book])
            assert isinstance(partial, list)
    final = partial_object(parser.finish(), list[Book])
    assert isinstance(final, list)
    assert [book.author.born for book in typing.cast("list[Book]", final)] == [1920, 1934]
    assert [book.genre for book in typing.cast("list[Book]", final)] == [Genre.FICTION, Genre.SCIENCE]


def test_the_module_loads_and_builds_without_pydantic() -> None:
    code = (
        "import dataclasses, sys\n"
        "from mirascope.llm._partial_json import PartialJSON\n"
        "from mirascope.llm._partial_objects import partial_object\n"
        "@dataclasses.dataclass\n"
        "class A:\n    x: int\n"
        "p = PartialJSON(); p.feed('{\"x\": 1}')\n"
        "assert partial_object(p.finish(), A) == A(1)\n"
        "print('pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
