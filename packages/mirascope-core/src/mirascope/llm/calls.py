"""`llm.call`: turn a prompt function into a call to a model."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    Literal,
    ParamSpec,
    Protocol,
    TypeAlias,
    TypedDict,
    Unpack,
    cast,
    overload,
)

from . import _instruments
from ._overloads import NonThinkingModel, ParamsBesidesThinking, deprecated
from ._typevars import TypeVar
from .clients import Client
from .exceptions import UsageError
from .known_models import KnownModel
from .messages import Message, as_messages
from .models import Model
from .params import CallParams
from .response_models import Format
from .responses import AsyncCallResponse, CallResponse
from .settings import changes_from_arguments
from .streams import AsyncStream, Stream
from .tools import AnyTool, Context, takes_context

if TYPE_CHECKING:
    from .batch import BatchJob, BatchMode, Prepared

__all__ = ["AsyncCall", "Call", "DynamicConfig", "Prompt", "call"]

P = ParamSpec("P")
U = TypeVar("U")
R = TypeVar("R", default=CallResponse[str])
"""What calling a `Call` returns: a response, or a stream."""
AR = TypeVar("AR", default=AsyncCallResponse[str])
"""What awaiting an `AsyncCall` returns."""


class DynamicConfig(TypedDict, total=False):
    """What a prompt function returns to set more than the messages, per call."""

    messages: str | Sequence[Message]
    """The prompt: a user message (`str`) or the whole conversation."""
    call_params: CallParams
    """Call parameters for this call, over the decorator's."""
    model: str
    """A different model id for this call."""
    metadata: Mapping[str, object]
    """Anything to keep with the response (`response.metadata`)."""
    tools: Sequence[AnyTool]
    """Tools for this call, in place of the decorator's."""


Prompt: TypeAlias = str | Sequence[Message] | DynamicConfig
"""What a prompt function returns."""


class _Prepared:
    """What one invocation of a prompt function resolved to."""

    __slots__ = ("messages", "metadata", "model")

    def __init__(self, model: Model[Any], messages: str | Sequence[Message], metadata: Mapping[str, object]) -> None:
        self.model = model
        self.messages = messages
        self.metadata = metadata


def _prepare(base: Model[Any], prompt: object, fn: Callable[..., object]) -> _Prepared:
    if isinstance(prompt, str):
        return _Prepared(base, prompt, {})
    if isinstance(prompt, dict):
        config = cast(DynamicConfig, prompt)
        model_id, params, tools = config.get("model"), config.get("call_params"), config.get("tools")
        settings = None if tools is None else changes_from_arguments({"tools": tools})
        model = base.changed(model_id, params, settings) if model_id or params or settings else base
        messages = config.get("messages")
        if messages is None:
            if "role" in config:  # an OpenAI-style message: the list check says how to write it
                as_messages(cast(Sequence[Message], [config]))
            raise UsageError(
                f"{fn.__qualname__} returned a DynamicConfig without 'messages'; add the prompt, e.g. "
                "{'messages': 'Recommend a book', ...}."
            )
        return _Prepared(model, messages, config.get("metadata") or {})
    if isinstance(prompt, Sequence) and not isinstance(prompt, bytes | bytearray):
        # Each item is checked when the call is made (`as_messages`), with the fix for a dict.
        return _Prepared(base, cast(Sequence[Message], prompt), {})
    raise UsageError(
        f"{fn.__qualname__} returned {type(cast(object, prompt)).__name__}; a prompt function returns a str, "
        "a list of llm.Message, or an llm.DynamicConfig."
    )


def _arguments(item: object) -> tuple[tuple[object, ...], dict[str, object]]:
    """A batch input as the prompt function's arguments: a tuple of them, a dict of keywords, or one value."""
    if isinstance(item, tuple):
        return cast("tuple[object, ...]", item), {}
    if isinstance(item, Mapping):
        return (), dict(cast("Mapping[str, object]", item))
    return (item,), {}


def _context_name(fn: Callable[..., object]) -> str | None:
    """The name of the prompt function's `llm.Context` parameter, if it takes one."""
    if not takes_context(fn):
        return None
    return next(iter(inspect.signature(fn).parameters))


def _context(name: str | None, args: tuple[object, ...], kwargs: Mapping[str, object]) -> Context[Any] | None:
    """The `llm.Context` a prompt function was called with, for the tools that ask for one."""
    if name is None:
        return None
    found = args[0] if args else kwargs.get(name)
    return cast("Context[Any]", found) if isinstance(found, Context) else None


