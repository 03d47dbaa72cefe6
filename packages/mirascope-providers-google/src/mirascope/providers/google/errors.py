"""Gemini error codes that say more than the HTTP status."""

from __future__ import annotations

from mirascope import llm

__all__ = ["CODES"]

CODES: dict[str, type[llm.APIError]] = {
    # A bad key is a 400 INVALID_ARGUMENT whose details carry reason API_KEY_INVALID. Only the
    # reason is listed, not INVALID_ARGUMENT, so that it decides before the status does.
    "API_KEY_INVALID": llm.AuthenticationError,
    "UNAUTHENTICATED": llm.AuthenticationError,
    "PERMISSION_DENIED": llm.PermissionError,
    "NOT_FOUND": llm.NotFoundError,
    "RESOURCE_EXHAUSTED": llm.RateLimitError,
    "UNAVAILABLE": llm.ServerError,
    "INTERNAL": llm.ServerError,
}
"""`error.status` and `error.details[].reason` values, mapped to the error they mean."""
