"""OpenAI over httpx: the Responses API, Chat Completions, and OpenAI-compatible services.

Each object here is what one `mirascope.providers` entry point names.
"""

from ._provider import CompletionsProvider, ResponsesProvider
from .services import OPENAI, SERVICES

__all__ = [
    "completions",
    "deepseek",
    "groq",
    "mistral",
    "ollama",
    "openrouter",
    "responses",
    "together",
    "vllm",
    "xai",
]

responses = ResponsesProvider("openai", OPENAI)
"""`openai:` — the Responses API."""
completions = CompletionsProvider("openai-completions", OPENAI)
"""`openai-completions:` — Chat Completions."""
ollama = CompletionsProvider("ollama", SERVICES["ollama"])
vllm = CompletionsProvider("vllm", SERVICES["vllm"])
groq = CompletionsProvider("groq", SERVICES["groq"])
together = CompletionsProvider("together", SERVICES["together"])
openrouter = CompletionsProvider("openrouter", SERVICES["openrouter"])
xai = CompletionsProvider("xai", SERVICES["xai"])
deepseek = CompletionsProvider("deepseek", SERVICES["deepseek"])
mistral = CompletionsProvider("mistral", SERVICES["mistral"])
