"""Tools: schema building, and one whole tool round trip against raw httpx, as ratios.

1. Schema for a 10-parameter tool, built by `@llm.tool` from the signature and docstring: the
   first time (a fresh function each run) and again (the same function: cached), against
   pydantic building a model for the same parameters and its JSON schema (`create_model` +
   `model_json_schema`, what a pydantic-based library does per tool).
2. A tool round trip: the call returns a tool call, the tool runs, the resumed request carries
   its output, the final answer comes back. Mirascope does it with `@llm.call(tools=[...])`,
   `execute_tools()` and `resume(...)`; the floor is the same two exchanges written by hand with
   raw httpx (build the body, post, read the call, run the function, build the second body,
   post). Same local server, alternating rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import httpx
from mirascope import llm

sys.path.insert(0, str(Path(__file__).parent))
from bench_call import local_server

PROMPT = "Weather in Paris?"


def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: The city name.
    """
    return f"21 degrees in {city}"


def ten(
    city: str,
    country: str,
    days: int,
    unit: Literal["c", "f"] = "c",
    hourly: bool = False,
    lat: float | None = None,
    lon: float | None = None,
    tags: list[str] | None = None,
    limits: dict[str, int] | None = None,
    note: str = "",
) -> str:
    """Forecast for a place.

    Args:
        city: The city name.
        country: The country code.
        days: How many days ahead.
        unit: Temperature unit.
        hourly: Hour by hour rather than daily.
        lat: Latitude, if known.
        lon: Longitude, if known.
        tags: Labels to filter by.
        limits: Caps per measure.
        note: Free text for the forecaster.
    """
    return ""


def _fresh(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The same function under a new identity, so no cache knows it."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__annotations__ = dict(fn.__annotations__)
    copy.__doc__ = fn.__doc__
    copy.__kwdefaults__ = fn.__kwdefaults__
    return copy


def _pydantic_schema(fn: Callable[..., Any]) -> dict[str, Any]:
    import inspect
    import typing

    import pydantic

    hints = typing.get_type_hints(fn)
    fields: dict[str, Any] = {}
    for name, parameter in inspect.signature(fn).parameters.items():
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[name] = (hints[name], default)
    return pydantic.create_model(fn.__name__, **fields).model_json_schema()


def _per_call(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def bench_schema(rounds: int, n: int) -> None:
    fresh = [_fresh(ten) for _ in range(rounds * n * 2 + 50)]
    it = iter(fresh)
    same = _fresh(ten)
    llm.tool(same)
    import pydantic  # noqa: F401 - imported before timing, as a user's app would have

    ours_first: list[float] = []
    ours_cached: list[float] = []
    floors: list[float] = []
    for _ in range(rounds):
        floors.append(_per_call(lambda: _pydantic_schema(next(it)), n))
        ours_first.append(_per_call(lambda: llm.tool(next(it)), n))
        ours_cached.append(_per_call(lambda: llm.tool(same), n))
    floor = statistics.median(floors)
    first = statistics.median(ours_first)
    cached = statistics.median(ours_cached)
    print("schema of a 10-parameter tool, against pydantic create_model + model_json_schema")
    print(f"  first time  {first / floor:6.3f}x")
    print(f"  cached      {cached / floor:6.3f}x  ({first / cached:.0f}x faster than the first time)")


def _floors(url: str, raw: httpx.Client) -> dict[str, Callable[[], object]]:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}

    def responses() -> object:
        tool = {"type": "function", "name": "get_weather", "description": "Current weather.", "parameters": schema}
        first: dict[str, Any] = {"model": "gpt-4o", "input": [{"role": "user", "content": PROMPT}], "tools": [tool]}
        reply = raw.post(url + "/v1/responses", json=first).json()
        call = next(item for item in reply["output"] if item["type"] == "function_call")
        result = get_weather(**json.loads(call["arguments"]))
        output = {"type": "function_call_output", "call_id": call["call_id"], "output": result}
        second = {**first, "input": [*first["input"], call, output]}
        return raw.post(url + "/v1/responses", json=second).json()

    def completions() -> object:
        tool = {"type": "function", "function": {"name": "get_weather", "parameters": schema}}
        first: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": PROMPT}], "tools": [tool]}
        message = raw.post(url + "/v1/chat/completions", json=first).json()["choices"][0]["message"]
        [call] = message["tool_calls"]
        result = get_weather(**json.loads(call["function"]["arguments"]))
        answer = {"role": "tool", "tool_call_id": call["id"], "content": result}
        second = {**first, "messages": [*first["messages"], message, answer]}
        return raw.post(url + "/v1/chat/completions", json=second).json()

    def anthropic() -> object:
        tool = {"name": "get_weather", "input_schema": schema}
        first: dict[str, Any] = {
            "model": "claude-sonnet-4-0",
            "max_tokens": 16000,
            "messages": [{"role": "user", "content": PROMPT}],
            "tools": [tool],
        }
        content = raw.post(url + "/v1/messages", json=first).json()["content"]
        use = next(block for block in content if block["type"] == "tool_use")
        result = {"type": "tool_result", "tool_use_id": use["id"], "content": get_weather(**use["input"])}
        messages = [
            *first["messages"],
            {"role": "assistant", "content": content},
            {"role": "user", "content": [result]},
        ]
        return raw.post(url + "/v1/messages", json={**first, "messages": messages}).json()

    def google() -> object:
        tool = {"functionDeclarations": [{"name": "get_weather", "parametersJsonSchema": schema}]}
        first: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}], "tools": [tool]}
        path = url + "/v1beta/models/gemini-2.5-flash:generateContent"
        content = raw.post(path, json=first).json()["candidates"][0]["content"]
        call = next(part["functionCall"] for part in content["parts"] if "functionCall" in part)
        response = {"functionResponse": {"name": call["name"], "response": {"output": get_weather(**call["args"])}}}
        contents = [*first["contents"], content, {"role": "user", "parts": [response]}]
        return raw.post(path, json={**first, "contents": contents}).json()

    return {"openai": responses, "openai-completions": completions, "anthropic": anthropic, "google": google}


