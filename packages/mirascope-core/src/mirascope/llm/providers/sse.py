"""An incremental Server-Sent Events parser, shared by every streaming provider.

Bytes go in as the network delivers them; complete events come out. Only the unfinished tail
of the input is kept between calls, so no byte is scanned more than twice however the stream
is cut. Follows the WHATWG rules: lines end in CRLF, LF or CR (a CRLF may be split across
reads); `:` starts a comment (keep-alives); `data:` lines join with newlines; a blank line ends an
event; one space after the colon is dropped.
"""

from __future__ import annotations

__all__ = ["SSEDecoder", "ServerSentEvent"]


class ServerSentEvent:
    """One event: its name (`"message"` when unnamed) and its data lines joined."""

    __slots__ = ("data", "event", "id")

    def __init__(self, event: str, data: str, id: str | None = None) -> None:
        self.event = event
        """The `event:` field, or `"message"`."""
        self.data = data
        """The `data:` lines, joined with newlines."""
        self.id = id
        """The `id:` field, when sent."""

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r})"


class SSEDecoder:
    """Feed it bytes; it returns the events they complete."""

    __slots__ = ("_data", "_event", "_id", "_skip_lf", "_tail")

    def __init__(self) -> None:
        self._tail: bytes = b""
        self._skip_lf = False  # the last read ended in CR: a leading LF belongs to it
        self._event: str | None = None
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse `chunk`; return the events it completed, in order."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if self._tail:
            chunk = self._tail + chunk
        lines: list[bytes] = chunk.splitlines(keepends=True)
        events: list[ServerSentEvent] = []
        if not lines:
            self._tail = b""
            return events
        last = lines[-1]
        if last[-1:] == b"\n":
            self._tail = b""
        elif last[-1:] == b"\r":
            self._tail = b""
            self._skip_lf = True
        else:
            self._tail = last
            lines.pop()
        for line in lines:
            self._line(line.rstrip(b"\r\n"), events)
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of input: an unterminated last line and event still count."""
        events: list[ServerSentEvent] = []
        if self._tail:
            self._line(self._tail, events)
            self._tail = b""
        self._line(b"", events)
        return events

    def _line(self, line: bytes, events: list[ServerSentEvent]) -> None:
        if not line:
            if self._data or self._event is not None:
                events.append(ServerSentEvent(self._event or "message", "\n".join(self._data), self._id))
                self._data = []
                self._event = None
            return
        if line[0] == 58:  # b":" a comment, used as a keep-alive
            return
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value.decode())
        elif name == b"event":
            self._event = value.decode()
        elif name == b"id":
            self._id = value.decode()
        # `retry` and unknown fields are ignored, as the spec says.
