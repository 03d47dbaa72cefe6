"""The instrumentation hook: what tracing (`mirascope.lilypad`) is told about calls, streams, tools and agents.

An `Instrument` is registered once (`llm.instrumentation.register(instrument)`); from then on
each call, stream, tool run and agent run asks every registered instrument for an observer and
tells that observer how it went. Core never imports a tracing library: the instrument does.

With nothing registered each hook point costs one truthiness check of `instruments`. An
instrument (or observer) that raises is logged once, on the `mirascope.instrumentation` logger,
and never breaks the user's call. See docs/instrumentation.md.
"""

from __future__ import annotations

import _thread
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol

from . import _instruments
from ._instruments import complain, tell

if TYPE_CHECKING:
    from .content import ToolCall, ToolOutput
    from .exceptions import APIError
    from .providers import Request
    from .responses import AsyncCallResponse, CallResponse
    from .tools import Tool

__all__ = [
    "AgentObserver",
    "AgentStart",
    "CallObserver",
    "CallStart",
    "Instrument",
    "StreamClosed",
    "ToolObserver",
    "ToolStart",
    "register",
    "registered",
    "unregister",
]


class CallObserver(Protocol):
    """What an instrument is told about one call or stream on one model (see `Instrument.call_started`)."""

    def attempt_failed(self, error: APIError, attempt: int) -> None:
        """Attempt number `attempt` (from 1) failed with `error`, and the request is sent again."""
        ...

    def first_chunk(self) -> None:
        """A stream's first chunk arrived (streams only, once)."""
        ...

    def ended(self, response: CallResponse[Any] | AsyncCallResponse[Any]) -> None:
        """The call answered with `response` (a stream: its whole response, once read to its end)."""
        ...

    def failed(self, error: BaseException) -> None:
        """The call failed with `error`, or the stream was stopped unfinished (`StreamClosed`).

        A stream that broke mid-way fails with an `llm.APIError` holding `partial_response`.
        """
        ...


class ToolObserver(Protocol):
    """What an instrument is told about one tool run (see `Instrument.tool_started`)."""

    def ended(self, output: ToolOutput) -> None:
        """The tool's output; `output.is_error` for a tool that raised, is unknown or got bad arguments."""
        ...

    def failed(self, error: BaseException) -> None:
        """Only what escapes a tool run (`KeyboardInterrupt`, `SystemExit`, a cancellation)."""
        ...


class AgentObserver(Protocol):
    """What an instrument is told about one agent run (see `Instrument.agent_started`)."""

    def ended(self, result: object) -> None:
        """The run's result: its final response (for a streamed agent, the last step's stream)."""
        ...

    def failed(self, error: BaseException) -> None:
        """The run failed with `error` (or a streamed run was stopped unfinished: `StreamClosed`)."""
        ...


