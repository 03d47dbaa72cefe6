"""Compare request bodies by meaning, not bytes: the recordings were written by another library."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

# Values a provider applies when the field is absent: sending them or not means the same.
_DEFAULTS = {("detail", "auto"), ("includeThoughts", False), ("strict", False)}
_TEXT_TYPES = {"input_text": "text", "output_text": "text"}


def _camel(key: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)


def meaning(node: Any) -> Any:
    """A canonical form of a JSON body.

    - keys in camelCase (Google accepts both spellings), `None` values and defaults dropped;
    - numbers as floats (`50` and `50.0` are the same top_k);
    - a message `content` string is the same as a single text part, and so is an Anthropic
      `system` string; the `developer` role is the `system` role;
    - tool-call `arguments` JSON text compared as the JSON it holds;
    - `input_text`/`output_text` part types are text, and `"type": "message"` on a role item is implied.
    """
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            key = _camel(key)
            if value is None or (isinstance(value, str | bool) and (key, value) in _DEFAULTS):
                continue
            if key == "content" and isinstance(value, str) and ("role" in node):
                value = [{"type": "text", "text": value}]
            if key == "role" and value == "developer":
                value = "system"  # OpenAI's newer name for the system role; both are accepted
            if key == "system" and isinstance(value, str):
                value = [{"type": "text", "text": value}]  # Anthropic: a string is one text block
            if key == "type" and value == "message" and "role" in node:
                continue
            if key == "type" and value in _TEXT_TYPES:
                value = _TEXT_TYPES[value]
            if key == "arguments" and isinstance(value, str):
                # Tool-call arguments are JSON text; spacing is not meaning.
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            if key in ("data", "thoughtSignature") and isinstance(value, str):
                # Standard and URL-safe base64 carry the same bytes; providers accept both.
                value = value.translate(str.maketrans("-_", "+/")).rstrip("=")
            out[key] = meaning(value)
        return out
    if isinstance(node, list):
        return [meaning(item) for item in node]
    if isinstance(node, bool):
        return node
    if isinstance(node, int | float):
        return float(node)
    return node
