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

import inspect
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar, cast, overload

from ._typevars import T
from .clients import Client
from .context import AgentContext, takes_context
from .exceptions import Error, MaxStepsError, UsageError
from .formatting import Format
from .messages import Message, as_messages, system
from .models import Model
from .params import CallParams
from .responses import AsyncCallResponse, CallResponse
from .streams import Chunk
from .tools import AnyTool

__all__ = ["Agent", "AgentStream", "AsyncAgent", "agent"]

DepsT = TypeVar("DepsT")
U = TypeVar("U")

SystemPrompt = Callable[..., str]


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


class Agent(_AgentState[DepsT, T]):
    """A sync agent: `agent("message", deps=...)` runs the tool loop to a final response."""

    def _prompt(self, ctx: AgentContext[Any]) -> str:
        return self.fn(ctx) if self._takes_context else self.fn()  # pyright: ignore[reportReturnType]

    def __call__(self, content: str | Sequence[Message], *, deps: DepsT | None = None) -> CallResponse[T]:
        """Send `content` after the conversation so far; run tools until the model answers.

        Raises:
            MaxStepsError: No final answer within `max_steps` replies.
        """
        ctx = self._context(deps)
        response = self.model._call(self._messages(self._prompt(ctx), content), {}, ctx)  # pyright: ignore[reportPrivateUsage]
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
        return AgentStream(self, content, deps)


class AgentStream(Generic[T]):
    """The chunks of every step of an agent's run; `response` is the final one."""

    def __init__(self, agent: Agent[Any, T], content: str | Sequence[Message], deps: object) -> None:
        self._agent = agent
        self._content = content
        self._deps = deps
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
        agent = self._agent
        ctx = agent._context(self._deps)  # pyright: ignore[reportPrivateUsage]
        messages = agent._messages(agent._prompt(ctx), self._content)  # pyright: ignore[reportPrivateUsage]
        stream = agent.model._stream(messages, {}, ctx)  # pyright: ignore[reportPrivateUsage]
        steps = 1
        while True:
            yield from stream
            response = stream.response
            if not response.tool_calls:
                break
            if steps >= agent.max_steps:
                raise agent._too_many(response.messages)  # pyright: ignore[reportPrivateUsage]
            stream = stream.resume(stream.execute_tools())
            steps += 1
        agent._remember(response.messages)  # pyright: ignore[reportPrivateUsage]
        self._response = response

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
        ctx = self._context(deps)
        messages = self._messages(await self._prompt(ctx), content)
        response = await self.model._call_async(messages, {}, ctx)  # pyright: ignore[reportPrivateUsage]
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


@overload
def agent(
    *,
    model: str,
    tools: Sequence[AnyTool] | None = None,
    deps_type: type[DepsT],
    response_model: None = None,
    max_retries: int = 0,
    max_steps: int = 10,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    **params: Any,
) -> AgentDecorator[DepsT, str]: ...
@overload
def agent(
    *,
    model: str,
    tools: Sequence[AnyTool] | None = None,
    deps_type: type[DepsT],
    response_model: type[U] | Format[U],
    max_retries: int = 0,
    max_steps: int = 10,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    **params: Any,
) -> AgentDecorator[DepsT, U]: ...
@overload
def agent(
    *,
    model: str,
    tools: Sequence[AnyTool] | None = None,
    deps_type: None = None,
    response_model: None = None,
    max_retries: int = 0,
    max_steps: int = 10,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    **params: Any,
) -> AgentDecorator[None, str]: ...
@overload
def agent(
    *,
    model: str,
    tools: Sequence[AnyTool] | None = None,
    deps_type: None = None,
    response_model: type[U] | Format[U],
    max_retries: int = 0,
    max_steps: int = 10,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    **params: Any,
) -> AgentDecorator[None, U]: ...
def agent(
    misused: object = None,
    /,
    *,
    model: str | None = None,
    tools: Sequence[AnyTool] | None = None,
    deps_type: type[Any] | None = None,
    response_model: type[Any] | Format[Any] | None = None,
    max_retries: int = 0,
    max_steps: int = 10,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    **params: Any,
) -> AgentDecorator[Any, Any]:
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
    call_params = cast(CallParams, params)  # checked by Model, which refuses unknown ones
    bound: Model[Any] = Model(
        model,
        client=client,
        provider_params=provider_params,
        tools=tools,
        response_model=response_model,
        max_retries=max_retries,
        **call_params,
    )
    return AgentDecorator(bound, max_steps)
