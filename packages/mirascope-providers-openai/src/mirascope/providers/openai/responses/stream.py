"""Responses API streams (`response.*` events) → llm chunks and the whole reply."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from mirascope import llm
from mirascope.llm.providers import Decoded, Request, new_chunk, no_reply

from .._shared import obj
from ..errors import CODES
from .decode import decode

if TYPE_CHECKING:
    from mirascope.llm.providers.http import ErrorSource
    from mirascope.llm.providers.sse import ServerSentEvent

_NONE: tuple[llm.Chunk, ...] = ()
_loads = json.loads
_Chunk = llm.Chunk

# An error inside a stream has no HTTP status to go by, only the code OpenAI puts in the event.
STREAM_CODES: dict[str, type[llm.APIError]] = {
    **CODES,
    "rate_limit_exceeded": llm.RateLimitError,
    "insufficient_quota": llm.RateLimitError,
    "server_error": llm.ServerError,
    "context_length_exceeded": llm.BadRequestError,
    "invalid_prompt": llm.BadRequestError,
}


class _Item:
    """One output item as it streams in: what `response.output_item.added` said, and the deltas since."""

    __slots__ = ("call", "done", "item", "parts")

    def __init__(self, item: dict[str, Any], call: int) -> None:
        self.item = item
        self.call = call
        self.done = False
        # content_index (or summary_index) → (part type, text pieces); only read if the stream is cut.
        self.parts: dict[int, tuple[str, list[str]]] = {}

    def add(self, index: int, kind: str, delta: str) -> None:
        part = self.parts.get(index)
        if part is None:
            part = self.parts[index] = (kind, [])
        part[1].append(delta)

    def so_far(self) -> dict[str, Any]:
        """The item as `response.output_item.done` would have sent it, from what arrived."""
        if self.done:
            return self.item
        kind = self.item.get("type")
        parts = [(part, "".join(pieces)) for _, (part, pieces) in sorted(self.parts.items())]
        if kind == "message":
            content: list[dict[str, Any]] = [
                {"type": "refusal", "refusal": text}
                if part == "refusal"
                else {"type": "output_text", "text": text, "annotations": []}
                for part, text in parts
            ]
            return {**self.item, "status": "incomplete", "content": content}
        if kind == "function_call":
            arguments = "".join(text for _, text in parts)
            return {**self.item, "status": "incomplete", "arguments": arguments}
        if kind == "reasoning":
            return {**self.item, "summary": [{"type": "summary_text", "text": text} for _, text in parts]}
        return self.item


class ResponsesStream:
    """Reads one streamed Responses API reply."""

    __slots__ = (
        "_calls",
        "_deltas",
        "_final",
        "_id",
        "_items",
        "_model",
        "_provider",
        "_request",
        "_thought",
    )

    def __init__(self, provider: ErrorSource, request: Request) -> None:
        self._provider = provider
        self._request = request
        # The text delta events as they arrived (text is cheap to keep): read if the stream is cut.
        self._deltas: list[str] = []
        self._items: dict[int, _Item] = {}
        self._calls = 0
        self._thought = False
        self._final: Decoded | None = None
        self._id: str | None = None
        self._model: str | None = None

    def event(self, event: ServerSentEvent) -> tuple[llm.Chunk, ...]:
        """The chunks of one `response.*` event; raises the typed `llm.APIError` for a failure."""
        data = event.data
        if not data or data == "[DONE]":
            return _NONE
        body: dict[str, Any] = _loads(data)
        kind: str = body.get("type", "")
        if kind == "response.output_text.delta":
            # The hot path. The final event carries the text whole; the event's text is kept
            # for a stream cut short before it (see `_output`).
            delta: str | None = body.get("delta")
            if not delta:
                return _NONE
            self._deltas.append(data)
            return (new_chunk(_Chunk, (delta, "", None, None, None, body)),)
        handler = self._DISPATCH.get(kind)
        return _NONE if handler is None else handler(self, body)

    def _refusal(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        delta: str = body.get("delta") or ""
        item = self._items.get(body.get("output_index", -1))
        if item is not None:
            item.add(body.get("content_index", 0), "refusal", delta)
        return (new_chunk(_Chunk, (delta, "", None, None, None, body)),) if delta else _NONE

    def _arguments(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        delta: str = body.get("delta") or ""
        item = self._items.get(body.get("output_index", -1))
        if item is None or not delta:
            return _NONE  # arguments of a call never announced have no index to go under
        item.add(0, "arguments", delta)
        return (llm.Chunk(tool_call_delta=llm.ToolCallDelta(index=item.call, args=delta), raw=body),)

    def _summary(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        delta: str = body.get("delta") or ""
        item = self._items.get(body.get("output_index", -1))
        if item is not None:
            item.add(body.get("summary_index", 0), "summary_text", delta)
        if not delta:
            return _NONE
        self._thought = True
        return (new_chunk(_Chunk, ("", delta, None, None, None, body)),)

    def _summary_part(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        # The reply joins summary parts with a newline; the streamed thinking must read the same.
        return (llm.Chunk(thinking="\n", raw=body),) if self._thought else _NONE

    def _added(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        item = obj(body.get("item"))
        index: int = body.get("output_index", len(self._items))
        if item.get("type") != "function_call":
            self._items[index] = _Item(item, -1)
            return _NONE
        call = self._calls
        self._calls += 1
        state = self._items[index] = _Item(item, call)
        arguments: str = item.get("arguments") or ""
        if arguments:
            state.add(0, "arguments", arguments)
        delta = llm.ToolCallDelta(index=call, id=item.get("call_id"), name=item.get("name"), args=arguments)
        return (llm.Chunk(tool_call_delta=delta, raw=body),)

    def _item_done(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        item = obj(body.get("item"))
        index: int = body.get("output_index", len(self._items))
        state = self._items.get(index)
        if state is None:
            state = self._items[index] = _Item(item, -1)
        state.item = item
        state.done = True
        return _NONE

    def _started(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        response = obj(body.get("response"))
        self._id = response.get("id") or self._id
        self._model = response.get("model") or self._model
        return _NONE

    def _completed(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        response = obj(body.get("response"))
        output = response.get("output")
        if self._items and (not isinstance(output, list) or len(cast("list[object]", output)) < len(self._items)):
            # A server that leaves items out of the final event (all of them, or a call cut off
            # by max_output_tokens) still streamed them: the reply is what streamed.
            response = {**response, "output": self._output()}
        decoded = self._final = decode(self._request, response)
        return (llm.Chunk(usage=decoded.usage, finish_reason=decoded.finish_reason, raw=body),)

    def _error(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        from mirascope.llm.providers.http import error_from_event

        raise error_from_event(self._provider, body, codes=STREAM_CODES)

    def _failed(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        from mirascope.llm.providers.http import error_from_event

        response = obj(body.get("response"))
        error = error_from_event(self._provider, response, codes=STREAM_CODES)
        if type(error) is llm.APIError:
            # No code said otherwise: a reply that failed while generating is the server's failure.
            error = llm.ServerError(
                error.message,
                provider=error.provider,
                body=error.body,
                hint="The model failed while generating; retry, or check the request.",
            )
        raise error

    def _output(self) -> list[dict[str, Any]]:
        for data in self._deltas:
            body = _loads(data)
            item = self._items.get(body.get("output_index", -1))
            if item is not None and not item.done:
                item.add(body.get("content_index", 0), "output_text", body.get("delta") or "")
        self._deltas = []
        return [self._items[index].so_far() for index in sorted(self._items)]

    def finish(self) -> Decoded:
        """The reply as the non-streaming decoder gives it; for a stream cut short, what arrived.

        Raises:
            APIError: Nothing of a reply arrived: no `response.created`, no output item.
        """
        if self._final is not None:
            return self._final
        if self._id is None and not self._items:
            raise no_reply(self._request, None, "the stream ended before the response was created")
        # No final event: the items so far, marked incomplete so the finish reason says "other".
        body: dict[str, Any] = {"id": self._id, "model": self._model, "status": "incomplete", "output": self._output()}
        return decode(self._request, body)

    # One dict lookup per event picks its handler; events with nothing for the user have none.
    _DISPATCH: ClassVar[dict[str, Callable[[ResponsesStream, dict[str, Any]], tuple[llm.Chunk, ...]]]] = {
        "response.reasoning_summary_text.delta": _summary,
        "response.function_call_arguments.delta": _arguments,
        "response.refusal.delta": _refusal,
        "response.reasoning_summary_part.added": _summary_part,
        "response.output_item.added": _added,
        "response.output_item.done": _item_done,
        "response.created": _started,
        "response.in_progress": _started,
        "response.completed": _completed,
        "response.incomplete": _completed,
        "response.failed": _failed,
        "error": _error,
    }
