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
    if tool.get("type", "function") != "function" or not ({"name", "function"} & tool.keys()):
        # A tool the provider runs itself (web search, Google Search) has no schema: its options are its meaning.
        return {key: value for key, value in tool.items() if key != "cache_control"}
    tool = tool.get("function", tool)
    schema = next((tool[key] for key in _SCHEMA_KEYS if key in tool), {})
    return (tool["name"], tool.get("description"), sorted(schema["properties"]), sorted(schema.get("required", [])))


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
                elif key == "parts" and isinstance(value, list):
                    value = strip(joined_text_parts(value))
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


_JSON_INSTRUCTIONS = "Respond only with valid JSON that matches this exact schema:"


def schema_summary(schema: Any, defs: dict[str, Any] | None = None) -> Any:
    """What a JSON schema asks for, whatever the dialect: kinds, properties, required ones, descriptions.

    `$ref`s are followed, Gemini's upper-case OpenAPI types read as JSON Schema's, titles and
    ordering hints left out; nullable forms (`anyOf` with null, type lists) keep their non-null part.
    """
    if not isinstance(schema, dict):
        return schema
    defs = {**(defs or {}), **schema.get("$defs", {})}
    if "$ref" in schema:
        return schema_summary(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        if len(options) == 1:
            return schema_summary({**options[0], **{k: v for k, v in schema.items() if k != "anyOf"}}, defs)
    summary: dict[str, Any] = {"type": kind.lower() if isinstance(kind, str) else kind}
    # The recording library described its wrapper of a primitive with its own boilerplate.
    if schema.get("description") and not schema["description"].startswith("Wrapper for primitive type"):
        summary["description"] = schema["description"]
    if "properties" in schema:
        summary["properties"] = {name: schema_summary(value, defs) for name, value in schema["properties"].items()}
        summary["required"] = sorted(schema.get("required", []))
    if "items" in schema:
        summary["items"] = schema_summary(schema["items"], defs)
    return summary


def joined_text_parts(parts: list[Any]) -> list[Any]:
    """Gemini parts with each run of text parts of one kind (answer or thought) as one.

    A streamed turn arrives in pieces, and a client may send it back in those pieces or joined;
    a run's signature, which Gemini puts on its last piece, stays on the joined part.
    """
    joined: list[Any] = []
    for part in parts:
        previous = joined[-1] if joined else None
        if (
            isinstance(part, dict)
            and isinstance(previous, dict)
            and set(previous) <= {"text", "thought"}
            and set(part) <= {"text", "thought", "thoughtSignature"}
            and "text" in part
            and "text" in previous
            and previous.get("thought") == part.get("thought")
        ):
            joined[-1] = {**part, "text": previous["text"] + part["text"]}
        else:
            joined.append(part)
    return joined


def structured_comparable(body: dict[str, Any]) -> Any:
    """`comparable`, with each way of asking for structured output reduced to what it asks for.

    Schemas (response formats, output formats, Gemini response schemas, and the schema quoted in
    JSON-mode instructions) compare by `schema_summary`; the recordings wrote them with Pydantic,
    in each SDK's dialect. Native `strict` flags are compared as given.
    """

    def reduce(node: Any) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key == "parts" and isinstance(value, list):
                    value = joined_text_parts(value)
                if key in ("schema", "responseSchema", "responseJsonSchema", "response_json_schema"):
                    out["schema"] = schema_summary(value)
                elif (
                    key in ("text", "content", "system")
                    and isinstance(value, str)
                    and value.startswith(_JSON_INSTRUCTIONS)
                ):
                    reduced = ("json instructions", schema_summary(json.loads(value.removeprefix(_JSON_INSTRUCTIONS))))
                    # An Anthropic system string is one text block, as `meaning` reads it.
                    out[key] = [{"type": "text", "text": reduced}] if key == "system" else reduced
                elif key in ("text", "content") and isinstance(value, str) and value.startswith("{"):
                    # A structured answer sent back: its JSON, not its spacing, is what it says.
                    try:
                        out[key] = ("json", json.loads(value))
                    except ValueError:
                        out[key] = value
                else:
                    out[key] = reduce(value)
            return out
        if isinstance(node, list):
            return [reduce(item) for item in node]
        return node

    return comparable(reduce(body))
