"""Gemini Live (`BidiGenerateContent`): `llm.realtime` sessions with `google:` models.

The same protocol runs on the Gemini API and on Vertex AI; only the URL, the authentication
and the model's resource name differ. The codec turns Mirascope's intentions into Gemini Live's
JSON messages and Gemini's messages into realtime events; it does no I/O (the Vertex AI access
token is fetched once, when the codec is made, before core connects).

Wire facts the code relies on:

- The first message is `setup`; the server answers `setupComplete`.
- Client messages are `clientContent` (text turns, seeded history), `realtimeInput` (audio,
  and `activityStart`/`activityEnd` when the client detects turns itself) and `toolResponse`.
- The server sends `serverContent` (`modelTurn` parts, transcriptions, `interrupted`,
  `generationComplete`, `turnComplete`), `toolCall`, `toolCallCancellation`, `usageMetadata`,
  `goAway` and `sessionResumptionUpdate`.
- Errors arrive as the WebSocket close frame's code and reason, not as messages.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from mirascope import llm
from mirascope.llm import Audio, CacheControl, Text, Thought, ToolCall, ToolOutput, Usage
from mirascope.llm.providers import ParamHandling, Request, check_params, merge_provider_params, refusal
from mirascope.llm.providers.realtime import (
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
    InputTranscript,
    Interrupted,
    OutputTranscript,
    RealtimeEvent,
    TextDelta,
    ToolUse,
    TurnDetection,
)

from . import vertex
from .decode import usage
from .encode import GENERATED_ID_PREFIX, generation_config
from .errors import CODES

if TYPE_CHECKING:
    from mirascope.llm.providers.http import ErrorSource
    from mirascope.llm.tools import Tool

__all__ = [
    "DEFAULT_INPUT_FORMAT",
    "LIVE_PARAMETERS",
    "OUTPUT_FORMAT",
    "GeminiLiveCodec",
    "close_error",
    "function_declaration",
    "gemini_schema",
    "live_headers",
    "live_url",
    "live_usage",
    "make_codec",
]

_log = logging.getLogger("mirascope.llm.realtime")
_PROVIDER = "google"

DEFAULT_INPUT_FORMAT = AudioFormat(rate=16000)
"""What `send_audio` takes unless `input_audio=` says otherwise: 16 kHz PCM, Gemini's native input."""

OUTPUT_FORMAT = AudioFormat(rate=24000)
"""Gemini Live speaks 24 kHz PCM."""

LIVE_PARAMETERS: Mapping[str, ParamHandling] = {
    "temperature": ParamHandling.send("setup.generationConfig.temperature"),
    "max_tokens": ParamHandling.send("setup.generationConfig.maxOutputTokens", note="per reply"),
    "top_p": ParamHandling.send("setup.generationConfig.topP"),
    "top_k": ParamHandling.send("setup.generationConfig.topK"),
    "seed": ParamHandling.send("setup.generationConfig.seed"),
    "stop": ParamHandling.refuse("Gemini Live has no stop sequences"),
    "thinking": ParamHandling.send("setup.generationConfig.thinkingConfig", note="as for generateContent"),
}
"""How a Gemini Live session takes each call parameter."""

# Setup keys Mirascope always sets from the session itself, which `provider_params` may not.
_OWNED = frozenset({"model"})

# A base URL that already names an API version keeps it.
_VERSIONS = ("/v1", "/v1beta", "/v1alpha", "/v1beta1")


def make_codec(provider: ErrorSource, setup: RealtimeSetup, client: llm.Client) -> GeminiLiveCodec:
    """A fresh codec for one session, the setup checked against Gemini Live first.

    On Vertex AI without an `api_key` (an access token) this fetches a token from the client's
    credentials, which may go over the network: it happens here, once, before connecting.

    Raises:
        FeatureNotSupportedError: A setting Gemini Live cannot take.
        MissingAPIKeyError: No key (Gemini API) or no credentials (Vertex AI).
    """
    request = _as_request(setup)
    opening = [{"setup": _setup_body(setup, request, client)}]
    history = _history(request, setup.messages)
    if history:
        opening.append({"clientContent": {"turns": history, "turnComplete": False}})
    input_format = setup.input_audio or DEFAULT_INPUT_FORMAT
    return GeminiLiveCodec(
        provider=provider,
        model_id=setup.model_id,
        url=live_url(client),
        headers=live_headers(client),
        input_format=input_format,
        opening=opening,
        manual=setup.turn_detection == "manual",
    )


