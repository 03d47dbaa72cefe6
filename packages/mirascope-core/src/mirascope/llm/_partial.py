"""Partial values of streamed structured output.

A model streams its JSON answer in chunks. After each chunk, `PartialJSON` holds the value made
of what has arrived so far, and `partial_object` turns that plain JSON data into a partial
instance of the user's response type, with `None` for the fields still to come.

The module loads only the standard library; pydantic and attrs are used only when the caller has
already loaded them (a class of theirs cannot exist otherwise).
"""

from __future__ import annotations

import dataclasses
import enum
import re
import sys
import types
import typing
from collections.abc import Mapping, MutableMapping, MutableSequence, MutableSet, Sequence, Set
from typing import Annotated, Any, Final, Literal

from ._json import MAX_JSON_DEPTH

__all__ = ["NOTHING", "PartialJSON", "partial_object"]


class _Nothing(enum.Enum):
    NOTHING = "NOTHING"

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Final = _Nothing.NOTHING
"""`PartialJSON.value` before the first `{` or `[` has arrived.

It is distinct from `None`, which is JSON `null`. Test for it with `value is NOTHING`.
"""

_Container = dict[str, object] | list[object]

# Parser states: what the next non-blank character may be.
_PRELUDE: Final = 0  # prose or a code fence before the first `{` or `[`
_VALUE: Final = 1  # a value (after `:` or after `,` in an array)
_VALUE_OR_END: Final = 2  # a value or `]` (just after `[`)
_KEY: Final = 3  # a key (after `,` in an object)
_KEY_OR_END: Final = 4  # a key or `}` (just after `{`)
_COLON: Final = 5
_AFTER: Final = 6  # `,` or the closing bracket, after a value
_STRING: Final = 7  # inside a key or a string value
_NUMBER: Final = 8
_LITERAL: Final = 9  # inside `true`, `false` or `null`
_DONE: Final = 10  # the top-level value is complete: the rest is ignored

_WHERE: Final = {
    _VALUE: "before a value",
    _VALUE_OR_END: "inside an array",
    _KEY: "before an object key",
    _KEY_OR_END: "inside an object",
    _COLON: "after an object key",
    _AFTER: "after a value",
    _STRING: "inside a string",
    _NUMBER: "inside a number",
    _LITERAL: "inside a literal",
}

_BLANK = re.compile(r"[ \t\n\r]*")
# JSON forbids raw control characters in strings, as `json.loads` does by default.
_STRING_RUN = re.compile(r'[^"\\\x00-\x1f]+')
_NUMBER_RUN = re.compile(r"[0-9eE+.\-]*")
# `[0-9]`, not `\d`: `\d` also matches digits of other scripts, which JSON does not allow.
_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_HEX = re.compile(r"[0-9a-fA-F]{0,4}")
_START = re.compile(r"[{\[]")
_ESCAPES: Final = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS: Final[dict[str, tuple[str, object]]] = {"t": ("true", True), "f": ("false", False), "n": ("null", None)}
# The longest escape: a surrogate pair, `\ud83d\ude00`.
_LONGEST_ESCAPE: Final = 12


