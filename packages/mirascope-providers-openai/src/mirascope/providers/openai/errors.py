"""OpenAI error codes that say more than the HTTP status."""

from __future__ import annotations

from mirascope import llm

CODES: dict[str, type[llm.APIError]] = {
    "invalid_api_key": llm.AuthenticationError,
    # The Responses API answers an unknown model with 400, Chat Completions with 404.
    "model_not_found": llm.NotFoundError,
}
