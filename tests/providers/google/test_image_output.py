"""Gemini image generation: images in the reply come back as `response.images`, streamed or not."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from mirascope import llm

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 8).decode()


def _candidate(*parts: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": "gemini-2.5-flash-image", "responseId": "r1"}


def _model(handler: Any, sent: list[dict[str, Any]]) -> llm.Model[str]:
    def recording(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(recording))
    client = llm.client("google", base_url="http://gemini", api_key="k", http_client=http)
    return llm.model(
        "google:gemini-2.5-flash-image",
        client=client,
        provider_params={"generationConfig": {"responseModalities": ["TEXT", "IMAGE"]}},
    )


def test_a_generated_image_comes_back_as_an_image_beside_the_text() -> None:
    sent: list[dict[str, Any]] = []
    reply = _candidate({"text": "A cat:"}, {"inlineData": {"mimeType": "image/png", "data": PNG}}, finish="STOP")
    model = _model(lambda request: httpx.Response(200, json=reply), sent)

    response = model.call("Draw a cat")

    assert response.content == "A cat:"
    assert response.images == [llm.Image(mime_type="image/png", data=PNG)]
    assert response.images[0].to_bytes().startswith(b"\x89PNG")
    assert sent[0]["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"]}


def test_a_streamed_image_arrives_whole_in_the_response() -> None:
    events = [
        _candidate({"text": "A cat:"}),
        _candidate({"inlineData": {"mimeType": "image/png", "data": PNG}}),
        _candidate({"text": ""}, finish="STOP"),
    ]
    body = b"".join(f"data: {json.dumps(event)}\r\n\r\n".encode() for event in events)
    sent: list[dict[str, Any]] = []
    model = _model(
        lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body), sent
    )

    stream = model.stream("Draw a cat")
    text = "".join(chunk.content for chunk in stream)

    assert text == "A cat:"
    assert stream.response.images == [llm.Image(mime_type="image/png", data=PNG)]


def test_an_image_the_model_made_goes_back_with_the_conversation() -> None:
    sent: list[dict[str, Any]] = []
    reply = _candidate({"inlineData": {"mimeType": "image/png", "data": PNG}}, finish="STOP")
    model = _model(lambda request: httpx.Response(200, json=reply), sent)

    model.call("Draw a cat").resume("Now make it blue")

    assert sent[1]["contents"][1] == {
        "role": "model",
        "parts": [{"inlineData": {"mimeType": "image/png", "data": PNG}}],
    }
