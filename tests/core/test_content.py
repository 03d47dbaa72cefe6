"""Content parts: media types read from the bytes, messages built from text and parts."""

from __future__ import annotations

from pathlib import Path

import pytest
from mirascope import llm

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"


def test_an_image_file_is_typed_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(PNG)
    image = llm.Image.from_file(path)
    assert image.mime_type == "image/png"
    assert image.to_bytes() == PNG
    assert image.url is None


def test_unrecognised_bytes_ask_for_a_mime_type() -> None:
    with pytest.raises(llm.UsageError, match=r"llm\.Image\.from_bytes\(data, mime_type='image/png'\)"):
        llm.Image.from_bytes(b"not an image")
    assert llm.Image.from_bytes(b"raw", mime_type="image/heic").mime_type == "image/heic"


def test_a_part_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="not image media"):
        llm.Image.from_bytes(PDF)


def test_documents_take_pdf_and_text(tmp_path: Path) -> None:
    assert llm.Document.from_bytes(PDF).mime_type == "application/pdf"
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes")
    assert llm.Document.from_file(notes).mime_type == "text/markdown"
    assert llm.Document.from_url("https://example.com/a.pdf").url == "https://example.com/a.pdf"


def test_audio_is_recognised_from_common_containers() -> None:
    assert llm.Audio.from_bytes(b"ID3\x04" + b"\x00" * 8).mime_type == "audio/mpeg"
    assert llm.Audio.from_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ").mime_type == "audio/wav"
    assert llm.Video.from_bytes(b"\x00\x00\x00\x18ftypmp42").mime_type == "video/mp4"


def test_a_url_part_has_no_bytes() -> None:
    with pytest.raises(ValueError, match="fetch it yourself"):
        llm.Image.from_url("https://example.com/cat.png").to_bytes()


def test_message_builders_turn_strings_into_text_parts() -> None:
    image = llm.Image.from_bytes(PNG)
    message = llm.messages.user(["Look", image, "closely"])
    assert message.role == "user"
    assert message.content == (llm.Text("Look"), image, llm.Text("closely"))
    assert message.text == "Lookclosely"
    assert llm.messages.system("Be brief.").content == (llm.Text("Be brief."),)
    assert llm.messages.assistant(llm.Text("ok")).content == (llm.Text("ok"),)


def test_parts_are_immutable_values() -> None:
    text = llm.Text("a")
    assert text == llm.Text("a")
    with pytest.raises(AttributeError):
        text.text = "b"  # type: ignore[misc]
