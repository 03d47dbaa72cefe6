"""Every Claude request that uses structured outputs goes out under the structured-outputs beta.

`output_format` and strict tools exist only on the beta surface: whichever path puts them in the
body (a native response model, a strict answer tool, a strict user tool, `provider_params`, in
JSON mode too; called or streamed, sync or async, on resume and on a retry), the request carries
the `anthropic-beta` header with the client's own betas and goes to `?beta=true`. A request that
uses none of it carries no beta it was not given.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from mirascope import llm

from tests.providers.anthropic.support import Claude, reply
from tests.support.fixtures import find, load
from tests.support.replay import Received, ReplayServer
from tests.support.scenarios import client_for, messages_for, model_id_for
from tests.support.structured import response_model_for
from tests.support.wire import reply as wire_reply

BETA = "structured-outputs-2025-11-13"
SONNET_45 = "anthropic:claude-sonnet-4-5"
SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer"}},
    "required": ["n"],
    "additionalProperties": False,
}


def _uses_structured_outputs(body: dict[str, Any]) -> bool:
    return "output_format" in body or any(tool.get("strict") is True for tool in body.get("tools", ()))


def _betas(sent: Received) -> list[str]:
    return [name.strip() for name in sent.headers.get("anthropic-beta", "").split(",") if name.strip()]


def _assert_beta_where_needed(sent: Received) -> None:
    if _uses_structured_outputs(sent.json()):
        assert BETA in _betas(sent), sent.headers
        assert sent.query == "beta=true"


STRUCTURED = [
    path
    for path in find(
        (
            "test_structured_output",
            "test_structured_output__json",
            "test_structured_output__strict",
            "test_structured_output__tool",
            "test_structured_output_resume",
            "test_structured_output_resume__json",
            "test_structured_output_resume__strict",
            "test_structured_output_resume__tool",
            "test_structured_output_resume_stream",
            "test_structured_output_resume_stream__json",
            "test_structured_output_resume_stream__strict",
            "test_structured_output_resume_stream__tool",
            "test_structured_stream_sync",
            "test_structured_stream_async",
            "test_strict_mode",
            "test_strict_mode_streamed",
        ),
        ("sync", "async", "stream", "async_stream"),
    )
    if path.split("/")[1].startswith("anthropic")
]


@pytest.mark.parametrize("path", STRUCTURED)
def test_every_recorded_structured_request_carries_the_beta_it_uses(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    exchanges = fixture["exchanges"]
    client = client_for(fixture, replay_server.url)
    model = llm.model(model_id_for(fixture), client=client, response_model=response_model_for(fixture))
    messages = messages_for(fixture, tmp_path)
    then = ["Ok, now choose a different lucky number"] * (len(exchanges) - 1)
    mode = Path(path).stem

    with replay_server.replaying([exchange["response"] for exchange in exchanges]) as session:
        if mode in ("async", "async_stream"):

            async def run() -> None:
                async with client:
                    if mode == "async":
                        response: Any = await model.call_async(messages)
                        for text in then:
                            response = await response.resume(text)
                    else:
                        stream: Any = await model.stream_async(messages)
                        await stream.aresponse()
                        for text in then:
                            stream = await stream.resume(text)
                            await stream.aresponse()

            asyncio.run(run())
        else:
            with client:
                if mode == "sync":
                    response = model.call(messages)
                    for text in then:
                        response = response.resume(text)
                else:
                    stream = model.stream(messages)
                    stream.response  # noqa: B018 - reads the stream to its end
                    for text in then:
                        stream = stream.resume(text)
                        stream.response  # noqa: B018

    assert len(session.requests) == len(exchanges)
    for sent, exchange in zip(session.requests, exchanges, strict=True):
        _assert_beta_where_needed(sent)
        # And only where the recording had one: the client's own betas, or the structured one.
        assert ("anthropic-beta" in sent.headers) == ("anthropic-beta" in exchange["request"]["headers"])


def test_json_mode_with_an_output_format_in_provider_params_goes_out_under_the_beta(claude: Claude) -> None:
    output_format = {"type": "json_schema", "schema": SCHEMA}
    claude.call(
        "A number?",
        model=SONNET_45,
        response_model=llm.response_model(int, mode="json"),
        provider_params={"output_format": output_format},
        replies=[reply([{"type": "text", "text": '{"output": 7}'}])],
    )

    [sent] = claude.requests
    assert sent.json()["output_format"] == output_format
    assert _betas(sent) == [BETA]
    assert sent.query == "beta=true"


def test_an_output_format_in_provider_params_without_a_response_model_goes_out_under_the_beta(
    claude: Claude,
) -> None:
    claude.call(
        "A number?",
        model=SONNET_45,
        provider_params={"output_format": {"type": "json_schema", "schema": SCHEMA}},
        replies=[reply([{"type": "text", "text": '{"n": 7}'}])],
    )

    [sent] = claude.requests
    assert _betas(sent) == [BETA]
    assert sent.query == "beta=true"


def test_a_strict_tool_in_provider_params_goes_out_under_the_beta(claude: Claude) -> None:
    tool = {"name": "lookup", "input_schema": SCHEMA, "strict": True}
    claude.call("Look it up", model=SONNET_45, provider_params={"tools": [tool]})

    [sent] = claude.requests
    assert _betas(sent) == [BETA]


def test_the_beta_joins_betas_the_client_sends_in_its_own_headers(claude: Claude) -> None:
    client = claude.client(headers={"Anthropic-Beta": "files-api-2025-04-14"})
    claude.call(
        "A number?",
        model=SONNET_45,
        client=client,
        response_model=int,
        replies=[reply([{"type": "text", "text": '{"output": 7}'}])],
    )

    [sent] = claude.requests
    assert _betas(sent) == ["files-api-2025-04-14", BETA]
    assert sent.query == "beta=true"


def test_a_beta_the_client_already_sends_is_not_repeated(claude: Claude) -> None:
    client = claude.client(betas=[BETA, "files-api-2025-04-14"])
    claude.call(
        "A number?",
        model=SONNET_45,
        client=client,
        response_model=int,
        replies=[reply([{"type": "text", "text": '{"output": 7}'}])],
    )

    [sent] = claude.requests
    assert _betas(sent) == [BETA, "files-api-2025-04-14"]


@pytest.mark.parametrize(
    ("model", "mode", "strict"),
    [
        (SONNET_45, "json", None),  # the schema in the system prompt only
        (SONNET_45, "tool", False),  # a plain forced tool
        ("anthropic:claude-sonnet-4-0", "tool", None),  # no structured outputs: never strict
        ("anthropic:claude-sonnet-4-0", "json", None),
    ],
)
def test_a_request_using_no_structured_output_feature_carries_no_beta(
    claude: Claude, model: str, mode: llm.FormatMode, strict: bool | None
) -> None:
    answer = wire_reply("anthropic", {"output": 7}, tool=mode == "tool", stream=False)
    claude.call(
        "A number?",
        model=model,
        response_model=llm.response_model(int, mode=mode, strict=strict),
        replies=[answer],
    )

    [sent] = claude.requests
    assert "anthropic-beta" not in sent.headers
    assert sent.query == ""


@pytest.mark.parametrize("form", ["call", "stream", "call_async", "stream_async"])
@pytest.mark.parametrize("mode", ["native", "tool"])
def test_a_structured_conversation_keeps_the_beta_on_every_turn_and_retry(
    replay_server: ReplayServer, form: str, mode: llm.FormatMode
) -> None:
    # The first reply does not parse: the retry and the resume both go out under the beta too.
    stream = form.startswith("stream")
    answers = [{"output": "seven"}, {"output": 7}, {"output": 3}]
    replies = [wire_reply("anthropic", answer, tool=mode == "tool", stream=stream) for answer in answers]
    client = llm.client("anthropic", base_url=replay_server.url, api_key="k", max_retries=0)
    model = llm.model(SONNET_45, client=client, response_model=llm.response_model(int, mode=mode), max_retries=1)

    with replay_server.replaying(replies) as session:
        if form == "call":
            with client:
                assert model.call("A number?").resume("Another").parse() == 3
        elif form == "stream":
            with client:
                first = model.stream("A number?")
                assert first.parse() == 7
                assert model.stream([*first.response.messages, llm.messages.user("Another")]).parse() == 3
        else:

            async def run() -> int:
                async with client:
                    if form == "call_async":
                        return (await (await model.call_async("A number?")).resume("Another")).parse()
                    first = await model.stream_async("A number?")
                    await first.parse()
                    again = await model.stream_async([*(await first.aresponse()).messages, llm.messages.user("x")])
                    return await again.parse()

            assert asyncio.run(run()) == 3

    assert len(session.requests) >= 3
    for sent in session.requests:
        assert _uses_structured_outputs(sent.json()), json.dumps(sent.json())[:300]
        assert _betas(sent) == [BETA]
        assert sent.query == "beta=true"
