"""The same call on a hosted model: `bash scripts/example.sh hosted [model-id]`.

Needs the provider's key: OPENAI_API_KEY for `openai:` (the default, `openai:gpt-4o-mini`),
ANTHROPIC_API_KEY for `anthropic:`, GOOGLE_API_KEY for `google:`. Without it the call raises
llm.MissingAPIKeyError naming the variable, before anything is sent.
"""

import sys

from mirascope import llm

MODEL = sys.argv[1] if len(sys.argv) > 1 else "openai:gpt-4o-mini"


@llm.call(MODEL, temperature=0.2, max_tokens=256)
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book in two sentences."


if __name__ == "__main__":
    response = recommend_book("fantasy")
    print(response.content)
    print(f"({response.model}, {response.usage.total_tokens if response.usage else '?'} tokens)")
