"""Realtime sessions' types: pyright (strict) checks every `assert_type` here as part of the test command."""

from __future__ import annotations

from typing import assert_type

from mirascope import llm
from mirascope.llm.realtime import (
    AudioDelta,
    ErrorEvent,
    InputTranscript,
    OutputTranscript,
    TextDelta,
    ToolResult,
    ToolUse,
    TurnEnd,
)


@llm.tool
def get_weather(city: str) -> str:
    """Look up the weather for a city."""
    return f"Foggy in {city}."


async def check_session_types() -> None:
    session = llm.realtime("openai:gpt-realtime", tools=[get_weather], output="audio", max_tokens=200)
    assert_type(session, llm.RealtimeSession)
    async with session as opened:
        assert_type(opened, llm.RealtimeSession)
        assert_type(opened.input_format, llm.AudioFormat)
        assert_type(opened.messages, tuple[llm.Message, ...])
        assert_type(opened.usage, llm.Usage | None)
        assert_type(await opened.send("hi"), None)
        assert_type(await opened.send_audio(b"\x00\x00"), None)
        async for event in opened:
            assert_type(event, llm.RealtimeEvent)
            match event:
                case llm.realtime.TextDelta(text=text):
                    assert_type(text, str)
                case llm.realtime.AudioDelta(data=data, format=audio_format):
                    assert_type(data, bytes)
                    assert_type(audio_format, llm.AudioFormat)
                case llm.realtime.ToolUse(call=call):
                    assert_type(call, llm.ToolCall)
                case llm.realtime.ToolResult(output=output):
                    assert_type(output, llm.ToolOutput)
                case llm.realtime.TurnEnd(message=message, usage=usage):
                    assert_type(message, llm.Message)
                    assert_type(usage, llm.Usage | None)
                case llm.realtime.ErrorEvent(error=error):
                    assert_type(error, llm.APIError)
                case _:
                    pass
            if isinstance(event, llm.realtime.InputTranscript):
                assert_type(event.item_id, str | None)
        async for text in opened.text():
            assert_type(text, str)
        async for chunk in opened.audio():
            assert_type(chunk, AudioDelta)
        async for transcript in opened.transcripts():
            assert_type(transcript, InputTranscript | OutputTranscript)


def check_event_annotations(
    text: TextDelta, tool: ToolUse, result: ToolResult, end: TurnEnd, error: ErrorEvent
) -> tuple[str, str, str, llm.FinishReason, llm.APIError]:
    return text.text, tool.call.name, result.output.result, end.finish_reason, error.error


def check_formats() -> None:
    assert_type(llm.AudioFormat(rate=16000).mime_type, str)
    assert_type(llm.realtime.TurnDetection(silence_ms=500).respond, bool)