class Call(Generic[P, R]):
    """A prompt function bound to a model: calling it calls the model."""

    __name__: str
    __qualname__: str

    def __init__(self, fn: Callable[P, Prompt], model: Model[Any], *, stream: bool = False) -> None:
        self.fn = fn
        """The prompt function."""
        self.model = model
        """The model and parameters it calls."""
        self.stream = stream
        """Whether calling it returns an `llm.Stream` rather than a response."""
        self._context_name = _context_name(fn)
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the prompt function and call the model with what it returned."""
        prepared = _prepare(self.model, self.fn(*args, **kwargs), self.fn)
        context = _context(self._context_name, args, kwargs)
        if not _instruments.instruments:
            return self._send(prepared, context)
        token = _instruments.prompt_function.set(self.fn)  # for `CallStart.function`
        try:
            return self._send(prepared, context)
        finally:
            _instruments.prompt_function.reset(token)

    @overload
    def batch(
        self: Call[P, CallResponse[U]],
        inputs: Iterable[Any],
        *,
        mode: BatchMode = "provider",
        concurrency: int | None = None,
        directory: str | os.PathLike[str] | None = None,
    ) -> BatchJob[U]: ...
    @overload
    def batch(
        self: Call[P, Stream[U]],
        inputs: Iterable[Any],
        *,
        mode: BatchMode = "provider",
        concurrency: int | None = None,
        directory: str | os.PathLike[str] | None = None,
    ) -> BatchJob[U]: ...
    def batch(
        self,
        inputs: Iterable[Any],
        *,
        mode: BatchMode = "provider",
        concurrency: int | None = None,
        directory: str | os.PathLike[str] | None = None,
    ) -> BatchJob[Any]:
        """Run the prompt function once per input and submit the calls as one job (`llm.batch`).

        Each input is the prompt function's arguments: a tuple of them, a dict of keyword
        arguments, or any other value as the one positional argument. `mode="provider"` uses
        the provider's batch API (half price, within 24 hours); `mode="concurrent"` makes the
        calls, at most `concurrency` (default 8) at a time. `job.results()` has one response
        or error per input, in order; a streaming call's job returns responses too.
        """
        from .batch import submit_prepared

        prepared: list[Prepared] = []
        for item in inputs:
            args, kwargs = _arguments(item)
            found = _prepare(self.model, self.fn(*args, **kwargs), self.fn)  # pyright: ignore[reportCallIssue]
            prepared.append((found.model, found.messages, found.metadata, _context(self._context_name, args, kwargs)))
        return submit_prepared(self.model, prepared, mode=mode, concurrency=concurrency, directory=directory)

    def _send(self, prepared: _Prepared, context: Context[Any] | None) -> R:
        if self.stream:
            return prepared.model.stream_with(prepared.messages, prepared.metadata, context)  # pyright: ignore[reportReturnType]
        return prepared.model.call_with(prepared.messages, prepared.metadata, context)  # pyright: ignore[reportReturnType]


class AsyncCall(Generic[P, AR]):
    """An async prompt function bound to a model: awaiting it calls the model."""

    __name__: str
    __qualname__: str

    def __init__(self, fn: Callable[P, Awaitable[Prompt]], model: Model[Any], *, stream: bool = False) -> None:
        self.fn = fn
        """The prompt function."""
        self.model = model
        """The model and parameters it calls."""
        self.stream = stream
        """Whether awaiting it gives an `llm.AsyncStream` rather than a response."""
        self._context_name = _context_name(fn)
        functools.update_wrapper(self, fn)

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> AR:
        """Run the prompt function and call the model with what it returned."""
        prepared = _prepare(self.model, await self.fn(*args, **kwargs), self.fn)
        context = _context(self._context_name, args, kwargs)
        if not _instruments.instruments:
            return await self._send(prepared, context)
        token = _instruments.prompt_function.set(self.fn)  # for `CallStart.function`
        try:
            return await self._send(prepared, context)
        finally:
            _instruments.prompt_function.reset(token)

    @overload
    async def batch(
        self: AsyncCall[P, AsyncCallResponse[U]],
        inputs: Iterable[Any],
        *,
        mode: BatchMode = "provider",
        concurrency: int | None = None,
        directory: str | os.PathLike[str] | None = None,
    ) -> BatchJob[U]: ...
    @overload
    async def batch(
        self: AsyncCall[P, AsyncStream[U]],
        inputs: Iterable[Any],
        *,
        mode: BatchMode = "provider",
        concurrency: int | None = None,
        directory: str | os.PathLike[str] | None = None,
    ) -> BatchJob[U]: ...
    async def batch(
        self,
        inputs: Iterable[Any],
        *,
        mode: BatchMode = "provider",
        concurrency: int | None = None,
        directory: str | os.PathLike[str] | None = None,
    ) -> BatchJob[Any]:
        """`Call.batch` for an async prompt function: `job = await fn.batch(inputs)`.

        The prompt function is awaited per input; the upload runs on a worker thread. The job's
        `wait_async`, `results_async` and `cancel_async` keep the event loop free.
        """
        import asyncio

        from .batch import submit_prepared

        prepared: list[Prepared] = []
        for item in inputs:
            args, kwargs = _arguments(item)
            found = _prepare(self.model, await self.fn(*args, **kwargs), self.fn)  # pyright: ignore[reportCallIssue]
            prepared.append((found.model, found.messages, found.metadata, _context(self._context_name, args, kwargs)))
        return await asyncio.to_thread(
            submit_prepared, self.model, prepared, mode=mode, concurrency=concurrency, directory=directory
        )

    async def _send(self, prepared: _Prepared, context: Context[Any] | None) -> AR:
        if self.stream:
            return await prepared.model.stream_with_async(prepared.messages, prepared.metadata, context)  # pyright: ignore[reportReturnType]
        return await prepared.model.call_with_async(prepared.messages, prepared.metadata, context)  # pyright: ignore[reportReturnType]


class CallDecorator(Protocol[R, AR]):
    """What `llm.call(...)` returns: apply it to a prompt function."""

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, Prompt]]) -> AsyncCall[P, AR]: ...
    @overload
    def __call__(self, fn: Callable[P, Prompt]) -> Call[P, R]: ...


# BEGIN GENERATED overloads of llm.call (scripts/generate_overloads.py writes these lines from settings.py)
@overload
@deprecated("This model cannot think: thinking='low', 'medium' or 'high' raises llm.FeatureNotSupportedError.")
def call(
    model: NonThinkingModel,
    *,
    stream: bool = False,
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
) -> CallDecorator[Any, Any]: ...
@overload
def call(
    model: KnownModel | str,
    *,
    stream: Literal[False] = False,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: None = None,
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> CallDecorator[CallResponse[str], AsyncCallResponse[str]]: ...
@overload
def call(
    model: KnownModel | str,
    *,
    stream: Literal[False] = False,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[U] | Format[U],
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> CallDecorator[CallResponse[U], AsyncCallResponse[U]]: ...
@overload
def call(
    model: KnownModel | str,
    *,
    stream: Literal[True],
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: None = None,
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> CallDecorator[Stream[str], AsyncStream[str]]: ...
@overload
def call(
    model: KnownModel | str,
    *,
    stream: Literal[True],
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[U] | Format[U],
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> CallDecorator[Stream[U], AsyncStream[U]]: ...
def call(
    model: KnownModel | str,
    *,
    stream: bool = False,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[Any] | Format[Any] | None = None,
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> CallDecorator[Any, Any]:
    # END GENERATED
    """Make a prompt function call `model`.

    ```python
    @llm.call("openai:gpt-4o-mini", temperature=0.2)
    def recommend_book(genre: str) -> str:
        return f"Recommend a {genre} book"

    print(recommend_book("fantasy").content)
    ```

    Args:
        model: The model id, `provider:model`.
        stream: Return an `llm.Stream` of chunks instead of a finished response.
        response_model: The type to parse the reply into with `response.parse()`: a dataclass,
            attrs class, `TypedDict`, `NamedTuple`, primitive, `list`, `Literal` or `Enum`
            (a Pydantic `BaseModel` too, with `mirascope[pydantic]`); `llm.response_model(...)`
            says how it is asked for.
        max_retries: How many times to ask again, with the parse error, for a reply that does
            not fit `response_model` (the call then raises `llm.ParseError` if none does).
        continue_on_max_tokens: How many times to continue a reply cut off at `max_tokens`,
            joining the pieces into one reply (`response.continue_()`).
        tools: Tools the model may call (`@llm.tool` functions), and tools the provider runs
            itself (`llm.WebSearch()`).
        client: A client from `llm.client(...)`; by default the provider's shared one.
        provider_params: Provider-specific parameters, passed through unchanged.
        retries: How many times to send a request again after a retryable failure (429, 5xx,
            408/409, a broken connection, a timeout); by default the client's `max_retries`.
        fallback: Model ids to try in turn, e.g. `["anthropic:claude-haiku-4-5"]`, when the
            model still fails with a retryable error after its retries; `response.model`
            says which answered.
        **params: Common call parameters (`temperature`, `max_tokens`, `top_p`, `top_k`,
            `seed`, `stop`, `thinking`).

    Raises:
        UsageError: `llm.call` applied to the function itself, with no model (`@llm.call`
            for `@llm.call("provider:model")`), or a setting it cannot take.
    """
    if callable(model):
        name = getattr(model, "__name__", "fn")
        raise UsageError(
            f'llm.call takes the model first: write @llm.call("openai:gpt-4o-mini") above def {name}(...), '
            "not a bare @llm.call (any 'provider:model' id works)."
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

    def decorate(fn: Callable[P, Any]) -> Call[P, Any] | AsyncCall[P, Any]:
        if not callable(fn):
            raise UsageError(
                f"llm.call({model!r}) decorates a prompt function, written above its def; got {type(fn).__name__}. "
                f"To call the model with text directly, write llm.model({model!r}).call(...)."
            )
        if inspect.iscoroutinefunction(fn):
            return AsyncCall(fn, bound, stream=stream)
        return Call(fn, bound, stream=stream)

    return decorate  # pyright: ignore[reportReturnType]
