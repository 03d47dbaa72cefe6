"""`llm.call`, `llm.model` and responses, driven end to end through a local server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from mirascope import llm

from tests.support.replay import ReplayServer


def reply(text: str = "Hello!", **extra: Any) -> dict[str, Any]:
    body = {
        "id": "chatcmpl-1",
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
        **extra,
    }
    return {"status": 200, "json": body}


@pytest.fixture
def client(replay_server: ReplayServer) -> Any:
    with llm.client("openai-completions", base_url=replay_server.url + "/v1", api_key="sk-test") as made:
        yield made


def test_a_str_prompt_becomes_one_user_message(client: llm.Client, replay_server: ReplayServer) -> None:
    @llm.call("openai-completions:gpt-4o-mini", client=client, temperature=0.2, max_tokens=64)
    def recommend_book(genre: str) -> str:
        return f"Recommend a {genre} book"

    with replay_server.replaying([reply("Dune.")]) as session:
        response = recommend_book("sci-fi")

    assert session.requests[0].json() == {
        "messages": [{"role": "user", "content": "Recommend a sci-fi book"}],
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "max_tokens": 64,
    }
    assert session.requests[0].headers["authorization"] == "Bearer sk-test"
    assert response.content == str(response) == "Dune."
    assert response.model == "openai-completions:gpt-4o-mini"
    assert response.finish_reason == "stop"
    assert response.usage == llm.Usage(input_tokens=9, output_tokens=3)
    assert response.messages == (llm.messages.user("Recommend a sci-fi book"), response.message)
    assert recommend_book.__name__ == "recommend_book"


def test_a_message_list_prompt_is_sent_in_order(client: llm.Client, replay_server: ReplayServer) -> None:
    @llm.call("openai-completions:gpt-4o-mini", client=client)
    def chat(question: str) -> list[llm.Message]:
        return [
            llm.messages.system("You are terse."),
            llm.messages.user("Hi"),
            llm.messages.assistant("Hello."),
            llm.messages.user(question),
        ]

    with replay_server.replaying([reply()]) as session:
        chat("Why is the sky blue?")

    assert session.requests[0].json()["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Why is the sky blue?"},
    ]


def test_a_dynamic_config_sets_params_and_metadata_for_that_call(
    client: llm.Client, replay_server: ReplayServer
) -> None:
    @llm.call("openai-completions:gpt-4o-mini", client=client, temperature=0.2)
    def ask(question: str) -> llm.DynamicConfig:
        return {"messages": question, "call_params": {"max_tokens": 10}, "metadata": {"tag": "faq"}}

    with replay_server.replaying([reply()]) as session:
        response = ask("What?")

    sent = session.requests[0].json()
    assert sent["temperature"] == 0.2
    assert sent["max_tokens"] == 10
    assert response.metadata == {"tag": "faq"}
    assert response.params == {"temperature": 0.2, "max_tokens": 10}


def test_a_dynamic_config_can_switch_the_model(replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", replay_server.url + "/v1")

    @llm.call("openai-completions:gpt-4o-mini")
    def ask(question: str) -> llm.DynamicConfig:
        return {"messages": question, "model": "openai-completions:gpt-4o"}

    with replay_server.replaying([reply()]) as session:
        response = ask("What?")

    assert session.requests[0].json()["model"] == "gpt-4o"
    assert response.model == "openai-completions:gpt-4o"


def test_a_dynamic_config_keeps_the_client_while_the_provider_stays(
    client: llm.Client, replay_server: ReplayServer
) -> None:
    @llm.call("openai-completions:gpt-4o-mini", client=client)
    def ask(question: str) -> llm.DynamicConfig:
        return {"messages": question, "model": "openai-completions:gpt-4o"}

    with replay_server.replaying([reply()]) as session:
        response = ask("What?")

    assert session.requests[0].headers["authorization"] == "Bearer sk-test"
    assert response.client is client


def test_responses_do_not_share_their_metadata(client: llm.Client, replay_server: ReplayServer) -> None:
    model = llm.model("openai-completions:gpt-4o-mini", client=client)
    with replay_server.replaying([reply(), reply()]):
        first, second = model.call("a"), model.call("b")
    assert first.metadata == second.metadata == {}
    assert first.metadata is not second.metadata


def test_an_async_prompt_function_gives_an_async_call_and_resume(
    client: llm.Client, replay_server: ReplayServer
) -> None:
    @llm.call("openai-completions:gpt-4o-mini", client=client)
    async def recommend_book(genre: str) -> str:
        return f"Recommend a {genre} book"

    async def run() -> tuple[llm.AsyncCallResponse, llm.AsyncCallResponse]:
        first = await recommend_book("fantasy")
        second = await first.resume("Another one?")
        await client.aclose()
        return first, second

    with replay_server.replaying([reply("Dune."), reply("Hyperion.")]) as session:
        first, second = asyncio.run(run())

    assert isinstance(first, llm.AsyncCallResponse)
    assert second.content == "Hyperion."
    assert session.requests[1].json()["messages"] == [
        {"role": "user", "content": "Recommend a fantasy book"},
        {"role": "assistant", "content": "Dune."},
        {"role": "user", "content": "Another one?"},
    ]


def test_resume_keeps_the_params_and_client(client: llm.Client, replay_server: ReplayServer) -> None:
    model = llm.model("openai-completions:gpt-4o-mini", client=client, temperature=0.5, stop="END")
    with replay_server.replaying([reply("A"), reply("B")]) as session:
        response = model.call("Start").resume(["Go on", llm.Text("please")])

    second = session.requests[1].json()
    assert second["temperature"] == 0.5
    assert second["stop"] == ["END"]
    assert second["messages"][-1] == {
        "role": "user",
        "content": [{"type": "text", "text": "Go on"}, {"type": "text", "text": "please"}],
    }
    assert response.content == "B"
    assert len(response.messages) == 4


def test_the_default_client_reuses_one_connection(replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", replay_server.url + "/v1")
    model = llm.model("openai-completions:gpt-4o-mini")

    with replay_server.replaying([reply(), reply(), reply()]) as session:
        for _ in range(3):
            model.call("Hi")

    assert len({request.peer for request in session.requests}) == 1
    assert session.requests[0].headers["authorization"] == "Bearer sk-env"


def test_async_calls_work_across_separate_event_loops(replay_server: ReplayServer) -> None:
    client = llm.client("openai-completions", base_url=replay_server.url + "/v1", api_key="sk-test")
    model = llm.model("openai-completions:gpt-4o-mini", client=client)

    async def once() -> str:
        try:
            return (await model.call_async("Hi")).content
        finally:
            await client.aclose()

    with replay_server.replaying([reply("one"), reply("two")]):
        assert asyncio.run(once()) == "one"
        assert asyncio.run(once()) == "two"


def test_a_prompt_returning_the_wrong_type_says_what_to_return(client: llm.Client) -> None:
    @llm.call("openai-completions:gpt-4o-mini", client=client)
    def broken() -> str:
        return None  # type: ignore[return-value]

    with pytest.raises(TypeError, match=r"returns a str, a list of llm\.Message, or an llm\.DynamicConfig"):
        broken()


def test_an_unknown_call_parameter_is_refused_at_decoration() -> None:
    with pytest.raises(TypeError, match="provider_params"):
        llm.call("openai:gpt-4o", temprature=0.2)  # type: ignore[call-arg]


def test_provider_params_are_passed_through_unchanged(client: llm.Client, replay_server: ReplayServer) -> None:
    model = llm.model(
        "openai-completions:gpt-4o-mini",
        client=client,
        provider_params={"logprobs": True, "user": "u-1"},
    )
    with replay_server.replaying([reply()]) as session:
        model.call("Hi")
    sent = session.requests[0].json()
    assert sent["logprobs"] is True
    assert sent["user"] == "u-1"


def test_a_response_round_trips_through_json(client: llm.Client, replay_server: ReplayServer) -> None:
    messages = [
        llm.messages.system("Be brief."),
        llm.messages.user(
            [
                "Look:",
                llm.Image.from_url("https://example.com/cat.png"),
                llm.Document.from_bytes(b"%PDF-1.4 x"),
            ]
        ),
        llm.messages.assistant(
            [
                llm.Thought(text="hmm", signature="sig"),
                llm.ToolCall(id="c1", name="f", args={"x": [1, 2]}),
            ]
        ),
        llm.messages.user([llm.ToolOutput(id="c1", name="f", result="3"), llm.CacheControl(ttl="1h")]),
    ]
    response = llm.CallResponse(
        messages=(*messages, llm.messages.assistant("Done.")),
        model="openai:gpt-4o",
        finish_reason="stop",
        usage=llm.Usage(input_tokens=5, output_tokens=2, reasoning_tokens=1),
        params={"temperature": 0.1, "stop": ["x"], "thinking": llm.Thinking(level="low")},
        raw={"id": "r", "output": []},
        client=client,
    )
    restored = llm.CallResponse.from_dict(json.loads(json.dumps(response.to_dict())))
    assert restored == response
    assert restored.client is None
    assert restored.content == "Done."


def test_response_accessors_read_the_assistant_message() -> None:
    image = llm.Image.from_bytes(b"\x89PNG\r\n\x1a\n....")
    response = llm.CallResponse(
        messages=(
            llm.messages.user("Hi"),
            llm.messages.assistant(
                [
                    llm.Thought(text="a"),
                    llm.Thought(text="b"),
                    "x",
                    image,
                    "y",
                    llm.ToolCall(id="1", name="t"),
                ]
            ),
        ),
        model="openai:gpt-4o",
        finish_reason="tool_call",
    )
    assert response.content == "xy"
    assert response.thinking == "a\nb"
    assert response.images == [image]
    assert [call.name for call in response.tool_calls] == ["t"]
    assert response.cost is None
