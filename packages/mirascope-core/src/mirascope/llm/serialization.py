"""`to_dict` / `from_dict` for responses and messages, through one cached cattrs converter.

cattrs is imported on first use, not with `mirascope.llm`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .content import ContentPart
from .params import Thinking, ThinkingLevel

if TYPE_CHECKING:
    from cattrs import Converter

__all__ = ["from_dict", "to_dict"]

T = TypeVar("T")


@functools.cache
def _converter() -> Converter:
    from cattrs import Converter
    from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
    from cattrs.strategies import configure_tagged_union

    from .responses import AsyncCallResponse, CallResponse, plain_raw

    converter = Converter(omit_if_default=True)
    # Raw provider bodies and metadata are plain JSON data already: structure passes them through
    # (unstructuring `object` fields already goes by each value's runtime type).
    converter.register_structure_hook_func(lambda t: t is object, lambda value, _: value)
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
    # The client, tools and response model are live Python objects: a restored response has none
    # (nor the provider tools, which go with the tools).
    omit = override(omit=True)
    # `raw` is stored as `_raw` (a stream's events stay text until read) and written as `raw`,
    # decoded; plain JSON data passes through as it is.
    for response_type in (CallResponse, AsyncCallResponse):
        raw_out = override(rename="raw", unstruct_hook=plain_raw)
        converter.register_unstructure_hook(
            response_type,
            make_dict_unstructure_fn(
                response_type,
                converter,
                _cattrs_omit_if_default=True,
                client=omit,
                tools=omit,
                provider_tools=omit,
                format=omit,
                max_retries=omit,
                retries=omit,
                fallback=omit,
                _raw=raw_out,
                _context=omit,
                _parsed=omit,
            ),
        )
        converter.register_structure_hook(
            response_type,
            make_dict_structure_fn(
                response_type,
                converter,
                client=omit,
                tools=omit,
                provider_tools=omit,
                format=omit,
                max_retries=omit,
                retries=omit,
                fallback=omit,
                _raw=override(rename="raw"),
                _context=omit,
            ),
        )
    return converter


def to_dict(value: object) -> dict[str, Any]:
    """Plain, JSON-ready data for a response, message or part."""
    return _converter().unstructure(value)


def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """Rebuild a `cls` from `to_dict` output."""
    return _converter().structure(data, cls)
