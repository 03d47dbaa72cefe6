"""Structured output as core runs it, whatever the provider: response models, retries, partials.

The provider here is Chat Completions behind an `httpx.MockTransport` that answers each request
in turn and keeps what it was sent; the recorded replays in `tests/providers` cover every wire.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest
from mirascope import llm

from tests.support.completions import Server


@dataclass
class Book:
    """A book."""

    title: str
    year: int


def _stream_server(*texts: str) -> llm.Model[Any]:
    base = {"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o"}
    events = [{**base, "choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]} for t in texts]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    body = b"".join(f"data: {json.dumps(event)}\n\n".encode() for event in events) + b"data: [DONE]\n\n"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = llm.client("openai-completions", base_url="http://test/v1", api_key="k", http_client=http)
    return llm.model("openai-completions:gpt-4o", client=client, response_model=Book)


def test_a_dataclass_reply_parses_into_the_dataclass_and_the_schema_is_strict_by_default() -> None:
    server = Server('{"title": "Dune", "year": 1965}')
    response = server.model(Book).call("A book?")

    assert response.parse() == Book("Dune", 1965)
    assert response.parse() is response.parse()  # parsed once
    response_format = server.sent[0]["response_format"]
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["name"] == "Book"
    assert response_format["json_schema"]["description"] == "A book."


def test_a_primitive_travels_wrapped_as_output_and_is_unwrapped_by_parse() -> None:
    server = Server('{"output": ["a", "b"]}')
    response = server.model(list[Literal["a", "b"]]).call("Letters?")

    assert response.parse() == ["a", "b"]
    schema = server.sent[0]["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["output"]


def test_a_reply_that_bends_the_type_is_a_parse_error_carrying_the_text_and_the_place() -> None:
    response = Server('{"title": "Dune", "year": "1965"}').model(Book).call("A book?")

    with pytest.raises(llm.ParseError) as caught:
        response.parse()

    assert caught.value.text == '{"title": "Dune", "year": "1965"}'
    assert "expected an integer" in caught.value.reason
    assert "$.year" in caught.value.reason


def test_max_retries_asks_again_with_the_reason_and_keeps_the_conversation() -> None:
    server = Server('{"title": "Dune"}', '{"title": "Dune", "year": 1965}')
    response = server.model(Book, max_retries=1).call("A book?")

    assert response.parse() == Book("Dune", 1965)
    retry = server.sent[1]["messages"]
    assert [message["role"] for message in retry] == ["user", "assistant", "user"]
    assert "required field missing @ $.year" in retry[-1]["content"]
    assert len(response.messages) == 4


def test_when_every_retry_fails_the_error_carries_the_last_response_and_so_the_conversation() -> None:
    server = Server("no", "still no")

    with pytest.raises(llm.ParseError) as caught:
        server.model(Book, max_retries=1).call("A book?")

    assert caught.value.response.content == "still no"
    assert len(caught.value.response.messages) == 4
    assert len(server.sent) == 2


def test_validate_on_a_response_retries_even_when_the_call_did_not_ask_to() -> None:
    server = Server("nope", '{"title": "Dune", "year": 1965}')
    response = server.model(Book).call("A book?")

    assert response.validate(max_retries=2).parse() == Book("Dune", 1965)
    assert len(server.sent) == 2


def test_the_async_call_retries_the_same_way() -> None:
    server = Server("nope", '{"title": "Dune", "year": 1965}')

    async def run() -> Book:
        http = httpx.AsyncClient(transport=httpx.MockTransport(server.handler))
        client = llm.client("openai-completions", base_url="http://test/v1", api_key="k", async_http_client=http)
        model = llm.model("openai-completions:gpt-4o", client=client, response_model=Book, max_retries=1)
        return (await model.call_async("A book?")).parse()

    assert asyncio.run(run()) == Book("Dune", 1965)


def test_the_tool_mode_answer_is_the_replys_text_and_no_tool_is_left_to_run() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "__mirascope_formatted_output_tool__"}}
    call["function"]["arguments"] = '{"title": "Dune", "year": 1965}'
    server = Server({"role": "assistant", "content": None, "tool_calls": [call]})
    response = server.model(llm.response_model(Book, mode="tool")).call("A book?")

    assert response.parse() == Book("Dune", 1965)
    assert response.tool_calls == []
    assert response.finish_reason == "stop"
    sent = server.sent[0]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "__mirascope_formatted_output_tool__"}}
    assert sent["messages"][0]["role"] == "system"


def test_json_mode_puts_the_schema_in_the_system_prompt_after_the_users_own() -> None:
    server = Server('```json\n{"title": "Dune", "year": 1965}\n```')
    model = server.model(llm.response_model(Book, mode="json"))
    response = model.call([llm.messages.system("Be brief."), llm.messages.user("A book?")])

    assert response.parse() == Book("Dune", 1965)  # a fenced reply parses too
    system = server.sent[0]["messages"][0]["content"]
    assert system.startswith("Be brief.\nRespond only with valid JSON that matches this exact schema:")
    assert server.sent[0]["response_format"] == {"type": "json_object"}


def test_the_users_instructions_replace_the_default_ones() -> None:
    server = Server('{"title": "Dune", "year": 1965}')
    server.model(llm.response_model(Book, mode="json", instructions="Answer as JSON.")).call("A book?")

    assert server.sent[0]["messages"][0] == {"role": "system", "content": "Answer as JSON."}


def test_a_class_decorated_with_response_model_is_asked_for_its_way() -> None:
    @llm.response_model(mode="tool", strict=False)
    @dataclass
    class Film:
        title: str

    call = {"id": "c", "type": "function", "function": {"name": "__mirascope_formatted_output_tool__"}}
    call["function"]["arguments"] = '{"title": "Alien"}'
    server = Server({"role": "assistant", "content": None, "tool_calls": [call]})
    assert server.model(Film).call("A film?").parse() == Film("Alien")
    assert "strict" not in server.sent[0]["tools"][0]["function"]


def test_an_output_parser_reads_the_text_itself_and_its_errors_are_parse_errors() -> None:
    @llm.output_parser(instructions="Say a number in words.")
    def number(text: str) -> int:
        return {"one": 1, "two": 2}[text.strip()]

    server = Server("two", "three")
    model = server.model(number)
    assert model.call("?").parse() == 2
    assert server.sent[0]["messages"][0] == {"role": "system", "content": "Say a number in words."}
    assert "response_format" not in server.sent[0]
    with pytest.raises(llm.ParseError, match="three"):
        model.call("?").parse()


def test_an_unknown_mode_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="'native', 'tool' or 'json'"):
        llm.response_model(Book, mode="xml")  # type: ignore[arg-type]


def test_partials_fill_fields_as_they_arrive_then_give_the_parsed_object() -> None:
    stream = _stream_server('{"title": "Du', 'ne", "ye', 'ar": 19', "65}").stream("A book?")

    partials = list(stream.partials())

    assert partials[0] == Book("Du", None)  # type: ignore[arg-type]
    assert Book("Dune", None) in partials  # type: ignore[arg-type]
    assert partials[-1] == Book("Dune", 1965)
    assert stream.response.parse() == Book("Dune", 1965)


def test_partials_of_a_reply_that_does_not_parse_end_in_a_parse_error() -> None:
    stream = _stream_server('{"title": ', "7}").stream("A book?")

    with pytest.raises(llm.ParseError):
        list(stream.partials())


def test_partials_need_a_response_model() -> None:
    model = _stream_server('{"title": "x", "year": 1}')
    plain = llm.model(model.id, client=model.client)
    with pytest.raises(llm.Error, match="response_model"):
        list(plain.stream("?").partials())


def test_a_structured_call_on_a_dataclass_never_imports_pydantic() -> None:
    script = textwrap.dedent(
        """
        import json, sys
        from dataclasses import dataclass
        import httpx
        from mirascope import llm

        @dataclass
        class Book:
            title: str

        def handler(request):
            message = {"role": "assistant", "content": '{"title": "Dune"}'}
            return httpx.Response(200, json={"id": "x", "model": "m", "choices": [
                {"index": 0, "message": message, "finish_reason": "stop"}]})

        http = httpx.Client(transport=httpx.MockTransport(handler))
        client = llm.client("openai-completions", base_url="http://t/v1", api_key="k", http_client=http)
        book = llm.model("openai-completions:gpt-4o", client=client, response_model=Book).call("?").parse()
        assert book == Book("Dune")
        print("pydantic" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_pydantic_model_is_validated_by_pydantic_with_its_own_schema() -> None:
    import pydantic

    class Movie(pydantic.BaseModel):
        """A movie."""

        title: str
        year: int = pydantic.Field(ge=1888, description="Release year")

    server = Server('{"title": "Alien", "year": 1979}', '{"title": "Alien", "year": 1000}')
    model = server.model(Movie)
    assert model.call("?").parse() == Movie(title="Alien", year=1979)
    schema = server.sent[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["year"]["minimum"] == 1888
    assert schema["properties"]["year"]["description"] == "Release year"
    with pytest.raises(llm.ParseError, match="greater than or equal to 1888"):
        model.call("?").parse()
