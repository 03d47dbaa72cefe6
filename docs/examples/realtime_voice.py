"""A realtime session in speech: the model's voice, chunk by chunk, to a speaker (here a WAV file).

`speaker` is yours to replace with real playback; the audio is raw samples in
`session.output_format` (16-bit PCM, 24 kHz, mono). Run against a replayed OpenAI Realtime session
in the docs' tests. Needs `mirascope[openai,realtime]`.
"""

import asyncio
import tempfile
import wave
from pathlib import Path

from mirascope import llm


async def main() -> None:
    out = Path(tempfile.mkdtemp()) / "reply.wav"
    async with llm.realtime(
        "openai:gpt-realtime", instructions="Answer in two or three words.", output="audio"
    ) as session:
        audio_format = session.output_format
        with wave.open(str(out), "wb") as speaker:  # your speaker: anything that takes PCM
            speaker.setnchannels(1)
            speaker.setsampwidth(2)
            speaker.setframerate(audio_format.rate)
            await session.send("Say a short greeting.")
            async for event in session:
                match event:
                    case llm.realtime.AudioDelta(data=pcm):
                        speaker.writeframes(pcm)
                    case llm.realtime.OutputTranscript(text=words):
                        print(words, end="", flush=True)
                    case llm.realtime.TurnEnd():
                        break
                    case _:
                        pass
    with wave.open(str(out), "rb") as reply:
        print(f"\nspoke {reply.getnframes()} samples ({audio_format.mime_type}) into {out.name}")


asyncio.run(main())
