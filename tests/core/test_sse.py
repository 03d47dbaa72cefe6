"""The SSE parser: every framing the spec allows, however the bytes are cut."""

from __future__ import annotations

import pytest
from mirascope.llm.providers.sse import ServerSentEvent, SSEDecoder

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


def test_the_fast_chunk_builders_make_the_same_chunks_as_the_constructor() -> None:
    from mirascope import llm
    from mirascope.llm.providers import text_chunk, thinking_chunk

    raw = {"delta": "x"}
    assert text_chunk("x", raw) == llm.Chunk(content="x", raw=raw)
    assert thinking_chunk("y", raw) == llm.Chunk(thinking="y", raw=raw)
    assert type(text_chunk("x", raw)) is llm.Chunk