class GeminiLiveCodec:
    """One Gemini Live session's translation (the `RealtimeCodec` of `google:` models).

    It tracks whether a reply is in progress, so that each reply is framed by exactly one
    `ResponseStarted` and one `ResponseDone` whatever Gemini sends (an `interrupted` reply may
    or may not be followed by its `turnComplete`), and, with manual turn detection, whether the
    user's spoken turn has been opened with `activityStart`.

    A reply is one Gemini turn, up to `turnComplete`: tool calls and what the model says after
    their outputs belong to it. Gemini sends no sign that the user's spoken turn ended, so the
    codec sends no `InputCommitted`.
    """

    def __init__(
        self,
        *,
        provider: ErrorSource,
        model_id: str,
        url: str,
        headers: Mapping[str, str],
        input_format: AudioFormat,
        opening: list[dict[str, Any]],
        manual: bool,
    ) -> None:
        self._provider = provider
        self._model_id = model_id
        self._url = url
        self._headers = dict(headers)
        self._input_format = input_format
        self._opening = opening
        self._manual = manual
        self._mime_type = input_format.mime_type
        # "idle": no reply open; "open": ResponseStarted sent; "cancelled": the reply was cut
        # short and its ResponseDone sent, so a late `turnComplete` for it ends nothing.
        self._reply: Literal["idle", "open", "cancelled"] = "idle"
        self._activity_open = False  # manual turns: activityStart sent, activityEnd not yet
        self._usage: dict[str, Any] | None = None  # the latest usageMetadata of the reply in progress
        self._generated_ids = 0
        self._after_reply = False  # a reply ended, and no user input went out since

    def __repr__(self) -> str:
        return f"<Gemini Live codec for {self._model_id!r}>"

    @property
    def url(self) -> str:
        """The `BidiGenerateContent` WebSocket URL."""
        return self._url

    @property
    def headers(self) -> Mapping[str, str]:
        """`x-goog-api-key` (Gemini API) or `Authorization: Bearer` (Vertex AI), plus the client's headers."""
        return self._headers

    @property
    def input_format(self) -> AudioFormat:
        """PCM16 at the session's rate (16 kHz unless `input_audio=` says otherwise)."""
        return self._input_format

    @property
    def output_format(self) -> AudioFormat:
        """PCM16 at 24 kHz."""
        return OUTPUT_FORMAT

    def opening(self) -> list[dict[str, Any]]:
        """`setup`, then one `clientContent` with the seeded history (if any)."""
        return list(self._opening)

    def user_text(self, text: str, *, respond: bool) -> list[dict[str, Any]]:
        """A user turn; `turnComplete` asks for the answer."""
        self._after_reply = False
        return [{"clientContent": {"turns": [{"parts": [{"text": text}], "role": "user"}], "turnComplete": respond}}]

    def audio(self, pcm: bytes) -> list[dict[str, Any]]:
        """A chunk of the user's speech (opening the spoken turn first, with manual turn detection)."""
        self._after_reply = False
        messages: list[dict[str, Any]] = []
        if self._manual and not self._activity_open:
            messages.append({"realtimeInput": {"activityStart": {}}})
            self._activity_open = True
        data = base64.b64encode(pcm).decode("ascii")
        messages.append({"realtimeInput": {"audio": {"data": data, "mimeType": self._mime_type}}})
        return messages

    def commit_audio(self, *, respond: bool) -> list[dict[str, Any]]:
        """End the spoken turn: `activityEnd` (manual turns), else `audioStreamEnd` to flush the server's detection.

        Raises:
            FeatureNotSupportedError: `respond=False`: Gemini answers every spoken turn.
        """
        if not respond:
            raise llm.FeatureNotSupportedError(
                f"{self._model_id} cannot take commit_audio(respond=False): Gemini Live answers every "
                "spoken turn it is given; keep the audio until the model should answer it.",
                model=self._model_id,
                feature="commit_audio(respond=False)",
            )
        if not self._manual:
            return [{"realtimeInput": {"audioStreamEnd": True}}]
        if not self._activity_open:
            return []  # no audio since the last turn ended: nothing to end
        self._activity_open = False
        return [{"realtimeInput": {"activityEnd": {}}}]

    def interrupt(self, played_ms: int | None) -> list[dict[str, Any]]:
        """Nothing: Gemini Live has no message that cancels a reply.

        The server cuts a reply short itself when the user speaks over it (barge-in), and then
        says `interrupted`; core stops playing what it already received.
        """
        return []

    def tool_outputs(self, outputs: Sequence[ToolOutput]) -> list[dict[str, Any]]:
        """One `toolResponse` carrying every output."""
        if not outputs:
            return []
        return [{"toolResponse": {"functionResponses": [_function_response(output) for output in outputs]}}]

    def respond(self) -> list[dict[str, Any]]:
        """Nothing: Gemini goes on by itself once it has the tool outputs."""
        return []

    def decode(self, message: Any) -> Sequence[RealtimeEvent | Marker]:
        """The events of one server message, in order."""
        if not isinstance(message, dict):
            return ignore_unknown(_PROVIDER, type(message).__name__)
        body = cast("dict[str, Any]", message)
        if len(body) == 1 and self._reply == "open":
            # Most messages are one part of the reply in progress: `{"serverContent": {"modelTurn":
            # {"parts": [one part]}}}`. Read without the general path's checks.
            content = body.get("serverContent")
            if type(content) is dict and len(content) == 1:  # pyright: ignore[reportUnknownArgumentType]
                turn = cast("dict[str, Any]", content).get("modelTurn")
                if type(turn) is dict:
                    parts = cast("dict[str, Any]", turn).get("parts")
                    if type(parts) is list and len(parts) == 1:  # pyright: ignore[reportUnknownArgumentType]
                        return _part_events(cast("list[Any]", parts)[0])
        metadata = body.get("usageMetadata")
        if isinstance(metadata, dict) and (self._reply == "open" or _completes_turn(body)):
            # The reply's usage rides with its `turnComplete` (or comes before it, never after):
            # read before the content; one between replies belongs to none.
            self._usage = cast("dict[str, Any]", metadata)
        events: list[RealtimeEvent | Marker] = []
        for key, value in body.items():
            if key == "serverContent":
                events.extend(self._server_content(value))
            elif key == "toolCall":
                events.extend(self._tool_call(value))
            elif key == "setupComplete":
                events.append(Ready())
            elif key == "goAway":
                left = cast("dict[str, Any]", value).get("timeLeft") if isinstance(value, dict) else None
                _log.info("google realtime: the server will close the session soon (goAway, timeLeft=%s)", left)
            elif key not in ("usageMetadata", "toolCallCancellation", "sessionResumptionUpdate"):
                events.extend(ignore_unknown(_PROVIDER, key))
        return events

    def close_error(self, code: int, reason: str) -> llm.APIError | None:
        """The error a close frame means; `None` for a normal close."""
        return close_error(code, reason)

    def handshake_error(self, status: int, headers: Mapping[str, str], body: bytes) -> llm.APIError:
        """The provider's HTTP error mapping, Google's status and reason codes first."""
        import httpx

        from mirascope.llm.providers.http import error_from_response

        response = httpx.Response(status, headers=dict(headers), content=body)
        return error_from_response(self._provider, response, codes=CODES)

    # Decoding.

    def _start(self, events: list[RealtimeEvent | Marker]) -> None:
        # Gemini never says that the user's spoken turn ended (no `InputCommitted`): core takes
        # the reply's beginning as the sign.
        if self._reply != "open":
            self._reply = "open"
            events.append(ResponseStarted())

    def _server_content(self, value: object) -> list[RealtimeEvent | Marker]:
        events: list[RealtimeEvent | Marker] = []
        if not isinstance(value, dict):
            return events
        content = cast("dict[str, Any]", value)
        heard = _text_of(content.get("inputTranscription"))
        if heard:
            events.append(InputTranscript(heard))
        turn = content.get("modelTurn")
        if isinstance(turn, dict):
            self._start(events)
            parts: list[Any] = cast("dict[str, Any]", turn).get("parts") or []
            for part in parts:
                events.extend(_part_events(part))
        said = _text_of(content.get("outputTranscription"))
        if said:
            # Words of a reply that already ended (its transcript can trail its `turnComplete`)
            # open no new reply: nothing was asked since, and no end would come for it.
            if not self._after_reply:
                self._start(events)
            events.append(OutputTranscript(said))
        if content.get("interrupted"):
            events.append(Interrupted())
            if self._reply == "open":
                events.append(ResponseDone(usage=self._take_usage(), finish_reason="other", cancelled=True))
                self._reply = "cancelled"
        if content.get("turnComplete"):
            if self._reply == "cancelled":
                self._reply = "idle"  # the interrupted reply's own end: already reported
                self._usage = None
            else:
                # A turn with nothing in it (no words, no audio) still ends: core waits for it.
                self._start(events)
                events.append(ResponseDone(usage=self._take_usage(), finish_reason="stop"))
                self._reply = "idle"
                self._after_reply = True
        for key in content:
            if key not in _SERVER_CONTENT_KEYS:
                events.extend(ignore_unknown(_PROVIDER, f"serverContent.{key}"))
        return events

    def _tool_call(self, value: object) -> list[RealtimeEvent | Marker]:
        events: list[RealtimeEvent | Marker] = []
        if not isinstance(value, dict):
            return events
        calls: list[Any] = cast("dict[str, Any]", value).get("functionCalls") or []
        if not calls:
            return events
        self._start(events)
        for call in calls:
            if not isinstance(call, dict):
                continue
            fields = cast("dict[str, Any]", call)
            name = str(fields.get("name") or "")
            call_id = fields.get("id")
            if not isinstance(call_id, str) or not call_id:
                call_id = f"{GENERATED_ID_PREFIX}{name}_{self._generated_ids}"
                self._generated_ids += 1
            args = fields.get("args")
            arguments = cast("dict[str, object]", args) if isinstance(args, dict) else {}
            events.append(ToolUse(ToolCall(id=call_id, name=name, args=arguments)))
        # The reply stays open: Gemini goes on by itself once it has the tool outputs, in the
        # same turn, and its `turnComplete` ends it (one `ResponseDone` for the whole turn).
        return events

    def _take_usage(self) -> Usage | None:
        found = live_usage(self._usage)
        self._usage = None
        return found


