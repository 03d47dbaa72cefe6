"""Chat Completions streams (`chat.completion.chunk` events) → llm chunks and the whole reply."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from mirascope import llm
from mirascope.llm.providers import Decoded, Request, new_chunk, no_reply

from .._shared import obj, objs
from .decode import FINISH, THINK_CLOSE, THINK_OPEN, content_parts, parts_of, usage

if TYPE_CHECKING:
    from mirascope.llm.providers.http import ErrorSource
    from mirascope.llm.providers.sse import ServerSentEvent

_NONE: tuple[llm.Chunk, ...] = ()
_loads = json.loads
_Chunk = llm.Chunk


class _Call:
    __slots__ = ("args", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.args: list[str] = []


class _ThinkTags:
    """Routes streamed text to thinking or content for a reply that may open with `<think>`.

    Text is held back only while it could still be part of a tag, so the reply streams as it
    arrives; `split_thinking` gives the same split for the whole reply.
    """

    __slots__ = ("pending", "state", "strip")

    def __init__(self) -> None:
        self.pending = ""
        self.state = "start"  # then "think" inside the tags, "text" after them or without them
        self.strip = False  # the answer's leading whitespace after `</think>` is dropped

    def feed(self, text: str) -> tuple[str, str]:
        """The content and the thinking that `text` releases."""
        self.pending += text
        thinking = ""
        if self.state == "start":
            head = self.pending.lstrip()
            if len(head) < len(THINK_OPEN) and THINK_OPEN.startswith(head):
                return "", ""  # still possibly the opening tag
            if not head.startswith(THINK_OPEN):
                self.state = "text"
            else:
                self.state = "think"
                self.pending = head[len(THINK_OPEN) :]
        if self.state == "think":
            end = self.pending.find(THINK_CLOSE)
            if end < 0:
                keep = next(
                    (n for n in range(len(THINK_CLOSE) - 1, 0, -1) if self.pending.endswith(THINK_CLOSE[:n])), 0
                )
                thinking = self.pending[: len(self.pending) - keep]
                self.pending = self.pending[len(thinking) :]
                return "", thinking
            thinking = self.pending[:end]
            self.pending = self.pending[end + len(THINK_CLOSE) :]
            self.state, self.strip = "text", True
        content, self.pending = self.pending, ""
        if self.strip:
            content = content.lstrip()
            self.strip = not content
        return content, thinking


class CompletionsStream:
    """Reads one streamed Chat Completions reply."""

    __slots__ = (
        "_calls",
        "_finish",
        "_id",
        "_model",
        "_plain",
        "_provider",
        "_reasoning",
        "_reasoning_details",
        "_refusal",
        "_request",
        "_tags",
        "_text",
        "_usage",
    )

    def __init__(self, provider: ErrorSource, request: Request) -> None:
        self._provider = provider
        self._request = request
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._reasoning_details: dict[int, dict[str, Any]] | None = None
        self._refusal: list[str] = []
        self._calls: dict[int, _Call] = {}
        self._finish: str | None = None
        self._usage: llm.Usage | None = None
        self._id: str | None = None
        self._model: str | None = None
        # Whether the reply's text is known to hold no `<think>` tags (then it takes the hot path).
        self._plain = False
        self._tags: _ThinkTags | None = None

    def event(self, event: ServerSentEvent) -> tuple[llm.Chunk, ...]:
        """The chunks of one `chat.completion.chunk` event (`[DONE]` has none)."""
        data = event.data
        if data == "[DONE]" or not data:
            return _NONE
        body: dict[str, Any] = _loads(data)
        if self._id is None:
            return self._general(body)  # the first event: its id and model are kept there
        try:
            (choice,) = body["choices"]
            delta: dict[str, Any] = choice["delta"]
            # The hot path, nearly every event of a stream: a text delta and nothing else.
            if len(delta) == 1 and choice["finish_reason"] is None and body.get("usage") is None:
                content: str = delta["content"]
                if content and self._plain and content.__class__ is str:
                    self._text.append(content)
                    return (new_chunk(_Chunk, (content, "", None, None, None, body)),)
        except (KeyError, TypeError, ValueError):
            pass  # any other shape takes the general path
        return self._general(body)

    def _general(self, body: dict[str, Any]) -> tuple[llm.Chunk, ...]:
        if "error" in body:
            from mirascope.llm.providers.http import error_from_event

            from ..errors import CODES

            raise error_from_event(self._provider, body, codes=CODES)
        if self._id is None:
            self._id = body.get("id")
            self._model = body.get("model")
        chunk_usage = None
        if body.get("usage"):
            chunk_usage = self._usage = usage(body["usage"])
        choices = objs(body.get("choices"))
        if not choices:
            return (llm.Chunk(usage=chunk_usage, raw=body),) if chunk_usage is not None else _NONE
        choice = choices[0]
        delta = obj(choice.get("delta"))
        finish: str | None = choice.get("finish_reason")
        finish_reason: llm.FinishReason | None = None
        if finish:
            self._finish = finish
            finish_reason = FINISH.get(finish, "other")
        content: str = delta.get("content") or ""
        thinking: str = delta.get("reasoning_content") or delta.get("reasoning") or ""
        if isinstance(content, list):
            # Thinking and text parts (Mistral's reasoning models): no `<think>` tags to look for.
            content, listed = content_parts(cast("list[Any]", content))
            thinking += listed
            self._plain = True
        if thinking:
            self._reasoning.append(thinking)
            self._plain = True  # reasoning beside the answer: the text holds none
        details = delta.get("reasoning_details")
        if details:
            self._details(details)
        if content:
            self._text.append(content)
            if not self._plain:
                content, tagged = self._route(content)
                thinking += tagged
        refusal: str | None = delta.get("refusal")
        if refusal:
            self._refusal.append(refusal)
            content = refusal
        tool_calls = objs(delta.get("tool_calls"))
        if not tool_calls:
            if not (content or thinking or finish_reason or chunk_usage):
                return _NONE
            return (
                llm.Chunk(content=content, thinking=thinking, finish_reason=finish_reason, usage=chunk_usage, raw=body),
            )
        chunks: list[llm.Chunk] = []
        for position, piece in enumerate(tool_calls):
            index: int = piece.get("index", position)
            call = self._calls.get(index)
            if call is None:
                call = self._calls[index] = _Call()
            function = obj(piece.get("function"))
            call_id: str | None = piece.get("id")
            name: str | None = function.get("name")
            args: str = function.get("arguments") or ""
            if call_id:
                call.id = call_id
            if name:
                call.name = name
            if args:
                call.args.append(args)
            delta_part = llm.ToolCallDelta(index=index, id=call_id, name=name, args=args)
            first = not chunks
            chunks.append(
                llm.Chunk(
                    content=content if first else "",
                    thinking=thinking if first else "",
                    tool_call_delta=delta_part,
                    finish_reason=finish_reason if first else None,
                    usage=chunk_usage if first else None,
                    raw=body,
                )
            )
        return tuple(chunks)

    def _details(self, details: object) -> None:
        """Gather OpenRouter's streamed `reasoning_details`: pieces of one detail share its `index`."""
        gathered = self._reasoning_details
        if gathered is None:
            gathered = self._reasoning_details = {}
        for position, piece in enumerate(objs(details)):
            index = piece.get("index", position)
            detail = gathered.get(index)
            if detail is None:
                gathered[index] = dict(piece)
                continue
            for key, value in piece.items():
                if key in ("text", "summary", "data") and isinstance(value, str) and isinstance(detail.get(key), str):
                    detail[key] += value
                elif value is not None:
                    detail[key] = value

    def _route(self, content: str) -> tuple[str, str]:
        """The content and thinking of a text delta, while the reply may open with `<think>`."""
        tags = self._tags
        if tags is None:
            if len(self._text) > 1 or content.lstrip()[:1] not in ("", "<"):
                self._plain = True
                return content, ""
            tags = self._tags = _ThinkTags()
        routed = tags.feed(content)
        if tags.state == "text" and not tags.strip:
            self._plain = True
        return routed

    def finish(self) -> Decoded:
        """The reply assembled so far, as the non-streaming decoder would give it.

        Raises:
            APIError: Nothing of a reply arrived: no choice, or only empty ones, and no finish reason.
        """
        message: dict[str, Any] = {"role": "assistant"}
        if self._reasoning:
            message["reasoning_content"] = "".join(self._reasoning)
        if self._reasoning_details:
            message["reasoning_details"] = [self._reasoning_details[index] for index in sorted(self._reasoning_details)]
        text = "".join(self._text)
        if text:
            message["content"] = text
        refusal = "".join(self._refusal)
        if refusal:
            message["refusal"] = refusal
        calls = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": "".join(call.args)}}
            for call in (self._calls[index] for index in sorted(self._calls))
        ]
        if calls:
            message["tool_calls"] = calls
        if self._finish is None and len(message) == 1:
            raise no_reply(self._request, None, "the stream ended with no choice in any event")
        parts = parts_of(message)
        finish = "refusal" if refusal else FINISH.get(self._finish, "other")
        return Decoded(
            message=llm.Message(role="assistant", content=tuple(parts), model=self._request.model_id, raw=message),
            finish_reason=finish,
            usage=self._usage,
            id=self._id,
            provider_model=self._model,
        )