class PartialJSON:
    r"""An incremental parser of JSON text that arrives in chunks.

    Feed it each chunk as it comes; `value` is the value made of what has arrived so far, and
    `finish()` the complete value once the text is over. Each chunk is scanned once: the parser
    keeps the containers being filled and the token in progress, so the cost of a chunk is
    proportional to its length, whatever came before.

    The top-level value is an object or an array. Text before the first `{` or `[` (prose, or a
    ```` ```json ```` fence) is skipped, and text after the top-level value is complete (a closing
    fence) is ignored. A `{` or `[` in the prose before the JSON is taken for its start.

    What `value` shows of a value in progress:

    - a string value: the text so far, escapes decoded; an escape split across chunks (`\u00`)
      and the first half of a surrogate pair wait for the rest;
    - an object: its complete members and the member being written; a key shows only once its
      value has started;
    - an array: its complete items and the item being written;
    - a number, `true`, `false` or `null`: nothing until it is complete (`12` could become
      `123`; `tru` is not yet `true`).

    Numbers without a fraction or an exponent are `int`, others `float`, and a repeated key keeps
    its last value, all as `json.loads` does. Unlike `json.loads`, it refuses `NaN` and
    `Infinity`, which are not JSON, and JSON nested deeper than `MAX_JSON_DEPTH` levels. Invalid
    JSON raises `ValueError` with its offset in the text fed so far, and every later call raises
    it again.

    Example:
        ```python
        parser = PartialJSON()
        parser.feed('Here you go: {"title": "Du')
        parser.value  # {"title": "Du"}
        parser.feed('ne", "year": 19')
        parser.value  # {"title": "Dune"}
        parser.feed("65}")
        parser.finish()  # {"title": "Dune", "year": 1965}
        ```
    """

    __slots__ = (
        "_error",
        "_escape",
        "_in_key",
        "_key",
        "_literal",
        "_offset",
        "_parts",
        "_root",
        "_slots",
        "_snapshot",
        "_snapshot_version",
        "_stack",
        "_state",
        "_token",
        "_token_start",
        "_version",
    )

    def __init__(self) -> None:
        self._state: int = _PRELUDE
        self._root: _Container | _Nothing = NOTHING
        # The open containers, outermost first; each is already in its parent.
        self._stack: list[_Container] = []
        # Where each open container sits in its parent: its key, or None for the last item of an array.
        self._slots: list[str | None] = []
        self._key = ""  # the key of the member being written in the innermost object
        self._in_key = False
        self._parts: list[str] = []  # the decoded text of the string in progress
        self._escape = ""  # an escape split across chunks, from its backslash
        self._token = ""  # the number or literal in progress
        self._token_start = 0
        self._literal: tuple[str, object] = ("", None)
        self._offset = 0  # characters fed before the current chunk
        self._error: ValueError | None = None
        self._version = 0  # bumped whenever `value` changes
        self._snapshot_version = -1
        self._snapshot: object = NOTHING

    @property
    def value(self) -> object:
        """The value made of the text fed so far, or `NOTHING` before the first `{` or `[`.

        The result is plain JSON data (dicts, lists, str, int, float, bool, None) and is never
        changed by later feeds: the containers still being filled are copied, while the finished
        parts inside them are shared with the parser, since nothing changes them again. The cost
        is the size of the open containers plus the string in progress, not the whole value.
        Treat the result as read-only: changing a shared part would change later results too.
        """
        if self._snapshot_version != self._version:
            self._snapshot = self._take_snapshot()
            self._snapshot_version = self._version
        return self._snapshot

    @property
    def failed(self) -> bool:
        """Whether the text fed so far is not valid JSON (`feed` and `finish` then raise why)."""
        return self._error is not None

    @property
    def done(self) -> bool:
        """Whether the top-level value is complete; text fed after it is ignored."""
        return self._state == _DONE

    def feed(self, text: str) -> bool:
        """Parse the next chunk of text.

        Args:
            text: The chunk, following what was fed before.

        Returns:
            Whether `value` changed.

        Raises:
            ValueError: The text so far is not the beginning of a valid JSON document.
        """
        if self._error is not None:
            raise self._error
        try:
            changed = self._scan(text)
        except ValueError as error:
            self._error = error
            raise
        self._offset += len(text)
        if changed:
            self._version += 1
        return changed

    def finish(self) -> object:
        """The complete value, once all the text has been fed.

        Raises:
            ValueError: The text holds no JSON object or array, the value is incomplete, or the
                JSON is invalid.
        """
        if self._error is not None:
            raise self._error
        if self._state == _DONE:
            return self._root
        if self._state == _PRELUDE:
            raise ValueError("Invalid JSON: the text holds no JSON object or array")
        raise ValueError(
            f"Incomplete JSON: the text ends at offset {self._offset} {_WHERE[self._state]}, "
            f"with {len(self._stack)} unclosed object(s) or array(s)"
        )

    def _scan(self, text: str) -> bool:
        """Consume one chunk; the state lives in a local while the chunk is scanned."""
        changed = False
        state = self._state
        i = 0
        n = len(text)
        while i < n:
            if state == _STRING:
                if self._escape or text[i] == "\\":
                    i, produced = self._scan_escape(text, i)
                    changed = changed or (produced and not self._in_key)
                    continue
                run = _STRING_RUN.match(text, i)
                if run is not None:
                    self._parts.append(run.group())
                    i = run.end()
                    changed = changed or not self._in_key
                    if i == n:
                        break
                char = text[i]
                if char == '"':
                    i += 1
                    string = "".join(self._parts)
                    self._parts = []
                    if self._in_key:
                        self._key = string
                        state = _COLON
                    else:
                        # Already visible as the string in progress: no change.
                        state = self._put(string)
                elif char != "\\":
                    raise self._invalid(i, f"the control character {char!r} must be escaped in a string")
                continue

            if state == _NUMBER:
                run = _NUMBER_RUN.match(text, i)
                assert run is not None  # it matches the empty string
                self._token += run.group()
                i = run.end()
                if i < n:
                    state = self._put(self._number())
                    changed = True
                continue

            if state == _LITERAL:
                word, literal = self._literal
                missing = word[len(self._token) :]
                got = text[i : i + len(missing)]
                if not missing.startswith(got):
                    bad = next(k for k, (a, b) in enumerate(zip(got, missing, strict=False)) if a != b)
                    raise self._invalid(i + bad, f"expected {word!r}, got {self._token + got[: bad + 1]!r}")
                self._token += got
                i += len(got)
                if len(self._token) == len(word):
                    state = self._put(literal)
                    changed = True
                continue

            if state == _PRELUDE:
                start = _START.search(text, i)
                if start is None:
                    break
                i = start.end()
                state = self._open({} if start.group() == "{" else [])
                changed = True
                continue

            if state == _DONE:
                break

            blank = _BLANK.match(text, i)
            assert blank is not None  # it matches the empty string
            i = blank.end()
            if i == n:
                break
            char = text[i]
            i += 1

            if state == _AFTER:
                top = self._stack[-1]
                if char == ",":
                    state = _KEY if isinstance(top, dict) else _VALUE
                elif (char == "}" and isinstance(top, dict)) or (char == "]" and isinstance(top, list)):
                    state = self._close()
                else:
                    closer = "}" if isinstance(top, dict) else "]"
                    raise self._invalid(i - 1, f"expected ',' or '{closer}', got {char!r}")
            elif state in (_VALUE, _VALUE_OR_END):
                if char == '"':
                    self._in_key = False
                    state = _STRING
                    changed = True  # an empty string shows at once
                elif char == "{" or char == "[":
                    if len(self._stack) >= MAX_JSON_DEPTH:
                        # Built without recursion here, but whatever reads the value next recurses.
                        raise self._invalid(i - 1, f"nested deeper than {MAX_JSON_DEPTH} levels of arrays and objects")
                    state = self._open({} if char == "{" else [])
                    changed = True
                elif char in "-0123456789":
                    self._token_start = self._offset + i - 1
                    run = _NUMBER_RUN.match(text, i)
                    assert run is not None  # it matches the empty string
                    self._token = text[i - 1 : run.end()]
                    i = run.end()
                    state = _NUMBER
                    # A number is complete only once something follows it.
                    if i < n:
                        state = self._put(self._number())
                        changed = True
                elif char in _LITERALS:
                    self._literal = _LITERALS[char]
                    self._token = char
                    state = _LITERAL
                elif char == "]" and state == _VALUE_OR_END:
                    state = self._close()
                else:
                    raise self._invalid(i - 1, f"expected a value, got {char!r}")
            elif state in (_KEY, _KEY_OR_END):
                if char == '"':
                    self._in_key = True
                    state = _STRING
                elif char == "}" and state == _KEY_OR_END:
                    state = self._close()
                else:
                    raise self._invalid(i - 1, f"expected a double-quoted object key, got {char!r}")
            elif char == ":":  # _COLON
                state = _VALUE
            else:
                raise self._invalid(i - 1, f"expected ':' after an object key, got {char!r}")
        self._state = state
        return changed

    def _scan_escape(self, text: str, i: int) -> tuple[int, bool]:
        """Decode the escape at `text[i]` or held from the last chunk; return the new position."""
        held = self._escape
        buffer = held + text[i : i + _LONGEST_ESCAPE - len(held)]
        try:
            decoded = _decode_escape(buffer)
        except ValueError as error:
            raise self._invalid(i - len(held), str(error)) from None
        if decoded is None:
            # The chunk ends inside the escape: `buffer` holds all the rest of it.
            self._escape = buffer
            return len(text), False
        string, used = decoded
        self._parts.append(string)
        if used < len(held):
            # A high surrogate held back, then not followed by its low half: the backslash held
            # after it starts the next escape.
            self._escape = held[used:]
            return i, True
        self._escape = ""
        return i + used - len(held), True

    def _open(self, container: _Container) -> int:
        if self._stack:
            top = self._stack[-1]
            if isinstance(top, list):
                top.append(container)
                self._slots.append(None)
            else:
                top[self._key] = container
                self._slots.append(self._key)
        else:
            self._root = container
            self._slots.append(None)
        self._stack.append(container)
        return _KEY_OR_END if isinstance(container, dict) else _VALUE_OR_END

    def _close(self) -> int:
        self._stack.pop()
        self._slots.pop()
        return _AFTER if self._stack else _DONE

    def _put(self, value: object) -> int:
        top = self._stack[-1]
        if isinstance(top, list):
            top.append(value)
        else:
            top[self._key] = value
        return _AFTER

    def _number(self) -> int | float:
        token = self._token
        match = _NUMBER_TEXT.fullmatch(token)
        if match is None:
            raise self._invalid_at(self._token_start, f"invalid number {token!r}")
        if match.group(1) is None and match.group(2) is None:
            return int(token)
        return float(token)

    def _take_snapshot(self) -> object:
        stack = self._stack
        if not stack:
            return self._root
        root = outer = stack[0].copy()
        for container, slot in zip(stack[1:], self._slots[1:], strict=True):
            inner = container.copy()
            if isinstance(outer, list):
                outer[-1] = inner
            elif slot is not None:
                outer[slot] = inner
            outer = inner
        if self._state == _STRING and not self._in_key:
            parts = self._parts
            if len(parts) > 1:
                # Keep the join: the next snapshot starts from it.
                parts[:] = ["".join(parts)]
            string = parts[0] if parts else ""
            if isinstance(outer, list):
                outer.append(string)
            else:
                outer[self._key] = string
        return root

    def _invalid(self, i: int, problem: str) -> ValueError:
        return self._invalid_at(self._offset + i, problem)

    def _invalid_at(self, offset: int, problem: str) -> ValueError:
        return ValueError(f"Invalid JSON at offset {offset}: {problem}")


