"""Reading JSON from outside (provider replies, the model's output, `from_dict` data) with a depth limit.

`json.loads` nests as deep as the interpreter's stack allows, then raises `RecursionError`, and
even JSON it reads a few hundred levels deep breaks whatever walks it next (`repr`, `json.dumps`,
cattrs, a recursive decoder) with a `RecursionError` far from where it came in. So JSON from
outside is refused past `MAX_JSON_DEPTH` levels where it is read, with `JSONTooDeep` (a
`ValueError`, as any JSON that cannot be read): a reply becomes an `llm.APIError`, the model's
output an `llm.ParseError`, `from_dict` data an `llm.SerializationError`.

No real reply comes near the limit: the deepest of the recorded provider exchanges nests 9
levels, and none has more than 65 brackets. That is what keeps the check cheap: text with fewer
brackets than the limit cannot be nested deeper than it, so the one walk of the decoded value
runs only for text with more (two `str.count` calls on the text otherwise).
"""

from __future__ import annotations

import json
from typing import Any, Final

__all__ = ["MAX_JSON_DEPTH", "JSONTooDeep", "parse_json", "too_deep"]

MAX_JSON_DEPTH: Final = 100
"""How many levels of arrays and objects JSON from outside may nest."""

_loads = json.loads


class JSONTooDeep(ValueError):
    """JSON nested deeper than `MAX_JSON_DEPTH` levels."""

    def __init__(self) -> None:
        super().__init__(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels of arrays and objects")


def parse_json(text: str | bytes) -> Any:
    """`json.loads(text)`, refusing JSON nested deeper than `MAX_JSON_DEPTH` levels.

    Raises:
        JSONTooDeep: The JSON nests deeper (a `ValueError`).
        ValueError: The text is not JSON (`json.JSONDecodeError`).
    """
    try:
        value = _loads(text)
    except RecursionError:
        raise JSONTooDeep() from None
    # Deeper than the limit takes more characters, and more brackets, than the limit.
    if len(text) > 2 * MAX_JSON_DEPTH and _brackets(text) > MAX_JSON_DEPTH and too_deep(value):
        raise JSONTooDeep()
    return value


def _brackets(text: str | bytes) -> int:
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


def too_deep(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `value` nests lists, tuples and dicts deeper than `limit` levels.

    A walk one level at a time, with no recursion, so it answers for any depth.
    """
    level: list[object] = [value]
    depth = 0
    while True:
        inner: list[object] = []
        nested = False
        for item in level:
            if isinstance(item, dict):
                nested = True
                inner.extend(item.values())  # pyright: ignore[reportUnknownArgumentType]
            elif isinstance(item, list | tuple):
                nested = True
                inner.extend(item)  # pyright: ignore[reportUnknownArgumentType]
        if not nested:
            return False
        depth += 1
        if depth > limit:
            return True
        level = inner
