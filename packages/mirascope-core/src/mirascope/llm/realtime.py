"""`llm.realtime`: a live, two-way session with a model, in text or speech.

```python
async with llm.realtime("openai:gpt-realtime", instructions="Be brief.", tools=[get_weather]) as session:
    await session.send("What's the weather in London?")
    async for text in session.text():        # to the end of this turn
        print(text, end="")
    session.messages                         # the conversation as llm.Message values
```

Events (`async for event in session`, for the whole session):

```text
TextDelta          text the model writes              (output="text")
AudioDelta         speech the model says: bytes + AudioFormat   (output="audio")
OutputTranscript   the words of that speech, as they come
InputTranscript    the words of the user's speech, as they come
SpeechStarted      the server heard the user start speaking
SpeechStopped      ... and stop
ToolUse            the model asked for a tool (run for you unless auto_tools=False)
ToolResult         the tool's output, sent back to the model
Interrupted        the reply in progress was cut short (the user spoke, or interrupt())
TurnEnd            the model finished answering: its message, usage, finish reason
ErrorEvent         an error the session survives, as an llm.APIError
```

The WebSocket client (`websockets`, the `realtime` extra) loads when a session opens.
"""

from __future__ import annotations

import contextlib
import json
import sys
import types
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeAlias, TypeVar

import attrs
from attrs import field, frozen

from ._values import FinishReason, Usage, added_usage
from .content import ToolCall, ToolOutput
from .exceptions import APIError, Error, TimeoutPhase, UsageError
from .messages import Message
from .params import CallParams

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .clients import Client
    from .providers.realtime import RealtimeCodec
    from .tools import AnyTool, Context, Tool

__all__ = [
    "RealtimeNotInstalledError",
    "RealtimeSession",
    "AudioDelta",
    "AudioFormat",
    "ErrorEvent",
    "InputTranscript",
    "Interrupted",
    "OutputTranscript",
    "RealtimeEvent",
    "SpeechStarted",
    "SpeechStopped",
    "TextDelta",
    "ToolResult",
    "ToolUse",
    "TurnDetection",
    "TurnEnd",
]


def _rate(instance: object, attribute: object, value: int) -> None:
    if not (isinstance(value, int) and 8000 <= value <= 48000):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UsageError(f"AudioFormat rate is in Hz, 8000 to 48000; got {value!r}.")


@frozen
class AudioFormat:
    """A raw audio format: how `send_audio` chunks are encoded, and how the model's speech is.

    Realtime APIs speak raw samples, not files: `"pcm16"` is signed 16-bit little-endian PCM,
    mono; `"g711_ulaw"` and `"g711_alaw"` are 8 kHz telephone audio (OpenAI only).
    """

    encoding: Literal["pcm16", "g711_ulaw", "g711_alaw"] = "pcm16"
    """How samples are encoded."""
    rate: int = field(default=24000, validator=_rate)
    """Samples per second."""

    @property
    def mime_type(self) -> str:
        """The format as a MIME type, e.g. `audio/pcm;rate=24000`."""
        if self.encoding == "pcm16":
            return f"audio/pcm;rate={self.rate}"
        return "audio/basic" if self.encoding == "g711_ulaw" else "audio/x-alaw-basic"

    @property
    def bytes_per_second(self) -> int:
        """Bytes of one second of audio (to turn a byte count into a duration)."""
        return self.rate * (2 if self.encoding == "pcm16" else 1)


@frozen(kw_only=True)
class TurnDetection:
    """The server's voice activity detection, tuned (`turn_detection=llm.realtime.TurnDetection(...)`).

    Each `None` keeps the provider's default.
    """

    silence_ms: int | None = None
    """Silence that ends the user's turn."""
    prefix_padding_ms: int | None = None
    """Audio kept from before the detected start of speech."""
    threshold: float | None = None
    """How loud speech must be, 0 to 1 (OpenAI)."""
    respond: bool = True
    """Whether the model answers each detected turn by itself."""
    interrupt: bool = True
    """Whether the user speaking cuts the model's reply short (barge-in)."""


@frozen
class TextDelta:
    """Text the model writes (`output="text"`)."""

    type: ClassVar[str] = "text_delta"
    text: str


@frozen
class AudioDelta:
    """A piece of the model's speech (`output="audio"`): raw samples in `format`, in order."""

    type: ClassVar[str] = "audio_delta"
    data: bytes
    format: AudioFormat


@frozen
class OutputTranscript:
    """More words of what the model is saying."""

    type: ClassVar[str] = "output_transcript"
    text: str


@frozen
class InputTranscript:
    """More words of what the user said (when `input_transcription` is on)."""

    type: ClassVar[str] = "input_transcript"
    text: str
    item_id: str | None = None
    """The provider's id of the spoken turn these words belong to, when it gives one (OpenAI):
    a turn's transcript may still arrive after the next turn began."""


@frozen
class SpeechStarted:
    """The server's voice detection heard the user start speaking."""

    type: ClassVar[str] = "speech_started"


@frozen
class SpeechStopped:
    """The server's voice detection heard the user stop speaking."""

    type: ClassVar[str] = "speech_stopped"


@frozen
class ToolUse:
    """The model asked for a tool; with `auto_tools` (the default) the session runs it."""

    type: ClassVar[str] = "tool_use"
    call: ToolCall


@frozen
class ToolResult:
    """A tool's output, sent back to the model."""

    type: ClassVar[str] = "tool_result"
    output: ToolOutput


@frozen
class Interrupted:
    """The model's reply was cut short: the user spoke over it, or `session.interrupt()`.

    Stop playing its audio; what was said so far stays in `session.messages`.
    """

    type: ClassVar[str] = "interrupted"


