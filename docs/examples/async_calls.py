"""Async prompt functions: awaited calls, run concurrently."""

import asyncio

from mirascope import llm


@llm.call("anthropic:claude-sonnet-4-5", max_tokens=200)
async def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book"


async def main() -> None:
    responses = await asyncio.gather(*(recommend_book(genre) for genre in ("fantasy", "mystery")))
    for response in responses:
        print(response.content)


asyncio.run(main())
