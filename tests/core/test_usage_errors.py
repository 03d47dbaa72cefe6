"""The mistakes a new user makes get an `llm.UsageError` saying what to write, before any request.

Never a bare `AttributeError` from inside the library, and never a silent nothing: a decorator
without its model, OpenAI-style dict messages wherever messages are taken, a client of another
provider, things that are not tools or types, a stream read twice, media bytes of no known type.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mirascope import llm

from tests.support.replay import ReplayServer, Session

MODEL = "openai-completions:gpt-4o"
DICT_MESSAGES: list[Any] = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
SPELLING = "llm.messages.system('Be brief.')"


def test_usage_error_is_an_llm_error_and_the_builtins_such_mistakes_raised() -> None:
    assert issubclass(llm.UsageError, llm.Error)
    assert issubclass(llm.UsageError, TypeError)
    assert issubclass(llm.UsageError, ValueError)


@pytest.fixture
def client(replay_server: ReplayServer) -> Iterator[llm.Client]:
    with llm.client("openai-completions", base_url=replay_server.url, api_key="sk-test", max_retries=0) as made:
        yield made


@pytest.fixture
def nothing_sent(replay_server: ReplayServer) -> Iterator[Session]:
    with replay_server.replaying([]) as session:
        yield session
    assert session.requests == []  # every mistake here is refused before a request


def test_llm_call_without_a_model_says_to_pass_one() -> None:
    def recommend_book() -> str:
        return "Recommend a book"

    with pytest.raises(llm.UsageError, match=r'@llm\.call\("openai:gpt-4o-mini"\) above def recommend_book'):
        llm.call(recommend_book)  # pyright: ignore[reportArgumentType]


@pytest.mark.parametrize(
    "misuse",
    [
        lambda fn: llm.agent(fn),  # pyright: ignore[reportCallIssue]
        lambda fn: llm.agent()(fn),  # pyright: ignore[reportCallIssue]
        lambda fn: llm.agent("openai:gpt-4o-mini")(fn),  # pyright: ignore[reportCallIssue]
    ],
    ids=["bare", "no model", "model by position"],
)
def test_llm_agent_without_model_by_name_says_how_to_write_it(misuse: Callable[[Any], Any]) -> None:
    def helper() -> str:
        return "You help."

    with pytest.raises(llm.UsageError, match=r"llm\.agent\(model="):
        misuse(helper)


def _prompt_returning(value: object) -> Callable[[llm.Client], Any]:
    def call(client: llm.Client) -> Any:
        @llm.call(MODEL, client=client)
        def prompt() -> Any:
            return value

        return prompt()

    return call


def _resume_with(content: Any) -> Callable[[llm.Client], Any]:
    def call(client: llm.Client) -> Any:
        reply = llm.messages.assistant("Hello.")
        response = llm.CallResponse(
            messages=(llm.messages.user("hi"), reply), model=MODEL, finish_reason="stop", client=client
        )
        return response.resume(content)

    return call


def _agent_call(client: llm.Client) -> Any:
    @llm.agent(model=MODEL, client=client)
    def helper() -> str:
        return "You help."

    return helper(DICT_MESSAGES)


def _async_call(client: llm.Client) -> Any:
    return asyncio.run(llm.model(MODEL, client=client).call_async(DICT_MESSAGES))


WHERE_MESSAGES_GO: dict[str, Callable[[llm.Client], Any]] = {
    "a prompt function returning a list": _prompt_returning(DICT_MESSAGES),
    "a prompt function returning one": _prompt_returning(DICT_MESSAGES[0]),
    "a DynamicConfig": _prompt_returning({"messages": DICT_MESSAGES}),
    "model.call": lambda client: llm.model(MODEL, client=client).call(DICT_MESSAGES),
    "model.call with one": lambda client: llm.model(MODEL, client=client).call(DICT_MESSAGES[0]),
    "model.stream": lambda client: llm.model(MODEL, client=client).stream(DICT_MESSAGES),
    "model.call_async": _async_call,
    "an agent": _agent_call,
    "resume with one": _resume_with(DICT_MESSAGES[0]),
    "resume with a list": _resume_with(DICT_MESSAGES),
    "llm.messages.user": lambda client: llm.messages.user(DICT_MESSAGES[0]),
}


@pytest.mark.parametrize("where", list(WHERE_MESSAGES_GO))
def test_openai_style_dict_messages_are_refused_with_their_spelling_here(
    client: llm.Client, nothing_sent: Session, where: str
) -> None:
    dicts = r"Messages are llm\.Message values, not dicts: write llm\.messages\."
    with pytest.raises(llm.UsageError, match=dicts) as caught:
        WHERE_MESSAGES_GO[where](client)

    assert SPELLING in str(caught.value) or "llm.messages.user('hi')" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "written"),
    [
        (["hi", "there"], "llm.messages.user('hi')"),
        ([{"role": "tool", "content": "42", "tool_call_id": "c1"}], "response.execute_tools()"),
        (lambda: [llm.messages.user([{"type": "text", "text": "hi"}])], "write 'hi'"),  # refused when built  # pyright: ignore[reportArgumentType]
        (None, "a str (one user message) or a list of llm.Message"),
        (llm.messages.user("hi"), "[llm.messages.user(...)]"),
        ([llm.Image.from_url("https://example.com/cat.png")], "[llm.messages.user([...])]"),
    ],
    ids=["a list of str", "a tool dict", "an openai part dict", "None", "one message", "a bare part"],
)
def test_other_things_that_are_not_a_conversation_say_what_to_write(
    client: llm.Client, nothing_sent: Session, content: Any, written: str | None
) -> None:
    model = llm.model(MODEL, client=client)
    with pytest.raises(llm.UsageError) as caught:
        model.call(content() if callable(content) else content)  # pyright: ignore[reportArgumentType]

    if written is not None:
        assert written in str(caught.value)


def test_an_openai_style_part_dict_is_refused_with_its_spelling() -> None:
    with pytest.raises(llm.UsageError, match=r"write llm\.Image\.from_url\('https://example\.com/cat\.png'\)"):
        llm.messages.user(["Describe", {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}])  # pyright: ignore[reportArgumentType]


@llm.tool
def search(query: str) -> str:
    """Search."""
    return query


class Lookup(llm.BaseTool):
    """Look a word up."""

    word: str

    def call(self) -> str:
        return self.word


def plain_function(query: str) -> str:
    return query


@dataclass
class Book:
    title: str


MISTAKES: dict[str, tuple[Callable[[], Any], str]] = {
    "a model id that is not a str": (lambda: llm.model(42), "A model id is a str"),  # pyright: ignore[reportArgumentType]
    "a model id without a provider": (lambda: llm.model("gpt-4o-mini"), "'openai:gpt-4o-mini'"),
    "a tool that is a plain function": (
        lambda: llm.model(MODEL, tools=[plain_function]),  # pyright: ignore[reportArgumentType]
        "decorate plain_function with @llm.tool",
    ),
    "a tool that is a str": (lambda: llm.model(MODEL, tools=["search"]), "tools= takes @llm.tool functions"),  # pyright: ignore[reportArgumentType]
    "a tool class instance": (lambda: llm.model(MODEL, tools=[Lookup(word="x")]), "tools=[Lookup]"),  # pyright: ignore[reportArgumentType]
    "tools that are not a list": (lambda: llm.model(MODEL, tools=search), "tools=[search]"),  # pyright: ignore[reportArgumentType]
    "a response model instance": (lambda: llm.model(MODEL, response_model=Book("x")), "response_model=Book"),  # pyright: ignore[reportArgumentType, reportCallIssue]
    "a response model named in a str": (lambda: llm.model(MODEL, response_model="Book"), "response_model takes a type"),  # pyright: ignore[reportArgumentType, reportCallIssue]
    "a client that is not one": (
        lambda: llm.model(MODEL, client="openai"),  # pyright: ignore[reportArgumentType]
        "client=llm.client('openai-completions')",
    ),
    "an unknown call parameter": (lambda: llm.model(MODEL, temprature=0.2), "Unknown call parameter(s) temprature"),  # pyright: ignore[reportCallIssue]
    "max_retries below 0": (lambda: llm.model(MODEL, max_retries=-1), "max_retries must be 0 or more"),
    "a client setting the provider does not know": (
        lambda: llm.client("openai", organisation="acme"),
        "its settings are api_key, base_url",
    ),
    "a timeout of 0": (lambda: llm.Timeout(read=0), "Timeouts are seconds above 0"),
    "llm.call decorating text": (lambda: llm.call(MODEL)("Hi"), f"write llm.model('{MODEL}').call(...)"),  # pyright: ignore[reportArgumentType, reportCallIssue]
    "llm.tool given a name by position": (lambda: llm.tool("search"), "@llm.tool(name='search')"),  # pyright: ignore[reportArgumentType]
    "llm.client given no prefix": (lambda: llm.client(None), "llm.client('openai')"),  # pyright: ignore[reportArgumentType]
    "max_steps below 1": (lambda: llm.agent(model=MODEL, max_steps=0)(lambda: "x"), "max_steps must be at least 1"),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_setting_it_cannot_take_is_a_usage_error_saying_what_to_write(mistake: str) -> None:
    make, fix = MISTAKES[mistake]
    with pytest.raises(llm.Error) as caught:
        make()

    assert isinstance(caught.value, llm.UsageError | llm.ProviderNotFoundError)
    assert fix in str(caught.value)


def test_a_client_of_another_provider_is_a_usage_error_naming_the_right_one(nothing_sent: Session) -> None:
    anthropic = llm.client("anthropic", api_key="sk-test")

    with pytest.raises(llm.UsageError, match=r"pass client=llm\.client\('openai', \.\.\.\), or no client="):
        llm.model("openai:gpt-4o-mini", client=anthropic).call("Hi")


def _completion_events(*texts: str) -> list[dict[str, Any]]:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4o"}
    events: list[dict[str, Any]] = [
        {"data": {**base, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}}
        for text in texts
    ]
    events.append({"data": {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}})
    events.append({"data": "[DONE]"})
    return events


def test_a_stream_read_twice_says_it_was_read(replay_server: ReplayServer, client: llm.Client) -> None:
    with replay_server.replaying([{"status": 200, "sse": _completion_events("Hel", "lo")}]):
        stream = llm.model(MODEL, client=client).stream("Hi")
        first = [chunk.content for chunk in stream]

    with pytest.raises(llm.UsageError, match=r"already been read.*stream\.response.*list\(stream\)"):
        list(stream)
    assert "".join(first) == stream.response.content == "Hello"


def test_a_stream_whose_response_was_read_cannot_then_be_iterated(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    with replay_server.replaying([{"status": 200, "sse": _completion_events("Hel", "lo")}]):
        stream = llm.model(MODEL, client=client).stream("Hi")
        assert stream.response.content == "Hello"

    with pytest.raises(llm.UsageError, match="already been read"):
        iter(stream)
    with pytest.raises(llm.UsageError, match="pass response_model= to the call"):
        list(stream.partials())


def test_the_response_of_a_stream_read_in_part_reads_the_rest(replay_server: ReplayServer, client: llm.Client) -> None:
    with replay_server.replaying([{"status": 200, "sse": _completion_events("a", "b", "c")}]):
        stream = llm.model(MODEL, client=client).stream("Hi")
        chunks = iter(stream)
        assert next(chunks).content == "a"

        assert stream.response.content == "abc"


def test_an_async_stream_read_twice_says_it_was_read(replay_server: ReplayServer, client: llm.Client) -> None:
    async def main() -> tuple[str, str]:
        async with client:
            stream = await llm.model(MODEL, client=client).stream_async("Hi")
            text = "".join([chunk.content async for chunk in stream])
            with pytest.raises(llm.UsageError, match="already been read"):
                [chunk async for chunk in stream]
            return text, (await stream.aresponse()).content

    with replay_server.replaying([{"status": 200, "sse": _completion_events("Hel", "lo")}]):
        assert asyncio.run(main()) == ("Hello", "Hello")


def test_an_agent_stream_read_twice_says_it_was_read_and_sends_nothing_again(
    replay_server: ReplayServer, client: llm.Client
) -> None:
    @llm.agent(model=MODEL, client=client)
    def helper() -> str:
        return "You help."

    with replay_server.replaying([{"status": 200, "sse": _completion_events("Hi", "!")}]) as session:
        stream = helper.stream("Hello")
        assert "".join(chunk.content for chunk in stream) == "Hi!"
        with pytest.raises(llm.UsageError, match=r"already been read.*\.response"):
            list(stream)

    assert len(session.requests) == 1
    assert stream.response.content == "Hi!"
    assert len(helper.history) == 2


MEDIA = [llm.Image, llm.Audio, llm.Video, llm.Document]


@pytest.mark.parametrize("part", MEDIA, ids=lambda part: part.__name__)
def test_bytes_of_no_known_type_ask_for_a_whole_mime_type(part: type[Any]) -> None:
    with pytest.raises(llm.UsageError) as caught:
        part.from_bytes(b"garbage")

    message = str(caught.value)
    assert f"llm.{part.__name__}.from_bytes(data, mime_type='" in message
    kind = {"Image": "image/png", "Audio": "audio/mpeg", "Video": "video/mp4", "Document": "application/pdf"}
    assert f"mime_type='{kind[part.__name__]}'" in message
    assert "of;" not in message


@pytest.mark.parametrize("part", MEDIA, ids=lambda part: part.__name__)
def test_a_file_of_no_known_type_names_the_file_and_the_fix(part: type[Any], tmp_path: Path) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(b"garbage")

    with pytest.raises(llm.UsageError, match=rf"llm\.{part.__name__}\.from_file\('.*upload\.bin', mime_type='"):
        part.from_file(path)


def test_bytes_of_another_kind_name_the_part_that_takes_them() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    with pytest.raises(llm.UsageError, match=r"'image/png' is not video media; use llm\.Image for it"):
        llm.Video.from_bytes(png)
    with pytest.raises(llm.UsageError, match=r"mime_type='png' is not a media type; .* mime_type='image/png'"):
        llm.Image.from_bytes(png, mime_type="png")


def test_a_usage_error_quotes_what_was_passed_shortened(client: llm.Client) -> None:
    # The message quotes what was passed, shortened: a long prompt does not flood the error.
    long = {"role": "user", "content": "x" * 5000}
    with pytest.raises(llm.UsageError) as caught:
        llm.model(MODEL, client=client).call([long])  # pyright: ignore[reportArgumentType]

    assert len(str(caught.value)) < 600
    json.dumps(str(caught.value))
