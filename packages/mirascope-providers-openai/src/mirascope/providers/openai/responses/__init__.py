"""The Responses API (`/v1/responses`): encode, decode and stream."""
