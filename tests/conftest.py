"""Test-wide fixtures: the replay server, and a clean provider registry and environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.replay import ReplayServer


@pytest.fixture(scope="session")
def replay_server() -> Iterator[ReplayServer]:
    server = ReplayServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries wait without sleeping in tests; each wait a retry asked for is recorded here, in order."""
    from mirascope.llm import _retries

    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def asleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(_retries, "sleep", sleep)
    monkeypatch.setattr(_retries, "asleep", asleep)
    return waits


@pytest.fixture(autouse=True)
def _batch_jobs_outside_the_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`llm.batch` saves jobs under `.mirascope/batches` of the working directory by default: not this checkout."""
    monkeypatch.setenv("MIRASCOPE_BATCH_DIR", str(tmp_path_factory.mktemp("batches")))


@pytest.fixture(autouse=True)
def _fresh_parameter_warnings() -> None:
    """A parameter left out is logged once per process and provider; each test sees its own first time."""
    from mirascope.llm.providers import _parameters  # pyright: ignore[reportPrivateUsage]

    _parameters._warned.clear()  # pyright: ignore[reportPrivateUsage]


@pytest.fixture(autouse=True)
def _fresh_default_clients() -> Iterator[None]:
    """Default clients read keys and base URLs from the environment once; each test gets new ones."""
    yield
    from mirascope.llm import clients

    for client in clients._defaults.values():  # pyright: ignore[reportPrivateUsage]
        client.close()
    clients._defaults.clear()  # pyright: ignore[reportPrivateUsage]


@pytest.fixture(autouse=True)
def _no_real_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real provider with a real key from the developer's environment."""
    for var in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GOOGLE_API_KEY",
        "GEMINI_API_KEY",
        "OPENROUTER_API_KEY",
        "TOGETHER_API_KEY",
        "GROQ_API_KEY",
        "XAI_API_KEY",
        "DEEPSEEK_API_KEY",
        "MISTRAL_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "GOOGLE_GEMINI_BASE_URL",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_ENDPOINT",
        # Every provider honours its `{PREFIX}_BASE_URL` (tests/providers/test_environment.py).
        *(f"{prefix}_BASE_URL" for prefix in ("GOOGLE", "GOOGLE_VERTEX", "AZURE", "OLLAMA", "VLLM", "GROQ")),
        *(f"{prefix}_BASE_URL" for prefix in ("TOGETHER", "OPENROUTER", "XAI", "DEEPSEEK", "MISTRAL")),
    ):
        monkeypatch.delenv(var, raising=False)
