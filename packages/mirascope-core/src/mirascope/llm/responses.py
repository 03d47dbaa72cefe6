"""What a call returns: `CallResponse` (and `AsyncCallResponse`), with `Usage` and `FinishReason`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeAlias, TypeVar

from attrs import field, frozen

from ._typevars import T
from .clients import Client
from .content import Citation, ContentPart, Image, Text, Thought, ToolCall, ToolOutput
from .context import Context
from .exceptions import ParseError
from .formatting import Format
from .messages import Message, user
from .params import CallParams
from .provider_tools import ProviderTool
from .tools import Tool

if TYPE_CHECKING:
    from .models import Model

__all__ = ["AsyncCallResponse", "CallResponse", "FinishReason", "ResumeContent", "StreamEvents", "Usage"]

FinishReason: TypeAlias = Literal["stop", "max_tokens", "tool_call", "refusal", "content_filter", "other"]
"""Why the model stopped writing."""

ResumeContent: TypeAlias = str | ContentPart | Message | Sequence[str | ContentPart | Message]
"""What `resume` takes: text, parts (tool outputs among them), or whole messages."""


class StreamEvents:
    """A streamed reply's events as they arrived, decoded from JSON the first time they are read.

    Kept as text because almost nobody reads a stream's raw events, and holding every decoded
    event costs each stream more than the rest of its decoding (the garbage collector walks
    every retained container); text costs nearly nothing to keep. `[DONE]` and empty events are
    left out; an event that is not JSON (or nests deeper than `MAX_JSON_DEPTH`) is kept as its text.
    """

    __slots__ = ("_decoded", "_texts")

    def __init__(self, texts: list[str]) -> None:
        self._texts = texts
        self._decoded: list[Any] | None = None

    def decoded(self) -> list[Any]:
        """The events, decoded once and then kept."""
        if self._decoded is None:
            from ._json import parse_json

            events: list[Any] = []
            for text in self._texts:
                if not text or text == "[DONE]":
                    continue
                try:
                    events.append(parse_json(text))
                except ValueError:
                    events.append(text)
            self._decoded = events
        return self._decoded

    def __repr__(self) -> str:
        return repr(self.decoded())


CONTINUE_PROMPT = (
    "Your previous reply was cut off by the output limit. Continue it exactly where it stopped: "
    "write only the rest, without repeating, restarting or commenting on anything."
)
"""What `continue_` asks the model, after a reply cut off at `max_tokens`."""


def plain_raw(raw: object) -> object:
    """`raw` as the user sees it: a stream's events decoded, anything else as it is."""
    return raw.decoded() if isinstance(raw, StreamEvents) else raw


@frozen(kw_only=True)
class Usage:
    """Tokens a call used, counted the same way on every provider."""

    input_tokens: int = 0
    """Every token of the prompt, cached ones included."""
    output_tokens: int = 0
    """Every token the model wrote, reasoning included."""
    cache_read_tokens: int = 0
    """Prompt tokens served from the provider's cache (part of `input_tokens`)."""
    cache_write_tokens: int = 0
    """Prompt tokens written to the provider's cache (part of `input_tokens`)."""
    reasoning_tokens: int = 0
    """Tokens spent thinking (part of `output_tokens`)."""

    @property
    def total_tokens(self) -> int:
        """Input and output tokens together."""
        return self.input_tokens + self.output_tokens


