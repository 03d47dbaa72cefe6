"""A real WebSocket server on 127.0.0.1 that replays a recorded realtime session.

It walks the recording in order: a `received` message is sent to the client at once (a text
frame, or a binary frame for Gemini Live, which really sends binary JSON); a `sent` message
means "wait for the client's next message" (with a timeout, so a library that sends too little
fails the test instead of hanging it), and what arrived is kept for the test to compare by
meaning. The handshake (path, query, headers) is kept too.

```python
async with ReplayServer(load_recording("test_openai_ws/test_tool_call_round")) as server:
    ...connect to f"ws://127.0.0.1:{server.port}/v1/realtime"...
    connection = await server.finished()
    connection.sent_pairs        # [(recorded client message, what the client sent), ...]
```

Faults (`Faults`) bend the replay: frames split into fragments, extra messages injected, a
close with a given code after N messages, silence, a refused handshake, a stalled transport
that stops answering pings. `gates` hold the replay at a message until the test says go.
`blast=True` serves every received message at once, without
waiting for the client (for benchmarks); `ThreadedReplayServer` runs the server on its own
thread and event loop, for sync code and benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

FIXTURES = Path(__file__).parent.parent / "fixtures" / "realtime"

Protocol = Literal["openai", "google"]


@attrs.frozen
class Step:
    """One interaction of a recording: the server sends `data`, or expects the client to."""

    direction: Literal["sent", "received", "close"]
    data: Any = None


@attrs.frozen
class Recording:
    """A recorded session: its steps in order, and how its server framed messages."""

    name: str
    steps: tuple[Step, ...]
    protocol: Protocol

    @property
    def received(self) -> list[Any]:
        """The messages the server sent, in order."""
        return [step.data for step in self.steps if step.direction == "received"]

    @property
    def sent(self) -> list[Any]:
        """The messages the recorded client sent, in order."""
        return [step.data for step in self.steps if step.direction == "sent"]


def recording_names() -> list[str]:
    """Every recording, as `suite/test` (without `.json`)."""
    return sorted(f"{path.parent.name}/{path.stem}" for path in FIXTURES.glob("*/*.json"))


def load_recording(name: str) -> Recording:
    """A recording by `suite/test` name, e.g. `test_openai_ws/test_tool_call_round`."""
    raw = json.loads((FIXTURES / f"{name}.json").read_text())
    steps = tuple(
        Step("close", interaction.get("data"))
        if interaction["kind"] == "close"
        else Step(interaction["direction"], interaction["data"])
        for interaction in raw["interactions"]
    )
    return Recording(name=name, steps=steps, protocol="google" if "google" in raw["suite"] else "openai")


@attrs.frozen
class Refusal:
    """Refuse the WebSocket handshake with this HTTP status, headers and body."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = attrs.field(factory=lambda: {"Content-Type": "application/json"})


@attrs.frozen(kw_only=True)
class Faults:
    """Ways to bend a replay."""

    fragment: int | None = None
    """Send each message as a fragmented message of pieces this many characters (bytes for binary) long."""
    inject: Mapping[int, Sequence[Any]] = attrs.field(factory=dict[int, Sequence[Any]])
    """Extra messages sent just before the received message with this index (0-based, counting only received)."""
    close_after: int | None = None
    """Close after this many received messages were sent (the recording's own, injected ones not counted)."""
    close_code: int = 1011
    close_reason: str = ""
    silent: bool = False
    """Accept the handshake, then send nothing and wait for the client to go."""
    refuse: Refusal | None = None
    """Refuse the handshake with an HTTP answer."""
    utf8: bool = False
    """Write non-ASCII text as raw UTF-8 rather than `\\u` escapes (so fragments may split a character)."""
    stall_after: int | None = None
    """After this many received messages, stop reading the socket (so pings go unanswered) and send nothing more."""


@attrs.define
class ClientMessage:
    """A message the client sent, and how far the replay was when it arrived."""

    data: Any
    """The JSON it carried (the raw text if it was not JSON)."""
    binary: bool
    after_received: int
    """How many received messages the server had sent when this one arrived."""


@attrs.define
class Handshake:
    """The client's opening HTTP request."""

    path: str
    query: str
    headers: dict[str, str]
    """Lower-cased names; a repeated header is joined with `, `."""


