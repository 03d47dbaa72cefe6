"""`@llm.tool`: a Python function the model may call, described by a JSON schema."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, ClassVar, Generic, ParamSpec, TypeAlias, TypeVar, cast, dataclass_transform, overload

__all__ = ["AnyTool", "BaseTool", "Tool", "as_tool", "tool"]

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
        parameters: dict[str, Any] | None = None,
    ) -> None:
        from ._schema import function_schema
        from .context import takes_context

        context = takes_context(fn)
        if parameters is None:
            doc_description, parameters = function_schema(fn, skip_first=context)
        else:
            doc_description = None
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


@dataclass_transform(kw_only_default=True)
class BaseTool:
    """Subclass to write a tool as a class: fields are its arguments, `call()` its body.

    ```python
    class Search(llm.BaseTool):
        '''Search the web.'''

        query: str

        def call(self) -> str: ...
    ```

    Each subclass becomes a dataclass with keyword-only fields; its name, docstring and field
    types describe it to the model, and `response.execute_tools()` builds one from the model's
    arguments and runs its `call()` (which may be `async`). Set `strict = True` on the class
    for a strict schema.
    """

    strict: ClassVar[bool] = False
    """Whether to ask the provider to follow the schema exactly."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(kw_only=True)(cls)

    def call(self) -> object:
        """Run the tool; the model's arguments are the instance's fields."""
        raise NotImplementedError(f"{type(self).__name__} must define call()")


AnyTool: TypeAlias = "Tool[..., Any] | type[BaseTool]"
"""What `tools=` takes: an `@llm.tool` function, or an `llm.BaseTool` subclass."""

_class_tools: dict[type[BaseTool], Tool[..., Any]] = {}


def as_tool(item: AnyTool) -> Tool[..., Any]:
    """The `llm.Tool` for an `@llm.tool` function or an `llm.BaseTool` subclass (built once)."""
    if isinstance(item, Tool):
        return item
    found = _class_tools.get(item)
    if found is None:
        found = _class_tools[item] = _class_tool(item)
    return found


def _class_tool(tool_class: type[BaseTool]) -> Tool[..., Any]:
    from ._schema import docstring_description, strict_schema, type_schema

    schema = {key: value for key, value in type_schema(tool_class).items() if key != "description"}
    if tool_class.strict:
        schema = strict_schema(schema)

    def run(**arguments: Any) -> object:
        from ._execute import structure_class

        # Nested fields arrive as JSON: structured into their types, as function arguments are.
        return structure_class(tool_class, arguments).call()

    # The class's fields as `run`'s signature: binding the model's arguments, refusing unknown
    # ones and reading a strict schema's `null` as "the default" then work as for functions.
    missing = dataclasses.MISSING
    run.__signature__ = inspect.Signature(
        [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=(
                    inspect.Parameter.empty
                    if f.default is missing and f.default_factory is missing
                    else None  # only whether there is one matters: unsent fields get theirs
                ),
            )
            for f in dataclasses.fields(cast("Any", tool_class))
        ]
    )
    run.__name__ = tool_class.__name__
    run.__doc__ = tool_class.__doc__
    return Tool(
        run,
        name=tool_class.__name__,
        description=docstring_description(tool_class.__doc__),
        strict=tool_class.strict,
        parameters=schema,
    )
