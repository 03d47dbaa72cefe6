"""The provider SPI: what a provider package implements, and the helpers it may use.

Public for provider authors, not re-exported by `mirascope.llm`. A provider package exposes
one object per `provider:` prefix through the `mirascope.providers` entry-point group:

```toml
[project.entry-points."mirascope.providers"]
acme = "acme_mirascope:provider"
```

The object implements `Provider`. Core turns the user's call into a `Request`, asks the provider
to `prepare` it (URL and JSON body), sends it with the client's shared httpx connection, and
asks the provider to `decode` the JSON reply, or to build the `llm.APIError` for a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

from attrs import field, frozen

from .._decoding import no_reply
from .._json import parse_json
from .._values import Chunk, FinishReason, ToolCallDelta, Usage
from ..content import Audio, Document, Image, Text, ToolOutput, Video
from ..exceptions import FeatureNotSupportedError
from ..known_models import ModelInfo, model_info, model_taking
from ..messages import Message
from ..params import CallParams
from ..response_models import FORMAT_TOOL_NAME, RAW_ARGS_KEY
from ._parameters import ParamAction, ParamHandling, check_params, refusal, warn_ignored
from ._registry import install_hint, register, unregister

if TYPE_CHECKING:
    import httpx

    from ..clients import Client
    from ..exceptions import APIError
    from ..provider_tools import ProviderTool
    from ..response_models import Format, FormatMode
    from ..tools import Tool
    from .sse import ServerSentEvent

__all__ = [
    "install_hint",
    "FORMAT_TOOL_NAME",
    "PROVIDER_TOOLS_HINT",
    "RAW_ARGS_KEY",
    "Decoded",
    "HTTPRequest",
    "InProcessProvider",
    "Provider",
    "Request",
    "StreamDecoder",
    "StreamFraming",
    "capabilities_of",
    "format_request",
    "media_url",
    "merge_provider_params",
    "new_chunk",
    "ParamAction",
    "ParamHandling",
    "check_params",
    "refusal",
    "no_reply",
    "parse_json",
    "parse_tool_args",
    "refuse_tool_cache_breakpoints",
    "refuse_provider_tools",
    "refuse_unsupported",
    "refuse_unsupported_media",
    "register",
    "remember_secrets",
    "unregister",
    "warn_ignored",
]


@frozen(kw_only=True)
class Request:
    """A call, as a provider sees it: provider-agnostic, already validated by core."""

    model_id: str
    """The full model id, `provider:model`."""
    model: str
    """The provider's model name: everything after the first `:`."""
    messages: tuple[Message, ...]
    """The conversation to send."""
    params: CallParams
    """Common call parameters; the provider maps, refuses or drops each one."""
    provider_params: Mapping[str, object] = field(factory=dict[str, object])
    """Provider-specific parameters, merged into the body unchanged."""
    tools: Sequence[Tool[..., Any]] = ()
    """Tools the model may call: each has `name`, `description`, `parameters` (JSON schema), `strict`."""
    provider_tools: Sequence[ProviderTool] = ()
    """Tools the provider runs itself (`llm.WebSearch`). A provider sends each one it has, and
    refuses the others (and options it lacks) with `llm.FeatureNotSupportedError`: never drops one."""
    format: Format[Any] | None = None
    """The structured output asked for: its JSON `schema`, `name`, `strict` and `mode`."""
    stream: bool = False
    """Whether to ask for a stream of events (then `stream_decoder` reads the reply)."""


@frozen(kw_only=True)
class HTTPRequest:
    """Where and what to send."""

    url: str
    """The full URL."""
    body: dict[str, Any]
    """The JSON body."""
    headers: Mapping[str, str] | None = None
    """Headers for this request only, on top of the client's."""


@frozen(kw_only=True)
class Decoded:
    """A provider's reply, decoded into Mirascope types; core builds the response from it."""

    message: Message
    """The assistant message, with `raw` set to what `resume` should send back."""
    finish_reason: FinishReason
    """Why the model stopped."""
    usage: Usage | None = None
    """Token counts, when reported."""
    id: str | None = None
    """The provider's response id."""
    provider_model: str | None = None
    """The model name the provider reported."""


