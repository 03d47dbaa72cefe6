"""A batch job on OpenAI's Batch API: half the price, results in input order, resumable.

Run against a local server speaking OpenAI's Files and Batches APIs in the docs' tests; with
OPENAI_API_KEY set and no OPENAI_BASE_URL it submits to OpenAI itself (and may take a while).
"""

import tempfile

from mirascope import llm


@llm.call("openai:gpt-4o-mini", max_tokens=100)
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book in one sentence."


genres = ["fantasy", "horror", "mystery"]
with tempfile.TemporaryDirectory() as jobs:  # where the job is saved (default: .mirascope/batches)
    job = recommend_book.batch(genres, directory=jobs)
    print(f"submitted {job.id}: {job.counts.total} calls")
    job.wait(progress=False, poll_interval=0.05)  # progress=True (the default) shows a line on stderr
    # Another process could pick the job up now: llm.batch.load(job.id, directory=jobs).
    for genre, result in zip(genres, job.results(), strict=True):
        if isinstance(result, llm.Error):
            print(f"{genre}: failed: {result}")
        else:
            print(f"{genre}: {len(result.content)} characters, cost {result.cost}")
    print(f"status: {job.status}")
