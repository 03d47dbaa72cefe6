"""OpenAI's Realtime API (the GA protocol) for `openai:` and `azure:` models: the session codec.

One WebSocket per session at `{api root}/realtime?model=...` (`wss://api.openai.com/v1/realtime`,
`wss://{resource}.openai.azure.com/openai/v1/realtime`), authenticated as the HTTP calls are.
The codec turns a session's intentions into the client events (`session.update`,
`conversation.item.create`, `response.create`, ...) and the server events into
`llm.realtime` events and the SPI's markers. It does no I/O and checks everything it can refuse
before the connection is made.
"""

from __future__ import annotations

import binascii
import io
import wave
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias, cast
from urllib.parse import quote, urlsplit, urlunsplit

from mirascope import llm
from mirascope.llm.providers import Request, merge_provider_params, parse_tool_args, refusal
from mirascope.llm.providers.realtime import (
    InputCommitted,
    Marker,
    Ready,
    RealtimeSetup,
    ResponseDone,
    ResponseStarted,
    ignore_unknown,
)
from mirascope.llm.realtime import (
    AudioDelta,
    AudioFormat,
    ErrorEvent,
    InputTranscript,
    OutputTranscript,
    SpeechStarted,
    SpeechStopped,
    TextDelta,
    ToolUse,
    TurnDetection,
)

from ._shared import obj, objs, tool_arguments
from .errors import CODES

if TYPE_CHECKING:
    from ._provider import _OpenAIProtocol  # pyright: ignore[reportPrivateUsage]

__all__ = ["DEFAULT_TRANSCRIBER", "OpenAIRealtimeCodec", "realtime_codec", "realtime_url"]

DEFAULT_TRANSCRIBER: Final = "gpt-realtime-whisper"
"""The model that transcribes the user's speech when `input_transcription=True`."""

_PCM_24K: Final = AudioFormat("pcm16", 24000)
"""The only PCM the API takes, and the format of the model's speech."""

_G711_TYPES: Final = {"g711_ulaw": "audio/pcmu", "g711_alaw": "audio/pcma"}

_OWNED: Final = frozenset({"type", "model"})
"""Session keys `provider_params` may not set: the session kind, and the model the URL names."""

_PARAMS_WHY: Final = (
    "of the call parameters, the Realtime API (GA) takes only max_tokens (sent as max_output_tokens): "
    "no sampling settings, seed, stop sequences or reasoning effort; leave it out of the session"
)

# A server error's class: its code says the most, then its type. `error_from_event` takes the
# first match among the type and the code in that order, so the class is picked here.
_ERROR_CODES: Final[Mapping[str, type[llm.APIError]]] = {
    **CODES,
    "rate_limit_exceeded": llm.RateLimitError,
    "insufficient_quota": llm.RateLimitError,
    "session_expired": llm.BadRequestError,
    "DeploymentNotFound": llm.NotFoundError,
    "server_error": llm.ServerError,
}
_ERROR_TYPES: Final[Mapping[str, type[llm.APIError]]] = {
    "invalid_request_error": llm.BadRequestError,
    "authentication_error": llm.AuthenticationError,
    "permission_error": llm.PermissionError,
    "not_found_error": llm.NotFoundError,
    "rate_limit_error": llm.RateLimitError,
    "rate_limit_exceeded": llm.RateLimitError,
    "server_error": llm.ServerError,
}

_QUIET_ERRORS: Final = frozenset({"response_cancel_not_active"})
"""Error codes that are no news: `interrupt()` after the reply had already ended."""

_CLOSE_TYPES: Final[Mapping[int, type[llm.APIError]]] = {
    1002: llm.BadRequestError,  # protocol error
    1003: llm.BadRequestError,  # unsupported data
    1007: llm.BadRequestError,  # invalid payload
    1009: llm.BadRequestError,  # message too big
    1011: llm.ServerError,
    1012: llm.ServerError,  # service restart
    1013: llm.ServerError,  # try again later
    1014: llm.ServerError,  # bad gateway
}


