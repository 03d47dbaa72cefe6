"""JSON Schema for Python types and functions: what tools take and what structured output returns.

Every provider describes tool parameters and response formats with JSON Schema, and each accepts
a different subset of draft 2020-12 (OpenAI, Anthropic, Gemini, llama.cpp grammars). The schemas
written here stay clear of what some of them refuse: nested types are inlined (no `$ref`/`$defs`),
objects are closed (`additionalProperties: false`) and there are no titles or formats. OpenAI's
strict mode asks for more, which `strict_schema` adds on top.

Descriptions come from where Python code already keeps them: class and function docstrings
(Google, NumPy or Sphinx style), attribute docstrings, and `Annotated[T, "description"]`.

The module loads only the standard library and attrs, so that `from mirascope import llm` stays light.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import inspect
import itertools
import math
import re
import types
import typing
from collections.abc import Callable, Mapping, MutableMapping, MutableSequence, MutableSet, Sequence, Set
from typing import Annotated, Any, Final, Literal

import attrs

from ._json import too_deep

__all__ = ["docstring_description", "function_schema", "inline_refs", "strict_schema", "type_schema"]

# Enough for every tool and response model of a program; types made on the fly must not pile up.
CACHE_SIZE: Final = 1024

_PRIMITIVES: Final[tuple[tuple[object, str], ...]] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
)
_SEQUENCES: Final[frozenset[type]] = frozenset({list, Sequence, MutableSequence})
_SETS: Final[frozenset[type]] = frozenset({set, frozenset, Set, MutableSet})
_MAPPINGS: Final[frozenset[type]] = frozenset({dict, Mapping, MutableMapping})
# Markers that say something about a field, not about its values.
FIELD_MARKERS: Final[frozenset[object]] = frozenset(
    marker
    for marker in (typing.Required, typing.NotRequired, typing.Final, getattr(typing, "ReadOnly", None))
    if marker is not None
)

_SUPPORTED: Final = (
    "str, int, float, bool, None, Any, Literal[...], Enum subclasses, unions and Optional, "
    "list/Sequence/set/frozenset, tuple, dict/Mapping with str keys, dataclasses, attrs classes, "
    'TypedDict, NamedTuple, and Annotated[<type>, "description"]'
)

# attrs types `Factory` as a function; at runtime it is the class of `default=Factory(...)` values.
_ATTRS_FACTORY: Final = typing.cast(type, attrs.Factory)

_NO_DEFAULT: Final = object()
_NOT_JSON: Final = object()


class _TypeAlias(typing.Protocol):
    __value__: object


class _TypedDictClass(typing.Protocol):
    __required_keys__: frozenset[str]


class _NamedTupleClass(typing.Protocol):
    _fields: tuple[str, ...]
    _field_defaults: dict[str, object]


def type_schema(tp: object) -> dict[str, Any]:
    """The JSON schema of a type, with nested classes inlined.

    Results are cached per type: the same dict comes back each time, so treat it as read-only
    (copy it, or use `strict_schema`, which returns a new one).

    Args:
        tp: A type: `str`, `int`, `float`, `bool`, `None`, `Any`, a union or `Optional`, a
            `Literal`, an `Enum`, a list, set, tuple or str-keyed dict of those, a dataclass, an
            attrs class, a `TypedDict`, a `NamedTuple`, or any of them in `Annotated[T, "description"]`.

    Raises:
        TypeError: The type is not one of the above, contains itself, nests too deeply, or its
            annotations name something that cannot be imported from its module.
    """
    try:
        try:
            # Typing compares unions and literals as sets; the repr keeps their order apart.
            key = (tp, repr(tp))
            hash(key)
        except TypeError:
            return _schema(tp, ())
        return _cached_type_schema(key)
    except RecursionError:  # from `repr`, `hash` or the schema: each goes as deep as the type
        raise TypeError(_TOO_DEEP) from None


_TOO_DEEP = (
    "The type nests too deeply to describe as a JSON schema (hundreds of levels); "
    "response models and tool parameters take types a model could fill in."
)


def function_schema(fn: Callable[..., object], *, skip_first: bool = False) -> tuple[str | None, dict[str, Any]]:
    """The description and the parameters schema of a function, for a tool.

    Parameters are described by their type hints; those with a default are optional. Their
    descriptions come from `Annotated[T, "description"]` or, failing that, the docstring's
    `Args:` section (Google), `Parameters` section (NumPy) or `:param name:` fields (Sphinx).
    A parameter without a type hint accepts any JSON value.

    Results are cached per function: the same dict comes back each time, so treat it as read-only.

    Args:
        fn: The function.
        skip_first: Leave the first parameter out of the schema: the caller passes it, not the model.

    Returns:
        The docstring without its parameter, return and raise sections (`None` when there is
        none), and a JSON schema of an object with one property per parameter.

    Raises:
        TypeError: The function takes `*args` or `**kwargs`, a parameter's type has no schema
            or nests too deeply, or its annotations cannot be resolved.
    """
    try:
        try:
            hash(fn)
        except TypeError:
            return _function_schema(fn, skip_first)
        return _cached_function_schema(fn, skip_first)
    except RecursionError:
        raise TypeError(_TOO_DEEP) from None


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a schema in the form OpenAI's strict mode asks for.

    Every object, however deeply nested, lists all its properties in `required` and gets
    `additionalProperties: false` unless it already says what extra properties may be. A property
    that was optional becomes nullable, so a `null` from the model means "not given". `default`
    keywords are dropped: strict mode rejects them. The input is left as it was.

    Strict mode has no free-form maps: an object whose `additionalProperties` is a schema (a
    `dict[str, X]`) keeps it, and the provider refuses it.

    Args:
        schema: A JSON schema, typically from `type_schema` or `function_schema`.
    """
    return _strict(schema)