class StreamDecoder(Protocol):
    """Reads one streamed reply, event by event, and assembles the whole of it at the end.

    Core keeps the events' text for the response's `raw`, decoded only if someone reads it; a
    decoder keeps only what it needs to assemble the reply.
    """

    def event(self, event: ServerSentEvent) -> Sequence[Chunk]:
        """The chunks one Server-Sent Event carries (often one, sometimes none).

        Raises `llm.APIError` for an error event.
        """
        ...

    def finish(self) -> Decoded:
        """The reply assembled from every event so far; also called on a stream cut short."""
        ...


class StreamFraming(Protocol):
    """How a stream's body is cut into events: Server-Sent Events, unless the provider says otherwise.

    A provider whose streams are framed another way (Bedrock's binary event stream) defines
    `stream_framing(max_event_bytes) -> StreamFraming`; its stream decoder then gets the same
    `ServerSentEvent`s (the event's type as `event`, its JSON payload as `data`) as any other.
    """

    seen_event: bool
    """Whether any event was complete so far."""
    stray: list[str]
    """What the body held that was no event (shown in the error when no event came at all)."""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events a piece of the body completes; raises `llm.APIError` for a corrupt one."""
        ...

    def flush(self) -> list[ServerSentEvent]:
        """What completes at the end of the body; raises `llm.APIError` for a cut-off event."""
        ...


class Provider(Protocol):
    """What a provider object implements.

    Optional methods, looked up by name: `takes_api_key(options)` (see `api_key_required`),
    `sign(url, content, client) -> headers` (a signature for each attempt of a request, over its
    exact bytes: AWS Signature Version 4), `stream_framing(max_event_bytes)` (a `StreamFraming`
    for streams that are not Server-Sent Events), `realtime_codec(setup, client)` (realtime
    sessions: `llm.providers.realtime`).
    """

    @property
    def name(self) -> str:
        """The prefix it answers to, e.g. `"openai"`."""
        ...

    @property
    def family(self) -> str:
        """Providers of one family share clients (e.g. `openai` and `openai-completions`)."""
        ...

    @property
    def api_key_env(self) -> str | None:
        """The environment variable holding the key, or `None` when there is none."""
        ...

    @property
    def api_key_env_fallbacks(self) -> tuple[str, ...]:
        """Other variables read, in order, when `api_key_env` is unset (e.g. `GEMINI_API_KEY`)."""
        ...

    @property
    def api_key_required(self) -> bool:
        """Whether a call without a key must fail with `llm.MissingAPIKeyError`.

        A provider whose clients may authenticate another way can also define
        `takes_api_key(options) -> bool`: `False` for a client's settings means no key is read
        from the environment or required, and the provider adds its own credentials in `prepare`
        (as `google:` does on Vertex AI).
        """
        ...

    @property
    def parameters(self) -> Mapping[str, ParamHandling]:
        """How it handles every `CallParams` key (see `ParamHandling`).

        Each key is sent as a body field, left out with a logged warning, or refused; `prepare`
        (or the encoder it calls) starts with `check_params(request, self.parameters)`, which
        acts on it.
        """
        ...

    def base_url(self, options: Mapping[str, object]) -> str:
        """The default base URL, given the client's provider-specific options."""
        ...

    def check_options(self, options: Mapping[str, object]) -> None:
        """Raise `TypeError` naming any provider-specific client setting it does not know."""
        ...

    def headers(self, api_key: str | None, options: Mapping[str, object]) -> dict[str, str]:
        """Auth and protocol headers sent with every request of a client."""
        ...

    def prepare(self, request: Request, client: Client) -> HTTPRequest:
        """Encode a request; raise `llm.FeatureNotSupportedError` for what the model can't take."""
        ...

    def decode(self, request: Request, body: Any) -> Decoded:
        """Decode a successful JSON reply."""
        ...

    def stream_decoder(self, request: Request) -> StreamDecoder:
        """A fresh decoder for one streamed reply to `request` (sent with `stream=True`)."""
        ...

    def error(self, request: Request, response: httpx.Response) -> APIError:
        """Build the error for a failed reply (status >= 400)."""
        ...


