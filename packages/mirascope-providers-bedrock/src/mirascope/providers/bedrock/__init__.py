"""Amazon Bedrock's Converse API over httpx, for `bedrock:` model ids, signed without an AWS SDK.

The `mirascope.providers` entry point `bedrock` names the object here; nothing else is public.
"""

from ._provider import BedrockProvider

__all__ = ["bedrock"]

bedrock = BedrockProvider()
"""`bedrock:` — every model Bedrock hosts, through the Converse API."""
