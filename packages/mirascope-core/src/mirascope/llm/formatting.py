"""Structured output: what `response_model=` turns into, and how a reply becomes that type."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias

from ._typevars import T
from .exceptions import ParseError

if TYPE_CHECKING:
    import cattrs

__all__ = ["Format", "FormatMode", "format_for"]

FormatMode: TypeAlias = Literal["native", "tool", "json"]
"""How the output is asked for: the provider's schema feature, a forced tool call, or JSON mode."""

_NAME = re.compile(r"[^A-Za-z0-9_-]")


class Format(Generic[T]):
    """A response model, ready for providers: its JSON schema and how to parse a reply into it.

    Built once per type by `format_for` and reused by every call.
    """

    __slots__ = ("description", "mode", "name", "schema", "strict", "type", "wrapped")

    def __init__(self, tp: type[T], *, strict: bool = False, mode: FormatMode | None = None) -> None:
        from ._schema import type_schema

        self.type = tp
        """The response model."""
        self.name: str = _NAME.sub("_", getattr(tp, "__name__", "") or "Output")[:64]
        """A name providers accept for the schema (letters, digits, `_`, `-`)."""
        schema = type_schema(tp)
        self.description: str | None = schema.get("description")
        """The class docstring, when it has one."""
        # Providers take an object at the top; anything else travels as {"value": ...}.
        self.wrapped: bool = schema.get("type") != "object"
        """Whether the output is wrapped in `{"value": ...}` for the provider."""
        if self.wrapped:
            schema = {
                "type": "object",
                "properties": {"value": schema},
                "required": ["value"],
                "additionalProperties": False,
            }
        if strict:
            from ._schema import strict_schema

            schema = strict_schema(schema)
        self.schema: dict[str, Any] = schema
        """The JSON schema the provider is given (read-only: it is shared)."""
        self.strict = strict
        """Whether the provider must follow the schema exactly."""
        self.mode: FormatMode | None = mode
        """How the output is asked for; `None` picks the best the model supports."""

    def __repr__(self) -> str:
        return f"Format({getattr(self.type, '__name__', self.type)!r}, strict={self.strict}, mode={self.mode!r})"

    def parse(self, text: str) -> T:
        """Turn the model's reply into the response model.

        Raises:
            ParseError: The text is not JSON of the expected shape; it carries the text.
        """
        try:
            data = json.loads(text)
        except ValueError:
            data = _embedded_json(text)
        if self.wrapped:
            if not isinstance(data, dict) or "value" not in data:
                raise ParseError(f"Expected a JSON object with a 'value' field; got {text[:200]!r}.", text=text)
            data = data["value"]  # pyright: ignore[reportUnknownVariableType]
        try:
            return _converter().structure(data, self.type)
        except Exception as exc:
            raise ParseError(f"The reply does not fit {self.name}: {_reason(exc)}", text=text) from exc


def _embedded_json(text: str) -> Any:
    # Models without a schema feature often wrap the JSON in prose or a code fence.
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            return json.loads(text[start : end + 1])
        except ValueError:
            pass
    raise ParseError(f"The reply is not JSON: {text[:200]!r}", text=text)


def _reason(exc: Exception) -> str:
    import cattrs

    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(exc))
    return f"{type(exc).__name__}: {exc}"


_converters: list[cattrs.Converter] = []


def _converter() -> cattrs.Converter:
    if not _converters:
        import cattrs

        _converters.append(cattrs.Converter(detailed_validation=True))
    return _converters[0]


_formats: dict[tuple[object, bool, str | None], Format[Any]] = {}


def format_for(tp: type[T] | Format[T]) -> Format[T]:
    """The `Format` of a response model, built once per type."""
    if isinstance(tp, Format):
        return tp
    key = (tp, False, None)
    found = _formats.get(key)
    if found is None:
        found = _formats[key] = Format(tp)
    return found