_SERVER_CONTENT_KEYS = frozenset(
    {
        "modelTurn",
        "inputTranscription",
        "outputTranscription",
        "interrupted",
        "turnComplete",
        "generationComplete",
        "turnCompleteReason",
        "waitingForInput",
        "groundingMetadata",
        "urlContextMetadata",
    }
)
"""`serverContent` fields Gemini documents; any other is logged once as unknown."""


def _completes_turn(body: Mapping[str, Any]) -> bool:
    content = body.get("serverContent")
    return isinstance(content, dict) and bool(cast("dict[str, Any]", content).get("turnComplete"))


def _text_of(value: object) -> str:
    if isinstance(value, dict):
        text = cast("dict[str, Any]", value).get("text")
        if isinstance(text, str):
            return text
    return ""


def _part_events(part: object) -> list[RealtimeEvent]:
    if not isinstance(part, dict):
        return []
    fields = cast("dict[str, Any]", part)
    if fields.get("thought"):
        return []  # the model's reasoning, not its answer
    text = fields.get("text")
    if isinstance(text, str):
        return [TextDelta(text)] if text else []
    blob = fields.get("inlineData")
    if isinstance(blob, dict):
        inline = cast("dict[str, Any]", blob)
        mime = str(inline.get("mimeType") or "")
        data = inline.get("data")
        if mime.startswith("audio/") and isinstance(data, str) and data:
            return [AudioDelta(_b64decode(data), _audio_format(mime))]
    return []  # executable code and the like: nothing a realtime session shows


