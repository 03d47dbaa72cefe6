"""Every `examples/*.py` and `docs/examples/*.py` runs, unchanged.

Hosted-model examples run against a local fake provider; the quickstart runs the real local model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# A fresh interpreter per example, and the quickstart loads the real local model.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted([*(REPO / "examples").glob("*.py"), *(REPO / "docs" / "examples").glob("*.py")])
CANNED = "Try The Name of the Wind by Patrick Rothfuss."


@pytest.fixture(scope="module")
def fake_provider() -> Iterator[str]:
    # The benchmarks' canned server answers every wire API with a fixed reply, per path.
    server = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "server.py")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO / "benchmarks",
    )
    assert server.stdout is not None
    port = server.stdout.readline().strip()
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait()
    server.stdout.close()


# Realtime examples talk to a replayed WebSocket session: the recording each one's script follows.
REALTIME = {
    "realtime_text.py": "test_openai_ws/test_tool_call_round",
    "realtime_voice.py": "test_openai_ws/test_text_in_audio_out_turn",
}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_docs_example_runs_against_a_local_provider(example: Path, fake_provider: str) -> None:
    if example.name in REALTIME:
        _run_realtime_example(example, REALTIME[example.name])
        return
    if example.name == "batch_openai.py":
        _run_batch_example(example)
        return
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-test",
        "ANTHROPIC_API_KEY": "sk-test",
        "GOOGLE_API_KEY": "test",
        "OPENAI_BASE_URL": fake_provider + "/v1",
        "ANTHROPIC_BASE_URL": fake_provider,
        "GOOGLE_GEMINI_BASE_URL": fake_provider,
    }
    # A guard against a hang, not a speed check: the local model on a loaded 2-core machine has
    # taken over a minute for what takes 3 s idle.
    result = subprocess.run([sys.executable, str(example)], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    if example.name == "quickstart.py":  # a real local model: its words vary, the shape does not
        lines = result.stdout.splitlines()
        assert [line[:8] for line in lines if line[:1] != " "] == ["call:   ", "stream: ", "parse:  "]
        assert "parse:   Book(title=" in result.stdout
    elif example.name == "batch_local.py":  # the real local model: its words vary, the shape does not
        lines = result.stdout.splitlines()
        assert "completed, 3/3 succeeded" in lines[0]
        assert [line.split(":", 1)[0] for line in lines[1:]] == ["fantasy", "horror", "mystery"]
    elif example.name == "mcp_tools.py":  # the fake provider asks for get_weather; a real MCP server answers
        assert result.stdout.count("tool: Sunny, 21 degrees in Paris.") == 2
        assert CANNED in result.stdout
    elif example.name == "errors.py":
        assert "Did you mean 'openai'?" in result.stdout
        assert "cannot take Audio" in result.stdout
    else:
        assert CANNED in result.stdout


def _run_realtime_example(example: Path, recording: str) -> None:
    from tests.support.ws_replay import ThreadedReplayServer, load_recording

    with ThreadedReplayServer(load_recording(recording)) as server:
        env = {**os.environ, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"http://127.0.0.1:{server.port}/v1"}
        result = subprocess.run([sys.executable, str(example)], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        server.finished(timeout=10).check()  # every message the recorded client sent, the example sent
    if example.name == "realtime_text.py":
        assert "[get_weather] It is foggy and 12 degrees in London." in result.stdout
        assert "assistant: It is foggy and 12 degrees in London." in result.stdout
    else:
        assert "Hi there!" in result.stdout
        assert "samples (audio/pcm;rate=24000) into reply.wav" in result.stdout


def _run_batch_example(example: Path) -> None:
    from tests.support.openai_batch_server import OpenAIBatchServer

    with OpenAIBatchServer(api_key="sk-test") as server:
        env = {**os.environ, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"{server.url}/v1"}
        result = subprocess.run([sys.executable, str(example)], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        (upload,) = server.requests("POST", "/v1/files")  # one job, one file: every call went in it
    lines = result.stdout.splitlines()
    assert lines[0].startswith("submitted batch_")
    assert lines[0].endswith(": 3 calls")
    assert [line.split(":", 1)[0] for line in lines[1:4]] == ["fantasy", "horror", "mystery"]
    assert all("failed" not in line for line in lines[1:4])
    assert lines[-1] == "status: completed"
    assert upload.body.count(b'"custom_id"') == 3