@frozen(kw_only=True)
class TurnEnd:
    """The model finished answering (after any tool rounds)."""

    type: ClassVar[str] = "turn_end"
    usage: Usage | None = None
    """Tokens used by the turn's replies together, when reported."""
    finish_reason: FinishReason = "stop"
    """Why it stopped (`"other"` for a reply cut short)."""
    _message: Message | Callable[[], Message] = field(alias="message", eq=False, repr=False)

    @property
    def message(self) -> Message:
        """The model's message for this turn: text or transcript, audio (WAV), tool calls.

        Built when first read: a voice app that never reads it does not pay for encoding the
        turn's audio.
        """
        found = self._message
        if not isinstance(found, Message):
            found = found()
            object.__setattr__(self, "_message", found)  # frozen: set once, on first read
        return found


@frozen
class ErrorEvent:
    """An error the session survives (a refused message, a failed transcription).

    Errors that end the session are raised from the iteration instead.
    """

    type: ClassVar[str] = "error"
    error: APIError


RealtimeEvent: TypeAlias = (
    TextDelta
    | AudioDelta
    | OutputTranscript
    | InputTranscript
    | SpeechStarted
    | SpeechStopped
    | ToolUse
    | ToolResult
    | Interrupted
    | TurnEnd
    | ErrorEvent
)
"""Everything `async for event in session` yields."""


# --- what a provider's codec tells the session besides events (see `llm.providers.realtime`) ---


@frozen
class Ready:
    """The provider accepted the session's configuration; user input may flow."""

    session_id: str | None = None


@frozen
class ResponseStarted:
    """The model began a reply."""

    id: str | None = None


@frozen(kw_only=True)
class ResponseDone:
    """The model ended a reply (one reply of a turn: a turn with tool calls has several)."""

    id: str | None = None
    usage: Usage | None = None
    finish_reason: FinishReason = "stop"
    cancelled: bool = False
    """The reply was cut short: interrupted by the user or by `session.interrupt()`."""


@frozen
class InputCommitted:
    """The user's spoken turn ended (the server's voice detection, or `commit_audio()`)."""

    item_id: str | None = None
    """The provider's id of that turn (its `llm.realtime.InputTranscript` events carry it too)."""


Marker: TypeAlias = Ready | ResponseStarted | ResponseDone | InputCommitted
"""What a codec tells core, besides the user-visible events."""


# --- what a provider's codec is given (see `llm.providers.realtime`) ---


@frozen(kw_only=True)
class RealtimeSetup:
    """A session as the user asked for it, already checked by core (tools, types, ranges)."""

    model_id: str
    """The full model id, `provider:model`."""
    model: str
    """The provider's model name: everything after the first `:`."""
    instructions: str | None = None
    """The system prompt."""
    tools: Sequence[Tool[..., Any]] = ()
    """Tools the model may call: each has `name`, `description`, `parameters`, `strict`."""
    output: Literal["text", "audio"] = "text"
    """What the model answers in: text, or speech (with its transcript)."""
    voice: str | None = None
    """The provider's voice name; `None` for its default."""
    input_audio: AudioFormat | None = None
    """The audio the user will send; `None` for the provider's default (`input_format`)."""
    turn_detection: TurnDetection | Literal["server", "semantic", "manual"] = "server"
    """Who decides that the user finished speaking: the server's voice detection (`"server"`,
    or a `TurnDetection` tuning it), its semantic detection, or the client (`"manual"`:
    `commit_audio()` ends each spoken turn)."""
    input_transcription: bool | str = True
    """Whether the user's speech is transcribed (a model name picks the transcriber)."""
    params: CallParams = field(factory=CallParams)
    """Common call parameters (`max_tokens`, `temperature`, ...): sent, or refused, per model."""
    provider_params: Mapping[str, object] = field(factory=dict[str, object])
    """Provider-specific settings, merged into the session configuration one level deep."""
    messages: tuple[Message, ...] = ()
    """Earlier conversation the session starts from (history seeding)."""


# --- the session -------------------------------------------------------------------------------

_KEEPALIVE_SECONDS = 20.0
"""Longest gap between keepalive pings (and the wait for each pong): a silent session stays open,
a dead peer is noticed. A client's shorter read timeout wins."""


def _wav(chunks: list[bytes], audio_format: AudioFormat) -> bytes:
    """Raw samples as a WAV file: the form other calls' providers take audio in."""
    import struct

    data = b"".join(chunks)
    # WAVE format tags: 1 PCM, 6 A-law, 7 mu-law.
    tag, width = {"pcm16": (1, 2), "g711_alaw": (6, 1), "g711_ulaw": (7, 1)}[audio_format.encoding]
    rate = audio_format.rate
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(data),
        b"WAVE",
        b"fmt ",
        16,
        tag,
        1,
        rate,
        rate * width,
        width,
        width * 8,
        b"data",
        len(data),
    )
    return header + data


class _Turn:
    """One message of the conversation being assembled from events."""

    __slots__ = ("audio", "audio_format", "calls", "item_id", "outputs", "role", "text", "transcript")

    def __init__(self, role: Literal["user", "assistant"], audio_format: AudioFormat | None = None) -> None:
        self.role: Literal["user", "assistant"] = role
        self.text: list[str] = []
        self.transcript: list[str] = []
        self.audio: list[bytes] = []
        self.audio_format = audio_format
        self.calls: list[ToolCall] = []
        self.outputs: list[ToolOutput] = []
        self.item_id: str | None = None

    def empty(self) -> bool:
        return not (self.text or self.transcript or self.audio or self.calls or self.outputs)

    def message(self, model_id: str) -> Message:
        from .content import Audio, ContentPart, Text

        parts: list[ContentPart] = []
        if self.role == "user":
            if self.audio and self.audio_format is not None:
                parts.append(Audio.from_bytes(_wav(self.audio, self.audio_format), mime_type="audio/wav"))
            words = "".join(self.text or self.transcript)
            if words:
                parts.append(Text(words))
            parts.extend(self.outputs)
            return Message(role="user", content=tuple(parts))
        words = "".join(self.text or self.transcript)
        if words:
            parts.append(Text(words))
        if self.audio and self.audio_format is not None:
            parts.append(Audio.from_bytes(_wav(self.audio, self.audio_format), mime_type="audio/wav"))
        parts.extend(self.calls)
        return Message(role="assistant", content=tuple(parts), model=model_id)