def docstring_description(doc: str | None) -> str | None:
    """A docstring without its parameter, attribute, return, yield and raise sections.

    Google (`Args:`), NumPy (`Parameters` over a `----------` line) and Sphinx (`:param x:`)
    sections are all recognised. Returns `None` when nothing is left.
    """
    return _parse_docstring(doc)[0]


@functools.lru_cache(maxsize=CACHE_SIZE)
def _cached_type_schema(key: tuple[object, str]) -> dict[str, Any]:
    return _schema(key[0], ())


@functools.lru_cache(maxsize=CACHE_SIZE)
def _cached_function_schema(fn: Callable[..., object], skip_first: bool) -> tuple[str | None, dict[str, Any]]:
    return _function_schema(fn, skip_first)


def _schema(tp: object, outer: tuple[object, ...]) -> dict[str, Any]:
    """Build a fresh schema; `outer` holds the classes and aliases being expanded around `tp`."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Annotated:
        schema = _schema(args[0], outer)
        description = _annotated_description(tp)
        if description is not None:
            schema["description"] = description
        return schema
    if origin in FIELD_MARKERS:
        return _schema(args[0], outer)
    if isinstance(tp, typing.NewType):
        return _schema(tp.__supertype__, outer)
    if type(tp).__name__ == "TypeAliasType":  # `type X = ...` (Python 3.12+)
        _refuse_recursion(tp, outer)
        return _schema(typing.cast("_TypeAlias", tp).__value__, (*outer, tp))
    if isinstance(tp, typing.TypeVar):
        raise TypeError(
            f"The type parameter {tp!r}{_where(outer)} has no JSON schema: generic classes are not supported, "
            "give the fields concrete types."
        )
    if tp is Any or tp is object:
        return {}
    if tp is None or tp is types.NoneType:
        return {"type": "null"}
    if tp is typing.LiteralString:
        return {"type": "string"}
    for python_type, json_type in _PRIMITIVES:
        if tp is python_type:
            return {"type": json_type}
    if origin is typing.Union or origin is types.UnionType:
        return {"anyOf": [_schema(arg, outer) for arg in args]}
    if origin is Literal:
        return _enum_schema(args, f"{tp!r}{_where(outer)}")
    container = origin if origin is not None else tp
    if isinstance(container, type):
        if container in _SEQUENCES:
            return _array_schema(args, outer)
        if container in _SETS:
            return {**_array_schema(args, outer), "uniqueItems": True}
        if container is tuple:
            return _tuple_schema(tp, args, outer)
        if container in _MAPPINGS:
            return _mapping_schema(tp, args, outer)
    if _is_class(tp):
        if issubclass(tp, enum.Enum):
            schema = _enum_schema([member.value for member in tp], f"{tp.__qualname__}{_where(outer)}")
            description = docstring_description(_written_docstring(tp))
            return {"description": description, **schema} if description else schema
        if _is_record(tp):
            return _object_schema(tp, outer)
    raise TypeError(f"{_name(tp)}{_where(outer)} has no JSON schema. Supported types: {_SUPPORTED}.")


def _array_schema(args: tuple[Any, ...], outer: tuple[object, ...]) -> dict[str, Any]:
    if not args:
        return {"type": "array"}
    return {"type": "array", "items": _schema(args[0], outer)}


def _tuple_schema(tp: object, args: tuple[Any, ...], outer: tuple[object, ...]) -> dict[str, Any]:
    if tp is tuple or tp is typing.Tuple:  # noqa: UP006 - the bare alias is a type users pass
        return {"type": "array"}
    if len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _schema(args[0], outer)}
    # `tuple[()]`: the empty tuple.
    if not args:
        return {"type": "array", "maxItems": 0}
    return {
        "type": "array",
        "prefixItems": [_schema(arg, outer) for arg in args],
        "minItems": len(args),
        "maxItems": len(args),
    }


def _mapping_schema(tp: object, args: tuple[Any, ...], outer: tuple[object, ...]) -> dict[str, Any]:
    if not args:
        return {"type": "object", "additionalProperties": {}}
    key_schema = _schema(args[0], outer)
    key_schema.pop("description", None)
    # JSON object keys are strings; anything narrower would need `propertyNames`, which few providers take.
    if key_schema not in ({}, {"type": "string"}):
        raise TypeError(
            f"{tp!r}{_where(outer)} has no JSON schema: JSON object keys are strings, so a dict needs str keys."
        )
    return {"type": "object", "additionalProperties": _schema(args[1], outer)}


def _enum_schema(values: Sequence[object], what: str) -> dict[str, Any]:
    json_values: list[object] = []
    for value in values:
        plain = value.value if isinstance(value, enum.Enum) else value
        if plain is not None and not isinstance(plain, bool | int | float | str):
            raise TypeError(f"{what} has no JSON schema: {plain!r} is not a JSON string, number, bool or null.")
        json_values.append(plain)
    json_types = {_json_type(value) for value in json_values}
    if json_types == {"integer", "number"}:
        json_types = {"number"}
    if len(json_types) == 1:
        return {"type": json_types.pop(), "enum": json_values}
    return {"enum": json_values}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


@dataclasses.dataclass(frozen=True)
class _Field:
    """One property of an object schema: a class field or a function parameter."""

    name: str
    hint: object
    required: bool
    default: object = _NO_DEFAULT


def _is_class(tp: object) -> typing.TypeGuard[type[Any]]:
    return isinstance(tp, type)


def _is_record(cls: type[Any]) -> bool:
    return dataclasses.is_dataclass(cls) or attrs.has(cls) or typing.is_typeddict(cls) or is_named_tuple(cls)


def is_named_tuple(cls: type[Any]) -> bool:
    return hasattr(cls, "_fields") and issubclass(cls, tuple)


def _object_schema(cls: type[Any], outer: tuple[object, ...]) -> dict[str, Any]:
    _refuse_recursion(cls, outer)
    description, documented = _parse_docstring(_written_docstring(cls))
    for klass in _lineage(cls):
        documented.update(_attribute_docstrings(klass))
    inner = (*outer, cls)
    fields = record_fields(cls)
    properties = {
        field.name: _property_schema(field.hint, inner, documented.get(field.name), field.default) for field in fields
    }
    required = [field.name for field in fields if field.required]
    return _object(properties, required, description)


def _object(properties: dict[str, Any], required: list[str], description: str | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    if description:
        schema["description"] = description
    schema["properties"] = properties
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def _property_schema(
    hint: object, outer: tuple[object, ...], doc_description: str | None, default: object
) -> dict[str, Any]:
    schema = _schema(hint, outer)
    # `Annotated` sits next to the code it describes, so it wins over the docstring.
    if doc_description and _annotated_description(hint) is None:
        schema["description"] = doc_description
    if default is not _NO_DEFAULT:
        # A default nested deeper than any JSON read from outside may be is left out, as one that is not JSON.
        value = _NOT_JSON if too_deep(default) else _json_value(default)
        if value is not _NOT_JSON:
            schema["default"] = value
    return schema


def record_fields(cls: type[Any]) -> list[_Field]:
    hints = _type_hints(cls)
    if dataclasses.is_dataclass(cls):
        return [
            _Field(
                field.name,
                hints.get(field.name, Any),
                required=field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING,
                default=_NO_DEFAULT if field.default is dataclasses.MISSING else field.default,
            )
            for field in dataclasses.fields(cls)
            if field.init
        ]
    if attrs.has(cls):
        fields: list[_Field] = []
        for attribute in attrs.fields(cls):
            if not attribute.init:
                continue
            declared = attribute.type if attribute.type is not None and not isinstance(attribute.type, str) else Any
            hint = hints.get(attribute.name, declared)
            if attribute.default is attrs.NOTHING:
                fields.append(_Field(attribute.name, hint, required=True))
            elif isinstance(attribute.default, _ATTRS_FACTORY):
                fields.append(_Field(attribute.name, hint, required=False))
            else:
                fields.append(_Field(attribute.name, hint, required=False, default=attribute.default))
        return fields
    if typing.is_typeddict(cls):
        required_keys = typing.cast("_TypedDictClass", cls).__required_keys__
        return [
            _Field(name, hint, required=_required_marker(hint, name in required_keys)) for name, hint in hints.items()
        ]
    names, defaults = _named_tuple_fields(cls)
    return [
        _Field(name, hints.get(name, Any), required=name not in defaults, default=defaults.get(name, _NO_DEFAULT))
        for name in names
    ]


def _named_tuple_fields(cls: type[Any]) -> tuple[tuple[str, ...], dict[str, object]]:
    # namedtuple's public attributes start with an underscore, to stay clear of field names.
    named_tuple = typing.cast("_NamedTupleClass", cls)
    return named_tuple._fields, named_tuple._field_defaults  # pyright: ignore[reportPrivateUsage]


def _required_marker(hint: object, otherwise: bool) -> bool:
    # Python 3.11 reads `Required`/`NotRequired` from the annotation only when it is not a string,
    # so under `from __future__ import annotations` the resolved hint is the one to trust.
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Required:
            return True
        if origin is typing.NotRequired:
            return False
        if origin is Annotated or origin in FIELD_MARKERS:
            hint = typing.get_args(hint)[0]
            continue
        return otherwise


def _annotated_description(hint: object) -> str | None:
    """The last string in the `Annotated` metadata of a hint, through field markers."""
    while True:
        origin = typing.get_origin(hint)
        if origin is Annotated:
            hint, *metadata = typing.get_args(hint)
            descriptions = [item for item in metadata if isinstance(item, str)]
            if descriptions:
                return descriptions[-1]
        elif origin in FIELD_MARKERS:
            hint = typing.get_args(hint)[0]
        else:
            return None


def _refuse_recursion(tp: object, outer: tuple[object, ...]) -> None:
    if any(tp is seen for seen in outer):
        path = " -> ".join(_name(seen) for seen in (*outer, tp))
        raise TypeError(
            f"{_name(tp)} contains itself ({path}). Schemas here are inlined, so recursive types are not "
            "supported: give the nested field a type that does not lead back."
        )


def _name(tp: object) -> str:
    return tp.__qualname__ if _is_class(tp) else repr(tp)


def _where(outer: tuple[object, ...]) -> str:
    return f" (in {' -> '.join(_name(tp) for tp in outer)})" if outer else ""


def _type_hints(obj: object) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except (NameError, AttributeError, SyntaxError) as error:
        raise TypeError(
            f"Cannot resolve the type hints of {_name(obj)}: {error}. Names in string annotations must be "
            "importable from the module that uses them (not local to a function)."
        ) from error


def _json_value(value: object) -> object:
    """`value` as plain JSON data, or `_NOT_JSON`."""
    if isinstance(value, enum.Enum):
        return _json_value(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _NOT_JSON
    if isinstance(value, list | tuple):
        items = [_json_value(item) for item in typing.cast("Sequence[object]", value)]
        return _NOT_JSON if any(item is _NOT_JSON for item in items) else items
    if isinstance(value, dict):
        entries = typing.cast("dict[object, object]", value)
        if not all(isinstance(key, str) for key in entries):
            return _NOT_JSON
        converted = {key: _json_value(item) for key, item in entries.items()}
        return _NOT_JSON if any(item is _NOT_JSON for item in converted.values()) else converted
    return _NOT_JSON


def _function_schema(fn: Callable[..., object], skip_first: bool) -> tuple[str | None, dict[str, Any]]:
    name = getattr(fn, "__qualname__", None) or repr(fn)
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as error:
        raise TypeError(f"Cannot read the signature of {name}: {error}.") from error
    parameters = list(signature.parameters.values())
    if skip_first:
        if not parameters:
            raise TypeError(f"{name} takes no parameters, so it has no first one to skip.")
        parameters = parameters[1:]
    hints = _callable_hints(fn, name)
    target = fn.func if isinstance(fn, functools.partial) else fn
    doc: str | None = getattr(target, "__doc__", None)
    if not inspect.isroutine(target) and not _is_class(target):
        # A callable object: its `__call__` is what the model calls.
        doc = getattr(type(target).__call__, "__doc__", None) or doc
    description, documented = _parse_docstring(doc)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            stars = "*" if parameter.kind is parameter.VAR_POSITIONAL else "**"
            raise TypeError(
                f"{name} takes {stars}{parameter.name}: a model can only fill in named parameters, "
                "so spell each one out."
            )
        hint = hints.get(parameter.name, Any) if parameter.annotation is not parameter.empty else Any
        default = _NO_DEFAULT if parameter.default is parameter.empty else parameter.default
        properties[parameter.name] = _property_schema(hint, (), documented.get(parameter.name), default)
        if default is _NO_DEFAULT:
            required.append(parameter.name)
    return description, _object(properties, required, None)


def _callable_hints(fn: Callable[..., object], name: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except TypeError:
        pass  # a partial or a callable object: not something `get_type_hints` reads
    except (NameError, AttributeError, SyntaxError) as error:
        raise TypeError(
            f"Cannot resolve the type hints of {name}: {error}. Names in string annotations must be "
            "importable from the module that uses them (not local to a function)."
        ) from error
    try:
        signature = inspect.signature(fn, eval_str=True)
    except (NameError, AttributeError, SyntaxError) as error:
        raise TypeError(f"Cannot resolve the type hints of {name}: {error}.") from error
    return {
        parameter.name: parameter.annotation
        for parameter in signature.parameters.values()
        if parameter.annotation is not parameter.empty
    }


_SUBSCHEMA_KEYS: Final = frozenset(
    {
        "items",
        "additionalProperties",
        "additionalItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "propertyNames",
        "contains",
        "not",
        "if",
        "then",
        "else",
    }
)
_SUBSCHEMA_LIST_KEYS: Final = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
# Keys whose value maps names to schemas: the names are data, never keywords.
_SUBSCHEMA_MAP_KEYS: Final = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs", "definitions"})


def _strict(schema: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "default":
            continue
        if key in _SUBSCHEMA_KEYS and isinstance(value, Mapping):
            result[key] = _strict(typing.cast("Mapping[str, Any]", value))
        elif key in _SUBSCHEMA_LIST_KEYS and isinstance(value, list | tuple):
            result[key] = [_strict_or_copy(item) for item in typing.cast("Sequence[object]", value)]
        elif key in _SUBSCHEMA_MAP_KEYS and isinstance(value, Mapping):
            entries = typing.cast("Mapping[str, object]", value)
            result[key] = {name: _strict_or_copy(item) for name, item in entries.items()}
        else:
            result[key] = _copy_json(value)
    if _is_object(schema):
        properties: dict[str, Any] = result.get("properties", {})
        required: Sequence[str] = schema.get("required", ())
        for name, prop in properties.items():
            # A boolean schema (`true`/`false`) has no keywords to make nullable.
            if name not in required and isinstance(prop, dict):
                properties[name] = _nullable(typing.cast("dict[str, Any]", prop))
        if "properties" in result:
            result["required"] = list(properties)
        result.setdefault("additionalProperties", False)
    return result


def _strict_or_copy(value: object) -> object:
    return _strict(typing.cast("Mapping[str, Any]", value)) if isinstance(value, Mapping) else _copy_json(value)


# Local references, as Pydantic writes them (`#/$defs/Name`) and as older generators did.
_REF_PREFIXES: Final = ("#/$defs/", "#/definitions/")
# Keywords `inline_refs` leaves out: the definitions it inlines, and titles, which no provider needs.
_DROPPED_BY_INLINING: Final = frozenset({"$defs", "definitions", "title"})


def inline_refs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a schema (Pydantic's, say) in the form `type_schema` writes.

    Each local `$ref` is replaced by the definition it names (every provider takes inline
    schemas; not all take `$ref`), and the `$defs` and `title` keywords are left out. Only
    keywords are touched: a property, definition or pattern that happens to be called `title`,
    `$defs` or `default` keeps its name, and values (`default`, `examples`, `const`, `enum`)
    are copied as they are.

    Raises:
        TypeError: A definition refers to itself (recursive models have no inline form), or a
            `$ref` names a definition the schema does not have.
    """
    defs: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        found: object = schema.get(key)
        if isinstance(found, Mapping):
            defs.update(typing.cast("Mapping[str, Any]", found))
    return _inlined(schema, defs, ())


