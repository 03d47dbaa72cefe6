"""Retrying a failed request with backoff (honouring `Retry-After`), and which failures to retry.

Used by `llm.providers.http` around each send, by streams before their first event, and by
`Model` to fall back to the next model of `fallback=`. Tests replace `sleep` and `asleep` to
record the waits instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import _instruments
from .exceptions import APIError, ConnectionError, RateLimitError, ServerError, TimeoutError

if TYPE_CHECKING:
    from .clients import Timeout
    from .instrumentation import Observers

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "LONGEST_WAIT",
    "Attempts",
    "asleep",
    "is_retryable",
    "joined",
    "sleep",
]

BACKOFF_BASE = 0.5
"""Seconds: the first retry waits up to this, each later one up to twice the one before."""
BACKOFF_CAP = 8.0
"""Seconds: the most any backoff wait (without `Retry-After`) can be."""
LONGEST_WAIT = 60.0
"""Seconds: a provider asking for a longer wait gets an error at once instead of a sleeping call."""

_RETRIED_STATUSES = frozenset({408, 409, 429})

sleep = time.sleep
"""How a sync call waits between attempts."""


async def asleep(seconds: float) -> None:
    """How an async call waits between attempts."""
    import asyncio

    await asyncio.sleep(seconds)


def is_retryable(error: APIError) -> bool:
    """Whether sending the same request again may succeed.

    Yes for rate limits (429), server errors (5xx), 408 and 409, connection failures, and
    timeouts other than the call's `total` one; no for every other 4xx (bad request, bad key,
    no such model), for bodies that do not decode, and for errors without a status.
    """
    if isinstance(error, RateLimitError | ServerError | ConnectionError):
        return True
    if isinstance(error, TimeoutError):
        return error.phase != "total"
    return error.status_code in _RETRIED_STATUSES


class Attempts:
    """One call's attempts: how many were sent, how many may be, and the call's deadline."""

    __slots__ = ("count", "deadline", "max_retries", "observers", "timeout")

    def __init__(self, max_retries: int, timeout: Timeout) -> None:
        self.observers: Observers = ()
        """The call's instrumentation observers, told of each failed attempt that is retried."""
        self.count = 0
        """Requests sent so far (the sender adds one before each)."""
        self.max_retries = max_retries
        """How many times a failed request may be sent again."""
        self.timeout = timeout
        """The client's timeouts."""
        total = timeout.total
        self.deadline: float | None = None if total is None else time.monotonic() + total
        """`time.monotonic()` past which no attempt or wait starts, from `timeout.total`."""

    def wait(self, error: APIError) -> float | None:
        """Seconds to wait before sending again, or `None` when `error` is the final one.

        A final error gets `attempts` set, and its message says why it was not retried when
        retries were left.
        """
        error.attempts = self.count
        if not is_retryable(error):
            return None
        if self.count > self.max_retries:
            if self.count > 1:
                _note(error, f"Gave up after {self.count} attempts (max_retries={self.max_retries}).")
            return None
        asked = error.retry_after
        if asked is None:
            # Full jitter: a random wait up to the exponential bound, so that many clients
            # failing together do not retry together.
            from random import uniform  # only when a request failed: not at import

            wait = uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (self.count - 1)))
        elif asked > LONGEST_WAIT:
            _note(
                error,
                f"Not retried: the provider asked for a wait of {asked:g}s, longer than the "
                f"{LONGEST_WAIT:g}s a call waits by itself; retry later, or raise your limits.",
            )
            return None
        else:
            wait = max(0.0, asked)
        if self.deadline is not None and time.monotonic() + wait >= self.deadline:
            _note(
                error,
                f"Not retried: waiting {wait:.3g}s would pass the total timeout "
                f"({self.timeout.total:g}s) after {self.count} attempt(s).",
            )
            return None
        if self.observers:
            _instruments.tell(self.observers, "attempt_failed", error, self.count)
        return wait


def _note(error: APIError, text: str) -> None:
    error.args = (f"{error.args[0]}\n{text}" if error.args else text, *error.args[1:])


def joined(errors: Sequence[tuple[str, APIError]]) -> APIError:
    """The last model's error, carrying every model's (`errors`), its message listing them all."""
    last = errors[-1][1]
    last.errors = tuple(error for _, error in errors)
    lines = "\n".join(
        f"- {model_id}: {type(error).__name__}"
        + (f" {error.status_code}" if error.status_code is not None else "")
        + f" after {error.attempts} attempt(s): {error.message}"
        for model_id, error in errors
    )
    _note(last, f"Every model of the fallback failed (see error.errors):\n{lines}")
    return last