_decode_json = json.JSONDecoder().decode


def _scrubbed(error: APIError) -> APIError:
    """`error` without any secret this process sent (a close reason or error event may echo one)."""
    from ._redact import known, scrub

    scrub(error, known())
    return error


class RealtimeNotInstalledError(Error, ImportError):
    """`llm.realtime` needs a WebSocket client, which comes with the `realtime` extra."""


T = TypeVar("T")


class _Events(Generic[T]):
    """An iterator over a session's events: all of them, or one kind to the end of the turn.

    A class rather than an async generator: breaking out of `async for` leaves nothing half-run,
    so the next `async for` over the session picks up exactly where this one stopped.
    """

    __slots__ = ("_done", "_pick", "_session", "_until_turn_end")

    def __init__(
        self, session: RealtimeSession, pick: Callable[[RealtimeEvent], T | None], until_turn_end: bool
    ) -> None:
        self._session = session
        self._pick = pick
        self._until_turn_end = until_turn_end
        self._done = False

    def __aiter__(self) -> _Events[T]:
        return self

    async def __anext__(self) -> T:
        if self._done:
            raise StopAsyncIteration
        session = self._session
        ready = session._ready  # pyright: ignore[reportPrivateUsage]
        while True:
            while ready:
                event = ready.popleft()
                if self._until_turn_end and type(event) is TurnEnd:
                    self._done = True
                    picked = self._pick(event)
                    if picked is None:
                        raise StopAsyncIteration
                    return picked
                picked = self._pick(event)
                if picked is not None:
                    return picked
            # `session._pump()`, inline: one coroutine less for every message.
            if session._ended:  # pyright: ignore[reportPrivateUsage]
                self._done = True
                raise StopAsyncIteration
            if session._reading:  # pyright: ignore[reportPrivateUsage]
                raise session._two_readers()  # pyright: ignore[reportPrivateUsage]
            session._reading = True  # pyright: ignore[reportPrivateUsage]
            try:
                try:
                    frame = await session._ws.recv()  # pyright: ignore[reportPrivateUsage]
                except Exception as error:
                    if not session._on_closed(error, False):  # pyright: ignore[reportPrivateUsage]
                        self._done = True
                        raise StopAsyncIteration from None
                    continue
                rest = session._take(frame)  # pyright: ignore[reportPrivateUsage]
                if rest:
                    await session._act(rest, False)  # pyright: ignore[reportPrivateUsage]
            finally:
                session._reading = False  # pyright: ignore[reportPrivateUsage]


def _every(event: RealtimeEvent) -> RealtimeEvent:
    return event


def _words(event: RealtimeEvent) -> str | None:
    return event.text if isinstance(event, (TextDelta, OutputTranscript)) else None


def _speech(event: RealtimeEvent) -> AudioDelta | None:
    return event if isinstance(event, AudioDelta) else None


def _transcripts(event: RealtimeEvent) -> InputTranscript | OutputTranscript | None:
    return event if isinstance(event, (InputTranscript, OutputTranscript)) else None


