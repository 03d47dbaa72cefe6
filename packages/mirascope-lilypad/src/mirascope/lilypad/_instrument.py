"""Core's instrumentation hook, implemented with OpenTelemetry GenAI spans.

Core calls these observers (see `mirascope.llm.instrumentation`); core never imports
OpenTelemetry. The hook's objects are read by attribute, so this module loads against any core
that provides the hook.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from contextvars import Token
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, TracerProvider
from opentelemetry.util.types import AttributeValue

from mirascope.llm.instrumentation import StreamClosed

from . import _semconv as sc
from ._version import Versioner

__all__ = ["LilypadInstrument", "current_tracer", "provider_name"]

_TRACER_NAME = "mirascope.lilypad"

# Mirascope's provider prefixes as the conventions' well-known `gen_ai.provider.name` values;
# a prefix not listed is its own name.
_PROVIDER_NAMES: Mapping[str, str] = {
    "openai": sc.PROVIDER_OPENAI,
    "openai-completions": sc.PROVIDER_OPENAI,
    "openai-responses": sc.PROVIDER_OPENAI,
    "azure": sc.PROVIDER_AZURE_AI_OPENAI,
    "azure-completions": sc.PROVIDER_AZURE_AI_OPENAI,
    "anthropic": sc.PROVIDER_ANTHROPIC,
    "google": sc.PROVIDER_GCP_GEMINI,
    "google-vertex": sc.PROVIDER_GCP_VERTEX_AI,
    "vertex": sc.PROVIDER_GCP_VERTEX_AI,
    "bedrock": sc.PROVIDER_AWS_BEDROCK,
    "groq": sc.PROVIDER_GROQ,
    "deepseek": sc.PROVIDER_DEEPSEEK,
    "mistral": sc.PROVIDER_MISTRAL_AI,
    "xai": sc.PROVIDER_X_AI,
}

_REQUEST_PARAMS: Mapping[str, str] = {
    "temperature": sc.GEN_AI_REQUEST_TEMPERATURE,
    "max_tokens": sc.GEN_AI_REQUEST_MAX_TOKENS,
    "top_p": sc.GEN_AI_REQUEST_TOP_P,
    "top_k": sc.GEN_AI_REQUEST_TOP_K,
    "seed": sc.GEN_AI_REQUEST_SEED,
}

# Parameters the conventions name that only reach a provider through `provider_params`.
_PROVIDER_PARAMS: Mapping[str, str] = {
    "frequency_penalty": sc.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": sc.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "n": sc.GEN_AI_REQUEST_CHOICE_COUNT,
}


_configured_provider: list[TracerProvider] = []
# The provider `configure()` chose (at most one): `@lilypad.trace()` spans go there too.
_configured_instrument: list[LilypadInstrument] = []


def current_versioner() -> Versioner | None:
    """The configured instrument's versioner, or `None` before `configure()`."""
    return _configured_instrument[0].versioner if _configured_instrument else None


def current_tracer() -> Tracer:
    """The tracer lilypad's spans start from: the configured provider's, else the global one's."""
    provider = _configured_provider[0] if _configured_provider else trace.get_tracer_provider()
    return provider.get_tracer(_TRACER_NAME)


def provider_name(prefix: str) -> str:
    """The `gen_ai.provider.name` for a Mirascope provider prefix (`"google"` → `"gcp.gemini"`)."""
    return _PROVIDER_NAMES.get(prefix, prefix)


def _capture_from_environment() -> bool:
    return os.environ.get(sc.CAPTURE_CONTENT_ENV, "").strip().lower() == "true"


def _json(value: object) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


# Our finish reasons in the conventions' words, where they have one; the rest pass as they are.
_FINISH_REASONS: Mapping[str, str] = {"max_tokens": "length", "refusal": "content_filter"}

_INLINE_MEDIA_CHARS = 65_536
"""Inline media (base64) up to this size goes on a span whole; larger is described, not copied."""


def _finish_reason(reason: object) -> str:
    return _FINISH_REASONS.get(str(reason), str(reason))


def _part(part: Any) -> dict[str, object] | None:
    """One content part as the conventions' message part (`None`: nothing to record)."""
    kind = getattr(part, "type", None)
    if kind == "text":
        return {"type": "text", "content": part.text}
    if kind == "thought":
        return {"type": "reasoning", "content": part.text}
    if kind == "tool_call":
        return {"type": "tool_call", "id": part.id, "name": part.name, "arguments": part.args}
    if kind == "tool_output":
        return {"type": "tool_call_response", "id": part.id, "response": part.result}
    if kind in ("image", "audio", "video", "document"):
        if part.url is not None:
            return {"type": "uri", "modality": kind, "mime_type": part.mime_type, "uri": part.url}
        data = part.data or ""
        if len(data) <= _INLINE_MEDIA_CHARS:
            return {"type": "blob", "modality": kind, "mime_type": part.mime_type, "content": data}
        return {"type": "blob", "modality": kind, "mime_type": part.mime_type, "size": len(data)}
    if kind == "cache_control":
        return None
    return {"type": str(kind)}


