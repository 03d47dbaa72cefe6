"""Chat Completions (`/v1/chat/completions`): encode and decode."""
