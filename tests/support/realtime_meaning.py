"""Realtime messages by meaning, and an independent reading of what a recorded server said.

The recordings were made by another library, so a message we send is compared with the
recorded one by what it means: `event_id` aside, `client_content` equal to `clientContent`,
base64 audio as the bytes it carries (standard or URL-safe alphabet), JSON text of tool
arguments and outputs as the values it holds, and Gemini tool schemas after putting JSON
Schema and Gemini's Schema (upper-case types, `nullable`) in one form.

`read_openai` / `read_google` read a recording's received messages without the library's
codecs: what a user of a session must see, turn by turn.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from collections.abc import Sequence
from typing import Any

import attrs
from mirascope import llm

# Keys whose string value is base64 audio (OpenAI `audio`/`delta`, Gemini `data`).
_BASE64_KEYS = {"audio", "data", "delta"}
# Keys whose string value is JSON text (tool-call arguments, tool outputs).
_JSON_TEXT_KEYS = {"arguments", "output"}
# Keys whose children are names the user chose (schema properties, tool args): never re-spelled.
_NAME_MAPS = {"properties", "args"}
_SCHEMA_KEYS = {"parameters", "parametersJsonSchema"}


def _camel(key: str) -> str:
    return re.sub(r"_([a-z])", lambda match: match.group(1).upper(), key)


def audio_bytes(text: str) -> bytes | None:
    """The bytes of base64 text in either alphabet, or `None` if it is not base64."""
    if not text or len(text) < 4:
        return None
    standard = text.translate(str.maketrans("-_", "+/"))
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


@attrs.frozen
class Bytes:
    """Decoded audio in a canonical message: compared by value, shown by size."""

    data: bytes

    def __repr__(self) -> str:
        return f"<{len(self.data)} bytes>"


class Truncated:
    """Recorded audio cut short: the cassettes keep only the first 44 base64 characters (33 bytes)
    of each audio string. Sent audio means the same when it begins with these bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Truncated):
            return other.data == self.data
        return isinstance(other, Bytes) and other.data.startswith(self.data)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # pyright: ignore[reportAssignmentType]

    def __repr__(self) -> str:
        return f"<first {len(self.data)} bytes of recorded audio>"


TRUNCATED_LENGTH = 44
"""The length of every audio string in the OpenAI and Azure recordings."""


def _schema(node: Any) -> Any:
    """A JSON Schema or Gemini Schema in one form: lower-case types, `nullable` for optional."""
    if isinstance(node, list):
        return [_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    for variants_key in ("anyOf", "oneOf"):
        variants = node.get(variants_key)
        if isinstance(variants, list):
            kept = [variant for variant in variants if variant != {"type": "null"}]
            if len(kept) == 1 and len(kept) < len(variants):
                del node[variants_key]
                node.update(kept[0])
                node["nullable"] = True
    kind = node.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest = [item for item in kind if item != "null"]
        node["type"] = rest[0] if len(rest) == 1 else rest
        node["nullable"] = True
    if isinstance(node.get("type"), str):
        node["type"] = node["type"].lower()
    if node.get("nullable") is False:
        del node["nullable"]
    for noise in ("title", "additionalProperties"):
        node.pop(noise, None)
    if "default" in node and node["default"] is None:
        del node["default"]
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _schema(sub) for name, sub in value.items()}
        elif key == "required" and isinstance(value, list):
            out[key] = sorted(value)
        else:
            out[key] = _schema(value)
    return out


