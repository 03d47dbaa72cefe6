"""`@llm.tool` (a function the model may call, described by a JSON schema) and `llm.Context`.

`llm.Context[Deps]` is what a prompt function or a tool asks for as its first parameter:

```python
@dataclass
class Deps:
    db: Database

@llm.tool
def lookup(ctx: llm.Context[Deps], order_id: str) -> str:
    return ctx.deps.db.order(order_id)

@llm.call("openai:gpt-4o-mini", tools=[lookup])
def support(ctx: llm.Context[Deps], question: str) -> str:
    return question

response = support(llm.Context(deps=Deps(db)), "Where is order 42?")
outputs = response.execute_tools()  # `lookup` gets the same ctx; the model never sees it
```
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import inspect
import re
import typing
import weakref
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, ParamSpec, TypeAlias, TypeVar, cast, dataclass_transform, overload

from attrs import frozen

from .content import CacheControl
from .exceptions import UsageError
from .provider_tools import ProviderTool, WebSearch

__all__ = [
    "AnyTool",
    "BaseTool",
    "Context",
    "Tool",
    "as_tool",
    "check_tools",
    "split_tools",
    "takes_context",
    "tool",
]

P = ParamSpec("P")
R = TypeVar("R")
DepsT = TypeVar("DepsT")


@frozen
class Context(Generic[DepsT]):
    """Dependencies the library hands to a prompt function or tool that asks for them."""

    deps: DepsT
    """Whatever the caller passed: a database handle, a user, settings."""


_answers: weakref.WeakKeyDictionary[Callable[..., object], bool] = weakref.WeakKeyDictionary()


def takes_context(fn: Callable[..., object]) -> bool:
    """Whether the first parameter of `fn` is annotated `llm.Context[...]` (or a subclass).

    Answered once per function: reading a signature and its hints costs more than the rest of
    building a tool whose schema is cached.
    """
    with contextlib.suppress(KeyError, TypeError):  # not seen yet, or not weakly referable
        return _answers[fn]
    answer = _takes_context(fn)
    with contextlib.suppress(TypeError):
        _answers[fn] = answer
    return answer


def _takes_context(fn: Callable[..., object]) -> bool:
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if not parameters:
        return False
    first = parameters[0]
    hint: object = first.annotation
    if isinstance(hint, str):
        try:
            hint = typing.get_type_hints(fn).get(first.name, hint)
        except Exception:
            # Unresolvable here (a name defined later, say): the written form still says it.
            return hint.partition("[")[0].rpartition(".")[2] in ("Context", "AgentContext")
    origin = typing.get_origin(hint) or hint
    return isinstance(origin, type) and issubclass(origin, Context)


class Tool(Generic[P, R]):
    """A function the model may call, with the schema of its parameters.

    Made by `@llm.tool`; calling it calls the function. The schema is built once, when the
    decorator runs, from the signature, the type hints and the docstring.
    """

    __slots__ = ("__dict__", "cache_control", "description", "fn", "name", "parameters", "strict", "takes_context")

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool = False,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        from ._schema import function_schema  # loaded with the first tool or response model

        context = takes_context(fn)
        if parameters is None:
            doc_description, parameters = function_schema(fn, skip_first=context)
        else:
            doc_description = None
        if strict:
            from ._schema import strict_schema  # loaded with the first tool or response model

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
        self.cache_control: CacheControl | None = None
        """A prompt-cache breakpoint after this tool's definition (Claude), set by putting an
        `llm.CacheControl()` after it in `tools=`."""
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
        if not callable(fn):
            hint = f"@llm.tool(name={fn!r}) above the function" if isinstance(fn, str) else "@llm.tool above a function"
            raise UsageError(f"llm.tool decorates a function: write {hint}; got {type(fn).__name__}.")
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


AnyTool: TypeAlias = "Tool[..., Any] | type[BaseTool] | ProviderTool | CacheControl"
"""What `tools=` takes: an `@llm.tool` function, an `llm.BaseTool` subclass, a tool the
provider runs itself (`llm.WebSearch()`), or an `llm.CacheControl()` after the tool that ends a
cached prefix (Claude)."""

_class_tools: dict[type[BaseTool], Tool[..., Any]] = {}


def split_tools(items: Sequence[AnyTool] | None) -> tuple[tuple[Tool[..., Any], ...], tuple[ProviderTool, ...]]:
    """What `tools=` holds, as the functions the library runs and the tools the provider runs."""
    tools: list[Tool[..., Any]] = []
    provider_tools: list[ProviderTool] = []
    given = cast(object, items)  # checked as what it may really be
    if given is not None and (not isinstance(given, Sequence) or isinstance(given, str)):
        raise UsageError(f"tools= takes a list, e.g. tools=[{_name_of(given)}]; got {type(given).__name__}.")
    for item in items or ():
        if isinstance(item, WebSearch):
            provider_tools.append(item)
        elif isinstance(item, CacheControl):
            if not tools:
                raise UsageError(
                    "llm.CacheControl in tools= closes the cached prefix after the tool before it; "
                    "put it after a tool, e.g. tools=[search, lookup, llm.CacheControl()]."
                )
            # A copy: the same tool elsewhere, without the breakpoint, stays as it was.
            marked = copy.copy(tools[-1])
            marked.cache_control = item
            tools[-1] = marked
        else:
            tools.append(as_tool(item))
    check_tools(tools)
    return tuple(tools), tuple(provider_tools)


# The names every provider takes: OpenAI and Anthropic allow `[A-Za-z0-9_-]{1,64}`, and Gemini
# wants a letter or `_` first. A name outside this is refused by one of them with a 400.
_TOOL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def check_tools(tools: Sequence[Tool[..., Any]]) -> None:
    """Refuse tools no provider would take, before any request.

    A name outside what every provider takes, a schema that is not an object's, or two tools of
    one name (which the model could not tell apart).

    Raises:
        UsageError: Saying which tool, and what to write instead.
    """
    seen: dict[str, Tool[..., Any]] = {}
    for tool in tools:
        name = tool.name
        if not _TOOL_NAME.fullmatch(name):
            raise UsageError(
                f"The tool name {name!r}{_origin(tool)} is not one every provider takes: 1 to 64 letters, digits, "
                f"'_' or '-', starting with a letter or '_'. {_rename_hint(tool)}"
            )
        schema = cast(object, tool.parameters)  # given by the user, or by an MCP server
        # A schema without a `type` is taken as an object's (the providers that need one add it).
        kind = cast("dict[str, object]", schema).get("type", "object") if isinstance(schema, dict) else None
        if kind != "object":
            kind = kind if isinstance(schema, dict) else type(schema).__name__
            raise UsageError(
                f"The tool {name!r}{_origin(tool)} takes arguments described by a schema of type {kind!r}; "
                "providers take only an object schema ({'type': 'object', 'properties': ...}). "
                f"{_rename_hint(tool, schema=True)}"
            )
        problem = getattr(getattr(tool, "mcp", None), "schema_problem", None)  # checked once, when listed
        if problem:
            raise UsageError(f"The tool {name!r}{_origin(tool)} cannot be offered: {problem}. {_rename_hint(tool)}")
        if name in seen:
            raise UsageError(_clash(name, seen[name], tool))
        seen[name] = tool


def _mcp_server(tool: Tool[..., Any]) -> str | None:
    """The MCP server a tool of `llm.mcp` comes from (`tool.mcp.server`), else `None`."""
    server = getattr(getattr(tool, "mcp", None), "server", None)
    return server if isinstance(server, str) else None


def _origin(tool: Tool[..., Any]) -> str:
    server = _mcp_server(tool)
    return f" (from the MCP server {server!r})" if server is not None else ""


def _rename_hint(tool: Tool[..., Any], *, schema: bool = False) -> str:
    server = _mcp_server(tool)
    name = getattr(getattr(tool, "mcp", None), "name", tool.name)
    if server is not None:
        return f"Leave it out: llm.mcp.connect(..., exclude=[{name!r}])."
    if schema:
        return "Describe its arguments as an object's properties."
    return f"Rename it: @llm.tool(name={re.sub(r'[^A-Za-z0-9_-]', '_', name)[:64]!r})."


def _clash(name: str, first: Tool[..., Any], second: Tool[..., Any]) -> str:
    if first is second or first.fn is second.fn:
        return f"tools= lists the tool {name!r} twice; list it once."
    servers = [_mcp_server(first), _mcp_server(second)]
    if servers[0] is not None and servers[1] is not None:
        return (
            f"Two MCP servers, {servers[0]!r} and {servers[1]!r}, both have a tool named {name!r}, and a call's tools "
            f"need distinct names: connect one with a prefix, e.g. llm.mcp.connect(..., prefix={servers[1]!r}) "
            f"names its tool {servers[1] + '_' + name!r}."
        )
    if servers[0] is not None or servers[1] is not None:
        server = servers[0] if servers[0] is not None else servers[1]
        return (
            f"tools= has two tools named {name!r}, one of them from the MCP server {server!r}: connect it with a "
            f"prefix, e.g. llm.mcp.connect(..., prefix={server!r}), or rename the other with @llm.tool(name=...)."
        )
    return f"tools= has two different tools named {name!r}: rename one, e.g. @llm.tool(name={name + '_2'!r})."


def as_tool(item: Tool[..., Any] | type[BaseTool]) -> Tool[..., Any]:
    """The `llm.Tool` for an `@llm.tool` function or an `llm.BaseTool` subclass (built once)."""
    if isinstance(item, Tool):
        return item
    if not _is_tool_class(cast(object, item)):  # checked as what it may really be
        raise _not_a_tool(item)
    found = _class_tools.get(item)
    if found is None:
        found = _class_tools[item] = _class_tool(item)
    return found


def _is_tool_class(item: object) -> bool:
    return isinstance(item, type) and issubclass(item, BaseTool)


def _name_of(item: object) -> str:
    name = getattr(item, "__name__", None) or getattr(type(item), "__name__", "")
    return name if isinstance(name, str) and name.isidentifier() else "my_tool"


def _not_a_tool(item: object) -> UsageError:
    name = _name_of(item)
    if isinstance(item, BaseTool):
        fix = f"pass the class itself, tools=[{type(item).__name__}], not an instance of it"
    elif callable(item):
        fix = f"decorate {name} with @llm.tool (or pass llm.tool({name}))"
    else:
        fix = "tools= takes @llm.tool functions, llm.BaseTool subclasses and provider tools such as llm.WebSearch()"
    return UsageError(f"{item!r:.60} is not a tool: {fix}.")


def _class_tool(tool_class: type[BaseTool]) -> Tool[..., Any]:
    from ._schema import (
        docstring_description,
        strict_schema,
        type_schema,
    )  # loaded with the first tool or response model

    schema = {key: value for key, value in type_schema(tool_class).items() if key != "description"}
    if tool_class.strict:
        schema = strict_schema(schema)

    def run(**arguments: Any) -> object:
        from ._structure import structurer  # built on the first call of a class tool

        # Nested fields arrive as JSON: structured into their types, as function arguments are.
        return structurer(tool_class)(arguments).call()

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