class InProcessProvider(Provider, Protocol):
    """A provider that answers in-process (a local model) rather than over the network.

    It still speaks HTTP to core, through httpx transports it supplies: requests, streams,
    errors and timeouts then take the one code path every provider takes, and the transport is
    the only part that differs (as `httpx.WSGITransport` does for web apps).
    """

    def transports(self, client: Client) -> tuple[httpx.BaseTransport, httpx.AsyncBaseTransport]:
        """The transports a client's httpx clients send through; made once per client."""
        ...


new_chunk = cast(
    "Callable[[type[Chunk], tuple[str, str, ToolCallDelta | None, Usage | None, FinishReason | None, object]], Chunk]",
    tuple.__new__,  # pyright: ignore[reportUnknownMemberType]
)
"""Build a chunk from its fields in order: `new_chunk(llm.Chunk, (content, thinking,
tool_call_delta, usage, finish_reason, raw))`.

For a stream decoder's hot path: a decoder makes one chunk per event, and this skips the
keyword handling of `llm.Chunk(...)`, a third of the cost of making one.
"""


def parse_tool_args(text: str) -> dict[str, Any]:
    """A tool call's arguments from the JSON text the model wrote: `{}` for none.

    Text that is not a JSON object (a stream cut off mid-arguments, a model's slip, nesting past
    the depth guard) is kept whole under `RAW_ARGS_KEY`, never dropped: the tool then reports
    what it got.
    """
    if not text:
        return {}
    try:
        value: object = parse_json(text)
    except ValueError:
        return {RAW_ARGS_KEY: text}
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {RAW_ARGS_KEY: text}


def remember_secrets(secrets: Iterable[str]) -> None:
    """Redact these credentials from every log record and error from now on.

    For what a provider sends or signs with beyond the client's headers (an AWS session token,
    the secret key it signs with).
    """
    from .._redact import remember  # with the first call, as the client's own headers are

    remember(secrets)


def merge_provider_params(
    request: Request, body: dict[str, Any], *, owned: Collection[str], joined: Collection[str] = ("tools",)
) -> dict[str, Any]:
    """`body` with the request's `provider_params` added, never replacing what Mirascope set.

    Every provider's encoder ends with this, so that the rule is the same everywhere:

    - a key in `owned` (the model, the conversation, the stream flag: what Mirascope always sets
      from the call itself) is refused, whatever its value;
    - any other key is added where the body has none;
    - an object the body already has is merged into, key by key, by the same rule;
    - a list under a `joined` key is extended (`tools`: the provider's own tools join the
      functions Mirascope declared);
    - a value Mirascope already set (from `temperature=`, `max_tokens=`, `thinking=`, `tools=`,
      `response_model=`, ...) is refused unless it is equal.

    So `provider_params` carry what the common settings cannot say, and a `provider_params`
    restored from untrusted data (`from_dict`, then `resume`) cannot move a call to another
    model, rewrite its conversation or turn a call into a stream. Neither argument is changed.

    Raises:
        FeatureNotSupportedError: Naming the key, why it is refused and what to write instead.
    """
    return _merged(request, body, request.provider_params, "", frozenset(owned), frozenset(joined))


_OWNED_HINT = (
    "Mirascope sets it from the call itself (the model from the model id, the conversation from "
    "the messages, streaming from .stream()); leave it out of provider_params"
)


def _merged(
    request: Request,
    body: Mapping[str, Any],
    extra: Mapping[str, object],
    path: str,
    owned: frozenset[str],
    joined: frozenset[str],
) -> dict[str, Any]:
    merged = dict(body)
    for key, value in extra.items():
        where = f"provider_params{path}[{key!r}]"
        if not path and key in owned:
            raise refusal(request, where, _OWNED_HINT)
        if key not in merged:
            merged[key] = value
            continue
        current = merged[key]
        if isinstance(current, dict) and isinstance(value, Mapping):
            inner = cast("Mapping[str, object]", value)
            merged[key] = _merged(request, cast("dict[str, Any]", current), inner, f"{path}[{key!r}]", owned, joined)
        elif not path and key in joined and isinstance(current, list) and isinstance(value, list):
            merged[key] = [*cast("list[object]", current), *cast("list[object]", value)]
        elif current != value:
            raise refusal(
                request,
                where,
                "it would replace the value Mirascope sets there from the call's own settings. Change that "
                "setting on the call (temperature=, max_tokens=, thinking=, tools=, response_model=, ...), "
                "or leave it out of provider_params",
            )
    return merged


