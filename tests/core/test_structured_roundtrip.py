"""Structured output round trips: instance -> the JSON a model writes -> schema-valid -> `parse` -> equal.

Each test builds an instance, turns it into the JSON a model following the schema would write
(cattrs' unstructured form, under the wrapper property when the type is not an object), checks
that JSON against `fmt.schema` with a Draft 2020-12 validator, which proves the schema describes
what `parse` accepts, and parses it back. Hypothesis does the same for generated instances.

Replies that break the schema must raise `llm.ParseError`, never be bent into the type: a
lax conversion (`"false"` read as `True`, `1.9` as `1`) would change what the model said.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from typing import Annotated, Any, Literal, NamedTuple, NotRequired, Optional, TypedDict, Union

import attrs
import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from mirascope import llm
from mirascope.llm.response_models import Format, format_for

# ---------------------------------------------------------------------------------------------
# Types under test. Module level, so that their string annotations resolve.
# ---------------------------------------------------------------------------------------------


class Status(enum.Enum):
    """Where an order is."""

    PENDING = "pending"
    SHIPPED = "shipped"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mixed(enum.Enum):
    ONE = 1
    TWO = "two"


@dataclasses.dataclass
class Address:
    street: str
    city: str
    postcode: str | None = None


@dataclasses.dataclass
class Customer:
    """Who ordered."""

    name: str
    address: Address
    vip: bool = False


@dataclasses.dataclass
class LineItem:
    sku: str
    quantity: int
    unit_price: float
    note: Annotated[str | None, "Anything the packer should know."] = None


@dataclasses.dataclass
class Order:
    """An order, three levels deep."""

    id: int
    customer: Customer
    items: list[LineItem]
    status: Status
    channel: Literal["web", "store"]
    priority: Priority = Priority.LOW
    coupon: Optional[str] = None  # noqa: UP045 - the typing spelling is a supported form too
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Flat:
    title: str
    pages: int
    price: float
    in_print: bool


@dataclasses.dataclass
class Cat:
    name: str
    indoor: bool


@dataclasses.dataclass
class Dog:
    name: str
    tricks: list[str]


@dataclasses.dataclass
class Kennel:
    """A union of dataclasses with a unique required field each, as a field."""

    resident: Cat | Dog


@dataclasses.dataclass
class Plain:
    name: str


@dataclasses.dataclass
class Fancy:
    name: str
    rank: int = 0


@dataclasses.dataclass
class Tagged1:
    kind: Literal["one"]
    value: int


@dataclasses.dataclass
class Tagged2:
    kind: Literal["two"]
    value: int


@attrs.define
class Point:
    x: float
    y: float


@attrs.frozen
class Marker:
    """A frozen attrs class with defaults and a factory."""

    label: str
    at: Point
    tags: tuple[str, ...] = ()
    weight: float = 1.0
    notes: list[str] = attrs.Factory(list)


class Movie(TypedDict):
    title: str
    year: int
    genres: list[str]
    rating: float | None


class Draft(TypedDict, total=False):
    title: str
    words: int


class Review(TypedDict):
    movie: str
    stars: int
    comment: NotRequired[str]


class Coordinates(NamedTuple):
    lat: float
    lon: float
    name: str = ""


@dataclasses.dataclass
class Annotations:
    size: Annotated[int, "In bytes."]
    unit: Annotated[Literal["B", "KB"], "The unit."] = "B"


@dataclasses.dataclass
class Everything:
    """Nested freely: containers of records of containers."""

    by_name: dict[str, list[Address]]
    grid: list[list[int]]
    pairs: tuple[int, str]
    ids: set[int]
    labels: frozenset[str]
    maybe_items: list[LineItem | None]
    lookup: dict[str, dict[str, float]]
    mixed: Mixed
    extra: Any = None


# ---------------------------------------------------------------------------------------------
# The round trip.
# ---------------------------------------------------------------------------------------------

_UNSTRUCTURE = cattrs.Converter()
_VALIDATORS: dict[int, Draft202012Validator] = {}


def _validator(fmt: Format[Any]) -> Draft202012Validator:
    found = _VALIDATORS.get(id(fmt))
    if found is None:
        Draft202012Validator.check_schema(fmt.schema)
        found = _VALIDATORS[id(fmt)] = Draft202012Validator(fmt.schema)
    return found


def _wrap_key(fmt: Format[Any]) -> str:
    properties: dict[str, Any] = fmt.schema["properties"]
    assert len(properties) == 1, properties
    return next(iter(properties))


def model_json(tp: Any, instance: object) -> Any:
    """The JSON a model following `format_for(tp).schema` writes for `instance`, decoded."""
    fmt = format_for(tp)
    data = _UNSTRUCTURE.unstructure(instance, tp)
    # Through real JSON text: tuples become arrays, and sets (cattrs keeps them) too.
    data = json.loads(json.dumps(data, default=list))
    return {_wrap_key(fmt): data} if fmt.wrapped else data


def assert_round_trip(tp: Any, instance: object, data: Any = None) -> None:
    """`data` (by default `model_json(tp, instance)`) is schema-valid and parses back to `instance`."""
    fmt = format_for(tp)
    if data is None:
        data = model_json(tp, instance)
    _validator(fmt).validate(data)
    parsed = fmt.parse(json.dumps(data))
    assert parsed == instance
    assert type(parsed) is type(instance)


ORDER = Order(
    id=42,
    customer=Customer("Ada", Address("1 Loop Rd", "London", postcode="N1"), vip=True),
    items=[LineItem("A-1", 2, 9.5), LineItem("B-2", 1, 120.0, note="fragile")],
    status=Status.SHIPPED,
    channel="web",
    priority=Priority.HIGH,
    tags=["gift", "express"],
)


# ---------------------------------------------------------------------------------------------
# One supported type each.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tp", "value"), [(str, "héllo ✓"), (int, -7), (float, 2.5), (bool, False)])
def test_a_primitive_travels_wrapped_and_parses_back(tp: type, value: object) -> None:
    assert format_for(tp).wrapped
    assert_round_trip(tp, value)


def test_a_float_written_without_a_fraction_parses_as_a_float() -> None:
    assert_round_trip(float, 3.0, {_wrap_key(format_for(float)): 3})


def test_a_flat_dataclass_survives_schema_json_and_parse() -> None:
    assert not format_for(Flat).wrapped
    assert_round_trip(Flat, Flat("Dune", 412, 9.99, in_print=True))


def test_a_nested_dataclass_survives_schema_json_and_parse() -> None:
    assert_round_trip(Order, ORDER)


def test_a_dataclass_reply_that_leaves_out_defaulted_fields_parses_to_the_defaults() -> None:
    data = {
        "id": 1,
        "customer": {"name": "Bo", "address": {"street": "s", "city": "c"}},
        "items": [],
        "status": "pending",
        "channel": "store",
    }
    expected = Order(1, Customer("Bo", Address("s", "c")), [], Status.PENDING, "store")
    assert_round_trip(Order, expected, data)


def test_an_attrs_class_survives_schema_json_and_parse() -> None:
    assert_round_trip(Point, Point(1.5, -2.0))


def test_a_frozen_attrs_class_with_defaults_and_factories_survives_schema_json_and_parse() -> None:
    assert_round_trip(Marker, Marker("home", Point(0.0, 1.25), tags=("a", "b"), weight=0.5, notes=["x"]))
    assert_round_trip(Marker, Marker("bare", Point(3.0, 4.0)))


def test_a_typeddict_survives_schema_json_and_parse() -> None:
    movie: Movie = {"title": "Alien", "year": 1979, "genres": ["horror", "sf"], "rating": None}
    assert_round_trip(Movie, movie)


def test_a_non_total_typeddict_with_keys_left_out_survives_schema_json_and_parse() -> None:
    assert_round_trip(Draft, Draft(title="Notes"))
    assert_round_trip(Draft, Draft())


def test_a_typeddict_with_notrequired_survives_schema_json_and_parse_when_the_key_is_given() -> None:
    assert_round_trip(Review, Review(movie="Alien", stars=5, comment="Tense."))


def test_a_typeddict_reply_without_a_notrequired_key_parses() -> None:
    review = Review(movie="Alien", stars=5)
    assert "comment" not in format_for(Review).schema["required"]
    assert_round_trip(Review, review)


def test_a_namedtuple_survives_schema_json_and_parse() -> None:
    place = Coordinates(51.5, -0.1, "London")
    # What a model following the schema writes: an object (cattrs would unstructure to an array).
    assert_round_trip(Coordinates, place, place._asdict())


def test_a_list_of_ints_travels_wrapped_and_parses_back() -> None:
    assert format_for(list[int]).wrapped
    assert_round_trip(list[int], [3, 1, 2])


def test_a_list_of_dataclasses_survives_schema_json_and_parse() -> None:
    assert_round_trip(list[Address], [Address("a", "b"), Address("c", "d", "e")])


def test_a_variadic_tuple_survives_schema_json_and_parse() -> None:
    assert_round_trip(tuple[str, ...], ("a", "b", "c"))


def test_a_fixed_tuple_survives_schema_json_and_parse() -> None:
    assert_round_trip(tuple[int, str, bool], (1, "two", True))


def test_a_set_and_a_frozenset_survive_schema_json_and_parse() -> None:
    assert_round_trip(set[int], {1, 2, 3})
    assert_round_trip(frozenset[str], frozenset({"x", "y"}))


def test_a_str_keyed_dict_survives_schema_json_and_parse_without_wrapping() -> None:
    assert not format_for(dict[str, float]).wrapped
    assert_round_trip(dict[str, float], {"a": 1.5, "b": -0.25, "": 0.0})


def test_a_dict_of_dataclasses_survives_schema_json_and_parse() -> None:
    assert_round_trip(dict[str, Address], {"home": Address("s", "c"), "work": Address("t", "d", "p")})


def test_a_literal_survives_schema_json_and_parse() -> None:
    assert_round_trip(Literal["web", "store"], "store")


def test_a_literal_of_mixed_json_types_survives_schema_json_and_parse() -> None:
    assert_round_trip(Literal[1, "two", None], 1)
    assert_round_trip(Literal[1, "two", None], "two")
    assert_round_trip(Literal[1, "two", None], None)


def test_a_string_enum_survives_schema_json_and_parse() -> None:
    assert_round_trip(Status, Status.PENDING)


def test_an_int_enum_survives_schema_json_and_parse() -> None:
    assert_round_trip(Priority, Priority.HIGH)


def test_an_enum_of_mixed_value_types_survives_schema_json_and_parse() -> None:
    assert_round_trip(Mixed, Mixed.ONE)
    assert_round_trip(Mixed, Mixed.TWO)


def test_an_optional_int_survives_schema_json_and_parse_as_a_value_and_as_none() -> None:
    assert_round_trip(Optional[int], 5)  # noqa: UP045
    assert_round_trip(Optional[int], None)  # noqa: UP045


def test_an_optional_dataclass_survives_schema_json_and_parse_as_a_value_and_as_none() -> None:
    assert_round_trip(Optional[Address], Address("s", "c"))  # noqa: UP045
    assert_round_trip(Optional[Address], None)  # noqa: UP045


def test_a_pep604_optional_as_the_response_model_survives_schema_json_and_parse() -> None:
    assert_round_trip(int | None, 5)


def test_a_union_of_dataclasses_with_unique_fields_survives_schema_json_and_parse() -> None:
    assert_round_trip(Kennel, Kennel(Cat("Tom", indoor=True)))
    assert_round_trip(Kennel, Kennel(Dog("Rex", ["sit"])))
    assert_round_trip(Union[Cat, Dog], Dog("Rex", []))  # noqa: UP007


def test_a_union_of_primitives_survives_schema_json_and_parse() -> None:
    assert_round_trip(Union[int, str], 3)  # noqa: UP007


def test_a_union_of_dataclasses_without_a_unique_required_field_parses() -> None:
    assert_round_trip(Union[Plain, Fancy], Plain("x"))  # noqa: UP007


def test_a_literal_tagged_union_of_dataclasses_parses() -> None:
    assert_round_trip(Union[Tagged1, Tagged2], Tagged2("two", 1))  # noqa: UP007


def test_annotated_descriptions_do_not_change_what_parses() -> None:
    fmt = format_for(Annotations)
    assert fmt.schema["properties"]["size"]["description"] == "In bytes."
    assert_round_trip(Annotations, Annotations(1024, "KB"))
    assert_round_trip(Annotated[list[int], "Some numbers."], [1, 2])


def test_types_nested_freely_survive_schema_json_and_parse() -> None:
    value = Everything(
        by_name={"ada": [Address("s", "c")], "nobody": []},
        grid=[[1, 2], [], [3]],
        pairs=(7, "seven"),
        ids={3, 1},
        labels=frozenset({"a"}),
        maybe_items=[None, LineItem("Z", 3, 0.1)],
        lookup={"x": {"y": 1.5}},
        mixed=Mixed.TWO,
        extra={"free": ["form", 1, None]},
    )
    assert_round_trip(Everything, value)


def test_format_for_returns_the_same_format_for_the_same_type() -> None:
    assert format_for(Order) is format_for(Order)
    assert format_for(list[int]) is format_for(list[int])


# ---------------------------------------------------------------------------------------------
# Replies that break the schema.
# ---------------------------------------------------------------------------------------------


def _order_json(**changes: Any) -> dict[str, Any]:
    data = model_json(Order, ORDER)
    for key, value in changes.items():
        if value is _DROP:
            del data[key]
        else:
            data[key] = value
    return data


_DROP = object()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_order_json(id="forty-two"), id="a string for an int"),
        pytest.param(_order_json(customer="Ada"), id="a string for an object"),
        pytest.param(_order_json(items=[{"sku": "A", "quantity": 1}]), id="a nested object missing a field"),
        pytest.param(_order_json(status="lost"), id="a value outside an enum"),
        pytest.param(_order_json(channel="phone"), id="a value outside a literal"),
        pytest.param(_order_json(customer=_DROP), id="a missing field"),
        pytest.param(_order_json(items=None), id="null for a list"),
    ],
)
def test_a_reply_that_breaks_the_schema_raises_parse_error_carrying_the_text(data: dict[str, Any]) -> None:
    fmt = format_for(Order)
    assert not _validator(fmt).is_valid(data)
    text = json.dumps(data)
    with pytest.raises(llm.ParseError) as caught:
        fmt.parse(text)
    assert caught.value.text == text


@pytest.mark.parametrize(
    ("tp", "text"),
    [
        pytest.param(list[int], '{"unexpected": [1]}', id="a wrapped reply without the wrapper key"),
        pytest.param(list[int], "[1, 2]", id="a wrapped reply sent bare"),
        pytest.param(int, "not json at all", id="not JSON"),
        pytest.param(Flat, '{"title": "x", "pages": 1}', id="a flat object missing fields"),
    ],
)
def test_a_reply_of_the_wrong_shape_raises_parse_error_carrying_the_text(tp: Any, text: str) -> None:
    with pytest.raises(llm.ParseError) as caught:
        format_for(tp).parse(text)
    assert caught.value.text == text


FLAT = Flat("Dune", 412, 9.99, in_print=True)


@pytest.mark.parametrize(
    ("tp", "instance", "field", "value"),
    [
        pytest.param(Flat, FLAT, "in_print", "false", id="the string 'false' for a bool becomes True"),
        pytest.param(Flat, FLAT, "title", 123, id="a number for a str becomes '123'"),
        pytest.param(Flat, FLAT, "pages", 1.9, id="a fraction for an int is truncated to 1"),
        pytest.param(Flat, FLAT, "pages", "12", id="a numeric string for an int becomes 12"),
        pytest.param(Order, ORDER, "tags", "abc", id="a string for a list of str becomes its characters"),
    ],
)
def test_a_reply_with_a_value_of_the_wrong_json_type_raises_parse_error(
    tp: Any, instance: object, field: str, value: object
) -> None:
    data = {**model_json(tp, instance), field: value}
    assert not _validator(format_for(tp)).is_valid(data)
    with pytest.raises(llm.ParseError):
        format_for(tp).parse(json.dumps(data))


# ---------------------------------------------------------------------------------------------
# Properties: any instance survives the round trip.
# ---------------------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=12)  # utf-8 has no surrogates
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
ADDRESSES = st.builds(Address, street=TEXT, city=TEXT, postcode=st.none() | TEXT)
ITEMS = st.builds(LineItem, sku=TEXT, quantity=st.integers(), unit_price=FLOATS, note=st.none() | TEXT)
ORDERS = st.builds(
    Order,
    id=st.integers(),
    customer=st.builds(Customer, name=TEXT, address=ADDRESSES, vip=st.booleans()),
    items=st.lists(ITEMS, max_size=4),
    status=st.sampled_from(Status),
    channel=st.sampled_from(typing.get_args(Literal["web", "store"])),
    priority=st.sampled_from(Priority),
    coupon=st.none() | TEXT,
    tags=st.lists(TEXT, max_size=3),
)
MARKERS = st.builds(
    Marker,
    label=TEXT,
    at=st.builds(Point, x=FLOATS, y=FLOATS),
    tags=st.lists(TEXT, max_size=3).map(tuple),
    weight=FLOATS,
    notes=st.lists(TEXT, max_size=3),
)
MOVIES = st.fixed_dictionaries(
    {"title": TEXT, "year": st.integers(), "genres": st.lists(TEXT, max_size=3), "rating": st.none() | FLOATS}
)
PROPERTY = settings(max_examples=50, deadline=None)


@PROPERTY
@given(ORDERS)
def test_any_nested_order_survives_schema_json_and_parse(order: Order) -> None:
    assert_round_trip(Order, order)


@PROPERTY
@given(MARKERS)
def test_any_frozen_attrs_marker_survives_schema_json_and_parse(marker: Marker) -> None:
    assert_round_trip(Marker, marker)


@PROPERTY
@given(MOVIES)
def test_any_typeddict_movie_survives_schema_json_and_parse(movie: dict[str, Any]) -> None:
    assert_round_trip(Movie, movie)


@settings(max_examples=5, deadline=None)
@given(st.builds(Coordinates, lat=FLOATS, lon=FLOATS, name=TEXT))
def test_any_namedtuple_survives_schema_json_and_parse(place: Coordinates) -> None:
    assert_round_trip(Coordinates, place, place._asdict())


@PROPERTY
@given(st.from_type(list[int]))
def test_any_list_of_ints_survives_schema_json_and_parse(numbers: list[int]) -> None:
    assert_round_trip(list[int], numbers)


@PROPERTY
@given(st.dictionaries(TEXT, FLOATS, max_size=6))
def test_any_str_to_float_dict_survives_schema_json_and_parse(mapping: dict[str, float]) -> None:
    assert_round_trip(dict[str, float], mapping)
