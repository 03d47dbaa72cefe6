"""The README's first example: one call to a real model.

Needs OPENAI_API_KEY; without it the call raises llm.MissingAPIKeyError naming the variable.
"""

from mirascope import llm


@llm.call("openai:gpt-4o-mini", temperature=0.2, max_tokens=256)
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book in two sentences."


if __name__ == "__main__":
    response = recommend_book("fantasy")
    print(response.content)
    print(f"({response.model}, {response.usage.total_tokens if response.usage else '?'} tokens)")
