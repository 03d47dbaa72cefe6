"""`from mirascope import llm` loads the standard library, attrs and core: nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "httpx",
    "cattrs",
    "importlib.metadata",
    "pydantic",
    "opentelemetry",
    "mcp",
    "mcp_types",
    "anyio",
    "mirascope.llm.mcp",
    "asyncio",
    "mirascope.providers",
    # Loaded with the first call, stream, retry or error: each costs `llm`'s import a few
    # milliseconds it need not pay (the benchmark's target is `import httpx` or less).
    "mirascope.llm.providers",
    "mirascope.llm._decoding",
    "mirascope.llm._redact",
    "mirascope.llm._retries",
    "mirascope.llm._partial_json",
    "mirascope.llm._partial_objects",
    "mirascope.llm.serialization",
    "logging",
    "random",
)


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(json.loads(out))


def test_importing_llm_loads_no_heavy_module() -> None:
    loaded = _modules_after("from mirascope import llm")
    assert "mirascope.llm" in loaded
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []


def test_building_a_call_and_messages_still_loads_no_http_client() -> None:
    statement = (
        "from mirascope import llm\n"
        "@llm.call('openai:gpt-4o-mini', temperature=0.1)\n"
        "def f(x: str) -> str:\n    return x\n"
        "llm.messages.user(['hi', llm.Image.from_url('https://example.com/a.png')])"
    )
    loaded = _modules_after(statement)
    assert "httpx" not in loaded
    assert "mirascope.providers.openai" not in loaded
