"""`llm.override` and `llm.context`: change the model, client, tools or parameters of calls.

`llm.override(fn, ...)` makes a new call from an existing one. `with llm.context(...)` changes
every call made inside the block, however deep: the settings live in a `contextvars.ContextVar`,
so each thread and each asyncio task sees only its own blocks, and nested blocks compose, the
innermost winning key by key. What a block sets wins over the decorator's settings and over a
prompt function's `DynamicConfig`: the caller's word is last.
"""

from __future__ import annotations

import copy
from collections.abc import Generator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar, Unpack, overload

from ._checks import check_params, check_settings, check_thinking, split_model_id
from ._overloads import NonThinkingModel, ParamsBesidesThinking, SettingsAndParams, deprecated
from .params import CallParams
from .settings import PARAMETER_NAMES, CallSettings, changes_from_arguments

if TYPE_CHECKING:
    from .calls import AsyncCall, Call
    from .clients import Client
    from .known_models import KnownModel
    from .models import Model
    from .response_models import Format
    from .responses import AsyncCallResponse, CallResponse
    from .streams import AsyncStream, Stream
    from .tools import AnyTool

__all__ = ["context", "override"]

P = ParamSpec("P")
R = TypeVar("R")
U = TypeVar("U")


class Overrides:
    """What a block or an override changes, and the models it made (one per base model)."""

    __slots__ = ("_made", "_products", "model", "params", "settings")

    def __init__(self, model: str | None, params: Mapping[str, object], settings: Mapping[str, Any]) -> None:
        self.model = model
        """The model id to move to, if any."""
        self.params = params
        """Call parameters, merged over the model's."""
        self.settings = settings
        """`CallSettings` fields, by name, in place of the model's."""
        self._made: dict[int, tuple[Model[Any], Model[Any]]] = {}
        self._products: set[int] = set()

    def within(self, outer: Overrides | None) -> Overrides:
        """These changes inside `outer`'s block: the inner one wins, setting by setting."""
        if outer is None:
            return self
        return Overrides(
            self.model if self.model is not None else outer.model,
            {**outer.params, **self.params},
            {**outer.settings, **self.settings},
        )

    def apply(self, model: Model[Any]) -> Model[Any]:
        """`model` with these changes; made once per model while the block lasts."""
        if id(model) in self._products:
            return model  # already made by these changes
        found = self._made.get(id(model))
        if found is not None and found[0] is model:
            return found[1]
        changed = model.changed(self.model, self.params, self.settings)
        self._made[id(model)] = (model, changed)  # both are kept, so their ids are not reused
        self._products.add(id(changed))
        return changed


_current: ContextVar[Overrides | None] = ContextVar("mirascope_context", default=None)


def current() -> Overrides | None:
    """The changes of the innermost `llm.context` block around this point, if any."""
    return _current.get()


def _changes(model: str | None, keywords: Mapping[str, object]) -> Overrides:
    """What `llm.override` or `llm.context` was given: the model id, settings and call parameters.

    A keyword is a setting when `CallSettings` has it (so a new setting needs nothing here), and
    otherwise must be a call parameter; both are checked here, not at the first call.
    """
    settings = {key: value for key, value in keywords.items() if key in PARAMETER_NAMES}
    params = {key: value for key, value in keywords.items() if key not in PARAMETER_NAMES}
    check_params(params)
    if "thinking" in params:
        check_thinking(model or "the override", params["thinking"])
    provider_name = "openai" if model is None else split_model_id(model)[0]
    changes = changes_from_arguments(settings)
    check_settings(CallSettings(**changes), provider_name)
    return Overrides(model, params, changes)


