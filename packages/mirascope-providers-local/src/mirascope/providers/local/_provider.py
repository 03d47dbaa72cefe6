"""`local:` — GGUF models run in-process by llama.cpp, spoken to in Chat Completions JSON."""

from __future__ import annotations

import json
import uuid
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from attrs import frozen

from mirascope import llm
from mirascope.llm.providers import (
    FORMAT_TOOL_NAME,
    Decoded,
    HTTPRequest,
    ParamHandling,
    Request,
    format_request,
    parse_json,
    refusal,
)
from mirascope.providers.openai.completions import decode as completions_decode
from mirascope.providers.openai.completions import encode as completions_encode
from mirascope.providers.openai.completions.stream import CompletionsStream
from mirascope.providers.openai.services import OPENAI

if TYPE_CHECKING:
    import httpx

    from mirascope.llm.providers.sse import ServerSentEvent

    from ._engine import Engine

__all__ = ["Endpoint", "LocalProvider"]

_OPTIONS = frozenset({"threads", "context_size", "seed", "gpu_layers"})
_URL = "http://local.mirascope/v1/chat/completions"
_ANSWER = "response"

PARAMETERS: Mapping[str, ParamHandling] = completions_encode.parameters(OPENAI, top_k=True)
"""How `local:` takes each call parameter: llama.cpp's server reads Chat Completions, `top_k` too."""


@frozen
class Endpoint:
    """Where llama.cpp serves a loaded model over HTTP on this machine."""

    base_url: str
    """The OpenAI-compatible API root, e.g. `http://127.0.0.1:41147/v1`."""
    api_key: str
    """The bearer key the server requires."""


class LocalProvider:
    """`local:smollm2`, `local:/path/to/model.gguf`: llama.cpp in this process, offline, no key."""

    name = "local"
    family = "local"
    api_key_env: str | None = None
    api_key_env_fallbacks: tuple[str, ...] = ()
    api_key_required = False

    def __init__(self) -> None:
        self._engines: weakref.WeakKeyDictionary[llm.Client, Engine] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return "<mirascope provider 'local'>"

    @property
    def parameters(self) -> Mapping[str, ParamHandling]:
        """How it takes each call parameter (`PARAMETERS`)."""
        return PARAMETERS

    def base_url(self, options: Mapping[str, object]) -> str:
        return "http://local.mirascope/v1"

    def check_options(self, options: Mapping[str, object]) -> None:
        unknown = options.keys() - _OPTIONS
        if unknown:
            raise TypeError(
                f"llm.client('local') does not take {', '.join(sorted(unknown))}; its settings are "
                f"{', '.join(sorted(_OPTIONS))} (and timeout)."
            )
        from ._engine import Settings

        Settings(options)  # type errors surface here, not at the first call

    def headers(self, api_key: str | None, options: Mapping[str, object]) -> dict[str, str]:
        return {"content-type": "application/json"}

    def transports(self, client: llm.Client) -> tuple[httpx.BaseTransport, httpx.AsyncBaseTransport]:
        from ._engine import AsyncLocalTransport, Engine, LocalTransport, Settings

        engine = self._engines[client] = Engine(Settings(client.options))
        return LocalTransport(engine), AsyncLocalTransport(engine)

    def endpoint(self, model: str = "smollm2", client: llm.Client | None = None) -> Endpoint:
        """The loopback HTTP address where llama.cpp also serves a loaded model, OpenAI-style.

        For tools that speak the OpenAI protocol: `llm.client("openai-completions",
        base_url=endpoint.base_url, api_key=endpoint.api_key)` reaches the same loaded model.
        The model is loaded if it is not yet. The key is random per client, so other local
        users cannot use the port.
        """
        if client is None:
            from mirascope.llm.clients import default_client

            client = default_client(self)
        if client.provider is not self:
            raise TypeError(f"{client!r} is not a client of the local provider.")
        client.sync_http()  # makes the client's transports, and with them its engine
        engine = self._engines[client]
        address: str = engine.server(model).listening_address
        return Endpoint(base_url=f"{address}/v1", api_key=engine.api_key)

    def prepare(self, request: Request, client: llm.Client) -> HTTPRequest:
        _refuse_media(request)
        # Decoding is held to a grammar made from the schema: native and tool modes are exact.
        mode, strict, request = format_request(request, native=True, strict_tool=True)
        body = completions_encode.encode(
            request, service=OPENAI, parameters=PARAMETERS, format_mode=mode, strict=strict
        )
        if request.tools or mode == "tool":
            _constrain_to_tools(request, body, mode, strict)
        return HTTPRequest(url=_URL, body=body)

    def decode(self, request: Request, body: Any) -> Decoded:
        decoded = completions_decode.decode(request, body)
        if _calls_tools(request):
            return _tool_reply(request, decoded)
        return decoded

    def stream_decoder(self, request: Request) -> CompletionsStream:
        if _calls_tools(request):
            return _ToolStream(self, request)
        return CompletionsStream(self, request)

    def error(self, request: Request, response: httpx.Response) -> llm.APIError:
        from mirascope.llm.providers.http import error_from_response

        error = error_from_response(self, response)
        if "exceed_context_size" in json.dumps(error.body):
            return type(error)(
                error.message,
                provider="local",
                status_code=error.status_code,
                body=error.body,
                hint="Shorten the conversation or max_tokens, or give the model more context with "
                "llm.client('local', context_size=...).",
            )
        return error


