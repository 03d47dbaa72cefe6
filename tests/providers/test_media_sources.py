"""Every media kind from every source on every provider: sent the way the API takes it, or refused first.

Sources: inline bytes, an https URL, a `gs://` URI, an `s3://` URI and a `data:` URL. What the
APIs take follows the recordings of the same scenarios (`test_call_with_image_url`,
`test_call_with_document_url`, `test_call_with_audio`, ...) and the providers' documentation;
anything else is refused before a request leaves, with a message saying what to pass instead.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from mirascope import llm

from tests.providers.google.support import text_reply as gemini_reply
from tests.support.replay import ReplayServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.4\n" + b"\x00" * 16
MP3 = b"ID3\x04" + b"\x00" * 16
PNG_B64 = base64.b64encode(PNG).decode()
PDF_B64 = base64.b64encode(PDF).decode()
MP3_B64 = base64.b64encode(MP3).decode()

RESPONSES = {
    "status": 200,
    "json": {
        "id": "resp_1",
        "model": "gpt-4o",
        "status": "completed",
        "output": [
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "ok", "annotations": []}],
            }
        ],
        "usage": {"input_tokens": 1, "output_tokens": 1},
    },
}
COMPLETIONS = {
    "status": 200,
    "json": {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1},
    },
}
ANTHROPIC = {
    "status": 200,
    "json": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-0",
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    },
}
GEMINI = gemini_reply()

VERTEX = "vertex"  # a Gemini model id on a Vertex AI client


@pytest.fixture
def server(replay_server: ReplayServer) -> ReplayServer:
    return replay_server


def _client(provider: str, server: ReplayServer) -> llm.Client:
    if provider == VERTEX:
        return llm.client(
            "google", vertexai=True, project="p", base_url=server.url, api_key="ya29.token", max_retries=0
        )
    if provider in ("anthropic", "google"):
        return llm.client(provider, base_url=server.url, api_key="test-key", max_retries=0)
    return llm.client(provider, base_url=server.url + "/v1", api_key="test-key", max_retries=0)


def _reply(provider: str) -> dict[str, Any]:
    if provider == "openai":
        return RESPONSES
    if provider == "anthropic":
        return ANTHROPIC
    if provider in ("google", VERTEX):
        return GEMINI
    return COMPLETIONS


def _model_id(where: str) -> tuple[str, str]:
    """(client provider, model id) for `vertex:gemini-2.5-flash` and ordinary model ids."""
    provider, _, model = where.partition(":")
    return provider, (f"google:{model}" if provider == VERTEX else where)


def sent(server: ReplayServer, where: str, part: llm.ContentPart) -> dict[str, Any]:
    """The request body `where` (a model id, or `vertex:<model>`) sent for `["Look", part]`."""
    provider, model_id = _model_id(where)
    with _client(provider, server) as client, server.replaying([_reply(provider)]) as session:
        llm.model(model_id, client=client).call([llm.messages.user(["Look", part])])
    (request,) = session.requests
    return request.json()


def sent_part(server: ReplayServer, where: str, part: llm.ContentPart) -> Any:
    """How `part` itself went out: the second part of the user message."""
    body = sent(server, where, part)
    if "contents" in body:
        return body["contents"][0]["parts"][1]
    if "input" in body:
        return body["input"][0]["content"][1]
    return body["messages"][0]["content"][1]


def refused(server: ReplayServer, where: str, part: llm.ContentPart) -> llm.FeatureNotSupportedError:
    """The refusal for `part`, checking nothing was sent."""
    provider, model_id = _model_id(where)
    with (
        _client(provider, server) as client,
        server.replaying([_reply(provider)]) as session,
        pytest.raises(llm.FeatureNotSupportedError) as raised,
    ):
        llm.model(model_id, client=client).call([llm.messages.user(["Look", part])])
    assert session.requests == []
    assert raised.value.model == model_id
    assert model_id in str(raised.value)
    return raised.value


# --- Vertex AI and the Gemini API: file URIs go as fileData, always with the mimeType ---------------


@pytest.mark.parametrize("where", ["vertex:gemini-2.5-flash", "google:gemini-2.5-flash"])
@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (
            llm.Document.from_url("gs://bucket/report.pdf"),
            {"fileUri": "gs://bucket/report.pdf", "mimeType": "application/pdf"},
        ),
        (llm.Video.from_url("gs://bucket/clip.mp4"), {"fileUri": "gs://bucket/clip.mp4", "mimeType": "video/mp4"}),
        (llm.Image.from_url("gs://bucket/cat.JPG"), {"fileUri": "gs://bucket/cat.JPG", "mimeType": "image/jpeg"}),
        (llm.Audio.from_url("gs://bucket/talk.mp3"), {"fileUri": "gs://bucket/talk.mp3", "mimeType": "audio/mp3"}),
        (
            llm.Image.from_url("gs://bucket/no-extension", mime_type="image/webp"),
            {"fileUri": "gs://bucket/no-extension", "mimeType": "image/webp"},
        ),
        (
            llm.Image(mime_type=None, url="gs://bucket/built-by-hand.png"),
            {"fileUri": "gs://bucket/built-by-hand.png", "mimeType": "image/png"},
        ),
    ],
    ids=["pdf", "video", "image", "audio", "given", "constructed"],
)
def test_a_cloud_storage_uri_goes_as_file_data_with_its_mime_type(
    server: ReplayServer, where: str, part: llm.ContentPart, expected: dict[str, str]
) -> None:
    assert sent_part(server, where, part) == {"fileData": expected}


@pytest.mark.parametrize("where", ["vertex:gemini-2.5-flash", "google:gemini-2.5-flash"])
@pytest.mark.parametrize(
    "part",
    [llm.Document.from_url("gs://bucket/report"), llm.Image.from_url("https://example.com/render?id=7")],
    ids=["gs", "https"],
)
def test_a_file_uri_whose_type_cannot_be_told_is_refused_asking_for_mime_type(
    server: ReplayServer, where: str, part: llm.ContentPart
) -> None:
    error = refused(server, where, part)
    assert "mime_type=" in str(error)
    assert f"llm.{type(part).__name__}.from_url(" in str(error)


@pytest.mark.parametrize("where", ["google:gemini-2.5-flash", "vertex:gemini-2.5-flash"])
@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (
            llm.Image.from_url("https://en.wikipedia.org/static/images/icons/wikipedia.png"),
            {"fileUri": "https://en.wikipedia.org/static/images/icons/wikipedia.png", "mimeType": "image/png"},
        ),
        (
            llm.Document.from_url("https://www.w3.org/WAI/ER/tests/xhtml/testfiles/resources/pdf/dummy.pdf"),
            {
                "fileUri": "https://www.w3.org/WAI/ER/tests/xhtml/testfiles/resources/pdf/dummy.pdf",
                "mimeType": "application/pdf",
            },
        ),
        (
            llm.Audio.from_url("https://example.com/a.wav?sig=1"),
            {"fileUri": "https://example.com/a.wav?sig=1", "mimeType": "audio/wav"},
        ),
        (
            llm.Video.from_url("https://www.youtube.com/watch?v=9hE5-98ZeCg"),
            {"fileUri": "https://www.youtube.com/watch?v=9hE5-98ZeCg", "mimeType": "video/mp4"},
        ),
        (
            llm.Document.from_url(
                "https://generativelanguage.googleapis.com/v1beta/files/abc", mime_type="application/pdf"
            ),
            {"fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc", "mimeType": "application/pdf"},
        ),
    ],
    ids=["image", "document", "audio", "youtube", "files-api"],
)
def test_media_by_https_url_goes_to_gemini_as_file_data(
    server: ReplayServer, where: str, part: llm.ContentPart, expected: dict[str, str]
) -> None:
    assert sent_part(server, where, part) == {"fileData": expected}


# --- Chat Completions services ---------------------------------------------------------------------


def test_mistral_takes_a_pdf_as_a_document_url_part(server: ReplayServer) -> None:
    inline = sent_part(server, "mistral:mistral-small-latest", llm.Document.from_bytes(PDF))
    by_url = sent_part(server, "mistral:mistral-small-latest", llm.Document.from_url("https://example.com/a.pdf"))

    assert inline == {"type": "document_url", "document_url": f"data:application/pdf;base64,{PDF_B64}"}
    assert by_url == {"type": "document_url", "document_url": "https://example.com/a.pdf"}


def test_mistral_takes_audio_inline_as_a_string_and_by_url_as_an_object(server: ReplayServer) -> None:
    inline = sent_part(server, "mistral:voxtral-small-latest", llm.Audio.from_bytes(MP3))
    by_url = sent_part(server, "mistral:voxtral-small-latest", llm.Audio.from_url("https://example.com/a.mp3"))

    assert inline == {"type": "input_audio", "input_audio": MP3_B64}
    assert by_url == {"type": "input_audio", "input_audio": {"data": "https://example.com/a.mp3", "format": "mp3"}}


@pytest.mark.parametrize("where", ["openai-completions:gpt-audio", "openrouter:openai/gpt-audio"])
def test_audio_by_url_is_refused_where_chat_completions_takes_it_inline_only(server: ReplayServer, where: str) -> None:
    error = refused(server, where, llm.Audio.from_url("https://example.com/a.mp3"))
    assert "llm.Audio.from_file" in str(error)


def test_openrouter_takes_a_pdf_by_url_as_file_data(server: ReplayServer) -> None:
    part = sent_part(server, "openrouter:openai/gpt-4o", llm.Document.from_url("https://example.com/a.pdf"))

    assert part == {"type": "file", "file": {"filename": "a.pdf", "file_data": "https://example.com/a.pdf"}}


@pytest.mark.parametrize(
    "where", ["openai-completions:gpt-4o", "groq:meta-llama/llama-4-scout-17b-16e-instruct", "together:x/y"]
)
def test_a_pdf_by_url_is_refused_where_chat_completions_takes_pdfs_inline_only(
    server: ReplayServer, where: str
) -> None:
    error = refused(server, where, llm.Document.from_url("https://example.com/a.pdf"))
    assert "llm.Document.from_file" in str(error)


@pytest.mark.parametrize(
    "where",
    [
        "openai-completions:gpt-4o",
        "mistral:pixtral-large-latest",
        "openrouter:openai/gpt-4o",
        "groq:meta-llama/llama-4-scout-17b-16e-instruct",
        "together:meta-llama/Llama-4-Scout-17B-16E-Instruct",
        "xai:grok-4",
        "ollama:gemma3:4b",
    ],
)
def test_an_image_by_https_url_goes_to_every_chat_completions_service_as_image_url(
    server: ReplayServer, where: str
) -> None:
    url = "https://en.wikipedia.org/static/images/icons/wikipedia.png"
    assert sent_part(server, where, llm.Image.from_url(url)) == {"type": "image_url", "image_url": {"url": url}}


@pytest.mark.parametrize("where", ["mistral:pixtral-large-latest", "openrouter:google/gemini-2.5-flash", "vllm:m"])
def test_video_on_a_compatible_service_is_refused_without_blaming_openai(server: ReplayServer, where: str) -> None:
    error = refused(server, where, llm.Video.from_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 8))
    assert "OpenAI models" not in str(error)
    assert "Video" in str(error)


# --- Anthropic --------------------------------------------------------------------------------------


def test_claude_refuses_a_text_document_by_url(server: ReplayServer) -> None:
    error = refused(server, "anthropic:claude-sonnet-4-0", llm.Document.from_url("https://example.com/notes.txt"))
    assert "llm.Document.from_file" in str(error)


# --- Schemes no provider here fetches, and data: URLs -----------------------------------------------

EVERY_API = [
    "openai:gpt-4o",
    "openai-completions:gpt-4o",
    "mistral:pixtral-large-latest",
    "anthropic:claude-sonnet-4-0",
    "google:gemini-2.5-flash",
    "vertex:gemini-2.5-flash",
]


@pytest.mark.parametrize("where", EVERY_API)
@pytest.mark.parametrize(
    "part",
    [llm.Image.from_url("s3://bucket/cat.png"), llm.Document.from_url("s3://bucket/a.pdf?X-Amz-Signature=secret")],
    ids=["image", "document"],
)
def test_an_s3_uri_is_refused_everywhere_before_sending(
    server: ReplayServer, where: str, part: llm.ContentPart
) -> None:
    error = refused(server, where, part)
    kind = type(part).__name__
    assert "s3://" in str(error)
    assert f"llm.{kind}.from_file" in str(error)
    assert "secret" not in str(error)


@pytest.mark.parametrize(
    "where",
    ["openai:gpt-4o", "openai-completions:gpt-4o", "anthropic:claude-sonnet-4-0", "mistral:pixtral-large-latest"],
)
def test_a_cloud_storage_uri_is_refused_where_only_google_reads_it(server: ReplayServer, where: str) -> None:
    error = refused(server, where, llm.Image.from_url("gs://bucket/cat.png"))
    assert "gs://" in str(error)
    assert "llm.Image.from_file" in str(error)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("openai:gpt-4o", {"type": "input_image", "image_url": f"data:image/png;base64,{PNG_B64}"}),
        ("openai-completions:gpt-4o", {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}}),
        (
            "anthropic:claude-sonnet-4-0",
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
        ),
        ("google:gemini-2.5-flash", {"inlineData": {"mimeType": "image/png", "data": PNG_B64}}),
        ("vertex:gemini-2.5-flash", {"inlineData": {"mimeType": "image/png", "data": PNG_B64}}),
    ],
)
def test_a_data_url_is_sent_as_the_bytes_it_holds(server: ReplayServer, where: str, expected: Any) -> None:
    part = llm.Image.from_url(f"data:image/png;base64,{PNG_B64}")

    assert part == llm.Image.from_bytes(PNG)
    assert sent_part(server, where, part) == expected


def test_a_data_url_reads_its_type_and_plain_text_form() -> None:
    notes = llm.Document.from_url("data:text/plain;charset=utf-8,caf%C3%A9%20notes")
    sniffed = llm.Document.from_url(f"data:;base64,{PDF_B64}")

    assert notes.to_bytes() == "café notes".encode()
    assert notes.mime_type == "text/plain"
    assert sniffed.mime_type == "application/pdf"
    with pytest.raises(ValueError, match="not image"):
        llm.Image.from_url(f"data:application/pdf;base64,{PDF_B64}")


def test_from_url_reads_the_media_type_from_the_file_extension() -> None:
    assert llm.Image.from_url("https://example.com/a/cat.webp?size=2").mime_type == "image/webp"
    assert llm.Document.from_url("https://example.com/a.pdf").mime_type == "application/pdf"
    assert llm.Image.from_url("https://example.com/a.pdf").mime_type is None  # not an image's extension
    assert llm.Image.from_url("https://example.com/cat").mime_type is None


@pytest.mark.parametrize("url", ["data:image/png;base64", "data:image/png;base64,not*base64"], ids=["no comma", "bad"])
def test_a_malformed_data_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(llm.UsageError, match="data: URL"):
        llm.Image.from_url(url)
