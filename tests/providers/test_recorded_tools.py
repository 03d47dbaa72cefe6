"""The tool loop on every provider, against the real recordings of `test_call_with_tools`.

The first recorded reply asks for two parallel tool calls; `execute_tools()` runs them and
`resume(outputs)` sends them back: the resumed request must carry the outputs linked to the ids
the provider gave, exactly as the recorded second request does, and the final reply must say
what the scenario expects.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from mirascope import llm

from tests.support.fixtures import find, load
from tests.support.meaning import comparable
from tests.support.replay import ReplayServer
from tests.support.scenarios import (
    SECRETS,
    client_for,
    get_current_weather,
    messages_for,
    model_id_for,
    secret_retrieval_tool,
)

CASES = find(("test_call_with_tools",), ("sync", "async"))

# The recording library asked for strict schemas where the API has them; so does this test.
strict_secret_retrieval_tool = llm.tool(strict=True)(secret_retrieval_tool.fn)


def _tool_for(fixture: dict[str, Any]) -> llm.Tool[..., str]:
    strict = '"strict": true' in json.dumps(fixture["exchanges"][0]["request"]["json"])
    return strict_secret_retrieval_tool if strict else secret_retrieval_tool


def _loop(
    fixture: dict[str, Any], mode: str, client: llm.Client, messages: list[llm.Message]
) -> tuple[Any, list[llm.ToolOutput], Any]:
    model = llm.model(model_id_for(fixture), client=client, tools=[_tool_for(fixture)])
    if mode == "async":

        async def run() -> tuple[Any, list[llm.ToolOutput], Any]:
            async with client:
                first = await model.call_async(messages)
                outputs = await first.execute_tools()
                return first, outputs, await first.resume(outputs)

        return asyncio.run(run())
    with client:
        first = model.call(messages)
        outputs = first.execute_tools()
        return first, outputs, first.resume(outputs)


def test_every_provider_has_tool_recordings() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("path", CASES)
def test_tool_calls_run_and_their_outputs_go_back_linked_to_the_providers_ids(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    mode = Path(path).stem
    messages = messages_for(fixture, tmp_path)
    exchanges = fixture["exchanges"]

    with replay_server.replaying([exchange["response"] for exchange in exchanges]) as session:
        first, outputs, final = _loop(fixture, mode, client_for(fixture, replay_server.url), messages)

    assert len(first.tool_calls) == fixture["scenario"]["expected"]["tool_calls_first_turn"] == 2
    assert first.finish_reason == "tool_call"
    assert sorted(str(call.args["password"]) for call in first.tool_calls) == sorted(SECRETS)
    assert [output.id for output in outputs] == [call.id for call in first.tool_calls]
    assert all(not output.is_error for output in outputs)
    assert {output.result for output in outputs} == set(SECRETS.values())

    assert len(session.requests) == 2
    for sent, exchange in zip(session.requests, exchanges, strict=True):
        assert comparable(sent.json()) == comparable(exchange["request"]["json"])

    for text in fixture["scenario"]["expected"]["text_contains"]:
        assert text in final.content
    assert final.finish_reason == "stop"
    assert final.messages[: len(first.messages)] == first.messages


STRICT_CASES = find(("test_call_with_strict_tool_and_optional_properties",), ("sync",))


@pytest.mark.parametrize("path", STRICT_CASES)
def test_a_strict_tool_with_a_defaulted_parameter_goes_out_in_strict_form_and_its_call_runs(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    exchange = fixture["exchanges"][0]
    client = client_for(fixture, replay_server.url)
    model = llm.model(model_id_for(fixture), client=client, tools=[get_current_weather])

    with replay_server.replaying([exchange["response"]]) as session, client:
        response = model.call(messages_for(fixture, tmp_path))

    sent = session.requests[0].json()
    recorded = exchange["request"]["json"]
    assert comparable({k: v for k, v in sent.items() if k != "tools"}) == comparable(
        {k: v for k, v in recorded.items() if k != "tools"}
    )
    [tool] = sent["tools"]
    definition = tool.get("function", tool)
    schema = definition.get("parameters") or definition["input_schema"]
    assert definition["name"] == "get_current_weather"
    assert definition["description"] == "Get the current weather in a given location."
    assert definition["strict"] is True
    # OpenAI's strict mode refuses a schema that leaves `unit` out of `required`.
    assert schema["required"] == ["location", "unit"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["location"]["description"] == "The city and state, e.g. San Francisco, CA"

    [call] = response.tool_calls
    assert call.args["location"] == "San Francisco, CA"
    [output] = response.execute_tools()
    assert not output.is_error
    assert output.result == "72 degrees fahrenheit in San Francisco, CA"


ERROR_CASES = find(("test_call_with_tool_error",), ("sync",))


@llm.tool
def passphrase_test_tool(passphrase: str) -> str:
    """A tool that must be called with a passphrase."""
    if passphrase != "cake":
        raise ValueError("Incorrect passhrase: The correct passphrase is 'cake'. Try again.")
    return "The cake is a lie."


def _as_recorded(body: dict[str, Any]) -> Any:
    """A request's meaning with the error marks the recording library did not send.

    Mirascope marks a failed tool's output as the providers document: Anthropic's
    `is_error: true`, Gemini's `error` key in place of `output`.
    """

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: strip(v) for k, v in node.items() if k != "is_error"}
            if "functionResponse" in node and "error" in node["functionResponse"]["response"]:
                node["functionResponse"]["response"] = {"output": node["functionResponse"]["response"]["error"]}
            return node
        if isinstance(node, list):
            return [strip(item) for item in node]
        return node

    return comparable(strip(body))


@pytest.mark.parametrize("path", ERROR_CASES)
def test_a_tool_that_raises_goes_back_as_its_message_and_the_loop_goes_on(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    exchanges = fixture["exchanges"]
    strict = '"strict": true' in json.dumps(exchanges[0]["request"]["json"])
    tool = llm.tool(strict=True)(passphrase_test_tool.fn) if strict else passphrase_test_tool
    client = client_for(fixture, replay_server.url)
    model = llm.model(model_id_for(fixture), client=client, tools=[tool])

    outputs: list[llm.ToolOutput] = []
    with replay_server.replaying([exchange["response"] for exchange in exchanges]) as session, client:
        response = model.call(messages_for(fixture, tmp_path))
        while response.tool_calls and len(session.requests) < len(exchanges):
            step = response.execute_tools()
            outputs += step
            response = response.resume(step)

    assert len(session.requests) == len(exchanges)
    for sent, exchange in zip(session.requests, exchanges, strict=True):
        assert _as_recorded(sent.json()) == _as_recorded(exchange["request"]["json"])
    if outputs:
        assert outputs[0].is_error
        assert outputs[0].result == "Incorrect passhrase: The correct passphrase is 'cake'. Try again."
