"""JSON into Python types, holding the data to the schema `_schema` wrote for the same type.

`structurer(tp)` compiles a type once into nested closures, one per field and item type, and
caches it: parsing a reply is then one walk of the data with no lookups on the way. It is strict
where a lax conversion would change the meaning (`"false"` is not `True`, `"abc"` is not a list,
`1.9` is not an int), and follows the schema's own rules where JSON has two spellings (`7.0` is
an integer; `null` for an optional field in a strict schema means "the default").

Why not cattrs, which the rest of core uses for serialization: its structure hooks call the type
on the value (`str(123)`, `int(1.9)`, `list("abc")`), cannot build unions of plain types, read
`NamedTuple`s from arrays where the schema says object, and trust Python 3.11's
`__required_keys__`, which is wrong under `from __future__ import annotations`. Matching the
schema exactly needed its own rules at every type, and compiled closures parse faster too
(see `benchmarks/bench_parse.py`).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import keyword
import types
import typing
from collections.abc import Callable, Mapping, MutableMapping, MutableSequence, MutableSet, Sequence, Set
from typing import Annotated, Any, Final, Literal

import attrs

from ._schema import CACHE_SIZE, FIELD_MARKERS, is_named_tuple, record_fields

__all__ = ["Invalid", "structurer"]

Hook = Callable[[Any], Any]

_SEQUENCES: Final[frozenset[object]] = frozenset({list, Sequence, MutableSequence})
_SETS: Final[frozenset[object]] = frozenset({set, frozenset, Set, MutableSet})
_MAPPINGS: Final[frozenset[object]] = frozenset({dict, Mapping, MutableMapping})
_KINDS: Final[dict[type, str]] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


class Invalid(Exception):
    """Data that does not fit the type; `str()` says what and where (`... @ $.items[0].price`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str] = []  # filled in as the error passes up through each container

    def __str__(self) -> str:
        return f"{self.message} @ ${''.join(reversed(self.path))}"


def _kind(value: object) -> type[Any]:
    return type(value)


def _got(value: object) -> str:
    kind = _KINDS.get(type(value), type(value).__name__)
    shown = repr(value)
    return kind if len(shown) > 40 or value is None or isinstance(value, list | dict) else f"{kind} ({shown})"


def structurer(tp: object) -> Hook:
    """The function that turns JSON data into `tp`, raising `Invalid`; compiled once per type.

    Raises:
        TypeError: `tp` is no type JSON can be read into, or nests too deeply to compile.
    """
    try:
        try:
            key = (tp, repr(tp))
            hash(key)
        except TypeError:
            return _compile(tp, {})
        return _cached(key)
    except RecursionError:  # from `repr`, `hash` or compiling: each goes as deep as the type
        raise TypeError("The type nests too deeply to read JSON into (hundreds of levels).") from None


@functools.lru_cache(maxsize=CACHE_SIZE)
def _cached(key: tuple[object, str]) -> Hook:
    return _compile(key[0], {})


def _compile(tp: object, building: dict[object, Hook]) -> Hook:
    """`building` holds the classes being compiled around `tp`, so a class can refer to itself."""
    origin: object = typing.get_origin(tp)
    if origin is Annotated or origin in FIELD_MARKERS:
        return _compile(typing.get_args(tp)[0], building)
    value = getattr(tp, "__value__", None)
    if value is not None and origin is None and not isinstance(tp, type):  # a `type X = ...` alias
        return _compile(value, building)
    if tp is Any or tp is object:
        return _identity
    if tp is None or tp is type(None):
        return _null
    if tp is bool:
        return _bool
    if tp is int:
        return _int
    if tp is float:
        return _float
    if tp is str:
        return _str
    if origin is Literal:
        return _literal(typing.get_args(tp))
    if origin is typing.Union or origin is types.UnionType:
        return _union(tp, typing.get_args(tp), building)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum(tp)
    args: tuple[Any, ...] = typing.get_args(tp)
    container: object = origin if origin is not None else typing.cast(object, tp)
    if container in _SEQUENCES:
        return _list(_compile(args[0], building) if args else _identity, list)
    if container in _SETS:
        return _list(_compile(args[0], building) if args else _identity, frozenset if container is frozenset else set)
    if container is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return _list(_compile(args[0], building) if args else _identity, tuple)
        return _fixed_tuple(tuple(_compile(arg, building) for arg in args))
    if container in _MAPPINGS:
        return _mapping(_compile(args[1], building) if len(args) == 2 else _identity)
    if isinstance(tp, type):
        cls = typing.cast("type[Any]", tp)
        if dataclasses.is_dataclass(cls) or attrs.has(cls) or typing.is_typeddict(cls) or is_named_tuple(cls):
            return _record(cls, building)
    raise TypeError(f"Cannot parse JSON into {tp!r}: it is not a type response models and tools take.")


def _identity(value: Any) -> Any:
    return value


def _null(value: Any) -> None:
    if value is not None:
        raise Invalid(f"expected null, got {_got(value)}")


