"""Bedrock's binary event stream (`application/vnd.amazon.eventstream`) → `ServerSentEvent`s.

ConverseStream replies are not Server-Sent Events but AWS event-stream messages, each one
self-delimiting and checksummed:

    total length   u32 (the whole message, these 4 bytes included)
    headers length u32
    prelude CRC32  u32 (of the 8 bytes above)
    headers        name length u8, name, value type u8, value (see `decode_headers`)
    payload        the event's JSON
    message CRC32  u32 (of every byte before it)

All integers are big-endian; the CRCs are the common CRC-32 (`zlib.crc32`). `EventStreamFraming`
hands the stream decoder the same `ServerSentEvent`s an SSE provider's gets: the `:event-type`
header as the event's name and the payload as its data (exceptions and errors are named
`exception:<type>` and `error:<code>`, see `EventStreamFraming`).

Bytes are parsed where they arrived: a read holding whole messages is read in place, and only
an unfinished message is kept, in a bytearray that later reads extend. Until enough bytes
arrived to finish it (its length is known from its prelude) a read is only appended, never
parsed again; the bytes read are dropped once per read, not once per message. Lengths are
read with `struct.unpack_from` where they lie, each CRC (`zlib`) and each payload's UTF-8
decoding runs once over its message, and the headers, which repeat from event to event, are
parsed once per distinct header block (one equal to the last is recognized in place). So the
Python work is per message, never per byte, and no byte is copied more than a few times
however the body is cut.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeAlias, cast

from mirascope import llm
from mirascope.llm.providers.sse import LimitExceeded, ServerSentEvent

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

__all__ = ["EventStreamFraming", "HeaderValue", "decode_headers", "encode_message"]

HeaderValue: TypeAlias = "bool | int | bytes | str | datetime | UUID"
"""What a header holds, by its wire type: 0/1 bool, 2-5 int, 6 bytes, 7 str, 8 datetime, 9 UUID."""

_PROVIDER = "bedrock"
_PRELUDE_BYTES = 12  # total length, headers length, prelude CRC
_OVERHEAD = 16  # the prelude and the closing message CRC
_MAX_STRAY_LINES = 200
_MAX_CACHED_HEADERS = 64  # distinct header blocks remembered (a stream has a handful)

_prelude = struct.Struct(">III").unpack_from
_u32 = struct.Struct(">I")
_u16 = struct.Struct(">H")
_FIXED_VALUES: dict[int, struct.Struct] = {
    2: struct.Struct(">b"),  # byte
    3: struct.Struct(">h"),  # short
    4: struct.Struct(">i"),  # integer
    5: struct.Struct(">q"),  # long
    8: struct.Struct(">q"),  # timestamp: milliseconds since the Unix epoch
}
_STRING = 7
_BYTES = 6
_UUID = 9
_TIMESTAMP = 8

# The bytes a text body may start with: printable ASCII, tab, CR, LF, and any byte of a UTF-8
# sequence. A real message of less than 16 MiB starts with a zero byte.
_TEXT_BYTES = bytes([9, 10, 13, *range(0x20, 0x7F), *range(0x80, 0x100)])

# Builds an event without the keyword handling of the named tuple's constructor (one per message).
_new_event = cast(
    "Callable[[type[ServerSentEvent], tuple[str, str, None]], ServerSentEvent]",
    tuple.__new__,  # pyright: ignore[reportUnknownMemberType]
)


class _HeadersError(ValueError):
    """A header block that does not parse (after its message's CRC checked out)."""


def decode_headers(block: bytes | bytearray | memoryview) -> dict[str, HeaderValue]:
    """A message's header block as `{name: value}` (see `HeaderValue` for the value types).

    Raises `ValueError` for a block that is cut short or names an unknown value type.
    """
    headers: dict[str, HeaderValue] = {}
    view = memoryview(block)
    end = len(view)
    pos = 0
    try:
        while pos < end:
            name_length = view[pos]
            name = str(view[pos + 1 : pos + 1 + name_length], "utf-8")
            pos += 1 + name_length
            kind = view[pos]
            pos += 1
            value: HeaderValue
            if kind in (_STRING, _BYTES):
                (length,) = _u16.unpack_from(view, pos)
                pos += 2
                if pos + length > end:
                    raise _HeadersError(f"header {name!r} is cut short")
                value = str(view[pos : pos + length], "utf-8") if kind == _STRING else bytes(view[pos : pos + length])
                pos += length
            elif kind in (0, 1):
                value = kind == 0
            elif kind in _FIXED_VALUES:
                fixed = _FIXED_VALUES[kind]
                (value,) = fixed.unpack_from(view, pos)
                pos += fixed.size
                if kind == _TIMESTAMP:
                    value = _timestamp(cast("int", value))
            elif kind == _UUID:
                if pos + 16 > end:
                    raise _HeadersError(f"header {name!r} is cut short")
                from uuid import UUID  # only for the rare header of this type

                value = UUID(bytes=bytes(view[pos : pos + 16]))
                pos += 16
            else:
                raise _HeadersError(f"header {name!r} has value type {kind}, which is none of 0 to 9")
            headers[name] = value
    except (IndexError, struct.error) as exc:
        raise _HeadersError("a header is cut short") from exc
    except UnicodeDecodeError as exc:
        raise _HeadersError("a header name or string value is not UTF-8") from exc
    finally:
        view.release()
    return headers


def _timestamp(milliseconds: int) -> datetime:
    from datetime import UTC, datetime, timedelta  # only for the rare header of this type

    # Added, not `fromtimestamp`: exact to the millisecond, and any 64-bit value within range.
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=milliseconds)


