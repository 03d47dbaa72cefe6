"""Turn a recorded scenario into the user-level call that produced it, and read what it expects."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from mirascope import llm
from mirascope.providers.openai.services import SERVICES

# Which `provider:` prefix serves each recorded endpoint, by host where the endpoint is shared.
# Each compatible service's default host, from the services list.
_SERVICE_HOSTS = {urlsplit(service.base_url).netloc: name for name, service in SERVICES.items()}


SECRETS = {"mellon": "Welcome to Moria!", "radiance": "Life before Death"}
"""What the tool scenarios' `secret_retrieval_tool` answers."""


@llm.tool
def secret_retrieval_tool(password: str) -> str:
    """A tool that requires a password to retrieve a secret."""
    return SECRETS.get(password, "Invalid password!")


@llm.tool(strict=True)
def get_current_weather(location: str, unit: str = "fahrenheit") -> str:
    """Get the current weather in a given location.

    Args:
        location: The city and state, e.g. San Francisco, CA
        unit: The temperature unit to use (fahrenheit or celsius)
    """
    return f"72 degrees {unit} in {location}"


def provider_for(fixture: dict[str, Any]) -> str:
    endpoint = fixture["endpoints"][0]
    url = urlsplit(fixture["exchanges"][0]["request"]["url"])
    if endpoint.startswith("openai.chat"):
        return _SERVICE_HOSTS.get(url.netloc, "openai-completions")
    if endpoint.startswith("openai.responses"):
        return "openai"
    if endpoint.startswith("anthropic"):
        return "anthropic"
    if endpoint.startswith("google"):
        return "google"
    raise ValueError(f"no provider for endpoint {endpoint}")


def model_id_for(fixture: dict[str, Any]) -> str:
    request = fixture["exchanges"][0]["request"]
    name = (request.get("json") or {}).get("model")
    if name is None:  # Google names the model in the path: /v1beta/models/{name}:generateContent
        name = urlsplit(request["url"]).path.split("/models/", 1)[1].rsplit(":", 1)[0]
    return f"{provider_for(fixture)}:{name}"


def base_url_for(fixture: dict[str, Any], server_url: str) -> str:
    """The replay server's URL with the recorded path prefix, as `llm.client(base_url=...)` takes it."""
    path = urlsplit(fixture["exchanges"][0]["request"]["url"]).path
    provider = provider_for(fixture)
    if provider == "anthropic" or provider == "google":
        return server_url  # these clients add /v1/messages and /v1beta/models/... themselves
    for suffix in ("/chat/completions", "/responses"):
        if path.endswith(suffix):
            return server_url + path[: -len(suffix)]
    raise ValueError(f"unexpected path {path}")


def client_for(fixture: dict[str, Any], server_url: str) -> llm.Client:
    """A client for the fixture's provider pointed at the replay server, with the betas it recorded."""
    options: dict[str, Any] = {}
    beta = fixture["exchanges"][0]["request"]["headers"].get("anthropic-beta")
    if beta:
        options["betas"] = beta.split(",")
    provider = provider_for(fixture)
    return llm.client(provider, base_url=base_url_for(fixture, server_url), api_key="test-key", **options)


def _b64decode(text: str) -> bytes:
    # Google's recordings hold URL-safe base64; the others the standard alphabet.
    return base64.b64decode(text.translate(str.maketrans("-_", "+/")) + "=" * (-len(text) % 4))


def _inline_blobs(node: Any) -> list[bytes]:
    """Every inline base64 payload in a recorded request body, in order."""
    found: list[bytes] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and value.startswith("data:") and ";base64," in value:
                found.append(_b64decode(value.split(",", 1)[1]))
            elif key == "data" and isinstance(value, str) and len(value) > 64:
                found.append(_b64decode(value))
            else:
                found.extend(_inline_blobs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_inline_blobs(item))
    return found


_PART_TYPES: dict[str, Any] = {
    "image": llm.Image,
    "audio": llm.Audio,
    "document": llm.Document,
    "video": llm.Video,
}


def messages_for(fixture: dict[str, Any], tmp_path: Path) -> list[llm.Message]:
    """The scenario's messages as llm messages; file parts are written to `tmp_path` first."""
    blobs = iter(_inline_blobs(fixture["exchanges"][0]["request"].get("json")))
    built: list[llm.Message] = []
    for message in fixture["scenario"]["messages"]:
        content = message["content"]
        parts: list[str | llm.ContentPart] = []
        for part in [content] if isinstance(content, str) else content:
            if isinstance(part, str):
                parts.append(part)
            elif part["type"] == "text":
                parts.append(part["text"])
            else:
                kind = _PART_TYPES[part["type"]]
                if part["source"] == "url":
                    parts.append(kind.from_url(part["url"]))
                else:
                    path = tmp_path / Path(part["path"]).name
                    path.write_bytes(next(blobs))
                    parts.append(kind.from_file(path))
        role = message["role"]
        builder = {
            "system": llm.messages.system,
            "user": llm.messages.user,
            "assistant": llm.messages.assistant,
        }[role]
        built.append(builder(parts if len(parts) != 1 or not isinstance(parts[0], str) else parts[0]))
    return built


