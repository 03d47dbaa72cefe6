"""The realtime SPI: what a provider implements so that `llm.realtime` sessions reach its models.

A provider with a realtime API gives its provider object one more method:

```python
def realtime_codec(self, setup: RealtimeSetup, client: Client) -> RealtimeCodec: ...
```

It checks the setup against the model (raising `llm.FeatureNotSupportedError` before anything
is sent) and returns a fresh codec for one session. Core owns the WebSocket, the event loop,
tools, queued turns and the conversation; the codec only turns Mirascope's intentions into the
provider's JSON messages and the provider's JSON messages into events. It never does I/O.

`decode` returns the public events the user sees (`llm.realtime.TextDelta`, ...) and the
markers below, which core consumes: `Ready` once the session is set up, `ResponseStarted` and
`ResponseDone` around each reply, `InputCommitted` when the user's audio turn ends.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..realtime import InputCommitted, Marker, Ready, RealtimeSetup, ResponseDone, ResponseStarted

if TYPE_CHECKING:
    from ..content import ToolOutput
    from ..exceptions import APIError
    from ..realtime import AudioFormat, RealtimeEvent

__all__ = [
    "InputCommitted",
    "Marker",
    "Ready",
    "RealtimeCodec",
    "RealtimeSetup",
    "ResponseDone",
    "ResponseStarted",
    "ignore_unknown",
]


class RealtimeCodec(Protocol):
    """One session's translation between Mirascope and a provider's realtime protocol.

    Stateful (it may track the ids and partial texts of the reply in progress); used from one
    task; never does I/O. Every method that encodes returns the JSON messages to send, in order.
    """

    @property
    def url(self) -> str:
        """The `ws://` or `wss://` URL to connect to, derived from the client's base URL."""
        ...

    @property
    def headers(self) -> Mapping[str, str]:
        """The handshake's headers (authentication); never logged or shown."""
        ...

    @property
    def input_format(self) -> AudioFormat:
        """The audio format `send_audio` takes for this session."""
        ...

    @property
    def output_format(self) -> AudioFormat:
        """The audio format of the model's speech (`llm.realtime.AudioDelta.format`)."""
        ...

    def opening(self) -> list[dict[str, Any]]:
        """What to send once connected: the configuration, then any seeded history.

        Core sends it at once (a provider that speaks first, like OpenAI's `session.created`,
        needs no wait) and waits for `Ready` before anything else.
        """
        ...

    def user_text(self, text: str, *, respond: bool) -> list[dict[str, Any]]:
        """A user turn of text; `respond` asks the model to answer it."""
        ...

    def audio(self, pcm: bytes) -> list[dict[str, Any]]:
        """A chunk of the user's audio, in `input_format`."""
        ...

    def commit_audio(self, *, respond: bool) -> list[dict[str, Any]]:
        """End the user's spoken turn (manual turn detection); `respond` asks for an answer."""
        ...

    def interrupt(self, played_ms: int | None) -> list[dict[str, Any]]:
        """Cancel the reply in progress; `played_ms` is how much of its audio the user heard."""
        ...

    def tool_outputs(self, outputs: Sequence[ToolOutput]) -> list[dict[str, Any]]:
        """The outputs of the tools the model called, sent as soon as they are ready."""
        ...

    def respond(self) -> list[dict[str, Any]]:
        """Ask for the model's next reply after tool outputs (empty when the provider goes on alone)."""
        ...

    def decode(self, message: Any) -> Sequence[RealtimeEvent | Marker]:
        """The events one received JSON message carries, in order (often one, sometimes none).

        Unknown message types give no events (see `ignore_unknown`). A provider error the
        session survives is an `llm.realtime.ErrorEvent`; one it does not is raised as an
        `llm.APIError`.
        """
        ...

    def close_error(self, code: int, reason: str) -> APIError | None:
        """The error a close frame means (`None` for a normal close)."""
        ...

    def handshake_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIError:
        """The error for a refused WebSocket handshake (an HTTP status instead of 101)."""
        ...


_unknown: set[tuple[str, str]] = set()
_log = logging.getLogger("mirascope.llm.realtime")


def ignore_unknown(provider: str, kind: str) -> list[Any]:
    """No events for a message type the codec does not know: logged once per type, never raised.

    Providers add event types without notice; a session must outlive them.
    """
    key = (provider, kind)
    if key not in _unknown:
        _unknown.add(key)
        _log.info("%s realtime: ignoring messages of unknown type %r (logged once)", provider, kind[:80])
    return []