def _inlined(schema: Mapping[str, Any], defs: Mapping[str, Any], seen: tuple[str, ...]) -> dict[str, Any]:
    ref: object = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIXES):
        # JSON Pointer escapes `/` as `~1` and `~` as `~0`.
        name = ref.split("/", 2)[2].replace("~1", "/").replace("~0", "~")
        if name in seen:
            raise TypeError(f"{name} contains itself; response models must not be recursive.")
        target: object = defs.get(name)
        if not isinstance(target, Mapping):
            raise TypeError(f"The schema refers to {ref}, which it does not define.")
        # Keywords beside the `$ref` (a field's description, its default) win over the definition's.
        beside = {key: value for key, value in schema.items() if key != "$ref"}
        definition = _inlined(typing.cast("Mapping[str, Any]", target), defs, (*seen, name))
        return {**definition, **_inlined(beside, defs, seen)}
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED_BY_INLINING:
            continue
        if key in _SUBSCHEMA_KEYS and isinstance(value, Mapping):
            result[key] = _inlined(typing.cast("Mapping[str, Any]", value), defs, seen)
        elif key in _SUBSCHEMA_LIST_KEYS and isinstance(value, list | tuple):
            result[key] = [_inlined_or_copy(item, defs, seen) for item in typing.cast("Sequence[object]", value)]
        elif key in _SUBSCHEMA_MAP_KEYS and isinstance(value, Mapping):
            entries = typing.cast("Mapping[str, object]", value)
            result[key] = {name: _inlined_or_copy(item, defs, seen) for name, item in entries.items()}
        else:
            result[key] = _copy_json(value)
    return result


