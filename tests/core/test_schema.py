"""JSON schemas of types and functions: every supported type, docstring styles, strict form, caching."""

from __future__ import annotations

import collections
import copy
import dataclasses
import enum
import functools
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, NamedTuple, NotRequired, Optional, Required, TypedDict, TypeVar, Union

import attrs
import pytest
from mirascope.llm._schema import docstring_description, function_schema, strict_schema, type_schema

NULL = {"type": "null"}
STRING = {"type": "string"}
INTEGER = {"type": "integer"}


class Color(enum.Enum):
    """A primary colour."""

    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


class Mixed(enum.Enum):
    ONE = 1
    TWO = "two"


@dataclasses.dataclass
class Author:
    """Someone who writes books.

    Attributes:
        born: The year of birth, when known.
    """

    name: str
    """The author's full name,
    as printed on the cover."""
    born: int | None = None


@dataclasses.dataclass
class Book:
    title: str
    author: Author
    """Who wrote it."""
    tags: list[str] = dataclasses.field(default_factory=list)
    """Free-form labels."""
    color: Color = Color.RED
    rating: Annotated[float, "Stars, 0 to 5."] = 0.0
    """Overridden by the Annotated description."""
    isbn: str = dataclasses.field(init=False, default="")


@dataclasses.dataclass
class Library:
    """Books on shelves."""

    shelves: dict[str, list[Shelf]]


@dataclasses.dataclass
class Shelf:
    # Declared after `Library`, which names it in a string annotation.
    books: list[Book]
    owner: Author | None = None


@attrs.frozen
class Review:
    """What a reader thought."""

    text: str
    """The review itself."""
    stars: int = 3
    quotes: tuple[str, ...] = attrs.Factory(tuple)
    _internal: int = attrs.field(init=False, default=0)


class Movie(TypedDict):
    """A film."""

    title: str
    """Its title."""
    year: NotRequired[int]
    director: Annotated[NotRequired[str], "Who directed it."]


class MovieUpdate(TypedDict, total=False):
    id: Required[int]
    title: str


class Point(NamedTuple):
    """A point on a plane."""

    x: float
    """Across."""
    y: float = 0.0


PlainPoint = collections.namedtuple("PlainPoint", ["x", "y"])


@dataclasses.dataclass
class Node:
    value: int
    children: list[Node]


@dataclasses.dataclass
class Holder:
    payload: bytes


@dataclasses.dataclass
class Stamped:
    """Has a default that is not JSON."""

    at: object = dataclasses.field(default_factory=object)
    marker: object = Ellipsis
    scores: tuple[int, ...] = (1, 2)


class Catalog:
    @dataclasses.dataclass
    class Entry:
        """One line of a catalog."""

        code: str
        """The shelf code."""


T = TypeVar("T")

AUTHOR = {
    "type": "object",
    "description": "Someone who writes books.",
    "properties": {
        "name": {"type": "string", "description": "The author's full name, as printed on the cover."},
        "born": {"anyOf": [INTEGER, NULL], "description": "The year of birth, when known.", "default": None},
    },
    "required": ["name"],
    "additionalProperties": False,
}

BOOK = {
    "type": "object",
    "properties": {
        "title": STRING,
        "author": {**AUTHOR, "description": "Who wrote it."},
        "tags": {"type": "array", "items": STRING, "description": "Free-form labels."},
        "color": {"type": "string", "enum": ["red", "blue"], "description": "A primary colour.", "default": "red"},
        "rating": {"type": "number", "description": "Stars, 0 to 5.", "default": 0.0},
    },
    "required": ["title", "author"],
    "additionalProperties": False,
}


# Types.


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (str, STRING),
        (int, INTEGER),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (None, NULL),
        (type(None), NULL),
        (Any, {}),
        (object, {}),
    ],
)
def test_primitive_types_map_to_their_json_types(tp: object, expected: dict[str, Any]) -> None:
    assert type_schema(tp) == expected


