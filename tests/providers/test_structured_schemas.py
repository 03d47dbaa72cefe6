"""Response models whose fields are named like JSON Schema keywords reach every provider whole.

A field called `title`, `description`, `default`, `format`, `examples`, `properties`, `required`,
`type`, `items` or `anyOf` is a property name, not a keyword: whichever way the response model
is written (Pydantic, dataclass, TypedDict, attrs) and wherever it sits (top level, nested, in a
list, optional), the schema each provider is sent must list it, require what is required, and
the reply must parse back into the model.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypedDict

import attrs
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mirascope import llm

from tests.support.replay import ReplayServer
from tests.support.wire import MODELS, client, reply, schema_sent

KEYWORDS = ("title", "description", "default", "format", "examples", "properties", "required", "type", "items", "anyOf")


class PydanticInner(pydantic.BaseModel):
    title: str
    description: str
    default: int
    format: str
    examples: list[str]
    properties: list[str]
    required: bool
    type: str
    items: list[int]
    anyOf: str


class PydanticOuter(pydantic.BaseModel):
    """A record whose fields are named like schema keywords."""

    title: str = pydantic.Field(description="The title", examples=["Dune"])
    inner: PydanticInner
    inners: list[PydanticInner]
    maybe: PydanticInner | None = None
    # A default holding schema words is data, never cleaned.
    meta: dict[str, str] = pydantic.Field(default={"title": "kept", "type": "kept"})


@dataclasses.dataclass
class DataInner:
    title: str
    description: str
    default: int
    format: str
    examples: list[str]
    properties: list[str]
    required: bool
    type: str
    items: list[int]
    anyOf: str


@dataclasses.dataclass
class DataOuter:
    """A record whose fields are named like schema keywords."""

    title: str
    inner: DataInner
    inners: list[DataInner]
    maybe: DataInner | None = None


class DictInner(TypedDict):
    title: str
    description: str
    default: int
    format: str
    examples: list[str]
    properties: list[str]
    required: bool
    type: str
    items: list[int]
    anyOf: str


class DictOuter(TypedDict):
    """A record whose fields are named like schema keywords."""

    title: str
    inner: DictInner
    inners: list[DictInner]
    maybe: DictInner | None


@attrs.define
class AttrsInner:
    title: str
    description: str
    default: int
    format: str
    examples: list[str]
    properties: list[str]
    required: bool
    type: str
    items: list[int]
    anyOf: str


@attrs.define
class AttrsOuter:
    """A record whose fields are named like schema keywords."""

    title: str
    inner: AttrsInner
    inners: list[AttrsInner]
    maybe: AttrsInner | None = None


INNER = {
    "title": "T",
    "description": "D",
    "default": 2,
    "format": "F",
    "examples": ["e"],
    "properties": ["p"],
    "required": True,
    "type": "t",
    "items": [1],
    "anyOf": "a",
}
ANSWER = {"title": "Dune", "inner": INNER, "inners": [INNER, INNER], "maybe": INNER}
KINDS: dict[str, tuple[type[Any], type[Any]]] = {
    "pydantic": (PydanticOuter, PydanticInner),
    "dataclass": (DataOuter, DataInner),
    "typeddict": (DictOuter, DictInner),
    "attrs": (AttrsOuter, AttrsInner),
}
OUTER_NAMES = {"title", "inner", "inners", "maybe"}

# Every mode each provider offers, with and without strictness where it has it.
MODES: list[tuple[str, llm.FormatMode, bool | None]] = [
    ("openai", "native", None),
    ("openai", "native", False),
    ("openai", "tool", None),
    ("openai", "tool", False),
    ("openai", "json", None),
    ("openai-completions", "native", None),
    ("openai-completions", "native", False),
    ("openai-completions", "tool", None),
    ("openai-completions", "json", None),
    ("anthropic", "native", None),
    ("anthropic", "tool", None),
    ("anthropic", "tool", False),
    ("anthropic", "json", None),
    ("google", "native", None),
    ("google", "tool", None),
    ("google", "json", None),
]


def _expected(kind: str) -> Any:
    outer, inner = KINDS[kind]
    if kind == "typeddict":
        return ANSWER
    if kind == "pydantic":
        return outer.model_validate(ANSWER)
    return outer(title="Dune", inner=inner(**INNER), inners=[inner(**INNER), inner(**INNER)], maybe=inner(**INNER))


def _objects(schema: Any) -> list[dict[str, Any]]:
    """Every object schema with properties, following only schema positions (not names or values)."""
    found: list[dict[str, Any]] = []
    if not isinstance(schema, dict):
        return found
    if isinstance(schema.get("properties"), dict):
        found.append(schema)
        for prop in schema["properties"].values():
            found += _objects(prop)
    if "items" in schema:
        found += _objects(schema["items"])
    for option in schema.get("anyOf", ()):
        found += _objects(option)
    return found


def _check_schema(schema: dict[str, Any], outer: type[Any], strict: bool) -> None:
    objects = _objects(schema)
    names = [set(obj["properties"]) for obj in objects]
    inner_names = set(INNER)
    extra = {"meta"} if outer is PydanticOuter else set()
    assert names == [OUTER_NAMES | extra, inner_names, inner_names, inner_names], names
    for obj in objects:
        required = obj.get("required", [])
        # Nothing required that is not a property (Gemini refuses such a schema).
        assert set(required) <= set(obj["properties"]), (required, list(obj["properties"]))
        if strict:
            assert required == list(obj["properties"])
        for name in obj["properties"]:
            assert isinstance(obj["properties"][name], dict)
    if outer is PydanticOuter and not strict:
        assert schema["properties"]["meta"]["default"] == {"title": "kept", "type": "kept"}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(("provider", "mode", "strict"), MODES)
def test_fields_named_like_schema_keywords_reach_every_provider_and_parse_back(
    replay_server: ReplayServer, provider: str, mode: llm.FormatMode, strict: bool | None, kind: str
) -> None:
    outer = KINDS[kind][0]
    response_model = llm.response_model(outer, mode=mode, strict=strict)
    answer = {**ANSWER, "meta": {"title": "x"}} if kind == "pydantic" else ANSWER
    with client(provider, replay_server.url) as made:
        model = llm.model(MODELS[provider], client=made, response_model=response_model)
        with replay_server.replaying([reply(provider, answer, tool=mode == "tool", stream=False)]) as session:
            response = model.call("A book?")

    body = session.requests[0].json()
    schema = schema_sent(provider, mode, body)
    sent_strict = mode != "json" and strict is None and provider != "google"
    _check_schema(schema, outer, strict=sent_strict)
    parsed = response.parse()
    expected = _expected(kind)
    if kind == "pydantic":
        expected = expected.model_copy(update={"meta": {"title": "x"}})
    assert parsed == expected


def test_a_pydantic_schema_keeps_property_titles_and_drops_title_keywords() -> None:
    schema = llm.response_model(PydanticOuter).schema
    assert "title" not in schema  # the class's title keyword
    assert "title" in schema["properties"]
    assert set(schema["properties"]["inner"]["properties"]) == set(INNER)
    assert "title" not in schema["properties"]["inner"]
    assert "$defs" not in json.dumps(schema)
    strict = llm.response_model(PydanticOuter).schema_for(True)
    # Strict form: every property required, `default` keywords gone, property `default` kept.
    assert strict["properties"]["inner"]["required"] == list(INNER)
    assert "default" in strict["properties"]["inner"]["properties"]
    assert "default" not in strict["properties"]["meta"]


class Aliased(pydantic.BaseModel):
    defs: str = pydantic.Field(alias="$defs")
    ref_like: str = pydantic.Field(alias="definitions")


def test_aliases_that_spell_definition_keywords_stay_properties() -> None:
    schema = llm.response_model(Aliased).schema
    assert set(schema["properties"]) == {"$defs", "definitions"}
    assert schema["required"] == ["$defs", "definitions"]


def test_a_recursive_pydantic_model_is_refused_with_what_to_do() -> None:
    class Node(pydantic.BaseModel):
        title: str
        children: list[Node]

    Node.model_rebuild()
    with pytest.raises(TypeError, match="contains itself"):
        llm.response_model(Node)


_names = st.lists(
    st.sampled_from((*KEYWORDS, "$defs", "definitions", "$ref", "enum", "const", "additionalProperties")),
    min_size=1,
    max_size=6,
    unique=True,
)


@settings(max_examples=60, deadline=None)
@given(names=_names, nested=_names)
def test_any_set_of_keyword_field_names_survives_pydantic_cleanup_and_strict_form(
    names: list[str], nested: list[str]
) -> None:
    # Fields named by alias: any string, not just identifiers.
    create: Any = pydantic.create_model
    inner = create("Inner", **{f"f{i}": (str, pydantic.Field(alias=name)) for i, name in enumerate(nested)})
    fields = {f"f{i}": (str, pydantic.Field(alias=name)) for i, name in enumerate(names)}
    outer = create("Outer", **fields, child=(inner, ...), children=(list[inner], ...))
    for strict in (False, True):
        schema = llm.Format(outer).schema_for(strict)
        assert list(schema["properties"]) == [*names, "child", "children"]
        assert list(schema["properties"]["child"]["properties"]) == nested
        assert list(schema["properties"]["children"]["items"]["properties"]) == nested
        for obj in _objects(schema):
            assert set(obj.get("required", ())) <= set(obj["properties"])
