"""`llm.override` and `llm.context`: change the model, client, tools or parameters of calls.

`llm.override(fn, ...)` makes a new call from an existing one. `with llm.context(...)` changes
every call made inside the block, however deep: the settings live in a `contextvars.ContextVar`,
so each thread and each asyncio task sees only its own blocks, and nested blocks compose, the
innermost winning key by key. What a block sets wins over the decorator's settings and over a
prompt function's `DynamicConfig`: the caller's word is last.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, Unpack, cast, overload

from .params import CallParams

if TYPE_CHECKING:
    from .calls import AsyncCall, Call
    from .clients import Client
    from .formatting import Format
    from .models import Model
    from .tools import AnyTool

__all__ = ["context", "override"]

P = ParamSpec("P")
R = TypeVar("R")


class _Unset:
    """Not given: distinct from `None`, which for `client` means "the provider's default"."""

    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()


class Overrides:
    """The settings a block or an override changes, and the models they made (one per base model)."""

    __slots__ = ("_made", "_products", "changes")

    def __init__(self, changes: Mapping[str, Any]) -> None:
        self.changes = changes
        """The settings, by name: `model`, `client`, `tools`, `response_model`, call parameters."""
        self._made: dict[int, tuple[Model[Any], Model[Any]]] = {}
        self._products: set[int] = set()

    def apply(self, model: Model[Any]) -> Model[Any]:
        """`model` with these settings; made once per model while the block lasts."""
        if id(model) in self._products:
            return model  # already made by these settings
        found = self._made.get(id(model))
        if found is not None and found[0] is model:
            return found[1]
        changed = model._replaced(self.changes)  # pyright: ignore[reportPrivateUsage]
        self._made[id(model)] = (model, changed)  # both are kept, so their ids are not reused
        self._products.add(id(changed))
        return changed


_current: ContextVar[Overrides | None] = ContextVar("mirascope_context", default=None)


def current() -> Overrides | None:
    """The settings of the innermost `llm.context` block around this point, if any."""
    return _current.get()


def _changes(
    model: str | None,
    client: Client | Any | None,
    tools: Sequence[AnyTool] | None,
    response_model: type[Any] | Format[Any] | Any | None,
    provider_params: Mapping[str, object] | None,
    params: Mapping[str, object],
) -> dict[str, Any]:
    from .models import check_params

    check_params(params)
    changes: dict[str, Any] = dict(params)
    if model is not None:
        from .models import split_model_id

        split_model_id(model)  # a malformed id is refused here, not at the first call
        changes["model"] = model
    if client is not _UNSET:
        changes["client"] = client
    if tools is not None:
        changes["tools"] = tools
    if response_model is not _UNSET:
        changes["response_model"] = response_model
    if provider_params is not None:
        changes["provider_params"] = provider_params
    return changes


@overload
def override(
    fn: Call[P, R],
    *,
    model: str | None = None,
    client: Client | None = _UNSET,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[Any] | Format[Any] | None = _UNSET,
    provider_params: Mapping[str, object] | None = None,
    **params: Unpack[CallParams],
) -> Call[P, R]: ...
@overload
def override(
    fn: AsyncCall[P, R],
    *,
    model: str | None = None,
    client: Client | None = _UNSET,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[Any] | Format[Any] | None = _UNSET,
    provider_params: Mapping[str, object] | None = None,
    **params: Unpack[CallParams],
) -> AsyncCall[P, R]: ...
def override(
    fn: Call[P, R] | AsyncCall[P, R],
    *,
    model: str | None = None,
    client: Client | None = _UNSET,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[Any] | Format[Any] | None = _UNSET,
    provider_params: Mapping[str, object] | None = None,
    **params: Unpack[CallParams],
) -> Call[P, R] | AsyncCall[P, R]:
    """A new call: `fn` with another model, client, tools, response model or parameters.

    ```python
    fast = llm.override(recommend_book, model="groq:llama-3.3-70b", temperature=0.0)
    ```

    `fn` itself is unchanged. Moving to another provider leaves the client behind (pass one
    for the new provider, or get its default) and refuses `provider_params` written for the old
    provider unless new ones are given.

    Raises:
        FeatureNotSupportedError: The call's `provider_params` belong to another provider.
        TypeError: A keyword that is not a call parameter.
    """
    from .calls import AsyncCall, Call

    changes = _changes(model, client, tools, response_model, provider_params, params)
    bound = Overrides(changes).apply(fn.model)
    if isinstance(fn, AsyncCall):
        return AsyncCall(fn.fn, bound, stream=fn.stream)
    return Call(cast(Any, fn.fn), bound, stream=fn.stream)


@contextmanager
def context(
    *,
    model: str | None = None,
    client: Client | None = _UNSET,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[Any] | Format[Any] | None = _UNSET,
    provider_params: Mapping[str, object] | None = None,
    **params: Unpack[CallParams],
) -> Generator[None]:
    """Change every call made inside the block (calls, streams, agents, `resume` too).

    ```python
    with llm.context(model="anthropic:claude-haiku-4-5", max_tokens=256):
        recommend_book("sci-fi")  # runs on Claude
    ```

    Blocks nest, the inner one winning setting by setting; each thread and asyncio task sees
    only the blocks it entered (or that were open when the task was created).

    Raises:
        TypeError: A keyword that is not a call parameter.
    """
    changes = _changes(model, client, tools, response_model, provider_params, params)
    outer = _current.get()
    token = _current.set(Overrides({**outer.changes, **changes} if outer is not None else changes))
    try:
        yield
    finally:
        _current.reset(token)
