"""`streamGenerateContent?alt=sse` replies: llm chunks as events arrive, the whole reply at the end.

Every event is a whole `GenerateContentResponse` holding the next parts of the reply. The
decoder merges them into the body `generateContent` would have returned, and `finish` decodes
that body with the non-streaming `decode`, so a streamed reply is the same `Decoded`, down to
the `message.raw` that `resume` sends back.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mirascope import llm
from mirascope.llm.providers import Decoded, Request, new_chunk

from .decode import FINISH_REASONS, decode, usage
from .encode import GENERATED_ID_PREFIX

if TYPE_CHECKING:
    from mirascope.llm.providers.http import ErrorSource
    from mirascope.llm.providers.sse import ServerSentEvent

__all__ = ["GoogleStream"]

_NONE: tuple[llm.Chunk, ...] = ()
_loads = json.loads
_Chunk = llm.Chunk


class GoogleStream:
    """Reads one streamed Gemini reply (the `StreamDecoder` of the `google:` provider).

    Consecutive text parts of one kind (answer, or thought) join into one part, as in a
    `generateContent` reply; a `thoughtSignature` rides on the joined part, which Gemini sends on
    the last piece of a run. Two signed pieces are never joined, so no signature is lost.
    Function calls, images and other parts are kept as sent.
    """

    __slots__ = (
        "_calls",
        "_candidate",
        "_grounding",
        "_id",
        "_model",
        "_parts",
        "_provider",
        "_reason",
        "_request",
        "_role",
        "_run",
        "_run_part",
        "_run_thought",
        "_texts",
        "_usage",
    )

    def __init__(self, provider: ErrorSource, request: Request) -> None:
        self._provider = provider
        self._request = request
        self._parts: list[dict[str, Any]] = []
        # The pieces of each merged text part, by its index in `_parts`, joined by `finish`.
        self._texts: dict[int, list[str]] = {}
        # The text part the next text piece may join: its pieces, its dict, its kind.
        self._run: list[str] | None = None
        self._run_part: dict[str, Any] = {}
        self._run_thought = False
        self._calls = 0
        self._candidate = False
        # The last non-empty `groundingMetadata` (Google Search grounding), sent with the last event.
        self._grounding: dict[str, Any] | None = None
        self._role: str | None = None
        self._reason: str | None = None
        self._usage: dict[str, Any] | None = None
        self._id: str | None = None
        self._model: str | None = None

    def event(self, event: ServerSentEvent) -> tuple[llm.Chunk, ...]:
        """The chunks of one event: one per text, thought or function-call part it carries."""
        data = event.data
        if not data:
            return _NONE
        body: dict[str, Any] = _loads(data)
        if "error" in body:
            from mirascope.llm.providers.http import error_from_event

            from .errors import CODES

            raise error_from_event(self._provider, body, codes=CODES)
        run = self._run
        if run is not None and not self._run_thought:
            try:
                # The hot path, nearly every event of a reply: one more plain text part, which
                # joins the answer text before it.
                (candidate,) = body["candidates"]
                (part,) = candidate["content"]["parts"]
                text: str = part["text"]
                if (
                    text
                    and len(part) == 1
                    and "finishReason" not in candidate
                    and not candidate.get("groundingMetadata")
                ):
                    run.append(text)
                    metadata: dict[str, Any] | None = body.get("usageMetadata")
                    if metadata:
                        self._usage = metadata
                    return (new_chunk(_Chunk, (text, "", None, None, None, body)),)
            except (KeyError, TypeError, ValueError):
                pass  # any other shape takes the general path
        # Every event repeats these; usage is a running total, so the last one is the reply's.
        self._id = body.get("responseId") or self._id
        self._model = body.get("modelVersion") or self._model
        metadata = body.get("usageMetadata")
        if metadata:
            self._usage = metadata
        candidates: list[dict[str, Any]] | None = body.get("candidates")
        if not candidates:
            return self._no_candidate(body, metadata)
        self._candidate = True
        candidate = candidates[0]
        grounding: dict[str, Any] | None = candidate.get("groundingMetadata")
        if grounding:
            self._grounding = grounding
        content: dict[str, Any] | None = candidate.get("content")
        chunks: list[llm.Chunk] = []
        if content:
            self._role = content.get("role") or self._role or "model"
            for part in content.get("parts") or ():
                chunk = self._part(part, body)
                if chunk is not None:
                    chunks.append(chunk)
        reason: str | None = candidate.get("finishReason")
        if reason is None:
            return tuple(chunks) if chunks else _NONE
        self._reason = reason
        # Once per reply: the last chunk says why it ended and what it cost.
        finish: llm.FinishReason = "tool_call" if self._calls else FINISH_REASONS.get(reason, "other")
        total = usage(self._usage)
        if not chunks:
            return (llm.Chunk(finish_reason=finish, usage=total, raw=body),)
        last = chunks[-1]
        chunks[-1] = llm.Chunk(
            content=last.content,
            thinking=last.thinking,
            tool_call_delta=last.tool_call_delta,
            finish_reason=finish,
            usage=total,
            raw=body,
        )
        return tuple(chunks)

    def _part(self, part: dict[str, Any], body: dict[str, Any]) -> llm.Chunk | None:
        text: str | None = part.get("text")
        if text is not None:
            thought = bool(part.get("thought"))
            signature: str | None = part.get("thoughtSignature")
            run = self._run
            if (
                run is not None
                and self._run_thought == thought
                and (signature is None or "thoughtSignature" not in self._run_part)
            ):
                run.append(text)
                if signature is not None:
                    self._run_part["thoughtSignature"] = signature
            else:
                # A copy: the event bodies in `raw` stay exactly as received.
                self._run_part = dict(part)
                self._run = self._texts[len(self._parts)] = [text]
                self._run_thought = thought
                self._parts.append(self._run_part)
            if not text:
                return None
            if thought:
                return new_chunk(_Chunk, ("", text, None, None, None, body))
            return new_chunk(_Chunk, (text, "", None, None, None, body))
        self._run = None
        call: dict[str, Any] | None = part.get("functionCall")
        # The id `decode` gives a call Gemini sent without one depends on its place among the parts.
        index = len(self._parts)
        self._parts.append(part)
        if call is None:
            return None
        name: str = call.get("name", "")
        delta = llm.ToolCallDelta(
            index=self._calls,
            id=call.get("id") or f"{GENERATED_ID_PREFIX}{name}_{index}",
            name=name,
            # Gemini sends each call whole: its arguments are one delta.
            args=json.dumps(call.get("args") or {}),
        )
        self._calls += 1
        return llm.Chunk(tool_call_delta=delta, raw=body)

    def _no_candidate(self, body: dict[str, Any], metadata: dict[str, Any] | None) -> tuple[llm.Chunk, ...]:
        feedback: dict[str, Any] | None = body.get("promptFeedback")
        if feedback and feedback.get("blockReason"):
            # The prompt was blocked before any candidate: `decode` reads that as content_filter.
            self._reason = feedback["blockReason"]
            return (llm.Chunk(finish_reason="content_filter", usage=usage(metadata), raw=body),)
        if metadata and self._reason is not None:
            # Counts sent after the last candidate replace those of the final chunk.
            return (llm.Chunk(usage=usage(metadata), raw=body),)
        return _NONE

    def finish(self) -> Decoded:
        """The reply so far, decoded as `generateContent`'s body for it would be.

        A reply cut short (no `finishReason` arrived) ends with `"other"`, unless it holds tool
        calls, which Gemini sends whole.

        Raises:
            APIError: Nothing of a reply arrived (see `decode`).
        """
        body: dict[str, Any] = {}
        if self._candidate:
            texts = self._texts
            parts = [
                {**part, "text": "".join(texts[index])} if index in texts else part
                for index, part in enumerate(self._parts)
            ]
            candidate: dict[str, Any] = {}
            if self._role is not None:
                candidate["content"] = {"role": self._role, "parts": parts}
            if self._reason is not None:
                candidate["finishReason"] = self._reason
            if self._grounding is not None:
                candidate["groundingMetadata"] = self._grounding
            body["candidates"] = [candidate]
        elif self._reason is not None:  # the prompt was blocked (`_no_candidate`)
            body["promptFeedback"] = {"blockReason": self._reason}
        if self._usage is not None:
            body["usageMetadata"] = self._usage
        if self._id is not None:
            body["responseId"] = self._id
        if self._model is not None:
            body["modelVersion"] = self._model
        decoded = decode(self._request, body)
        if self._reason is not None or decoded.finish_reason == "tool_call":
            return decoded
        return Decoded(
            message=decoded.message,
            finish_reason="other",
            usage=decoded.usage,
            id=decoded.id,
            provider_model=decoded.provider_model,
        )
