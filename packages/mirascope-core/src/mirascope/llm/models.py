"""`llm.model(...)`: a model id, its call parameters and its settings, as one immutable value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, Unpack, cast, overload

import attrs
from attrs import field, frozen

from . import _calling, _instruments
from ._checks import check_model, split_model_id
from ._overloads import NonThinkingModel, ParamsBesidesThinking, deprecated
from ._typevars import T
from .clients import Client, default_client
from .content import Text, Thought
from .context import current as current_overrides
from .exceptions import APIError, FeatureNotSupportedError, UsageError
from .known_models import KnownModel
from .messages import Message, as_messages
from .params import CallParams, Thinking
from .response_models import Format
from .responses import AsyncCallResponse, CallResponse, made_response
from .settings import CallSettings, changes_from_arguments
from .streams import AsyncStream, Stream

if TYPE_CHECKING:
    from ._retries import Attempts
    from .instrumentation import Observers
    from .provider_tools import ProviderTool
    from .providers import Provider, Request
    from .tools import AnyTool, Context, Tool

__all__ = ["Model", "model"]

U = TypeVar("U")
_R = TypeVar("_R", bound="CallResponse[Any] | AsyncCallResponse[Any]")


def thoughts_as_text(messages: tuple[Message, ...]) -> tuple[Message, ...]:
    """The conversation with each earlier thought written out as a text part, `**Thinking:** ...`.

    The provider's own form of those replies (`raw`) is left out, so that the text is what goes.
    """
    changed: list[Message] = []
    for message in messages:
        if message.role == "assistant" and any(isinstance(part, Thought) for part in message.content):
            content = tuple(
                Text(f"**Thinking:** {part.text}") if isinstance(part, Thought) else part
                for part in message.content
                if not (isinstance(part, Thought) and not part.text)  # encrypted only: nothing to say
            )
            message = attrs.evolve(message, content=content, raw=None)
        changed.append(message)
    return tuple(changed)


@frozen(repr=False, eq=False)  # compared by identity, as before: an override caches by it
class Model(Generic[T]):
    """A model, the parameters to call it with and the call's settings: an immutable value.

    Build one with `llm.model("provider:model", **params)`. What changes it (an override, an
    `llm.context` block, a `DynamicConfig`, a fallback) makes a new one with `changed`; every
    one made is checked (`_checks.check_model`) before any request.
    """

    id: str
    """The model id, `provider:model`."""
    params: CallParams = field(factory=lambda: CallParams())
    """The call parameters every call uses."""
    settings: CallSettings = field(factory=CallSettings)
    """Every other setting of its calls: client, tools, response model, retries, fallback, ..."""
    _failed: tuple[tuple[str, APIError], ...] = field(default=(), eq=False, alias="failed")
    # On a model a fallback moved to: each earlier model's id and the error it failed with.
    _resolved: list[tuple[int, Provider]] = field(
        factory=lambda: cast("list[tuple[int, Provider]]", []), init=False, eq=False
    )
    # The provider (and a given client checked against it), found on the first call and kept
    # while the registry is unchanged.

    def __attrs_post_init__(self) -> None:
        check_model(self.id, self.params, self.settings)

    @classmethod
    def from_arguments(cls, id: str, params: Mapping[str, object], **settings: Any) -> Model[Any]:
        """A model from the keyword arguments of `llm.model`, `llm.call` or `@llm.agent`."""
        return cls(id, cast(CallParams, dict(params)), CallSettings(**changes_from_arguments(settings)))

    def __repr__(self) -> str:
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"llm.model({self.id!r}{params})"

    @property
    def provider_name(self) -> str:
        """The provider part of the id: what comes before the first `:`."""
        return self.id.partition(":")[0]

    @property
    def name(self) -> str:
        """The model part of the id, as the provider names it."""
        return self.id.partition(":")[2]

    @property
    def client(self) -> Client | None:
        """The client to call with; `None` uses the provider's default client."""
        return self.settings.client

    @property
    def provider_params(self) -> Mapping[str, object]:
        """Provider-specific parameters, merged into the request."""
        return self.settings.provider_params

    @property
    def tools(self) -> tuple[Tool[..., Any], ...]:
        """Tools the model may call."""
        return self.settings.tools

    @property
    def provider_tools(self) -> tuple[ProviderTool, ...]:
        """Tools the provider runs itself, such as `llm.WebSearch()`."""
        return self.settings.provider_tools

    @property
    def format(self) -> Format[T] | None:
        """The structured output asked for, from `response_model`."""
        return self.settings.format

    @property
    def max_retries(self) -> int:
        """How many times a reply that does not parse into `response_model` is asked for again."""
        return self.settings.max_retries

    @property
    def continue_on_max_tokens(self) -> int:
        """How many times a reply cut off at `max_tokens` is continued and joined (`continue_`)."""
        return self.settings.continue_on_max_tokens

    @property
    def retries(self) -> int | None:
        """How many times a failed request is sent again; `None` takes the client's `max_retries`."""
        return self.settings.retries

    @property
    def fallback(self) -> tuple[str, ...]:
        """Model ids to send the request to, in turn, when this one fails with a retryable error."""
        return self.settings.fallback

    def changed(
        self,
        model: str | None = None,
        params: Mapping[str, object] | None = None,
        settings: Mapping[str, Any] | None = None,
        failed: tuple[tuple[str, APIError], ...] = (),
    ) -> Model[Any]:
        """This model with another id, call parameters merged over its own, and settings replaced.

        `settings` is by `CallSettings` field name (`changes_from_arguments` makes it from keyword
        arguments). Moving to another provider drops the client (one client serves one provider)
        unless a new one is given, and refuses `provider_params` written for the old provider
        unless new ones are given. `failed` is set on a fallback's model: the models that failed
        before it, with their errors.

        Raises:
            FeatureNotSupportedError: `provider_params` of this provider, moving to another.
        """
        changes = dict(settings or {})
        model_id = self.id if model is None else model
        if split_model_id(model_id)[0] != self.provider_name:
            changes.setdefault("client", None)
            if self.settings.provider_params and "provider_params" not in changes:
                raise FeatureNotSupportedError(
                    f"This call's provider_params {dict(self.settings.provider_params)!r} were written for "
                    f"{self.provider_name!r} and mean nothing to {split_model_id(model_id)[0]!r}; pass "
                    f"provider_params for {model_id!r} with the override (provider_params={{}} for none).",
                    model=model_id,
                    feature="provider_params",
                )
        return Model(
            model_id,
            cast(CallParams, {**self.params, **params}) if params else self.params,
            attrs.evolve(self.settings, **changes) if changes else self.settings,
            failed=failed,
        )

    def _resolve(self) -> tuple[Provider, Client]:
        # The provider SPI package loads with the first call, not with `llm`.
        from .providers._registry import generation, get_provider

        resolved = self._resolved
        if not resolved or resolved[0][0] != generation():
            provider = get_provider(self.provider_name)
            client = self.settings.client
            if client is not None and client.provider.family != provider.family:
                raise UsageError(
                    f"A client for {client.provider.name!r} cannot call {self.id!r}: pass "
                    f"client=llm.client({provider.name!r}, ...), or no client= for the default one."
                )
            resolved[:] = [(generation(), provider)]
        provider = resolved[0][1]
        # The default client is asked for on every call: it follows the environment.
        return provider, self.settings.client or default_client(provider)

    def _request(self, content: str | Sequence[Message], stream: bool = False) -> tuple[Provider, Client, Request]:
        from .providers import Request

        provider, client = self._resolve()
        messages = as_messages(content)
        thinking = self.params.get("thinking")
        if isinstance(thinking, Thinking) and thinking.encode_thoughts_as_text:
            messages = thoughts_as_text(messages)
        settings = self.settings
        request = Request(
            model_id=self.id,
            model=self.name,
            messages=messages,
            params=self.params,
            provider_params=settings.provider_params,
            tools=settings.tools,
            provider_tools=settings.provider_tools,
            format=settings.format,
            stream=stream,
        )
        return provider, client, request

    def _observed(self, kind: Literal["call", "stream"], request: Request, client: Client, is_async: bool) -> Observers:
        """The registered instruments' observers of this call (each fallback model's its own)."""
        fallback_from = self._failed[-1][0] if self._failed else None
        from .instrumentation import call_started  # loaded once something registered

        return call_started(kind, self.id, request, client.base_url, is_async, fallback_from)

    def _fall_back(self, error: APIError) -> Model[T]:
        """The next model of `fallback`, after this one failed with `error`; raises when there is none.

        Only a retryable error moves on (a bad request or key would fail anywhere). The model
        moved to keeps every setting but the provider's: on another provider it takes that
        provider's default client and no `provider_params`.
        """
        from ._retries import is_retryable, joined  # a failed call's path: not loaded with `llm`

        failed = (*self._failed, (self.id, error))
        if not self.settings.fallback or not is_retryable(error):
            if self._failed:
                raise joined(failed)
            raise error
        following, *rest = self.settings.fallback
        changes: dict[str, object] = {"fallback": tuple(rest)}
        if split_model_id(following)[0] != self.provider_name:
            changes["provider_params"] = {}
        return self.changed(following, settings=changes, failed=failed)

    def _overridden(self) -> Model[T] | None:
        """This model as the innermost `llm.context` block around this call changes it, if one does."""
        overrides = current_overrides()
        if overrides is None or self._failed:  # a fallback's model was made from an overridden one
            return None
        model = overrides.apply(self)
        return None if model is self else model

    def call(self, content: str | Sequence[Message]) -> CallResponse[T]:
        """Call the model with a user message (`str`) or a whole conversation.

        Raises:
            MissingAPIKeyError: No key given and none in the environment.
            FeatureNotSupportedError: A parameter or part the model cannot take.
            APIError: The provider failed the call (see its subclasses).
        """
        return self.call_with(content, {})

    async def call_async(self, content: str | Sequence[Message]) -> AsyncCallResponse[T]:
        """The async form of `call`."""
        return await self.call_with_async(content, {})

    def stream(self, content: str | Sequence[Message]) -> Stream[T]:
        """Call the model and read its reply as it is written: iterate the `llm.Stream`.

        The request is sent, and its errors raised, here; the chunks follow as they arrive.
        """
        return self.stream_with(content, {})

    async def stream_async(self, content: str | Sequence[Message]) -> AsyncStream[T]:
        """The async form of `stream`: `async for chunk in await model.stream_async(...)`."""
        return await self.stream_with_async(content, {})

    def stream_with(
        self, content: str | Sequence[Message], metadata: Mapping[str, object], context: Context[Any] | None = None
    ) -> Stream[T]:
        """`stream`, with the prompt function's metadata and `llm.Context` (see `_calling.Caller`)."""
        if (model := self._overridden()) is not None:
            return model.stream_with(content, metadata, context)
        from .providers.http import attempts_for, open_stream  # httpx: loaded with the first call

        provider, client, request = self._request(content, stream=True)
        http_request = provider.prepare(request, client)
        attempts = attempts_for(client, self.settings.retries)
        if _instruments.instruments:
            attempts.observers = self._observed("stream", request, client, False)
        try:
            http = open_stream(provider, client, request, http_request, attempts)
        except BaseException as error:
            if attempts.observers:
                _instruments.tell(attempts.observers, "failed", error)
            if not isinstance(error, APIError):
                raise
            return self._fall_back(error).stream_with(content, metadata, context)
        return Stream(self, provider, client, request, http, metadata, context, http_request, attempts)

    async def stream_with_async(
        self, content: str | Sequence[Message], metadata: Mapping[str, object], context: Context[Any] | None = None
    ) -> AsyncStream[T]:
        """The async form of `stream_with`."""
        if (model := self._overridden()) is not None:
            return await model.stream_with_async(content, metadata, context)
        from .providers.http import attempts_for, open_stream_async  # httpx: loaded with the first call

        provider, client, request = self._request(content, stream=True)
        http_request = provider.prepare(request, client)
        attempts = attempts_for(client, self.settings.retries)
        if _instruments.instruments:
            attempts.observers = self._observed("stream", request, client, True)
        try:
            http = await open_stream_async(provider, client, request, http_request, attempts)
        except BaseException as error:
            if attempts.observers:
                _instruments.tell(attempts.observers, "failed", error)
            if not isinstance(error, APIError):
                raise
            return await self._fall_back(error).stream_with_async(content, metadata, context)
        return AsyncStream(self, provider, client, request, http, metadata, context, http_request, attempts)

    def _responded(
        self,
        response_type: type[_R],
        provider: Provider,
        request: Request,
        body: Any,
        client: Client,
        metadata: Mapping[str, object],
        context: Context[Any] | None,
        attempts: Attempts,
    ) -> _R:
        """The response to a reply's decoded `body`, told to the call's observers (sync and async alike)."""
        from ._decoding import decode_reply  # the decoding guard: loaded with the first call

        try:
            decoded = decode_reply(provider, request, body)
            response = made_response(
                response_type, self, request, decoded, body, client, metadata, context, attempts.observers
            )
        except BaseException as error:
            if attempts.observers:
                _instruments.tell(attempts.observers, "failed", error)
            raise
        if attempts.observers:
            _instruments.tell(attempts.observers, "ended", response)
        return response

    def call_with(
        self,
        content: str | Sequence[Message],
        metadata: Mapping[str, object],
        context: Context[Any] | None = None,
        validate: bool = True,
    ) -> CallResponse[T]:
        """`call`, with the prompt function's metadata and `llm.Context` (see `_calling.Caller`).

        `validate=False` returns the reply as it came, without continuing or re-asking.
        """
        if (model := self._overridden()) is not None:
            return model.call_with(content, metadata, context, validate)
        # httpx: loaded with the first call, not with `llm`
        from .providers.http import attempts_for, post_json

        provider, client, request = self._request(content)
        http_request = provider.prepare(request, client)
        attempts = attempts_for(client, self.settings.retries)
        if _instruments.instruments:
            attempts.observers = self._observed("call", request, client, False)
        try:
            body = post_json(provider, client, request, http_request, attempts)
        except BaseException as error:
            if attempts.observers:
                _instruments.tell(attempts.observers, "failed", error)
            if not isinstance(error, APIError):
                raise
            return self._fall_back(error).call_with(content, metadata, context, validate)
        response = self._responded(
            cast("type[CallResponse[T]]", CallResponse), provider, request, body, client, metadata, context, attempts
        )
        if not validate:
            return response
        settings = self.settings
        for _ in range(settings.continue_on_max_tokens):
            if response.finish_reason != "max_tokens":
                break
            response = response.continue_()
        if settings.max_retries and settings.format is not None:
            response = response.validate()
        return response

    async def call_with_async(
        self,
        content: str | Sequence[Message],
        metadata: Mapping[str, object],
        context: Context[Any] | None = None,
        validate: bool = True,
    ) -> AsyncCallResponse[T]:
        """The async form of `call_with`."""
        if (model := self._overridden()) is not None:
            return await model.call_with_async(content, metadata, context, validate)
        # httpx: loaded with the first call, not with `llm`
        from .providers.http import attempts_for, post_json_async

        provider, client, request = self._request(content)
        http_request = provider.prepare(request, client)
        attempts = attempts_for(client, self.settings.retries)
        if _instruments.instruments:
            attempts.observers = self._observed("call", request, client, True)
        try:
            body = await post_json_async(provider, client, request, http_request, attempts)
        except BaseException as error:
            if attempts.observers:
                _instruments.tell(attempts.observers, "failed", error)
            if not isinstance(error, APIError):
                raise
            return await self._fall_back(error).call_with_async(content, metadata, context, validate)
        response = self._responded(
            cast("type[AsyncCallResponse[T]]", AsyncCallResponse),
            provider,
            request,
            body,
            client,
            metadata,
            context,
            attempts,
        )
        if not validate:
            return response
        settings = self.settings
        for _ in range(settings.continue_on_max_tokens):
            if response.finish_reason != "max_tokens":
                break
            response = await response.continue_()
        if settings.max_retries and settings.format is not None:
            response = await response.validate()
        return response


_calling.provide_caller(Model)


# BEGIN GENERATED overloads of llm.model (scripts/generate_overloads.py writes these lines from settings.py)
@overload
@deprecated("This model cannot think: thinking='low', 'medium' or 'high' raises llm.FeatureNotSupportedError.")
def model(
    id: NonThinkingModel,
    *,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    tools: Sequence[AnyTool] | None = None,
    response_model: type[Any] | Format[Any] | None = None,
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    thinking: Literal["low", "medium", "high"],
    **params: Unpack[ParamsBesidesThinking],
) -> Model[Any]: ...
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
    response_model: type[U] | Format[U],
    max_retries: int = 0,
    continue_on_max_tokens: int = 0,
    retries: int | None = None,
    fallback: str | Sequence[str] = (),
    **params: Unpack[CallParams],
) -> Model[U]: ...
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
    # END GENERATED
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
    return Model.from_arguments(
        id,
        params,
        client=client,
        provider_params=provider_params,
        tools=tools,
        response_model=response_model,
        max_retries=max_retries,
        continue_on_max_tokens=continue_on_max_tokens,
        retries=retries,
        fallback=fallback,
    )
