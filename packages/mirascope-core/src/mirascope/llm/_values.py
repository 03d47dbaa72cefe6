"""The small values at the bottom of core: what a provider decodes a reply into, piece by piece.

`Usage`, `FinishReason`, `Chunk`, `ToolCallDelta` and a stream's kept events import nothing of
core above them, so responses, streams and the provider interface can all use them without
importing one another.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, TypeAlias

from attrs import frozen

from ._json import parse_json

__all__ = ["Chunk", "FinishReason", "StreamEvents", "ToolCallDelta", "Usage", "added_usage", "plain_raw"]

FinishReason: TypeAlias = Literal["stop", "max_tokens", "tool_call", "refusal", "content_filter", "other"]
"""Why the model stopped writing."""


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


def added_usage(first: Usage | None, second: Usage | None) -> Usage | None:
    """Two calls' token counts together (either may be unknown)."""
    if first is None or second is None:
        return second or first
    return Usage(
        input_tokens=first.input_tokens + second.input_tokens,
        output_tokens=first.output_tokens + second.output_tokens,
        cache_read_tokens=first.cache_read_tokens + second.cache_read_tokens,
        cache_write_tokens=first.cache_write_tokens + second.cache_write_tokens,
        reasoning_tokens=first.reasoning_tokens + second.reasoning_tokens,
    )


@frozen(kw_only=True)
class ToolCallDelta:
    """A piece of a tool call as it streams in: id and name first, then argument text."""

    index: int
    """Which tool call of the reply this piece belongs to (0 for the first)."""
    id: str | None = None
    """The provider's id for the call, on its first piece."""
    name: str | None = None
    """The tool's name, on its first piece."""
    args: str = ""
    """The next fragment of the JSON arguments."""


class Chunk(NamedTuple):
    """One piece of a streamed reply; build it with keyword arguments.

    A named tuple rather than an attrs class: one is made for every event of every stream,
    and a frozen attrs instance costs about three times as much to build (see the core README).
    """

    content: str = ""
    """New reply text (`""` when this chunk carries none)."""
    thinking: str = ""
    """New reasoning text."""
    tool_call_delta: ToolCallDelta | None = None
    """A piece of a tool call."""
    usage: Usage | None = None
    """Token counts, on the chunk where the provider sends them."""
    finish_reason: FinishReason | None = None
    """Why the model stopped, on the chunk that says so."""
    raw: Any = None
    """The provider's decoded event."""


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


def plain_raw(raw: object) -> object:
    """`raw` as the user sees it: a stream's events decoded, anything else as it is."""
    return raw.decoded() if isinstance(raw, StreamEvents) else raw
