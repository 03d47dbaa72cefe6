"""`@llm.agent`: a prompt function that runs the tool loop itself and remembers the conversation.

```python
@llm.agent(model="google:gemini-2.5-flash", tools=[escalate], deps_type=Deps)
def support_bot(ctx: llm.AgentContext[Deps]) -> str:
    return f"You are a customer support bot helping {ctx.deps.user_name}"

response = support_bot("I'm unable to access my account", deps=Deps(user_name="William"))
```

The decorated function returns the system prompt. Calling the agent with a user message sends
the system prompt, the conversation so far and the message; while the reply asks for tools,
they run (with the agent's context) and the conversation resumes, up to `max_steps` replies.
The final response is returned and the conversation kept for the next call.
"""

from __future__ import annotations

import contextvars
import inspect
import weakref
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar, Unpack, overload

from attrs import frozen

from . import _instruments
from ._overloads import NonThinkingModel, ParamsBesidesThinking, deprecated
from ._typevars import T
from .clients import Client
from .exceptions import Error, MaxStepsError, UsageError
from .known_models import KnownModel
from .messages import Message, as_messages, system
from .models import Model
from .params import CallParams
from .response_models import Format
from .responses import AsyncCallResponse, CallResponse
from .streams import Chunk
from .tools import AnyTool, Context, takes_context

__all__ = ["Agent", "AgentContext", "AgentStream", "AsyncAgent", "agent"]

DepsT = TypeVar("DepsT")
U = TypeVar("U")

SystemPrompt = Callable[..., str]


@frozen
class AgentContext(Context[DepsT]):
    """The context an agent hands to its prompt function and tools."""


class _AgentState(Generic[DepsT, T]):
    """What a sync and an async agent share: the model, the step limit, the conversation."""

    def __init__(self, fn: Callable[..., object], model: Model[T], max_steps: int) -> None:
        if max_steps < 1:
            raise UsageError(f"max_steps must be at least 1, got {max_steps}.")
        self.fn = fn
        """The function that returns the system prompt."""
        self.model = model
        """The model, tools and parameters the agent calls."""
        self.max_steps = max_steps
        """The most replies one call may take before `llm.MaxStepsError`."""
        self.history: list[Message] = []
        """The conversation so far, without the system prompt (rebuilt on every call)."""
        self._takes_context = takes_context(fn)

    def reset(self) -> None:
        """Forget the conversation."""
        self.history = []

    def _context(self, deps: DepsT | None) -> AgentContext[Any]:
        return AgentContext(deps=deps)

    def _messages(self, prompt: str, content: str | Sequence[Message]) -> list[Message]:
        return [system(prompt), *self.history, *as_messages(content)]

    def _too_many(self, messages: tuple[Message, ...]) -> MaxStepsError:
        return MaxStepsError(
            f"The agent {self.fn.__name__} took {self.max_steps} replies without a final answer; raise "
            "max_steps, or read error.messages to see where the tool calls went.",
            messages=messages,
        )

    def _remember(self, messages: tuple[Message, ...]) -> None:
        self.history = list(messages[1:])  # the system prompt is rebuilt on every call

    def _observed(self, is_async: bool) -> tuple[tuple[Any, Any], ...]:
        """The registered instruments' observers of one run of this agent."""
        from .instrumentation import agent_started  # loaded once something registered

        return agent_started(self.fn.__name__, self.model.id, is_async, self.fn)