def refuse_unsupported(request: Request, *, stream: bool, tools: bool, format: bool) -> None:
    """Refuse, before anything is sent, a stream, tools or structured output a provider lacks.

    Each flag says whether the provider supports that feature. Provider tools (`llm.WebSearch`)
    are always refused: a provider that runs them encodes them itself.
    """
    if not request.stream and not request.tools and request.format is None and not request.provider_tools:
        return  # the common case, on every call: no work
    provider = request.model_id.partition(":")[0]
    if request.provider_tools:
        refuse_provider_tools(request, f"the {provider!r} provider runs no tools of its own; {PROVIDER_TOOLS_HINT}")
    for wanted, supported, feature in (
        (request.stream, stream, "streaming"),
        (bool(request.tools), tools, "tools"),
        (request.format is not None, format, "response_model"),
    ):
        if wanted and not supported:
            raise FeatureNotSupportedError(
                f"The {provider!r} provider does not support {feature} in this release; "
                "use a model whose provider does, or call without it.",
                model=request.model_id,
                feature=feature,
            )


PROVIDER_TOOLS_HINT = (
    "use a model whose provider runs it ('openai:' on the Responses API, 'anthropic:' or 'google:'), "
    "or a search function of your own as an @llm.tool"
)
"""The next step to name when refusing `llm.WebSearch`."""


def refuse_provider_tools(request: Request, why: str) -> None:
    """Refuse the request's provider tools (`llm.WebSearch`), if it has any.

    Args:
        request: The request.
        why: Why the model cannot take them, and what to do instead.

    Raises:
        FeatureNotSupportedError: The request has provider tools.
    """
    if not request.provider_tools:
        return
    names = ", ".join(sorted({f"llm.{type(tool).__name__}" for tool in request.provider_tools}))
    raise refusal(request, names, why)


def capabilities_of(request: Request) -> ModelInfo | None:
    """What Mirascope's model table knows of the request's model (see `llm.model_info`).

    `None` for a model not in the table: nothing is then refused ahead of the call on the
    table's word, and the provider's API judges the request.
    """
    return model_info(request.model_id)


# Each media part type, the `llm.ModelInfo` field saying whether a model takes it, and its name.
_MEDIA: tuple[tuple[type[Image | Audio | Video | Document], str, str], ...] = (
    (Image, "image_input", "image"),
    (Audio, "audio_input", "audio"),
    (Video, "video_input", "video"),
    (Document, "pdf_input", "PDF"),  # text documents are sent as text: only PDFs are checked
)


def _is_text(document: Document) -> bool:
    # A document by URL has no type until fetched; providers take those as PDFs.
    mime_type = document.mime_type
    return mime_type is not None and mime_type != "application/pdf"


def refuse_unsupported_media(request: Request) -> None:
    """Refuse, before anything is sent, an image, audio, video or PDF part the model cannot take.

    What the model takes comes from the model table (`capabilities_of`); a model not in it is
    not checked. Text documents are not checked (providers send them as text), nor are the
    model's own earlier replies.

    Raises:
        FeatureNotSupportedError: A part the model is known not to take; the message names a
            model that takes it.
    """
    info = model_info(request.model_id)
    if info is None:
        return
    refused = [entry for entry in _MEDIA if not getattr(info, entry[1])]
    if not refused:
        return
    kinds = tuple(kind for kind, _, _ in refused)
    for message in request.messages:
        if message.role == "assistant":
            continue
        for outer in message.content:
            # Media a tool returned reaches the model too.
            for part in outer.content if isinstance(outer, ToolOutput) else (outer,):
                if not isinstance(part, kinds) or (isinstance(part, Document) and _is_text(part)):
                    continue
                _, field, name = next(entry for entry in refused if isinstance(part, entry[0]))
                other = model_taking(field, request.model_id.partition(":")[0])
                instead = f"use a model that does, such as {other!r}," if other else "use a model that does"
                raise refusal(
                    request, type(part).__name__, f"the model takes no {name} input; {instead} or leave the {name} out"
                )


WEB_SCHEMES = ("http", "https")
"""The URL schemes every provider that fetches media by URL reads."""