def realtime_url(api_root: str, model: str) -> str:
    """The WebSocket URL under an API root: `https://host/v1` -> `wss://host/v1/realtime?model=...`."""
    parts = urlsplit(api_root)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme.lower(), parts.scheme)
    query = f"model={quote(model, safe='')}"
    if parts.query:
        query = f"{parts.query}&{query}"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/realtime", query, ""))


def realtime_codec(provider: _OpenAIProtocol, setup: RealtimeSetup, client: llm.Client) -> OpenAIRealtimeCodec:
    """Check a session against the Realtime API and make its codec; raises before any connection.

    Raises:
        FeatureNotSupportedError: A setting, parameter, tool or seeded part the API cannot take.
    """
    request = Request(
        model_id=setup.model_id,
        model=setup.model,
        messages=setup.messages,
        params=setup.params,
        provider_params=setup.provider_params,
        tools=setup.tools,
    )
    if provider.name == "openai" and llm.model_info(setup.model_id) is not None:
        # The model table holds the models calls reach; realtime models are none of them (an
        # Azure deployment's name says nothing of its model, so only `openai:` is checked).
        raise refusal(
            request,
            "a realtime session",
            f"{setup.model!r} is a model for calls (llm.call, .stream), not a realtime model; use a realtime "
            "model such as 'openai:gpt-realtime' or 'openai:gpt-realtime-mini'",
        )
    input_format = _input_format(request, setup.input_audio)
    session = _session(request, setup, input_format)
    seed = _seed(request, setup.messages)
    headers = {name: value for name, value in client.request_headers().items() if name.lower() != "content-type"}
    return OpenAIRealtimeCodec(
        provider,
        url=realtime_url(provider.root(client.base_url), setup.model),
        headers=headers,
        input_format=input_format,
        opening=[{"type": "session.update", "session": session}, *seed],
    )


def _input_format(request: Request, given: AudioFormat | None) -> AudioFormat:
    if given is None:
        return _PCM_24K
    if given.encoding == "pcm16":
        if given.rate != _PCM_24K.rate:
            raise refusal(
                request,
                f"PCM16 input audio at {given.rate} Hz",
                "the Realtime API takes PCM16 at 24000 Hz only; resample to 24 kHz "
                "(input_audio=llm.AudioFormat(rate=24000)), or send G.711 (encoding='g711_ulaw' or 'g711_alaw')",
            )
        return given
    # G.711 is 8 kHz telephone audio whatever rate the format was given.
    return AudioFormat(given.encoding, 8000)


def _audio_format(audio: AudioFormat) -> dict[str, Any]:
    if audio.encoding == "pcm16":
        return {"type": "audio/pcm", "rate": audio.rate}
    return {"type": _G711_TYPES[audio.encoding]}


def _turn_detection(setting: TurnDetection | str) -> dict[str, Any] | None:
    if setting == "manual":
        return None
    tuning = setting if isinstance(setting, TurnDetection) else TurnDetection()
    detection: dict[str, Any] = {
        "type": "semantic_vad" if setting == "semantic" else "server_vad",
        "create_response": tuning.respond,
        "interrupt_response": tuning.interrupt,
    }
    tuned = {
        "silence_duration_ms": tuning.silence_ms,
        "prefix_padding_ms": tuning.prefix_padding_ms,
        "threshold": tuning.threshold,
    }
    detection.update((key, value) for key, value in tuned.items() if value is not None)
    return detection


def _check_params(request: Request) -> int | None:
    """The `max_output_tokens` to send; every other call parameter is refused."""
    for name in request.params:
        if name != "max_tokens":
            raise refusal(request, name, _PARAMS_WHY)
    return request.params.get("max_tokens")


def _tool(request: Request, tool: object) -> dict[str, Any]:
    if not isinstance(tool, llm.Tool):
        raise refusal(
            request,
            type(tool).__name__,
            "a realtime session runs no provider tools (llm.WebSearch); use a search function of your own as an "
            "@llm.tool",
        )
    function = cast("llm.Tool[..., Any]", tool)
    definition: dict[str, Any] = {"type": "function", "name": function.name, "parameters": function.parameters}
    if function.description:
        definition["description"] = function.description
    return definition


