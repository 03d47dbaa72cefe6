"""OpenAI over httpx: the Responses API, Chat Completions, Azure OpenAI, and OpenAI-compatible services.

Each object here is what one `mirascope.providers` entry point names: `responses`,
`completions`, `azure` and `azure_completions`, and one per compatible service in
`services.SERVICES`, under the service's name (`groq`, `ollama`, ...).
"""

from ._provider import CompletionsProvider, ResponsesProvider
from .azure import AZURE, AzureCompletionsProvider, AzureResponsesProvider
from .services import OPENAI, SERVICES

__all__ = ["azure", "azure_completions", "completions", "compatible", "responses"]

responses = ResponsesProvider("openai", OPENAI)
"""`openai:` — the Responses API."""
completions = CompletionsProvider("openai-completions", OPENAI)
"""`openai-completions:` — Chat Completions."""
azure = AzureResponsesProvider("azure", AZURE)
"""`azure:` — the Responses API of an Azure OpenAI resource (v1 API; the model is the deployment)."""
azure_completions = AzureCompletionsProvider("azure-completions", AZURE)
"""`azure-completions:` — Chat Completions of an Azure OpenAI resource."""
compatible: dict[str, CompletionsProvider] = {
    name: CompletionsProvider(name, service) for name, service in SERVICES.items()
}
"""The provider of each OpenAI-compatible service, by prefix."""


def __getattr__(name: str) -> CompletionsProvider:
    # A compatible service's provider under its own name, which its entry point names
    # (`ollama = "mirascope.providers.openai:ollama"`): derived from the services list, so that
    # adding a service takes its `Service(...)` and its entry point, nothing else.
    provider = compatible.get(name)
    if provider is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return provider


def __dir__() -> list[str]:
    return sorted({*globals(), *compatible})