@attrs.define
class Connection:
    """One client connection as the server saw it."""

    handshake: Handshake
    messages: list[ClientMessage] = attrs.field(factory=list[ClientMessage])
    """Everything the client sent, in arrival order."""
    sent_pairs: list[tuple[Any, ClientMessage]] = attrs.field(factory=list[tuple[Any, ClientMessage]])
    """Each recorded client message with the client message taken in its place, in order."""
    extra: list[ClientMessage] = attrs.field(factory=list[ClientMessage])
    """Client messages left over after the recording ended."""
    failures: list[str] = attrs.field(factory=list[str])
    """What went wrong in the replay (a client message that never came, ...)."""
    received_sent: int = 0
    """How many of the recording's received messages were sent."""
    client_close_code: int | None = None
    done: asyncio.Event = attrs.field(factory=asyncio.Event)
    progress: asyncio.Condition = attrs.field(factory=asyncio.Condition)

    async def reached(self, count: int) -> None:
        """Wait until the server has sent `count` of the recording's received messages (or stopped)."""
        async with self.progress:
            await self.progress.wait_for(lambda: self.received_sent >= count or self.done.is_set())

    async def _advance(self, count: int) -> None:
        async with self.progress:
            self.received_sent = count
            self.progress.notify_all()

    def check(self) -> None:
        """Fail with the replay's own findings, if any."""
        problems = list(self.failures)
        if self.extra:
            problems.append(
                f"the client sent {len(self.extra)} message(s) more than recorded, first: {brief(self.extra[0].data)}"
            )
        assert not problems, "; ".join(problems)


def brief(data: Any, limit: int = 300) -> str:
    """A message shortened for an error: long strings (audio) cut."""

    def cut(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: cut(value) for key, value in node.items()}
        if isinstance(node, list):
            return [cut(item) for item in node]
        if isinstance(node, str) and len(node) > 60:
            return f"{node[:20]}...<{len(node)} chars>"
        return node

    text = json.dumps(cut(data))
    return text if len(text) <= limit else text[:limit] + "..."