def _session(request: Request, setup: RealtimeSetup, input_format: AudioFormat) -> dict[str, Any]:
    max_tokens = _check_params(request)
    input_audio: dict[str, Any] = {
        "format": _audio_format(input_format),
        "turn_detection": _turn_detection(setup.turn_detection),
    }
    if setup.input_transcription is not False:
        model = DEFAULT_TRANSCRIBER if setup.input_transcription is True else setup.input_transcription
        input_audio["transcription"] = {"model": model}
    output_audio: dict[str, Any] = {"format": _audio_format(_PCM_24K)}
    if setup.voice is not None:
        output_audio["voice"] = setup.voice
    session: dict[str, Any] = {"type": "realtime"}
    if setup.instructions is not None:
        session["instructions"] = setup.instructions
    session["output_modalities"] = [setup.output]
    session["audio"] = {"input": input_audio, "output": output_audio}
    if setup.tools:
        session["tools"] = [_tool(request, tool) for tool in setup.tools]
    if max_tokens is not None:
        session["max_output_tokens"] = max_tokens
    if request.provider_params:
        session = merge_provider_params(request, session, owned=_OWNED)
    return session


# History seeding: each earlier message becomes conversation items, sent after `session.update`.


def _seed(request: Request, messages: Sequence[llm.Message]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            raise refusal(
                request,
                "a system message in the seeded history",
                "a realtime session's system prompt is its instructions; pass instructions=... instead",
            )
        if message.role == "user":
            _seed_user(request, message, items)
        else:
            _seed_assistant(request, message, items)
    return [{"type": "conversation.item.create", "item": item} for item in items]


def _message_item(role: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": content}


def _seed_user(request: Request, message: llm.Message, items: list[dict[str, Any]]) -> None:
    content: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, llm.Text):
            content.append({"type": "input_text", "text": part.text})
        elif isinstance(part, llm.Audio):
            content.append({"type": "input_audio", "audio": _pcm_base64(request, part)})
        elif isinstance(part, llm.ToolOutput):
            if content:
                items.append(_message_item("user", content))
                content = []
            items.append({"type": "function_call_output", "call_id": part.id, "output": part.result})
        else:
            raise refusal(
                request,
                f"{type(part).__name__} in the seeded history",
                "a realtime session's history holds text, 24 kHz PCM16 audio, tool calls and tool outputs",
            )
    if content:
        items.append(_message_item("user", content))


def _seed_assistant(request: Request, message: llm.Message, items: list[dict[str, Any]]) -> None:
    has_text = any(isinstance(part, llm.Text) for part in message.content)
    content: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, llm.Text):
            content.append({"type": "output_text", "text": part.text})
        elif isinstance(part, llm.ToolCall):
            if content:
                items.append(_message_item("assistant", content))
                content = []
            items.append(
                {"type": "function_call", "call_id": part.id, "name": part.name, "arguments": tool_arguments(part)}
            )
        elif isinstance(part, llm.Thought):
            continue  # reasoning of another model cannot be replayed to this one
        elif isinstance(part, llm.Audio) and has_text:
            continue  # the model's speech goes back as its transcript, the message's text
        else:
            raise refusal(
                request,
                f"{type(part).__name__} in a seeded assistant message",
                "a realtime session's history gives the model's turns as text (the transcript of its speech) "
                "and tool calls",
            )
    if content:
        items.append(_message_item("assistant", content))


def _pcm_base64(request: Request, audio: llm.Audio) -> str:
    """A seeded audio part as the API takes it: raw 24 kHz PCM16, base64 (from a WAV file, or raw PCM)."""
    why = "seeded audio must be 24 kHz mono 16-bit PCM, as a WAV file or audio/pcm;rate=24000 bytes"
    if audio.data is None:
        raise refusal(request, "Audio by URL in the seeded history", why + "; pass the bytes")
    mime = (audio.mime_type or "").replace(" ", "").lower()
    if mime == "audio/pcm;rate=24000":  # raw samples, as `send_audio` takes them (a rate is required)
        return audio.data
    if mime not in ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"):
        raise refusal(request, f"{audio.mime_type} audio in the seeded history", why)
    try:
        with wave.open(io.BytesIO(audio.to_bytes()), "rb") as reader:
            shape = (reader.getnchannels(), reader.getsampwidth(), reader.getframerate())
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as exc:
        raise refusal(request, "an unreadable WAV file in the seeded history", why) from exc
    if shape != (1, 2, 24000):
        channels, width, rate = shape
        raise refusal(
            request,
            f"WAV audio of {channels} channel(s), {8 * width}-bit, {rate} Hz in the seeded history",
            why,
        )
    return binascii.b2a_base64(frames, newline=False).decode("ascii")


