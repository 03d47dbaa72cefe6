"""Azure OpenAI, on its v1 API: OpenAI's own wire format under the resource's endpoint.

```python
client = llm.client("azure", resource="my-resource")  # key from AZURE_OPENAI_API_KEY


@llm.call("azure:my-gpt-4o-deployment", client=client)
def ask(q: str) -> str:
    return q
```

Requests go to `https://{resource}.openai.azure.com/openai/v1` (`/responses` for `azure:`,
`/chat/completions` for `azure-completions:`), with the key in the `api-key` header. The model
name is the deployment's name. The v1 API takes no dated `api-version` parameter, which is why
Azure recommends it over the older `/openai/deployments/{name}/...?api-version=...` form.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from ._provider import CompletionsProvider, ResponsesProvider, _OpenAIProtocol  # pyright: ignore[reportPrivateUsage]
from .services import Service

__all__ = ["AZURE", "AzureCompletionsProvider", "AzureResponsesProvider", "azure_root"]

AZURE = Service(name="azure", base_url="", api_key_env="AZURE_OPENAI_API_KEY")
"""Azure OpenAI: no default base URL, since every resource has its own."""

ENDPOINT_ENV = "AZURE_OPENAI_ENDPOINT"
"""The environment variable naming the resource's endpoint, e.g. `https://my-resource.openai.azure.com`."""

_roots: dict[str, str] = {}


def azure_root(base_url: str) -> str:
    """The v1 API under an Azure endpoint.

    A bare `https://{resource}.openai.azure.com` (or one ending in `/openai`) gets `/openai/v1`;
    any other path is taken as the API's own.
    """
    found = _roots.get(base_url)
    if found is None:
        path = urlsplit(base_url).path.rstrip("/")
        if path == "":
            found = f"{base_url.rstrip('/')}/openai/v1"
        elif path == "/openai":
            found = f"{base_url.rstrip('/')}/v1"
        else:
            found = base_url
        _roots[base_url] = found
    return found


class _Azure(_OpenAIProtocol):
    """What `azure:` and `azure-completions:` share: the endpoint, the `api-key` header, the settings."""

    known_options = frozenset({"resource"})

    def base_url(self, options: Mapping[str, object]) -> str:
        resource = options.get("resource")
        if isinstance(resource, str) and resource:
            return f"https://{resource}.openai.azure.com/openai/v1"
        # `AZURE_BASE_URL`, the `{PREFIX}_BASE_URL` every provider reads, before Azure's own variable.
        endpoint = os.environ.get(self.base_url_env) or os.environ.get(ENDPOINT_ENV)
        if endpoint:
            return azure_root(endpoint.rstrip("/"))
        raise TypeError(
            f"{self.name!r} needs the Azure OpenAI resource: llm.client({self.name!r}, resource='my-resource'), "
            f"or base_url='https://my-resource.openai.azure.com/openai/v1', or the {ENDPOINT_ENV} "
            "environment variable."
        )

    def check_options(self, options: Mapping[str, object]) -> None:
        super().check_options(options)
        resource = options.get("resource")
        if resource is not None and not (isinstance(resource, str) and resource):
            raise TypeError(
                f"llm.client({self.name!r}, resource=...) takes the resource's name, e.g. 'my-resource' "
                f"for https://my-resource.openai.azure.com; got {resource!r}."
            )

    def headers(self, api_key: str | None, options: Mapping[str, object]) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if api_key:
            headers["api-key"] = api_key
        return headers

    def root(self, base_url: str) -> str:
        return azure_root(base_url)


class AzureResponsesProvider(_Azure, ResponsesProvider):
    """`azure:` — the Responses API of an Azure OpenAI resource."""


class AzureCompletionsProvider(_Azure, CompletionsProvider):
    """`azure-completions:` — Chat Completions of an Azure OpenAI resource."""
