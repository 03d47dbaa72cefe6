"""Structured output: what `response_model=` turns into, and how a reply becomes that type."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeAlias, TypeVar, cast, overload

from ._json import JSONTooDeep, parse_json
from ._typevars import T
from .content import Text, ToolCall
from .exceptions import ParseError, UsageError

if TYPE_CHECKING:
    from .messages import Message
    from .responses import FinishReason

__all__ = ["FORMAT_TOOL_NAME", "RAW_ARGS_KEY", "Format", "FormatMode", "format_for", "output_parser", "response_model"]

FormatMode: TypeAlias = Literal["native", "tool", "json"]
"""How the output is asked for: the provider's schema feature, a forced tool call, or JSON mode."""

FORMAT_TOOL_NAME: Final = "__mirascope_formatted_output_tool__"
"""The tool a `mode="tool"` response model is asked for through.

One fixed name, apart from any tool of the user's: its call is the answer, not a tool to run,
so core turns it back into the reply's text.
"""

RAW_ARGS_KEY: Final = "__raw__"
"""Where a decoder keeps tool-call arguments that are not a JSON object, as the model wrote them.

A call cut off mid-arguments (`max_tokens`, a dropped stream) or malformed JSON decodes to
`{RAW_ARGS_KEY: text}`, so the text is not lost.
"""

_WRAP_KEY: Final = "output"
_NAME = re.compile(r"[^A-Za-z0-9_-]")
_C = TypeVar("_C")


class Format(Generic[T]):
    """A response model, ready for providers: its JSON schema and how to parse a reply into it.

    Built once per type (and options) by `llm.response_model` or `response_model=` and reused
    by every call.
    """

    __slots__ = (
        "_strict_schema",
        "_structure",
        "description",
        "instructions",
        "mode",
        "name",
        "parser",
        "schema",
        "strict",
        "type",
        "wrapped",
    )

    def __init__(
        self,
        tp: type[T],
        *,
        strict: bool | None = None,
        mode: FormatMode | None = None,
        instructions: str | None = None,
        parser: Callable[[str], T] | None = None,
    ) -> None:
        self.type = tp
        """The response model."""
        self.name: str = _NAME.sub("_", getattr(tp, "__name__", "") or "Output")[:64]
        """A name providers accept for the schema (letters, digits, `_`, `-`)."""
        self.strict = strict
        """Whether the provider must follow the schema exactly: `None` asks for it where the
        model has it, `True` raises `llm.FeatureNotSupportedError` where it has not."""
        self.mode: FormatMode | None = mode
        """How the output is asked for; `None` picks the best the model supports."""
        self.instructions: str | None = instructions
        """Text for the system prompt in place of the default formatting instructions."""
        self.parser: Callable[[str], T] | None = parser
        """A function that parses the reply's text itself (`llm.output_parser`); no schema then."""
        self._strict_schema: dict[str, Any] | None = None
        if parser is not None:
            self.description: str | None = None
            """The class docstring, when it has one."""
            self.wrapped: bool = False
            """Whether the output travels as `{"output": ...}` (anything but an object does)."""
            self.schema: dict[str, Any] = {}
            """The JSON schema of the output (read-only: it is shared); see `schema_for`."""
            self._structure: Callable[[Any], T] = _not_json
            return
        schema, self._structure = _schema_and_structure(tp)
        self.description = schema.get("description")
        self.wrapped = schema.get("type") != "object"
        if self.wrapped:
            schema = {
                "type": "object",
                "properties": {_WRAP_KEY: schema},
                "required": [_WRAP_KEY],
                "additionalProperties": False,
            }
        self.schema = schema

    def __repr__(self) -> str:
        return f"Format({getattr(self.type, '__name__', self.type)!r}, strict={self.strict}, mode={self.mode!r})"

    def schema_for(self, strict: bool) -> dict[str, Any]:
        """The schema to send, in strict form when the provider is to hold the output to it exactly.

        The strict form has every property required and optional ones nullable, as OpenAI's
        strict mode asks. Both forms are built once.
        """
        if not strict:
            return self.schema
        found = self._strict_schema
        if found is None:
            from ._schema import strict_schema  # loaded with the first tool or response model

            found = self._strict_schema = strict_schema(self.schema)
        return found

    @property
    def tool_description(self) -> str:
        """What the forced tool of `mode="tool"` says about itself."""
        head = f"Use this tool to extract data in {self.name} format for a final response."
        return f"{head}\n{self.description}" if self.description else head

    def system_instructions(self, mode: FormatMode | None) -> str | None:
        """The text added to the system prompt when the output is asked for in `mode`.

        The user's `instructions` when given; otherwise what the mode needs: the schema for
        JSON mode, the tool to call for tool mode, nothing for a native schema feature.
        """
        if self.instructions is not None:
            return self.instructions
        if mode == "json":
            return f"Respond only with valid JSON that matches this exact schema:\n{json.dumps(self.schema, indent=2)}"
        if mode == "tool":
            return f"Always respond to the user's query using the {FORMAT_TOOL_NAME} tool for structured output."
        return None

    def parse(self, text: str) -> T:
        """Turn the model's reply into the response model.

        Raises:
            ParseError: The text does not fit; it carries the text and the reason.
        """
        if self.parser is not None:
            try:
                return self.parser(text)
            except ParseError:
                raise
            except Exception as exc:
                raise ParseError(f"The reply could not be parsed: {exc}", text=text, reason=str(exc)) from exc
        try:
            data = parse_json(text)
        except JSONTooDeep as exc:
            raise _too_deep(text, exc) from None
        except ValueError:
            data = _embedded_json(text)
        return self.structure(data, text)

    def structure(self, data: Any, text: str) -> T:
        """Turn decoded JSON into the response model; `text` is kept on a `ParseError`."""
        if self.wrapped:
            if type(data) is not dict or _WRAP_KEY not in data:
                reason = f"expected a JSON object with an {_WRAP_KEY!r} field"
                raise ParseError(
                    f"The reply does not fit {self.name}: {reason}; got {text[:200]!r}.", text=text, reason=reason
                )
            data = data[_WRAP_KEY]  # pyright: ignore[reportUnknownVariableType]
        try:
            return self._structure(data)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, _invalid()) else f"{type(exc).__name__}: {exc}"
            raise ParseError(f"The reply does not fit {self.name}: {reason}", text=text, reason=reason) from exc

    def partial(self, data: Any) -> T | None:
        """A partial response model from JSON still being written: fields not yet arrived are `None`."""
        # Partials are read by few calls: their modules load with the first, not with `llm`.
        from ._partial_json import NOTHING
        from ._partial_objects import partial_object

        if self.wrapped:
            data = cast("dict[str, Any]", data).get(_WRAP_KEY, NOTHING) if isinstance(data, dict) else NOTHING
        if data is NOTHING:
            return None
        return cast("T", partial_object(data, self.type))


