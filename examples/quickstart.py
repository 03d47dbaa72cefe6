"""The README's first example: a real model, offline, with no key.

`local:smollm2` is SmolLM2-135M-Instruct, run in this process by llama.cpp. It is tiny, so its
answers are rough; the point is the library: a call, a stream and a structured output, exactly
as they look on any other model (swap the id for `openai:gpt-4o-mini` and nothing else changes).
"""

from dataclasses import dataclass

from mirascope import llm


@dataclass
class Book:
    """A book recommendation."""

    title: str
    author: str
    year: int


@llm.call("local:smollm2", temperature=0, max_tokens=48)
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book in one sentence."


@llm.call("local:smollm2", stream=True, temperature=0, max_tokens=48)
def tell_story(topic: str) -> str:
    return f"Tell a very short story about {topic}."


@llm.call("local:smollm2", response_model=Book, temperature=0, max_tokens=80)
def pick_book(genre: str) -> str:
    return f"Recommend a {genre} book."


if __name__ == "__main__":
    response = recommend_book("fantasy")
    print("call:   ", response.content)
    print(f"         ({response.model}, {response.usage.total_tokens if response.usage else '?'} tokens)")

    print("stream: ", end="")
    stream = tell_story("a lighthouse")
    for chunk in stream:
        print(chunk.content, end="", flush=True)
    print(f"\n         (finish reason: {stream.response.finish_reason})")

    book = pick_book("science fiction").parse()
    print("parse:  ", book)