def _inlined_or_copy(value: object, defs: Mapping[str, Any], seen: tuple[str, ...]) -> object:
    if isinstance(value, Mapping):
        return _inlined(typing.cast("Mapping[str, Any]", value), defs, seen)
    return _copy_json(value)


def _copy_json(value: object) -> object:
    if isinstance(value, Mapping):
        return {key: _copy_json(item) for key, item in typing.cast("Mapping[object, object]", value).items()}
    if isinstance(value, list | tuple):
        return [_copy_json(item) for item in typing.cast("Sequence[object]", value)]
    return value


def _is_object(schema: Mapping[str, Any]) -> bool:
    declared: object = schema.get("type")
    if isinstance(declared, list):
        return "object" in typing.cast("list[object]", declared)
    return declared == "object" or "properties" in schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if _accepts_null(schema):
        return schema
    if "anyOf" in schema:
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    # The description stays on the outside, where it reads as the property's.
    inner = {key: value for key, value in schema.items() if key != "description"}
    nullable: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
    if "description" in schema:
        nullable["description"] = schema["description"]
    return nullable


def _accepts_null(schema: Mapping[str, Any]) -> bool:
    if not any(key != "description" for key in schema):
        return True
    declared: object = schema.get("type")
    if declared == "null" or (isinstance(declared, list) and "null" in declared):
        return True
    if declared is None and None in schema.get("enum", ()):
        return True
    branches: Sequence[Mapping[str, Any]] = schema.get("anyOf", ())
    return any(_accepts_null(branch) for branch in branches)