class _Start:
    """An immutable record of what is starting (plain slots: cheaper to define at import than attrs)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _fill(self, *values: object) -> None:
        for name, value in zip(self.__slots__, values, strict=True):
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class CallStart(_Start):
    """A call or stream about to be sent to one model (each model of a fallback is its own call).

    Attributes:
        kind: `"call"` or `"stream"`.
        model_id: `provider:model`, e.g. `"openai:gpt-4o-mini"`.
        provider: The provider part of the id, e.g. `"openai"`.
        request: Messages, params, tools, format and provider_params, as sent.
        base_url: The client's base URL, any password in it masked.
        is_async: Whether the call is async.
        fallback_from: The id of the model whose failure this call falls back from, or `None`.
        function: The `@llm.call` prompt function making the call, or `None` (`llm.model(...)`
            calls, `resume`, an agent's steps).
    """

    __slots__ = ("kind", "model_id", "provider", "request", "base_url", "is_async", "fallback_from", "function")  # noqa: RUF023 - in the constructor's order, as repr shows them
    kind: Literal["call", "stream"]
    model_id: str
    provider: str
    request: Request
    base_url: str
    is_async: bool
    fallback_from: str | None
    function: Callable[..., object] | None

    def __init__(
        self,
        kind: Literal["call", "stream"],
        model_id: str,
        provider: str,
        request: Request,
        base_url: str,
        is_async: bool,
        fallback_from: str | None = None,
        function: Callable[..., object] | None = None,
    ) -> None:
        self._fill(kind, model_id, provider, request, base_url, is_async, fallback_from, function)


class ToolStart(_Start):
    """A tool call about to run (built per instrument: `caller` is that instrument's own observer).

    Attributes:
        call: The call: its id, tool name and arguments.
        tool: The tool, or `None` when the reply asked for a tool the call did not offer.
        caller: This instrument's observer of the call whose reply asked for the tool, if known.
        is_async: Whether it runs from `execute_tools` of an async response.
    """

    __slots__ = ("call", "tool", "caller", "is_async")  # noqa: RUF023 - in the constructor's order
    call: ToolCall
    tool: Tool[..., Any] | None
    caller: CallObserver | None
    is_async: bool

    def __init__(
        self, call: ToolCall, tool: Tool[..., Any] | None, caller: CallObserver | None, is_async: bool
    ) -> None:
        self._fill(call, tool, caller, is_async)


class AgentStart(_Start):
    """An agent run about to start.

    Attributes:
        name: The agent function's name.
        model_id: The agent's model id.
        is_async: Whether the agent is async.
        function: The agent's function (the one `@llm.agent` decorates), or `None`.
    """

    __slots__ = ("name", "model_id", "is_async", "function")  # noqa: RUF023 - in the constructor's order
    name: str
    model_id: str
    is_async: bool
    function: Callable[..., object] | None

    def __init__(self, name: str, model_id: str, is_async: bool, function: Callable[..., object] | None = None) -> None:
        self._fill(name, model_id, is_async, function)


class Instrument(Protocol):
    """What `register` takes. Each method may return `None` to not observe that run."""

    def call_started(self, start: CallStart) -> CallObserver | None:
        """A call or stream is about to be sent (before any request)."""
        ...

    def tool_started(self, start: ToolStart) -> ToolObserver | None:
        """A tool call is about to run (`execute_tools`, sync or async)."""
        ...

    def agent_started(self, start: AgentStart) -> AgentObserver | None:
        """An agent run is starting (`@llm.agent`, sync, async or streamed)."""
        ...


class StreamClosed(Exception):
    """Handed to `failed` when a stream (or streamed agent) stops unfinished without an error.

    `reason` is `"closed"` (`close()`/`aclose()`, or the `with` block left early), `"broken off"`
    (the loop reading it stopped early and its iterator was closed) or `"garbage collected"`.
    """

    def __init__(self, reason: Literal["closed", "broken off", "garbage collected"]) -> None:
        super().__init__(f"the stream was {reason} before it finished")
        self.reason = reason


Observers = tuple[tuple["Instrument", CallObserver], ...]
"""A call's observers, each with the instrument that made it (tools get their own instrument's)."""

_registering = _thread.allocate_lock()  # two threads registering at once both stay registered


def register(instrument: Instrument) -> None:
    """Tell `instrument` about every call, stream, tool and agent run from now on (again: no-op)."""
    with _registering:
        if not any(existing is instrument for existing in _instruments.instruments):
            _instruments.instruments = (*_instruments.instruments, instrument)


def unregister(instrument: Instrument) -> None:
    """Stop telling `instrument` (not registered: no-op). Runs already observed still report."""
    with _registering:
        _instruments.instruments = tuple(
            existing for existing in _instruments.instruments if existing is not instrument
        )


def registered() -> tuple[Instrument, ...]:
    """The registered instruments, in registration order."""
    return _instruments.instruments


def _started(hook: str, make: Callable[[Instrument], Any]) -> tuple[tuple[Instrument, Any], ...]:
    observed: list[tuple[Instrument, Any]] = []
    for instrument in _instruments.instruments:
        try:
            observer = make(instrument)
        except Exception as error:
            complain(instrument, hook, error)
            continue
        if observer is not None:
            observed.append((instrument, observer))
    return tuple(observed)


def call_started(
    kind: Literal["call", "stream"],
    model_id: str,
    request: Request,
    base_url: str,
    is_async: bool,
    fallback_from: str | None,
) -> Observers:
    """Each registered instrument's observer of a call about to be sent."""
    from ._redact import shown_url

    start = CallStart(
        kind,
        model_id,
        model_id.partition(":")[0],
        request,
        shown_url(base_url),
        is_async,
        fallback_from,
        _instruments.prompt_function.get(),
    )
    return _started("call_started", lambda instrument: instrument.call_started(start))


def agent_started(
    name: str, model_id: str, is_async: bool, function: Callable[..., object] | None = None
) -> tuple[tuple[Instrument, AgentObserver], ...]:
    """Each registered instrument's observer of an agent run about to start."""
    start = AgentStart(name, model_id, is_async, function)
    return _started("agent_started", lambda instrument: instrument.agent_started(start))


def tool_started(
    call: ToolCall, tool: Tool[..., Any] | None, callers: Observers, is_async: bool
) -> tuple[tuple[Instrument, ToolObserver], ...]:
    """Each registered instrument's observer of a tool run, told its own observer of the calling call."""
    own = {id(instrument): observer for instrument, observer in callers}
    return _started(
        "tool_started",
        lambda instrument: instrument.tool_started(ToolStart(call, tool, own.get(id(instrument)), is_async)),
    )


class StreamWatch:
    """A stream's observers, told each thing once: first chunk, then `ended` or `failed`.

    Also the stream's finalizer (`weakref.finalize`): a stream dropped unfinished reports
    `StreamClosed("garbage collected")`, so no observed stream is left open.
    """

    __slots__ = ("observers", "open", "seen")

    def __init__(self, observers: Observers) -> None:
        self.observers = observers
        self.open = True
        self.seen = False

    def ended(self, response: object) -> None:
        if self.open:
            self.open = False
            tell(self.observers, "ended", response)

    def failed(self, error: BaseException) -> None:
        if self.open:
            self.open = False
            tell(self.observers, "failed", error)

    def closed(self) -> None:
        """The stream was closed (`close()`, `aclose()`, its `with` block) before its end."""
        self.failed(StreamClosed("closed"))

    def __call__(self) -> None:
        self.failed(StreamClosed("garbage collected"))

    def first(self) -> None:
        """The first chunk arrived."""
        self.seen = True
        tell(self.observers, "first_chunk")

    def stopped(self, error: BaseException) -> None:
        """Reading stopped before the end: broken off (`GeneratorExit`) or failed with `error`."""
        self.failed(StreamClosed("broken off") if isinstance(error, GeneratorExit) else error)
