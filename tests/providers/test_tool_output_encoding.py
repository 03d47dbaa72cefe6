"""A tool that returns an image and a tool that returns data, through a real tool loop on each provider.

Claude and the Responses API take content lists inside a tool result; Gemini takes a JSON
object in `functionResponse.response`, and Gemini 3 takes media `parts` inside the
`functionResponse` (earlier Geminis get them beside it); Chat Completions tool messages take text
only, so the image follows in a user message. Data goes as JSON text wherever it is not taken
as an object.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from mirascope import llm
from mirascope.llm.serialization import from_dict, to_dict

from tests.support.replay import ReplayServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PNG_B64 = base64.b64encode(PNG).decode()
PNG_URL = f"data:image/png;base64,{PNG_B64}"
DATA = {"city": "Paris", "n": [1, 2]}
DATA_TEXT = json.dumps(DATA)


@llm.tool
def snapshot() -> list[object]:
    """A picture of the screen."""
    return ["A red square:", llm.Image.from_bytes(PNG)]


@llm.tool
def lookup() -> dict[str, object]:
    """Facts about the city."""
    return DATA


@llm.tool
def record() -> llm.Audio:
    """A recording."""
    return llm.Audio.from_bytes(b"ID3\x04" + b"\x00" * 16)


def _first_reply(provider: str, calls: list[tuple[str, str]]) -> dict[str, Any]:
    """A reply asking for `calls` ((id, name) pairs), in `provider`'s shape."""
    if provider == "anthropic":
        content = [{"type": "tool_use", "id": id, "name": name, "input": {}} for id, name in calls]
        body: dict[str, Any] = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-0",
            "content": content,
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    elif provider == "openai":
        output = [
            {
                "type": "function_call",
                "id": f"fc_{id}",
                "call_id": id,
                "name": name,
                "arguments": "{}",
                "status": "completed",
            }
            for id, name in calls
        ]
        body = {"id": "resp_1", "model": "gpt-4o", "status": "completed", "output": output, "usage": {}}
    elif provider == "google":
        parts = [{"functionCall": {"id": id, "name": name, "args": {}}} for id, name in calls]
        body = {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}]}
    else:
        tool_calls = [
            {"id": id, "type": "function", "function": {"name": name, "arguments": "{}"}} for id, name in calls
        ]
        message = {"role": "assistant", "content": None, "tool_calls": tool_calls}
        body = {
            "id": "c1",
            "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1},
        }
    return {"status": 200, "json": body}


def _final_reply(provider: str) -> dict[str, Any]:
    if provider == "anthropic":
        body: dict[str, Any] = {
            "id": "msg_2",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-0",
            "content": [{"type": "text", "text": "done"}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    elif provider == "openai":
        message = {
            "type": "message",
            "id": "msg_2",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "done", "annotations": []}],
        }
        body = {"id": "resp_2", "model": "gpt-4o", "status": "completed", "output": [message], "usage": {}}
    elif provider == "google":
        body = {"candidates": [{"content": {"role": "model", "parts": [{"text": "done"}]}, "finishReason": "STOP"}]}
    else:
        body = {
            "id": "c2",
            "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "done"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1},
        }
    return {"status": 200, "json": body}


def _loop(
    server: ReplayServer, model_id: str, tools: list[llm.Tool[..., Any]]
) -> tuple[dict[str, Any], llm.CallResponse]:
    """One tool round on `model_id`: the body of the request carrying the outputs, and the final response."""
    provider = model_id.partition(":")[0]
    family = provider if provider in ("anthropic", "openai", "google") else "completions"
    base_url = server.url if provider in ("anthropic", "google") else server.url + "/v1"
    calls = [(f"call_{tool.name}", tool.name) for tool in tools]
    with (
        llm.client(provider, base_url=base_url, api_key="test-key", max_retries=0) as client,
        server.replaying([_first_reply(family, calls), _final_reply(family)]) as session,
    ):
        response = llm.model(model_id, client=client, tools=tools).call("Go")
        final = response.resume(response.execute_tools())
    assert len(session.requests) == 2
    return session.requests[1].json(), final


def test_claude_gets_the_image_in_a_content_list_and_data_as_json_text(replay_server: ReplayServer) -> None:
    body, final = _loop(replay_server, "anthropic:claude-sonnet-4-0", [snapshot, lookup])

    assert body["messages"][-1] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "call_snapshot",
                "content": [
                    {"type": "text", "text": "A red square:"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
                ],
            },
            {"type": "tool_result", "tool_use_id": "call_lookup", "content": DATA_TEXT},
        ],
    }
    assert final.content == "done"


