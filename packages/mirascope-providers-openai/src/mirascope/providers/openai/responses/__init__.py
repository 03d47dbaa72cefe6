"""The Responses API (`/v1/responses`): encode and decode."""
