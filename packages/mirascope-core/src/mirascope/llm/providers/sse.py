"""An incremental Server-Sent Events parser, shared by every streaming provider.

Bytes go in as the network delivers them; complete events come out. Each read is split at its
last line end: the complete lines are decoded and split in one pass each (C loops, not Python
ones), and the unfinished rest is only kept, not scanned again, until its line ends; so no
byte is scanned more than a few times however the stream is cut, and a character split
between reads is decoded whole. Follows the WHATWG rules: lines end in CRLF, LF or CR (a CRLF
may be split across reads); `:` starts a comment (keep-alives); `data:` lines join with
newlines; a blank line ends an event; one space after the colon is dropped.
"""

from __future__ import annotations

__all__ = ["SSEDecoder", "ServerSentEvent"]

_STRAY_LINES = 200


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

    __slots__ = ("_data", "_event", "_id", "_pending", "_skip_lf", "seen_event", "stray")

    def __init__(self) -> None:
        self.seen_event = False
        """Whether any event was completed."""
        self.stray: list[str] = []
        """Lines that are no SSE field, read before the first event (a bare error body, say)."""
        self._pending: list[bytes] = []  # an unfinished line, in the pieces it arrived in
        self._skip_lf = False  # the last read ended in CR: a leading LF belongs to it
        self._event: str | None = None
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse `chunk`; return the events it completed, in order."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        # The last line end: a CR followed by LF in this read would put the LF last.
        cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
        if not cut:
            if chunk:
                self._pending.append(chunk)
            return []
        complete = chunk[:cut] if cut < len(chunk) else chunk
        if self._pending:
            self._pending.append(complete)
            complete = b"".join(self._pending)
            self._pending = []
        if cut < len(chunk):
            self._pending.append(chunk[cut:])
        elif chunk[-1:] == b"\r":
            self._skip_lf = True
        text = complete.decode()
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        lines.pop()  # the empty string after the last line end
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            # The common lines first, inline: `data: `, the blank line ending an event, `event: `.
            if line[:6] == "data: ":
                data.append(line[6:])
            elif not line:
                if data or self._event is not None:
                    self._emit(events)
                    data = self._data
            elif line[:7] == "event: ":
                self._event = line[7:]
            else:
                self._line(line, events)
                data = self._data
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of input: an unterminated last line and event still count."""
        events: list[ServerSentEvent] = []
        if self._pending:
            self._line(b"".join(self._pending).decode(errors="replace"), events)
            self._pending = []
        self._line("", events)
        return events

    def _emit(self, events: list[ServerSentEvent]) -> None:
        self.seen_event = True
        data = self._data
        events.append(
            ServerSentEvent(self._event or "message", data[0] if len(data) == 1 else "\n".join(data), self._id)
        )
        self._data = []
        self._event = None

    def _line(self, line: str, events: list[ServerSentEvent]) -> None:
        if not line:
            if self._data or self._event is not None:
                self._emit(events)
            return
        if line[0] == ":":  # a comment, used as a keep-alive
            return
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        elif name != "retry" and not self.seen_event and len(self.stray) < _STRAY_LINES:
            # Ignored, as the spec says; kept so a JSON error body sent as an event stream can
            # still be reported.
            self.stray.append(line)
