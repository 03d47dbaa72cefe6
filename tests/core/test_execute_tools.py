"""`execute_tools`: every call runs, and no failure breaks the tool loop."""

from __future__ import annotations

import asyncio
import enum
import json
from dataclasses import dataclass
from typing import Any

import pytest
from mirascope import llm
from mirascope.llm.settings import CallSettings

from tests.support.scenarios import get_current_weather


@llm.tool
def add(a: int, b: int = 0) -> int:
    """Add two numbers."""
    return a + b


@llm.tool
def shout(text: str) -> str:
    """Shout."""
    return text.upper()


@llm.tool
def fail(reason: str) -> str:
    """Always fails."""
    raise ValueError(reason)


@dataclass
class Weather:
    city: str
    celsius: float


@llm.tool
def weather(city: str) -> Weather:
    """The weather."""
    return Weather(city=city, celsius=21.5)


@llm.tool
async def slow_echo(text: str) -> str:
    """Echo, after a while."""
    await asyncio.sleep(0.01)
    return text


def _response(calls: list[llm.ToolCall], tools: list[llm.Tool[..., Any]], cls: type[Any] = llm.CallResponse) -> Any:
    reply = llm.Message(role="assistant", content=tuple(calls))
    return cls(
        messages=(llm.messages.user("go"), reply),
        model="acme:m",
        finish_reason="tool_call",
        settings=CallSettings.from_arguments(tools=tools),
    )


def test_every_call_runs_in_order_and_answers_with_its_id() -> None:
    calls = [
        llm.ToolCall(id="c1", name="add", args={"a": 2, "b": 3}),
        llm.ToolCall(id="c2", name="shout", args={"text": "hi"}),
        llm.ToolCall(id="c3", name="add", args={"a": 1}),
    ]
    outputs = _response(calls, [add, shout]).execute_tools()
    assert outputs == [
        llm.ToolOutput(id="c1", name="add", result="5"),
        llm.ToolOutput(id="c2", name="shout", result="HI"),
        llm.ToolOutput(id="c3", name="add", result="1"),
    ]


def test_a_result_that_is_not_text_goes_back_as_json() -> None:
    [output] = _response([llm.ToolCall(id="c", name="weather", args={"city": "Paris"})], [weather]).execute_tools()
    assert output == llm.ToolOutput(
        id="c", name="weather", result='{"city": "Paris", "celsius": 21.5}', value={"city": "Paris", "celsius": 21.5}
    )


def test_a_tool_that_raises_becomes_an_error_output_and_the_others_still_run() -> None:
    calls = [
        llm.ToolCall(id="c1", name="fail", args={"reason": "disk full"}),
        llm.ToolCall(id="c2", name="shout", args={"text": "ok"}),
    ]
    failed, ran = _response(calls, [fail, shout]).execute_tools()
    assert failed.is_error
    assert failed.id == "c1"
    assert failed.result == "disk full"
    assert ran == llm.ToolOutput(id="c2", name="shout", result="OK")


def test_a_call_to_a_tool_not_offered_says_which_tools_there_are() -> None:
    [output] = _response([llm.ToolCall(id="c", name="delete_everything", args={})], [add, shout]).execute_tools()
    assert output.is_error
    assert "delete_everything" in output.result
    assert "'add', 'shout'" in output.result


@pytest.mark.parametrize("args", [{}, {"a": 1, "c": 2}, {"b": 2}], ids=["missing", "unexpected", "required-missing"])
def test_arguments_that_do_not_fit_become_an_error_output_naming_the_tool(args: dict[str, object]) -> None:
    [output] = _response([llm.ToolCall(id="c", name="add", args=args)], [add]).execute_tools()
    assert output.is_error
    assert "do not fit add" in output.result


def test_the_sync_api_runs_an_async_tool_to_completion() -> None:
    [output] = _response([llm.ToolCall(id="c", name="slow_echo", args={"text": "x"})], [slow_echo]).execute_tools()
    assert output == llm.ToolOutput(id="c", name="slow_echo", result="x")


