"""Partial instances of a response type, built from the partial JSON a stream has so far.

`partial_object` turns `_partial_json.PartialJSON.value` into a partial instance of the user's
response type, with `None` for the fields still to come.

The module loads only the standard library; pydantic and attrs are used only when the caller has
already loaded them (a class of theirs cannot exist otherwise).
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import types
import typing
from collections.abc import Mapping, MutableMapping, MutableSequence, MutableSet, Sequence, Set
from typing import Annotated, Any, Final, Literal

from ._partial_json import NOTHING

__all__ = ["partial_object"]


def partial_object(data: object, tp: object) -> object:
    """A partial instance of a type, built from partial JSON data such as `PartialJSON.value`.

    Classes are built without calling `__init__`, so that validators do not run on half-written
    data and frozen and slotted classes work: dataclasses and attrs classes get every field set,
    to `None` when the data does not have it yet. A value whose JSON type does not fit its
    type becomes `None` (a string that is still being written is not yet one of a `Literal`'s
    or an `Enum`'s values). Nested types are built the same way. The data is never changed.

    Type introspection is cached per type, so calling this after every chunk stays cheap.

    Args:
        data: Plain JSON data (dicts, lists, str, int, float, bool, None); `NOTHING` gives `None`.
        tp: The type: a dataclass, an attrs class, a pydantic model (built with
            `model_construct`), a `NamedTuple` (`None` for missing fields), a `TypedDict` (missing
            keys are left out), `list[X]`, `Sequence[X]`, `set[X]`, `frozenset[X]`, `tuple[X, ...]`,
            a fixed tuple (the items so far), `dict[str, X]`, an `Enum`, a `Literal`, `str`, `int`
            (an integral float fits), `float` (an int fits), `bool`, `None`, `Any`, or any of these
            in `Annotated`. A union takes the first member whose JSON type the data fits (for a
            class, a dict whose keys are all its fields); if none does, an `Optional` gives `None`
            and other unions the data as it is. Other types take the data as it is.

    Returns:
        The partial instance, or `None`.
    """
    if data is NOTHING:
        return None
    return _build(data, _plan(tp))


# Kinds of types, for `_Plan.kind`.
_ANY: Final = 0  # the data as it is: `Any`, `object` and types we do not know
_NONE: Final = 1
_STR: Final = 2
_INT: Final = 3
_FLOAT: Final = 4
_BOOL: Final = 5
_LITERAL_VALUES: Final = 6
_ENUM: Final = 7
_UNION: Final = 8
_LIST: Final = 9
_SET: Final = 10
_FROZENSET: Final = 11
_TUPLE: Final = 12  # tuple[X, ...]
_FIXED_TUPLE: Final = 13
_DICT: Final = 14
_INSTANCE: Final = 15  # dataclasses and attrs classes
_NAMED_TUPLE: Final = 16
_TYPED_DICT: Final = 17
_PYDANTIC: Final = 18

# Enough for every response type of a program; types made on the fly must not pile up.
_CACHE_SIZE: Final = 1024

_SEQUENCES: Final[frozenset[object]] = frozenset({list, Sequence, MutableSequence})
_SETS: Final[frozenset[object]] = frozenset({set, MutableSet})
_FROZENSETS: Final[frozenset[object]] = frozenset({frozenset, Set})
_MAPPINGS: Final[frozenset[object]] = frozenset({dict, Mapping, MutableMapping})
# Markers that say something about a field, not about its values.
_FIELD_MARKERS: Final[frozenset[object]] = frozenset(
    marker
    for marker in (typing.Required, typing.NotRequired, typing.Final, getattr(typing, "ReadOnly", None))
    if marker is not None
)


class _Plan:
    """What `partial_object` needs to know about a type, worked out once per type."""

    __slots__ = ("choices", "cls", "hints", "keys", "kind", "names", "plans")

    def __init__(
        self,
        kind: int,
        *,
        cls: type[Any] | None = None,
        hints: tuple[object, ...] = (),
        names: tuple[str, ...] = (),
        keys: tuple[str, ...] = (),
        choices: tuple[tuple[object, object], ...] = (),
    ) -> None:
        self.kind = kind
        self.cls = cls
        self.hints = hints  # item, value, member or field types, in the order of `names`
        self.names = names  # field names, for classes
        self.keys = keys  # the JSON keys of the fields, when they differ from their names (pydantic aliases)
        self.choices = choices  # (JSON value, Python value) pairs of a Literal
        # Resolved on first use, so that recursive types (`children: list[Node]`) do not recurse here.
        self.plans: list[_Plan | None] = [None] * len(hints)

    def child(self, index: int) -> _Plan:
        plan = self.plans[index]
        if plan is None:
            plan = self.plans[index] = _plan(self.hints[index])
        return plan


_PLANS: dict[object, _Plan] = {}


def _plan(tp: object) -> _Plan:
    # Typing compares unions and literals as sets (`int | str == str | int`); the repr keeps
    # their order apart. Plain classes compare by identity, so they are their own key.
    key = tp if isinstance(tp, type) and not isinstance(tp, types.GenericAlias) else (tp, repr(tp))
    try:
        return _PLANS[key]
    except KeyError:
        pass
    except TypeError:  # unhashable metadata in `Annotated`
        return _make_plan(tp)
    plan = _make_plan(tp)
    if len(_PLANS) >= _CACHE_SIZE:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


def _make_plan(tp: object) -> _Plan:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Annotated or origin in _FIELD_MARKERS:
        return _plan(args[0])
    if isinstance(tp, typing.NewType):
        return _plan(tp.__supertype__)
    if type(tp).__name__ == "TypeAliasType":  # `type X = ...` (Python 3.12+)
        return _plan(typing.cast("Any", tp).__value__)
    if tp is None or tp is types.NoneType:
        return _Plan(_NONE)
    if tp is typing.LiteralString:
        return _Plan(_STR)
    if origin is typing.Union or origin is types.UnionType:
        return _Plan(_UNION, hints=args)
    if origin is Literal:
        return _Plan(
            _LITERAL_VALUES,
            choices=tuple((arg.value if isinstance(arg, enum.Enum) else arg, arg) for arg in args),
        )
    container = origin if origin is not None else tp
    if container in _SEQUENCES:
        return _Plan(_LIST, hints=args[:1] or (Any,))
    if container in _SETS:
        return _Plan(_SET, hints=args[:1] or (Any,))
    if container in _FROZENSETS:
        return _Plan(_FROZENSET, hints=args[:1] or (Any,))
    if container is tuple or container is typing.Tuple:  # noqa: UP006 - the bare alias is a type users pass
        if not args:
            return _Plan(_TUPLE, hints=(Any,))
        if len(args) == 2 and args[1] is Ellipsis:
            return _Plan(_TUPLE, hints=args[:1])
        if args == ((),):  # `Tuple[()]`
            return _Plan(_FIXED_TUPLE)
        return _Plan(_FIXED_TUPLE, hints=args)
    if container in _MAPPINGS:
        return _Plan(_DICT, hints=args[1:2] or (Any,))
    if not isinstance(container, type):
        return _Plan(_ANY)
    # A generic class with arguments (`Box[int]`): its fields keep their type variables, read as `Any`.
    cls = typing.cast("type[Any]", container)
    if issubclass(cls, enum.Enum):
        return _Plan(_ENUM, cls=cls)
    for python_type, kind in ((bool, _BOOL), (int, _INT), (float, _FLOAT), (str, _STR)):
        if cls is python_type:
            return _Plan(kind)
    return _class_plan(cls)


def _class_plan(cls: type[Any]) -> _Plan:
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and issubclass(cls, pydantic.BaseModel):
        fields: dict[str, Any] = cls.model_fields
        names = tuple(fields)
        keys = tuple(field.alias or name for name, field in fields.items())
        return _Plan(_PYDANTIC, cls=cls, names=names, keys=keys, hints=tuple(f.annotation for f in fields.values()))
    hints = _type_hints(cls)
    if dataclasses.is_dataclass(cls):
        names = tuple(field.name for field in dataclasses.fields(cls))
        declared = {field.name: field.type for field in dataclasses.fields(cls)}
        return _Plan(_INSTANCE, cls=cls, names=names, hints=tuple(_hint(hints, declared, name) for name in names))
    if "attr" in sys.modules:
        import attrs

        if attrs.has(cls):
            attributes = attrs.fields(cls)
            names = tuple(attribute.name for attribute in attributes)
            declared = {attribute.name: attribute.type for attribute in attributes}
            return _Plan(_INSTANCE, cls=cls, names=names, hints=tuple(_hint(hints, declared, name) for name in names))
    if typing.is_typeddict(cls):
        names = tuple(hints)
        return _Plan(_TYPED_DICT, cls=cls, names=names, hints=tuple(hints.values()))
    if _is_named_tuple(cls):
        names = tuple(typing.cast("tuple[str, ...]", getattr(cls, "_fields")))  # noqa: B009 - namedtuple's API
        return _Plan(_NAMED_TUPLE, cls=cls, names=names, hints=tuple(hints.get(name, Any) for name in names))
    return _Plan(_ANY)


def _is_named_tuple(cls: type[Any]) -> bool:
    return hasattr(cls, "_fields") and issubclass(cls, tuple)


def _type_hints(cls: type[Any]) -> dict[str, object]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except Exception:  # an annotation that cannot be resolved: fall back on the declared types
        return {}


def _hint(hints: Mapping[str, object], declared: Mapping[str, object], name: str) -> object:
    if name in hints:
        return hints[name]
    hint = declared.get(name)
    # A string annotation `get_type_hints` could not resolve says nothing we can use.
    return Any if hint is None or isinstance(hint, str) else hint


def _build(data: object, plan: _Plan) -> object:
    kind = plan.kind
    if kind == _ANY:
        return data
    if kind == _STR:
        return data if isinstance(data, str) else None
    if kind == _INT:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        return int(data) if isinstance(data, float) and data.is_integer() else None
    if kind == _FLOAT:
        return float(data) if isinstance(data, int | float) and not isinstance(data, bool) else None
    if kind == _BOOL:
        return data if isinstance(data, bool) else None
    if kind == _NONE:
        return None
    if kind == _UNION:
        optional = False
        for index in range(len(plan.hints)):
            member = plan.child(index)
            if _fits(data, member):
                return _build(data, member)
            optional = optional or member.kind == _NONE
        # Data no member fits: `None` in an `Optional`, as for any field; otherwise the data as it is.
        return None if optional else data
    if kind == _LITERAL_VALUES:
        for json_value, python_value in plan.choices:
            if _same(data, json_value):
                return python_value
        return None
    if kind == _ENUM:
        return _enum_member(data, plan)
    if isinstance(data, list):
        items = typing.cast("list[object]", data)
        if kind == _LIST:
            item = plan.child(0)
            return [_build(value, item) for value in items]
        if kind == _TUPLE:
            item = plan.child(0)
            return tuple(_build(value, item) for value in items)
        if kind == _FIXED_TUPLE:
            return tuple(_build(value, plan.child(index)) for index, value in enumerate(items[: len(plan.hints)]))
        if kind in (_SET, _FROZENSET):
            item = plan.child(0)
            try:
                built = {_build(value, item) for value in items}
            except TypeError:  # unhashable items, as a set of plain dataclasses: no set can hold them
                return None
            return built if kind == _SET else frozenset(built)
        if kind == _NAMED_TUPLE:
            values = [_build(value, plan.child(index)) for index, value in enumerate(items[: len(plan.names)])]
            return _named_tuple(plan, values)
        return None
    if not isinstance(data, dict):
        return None
    members = typing.cast("dict[str, object]", data)
    if kind == _DICT:
        value_plan = plan.child(0)
        return {key: _build(value, value_plan) for key, value in members.items()}
    if kind == _TYPED_DICT:
        return {
            name: _build(members[name], plan.child(index)) for index, name in enumerate(plan.names) if name in members
        }
    if kind not in (_INSTANCE, _NAMED_TUPLE, _PYDANTIC):
        return None
    values = [
        None if (value := members.get(key, NOTHING)) is NOTHING else _build(value, plan.child(index))
        for index, key in enumerate(plan.keys or plan.names)
    ]
    cls = plan.cls
    assert cls is not None  # classes always have one
    if kind == _INSTANCE:
        # Without `__init__`: validators must not see half-written data, and frozen classes must work.
        instance = object.__new__(cls)
        for name, value in zip(plan.names, values, strict=True):
            object.__setattr__(instance, name, value)
        return instance
    if kind == _NAMED_TUPLE:
        return _named_tuple(plan, values)
    # pydantic: `model_construct` sets the fields without validating them.
    keys = plan.keys or plan.names
    fields_set = {name for name, key in zip(plan.names, keys, strict=True) if key in members}
    return cls.model_construct(fields_set, **dict(zip(plan.names, values, strict=True)))


def _named_tuple(plan: _Plan, values: list[object]) -> object:
    values += [None] * (len(plan.names) - len(values))
    # `_make` (that is, `tuple.__new__`), not the class: a NamedTuple may override `__new__`.
    return typing.cast("Any", plan.cls)._make(values)


def _enum_member(data: object, plan: _Plan) -> object:
    cls = plan.cls
    assert cls is not None  # enums always have one
    try:
        member = cls(data)
    except (ValueError, TypeError):
        return None
    return member if _same(data, member.value) else None


def _same(data: object, value: object) -> bool:
    """Whether JSON data equals a value, telling booleans from numbers as JSON does."""
    return data == value and isinstance(data, bool) == isinstance(value, bool)


def _fits(data: object, plan: _Plan) -> bool:
    """Whether data has the JSON type of a union member (shallowly: items are not checked)."""
    kind = plan.kind
    if kind == _ANY:
        return True
    if kind == _NONE:
        return data is None
    if kind == _STR:
        return isinstance(data, str)
    if kind == _BOOL:
        return isinstance(data, bool)
    if kind in (_INT, _FLOAT):
        return _build(data, plan) is not None
    if kind == _LITERAL_VALUES:
        return any(_same(data, json_value) for json_value, _ in plan.choices)
    if kind == _ENUM:
        return _enum_member(data, plan) is not None
    if kind == _UNION:
        return any(_fits(data, plan.child(index)) for index in range(len(plan.hints)))
    if kind in (_LIST, _TUPLE, _FIXED_TUPLE, _SET, _FROZENSET):
        return isinstance(data, list)
    if not isinstance(data, dict):
        return kind == _NAMED_TUPLE and isinstance(data, list)
    if kind == _DICT:
        return True
    # A class fits a dict whose keys are all its fields: that tells apart the classes of a union.
    return set(typing.cast("dict[str, object]", data)).issubset(plan.keys or plan.names)