def _event_of(headers: Mapping[str, HeaderValue]) -> tuple[str | None, str | None]:
    """The event's name for a message with these headers (`None`: skip it), and its data if a header holds it."""
    kind = headers.get(":message-type", "event")
    if kind == "event":
        return str(headers.get(":event-type", "message")), None
    if kind == "exception":
        return "exception:" + str(headers.get(":exception-type", "")), None
    if kind == "error":
        message = headers.get(":error-message")
        return "error:" + str(headers.get(":error-code", "")), str(message) if message else None
    return None, None  # a message type added after this was written: not for the decoder


class EventStreamFraming:
    """Feed it the body's bytes as they arrive; it returns the events the bytes complete.

    Core's `StreamFraming` for Bedrock. Each `:message-type` becomes a `ServerSentEvent`:
    `event` → named by its `:event-type`, the payload as data; `exception` → named
    `exception:<:exception-type>`, the payload (the exception's JSON) as data; `error` →
    named `error:<:error-code>`, the `:error-message` header (or else the payload) as data.
    Messages of other types are skipped.

    A bad CRC, a length no message can have, or a body that ends inside a message raise
    `llm.ServerError`, saying what broke, how many bytes were unread and how many events had
    arrived. A message longer than `max_event_bytes` raises core's `LimitExceeded`, reported
    as `llm.ResponseTooLargeError`. A body that is text rather than messages (an error page
    from a proxy answering 200) is kept, up to `max_event_bytes`, and left in `stray` at
    `flush()`, for core to report as the failed reply it is.
    """

    __slots__ = (
        "_buffer",
        "_events",
        "_failure",
        "_headers",
        "_last",
        "_limit",
        "_need",
        "_offset",
        "_text",
        "seen_event",
        "stray",
    )

    def __init__(self, max_event_bytes: int) -> None:
        self._limit = max_event_bytes
        self.seen_event = False
        """Whether any message was complete."""
        self.stray: list[str] = []
        """The body's lines when it was text, not messages (filled by `flush`)."""
        self._buffer = bytearray()  # the start of an unfinished message
        # Bytes `_buffer` must hold before parsing can go on: a prelude, or once the prelude
        # is read, the whole message. Reads that leave it short are only appended.
        self._need = _PRELUDE_BYTES
        self._offset = 0  # where `_buffer` starts in the body, for errors
        self._events = 0  # messages read, for errors
        self._headers: dict[bytes, tuple[str | None, str | None]] = {}
        # The last header block read, and what it says: to start with, the empty block.
        self._last: tuple[bytes, tuple[str | None, str | None]] = (b"", _event_of({}))
        self._text: bytearray | None = None  # the body, once it turned out to be text
        self._failure: Exception | None = None  # found after events that were still handed out

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse `chunk`; return the events it completed, in order."""
        if self._failure is not None:
            raise self._failure
        if self._text is not None:
            self._keep_text(chunk)
            return []
        buffer = self._buffer
        if buffer:
            buffer += chunk
            if len(buffer) < self._need:
                return []
            data: bytes | bytearray = buffer
        elif len(chunk) < self._need:
            buffer += chunk
            return []
        else:
            data = chunk  # read in place: no copy of a read that ends on a message boundary
        events: list[ServerSentEvent] = []
        used = self._parse(data, events)
        if data is buffer:
            del buffer[:used]  # once per read, in C
        elif used < len(chunk):
            buffer += chunk[used:] if used else chunk
        self._offset += used
        if events:
            self.seen_event = True
        return events

    def _parse(self, data: bytes | bytearray, events: list[ServerSentEvent]) -> int:
        """Read the whole messages at the start of `data` into `events`; return how many bytes they took."""
        # Slices, not memoryviews: for messages of a few hundred bytes, copying is the cheaper.
        size = len(data)
        limit = self._limit
        cached = self._headers
        crc32 = zlib.crc32
        prelude = _prelude
        last_block, last_known = self._last
        unpack_u32 = _u32.unpack_from
        new_event = _new_event
        append = events.append
        pos = 0
        try:
            while size - pos >= _PRELUDE_BYTES:
                total, headers_length, prelude_crc = prelude(data, pos)
                if crc32(data[pos : pos + 8]) != prelude_crc:
                    if self._maybe_text(data, pos):
                        return size
                    raise self._corrupt(
                        f"its prelude fails its CRC ({prelude_crc:#010x} sent, "
                        f"{crc32(data[pos : pos + 8]):#010x} computed)",
                        pos,
                        size,
                    )
                if total < _OVERHEAD or headers_length > total - _OVERHEAD:
                    raise self._corrupt(
                        f"it declares {total} bytes with {headers_length} of headers, which no message "
                        f"can hold (a message takes {_OVERHEAD} bytes of prelude and CRC besides)",
                        pos,
                        size,
                    )
                if total > limit:
                    raise LimitExceeded(limit)
                end = pos + total
                if end > size:
                    self._need = total
                    return pos
                (message_crc,) = unpack_u32(data, end - 4)
                # The prelude's CRC carries on over the rest: the CRC of the whole message but its last 4 bytes.
                if crc32(data[pos + 8 : end - 4], prelude_crc) != message_crc:
                    raise self._corrupt(
                        f"its {total} bytes fail their message CRC ({message_crc:#010x} sent, "
                        f"{crc32(data[pos : end - 4]):#010x} computed)",
                        pos,
                        size,
                    )
                start = pos + _PRELUDE_BYTES
                headers_end = start + headers_length
                # Most messages repeat the last one's headers: compared in place, no copy, no hash.
                if len(last_block) == headers_length and data.startswith(last_block, start):
                    known = last_known
                else:
                    last_block = bytes(data[start:headers_end])  # the same object when `data` is bytes
                    known = cached.get(last_block)
                    if known is None:
                        known = self._read_headers(last_block, pos, size)
                    last_known = known
                    self._last = (last_block, known)
                name, data_header = known
                try:
                    payload = data[headers_end : end - 4].decode()
                except UnicodeDecodeError:
                    raise self._corrupt("its payload is not UTF-8", pos, size) from None
                pos = end
                self._events += 1
                if name is not None:
                    append(new_event(ServerSentEvent, (name, payload if data_header is None else data_header, None)))
        except (llm.ServerError, LimitExceeded) as failure:
            if not events:
                raise
            # The events before the failure go out first; the next `feed` or `flush` raises it.
            self._failure = failure
            return pos
        self._need = _PRELUDE_BYTES
        return pos

    def _read_headers(self, block: bytes, pos: int, size: int) -> tuple[str | None, str | None]:
        try:
            known = _event_of(decode_headers(block))
        except _HeadersError as exc:
            raise self._corrupt(f"its headers do not parse: {exc}", pos, size) from None
        cached = self._headers
        if len(cached) >= _MAX_CACHED_HEADERS:
            cached.clear()
        cached[block] = known
        return known

    def _maybe_text(self, data: bytes | bytearray, pos: int) -> bool:
        """Whether the body is text, not messages: then it is kept for `stray`, and no error raised."""
        if self._events or self._offset or pos or not _looks_like_text(data[:_PRELUDE_BYTES]):
            return False
        self._text = bytearray()
        self._keep_text(data)
        self._buffer = bytearray()
        return True

    def _keep_text(self, chunk: bytes | bytearray) -> None:
        text = self._text
        assert text is not None
        room = self._limit - len(text)
        if room > 0:
            text += chunk[:room]  # the start says what the body is; past the limit it is dropped

    def flush(self) -> list[ServerSentEvent]:
        """End of the body: no message may be left unfinished."""
        if self._failure is not None:
            raise self._failure
        text = self._text
        buffer = self._buffer
        if text is None and buffer and not self._events and _looks_like_text(buffer[:_PRELUDE_BYTES]):
            text = buffer  # a body too short for a prelude, and text
        if text is not None:
            lines = bytes(text).decode(errors="replace").splitlines()
            self.stray = [line for line in lines if line.strip()][:_MAX_STRAY_LINES]
            self._text = None
            self._buffer = bytearray()
            return []
        if buffer:
            size = len(buffer)
            if size < _PRELUDE_BYTES:
                what = f"the body ended after {size} bytes of it, short of its {_PRELUDE_BYTES}-byte prelude"
            else:
                (total,) = _u32.unpack_from(buffer)
                what = f"the body ended after {size} of its {total} bytes"
            self._buffer = bytearray()
            self._need = _PRELUDE_BYTES
            raise self._corrupt(what, 0, size)
        return []

    def _corrupt(self, what: str, pos: int, size: int) -> llm.ServerError:
        """The error for the message at `pos` of the `size` bytes being parsed."""
        events = self._events
        return llm.ServerError(
            f"the event stream is corrupt at message {events + 1} (byte {self._offset + pos} of the body): "
            f"{what}; {size - pos} bytes of the body were left unread, after {events} complete "
            f"message{'' if events == 1 else 's'}",
            provider=_PROVIDER,
            hint="The stream was damaged on its way (a proxy that rewrites bodies, say). Retry the call; "
            "what arrived before the damage is in error.partial_response.",
        )


def _looks_like_text(head: bytes | bytearray) -> bool:
    return not bytes(head).translate(None, _TEXT_BYTES)


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with these string headers (value type 7) and payload.

    For tests, replays and benchmarks: what Bedrock sends, from the events a recording keeps.
    """
    parts: list[bytes] = []
    for name, value in headers.items():
        name_bytes = name.encode()
        value_bytes = value.encode()
        if not name_bytes or len(name_bytes) > 0xFF:
            raise ValueError(f"a header name takes 1 to 255 bytes, not {len(name_bytes)}: {name!r}")
        if len(value_bytes) > 0xFFFF:
            raise ValueError(f"header {name!r}'s value takes {len(value_bytes)} bytes, more than 65535")
        parts += (bytes((len(name_bytes),)), name_bytes, bytes((_STRING,)), _u16.pack(len(value_bytes)), value_bytes)
    header_block = b"".join(parts)
    total = _OVERHEAD + len(header_block) + len(payload)
    prelude = struct.pack(">II", total, len(header_block))
    prelude_crc = zlib.crc32(prelude)
    head = prelude + _u32.pack(prelude_crc) + header_block
    return head + payload + _u32.pack(zlib.crc32(payload, zlib.crc32(head)))
