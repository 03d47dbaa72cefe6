"""`@llm.tool`: a Python function the model may call, described by a JSON schema."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar, overload

__all__ = ["Tool", "tool"]

P = ParamSpec("P")
R = TypeVar("R")


class Tool(Generic[P, R]):
    """A function the model may call, with the schema of its parameters.

    Made by `@llm.tool`; calling it calls the function. The schema is built once, when the
    decorator runs, from the signature, the type hints and the docstring.
    """

    __slots__ = ("__dict__", "description", "fn", "name", "parameters", "strict", "takes_context")

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool = False,
    ) -> None:
        from ._schema import function_schema
        from .context import takes_context

        context = takes_context(fn)
        doc_description, parameters = function_schema(fn, skip_first=context)
        if strict:
            from ._schema import strict_schema

            # Once per tool: every property required, optional ones nullable (`null` from the
            # model means "use the default"), no extra properties.
            parameters = strict_schema(parameters)
        self.fn = fn
        """The function."""
        self.name: str = name or fn.__name__
        """The name the model calls it by."""
        self.description: str | None = description or doc_description
        """What it does, for the model: the docstring without its parameter sections."""
        self.parameters: dict[str, Any] = parameters
        """The JSON schema of its arguments (read-only: it is shared); in strict form if `strict`."""
        self.strict = strict
        """Whether to ask the provider to follow the schema exactly."""
        self.takes_context = context
        """Whether its first parameter is an `llm.Context`, passed by the library, not the model."""
        functools.update_wrapper(self, fn)

    def __repr__(self) -> str:
        return f"<llm.tool {self.name!r}>"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function."""
        return self.fn(*args, **kwargs)


@overload
def tool(fn: Callable[P, R], /) -> Tool[P, R]: ...
@overload
def tool(
    *, name: str | None = None, description: str | None = None, strict: bool = False
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...
def tool(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
) -> Tool[P, R] | Callable[[Callable[P, R]], Tool[P, R]]:
    """Make a function callable by the model: `@llm.tool` or `@llm.tool(strict=True)`.

    Args:
        fn: The function; its signature, type hints and docstring describe it to the model.
        name: The name the model sees (default: the function's).
        description: What it does (default: the docstring, without its parameter sections).
        strict: Ask for a strict schema where the provider has one.
    """
    if fn is not None:
        return Tool(fn)

    def decorate(fn: Callable[P, R]) -> Tool[P, R]:
        return Tool(fn, name=name, description=description, strict=strict)

    return decorate