def test_optional_types_accept_null() -> None:
    assert type_schema(Optional[int]) == {"anyOf": [INTEGER, NULL]}  # noqa: UP045 - the old spelling is supported
    assert type_schema(str | None) == {"anyOf": [STRING, NULL]}


def test_unions_list_their_members_in_order() -> None:
    assert type_schema(int | str) == {"anyOf": [INTEGER, STRING]}
    assert type_schema(Union[str, int]) == {"anyOf": [STRING, INTEGER]}  # noqa: UP007 - the old spelling is supported


def test_literals_of_one_json_type_carry_that_type() -> None:
    assert type_schema(Literal["a", "b"]) == {"type": "string", "enum": ["a", "b"]}
    assert type_schema(Literal["b", "a"]) == {"type": "string", "enum": ["b", "a"]}
    assert type_schema(Literal[1, 2]) == {"type": "integer", "enum": [1, 2]}
    assert type_schema(Literal[True]) == {"type": "boolean", "enum": [True]}
    assert type_schema(Literal[None]) == {"type": "null", "enum": [None]}
    assert type_schema(Literal[Color.BLUE]) == {"type": "string", "enum": ["blue"]}


def test_literals_of_mixed_json_types_are_a_plain_enum() -> None:
    assert type_schema(Literal["a", 1, None]) == {"enum": ["a", 1, None]}


def test_enums_list_their_values_with_their_type_and_docstring() -> None:
    assert type_schema(Color) == {"type": "string", "enum": ["red", "blue"], "description": "A primary colour."}
    assert type_schema(Size) == {"type": "integer", "enum": [1, 2]}
    assert type_schema(Mixed) == {"enum": [1, "two"]}


def test_sequences_are_arrays_of_their_item_type() -> None:
    assert type_schema(list[int]) == {"type": "array", "items": INTEGER}
    assert type_schema(Sequence[str]) == {"type": "array", "items": STRING}
    assert type_schema(list) == {"type": "array"}


def test_sets_are_arrays_of_unique_items() -> None:
    assert type_schema(set[str]) == {"type": "array", "items": STRING, "uniqueItems": True}
    assert type_schema(frozenset[int]) == {"type": "array", "items": INTEGER, "uniqueItems": True}


def test_variadic_tuples_are_arrays_of_one_item_type() -> None:
    assert type_schema(tuple[int, ...]) == {"type": "array", "items": INTEGER}


def test_fixed_tuples_describe_each_position() -> None:
    assert type_schema(tuple[int, str]) == {
        "type": "array",
        "prefixItems": [INTEGER, STRING],
        "minItems": 2,
        "maxItems": 2,
    }
    assert type_schema(tuple[()]) == {"type": "array", "maxItems": 0}


def test_str_keyed_dicts_and_mappings_are_objects_of_their_value_type() -> None:
    assert type_schema(dict[str, int]) == {"type": "object", "additionalProperties": INTEGER}
    assert type_schema(Mapping[str, list[str]]) == {
        "type": "object",
        "additionalProperties": {"type": "array", "items": STRING},
    }
    assert type_schema(dict[str, Any]) == {"type": "object", "additionalProperties": {}}


def test_dicts_without_string_keys_are_refused() -> None:
    with pytest.raises(TypeError, match="str keys"):
        type_schema(dict[int, str])


def test_dataclass_fields_are_properties_and_defaults_make_them_optional() -> None:
    assert type_schema(Author) == AUTHOR


def test_dataclass_generated_docstring_is_not_a_description() -> None:
    assert Book.__doc__ is not None
    assert Book.__doc__.startswith("Book(")
    assert "description" not in type_schema(Book)


def test_nested_classes_are_inlined_and_the_field_docstring_describes_them() -> None:
    assert type_schema(Book) == BOOK


