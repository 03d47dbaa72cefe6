"""An MCP server's tool, traced: the `execute_tool` span carries the conventions' MCP attributes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mirascope.lilypad as lilypad
import pytest
from mirascope import llm
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.fixtures import load
from tests.support.mcp_servers import secrets_server, serving
from tests.support.replay import ReplayServer
from tests.support.scenarios import SECRETS, client_for, messages_for, model_id_for


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    lilypad.configure(tracer_provider=provider, store=None, capture_content=True)
    try:
        yield exporter
    finally:
        for instrument in llm.instrumentation.registered():
            if isinstance(instrument, lilypad.LilypadInstrument):
                llm.instrumentation.unregister(instrument)
        provider.shutdown()


def _tool_loop(target: Any, server: ReplayServer, tmp_path: Path) -> None:
    fixture = load("test_call_with_tools/openai_gpt_4o_completions/async.json")
    messages = messages_for(fixture, tmp_path)

    async def run() -> None:
        async with llm.mcp.connect(target) as secrets:
            model = llm.model(model_id_for(fixture), client=client_for(fixture, server.url), tools=[*secrets.tools])
            with server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
                response = await model.call_async(messages)
                await response.resume(await response.execute_tools())

    asyncio.run(run())


def _tool_spans(spans: InMemorySpanExporter) -> list[dict[str, Any]]:
    return [dict(span.attributes or {}) for span in spans.get_finished_spans() if span.name.startswith("execute_tool")]


def test_an_in_memory_mcp_tool_span_names_the_method_and_server(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    _tool_loop(secrets_server(), replay_server, tmp_path)
    tools = _tool_spans(spans)
    assert len(tools) == 2
    for attributes in tools:
        assert attributes["gen_ai.operation.name"] == "execute_tool"
        assert attributes["gen_ai.tool.name"] == "secret_retrieval_tool"
        assert attributes["mcp.method.name"] == "tools/call"
        assert attributes["mirascope.mcp.server"] == "secrets"
        assert attributes["mcp.protocol.version"]
        assert "network.transport" not in attributes  # in memory: no network
        assert attributes["gen_ai.tool.call.result"] in SECRETS.values()


def test_a_streamable_http_mcp_tool_span_carries_the_transport(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    with serving(secrets_server().streamable_http_app()) as url:
        _tool_loop(url + "/mcp", replay_server, tmp_path)
    tools = _tool_spans(spans)
    assert len(tools) == 2
    for attributes in tools:
        assert attributes["mcp.method.name"] == "tools/call"
        assert attributes["network.transport"] == "tcp"
        assert attributes["network.protocol.name"] == "http"


def test_an_sse_mcp_tool_span_carries_the_servers_session_id(
    spans: InMemorySpanExporter, replay_server: ReplayServer, tmp_path: Path
) -> None:
    # Streamable HTTP in the current protocol keeps no session; SSE servers still name theirs.
    with serving(secrets_server().sse_app()) as url:
        _tool_loop(url + "/sse", replay_server, tmp_path)
    tools = _tool_spans(spans)
    assert len(tools) == 2
    for attributes in tools:
        assert attributes["mcp.session.id"]
        assert attributes["network.transport"] == "tcp"
