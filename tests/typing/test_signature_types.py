"""The generated signatures (scripts/generate_overloads.py): every overload of `llm.call`, `llm.model`,
`@llm.agent`, `llm.override` and `llm.context`, checked by pyright (strict) in the test command.

A line pyright must flag carries `# pyright: ignore[rule]`: the project makes an unneeded ignore an
error (`reportUnnecessaryTypeIgnoreComment`), so the check fails if the flag goes away. The
functions are not run, since they would call real models.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, assert_type

from mirascope import llm


@dataclass
class Book:
    title: str


@dataclass
class Deps:
    user: str


def prompt(genre: str) -> str:
    return f"Recommend a {genre} book"


async def prompt_async(genre: str) -> str:
    return f"Recommend a {genre} book"


def system() -> str:
    return "You recommend books."


async def system_async() -> str:
    return "You recommend books."


SETTINGS: dict[str, Any] = {}


def check_call_overloads_stream_by_response_model() -> None:
    plain = llm.call("openai:gpt-4o-mini", retries=2, fallback="anthropic:claude-haiku-4-5", continue_on_max_tokens=1)
    assert_type(plain(prompt)("fantasy"), llm.CallResponse[str])
    parsed = llm.call("openai:gpt-4o-mini", response_model=Book, max_retries=2)
    assert_type(parsed(prompt)("fantasy"), llm.CallResponse[Book])
    streamed = llm.call("openai:gpt-4o-mini", stream=True, fallback=["google:gemini-2.5-flash"])
    assert_type(streamed(prompt)("fantasy"), llm.Stream[str])
    streamed_parsed = llm.call("openai:gpt-4o-mini", stream=True, response_model=Book)
    assert_type(streamed_parsed(prompt)("fantasy"), llm.Stream[Book])
    assert_type(llm.call("acme:any-model", temperature=0.1)(prompt)("x"), llm.CallResponse[str])


async def check_async_call_overloads() -> None:
    assert_type(await llm.call("openai:gpt-4o-mini")(prompt_async)("x"), llm.AsyncCallResponse[str])
    assert_type(
        await llm.call("openai:gpt-4o-mini", response_model=Book)(prompt_async)("x"), llm.AsyncCallResponse[Book]
    )
    assert_type(await llm.call("openai:gpt-4o-mini", stream=True)(prompt_async)("x"), llm.AsyncStream[str])
    streamed = llm.call("openai:gpt-4o-mini", stream=True, response_model=Book)
    assert_type(await streamed(prompt_async)("x"), llm.AsyncStream[Book])


def check_model_overloads() -> None:
    assert_type(llm.model("openai:gpt-4o-mini", retries=1, continue_on_max_tokens=2), llm.Model[str])
    assert_type(llm.model("anthropic:claude-sonnet-4-5", response_model=Book), llm.Model[Book])
    assert_type(llm.model("acme:any-model", fallback=("openai:gpt-4o",)), llm.Model[str])


def check_agent_overloads_deps_by_response_model() -> None:
    typed = llm.agent(model="openai:gpt-4o-mini", deps_type=Deps, retries=2, continue_on_max_tokens=1)
    assert_type(typed(system), llm.Agent[Deps, str])
    typed_parsed = llm.agent(model="openai:gpt-4o-mini", deps_type=Deps, response_model=Book)
    assert_type(typed_parsed(system), llm.Agent[Deps, Book])
    untyped = llm.agent(model="openai:gpt-4o-mini", fallback="anthropic:claude-haiku-4-5", temperature=0.3)
    assert_type(untyped(system), llm.Agent[None, str])
    assert_type(untyped(system_async), llm.AsyncAgent[None, str])
    untyped_parsed = llm.agent(model="openai:gpt-4o-mini", response_model=Book, max_steps=3)
    assert_type(untyped_parsed(system_async), llm.AsyncAgent[None, Book])


def check_agent_params_are_typed() -> None:
    # `**params` were `Any` before: a wrong call parameter now fails to type-check.
    llm.agent(model="openai:gpt-4o-mini", temperature="hot")  # pyright: ignore[reportArgumentType]


async def check_override_overloads() -> None:
    call = llm.call("openai:gpt-4o-mini")(prompt)
    async_call = llm.call("openai:gpt-4o-mini")(prompt_async)
    changed = llm.override(call, model="anthropic:claude-haiku-4-5", retries=1, fallback="openai:gpt-4o", max_tokens=5)
    assert_type(changed("x"), llm.CallResponse[str])
    assert_type(await llm.override(async_call, continue_on_max_tokens=1)("x"), llm.AsyncCallResponse[str])
    assert_type(llm.override(call, max_retries=2, client=None)("x"), llm.CallResponse[str])


async def check_override_with_a_response_model_types_what_parses() -> None:
    call = llm.call("openai:gpt-4o-mini")(prompt)
    assert_type(llm.override(call, response_model=Book)("x").parse(), Book)
    streamed = llm.call("openai:gpt-4o-mini", stream=True)(prompt)
    assert_type(llm.override(streamed, response_model=Book, temperature=0.0)("x"), llm.Stream[Book])
    async_call = llm.call("openai:gpt-4o-mini")(prompt_async)
    assert_type(await llm.override(async_call, response_model=Book)("x"), llm.AsyncCallResponse[Book])
    async_streamed = llm.call("openai:gpt-4o-mini", stream=True)(prompt_async)
    assert_type(await llm.override(async_streamed, response_model=Book)("x"), llm.AsyncStream[Book])
    parsed = llm.call("openai:gpt-4o-mini", response_model=Book)(prompt)
    assert_type(llm.override(parsed, max_retries=1)("x"), llm.CallResponse[Book])  # kept when not given


def check_context_takes_every_setting() -> None:
    assert_type(llm.context(model="openai:gpt-4o", max_retries=1, retries=0, fallback=()), AbstractContextManager[None])
    with llm.context(continue_on_max_tokens=2, temperature=0.0):
        pass


def check_thinking_on_a_model_that_cannot_think_is_flagged() -> None:
    llm.model("openai:gpt-4o-mini", thinking="high")  # pyright: ignore[reportDeprecated]
    llm.call("anthropic:claude-3-5-haiku", thinking="low")  # pyright: ignore[reportDeprecated]
    llm.call("openai:gpt-4.1", stream=True, thinking="medium")  # pyright: ignore[reportDeprecated]
    llm.agent(model="google:gemini-2.0-flash", thinking="high")  # pyright: ignore[reportDeprecated]
    call = llm.call("openai:gpt-5")(prompt)
    llm.override(call, model="openai:gpt-4o", thinking="high")  # pyright: ignore[reportDeprecated]
    with llm.context(model="openai-completions:gpt-4o", thinking="low"):  # pyright: ignore[reportDeprecated]
        pass


def check_thinking_where_it_applies_is_not_flagged() -> None:
    # A thinking model, an id the table lacks, or a level a model that cannot think accepts.
    assert_type(llm.model("openai:gpt-5", thinking="high"), llm.Model[str])
    assert_type(llm.model("anthropic:claude-sonnet-4-5", thinking=llm.Thinking(budget_tokens=2048)), llm.Model[str])
    assert_type(llm.model("acme:any-model", thinking="high"), llm.Model[str])
    assert_type(llm.model("openai:gpt-4o-mini", thinking="none"), llm.Model[str])
    assert_type(llm.model("openai:gpt-4o-mini", thinking="minimal"), llm.Model[str])
    assert_type(llm.call("openai:o3", thinking="high", response_model=Book)(prompt)("x"), llm.CallResponse[Book])
    call = llm.call("openai:gpt-4o")(prompt)
    assert_type(llm.override(call, thinking="high")("x"), llm.CallResponse[str])  # no model=: not flagged


def check_model_ids_are_known_or_any() -> None:
    known: llm.KnownModel = "google:gemini-2.5-flash"
    assert_type(llm.model(known), llm.Model[str])
    assert_type(llm.call(known)(prompt)("x"), llm.CallResponse[str])
    any_id: str = "acme:any-model"
    assert_type(llm.agent(model=any_id)(system), llm.Agent[None, str])
