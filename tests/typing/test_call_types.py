"""The types users see. pyright (strict) checks every `assert_type` here as part of the test command;
the functions are not run, since they would call real models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, assert_type

from mirascope import llm


@llm.call("openai:gpt-4o-mini", temperature=0.2)
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book"


@llm.call("anthropic:claude-sonnet-4-5", max_tokens=100)
async def recommend_book_async(genre: str) -> str:
    return f"Recommend a {genre} book"


@llm.call("google:gemini-2.5-flash")
def chat(question: str, *, terse: bool = False) -> list[llm.Message]:
    return [llm.messages.system("Be terse." if terse else "Be kind."), llm.messages.user(question)]


@llm.call("openai:gpt-4o-mini")
def configured(question: str) -> llm.DynamicConfig:
    return {"messages": question, "call_params": {"temperature": 0.1}}


def check_sync_calls_return_call_responses() -> None:
    assert_type(recommend_book("fantasy"), llm.CallResponse)
    assert_type(chat("why?", terse=True), llm.CallResponse)
    assert_type(configured("what?"), llm.CallResponse)
    response = recommend_book("fantasy")
    assert_type(response.resume("another"), llm.CallResponse)
    assert_type(response.content, str)
    assert_type(response.message, llm.Message)
    assert_type(response.tool_calls, list[llm.ToolCall])
    assert_type(response.thinking, str | None)
    assert_type(response.images, list[llm.Image])
    assert_type(response.usage, llm.Usage | None)
    assert_type(response.finish_reason, llm.FinishReason)
    assert_type(response.cost, float | None)
    assert_type(llm.CallResponse.from_dict(response.to_dict()), llm.CallResponse)


async def check_async_calls_return_async_responses() -> None:
    response = await recommend_book_async("fantasy")
    assert_type(response, llm.AsyncCallResponse)
    assert_type(await response.resume("another"), llm.AsyncCallResponse)


def check_models_call_directly() -> None:
    model = llm.model("openai:gpt-4o-mini", max_tokens=10, thinking=llm.Thinking(budget_tokens=1024))
    assert_type(model, llm.Model)
    assert_type(model.call("hi"), llm.CallResponse)
    assert_type(llm.client("openai", base_url="http://localhost:8000/v1"), llm.Client)


def test_decorated_functions_are_calls_of_the_right_kind() -> None:
    assert isinstance(recommend_book, llm.Call)
    assert isinstance(recommend_book_async, llm.AsyncCall)
    assert isinstance(chat, llm.Call)
    assert recommend_book.model.params == {"temperature": 0.2}


@dataclass
class Book:
    title: str
    year: int


@llm.tool
def get_weather(city: str, unit: str = "c") -> str:
    """Current weather in a city."""
    return f"Sunny in {city}"


@llm.call("openai-completions:gpt-4o-mini", stream=True)
def story(topic: str) -> str:
    return f"A story about {topic}"


@llm.call("openai-completions:gpt-4o-mini", stream=True)
async def story_async(topic: str) -> str:
    return f"A story about {topic}"


@llm.call("openai-completions:gpt-4o-mini", response_model=Book)
def pick(genre: str) -> str:
    return f"A {genre} book"


@llm.call("openai-completions:gpt-4o-mini", response_model=Book, stream=True)
def pick_streamed(genre: str) -> str:
    return f"A {genre} book"


@llm.call("openai-completions:gpt-4o-mini", tools=[get_weather])
def ask(question: str) -> str:
    return question


def check_streams_yield_chunks_and_a_response() -> None:
    stream = story("a lighthouse")
    assert_type(stream, llm.Stream[str])
    for chunk in stream:
        assert_type(chunk, llm.Chunk)
        assert_type(chunk.content, str)
        assert_type(chunk.tool_call_delta, llm.ToolCallDelta | None)
    assert_type(stream.response, llm.CallResponse[str])
    assert_type(stream.tool_calls, list[llm.ToolCall])
    assert_type(llm.model("local:smollm2").stream("hi"), llm.Stream[str])


async def check_async_streams_yield_chunks() -> None:
    stream = await story_async("a lighthouse")
    assert_type(stream, llm.AsyncStream[str])
    async for chunk in stream:
        assert_type(chunk, llm.Chunk)
    assert_type(await stream.aresponse(), llm.AsyncCallResponse[str])


def check_response_models_type_parse() -> None:
    response = pick("fantasy")
    assert_type(response, llm.CallResponse[Book])
    assert_type(response.parse(), Book)
    assert_type(response.resume("another").parse(), Book)
    assert_type(pick_streamed("fantasy").response.parse(), Book)
    assert_type(recommend_book("fantasy").parse(), str)
    model = llm.model("local:smollm2", response_model=Book)
    assert_type(model, llm.Model[Book])
    assert_type(model.call("hi").parse(), Book)


def check_tools_keep_their_signature() -> None:
    assert_type(get_weather("Paris"), str)
    assert_type(get_weather(city="Paris", unit="f"), str)
    assert_type(get_weather.parameters, dict[str, Any])
    assert_type(ask("Weather?").tool_calls, list[llm.ToolCall])
    assert_type(ask("Weather?").execute_tools(), list[llm.ToolOutput])


@llm.tool
def greet(ctx: llm.Context[Book], greeting: str) -> str:
    """Greet."""
    return greeting + ctx.deps.title


@llm.call("openai:gpt-4o-mini", tools=[greet])
def helped(ctx: llm.Context[Book], question: str) -> str:
    return question


def check_contexts_carry_their_deps_type() -> None:
    ctx = llm.Context(deps=Book(title="t", year=1))
    assert_type(ctx, llm.Context[Book])
    assert_type(ctx.deps, Book)
    assert_type(greet(ctx, "hi"), str)
    response = helped(ctx, "Hi?")
    assert_type(response, llm.CallResponse[str])
    assert_type(response.execute_tools(ctx), list[llm.ToolOutput])


async def check_async_tool_execution_is_awaited(response: llm.AsyncCallResponse[str]) -> None:
    assert_type(await response.execute_tools(), list[llm.ToolOutput])


class Search(llm.BaseTool):
    """Search the web."""

    query: str

    def call(self) -> str:
        return self.query


@llm.call("openai:gpt-4o-mini", tools=[get_weather, Search])
def research(q: str) -> str:
    return q


def check_tool_classes_are_dataclasses_and_tools() -> None:
    assert_type(Search(query="q").query, str)
    assert_type(Search(query="q").call(), str)
    assert_type(research("q"), llm.CallResponse[str])


@llm.agent(model="openai:gpt-4o-mini", tools=[greet], deps_type=Book)
def librarian(ctx: llm.AgentContext[Book]) -> str:
    return f"You look after {ctx.deps.title}."


@llm.agent(model="openai:gpt-4o-mini", deps_type=Book, response_model=Book)
async def cataloguer(ctx: llm.AgentContext[Book]) -> str:
    return "You catalogue books."


async def check_agents_type_their_deps_and_answers() -> None:
    assert_type(librarian, llm.Agent[Book, str])
    assert_type(librarian("Hi", deps=Book(title="t", year=1)), llm.CallResponse[str])
    assert_type(librarian.stream("Hi").response, llm.CallResponse[str])
    assert_type(cataloguer, llm.AsyncAgent[Book, Book])
    assert_type((await cataloguer("Hi")).parse(), Book)
