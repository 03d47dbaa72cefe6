"""OpenAI over httpx: the Responses API, Chat Completions, Azure OpenAI, and OpenAI-compatible services.

Each object here is what one `mirascope.providers` entry point names.
"""

from ._provider import CompletionsProvider, ResponsesProvider
from .azure import AZURE, AzureCompletionsProvider, AzureResponsesProvider
from .services import OPENAI, SERVICES

__all__ = [
    "azure",
    "azure_completions",
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
azure = AzureResponsesProvider("azure", AZURE)
"""`azure:` — the Responses API of an Azure OpenAI resource (v1 API; the model is the deployment)."""
azure_completions = AzureCompletionsProvider("azure-completions", AZURE)
"""`azure-completions:` — Chat Completions of an Azure OpenAI resource."""
ollama = CompletionsProvider("ollama", SERVICES["ollama"])
vllm = CompletionsProvider("vllm", SERVICES["vllm"])
groq = CompletionsProvider("groq", SERVICES["groq"])
together = CompletionsProvider("together", SERVICES["together"])
openrouter = CompletionsProvider("openrouter", SERVICES["openrouter"])
xai = CompletionsProvider("xai", SERVICES["xai"])
deepseek = CompletionsProvider("deepseek", SERVICES["deepseek"])
mistral = CompletionsProvider("mistral", SERVICES["mistral"])