class Agent(_AgentState[DepsT, T]):
    """A sync agent: `agent("message", deps=...)` runs the tool loop to a final response."""

    def _prompt(self, ctx: AgentContext[Any]) -> str:
        return self.fn(ctx) if self._takes_context else self.fn()  # pyright: ignore[reportReturnType]

    def __call__(self, content: str | Sequence[Message], *, deps: DepsT | None = None) -> CallResponse[T]:
        """Send `content` after the conversation so far; run tools until the model answers.

        Raises:
            MaxStepsError: No final answer within `max_steps` replies.
        """
        if not _instruments.instruments:
            return self._run(content, deps)
        observers = self._observed(False)
        try:
            response = self._run(content, deps)
        except BaseException as error:
            _instruments.tell(observers, "failed", error)
            raise
        _instruments.tell(observers, "ended", response)
        return response

    def _run(self, content: str | Sequence[Message], deps: DepsT | None) -> CallResponse[T]:
        ctx = self._context(deps)
        response = self.model.call_with(self._messages(self._prompt(ctx), content), {}, ctx)
        steps = 1
        while response.tool_calls:
            if steps >= self.max_steps:
                raise self._too_many(response.messages)
            response = response.resume(response.execute_tools())
            steps += 1
        self._remember(response.messages)
        return response

    def stream(self, content: str | Sequence[Message], *, deps: DepsT | None = None) -> AgentStream[T]:
        """Stream every step: the chunks of each reply in turn, tools run between them."""
        if _instruments.instruments:
            return AgentStream(lambda: self._observed_steps(content, deps))
        return AgentStream(lambda: self._streamed_steps(content, deps))

    def _observed_steps(
        self, content: str | Sequence[Message], deps: DepsT | None
    ) -> Generator[Chunk, None, CallResponse[T]]:
        """`_streamed_steps`, its run reported to the instruments (from its first step on).

        The steps run in a context of their own: what an instrument makes current for the run
        (a span) holds for its calls and tools, never for the code reading the stream between
        chunks, whose context a generator otherwise shares.
        """
        run = contextvars.copy_context()
        observers = run.run(self._observed, False)
        steps = self._streamed_steps(content, deps)
        try:
            while True:
                try:
                    chunk = run.run(next, steps)
                except StopIteration as stop:
                    response: CallResponse[T] = stop.value
                    break
                yield chunk
        except GeneratorExit:
            from .instrumentation import StreamClosed

            run.run(steps.close)
            run.run(_instruments.tell, observers, "failed", StreamClosed("broken off"))
            raise
        except BaseException as error:
            run.run(_instruments.tell, observers, "failed", error)
            raise
        run.run(_instruments.tell, observers, "ended", response)
        return response

    def _streamed_steps(
        self, content: str | Sequence[Message], deps: DepsT | None
    ) -> Generator[Chunk, None, CallResponse[T]]:
        """The chunks of every step, as `__call__` runs them; returns the final response."""
        ctx = self._context(deps)
        stream = self.model.stream_with(self._messages(self._prompt(ctx), content), {}, ctx)
        steps = 1
        while True:
            yield from stream
            response = stream.response
            if not response.tool_calls:
                break
            if steps >= self.max_steps:
                raise self._too_many(response.messages)
            stream = stream.resume(stream.execute_tools())
            steps += 1
        self._remember(response.messages)
        return response


class AgentStream(Generic[T]):
    """The chunks of every step of an agent's run; `response` is the final one."""

    def __init__(self, run: Callable[[], Generator[Chunk, None, CallResponse[T]]]) -> None:
        self._run = run  # starts the agent's steps (`Agent._streamed_steps`)
        self._response: CallResponse[T] | None = None
        # The iterator running the steps, once one was made; weakly held, as `llm.Stream` holds its own.
        self._reader: weakref.ref[Iterator[Chunk]] | None = None

    def __iter__(self) -> Iterator[Chunk]:
        """The chunks of every step; the run happens once.

        Raises:
            UsageError: The run was already read (or `response` already ran it).
        """
        if self._reader is not None:
            raise UsageError(
                "This agent stream has already been read (its chunks are not kept): use .response for "
                "the final response, or keep the chunks as you read them, e.g. chunks = list(stream)."
            )
        reader = self._steps()
        self._reader = weakref.ref(reader)
        return reader

    def _steps(self) -> Iterator[Chunk]:
        self._response = yield from self._run()

    @property
    def response(self) -> CallResponse[T]:
        """The final response, running whatever of the steps is left first."""
        if self._response is None:
            reader = self._steps() if self._reader is None else self._reader()
            self._reader = None if reader is None else weakref.ref(reader)
            for _ in reader or ():
                pass
        if self._response is None:
            raise Error("The agent stream was closed before its last step finished, so it has no final response.")
        return self._response


class AsyncAgent(_AgentState[DepsT, T]):
    """An async agent: `await agent("message", deps=...)`."""

    async def _prompt(self, ctx: AgentContext[Any]) -> str:
        made = self.fn(ctx) if self._takes_context else self.fn()
        return await made if inspect.isawaitable(made) else made  # pyright: ignore[reportReturnType]

    async def __call__(self, content: str | Sequence[Message], *, deps: DepsT | None = None) -> AsyncCallResponse[T]:
        """Send `content` after the conversation so far; run tools until the model answers.

        Async tools of one reply run concurrently.

        Raises:
            MaxStepsError: No final answer within `max_steps` replies.
        """
        if not _instruments.instruments:
            return await self._run(content, deps)
        observers = self._observed(True)
        try:
            response = await self._run(content, deps)
        except BaseException as error:
            _instruments.tell(observers, "failed", error)
            raise
        _instruments.tell(observers, "ended", response)
        return response

    async def _run(self, content: str | Sequence[Message], deps: DepsT | None) -> AsyncCallResponse[T]:
        ctx = self._context(deps)
        messages = self._messages(await self._prompt(ctx), content)
        response = await self.model.call_with_async(messages, {}, ctx)
        steps = 1
        while response.tool_calls:
            if steps >= self.max_steps:
                raise self._too_many(response.messages)
            response = await response.resume(await response.execute_tools())
            steps += 1
        self._remember(response.messages)
        return response


