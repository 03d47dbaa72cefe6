"""OpenAI-compatible services: one Chat Completions protocol, many base URLs.

`SERVICES` is the one list of them: each service's provider object (`mirascope.providers.openai.groq`,
...), its parameter handling, its row in the README and in `docs/providers.md`, and core's install
hint all follow from its entry here. Adding a service is one `Service(...)` below, one entry-point
line in this package's `pyproject.toml` (`tests/providers/test_services.py` checks both agree),
then `python scripts/provider_tables.py`, which writes the tables and the hint.
"""

from __future__ import annotations

from typing import Literal

from attrs import frozen


@frozen(kw_only=True)
class Service:
    """A service that speaks OpenAI's Chat Completions."""

    name: str
    """The `provider:` prefix."""
    base_url: str
    """The default base URL; `{NAME}_BASE_URL` in the environment replaces it."""
    api_key_env: str | None
    """The environment variable holding the key."""
    api_key_required: bool = True
    """Local servers (Ollama, vLLM) run without a key."""
    top_k: bool = False
    """Whether the service takes `top_k` (OpenAI itself does not)."""
    seed_field: str = "seed"
    """The body field `seed=` goes in (Mistral's is `random_seed`)."""
    thinking_param: Literal["reasoning_effort", "reasoning", "thinking", "reasoning.enabled"] = "reasoning_effort"
    """How it takes `thinking=`: OpenAI's `reasoning_effort`; OpenRouter's `reasoning` object
    (`effort`, or `max_tokens` for a budget, and `exclude` when the thoughts are not wanted
    back); DeepSeek's `thinking` switch, with `reasoning_effort` while it is on; Together's
    `reasoning: {"enabled": ...}` switch for its hybrid models, `reasoning_effort` for the
    models that take an effort (`gpt-oss`)."""
    media: Literal["openai", "mistral", "openrouter"] = "openai"
    """How it takes audio and PDF parts: OpenAI's (`input_audio` with base64 data and a format;
    PDFs inline only, as `file` parts); Mistral's (`input_audio` as the base64 text itself, or as
    a URL with its format; `document_url` parts, by URL or inline); OpenRouter's (OpenAI's, and a
    PDF's URL as a `file` part's data, which it fetches)."""
    reasoning_back: Literal["reasoning", "reasoning_content", "content"] | None = None
    """Where an assistant message carries its reasoning back on later turns, for a service that
    keeps reasoning across turns: that message field, or `"content"` for thinking parts in the
    content list (Mistral's). `None`: earlier reasoning is not sent back."""


OPENAI = Service(name="openai", base_url="https://api.openai.com/v1", api_key_env="OPENAI_API_KEY")

SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service(
            name="ollama",
            base_url="http://localhost:11434/v1",
            api_key_env="OLLAMA_API_KEY",
            api_key_required=False,
            reasoning_back="reasoning",
        ),
        Service(
            name="vllm",
            base_url="http://localhost:8000/v1",
            api_key_env="VLLM_API_KEY",
            api_key_required=False,
            top_k=True,
        ),
        Service(
            name="groq",
            base_url="https://api.groq.com/openai/v1",
            api_key_env="GROQ_API_KEY",
            reasoning_back="reasoning",
        ),
        Service(
            name="together",
            base_url="https://api.together.xyz/v1",
            api_key_env="TOGETHER_API_KEY",
            top_k=True,
            thinking_param="reasoning.enabled",
        ),
        Service(
            name="openrouter",
            base_url="https://openrouter.ai/api/v1",
            api_key_env="OPENROUTER_API_KEY",
            top_k=True,
            thinking_param="reasoning",
            media="openrouter",
            reasoning_back="reasoning",
        ),
        Service(name="xai", base_url="https://api.x.ai/v1", api_key_env="XAI_API_KEY"),
        Service(
            name="deepseek",
            base_url="https://api.deepseek.com/v1",
            api_key_env="DEEPSEEK_API_KEY",
            thinking_param="thinking",
            reasoning_back="reasoning_content",
        ),
        Service(
            name="mistral",
            base_url="https://api.mistral.ai/v1",
            api_key_env="MISTRAL_API_KEY",
            seed_field="random_seed",
            media="mistral",
            reasoning_back="content",
        ),
    )
}
"""Every compatible service, by prefix."""