def _b64decode(data: str) -> bytes:
    # Standard or URL-safe alphabet, padded or not: both carry the same bytes. The checks are
    # scans in C; the common case (standard, padded) costs only the decoding.
    if "-" in data or "_" in data:
        data = data.translate(_URLSAFE)
    if len(data) % 4:
        data += "=" * (-len(data) % 4)
    return binascii.a2b_base64(data)


_URLSAFE = str.maketrans("-_", "+/")


_formats: dict[str, AudioFormat] = {}


def _audio_format(mime: str) -> AudioFormat:
    found = _formats.get(mime)
    if found is None:
        found = _parse_audio_format(mime)
        if len(_formats) < 64:  # a server's few MIME types, kept; never a growing map
            _formats[mime] = found
    return found


def _parse_audio_format(mime: str) -> AudioFormat:
    for parameter in mime.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name == "rate" and value.isdigit() and 8000 <= int(value) <= 48000:
            rate = int(value)
            return OUTPUT_FORMAT if rate == OUTPUT_FORMAT.rate else AudioFormat(rate=rate)
    return OUTPUT_FORMAT


def live_usage(metadata: Mapping[str, Any] | None) -> Usage | None:
    """A turn's `usageMetadata` as `llm.Usage`, counted as `generateContent` replies are.

    Gemini Live names the reply's tokens `responseTokenCount`; thinking is output there too
    (outside Gemini Live's own `totalTokenCount`).
    """
    return usage(metadata, output="responseTokenCount")