def params_for(fixture: dict[str, Any]) -> dict[str, Any]:
    """The scenario's common call parameters, in `llm.call` keyword form."""
    params: dict[str, Any] = {}
    for key, value in fixture["scenario"].get("params", {}).items():
        if key == "stop_sequences":
            params["stop"] = value
        elif key == "thinking":
            params["thinking"] = value["level"] if isinstance(value, dict) else value
        else:
            params[key] = value
    return params


def expected_decoding(fixture: dict[str, Any]) -> dict[str, Any]:
    """What a correct decoder must find in the (last) recorded response, read independently of ours."""
    endpoint = fixture["endpoints"][0]
    body = fixture["exchanges"][-1]["response"]["json"]
    if endpoint.startswith("openai.responses"):
        text = "".join(
            c["text"]
            for item in body["output"]
            if item["type"] == "message"
            for c in item["content"]
            if c["type"] == "output_text"
        )
        reason = (body.get("incomplete_details") or {}).get("reason")
        finish = {
            "max_output_tokens": "max_tokens",
            "content_filter": "content_filter",
            None: "stop",
        }[reason]
        usage = body["usage"]
        return {
            "text": text,
            "finish_reason": finish,
            "id": body["id"],
            "provider_model": body["model"],
            "input_tokens": usage["input_tokens"],
            "output_tokens": usage["output_tokens"],
            "reasoning_tokens": usage["output_tokens_details"]["reasoning_tokens"],
        }
    if endpoint.startswith("openai.chat"):
        choice = body["choices"][0]
        finish = {
            "stop": "stop",
            "length": "max_tokens",
            "tool_calls": "tool_call",
            "content_filter": "content_filter",
        }[choice["finish_reason"]]
        usage = body["usage"]
        return {
            "text": choice["message"].get("content") or "",
            "finish_reason": finish,
            "id": body["id"],
            "provider_model": body["model"],
            "input_tokens": usage["prompt_tokens"],
            "output_tokens": usage["completion_tokens"],
            "reasoning_tokens": (usage.get("completion_tokens_details") or {}).get("reasoning_tokens", 0),
        }
    if endpoint.startswith("anthropic"):
        finish = {
            "end_turn": "stop",
            "stop_sequence": "stop",
            "max_tokens": "max_tokens",
            "tool_use": "tool_call",
            "refusal": "refusal",
        }[body["stop_reason"]]
        usage = body["usage"]
        return {
            "text": "".join(b["text"] for b in body["content"] if b["type"] == "text"),
            "finish_reason": finish,
            "id": body["id"],
            "provider_model": body["model"],
            "input_tokens": usage["input_tokens"]
            + (usage.get("cache_read_input_tokens") or 0)
            + (usage.get("cache_creation_input_tokens") or 0),
            "output_tokens": usage["output_tokens"],
            "reasoning_tokens": 0,
        }
    if endpoint.startswith("google"):
        candidate = body["candidates"][0]
        finish = {"STOP": "stop", "MAX_TOKENS": "max_tokens", "SAFETY": "content_filter"}[candidate["finishReason"]]
        usage = body["usageMetadata"]
        parts = candidate.get("content", {}).get("parts", [])
        return {
            "text": "".join(p["text"] for p in parts if "text" in p and not p.get("thought")),
            "finish_reason": finish,
            "id": body.get("responseId"),
            "provider_model": body.get("modelVersion"),
            "input_tokens": usage["promptTokenCount"],
            "output_tokens": usage.get("candidatesTokenCount", 0) + usage.get("thoughtsTokenCount", 0),
            "reasoning_tokens": usage.get("thoughtsTokenCount", 0),
        }
    raise ValueError(endpoint)


def run_scenario(
    fixture: dict[str, Any], mode: str, client: llm.Client, messages: list[llm.Message]
) -> llm.CallResponse | llm.AsyncCallResponse:
    """Make the scenario's user-level call: `@llm.call` on a prompt function, sync or async.

    The client is closed afterwards, inside the event loop for async calls.
    """
    model_id = model_id_for(fixture)
    params = cast(llm.CallParams, params_for(fixture))
    if mode == "async":

        @llm.call(model_id, client=client, **params)
        async def prompt_async() -> list[llm.Message]:
            return messages

        async def run() -> llm.AsyncCallResponse:
            async with client:
                return await prompt_async()

        return asyncio.run(run())

    @llm.call(model_id, client=client, **params)
    def prompt() -> list[llm.Message]:
        return messages

    with client:
        return prompt()
