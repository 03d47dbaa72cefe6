"""Bedrock's binary event stream: the recorded streams encoded as Bedrock sends them and decoded
back however the bytes are cut, every header type, and every way a stream can be damaged.

The messages are built two ways: with the package's `encode_message`, and with `_reference_message`
below, written from the format's description with `struct` and `zlib` alone, so that a mistake in
one does not hide the same mistake in the decoder.
"""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mirascope import llm
from mirascope.llm.providers.sse import LimitExceeded, ServerSentEvent
from mirascope.providers.bedrock.eventstream import EventStreamFraming, decode_headers, encode_message

from tests.support.fixtures import fixtures_dir

LIMIT = 1 << 20

EVENT_HEADERS = {":event-type": "contentBlockDelta", ":content-type": "application/json", ":message-type": "event"}


def _stream_recordings() -> list[Path]:
    return sorted((fixtures_dir() / "bedrock").glob("*/*/stream.json"))


def _recorded_entries(path: Path) -> list[dict[str, Any]]:
    """The event-stream messages of every streamed reply the recording holds, in order."""
    recording = json.loads(path.read_text())
    entries: list[dict[str, Any]] = []
    for exchange in recording["exchanges"]:
        entries.extend(exchange["response"].get("aws_eventstream") or [])
    return entries


def _payload(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry["data"], separators=(",", ":"), ensure_ascii=False).encode()


def _reference_header(name: bytes, kind: int, value: bytes) -> bytes:
    """One header as the format lays it out: name length, name, value type, value."""
    return struct.pack(">B", len(name)) + name + struct.pack(">B", kind) + value


def _reference_message(header_block: bytes, payload: bytes) -> bytes:
    """A whole message: prelude (total length, headers length, its CRC), headers, payload, message CRC."""
    total = 4 + 4 + 4 + len(header_block) + len(payload) + 4
    prelude = struct.pack(">II", total, len(header_block))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + header_block + payload
    return head + struct.pack(">I", zlib.crc32(head))


def _reference_string_headers(headers: dict[str, str]) -> bytes:
    return b"".join(
        _reference_header(name.encode(), 7, struct.pack(">H", len(value.encode())) + value.encode())
        for name, value in headers.items()
    )


def _body(entries: list[dict[str, Any]]) -> bytes:
    return b"".join(encode_message(entry["headers"], _payload(entry)) for entry in entries)


def _decode_whole(body: bytes, limit: int = LIMIT) -> list[ServerSentEvent]:
    framing = EventStreamFraming(limit)
    return framing.feed(body) + framing.flush()


def _decode_pieces(pieces: list[bytes], limit: int = LIMIT) -> list[ServerSentEvent]:
    framing = EventStreamFraming(limit)
    events: list[ServerSentEvent] = []
    for piece in pieces:
        events.extend(framing.feed(piece))
    return events + framing.flush()


def _expected(entries: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(entry["headers"][":event-type"], entry["data"]) for entry in entries]


def _read(events: list[ServerSentEvent]) -> list[tuple[str, Any]]:
    return [(event.event, json.loads(event.data)) for event in events]


def _corrupted(body: bytes, offset: int) -> bytes:
    return body[:offset] + bytes([body[offset] ^ 0x01]) + body[offset + 1 :]


RECORDINGS = _stream_recordings()


def test_the_recorded_streams_are_there() -> None:
    assert len(RECORDINGS) >= 3
    assert all(_recorded_entries(path) for path in RECORDINGS)


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.parent.parent.name)
def test_recorded_messages_encode_as_the_reference_encoder_does(path: Path) -> None:
    for entry in _recorded_entries(path):
        payload = _payload(entry)
        reference = _reference_message(_reference_string_headers(entry["headers"]), payload)
        assert encode_message(entry["headers"], payload) == reference