_MODELS = {
    "openai": ("openai:gpt-4o", "/v1", {"authorization": "Bearer k"}),
    "openai-completions": ("openai-completions:gpt-4o", "/v1", {"authorization": "Bearer k"}),
    "anthropic": ("anthropic:claude-sonnet-4-0", "", {"x-api-key": "k", "anthropic-version": "2023-06-01"}),
    "google": ("google:gemini-2.5-flash", "", {"x-goog-api-key": "k"}),
}


def bench_round_trip(url: str, provider: str, rounds: int, n: int) -> float:
    model_id, suffix, headers = _MODELS[provider]
    raw = httpx.Client(headers=headers)
    floor = _floors(url, raw)[provider]
    client = llm.client(provider, base_url=url + suffix, api_key="k")
    tool = llm.tool(get_weather)

    @llm.call(model_id, client=client, tools=[tool])
    def ask() -> str:
        return PROMPT

    def ours() -> object:
        response = ask()
        final = response.resume(response.execute_tools())
        assert not final.tool_calls
        return final

    for fn in (floor, ours):
        _per_call(fn, 30)
    floors: list[float] = []
    mine: list[float] = []
    for _ in range(rounds):
        floors.append(_per_call(floor, n))
        mine.append(_per_call(ours, n))
    raw.close()
    client.close()
    return statistics.median(mine) / statistics.median(floors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    bench_schema(args.rounds, 50)
    with local_server() as url:
        print(f"tool round trip (call, execute, resume) vs raw httpx by hand ({args.rounds} rounds of {args.n})")
        for provider in _MODELS:
            print(f"  {provider:<20} {bench_round_trip(url, provider, args.rounds, args.n):6.3f}x")


if __name__ == "__main__":
    main()
