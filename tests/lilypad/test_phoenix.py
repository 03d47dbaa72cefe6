"""Lilypad's OTLP export read back from a real OTLP consumer: Arize Phoenix, run on 127.0.0.1.

`scripts/phoenix.sh` installs Phoenix into its own environment (.cache/phoenix) on the first run;
the module starts one server on free ports with a throwaway working directory and stops it at
the end. Real calls replayed through the local server are traced by `configure(otlp=...)`, and
every assertion reads what Phoenix stored, through Phoenix's REST API. A Phoenix that cannot be
installed or started fails the module: it is the point of these tests, not an optional extra.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import mirascope.lilypad as lilypad
import pytest
from mirascope import llm
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from tests.support.fixtures import load
from tests.support.replay import ReplayServer
from tests.support.scenarios import SECRETS, client_for, messages_for, model_id_for, secret_retrieval_tool

# Installing Phoenix (first run) and starting it take seconds to minutes.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# Hang guards, not timings: a busy 2-core machine has taken a minute to start Phoenix.
STARTUP_DEADLINE = 180.0
ARRIVAL_DEADLINE = 60.0


@dataclass
class Phoenix:
    url: str
    log: Path

    @property
    def otlp_endpoint(self) -> str:
        return f"{self.url}/v1/traces"

    def spans(self, project: str, count: int) -> list[dict[str, Any]]:
        """The project's spans once `count` have arrived (Phoenix stores what it receives in batches)."""
        spans: list[dict[str, Any]] = []
        deadline = time.monotonic() + ARRIVAL_DEADLINE
        while time.monotonic() < deadline:
            spans = self._all_spans(project)
            if len(spans) >= count:
                return spans
            time.sleep(0.2)
        pytest.fail(
            f"Phoenix holds {len(spans)} of the {count} spans exported to project {project}: {spans}\n"
            f"Phoenix's log:\n{_log_tail(self.log)}"
        )

    def _all_spans(self, project: str) -> list[dict[str, Any]]:
        spans: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": "1000"}
        while True:
            response = httpx.get(f"{self.url}/v1/projects/{project}/spans", params=params, timeout=30)
            if response.status_code == 404:  # the project appears with its first span
                return []
            response.raise_for_status()
            body = response.json()
            spans.extend(body["data"])
            if not body.get("next_cursor"):
                return spans
            params["cursor"] = body["next_cursor"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoenix]:
    install = subprocess.run(
        ["bash", str(REPO / "scripts" / "phoenix.sh")], capture_output=True, text=True, timeout=1800
    )
    if install.returncode != 0:
        pytest.fail(
            f"scripts/phoenix.sh could not install Phoenix:\n{install.stdout[-3000:]}\n{install.stderr[-3000:]}"
        )
    executable = install.stdout.strip().splitlines()[-1]
    workdir = tmp_path_factory.mktemp("phoenix")
    port, grpc_port = _free_port(), _free_port()
    # Nothing of the developer's own Phoenix or OpenTelemetry setup reaches this server.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOENIX_", "OTEL_")) and k != "VIRTUAL_ENV"}
    env |= {
        "PHOENIX_WORKING_DIR": str(workdir),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    log = workdir / "server.log"
    server = Phoenix(url=f"http://127.0.0.1:{port}", log=log)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [executable, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while True:
            if process.poll() is not None:
                pytest.fail(f"Phoenix exited with {process.returncode} before it was ready:\n{_log_tail(log)}")
            try:
                if httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Phoenix was not ready after {STARTUP_DEADLINE:.0f} s:\n{_log_tail(log)}")
            time.sleep(0.5)
        yield server
    finally:
        # The whole process group: whatever Phoenix started goes with it.
        _kill_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid, signal.SIGKILL)
            process.wait()


def _kill_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is gone already (Phoenix exited at startup)
        os.killpg(pid, sig)


@dataclass
class Exported:
    """One test's tracing: a fresh provider that lilypad exports to Phoenix, under the test's own project."""

    phoenix: Phoenix
    project: str
    provider: TracerProvider

    def spans(self, count: int) -> list[dict[str, Any]]:
        """What Phoenix stored of the `count` spans the test made (exported now, not on the batch schedule)."""
        assert self.provider.force_flush(30_000)
        return self.phoenix.spans(self.project, count)


@pytest.fixture
def exported(request: pytest.FixtureRequest, phoenix: Phoenix) -> Iterator[Exported]:
    project = request.node.name.replace("[", "-").replace("]", "")
    # Phoenix files spans under the project their resource names.
    provider = TracerProvider(resource=Resource.create({"openinference.project.name": project}))
    lilypad.configure(tracer_provider=provider, otlp=phoenix.otlp_endpoint, capture_content=True)
    try:
        yield Exported(phoenix, project, provider)
    finally:
        for instrument in llm.instrumentation.registered():
            if isinstance(instrument, lilypad.LilypadInstrument):
                llm.instrumentation.unregister(instrument)
        provider.shutdown()


def _replayed_call(path: str, server: ReplayServer, tmp_path: Path, **kwargs: Any) -> Any:
    fixture = load(path)
    client = client_for(fixture, server.url)
    messages = messages_for(fixture, tmp_path)

    @llm.call(model_id_for(fixture), client=client, **kwargs)
    def prompt() -> list[llm.Message]:
        return messages

    with server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        return prompt()


def _named(spans: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [span for span in spans if span["name"].startswith(prefix)]


def _assert_no_key(span: dict[str, Any]) -> None:
    assert "test-key" not in json.dumps(span)


def test_a_call_arrives_with_its_genai_attributes(
    exported: Exported, replay_server: ReplayServer, tmp_path: Path
) -> None:
    response = _replayed_call("test_call/openai_gpt_4o_completions/sync.json", replay_server, tmp_path)
    (span,) = exported.spans(1)
    attributes = span["attributes"]
    assert span["name"] == "chat gpt-4o"
    assert span["parent_id"] is None
    assert span["status_code"] == "UNSET"  # the GenAI conventions leave a success unset
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "gpt-4o"
    assert attributes["gen_ai.response.model"] == response.provider_model
    assert attributes["gen_ai.response.id"] == response.id
    assert response.usage is not None
    assert attributes["gen_ai.usage.input_tokens"] == response.usage.input_tokens
    assert attributes["gen_ai.usage.output_tokens"] == response.usage.output_tokens
    assert attributes["gen_ai.response.finish_reasons"] == [str(response.finish_reason)]
    assert attributes["server.address"] == "127.0.0.1"
    assert json.loads(attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "What is 4200 + 42?"}]}
    ]
    assert "4242" in attributes["gen_ai.output.messages"]
    # Phoenix read the GenAI conventions itself: its own LLM view of the span is filled in from them.
    assert span["span_kind"] == "LLM"
    assert attributes["llm.model_name"] == "gpt-4o"
    assert attributes["llm.token_count.prompt"] == response.usage.input_tokens
    assert attributes["llm.token_count.completion"] == response.usage.output_tokens
    assert attributes["llm.input_messages.0.message.content"] == "What is 4200 + 42?"
    _assert_no_key(span)


