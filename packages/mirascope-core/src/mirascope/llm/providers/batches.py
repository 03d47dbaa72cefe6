"""The batch SPI: what a provider implements so that `llm.batch` jobs reach its batch API.

A provider with a batch API gives its provider object one more method:

```python
def batch_api(self, client: Client) -> BatchAPI: ...
```

Core builds each line of a job (`provider.prepare(request, client)`, so a line the model cannot
take is refused before anything is uploaded), splits the lines into parts within `max_requests`
and `max_bytes`, submits each part, polls `status`, streams `results` into the job's local file
and decodes every reply body with `provider.decode(request, body)`, exactly as for a single call.
The adapter only speaks the provider's batch endpoints: it does all I/O with
`client.sync_http()` and `client.request_headers()`, maps a failed HTTP reply with
`mirascope.llm.providers.http.error_from_response(provider, response)` and a per-line error
object with `error_from_event(provider, body)`. Core runs these methods on a worker thread for
the async API, so they are synchronous.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from attrs import frozen

if TYPE_CHECKING:
    from ..exceptions import APIError
    from . import HTTPRequest, Request

__all__ = [
    "TERMINAL_STATUSES",
    "BatchAPI",
    "BatchCounts",
    "BatchLine",
    "BatchResult",
    "BatchState",
    "BatchStatus",
]

BatchStatus = Literal[
    "validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled"
]
"""Where a batch stands; the provider's own states are mapped onto these."""

TERMINAL_STATUSES: frozenset[BatchStatus] = frozenset({"completed", "failed", "expired", "cancelled"})
"""The statuses after which a batch changes no more: its results (if any) can be downloaded."""


@frozen
class BatchCounts:
    """How many requests a batch (or a whole job) holds, and how far they got."""

    total: int
    """Every request."""
    succeeded: int
    """Answered with a reply."""
    failed: int
    """Answered with an error, or never answered (expired, cancelled)."""
    pending: int
    """Not answered yet."""

    @property
    def done(self) -> int:
        """Succeeded and failed together."""
        return self.succeeded + self.failed


@frozen(kw_only=True)
class BatchLine:
    """One request of a batch, as core built it."""

    custom_id: str
    """Its id within the job (`r` + zero-padded input index); the provider returns it with the result."""
    request: Request
    """The provider-agnostic request."""
    http: HTTPRequest
    """What `provider.prepare(request, client)` gave: the URL (its path names the endpoint) and JSON body."""


@frozen(kw_only=True)
class BatchState:
    """A provider batch's status, as `BatchAPI.status` reports it."""

    state: BatchStatus
    """Where it stands."""
    counts: BatchCounts
    """Its requests' progress."""
    error: str | None = None
    """Why it failed or expired, in the provider's words, when it did."""


@frozen(kw_only=True)
class BatchResult:
    """One finished request of a batch: exactly one of `body` and `error` is set."""

    custom_id: str
    """The line's `custom_id`."""
    body: Any | None = None
    """The reply body, as `provider.decode(request, body)` takes it."""
    error: APIError | None = None
    """The provider's error for this line (`error_from_event(provider, body)`)."""


class BatchAPI(Protocol):
    """One client's access to a provider's batch endpoints.

    Synchronous; it retries no more than the client's transport does.
    """

    @property
    def max_requests(self) -> int:
        """The most requests one provider batch may hold."""
        ...

    @property
    def max_bytes(self) -> int:
        """The largest payload (the upload or inline body) one provider batch may have."""
        ...

    def line_size(self, line: BatchLine) -> int:
        """The bytes one line adds to a batch's payload (its JSON line), for splitting before upload."""
        ...

    def submit(self, lines: Sequence[BatchLine]) -> str:
        """Upload the lines and create one batch; returns the provider's batch id."""
        ...

    def status(self, batch_id: str) -> BatchState:
        """The batch's current status."""
        ...

    def results(self, batch_id: str) -> Iterator[BatchResult]:
        """The batch's results, streamed: one per finished line, in any order.

        Lines the provider never answered (expired, cancelled) may be left out; core reports them.
        """
        ...

    def cancel(self, batch_id: str) -> None:
        """Ask the provider to cancel the batch (it may still finish some lines)."""
        ...