# Decoding


Event: TypeAlias = (
    "TextDelta | AudioDelta | OutputTranscript | InputTranscript | SpeechStarted | SpeechStopped | ToolUse | ErrorEvent"
)
"""The `llm.realtime` events this codec decodes (the others come from the session itself)."""
Events: TypeAlias = "list[Event | Marker]"
TextKey: TypeAlias = "tuple[object, object]"

_QUIET_TYPES: Final = (
    "session.created",
    "conversation.created",
    "conversation.item.created",
    "conversation.item.added",
    "conversation.item.done",
    "conversation.item.retrieved",
    "conversation.item.truncated",
    "conversation.item.deleted",
    "conversation.item.input_audio_transcription.segment",
    "input_audio_buffer.cleared",
    "input_audio_buffer.timeout_triggered",
    "output_audio_buffer.started",
    "output_audio_buffer.stopped",
    "output_audio_buffer.cleared",
    "response.output_item.added",
    "response.output_item.done",
    "response.content_part.added",
    "response.content_part.done",
    "response.output_audio.done",
    "response.function_call_arguments.delta",
    "response.mcp_call_arguments.delta",
    "response.mcp_call_arguments.done",
    "response.mcp_call.in_progress",
    "response.mcp_call.completed",
    "response.mcp_call.failed",
    "mcp_list_tools.in_progress",
    "mcp_list_tools.completed",
    "mcp_list_tools.failed",
    "rate_limits.updated",
    "transcription_session.updated",
)
"""Server events a session has no use for: the items' lifecycle, deltas whose totals come later."""


