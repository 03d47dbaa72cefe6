"""The incremental JSON parser behind a stream's `partials()`.

A model streams its JSON answer in chunks. After each chunk, `PartialJSON` holds the value made
of what has arrived so far: plain JSON data (dicts, lists, str, int, float, bool, None), with
strings and containers still open where the text stops. `_partial_objects` turns that data into
a partial instance of the user's response type.

The module loads only the standard library.
"""

from __future__ import annotations

import enum
import re
from typing import Final

from ._json import MAX_JSON_DEPTH

__all__ = ["NOTHING", "PartialJSON"]


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
