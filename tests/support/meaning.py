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
            if key == "annotations" and value == []:
                continue  # OpenAI's empty citation list, echoed back by some libraries
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


_SCHEMA_KEYS = ("parameters", "parametersJsonSchema", "input_schema")


def tool_summary(tool: dict[str, Any]) -> Any:
    """What a tool definition tells the model, whatever the API's spelling of it."""
    if "functionDeclarations" in tool:
        return [tool_summary(declaration) for declaration in tool["functionDeclarations"]]
    tool = tool.get("function", tool)
    schema = next((tool[key] for key in _SCHEMA_KEYS if key in tool), {})
    return (tool["name"], tool.get("description"), sorted(schema["properties"]), sorted(schema["required"]))


def comparable(body: dict[str, Any]) -> Any:
    """A request's meaning, leaving out what may rightly differ from the recording.

    - The stream flags are checked on their own.
    - The recording library put Anthropic `cache_control` breakpoints on by itself, where
      Mirascope leaves them to `llm.CacheControl`.
    - Tool definitions are compared by what they tell the model (name, description,
      parameters, required ones): the recordings spell schemas in each SDK's dialect (Google's
      upper-case `parameters`, pydantic titles), the providers' own tests check the exact form.
    - Thinking budgets per level are each provider's documented mapping, checked in its tests.
    - Google: an empty `generationConfig` and a role on `systemInstruction` mean nothing.
    """

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key in (
                    "cache_control",
                    "stream",
                    "stream_options",
                    "thinkingBudget",
                    "thinking_budget",
                    "budget_tokens",
                ):
                    continue
                if key == "tools":
                    value = [tool_summary(tool) for tool in value]
                elif key == "systemInstruction":
                    value = {k: v for k, v in value.items() if k != "role"}
                elif key == "generationConfig":
                    value = strip(value) or None
                else:
                    value = strip(value)
                out[key] = value
            return out
        if isinstance(node, list):
            return [strip(item) for item in node]
        return node

    return meaning(strip(body))
