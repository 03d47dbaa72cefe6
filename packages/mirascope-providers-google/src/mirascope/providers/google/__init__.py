"""Google's Gemini API and Vertex AI, over httpx, with no Google SDK.

`google` is what the `mirascope.providers` entry point `google` names.
"""

from ._provider import GoogleProvider

__all__ = ["google"]

google = GoogleProvider()
"""`google:` — the Gemini API (`generateContent`), or Vertex AI with `vertexai=True`."""