def canonical(node: Any, *, gemini_schemas: bool = True, _names: bool = False) -> Any:
    """A realtime JSON message in a form where equal meaning is equal value."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "event_id":
                continue
            name = key if _names else _camel(key)
            if name in _SCHEMA_KEYS and gemini_schemas and isinstance(value, dict):
                out["parameters"] = canonical(_schema(value), gemini_schemas=False)
                continue
            if name in _BASE64_KEYS and isinstance(value, str):
                decoded = audio_bytes(value)
                if decoded is not None:
                    truncated = len(value) == TRUNCATED_LENGTH and len(decoded) % 2 == 1
                    out[name] = Truncated(decoded) if truncated else Bytes(decoded)
                    continue
            if name in _JSON_TEXT_KEYS and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            out[name] = canonical(value, gemini_schemas=gemini_schemas, _names=name in _NAME_MAPS)
        return out
    if isinstance(node, list):
        return [canonical(item, gemini_schemas=gemini_schemas) for item in node]
    return node


def first_difference(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Where two canonical messages first differ, said briefly; `None` when they are equal."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                return f"{path}.{key}: missing (recorded {_short(expected[key])})"
            if key not in expected:
                return f"{path}.{key}: not recorded (sent {_short(actual[key])})"
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path}: {len(actual)} items sent, {len(expected)} recorded"
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        return None
    if expected != actual:
        return f"{path}: sent {_short(actual)}, recorded {_short(expected)}"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 200 else text[:200] + "..."


def same_meaning(recorded: Any, sent: Any) -> str | None:
    """`None` if the sent message means what the recorded one does, else where they differ."""
    return first_difference(canonical(recorded), canonical(sent))


# ---------------------------------------------------------------------------------------------
# An independent reading of what the server said.


@attrs.frozen(kw_only=True)
class ToolCallSeen:
    id: str
    name: str
    args: dict[str, Any]


@attrs.frozen(kw_only=True)
class TurnReading:
    """What one turn (to its end, tool rounds included) carried."""

    text: str = ""
    output_transcript: str = ""
    input_transcript_deltas: str = ""
    """The user's words as streamed (may differ in spacing from the final transcript)."""
    input_transcript: str = ""
    """The user's words as finally transcribed (the deltas when no final one came)."""
    audio: bytes = b""
    tool_calls: tuple[ToolCallSeen, ...] = ()
    usage: llm.Usage | None = None
    errors: tuple[str, ...] = ()
    """The error codes/messages of errors the session survives."""
    spoken: bool = False
    """The user's turn was speech (the server committed input audio)."""


@attrs.frozen(kw_only=True)
class Reading:
    turns: tuple[TurnReading, ...]

    @property
    def audio(self) -> bytes:
        return b"".join(turn.audio for turn in self.turns)


@attrs.define
class _Turn:
    text: list[str] = attrs.field(factory=list[str])
    transcript: dict[str, str] = attrs.field(factory=dict[str, str])
    transcript_order: list[str] = attrs.field(factory=list[str])
    input_deltas: dict[str, str] = attrs.field(factory=dict[str, str])
    input_final: dict[str, str] = attrs.field(factory=dict[str, str])
    input_order: list[str] = attrs.field(factory=list[str])
    audio: list[bytes] = attrs.field(factory=list[bytes])
    tool_calls: list[ToolCallSeen] = attrs.field(factory=list[ToolCallSeen])
    usage: llm.Usage | None = None
    errors: list[str] = attrs.field(factory=list[str])
    spoken: bool = False

    def finish(self) -> TurnReading:
        return TurnReading(
            text="".join(self.text),
            output_transcript="".join(self.transcript[item] for item in self.transcript_order),
            input_transcript_deltas="".join(self.input_deltas.get(item, "") for item in self.input_order),
            input_transcript=" ".join(
                self.input_final.get(item, self.input_deltas.get(item, "")).strip() for item in self.input_order
            ),
            audio=b"".join(self.audio),
            tool_calls=tuple(self.tool_calls),
            usage=self.usage,
            errors=tuple(self.errors),
            spoken=self.spoken,
        )


def _add(first: llm.Usage | None, second: llm.Usage) -> llm.Usage:
    if first is None:
        return second
    return llm.Usage(
        input_tokens=first.input_tokens + second.input_tokens,
        output_tokens=first.output_tokens + second.output_tokens,
        cache_read_tokens=first.cache_read_tokens + second.cache_read_tokens,
        cache_write_tokens=first.cache_write_tokens + second.cache_write_tokens,
        reasoning_tokens=first.reasoning_tokens + second.reasoning_tokens,
    )


def _b64(text: str) -> bytes:
    decoded = audio_bytes(text)
    assert decoded is not None, f"not base64 audio: {text[:40]!r}"
    return decoded


