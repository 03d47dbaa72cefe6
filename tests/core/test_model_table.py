"""The model table: `llm.model_info`, `response.cost`, and the checks made before a call."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from mirascope import llm
from mirascope.llm import known_models

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "packages/mirascope-core/src/mirascope/llm"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


class Server:
    """Answers every request with one JSON reply (or SSE events), and keeps the requests."""

    def __init__(self, reply: dict[str, Any] | list[dict[str, Any]]) -> None:
        self.reply = reply
        self.sent: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(json.loads(request.content))
        if isinstance(self.reply, list):
            body = b"".join(f"data: {json.dumps(event)}\n\n".encode() for event in self.reply) + b"data: [DONE]\n\n"
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
        return httpx.Response(200, json=self.reply)

    def model(self, model_id: str, **params: Any) -> llm.Model[str]:
        http = httpx.Client(transport=httpx.MockTransport(self.handler))
        provider = model_id.partition(":")[0]
        client = llm.client(provider, base_url="http://test", api_key="k", http_client=http)
        return llm.model(model_id, client=client, **params)


def _responses_reply(usage: dict[str, Any], model: str) -> dict[str, Any]:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Hi.", "annotations": []}],
    }
    return {"id": "resp_1", "model": model, "status": "completed", "output": [message], "usage": usage}


def _completions_reply(usage: dict[str, Any] | None, model: str = "gpt-4o-mini-2024-07-18") -> dict[str, Any]:
    reply: dict[str, Any] = {
        "id": "chatcmpl-1",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
    }
    if usage is not None:
        reply["usage"] = usage
    return reply


def _gemini_reply(usage: dict[str, Any], model_version: str) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Hi."}]}, "finishReason": "STOP"}],
        "usageMetadata": usage,
        "modelVersion": model_version,
        "responseId": "r1",
    }


# Cost, by hand, for each provider's usage shape. Prices are USD per million tokens.


def test_an_openai_responses_usage_prices_cached_input_at_the_cached_rate_and_reasoning_as_output() -> None:
    usage = {
        "input_tokens": 1200,
        "output_tokens": 300,
        "input_tokens_details": {"cached_tokens": 1000},
        "output_tokens_details": {"reasoning_tokens": 200},
    }
    server = Server(_responses_reply(usage, "gpt-5-mini-2025-08-07"))

    response = server.model("openai:gpt-5-mini").call("Hi")

    # gpt-5-mini: $0.25 input, $0.025 cached input, $2.00 output (the 200 reasoning tokens are in the 300).
    assert response.cost == pytest.approx((200 * 0.25 + 1000 * 0.025 + 300 * 2.00) / 1e6)


def test_a_chat_completions_usage_prices_cached_prompt_tokens_at_the_cached_rate() -> None:
    usage = {"prompt_tokens": 2000, "completion_tokens": 500, "prompt_tokens_details": {"cached_tokens": 1024}}
    server = Server(_completions_reply(usage))

    response = server.model("openai-completions:gpt-4o-mini").call("Hi")

    # gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output.
    assert response.cost == pytest.approx((976 * 0.15 + 1024 * 0.075 + 500 * 0.60) / 1e6)


def test_an_anthropic_usage_prices_cache_writes_and_reads_apart_from_the_rest_of_the_prompt() -> None:
    reply = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "Hi."}],
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": 100,
            "cache_creation_input_tokens": 2000,
            "cache_read_input_tokens": 3000,
            "output_tokens": 400,
        },
    }
    server = Server(reply)

    response = server.model("anthropic:claude-sonnet-4-5").call("Hi")

    assert response.usage is not None
    assert response.usage.input_tokens == 5100
    # claude-sonnet-4-5: $3 input, $3.75 5-minute cache write, $0.30 cache read, $15 output.
    assert response.cost == pytest.approx((100 * 3 + 2000 * 3.75 + 3000 * 0.30 + 400 * 15) / 1e6)


def test_a_gemini_usage_prices_cached_content_at_the_caching_rate_and_thoughts_as_output() -> None:
    usage = {
        "promptTokenCount": 10000,
        "cachedContentTokenCount": 8000,
        "candidatesTokenCount": 200,
        "thoughtsTokenCount": 800,
        "totalTokenCount": 11000,
    }
    server = Server(_gemini_reply(usage, "gemini-2.5-flash"))

    response = server.model("google:gemini-2.5-flash").call("Hi")

    # gemini-2.5-flash: $0.30 input, $0.03 context-cache read, $2.50 output (thoughts included).
    assert response.cost == pytest.approx((2000 * 0.30 + 8000 * 0.03 + 1000 * 2.50) / 1e6)


def test_a_streamed_reply_costs_what_its_final_usage_says() -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o-2024-08-06"}
    events = [
        {**base, "choices": [{"index": 0, "delta": {"content": "Hi."}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**base, "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 100}},
    ]
    stream = Server(events).model("openai-completions:gpt-4o").stream("Hi")

    assert "".join(chunk.content for chunk in stream) == "Hi."
    # gpt-4o: $2.50 input, $10 output.
    assert stream.response.cost == pytest.approx((1000 * 2.50 + 100 * 10) / 1e6)


def test_a_model_the_table_does_not_know_has_no_cost() -> None:
    usage = {"prompt_tokens": 2000, "completion_tokens": 500}
    server = Server(_completions_reply(usage, model="my-finetune"))

    response = server.model("openai-completions:my-finetune").call("Hi")

    assert response.usage is not None
    assert response.cost is None


def test_a_reply_without_usage_has_no_cost() -> None:
    response = Server(_completions_reply(None)).model("openai-completions:gpt-4o-mini").call("Hi")

    assert response.usage is None
    assert response.cost is None


def test_a_compatible_service_is_not_priced_at_openai_rates() -> None:
    usage = {"prompt_tokens": 2000, "completion_tokens": 500}
    response = Server(_completions_reply(usage, model="gpt-4o")).model("openrouter:openai/gpt-4o").call("Hi")

    assert response.cost is None


def test_an_alias_the_table_lacks_is_priced_by_the_model_the_provider_reports() -> None:
    usage = {"promptTokenCount": 1000, "candidatesTokenCount": 100, "totalTokenCount": 1100}
    server = Server(_gemini_reply(usage, "gemini-2.5-flash"))

    response = server.model("google:gemini-flash-latest").call("Hi")

    assert llm.model_info("google:gemini-flash-latest") is None
    assert response.cost == pytest.approx((1000 * 0.30 + 100 * 2.50) / 1e6)


def test_a_known_model_without_a_price_has_no_cost() -> None:
    info = llm.model_info("openai-completions:gpt-audio")

    assert info is not None
    assert info.audio_input
    assert info.cost(llm.Usage(input_tokens=10, output_tokens=10)) is None


def test_cache_tokens_without_their_own_price_are_priced_as_input() -> None:
    info = llm.ModelInfo(id="acme:m", input_price=2.0, output_price=8.0)
    usage = llm.Usage(input_tokens=1000, output_tokens=10, cache_read_tokens=300, cache_write_tokens=200)

    assert info.cost(usage) == pytest.approx((1000 * 2.0 + 10 * 8.0) / 1e6)


# Looking models up.


@pytest.mark.parametrize(
    ("model_id", "entry"),
    [
        ("anthropic:claude-sonnet-4-5-20250929", "anthropic:claude-sonnet-4-5"),
        ("anthropic:claude-3-5-haiku-latest", "anthropic:claude-3-5-haiku"),
        ("anthropic:claude-sonnet-4-0", "anthropic:claude-sonnet-4"),
        ("openai:gpt-4o-2024-08-06", "openai:gpt-4o"),
        ("openai:gpt-4o-mini-2024-07-18", "openai:gpt-4o-mini"),
        ("openai-completions:o3-mini-2025-01-31", "openai-completions:o3-mini"),
        ("google:gemini-2.0-flash-001", "google:gemini-2.0-flash"),
        ("google:models/gemini-2.5-flash", "google:gemini-2.5-flash"),
        ("google:gemini-2.5-flash-preview-09-2025", "google:gemini-2.5-flash"),
        ("google:gemini-2.5-flash-lite-preview-06-17", "google:gemini-2.5-flash-lite"),
    ],
)
def test_a_snapshot_or_alias_finds_its_base_entry(model_id: str, entry: str) -> None:
    info = llm.model_info(model_id)

    assert info is not None
    assert info.id == entry


@pytest.mark.parametrize(
    "model_id",
    [
        "openai:gpt-4o-search-preview",  # a different model, not a snapshot of gpt-4o
        "openai:o3-pro",
        "anthropic:claude-future-9",
        "google:gemini-3-flash-preview",
        "openrouter:openai/gpt-4o",  # another service's prices are its own
        "ollama:llama3.2",
    ],
)
def test_a_model_that_is_not_a_snapshot_of_a_known_one_is_unknown(model_id: str) -> None:
    assert llm.model_info(model_id) is None


def test_a_longer_name_is_not_read_as_the_shorter_one_it_starts_with() -> None:
    image_model = llm.model_info("google:gemini-2.5-flash-image")
    mini = llm.model_info("openai:gpt-4o-mini")

    assert image_model is not None
    assert image_model.id == "google:gemini-2.5-flash-image"
    assert image_model.image_output
    assert not image_model.thinking
    assert mini is not None
    assert mini.id == "openai:gpt-4o-mini"


def test_every_known_model_id_is_in_the_table_and_named_by_known_model() -> None:
    from typing import get_args

    from mirascope.llm._model_data import MODELS

    ids = get_args(llm.KnownModel)
    assert list(ids) == list(MODELS)
    for model_id in ids:
        info = llm.model_info(model_id)
        assert info is not None
        assert info.id == model_id


def test_the_table_is_not_read_when_llm_is_imported_or_a_call_is_built() -> None:
    code = (
        "import sys\n"
        "from mirascope import llm\n"
        "llm.model('openai:gpt-4o-mini', temperature=0.1)\n"
        "assert 'mirascope.llm._model_data' not in sys.modules\n"
        "assert llm.model_info('openai:gpt-4o-mini') is not None\n"
        "assert 'mirascope.llm._model_data' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# Checks made before a call.


def _refused(model: llm.Model[str], server: Server, part: llm.ContentPart) -> llm.FeatureNotSupportedError:
    with pytest.raises(llm.FeatureNotSupportedError) as raised:
        model.call([llm.messages.user(["Look", part])])
    assert server.sent == []
    return raised.value


def test_an_image_for_a_known_text_only_model_is_refused_before_sending_naming_one_that_takes_images() -> None:
    server = Server(_completions_reply(None))

    error = _refused(server.model("openai:o3-mini"), server, llm.Image.from_bytes(PNG))

    assert error.feature == "Image"
    assert error.model == "openai:o3-mini"
    assert "takes no image input" in str(error)
    assert "'openai:gpt-5'" in str(error)


def test_a_pdf_for_a_known_text_only_model_is_refused_but_a_text_document_is_sent() -> None:
    server = Server(_completions_reply(None))
    model = server.model("openai-completions:o3-mini")

    error = _refused(model, server, llm.Document.from_bytes(PDF))
    model.call([llm.messages.user(["Read", llm.Document.from_bytes(b"notes", mime_type="text/plain")])])

    assert error.feature == "Document"
    assert "PDF" in str(error)
    assert len(server.sent) == 1


def test_video_for_a_model_whose_provider_has_none_that_takes_it_names_another_providers_model() -> None:
    server = Server(_completions_reply(None))

    error = _refused(server.model("anthropic:claude-haiku-4-5"), server, llm.Video.from_url("https://x/v.mp4"))

    assert error.feature == "Video"
    assert "'google:" in str(error)


def test_audio_on_the_responses_api_names_the_chat_completions_audio_model() -> None:
    server = Server(_completions_reply(None))

    error = _refused(server.model("openai:gpt-4o"), server, llm.Audio.from_bytes(b"ID3" + b"\x00" * 16))

    assert "'openai-completions:gpt-audio'" in str(error)


@pytest.mark.parametrize(
    ("model_id", "reply"),
    [
        ("openai:my-vision-model", _responses_reply({}, "my-vision-model")),
        ("openai-completions:my-vision-model", _completions_reply(None, "my-vision-model")),
    ],
)
def test_an_unknown_model_is_not_checked_before_the_call(model_id: str, reply: dict[str, Any]) -> None:
    server = Server(reply)

    response = server.model(model_id).call([llm.messages.user(["Look", llm.Image.from_bytes(PNG)])])

    assert response.content == "Hi."
    assert len(server.sent) == 1


def test_the_model_table_says_which_models_think() -> None:
    server = Server(_completions_reply(None))

    with pytest.raises(llm.FeatureNotSupportedError):
        server.model("openai-completions:gpt-4.1-2025-04-14", thinking="low").call("Hi")
    server.model("openai-completions:o3-mini-2025-01-31", thinking="low").call("Hi")

    assert server.sent[-1]["reasoning_effort"] == "low"


# The generated files.


def _generate(*args: str) -> subprocess.CompletedProcess[str]:
    script = REPO / "scripts/generate_models.py"
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, check=False)


def test_the_generated_table_is_up_to_date() -> None:
    result = _generate("--check")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("_model_data.py", lambda text: text.replace('"input_price": 2.5,', '"input_price": 2.0,', 1)),
        ("_known_model_ids.py", lambda text: text.replace('    "openai:gpt-4o",\n', "", 1)),
    ],
)
def test_the_generators_check_fails_on_a_stale_file(tmp_path: Path, name: str, change: Callable[[str], str]) -> None:
    for generated in ("_model_data.py", "_known_model_ids.py"):
        shutil.copy(CORE / generated, tmp_path / generated)
    stale = tmp_path / name
    stale.write_text(change(stale.read_text("utf-8")), "utf-8")

    result = _generate("--check", "--out", str(tmp_path))

    assert result.returncode == 1
    assert "stale" in result.stderr
    assert name in result.stderr


def test_the_generator_rewrites_a_stale_file_to_the_checked_in_one(tmp_path: Path) -> None:
    (tmp_path / "_model_data.py").write_text("stale", "utf-8")

    result = _generate("--out", str(tmp_path))

    assert result.returncode == 0, result.stderr
    for generated in ("_model_data.py", "_known_model_ids.py"):
        assert (tmp_path / generated).read_text("utf-8") == (CORE / generated).read_text("utf-8")


def test_lookups_are_cached_per_model_id() -> None:
    first = llm.model_info("openai:gpt-4o-2024-08-06")

    assert llm.model_info("openai:gpt-4o-2024-08-06") is first
    assert known_models._found["openai:gpt-4o-2024-08-06"] is first  # pyright: ignore[reportPrivateUsage]
