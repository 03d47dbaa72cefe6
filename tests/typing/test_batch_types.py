"""Batch jobs' types: pyright (strict) checks every `assert_type` here as part of the test command."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, assert_type

from mirascope import llm
from mirascope.llm.batch import BatchJob
from mirascope.llm.providers.batches import BatchCounts, BatchStatus


@dataclass
class Book:
    title: str


@llm.call("openai:gpt-4o-mini")
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book"


@llm.call("openai:gpt-4o-mini", response_model=Book)
def extract_book(text: str) -> str:
    return f"Extract the book: {text}"


@llm.call("openai:gpt-4o-mini")
async def recommend_async(genre: str) -> str:
    return f"Recommend a {genre} book"


def check_batch_types() -> None:
    job = recommend_book.batch([("fantasy",), ("horror",)])
    assert_type(job, BatchJob[str])
    assert_type(job, llm.BatchJob[str])
    assert_type(job.id, str)
    assert_type(job.status, BatchStatus)
    assert_type(job.counts, BatchCounts)
    assert_type(job.wait(), BatchJob[str])
    assert_type(job.results(), list[llm.CallResponse[str] | llm.Error])
    assert_type(job.cancel(), None)
    assert_type(extract_book.batch(["..."], mode="concurrent", concurrency=4), BatchJob[Book])

    model_job = llm.batch(llm.model("openai:gpt-4o-mini"), ["hi", [llm.messages.user("hi")]])
    assert_type(model_job, BatchJob[str])
    assert_type(llm.batch.submit(llm.model("openai:gpt-4o-mini", response_model=Book), ["hi"]), BatchJob[Book])
    assert_type(llm.batch.load("batch_0"), BatchJob[Any])


async def check_async_batch_types() -> None:
    job = await recommend_async.batch(["fantasy"])
    assert_type(job, BatchJob[str])
    assert_type(await job.wait_async(), BatchJob[str])
    assert_type(await job.results_async(), list[llm.CallResponse[str] | llm.Error])
    assert_type(await job.cancel_async(), None)