def _id(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _key(message: dict[str, Any]) -> TextKey:
    return message.get("item_id"), message.get("content_index")


def _delta(message: dict[str, Any], sent: dict[TextKey, str], *, trim_start: bool = False) -> str:
    """A text delta, remembered so that the text's final event adds only what is missing.

    `trim_start` drops the whitespace a text starts with: the transcriber's first word comes with
    the space before it, which its final transcript does not have.
    """
    delta = message.get("delta")
    if not isinstance(delta, str):
        return ""
    key = _key(message)
    already = sent.get(key)
    if already is None and trim_start:
        delta = delta.lstrip()
    if delta:
        sent[key] = delta if already is None else already + delta
    return delta


def _remainder(message: dict[str, Any], field: str, sent: dict[TextKey, str]) -> str:
    """What a final text adds to its deltas: all of it when none came."""
    final = message.get(field)
    already = sent.pop(_key(message), "")
    if not isinstance(final, str) or not final.startswith(already):
        return ""  # what the deltas said was shown already; a final text that disagrees cannot amend it
    return final[len(already) :]


def _count(source: dict[str, Any], key: str) -> int:
    value = source.get(key)
    return value if isinstance(value, int) else 0


def _usage(response: dict[str, Any]) -> llm.Usage | None:
    usage = response.get("usage")
    if not isinstance(usage, dict):
        return None
    counts = obj(usage)  # pyright: ignore[reportUnknownArgumentType]
    return llm.Usage(
        input_tokens=_count(counts, "input_tokens"),
        output_tokens=_count(counts, "output_tokens"),
        cache_read_tokens=_count(obj(counts.get("input_token_details")), "cached_tokens"),
        reasoning_tokens=_count(obj(counts.get("output_token_details")), "reasoning_tokens"),
    )


def _finish_reason(details: dict[str, Any]) -> llm.FinishReason:
    """Why an `incomplete` reply stopped."""
    reason = details.get("reason")
    if reason == "max_output_tokens":
        return "max_tokens"
    return "content_filter" if reason == "content_filter" else "other"


class OpenAIRealtimeCodec:
    """One session's translation to and from OpenAI's Realtime API (GA protocol).

    It remembers what the reply in progress has sent: the text of each item's deltas (so that a
    `.done` event adds only what they missed), whether the reply called tools (its finish reason),
    and how much audio the latest spoken item had (to truncate it where the user stopped hearing).
    """

    __slots__ = (
        "_audio_bytes",
        "_audio_item",
        "_called_tools",
        "_headers",
        "_input_format",
        "_input_transcripts",
        "_opening",
        "_provider",
        "_texts",
        "_transcripts",
        "_url",
    )

    def __init__(
        self,
        provider: _OpenAIProtocol,
        *,
        url: str,
        headers: Mapping[str, str],
        input_format: AudioFormat,
        opening: list[dict[str, Any]],
    ) -> None:
        self._provider = provider
        self._url = url
        self._headers = dict(headers)
        self._input_format = input_format
        self._opening = opening
        self._texts: dict[TextKey, str] = {}
        self._transcripts: dict[TextKey, str] = {}
        self._input_transcripts: dict[TextKey, str] = {}
        self._called_tools = False
        self._audio_item: str | None = None
        self._audio_bytes = 0

    def __repr__(self) -> str:
        return f"<OpenAIRealtimeCodec {self._provider.name!r}>"  # the URL and headers are not shown

    @property
    def url(self) -> str:
        """The WebSocket URL, `.../realtime?model=...`."""
        return self._url

    @property
    def headers(self) -> Mapping[str, str]:
        """The handshake's headers: the client's authentication and extra headers."""
        return self._headers

    @property
    def input_format(self) -> AudioFormat:
        """The audio `send_audio` takes: PCM16 at 24 kHz unless G.711 was asked for."""
        return self._input_format

    @property
    def output_format(self) -> AudioFormat:
        """The model's speech: PCM16 at 24 kHz."""
        return _PCM_24K

    # Encoding

    def opening(self) -> list[dict[str, Any]]:
        """`session.update`, then one `conversation.item.create` per seeded item."""
        return list(self._opening)

    def user_text(self, text: str, *, respond: bool) -> list[dict[str, Any]]:
        """A user message, and `response.create` when an answer is wanted."""
        item = _message_item("user", [{"type": "input_text", "text": text}])
        create = {"type": "conversation.item.create", "item": item}
        return [create, {"type": "response.create"}] if respond else [create]

    def audio(self, pcm: bytes) -> list[dict[str, Any]]:
        """`input_audio_buffer.append` of one chunk."""
        return [{"type": "input_audio_buffer.append", "audio": binascii.b2a_base64(pcm, newline=False).decode("ascii")}]

    def commit_audio(self, *, respond: bool) -> list[dict[str, Any]]:
        """`input_audio_buffer.commit`, then `response.create`: a commit alone never starts a reply."""
        commit: dict[str, Any] = {"type": "input_audio_buffer.commit"}
        return [commit, {"type": "response.create"}] if respond else [commit]

    def interrupt(self, played_ms: int | None) -> list[dict[str, Any]]:
        """`response.cancel`, and the latest spoken item truncated to what the user heard.

        The cancel goes even when the reply may just have ended (the server's "no active response"
        error is then dropped): a reply asked for but not yet started is cancelled too.
        """
        messages: list[dict[str, Any]] = [{"type": "response.cancel"}]
        if played_ms is not None and self._audio_item is not None:
            # The server refuses a truncation past the audio it sent.
            sent_ms = self._audio_bytes * 1000 // _PCM_24K.bytes_per_second
            messages.append(
                {
                    "type": "conversation.item.truncate",
                    "item_id": self._audio_item,
                    "content_index": 0,
                    "audio_end_ms": max(0, min(played_ms, sent_ms)),
                }
            )
        return messages

    def tool_outputs(self, outputs: Sequence[llm.ToolOutput]) -> list[dict[str, Any]]:
        """One `function_call_output` item per output, its text as the output."""
        return [
            {
                "type": "conversation.item.create",
                "item": {"type": "function_call_output", "call_id": output.id, "output": output.result},
            }
            for output in outputs
        ]

    def respond(self) -> list[dict[str, Any]]:
        """`response.create`: the model answers only when asked, after tool outputs too."""
        return [{"type": "response.create"}]

    # Decoding: one small method per server event type, found by the event's `type`.

    def decode(self, message: Any) -> Sequence[Event | Marker]:
        """The events of one server event."""
        if type(message) is not dict:
            return ignore_unknown(self._provider.name, f"non-object {type(message).__name__}")
        event = cast("dict[str, Any]", message)
        kind = event.get("type")
        decoder = self._decoders.get(kind) if type(kind) is str else None
        if decoder is None:
            return ignore_unknown(self._provider.name, str(kind))
        return decoder(self, event)

    def _nothing(self, message: dict[str, Any]) -> Events:
        return []

    def _session_updated(self, message: dict[str, Any]) -> Events:
        return [Ready(_id(obj(message.get("session")).get("id")))]

    def _response_created(self, message: dict[str, Any]) -> Events:
        self._called_tools = False
        return [ResponseStarted(_id(obj(message.get("response")).get("id")))]

    def _text_delta(self, message: dict[str, Any]) -> Events:
        text = _delta(message, self._texts)
        return [TextDelta(text)] if text else []

    def _text_done(self, message: dict[str, Any]) -> Events:
        text = _remainder(message, "text", self._texts)
        return [TextDelta(text)] if text else []

    def _transcript_delta(self, message: dict[str, Any]) -> Events:
        text = _delta(message, self._transcripts)
        return [OutputTranscript(text)] if text else []

    def _transcript_done(self, message: dict[str, Any]) -> Events:
        text = _remainder(message, "transcript", self._transcripts)
        return [OutputTranscript(text)] if text else []

    def _input_transcript_delta(self, message: dict[str, Any]) -> Events:
        text = _delta(message, self._input_transcripts, trim_start=True)
        return [InputTranscript(text, _id(message.get("item_id")))] if text else []

    def _input_transcript_done(self, message: dict[str, Any]) -> Events:
        text = _remainder(message, "transcript", self._input_transcripts)
        return [InputTranscript(text, _id(message.get("item_id")))] if text else []

    def _audio_delta(self, message: dict[str, Any]) -> Events:
        delta = message.get("delta")
        if type(delta) is not str or not delta:
            return []
        try:
            data = binascii.a2b_base64(delta)
        except binascii.Error:
            return []  # not base64: nothing that could be played
        item_id = message.get("item_id")
        if item_id != self._audio_item:
            self._audio_item = _id(item_id)
            self._audio_bytes = 0
        self._audio_bytes += len(data)
        return [AudioDelta(data, _PCM_24K)]

    def _speech_started(self, message: dict[str, Any]) -> Events:
        return [SpeechStarted()]

    def _speech_stopped(self, message: dict[str, Any]) -> Events:
        return [SpeechStopped()]

    def _committed(self, message: dict[str, Any]) -> Events:
        return [InputCommitted(_id(message.get("item_id")))]

    def _tool_call(self, message: dict[str, Any]) -> Events:
        self._called_tools = True
        arguments = message.get("arguments")
        call = llm.ToolCall(
            id=_id(message.get("call_id")) or "",
            name=_id(message.get("name")) or "",
            args=parse_tool_args(arguments) if isinstance(arguments, str) else {},
        )
        return [ToolUse(call)]

    def _response_done(self, message: dict[str, Any]) -> Events:
        response = obj(message.get("response"))
        response_id = _id(response.get("id"))
        usage = _usage(response)
        status = response.get("status")
        called_tools = self._called_tools or any(
            item.get("type") == "function_call" for item in objs(response.get("output"))
        )
        self._called_tools = False
        if status == "completed":
            finish: llm.FinishReason = "tool_call" if called_tools else "stop"
            return [ResponseDone(id=response_id, usage=usage, finish_reason=finish)]
        details = obj(response.get("status_details"))
        if status == "incomplete":
            return [ResponseDone(id=response_id, usage=usage, finish_reason=_finish_reason(details))]
        if status == "cancelled":
            return [ResponseDone(id=response_id, usage=usage, finish_reason="other", cancelled=True)]
        done = ResponseDone(id=response_id, usage=usage, finish_reason="other")
        if status != "failed":
            return [done]
        error = self.error_from(details or response)
        if type(error) is llm.APIError:
            # No code said otherwise: a reply that failed while generating is the server's failure.
            error = llm.ServerError(
                error.message,
                provider=error.provider,
                body=error.body,
                hint="The model failed while answering; retry, or check the session's settings.",
            )
        return [ErrorEvent(error), done]

    def _error(self, message: dict[str, Any]) -> Events:
        if obj(message.get("error")).get("code") in _QUIET_ERRORS:
            return []
        return [ErrorEvent(self.error_from(message))]

    _decoders: ClassVar[Mapping[str, Callable[[OpenAIRealtimeCodec, dict[str, Any]], Events]]] = cast(
        "Mapping[str, Callable[[OpenAIRealtimeCodec, dict[str, Any]], Events]]",
        {
            "session.updated": _session_updated,
            "response.created": _response_created,
            "response.output_text.delta": _text_delta,
            "response.output_text.done": _text_done,
            "response.output_audio.delta": _audio_delta,
            "response.output_audio_transcript.delta": _transcript_delta,
            "response.output_audio_transcript.done": _transcript_done,
            "conversation.item.input_audio_transcription.delta": _input_transcript_delta,
            "conversation.item.input_audio_transcription.completed": _input_transcript_done,
            "conversation.item.input_audio_transcription.failed": _error,
            "input_audio_buffer.speech_started": _speech_started,
            "input_audio_buffer.speech_stopped": _speech_stopped,
            "input_audio_buffer.committed": _committed,
            "response.function_call_arguments.done": _tool_call,
            "response.done": _response_done,
            "error": _error,
            **dict.fromkeys(_QUIET_TYPES, _nothing),
        },
    )

    # Errors

    def error_from(self, body: dict[str, Any]) -> llm.APIError:
        """The `llm.APIError` for an error the server sent: its code picks the class, else its type."""
        error = obj(body.get("error")) or body
        code, kind = error.get("code"), error.get("type")
        picked: dict[str, type[llm.APIError]] = {}
        if isinstance(code, str) and code in _ERROR_CODES:
            picked[code] = _ERROR_CODES[code]
        elif isinstance(kind, str) and kind in _ERROR_TYPES:
            picked[kind] = _ERROR_TYPES[kind]
        return _event_error(self._provider, body, picked)

    def close_error(self, code: int, reason: str) -> llm.APIError | None:
        """The error a close frame means; `None` for a normal close."""
        if code in (1000, 1001, 1005):
            return None
        if code == 1006:
            return llm.ConnectionError(
                "The connection was lost without a close frame" + (f": {reason}" if reason else "."),
                provider=self._provider.name,
                hint="Check the network, then open a new session.",
            )
        tag = f"websocket_close_{code}"
        error: dict[str, Any] = {"message": reason or f"The server closed the connection (code {code}).", "code": tag}
        error_type = _CLOSE_TYPES.get(code)
        if code == 1008:  # policy violation: a refused key, or a key that may not do this
            lowered = reason.lower()
            refused_key = any(word in lowered for word in ("key", "auth", "credential"))
            error_type = llm.AuthenticationError if refused_key else llm.PermissionError
        elif 4400 <= code < 4600:
            error["status"] = code - 4000  # an application's close code: 4000 plus the HTTP status it means
        return _event_error(self._provider, {"error": error}, {tag: error_type} if error_type else {})

    def handshake_error(self, status: int, headers: Mapping[str, str], body: bytes) -> llm.APIError:
        """The error a refused handshake's status and body mean, as for any OpenAI call."""
        import httpx

        from mirascope.llm.providers.http import error_from_response

        return error_from_response(
            self._provider, httpx.Response(status, headers=dict(headers), content=body), codes=CODES
        )


def _event_error(provider: _OpenAIProtocol, body: object, codes: Mapping[str, type[llm.APIError]]) -> llm.APIError:
    from mirascope.llm.providers.http import error_from_event

    return error_from_event(provider, body, codes=codes)
