"""However the network cuts a recorded stream, it decodes into the same response.

Every successful recorded stream is served through an httpx transport that delivers the body in
pieces cut at each boundary class: one byte at a time, inside every multi-byte UTF-8 character,
between the CR and LF of every line ending, and right after every line ending. Non-ASCII text
is sent as raw UTF-8, as the providers send it, so the cuts fall inside real characters.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from mirascope import llm

from tests.support.fixtures import find, load
from tests.support.replay import encode_response
from tests.support.scenarios import messages_for, model_id_for

SCENARIOS = (
    "test_call",
    "test_max_tokens",
    "test_openrouter_stream",
    "test_call_with_thinking",
    "test_call_with_tools",
)
CASES = [path for path in find(SCENARIOS, ("stream",)) if load(path)["exchanges"][0]["response"]["status"] == 200]


def _one_byte(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


def _cut_at(body: bytes, cuts: list[int]) -> list[bytes]:
    edges = [0, *sorted(set(cuts)), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(edges) if b > a]


def _mid_utf8(body: bytes) -> list[bytes]:
    # A continuation byte (10xxxxxx) starts no character: cutting before one splits a character.
    return _cut_at(body, [i for i, byte in enumerate(body) if byte & 0xC0 == 0x80])


def _mid_crlf(body: bytes) -> list[bytes]:
    return _cut_at(body, [i + 1 for i in range(len(body) - 1) if body[i : i + 2] == b"\r\n"])


def _after_line_ends(body: bytes) -> list[bytes]:
    return _cut_at(body, [i + 1 for i, byte in enumerate(body) if byte == 0x0A])


SPLITS: dict[str, Callable[[bytes], list[bytes]]] = {
    "one-byte": _one_byte,
    "mid-utf8": _mid_utf8,
    "mid-crlf": _mid_crlf,
    "line-ends": _after_line_ends,
}


def _served(path: str) -> tuple[dict[str, str], bytes]:
    _, headers, body = encode_response(load(path)["exchanges"][0]["response"], ascii=False)
    return headers, body


def _stream(path: str, pieces: list[bytes], tmp_path: Path) -> llm.CallResponse:
    fixture = load(path)
    headers, _ = _served(path)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=iter(pieces))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    model_id = model_id_for(fixture)
    client = llm.client(model_id.partition(":")[0], base_url="http://127.0.0.1:9", api_key="k", http_client=http)
    stream = llm.model(model_id, client=client).stream(messages_for(fixture, tmp_path))
    chunks = list(stream)
    response = stream.response
    assert "".join(chunk.content for chunk in chunks) == response.content
    http.close()
    return response


def _same(left: llm.CallResponse | llm.AsyncCallResponse, right: llm.CallResponse | llm.AsyncCallResponse) -> None:
    assert left.message == right.message
    assert left.finish_reason == right.finish_reason
    assert left.usage == right.usage
    assert left.id == right.id
    assert left.raw == right.raw


def test_the_recordings_hold_the_boundaries_worth_testing() -> None:
    bodies = [_served(path)[1] for path in CASES]
    assert len(CASES) >= 15
    assert any(len(_mid_utf8(body)) > 1 for body in bodies)
    assert any(len(_mid_crlf(body)) > 1 for body in bodies)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("path", CASES)
def test_a_stream_cut_anywhere_decodes_into_the_same_response(path: str, split: str, tmp_path: Path) -> None:
    _, body = _served(path)
    whole = _stream(path, [body], tmp_path)
    _same(_stream(path, SPLITS[split](body), tmp_path), whole)


@pytest.mark.parametrize("path", CASES)
def test_an_async_stream_read_one_byte_at_a_time_decodes_into_the_same_response(path: str, tmp_path: Path) -> None:
    fixture = load(path)
    headers, body = _served(path)
    whole = _stream(path, [body], tmp_path)

    async def pieces() -> AsyncIterator[bytes]:
        for piece in _one_byte(body):
            yield piece

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=pieces())

    async def run() -> llm.AsyncCallResponse:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        model_id = model_id_for(fixture)
        client = llm.client(
            model_id.partition(":")[0], base_url="http://127.0.0.1:9", api_key="k", async_http_client=http
        )
        stream = await llm.model(model_id, client=client).stream_async(messages_for(fixture, tmp_path))
        response = await stream.aresponse()
        await http.aclose()
        return response

    _same(asyncio.run(run()), whole)