def _messages(messages: Sequence[Any]) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The conversation as the conventions' message list, and the system instructions apart."""
    chat: list[dict[str, object]] = []
    system: list[dict[str, object]] = []
    for message in messages:
        role = str(message.role)
        parts = [shown for part in message.content if (shown := _part(part)) is not None]
        if role == "system":
            system.extend(parts)
            continue
        if parts and all(part["type"] == "tool_call_response" for part in parts):
            role = "tool"  # the conventions' role for tool results, which we carry in a user turn
        chat.append({"role": role, "parts": parts})
    return chat, system


def _error_type(error: BaseException) -> str:
    return type(error).__qualname__


def _fail_or_close(span: Span, error: BaseException) -> None:
    reason = getattr(error, "reason", None)
    if isinstance(error, StreamClosed) and isinstance(reason, str):
        # Core's marker for a stream closed, broken off or dropped unfinished: the caller chose
        # to stop, which is not a failure of the call, but the span says so.
        span.set_attribute(sc.MIRASCOPE_STREAM_CLOSED, reason)
    else:
        _fail(span, error)


def _fail(span: Span, error: BaseException) -> None:
    span.record_exception(error)
    span.set_attribute(sc.ERROR_TYPE, _error_type(error))
    span.set_status(Status(StatusCode.ERROR, str(error)[:500]))


class LilypadInstrument:
    """Turns core's hook points into spans: calls, streams, tools and agent runs."""

    def __init__(self) -> None:
        self._provider: TracerProvider | None = None
        self._tracer: Tracer | None = None
        self._capture = _capture_from_environment()
        self.versioner: Versioner = Versioner(None, auto=False)
        """Versions the functions whose calls, agent runs and traced calls it sees."""

    def set_provider(self, provider: TracerProvider) -> None:
        """Send spans to `provider` from now on."""
        self._provider = provider
        self._tracer = provider.get_tracer(_TRACER_NAME)
        _configured_provider[:] = [provider]
        _configured_instrument[:] = [self]

    @property
    def provider(self) -> TracerProvider | None:
        """The provider `configure()` set, if any."""
        return self._provider

    def set_capture_content(self, capture: bool | None) -> None:
        """Record message content: `True`, `False`, or `None` to follow the environment variable.

        The variable is read here, once, not on every call.
        """
        self._capture = _capture_from_environment() if capture is None else capture

    @property
    def tracer(self) -> Tracer:
        """The tracer spans are started with."""
        if self._tracer is None:
            self._tracer = trace.get_tracer(_TRACER_NAME)
        return self._tracer

    @property
    def capture_content(self) -> bool:
        """Whether message content goes on spans."""
        return self._capture

    def call_started(self, start: Any) -> CallSpan:
        """Open the `chat {model}` span of a call or stream."""
        return CallSpan(self, start)

    def tool_started(self, start: Any) -> ToolSpan:
        """Open the `execute_tool {name}` span, beneath the span of the call that asked for it."""
        return ToolSpan(self, start)

    def agent_started(self, start: Any) -> AgentSpan:
        """Open the `invoke_agent {name}` span and make it current for the agent's run."""
        return AgentSpan(self, start)