def _calls_tools(request: Request) -> bool:
    """Whether the reply is constrained to tool calls (the user's, or the answer's own tool)."""
    return bool(request.tools) or (request.format is not None and request.format.mode == "tool")


def _refuse_media(request: Request) -> None:
    for message in request.messages:
        for outer in message.content:
            # Media a tool returned would reach the model too.
            for part in outer.content if isinstance(outer, llm.ToolOutput) else (outer,):
                if isinstance(part, llm.Image | llm.Audio | llm.Video) or (
                    isinstance(part, llm.Document) and part.mime_type == "application/pdf"
                ):
                    raise refusal(
                        request,
                        type(part).__name__,
                        "the model takes text only; leave it out, or use a model that takes it",
                    )


def _tool_option(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"name": {"const": name}, "arguments": parameters},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }


def _constrain_to_tools(request: Request, body: dict[str, Any], mode: llm.FormatMode | None, strict: bool) -> None:
    """Turn tool definitions into a JSON-schema constraint the model's output must follow.

    Small local models have no native tool calling, so the library builds it: the reply is
    forced to be `{"name": <a tool>, "arguments": {...}}`, or (unless a tool call is required)
    `{"response": "<text>"}`. The tools are also described in a system message.
    """
    body.pop("tools", None)
    choice = body.pop("tool_choice", None)
    options = [_tool_option(tool.name, tool.parameters) for tool in request.tools]
    format = request.format if mode is not None else None
    if format is not None and mode == "tool":
        options.append(_tool_option(FORMAT_TOOL_NAME, format.schema_for(strict)))
        choice = "required"
    forced = choice == "required" or isinstance(choice, dict)
    if isinstance(choice, dict):  # one named tool
        named = cast(dict[str, Any], choice).get("function", {}).get("name")
        options = [o for o in options if o["properties"]["name"]["const"] == named] or options
    if not forced:
        answer: dict[str, Any] = {"type": "string"}
        if format is not None and mode != "tool":
            answer = format.schema_for(strict)
            body.pop("response_format", None)
        options.append(
            {"type": "object", "properties": {_ANSWER: answer}, "required": [_ANSWER], "additionalProperties": False}
        )
    schema = options[0] if len(options) == 1 else {"anyOf": options}
    body["response_format"] = {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
    messages: list[dict[str, Any]] = body["messages"]
    body["messages"] = [_plain(message) for message in messages]
    lines = [
        "You can call tools. To call one, reply with a JSON object "
        '{"name": <tool name>, "arguments": {<arguments>}}'
        + ("." if forced else f'; to answer directly, reply with {{"{_ANSWER}": <your answer>}}.'),
        "Tools:",
    ]
    lines.extend(
        f"- {tool.name}: {tool.description or ''} Arguments schema: {json.dumps(tool.parameters)}"
        for tool in request.tools
    )
    if format is not None and mode == "tool":
        lines.append(
            f"- {FORMAT_TOOL_NAME}: {format.tool_description} Arguments schema: {json.dumps(format.schema_for(strict))}"
        )
    instructions = "\n".join(lines)
    if body["messages"] and body["messages"][0].get("role") == "system":
        body["messages"][0] = {"role": "system", "content": f"{body['messages'][0]['content']}\n\n{instructions}"}
    else:
        body["messages"].insert(0, {"role": "system", "content": instructions})


def _plain(message: dict[str, Any]) -> dict[str, Any]:
    """Rewrite tool traffic as plain text turns, which any chat template can render."""
    calls = message.get("tool_calls")
    if calls:
        call = cast(dict[str, Any], calls[0])["function"]
        text = json.dumps({"name": call["name"], "arguments": json.loads(call["arguments"] or "{}")})
        return {"role": "assistant", "content": text}
    if message.get("role") == "tool":
        return {"role": "user", "content": f"Tool result ({message.get('tool_call_id')}): {message.get('content')}"}
    return message


def _parse_reply(request: Request, text: str) -> llm.Text | llm.ToolCall | None:
    try:
        data = parse_json(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    reply = cast(dict[str, Any], data)
    if _ANSWER in reply and "name" not in reply:
        answer = reply[_ANSWER]
        return llm.Text(answer if isinstance(answer, str) else json.dumps(answer))
    name = reply.get("name")
    arguments = reply.get("arguments")
    if isinstance(name, str) and isinstance(arguments, dict):
        return llm.ToolCall(id=f"call_{uuid.uuid4().hex[:24]}", name=name, args=cast(dict[str, Any], arguments))
    return None


def _tool_reply(request: Request, decoded: Decoded) -> Decoded:
    part = _parse_reply(request, decoded.message.text)
    if part is None:  # a cut-off or malformed reply stays text: nothing is thrown away
        return decoded
    finish: llm.FinishReason = "tool_call" if isinstance(part, llm.ToolCall) else decoded.finish_reason
    message = llm.Message(role="assistant", content=(part,), model=request.model_id, raw=decoded.message.raw)
    return Decoded(
        message=message,
        finish_reason=finish,
        usage=decoded.usage,
        id=decoded.id,
        provider_model=decoded.provider_model,
    )


class _ToolStream(CompletionsStream):
    """A stream whose text is the constrained JSON: it is held back and given as one call or answer."""

    __slots__ = ("_reply",)

    def __init__(self, provider: LocalProvider, request: Request) -> None:
        super().__init__(provider, request)
        self._reply: Decoded | None = None

    def event(self, event: ServerSentEvent) -> tuple[llm.Chunk, ...]:
        out: list[llm.Chunk] = []
        for chunk in super().event(event):
            if chunk.finish_reason is not None:
                reply = self.finish()
                part = reply.message.content[0] if reply.message.content else None
                if isinstance(part, llm.ToolCall):
                    delta = llm.ToolCallDelta(index=0, id=part.id, name=part.name, args=json.dumps(part.args))
                    out.append(
                        llm.Chunk(tool_call_delta=delta, finish_reason="tool_call", usage=chunk.usage, raw=chunk.raw)
                    )
                else:
                    text = part.text if isinstance(part, llm.Text) else ""
                    out.append(
                        llm.Chunk(content=text, finish_reason=reply.finish_reason, usage=chunk.usage, raw=chunk.raw)
                    )
            elif chunk.usage is not None:
                out.append(llm.Chunk(usage=chunk.usage, raw=chunk.raw))
        return tuple(out)

    def finish(self) -> Decoded:
        if self._reply is None:
            self._reply = _tool_reply(self._request, super().finish())
        return self._reply
