"""What a call returns: `CallResponse` (and `AsyncCallResponse`), with `Usage` and `FinishReason`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Self, TypeAlias, TypeVar

import attrs
from attrs import field, frozen

from ._calling import Caller, caller
from ._typevars import T
from ._values import FinishReason, Usage, added_usage, plain_raw
from .clients import Client
from .content import Citation, ContentPart, Image, Text, Thought, ToolCall, ToolOutput
from .exceptions import Error, ParseError
from .known_models import cost_of
from .messages import Message, user
from .params import CallParams
from .provider_tools import ProviderTool
from .response_models import Format, answer_as_text
from .settings import CallSettings
from .tools import Context, Tool

if TYPE_CHECKING:
    from .providers import Decoded, Request

__all__ = [
    "AsyncCallResponse",
    "CallResponse",
    "FinishReason",
    "ResumeContent",
    "Usage",
    "made_response",
    "next_messages",
    "next_model",
    "retry_messages",
]

ResumeContent: TypeAlias = str | ContentPart | Message | Sequence[str | ContentPart | Message]
"""What `resume` takes: text, parts (tool outputs among them), or whole messages."""

CONTINUE_PROMPT = (
    "Your previous reply was cut off by the output limit. Continue it exactly where it stopped: "
    "write only the rest, without repeating, restarting or commenting on anything."
)
"""What `continue_` asks the model, after a reply cut off at `max_tokens`."""

_NOT_SERIALIZED = {"serialized": False}
# Live Python objects a restored response cannot have: `serialization` leaves these fields out.


def _serialized_settings(settings: CallSettings) -> Mapping[str, object]:
    # What of the settings `to_dict` keeps, and so what response equality compares.
    return settings.provider_params


_RD = TypeVar("_RD", bound="_ResponseData[Any]")


@frozen(kw_only=True)
class _ResponseData(Generic[T]):
    messages: tuple[Message, ...]
    """The whole conversation, the model's reply last: ready to continue."""
    model: str
    """The model id that answered, `provider:model`."""
    finish_reason: FinishReason
    """Why the model stopped."""
    usage: Usage | None = None
    """Tokens used, when the provider reported them."""
    cost: float | None = None
    """What the call cost in USD, or `None` where the model's price is unknown."""
    id: str | None = None
    """The provider's id for this response."""
    provider_model: str | None = None
    """The model name the provider reported, often a dated snapshot of `model`."""
    _raw: object = field(default=None, eq=plain_raw, alias="raw")
    # Set with `raw=`; read through the `raw` property, which decodes a stream's events.
    params: CallParams = field(factory=lambda: CallParams())
    """The call parameters the call was made with; `resume` reuses them."""
    settings: CallSettings = field(
        factory=CallSettings, eq=_serialized_settings, repr=False, metadata={"serialized": "inline"}
    )
    """Every other setting the call was made with, whole; `resume`, `continue_` and `validate`
    make the next call with them. Only `provider_params` is serialized."""
    metadata: Mapping[str, object] = field(factory=dict[str, object])
    """Metadata the prompt function returned in its `DynamicConfig`."""
    client: Client | None = field(default=None, eq=False, repr=False, metadata=_NOT_SERIALIZED)
    """The client that made the call; `resume` uses it again. Not serialized."""
    _context: Context[Any] | None = field(default=None, eq=False, repr=False, alias="context", metadata=_NOT_SERIALIZED)
    # The `llm.Context` the prompt function was called with: tools asking for one get it, and
    # `resume` carries it on. Not serialized.
    _parsed: list[Any] = field(factory=list[Any], init=False, eq=False, repr=False, metadata=_NOT_SERIALIZED)
    _observers: tuple[Any, ...] = field(default=(), eq=False, repr=False, alias="observers", metadata=_NOT_SERIALIZED)
    # The instrumentation observers of the call that made this response (`llm.instrumentation`):
    # `execute_tools` hands each instrument its own as the tools' caller. Not serialized.
    # The parsed reply once `parse` has succeeded: a reply is parsed once, however often asked.

    @property
    def raw(self) -> object:
        """The provider's decoded response body, untouched; for a stream, the list of its events."""
        return plain_raw(self._raw)

    @property
    def message(self) -> Message:
        """The assistant's reply, all parts in order."""
        return self.messages[-1]

    @property
    def content(self) -> str:
        """The text of the reply, `""` if it has none."""
        return self.messages[-1].text

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tools the model asked to run, in order."""
        return [part for part in self.messages[-1].content if isinstance(part, ToolCall)]

    @property
    def thinking(self) -> str | None:
        """The model's reasoning text, or `None` when it returned none."""
        thoughts = [part.text for part in self.messages[-1].content if isinstance(part, Thought) and part.text]
        return "\n".join(thoughts) if thoughts else None

    @property
    def citations(self) -> list[Citation]:
        """The sources the reply cites (from `llm.WebSearch`), in order; each `llm.Text` part holds its own."""
        return [citation for part in self.messages[-1].content if isinstance(part, Text) for citation in part.citations]

    @property
    def images(self) -> list[Image]:
        """Images the model produced."""
        return [part for part in self.messages[-1].content if isinstance(part, Image)]

    @property
    def provider_params(self) -> Mapping[str, object]:
        """Provider-specific parameters the call was made with; `resume` reuses them."""
        return self.settings.provider_params

    @property
    def tools(self) -> tuple[Tool[..., Any], ...]:
        """The tools the call offered; `resume` offers them again. Not serialized."""
        return self.settings.tools

    @property
    def provider_tools(self) -> tuple[ProviderTool, ...]:
        """The tools the provider ran itself (`llm.WebSearch`); `resume` offers them again. Not serialized."""
        return self.settings.provider_tools

    @property
    def format(self) -> Format[T] | None:
        """The structured output asked for; `parse` reads the reply into it. Not serialized."""
        return self.settings.format

    @property
    def max_retries(self) -> int:
        """How many times `validate` asks again for a reply that does not parse. Not serialized."""
        return self.settings.max_retries

    @property
    def retries(self) -> int | None:
        """The call's `retries=` (failed requests sent again); `resume` keeps it. Not serialized."""
        return self.settings.retries

    @property
    def fallback(self) -> tuple[str, ...]:
        """The models still left to fall back to after the one that answered (not serialized)."""
        return self.settings.fallback

    def __str__(self) -> str:
        return self.content

    def parse(self) -> T:
        """The reply as the call's `response_model` (its text, when the call has none).

        Raises:
            ParseError: The reply does not fit the response model; the error keeps the text.
        """
        format = self.settings.format
        if format is None:
            return self.content  # pyright: ignore[reportReturnType]
        parsed = self._parsed
        if not parsed:
            parsed.append(format.parse(self.content))
        return parsed[0]

    def _continuation(self) -> tuple[Message, ...]:
        """The conversation that asks for the rest of a reply cut off at `max_tokens`."""
        if self.finish_reason != "max_tokens":
            raise Error(
                f"Only a reply cut off at max_tokens can be continued; this one ended with "
                f"finish_reason={self.finish_reason!r}. Use resume() to send a new message."
            )
        return (*self.messages, user(CONTINUE_PROMPT))

    def _joined(self, rest: _RD) -> _RD:
        """`rest`, the continuation of this reply, as one response holding the whole reply.

        The reply's pieces are joined into one message (its text runs joined), in place of the
        cut-off reply; token counts and costs are added up. The provider's own form of the
        pieces (`raw` on the message) is left out, so that `resume` sends the joined text.
        """
        cut, added = self.messages[-1], rest.messages[-1]
        parts = list(cut.content)
        for part in added.content:
            if isinstance(part, Text) and parts and isinstance(parts[-1], Text) and not part.citations:
                parts[-1] = attrs.evolve(parts[-1], text=parts[-1].text + part.text)
            else:
                parts.append(part)
        message = attrs.evolve(cut, content=tuple(parts), raw=None)
        return attrs.evolve(
            rest,
            messages=(*self.messages[:-1], message),
            usage=added_usage(self.usage, rest.usage),
            cost=None if self.cost is None or rest.cost is None else self.cost + rest.cost,
        )

    def to_dict(self) -> dict[str, Any]:
        """This response as plain JSON-ready data; `from_dict` restores it."""
        from .serialization import to_dict  # cattrs' converter: built on first use, not with `llm`

        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a response from `to_dict` output (for instance after a JSON round-trip)."""
        from .serialization import from_dict

        return from_dict(cls, data)


_R = TypeVar("_R", bound=_ResponseData[Any])


def made_response(
    cls: type[_R],
    model: Caller[Any],
    request: Request,
    decoded: Decoded,
    raw: object,
    client: Client,
    metadata: Mapping[str, object],
    context: Context[Any] | None = None,
    observers: tuple[Any, ...] = (),
    batch: bool = False,
) -> _R:
    """The response to `request`, which `model` made: from a call's body or a stream's events.

    `batch=True` prices it as a call of a provider batch (the model table's `batch_discount`).
    """
    settings = model.settings
    message, finish_reason = decoded.message, decoded.finish_reason
    if settings.format is not None:
        message, finish_reason = answer_as_text(message, finish_reason)
    usage = decoded.usage
    return cls(
        messages=(*request.messages, message),
        model=model.id,
        finish_reason=finish_reason,
        usage=usage,
        cost=None if usage is None else cost_of(model.id, usage, decoded.provider_model, batch=batch),
        id=decoded.id,
        provider_model=decoded.provider_model,
        raw=raw,
        params=model.params,
        settings=settings,
        metadata=metadata,
        client=client,
        context=context,
        observers=observers,
    )


def next_model(response: _ResponseData[T]) -> Caller[T]:
    """The model the conversation goes on with: the one that answered, every setting kept.

    The client that made the call goes on too, the provider's default one included.
    """
    settings = response.settings
    client = response.client
    if client is not None and client is not settings.client:
        settings = attrs.evolve(settings, client=client)
    return caller(response.model, response.params, settings)


def next_messages(response: _ResponseData[Any], content: ResumeContent) -> tuple[Message, ...]:
    """The conversation so far plus `content`: what `resume` sends."""
    if isinstance(content, Message):
        return (*response.messages, content)
    if isinstance(content, str) or not isinstance(content, Sequence):
        return (*response.messages, user(content))
    new: list[Message] = []
    parts: list[str | ContentPart] = []
    for item in content:
        if isinstance(item, Message):
            if parts:
                new.append(user(parts))
                parts = []
            new.append(item)
        else:
            parts.append(item)
    if parts:
        new.append(user(parts))
    return (*response.messages, *new)


def retry_messages(response: _ResponseData[Any], retries: int) -> tuple[Message, ...] | None:
    """The conversation to re-ask with when the reply does not parse; `None` when it does.

    A reply with tool calls is not the answer yet, and counts as parsing.

    Raises:
        ParseError: The reply does not parse and `retries` is 0; it carries this response.
    """
    if response.settings.format is None or response.finish_reason == "tool_call":
        return None
    try:
        response.parse()
    except ParseError as error:
        if retries <= 0:
            error.response = response
            raise
        return next_messages(response, error.retry_message())
    return None


@frozen(kw_only=True)
class CallResponse(_ResponseData[T]):
    """The result of a call: the reply, the conversation so far, and how it went."""

    def resume(self, content: ResumeContent) -> CallResponse[T]:
        """Send the conversation plus `content` to the same model; return the next response.

        Args:
            content: Text, parts such as `llm.ToolOutput`, or messages to append.
        """
        return next_model(self).call_with(next_messages(self, content), self.metadata, self._context)

    def continue_(self) -> CallResponse[T]:
        """The whole reply, when this one was cut off at `max_tokens`.

        The model is asked for the rest, and the pieces are joined into one reply (and one JSON
        text, for structured output). A call with `continue_on_max_tokens=N` does this itself, up to N times.

        Raises:
            Error: The reply was not cut off at `max_tokens`.
        """
        rest = next_model(self).call_with(self._continuation(), self.metadata, self._context, validate=False)
        return self._joined(rest)

    def validate(self, max_retries: int | None = None) -> CallResponse[T]:
        """This response if its reply parses, else the first retry whose reply does.

        Each retry resumes the conversation with the parse error (`ParseError.retry_message`),
        so the model sees what was wrong. A reply with tool calls is not the answer yet and is
        returned as it is. A call with `max_retries=N` does this itself.

        Args:
            max_retries: How many times to ask again; by default the call's `max_retries`.

        Raises:
            ParseError: No reply parsed; `error.response` holds the last one, and with it the
                whole conversation.
        """
        response: CallResponse[T] = self
        retries = self.settings.max_retries if max_retries is None else max_retries
        while (retry := retry_messages(response, retries)) is not None:
            retries -= 1
            response = next_model(response).call_with(retry, response.metadata, response._context, validate=False)
        return response

    def execute_tools(self, ctx: Context[Any] | None = None) -> list[ToolOutput]:
        """Run every tool call of the reply, in order; return their outputs for `resume`.

        A tool that raises, a call to a tool the call did not offer, or arguments that do not
        fit become an output with `is_error=True` describing the error, so the loop goes on.
        An async tool is run to completion (from outside any event loop).

        Args:
            ctx: The `llm.Context` for tools that ask for one; by default the one the prompt
                function was called with.

        Raises:
            ToolError: A tool asks for an `llm.Context` and there is none to give it.
        """
        from ._execute import execute  # asyncio: loaded with the first tool run

        return execute(self.settings.tools, self.tool_calls, ctx or self._context, self._observers)


@frozen(kw_only=True)
class AsyncCallResponse(_ResponseData[T]):
    """The result of an async call; `resume` is awaited."""

    async def resume(self, content: ResumeContent) -> AsyncCallResponse[T]:
        """Send the conversation plus `content` to the same model; return the next response.

        Args:
            content: Text, parts such as `llm.ToolOutput`, or messages to append.
        """
        return await next_model(self).call_with_async(next_messages(self, content), self.metadata, self._context)

    async def continue_(self) -> AsyncCallResponse[T]:
        """The whole reply, when this one was cut off at `max_tokens` (see `llm.CallResponse.continue_`)."""
        model = next_model(self)
        rest = await model.call_with_async(self._continuation(), self.metadata, self._context, validate=False)
        return self._joined(rest)

    async def validate(self, max_retries: int | None = None) -> AsyncCallResponse[T]:
        """This response if its reply parses, else the first retry whose reply does.

        As `llm.CallResponse.validate`, awaited.
        """
        response: AsyncCallResponse[T] = self
        retries = self.settings.max_retries if max_retries is None else max_retries
        while (retry := retry_messages(response, retries)) is not None:
            retries -= 1
            model = next_model(response)
            response = await model.call_with_async(retry, response.metadata, response._context, validate=False)
        return response

    async def execute_tools(self, ctx: Context[Any] | None = None) -> list[ToolOutput]:
        """Run every tool call of the reply, async tools concurrently; outputs keep the calls' order.

        Failures become outputs with `is_error=True`, as with `CallResponse.execute_tools`; `ctx`
        is as there.
        """
        from ._execute import execute_async  # asyncio: loaded with the first tool run

        return await execute_async(self.settings.tools, self.tool_calls, ctx or self._context, self._observers)
