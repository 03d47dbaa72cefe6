"""Running the tool calls of a reply: `response.execute_tools()`, sync and async.

A failure never breaks the loop: a call to a tool the call did not offer, arguments that do not
fit the function, or an exception the tool raises each become an `llm.ToolOutput` with
`is_error=True` whose text tells the model what went wrong, so it can try again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs

from . import _instruments
from .content import TOOL_OUTPUT_PARTS, Text, ToolCall, ToolOutput, ToolOutputPart, json_text
from .exceptions import ToolError
from .tools import Context, Tool

if TYPE_CHECKING:
    from .instrumentation import Observers

__all__ = ["execute", "execute_async"]

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
    from ._structure import structurer  # loaded with the first tool or response model

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
    """JSON data for a dataclass, attrs instance or Pydantic model met while writing JSON; else its `str()`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if attrs.has(type(value)):
        return attrs.asdict(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return dump(mode="json")
    return str(value)


def _parts(value: object) -> tuple[ToolOutputPart, ...] | None:
    """The content parts a tool returned (strings beside them become text parts), or `None`."""
    if isinstance(value, TOOL_OUTPUT_PARTS):
        return (value,)
    if not isinstance(value, (list, tuple)) or not value:
        return None
    items = cast("list[object] | tuple[object, ...]", value)
    if not all(isinstance(item, (str, *TOOL_OUTPUT_PARTS)) for item in items):
        return None
    if not any(isinstance(item, TOOL_OUTPUT_PARTS) for item in items):
        return None  # a list of strings is data
    return tuple(Text(item) if isinstance(item, str) else cast(ToolOutputPart, item) for item in items)


def _output(call: ToolCall, value: object) -> ToolOutput:
    # Text goes back as it is; parts as parts; anything else as JSON, the form models read best,
    # with objects and arrays also kept as data for the providers that take it as such.
    if isinstance(value, str):
        return ToolOutput(id=call.id, name=call.name, result=value)
    parts = _parts(value)
    if parts is not None:
        if all(isinstance(part, Text) for part in parts):
            return ToolOutput(id=call.id, name=call.name, result="\n".join(cast(Text, part).text for part in parts))
        return ToolOutput(id=call.id, name=call.name, content=parts)
    text = json_text(value, default=_plain)
    # A lone number or string reads the same as text; objects and arrays are kept as data, read
    # back from the text (JSON-ready by construction: dates and the like are strings there).
    structured: object = None
    if text[:1] in ("{", "["):
        import json

        try:
            data: object = json.loads(text)
        except ValueError:  # not JSON at all: written with str()
            data = None
        structured = data if isinstance(data, (dict, list)) else None  # pyright: ignore[reportUnknownVariableType]
    return ToolOutput(id=call.id, name=call.name, result=text, value=cast(object, structured))


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


def _tool_started(
    tools: Sequence[Tool[..., Any]], call: ToolCall, callers: Observers, is_async: bool
) -> tuple[tuple[Any, Any], ...]:
    tool = next((tool for tool in tools if tool.name == call.name), None)
    from .instrumentation import tool_started  # loaded once something registered

    return tool_started(call, tool, callers, is_async)


def execute(
    tools: Sequence[Tool[..., Any]],
    calls: Sequence[ToolCall],
    context: Context[Any] | None = None,
    callers: Observers = (),
) -> list[ToolOutput]:
    """Run each call in order; an async tool is run to completion on a fresh event loop.

    `callers` are the instrumentation observers of the call whose reply asked for the tools.
    """
    outputs: list[ToolOutput] = []
    for call in calls:
        observers = _tool_started(tools, call, callers, False) if _instruments.instruments else ()
        try:
            output = _run(tools, call, context)
        except BaseException as error:
            if observers:
                _instruments.tell(observers, "failed", error)
            raise
        if observers:
            _instruments.tell(observers, "ended", output)
        outputs.append(output)
    return outputs


def _run(tools: Sequence[Tool[..., Any]], call: ToolCall, context: Context[Any] | None) -> ToolOutput:
    ready = _ready(tools, call, context)
    if isinstance(ready, ToolOutput):
        return ready
    tool, bound = ready
    try:
        value = tool.fn(*bound.args, **bound.kwargs)
        if inspect.isawaitable(value):
            value = _run_awaitable(value)
    except Exception as error:
        return _raised(call, error)
    return _output(call, value)


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
    tools: Sequence[Tool[..., Any]],
    calls: Sequence[ToolCall],
    context: Context[Any] | None = None,
    callers: Observers = (),
) -> list[ToolOutput]:
    """Run every call; async tools are awaited concurrently, outputs keep the calls' order.

    Every call is bound before any tool runs, so a `ToolError` leaves no tool half-run. An
    exception a tool does not turn into an output (`KeyboardInterrupt`, `SystemExit`) cancels
    the other tools and is raised here, to the code awaiting the outputs.
    """
    ready = [_ready(tools, call, context) for call in calls]

    async def run(call: ToolCall, item: tuple[Tool[..., Any], inspect.BoundArguments] | ToolOutput) -> ToolOutput:
        if not _instruments.instruments:
            return await run_unobserved(call, item)
        observers = _tool_started(tools, call, callers, True)
        try:
            output = await run_unobserved(call, item)
        except BaseException as error:
            if observers:
                _instruments.tell(observers, "failed", error)
            raise
        if observers:
            _instruments.tell(observers, "ended", output)
        return output

    async def run_unobserved(
        call: ToolCall, item: tuple[Tool[..., Any], inspect.BoundArguments] | ToolOutput
    ) -> ToolOutput:
        if isinstance(item, ToolOutput):
            return item
        tool, bound = item
        try:
            value = tool.fn(*bound.args, **bound.kwargs)
            if inspect.isawaitable(value):
                value = await value
        except Exception as error:
            return _raised(call, error)
        return _output(call, value)

    if len(calls) < 2:  # nothing to run beside it: awaited in the caller's own task
        return [await run(call, item) for call, item in zip(calls, ready, strict=True)]
    return await _concurrently([functools.partial(run, call, item) for call, item in zip(calls, ready, strict=True)])


async def _concurrently(runs: list[Callable[[], Coroutine[Any, Any, ToolOutput]]]) -> list[ToolOutput]:
    """Run `runs` as concurrent tasks; the first `BaseException` one raises cancels the rest and is raised here.

    Not `asyncio.gather`: a task hands `KeyboardInterrupt` and `SystemExit` to the event loop
    rather than to whoever awaits it, so they would skip the caller's `except` and end the loop
    with the sibling tools still pending. Each task catches its own instead, and the caller
    raises it once every task has stopped.
    """
    escaped: list[BaseException] = []
    tasks: list[asyncio.Task[ToolOutput | None]] = []

    async def guarded(run: Callable[[], Coroutine[Any, Any, ToolOutput]]) -> ToolOutput | None:
        try:  # the coroutine is made here: a task cancelled before it starts leaves none unawaited
            return await run()
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # `run` turns every `Exception` into an output: this is the rest
            escaped.append(error)
            this = asyncio.current_task()
            for task in tasks:
                if task is not this:  # cancelling itself would turn its own ending into a cancellation
                    task.cancel()
            return None

    tasks.extend(asyncio.ensure_future(guarded(run)) for run in runs)
    try:
        await asyncio.wait(tasks)
    except BaseException:  # the caller was cancelled: its tools stop with it
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
        raise
    if escaped:
        raise escaped[0]
    return [cast(ToolOutput, task.result()) for task in tasks]  # a task cancelled from elsewhere raises here
