"""Messages, and the three functions that build them: `system`, `user`, `assistant`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias, cast, get_args

from attrs import frozen

from .content import ContentPart, Text
from .exceptions import UsageError

__all__ = ["Message", "Role", "as_messages", "assistant", "system", "user"]

Role: TypeAlias = Literal["system", "user", "assistant"]
"""Who speaks a message."""

UserContent: TypeAlias = str | ContentPart | Sequence[str | ContentPart]
"""What `user`, `system` and `assistant` accept: text, a part, or a list of both."""


@frozen(kw_only=True)
class Message:
    """One turn of a conversation."""

    role: Role
    """Who speaks: `"system"`, `"user"` or `"assistant"`."""
    content: tuple[ContentPart, ...]
    """The parts, in order."""
    model: str | None = None
    """For an assistant message: the `provider:model` that wrote it."""
    raw: object = None
    """For an assistant message: the provider's own form of it, sent back unchanged when the
    conversation continues on the same provider (ids, signatures, encrypted reasoning)."""

    @property
    def text(self) -> str:
        """The text parts joined, `""` when there are none."""
        return "".join(part.text for part in self.content if isinstance(part, Text))


_PART_TYPES: tuple[type, ...] = get_args(ContentPart)


def _parts(content: UserContent) -> tuple[ContentPart, ...]:
    if isinstance(content, str):
        return (Text(content),)
    parts = (
        tuple(Text(part) if isinstance(part, str) else part for part in content)
        if isinstance(content, Sequence)
        else (content,)
    )
    for part in parts:
        if not isinstance(part, _PART_TYPES):
            raise UsageError(_not_a_part(part))
    return parts


def as_messages(content: str | Sequence[Message]) -> tuple[Message, ...]:
    """The conversation a call is given: a `str` is one user message, a list holds `llm.Message`s.

    Raises:
        UsageError: `content` is neither; an OpenAI-style dict is answered with its spelling here.
    """
    if isinstance(content, str):
        return (user(content),)
    given = cast(object, content)  # checked as what it may really be, whatever it was declared
    if not isinstance(given, Sequence) or isinstance(given, bytes | bytearray):
        raise UsageError(_not_a_message(given))
    items: tuple[object, ...] = tuple(cast(Sequence[object], given))
    for item in items:
        if not isinstance(item, Message):
            raise UsageError(_not_a_message(item))
    return cast(tuple[Message, ...], items)


_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def _not_a_message(item: object) -> str:
    fix = _message_dict_fix(item)
    if fix is not None:
        return fix
    if isinstance(item, Message):  # one message, not in a list
        return "Pass a conversation as a list, [llm.messages.user(...)], or the text alone as a str."
    if isinstance(item, str):  # a list of text
        return (
            f"A conversation is a list of llm.Message, not of str: write llm.messages.user({_short(item)}) "
            "(or pass the text alone, as a str, for a single user message)."
        )
    if isinstance(item, _PART_TYPES):
        return (
            f"A conversation is a list of llm.Message; put the {type(item).__name__} in one: "
            "[llm.messages.user([...])]."
        )
    return (
        f"A call takes a str (one user message) or a list of llm.Message (llm.messages.user(...), "
        f"llm.messages.system(...), ...); got {type(item).__name__} {_short(item)}."
    )


def _message_dict_fix(item: object) -> str | None:
    """What to write for an OpenAI-style message dict; `None` for anything else."""
    if not isinstance(item, dict):
        return None
    data = cast(dict[object, object], item)
    if data.get("role") == "tool":
        return (
            "A tool result is not a dict here: run the reply's tools with response.execute_tools() and "
            "pass the outputs to response.resume(...) (or build an llm.ToolOutput yourself)."
        )
    role = _ROLES.get(str(data.get("role")))
    if role is None:
        return None
    content = data.get("content")
    written = repr(content if len(content) <= 40 else content[:40] + "...") if isinstance(content, str) else "[...]"
    return (
        f"Messages are llm.Message values, not dicts: write llm.messages.{role}({written}) for {_short(data)} "
        "(llm.messages.system, .user and .assistant build each role; a content list holds str and "
        "parts such as llm.Image.from_url(...))."
    )


def _not_a_part(part: object) -> str:
    fix = _message_dict_fix(part) or _part_dict_fix(part)
    if fix is not None:
        return fix
    if isinstance(part, Message):
        return "A message holds parts, not messages: pass the messages themselves as a list, not inside one."
    return (
        f"A message's content is text (str) or llm content parts (llm.Text, llm.Image.from_url(...), "
        f"llm.ToolOutput, ...); got {type(part).__name__} {_short(part)}."
    )


def _part_dict_fix(item: object) -> str | None:
    """What to write for an OpenAI-style content part dict (`{"type": "text", ...}`); `None` for anything else."""
    if not isinstance(item, dict):
        return None
    data = cast(dict[object, object], item)
    kind = data.get("type")
    if kind == "text" and isinstance(data.get("text"), str):
        written = _short(data["text"])
    elif kind == "image_url":
        image = data.get("image_url")
        url = cast(dict[object, object], image).get("url") if isinstance(image, dict) else image
        written = f"llm.Image.from_url({_short(url) if isinstance(url, str) else '...'})"
    else:
        return None
    return f"Content parts are llm values, not dicts: write {written} for {_short(data)}."


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def system(content: UserContent) -> Message:
    """A system message: instructions the model follows."""
    return Message(role="system", content=_parts(content))


def user(content: UserContent) -> Message:
    """A user message: text, images, audio, documents or tool outputs."""
    return Message(role="user", content=_parts(content))


def assistant(content: UserContent) -> Message:
    """An assistant message, e.g. a reply written by hand for a few-shot prompt."""
    return Message(role="assistant", content=_parts(content))
