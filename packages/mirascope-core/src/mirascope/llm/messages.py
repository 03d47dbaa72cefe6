"""Messages, and the three functions that build them: `system`, `user`, `assistant`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeAlias

from attrs import frozen

from .content import ContentPart, Text

__all__ = ["Message", "Role", "assistant", "system", "user"]

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


def _parts(content: UserContent) -> tuple[ContentPart, ...]:
    if isinstance(content, str):
        return (Text(content),)
    if isinstance(content, Sequence):
        return tuple(Text(part) if isinstance(part, str) else part for part in content)
    return (content,)


def system(content: UserContent) -> Message:
    """A system message: instructions the model follows."""
    return Message(role="system", content=_parts(content))


def user(content: UserContent) -> Message:
    """A user message: text, images, audio, documents or tool outputs."""
    return Message(role="user", content=_parts(content))


def assistant(content: UserContent) -> Message:
    """An assistant message, e.g. a reply written by hand for a few-shot prompt."""
    return Message(role="assistant", content=_parts(content))