def test_the_async_api_awaits_async_tools_concurrently_in_call_order() -> None:
    running: list[str] = []

    @llm.tool
    async def meet(text: str) -> str:
        """Echo once all three calls are running; the first called finishes last."""
        running.append(text)
        # Run one after another, the first would wait here until this hang guard fails it.
        async with asyncio.timeout(10):
            while len(running) < 3:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.01 * (3 - int(text)))
        return text

    calls = [llm.ToolCall(id=f"c{i}", name="meet", args={"text": str(i)}) for i in range(3)]
    calls.append(llm.ToolCall(id="c3", name="fail", args={"reason": "no"}))
    outputs = asyncio.run(_response(calls, [meet, fail], llm.AsyncCallResponse).execute_tools())

    assert [o.result for o in outputs[:3]] == ["0", "1", "2"]
    assert outputs[3].is_error


def test_a_reply_without_tool_calls_runs_nothing() -> None:
    assert _response([], [add]).execute_tools() == []


def test_a_strict_tool_requires_every_property_and_makes_the_optional_ones_nullable() -> None:
    schema = get_current_weather.parameters
    assert schema["required"] == ["location", "unit"]
    assert schema["additionalProperties"] is False
    assert "default" not in json.dumps(schema)
    unit = schema["properties"]["unit"]
    assert {"type": "null"} in unit.get("anyOf", []) or "null" in unit.get("type", [])


def test_a_null_for_an_optional_parameter_of_a_strict_tool_means_its_default() -> None:
    call = llm.ToolCall(id="c", name="get_current_weather", args={"location": "Paris", "unit": None})
    [output] = _response([call], [get_current_weather]).execute_tools()
    assert output == llm.ToolOutput(id="c", name="get_current_weather", result="72 degrees fahrenheit in Paris")


@dataclass
class Deps:
    user_name: str


@llm.tool
def greet(ctx: llm.Context[Deps], greeting: str) -> str:
    """Greet the user by name.

    Args:
        greeting: The word to greet with.
    """
    return f"{greeting}, {ctx.deps.user_name}!"


def test_a_context_parameter_is_left_out_of_the_schema_the_model_sees() -> None:
    assert greet.takes_context
    assert greet.parameters["properties"].keys() == {"greeting"}
    assert greet.parameters["required"] == ["greeting"]
    assert not add.takes_context


def test_execute_tools_injects_the_context_given_to_it() -> None:
    call = llm.ToolCall(id="c", name="greet", args={"greeting": "Hello"})
    [output] = _response([call], [greet]).execute_tools(llm.Context(deps=Deps("William")))
    assert output == llm.ToolOutput(id="c", name="greet", result="Hello, William!")


def test_a_tool_that_wants_a_context_without_one_says_how_to_give_it() -> None:
    call = llm.ToolCall(id="c", name="greet", args={"greeting": "Hello"})
    with pytest.raises(llm.ToolError, match="execute_tools\\(ctx\\)"):
        _response([call], [greet]).execute_tools()


def test_the_model_cannot_pass_the_context_itself() -> None:
    call = llm.ToolCall(id="c", name="greet", args={"ctx": "forged", "greeting": "Hi"})
    [output] = _response([call], [greet]).execute_tools(llm.Context(deps=Deps("William")))
    assert output.is_error


class Search(llm.BaseTool):
    """Search the web.

    Attributes:
        query: What to look for.
        limit: How many results.
    """

    query: str
    limit: int = 3

    def call(self) -> str:
        return f"{self.limit} results for {self.query}"


class StrictSearch(llm.BaseTool):
    """Search, strictly."""

    strict = True
    query: str
    limit: int = 3

    async def call(self) -> str:
        return f"{self.limit} strict results for {self.query}"


