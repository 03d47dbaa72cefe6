"""`llm.WebSearch()` on every provider that runs it, against the real recordings of `test_web_search_tool`.

The user asks for Bitcoin's price on a past date with web search on, then resumes asking for
Ethereum's. Each case checks what was sent (both requests, by meaning, against the recorded ones),
that the provider's own search blocks went back on `resume` exactly as the recording sent them,
and that the reply's text and citations are what the recorded response says, read here
independently of the decoders. Streams are checked against the non-streaming call of the same reply.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mirascope import llm

from tests.support.fixtures import find, load
from tests.support.meaning import comparable, meaning
from tests.support.replay import ReplayServer
from tests.support.scenarios import client_for, messages_for, model_id_for, provider_for
from tests.support.streams import assembled_body

CASES = find(("test_web_search_tool", "test_web_search_tool_stream"), ("sync", "stream"))
RESUME = "Please also look up the price of Ethereum on that date"

Cited = tuple[str, str | None, str, str | None]
"""A citation as data: the source's URL and title, the cited span of the reply, the quoted source."""


def _recorded_reply(provider: str, body: dict[str, Any]) -> tuple[str, list[Cited]]:
    """The text and citations of a recorded response, read straight from the provider's JSON."""
    cited: list[Cited]
    if provider == "anthropic":
        texts = [block for block in body["content"] if block["type"] == "text"]
        cited = [
            (c["url"], c["title"], block["text"], c["cited_text"])
            for block in texts
            for c in block.get("citations") or []
            if c["type"] == "web_search_result_location"
        ]
        return "".join(block["text"] for block in texts), cited
    if provider == "openai":
        outputs = [c for item in body["output"] if item["type"] == "message" for c in item["content"]]
        cited = [
            (a["url"], a["title"], c["text"][a["start_index"] : a["end_index"]], None)
            for c in outputs
            for a in c["annotations"]
            if a["type"] == "url_citation"
        ]
        return "".join(c["text"] for c in outputs), cited
    candidate = body["candidates"][0]
    grounding = candidate["groundingMetadata"]
    sources = grounding["groundingChunks"]
    cited = [
        (sources[index]["web"]["uri"], sources[index]["web"]["title"], support["segment"]["text"], None)
        for support in grounding["groundingSupports"]
        for index in support["groundingChunkIndices"]
    ]
    return "".join(part["text"] for part in candidate["content"]["parts"]), cited


def _decoded(response: llm.CallResponse[Any]) -> list[Cited]:
    return [
        (citation.url, citation.title, part.text[citation.start : citation.end], citation.cited_text)
        for part in response.message.content
        if isinstance(part, llm.Text)
        for citation in part.citations
    ]


def _server_side(provider: str, items: list[Any]) -> list[Any]:
    """The provider's own search blocks among an assistant turn's blocks (or Responses output items)."""
    kinds = {
        "anthropic": ("server_tool_use", "web_search_tool_result"),
        "openai": ("web_search_call",),
        "google": (),
    }[provider]
    return [meaning(item) for item in items if item.get("type") in kinds]


def _resent(provider: str, sent: dict[str, Any]) -> list[Any]:
    if provider == "anthropic":
        return [block for m in sent["messages"] if m["role"] == "assistant" for block in m["content"]]
    if provider == "openai":
        return sent["input"]
    return [part for content in sent["contents"] if content["role"] == "model" for part in content["parts"]]


