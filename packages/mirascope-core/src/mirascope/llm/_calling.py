"""How responses and streams reach the model behind them without importing `models`.

A call returns a response or a stream, so `models` imports `responses` and `streams`; they in
turn make the next call (`resume`, `continue_`, `validate`, a stream's re-asks) through the
`Caller` interface here. `models` provides the one implementation, `Model`, when it is
imported, which `mirascope.llm` always does before any response can exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from .messages import Message
    from .params import CallParams
    from .responses import AsyncCallResponse, CallResponse
    from .settings import CallSettings
    from .streams import AsyncStream, Stream
    from .tools import Context

__all__ = ["Caller", "caller", "provide_caller"]

T = TypeVar("T")


class Caller(Protocol[T]):
    """What a response or a stream needs of a model: what it is, and how to call it again."""

    @property
    def id(self) -> str:
        """The model id, `provider:model`."""
        ...

    @property
    def params(self) -> CallParams:
        """The call parameters."""
        ...

    @property
    def settings(self) -> CallSettings:
        """Every other setting of the call."""
        ...

    def call_with(
        self,
        content: str | Sequence[Message],
        metadata: Mapping[str, object],
        context: Context[Any] | None = None,
        validate: bool = True,
    ) -> CallResponse[T]:
        """Call with the prompt function's metadata and context; `validate=False` skips continuing and re-asking."""
        ...

    async def call_with_async(
        self,
        content: str | Sequence[Message],
        metadata: Mapping[str, object],
        context: Context[Any] | None = None,
        validate: bool = True,
    ) -> AsyncCallResponse[T]:
        """The async form of `call_with`."""
        ...

    def stream_with(
        self, content: str | Sequence[Message], metadata: Mapping[str, object], context: Context[Any] | None = None
    ) -> Stream[T]:
        """Stream with the prompt function's metadata and context."""
        ...

    async def stream_with_async(
        self, content: str | Sequence[Message], metadata: Mapping[str, object], context: Context[Any] | None = None
    ) -> AsyncStream[T]:
        """The async form of `stream_with`."""
        ...


_factory: list[Callable[[str, CallParams, CallSettings], Caller[Any]]] = []


def provide_caller(factory: Callable[[str, CallParams, CallSettings], Caller[Any]]) -> None:
    """Set what `caller` makes models with (`models` gives `Model`)."""
    _factory[:] = [factory]


def caller(model_id: str, params: CallParams, settings: CallSettings) -> Caller[Any]:
    """The model with this id, call parameters and settings."""
    return _factory[0](model_id, params, settings)
