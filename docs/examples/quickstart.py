"""A call, a follow-up, and the response's fields."""

from mirascope import llm


@llm.call("openai:gpt-4o-mini", temperature=0.2)
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book"


response = recommend_book("fantasy")
print(response.content)
print(response.finish_reason, response.usage)
followup = response.resume("Why that one?")
print(followup.content)
