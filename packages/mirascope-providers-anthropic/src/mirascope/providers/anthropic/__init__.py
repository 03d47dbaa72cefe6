"""Anthropic's Messages API over httpx, for `anthropic:` model ids.

The `mirascope.providers` entry point `anthropic` names the object here; nothing else is public.
"""

from ._provider import AnthropicProvider

__all__ = ["anthropic"]

anthropic = AnthropicProvider()
"""`anthropic:` — Claude models through the Messages API."""
