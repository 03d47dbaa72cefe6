"""Every error Mirascope raises, in one tree.

```text
Error
├── APIError                      the provider answered with a failure, or could not be reached
│   ├── AuthenticationError       401, or a provider's "bad key" code
│   ├── PermissionError           403                      (also a builtins.PermissionError)
│   ├── BadRequestError           400 and other 4xx
│   ├── NotFoundError             404, or a provider's "no such model" code
│   ├── RateLimitError            429
│   ├── ServerError               5xx
│   ├── TimeoutError              no answer in time        (also a builtins.TimeoutError)
│   ├── ConnectionError           no connection            (also a builtins.ConnectionError)
│   └── ResponseTooLargeError     a reply, or a stream event, past the client's size limit
├── ProviderNotFoundError         unknown `provider:` prefix, or its package is not installed
├── MissingAPIKeyError            no key given and none in the environment
├── FeatureNotSupportedError      a parameter or content part the model cannot take
├── ParseError                    the model's output does not fit the response model
├── ToolError                     a tool could not be called as the model asked
├── SerializationError            `from_dict` data that fits no response (also a builtins.ValueError)
├── MaxStepsError                 an agent found no final answer within `max_steps` replies
└── UsageError                    Mirascope used wrongly   (also a builtins.TypeError and ValueError)
```

Every message says what to do next.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from .messages import Message

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ConnectionError",
    "Error",
    "FeatureNotSupportedError",
    "MaxStepsError",
    "MissingAPIKeyError",
    "NotFoundError",
    "ParseError",
    "PermissionError",
    "ProviderNotFoundError",
    "RateLimitError",
    "ResponseTooLargeError",
    "SerializationError",
    "ServerError",
    "TimeoutError",
    "TimeoutPhase",
    "ToolError",
    "UsageError",
]

TimeoutPhase: TypeAlias = Literal["connect", "read", "write", "pool", "total"]
"""Which limit of an `llm.Timeout` ran out."""


class Error(Exception):
    """The root of every error Mirascope raises."""


class APIError(Error):
    """A provider failed the request, or could not be reached.

    Attributes:
        provider: The provider prefix, e.g. `"openai"`.
        status_code: The HTTP status, or `None` when no response arrived.
        message: The provider's own message, as sent.
        body: The decoded error body (JSON), its text, or `None`.
        headers: The response headers, names lowercased.
        retry_after: Seconds the provider asked us to wait, from `Retry-After` (or
            `retry-after-ms`, a rate-limit reset header, or Google's `RetryInfo`).
        partial_response: For a stream that failed part-way, the response assembled from
            what arrived before the failure; otherwise `None`.
        attempts: How many requests were sent before giving up: 1, or more when the
            failure was retried (`max_retries` on `llm.client`, `retries=` on the call).
        errors: With `fallback=`, the error each model tried ended with, in order, this one
            last; empty when no fallback was tried.
    """

    partial_response: Any

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        body: object = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        self.provider = provider
        self.status_code = status_code
        self.message = message
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})
        self.retry_after = retry_after
        self.partial_response = None
        self.attempts = 1
        self.errors: tuple[APIError, ...] = ()
        status = f" {status_code}" if status_code is not None else ""
        text = f"{provider}{status}: {message}"
        if hint:
            text = f"{text}\n{hint}"
        super().__init__(text)


class AuthenticationError(APIError):
    """The provider rejected the API key (HTTP 401, or a provider's bad-key code)."""


class PermissionError(APIError, builtins.PermissionError):
    """The key is valid but may not use this model or feature (HTTP 403)."""


class BadRequestError(APIError):
    """The provider refused the request as malformed (HTTP 400 and other 4xx)."""


class NotFoundError(APIError):
    """The model or endpoint does not exist for this key (HTTP 404, or a no-such-model code)."""


class RateLimitError(APIError):
    """Too many requests or tokens (HTTP 429); see `retry_after`."""


class ServerError(APIError):
    """The provider failed on its side (HTTP 5xx); retrying later usually helps."""


class TimeoutError(APIError, builtins.TimeoutError):
    """No answer within the client's timeout (or HTTP 408 from the provider).

    Attributes:
        phase: Which limit of the client's `llm.Timeout` ran out: `"connect"`, `"read"`,
            `"write"`, `"pool"` (waiting for a free connection) or `"total"`; `None` when
            the provider itself answered 408.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        body: object = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
        phase: TimeoutPhase | None = None,
    ) -> None:
        self.phase: TimeoutPhase | None = phase
        super().__init__(
            message,
            provider=provider,
            status_code=status_code,
            body=body,
            headers=headers,
            retry_after=retry_after,
            hint=hint,
        )


class ConnectionError(APIError, builtins.ConnectionError):
    """The provider could not be reached (DNS, refused connection, TLS)."""


class ResponseTooLargeError(APIError):
    """A reply's body, or one event of a stream, was larger than the client takes.

    Reading stopped there, so memory stays bounded whatever a server sends. Not retried.

    Attributes:
        limit: The client setting that was reached: `"max_body_bytes"` or `"max_event_bytes"`;
            raise it with `llm.client(provider, max_body_bytes=...)`.
        max_bytes: That setting's value.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        limit: Literal["max_body_bytes", "max_event_bytes"],
        max_bytes: int,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
        hint: str | None = None,
    ) -> None:
        self.limit: Literal["max_body_bytes", "max_event_bytes"] = limit
        self.max_bytes = max_bytes
        super().__init__(message, provider=provider, status_code=status_code, headers=headers, hint=hint)


class ProviderNotFoundError(Error, LookupError):
    """No provider answers to this `provider:` prefix.

    Attributes:
        provider: The prefix that was asked for.
    """

    def __init__(self, message: str, *, provider: str) -> None:
        self.provider = provider
        super().__init__(message)


class MissingAPIKeyError(Error):
    """No API key (or other credentials) was given, and the environment supplies none.

    Attributes:
        provider: The provider prefix.
        env_var: The environment variable that would supply the key (or the credentials).
    """

    def __init__(self, *, provider: str, env_var: str, message: str | None = None) -> None:
        self.provider = provider
        self.env_var = env_var
        super().__init__(
            message
            or f"No API key for {provider!r}: set the {env_var} environment variable, "
            f"or pass one with llm.client({provider!r}, api_key=...)."
        )


class FeatureNotSupportedError(Error):
    """The model cannot take a parameter or content part it was given.

    Raised before any request is sent.

    Attributes:
        model: The model id, `provider:model`.
        feature: What was refused, e.g. `"Audio"` or `"top_k"`.
    """

    def __init__(self, message: str, *, model: str, feature: str) -> None:
        self.model = model
        self.feature = feature
        super().__init__(message)


class ParseError(Error):
    """The model's output could not be parsed into the response model.

    Attributes:
        text: The raw text the model returned, kept so nothing is lost.
        reason: What was wrong with it, in words the model can act on.
        response: The response whose reply failed, when the error comes from a call that
            re-asked (`max_retries`): its `messages` hold the whole conversation.
    """

    def __init__(self, message: str, *, text: str, reason: str | None = None) -> None:
        self.text = text
        self.reason = reason or message
        self.response: Any = None
        super().__init__(message)

    def retry_message(self) -> str:
        """What to tell the model to get a reply that parses: `response.resume(error.retry_message())`."""
        return (
            f"Your response could not be parsed: {self.reason}\n\n"
            "Please ensure your response matches the expected format."
        )


class ToolError(Error):
    """A tool could not be called as the model asked (unknown name, bad arguments)."""


class SerializationError(Error, builtins.ValueError):
    """Data given to `from_dict` does not describe a response, message or part, or `to_dict` could not write one.

    `from_dict` is made to take data from outside (a database, a queue, a request), so whatever
    it is given is either restored or refused with this error, whose message names each field
    that is wrong (`$.messages[0].role`) and what was expected there.
    """


class MaxStepsError(Error):
    """An agent's tool loop did not reach a final answer within `max_steps` replies.

    Attributes:
        messages: The whole conversation so far, the last reply's tool calls unanswered.
    """

    def __init__(self, message: str, *, messages: tuple[Message, ...]) -> None:
        self.messages = messages
        super().__init__(message)


class UsageError(Error, builtins.TypeError, builtins.ValueError):
    """Mirascope was called in a way it cannot take; raised before any request is sent.

    A prompt function decorated without a model (`@llm.call` for `@llm.call("provider:model")`),
    an OpenAI-style dict where an `llm.Message` goes, a client of another provider, a tool that
    is not a function, a response model that is an instance rather than a type, a setting out of
    range, a stream read twice. The message says what to write instead. It is also a `TypeError`
    and a `ValueError`, which is what such mistakes raise in plain Python.
    """
