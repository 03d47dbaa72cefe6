"""An incremental Server-Sent Events parser, shared by every streaming provider.

Bytes go in as the network delivers them; complete events come out. Each read is cut at its
last line end; the complete part is decoded once and split into events at the blank lines, all
in C loops, so the Python work is per event, not per line or byte. A piece that completes no
event is only kept, not scanned again, until one ends; so no byte is scanned more than a few
times however the stream is cut, and a character split between reads is decoded whole.

Follows the WHATWG rules: lines end in CRLF, LF or CR (a CRLF may be split across reads); `:`
starts a comment (keep-alives); `data:` lines join with newlines; a blank line ends an event;
one space after the colon is dropped; the last `id:` carries over to later events.

An unfinished event (its unfinished line included) may hold at most `max_event_bytes`: a stream
that never ends a line or an event fails with `LimitExceeded` rather than growing without bound.
Keeping count costs a length check per read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, cast

from ..clients import DEFAULT_MAX_EVENT_BYTES

__all__ = ["LimitExceeded", "SSEDecoder", "ServerSentEvent"]

_STRAY_LINES = 200


class ServerSentEvent(NamedTuple):
    """One event: its name (`"message"` when unnamed) and its data lines joined."""

    event: str
    """The `event:` field, or `"message"`."""
    data: str
    """The `data:` lines, joined with newlines."""
    id: str | None = None
    """The last `id:` field sent, if any."""


# Builds an event without the keyword handling of the named tuple's constructor.
_new_event = cast("Callable[[type[ServerSentEvent], tuple[str, str, str | None]], ServerSentEvent]", tuple.__new__)  # pyright: ignore[reportUnknownMemberType]


def _has_blank_line(text: str) -> bool:
    """Whether a line end follows a line end (a CRLF counts as one)."""
    return "\n\n" in text or "\n\r" in text or "\r\r" in text


class LimitExceeded(Exception):
    """An event, or a line, longer than the decoder's `max_event_bytes`.

    Streams report it as `llm.ResponseTooLargeError`, naming the client setting.
    """

    def __init__(self, max_event_bytes: int) -> None:
        self.max_event_bytes = max_event_bytes
        super().__init__(f"a stream event is longer than {max_event_bytes} bytes")


class SSEDecoder:
    """Feed it bytes; it returns the events they complete."""

    __slots__ = ("_bytes", "_held", "_id", "_limit", "_text", "seen_event", "stray")

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._limit = max_event_bytes
        self._held = 0  # bytes of the unfinished event and line, in `_text` and `_bytes`
        self.seen_event = False
        """Whether any event was completed."""
        self.stray: list[str] = []
        """Lines that are no SSE field, read before the first event (a bare error body, say)."""
        self._bytes: list[bytes] = []  # an unfinished line, in the pieces it arrived in
        self._text: list[str] = []  # complete lines of an unfinished event, as they arrived
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse `chunk`; return the events it completed, in order."""
        # Cut after the last LF, or else after the last CR that is not the final byte (a final
        # CR may be half of a CRLF whose LF is in the next read).
        cut = chunk.rfind(b"\n") + 1 or chunk.rfind(b"\r", 0, len(chunk) - 1) + 1
        if not cut:
            if chunk:
                self._hold(len(chunk))
                self._bytes.append(chunk)
            return []
        complete = chunk[:cut] if cut < len(chunk) else chunk
        if self._bytes:
            self._bytes.append(complete)
            complete = b"".join(self._bytes)
            self._bytes = []
        if cut < len(chunk):
            self._bytes.append(chunk[cut:])
        text = complete.decode()
        pending = self._text
        if pending:
            if not (_has_blank_line(text) or _has_blank_line(pending[-1][-2:] + text[:2])):
                self._hold(len(chunk))
                pending.append(text)  # still inside one event
                return []
            pending.append(text)
            text = "".join(pending)
            self._text = []
        elif text[0] in "\r\n":
            text = text.lstrip("\r\n")  # blank lines between events end nothing
        if "\r" not in text:
            blocks = text.split("\n\n")
            named_data = "\ndata: "
            lone_cr = False
        elif "\r\n" in text:
            # CRLF framing (Google's): split as it is. A block or the unfinished rest holding
            # other line ends too takes the general path, which reads any mixture.
            blocks = text.split("\r\n\r\n")
            named_data = "\r\ndata: "
            lone_cr = True  # a CR left in a block once LF is ruled out ends a line too
        else:
            blocks = text.replace("\r", "\n").split("\n\n")  # CR-only line ends
            named_data = "\ndata: "
            lone_cr = False
        rest = blocks.pop()  # what follows the last blank line: an unfinished event
        if rest:
            if _has_blank_line(rest):  # another framing's blank line: it ends events too
                rest = rest.replace("\r\n", "\n").replace("\r", "\n")
                more = rest.split("\n\n")
                rest = more.pop()
                blocks.extend(more)
            if rest:
                self._text.append(rest)
        held = len(rest) + len(chunk) - cut  # the unfinished event and line, from here on
        if held > self._limit:
            raise LimitExceeded(self._limit)
        self._held = held
        events: list[ServerSentEvent] = []
        for block in blocks:
            # The common events, inline: one `data: ` line, or an `event: ` line and a `data: ` one.
            if block[:6] == "data: ":
                if "\n" not in block and not (lone_cr and "\r" in block):
                    events.append(_new_event(ServerSentEvent, ("message", block[6:], self._id)))
                    continue
            elif block[:7] == "event: ":
                name, named, data = block.partition(named_data)
                if named and "\n" not in data and "\n" not in name and not (lone_cr and "\r" in block):
                    events.append(_new_event(ServerSentEvent, (name[7:], data, self._id)))
                    continue
            if block:
                self._block(block.replace("\r\n", "\n").replace("\r", "\n") if "\r" in block else block, events)
        if events:
            self.seen_event = True
        return events

    def _hold(self, count: int) -> None:
        held = self._held + count
        if held > self._limit:
            raise LimitExceeded(self._limit)
        self._held = held

    def flush(self) -> list[ServerSentEvent]:
        """End of input: an unterminated last line and event still count."""
        text = "".join(self._text)
        if self._bytes:
            text += b"".join(self._bytes).decode(errors="replace")
        self._text = []
        self._bytes = []
        self._held = 0
        events: list[ServerSentEvent] = []
        block = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
        if block:
            self._block(block, events)
        if events:
            self.seen_event = True
        return events

    def _block(self, block: str, events: list[ServerSentEvent]) -> None:
        """One event's lines, field by field (blank lines inside end events too)."""
        event: str | None = None
        data: list[str] = []
        for line in block.split("\n"):
            if not line:
                if data or event is not None:
                    events.append(ServerSentEvent(event or "message", "\n".join(data), self._id))
                event = None
                data = []
                continue
            if line[0] == ":":  # a comment, used as a keep-alive
                continue
            name, colon, value = line.partition(":")
            if colon and value[:1] == " ":
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id":
                self._id = value
            elif name != "retry" and not self.seen_event and not events and len(self.stray) < _STRAY_LINES:
                # Ignored, as the spec says; kept so a JSON error body sent as an event stream
                # can still be reported.
                self.stray.append(line)
        if data or event is not None:
            events.append(ServerSentEvent(event or "message", "\n".join(data), self._id))