class ReplayServer:
    """Serve one recording to every client that connects, on a free port of 127.0.0.1."""

    def __init__(
        self,
        recording: Recording,
        *,
        faults: Faults | None = None,
        timeout: float = 5.0,
        blast: bool = False,
        gates: Mapping[int, asyncio.Event] | None = None,
    ) -> None:
        """`gates`: the received message with this index (0-based) waits until the event is set
        (and a ping round trip has brought in all the client sent before), so that a test can act
        at a known point of the replay (say, send while a reply streams) before the server goes on."""
        self.recording = recording
        self.gates = dict(gates or {})
        self.faults = faults or Faults()
        self.timeout = timeout
        self.blast = blast
        self.connections: list[Connection] = []
        self.handshakes: list[Handshake] = []
        self._server: Server | None = None
        self._frames = [self._frame(step.data) for step in recording.steps if step.direction == "received"]
        self._connected = asyncio.Event()
        self._stopping = asyncio.Event()

    @property
    def port(self) -> int:
        assert self._server is not None, "the server is not started"
        return self._server.sockets[0].getsockname()[1]

    def _frame(self, data: Any) -> str | bytes:
        text = json.dumps(data, ensure_ascii=not self.faults.utf8)
        return text.encode() if self.recording.protocol == "google" else text

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            ping_interval=None,  # the client keeps the connection alive; the replay only answers
            max_size=None,
            compression=None,
        )

    async def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> ReplayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def connection(self, index: int = 0) -> Connection:
        """Connection `index`, once the client has connected."""
        async with asyncio.timeout(self.timeout * 2):
            while len(self.connections) <= index:
                self._connected.clear()
                await self._connected.wait()
        return self.connections[index]

    async def finished(self, index: int = 0, timeout: float | None = None) -> Connection:
        """Connection `index` once the replay of it ended and the client went away."""
        limit = timeout if timeout is not None else self.timeout * 2
        async with asyncio.timeout(limit):
            while len(self.connections) <= index:
                self._connected.clear()
                await self._connected.wait()
            connection = self.connections[index]
            await connection.done.wait()
        return connection

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        split = request.path.split("?", 1)
        headers: dict[str, str] = {}
        for name, value in request.headers.raw_items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self.handshakes.append(Handshake(path=split[0], query=split[1] if len(split) > 1 else "", headers=headers))
        refusal = self.faults.refuse
        if refusal is None:
            return None
        reason = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}.get(
            refusal.status, "Error"
        )
        response_headers = Headers(**{"Content-Length": str(len(refusal.body))}, **dict(refusal.headers))
        return Response(refusal.status, reason, response_headers, refusal.body)

    async def _handle(self, websocket: ServerConnection) -> None:
        connection = Connection(handshake=self.handshakes[-1])
        self.connections.append(connection)
        self._connected.set()
        queue: asyncio.Queue[ClientMessage | None] = asyncio.Queue()
        reader = asyncio.create_task(self._read(websocket, connection, queue))
        try:
            if self.faults.silent:
                await websocket.wait_closed()
            elif self.blast:
                await self._blast(websocket, connection)
            else:
                await self._walk(websocket, connection, queue)
            await websocket.wait_closed()
            await reader
            while not queue.empty():
                left = queue.get_nowait()
                if left is not None:
                    connection.extra.append(left)
        except ConnectionClosed:
            pass
        finally:
            reader.cancel()
            connection.client_close_code = websocket.close_code
            connection.done.set()
            async with connection.progress:
                connection.progress.notify_all()

    async def _read(
        self, websocket: ServerConnection, connection: Connection, queue: asyncio.Queue[ClientMessage | None]
    ) -> None:
        try:
            async for raw in websocket:
                try:
                    data: Any = json.loads(raw)
                except ValueError:
                    data = raw
                message = ClientMessage(
                    data=data, binary=isinstance(raw, bytes), after_received=connection.received_sent
                )
                connection.messages.append(message)
                queue.put_nowait(message)
        except ConnectionClosed:
            pass
        finally:
            queue.put_nowait(None)

    async def _send(self, websocket: ServerConnection, frame: str | bytes) -> None:
        size = self.faults.fragment
        if size is None or len(frame) <= size:
            await websocket.send(frame)
            return
        if isinstance(frame, bytes):
            await websocket.send([frame[start : start + size] for start in range(0, len(frame), size)])
        else:
            await websocket.send([frame[start : start + size] for start in range(0, len(frame), size)])

    async def _close_or_stall(self, websocket: ServerConnection, connection: Connection) -> bool:
        """Apply `close_after` / `stall_after` once their count is reached; True when the replay ends."""
        faults = self.faults
        if faults.close_after is not None and connection.received_sent >= faults.close_after:
            await websocket.close(faults.close_code, faults.close_reason)
            return True
        if faults.stall_after is not None and connection.received_sent >= faults.stall_after:
            websocket.transport.pause_reading()  # pings pile up unread: no pong ever goes back
            await self._stopping.wait()
            # Reading again, the server sees at once that the client went away (no close timeout).
            websocket.transport.resume_reading()
            await websocket.wait_closed()
            return True
        return False

    async def _walk(
        self, websocket: ServerConnection, connection: Connection, queue: asyncio.Queue[ClientMessage | None]
    ) -> None:
        received = 0
        for index, step in enumerate(self.recording.steps):
            if await self._close_or_stall(websocket, connection):
                return
            if step.direction == "close":
                await websocket.close()
                return
            if step.direction == "received":
                gate = self.gates.get(received)
                if gate is not None:
                    try:
                        async with asyncio.timeout(self.timeout):
                            await gate.wait()
                            # A ping's pong comes back after whatever the client sent before the
                            # gate opened: once it is here, the reader has taken those messages.
                            pong = await websocket.ping()
                            await pong
                    except TimeoutError:
                        connection.failures.append(f"step {index}: the test never opened the gate before it")
                        await websocket.close(1011, "replay: a gate was never opened")
                        return
                for extra in self.faults.inject.get(received, ()):
                    await self._send(websocket, self._frame(extra))
                await self._send(websocket, self._frames[received])
                received += 1
                await connection._advance(received)  # pyright: ignore[reportPrivateUsage]
                continue
            try:
                async with asyncio.timeout(self.timeout):
                    message = await queue.get()
            except TimeoutError:
                connection.failures.append(
                    f"step {index}: expected a client message like {brief(step.data)}, got nothing in {self.timeout} s"
                )
                await websocket.close(1011, "replay: an expected client message never came")
                return
            if message is None:
                connection.failures.append(
                    f"step {index}: expected a client message like {brief(step.data)}, "
                    "but the client closed the connection"
                )
                return
            connection.sent_pairs.append((step.data, message))
        await self._close_or_stall(websocket, connection)

    async def _blast(self, websocket: ServerConnection, connection: Connection) -> None:
        for frame in self._frames:
            await self._send(websocket, frame)
            connection.received_sent += 1


class ThreadedReplayServer:
    """A `ReplayServer` on its own thread and event loop (for sync tests and benchmarks).

    ```python
    with ThreadedReplayServer(load_recording(name), blast=True) as server:
        ...server.port...
    ```
    """

    def __init__(self, recording: Recording, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ws-replay", daemon=True)
        self._recording = recording
        self._options = options
        self.server: ReplayServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def __enter__(self) -> ThreadedReplayServer:
        self._thread.start()

        async def start() -> ReplayServer:
            server = ReplayServer(self._recording, **self._options)
            await server.start()
            return server

        self.server = self._run(start())
        return self

    def finished(self, index: int = 0, timeout: float | None = None) -> Connection:
        assert self.server is not None
        return self._run(self.server.finished(index, timeout))

    def __exit__(self, *exc_info: object) -> None:
        if self.server is not None:
            self._run(self.server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def iter_received_frames(recording: Recording) -> Iterator[str | bytes]:
    """The frames a replay sends, in order, as the server sends them (for a raw baseline)."""
    for data in recording.received:
        text = json.dumps(data)
        yield text.encode() if recording.protocol == "google" else text