def media_url(
    request: Request, part: Image | Audio | Video | Document, *, reader: str, schemes: tuple[str, ...] = WEB_SCHEMES
) -> str:
    """The URL of a media part given by URL, if `reader` (the API, in words) fetches its scheme.

    Raises:
        FeatureNotSupportedError: A scheme the API does not read (`s3://`, `gs://` outside
            Google, `file://`, ...); the message says to pass the bytes instead. The URL itself
            is left out of it: a pre-signed URL carries a credential.
    """
    url = part.url or ""
    scheme, colon, _ = url.partition(":")
    scheme = scheme.lower() if colon else ""
    if scheme in schemes:
        return url
    kind = type(part).__name__
    given = f"{scheme}:// URL" if scheme else "URL without a scheme"
    *others, last = [f"{name}://" for name in schemes]
    readable = f"{', '.join(others)} and {last}" if others else last
    raise refusal(
        request,
        f"{kind} by {given}",
        f"{reader} fetches only {readable} URLs; pass the bytes with llm.{kind}.from_file(...) or "
        f"llm.{kind}.from_bytes(...), or a public https:// URL",
    )


def format_request(
    request: Request, *, native: bool, strict_native: bool = True, strict_tool: bool = False
) -> tuple[FormatMode | None, bool, Request]:
    """Settle how to ask for `request.format`, and add its instructions to the system prompt.

    The user's mode and strictness are checked against what the model supports; left open, the
    model's native schema feature is used when it has one, a forced tool call otherwise, strict
    wherever that is possible. Returns the mode (`None` when there is no schema to ask for: no
    response model, or an `llm.output_parser`), whether to send the strict schema
    (`format.schema_for(strict)`), and the request whose messages carry the formatting
    instructions.

    Args:
        request: The request.
        native: Whether the model has a native schema feature for its output.
        strict_native: Whether that feature can hold the output to the schema exactly.
        strict_tool: Whether tool schemas can be strict.

    Raises:
        FeatureNotSupportedError: The mode or strictness asked for is one the model lacks.
    """
    format = request.format
    if format is None:
        return None, False, request
    mode: FormatMode | None = None
    strict = False
    if format.parser is None:
        wanted = format.strict
        mode = format.mode
        if mode is None:
            mode = "native" if native and (strict_native or not wanted) else "tool"
        can_be_strict = {"native": native and strict_native, "tool": strict_tool, "json": False}[mode]
        problem = None
        if mode == "native" and not native:
            problem = "a native schema feature for its output; use mode='tool' or mode='json'"
        elif wanted and mode == "json":
            problem = "strict JSON mode (no provider has it); use mode='native' or mode='tool', or strict=None"
        elif wanted and not can_be_strict:
            other = "mode='native'" if mode == "tool" and native and strict_native else "strict=None"
            problem = f"strict structured output in {mode!r} mode; use {other}"
        if problem is not None:
            raise FeatureNotSupportedError(
                f"{request.model_id} does not support {problem}.", model=request.model_id, feature="response_model"
            )
        strict = can_be_strict if wanted is None else wanted
    text = format.system_instructions(mode)
    if text is None:
        return mode, strict, request
    import attrs

    return mode, strict, attrs.evolve(request, messages=with_instructions(request.messages, text))


def with_instructions(messages: tuple[Message, ...], text: str) -> tuple[Message, ...]:
    """The messages with `text` added to the system prompt (a new system message if there is none)."""
    if messages and messages[0].role == "system":
        first = messages[0]
        if all(isinstance(part, Text) for part in first.content):
            content: tuple[Any, ...] = (Text(f"{first.text}\n{text}" if first.text else text),)
        else:
            content = (*first.content, Text(text))
        return (Message(role="system", content=content), *messages[1:])
    return (Message(role="system", content=(Text(text),)), *messages)


def refuse_tool_cache_breakpoints(request: Request) -> None:
    """Refuse an `llm.CacheControl()` among the tools, for a provider without cache breakpoints."""
    if any(tool.cache_control is not None for tool in request.tools):
        raise FeatureNotSupportedError(
            f"{request.model_id} cannot take llm.CacheControl in tools=: prompt-cache breakpoints are for "
            "Claude models; this provider caches long prompt prefixes by itself, so leave it out.",
            model=request.model_id,
            feature="CacheControl",
        )
