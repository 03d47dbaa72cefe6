"""ConverseStream events → llm chunks, and the whole reply.

The event-stream framing hands over each event as a `ServerSentEvent` named by its
`:event-type` (`messageStart`, `contentBlockStart`, `contentBlockDelta`, `contentBlockStop`,
`messageStop`, `metadata`) with its JSON payload as `data`; an exception as
`exception:<type>`, a protocol error as `error:<code>`.

The events are folded back into the body the same call without streaming would have returned,
and `finish` decodes that body with `decode.decode`: a streamed reply and a plain one come out
equal, and `resume` sends back the same blocks (reasoning text, signature, redacted content)
either way.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from mirascope import llm
from mirascope.llm.providers import Decoded, Request, new_chunk, no_reply, parse_tool_args

from . import decode

if TYPE_CHECKING:
    from mirascope.llm.providers.sse import ServerSentEvent

__all__ = ["ConverseStream"]

_NONE: tuple[llm.Chunk, ...] = ()
_loads = json.JSONDecoder().decode  # `json.loads` without its wrapper: str in, as the framing gives it
_Chunk = llm.Chunk

_TEXT = 0
_REASONING = 1
_TOOL = 2


class _Block:
    """One content block as it arrives: its start (a tool call's id and name), then its deltas."""

    __slots__ = ("call", "citations", "kind", "pieces", "redacted", "signature", "start")

    def __init__(self, kind: int, start: dict[str, Any] | None = None, call: int = -1) -> None:
        self.kind = kind
        self.start = start
        self.call = call
        """Its position among the reply's tool calls, or -1 when it is no `toolUse` block."""
        self.pieces: list[str] = []
        self.signature: list[str] | None = None
        self.redacted: list[str] | None = None
        self.citations: list[Any] | None = None

    def assemble(self) -> dict[str, Any]:
        """The block as the non-streaming reply holds it."""
        text = "".join(self.pieces)
        if self.kind == _TOOL:
            call = dict(self.start or {})
            call["input"] = parse_tool_args(text)
            return {"toolUse": call}
        if self.kind == _REASONING:
            if self.redacted is not None and not self.pieces and self.signature is None:
                return {"reasoningContent": {"redactedContent": _joined_base64(self.redacted)}}
            said: dict[str, Any] = {"text": text}
            if self.signature is not None:
                said["signature"] = "".join(self.signature)
            return {"reasoningContent": {"reasoningText": said}}
        if self.citations is not None:
            return {"citationsContent": {"content": [{"text": text}], "citations": self.citations}}
        return {"text": text}


def _joined_base64(pieces: list[str]) -> str:
    """Redacted reasoning sent in several deltas: the bytes joined, as one base64 blob."""
    if len(pieces) == 1:
        return pieces[0]  # the usual case, kept exactly as sent
    return base64.b64encode(b"".join(base64.b64decode(piece) for piece in pieces)).decode("ascii")


class ConverseStream:
    """Reads one ConverseStream reply."""

    __slots__ = ("_blocks", "_calls", "_provider", "_request", "_role", "_stop", "_thoughts", "_usage")

    def __init__(self, request: Request) -> None:
        self._request = request
        self._provider = request.model_id.partition(":")[0]
        self._thoughts = decode.includes_thoughts(request)
        self._blocks: dict[int, _Block] = {}
        self._calls = 0
        self._role: str | None = None
        self._stop: str | None = None
        self._usage: dict[str, Any] | None = None

    def event(self, event: ServerSentEvent) -> tuple[llm.Chunk, ...]:
        """The chunks one event carries; an exception or error event raises its `llm.APIError`."""
        name = event.event
        if name == "contentBlockDelta":
            body: dict[str, Any] = _loads(event.data)
            delta: dict[str, Any] = body["delta"]
            index: int = body["contentBlockIndex"]
            text: str | None = delta.get("text")
            if text is not None:  # the hot path, nearly every event of a reply
                block = self._blocks.get(index)
                if block is None:
                    block = self._blocks[index] = _Block(_TEXT)
                block.pieces.append(text)
                return (new_chunk(_Chunk, (text, "", None, None, None, body)),) if text else _NONE
            return self._delta(index, delta, body)
        if name == "contentBlockStart":
            return self._start(_loads(event.data))
        if name == "messageStop":
            body = _loads(event.data)
            stop: str | None = body.get("stopReason")
            self._stop = stop
            return (new_chunk(_Chunk, ("", "", None, None, decode.FINISH.get(stop, "other"), body)),)
        if name == "metadata":
            body = _loads(event.data)
            self._usage = body.get("usage")
            counts = decode.usage(self._usage)
            return (new_chunk(_Chunk, ("", "", None, counts, None, body)),) if counts is not None else _NONE
        if name == "messageStart":
            self._role = _loads(event.data).get("role") or "assistant"
            return _NONE
        if name.startswith(("exception:", "error:")):
            from .errors import stream_error

            raise stream_error(self._provider, name, event.data)
        # contentBlockStop carries nothing new; unknown events are skipped, as Bedrock may add some.
        return _NONE

    def _delta(self, index: int, delta: dict[str, Any], body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        reasoning: dict[str, Any] | None = delta.get("reasoningContent")
        if reasoning is not None:
            block = self._blocks.get(index)
            if block is None:
                block = self._blocks[index] = _Block(_REASONING)
            signature: str | None = reasoning.get("signature")
            if signature is not None:
                if block.signature is None:
                    block.signature = []
                block.signature.append(signature)
            redacted: str | None = reasoning.get("redactedContent")
            if redacted is not None:
                if block.redacted is None:
                    block.redacted = []
                block.redacted.append(redacted)
            thinking: str | None = reasoning.get("text")
            if not thinking:
                return _NONE
            block.pieces.append(thinking)
            return (new_chunk(_Chunk, ("", thinking, None, None, None, body)),) if self._thoughts else _NONE
        call: dict[str, Any] | None = delta.get("toolUse")
        if call is not None:
            block = self._blocks.get(index)
            if block is None or block.kind != _TOOL:
                return _NONE  # arguments for a call that never started have no call to join
            partial: str = call.get("input") or ""
            if not partial:
                return _NONE
            block.pieces.append(partial)
            return (llm.Chunk(tool_call_delta=llm.ToolCallDelta(index=block.call, args=partial), raw=body),)
        citation: dict[str, Any] | None = delta.get("citation")
        if citation is not None:
            block = self._blocks.get(index)
            if block is None:
                block = self._blocks[index] = _Block(_TEXT)
            if block.citations is None:
                block.citations = []
            block.citations.append(citation)
        # Deltas of server tools' results and images are Bedrock's own: nothing for the caller.
        return _NONE

    def _start(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        start: dict[str, Any] = body.get("start") or {}
        index: int = body.get("contentBlockIndex", len(self._blocks))
        call: dict[str, Any] | None = start.get("toolUse")
        if call is None:
            return _NONE  # text and reasoning blocks start with their first delta
        position = self._calls
        self._calls += 1
        self._blocks[index] = _Block(_TOOL, call, position)
        delta = llm.ToolCallDelta(index=position, id=call.get("toolUseId"), name=call.get("name"))
        return (llm.Chunk(tool_call_delta=delta, raw=body),)

    def finish(self) -> Decoded:
        """The reply so far, exactly as the non-streaming decoder gives it, also for a stream cut short.

        Raises:
            APIError: Nothing of a reply arrived: no `messageStart`, no content block.
        """
        blocks = self._blocks
        if self._role is None and not blocks:
            raise no_reply(self._request, None, "the stream ended before its message started")
        content = [blocks[index].assemble() for index in sorted(blocks)]
        body: dict[str, Any] = {"output": {"message": {"role": self._role or "assistant", "content": content}}}
        if self._stop is not None:
            body["stopReason"] = self._stop
        if self._usage is not None:
            body["usage"] = self._usage
        return decode.decode(self._request, body)