def test_a_stream_arrives_with_its_time_to_first_chunk(
    exported: Exported, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call/openai_gpt_4o_completions/stream.json")
    model = llm.model(model_id_for(fixture), client=client_for(fixture, replay_server.url))
    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        stream = model.stream(messages_for(fixture, tmp_path))
        for _ in stream:
            pass
    response = stream.response
    (span,) = exported.spans(1)
    attributes = span["attributes"]
    assert span["name"] == "chat gpt-4o"
    assert span["span_kind"] == "LLM"
    assert attributes["gen_ai.request.stream"] is True
    assert isinstance(attributes["gen_ai.response.time_to_first_chunk"], float)
    assert attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert response.usage is not None
    assert attributes["gen_ai.usage.input_tokens"] == response.usage.input_tokens
    assert attributes["gen_ai.usage.output_tokens"] == response.usage.output_tokens
    assert attributes["gen_ai.response.finish_reasons"] == [str(response.finish_reason)]
    assert "4242" in attributes["gen_ai.output.messages"]
    assert "gen_ai.input.messages" in attributes
    _assert_no_key(span)


def test_tool_spans_arrive_beneath_the_call_that_asked_for_them(
    exported: Exported, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load("test_call_with_tools/openai_gpt_4o_completions/sync.json")
    client = client_for(fixture, replay_server.url)
    messages = messages_for(fixture, tmp_path)

    @llm.call(model_id_for(fixture), client=client, tools=[secret_retrieval_tool])
    def prompt() -> list[llm.Message]:
        return messages

    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        first = prompt()
        final = first.resume(first.execute_tools())
    assert "Moria" in final.content
    spans = exported.spans(4)
    calls = {span["attributes"]["gen_ai.response.id"]: span for span in _named(spans, "chat ")}
    tools = _named(spans, "execute_tool ")
    assert (len(spans), len(calls), len(tools)) == (4, 2, 2)
    asking, answering = calls[first.id], calls[final.id]
    assert asking["attributes"]["gen_ai.response.finish_reasons"] == ["tool_call"]
    passwords: set[str] = set()
    for tool in tools:
        attributes = tool["attributes"]
        assert tool["name"] == "execute_tool secret_retrieval_tool"
        assert tool["parent_id"] == asking["context"]["span_id"]
        assert tool["context"]["trace_id"] == asking["context"]["trace_id"]
        assert tool["span_kind"] == "TOOL"
        assert attributes["gen_ai.operation.name"] == "execute_tool"
        assert attributes["gen_ai.tool.name"] == "secret_retrieval_tool"
        assert attributes["gen_ai.tool.call.id"].startswith("call_")
        password = json.loads(attributes["gen_ai.tool.call.arguments"])["password"]
        passwords.add(password)
        assert SECRETS[password] in attributes["gen_ai.tool.call.result"]
    assert passwords == set(SECRETS)
    # The resumed call was sent the tools' results.
    assert all(secret in answering["attributes"]["gen_ai.input.messages"] for secret in SECRETS.values())
    for span in spans:
        _assert_no_key(span)


def test_an_agent_run_arrives_as_one_trace(exported: Exported, replay_server: ReplayServer) -> None:
    fixture = load("test_call_with_tools/openai_gpt_4o_completions/sync.json")
    client = client_for(fixture, replay_server.url)

    @llm.agent(model=model_id_for(fixture), tools=[secret_retrieval_tool], client=client)
    def keeper(ctx: llm.AgentContext[None]) -> str:
        return "Use parallel tool calling."

    with replay_server.replaying([exchange["response"] for exchange in fixture["exchanges"]]):
        response = keeper("Please retrieve the secrets associated with each of these passwords: mellon,radiance")
    assert "Moria" in response.content
    spans = exported.spans(5)
    (agent,) = _named(spans, "invoke_agent keeper")
    calls = sorted(_named(spans, "chat "), key=lambda span: span["start_time"])
    tools = _named(spans, "execute_tool ")
    assert (len(spans), len(calls), len(tools)) == (5, 2, 2)
    assert agent["parent_id"] is None
    assert agent["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert agent["attributes"]["gen_ai.agent.name"] == "keeper"
    assert all(call["parent_id"] == agent["context"]["span_id"] for call in calls)
    assert all(tool["parent_id"] == calls[0]["context"]["span_id"] for tool in tools)
    assert {span["context"]["trace_id"] for span in spans} == {agent["context"]["trace_id"]}
    for span in spans:
        _assert_no_key(span)


def test_a_failed_call_arrives_as_an_error(exported: Exported, replay_server: ReplayServer, tmp_path: Path) -> None:
    with pytest.raises(llm.APIError):
        _replayed_call("test_authentication_error/openai_gpt_4o_completions/sync.json", replay_server, tmp_path)
    (span,) = exported.spans(1)
    assert span["name"] == "chat gpt-4o"
    assert span["status_code"] == "ERROR"
    assert span["attributes"]["error.type"] == "AuthenticationError"
    assert "401" in span["status_message"]
    (event,) = span["events"]
    assert event["name"] == "exception"
    assert event["attributes"]["exception.type"] == "mirascope.llm.AuthenticationError"
    _assert_no_key(span)


def test_lilypad_export_replays_stored_traces_into_phoenix_with_their_ids(
    phoenix: Phoenix, replay_server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mirascope.lilypad._cli import main as lilypad_cli

    # Offline first: traced into the local store only, then shipped to the collector afterwards.
    provider = TracerProvider()
    lilypad.configure(tracer_provider=provider, store=tmp_path / "offline.db", capture_content=True)
    try:
        response = _replayed_call("test_call/openai_gpt_4o_completions/sync.json", replay_server, tmp_path)
        assert provider.force_flush(30_000)
    finally:
        for instrument in llm.instrumentation.registered():
            if isinstance(instrument, lilypad.LilypadInstrument):
                llm.instrumentation.unregister(instrument)
        provider.shutdown()
    store = lilypad.Store(tmp_path / "offline.db", readonly=True)
    (summary,) = store.traces()
    (stored,) = store.trace(summary.trace_id) or []
    store.close()

    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "openinference.project.name=exported-later")
    assert lilypad_cli(["--db", str(tmp_path / "offline.db"), "export", "--otlp", phoenix.otlp_endpoint]) == 0
    (span,) = phoenix.spans("exported-later", 1)
    assert span["context"] == {"trace_id": stored.trace_id, "span_id": stored.span_id}
    assert span["name"] == "chat gpt-4o"
    assert response.usage is not None
    assert span["attributes"]["gen_ai.usage.output_tokens"] == response.usage.output_tokens
    assert span["attributes"]["gen_ai.response.id"] == response.id
