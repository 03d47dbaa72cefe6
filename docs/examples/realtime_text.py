"""A realtime session in text: a question, a tool the session runs, the answer as it streams.

Run against a replayed OpenAI Realtime session in the docs' tests; with OPENAI_API_KEY set and no
OPENAI_BASE_URL it talks to OpenAI itself. Needs `mirascope[openai,realtime]`.
"""

import asyncio

from mirascope import llm


@llm.tool
def get_weather(city: str) -> str:
    """Look up the weather for a city."""
    return f"It is foggy and 12 degrees in {city}."


async def main() -> None:
    async with llm.realtime(
        "openai:gpt-realtime",
        instructions="Use the get_weather tool for any weather question, then answer in one short sentence.",
        tools=[get_weather],
    ) as session:
        await session.send("What is the weather in London?")
        async for event in session:
            match event:
                case llm.realtime.ToolResult(output=output):
                    print(f"[{output.name}] {output.result}")
                case llm.realtime.TextDelta(text=text):
                    print(text, end="", flush=True)
                case llm.realtime.TurnEnd(usage=usage):
                    print(f"\n({usage.total_tokens if usage else '?'} tokens)")
                    break
                case _:
                    pass
        # The conversation, as messages any model can continue in text.
        for message in session.messages:
            print(f"{message.role}: {message.text or [type(part).__name__ for part in message.content]}")


asyncio.run(main())
