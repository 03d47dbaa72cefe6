"""The one guard around every provider's decoder: malformed provider data becomes an `llm.APIError`.

A decoder reads JSON a server wrote, and a server can send anything: a field of another type,
a list cut short, an event that is not JSON. Rather than a `try` in every decoder, core calls
each provider's `decode`, and a stream decoder's `event` and `finish`, inside one `try` (free in
CPython 3.11 while nothing is raised), and turns whatever else they raise into an `llm.APIError`
naming the provider and what could not be read, with the data on `error.body` and the original
exception chained. A decoder's own `llm.Error`s (an error event, a failed response) pass as
they are.

A decoder that copies a field of the wrong type without failing (a number where the text goes)
would only fail later, in the user's code; so the decoded reply is checked once, as a whole,
before a response is built from it (`check`). A stream's chunks are not checked: that would be
work on every event, and the reply they add up to is checked when the stream ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._json import MAX_JSON_DEPTH, too_deep
from ._values import FinishReason
from .content import Citation, Text, Thought, ToolCall, ToolOutput
from .exceptions import APIError, Error

if TYPE_CHECKING:
    from .providers import Decoded, Provider, Request

__all__ = ["check", "check_nesting", "decode_reply", "no_reply", "undecodable"]

_FINISH_REASONS: frozenset[FinishReason] = frozenset(
    ("stop", "max_tokens", "tool_call", "refusal", "content_filter", "other")
)
_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")
# The typed fields of each part a decoder makes, and the types they take.
_PART_FIELDS: dict[type, tuple[tuple[str, type | tuple[type, ...]], ...]] = {
    Text: (("text", str), ("citations", tuple)),
    Thought: (("text", str), ("signature", (str, type(None)))),
    ToolCall: (("id", str), ("name", str), ("args", dict)),
    ToolOutput: (("id", str), ("name", str), ("result", str)),
}
_MEDIA_FIELDS = (("mime_type", (str, type(None))), ("data", (str, type(None))), ("url", (str, type(None))))
_CITATION_FIELDS: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("url", str),
    ("title", (str, type(None))),
    ("start", (int, type(None))),
    ("end", (int, type(None))),
    ("cited_text", (str, type(None))),
)


def _expect(value: object, kind: type | tuple[type, ...], where: str) -> None:
    if not isinstance(value, kind):
        names = " or ".join(
            "null" if t is type(None) else t.__name__ for t in (kind if isinstance(kind, tuple) else (kind,))
        )
        raise TypeError(f"{where} is {type(value).__name__}, not {names}")


def check(decoded: Decoded) -> Decoded:
    """`decoded`, once every field a response reads has its declared type.

    Raises:
        TypeError: Naming the first field that has not (the guard makes it an `llm.APIError`).
    """
    for index, part in enumerate(decoded.message.content):
        fields = _PART_FIELDS.get(type(part))
        if fields is None:
            fields = _MEDIA_FIELDS if hasattr(part, "mime_type") else ()
        for name, kind in fields:
            _expect(getattr(part, name), kind, f"{type(part).__name__} {index}'s {name}")
        if isinstance(part, Text):
            for citation in part.citations:
                _expect(citation, Citation, f"a citation of Text {index}")
                for name, kind in _CITATION_FIELDS:
                    _expect(getattr(citation, name), kind, f"a citation's {name}")
    if decoded.finish_reason not in _FINISH_REASONS:
        raise TypeError(f"the finish reason is {decoded.finish_reason!r}, not one of {sorted(_FINISH_REASONS)}")
    usage = decoded.usage
    if usage is not None:
        for name in _USAGE_FIELDS:
            _expect(getattr(usage, name), int, f"usage's {name}")
    _expect(decoded.id, (str, type(None)), "the response id")
    _expect(decoded.provider_model, (str, type(None)), "the model name")
    return decoded


_HINT = (
    "The provider sent data in a shape Mirascope cannot read; it is in error.body. "
    "Retry; if it persists, the provider's API may have changed: please report it with that data."
)


def undecodable(provider: str, what: str, status: int | None, body: object, exc: Exception) -> APIError:
    """The `llm.APIError` for data from `provider` that its decoder could not read.

    Args:
        provider: The provider prefix.
        what: What could not be read: `"reply"`, `"stream event"`, `"stream"`.
        status: The HTTP status of the reply.
        body: The data that could not be read, kept on the error.
        exc: What the decoder raised (chain it with `raise ... from exc`).
    """
    detail = str(exc)
    if len(detail) > 200:
        detail = detail[:200] + "..."
    reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    if isinstance(exc, RecursionError):  # `json.loads` of an event, or a decoder walking one
        reason = f"it nests deeper than the {MAX_JSON_DEPTH} levels of arrays and objects Mirascope reads"
    return APIError(
        f"sent a {what} that could not be decoded ({reason})",
        provider=provider,
        status_code=status,
        body=body,
        hint=_HINT,
    )


def no_reply(request: Request, body: object, what: str) -> APIError:
    """The `llm.APIError` for a success that holds no reply at all, to raise from a decoder.

    No choices, a null message, no candidate and no block reason, a stream that ended before any
    sign of a reply: read as they are, they would be an empty answer that ended normally, which
    the caller could not tell from one the model meant. An empty reply the provider does explain
    (an empty text, a safety block, a cut at `max_tokens`) is a reply, and decodes as one.

    Args:
        request: The request the reply answers.
        body: What arrived (the body, or a stream's events), kept on the error.
        what: What was missing, e.g. `"the choice's message is null"`.
    """
    return APIError(
        f"answered without a reply ({what})",
        provider=request.model_id.partition(":")[0],
        status_code=200,
        body=body,
        hint="The provider sent a success with nothing in it; retry, and if it persists, check the provider's status.",
    )


def check_nesting(decoded: Decoded) -> Decoded:
    """`decoded`, once the provider data it keeps (`raw`, tool-call arguments) nests no deeper than `MAX_JSON_DEPTH`.

    For a streamed reply, whose events are parsed with no depth check (it would be work on every
    event): what the reply keeps of them is checked once, at its end. A reply body is checked as
    it is parsed.

    Raises:
        TypeError: The data nests deeper (the guard makes it an `llm.APIError`).
    """
    message = decoded.message
    if too_deep(message.raw) or any(isinstance(part, ToolCall) and too_deep(part.args) for part in message.content):
        raise TypeError(f"the reply nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects")
    return decoded


def decode_reply(provider: Provider, request: Request, body: Any) -> Decoded:
    """`provider.decode(request, body)`, with anything but an `llm.Error` raised as `llm.APIError`.

    An error's text is redacted of the credentials this process sends, should the body echo one.
    """
    try:
        return check(provider.decode(request, body))
    except APIError as error:
        _redact(error)
        raise
    except Error:
        raise
    except Exception as exc:
        error = undecodable(provider.name, "reply", 200, body, exc)
        error.__cause__ = exc
        _redact(error)
        raise error from exc


def _redact(error: APIError) -> None:
    from ._redact import known, scrub  # the error path: not loaded with `llm`

    scrub(error, known())