class CallSpan:
    """The span of one call or stream; tools it asked for are parented to `span`.

    A call's span is current while the call runs (core tells `ended` or `failed` in the task or
    thread that started it), so spans of the HTTP request (an httpx instrumentation, say) nest
    beneath it. A stream's span never is: the stream is read by the caller's own code, which
    must not find itself inside it.
    """

    def __init__(self, instrument: LilypadInstrument, start: Any) -> None:
        self._capture = instrument.capture_content
        request = start.request
        model = str(request.model)
        attributes: dict[str, AttributeValue] = {
            sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
            sc.GEN_AI_PROVIDER_NAME: provider_name(str(start.provider)),
            sc.GEN_AI_REQUEST_MODEL: model,
            sc.MIRASCOPE_MODEL_ID: str(start.model_id),
        }
        self._model_id = str(start.model_id)
        params: Mapping[str, Any] = request.params or {}
        for key, attribute in _REQUEST_PARAMS.items():
            if params.get(key) is not None:
                attributes[attribute] = params[key]
        provider_params: Mapping[str, Any] = request.provider_params or {}
        for key, attribute in _PROVIDER_PARAMS.items():
            value = provider_params.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                attributes[attribute] = value
        stop = params.get("stop")
        if stop is not None:
            attributes[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop] if isinstance(stop, str) else [str(s) for s in stop]
        if start.kind == "stream":
            attributes[sc.GEN_AI_REQUEST_STREAM] = True
        attributes[sc.GEN_AI_OUTPUT_TYPE] = sc.OUTPUT_TYPE_TEXT if request.format is None else sc.OUTPUT_TYPE_JSON
        if start.fallback_from:
            attributes[sc.MIRASCOPE_FALLBACK_FROM] = str(start.fallback_from)
        if start.function is not None:
            attributes.update(instrument.versioner.attributes(start.function))
        attributes.update(_server_attributes(str(start.base_url or "")))
        if self._capture:
            chat, system = _messages(request.messages)
            attributes[sc.GEN_AI_INPUT_MESSAGES] = _json(chat)
            if system:
                attributes[sc.GEN_AI_SYSTEM_INSTRUCTIONS] = _json(system)
        self.span: Span = instrument.tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes)
        self._token: Token[otel_context.Context] | None = (
            otel_context.attach(trace.set_span_in_context(self.span)) if start.kind == "call" else None
        )
        self._started = time.monotonic()
        self._open = True

    def attempt_failed(self, error: BaseException, attempt: int) -> None:
        """Record a retried failure as a span event."""
        event: dict[str, AttributeValue] = {"attempt": attempt, sc.ERROR_TYPE: _error_type(error)}
        status = getattr(error, "status_code", None)
        if isinstance(status, int):
            event["http.response.status_code"] = status
        self.span.add_event(sc.EVENT_RETRY, event)

    def first_chunk(self) -> None:
        """Record the time to the first chunk, in seconds."""
        self.span.set_attribute(sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, time.monotonic() - self._started)

    def ended(self, response: Any) -> None:
        """Record the response and end the span."""
        if not self._open:
            return
        self._record(response)
        self._end()

    def failed(self, error: BaseException) -> None:
        """Record the failure (and any partial response) and end the span."""
        if not self._open:
            return
        partial = getattr(error, "partial_response", None)
        if partial is not None:
            self._record(partial)
        _fail_or_close(self.span, error)
        self._end()

    def _end(self) -> None:
        self._open = False
        token, self._token = self._token, None
        try:
            if token is not None:
                otel_context.detach(token)
        finally:
            self.span.end()

    def _record(self, response: Any) -> None:
        # One `set_attributes`: the SDK takes the span's lock once, not once per attribute.
        model_id = str(response.model)
        attributes: dict[str, AttributeValue] = {
            sc.GEN_AI_RESPONSE_MODEL: str(response.provider_model or model_id.split(":", 1)[-1])
        }
        if model_id != self._model_id:  # the answering model, where a fallback changed it
            attributes[sc.MIRASCOPE_MODEL_ID] = model_id
        if response.id:
            attributes[sc.GEN_AI_RESPONSE_ID] = str(response.id)
        if response.finish_reason is not None:
            attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] = [_finish_reason(response.finish_reason)]
        usage = response.usage
        if usage is not None:
            attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] = int(usage.input_tokens)
            attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = int(usage.output_tokens)
            attributes[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = int(usage.cache_read_tokens)
            attributes[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = int(usage.cache_write_tokens)
            attributes[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = int(usage.reasoning_tokens)
        if response.cost is not None:
            attributes[sc.MIRASCOPE_COST_USD] = float(response.cost)
        if self._capture:
            chat, _ = _messages([response.message])
            for message in chat:
                message["finish_reason"] = _finish_reason(response.finish_reason)
            attributes[sc.GEN_AI_OUTPUT_MESSAGES] = _json(chat)
        self.span.set_attributes(attributes)


_servers: dict[str, Mapping[str, AttributeValue]] = {}
"""`server.*` attributes by base URL: a client's URL is parsed once, not on every call."""


def _server_attributes(base_url: str) -> Mapping[str, AttributeValue]:
    found = _servers.get(base_url)
    if found is None:
        found = _servers[base_url] = _server(base_url)
    return found


def _server(base_url: str) -> dict[str, AttributeValue]:
    # Host and port only: the URL's user info (a password) and path never reach a span.
    if not base_url:
        return {}
    try:
        parts = urlsplit(base_url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return {}
    attributes: dict[str, AttributeValue] = {}
    if host:
        attributes[sc.SERVER_ADDRESS] = host
        attributes[sc.SERVER_PORT] = port or (80 if parts.scheme == "http" else 443)
    return attributes


class ToolSpan:
    """The span of one tool execution, current while the tool runs (spans it makes nest beneath)."""

    def __init__(self, instrument: LilypadInstrument, start: Any) -> None:
        call, tool = start.call, start.tool
        attributes: dict[str, AttributeValue] = {
            sc.GEN_AI_OPERATION_NAME: sc.OPERATION_EXECUTE_TOOL,
            sc.GEN_AI_TOOL_NAME: str(call.name),
            sc.GEN_AI_TOOL_CALL_ID: str(call.id),
            sc.GEN_AI_TOOL_TYPE: sc.TOOL_TYPE_FUNCTION,
        }
        if tool is not None and tool.description:
            attributes[sc.GEN_AI_TOOL_DESCRIPTION] = str(tool.description)
        mcp = getattr(tool, "mcp", None)
        if mcp is not None:
            attributes.update(_mcp_attributes(mcp))
        self._capture = instrument.capture_content
        if self._capture:
            attributes[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = _json(call.args)
        caller = start.caller
        parent = trace.set_span_in_context(caller.span) if isinstance(caller, CallSpan) else None
        self.span: Span = instrument.tracer.start_span(
            f"execute_tool {call.name}", context=parent, kind=SpanKind.INTERNAL, attributes=attributes
        )
        # Core tells `ended`/`failed` in the task or thread the tool ran in.
        self._token: Token[otel_context.Context] | None = otel_context.attach(trace.set_span_in_context(self.span))

    def ended(self, output: Any) -> None:
        """Record the tool's output (an error output sets the status to ERROR) and end the span."""
        if self._capture:
            self.span.set_attribute(sc.GEN_AI_TOOL_CALL_RESULT, str(output.result))
        if output.is_error:
            self.span.set_attribute(sc.ERROR_TYPE, "ToolError")
            self.span.set_status(Status(StatusCode.ERROR, str(output.result)[:500]))
        self._end()

    def failed(self, error: BaseException) -> None:
        """Record an exception that escaped the tool and end the span."""
        _fail(self.span, error)
        self._end()

    def _end(self) -> None:
        token, self._token = self._token, None
        try:
            if token is not None:
                otel_context.detach(token)
        finally:
            self.span.end()


# How each `llm.mcp` transport is recorded (`network.transport`, `network.protocol.name`).
_MCP_NETWORK: Mapping[str, Mapping[str, AttributeValue]] = {
    "stdio": {sc.NETWORK_TRANSPORT: "pipe"},
    "streamable-http": {sc.NETWORK_TRANSPORT: "tcp", sc.NETWORK_PROTOCOL_NAME: "http"},
    "sse": {sc.NETWORK_TRANSPORT: "tcp", sc.NETWORK_PROTOCOL_NAME: "http"},
}


def _mcp_attributes(mcp: Any) -> dict[str, AttributeValue]:
    """The conventions' MCP attributes of a tool an MCP server runs (`llm.mcp`'s `tool.mcp`)."""
    attributes: dict[str, AttributeValue] = {
        sc.MCP_METHOD_NAME: sc.MCP_METHOD_TOOLS_CALL,
        sc.MIRASCOPE_MCP_SERVER: str(mcp.server),
        sc.MIRASCOPE_MCP_TOOL: str(mcp.name),
    }
    if mcp.session_id:
        attributes[sc.MCP_SESSION_ID] = str(mcp.session_id)
    if mcp.protocol_version:
        attributes[sc.MCP_PROTOCOL_VERSION] = str(mcp.protocol_version)
    attributes.update(_MCP_NETWORK.get(str(mcp.transport), {}))
    return attributes


class AgentSpan:
    """The span of an agent's run, current (in the OTel context) until the run ends."""

    def __init__(self, instrument: LilypadInstrument, start: Any) -> None:
        name = str(start.name)
        attributes: dict[str, AttributeValue] = {
            sc.GEN_AI_OPERATION_NAME: sc.OPERATION_INVOKE_AGENT,
            sc.GEN_AI_AGENT_NAME: name,
            sc.GEN_AI_REQUEST_MODEL: str(start.model_id).split(":", 1)[-1],
            sc.MIRASCOPE_MODEL_ID: str(start.model_id),
            sc.GEN_AI_PROVIDER_NAME: provider_name(str(start.model_id).split(":", 1)[0]),
        }
        if start.function is not None:
            attributes.update(instrument.versioner.attributes(start.function))
        self.span: Span = instrument.tracer.start_span(
            f"invoke_agent {name}", kind=SpanKind.INTERNAL, attributes=attributes
        )
        self._token: Token[otel_context.Context] | None = otel_context.attach(trace.set_span_in_context(self.span))

    def ended(self, result: object) -> None:
        """End the span and restore the context from before the run."""
        self._close()

    def failed(self, error: BaseException) -> None:
        """Record the failure (or a streamed run stopped early), end the span and restore the context."""
        _fail_or_close(self.span, error)
        self._close()

    def _close(self) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        try:
            otel_context.detach(token)
        finally:
            self.span.end()