def close_error(code: int, reason: str) -> llm.APIError | None:
    """The error a Gemini Live close frame means: Gemini reports errors only this way.

    1000 and 1001 are normal ends; 1007 a request Gemini refused (`llm.BadRequestError`); 1008
    a policy refusal (`llm.PermissionError`, or `llm.AuthenticationError` for a bad key); 1011
    a failure on Google's side (`llm.ServerError`, or `llm.RateLimitError` for an exhausted
    quota); any other code a plain `llm.APIError`. The message is Google's reason.
    """
    if code in (1000, 1001):
        return None
    lowered = reason.lower()
    message = reason or f"the server closed the connection (WebSocket close code {code})"
    if code == 1007:
        kind: type[llm.APIError] = llm.BadRequestError
        hint = "Gemini refused a message of the session; its reason above says which."
    elif code == 1008:
        if "api key" in lowered or "api_key" in lowered or "unauthenticated" in lowered or "credential" in lowered:
            kind = llm.AuthenticationError
            hint = "Check the API key: set GOOGLE_API_KEY or pass api_key to llm.client('google', ...)."
        else:
            kind = llm.PermissionError
            hint = "The key works but may not use this model or feature; check its project and access."
    elif code == 1011:
        if "quota" in lowered or "resource_exhausted" in lowered or "rate limit" in lowered:
            kind = llm.RateLimitError
            hint = "Wait and retry, or check the project's quota."
        else:
            kind = llm.ServerError
            hint = "Gemini failed on its side; open a new session."
    else:
        kind = llm.APIError
        hint = None
    return kind(message, provider=_PROVIDER, body={"close_code": code, "reason": reason}, hint=hint)


# Connection.


def live_url(client: llm.Client) -> str:
    """The `BidiGenerateContent` WebSocket URL for the client's base URL and options.

    The host (and any path before the API version) is the client's; `http` becomes `ws` and
    `https` `wss`. The API version is the one the base URL names, else `api_version`, else
    `v1beta` (Gemini API) or `v1` (Vertex AI).
    """
    base = client.base_url.rstrip("/")
    options = client.options
    vertexai = bool(options.get("vertexai"))
    version: str | None = None
    for suffix in _VERSIONS:
        if base.endswith(suffix):
            version = suffix[1:]
            base = base[: -len(suffix)]
            break
    if version is None:
        given = options.get("api_version")
        version = given if isinstance(given, str) and given else ("v1" if vertexai else "v1beta")
    scheme, sep, rest = base.partition("://")
    if sep:
        base = {"https": "wss", "http": "ws"}.get(scheme.lower(), scheme) + "://" + rest
    if vertexai:
        return f"{base}/ws/google.cloud.aiplatform.{version}.LlmBidiService/BidiGenerateContent"
    return f"{base}/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent"