def answer_as_text(message: Message, finish_reason: FinishReason) -> tuple[Message, FinishReason]:
    """The reply with the forced format tool's call turned into the text it stands for.

    The call is the answer, not a tool to run: as text it parses like any reply, and the
    conversation continues without a tool result owed for it. The provider's own form of the
    message (`raw`) is dropped, so that `resume` sends the text.
    """
    parts = message.content
    if not any(isinstance(part, ToolCall) and part.name == FORMAT_TOOL_NAME for part in parts):
        return message, finish_reason
    content = tuple(
        Text(_answer_text(part.args)) if isinstance(part, ToolCall) and part.name == FORMAT_TOOL_NAME else part
        for part in parts
    )
    if finish_reason == "tool_call" and not any(isinstance(part, ToolCall) for part in content):
        finish_reason = "stop"
    import attrs

    return attrs.evolve(message, content=content, raw=None), finish_reason


def _answer_text(args: dict[str, object]) -> str:
    raw = args.get(RAW_ARGS_KEY) if len(args) == 1 else None
    # Arguments that did not decode (a reply cut off mid-answer) stay the text the model wrote,
    # so that `continue_()` can join the rest to it and a `ParseError` shows what arrived.
    return raw if isinstance(raw, str) else json.dumps(args)


def _schema_and_structure(tp: object) -> tuple[dict[str, Any], Callable[[Any], Any]]:
    """The JSON schema of a response model, and the function that builds it from JSON data.

    Pydantic models bring both; plain types get them from `_schema` and `_structure`, which
    follow the same rules.
    """
    pydantic = sys.modules.get("pydantic")  # a BaseModel exists only if Pydantic was imported
    if pydantic is not None and isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
        from ._schema import inline_refs  # loaded with the first tool or response model

        model: Any = tp
        # Inlined as the schemas of plain types are: every provider takes inline schemas, not all `$ref`.
        return inline_refs(model.model_json_schema()), model.model_validate
    from ._schema import type_schema  # loaded with the first tool or response model
    from ._structure import structurer  # loaded with the first tool or response model

    return type_schema(tp), structurer(tp)


def _too_deep(text: str, exc: ValueError) -> ParseError:
    # Written by the model, so a ParseError: `max_retries` asks again, as for any reply that does not fit.
    reason = f"{exc}; answer with JSON that follows the schema"
    return ParseError(f"The reply does not fit: {reason}. It begins {text[:200]!r}.", text=text, reason=reason)


def _embedded_json(text: str) -> Any:
    # Models without a schema feature often wrap the JSON in prose or a code fence.
    for start_char, end_char in (("{", "}"), ("[", "]")):
        start, end = text.find(start_char), text.rfind(end_char)
        if 0 <= start < end:
            try:
                return parse_json(text[start : end + 1])
            except JSONTooDeep as exc:
                raise _too_deep(text, exc) from None
            except ValueError:
                pass
    # A bare number or word ("7", "true") is JSON of its own once stripped of a fence.
    stripped = text.strip().strip("`").strip()
    try:
        return parse_json(stripped)
    except ValueError:
        reason = "the reply is not JSON"
        raise ParseError(f"The reply is not JSON: {text[:200]!r}", text=text, reason=reason) from None