def test_the_responses_api_gets_the_image_in_an_output_list(replay_server: ReplayServer) -> None:
    body, _ = _loop(replay_server, "openai:gpt-4o", [snapshot, lookup])

    outputs = [item for item in body["input"] if item.get("type") == "function_call_output"]
    assert outputs == [
        {
            "type": "function_call_output",
            "call_id": "call_snapshot",
            "output": [
                {"type": "input_text", "text": "A red square:"},
                {"type": "input_image", "image_url": PNG_URL},
            ],
        },
        {"type": "function_call_output", "call_id": "call_lookup", "output": DATA_TEXT},
    ]


@pytest.mark.parametrize("model_id", ["openai-completions:gpt-4o", "groq:meta-llama/llama-4-scout-17b-16e-instruct"])
def test_chat_completions_sends_the_image_in_a_user_message_after_the_tool_messages(
    replay_server: ReplayServer, model_id: str
) -> None:
    body, _ = _loop(replay_server, model_id, [snapshot, lookup])

    tool_image, tool_data, attachments = body["messages"][-3:]
    assert tool_image["role"] == "tool"
    assert tool_image["tool_call_id"] == "call_snapshot"
    assert tool_image["content"].startswith("A red square:")
    assert "next user message" in tool_image["content"]
    assert tool_data == {"role": "tool", "tool_call_id": "call_lookup", "content": DATA_TEXT}
    assert attachments["role"] == "user"
    label, image = attachments["content"]
    assert "snapshot" in label["text"]
    assert "call_snapshot" in label["text"]
    assert image == {"type": "image_url", "image_url": {"url": PNG_URL}}


def test_gemini_2_gets_data_as_an_object_and_the_image_beside_the_function_response(
    replay_server: ReplayServer,
) -> None:
    body, _ = _loop(replay_server, "google:gemini-2.5-flash", [snapshot, lookup])

    parts = body["contents"][-1]["parts"]
    assert parts[:2] == [
        {"functionResponse": {"id": "call_snapshot", "name": "snapshot", "response": {"output": "A red square:"}}},
        {"functionResponse": {"id": "call_lookup", "name": "lookup", "response": {"output": DATA}}},
    ]
    label, image = parts[2:]
    assert "snapshot" in label["text"]
    assert image == {"inlineData": {"mimeType": "image/png", "data": PNG_B64}}


def test_gemini_3_gets_the_image_inside_the_function_response(replay_server: ReplayServer) -> None:
    body, _ = _loop(replay_server, "google:gemini-3-pro-preview", [snapshot, lookup])

    assert body["contents"][-1]["parts"] == [
        {
            "functionResponse": {
                "id": "call_snapshot",
                "name": "snapshot",
                "response": {"output": "A red square:"},
                "parts": [{"inlineData": {"mimeType": "image/png", "data": PNG_B64}}],
            }
        },
        {"functionResponse": {"id": "call_lookup", "name": "lookup", "response": {"output": DATA}}},
    ]


def test_media_a_provider_cannot_take_in_a_tool_output_is_refused_before_sending(
    replay_server: ReplayServer,
) -> None:
    with (
        llm.client("anthropic", base_url=replay_server.url, api_key="test-key", max_retries=0) as client,
        replay_server.replaying([_first_reply("anthropic", [("call_record", "record")])]) as session,
    ):
        response = llm.model("anthropic:claude-sonnet-4-0", client=client, tools=[record]).call("Go")
        outputs = response.execute_tools()
        with pytest.raises(llm.FeatureNotSupportedError, match="Audio"):
            response.resume(outputs)
    assert len(session.requests) == 1


def test_a_conversation_with_tool_parts_and_data_resumes_after_a_round_trip_through_json(
    replay_server: ReplayServer,
) -> None:
    _, final = _loop(replay_server, "anthropic:claude-sonnet-4-0", [snapshot, lookup])

    restored = llm.CallResponse.from_dict(json.loads(json.dumps(final.to_dict())))
    outputs = [part for part in restored.messages[-2].content if isinstance(part, llm.ToolOutput)]

    assert restored.messages == final.messages
    assert outputs[0].content == (llm.Text("A red square:"), llm.Image.from_bytes(PNG))
    assert outputs[1].value == DATA
    assert from_dict(llm.Message, to_dict(final.messages[-2])) == final.messages[-2]
    with (
        llm.client("anthropic", base_url=replay_server.url, api_key="test-key", max_retries=0) as client,
        replay_server.replaying([_final_reply("anthropic")]) as session,
    ):
        llm.model("anthropic:claude-sonnet-4-0", client=client).call([*restored.messages, llm.messages.user("More?")])
    sent = session.requests[0].json()["messages"]
    assert sent[2]["content"][0]["content"][1]["type"] == "image"