# Docstrings.

_PARAMETER_SECTIONS: Final = frozenset(
    {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments", "other parameters", "attributes"}
)
_SECTIONS: Final = _PARAMETER_SECTIONS | {
    "returns",
    "return",
    "yields",
    "yield",
    "raises",
    "raise",
    "receives",
    "warns",
}
_GOOGLE_HEADER: Final = re.compile(r"(?P<title>[A-Za-z][A-Za-z ]*):")
_GOOGLE_ENTRY: Final = re.compile(r"\*{0,2}(?P<name>\w+)\s*(?:\(.*?\))?\s*:\s*(?P<text>.*)")
_NUMPY_UNDERLINE: Final = re.compile(r"-{3,}")
_NUMPY_ENTRY: Final = re.compile(r"(?P<names>\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)(?:\s*:.*)?")
_SPHINX_FIELD: Final = re.compile(r":(?P<kind>\w+)(?P<words>[^:]*):\s*(?P<text>.*)")
_SPHINX_PARAMETER_FIELDS: Final = frozenset({"param", "parameter", "arg", "argument", "key", "keyword", "ivar", "var"})


def _parse_docstring(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """The description of a docstring, and the descriptions of the parameters or attributes it lists."""
    if not doc:
        return None, {}
    lines = inspect.cleandoc(doc).splitlines()
    kept: list[str] = []
    documented: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        title = stripped.lower()
        if title in _SECTIONS and index + 1 < len(lines) and _NUMPY_UNDERLINE.fullmatch(lines[index + 1].strip()):
            end = _numpy_section_end(lines, index + 2)
            if title in _PARAMETER_SECTIONS:
                documented.update(_numpy_entries(lines[index + 2 : end]))
            index = end
            continue
        header = _GOOGLE_HEADER.fullmatch(stripped)
        if header and header["title"].lower() in _SECTIONS:
            end = _block_end(lines, index + 1, _indent(line), stop_at_blank=False)
            if header["title"].lower() in _PARAMETER_SECTIONS:
                documented.update(_google_entries(lines[index + 1 : end]))
            index = end
            continue
        field = _SPHINX_FIELD.match(stripped)
        if field:
            end = _block_end(lines, index + 1, _indent(line), stop_at_blank=True)
            words = field["words"].split()
            if field["kind"] in _SPHINX_PARAMETER_FIELDS and words:
                text = _reflow([field["text"], *lines[index + 1 : end]])
                if text:
                    documented[words[-1].lstrip("*")] = text
            index = end
            continue
        kept.append(line)
        index += 1
    description = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return description or None, documented


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block_end(lines: list[str], start: int, header_indent: int, *, stop_at_blank: bool) -> int:
    """Where the lines indented under a header end."""
    end = start
    while end < len(lines):
        line = lines[end]
        if not line.strip():
            if stop_at_blank:
                break
        elif _indent(line) <= header_indent:
            break
        end += 1
    return end


def _numpy_section_end(lines: list[str], start: int) -> int:
    """Where a NumPy section ends: at the next title over a dashed line."""
    for index in range(start, len(lines) - 1):
        if lines[index].strip() and _NUMPY_UNDERLINE.fullmatch(lines[index + 1].strip()):
            return index
    return len(lines)


def _google_entries(block: list[str]) -> dict[str, str]:
    """`name (type): text` entries, each continued by the lines indented under it."""
    indents = [_indent(line) for line in block if line.strip()]
    if not indents:
        return {}
    base = min(indents)
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in block:
        entry = _GOOGLE_ENTRY.fullmatch(line.strip()) if line.strip() and _indent(line) == base else None
        if entry:
            current = entries[entry["name"]] = [entry["text"]]
        elif current is not None:
            current.append(line)
    return {name: text for name, parts in entries.items() if (text := _reflow(parts))}


def _numpy_entries(block: list[str]) -> dict[str, str]:
    """`name : type` entries (or `a, b : type`), each described by the lines indented under it."""
    indents = [_indent(line) for line in block if line.strip()]
    if not indents:
        return {}
    base = indents[0]
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in block:
        if line.strip() and _indent(line) <= base:
            entry = _NUMPY_ENTRY.fullmatch(line.strip())
            current = None
            if entry:
                current = []
                for name in entry["names"].split(","):
                    entries[name.strip().lstrip("*")] = current
        elif current is not None:
            current.append(line)
    return {name: text for name, parts in entries.items() if (text := _reflow(parts))}


def _reflow(lines: list[str]) -> str:
    """Join wrapped lines into one per paragraph: descriptions are read by a model, not a terminal."""
    paragraphs = re.split(r"\n\s*\n", "\n".join(lines).strip())
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs if paragraph.strip())


def _written_docstring(cls: type[Any]) -> str | None:
    """The class docstring, unless Python wrote it (dataclasses and namedtuples sign themselves)."""
    doc = cls.__doc__
    if not doc:
        return None
    if issubclass(cls, enum.Enum) and doc in (enum.Enum.__doc__, "An enumeration."):
        return None
    if not doc.startswith(f"{cls.__name__}("):
        return doc
    generated: list[str] = []
    if is_named_tuple(cls):
        generated.append(f"{cls.__name__}({', '.join(_named_tuple_fields(cls)[0])})")
    if dataclasses.is_dataclass(cls):
        try:
            generated.append(cls.__name__ + str(inspect.signature(cls)).replace(" -> None", ""))
        except (TypeError, ValueError):
            generated.append(cls.__name__)
    return None if doc in generated else doc


def _lineage(cls: type[Any]) -> list[type[Any]]:
    """The classes whose bodies declare `cls`'s fields, base first."""
    if typing.is_typeddict(cls):
        # Python 3.12+ keeps a TypedDict's bases in `__orig_bases__`; 3.11 keeps only the merged keys.
        bases: tuple[object, ...] = getattr(cls, "__orig_bases__", ())
        return [
            *(klass for base in bases if _is_class(base) and typing.is_typeddict(base) for klass in _lineage(base)),
            cls,
        ]
    if dataclasses.is_dataclass(cls):
        return [klass for klass in reversed(cls.__mro__) if dataclasses.is_dataclass(klass)]
    if attrs.has(cls):
        return [klass for klass in reversed(cls.__mro__) if attrs.has(klass)]
    return [cls]


@functools.lru_cache(maxsize=CACHE_SIZE)
def _attribute_docstrings(cls: type[Any]) -> Mapping[str, str]:
    """The string literal under each field in a class body: the docstring tools show for it."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}  # built in, made at runtime, or shipped without source: no docstrings to read
    # A nested class's source is indented; inside an `if` it parses as is, even where a string
    # continues at a smaller indent than the class (which would defeat dedenting).
    if source[:1].isspace():
        source = "if True:\n" + source
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    no_body: list[ast.stmt] = []
    body = next(
        (node.body for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == cls.__name__), no_body
    )
    docstrings: dict[str, str] = {}
    for statement, following in itertools.pairwise(body):
        if isinstance(statement, ast.AnnAssign):
            target = statement.target
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
        else:
            continue
        if (
            isinstance(target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docstrings[target.id] = _reflow(inspect.cleandoc(following.value.value).splitlines())
    return docstrings