def _text_only(body: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic request with each assistant turn cut to its bare text blocks."""
    messages = [
        {**m, "content": [{"type": "text", "text": b["text"]} for b in m["content"] if b["type"] == "text"]}
        if m["role"] == "assistant" and isinstance(m["content"], list)
        else m
        for m in body["messages"]
    ]
    return {**body, "messages": messages}


def _run(
    fixture: dict[str, Any], mode: str, client: llm.Client, messages: list[llm.Message]
) -> tuple[list[list[llm.Chunk]], list[llm.CallResponse[str]]]:
    model = llm.model(model_id_for(fixture), client=client, tools=[llm.WebSearch()])
    with client:
        if mode == "sync":
            first = model.call(messages)
            assert first.execute_tools() == []  # the provider ran the search: nothing for us to run
            return [], [first, first.resume(RESUME)]
        stream = model.stream(messages)
        first_chunks = list(stream)
        resumed = stream.resume(RESUME)
        return [first_chunks, list(resumed)], [stream.response, resumed.response]


def test_every_provider_has_web_search_recordings() -> None:
    assert len(CASES) == 8


@pytest.mark.parametrize("path", CASES)
def test_web_search_runs_on_the_providers_servers_and_its_blocks_go_back_on_resume_as_recorded(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    mode = Path(path).stem
    provider = provider_for(fixture)
    exchanges = fixture["exchanges"]

    with replay_server.replaying([exchange["response"] for exchange in exchanges]) as session:
        chunks, responses = _run(fixture, mode, client_for(fixture, replay_server.url), messages_for(fixture, tmp_path))

    assert len(session.requests) == 2
    first_recorded = exchanges[0]["response"]
    first_body = first_recorded["json"] if mode == "sync" else assembled_body(fixture["endpoints"][0], first_recorded)
    resumed = session.requests[1].json()
    resent = _resent(provider, resumed)
    assert comparable(session.requests[0].json()) == comparable(exchanges[0]["request"]["json"])
    if provider == "anthropic" and mode == "stream":
        # The recording library sent a streamed reply back as its bare text blocks, dropping the
        # searches and the citations. Claude's reply goes back whole, streamed or not, as the
        # non-streamed recordings send it: its citations point into the search results.
        assert meaning(resent) == meaning(first_body["content"])
        assert comparable(_text_only(resumed)) == comparable(exchanges[1]["request"]["json"])
    else:
        assert comparable(resumed) == comparable(exchanges[1]["request"]["json"])
    first_items = first_body["content"] if provider == "anthropic" else first_body.get("output", [])
    assert _server_side(provider, resent) == _server_side(provider, first_items)
    if provider == "google":
        assert "groundingMetadata" not in json.dumps(resumed)  # only the parts go back
    else:
        assert _server_side(provider, resent)  # the searches did go back

    for response, exchange in zip(responses, exchanges, strict=True):
        recorded = exchange["response"]
        body = recorded["json"] if mode == "sync" else assembled_body(fixture["endpoints"][0], recorded)
        text, cited = _recorded_reply(provider, body)
        assert response.content == text
        assert cited, "every recorded reply cites its sources"
        assert _decoded(response) == cited
        assert [(c.url, c.title) for c in response.citations] == [(url, title) for url, title, _, _ in cited]
        assert response.finish_reason == "stop"
        assert response.tool_calls == []
        restored = llm.CallResponse.from_dict(json.loads(json.dumps(response.to_dict())))
        assert restored.citations == response.citations
        assert restored.messages == response.messages
    for step in chunks:
        assert all(chunk.tool_call_delta is None for chunk in step)  # a server-side search is no tool call
        assert not any(chunk.finish_reason == "tool_call" for chunk in step)


STREAM_CASES = find(("test_web_search_tool_stream",), ("stream",))


@pytest.mark.parametrize("path", STREAM_CASES)
def test_a_streamed_reply_has_the_citations_of_the_same_reply_unstreamed(
    path: str, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(path)
    recorded = fixture["exchanges"][0]["response"]
    whole = {"status": 200, "headers": {"content-type": "application/json"}}
    whole["json"] = assembled_body(fixture["endpoints"][0], recorded)
    client = client_for(fixture, replay_server.url)
    model = llm.model(model_id_for(fixture), client=client, tools=[llm.WebSearch()])
    messages = messages_for(fixture, tmp_path)

    with replay_server.replaying([recorded, whole]), client:
        stream = model.stream(messages)
        content = "".join(chunk.content for chunk in stream)
        plain = model.call(messages)

    assert content == stream.response.content == plain.content
    assert stream.response.citations == plain.citations
    assert stream.response.citations
    assert stream.response.message.raw == plain.message.raw


OPENAI_REPLY = "test_web_search_tool/openai_gpt_4o_responses/sync.json"
ANTHROPIC_REPLY = "test_web_search_tool/anthropic_claude_sonnet_4_0/sync.json"
GOOGLE_REPLY = "test_web_search_tool/google_gemini_2_5_flash/sync.json"
LISBON = llm.UserLocation(city="Lisbon", region="Lisboa", country="PT", timezone="Europe/Lisbon")


def _sent_with(replay_server: ReplayServer, fixture_path: str, search: llm.WebSearch, tmp_path: Path) -> Any:
    """The body of a call with `search` on the fixture's model, answered with its recorded reply."""
    fixture = load(fixture_path)
    client = client_for(fixture, replay_server.url)
    model = llm.model(model_id_for(fixture), client=client, tools=[search])
    with replay_server.replaying([fixture["exchanges"][0]["response"]]) as session, client:
        model.call(messages_for(fixture, tmp_path))
    return session.requests[0].json()


def test_web_search_options_go_to_claude_as_the_server_tools_own(replay_server: ReplayServer, tmp_path: Path) -> None:
    search = llm.WebSearch(max_uses=3, allowed_domains=["coindesk.com", "reuters.com"], user_location=LISBON)

    sent = _sent_with(replay_server, ANTHROPIC_REPLY, search, tmp_path)

    assert sent["tools"] == [
        {
            "type": "web_search_20250305",
            "name": "web_search",
            "max_uses": 3,
            "allowed_domains": ["coindesk.com", "reuters.com"],
            "user_location": {
                "type": "approximate",
                "city": "Lisbon",
                "region": "Lisboa",
                "country": "PT",
                "timezone": "Europe/Lisbon",
            },
        }
    ]


def test_web_search_options_go_to_openai_as_filters_and_a_cap_on_hosted_tool_calls(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    search = llm.WebSearch(max_uses=2, allowed_domains="coindesk.com", user_location=llm.UserLocation(country="PT"))

    sent = _sent_with(replay_server, OPENAI_REPLY, search, tmp_path)

    assert sent["tools"] == [
        {
            "type": "web_search",
            "filters": {"allowed_domains": ["coindesk.com"]},
            "user_location": {"type": "approximate", "country": "PT"},
        }
    ]
    assert sent["max_tool_calls"] == 2


def test_web_search_goes_beside_function_tools(replay_server: ReplayServer, tmp_path: Path) -> None:
    @llm.tool
    def convert(amount: float, currency: str) -> str:
        """Convert an amount of US dollars to another currency."""
        return f"{amount} {currency}"

    fixture = load(GOOGLE_REPLY)
    client = client_for(fixture, replay_server.url)
    model = llm.model(model_id_for(fixture), client=client, tools=[convert, llm.WebSearch()])
    with replay_server.replaying([fixture["exchanges"][0]["response"]]) as session, client:
        response = model.call(messages_for(fixture, tmp_path))

    tools = session.requests[0].json()["tools"]
    assert [next(iter(tool)) for tool in tools] == ["functionDeclarations", "googleSearch"]
    assert tools[0]["functionDeclarations"][0]["name"] == "convert"
    assert list(response.tools) == [convert]  # what execute_tools may run
    assert list(response.provider_tools) == [llm.WebSearch()]


@pytest.mark.parametrize(
    "search",
    [
        llm.WebSearch(max_uses=2),
        llm.WebSearch(allowed_domains=["coindesk.com"]),
        llm.WebSearch(user_location=LISBON),
    ],
    ids=["max_uses", "allowed_domains", "user_location"],
)
def test_google_search_grounding_refuses_options_it_lacks_before_sending(
    search: llm.WebSearch, replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(GOOGLE_REPLY)
    client = client_for(fixture, replay_server.url)
    model = llm.model(model_id_for(fixture), client=client, tools=[search])

    with replay_server.replaying([]) as session, client, pytest.raises(llm.FeatureNotSupportedError) as raised:
        model.call(messages_for(fixture, tmp_path))

    assert session.requests == []
    assert "Grounding with Google Search takes no options" in str(raised.value)
    assert "'anthropic:'" in str(raised.value)


def test_chat_completions_refuses_web_search_naming_the_responses_api(replay_server: ReplayServer) -> None:
    client = llm.client("openai-completions", base_url=replay_server.url + "/v1", api_key="test-key")
    model = llm.model("openai-completions:gpt-4o", client=client, tools=[llm.WebSearch()])

    with replay_server.replaying([]) as session, client, pytest.raises(llm.FeatureNotSupportedError) as raised:
        model.call("What is the price of bitcoin?")

    assert session.requests == []
    assert "use 'openai:gpt-4o', the Responses API" in str(raised.value)


def test_an_openai_compatible_service_refuses_web_search_naming_providers_that_run_it(
    replay_server: ReplayServer,
) -> None:
    client = llm.client("groq", base_url=replay_server.url + "/v1", api_key="test-key")
    stream_model = llm.model("groq:llama-3.3-70b-versatile", client=client, tools=[llm.WebSearch()])

    with replay_server.replaying([]) as session, client, pytest.raises(llm.FeatureNotSupportedError) as raised:
        stream_model.stream("What is the price of bitcoin?")

    assert session.requests == []
    assert "'anthropic:' or 'google:'" in str(raised.value)


def test_a_prompt_function_that_changes_call_params_keeps_web_search(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    fixture = load(OPENAI_REPLY)
    client = client_for(fixture, replay_server.url)

    @llm.call(model_id_for(fixture), client=client, tools=[llm.WebSearch()])
    def lookup(question: str) -> llm.DynamicConfig:
        return {"messages": question, "call_params": {"temperature": 0.5}}

    with replay_server.replaying([fixture["exchanges"][0]["response"]]) as session, client:
        response = lookup("What was the price of bitcoin on Jan 1, 2026?")

    sent = session.requests[0].json()
    assert sent["tools"] == [{"type": "web_search"}]
    assert sent["temperature"] == 0.5
    assert response.citations


def test_web_search_options_are_checked_when_it_is_made() -> None:
    assert llm.WebSearch(allowed_domains="coindesk.com").allowed_domains == ("coindesk.com",)
    with pytest.raises(ValueError, match="max_uses must be 1 or more"):
        llm.WebSearch(max_uses=0)
    with pytest.raises(ValueError, match="pass None to search everywhere"):
        llm.WebSearch(allowed_domains=[])


def test_citations_round_trip_through_to_dict_and_json() -> None:
    citation = llm.Citation(url="https://example.com/a", title="A", start=4, end=9, cited_text="the source")
    reply = llm.Message(role="assistant", content=(llm.Text("See: there.", (citation,)), llm.Text(" Plain.")))
    response = llm.CallResponse(
        messages=(llm.messages.user("Where?"), reply), model="anthropic:claude-sonnet-4-0", finish_reason="stop"
    )

    data = json.loads(json.dumps(response.to_dict()))

    assert data["messages"][1]["content"][0]["citations"] == [
        {"url": "https://example.com/a", "title": "A", "start": 4, "end": 9, "cited_text": "the source"}
    ]
    assert "citations" not in data["messages"][1]["content"][1]  # uncited text is written as before
    restored = llm.CallResponse.from_dict(data)
    assert restored == response
    assert restored.citations == [citation]
    assert restored.content == "See: there. Plain."


def test_a_provider_built_on_refuse_unsupported_refuses_web_search_rather_than_drop_it() -> None:
    from mirascope.llm.providers import Request, refuse_unsupported

    request = Request(
        model_id="acme:model-1",
        model="model-1",
        messages=(llm.messages.user("Search, please."),),
        params={},
        provider_tools=(llm.WebSearch(),),
    )

    with pytest.raises(llm.FeatureNotSupportedError, match="the 'acme' provider runs no tools of its own"):
        refuse_unsupported(request, stream=True, tools=True, format=True)