def test_a_tool_class_is_described_by_its_name_docstring_and_fields() -> None:
    model = llm.model("openai-completions:gpt-4o", tools=[Search])
    [tool] = model.tools
    assert tool.name == "Search"
    assert tool.description == "Search the web."
    assert tool.parameters["properties"]["query"] == {"type": "string", "description": "What to look for."}
    assert tool.parameters["required"] == ["query"]
    assert llm.model("openai-completions:gpt-4o", tools=[Search]).tools[0] is tool  # built once


def test_a_tool_class_runs_its_call_with_the_models_arguments() -> None:
    [tool] = llm.model("openai-completions:gpt-4o", tools=[Search]).tools
    calls = [
        llm.ToolCall(id="c1", name="Search", args={"query": "attrs"}),
        llm.ToolCall(id="c2", name="Search", args={"quarry": "typo"}),
    ]
    ok, bad = _response(calls, [tool]).execute_tools()
    assert ok == llm.ToolOutput(id="c1", name="Search", result="3 results for attrs")
    assert bad.is_error
    assert "quarry" in bad.result


def test_a_strict_async_tool_class_takes_null_for_a_defaulted_field() -> None:
    [tool] = llm.model("openai-completions:gpt-4o", tools=[StrictSearch]).tools
    assert tool.strict
    assert tool.parameters["required"] == ["query", "limit"]
    call = llm.ToolCall(id="c", name="StrictSearch", args={"query": "x", "limit": None})
    [output] = _response([call], [tool]).execute_tools()
    assert output.result == "3 strict results for x"


def test_a_tool_class_is_a_keyword_only_dataclass() -> None:
    search = Search(query="q")
    assert search.limit == 3
    assert search.call() == "3 results for q"


class Unit(enum.Enum):
    C = "c"
    F = "f"


@dataclass
class Place:
    city: str
    country: str = "FR"


@llm.tool
def forecast(place: Place, unit: Unit = Unit.C, days: list[int] | None = None) -> str:
    """Forecast for a place."""
    assert isinstance(place, Place)
    assert isinstance(unit, Unit)
    return f"{place.city}/{place.country} in {unit.value} for {days or [1]}"


class Trip(llm.BaseTool):
    """Plan a trip."""

    to: Place
    nights: int = 1

    def call(self) -> str:
        return f"{self.nights} nights in {self.to.city}"


def test_json_arguments_become_the_parameters_types() -> None:
    call = llm.ToolCall(id="c", name="forecast", args={"place": {"city": "Nice"}, "unit": "f", "days": [1, 2]})
    [output] = _response([call], [forecast]).execute_tools()
    assert output == llm.ToolOutput(id="c", name="forecast", result="Nice/FR in f for [1, 2]")


def test_arguments_that_cannot_become_the_types_are_an_error_output() -> None:
    call = llm.ToolCall(id="c", name="forecast", args={"place": {"country": "FR"}, "unit": "kelvin"})
    [output] = _response([call], [forecast]).execute_tools()
    assert output.is_error
    assert "do not fit forecast" in output.result


def test_a_tool_class_gets_its_nested_fields_as_their_types() -> None:
    [tool] = llm.model("openai-completions:gpt-4o", tools=[Trip]).tools
    call = llm.ToolCall(id="c", name="Trip", args={"to": {"city": "Lyon"}, "nights": 2})
    [output] = _response([call], [tool]).execute_tools()
    assert output == llm.ToolOutput(id="c", name="Trip", result="2 nights in Lyon")


@llm.tool
def either(value: int | str, maybe: float | None = None) -> str:
    """Echo a number or a word."""
    return f"{value!r} {maybe!r}"


def test_a_union_of_plain_types_passes_the_json_value_as_it_is() -> None:
    call = llm.ToolCall(id="c", name="either", args={"value": "seven", "maybe": 1.5})
    [output] = _response([call], [either]).execute_tools()
    assert output == llm.ToolOutput(id="c", name="either", result="'seven' 1.5")
