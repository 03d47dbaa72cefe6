"""A batch job on the local model, offline: three calls run concurrently, results in input order.

`local:smollm2` has no batch API, so the job runs in `mode="concurrent"`: the same `BatchJob`
interface (`wait`, `status`, `counts`, `results`) as a provider batch, with the calls made at
most `concurrency` at a time. Swap the id for `openai:gpt-4o-mini` and drop `mode=` to send the
same job to OpenAI's Batch API at half the price.
"""

import tempfile

from mirascope import llm


@llm.call("local:smollm2", temperature=0, max_tokens=16)
def recommend_book(genre: str) -> str:
    return f"Recommend a {genre} book in one sentence."


with tempfile.TemporaryDirectory() as jobs:  # where the job is saved (default: .mirascope/batches)
    job = recommend_book.batch(["fantasy", "horror", "mystery"], mode="concurrent", concurrency=2, directory=jobs)
    job.wait(progress=False)  # progress=True (the default) shows a progress line on stderr
    print(f"{job.id}: {job.status}, {job.counts.succeeded}/{job.counts.total} succeeded")
    for genre, result in zip(["fantasy", "horror", "mystery"], job.results(), strict=True):
        if isinstance(result, llm.Error):
            print(f"{genre}: failed: {result}")
        else:
            print(f"{genre}: {result.content.strip()!r}")
