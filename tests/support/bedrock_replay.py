"""Replaying the recorded Bedrock exchanges (`tests/fixtures/bedrock/`) through the user-level API.

- `encode_event`: an AWS event-stream message, written here from the format's description (a
  12-byte prelude with its CRC32, string headers, the payload, a CRC32 of the whole message), apart
  from the package's own encoder so that a shared mistake cannot hide.
- `BedrockServer`: a real HTTP server on 127.0.0.1 answering each request with the next queued
  reply, its body written in the pieces given; it keeps what it was sent.
- `plan_for`: the user-level call a recorded Converse request body comes from: `llm.Message`
  values, `llm.Tool`s with the recorded schemas, call parameters, `response_model`,
  `provider_params`.
- `reading_of`: an independent reading of a recorded reply (text, tool calls, thoughts, usage,
  finish reason), and `assembled_body`, the plain Converse body a recorded stream adds up to.
- `bedrock_meaning`: a request body's meaning, for comparing ours with the recorded one.
- `expected_signature`: a received request's SigV4 signature, recomputed here from its canonical
  request, so that each request (and each retry) is checked to be signed over what was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import struct
import threading
import zlib
from collections import deque
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote, unquote, urlsplit

import attrs
from mirascope import llm

from tests.support.fixtures import fixtures_dir
from tests.support.meaning import meaning

EVENTSTREAM = "application/vnd.amazon.eventstream"

# The test credentials of AWS's published Signature Version 4 examples: never a real key.
ACCESS_KEY_ID = "AKIDEXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"


# --- finding and loading recordings -------------------------------------------------------------


def bedrock_dir() -> Path:
    return fixtures_dir() / "bedrock"


def recordings() -> list[str]:
    """Every recording on disk, as `<test>/<model>/<mode>.json`, sorted: unseen ones are picked up too."""
    root = bedrock_dir()
    return sorted(path.relative_to(root).as_posix() for path in root.glob("*/*/*.json"))


def load(relative: str) -> dict[str, Any]:
    return json.loads((bedrock_dir() / relative).read_text())


def request_body(request: Mapping[str, Any]) -> dict[str, Any] | None:
    """The recorded request's JSON body; `None` when what was recorded is not JSON."""
    if "json" in request:
        return request["json"]
    try:
        return json.loads(request.get("text") or "")
    except ValueError:
        return None


def action_of(request: Mapping[str, Any]) -> str:
    """`converse`, `converse-stream` or `count-tokens`."""
    return urlsplit(request["url"]).path.rsplit("/", 1)[-1]


def model_of(request: Mapping[str, Any]) -> str:
    """The model id, as the recorded URL carries it percent-encoded."""
    path = urlsplit(request["url"]).path
    return unquote(path.removeprefix("/model/").rsplit("/", 1)[0])


# --- the event stream ---------------------------------------------------------------------------

_STRING = 7


