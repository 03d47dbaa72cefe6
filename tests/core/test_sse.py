"""The SSE parser: every framing the spec allows, however the bytes are cut."""

from __future__ import annotations

import random

import pytest
from mirascope.llm.providers.sse import LimitExceeded, ServerSentEvent, SSEDecoder

STREAM = (
    b": keep-alive comment\r\n"
    b"event: message_start\r\n"
    b'data: {"a": "caf\xc3\xa9 \xe2\x80\xa8"}\r\n'
    b"\r\n"
    b"data: line one\n"
    b"data: line two\n"
    b"\n"
    b"id: 7\r"
    b"data:no-space\r"
    b"\r"
    b":\n"
    b"\n"
    b"event: ping\n"
    b"\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    ("message_start", '{"a": "caf\u00e9 \u2028"}', None),
    ("message", "line one\nline two", None),
    ("message", "no-space", "7"),
    ("ping", "", "7"),
    ("message", "[DONE]", "7"),
]


def _shape(events: list[ServerSentEvent]) -> list[tuple[str, str, str | None]]:
    return [(e.event, e.data, e.id) for e in events]


def _decode_in_pieces(data: bytes, cuts: list[int]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    start = 0
    for cut in [*cuts, len(data)]:
        events += decoder.feed(data[start:cut])
        start = cut
    return events + decoder.flush()


def test_a_whole_stream_decodes_to_its_events() -> None:
    assert _shape(_decode_in_pieces(STREAM, [])) == EXPECTED


def test_one_byte_at_a_time_decodes_the_same_events() -> None:
    assert _shape(_decode_in_pieces(STREAM, list(range(1, len(STREAM))))) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_every_two_piece_cut_decodes_the_same_events(cut: int) -> None:
    # Covers a cut inside each CRLF, inside each multi-byte UTF-8 character and inside field names.
    assert _shape(_decode_in_pieces(STREAM, [cut])) == EXPECTED


def test_an_unterminated_last_event_is_kept_at_the_end() -> None:
    assert _shape(_decode_in_pieces(b"data: tail", [4])) == [("message", "tail", None)]


def test_empty_reads_do_not_end_a_pending_crlf() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"data: x\r")
    events += decoder.feed(b"")
    events += decoder.feed(b"\n")
    assert events == []
    assert _shape(decoder.feed(b"\n")) == [("message", "x", None)]


CRLF_STREAM = (
    b'data: {"candidates": [{"content": {"parts": [{"text": "caf\xc3\xa9"}]}}]}\r\n\r\n'
    b"event: named\r\ndata: two\r\ndata: lines\r\n\r\n"
    b"\r\n"
    b": keep-alive\r\n\r\n"
    b"data: last\r\n\r\n"
)
CRLF_EXPECTED = [
    ("message", '{"candidates": [{"content": {"parts": [{"text": "caf\u00e9"}]}}]}', None),
    ("named", "two\nlines", None),
    ("message", "last", None),
]


@pytest.mark.parametrize("cut", range(1, len(CRLF_STREAM)))
def test_a_crlf_stream_cut_anywhere_decodes_the_same_events(cut: int) -> None:
    assert _shape(_decode_in_pieces(CRLF_STREAM, [cut])) == CRLF_EXPECTED


def test_line_endings_may_change_within_a_stream() -> None:
    mixed = b"data: a\r\n\r\ndata: b\n\ndata: c\r\rdata: d\r\n\ndata: e\n\r\n"
    expected = [("message", text, None) for text in "abcde"]
    assert _shape(_decode_in_pieces(mixed, [])) == expected
    for cut in range(1, len(mixed)):
        assert _shape(_decode_in_pieces(mixed, [cut])) == expected, cut


def test_random_many_piece_cuts_decode_the_same_events() -> None:
    rng = random.Random(7)
    for stream, expected in ((STREAM, EXPECTED), (CRLF_STREAM, CRLF_EXPECTED)):
        for _ in range(300):
            cuts = sorted(rng.sample(range(1, len(stream)), rng.randint(2, 12)))
            assert _shape(_decode_in_pieces(stream, cuts)) == expected, cuts


def test_new_chunk_builds_the_chunk_the_constructor_builds_from_the_fields_in_order() -> None:
    from mirascope import llm
    from mirascope.llm.providers import new_chunk

    raw = {"delta": "x"}
    usage = llm.Usage(input_tokens=1, output_tokens=2)
    delta = llm.ToolCallDelta(index=0, args="{")
    built = new_chunk(llm.Chunk, ("x", "y", delta, usage, "stop", raw))
    assert built == llm.Chunk(
        content="x", thinking="y", tool_call_delta=delta, usage=usage, finish_reason="stop", raw=raw
    )
    assert type(built) is llm.Chunk
    assert llm.Chunk._fields == ("content", "thinking", "tool_call_delta", "usage", "finish_reason", "raw")


# --- Size limits --------------------------------------------------------------------------------


def test_an_event_up_to_the_limit_decodes_however_it_is_cut() -> None:
    event = b"data: " + b"x" * 92 + b"\n\n"  # 100 bytes with its line ends
    for cuts in ([], [50], list(range(1, len(event)))):
        decoder = SSEDecoder(max_event_bytes=100)
        events: list[ServerSentEvent] = []
        start = 0
        for cut in [*cuts, len(event)]:
            events += decoder.feed(event[start:cut])
            start = cut
        assert _shape(events) == [("message", "x" * 92, None)]


def test_many_events_past_the_limit_in_all_are_fine() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    events = [event for _ in range(1000) for event in decoder.feed(b"data: " + b"y" * 80 + b"\n\n")]
    assert len(events) == 1000


@pytest.mark.parametrize(
    "piece",
    [
        b"x" * 30,  # a line that never ends
        b"data: x\n" * 4,  # lines that never end an event
        b": ping\n" * 4,  # comments with no blank line between them hold on too
    ],
)
def test_an_event_or_line_growing_past_the_limit_stops_the_decoder(piece: bytes) -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    fed = 0
    with pytest.raises(LimitExceeded) as raised:  # noqa: PT012 (the read that passes the limit raises)
        while fed < 1000:
            decoder.feed(piece)
            fed += len(piece)
    assert raised.value.max_event_bytes == 100
    assert fed <= 100


def test_one_read_holding_a_too_long_unfinished_event_stops_the_decoder() -> None:
    with pytest.raises(LimitExceeded):
        SSEDecoder(max_event_bytes=100).feed(b"data: done\n\ndata: " + b"x" * 200 + b"\n")
