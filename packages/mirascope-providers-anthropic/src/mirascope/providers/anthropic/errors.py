"""Anthropic error types that say more than the HTTP status."""

from __future__ import annotations

from mirascope import llm

__all__ = ["CODES"]

CODES: dict[str, type[llm.APIError]] = {
    "invalid_request_error": llm.BadRequestError,
    "authentication_error": llm.AuthenticationError,
    "permission_error": llm.PermissionError,
    "not_found_error": llm.NotFoundError,
    "rate_limit_error": llm.RateLimitError,
    "api_error": llm.ServerError,
    "overloaded_error": llm.ServerError,
}
"""`error.type` values of an Anthropic error body, and the error each one raises."""
