"""The same prompt on three providers: only the model id changes."""

from mirascope import llm

for model_id in ("openai:gpt-4o-mini", "anthropic:claude-sonnet-4-5", "google:gemini-2.5-flash"):

    @llm.call(model_id, max_tokens=200)
    def recommend_book(genre: str) -> list[llm.Message]:
        return [llm.messages.system("Answer in one sentence."), llm.messages.user(f"Recommend a {genre} book")]

    response = recommend_book("science fiction")
    print(f"{response.model}: {response.content}")