def encode_event(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers."""
    encoded = bytearray()
    for name, value in headers.items():
        name_bytes, value_bytes = name.encode(), value.encode()
        encoded += struct.pack(">B", len(name_bytes)) + name_bytes
        encoded += struct.pack(">BH", _STRING, len(value_bytes)) + value_bytes
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + bytes(encoded) + payload
    return message + struct.pack(">I", zlib.crc32(message))


def encode_events(events: Sequence[Mapping[str, Any]]) -> bytes:
    """A recorded `aws_eventstream` list as the bytes Bedrock sent."""
    out = bytearray()
    for event in events:
        data = event["data"]
        payload = data.encode() if isinstance(data, str) else json.dumps(data, separators=(",", ":")).encode()
        out += encode_event(event["headers"], payload)
    return bytes(out)


def message_bounds(body: bytes) -> list[int]:
    """Where each message of an event-stream body starts, read from the total lengths."""
    starts: list[int] = []
    offset = 0
    while offset < len(body):
        starts.append(offset)
        offset += struct.unpack_from(">I", body, offset)[0]
    return starts


def encode_response(response: Mapping[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body bytes of a recorded response."""
    headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
    if "aws_eventstream" in response:
        body = encode_events(response["aws_eventstream"])
        headers["content-type"] = EVENTSTREAM
    elif "json" in response:
        body = json.dumps(response["json"], ensure_ascii=False).encode()
        headers.setdefault("content-type", "application/json")
    else:
        body = str(response.get("text", "")).encode()
    return int(response["status"]), headers, body


# --- the server ---------------------------------------------------------------------------------


@attrs.define
class Received:
    """A request as the server saw it."""

    method: str
    path: str
    raw_path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@attrs.frozen
class Reply:
    """What the server answers one request with; the body is written in `pieces`, flushed apart."""

    status: int
    headers: Mapping[str, str]
    pieces: tuple[bytes, ...]

    @classmethod
    def recorded(cls, response: Mapping[str, Any], cuts: Sequence[int] = ()) -> Reply:
        status, headers, body = encode_response(response)
        return cls(status, headers, cut(body, cuts))


def cut(body: bytes, cuts: Sequence[int]) -> tuple[bytes, ...]:
    edges = [0, *sorted({c for c in cuts if 0 < c < len(body)}), len(body)]
    return tuple(body[a:b] for a, b in itertools.pairwise(edges) if b > a) or (b"",)


class BedrockServer:
    """Answers each request with the next queued reply (599 when none is left); keeps every request."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                raw_path = urlsplit(self.path).path
                with server._lock:
                    server.received.append(Received(self.command, unquote(raw_path), raw_path, headers, body))
                    reply = server._queue.popleft() if server._queue else None
                if reply is None:
                    reply = Reply(599, {"content-type": "text/plain"}, (b"no reply queued",))
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    if name not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("content-length", str(sum(len(p) for p in reply.pieces)))
                self.end_headers()
                for piece in reply.pieces:
                    self.wfile.write(piece)
                    self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def queue(self, replies: Sequence[Reply]) -> int:
        """Queue replies in place of any left; returns how many requests were received so far."""
        with self._lock:
            self._queue.clear()
            self._queue.extend(replies)
            return len(self.received)

    def since(self, start: int) -> list[Received]:
        with self._lock:
            return self.received[start:]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> BedrockServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def bedrock_client(base_url: str, **options: Any) -> llm.Client:
    """A `bedrock` client for a local server, signing with AWS's example test credentials."""
    return llm.client(
        "bedrock",
        base_url=base_url,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
        **options,
    )


# --- a recorded request as the user-level call that makes it ------------------------------------

_FORMATS = {
    "image": {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"},
    "document": {
        "pdf": "application/pdf",
        "txt": "text/plain",
        "md": "text/markdown",
        "csv": "text/csv",
        "html": "text/html",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls": "application/vnd.ms-excel",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    },
    "video": {
        "mp4": "video/mp4",
        "mov": "video/quicktime",
        "mkv": "video/x-matroska",
        "webm": "video/webm",
        "flv": "video/x-flv",
        "mpeg": "video/mpeg",
        "mpg": "video/mpeg",
        "wmv": "video/x-ms-wmv",
        "three_gp": "video/3gpp",
    },
    "audio": {
        "mp3": "audio/mpeg",
        "mpeg": "audio/mpeg",
        "wav": "audio/wav",
        "flac": "audio/flac",
        "ogg": "audio/ogg",
        "aac": "audio/aac",
        "m4a": "audio/mp4",
        "opus": "audio/opus",
        "webm": "audio/webm",
    },
}
_PARTS: dict[str, type[llm.Image] | type[llm.Document] | type[llm.Video] | type[llm.Audio]] = {
    "image": llm.Image,
    "document": llm.Document,
    "video": llm.Video,
    "audio": llm.Audio,
}


class Unconvertible(Exception):
    """The recorded request holds something the user-level API has no way to ask for."""


def mime_of(kind: str, fmt: str) -> str:
    if "/" in fmt:  # a hand-written recording may give the media type itself
        return fmt
    try:
        return _FORMATS[kind][fmt]
    except KeyError:
        raise Unconvertible(f"no media type known for {kind} format {fmt!r}") from None


def media_part(kind: str, block: Mapping[str, Any]) -> llm.Image | llm.Document | llm.Video | llm.Audio:
    part = _PARTS[kind]
    mime = mime_of(kind, block["format"])
    source = block["source"]
    if "bytes" in source:
        return part.from_bytes(base64.b64decode(source["bytes"]), mime_type=mime)
    if "s3Location" in source:
        return part.from_url(source["s3Location"]["uri"], mime_type=mime)
    if "text" in source:  # a document given as text
        return part.from_bytes(source["text"].encode(), mime_type="text/plain")
    raise Unconvertible(f"{kind} source {sorted(source)}")


def tool_output(result: Mapping[str, Any], names: Mapping[str, str]) -> llm.ToolOutput:
    parts: list[llm.Text | llm.Image | llm.Document | llm.Video | llm.Audio] = []
    value: object = None
    for item in result.get("content", []):
        if "text" in item:
            parts.append(llm.Text(item["text"]))
        elif "json" in item:
            value = item["json"]
        else:
            kind = next(k for k in item if k in _PARTS)
            parts.append(media_part(kind, item[kind]))
    tool_id = result["toolUseId"]
    name = names.get(tool_id, "")
    is_error = result.get("status") == "error"
    if value is not None and not parts:
        return llm.ToolOutput(id=tool_id, name=name, value=value, is_error=is_error)
    if len(parts) == 1 and isinstance(parts[0], llm.Text):
        # A tool that returned text: its result, not a content part.
        return llm.ToolOutput(id=tool_id, name=name, result=parts[0].text, is_error=is_error)
    return llm.ToolOutput(id=tool_id, name=name, content=tuple(parts), is_error=is_error)


def content_parts(blocks: Sequence[Mapping[str, Any]], names: dict[str, str]) -> list[llm.ContentPart]:
    parts: list[llm.ContentPart] = []
    for block in blocks:
        if "text" in block:
            parts.append(llm.Text(block["text"]))
        elif "cachePoint" in block:
            parts.append(llm.CacheControl())
        elif "toolUse" in block:
            use = block["toolUse"]
            names[use["toolUseId"]] = use["name"]
            parts.append(llm.ToolCall(id=use["toolUseId"], name=use["name"], args=dict(use.get("input") or {})))
        elif "toolResult" in block:
            parts.append(tool_output(block["toolResult"], names))
        elif "reasoningContent" in block:
            reasoning = block["reasoningContent"]
            if "reasoningText" in reasoning:
                text = reasoning["reasoningText"]
                parts.append(llm.Thought(text=text.get("text", ""), signature=text.get("signature")))
            else:
                raise Unconvertible("redacted reasoning in a conversation not continued from a reply")
        else:
            kind = next((k for k in block if k in _PARTS), None)
            if kind is None:
                raise Unconvertible(f"content block {sorted(block)}")
            parts.append(media_part(kind, block[kind]))
    return parts


def to_message(recorded: Mapping[str, Any], names: dict[str, str], model_id: str) -> llm.Message:
    parts = content_parts(recorded["content"], names)
    if recorded["role"] == "assistant":
        # The recorded turns were the model's own: its reasoning signatures are good for it.
        return llm.Message(role="assistant", content=tuple(parts), model=model_id)
    return llm.messages.user(parts)


def _recorded_tool(spec: Mapping[str, Any]) -> llm.Tool[..., Any]:
    def run(**kwargs: Any) -> str:
        raise AssertionError("a replayed tool is never run")

    made: llm.Tool[..., Any] = llm.Tool(
        run, name=spec["name"], description=spec.get("description"), parameters=dict(spec["inputSchema"]["json"])
    )
    # Strict as recorded, with the recorded schema as it was sent (not rewritten into strict form).
    made.strict = bool(spec.get("strict", False))
    return made


class _Shape(TypedDict):
    # A stand-in type: the recorded schema, name and description replace what it would give.
    value: str


def _format(json_schema: Mapping[str, Any]) -> llm.Format[Any]:
    """A response model asking for exactly the recorded schema, with its name and description."""
    schema = json_schema["schema"]
    made: llm.Format[Any] = llm.Format(_Shape)
    made.schema = json.loads(schema) if isinstance(schema, str) else dict(schema)
    made.name = json_schema["name"]
    made.description = json_schema.get("description")
    made.wrapped = False
    return made


_PARAMS = {"maxTokens": "max_tokens", "temperature": "temperature", "topP": "top_p", "stopSequences": "stop"}


@attrs.frozen
class Plan:
    """The user-level call that should send a recorded request."""

    model_id: str
    messages: tuple[llm.Message, ...]
    tools: tuple[llm.Tool[..., Any] | llm.CacheControl, ...]
    params: Mapping[str, Any]
    provider_params: Mapping[str, Any]
    response_model: llm.Format[Any] | None
    stream: bool

    def model(self, client: llm.Client) -> llm.Model[Any]:
        return llm.model(
            self.model_id,
            client=client,
            tools=list(self.tools) or None,
            response_model=self.response_model,
            provider_params=dict(self.provider_params) or None,
            **self.params,
        )


def plan_for(request: Mapping[str, Any], history: Sequence[llm.Message] = ()) -> Plan:
    """The call for a recorded request; `history` replaces the first messages (a continued conversation)."""
    body = request_body(request)
    if body is None:
        raise Unconvertible("the recorded request body is not JSON")
    body = dict(body)
    names: dict[str, str] = {}
    for message in history:
        for part in message.content:
            if isinstance(part, llm.ToolCall):
                names[part.id] = part.name
    recorded_messages = body.pop("messages", [])
    messages: list[llm.Message] = []
    system = body.pop("system", None) or []
    if system:
        messages.append(llm.messages.system(content_parts(system, names)))
    messages.extend(history)
    model_id = f"bedrock:{model_of(request)}"
    messages.extend(to_message(m, names, model_id) for m in recorded_messages[len(history) :])

    params: dict[str, Any] = {}
    provider_params: dict[str, Any] = {}
    for key, value in (body.pop("inferenceConfig", None) or {}).items():
        if key in _PARAMS:
            params[_PARAMS[key]] = value
        else:
            provider_params.setdefault("inferenceConfig", {})[key] = value

    extra = dict(body.pop("additionalModelRequestFields", None) or {})
    thinking = extra.pop("thinking", None)
    if isinstance(thinking, Mapping) and thinking.get("type") == "enabled":
        params["thinking"] = llm.Thinking(budget_tokens=thinking["budget_tokens"])
    elif thinking is not None:
        extra["thinking"] = thinking
    if "top_k" in extra:
        params["top_k"] = extra.pop("top_k")
    nested = extra.get("inferenceConfig")
    if isinstance(nested, Mapping) and "topK" in nested:  # Nova's own place for it
        params["top_k"] = nested["topK"]
        rest = {k: v for k, v in nested.items() if k != "topK"}
        if rest:
            extra["inferenceConfig"] = rest
        else:
            del extra["inferenceConfig"]
    if extra:
        provider_params["additionalModelRequestFields"] = extra

    tools: list[llm.Tool[..., Any] | llm.CacheControl] = []
    tool_config = dict(body.pop("toolConfig", None) or {})
    for entry in tool_config.pop("tools", []):
        if "toolSpec" in entry:
            tools.append(_recorded_tool(entry["toolSpec"]))
        elif "cachePoint" in entry:
            tools.append(llm.CacheControl())
        else:
            raise Unconvertible(f"tool entry {sorted(entry)}")
    choice = tool_config.pop("toolChoice", None)
    if choice is not None and "auto" not in choice:
        # Core has no tool_choice: forcing a tool is Bedrock's own setting, given as provider_params.
        tool_config["toolChoice"] = choice
    if tool_config:
        provider_params["toolConfig"] = tool_config

    response_model = None
    output = body.pop("outputConfig", None)
    if output is not None:
        text_format = output.get("textFormat", {})
        if text_format.get("type") == "json_schema" and set(output) == {"textFormat"}:
            response_model = _format(text_format["structure"]["jsonSchema"])
        else:
            provider_params["outputConfig"] = output
    provider_params.update(body)  # performanceConfig, serviceTier, guardrailConfig, ...
    return Plan(
        model_id=model_id,
        messages=tuple(messages),
        tools=tuple(tools),
        params=params,
        provider_params=provider_params,
        response_model=response_model,
        stream=action_of(request) == "converse-stream",
    )


def continues(previous: Mapping[str, Any], reply: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Whether `current`'s conversation is `previous`'s, then `reply` sent back as received, then more.

    Where the recording library rewrote the reply before sending it back (reasoning turned into
    `<think>` text, say), the conversation is replayed as the recording has it instead.
    """
    before = (request_body(previous) or {}).get("messages", [])
    after = (request_body(current) or {}).get("messages", [])
    if len(after) <= len(before) + 1 or meaning(after[: len(before)]) != meaning(before):
        return False
    sent_back = after[len(before)]
    return sent_back["role"] == "assistant" and _as_sent(sent_back["content"]) == _as_sent(reply["content"])


def _as_sent(blocks: Sequence[Mapping[str, Any]]) -> Any:
    # A reply's tool calls carry `type: tool_use`, which a request leaves out.
    return meaning(
        [
            {**b, "toolUse": {k: v for k, v in b["toolUse"].items() if k != "type"}} if "toolUse" in b else b
            for b in blocks
        ]
    )


# --- comparing requests by meaning --------------------------------------------------------------


def bedrock_meaning(body: Mapping[str, Any], *, recorded: Mapping[str, Any] | None = None) -> Any:
    """A Converse body's meaning: `meaning`, with what Bedrock treats as absent left out.

    - empty `system`, `inferenceConfig`, `additionalModelRequestFields` are the same as none;
    - a native output schema is JSON text: its JSON is what it says, not its spacing;
    - `toolChoice: {auto: {}}` is Bedrock's default, the same as none, where the recording sent it
      (where it did not, the model may take no `toolChoice` at all, so none must be sent).
    """
    copied: dict[str, Any] = json.loads(json.dumps(body))
    for key in ("system", "inferenceConfig", "additionalModelRequestFields", "toolConfig"):
        if key in copied and not copied[key]:
            del copied[key]
    body = copied
    structure = body.get("outputConfig", {}).get("textFormat", {}).get("structure", {}).get("jsonSchema")
    if structure is not None and isinstance(structure.get("schema"), str):
        structure["schema"] = json.loads(structure["schema"])
    recorded_choice = ((recorded or body).get("toolConfig") or {}).get("toolChoice")
    tool_config = body.get("toolConfig")
    if tool_config and recorded_choice == {"auto": {}} and tool_config.get("toolChoice") == {"auto": {}}:
        del tool_config["toolChoice"]
    return meaning(body)


# --- an independent reading of a recorded reply -------------------------------------------------

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
    "tool_use": "tool_call",
    "content_filtered": "content_filter",
    "guardrail_intervened": "content_filter",
}


@attrs.frozen
class Reading:
    text: str
    tool_calls: tuple[tuple[str, str, Any], ...]
    thoughts: tuple[str, ...]
    signatures: tuple[str | None, ...]
    redacted: int
    finish_reason: str
    usage: llm.Usage | None


def usage_of(usage: Mapping[str, Any] | None) -> llm.Usage | None:
    if usage is None:
        return None
    read = usage.get("cacheReadInputTokens", 0)
    write = usage.get("cacheWriteInputTokens", 0)
    return llm.Usage(
        input_tokens=usage["inputTokens"] + read + write,
        output_tokens=usage["outputTokens"],
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def reading_of(body: Mapping[str, Any]) -> Reading:
    """What a plain Converse reply says."""
    blocks = body["output"]["message"]["content"]
    text = "".join(b["text"] for b in blocks if "text" in b)
    calls = tuple(
        (b["toolUse"]["toolUseId"], b["toolUse"]["name"], b["toolUse"]["input"]) for b in blocks if "toolUse" in b
    )
    reasoning = [b["reasoningContent"] for b in blocks if "reasoningContent" in b]
    thoughts = tuple(r["reasoningText"].get("text", "") for r in reasoning if "reasoningText" in r)
    signatures = tuple(r["reasoningText"].get("signature") for r in reasoning if "reasoningText" in r)
    redacted = sum(1 for r in reasoning if "redactedContent" in r)
    return Reading(
        text=text,
        tool_calls=calls,
        thoughts=thoughts,
        signatures=signatures,
        redacted=redacted,
        finish_reason=_FINISH.get(body.get("stopReason", ""), "other"),
        usage=usage_of(body.get("usage")),
    )


def assembled_body(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The plain Converse body a recorded stream adds up to, by the documented accumulation rules."""
    blocks: dict[int, dict[str, Any]] = {}
    tool_input: dict[int, str] = {}
    body: dict[str, Any] = {}
    role = "assistant"
    for event in events:
        kind = event["headers"][":event-type"]
        data = event["data"]
        if kind == "messageStart":
            role = data.get("role", role)
        elif kind == "contentBlockStart":
            start = data.get("start", {})
            index = data["contentBlockIndex"]
            if "toolUse" in start:
                blocks[index] = {"toolUse": dict(start["toolUse"])}
                tool_input[index] = ""
        elif kind == "contentBlockDelta":
            index = data["contentBlockIndex"]
            delta = data["delta"]
            if "text" in delta:
                block = blocks.setdefault(index, {"text": ""})
                block["text"] += delta["text"]
            elif "toolUse" in delta:
                tool_input[index] = tool_input.get(index, "") + delta["toolUse"].get("input", "")
            elif "reasoningContent" in delta:
                reasoning = delta["reasoningContent"]
                block = blocks.setdefault(index, {"reasoningContent": {}})["reasoningContent"]
                if "redactedContent" in reasoning:
                    block["redactedContent"] = block.get("redactedContent", "") + reasoning["redactedContent"]
                else:
                    text = block.setdefault("reasoningText", {})
                    if "text" in reasoning:
                        text["text"] = text.get("text", "") + reasoning["text"]
                    if "signature" in reasoning:
                        text["signature"] = text.get("signature", "") + reasoning["signature"]
        elif kind == "messageStop":
            body["stopReason"] = data["stopReason"]
        elif kind == "metadata":
            body["usage"] = data.get("usage")
            body["metrics"] = data.get("metrics")
    for index, text in tool_input.items():
        try:
            blocks[index]["toolUse"]["input"] = json.loads(text) if text else {}
        except ValueError:  # a stream cut mid-arguments
            blocks[index]["toolUse"]["input"] = {"__raw__": text}
    body["output"] = {"message": {"role": role, "content": [blocks[i] for i in sorted(blocks)]}}
    return body


_STREAM_ERRORS: dict[str, type[llm.APIError]] = {
    "throttlingException": llm.RateLimitError,
    "serviceQuotaExceededException": llm.RateLimitError,
    "modelNotReadyException": llm.RateLimitError,
    "validationException": llm.BadRequestError,
    "accessDeniedException": llm.PermissionError,
    "resourceNotFoundException": llm.NotFoundError,
    "modelTimeoutException": llm.TimeoutError,
    "internalServerException": llm.ServerError,
    "serviceUnavailableException": llm.ServerError,
    "modelStreamErrorException": llm.ServerError,
}


def stream_failure(events: Sequence[Mapping[str, Any]]) -> tuple[int, type[llm.APIError], str | None] | None:
    """Where a recorded stream fails in-stream (an exception or error message): its index, the
    error it is raised as, and its message."""
    for index, event in enumerate(events):
        headers = event["headers"]
        kind = headers.get(":message-type", "event")
        if kind == "event":
            continue
        name = headers.get(":exception-type") or headers.get(":error-code") or ""
        data = event.get("data")
        message = headers.get(":error-message")
        if isinstance(data, Mapping):
            message = data.get("message") or data.get("Message") or message
        return index, _STREAM_ERRORS.get(name, llm.APIError), message
    return None


_ERRORS: dict[int, type[llm.APIError]] = {
    400: llm.BadRequestError,
    401: llm.AuthenticationError,
    403: llm.PermissionError,
    404: llm.NotFoundError,
    408: llm.TimeoutError,
    413: llm.BadRequestError,
    424: llm.ServerError,
    429: llm.RateLimitError,
}


def error_class(status: int) -> type[llm.APIError]:
    """The error a recorded failure status is raised as (Bedrock's own types refine it; see test_faults)."""
    if status >= 500:
        return llm.ServerError
    return _ERRORS.get(status, llm.APIError)


def error_message(response: Mapping[str, Any]) -> str | None:
    body = response.get("json")
    if isinstance(body, Mapping):
        return body.get("message") or body.get("Message")
    return None


def is_unsupported_content(response: Mapping[str, Any]) -> bool:
    """Bedrock refusing something the model cannot take ("This model doesn't support the video
    content block", "... the s3Uri field"): we refuse it ourselves, before sending."""
    return response["status"] == 400 and "doesn't support the" in (error_message(response) or "")


_REFUSED_BLOCK = re.compile(r"Malformed input request: #/messages/(\d+)/content/(\d+)")


def refused_block(response: Mapping[str, Any]) -> tuple[int, int] | None:
    """The content block Bedrock named as malformed in a 400, as (message, block) indexes."""
    found = _REFUSED_BLOCK.search(error_message(response) or "") if response["status"] == 400 else None
    return (int(found.group(1)), int(found.group(2))) if found else None


def block_at(body: Mapping[str, Any], where: tuple[int, int]) -> Any:
    try:
        return meaning(body["messages"][where[0]]["content"][where[1]])
    except (KeyError, IndexError):
        return None


# --- checking a request's signature -------------------------------------------------------------


_CREDENTIAL = re.compile(r"Credential=[^/]+/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+),")


def expected_signature(sent: Received, secret_access_key: str = SECRET_ACCESS_KEY) -> str:
    """The SigV4 signature of a received request, recomputed from its canonical request.

    Written from AWS's description: the canonical URI is the path as sent with each segment
    URI-encoded again (non-S3 services), the canonical headers are the signed ones, lowercased
    and trimmed, and the payload hash is of the exact body bytes received.
    """
    match = re.search(
        r"Credential=[^/]+/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+),", sent.headers["authorization"]
    )
    assert match is not None, "not a SigV4 authorization header"
    date, region, service, signed = match.groups()
    names = signed.split(";")
    canonical_uri = "/".join(quote(segment, safe="-_.~") for segment in sent.raw_path.split("/"))
    canonical_headers = "".join(f"{name}:{' '.join(sent.headers[name].split())}\n" for name in names)
    canonical_request = "\n".join(
        ["POST", canonical_uri, "", canonical_headers, signed, hashlib.sha256(sent.body).hexdigest()]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", sent.headers["x-amz-date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = ("AWS4" + secret_access_key).encode()
    for step in (date, region, service, "aws4_request"):
        key = hmac.new(key, step.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def signature_of(sent: Received) -> str:
    return sent.headers["authorization"].rsplit("Signature=", 1)[-1]