def _invalid() -> type[Exception]:
    from ._structure import Invalid  # loaded with the first tool or response model

    return Invalid


def _not_json(data: Any) -> Any:
    raise TypeError("an output parser reads text, not JSON")


_formats: dict[tuple[object, bool | None, str | None, str | None], Format[Any]] = {}
# Each type's `Format` as `response_model=tp` asks for it: a lookup on every call.
_plain_formats: dict[object, Format[Any]] = {}
# What `@llm.response_model(...)` put on a class: its options, read by `format_for`.
_OPTIONS_ATTR: Final = "__mirascope_response_model__"


# Where the forms that stand for types without being classes come from: `list[str]`, `int | None`,
# `Literal[...]`, `Annotated[...]`.
_TYPE_FORM_MODULES = frozenset(("typing", "types", "typing_extensions"))


def format_for(tp: type[T] | Format[T]) -> Format[T]:
    """The `Format` of a response model, built once per type and options."""
    if isinstance(tp, Format):
        return tp
    if not isinstance(cast(object, tp), type) and type(tp).__module__ not in _TYPE_FORM_MODULES:
        if type(tp).__module__ != "builtins":
            raise UsageError(
                f"response_model takes a type, e.g. response_model={type(tp).__name__}; got an instance, {tp!r:.60}."
            )
        raise UsageError(
            f"response_model takes a type, such as a dataclass, a TypedDict, list[str] or a Literal; got {tp!r:.60}."
        )
    found = _plain_formats.get(tp)
    if found is None:
        # Options a class was decorated with; a union or generic alias has no `__dict__`.
        namespace: Mapping[str, Any] = getattr(tp, "__dict__", {})
        strict, mode, instructions = namespace.get(_OPTIONS_ATTR, (None, None, None))
        found = _plain_formats[tp] = response_model(tp, strict=strict, mode=mode, instructions=instructions)
    return found


@overload
def response_model(
    tp: type[T], /, *, strict: bool | None = None, mode: FormatMode | None = None, instructions: str | None = None
) -> Format[T]: ...
@overload
def response_model(
    tp: None = None, /, *, strict: bool | None = None, mode: FormatMode | None = None, instructions: str | None = None
) -> Callable[[type[_C]], type[_C]]: ...
def response_model(
    tp: type[Any] | None = None,
    /,
    *,
    strict: bool | None = None,
    mode: FormatMode | None = None,
    instructions: str | None = None,
) -> Format[Any] | Callable[[type[_C]], type[_C]]:
    """How a response model is asked for: as a wrapper, or as a class decorator.

    ```python
    llm.call("openai:gpt-4o", response_model=llm.response_model(Book, mode="tool"))

    @llm.response_model(strict=True)
    @dataclass
    class Book: ...
    ```

    Args:
        tp: The response model; leave it out to decorate a class.
        strict: `True` asks the provider to hold the output to the schema exactly, raising
            `llm.FeatureNotSupportedError` on a model that cannot; `False` never asks; by
            default, strict wherever the model has it.
        mode: `"native"` (the provider's schema feature), `"tool"` (a forced tool call) or
            `"json"` (JSON mode plus the schema in the prompt). By default, the best the model has.
        instructions: The formatting instructions for the system prompt, in place of the default.
    """
    if mode not in (None, "native", "tool", "json"):
        raise UsageError(f"mode must be 'native', 'tool' or 'json'; got {mode!r}.")
    if tp is not None:
        key = (tp, strict, mode, instructions)
        found = _formats.get(key)
        if found is None:
            found = _formats[key] = Format(tp, strict=strict, mode=mode, instructions=instructions)
        return found

    def decorate(cls: type[_C]) -> type[_C]:
        setattr(cls, _OPTIONS_ATTR, (strict, mode, instructions))
        _plain_formats.pop(cls, None)
        return cls

    return decorate


def output_parser(*, instructions: str) -> Callable[[Callable[[str], T]], Format[T]]:
    """Make a function that parses the reply's text into a response model.

    For output no schema describes (XML, a single word): the instructions tell the model what to
    write, the function reads it; anything it raises becomes an `llm.ParseError`.

    ```python
    @llm.output_parser(instructions="Answer with one word: the passphrase.")
    def passphrase(text: str) -> str: ...

    @llm.call("anthropic:claude-haiku-4-5", response_model=passphrase)
    ```
    """

    def decorate(fn: Callable[[str], T]) -> Format[T]:
        tp: Any = getattr(fn, "__annotations__", {}).get("return", object)
        return Format(tp, parser=fn, instructions=instructions)

    return decorate