# BEGIN GENERATED overloads of llm.override (scripts/generate_overloads.py writes these lines from settings.py)
@overload
@deprecated("This model cannot think: thinking='low', 'medium' or 'high' raises llm.FeatureNotSupportedError.")
def override(
    fn: Call[P, R],
    *,
    model: NonThinkingModel,
    client: Client | None = ...,
    provider_params: Mapping[str, object] | None = ...,
    tools: Sequence[AnyTool] | None = ...,
    response_model: type[Any] | Format[Any] | None = ...,
    max_retries: int = ...,
    continue_on_max_tokens: int = ...,
    retries: int | None = ...,
    fallback: str | Sequence[str] = ...,
    thinking: Literal["low", "medium", "high"],
    **params: Unpack[ParamsBesidesThinking],
) -> Call[P, R]: ...
@overload
@deprecated("This model cannot think: thinking='low', 'medium' or 'high' raises llm.FeatureNotSupportedError.")
def override(
    fn: AsyncCall[P, R],
    *,
    model: NonThinkingModel,
    client: Client | None = ...,
    provider_params: Mapping[str, object] | None = ...,
    tools: Sequence[AnyTool] | None = ...,
    response_model: type[Any] | Format[Any] | None = ...,
    max_retries: int = ...,
    continue_on_max_tokens: int = ...,
    retries: int | None = ...,
    fallback: str | Sequence[str] = ...,
    thinking: Literal["low", "medium", "high"],
    **params: Unpack[ParamsBesidesThinking],
) -> AsyncCall[P, R]: ...
@overload
def override(
    fn: Call[P, CallResponse[Any]],
    *,
    model: KnownModel | str | None = None,
    client: Client | None = ...,
    provider_params: Mapping[str, object] | None = ...,
    tools: Sequence[AnyTool] | None = ...,
    response_model: type[U] | Format[U],
    max_retries: int = ...,
    continue_on_max_tokens: int = ...,
    retries: int | None = ...,
    fallback: str | Sequence[str] = ...,
    **params: Unpack[CallParams],
) -> Call[P, CallResponse[U]]: ...
@overload
def override(
    fn: Call[P, Stream[Any]],
    *,
    model: KnownModel | str | None = None,
    client: Client | None = ...,
    provider_params: Mapping[str, object] | None = ...,
    tools: Sequence[AnyTool] | None = ...,
    response_model: type[U] | Format[U],
    max_retries: int = ...,
    continue_on_max_tokens: int = ...,
    retries: int | None = ...,
    fallback: str | Sequence[str] = ...,
    **params: Unpack[CallParams],
) -> Call[P, Stream[U]]: ...
@overload
def override(
    fn: AsyncCall[P, AsyncCallResponse[Any]],
    *,
    model: KnownModel | str | None = None,
    client: Client | None = ...,
    provider_params: Mapping[str, object] | None = ...,
    tools: Sequence[AnyTool] | None = ...,
    response_model: type[U] | Format[U],
    max_retries: int = ...,
    continue_on_max_tokens: int = ...,
    retries: int | None = ...,
    fallback: str | Sequence[str] = ...,
    **params: Unpack[CallParams],
) -> AsyncCall[P, AsyncCallResponse[U]]: ...
@overload
def override(
    fn: AsyncCall[P, AsyncStream[Any]],
    *,
    model: KnownModel | str | None = None,
    client: Client | None = ...,
    provider_params: Mapping[str, object] | None = ...,
    tools: Sequence[AnyTool] | None = ...,
    response_model: type[U] | Format[U],
    max_retries: int = ...,
    continue_on_max_tokens: int = ...,
    retries: int | None = ...,
    fallback: str | Sequence[str] = ...,
    **params: Unpack[CallParams],
) -> AsyncCall[P, AsyncStream[U]]: ...
@overload
def override(
    fn: Call[P, R],
    *,
    model: KnownModel | str | None = None,
    client: Client | None = ...,
    provider_params: Mapping[str, object] | None = ...,
    tools: Sequence[AnyTool] | None = ...,
    response_model: type[Any] | Format[Any] | None = ...,
    max_retries: int = ...,
    continue_on_max_tokens: int = ...,
    retries: int | None = ...,
    fallback: str | Sequence[str] = ...,
    **params: Unpack[CallParams],
) -> Call[P, R]: ...
@overload
def override(
    fn: AsyncCall[P, R],
    *,
    model: KnownModel | str | None = None,
    client: Client | None = ...,
    provider_params: Mapping[str, object] | None = ...,
    tools: Sequence[AnyTool] | None = ...,
    response_model: type[Any] | Format[Any] | None = ...,
    max_retries: int = ...,
    continue_on_max_tokens: int = ...,
    retries: int | None = ...,
    fallback: str | Sequence[str] = ...,
    **params: Unpack[CallParams],
) -> AsyncCall[P, R]: ...
def override(
    fn: Call[P, R] | AsyncCall[P, R],
    *,
    model: KnownModel | str | None = None,
    **params: Unpack[SettingsAndParams],
) -> Call[P, R] | AsyncCall[P, R]:
    # END GENERATED
    """A new call: `fn` with another model, client, tools, response model or parameters.

    ```python
    fast = llm.override(recommend_book, model="groq:llama-3.3-70b", temperature=0.0)
    ```

    `fn` itself is unchanged. Moving to another provider leaves the client behind (pass one
    for the new provider, or get its default) and refuses `provider_params` written for the old
    provider unless new ones are given.

    Args:
        fn: The call to change: a function decorated with `llm.call`.
        model: Another model id, `provider:model`.
        client: A client from `llm.client(...)`; by default the provider's shared one.
        provider_params: Provider-specific parameters, merged into the request (never over what the
            call sets).
        tools: Tools the model may call (`@llm.tool` functions, `llm.BaseTool` classes), and tools
            the provider runs itself (`llm.WebSearch()`).
        response_model: The type to parse replies into (`response.parse()`).
        max_retries: How many times to ask again, with the parse error, for a reply that does not
            fit `response_model`.
        continue_on_max_tokens: How many times to continue a reply cut off at `max_tokens`, joining
            the pieces into one reply (`response.continue_()`).
        retries: How many times to send a request again after a retryable failure (429, 5xx,
            408/409, a broken connection, a timeout); by default the client's `max_retries`.
        fallback: Model ids to try in turn when this one still fails with a retryable error after
            its retries; `response.model` says which answered.
        **params: Call parameters (`temperature`, `max_tokens`, ...), merged over the call's.

    Raises:
        FeatureNotSupportedError: The call's `provider_params` belong to another provider.
        TypeError: A keyword that is not a call parameter.
    """
    changed = copy.copy(fn)  # the same prompt function, name and stream setting
    changed.model = _changes(model, params).apply(fn.model)
    return changed