def test_string_annotations_resolve_to_classes_declared_later() -> None:
    shelf = {
        "type": "object",
        "properties": {
            "books": {"type": "array", "items": BOOK},
            "owner": {"anyOf": [AUTHOR, NULL], "default": None},
        },
        "required": ["books"],
        "additionalProperties": False,
    }
    assert type_schema(Library) == {
        "type": "object",
        "description": "Books on shelves.",
        "properties": {
            "shelves": {"type": "object", "additionalProperties": {"type": "array", "items": shelf}},
        },
        "required": ["shelves"],
        "additionalProperties": False,
    }


def test_attrs_classes_are_objects_of_their_init_fields() -> None:
    assert type_schema(Review) == {
        "type": "object",
        "description": "What a reader thought.",
        "properties": {
            "text": {"type": "string", "description": "The review itself."},
            "stars": {"type": "integer", "default": 3},
            "quotes": {"type": "array", "items": STRING},
        },
        "required": ["text"],
        "additionalProperties": False,
    }


def test_typed_dicts_respect_not_required_keys() -> None:
    assert type_schema(Movie) == {
        "type": "object",
        "description": "A film.",
        "properties": {
            "title": {"type": "string", "description": "Its title."},
            "year": INTEGER,
            "director": {"type": "string", "description": "Who directed it."},
        },
        "required": ["title"],
        "additionalProperties": False,
    }


def test_total_false_typed_dicts_require_only_required_keys() -> None:
    assert type_schema(MovieUpdate) == {
        "type": "object",
        "properties": {"id": INTEGER, "title": STRING},
        "required": ["id"],
        "additionalProperties": False,
    }


def test_named_tuples_are_objects_of_their_fields() -> None:
    assert type_schema(Point) == {
        "type": "object",
        "description": "A point on a plane.",
        "properties": {
            "x": {"type": "number", "description": "Across."},
            "y": {"type": "number", "default": 0.0},
        },
        "required": ["x"],
        "additionalProperties": False,
    }
    assert type_schema(PlainPoint) == {
        "type": "object",
        "properties": {"x": {}, "y": {}},
        "required": ["x", "y"],
        "additionalProperties": False,
    }


def test_a_class_nested_in_a_class_keeps_its_attribute_docstrings() -> None:
    assert type_schema(Catalog.Entry) == {
        "type": "object",
        "description": "One line of a catalog.",
        "properties": {"code": {"type": "string", "description": "The shelf code."}},
        "required": ["code"],
        "additionalProperties": False,
    }


def test_annotated_strings_become_descriptions_and_other_metadata_is_ignored() -> None:
    assert type_schema(Annotated[int, "How many."]) == {"type": "integer", "description": "How many."}
    assert type_schema(Annotated[list[str], 42, "Names."]) == {
        "type": "array",
        "items": STRING,
        "description": "Names.",
    }
    assert type_schema(Annotated[Author, "The writer."])["description"] == "The writer."


def test_defaults_that_are_not_json_are_left_out_but_stay_optional() -> None:
    assert type_schema(Stamped) == {
        "type": "object",
        "description": "Has a default that is not JSON.",
        "properties": {"at": {}, "marker": {}, "scores": {"type": "array", "items": INTEGER, "default": [1, 2]}},
        "additionalProperties": False,
    }


def test_recursive_types_are_refused_with_the_path() -> None:
    with pytest.raises(TypeError, match=r"Node contains itself \(Node -> Node\)"):
        type_schema(Node)


def test_unsupported_types_are_named_with_where_they_are_and_what_is_supported() -> None:
    with pytest.raises(TypeError, match=r"bytes \(in Holder\) has no JSON schema\. Supported types: str, int"):
        type_schema(Holder)
    with pytest.raises(TypeError, match="complex has no JSON schema"):
        type_schema(complex)


def test_type_parameters_are_refused() -> None:
    with pytest.raises(TypeError, match="generic classes are not supported"):
        type_schema(list[T])  # pyright: ignore[reportGeneralTypeIssues]


def test_unresolvable_annotations_say_where_names_must_live() -> None:
    @dataclasses.dataclass
    class Orphan:
        parent: Missing  # noqa: F821  # pyright: ignore[reportUndefinedVariable]

    with pytest.raises(TypeError, match=r"Cannot resolve the type hints of .*Orphan: name 'Missing' is not defined"):
        type_schema(Orphan)