def _bool(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise Invalid(f"expected a boolean, got {_got(value)}")


def _int(value: Any) -> int:
    kind = _kind(value)
    if kind is int:
        return value
    if kind is float and value.is_integer():  # JSON Schema counts 7.0 as an integer
        return int(value)
    raise Invalid(f"expected an integer, got {_got(value)}")


def _float(value: Any) -> float:
    kind = _kind(value)
    if kind is float:
        return value
    if kind is int:
        return float(value)
    raise Invalid(f"expected a number, got {_got(value)}")


def _str(value: Any) -> str:
    if type(value) is str:
        return value
    raise Invalid(f"expected a string, got {_got(value)}")


def _literal(allowed: tuple[object, ...]) -> Hook:
    # Keyed by type too: `True == 1`, yet `Literal[1]` must not take `true`.
    values = [(item.value if isinstance(item, enum.Enum) else item, item) for item in allowed]
    by_value: dict[tuple[type, object], object] = {(type(value), value): item for value, item in values}
    shown = ", ".join(repr(value) for value, _ in values)

    def literal(value: Any) -> Any:
        try:
            return by_value[(type(value), value)]
        except (KeyError, TypeError):
            raise Invalid(f"expected one of {shown}, got {_got(value)}") from None

    return literal


def _enum(cls: type[enum.Enum]) -> Hook:
    members: dict[tuple[type, object], enum.Enum] = {(type(member.value), member.value): member for member in cls}
    shown = ", ".join(repr(member.value) for member in cls)

    def from_value(value: Any) -> enum.Enum:
        try:
            return members[(type(value), value)]
        except (KeyError, TypeError):
            raise Invalid(f"expected one of {shown} ({cls.__name__}), got {_got(value)}") from None

    return from_value


def _union(tp: object, options: tuple[object, ...], building: dict[object, Hook]) -> Hook:
    nullable = type(None) in options
    others = [option for option in options if option is not type(None)]
    hooks = [_compile(option, building) for option in others]
    if len(hooks) == 1:
        [only] = hooks

        def optional(value: Any) -> Any:
            return None if value is None else only(value)

        check = _INLINE.get(only)
        if check is not None:
            _INLINE[optional] = f"{{v}} is not None and ({check})"
        return optional
    # A value whose JSON type one member takes exactly goes to it, whatever the order:
    # `float | int` keeps 3 an int, `int | float` keeps 2.5 a float.
    exact = {kind: hook for option, hook in zip(others, hooks, strict=True) for kind in _exact_kinds(option)}
    shown = " | ".join(getattr(option, "__name__", repr(option)) for option in options)

    def union(value: Any) -> Any:
        if value is None and nullable:
            return None
        hook = exact.get(_kind(value))
        if hook is not None:
            return hook(value)
        reasons: list[str] = []
        for candidate in hooks:
            try:
                return candidate(value)
            except Invalid as error:
                reasons.append(str(error).removesuffix(" @ $"))
        raise Invalid(f"expected {shown}, got {_got(value)} ({'; '.join(reasons)})")

    return union


def _exact_kinds(option: object) -> tuple[type, ...]:
    if option is str:
        return (str,)
    if option is int:
        return (int,)
    if option is float:
        return (float,)
    if option is bool:
        return (bool,)
    return ()


_EXACT: Final[dict[Hook, type]] = {_str: str, _int: int, _float: float, _bool: bool}


def _list(item: Hook, build: Callable[[Any], Any]) -> Hook:
    exact = _EXACT.get(item)

    def sequence(value: Any) -> Any:
        if type(value) is not list:
            raise Invalid(f"expected an array, got {_got(value)}")
        entries = typing.cast("list[Any]", value)
        if item is _identity:
            return build(entries)
        if exact is not None:
            # A list of plain values is checked, not rebuilt item by item.
            for entry in entries:
                if type(entry) is not exact:
                    break
            else:
                return build(entries)
        try:
            return build([item(entry) for entry in entries])
        except Invalid:
            _locate(item, enumerate(entries))
            raise

    return sequence


def _locate(item: Hook, entries: Any) -> None:
    """Raise the failure again with the index or key of the entry that failed (the rare path)."""
    for key, entry in entries:
        try:
            item(entry)
        except Invalid as error:
            error.path.append(f"[{key!r}]" if isinstance(key, str) else f"[{key}]")
            raise error from None


def _fixed_tuple(items: tuple[Hook, ...]) -> Hook:
    def fixed(value: Any) -> tuple[Any, ...]:
        entries = typing.cast("list[Any]", value)
        if type(value) is not list or len(entries) != len(items):
            raise Invalid(f"expected an array of {len(items)} items, got {_got(entries)}")
        try:
            return tuple(item(entry) for item, entry in zip(items, entries, strict=True))
        except Invalid:
            for index, (item, entry) in enumerate(zip(items, entries, strict=True)):
                _locate(item, [(index, entry)])
            raise

    return fixed


def _mapping(item: Hook) -> Hook:
    def mapping(value: Any) -> dict[str, Any]:
        if type(value) is not dict:
            raise Invalid(f"expected an object, got {_got(value)}")
        entries = typing.cast("dict[str, Any]", value)
        if item is _identity:
            return dict(entries)
        try:
            return {key: item(entry) for key, entry in entries.items()}
        except Invalid:
            _locate(item, entries.items())
            raise

    return mapping


def _accepts_null(hook: Hook) -> bool:
    try:
        hook(None)
    except Invalid:
        return False
    return True


def _record(cls: type[Any], building: dict[object, Hook]) -> Hook:
    found = building.get(cls)
    if found is not None:
        return found
    # A class may contain itself (through a list or an Optional): while its fields compile, a
    # reference to it goes through this proxy to the function compiled below.
    compiled: list[Hook] = []

    def proxy(value: Any) -> object:
        return compiled[0](value)

    building[cls] = proxy
    aliases: dict[str, str] = {}
    if attrs.has(cls):
        aliases = {attribute.name: attribute.alias for attribute in attrs.fields(cls)}
    fields = [
        (field.name, aliases.get(field.name, field.name), _compile(field.hint, building), field.required)
        for field in record_fields(cls)
    ]
    record = _generate(cls, dict if typing.is_typeddict(cls) else cls, fields)
    compiled.append(record)
    building[cls] = record
    return record


# Checks written inline for the commonest field types: a failing value then goes through the
# type's hook, which converts what JSON spells two ways (7.0 as an int) or raises with the reason.
_INLINE: Final[dict[Hook, str]] = {  # grows with each Optional of these: a few per response model
    _str: "type({v}) is not str",
    _int: "type({v}) is not int",
    _float: "type({v}) is not float",
    _bool: "{v} is not True and {v} is not False",
}


def _generate(cls: type[Any], make: Callable[..., object], fields: list[tuple[str, str, Hook, bool]]) -> Hook:
    """Write the function that builds `cls` from a JSON object, field by field, and compile it.

    Generated rather than looped over, as attrs and cattrs do: straight-line code with the
    checks inline runs about twice as fast as a loop over a list of fields.
    """
    namespace: dict[str, Any] = {
        "_MISSING": _MISSING,
        "_Invalid": Invalid,
        "_missing": _missing_field,
        "_convert": _convert,
        "_not_object": _not_object(cls),
        "_refused": _refused(cls),
        "_make": make,
    }
    optional = any(not required for *_, required in fields)
    lines = [
        "def record(value):",
        "    if type(value) is not dict:",
        "        raise _not_object(value)",
        "    get = value.get",
    ]
    if optional:
        lines.append("    kwargs = {}")
    passed: list[str] = []  # required fields go straight into the call, as keywords
    for index, (name, arg, hook, required) in enumerate(fields):
        v, h, key = f"v{index}", f"h{index}", repr(name)
        namespace[h] = hook
        lines.append(f"    {v} = get({key}, _MISSING)")
        if required:
            lines += [f"    if {v} is _MISSING:", f"        raise _missing({key})"]
            indent = "    "
        else:
            # A strict schema sends an optional field as `null` when it means "the default".
            skip = f" and {v} is not None" if not _accepts_null(hook) else ""
            lines.append(f"    if {v} is not _MISSING{skip}:")
            indent = "        "
        check = _INLINE.get(hook)
        if check is not None:
            lines += [f"{indent}if {check.format(v=v)}:", f"{indent}    {v} = _convert({h}, {v}, {key})"]
        elif hook is not _identity:
            lines += [
                f"{indent}try:",
                f"{indent}    {v} = {h}({v})",
                f"{indent}except _Invalid as error:",
                f"{indent}    error.path.append({'.' + name!r})",
                f"{indent}    raise",
            ]
        if required and arg.isidentifier() and not keyword.iskeyword(arg):
            passed.append(f"{arg}={v}")
        else:
            if not optional:
                lines.insert(4, "    kwargs = {}")
                optional = True
            lines.append(f"{indent}kwargs[{arg!r}] = {v}")
    call_args = ", ".join([*passed, "**kwargs"] if optional else passed)
    lines += [
        "    try:",
        f"        return _make({call_args})",
        "    except Exception as exc:",
        "        raise _refused(exc) from exc",
    ]
    exec(compile("\n".join(lines), f"<mirascope structure {cls.__qualname__}>", "exec"), namespace)
    return namespace["record"]


_MISSING: Final = object()


def _missing_field(name: str) -> Invalid:
    error = Invalid("required field missing")
    error.path.append(f".{name}")
    return error


def _convert(hook: Hook, value: Any, name: str) -> Any:
    try:
        return hook(value)
    except Invalid as error:
        error.path.append(f".{name}")
        raise


def _not_object(cls: type[Any]) -> Callable[[Any], Invalid]:
    return lambda value: Invalid(f"expected an object ({cls.__name__}), got {_got(value)}")


def _refused(cls: type[Any]) -> Callable[[Exception], Invalid]:
    # The class's own checks (`__post_init__`, attrs validators) said no, in their words.
    return lambda exc: Invalid(f"{cls.__name__} refused it: {exc}")