def _added(first: Usage | None, second: Usage | None) -> Usage | None:
    if first is None or second is None:
        return second or first
    return Usage(
        input_tokens=first.input_tokens + second.input_tokens,
        output_tokens=first.output_tokens + second.output_tokens,
        cache_read_tokens=first.cache_read_tokens + second.cache_read_tokens,
        cache_write_tokens=first.cache_write_tokens + second.cache_write_tokens,
        reasoning_tokens=first.reasoning_tokens + second.reasoning_tokens,
    )


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
    provider_params: Mapping[str, object] = field(factory=dict[str, object])
    """Provider-specific parameters the call was made with; `resume` reuses them."""
    metadata: Mapping[str, object] = field(factory=dict[str, object])
    """Metadata the prompt function returned in its `DynamicConfig`."""
    client: Client | None = field(default=None, eq=False, repr=False)
    """The client that made the call; `resume` uses it again. Not serialized."""
    tools: Sequence[Tool[..., Any]] = field(default=(), eq=False, repr=False)
    """The tools the call offered; `resume` offers them again. Not serialized."""
    provider_tools: Sequence[ProviderTool] = field(default=(), eq=False, repr=False)
    """The tools the provider ran itself (`llm.WebSearch`); `resume` offers them again. Not serialized."""
    format: Format[T] | None = field(default=None, eq=False, repr=False)
    """The structured output asked for; `parse` reads the reply into it. Not serialized."""
    max_retries: int = field(default=0, eq=False, repr=False)
    """How many times `validate` asks again for a reply that does not parse. Not serialized."""
    retries: int | None = field(default=None, eq=False, repr=False)
    """The call's `retries=` (failed requests sent again); `resume` keeps it. Not serialized."""
    fallback: tuple[str, ...] = field(default=(), eq=False, repr=False)
    """The models still left to fall back to after the one that answered; `resume` keeps them.
    Not serialized."""
    _context: Context[Any] | None = field(default=None, eq=False, repr=False, alias="context")
    # The `llm.Context` the prompt function was called with: tools asking for one get it, and
    # `resume` carries it on. Not serialized.
    _parsed: list[Any] = field(factory=list[Any], init=False, eq=False, repr=False)
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

    def __str__(self) -> str:
        return self.content

    def parse(self) -> T:
        """The reply as the call's `response_model` (its text, when the call has none).

        Raises:
            ParseError: The reply does not fit the response model; the error keeps the text.
        """
        if self.format is None:
            return self.content  # pyright: ignore[reportReturnType]
        parsed = self._parsed
        if not parsed:
            parsed.append(self.format.parse(self.content))
        return parsed[0]

    def _continuation(self) -> tuple[Message, ...]:
        """The conversation that asks for the rest of a reply cut off at `max_tokens`."""
        if self.finish_reason != "max_tokens":
            from .exceptions import Error

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
        import attrs

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
            usage=_added(self.usage, rest.usage),
            cost=None if self.cost is None or rest.cost is None else self.cost + rest.cost,
        )

    def _retry(self, retries: int) -> tuple[Message, ...] | None:
        """The conversation to re-ask with when the reply does not parse; `None` when it does.

        A reply with tool calls is not the answer yet, and counts as parsing.

        Raises:
            ParseError: The reply does not parse and `retries` is 0; it carries this response.
        """
        if self.format is None or self.finish_reason == "tool_call":
            return None
        try:
            self.parse()
        except ParseError as error:
            if retries <= 0:
                error.response = self
                raise
            return self._next_messages(error.retry_message())
        return None

    def _model(self) -> Model[T]:
        from .models import Model

        return Model(
            self.model,
            client=self.client,
            provider_params=self.provider_params,
            tools=(*self.tools, *self.provider_tools),
            response_model=self.format,
            max_retries=self.max_retries,
            retries=self.retries,
            fallback=self.fallback,
            **self.params,
        )

    def to_dict(self) -> dict[str, Any]:
        """This response as plain JSON-ready data; `from_dict` restores it."""
        from .serialization import to_dict

        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a response from `to_dict` output (for instance after a JSON round-trip)."""
        from .serialization import from_dict

        return from_dict(cls, data)

    def _next_messages(self, content: ResumeContent) -> tuple[Message, ...]:
        if isinstance(content, Message):
            return (*self.messages, content)
        if isinstance(content, str) or not isinstance(content, Sequence):
            return (*self.messages, user(content))
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
        return (*self.messages, *new)


@frozen(kw_only=True)
class CallResponse(_ResponseData[T]):
    """The result of a call: the reply, the conversation so far, and how it went."""

    def resume(self, content: ResumeContent) -> CallResponse[T]:
        """Send the conversation plus `content` to the same model; return the next response.

        Args:
            content: Text, parts such as `llm.ToolOutput`, or messages to append.
        """
        return self._model()._call(self._next_messages(content), self.metadata, self._context)  # pyright: ignore[reportPrivateUsage]

    def continue_(self) -> CallResponse[T]:
        """The whole reply, when this one was cut off at `max_tokens`.

        The model is asked for the rest, and the pieces are joined into one reply (and one JSON
        text, for structured output). A call with `continue_on_max_tokens=N` does this itself, up to N times.

        Raises:
            Error: The reply was not cut off at `max_tokens`.
        """
        rest = self._model()._call(self._continuation(), self.metadata, self._context, validate=False)  # pyright: ignore[reportPrivateUsage]
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
        retries = self.max_retries if max_retries is None else max_retries
        while (retry := response._retry(retries)) is not None:
            retries -= 1
            response = response._model()._call(retry, response.metadata, response._context, validate=False)  # pyright: ignore[reportPrivateUsage]
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
        from ._execute import execute

        return execute(self.tools, self.tool_calls, ctx or self._context)


@frozen(kw_only=True)
class AsyncCallResponse(_ResponseData[T]):
    """The result of an async call; `resume` is awaited."""

    async def resume(self, content: ResumeContent) -> AsyncCallResponse[T]:
        """Send the conversation plus `content` to the same model; return the next response.

        Args:
            content: Text, parts such as `llm.ToolOutput`, or messages to append.
        """
        return await self._model()._call_async(self._next_messages(content), self.metadata, self._context)  # pyright: ignore[reportPrivateUsage]

    async def continue_(self) -> AsyncCallResponse[T]:
        """The whole reply, when this one was cut off at `max_tokens` (see `llm.CallResponse.continue_`)."""
        model = self._model()
        rest = await model._call_async(self._continuation(), self.metadata, self._context, validate=False)  # pyright: ignore[reportPrivateUsage]
        return self._joined(rest)

    async def validate(self, max_retries: int | None = None) -> AsyncCallResponse[T]:
        """This response if its reply parses, else the first retry whose reply does.

        As `llm.CallResponse.validate`, awaited.
        """
        response: AsyncCallResponse[T] = self
        retries = self.max_retries if max_retries is None else max_retries
        while (retry := response._retry(retries)) is not None:
            retries -= 1
            model = response._model()
            response = await model._call_async(retry, response.metadata, response._context, validate=False)  # pyright: ignore[reportPrivateUsage]
        return response

    async def execute_tools(self, ctx: Context[Any] | None = None) -> list[ToolOutput]:
        """Run every tool call of the reply, async tools concurrently; outputs keep the calls' order.

        Failures become outputs with `is_error=True`, as with `CallResponse.execute_tools`; `ctx`
        is as there.
        """
        from ._execute import execute_async

        return await execute_async(self.tools, self.tool_calls, ctx or self._context)