def _decode_escape(buffer: str) -> tuple[str, int] | None:
    """Decode the escape that starts `buffer`: its text and length, or None if it is cut short."""
    if len(buffer) < 2:
        return None
    simple = _ESCAPES.get(buffer[1])
    if simple is not None:
        return simple, 2
    if buffer[1] != "u":
        raise ValueError(f"invalid escape {buffer[:2]!r}")
    code = _hex4(buffer, 2)
    if code is None:
        return None
    if not 0xD800 <= code <= 0xDBFF:
        return chr(code), 6
    # A high surrogate: `json.loads` joins it with a low one in the next escape, if there is one.
    if len(buffer) < 8:
        if len(buffer) == 7 and buffer[6] != "\\":
            return chr(code), 6
        return None
    if buffer[6:8] != "\\u":
        return chr(code), 6
    low = _hex4(buffer, 8)
    if low is None:
        return None
    if 0xDC00 <= low <= 0xDFFF:
        return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), 12
    return chr(code), 6


def _hex4(buffer: str, at: int) -> int | None:
    digits = buffer[at : at + 4]
    if _HEX.fullmatch(digits) is None:
        raise ValueError(f"invalid escape {buffer[at - 2 : at + 4]!r}: \\u takes four hex digits")
    return int(digits, 16) if len(digits) == 4 else None


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