def live_headers(client: llm.Client) -> dict[str, str]:
    """The handshake's headers: the client's request headers without `content-type`.

    That is `x-goog-api-key` on the Gemini API and `Authorization: Bearer <token>` on Vertex AI
    (the given token, else one from the client's Google credentials), plus the client's own
    headers.
    """
    headers = {name: value for name, value in client.request_headers().items() if name.lower() != "content-type"}
    if client.options.get("vertexai") and not any(name.lower() == "authorization" for name in headers):
        headers["authorization"] = f"Bearer {vertex.access_token(client.options)}"
    return headers


def _model_name(model: str, client: llm.Client) -> str:
    if client.options.get("vertexai"):
        return vertex.model_path(model, client.options)
    return model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"


# The setup message.


def _as_request(setup: RealtimeSetup) -> Request:
    # The encoders' helpers (params, refusals, provider_params) take a Request; a session is one.
    return Request(
        model_id=setup.model_id,
        model=setup.model,
        messages=setup.messages,
        params=setup.params,
        provider_params=setup.provider_params,
        tools=setup.tools,
    )


def _setup_body(setup: RealtimeSetup, request: Request, client: llm.Client) -> dict[str, Any]:
    check_params(request, LIVE_PARAMETERS)
    config: dict[str, Any] = {"responseModalities": ["AUDIO" if setup.output == "audio" else "TEXT"]}
    config.update(generation_config(request))
    if setup.voice is not None:
        if setup.output != "audio":
            raise refusal(request, "voice=... with output='text'", "a voice is for spoken replies; add output='audio'")
        config["speechConfig"] = {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": setup.voice}}}
    body: dict[str, Any] = {"model": _model_name(setup.model, client), "generationConfig": config}
    system = _system_parts(request, setup)
    if system:
        body["systemInstruction"] = {"parts": system, "role": "user"}
    if setup.tools:
        body["tools"] = [{"functionDeclarations": [function_declaration(request, tool) for tool in setup.tools]}]
    _check_input_audio(request, setup.input_audio)
    realtime_input = _realtime_input_config(request, setup.turn_detection)
    if realtime_input:
        body["realtimeInputConfig"] = realtime_input
    transcription = setup.input_transcription
    if isinstance(transcription, str):
        raise refusal(
            request,
            f"input_transcription={transcription!r}",
            "Gemini Live transcribes with its own model, which cannot be chosen; pass input_transcription=True",
        )
    if transcription:
        body["inputAudioTranscription"] = {}
    if setup.output == "audio":
        body["outputAudioTranscription"] = {}
    if request.provider_params:
        body = merge_provider_params(request, body, owned=_OWNED)
    return body


def _system_parts(request: Request, setup: RealtimeSetup) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if setup.instructions:
        parts.append({"text": setup.instructions})
    for message in setup.messages:
        if message.role != "system":
            continue
        for part in message.content:
            if not isinstance(part, Text):
                raise refusal(request, type(part).__name__, "system messages take text only")
            parts.append({"text": part.text})
    return parts


def _check_input_audio(request: Request, given: AudioFormat | None) -> None:
    if given is not None and given.encoding != "pcm16":
        raise refusal(
            request,
            f"input_audio={given!r}",
            "Gemini Live takes 16-bit PCM only (at any rate from 8000 to 48000 Hz); convert G.711 "
            "audio to PCM, e.g. llm.AudioFormat(rate=8000)",
        )


def _realtime_input_config(
    request: Request, detection: TurnDetection | Literal["server", "semantic", "manual"]
) -> dict[str, Any]:
    if detection == "server":
        return {}
    if detection == "manual":
        return {"automaticActivityDetection": {"disabled": True}}
    if detection == "semantic":
        raise refusal(
            request,
            "turn_detection='semantic'",
            "Gemini Live's voice detection is not semantic; use 'server' (tunable with "
            "llm.realtime.TurnDetection(...)) or 'manual'",
        )
    if detection.threshold is not None:
        raise refusal(
            request,
            "TurnDetection(threshold=...)",
            "Gemini Live's voice detection takes sensitivities, not a threshold; pass them with "
            "provider_params={'realtimeInputConfig': {'automaticActivityDetection': "
            "{'startOfSpeechSensitivity': 'START_SENSITIVITY_LOW'}}}",
        )
    if not detection.respond:
        raise refusal(
            request,
            "TurnDetection(respond=False)",
            "Gemini Live answers every turn its voice detection ends; use turn_detection='manual' "
            "and commit_audio() when the model should answer",
        )
    config: dict[str, Any] = {}
    activity: dict[str, Any] = {}
    if detection.silence_ms is not None:
        activity["silenceDurationMs"] = detection.silence_ms
    if detection.prefix_padding_ms is not None:
        activity["prefixPaddingMs"] = detection.prefix_padding_ms
    if activity:
        config["automaticActivityDetection"] = activity
    if not detection.interrupt:
        config["activityHandling"] = "NO_INTERRUPTION"
    return config


# Tools.


def function_declaration(request: Request, tool: Tool[..., Any]) -> dict[str, Any]:
    """A tool as a Gemini Live `functionDeclaration`.

    The parameters go as `parameters`, Gemini's OpenAPI-style `Schema` (see `gemini_schema`),
    or, for a schema that has no such form (a `dict[str, int]` map, a tuple, a recursive type),
    as `parametersJsonSchema` unchanged. The description is `""` when the tool has none.

    Raises:
        FeatureNotSupportedError: A `strict=True` tool: Gemini has no strict mode.
    """
    if tool.strict:
        raise refusal(
            request,
            f"strict=True on tool {tool.name!r}",
            "Gemini function declarations have no strict mode; drop strict=True (arguments are "
            "then not guaranteed to match the schema) or use a model whose provider enforces it",
        )
    declaration: dict[str, Any] = {"description": tool.description or "", "name": tool.name}
    try:
        declaration["parameters"] = gemini_schema(tool.parameters)
    except _NoGeminiForm:
        declaration["parametersJsonSchema"] = tool.parameters
    return declaration


class _NoGeminiForm(ValueError):
    """A JSON Schema keyword or shape Gemini's `Schema` cannot say."""


_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object"})
# Kept as they are: Gemini's Schema has the same fields, with the same meaning.
_KEPT = frozenset(
    {
        "description",
        "format",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
        "minProperties",
        "maxProperties",
        "example",
    }
)
# Left out: annotations that do not constrain what the model writes.
_DROPPED = frozenset({"title", "default", "examples", "$schema", "$comment", "$id", "$defs", "definitions"})


def gemini_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON Schema as Gemini's `Schema` (OpenAPI subset), as Gemini Live's `parameters` take it.

    Type names upper-case; `anyOf` with `{"type": "null"}` becomes the other branch with
    `nullable: true`; `title`, `default` and `additionalProperties: false` are left out; local
    `$ref`s are inlined. Raises `ValueError` for what has no such form: `additionalProperties`
    other than `false`, `prefixItems`, `oneOf`/`allOf`/`not`, `const`, non-string `enum`s,
    untyped or recursive schemas, or any keyword not listed here.
    """
    definitions: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        found = schema.get(key)
        if isinstance(found, Mapping):
            definitions.update(cast("Mapping[str, Any]", found))
    return _converted(schema, definitions, ())


def _converted(schema: object, definitions: Mapping[str, Any], seen: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(schema, Mapping):
        raise _NoGeminiForm("a boolean schema")
    node = cast("Mapping[str, Any]", schema)
    ref = node.get("$ref")
    if ref is not None:
        if not isinstance(ref, str) or not ref.startswith(("#/$defs/", "#/definitions/")):
            raise _NoGeminiForm(f"the reference {ref!r}")
        name = ref.split("/", 2)[2].replace("~1", "/").replace("~0", "~")
        target = definitions.get(name)
        if name in seen or not isinstance(target, Mapping):
            raise _NoGeminiForm(f"the reference {ref!r}")
        beside = {key: value for key, value in node.items() if key != "$ref"}
        return _converted({**cast("Mapping[str, Any]", target), **beside}, definitions, (*seen, name))
    branches = node.get("anyOf")
    if branches is not None:
        return _any_of(node, branches, definitions, seen)
    declared = node.get("type")
    nullable = False
    if isinstance(declared, list):
        kinds = [kind for kind in cast("list[object]", declared) if kind != "null"]
        nullable = len(kinds) < len(cast("list[object]", declared))
        if len(kinds) != 1:
            raise _NoGeminiForm("a list of types")
        declared = kinds[0]
    if declared is None and "properties" in node:
        declared = "object"
    if not isinstance(declared, str) or declared not in _TYPES:
        raise _NoGeminiForm(f"the type {declared!r}")
    out: dict[str, Any] = {"type": declared.upper()}
    for key, value in node.items():
        if key == "type" or key in _DROPPED:
            continue
        if key == "additionalProperties":
            if value is not False:
                raise _NoGeminiForm("additionalProperties")
        elif key == "properties" and isinstance(value, Mapping):
            properties = cast("Mapping[str, object]", value)
            out["properties"] = {name: _converted(item, definitions, seen) for name, item in properties.items()}
        elif key == "required" and isinstance(value, list):
            out["required"] = list(cast("list[str]", value))
        elif key == "items":
            out["items"] = _converted(value, definitions, seen)
        elif key == "enum" and declared == "string" and isinstance(value, list):
            values = cast("list[object]", value)
            if not all(isinstance(item, str) for item in values):
                raise _NoGeminiForm("an enum of other than strings")
            out["enum"] = list(values)
        elif key in _KEPT:
            out[key] = value
        else:
            raise _NoGeminiForm(key)
    if nullable:
        out["nullable"] = True
    return out


def _any_of(
    node: Mapping[str, Any], branches: object, definitions: Mapping[str, Any], seen: tuple[str, ...]
) -> dict[str, Any]:
    if not isinstance(branches, list):
        raise _NoGeminiForm("anyOf")
    options = cast("list[object]", branches)
    others: list[object] = [branch for branch in options if branch != {"type": "null"}]
    if not others or "type" in node:
        raise _NoGeminiForm("anyOf")
    beside = {key: value for key, value in node.items() if key != "anyOf"}
    if len(others) == 1:
        # `X | None`: the branch itself, the outer keywords (a field's description) over it.
        only = others[0]
        if not isinstance(only, Mapping):
            raise _NoGeminiForm("a boolean schema")
        out = _converted({**cast("Mapping[str, Any]", only), **beside}, definitions, seen)
    else:
        out: dict[str, Any] = {"anyOf": [_converted(branch, definitions, seen) for branch in others]}
        for key, value in beside.items():
            if key in _DROPPED:
                continue
            if key != "description":
                raise _NoGeminiForm(key)
            out[key] = value
    if len(others) < len(options):
        out["nullable"] = True
    return out


def _function_response(output: ToolOutput) -> dict[str, Any]:
    if output.is_error:
        response: dict[str, Any] = {"error": output.result}
    else:  # data as the JSON it is, text as text (Google's documented `output` key)
        response = {"output": output.value if output.value is not None else output.result}
    result: dict[str, Any] = {"name": output.name, "response": response}
    if not output.id.startswith(GENERATED_ID_PREFIX):
        result = {"id": output.id, **result}
    return result


# History.


def _history(request: Request, messages: Sequence[llm.Message]) -> list[dict[str, Any]]:
    """The seeded conversation as `clientContent` turns (system messages went to `systemInstruction`).

    Text, tool calls and tool outputs go as they are; audio goes as its transcript (the text
    parts beside it), thoughts are left out; anything else is refused.
    """
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        transcribed = any(isinstance(part, Text) for part in message.content)
        parts: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, Text):
                parts.append({"text": part.text})
            elif isinstance(part, ToolCall):
                call: dict[str, Any] = {"name": part.name, "args": part.args}
                if not part.id.startswith(GENERATED_ID_PREFIX):
                    call["id"] = part.id
                parts.append({"functionCall": call})
            elif isinstance(part, ToolOutput):
                parts.append({"functionResponse": _function_response(part)})
            elif isinstance(part, Thought) or (isinstance(part, Audio) and transcribed):
                continue
            elif isinstance(part, CacheControl):
                raise refusal(request, "CacheControl", "prompt-cache breakpoints are for Claude models only")
            else:
                kind = type(part).__name__
                why = (
                    "a Gemini Live session starts from text; give the audio's transcript as an llm.Text beside it"
                    if isinstance(part, Audio)
                    else "a Gemini Live session's history takes text, tool calls and tool outputs only"
                )
                raise refusal(request, f"{kind} in messages=", why)
        if parts:
            turns.append({"parts": parts, "role": "model" if message.role == "assistant" else "user"})
    return turns