def test_encoder_matches_the_formats_published_examples() -> None:
    # Two example messages published with an implementation of the format (hex.pm `event_stream`):
    # `{"foo": "bar"}` with no headers, then with a `content-type: application/json` header.
    bare = encode_message({}, b'{"foo": "bar"}')
    assert bare[:12] == bytes([0, 0, 0, 30, 0, 0, 0, 0, 186, 242, 246, 138])
    assert bare[-4:] == bytes([174, 114, 88, 228])
    typed = encode_message({"content-type": "application/json"}, b'{"foo": "bar"}')
    assert len(typed) == 62
    assert typed[:12] == bytes([0, 0, 0, 62, 0, 0, 0, 32, 64, 93, 249, 70])
    assert typed[-4:] == bytes([111, 162, 191, 59])


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.parent.parent.name)
def test_recorded_stream_decodes_to_its_events(path: Path) -> None:
    entries = _recorded_entries(path)
    framing = EventStreamFraming(LIMIT)
    events = framing.feed(_body(entries))
    assert framing.flush() == []
    assert _read(events) == _expected(entries)
    assert framing.seen_event
    assert framing.stray == []
    # The data is the payload exactly as sent, not a re-serialization of it.
    assert [event.data.encode() for event in events] == [_payload(entry) for entry in entries]


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.parent.parent.name)
def test_recorded_stream_cut_at_every_byte_in_two(path: Path) -> None:
    body = _body(_recorded_entries(path))
    whole = _decode_whole(body)
    for cut in range(len(body) + 1):
        assert _decode_pieces([body[:cut], body[cut:]]) == whole, f"cut at byte {cut}"


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.parent.parent.name)
def test_recorded_stream_fed_one_byte_at_a_time(path: Path) -> None:
    entries = _recorded_entries(path)
    body = _body(entries)
    framing = EventStreamFraming(LIMIT)
    events: list[ServerSentEvent] = []
    ends: list[int] = []  # where in the body each event came out
    for offset in range(len(body)):
        completed = framing.feed(body[offset : offset + 1])
        events.extend(completed)
        ends.extend([offset + 1] * len(completed))
    assert framing.flush() == []
    assert _read(events) == _expected(entries)
    # Each event comes out with the last byte of its message, not later.
    message_ends: list[int] = []
    end = 0
    for entry in entries:
        end += len(encode_message(entry["headers"], _payload(entry)))
        message_ends.append(end)
    assert ends == message_ends


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_recorded_streams_cut_anywhere(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(RECORDINGS), label="recording")
    body = _body(_recorded_entries(path))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=40), label="cuts"))
    pieces = [body[start:end] for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert _decode_pieces(pieces) == _decode_whole(body)


def test_zero_length_payload() -> None:
    body = encode_message({":event-type": "ping", ":message-type": "event"}, b"")
    assert len(body) == 16 + len(_reference_string_headers({":event-type": "ping", ":message-type": "event"}))
    assert _decode_whole(body) == [ServerSentEvent("ping", "")]


def test_message_with_no_headers_and_no_payload() -> None:
    body = _reference_message(b"", b"")
    assert len(body) == 16
    assert _decode_whole(body) == [ServerSentEvent("message", "")]


def test_multibyte_characters_split_across_feeds() -> None:
    text = "é€😀 naïve ☃"
    payload = json.dumps({"delta": {"text": text}}, ensure_ascii=False).encode()
    body = encode_message(EVENT_HEADERS, payload)
    start = body.index(payload)
    for inside in range(1, len(payload)):  # every split of the payload, mid-character ones included
        events = _decode_pieces([body[: start + inside], body[start + inside :]])
        assert [json.loads(event.data)["delta"]["text"] for event in events] == [text]


def _every_header_type() -> tuple[bytes, dict[str, object]]:
    when = datetime(2025, 9, 29, 12, 30, 15, 123000, tzinfo=UTC)
    milliseconds = 1759149015123
    ident = UUID("12345678-9abc-def0-1234-56789abcdef0")
    block = b"".join(
        [
            _reference_header(b"true", 0, b""),
            _reference_header(b"false", 1, b""),
            _reference_header(b"byte", 2, struct.pack(">b", -7)),
            _reference_header(b"short", 3, struct.pack(">h", -30000)),
            _reference_header(b"integer", 4, struct.pack(">i", -2_000_000_000)),
            _reference_header(b"long", 5, struct.pack(">q", -9_000_000_000_000_000_000)),
            _reference_header(b"bytes", 6, struct.pack(">H", 3) + b"\x00\xff\x10"),
            _reference_header(b"string", 7, struct.pack(">H", 5) + "héé".encode()),
            _reference_header(b"timestamp", 8, struct.pack(">q", milliseconds)),
            _reference_header(b"uuid", 9, ident.bytes),
        ]
    )
    expected: dict[str, object] = {
        "true": True,
        "false": False,
        "byte": -7,
        "short": -30000,
        "integer": -2_000_000_000,
        "long": -9_000_000_000_000_000_000,
        "bytes": b"\x00\xff\x10",
        "string": "héé",
        "timestamp": when,
        "uuid": ident,
    }
    return block, expected


def test_every_header_type_decodes() -> None:
    block, expected = _every_header_type()
    decoded = decode_headers(block)
    assert decoded == expected
    assert [type(value) for value in decoded.values()] == [type(value) for value in expected.values()]


def test_messages_with_every_header_type_decode_in_a_stream() -> None:
    block, _ = _every_header_type()
    event_headers = _reference_string_headers({":message-type": "event", ":event-type": "messageStop"})
    body = _reference_message(block + event_headers, b'{"stopReason":"end_turn"}') * 3
    expected = [ServerSentEvent("messageStop", '{"stopReason":"end_turn"}')] * 3
    for cut in range(len(body) + 1):
        assert _decode_pieces([body[:cut], body[cut:]]) == expected


def test_timestamp_header_is_exact_to_the_millisecond_far_from_the_epoch() -> None:
    block = _reference_header(b"t", 8, struct.pack(">q", -1))
    assert decode_headers(block) == {"t": datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)}


