"""Running the tool calls of a reply: `response.execute_tools()`, sync and async.

A failure never breaks the loop: a call to a tool the call did not offer, arguments that do not
fit the function, or an exception the tool raises each become an `llm.ToolOutput` with
`is_error=True` whose text tells the model what went wrong, so it can try again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs

from .content import ToolCall, ToolOutput
from .context import Context
from .exceptions import ToolError
from .tools import Tool

__all__ = ["execute", "execute_async", "structure_class"]

# Computed once per function, as its schema is: reading a signature costs more than running most tools.
_signatures: weakref.WeakKeyDictionary[Callable[..., object], inspect.Signature] = weakref.WeakKeyDictionary()


def _find(tools: Sequence[Tool[..., Any]], call: ToolCall) -> Tool[..., Any] | ToolOutput:
    for tool in tools:
        if tool.name == call.name:
            return tool
    offered = ", ".join(repr(tool.name) for tool in tools) or "none"
    return _error(call, f"There is no tool named {call.name!r}; the tools offered are {offered}.")


def _error(call: ToolCall, text: str) -> ToolOutput:
    return ToolOutput(id=call.id, name=call.name, result=text, is_error=True)


def _bound(tool: Tool[..., Any], call: ToolCall, leading: tuple[object, ...]) -> inspect.BoundArguments | ToolOutput:
    # Bound first, so that arguments that do not fit say so, apart from errors the tool raises.
    signature = _signatures.get(tool.fn)
    if signature is None:
        signature = _signatures[tool.fn] = inspect.signature(tool.fn)
    args = call.args
    if tool.strict:
        # A strict schema makes optional parameters nullable: `null` means "use the default".
        defaulted = {name for name, p in signature.parameters.items() if p.default is not p.empty}
        args = {name: value for name, value in args.items() if value is not None or name not in defaulted}
    try:
        bound = signature.bind(*leading, **args)
        _structure(tool, bound)
    except Exception as error:  # TypeError from binding; `Invalid` from structuring
        return _error(
            call, f"The arguments {call.args!r} do not fit {call.name}: {error}. Call it again with valid ones."
        )
    return bound


_JSON_NATIVE: frozenset[object] = frozenset({str, int, float, bool, object, Any, type(None)})
_hints: weakref.WeakKeyDictionary[Callable[..., object], dict[str, Any]] = weakref.WeakKeyDictionary()


def _structure(tool: Tool[..., Any], bound: inspect.BoundArguments) -> None:
    """Turn JSON arguments into the parameters' types: dicts into dataclasses, strings into enums."""
    hints = _hints.get(tool.fn)
    if hints is None:
        import typing

        try:
            hints = typing.get_type_hints(tool.fn)
        except Exception:  # unresolvable annotations: the schema step would have said so
            hints = {}
        hints.pop("return", None)
        _hints[tool.fn] = hints = {name: hint for name, hint in hints.items() if not _native(hint)}
    if not hints:
        return
    from ._structure import structurer

    arguments = bound.arguments
    for name, hint in hints.items():
        if name in arguments and not (tool.takes_context and name == next(iter(arguments))):
            try:
                build = structurer(hint)
            except TypeError:  # a type JSON cannot describe: the tool gets the value as it is
                continue
            arguments[name] = build(arguments[name])


def _native(hint: object) -> bool:
    try:
        return hint in _JSON_NATIVE
    except TypeError:  # an unhashable annotation is no plain JSON type
        return False


def _plain(value: object) -> object:
    """JSON-ready data for a dataclass or attrs instance; anything else as it is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if attrs.has(type(value)):
        return attrs.asdict(value)
    return value


def _output(call: ToolCall, value: object) -> ToolOutput:
    # Text goes back as it is; anything else as JSON, the form models read best.
    if isinstance(value, str):
        text = value
    else:
        import json

        try:
            text = json.dumps(_plain(value), ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = str(value)
    return ToolOutput(id=call.id, name=call.name, result=text)


def _raised(call: ToolCall, error: BaseException) -> ToolOutput:
    # The exception's own message is what the model can act on ("the passphrase is 'cake'").
    return _error(call, str(error) or f"{call.name} raised {type(error).__name__}")


def _context_args(tool: Tool[..., Any], context: Context[Any] | None) -> tuple[object, ...]:
    if not tool.takes_context:
        return ()
    if context is None:
        raise ToolError(
            f"The tool {tool.name!r} takes an llm.Context first, and there is none: call the prompt "
            "function with one (its first parameter), or pass it to execute_tools(ctx)."
        )
    return (context,)


def _ready(
    tools: Sequence[Tool[..., Any]], call: ToolCall, context: Context[Any] | None
) -> tuple[Tool[..., Any], inspect.BoundArguments] | ToolOutput:
    """The tool and its bound arguments for a call, or the error output that replaces running it."""
    tool = _find(tools, call)
    if isinstance(tool, ToolOutput):
        return tool
    bound = _bound(tool, call, _context_args(tool, context))
    return bound if isinstance(bound, ToolOutput) else (tool, bound)


def execute(
    tools: Sequence[Tool[..., Any]], calls: Sequence[ToolCall], context: Context[Any] | None = None
) -> list[ToolOutput]:
    """Run each call in order; an async tool is run to completion on a fresh event loop."""
    outputs: list[ToolOutput] = []
    for call in calls:
        ready = _ready(tools, call, context)
        if isinstance(ready, ToolOutput):
            outputs.append(ready)
            continue
        tool, bound = ready
        try:
            value = tool.fn(*bound.args, **bound.kwargs)
            if inspect.isawaitable(value):
                value = _run_awaitable(value)
        except Exception as error:
            outputs.append(_raised(call, error))
        else:
            outputs.append(_output(call, value))
    return outputs


def _run_awaitable(value: Awaitable[object]) -> object:
    try:
        asyncio.get_running_loop()
    except RuntimeError:

        async def wait() -> object:
            return await value

        return asyncio.run(wait())
    if inspect.iscoroutine(value):
        value.close()  # never awaited: close it rather than leave a warning behind
    raise RuntimeError("an async tool cannot run from the sync API inside an event loop; use the async call")


async def execute_async(
    tools: Sequence[Tool[..., Any]], calls: Sequence[ToolCall], context: Context[Any] | None = None
) -> list[ToolOutput]:
    """Run every call; async tools are awaited concurrently, outputs keep the calls' order."""

    async def run(call: ToolCall) -> ToolOutput:
        ready = _ready(tools, call, context)
        if isinstance(ready, ToolOutput):
            return ready
        tool, bound = ready
        try:
            value = tool.fn(*bound.args, **bound.kwargs)
            if inspect.isawaitable(value):
                value = await value
        except Exception as error:
            return _raised(call, error)
        return _output(call, value)

    return list(await asyncio.gather(*(run(call) for call in calls)))


def structure_class(cls: type[Any], arguments: dict[str, Any]) -> Any:
    """An instance of a tool class from the model's (already bound) arguments, nested fields converted."""
    from ._structure import structurer

    return structurer(cls)(arguments)
