"""`to_dict` / `from_dict` for responses and messages, through one cached cattrs converter.

cattrs is imported on first use, not with `mirascope.llm`. `from_dict` takes data from outside
(a database, a queue, a request body), so it refuses anything it cannot restore with an
`llm.SerializationError` naming each wrong field, never a cattrs error, and data nested deeper
than any response is (`MAX_JSON_DEPTH`), which would only fail later, far from here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from ._json import MAX_JSON_DEPTH, too_deep
from ._values import plain_raw
from .content import ContentPart, ToolOutputPart
from .exceptions import SerializationError
from .params import Thinking, ThinkingLevel
from .settings import CallSettings

if TYPE_CHECKING:
    from cattrs import Converter

__all__ = ["from_dict", "to_dict"]

T = TypeVar("T")


def _not_serialized(field: attrs.Attribute[Any]) -> bool:
    return field.metadata.get("serialized") is False


def _has_unserialized_fields(cls: Any) -> bool:
    # The responses: classes with fields holding live Python objects (see `responses._NOT_SERIALIZED`).
    return isinstance(cls, type) and attrs.has(cls) and any(_not_serialized(f) for f in attrs.fields(cls))


@functools.cache
def _converter() -> Converter:
    from cattrs import Converter
    from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
    from cattrs.strategies import configure_tagged_union

    converter = Converter(omit_if_default=True)
    # Raw provider bodies and metadata are plain JSON data already: structure passes them through
    # (unstructuring `object` fields already goes by each value's runtime type).
    converter.register_structure_hook_func(lambda t: t is object, lambda value, _: value)
    # First: a tool output's parts are tagged too, and `ToolOutput`'s hooks are made with the
    # message parts' below.
    configure_tagged_union(
        ToolOutputPart,
        converter,
        tag_generator=lambda cls: cls.type,  # pyright: ignore[reportUnknownLambdaType, reportUnknownMemberType]
        tag_name="type",
    )
    configure_tagged_union(
        ContentPart,
        converter,
        tag_generator=lambda cls: cls.type,  # pyright: ignore[reportUnknownLambdaType, reportUnknownMemberType]
        tag_name="type",
    )

    def structure_thinking(value: object, _: object) -> Thinking | str:
        if isinstance(value, str):
            return value
        return converter.structure(value, Thinking)

    converter.register_structure_hook(Thinking | ThinkingLevel, structure_thinking)
    converter.register_structure_hook(
        str | list[str],
        lambda value, _: value if isinstance(value, str) else [str(v) for v in value],
    )

    # A response: its live objects (client, context) left out; of its `CallSettings`, only the
    # `provider_params` are data, written at the top level as they always were. Fields stored
    # under a private name (`_raw`) are written by their public one (`raw`).
    def unstructure_response(cls: Any) -> Any:
        fields = attrs.fields(cls)
        overrides = {f.name: override(omit=True) for f in fields if _not_serialized(f) or f.name == "settings"}
        # Fields of any data (`raw`): plain JSON as it is, a stream's events decoded.
        overrides.update({f.name: override(unstruct_hook=plain_raw) for f in fields if f.type in (object, "object")})
        unstructure = make_dict_unstructure_fn(
            cls, converter, _cattrs_omit_if_default=True, _cattrs_use_alias=True, **cast("dict[str, Any]", overrides)
        )

        def unstructure_with_settings(value: Any) -> dict[str, Any]:
            data = unstructure(value)
            provider_params = value.settings.provider_params
            if provider_params:
                data["provider_params"] = converter.unstructure(provider_params, Mapping[str, object])
            return data

        return unstructure_with_settings

    def structure_response(cls: Any) -> Any:
        fields = attrs.fields(cls)
        overrides = {f.name: override(omit=True) for f in fields if _not_serialized(f) or f.name == "settings"}
        structure = make_dict_structure_fn(cls, converter, _cattrs_use_alias=True, **cast("dict[str, Any]", overrides))

        def structure_with_settings(data: Any, _: Any) -> Any:
            value = structure(data, cls)
            given: Mapping[str, object] = cast("Mapping[str, object]", data) if isinstance(data, Mapping) else {}
            provider_params = given.get("provider_params")
            if provider_params:
                if not isinstance(provider_params, Mapping):
                    raise TypeError("provider_params must be a dict")  # named by `from_dict`'s message
                params = converter.structure(provider_params, Mapping[str, object])
                value = attrs.evolve(value, settings=CallSettings(provider_params=params))
            return value

        return structure_with_settings

    converter.register_unstructure_hook_factory(_has_unserialized_fields, unstructure_response)
    converter.register_structure_hook_factory(_has_unserialized_fields, structure_response)
    return converter


# The provider data a response keeps nests at most `MAX_JSON_DEPTH` levels; the response's own
# fields around it (messages, a message's content, a part, its arguments) add a few more.
_MAX_DEPTH = MAX_JSON_DEPTH + 10
_TOO_DEEP = f"nested deeper than {_MAX_DEPTH} levels of lists and dicts, more than any response is"
# At most this many of the wrong fields are named in the message.
_SHOWN = 8
_HINT = "It takes what to_dict() returned, as it was or after a JSON round trip."


def to_dict(value: object) -> dict[str, Any]:
    """Plain, JSON-ready data for a response, message or part.

    Raises:
        SerializationError: The value holds data nested too deeply to write.
    """
    try:
        data = _converter().unstructure(value)
    except RecursionError:
        raise SerializationError(
            f"to_dict cannot write this {type(value).__name__}: it holds data {_TOO_DEEP}."
        ) from None
    if too_deep(data, _MAX_DEPTH):  # `from_dict` would refuse it: refused now, not after a round trip
        raise SerializationError(f"to_dict cannot write this {type(value).__name__}: it holds data {_TOO_DEEP}.")
    return data


def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """Rebuild a `cls` from `to_dict` output.

    Raises:
        SerializationError: `data` does not describe a `cls`; the message names each wrong field.
    """
    name = cls.__name__
    # Typed as a mapping, but it comes from outside.
    if not isinstance(data, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise SerializationError(f"{name}.from_dict takes a dict, what to_dict() returned; got {type(data).__name__}.")
    if too_deep(data, _MAX_DEPTH):
        raise SerializationError(f"{name}.from_dict cannot restore this data: it is {_TOO_DEEP}.")
    try:
        value = _converter().structure(data, cls)
    except RecursionError:
        raise SerializationError(f"{name}.from_dict cannot restore this data: it is {_TOO_DEEP}.") from None
    except Exception as exc:  # cattrs' validation errors, and whatever a type's own checks raised
        raise SerializationError(f"{name}.from_dict cannot restore this data: {_problems(exc)}. {_HINT}") from exc
    if not getattr(value, "messages", True):
        raise SerializationError(f"{name}.from_dict cannot restore this data: `messages` is empty. {_HINT}")
    return value


def _problems(exc: Exception) -> str:
    from cattrs import transform_error

    problems = transform_error(exc)
    shown = "; ".join(problems[:_SHOWN])
    if len(problems) > _SHOWN:
        shown += f"; and {len(problems) - _SHOWN} more"
    return shown
