"""`llm.call`: turn a prompt function into a call to a model."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, Generic, ParamSpec, Protocol, TypeAlias, TypedDict, Unpack, cast, overload

from .clients import Client
from .messages import Message
from .models import Model
from .params import CallParams
from .responses import AsyncCallResponse, CallResponse

__all__ = ["AsyncCall", "Call", "DynamicConfig", "Prompt", "call"]

P = ParamSpec("P")


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


Prompt: TypeAlias = str | Sequence[Message] | DynamicConfig
"""What a prompt function returns."""


class _Prepared:
    """What one invocation of a prompt function resolved to."""

    __slots__ = ("messages", "metadata", "model")

    def __init__(self, model: Model, messages: str | Sequence[Message], metadata: Mapping[str, object]) -> None:
        self.model = model
        self.messages = messages
        self.metadata = metadata


def _prepare(base: Model, prompt: object, fn: Callable[..., object]) -> _Prepared:
    if isinstance(prompt, str):
        return _Prepared(base, prompt, {})
    if isinstance(prompt, dict):
        config = cast(DynamicConfig, prompt)
        model = base
        overrides = config.get("call_params")
        model_id = config.get("model")
        if overrides or model_id:
            params: CallParams = {**base.params, **(overrides or {})}
            # A client serves one provider: keep it while the model stays on that provider.
            same_provider = model_id is None or model_id.partition(":")[0] == base.provider_name
            client = base.client if same_provider else None
            model = Model(model_id or base.id, client=client, provider_params=base.provider_params, **params)
        messages = config.get("messages")
        if messages is None:
            raise TypeError(f"{fn.__qualname__} returned a DynamicConfig without 'messages'.")
        return _Prepared(model, messages, config.get("metadata") or {})
    if isinstance(prompt, Sequence):
        items = cast(Sequence[object], prompt)
        if all(isinstance(item, Message) for item in items):
            return _Prepared(base, cast(Sequence[Message], items), {})
    raise TypeError(
        f"{fn.__qualname__} returned {type(cast(object, prompt)).__name__}; a prompt function returns a str, "
        "a list of llm.Message, or an llm.DynamicConfig."
    )


class Call(Generic[P]):
    """A prompt function bound to a model: calling it calls the model."""

    __name__: str
    __qualname__: str

    def __init__(self, fn: Callable[P, Prompt], model: Model) -> None:
        self.fn = fn
        """The prompt function."""
        self.model = model
        """The model and parameters it calls."""
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> CallResponse:
        """Run the prompt function and call the model with what it returned."""
        prepared = _prepare(self.model, self.fn(*args, **kwargs), self.fn)
        return prepared.model._call(prepared.messages, prepared.metadata)  # pyright: ignore[reportPrivateUsage]


class AsyncCall(Generic[P]):
    """An async prompt function bound to a model: awaiting it calls the model."""

    __name__: str
    __qualname__: str

    def __init__(self, fn: Callable[P, Awaitable[Prompt]], model: Model) -> None:
        self.fn = fn
        """The prompt function."""
        self.model = model
        """The model and parameters it calls."""
        functools.update_wrapper(self, fn)

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> AsyncCallResponse:
        """Run the prompt function and call the model with what it returned."""
        prepared = _prepare(self.model, await self.fn(*args, **kwargs), self.fn)
        return await prepared.model._call_async(prepared.messages, prepared.metadata)  # pyright: ignore[reportPrivateUsage]


class CallDecorator(Protocol):
    """What `llm.call(...)` returns: apply it to a prompt function."""

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, Prompt]]) -> AsyncCall[P]: ...
    @overload
    def __call__(self, fn: Callable[P, Prompt]) -> Call[P]: ...


def call(
    model: str,
    *,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    **params: Unpack[CallParams],
) -> CallDecorator:
    """Make a prompt function call `model`.

    ```python
    @llm.call("openai:gpt-4o-mini", temperature=0.2)
    def recommend_book(genre: str) -> str:
        return f"Recommend a {genre} book"

    print(recommend_book("fantasy").content)
    ```

    Args:
        model: The model id, `provider:model`.
        client: A client from `llm.client(...)`; by default the provider's shared one.
        provider_params: Provider-specific parameters, passed through unchanged.
        **params: Common call parameters (`temperature`, `max_tokens`, `top_p`, `top_k`,
            `seed`, `stop`, `thinking`).
    """
    bound = Model(model, client=client, provider_params=provider_params, **params)

    def decorate(fn: Callable[P, Any]) -> Call[P] | AsyncCall[P]:
        if inspect.iscoroutinefunction(fn):
            return AsyncCall(fn, bound)
        return Call(fn, bound)

    return decorate  # pyright: ignore[reportReturnType]