def test_a_type_schema_is_built_once_and_shared() -> None:
    assert type_schema(Book) is type_schema(Book)
    assert type_schema(list[Book]) is type_schema(list[Book])
    assert type_schema(Literal["a", "b"]) is not type_schema(Literal["b", "a"])


def test_unhashable_types_are_described_without_the_cache() -> None:
    tp = Annotated[int, {"unit": "cm"}, "Length."]
    assert type_schema(tp) == {"type": "integer", "description": "Length."}
    assert type_schema(tp) is not type_schema(tp)


# Functions.


def find_books(genre: str, limit: int = 10, *, author: Author | None = None, strict=False) -> list[Book]:
    """Find books of a genre.

    Searches the whole catalog.

    Args:
        genre: The genre to look in,
            such as "fantasy".
        limit (int): How many books to return.
        author: Only books by this author.

    Returns:
        The books found.

    Raises:
        ValueError: The genre is unknown.
    """
    return []


FIND_BOOKS = {
    "type": "object",
    "properties": {
        "genre": {"type": "string", "description": 'The genre to look in, such as "fantasy".'},
        "limit": {"type": "integer", "description": "How many books to return.", "default": 10},
        "author": {"anyOf": [AUTHOR, NULL], "description": "Only books by this author.", "default": None},
        "strict": {"default": False},
    },
    "required": ["genre"],
    "additionalProperties": False,
}


def test_function_parameters_are_an_object_and_defaults_make_them_optional() -> None:
    description, parameters = function_schema(find_books)
    assert description == "Find books of a genre.\n\nSearches the whole catalog."
    assert parameters == FIND_BOOKS


def test_numpy_docstrings_describe_parameters() -> None:
    def numpy_style(genre: str, limit: int, offset: int) -> None:
        """Find books.

        Parameters
        ----------
        genre : str
            The genre to look in,
            such as "fantasy".
        limit, offset : int
            Paging.

        Returns
        -------
        None
        """

    description, parameters = function_schema(numpy_style)
    assert description == "Find books."
    assert parameters["properties"] == {
        "genre": {"type": "string", "description": 'The genre to look in, such as "fantasy".'},
        "limit": {"type": "integer", "description": "Paging."},
        "offset": {"type": "integer", "description": "Paging."},
    }


def test_sphinx_docstrings_describe_parameters() -> None:
    def sphinx_style(genre: str, limit: int) -> None:
        """Find books.

        :param genre: The genre to look in,
            such as "fantasy".
        :param int limit: How many.
        :type genre: str
        :returns: Nothing.
        :rtype: None
        """

    description, parameters = function_schema(sphinx_style)
    assert description == "Find books."
    assert parameters["properties"] == {
        "genre": {"type": "string", "description": 'The genre to look in, such as "fantasy".'},
        "limit": {"type": "integer", "description": "How many."},
    }


def test_annotated_descriptions_win_over_the_docstring() -> None:
    def annotated(genre: Annotated[str, "From Annotated."]) -> None:
        """Find books.

        Args:
            genre: From the docstring.
        """

    assert function_schema(annotated)[1]["properties"] == {
        "genre": {"type": "string", "description": "From Annotated."}
    }


def test_skip_first_leaves_out_the_injected_context() -> None:
    def with_context(ctx: object, query: str) -> None:
        """Search."""

    assert function_schema(with_context, skip_first=True) == (
        "Search.",
        {"type": "object", "properties": {"query": STRING}, "required": ["query"], "additionalProperties": False},
    )


def test_a_function_without_parameters_or_docstring() -> None:
    def bare() -> None:
        pass

    assert function_schema(bare) == (None, {"type": "object", "properties": {}, "additionalProperties": False})


def test_bound_methods_describe_their_parameters_without_self() -> None:
    class Shop:
        def sell(self, title: str) -> None:
            """Sell a book."""

    assert function_schema(Shop().sell)[1]["required"] == ["title"]