class AgentDecorator(Generic[DepsT, T]):
    """What `llm.agent(...)` returns: apply it to the function giving the system prompt."""

    def __init__(self, model: Model[T], max_steps: int) -> None:
        self._model = model
        self._max_steps = max_steps

    @overload
    def __call__(self, fn: Callable[..., Awaitable[str]]) -> AsyncAgent[DepsT, T]: ...
    @overload
    def __call__(self, fn: Callable[..., str]) -> Agent[DepsT, T]: ...
    def __call__(self, fn: Callable[..., Any]) -> Agent[DepsT, T] | AsyncAgent[DepsT, T]:
        if inspect.iscoroutinefunction(fn):
            return AsyncAgent(fn, self._model, self._max_steps)
        return Agent(fn, self._model, self._max_steps)


# BEGIN GENERATED overloads of llm.agent (scripts/generate_overloads.py writes these lines from settings.py)
@overload
@deprecated("This model cannot think: thinking='low', 'medium' or 'high' raises llm.FeatureNotSupportedError.")
def agent(
    *,
    model: NonThinkingModel,
    deps_type: type[Any] | None = None,
    max_steps: int = 10,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[Any] | Format[Any] | None = None,
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    thinking: Literal["low", "medium", "high"],
    **params: Unpack[ParamsBesidesThinking],
) -> AgentDecorator[Any, Any]: ...
@overload
def agent(
    *,
    model: KnownModel | str,
    deps_type: type[DepsT],
    max_steps: int = 10,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: None = None,
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> AgentDecorator[DepsT, str]: ...
@overload
def agent(
    *,
    model: KnownModel | str,
    deps_type: type[DepsT],
    max_steps: int = 10,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[U] | Format[U],
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> AgentDecorator[DepsT, U]: ...
@overload
def agent(
    *,
    model: KnownModel | str,
    deps_type: None = None,
    max_steps: int = 10,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: None = None,
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> AgentDecorator[None, str]: ...
@overload
def agent(
    *,
    model: KnownModel | str,
    deps_type: None = None,
    max_steps: int = 10,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[U] | Format[U],
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> AgentDecorator[None, U]: ...
def agent(
    misused: object = None,
    /,
    *,
    model: KnownModel | str | None = None,
    deps_type: type[Any] | None = None,
    max_steps: int = 10,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[Any] | Format[Any] | None = None,
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> AgentDecorator[Any, Any]:
    # END GENERATED
    """Make a system-prompt function an agent that runs its tool loop and keeps its history.

    Args:
        misused: Nothing: it catches `@llm.agent` written without `(model=...)`, or the model
            passed by position, to say how to write it.
        model: The model id, `provider:model`.
        tools: Tools the agent may call; those whose first parameter is an `llm.Context` (or
            `llm.AgentContext`) get the agent's context, with the `deps` of the call.
        deps_type: The type of `deps` the agent is called with (for type checking).
        response_model: The type of the final answer, read with `response.parse()`.
        max_retries: How many times to ask again, with the parse error, for a final answer
            that does not fit `response_model`.
        max_steps: The most replies one call may take; more raises `llm.MaxStepsError`.
        client: A client from `llm.client(...)`; by default the provider's shared one.
        provider_params: Provider-specific parameters, passed through unchanged.
        continue_on_max_tokens: How many times to continue a reply cut off at `max_tokens`, joining
            the pieces into one reply (`response.continue_()`).
        retries: How many times to send a request again after a retryable failure (429, 5xx,
            408/409, a broken connection, a timeout); by default the client's `max_retries`.
        fallback: Model ids to try in turn when this one still fails with a retryable error after
            its retries; `response.model` says which answered.
        **params: Common call parameters (`temperature`, `max_tokens`, ...).

    Raises:
        UsageError: No `model=` (`@llm.agent` for `@llm.agent(model="provider:model")`), or a
            setting it cannot take.
    """
    if model is None or misused is not None:
        given = (
            f"llm.agent(model={misused!r}, ...)"
            if isinstance(misused, str)
            else '@llm.agent(model="openai:gpt-4o-mini")'
        )
        raise UsageError(
            f"llm.agent takes the model by name: write {given} above the function giving the system prompt "
            "(any 'provider:model' id works)."
        )
    bound = Model.from_arguments(
        model,
        params,
        client=client,
        provider_params=provider_params,
        tools=tools,
        response_model=response_model,
        max_retries=max_retries,
        continue_on_max_tokens=continue_on_max_tokens,
        retries=retries,
        fallback=fallback,
    )
    return AgentDecorator(bound, max_steps)
