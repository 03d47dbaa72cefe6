"""`llm.model(...)`: a model id plus call parameters, callable directly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar, Unpack

from .clients import Client, default_client
from .exceptions import ProviderNotFoundError
from .messages import Message, user
from .params import CallParams
from .responses import AsyncCallResponse, CallResponse, _ResponseData  # pyright: ignore[reportPrivateUsage]

if TYPE_CHECKING:
    from .providers import Decoded, Provider, Request

__all__ = ["Model", "model"]

_R = TypeVar("_R", bound=_ResponseData)

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


def split_model_id(model_id: str) -> tuple[str, str]:
    """Split `provider:model` at the first `:`; the model part is left untouched."""
    provider, sep, name = model_id.partition(":")
    if not sep or not provider or not name:
        guess = next((p for prefix, p in _GUESSES if model_id.startswith(prefix)), None)
        example = f"{guess}:{model_id}" if guess else "openai:gpt-4o-mini"
        raise ProviderNotFoundError(
            f"Model ids are written 'provider:model', e.g. {example!r}; got {model_id!r}.",
            provider=provider,
        )
    return provider, name


def check_params(params: Mapping[str, object]) -> None:
    """Refuse keyword arguments that are not call parameters, naming the valid ones."""
    unknown = params.keys() - _PARAM_NAMES
    if unknown:
        raise TypeError(
            f"Unknown call parameter(s) {', '.join(sorted(unknown))}; the common ones are "
            f"{', '.join(sorted(_PARAM_NAMES))}. Pass provider-specific ones in provider_params={{...}}."
        )


class Model:
    """A model and the parameters to call it with.

    Build one with `llm.model("provider:model", **params)`.
    """

    __slots__ = ("_resolved", "client", "id", "name", "params", "provider_name", "provider_params")

    def __init__(
        self,
        id: str,
        *,
        client: Client | None = None,
        provider_params: Mapping[str, object] | None = None,
        **params: Unpack[CallParams],
    ) -> None:
        check_params(params)
        self.id = id
        """The model id, `provider:model`."""
        self.provider_name, self.name = split_model_id(id)
        self.params: CallParams = params
        """The call parameters every call uses."""
        self.provider_params: Mapping[str, object] = provider_params or {}
        """Provider-specific parameters, passed through unchanged."""
        self.client = client
        """The client to call with; `None` uses the provider's default client."""
        # The provider and client, found on the first call and kept while the registry is unchanged.
        self._resolved: tuple[int, Provider, Client] | None = None

    def __repr__(self) -> str:
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"llm.model({self.id!r}{params})"

    def _resolve(self) -> tuple[Provider, Client]:
        from .providers._registry import generation, get_provider

        resolved = self._resolved
        if resolved is not None and resolved[0] == generation():
            return resolved[1], resolved[2]
        provider = get_provider(self.provider_name)
        client = self.client
        if client is None:
            client = default_client(provider)
        elif client.provider.family != provider.family:
            raise ValueError(
                f"A client for {client.provider.name!r} cannot call {self.id!r}; "
                f"make one with llm.client({provider.name!r}, ...)."
            )
        self._resolved = (generation(), provider, client)
        return provider, client

    def _request(self, content: str | Sequence[Message]) -> tuple[Provider, Client, Request]:
        from .providers import Request

        provider, client = self._resolve()
        messages = (user(content),) if isinstance(content, str) else tuple(content)
        request = Request(
            model_id=self.id,
            model=self.name,
            messages=messages,
            params=self.params,
            provider_params=self.provider_params,
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
    ) -> _R:
        return cls(
            messages=(*request.messages, decoded.message),
            model=self.id,
            finish_reason=decoded.finish_reason,
            usage=decoded.usage,
            id=decoded.id,
            provider_model=decoded.provider_model,
            raw=body,
            params=self.params,
            provider_params=self.provider_params,
            metadata=metadata,
            client=client,
        )

    def call(self, content: str | Sequence[Message]) -> CallResponse:
        """Call the model with a user message (`str`) or a whole conversation.

        Raises:
            MissingAPIKeyError: No key given and none in the environment.
            FeatureNotSupportedError: A parameter or part the model cannot take.
            APIError: The provider failed the call (see its subclasses).
        """
        return self._call(content, {})

    async def call_async(self, content: str | Sequence[Message]) -> AsyncCallResponse:
        """The async form of `call`."""
        return await self._call_async(content, {})

    def _call(self, content: str | Sequence[Message], metadata: Mapping[str, object]) -> CallResponse:
        from .providers.http import post_json

        provider, client, request = self._request(content)
        http_request = provider.prepare(request, client)
        body = post_json(provider, client, request, http_request)
        decoded = provider.decode(request, body)
        return self._respond(CallResponse, request, decoded, body, client, metadata)

    async def _call_async(self, content: str | Sequence[Message], metadata: Mapping[str, object]) -> AsyncCallResponse:
        from .providers.http import post_json_async

        provider, client, request = self._request(content)
        http_request = provider.prepare(request, client)
        body = await post_json_async(provider, client, request, http_request)
        decoded = provider.decode(request, body)
        return self._respond(AsyncCallResponse, request, decoded, body, client, metadata)


def model(
    id: str,
    *,
    client: Client | None = None,
    provider_params: Mapping[str, object] | None = None,
    **params: Unpack[CallParams],
) -> Model:
    """A model to call directly: `llm.model("anthropic:claude-sonnet-4-5").call("Hi")`.

    Args:
        id: The model id, `provider:model`.
        client: A client from `llm.client(...)`; by default the provider's shared one.
        provider_params: Provider-specific parameters, passed through unchanged.
        **params: Common call parameters (`temperature`, `max_tokens`, ...).
    """
    return Model(id, client=client, provider_params=provider_params, **params)
