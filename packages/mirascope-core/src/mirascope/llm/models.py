"""`llm.model(...)`: a model id plus call parameters, callable directly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Unpack, cast, get_args, overload

from ._typevars import T
from .clients import Client, default_client
from .exceptions import APIError, ProviderNotFoundError, UsageError
from .formatting import Format, answer_as_text, format_for
from .known_models import KnownModel, cost_of
from .messages import Message, as_messages
from .overrides import current as current_overrides
from .params import CallParams, Thinking, ThinkingLevel
from .responses import AsyncCallResponse, CallResponse, _ResponseData  # pyright: ignore[reportPrivateUsage]
from .tools import split_tools

if TYPE_CHECKING:
    from .context import Context
    from .provider_tools import ProviderTool
    from .providers import Decoded, Provider, Request
    from .streams import AsyncStream, Stream
    from .tools import AnyTool, Tool

__all__ = ["Model", "model"]

_R = TypeVar("_R", bound=_ResponseData[Any])
_U = TypeVar("_U")

_PARAM_NAMES = frozenset(CallParams.__annotations__)

# A bare model name is a common slip; these prefixes say which provider it most likely belongs to.
_GUESSES = (
    ("gpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("claude", "anthropic"),
    ("gemini", "google"),
)


def thoughts_as_text(messages: tuple[Message, ...]) -> tuple[Message, ...]:
    """The conversation with each earlier thought written out as a text part, `**Thinking:** ...`.

    The provider's own form of those replies (`raw`) is left out, so that the text is what goes.
    """
    from attrs import evolve

    from .content import Text, Thought

    changed: list[Message] = []
    for message in messages:
        if message.role == "assistant" and any(isinstance(part, Thought) for part in message.content):
            content = tuple(
                Text(f"**Thinking:** {part.text}") if isinstance(part, Thought) else part
                for part in message.content
                if not (isinstance(part, Thought) and not part.text)  # encrypted only: nothing to say
            )
            message = evolve(message, content=content, raw=None)
        changed.append(message)
    return tuple(changed)


def split_model_id(model_id: str) -> tuple[str, str]:
    """Split `provider:model` at the first `:`; the model part is left untouched."""
    if not isinstance(model_id, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UsageError(
            f"A model id is a str, 'provider:model', e.g. 'openai:gpt-4o-mini'; got {type(model_id).__name__}."
        )
    provider, sep, name = model_id.partition(":")
    if not sep or not provider or not name:
        guess = next((p for prefix, p in _GUESSES if model_id.startswith(prefix)), None)
        example = f"{guess}:{model_id}" if guess else "openai:gpt-4o-mini"
        raise ProviderNotFoundError(
            f"Model ids are written 'provider:model', e.g. {example!r}; got {model_id!r}.",
            provider=provider,
        )
    return provider, name


_THINKING_LEVELS: tuple[str, ...] = get_args(ThinkingLevel)


def check_thinking(model_id: str, thinking: object) -> None:
    """Refuse a `thinking=` that is neither a level nor a well-formed `llm.Thinking`, saying what to write.

    Raised when the model is made (or the setting changed), before any request.
    """
    if isinstance(thinking, Thinking):
        level: object = thinking.level
        budget: object = thinking.budget_tokens
        if (level is None or level in _THINKING_LEVELS) and (budget is None or (type(budget) is int and budget >= 0)):
            return
        given = f"llm.Thinking(level={level!r}, budget_tokens={budget!r})"
    elif isinstance(thinking, str) and thinking in _THINKING_LEVELS:
        return
    else:
        given = repr(thinking)
    off = thinking is False or thinking is None
    write = "thinking='none' to turn thinking off" if off else "a level, e.g. thinking='medium'"
    raise UsageError(
        f"{model_id}: thinking={given} is not a thinking setting; write {write} (the levels are "
        f"{', '.join(map(repr, _THINKING_LEVELS))}), or llm.Thinking(budget_tokens=2048) for a budget "
        "of thinking tokens (0 or more)."
    )


def check_params(params: Mapping[str, object]) -> None:
    """Refuse keyword arguments that are not call parameters, naming the valid ones."""
    unknown = params.keys() - _PARAM_NAMES
    if unknown:
        raise UsageError(
            f"Unknown call parameter(s) {', '.join(sorted(unknown))}; the common ones are "
            f"{', '.join(sorted(_PARAM_NAMES))}. Pass provider-specific ones in provider_params={{...}}."
        )


def _check_client(client: object, provider_name: str) -> None:
    if client is not None and not isinstance(client, Client):
        raise UsageError(
            f"client= takes a client from llm.client(...), e.g. client=llm.client({provider_name!r}); "
            f"got {type(client).__name__}."
        )


class Model(Generic[T]):
    """A model and the parameters to call it with.

    Build one with `llm.model("provider:model", **params)`.
    """

    __slots__ = (
        "_failed",
        "_resolved",
        "client",
        "continue_on_max_tokens",
        "fallback",
        "format",
        "id",
        "max_retries",
        "name",
        "params",
        "provider_name",
        "provider_params",
        "provider_tools",
        "retries",
        "tools",
    )

    def __init__(
        self,
        id: str,
        *,
        client: Client | None = None,
        provider_params: Mapping[str, object] | None = None,
        tools: Sequence[AnyTool] | None = None,
        response_model: type[T] | Format[T] | None = None,
        max_retries: int = 0,
        continue_on_max_tokens: int = 0,
        retries: int | None = None,
        fallback: str | Sequence[str] = (),
        **params: Unpack[CallParams],
    ) -> None:
        check_params(params)
        if "thinking" in params:
            check_thinking(id, params["thinking"])
        if max_retries < 0:
            raise UsageError(f"max_retries must be 0 or more; got {max_retries}.")
        if retries is not None and retries < 0:
            raise UsageError(f"retries must be 0 or more; got {retries}.")
        fallback = (fallback,) if isinstance(fallback, str) else tuple(fallback)
        for fallback_id in fallback:
            split_model_id(fallback_id)  # a malformed id is refused here, not when it is needed
        self.id = id
        """The model id, `provider:model`."""
        self.provider_name, self.name = split_model_id(id)
        _check_client(client, self.provider_name)
        self.params: CallParams = params
        """The call parameters every call uses."""
        self.provider_params: Mapping[str, object] = provider_params or {}
        """Provider-specific parameters, passed through unchanged."""
        self.client = client
        """The client to call with; `None` uses the provider's default client."""
        tools_and_provider_tools = split_tools(tools)
        self.tools: tuple[Tool[..., Any], ...] = tools_and_provider_tools[0]
        """Tools the model may call."""
        self.provider_tools: tuple[ProviderTool, ...] = tools_and_provider_tools[1]
        """Tools the provider runs itself, such as `llm.WebSearch()`."""
        self.format: Format[T] | None = None if response_model is None else format_for(response_model)
        """The structured output asked for, from `response_model`."""
        self.max_retries = max_retries
        self.continue_on_max_tokens = continue_on_max_tokens
        """How many times a reply cut off at `max_tokens` is continued and joined (`continue_`)."""
        """How many times a reply that does not parse into `response_model` is asked for again."""
        self.retries = retries
        """How many times a failed request is sent again; `None` takes the client's `max_retries`."""
        self.fallback: tuple[str, ...] = fallback
        """Model ids to send the request to, in turn, when this one fails with a retryable error."""
        # The provider (and a given client checked against it), found on the first call and kept
        # while the registry is unchanged.
        self._resolved: tuple[int, Provider] | None = None
        # On a model a fallback moved to: each earlier model's id and the error it failed with.
        self._failed: tuple[tuple[str, APIError], ...] = ()

    def __repr__(self) -> str:
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"llm.model({self.id!r}{params})"

    def _replaced(self, changes: Mapping[str, Any]) -> Model[Any]:
        """This model with some settings changed.

        The settings: `model` (an id), `client`, `tools`, `response_model`, `provider_params`,
        and call parameters by name (merged over these). A copy, so settings it does not know
        of travel unchanged. Moving to another provider drops the client (one client serves one
        provider) unless a new one is given, and refuses `provider_params` written for the old
        provider unless new ones are given.
        """
        import copy

        new = copy.copy(self)
        new._resolved = None
        model_id = changes.get("model")
        if model_id is not None and model_id != self.id:
            new.id = model_id
            new.provider_name, new.name = split_model_id(model_id)
            if new.provider_name != self.provider_name:
                if "client" not in changes:
                    new.client = None
                if self.provider_params and "provider_params" not in changes:
                    from .exceptions import FeatureNotSupportedError

                    raise FeatureNotSupportedError(
                        f"This call's provider_params {dict(self.provider_params)!r} were written for "
                        f"{self.provider_name!r} and mean nothing to {new.provider_name!r}; pass "
                        f"provider_params for {model_id!r} with the override (provider_params={{}} for none).",
                        model=model_id,
                        feature="provider_params",
                    )
        if "client" in changes:
            new.client = changes["client"]
            _check_client(new.client, new.provider_name)
        if "provider_params" in changes:
            new.provider_params = changes["provider_params"] or {}
        if "tools" in changes:
            from .tools import split_tools

            new.tools, new.provider_tools = split_tools(changes["tools"])
        if "response_model" in changes:
            given = changes["response_model"]
            new.format = None if given is None else format_for(given)
        params = {key: value for key, value in changes.items() if key in _PARAM_NAMES}
        if "thinking" in params:
            check_thinking(new.id, params["thinking"])
        if params:
            new.params = cast(CallParams, {**self.params, **params})
        return new

    def _resolve(self) -> tuple[Provider, Client]:
        from .providers._registry import generation, get_provider

        resolved = self._resolved
        if resolved is None or resolved[0] != generation():
            provider = get_provider(self.provider_name)
            client = self.client
            if client is not None and client.provider.family != provider.family:
                raise UsageError(
                    f"A client for {client.provider.name!r} cannot call {self.id!r}: pass "
                    f"client=llm.client({provider.name!r}, ...), or no client= for the default one."
                )
            resolved = self._resolved = (generation(), provider)
        provider = resolved[1]
        # The default client is asked for on every call: it follows the environment.
        return provider, self.client or default_client(provider)

    def _request(self, content: str | Sequence[Message], stream: bool = False) -> tuple[Provider, Client, Request]:
        from .providers import Request

        provider, client = self._resolve()
        messages = as_messages(content)
        thinking = self.params.get("thinking")
        if isinstance(thinking, Thinking) and thinking.encode_thoughts_as_text:
            messages = thoughts_as_text(messages)
        request = Request(
            model_id=self.id,
            model=self.name,
            messages=messages,
            params=self.params,
            provider_params=self.provider_params,
            tools=self.tools,
            provider_tools=self.provider_tools,
            format=self.format,
            stream=stream,
        )
        return provider, client, request

    def _respond(
        self,
        cls: type[_R],
        request: Request,
        decoded: Decoded,
        body: object,
        client: Client,
        metadata: Mapping[str, object],
        context: Context[Any] | None = None,
    ) -> _R:
        message, finish_reason = decoded.message, decoded.finish_reason
        if self.format is not None:
            message, finish_reason = answer_as_text(message, finish_reason)
        usage = decoded.usage
        return cls(
            messages=(*request.messages, message),
            model=self.id,
            finish_reason=finish_reason,
            usage=usage,
            cost=None if usage is None else cost_of(self.id, usage, decoded.provider_model),
            id=decoded.id,
            provider_model=decoded.provider_model,
            raw=body,
            params=self.params,
            provider_params=self.provider_params,
            metadata=metadata,
            client=client,
            tools=self.tools,
            provider_tools=self.provider_tools,
            format=self.format,
            max_retries=self.max_retries,
            retries=self.retries,
            fallback=self.fallback,
            context=context,
        )

    def _fall_back(self, error: APIError) -> Model[T]:
        """The next model of `fallback`, after this one failed with `error`; raises when there is none.

        Only a retryable error moves on (a bad request or key would fail anywhere). The model
        moved to keeps every setting but the provider's: on another provider it takes that
        provider's default client and no `provider_params`.
        """
        from ._retries import is_retryable, joined

        failed = (*self._failed, (self.id, error))
        if not self.fallback or not is_retryable(error):
            if self._failed:
                raise joined(failed)
            raise error
        following = self.fallback[0]
        changes: dict[str, object] = {"model": following}
        if split_model_id(following)[0] != self.provider_name:
            changes["provider_params"] = {}
        model = cast("Model[T]", self._replaced(changes))
        model.fallback = self.fallback[1:]
        model._failed = failed
        return model

    def call(self, content: str | Sequence[Message]) -> CallResponse[T]:
        """Call the model with a user message (`str`) or a whole conversation.

        Raises:
            MissingAPIKeyError: No key given and none in the environment.
            FeatureNotSupportedError: A parameter or part the model cannot take.
            APIError: The provider failed the call (see its subclasses).
        """
        return self._call(content, {})

    async def call_async(self, content: str | Sequence[Message]) -> AsyncCallResponse[T]:
        """The async form of `call`."""
        return await self._call_async(content, {})

    def stream(self, content: str | Sequence[Message]) -> Stream[T]:
        """Call the model and read its reply as it is written: iterate the `llm.Stream`.

        The request is sent, and its errors raised, here; the chunks follow as they arrive.
        """
        return self._stream(content, {})

    async def stream_async(self, content: str | Sequence[Message]) -> AsyncStream[T]:
        """The async form of `stream`: `async for chunk in await model.stream_async(...)`."""
        return await self._stream_async(content, {})

    def _stream(
        self, content: str | Sequence[Message], metadata: Mapping[str, object], context: Context[Any] | None = None
    ) -> Stream[T]:
        overrides = current_overrides()  # an `llm.context` block around this call
        if overrides is not None and not self._failed and (model := overrides.apply(self)) is not self:
            return model._stream(content, metadata, context)
        from .providers.http import attempts_for, open_stream
        from .streams import Stream

        provider, client, request = self._request(content, stream=True)
        http_request = provider.prepare(request, client)
        attempts = attempts_for(client, self.retries)
        try:
            http = open_stream(provider, client, request, http_request, attempts)
        except APIError as error:
            return self._fall_back(error)._stream(content, metadata, context)
        return Stream(self, provider, client, request, http, metadata, context, http_request, attempts)

    async def _stream_async(
        self, content: str | Sequence[Message], metadata: Mapping[str, object], context: Context[Any] | None = None
    ) -> AsyncStream[T]:
        overrides = current_overrides()  # an `llm.context` block around this call
        if overrides is not None and not self._failed and (model := overrides.apply(self)) is not self:
            return await model._stream_async(content, metadata, context)
        from .providers.http import attempts_for, open_stream_async
        from .streams import AsyncStream

        provider, client, request = self._request(content, stream=True)
        http_request = provider.prepare(request, client)
        attempts = attempts_for(client, self.retries)
        try:
            http = await open_stream_async(provider, client, request, http_request, attempts)
        except APIError as error:
            return await self._fall_back(error)._stream_async(content, metadata, context)
        return AsyncStream(self, provider, client, request, http, metadata, context, http_request, attempts)

    def _call(
        self,
        content: str | Sequence[Message],
        metadata: Mapping[str, object],
        context: Context[Any] | None = None,
        validate: bool = True,
    ) -> CallResponse[T]:
        overrides = current_overrides()  # an `llm.context` block around this call
        if overrides is not None and not self._failed and (model := overrides.apply(self)) is not self:
            return model._call(content, metadata, context, validate)
        from ._decoding import decode_reply
        from .providers.http import attempts_for, post_json

        provider, client, request = self._request(content)
        http_request = provider.prepare(request, client)
        try:
            body = post_json(provider, client, request, http_request, attempts_for(client, self.retries))
        except APIError as error:
            return self._fall_back(error)._call(content, metadata, context, validate)
        decoded = decode_reply(provider, request, body)
        response_type = cast("type[CallResponse[T]]", CallResponse)
        response = self._respond(response_type, request, decoded, body, client, metadata, context)
        if not validate:
            return response
        for _ in range(self.continue_on_max_tokens):
            if response.finish_reason != "max_tokens":
                break
            response = response.continue_()
        if self.max_retries and self.format is not None:
            response = response.validate()
        return response

    async def _call_async(
        self,
        content: str | Sequence[Message],
        metadata: Mapping[str, object],
        context: Context[Any] | None = None,
        validate: bool = True,
    ) -> AsyncCallResponse[T]:
        overrides = current_overrides()  # an `llm.context` block around this call
        if overrides is not None and not self._failed and (model := overrides.apply(self)) is not self:
            return await model._call_async(content, metadata, context, validate)
        from ._decoding import decode_reply
        from .providers.http import attempts_for, post_json_async

        provider, client, request = self._request(content)
        http_request = provider.prepare(request, client)
        try:
            body = await post_json_async(provider, client, request, http_request, attempts_for(client, self.retries))
        except APIError as error:
            return await self._fall_back(error)._call_async(content, metadata, context, validate)
        decoded = decode_reply(provider, request, body)
        response_type = cast("type[AsyncCallResponse[T]]", AsyncCallResponse)
        response = self._respond(response_type, request, decoded, body, client, metadata, context)
        if not validate:
            return response
        for _ in range(self.continue_on_max_tokens):
            if response.finish_reason != "max_tokens":
                break
            response = await response.continue_()
        if self.max_retries and self.format is not None:
            response = await response.validate()
        return response


