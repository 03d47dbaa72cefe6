"""The model table's types: pyright (strict) checks every `assert_type` here as part of the test command."""

from __future__ import annotations

from typing import assert_type

from mirascope import llm


def check_model_info_types(usage: llm.Usage) -> None:
    info = llm.model_info("anthropic:claude-sonnet-4-5")
    assert_type(info, llm.ModelInfo | None)
    if info is not None:
        assert_type(info.cost(usage), float | None)
        assert_type(info.input_price, float | None)
    known: llm.KnownModel = "openai:gpt-4o-mini"
    assert_type(llm.model(known), llm.Model[str])
    assert_type(llm.model("acme:any-model"), llm.Model[str])  # any other id still type-checks
