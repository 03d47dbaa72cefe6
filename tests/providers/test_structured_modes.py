"""Every structured-output mode on every provider, called and streamed, sync and async, and resumed anywhere.

The recorded replays (`test_recorded_structured.py`) cover the combinations the recordings
hold; this covers the rest with made-up replies in each wire format (`tests/support/wire.py`):
the reply's text is the answer in every mode (the forced tool's call included, streamed as
content chunk by chunk), nothing is left to run, and a conversation resumed on any provider,
this one or another, still asks for the output the way the response model says.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from mirascope import llm

from tests.support.replay import ReplayServer
from tests.support.wire import MODELS, PROVIDERS, asks_for_output, client, reply, schema_sent

MODES: dict[str, tuple[llm.FormatMode, ...]] = {
    "openai": ("native", "tool", "json"),
    "openai-completions": ("native", "tool", "json"),
    "anthropic": ("native", "tool", "json"),
    "google": ("native", "tool", "json"),
}
CASES = [(provider, mode) for provider in PROVIDERS for mode in MODES[provider]]
FORMS = ("call", "stream", "call_async", "stream_async")
ANSWER = {"output": 7}


def _run(model: llm.Model[Any], form: str, content: Any) -> tuple[Any, str]:
    """The response of one call in `form`, and the text its chunks carried (`""` when not streamed)."""
    if form == "call":
        return model.call(content), ""
    if form == "stream":
        stream = model.stream(content)
        streamed = "".join(chunk.content for chunk in stream)
        return stream.response, streamed

    async def run() -> tuple[Any, str]:
        if form == "call_async":
            return await model.call_async(content), ""
        stream = await model.stream_async(content)
        streamed = "".join([chunk.content async for chunk in stream])
        return await stream.aresponse(), streamed

    return asyncio.run(run())


def _answer_of(provider: str, body: dict[str, Any]) -> Any:
    """The earlier structured answer, as a resumed request sends the assistant's turn back."""
    if provider == "google":
        turns = [turn for turn in body["contents"] if turn["role"] == "model"]
        [turn] = turns
        [part] = turn["parts"]
        return json.loads(part["text"])
    if provider == "openai":
        [turn] = [item for item in body["input"] if item.get("role") == "assistant"]
    else:
        [turn] = [item for item in body["messages"] if item.get("role") == "assistant"]
    content = turn["content"]
    text = content if isinstance(content, str) else "".join(block["text"] for block in content)
    return json.loads(text)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("provider", "mode"), CASES)
def test_the_answer_is_the_replys_text_in_every_mode_and_form(
    replay_server: ReplayServer, provider: str, mode: llm.FormatMode, form: str
) -> None:
    stream = form.startswith("stream")
    made = client(provider, replay_server.url)
    model = llm.model(MODELS[provider], client=made, response_model=llm.response_model(int, mode=mode))
    with replay_server.replaying([reply(provider, ANSWER, tool=mode == "tool", stream=stream)]) as session:
        response, streamed = _run(model, form, "A lucky number?")
    made.close()

    [sent] = session.requests
    assert asks_for_output(provider, mode, sent.json())
    assert json.loads(response.content) == ANSWER
    assert response.parse() == 7
    assert response.tool_calls == []
    assert response.finish_reason == "stop"
    if stream:
        # The answer streamed as content, whichever way it was asked for.
        assert json.loads(streamed) == ANSWER


@pytest.mark.parametrize("form", ["call", "stream_async"])
@pytest.mark.parametrize(("provider", "mode"), CASES)
@pytest.mark.parametrize("started_on", PROVIDERS)
def test_a_structured_conversation_resumes_on_any_provider_still_asking_for_the_output(
    replay_server: ReplayServer, started_on: str, provider: str, mode: llm.FormatMode, form: str
) -> None:
    stream = form.startswith("stream")
    first_mode: llm.FormatMode = "tool" if mode == "tool" else MODES[started_on][0]
    response_model = llm.response_model(int, mode=mode)
    first_client, then_client = client(started_on, replay_server.url), client(provider, replay_server.url)
    first_model = llm.model(
        MODELS[started_on],
        client=first_client,
        response_model=llm.response_model(int, mode=first_mode),
    )
    replies = [
        reply(started_on, ANSWER, tool=first_mode == "tool", stream=stream),
        reply(provider, {"output": 3}, tool=mode == "tool", stream=stream),
    ]
    with replay_server.replaying(replies) as session:
        first, _ = _run(first_model, form, "A lucky number?")
        # The same conversation, continued by the model under test (`llm.context` moves it there).
        with llm.context(model=MODELS[provider], client=then_client, response_model=response_model):
            if form == "call":
                second = first.resume("Another one")
            else:

                async def resume() -> Any:
                    model = llm.model(MODELS[started_on], response_model=response_model)
                    again = await model.stream_async([*first.messages, llm.messages.user("Another one")])
                    return await again.aresponse()

                second = asyncio.run(resume())
    first_client.close()
    then_client.close()

    body = session.requests[1].json()
    assert asks_for_output(provider, mode, body), json.dumps(body)[:600]
    if mode != "json":
        assert schema_sent(provider, mode, body)["properties"] == {"output": {"type": "integer"}}
    # The earlier answer goes back as the assistant's text, never as a call left without its output.
    assert _answer_of(provider, body) == ANSWER
    assert second.parse() == 3
    assert second.messages[: len(first.messages)] == first.messages


CUT = [
    ("openai", "call"),
    ("openai", "stream"),
    ("openai-completions", "call"),
    ("openai-completions", "stream"),
    ("anthropic", "stream"),  # a whole Claude reply holds its tool input decoded, cut or not
]


@pytest.mark.parametrize(("provider", "form"), CUT)
@pytest.mark.parametrize("mode", ["tool", "native"])
def test_an_answer_cut_off_at_max_tokens_is_the_text_that_arrived(
    replay_server: ReplayServer, provider: str, form: str, mode: llm.FormatMode
) -> None:
    answer = {"output": 1234567}
    partial = json.dumps(answer)[: len(json.dumps(answer)) // 2]
    made = client(provider, replay_server.url)
    model = llm.model(MODELS[provider], client=made, response_model=llm.response_model(int, mode=mode))
    cut = reply(provider, answer, tool=mode == "tool", stream=form == "stream", cut=True)
    with replay_server.replaying([cut]):
        response, streamed = _run(model, form, "A lucky number?")
    made.close()

    # Not `{"__raw__": ...}`: the answer's own text, as far as it got, and as it streamed.
    assert response.content == partial
    assert streamed == (partial if form == "stream" else "")
    assert response.finish_reason == "max_tokens"
    with pytest.raises(llm.ParseError) as raised:
        response.parse()
    assert raised.value.text == partial


@pytest.mark.parametrize("form", ["stream", "stream_async"])
def test_a_responses_stream_whose_final_event_leaves_out_the_answer_call_keeps_what_streamed(
    replay_server: ReplayServer, form: str
) -> None:
    cut = reply("openai", {"output": 1234567}, tool=True, stream=True, cut=True)
    final = cut["sse"][-1]["data"]
    final["response"] = {**final["response"], "output": []}
    partial = '{"output"'
    made = client("openai", replay_server.url)
    model = llm.model("openai:gpt-4o", client=made, response_model=llm.response_model(int, mode="tool"))
    with replay_server.replaying([cut]):
        response, streamed = _run(model, form, "A lucky number?")
    made.close()

    assert streamed == partial
    assert response.content == partial
    assert response.finish_reason == "max_tokens"
