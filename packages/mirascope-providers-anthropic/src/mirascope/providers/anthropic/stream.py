"""Anthropic Messages streams (named Server-Sent Events) → llm chunks, and the whole reply.

The events are folded back into the body the same call without streaming would have returned,
and `finish` decodes that body with `decode.decode`: a streamed reply and a plain one come out
equal, and `resume` sends back the same blocks either way.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mirascope import llm
from mirascope.llm.providers import Decoded, Request, new_chunk, no_reply, parse_tool_args

from . import decode

if TYPE_CHECKING:
    from mirascope.llm.providers.http import ErrorSource
    from mirascope.llm.providers.sse import ServerSentEvent

__all__ = ["MessagesStream"]

_NONE: tuple[llm.Chunk, ...] = ()
_loads = json.loads
_Chunk = llm.Chunk


class _Block:
    """One content block as it arrives: what `content_block_start` sent, then its deltas."""

    __slots__ = ("call", "citations", "pieces", "signature", "start")

    def __init__(self, start: dict[str, Any], call: int) -> None:
        self.start = start
        self.call = call
        """Its position among the reply's tool calls, or -1 when it is no `tool_use` block."""
        self.pieces: list[str] = []
        self.signature: str | None = None
        self.citations: list[Any] | None = None

    def assemble(self) -> dict[str, Any]:
        """The block as the non-streaming reply holds it; the start event's body is left as sent."""
        block = dict(self.start)
        if self.pieces:
            text = "".join(self.pieces)
            kind = block.get("type")
            if kind == "text" or kind == "thinking":
                block[kind] = (block.get(kind) or "") + text
            else:
                block["input"] = parse_tool_args(text)
        if self.signature is not None:
            block["signature"] = (block.get("signature") or "") + self.signature
        if self.citations is not None:
            block["citations"] = [*(block.get("citations") or ()), *self.citations]
        return block


class MessagesStream:
    """Reads one streamed Messages API reply."""

    __slots__ = ("_blocks", "_calls", "_message", "_provider", "_request", "_thoughts", "_usage")

    def __init__(self, provider: ErrorSource, request: Request) -> None:
        self._provider = provider
        self._request = request
        self._thoughts = decode.includes_thoughts(request)
        self._blocks: dict[int, _Block] = {}
        self._calls = 0
        self._message: dict[str, Any] = {}
        # Cumulative, as message_delta reports it; message_start's counts stand until replaced.
        self._usage: dict[str, Any] = {}

    def event(self, event: ServerSentEvent) -> tuple[llm.Chunk, ...]:
        """The chunks one event carries; an `error` event raises its `llm.APIError`."""
        data = event.data
        if not data:
            return _NONE
        body: dict[str, Any] = _loads(data)
        try:
            # The hot path, nearly every event of a reply: a text delta to a known block.
            delta: dict[str, Any] = body["delta"]
            if delta["type"] == "text_delta" and body["type"] == "content_block_delta":
                text: str = delta["text"]
                if text:
                    self._blocks[body["index"]].pieces.append(text)
                    return (new_chunk(_Chunk, (text, "", None, None, None, body)),)
        except (KeyError, TypeError):
            pass  # any other event takes the general path
        # The body's own `type` rather than the SSE name: a proxy may drop `event:` lines.
        kind = body.get("type")
        if kind == "content_block_delta":
            block = self._blocks.get(body.get("index", -1))
            if block is None:
                return _NONE  # a delta for a block that never started has nowhere to go
            delta = body.get("delta") or {}
            delta_kind = delta.get("type")
            if delta_kind == "text_delta":
                text: str = delta.get("text") or ""
                if not text:
                    return _NONE
                block.pieces.append(text)
                return (new_chunk(_Chunk, (text, "", None, None, None, body)),)
            if delta_kind == "input_json_delta":
                partial: str = delta.get("partial_json") or ""
                if not partial:
                    return _NONE
                block.pieces.append(partial)
                if block.call < 0:
                    return _NONE  # a server tool's input: Anthropic runs it, the caller doesn't
                return (llm.Chunk(tool_call_delta=llm.ToolCallDelta(index=block.call, args=partial), raw=body),)
            if delta_kind == "thinking_delta":
                thinking: str = delta.get("thinking") or ""
                if not thinking:
                    return _NONE
                block.pieces.append(thinking)
                return (new_chunk(_Chunk, ("", thinking, None, None, None, body)),) if self._thoughts else _NONE
            if delta_kind == "signature_delta":
                block.signature = (block.signature or "") + (delta.get("signature") or "")
            elif delta_kind == "citations_delta":
                if block.citations is None:
                    block.citations = []
                block.citations.append(delta.get("citation"))
            return _NONE
        if kind == "content_block_start":
            return self._start(body)
        if kind == "message_delta":
            return self._message_delta(body)
        if kind == "message_start":
            message: dict[str, Any] = body.get("message") or {}
            self._message = dict(message)
            self._usage = dict(message.get("usage") or {})
            return _NONE
        if kind == "error":
            from mirascope.llm.providers.http import error_from_event

            from .errors import CODES

            raise error_from_event(self._provider, body, codes=CODES)
        # content_block_stop, message_stop and ping carry nothing new; unknown events are skipped,
        # as Anthropic asks of clients, since it may add event types.
        return _NONE

    def _start(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        start: dict[str, Any] = body.get("content_block") or {}
        kind = start.get("type")
        index: int = body.get("index", len(self._blocks))
        if kind == "tool_use":
            call = self._calls
            self._calls += 1
            self._blocks[index] = _Block(start, call)
            delta = llm.ToolCallDelta(index=call, id=start.get("id"), name=start.get("name"))
            return (llm.Chunk(tool_call_delta=delta, raw=body),)
        self._blocks[index] = _Block(start, -1)
        # Blocks start empty in practice; text sent up front would still be the caller's.
        if kind == "text" and start.get("text"):
            return (llm.Chunk(content=start["text"], raw=body),)
        if kind == "thinking" and start.get("thinking") and self._thoughts:
            return (llm.Chunk(thinking=start["thinking"], raw=body),)
        return _NONE

    def _message_delta(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        delta: dict[str, Any] = body.get("delta") or {}
        message = self._message
        for key, value in delta.items():
            if value is not None:
                message[key] = value
        counts: dict[str, Any] = body.get("usage") or {}
        usage = self._usage
        for key, value in counts.items():
            if value is not None:
                usage[key] = value
        stop: str | None = delta.get("stop_reason")
        return (
            llm.Chunk(
                usage=decode.usage(usage),
                finish_reason=decode.FINISH.get(stop, "other") if stop else None,
                raw=body,
            ),
        )

    def finish(self) -> Decoded:
        """The reply so far, exactly as the non-streaming decoder gives it, also for a stream cut short.

        Raises:
            APIError: Nothing of a reply arrived: no `message_start`, no content block.
        """
        blocks = self._blocks
        if not self._message and not blocks:
            raise no_reply(self._request, None, "the stream ended before its message started")
        content = [blocks[index].assemble() for index in sorted(blocks)]
        return decode.decode(self._request, {**self._message, "content": content, "usage": self._usage})