def read_openai(received: Sequence[dict[str, Any]]) -> Reading:
    """OpenAI / Azure realtime (GA protocol): turns end at a `response.done` without function calls."""
    turns: list[TurnReading] = []
    turn = _Turn()
    for message in received:
        kind = message.get("type")
        if kind == "input_audio_buffer.committed":
            turn.spoken = True
        elif kind == "response.output_text.delta":
            turn.text.append(message["delta"])
        elif kind == "response.output_audio.delta":
            turn.audio.append(_b64(message["delta"]))
        elif kind == "response.output_audio_transcript.delta":
            item = message["item_id"]
            if item not in turn.transcript:
                turn.transcript_order.append(item)
            turn.transcript[item] = turn.transcript.get(item, "") + message["delta"]
        elif kind == "response.output_audio_transcript.done":
            item = message["item_id"]
            if item not in turn.transcript:
                turn.transcript_order.append(item)
                turn.transcript[item] = message["transcript"]
        elif kind == "conversation.item.input_audio_transcription.delta":
            item = message["item_id"]
            if item not in turn.input_order:
                turn.input_order.append(item)
            turn.input_deltas[item] = turn.input_deltas.get(item, "") + message["delta"]
        elif kind == "conversation.item.input_audio_transcription.completed":
            item = message["item_id"]
            if item not in turn.input_order:
                turn.input_order.append(item)
            turn.input_final[item] = message["transcript"]
        elif kind == "conversation.item.input_audio_transcription.failed" or kind == "error":
            error = message.get("error") or {}
            turn.errors.append(f"{error.get('code')}: {error.get('message')}")
        elif kind == "response.function_call_arguments.done":
            turn.tool_calls.append(
                ToolCallSeen(id=message["call_id"], name=message["name"], args=json.loads(message["arguments"]))
            )
        elif kind == "response.done":
            response = message["response"]
            usage = response.get("usage")
            if usage:
                input_details = usage.get("input_token_details") or {}
                output_details = usage.get("output_token_details") or {}
                turn.usage = _add(
                    turn.usage,
                    llm.Usage(
                        input_tokens=usage.get("input_tokens", 0),
                        output_tokens=usage.get("output_tokens", 0),
                        cache_read_tokens=input_details.get("cached_tokens", 0),
                        reasoning_tokens=output_details.get("reasoning_tokens", 0),
                    ),
                )
            calls = [item for item in response.get("output", []) if item.get("type") == "function_call"]
            if not calls:
                turns.append(turn.finish())
                turn = _Turn()
    return Reading(turns=tuple(turns))


def read_google(received: Sequence[dict[str, Any]]) -> Reading:
    """Gemini Live: a turn ends at `turnComplete`; thought parts are not the model's words.

    Usage counts thinking as output (core's rule): output = responseTokenCount + thoughtsTokenCount.
    """
    turns: list[TurnReading] = []
    turn = _Turn()
    for message in received:
        for call in (message.get("toolCall") or {}).get("functionCalls", []):
            turn.tool_calls.append(ToolCallSeen(id=call.get("id", ""), name=call["name"], args=call.get("args") or {}))
        content = message.get("serverContent") or {}
        for part in (content.get("modelTurn") or {}).get("parts", []):
            if "inlineData" in part:
                turn.audio.append(_b64(part["inlineData"]["data"]))
            elif "text" in part and not part.get("thought"):
                turn.text.append(part["text"])
        if "inputTranscription" in content:
            text = content["inputTranscription"].get("text", "")
            if "in" not in turn.input_order:
                turn.input_order.append("in")
            turn.input_deltas["in"] = turn.input_deltas.get("in", "") + text
            turn.spoken = True
        if "outputTranscription" in content:
            if "out" not in turn.transcript:
                turn.transcript_order.append("out")
            turn.transcript["out"] = turn.transcript.get("out", "") + content["outputTranscription"].get("text", "")
        metadata = message.get("usageMetadata")
        if metadata:
            thoughts = metadata.get("thoughtsTokenCount", 0)
            turn.usage = llm.Usage(
                input_tokens=metadata.get("promptTokenCount", 0) + metadata.get("toolUsePromptTokenCount", 0),
                output_tokens=metadata.get("responseTokenCount", 0) + thoughts,
                cache_read_tokens=metadata.get("cachedContentTokenCount", 0),
                reasoning_tokens=thoughts,
            )
        if content.get("turnComplete"):
            turns.append(turn.finish())
            turn = _Turn()
    return Reading(turns=tuple(turns))


def read(protocol: str, received: Sequence[dict[str, Any]]) -> Reading:
    return read_google(received) if protocol == "google" else read_openai(received)


def words(text: str) -> str:
    """Text with its spacing normalised (a streamed transcript may begin with a space the final one lacks)."""
    return " ".join(text.split())