@overload
def model(
    id: KnownModel | str,
    *,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: None = None,
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> Model[str]: ...
@overload
def model(
    id: KnownModel | str,
    *,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[_U] | Format[_U],
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> Model[_U]: ...
def model(
    id: KnownModel | str,
    *,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[Any] | Format[Any] | None = None,
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> Model[Any]:
    """A model to call directly: `llm.model("anthropic:claude-sonnet-4-5").call("Hi")`.

    Args:
        id: The model id, `provider:model`; editors complete the ids in the model table
            (`llm.KnownModel`), and any other id works too.
        client: A client from `llm.client(...)`; by default the provider's shared one.
        provider_params: Provider-specific parameters, passed through unchanged.
        tools: Tools the model may call (`@llm.tool` functions), and tools the provider runs
            itself (`llm.WebSearch()`).
        response_model: The type to parse replies into (`response.parse()`).
        max_retries: How many times to ask again, with the parse error, for a reply that does
            not fit `response_model`.
        continue_on_max_tokens: How many times to continue a reply cut off at `max_tokens`,
            joining the pieces into one reply (`response.continue_()`).
        retries: How many times to send a request again after a retryable failure (429, 5xx,
            408/409, a broken connection, a timeout); by default the client's `max_retries`.
        fallback: Model ids to try in turn when this one still fails with a retryable error
            after its retries; `response.model` says which answered.
        **params: Common call parameters (`temperature`, `max_tokens`, ...).
    """
    return Model(
        id,
        client=client,
        provider_params=provider_params,
        tools=tools,
        response_model=response_model,
        max_retries=max_retries,
        continue_on_max_tokens=continue_on_max_tokens,
        retries=retries,
        fallback=fallback,
        **params,
    )
