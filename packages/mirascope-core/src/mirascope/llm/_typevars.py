"""Type variables shared by the response, stream and call types."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # A default (PEP 696) lets `llm.CallResponse` mean `llm.CallResponse[str]` in annotations.
    # typing.TypeVar takes `default` only from Python 3.13; type checkers read it from here.
    from typing_extensions import TypeVar
else:

    def TypeVar(name: str, *constraints: Any, default: Any = None, **options: Any) -> typing.TypeVar:
        return typing.TypeVar(name, *constraints, **options)


__all__ = ["T", "TypeVar"]

T = TypeVar("T", default=str)
"""What `parse()` returns: the response model, or `str` when there is none."""