# BEGIN GENERATED overloads of llm.context (scripts/generate_overloads.py writes these lines from settings.py)
@overload
@deprecated("This model cannot think: thinking='low', 'medium' or 'high' raises llm.FeatureNotSupportedError.")
def context(
    *,
    model: NonThinkingModel,
    client: Client | None = ...,
    provider_params: Mapping[str, object] | None = ...,
    tools: Sequence[AnyTool] | None = ...,
    response_model: type[Any] | Format[Any] | None = ...,
    max_retries: int = ...,
    continue_on_max_tokens: int = ...,
    retries: int | None = ...,
    fallback: str | Sequence[str] = ...,
    thinking: Literal["low", "medium", "high"],
    **params: Unpack[ParamsBesidesThinking],
) -> AbstractContextManager[None]: ...
@overload
def context(
    *,
    model: KnownModel | str | None = None,
    client: Client | None = ...,
    provider_params: Mapping[str, object] | None = ...,
    tools: Sequence[AnyTool] | None = ...,
    response_model: type[Any] | Format[Any] | None = ...,
    max_retries: int = ...,
    continue_on_max_tokens: int = ...,
    retries: int | None = ...,
    fallback: str | Sequence[str] = ...,
    **params: Unpack[CallParams],
) -> AbstractContextManager[None]: ...
@contextmanager
def context(
    *,
    model: KnownModel | str | None = None,
    **params: Unpack[SettingsAndParams],
) -> Generator[None]:
    # END GENERATED
    """Change every call made inside the block (calls, streams, agents, `resume` too).

    ```python
    with llm.context(model="anthropic:claude-haiku-4-5", max_tokens=256):
        recommend_book("sci-fi")  # runs on Claude
    ```

    Blocks nest, the inner one winning setting by setting; each thread and asyncio task sees
    only the blocks it entered (or that were open when the task was created).

    Args:
        model: Another model id, `provider:model`, for every call in the block.
        client: A client from `llm.client(...)`; by default the provider's shared one.
        provider_params: Provider-specific parameters, merged into the request (never over what the
            call sets).
        tools: Tools the model may call (`@llm.tool` functions, `llm.BaseTool` classes), and tools
            the provider runs itself (`llm.WebSearch()`).
        response_model: The type to parse replies into (`response.parse()`).
        max_retries: How many times to ask again, with the parse error, for a reply that does not
            fit `response_model`.
        continue_on_max_tokens: How many times to continue a reply cut off at `max_tokens`, joining
            the pieces into one reply (`response.continue_()`).
        retries: How many times to send a request again after a retryable failure (429, 5xx,
            408/409, a broken connection, a timeout); by default the client's `max_retries`.
        fallback: Model ids to try in turn when this one still fails with a retryable error after
            its retries; `response.model` says which answered.
        **params: Call parameters (`temperature`, `max_tokens`, ...), merged over each call's.

    Raises:
        TypeError: A keyword that is not a call parameter.
    """
    token = _current.set(_changes(model, params).within(_current.get()))
    try:
        yield
    finally:
        _current.reset(token)