@pytest.mark.parametrize(
    ("block", "what"),
    [
        (_reference_header(b"x", 10, b""), "value type 10"),
        (_reference_header(b"x", 7, struct.pack(">H", 9) + b"short"), "cut short"),
        (_reference_header(b"x", 4, b"\x00\x01"), "cut short"),
        (_reference_header(b"x", 9, b"\x00" * 15), "cut short"),
        (b"\x05ab", "cut short"),
        (_reference_header(b"x", 7, struct.pack(">H", 2) + b"\xff\xfe"), "not UTF-8"),
    ],
)
def test_malformed_headers_are_a_typed_error(block: bytes, what: str) -> None:
    with pytest.raises(ValueError, match=what):
        decode_headers(block)
    good = encode_message(EVENT_HEADERS, b"{}")
    framing = EventStreamFraming(LIMIT)
    assert framing.feed(good) == [ServerSentEvent("contentBlockDelta", "{}")]
    with pytest.raises(llm.ServerError, match=f"headers do not parse.*{what}") as caught:
        framing.feed(_reference_message(block, b"{}"))
    assert caught.value.provider == "bedrock"
    assert "after 1 complete message" in caught.value.message


def test_exception_message() -> None:
    payload = b'{"message":"Too many requests, please wait before trying again."}'
    headers = {
        ":exception-type": "throttlingException",
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    body = encode_message(EVENT_HEADERS, b'{"contentBlockIndex":0}') + encode_message(headers, payload)
    assert _decode_pieces([body[:30], body[30:]]) == [
        ServerSentEvent("contentBlockDelta", '{"contentBlockIndex":0}'),
        ServerSentEvent("exception:throttlingException", payload.decode()),
    ]


def test_error_message_takes_its_message_header() -> None:
    headers = {
        ":message-type": "error",
        ":error-code": "InternalFailure",
        ":error-message": "An internal error occurred.",
    }
    assert _decode_whole(encode_message(headers, b"")) == [
        ServerSentEvent("error:InternalFailure", "An internal error occurred.")
    ]


def test_error_message_without_a_message_header_takes_its_payload() -> None:
    headers = {":message-type": "error", ":error-code": "InternalFailure"}
    assert _decode_whole(encode_message(headers, b"something broke")) == [
        ServerSentEvent("error:InternalFailure", "something broke")
    ]


def test_messages_of_unknown_types_are_skipped() -> None:
    body = encode_message({":message-type": "initial-response"}, b"{}") + encode_message(EVENT_HEADERS, b"{}")
    framing = EventStreamFraming(LIMIT)
    assert framing.feed(body) == [ServerSentEvent("contentBlockDelta", "{}")]
    assert framing.flush() == []


def test_many_distinct_header_blocks() -> None:
    # More distinct header blocks than the framing remembers parsed: each still reads right.
    names = [f"event{index}" for index in range(300)]
    body = b"".join(encode_message({":message-type": "event", ":event-type": name}, b"{}") for name in names)
    assert [event.event for event in _decode_whole(body)] == names


def _two_message_body() -> tuple[bytes, int]:
    first = encode_message(EVENT_HEADERS, b'{"contentBlockIndex":0,"delta":{"text":"Hel"}}')
    second = encode_message(EVENT_HEADERS, b'{"contentBlockIndex":0,"delta":{"text":"lo"}}')
    return first + second, len(first)


@pytest.mark.parametrize("crc_byte", range(8, 12))
def test_bad_prelude_crc(crc_byte: int) -> None:
    body, second = _two_message_body()
    damaged = _corrupted(body, second + crc_byte)
    framing = EventStreamFraming(LIMIT)
    assert len(framing.feed(damaged[: second + 5])) == 1
    with pytest.raises(llm.ServerError) as caught:
        framing.feed(damaged[second + 5 :])
    error = caught.value
    assert error.provider == "bedrock"
    assert "prelude fails its CRC" in error.message
    assert f"at message 2 (byte {second} of the body)" in error.message
    assert f"{len(body) - second} bytes of the body were left unread, after 1 complete message" in error.message


def test_bad_prelude_crc_of_the_first_message() -> None:
    body, _ = _two_message_body()
    framing = EventStreamFraming(LIMIT)
    with pytest.raises(llm.ServerError, match=r"prelude fails its CRC.*after 0 complete messages"):
        framing.feed(_corrupted(body, 10))


def test_a_damaged_length_is_caught_by_the_prelude_crc() -> None:
    # A length bit flipped: the prelude CRC says so, before the length is believed.
    body, _ = _two_message_body()
    with pytest.raises(llm.ServerError, match="prelude fails its CRC"):
        EventStreamFraming(LIMIT).feed(_corrupted(body, 2))


@pytest.mark.parametrize("where", ["header", "payload", "crc"])
def test_bad_message_crc(where: str) -> None:
    body, second = _two_message_body()
    offset = {"header": second + 14, "payload": len(body) - 8, "crc": len(body) - 1}[where]
    damaged = _corrupted(body, offset)
    framing = EventStreamFraming(LIMIT)
    events: list[ServerSentEvent] = []
    for index in range(len(body) - 1):  # a byte at a time: the first message still comes out
        events += framing.feed(damaged[index : index + 1])
    assert len(events) == 1
    with pytest.raises(llm.ServerError) as caught:
        framing.feed(damaged[-1:])
    assert "message CRC" in caught.value.message
    assert "at message 2" in caught.value.message
    assert framing.seen_event
    assert "after 1 complete message" in caught.value.message


def test_events_before_a_corrupt_message_in_the_same_read_come_out_first() -> None:
    body, _ = _two_message_body()
    damaged = _corrupted(body, len(body) - 1)
    framing = EventStreamFraming(LIMIT)
    events = framing.feed(damaged)
    assert _read(events) == [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hel"}})]
    with pytest.raises(llm.ServerError, match=r"message CRC.*1 complete message"):
        framing.flush()
    with pytest.raises(llm.ServerError, match="message CRC"):
        framing.feed(b"more")


@pytest.mark.parametrize(
    ("total", "headers_length"),
    [(0, 0), (15, 0), (16, 1), (40, 25), (40, 0xFFFFFFFF)],
)
def test_impossible_lengths(total: int, headers_length: int) -> None:
    prelude = struct.pack(">II", total, headers_length)
    body = prelude + struct.pack(">I", zlib.crc32(prelude)) + b"\x00" * 40
    framing = EventStreamFraming(LIMIT)
    with pytest.raises(llm.ServerError, match=f"declares {total} bytes with {headers_length} of headers"):
        framing.feed(body)


def test_limits_are_inclusive_of_the_whole_message() -> None:
    message = encode_message(EVENT_HEADERS, b"x" * 100)
    assert _decode_whole(message, limit=len(message)) == [ServerSentEvent("contentBlockDelta", "x" * 100)]


def test_message_longer_than_max_event_bytes_fails_as_soon_as_its_prelude_arrives() -> None:
    message = encode_message(EVENT_HEADERS, b"x" * 100)
    framing = EventStreamFraming(len(message) - 1)
    assert framing.feed(message[:11]) == []
    with pytest.raises(LimitExceeded) as caught:
        framing.feed(message[11:12])
    assert caught.value.max_event_bytes == len(message) - 1


def test_limit_after_good_events_lets_them_out_first() -> None:
    small = encode_message(EVENT_HEADERS, b"{}")
    large = encode_message(EVENT_HEADERS, b"x" * 1000)
    framing = EventStreamFraming(500)
    assert framing.feed(small + large) == [ServerSentEvent("contentBlockDelta", "{}")]
    with pytest.raises(LimitExceeded):
        framing.flush()


@pytest.mark.parametrize("kept", [1, 11, 12, 40])
def test_truncated_at_flush(kept: int) -> None:
    body, second = _two_message_body()
    framing = EventStreamFraming(LIMIT)
    assert len(framing.feed(body[: second + kept])) == 1
    with pytest.raises(llm.ServerError) as caught:
        framing.flush()
    message = caught.value.message
    if kept < 12:
        assert f"ended after {kept} bytes of it, short of its 12-byte prelude" in message
    else:
        assert f"ended after {kept} of its {len(body) - second} bytes" in message
    assert f"at message 2 (byte {second} of the body)" in message
    assert f"{kept} bytes of the body were left unread, after 1 complete message" in message


def test_a_cut_off_stream_before_any_message_is_an_error() -> None:
    body, _ = _two_message_body()
    framing = EventStreamFraming(LIMIT)
    assert framing.feed(body[:5]) == []
    with pytest.raises(llm.ServerError, match=r"short of its 12-byte prelude.*after 0 complete messages"):
        framing.flush()


def test_an_empty_body_is_no_error() -> None:
    framing = EventStreamFraming(LIMIT)
    assert framing.feed(b"") == []
    assert framing.flush() == []
    assert not framing.seen_event
    assert framing.stray == []


@pytest.mark.parametrize(
    "text",
    [
        '{"message":"The security token included in the request is invalid."}',
        "<html><body><h1>502 Bad Gateway</h1></body></html>\n",
        "Not Found",
    ],
)
def test_a_text_body_is_left_in_stray(text: str) -> None:
    # A proxy answering 200 with a page: no messages, and core reports the body as a failed reply.
    body = text.encode()
    assert _decode_pieces([body[:3], body[3:]]) == []
    framing = EventStreamFraming(LIMIT)
    for piece in (body[:3], body[3:]):
        assert framing.feed(piece) == []
    assert framing.flush() == []
    assert not framing.seen_event
    assert framing.stray == [line for line in text.splitlines() if line.strip()]


def test_a_text_body_is_kept_only_up_to_max_event_bytes() -> None:
    framing = EventStreamFraming(64)
    for _ in range(100):
        assert framing.feed(b"<p>" + b"x" * 60 + b"</p>\n") == []
    framing.flush()
    assert sum(len(line) for line in framing.stray) <= 64


def test_encode_message_refuses_headers_it_cannot_lay_out() -> None:
    with pytest.raises(ValueError, match="1 to 255 bytes"):
        encode_message({"n" * 256: "v"}, b"")
    with pytest.raises(ValueError, match="1 to 255 bytes"):
        encode_message({"": "v"}, b"")
    with pytest.raises(ValueError, match="more than 65535"):
        encode_message({"n": "v" * 65536}, b"")


def test_header_blocks_of_the_same_length_are_told_apart() -> None:
    # Consecutive messages whose header blocks are the same size but differ, then none at all.
    names = ["aaaa", "bbbb", "bbbb", "aaab", "aaaa"]
    body = b"".join(encode_message({":message-type": "event", ":event-type": name}, b"{}") for name in names)
    body += _reference_message(b"", b"{}")
    assert [event.event for event in _decode_whole(body)] == [*names, "message"]