class RealtimeSession:
    """A live session with a model; made by `llm.realtime(...)` and opened with `async with`.

    One task reads the events (`async for event in session`, or `text()`, `audio()`,
    `transcripts()` for one turn); any task may send. Tools the model calls run inside the read
    loop (concurrently, when it asks for several at once), and their outputs go back at once.
    """

    def __init__(
        self,
        *,
        codec: RealtimeCodec,
        setup: RealtimeSetup,
        client: Client,
        context: Context[Any] | None,
        auto_tools: bool,
    ) -> None:
        self.model_id = setup.model_id
        """The `provider:model` id."""
        self.id: str | None = None
        """The provider's session id, once open (when it gives one)."""
        self.usage: Usage | None = None
        """Tokens used by every reply so far, when reported."""
        self._codec = codec
        self._setup = setup
        self._client = client
        self._context = context
        self._auto_tools = auto_tools
        self._provider = setup.model_id.partition(":")[0]
        self._ws: Any = None
        self._ready: deque[RealtimeEvent] = deque()
        self._turns: list[_Turn] = []
        self._assistant: _Turn | None = None
        self._last: _Turn | None = None  # the reply that ended last
        self._user_audio: _Turn | None = None
        self._by_item: dict[str, _Turn] = {}
        self._early: dict[str, list[str]] = {}
        self._commits_seen = False
        self._responding = False
        self._reading = False
        self._ended = False
        self._interrupted = False  # `Interrupted` already told for the reply in progress
        self._discarding = False  # after `interrupt()`: the rest of the reply is not heard
        self._calls: list[ToolCall] = []  # asked for in this reply, not yet answered
        self._outputs_sent = False  # tool outputs went back during this reply
        self._awaiting_outputs = False  # a reply ended asking for tools the user runs
        self._turn_usage: Usage | None = None
        self._queue: list[tuple[list[dict[str, Any]], _Turn | None, bool]] = []
        self._opened = False
        self._started = False  # the reply asked for has begun (`ResponseStarted`)
        self._dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def __repr__(self) -> str:
        state = "closed" if self._ended else "open" if self._ws is not None else "not opened"
        return f"<llm.realtime session {self.model_id!r} ({state})>"

    # -- what it sends and receives ---------------------------------------------------------

    @property
    def input_format(self) -> AudioFormat:
        """The audio `send_audio` takes."""
        return self._codec.input_format

    @property
    def output_format(self) -> AudioFormat:
        """The audio the model speaks (`AudioDelta.format`)."""
        return self._codec.output_format

    @property
    def messages(self) -> tuple[Message, ...]:
        """The conversation so far: the seeded messages, then each turn as an `llm.Message`.

        A spoken user turn is an `llm.Audio` (WAV) of the audio sent for it, with its transcript
        as text when transcription is on; a spoken reply is its transcript as text and its audio.
        Hand it to `llm.call`, `resume` or an agent on a model that takes audio, or
        `transcript()` to one that does not.
        """
        model_id = self.model_id
        built = tuple(turn.message(model_id) for turn in self._turns if not turn.empty())
        return (*self._setup.messages, *built)

    def transcript(self) -> tuple[Message, ...]:
        """`messages` in text only: for a model that takes no audio (most do not).

        Audio with a transcript beside it gives way to the transcript; audio without one (a
        turn spoken with transcription off) is kept, as there are no words to put in its place.
        """
        from .content import Audio, Text

        kept: list[Message] = []
        for message in self.messages:
            content = message.content
            if any(isinstance(part, Audio) for part in content) and any(isinstance(part, Text) for part in content):
                content = tuple(part for part in content if not isinstance(part, Audio))
            if content:
                kept.append(message if content is message.content else attrs.evolve(message, content=content))
        return tuple(kept)

    # -- opening and closing ----------------------------------------------------------------

    async def __aenter__(self) -> RealtimeSession:
        if self._ws is not None or self._ended:
            raise UsageError("A realtime session opens once; make a new one with llm.realtime(...).")
        try:
            from websockets.asyncio.client import connect
        except ImportError as error:
            from .providers import install_hint

            raise RealtimeNotInstalledError(
                f"llm.realtime needs the websockets package ({error}); install it with: {install_hint('realtime')}"
            ) from error
        codec = self._codec
        timeout = self._client.timeout
        keepalive = min(_KEEPALIVE_SECONDS, timeout.read or _KEEPALIVE_SECONDS)
        headers = {**self._client.headers, **codec.headers}
        from ._redact import remember_headers

        remember_headers(headers, codec.url)
        import asyncio

        try:
            async with asyncio.timeout(timeout.connect):
                self._ws = await connect(
                    codec.url,
                    additional_headers=headers,
                    open_timeout=None,  # the whole opening is bounded above
                    ping_interval=keepalive,
                    ping_timeout=keepalive,
                    close_timeout=min(5.0, keepalive),
                    max_size=self._client.max_event_bytes,
                    # A reader that falls behind must slow the sender, not grow the memory: the
                    # socket's own buffers hold the rest, and nothing is ever dropped.
                    max_queue=64,
                )
                await self._send(codec.opening())
                while not self._opened:
                    if not await self._pump(opening=True):
                        raise self._closed_early()
                    refused = next((e for e in self._ready if isinstance(e, ErrorEvent)), None)
                    if refused is not None and not self._opened:
                        raise refused.error  # the provider refused the configuration: nothing can follow
        except TimeoutError as error:
            await self._abort()
            if isinstance(error, APIError):
                raise
            raise self._timeout("connect", f"no answer within {timeout.connect} s while opening the session") from None
        except APIError as error:
            await self._abort()
            raise _scrubbed(error) from None
        except BaseException as error:
            await self._abort()
            mapped = self._connect_error(error)
            if mapped is None:
                raise
            raise _scrubbed(mapped) from None
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._ended = True
        await self._abort()

    async def close(self) -> None:
        """Close the session (as leaving `async with` does)."""
        await self.__aexit__(None, None, None)

    async def _abort(self) -> None:
        ws, self._ws = self._ws, None
        self._ended = True
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        self._ws = ws  # kept for `repr` and errors; closed

    # -- sending ----------------------------------------------------------------------------

    async def send(self, text: str, *, respond: bool = True) -> None:
        """Send a user turn of text; with `respond`, the model answers it.

        Sent while the model is still answering, it waits for that reply to end (and goes out
        then, from the read loop): a turn never cuts a reply short; `interrupt()` does.
        """
        if not isinstance(text, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UsageError(f"session.send takes text (a str); got {type(text).__name__}. Send audio with send_audio.")
        self._check_open()
        turn = _Turn("user")
        turn.text.append(text)
        messages = self._codec.user_text(text, respond=respond)
        if self._responding:
            self._queue.append((messages, turn, respond))
            return
        self._turns.append(turn)
        self._responding = respond
        self._started = False
        await self._send(messages)

    async def send_audio(self, pcm: bytes | bytearray | memoryview) -> None:
        """Send a chunk of the user's audio, in `session.input_format` (raw samples, not a file).

        Audio is never held back: with the server's turn detection, speaking over the model's
        reply interrupts it.
        """
        if not isinstance(pcm, (bytes, bytearray, memoryview)):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UsageError(f"session.send_audio takes raw audio bytes; got {type(pcm).__name__}.")
        data = bytes(pcm)
        audio_format = self._codec.input_format
        if audio_format.encoding == "pcm16" and len(data) % 2:
            raise UsageError(
                f"pcm16 audio is 2 bytes a sample; this chunk has {len(data)} bytes. Send whole samples "
                "(keep the odd byte for the next chunk)."
            )
        self._check_open()
        turn = self._user_audio
        if turn is None:
            turn = self._user_audio = _Turn("user", audio_format)
        turn.audio.append(data)
        await self._send(self._codec.audio(data))

    async def commit_audio(self, *, respond: bool = True) -> None:
        """End the user's spoken turn yourself (with `turn_detection="manual"`)."""
        self._check_open()
        self._close_user_audio(None)
        if respond:
            self._responding, self._started = True, False
        await self._send(self._codec.commit_audio(respond=respond))

    async def interrupt(self, *, played_ms: int | None = None) -> None:
        """Cut the model's reply short, as a user speaking over it would.

        The provider stops it where it can (OpenAI cancels it; Gemini Live has no cancel
        message, so its remaining output is dropped here); `Interrupted` is the next event, and
        what was heard stays in `session.messages`: speech and text not yet read from the
        session are dropped, and with `played_ms` (how much of the reply's audio was played) the
        audio past it too, which the provider then forgets as well (OpenAI truncates its copy).
        """
        self._check_open()
        if not self._responding:
            return
        self._discarding = True
        self._drop_unheard(played_ms)
        if not self._interrupted:
            self._interrupted = True
            self._ready.append(Interrupted())
        await self._send(self._codec.interrupt(played_ms))

    def _drop_unheard(self, played_ms: int | None) -> None:
        """Forget the reply's speech and text not yet yielded, and its audio past `played_ms`."""
        ready = self._ready
        turn = self._assistant
        # Only what follows the last turn's end belongs to the reply in progress.
        start = max((i + 1 for i, event in enumerate(ready) if type(event) is TurnEnd), default=0)
        dropped = {AudioDelta: 0, TextDelta: 0, OutputTranscript: 0}
        kept: list[RealtimeEvent] = []
        for index, event in enumerate(ready):
            kind = type(event)
            if index >= start and kind in dropped:
                dropped[kind] += 1
            else:
                kept.append(event)
        ready.clear()
        ready.extend(kept)
        if turn is None:
            return
        # They were added to the turn in the order they were queued: the last ones are unheard.
        for parts, count in (
            (turn.audio, dropped[AudioDelta]),
            (turn.text, dropped[TextDelta]),
            (turn.transcript, dropped[OutputTranscript]),
        ):
            if count:
                del parts[-count:]
        if played_ms is not None and turn.audio and turn.audio_format is not None:
            width = 2 if turn.audio_format.encoding == "pcm16" else 1
            heard = max(0, played_ms) * turn.audio_format.bytes_per_second // 1000 // width * width
            total = 0
            for index, chunk in enumerate(turn.audio):
                if total + len(chunk) > heard:
                    turn.audio[index:] = [chunk[: heard - total]] if heard > total else []
                    break
                total += len(chunk)

    async def send_tool_outputs(self, outputs: Sequence[ToolOutput]) -> None:
        """Answer the model's tool calls yourself (with `auto_tools=False`)."""
        self._check_open()
        outputs = list(outputs)
        answered = {output.id for output in outputs}
        self._calls = [call for call in self._calls if call.id not in answered]
        self._record_outputs(outputs)
        messages = self._codec.tool_outputs(outputs)
        if self._awaiting_outputs and not self._calls:
            self._awaiting_outputs = False
            follow_up = self._codec.respond()
            if follow_up:  # the reply already ended: ask for the next one now, and only now
                self._started = self._outputs_sent = False
                messages += follow_up
        await self._send(messages)

    async def _send(self, messages: list[dict[str, Any]]) -> None:
        ws = self._ws
        dumps = self._dumps
        try:
            for message in messages:
                await ws.send(dumps(message))
        except Exception as error:
            raise _scrubbed(self._failure(error)) from None

    def _check_open(self) -> None:
        if self._ws is None:
            raise UsageError("Open the session first: async with llm.realtime(...) as session.")
        if self._ended:
            raise UsageError("This realtime session is closed; open a new one with llm.realtime(...).")

    # -- reading ----------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[RealtimeEvent]:
        """Every event, in order, for the whole session (until it closes)."""
        return _Events(self, _every, until_turn_end=False)

    def text(self) -> AsyncIterator[str]:
        """The words of the model's reply (its text, or the transcript of its speech), to the end of the turn."""
        return _Events(self, _words, until_turn_end=True)

    def audio(self) -> AsyncIterator[AudioDelta]:
        """The model's speech, chunk by chunk, to the end of the turn."""
        return _Events(self, _speech, until_turn_end=True)

    def transcripts(self) -> AsyncIterator[InputTranscript | OutputTranscript]:
        """Transcripts of the user's and the model's speech, to the end of the turn."""
        return _Events(self, _transcripts, until_turn_end=True)

    async def _pump(self, *, opening: bool = False) -> bool:
        """Read one message and act on it; `False` once the session has ended.

        `_Events.__anext__` does the same inline, for the read loop's sake.
        """
        if self._ended and not opening:
            return False
        if self._reading:
            raise self._two_readers()
        self._reading = True
        try:
            try:
                frame = await self._ws.recv()
            except Exception as error:
                return self._on_closed(error, opening)
            rest = self._take(frame)
            if rest:
                await self._act(rest, opening)
            return True
        finally:
            self._reading = False

    def _two_readers(self) -> UsageError:
        return UsageError("Two tasks are reading one realtime session at once; read it from one task (send from any).")

    def _take(self, frame: str | bytes) -> Sequence[RealtimeEvent | Marker]:
        """Decode a frame; speech and text are kept and queued here, the rest returned for `_act`."""
        try:
            # Gemini sends its JSON in binary frames: decoded here rather than by `json.loads`,
            # which would first guess the encoding.
            message = _decode_json(frame.decode() if isinstance(frame, bytes) else frame)
        except ValueError:
            self._ready.append(ErrorEvent(APIError("a message that is not JSON; skipped", provider=self._provider)))
            return ()
        try:
            items = self._codec.decode(message)
        except APIError as error:
            self._ended = True
            raise self._with_partial(error) from None
        if len(items) == 1 and not self._discarding:
            # Nearly every message is one piece of speech or text: kept and queued here,
            # without the general path's checks.
            item = items[0]
            kind = type(item)
            if kind is AudioDelta or kind is TextDelta or kind is OutputTranscript:
                turn = self._assistant or self._turn_for(kind)
                if type(item) is AudioDelta:
                    turn.audio.append(item.data)
                elif type(item) is TextDelta:
                    turn.text.append(item.text)
                elif type(item) is OutputTranscript:
                    turn.transcript.append(item.text)
                self._ready.append(item)  # pyright: ignore[reportArgumentType]
                return ()
        return items

    async def _act(self, items: Sequence[RealtimeEvent | Marker], opening: bool) -> None:
        ready = self._ready
        outbox: list[dict[str, Any]] = []
        for item in items:
            # Speech and text first: nearly every message is one of them.
            if isinstance(item, (AudioDelta, TextDelta, OutputTranscript)):
                if self._discarding:
                    continue  # after `interrupt()`: the rest of the reply is not heard
                turn = self._assistant or self._turn_for(type(item))
                if isinstance(item, AudioDelta):
                    turn.audio.append(item.data)
                elif isinstance(item, TextDelta):
                    turn.text.append(item.text)
                else:
                    turn.transcript.append(item.text)
                ready.append(item)
                continue
            if self._calls and self._auto_tools and not isinstance(item, ToolUse):
                outbox += await self._run_tools()  # the calls asked for together run together
            if isinstance(item, ToolUse):
                (self._assistant or self._new_assistant()).calls.append(item.call)
                self._calls.append(item.call)
                ready.append(item)
            elif isinstance(item, InputTranscript):
                self._transcribed(item)
                ready.append(item)
            elif isinstance(item, ResponseStarted):
                self._responding = self._started = True
                if not self._commits_seen:  # a provider without commits: the reply ends the spoken turn
                    self._close_user_audio(None)
            elif isinstance(item, ResponseDone):
                outbox += await self._reply_done(item)
            elif isinstance(item, InputCommitted):
                self._commits_seen = True
                self._close_user_audio(item.item_id)
            elif isinstance(item, Interrupted):
                if not self._interrupted:
                    ready.append(item)
                    # Told between replies (nothing was playing), it marks no reply as cut short.
                    self._interrupted = self._responding
            elif isinstance(item, Ready):
                self._opened = True
                self.id = item.session_id
            else:  # SpeechStarted, SpeechStopped, ToolResult, TurnEnd, ErrorEvent
                if isinstance(item, ErrorEvent):
                    _scrubbed(item.error)  # a server may echo what it was sent, key included
                ready.append(item)
                if isinstance(item, ErrorEvent) and self._responding and not self._started:
                    # A reply was asked for and an error came instead: it will not come, and the
                    # turns waiting behind it must not wait for ever.
                    self._responding = False
                    outbox += self._next_queued()
        if self._calls and self._auto_tools:
            outbox += await self._run_tools()
        if outbox:
            await self._send(outbox)

    def _turn_for(self, kind: type) -> _Turn:
        """The message a piece of the model's output goes to when no reply is being assembled."""
        if kind is OutputTranscript and not self._responding and self._last is not None:
            return self._last  # words trailing a reply that ended (Gemini's transcript may) belong to it
        return self._new_assistant()

    def _new_assistant(self) -> _Turn:
        turn = self._assistant = _Turn("assistant", self._codec.output_format)
        self._turns.append(turn)
        return turn

    async def _run_tools(self) -> list[dict[str, Any]]:
        from ._execute import execute_async  # asyncio and inspect work: loaded with the first tool run

        calls, self._calls = self._calls, []
        outputs = await execute_async(self._setup.tools, calls, self._context)
        self._record_outputs(outputs)
        self._ready.extend(ToolResult(output) for output in outputs)
        return self._codec.tool_outputs(outputs)

    def _record_outputs(self, outputs: Sequence[ToolOutput]) -> None:
        turn = _Turn("user")
        turn.outputs.extend(outputs)
        self._turns.append(turn)
        self._assistant = None  # the reply goes on in a new message, after the outputs
        self._outputs_sent = True

    async def _reply_done(self, done: ResponseDone) -> list[dict[str, Any]]:
        self._turn_usage = added_usage(self._turn_usage, done.usage)
        self.usage = added_usage(self.usage, done.usage)
        if done.cancelled and not self._interrupted:
            self._interrupted = True
            self._ready.append(Interrupted())
        if self._calls and not self._auto_tools:
            self._awaiting_outputs = True  # the turn goes on once `send_tool_outputs` answers
            return []
        if self._outputs_sent and not self._interrupted:
            self._outputs_sent = False
            follow_up = self._codec.respond()
            if follow_up:  # the provider waits to be asked for the reply after the tool outputs
                self._started = False
                return follow_up
        finish: FinishReason = "other" if self._interrupted else done.finish_reason
        turn, model_id = self._assistant or _Turn("assistant"), self.model_id
        self._last = self._assistant
        self._ready.append(
            TurnEnd(message=lambda: turn.message(model_id), usage=self._turn_usage, finish_reason=finish)
        )
        self._assistant = None
        self._turn_usage = None
        self._responding = self._started = self._interrupted = self._discarding = self._outputs_sent = False
        return self._next_queued()

    def _next_queued(self) -> list[dict[str, Any]]:
        """The turns sent during the reply that just ended, up to the first that asks for an answer."""
        outbox: list[dict[str, Any]] = []
        while self._queue and not self._responding:
            messages, turn, respond = self._queue.pop(0)
            if turn is not None:
                self._turns.append(turn)
            self._responding, self._started = respond, False
            outbox += messages
        return outbox

    def _close_user_audio(self, item_id: str | None) -> None:
        turn, self._user_audio = self._user_audio, None
        if turn is not None and turn.audio:
            self._turns.append(turn)
        elif item_id is not None:  # committed after it was closed here (`commit_audio`)
            turn = next((t for t in reversed(self._turns) if t.role == "user" and t.audio and t.item_id is None), None)
        else:
            return
        if turn is None or item_id is None:
            return
        turn.item_id = item_id
        self._by_item[item_id] = turn
        turn.transcript += self._early.pop(item_id, ())

    def _transcribed(self, event: InputTranscript) -> None:
        item_id = event.item_id
        if item_id is not None:
            turn = self._by_item.get(item_id)
            if turn is None:  # words of a turn not yet committed
                self._early.setdefault(item_id, []).append(event.text)
                return
        else:
            turn = self._user_audio or next((t for t in reversed(self._turns) if t.role == "user" and t.audio), None)
            if turn is None:
                turn = self._user_audio = _Turn("user", self._codec.input_format)
        turn.transcript.append(event.text)

    # -- failures ---------------------------------------------------------------------------

    def _on_closed(self, error: Exception, opening: bool) -> bool:
        from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

        self._ended = True
        if isinstance(error, ConnectionClosedOK) and not self._responding and not opening:
            return False  # the session ended between turns: the iteration ends
        if not isinstance(error, ConnectionClosed):
            raise self._with_partial(self._failure(error)) from None
        raise self._with_partial(self._failure(error)) from None

    def _failure(self, error: Exception) -> APIError:
        """The `llm.APIError` for a failed connection, from the close frame when there is one."""
        from websockets.exceptions import ConnectionClosed

        if isinstance(error, APIError):
            return error
        if not isinstance(error, ConnectionClosed):
            return self._connection_error(f"the connection failed: {type(error).__name__}: {error}")
        sent, received = error.sent, error.rcvd
        if sent is not None and sent.code == 1011 and "keepalive" in sent.reason:
            keepalive = min(_KEEPALIVE_SECONDS, self._client.timeout.read or _KEEPALIVE_SECONDS)
            return self._timeout("read", f"the server stopped answering keepalive pings ({keepalive} s)")
        if sent is not None and sent.code == 1009:
            from .exceptions import ResponseTooLargeError

            limit = self._client.max_event_bytes
            return ResponseTooLargeError(
                f"a message larger than max_event_bytes ({limit} bytes); the session was closed",
                provider=self._provider,
                limit="max_event_bytes",
                max_bytes=limit,
            )
        if received is not None:
            mapped = self._codec.close_error(received.code, received.reason)
            if mapped is not None:
                return mapped
            detail = f"code {received.code}" + (f": {received.reason}" if received.reason else "")
        else:
            detail = "no close frame"
        where = "mid-turn" if self._responding else "unexpectedly"
        return self._connection_error(f"the server closed the session {where} ({detail})")

    def _with_partial(self, error: APIError) -> APIError:
        _scrubbed(error)
        if self._assistant is not None and error.partial_response is None:
            error.partial_response = self._assistant.message(self.model_id)
        return error

    def _closed_early(self) -> APIError:
        return self._connection_error("the server closed the connection before the session was set up")

    def _connect_error(self, error: BaseException) -> APIError | None:
        from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

        if isinstance(error, InvalidStatus):
            response = error.response
            headers = {name.lower(): value for name, value in response.headers.raw_items()}
            return self._codec.handshake_error(response.status_code, headers, bytes(response.body or b""))
        if isinstance(error, InvalidURI):
            return self._connection_error(f"the session URL is not a WebSocket URL: {error}")
        if isinstance(error, (InvalidHandshake, OSError)):
            from ._redact import shown_url

            return self._connection_error(
                f"could not connect to {shown_url(self._codec.url)}: {type(error).__name__}: {error}"
            )
        if isinstance(error, Exception) and type(error).__module__.startswith("websockets"):
            return self._failure(error)
        return None

    def _connection_error(self, message: str) -> APIError:
        from .exceptions import ConnectionError

        return ConnectionError(message, provider=self._provider)

    def _timeout(self, phase: TimeoutPhase, message: str) -> APIError:
        from .exceptions import TimeoutError

        return TimeoutError(message, provider=self._provider, phase=phase)


# --- llm.realtime(...) -------------------------------------------------------------------------

_TURN_DETECTION = ("server", "semantic", "manual")


class _Realtime:
    """`llm.realtime(model_id, ...)` opens a session; its event types are its attributes.

    ```python
    async for event in session:
        match event:
            case llm.realtime.AudioDelta(data=pcm):
                speaker.write(pcm)
            case llm.realtime.TurnEnd(message=message):
                print(message.text)
    ```

    For annotations, import them: `from mirascope.llm.realtime import AudioDelta`.
    """

    AudioDelta = AudioDelta
    AudioFormat = AudioFormat
    ErrorEvent = ErrorEvent
    RealtimeNotInstalledError = RealtimeNotInstalledError
    InputTranscript = InputTranscript
    Interrupted = Interrupted
    OutputTranscript = OutputTranscript
    Session = RealtimeSession
    SpeechStarted = SpeechStarted
    SpeechStopped = SpeechStopped
    TextDelta = TextDelta
    ToolResult = ToolResult
    ToolUse = ToolUse
    TurnDetection = TurnDetection
    TurnEnd = TurnEnd

    def __repr__(self) -> str:
        return "llm.realtime"

    def __call__(
        self,
        model_id: str,
        *,
        instructions: str | None = None,
        tools: Sequence[AnyTool] | None = None,
        output: Literal["text", "audio"] = "text",
        voice: str | None = None,
        input_audio: AudioFormat | None = None,
        turn_detection: TurnDetection | Literal["server", "semantic", "manual"] = "server",
        input_transcription: bool | str = True,
        messages: Sequence[Message] = (),
        context: Context[Any] | None = None,
        auto_tools: bool = True,
        client: Client | None = None,
        provider_params: Mapping[str, object] | None = None,
        **params: Unpack[CallParams],
    ) -> RealtimeSession:
        """A realtime session with `model_id`; open it with `async with`.

        Everything is checked here, before anything connects: the model's provider must have a
        realtime API (`openai:`, `azure:`, `google:`), and what the model cannot take is refused
        with `llm.FeatureNotSupportedError`.

        Args:
            model_id: `provider:model`, e.g. `"openai:gpt-realtime"`, `"azure:<deployment>"`,
                `"google:gemini-2.5-flash-native-audio-preview-09-2025"`.
            instructions: The system prompt.
            tools: `@llm.tool` functions the model may call; the session runs them (with
                `context`) and sends their outputs back, unless `auto_tools=False`.
            output: `"text"`, or `"audio"` for speech with its transcript.
            voice: The provider's voice name.
            input_audio: The format of the audio you will send; by default the provider's
                (`session.input_format`).
            turn_detection: `"server"` (the server's voice detection ends each spoken turn and
                answers it), `"semantic"` (OpenAI's), a `llm.realtime.TurnDetection` tuning
                the server's, or `"manual"` (`commit_audio()` ends each spoken turn).
            input_transcription: Transcribe the user's speech (`InputTranscript` events); a
                model name picks the transcriber (OpenAI).
            messages: Earlier conversation the session starts from.
            context: The `llm.Context` handed to tools that take one.
            auto_tools: Run the tools the model asks for; with `False`, answer `ToolUse`
                events yourself with `session.send_tool_outputs(...)`.
            client: `llm.client(provider, ...)` for the key, base URL (the session's `ws://`
                or `wss://` URL derives from it) and timeouts.
            provider_params: Provider-specific session settings, merged one level deep into
                the session's configuration without replacing what Mirascope sets.
            **params: Call parameters (`max_tokens`, `temperature`, ...), per model.

        Raises:
            FeatureNotSupportedError: The provider has no realtime API, or the model cannot
                take a setting, tool or seeded message.
            UsageError: An argument that cannot be right.
        """
        from ._checks import check_params, check_thinking, split_model_id
        from .clients import default_client
        from .exceptions import FeatureNotSupportedError
        from .messages import as_messages
        from .providers._registry import get_provider
        from .tools import split_tools

        provider_name = split_model_id(model_id)[0]
        provider = get_provider(provider_name)
        codec_for = getattr(provider, "realtime_codec", None)
        if codec_for is None:
            raise FeatureNotSupportedError(
                f"{model_id}: the {provider_name!r} provider has no realtime API in Mirascope; realtime "
                "sessions reach 'openai:' (e.g. 'openai:gpt-realtime'), 'azure:' and 'google:' (Gemini Live) "
                "models. Use llm.call or .stream for this model.",
                model=model_id,
                feature="realtime",
            )
        if client is not None and client.provider.family != provider.family:
            raise UsageError(
                f"A client for {client.provider.name!r} cannot open {model_id!r}: pass "
                f"client=llm.client({provider_name!r}, ...), or no client= for the default one."
            )
        if output not in ("text", "audio"):
            raise UsageError(f"output= is 'text' or 'audio'; got {output!r}.")
        if not isinstance(turn_detection, TurnDetection) and turn_detection not in _TURN_DETECTION:
            raise UsageError(
                f"turn_detection= is 'server', 'semantic', 'manual' or llm.realtime.TurnDetection(...); "
                f"got {turn_detection!r}."
            )
        if input_audio is not None and not isinstance(input_audio, AudioFormat):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UsageError(f"input_audio= takes llm.AudioFormat(...); got {type(input_audio).__name__}.")
        if not isinstance(input_transcription, (bool, str)):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UsageError(
                f"input_transcription= is True, False or a transcription model's name; got {input_transcription!r}."
            )
        check_params(params)
        if "thinking" in params:
            check_thinking(model_id, params["thinking"])
        function_tools, provider_tools = split_tools(tools)
        if provider_tools:
            raise FeatureNotSupportedError(
                f"{model_id}: realtime sessions take @llm.tool functions, not provider tools "
                f"({', '.join(sorted({type(t).__name__ for t in provider_tools}))}); "
                "write a search of your own as an @llm.tool.",
                model=model_id,
                feature="provider tools",
            )
        setup = RealtimeSetup(
            model_id=model_id,
            model=model_id.partition(":")[2],
            instructions=instructions,
            tools=function_tools,
            output=output,
            voice=voice,
            input_audio=input_audio,
            turn_detection=turn_detection,
            input_transcription=input_transcription,
            params=params,
            provider_params=dict(provider_params or {}),
            messages=as_messages(list(messages)) if messages else (),
        )
        client = client or default_client(provider)
        codec = codec_for(setup, client)
        return RealtimeSession(codec=codec, setup=setup, client=client, context=context, auto_tools=auto_tools)


realtime = _Realtime()
"""Open a realtime session: `async with llm.realtime("openai:gpt-realtime", ...) as session`."""


class _CallableModule(types.ModuleType):
    """This module, callable: `llm.realtime(...)` opens a session, `llm.realtime.TextDelta` is an event.

    The module (not the `_Realtime` object type checkers see) is what `llm.realtime` is at run
    time: importing `mirascope.llm.realtime` from anywhere makes it the package's attribute.
    """

    def __call__(self, model_id: str, **options: Any) -> RealtimeSession:
        return realtime(model_id, **options)


sys.modules[__name__].__class__ = _CallableModule