def test_callable_objects_and_partials_are_described_by_what_they_call() -> None:
    class Weather:
        def __call__(self, city: str, unit: Literal["c", "f"] = "c") -> str:
            """Today's weather.

            Args:
                city: Where.
            """
            return ""

    assert function_schema(Weather()) == (
        "Today's weather.",
        {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "Where."},
                "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    )
    description, parameters = function_schema(functools.partial(find_books, limit=5))
    assert description == "Find books of a genre.\n\nSearches the whole catalog."
    assert parameters["properties"]["limit"]["default"] == 5


def test_star_args_and_kwargs_are_refused() -> None:
    def star_args(*titles: str) -> None:
        pass

    def star_kwargs(**filters: str) -> None:
        pass

    with pytest.raises(TypeError, match=r"takes \*titles"):
        function_schema(star_args)
    with pytest.raises(TypeError, match=r"takes \*\*filters"):
        function_schema(star_kwargs)


def test_a_function_schema_is_built_once_and_shared() -> None:
    assert function_schema(find_books) is function_schema(find_books)
    assert function_schema(find_books)[1] is function_schema(find_books)[1]


def test_docstring_description_drops_parameter_return_and_raise_sections() -> None:
    assert docstring_description(find_books.__doc__) == "Find books of a genre.\n\nSearches the whole catalog."
    assert docstring_description("\n    Args:\n        x: Only parameters.\n    ") is None
    assert docstring_description(None) is None


# Strict form.


def test_strict_schema_requires_every_property_and_makes_optional_ones_nullable() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "note": {"type": "string", "description": "Anything else.", "default": ""},
            "maybe": {"anyOf": [INTEGER, NULL], "default": None},
            "choice": {"anyOf": [INTEGER, STRING]},
        },
        "required": ["name"],
    }
    assert strict_schema(schema) == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "note": {"anyOf": [STRING, NULL], "description": "Anything else."},
            "maybe": {"anyOf": [INTEGER, NULL]},
            "choice": {"anyOf": [INTEGER, STRING, NULL]},
        },
        "required": ["name", "note", "maybe", "choice"],
        "additionalProperties": False,
    }


def test_strict_schema_reaches_nested_objects_and_arrays_of_objects() -> None:
    item = {"type": "object", "properties": {"id": INTEGER, "label": {"type": "string", "default": "x"}}}
    schema = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": item}, "first": {"anyOf": [item, NULL]}},
        "required": ["items", "first"],
    }
    strict_item = {
        "type": "object",
        "properties": {"id": {"anyOf": [INTEGER, NULL]}, "label": {"anyOf": [STRING, NULL]}},
        "required": ["id", "label"],
        "additionalProperties": False,
    }
    assert strict_schema(schema) == {
        "type": "object",
        "properties": {"items": {"type": "array", "items": strict_item}, "first": {"anyOf": [strict_item, NULL]}},
        "required": ["items", "first"],
        "additionalProperties": False,
    }


def test_strict_schema_leaves_its_input_alone() -> None:
    original = type_schema(Book)
    before = copy.deepcopy(original)
    strict = strict_schema(original)
    assert original == before
    assert strict["properties"]["author"] is not original["properties"]["author"]
    assert strict["properties"]["color"] == {
        "anyOf": [{"type": "string", "enum": ["red", "blue"]}, NULL],
        "description": "A primary colour.",
    }


def test_strict_schema_drops_the_default_keyword_but_not_a_property_named_default() -> None:
    schema = {"type": "object", "properties": {"default": {"type": "string", "default": "a"}}, "required": ["default"]}
    assert strict_schema(schema) == {
        "type": "object",
        "properties": {"default": STRING},
        "required": ["default"],
        "additionalProperties": False,
    }


def test_strict_schema_keeps_what_a_map_says_about_its_values() -> None:
    schema = type_schema(dict[str, Author])
    assert strict_schema(schema)["additionalProperties"]["required"] == ["name", "born"]
