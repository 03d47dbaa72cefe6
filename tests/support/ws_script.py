"""A real WebSocket server on 127.0.0.1 whose behaviour is a test's own async function.

Where `ws_replay` walks a recording, this server hands each connection to a `Script`: an async
function that reads what the client sent and answers as the test wants (answer `session.update`,
stream a reply, wait for `response.cancel`, close with a code...). Everything both sides said is
kept in arrival order, so that a test can check what reached the server before what.

```python
async def script(peer: Peer) -> None:
    await peer.expect("session.update")
    await peer.send({"type": "session.updated", "session": {"id": "sess_1"}})
    ...

async with ScriptServer(script) as server:
    ...connect to f"ws://127.0.0.1:{server.port}/v1/realtime"...
    peer = await server.finished()
    peer.received                    # what the client sent, in order
```

A script that fails (an assertion, a client message that never came) closes the connection
with 1011 and is raised again by `finished()`, so a test never passes over a broken script.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

import attrs
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

Script = Callable[["Peer"], Awaitable[None]]


@attrs.frozen
class Said:
    """One message of the conversation, as the server saw it."""

    by: Literal["client", "server"]
    data: Any


class ClientGone(Exception):
    """The client closed the connection while the script waited for a message."""


class Peer:
    """One connection, from the script's side."""

    def __init__(self, websocket: ServerConnection, *, binary: bool, timeout: float) -> None:
        self.websocket = websocket
        self.binary = binary
        self.timeout = timeout
        self.log: list[Said] = []
        """Both sides' messages in the order they were sent (server) or read (client)."""
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._closed = object()

    @property
    def received(self) -> list[Any]:
        """What the client sent, in order."""
        return [said.data for said in self.log if said.by == "client"]

    async def _read(self) -> None:
        try:
            async for raw in self.websocket:
                try:
                    data: Any = json.loads(raw)
                except ValueError:
                    data = raw
                self.log.append(Said("client", data))
                self._inbox.put_nowait(data)
        except ConnectionClosed:
            pass
        finally:
            self._inbox.put_nowait(self._closed)

    async def next(self) -> Any:
        """The client's next message (failing after `timeout` seconds without one)."""
        async with asyncio.timeout(self.timeout):
            data = await self._inbox.get()
        if data is self._closed:
            self._inbox.put_nowait(self._closed)
            raise ClientGone("the client closed the connection")
        return data

    async def expect(self, kind: str) -> dict[str, Any]:
        """The client's next message, which must be of this OpenAI `type` (or carry this Gemini key)."""
        data = await self.next()
        assert isinstance(data, dict), data
        found = data.get("type") if "type" in data else next(iter(data), None)
        assert found == kind, f"expected a {kind!r} message, got {data!r}"
        return data

    async def send(self, *messages: Any) -> None:
        """Send messages as JSON frames (binary ones for a Gemini-like server), in order."""
        for data in messages:
            self.log.append(Said("server", data))
            text = json.dumps(data)
            await self.websocket.send(text.encode() if self.binary else text)

    async def sync(self) -> None:
        """Wait until every message the client sent before now has been read.

        A ping's pong comes back after whatever the client sent before it.
        """
        pong = await self.websocket.ping()
        async with asyncio.timeout(self.timeout):
            await pong

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.websocket.close(code, reason)

    async def wait_closed(self) -> None:
        """Until the client goes away (or `timeout`)."""
        async with asyncio.timeout(self.timeout):
            await self.websocket.wait_closed()


class ScriptServer:
    """Serve `script` to each client that connects, on a free port of 127.0.0.1."""

    def __init__(
        self,
        script: Script,
        *,
        binary: bool = False,
        timeout: float = 5.0,
        refuse: tuple[int, bytes] | None = None,
        refuse_headers: Mapping[str, str] | None = None,
    ) -> None:
        """`refuse`: answer every handshake with this HTTP status and body instead."""
        self.script = script
        self.binary = binary
        self.timeout = timeout
        self.refuse = refuse
        self.refuse_headers = dict(refuse_headers or {"Content-Type": "application/json"})
        self.peers: list[Peer] = []
        self.paths: list[str] = []
        self._done: list[asyncio.Event] = []
        self._errors: list[BaseException | None] = []
        self._connected = asyncio.Event()
        self._server: Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "the server is not started"
        return self._server.sockets[0].getsockname()[1]

    async def __aenter__(self) -> ScriptServer:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            ping_interval=None,
            max_size=None,
            compression=None,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.paths.append(request.path)
        if self.refuse is None:
            return None
        status, body = self.refuse
        headers = Headers(**{"Content-Length": str(len(body))}, **self.refuse_headers)
        return Response(status, "Refused", headers, body)

    async def _handle(self, websocket: ServerConnection) -> None:
        peer = Peer(websocket, binary=self.binary, timeout=self.timeout)
        done = asyncio.Event()
        self.peers.append(peer)
        self._done.append(done)
        self._errors.append(None)
        index = len(self.peers) - 1
        self._connected.set()
        reader = asyncio.create_task(peer._read())  # pyright: ignore[reportPrivateUsage]
        try:
            await self.script(peer)
            await peer.wait_closed()
        except ClientGone:
            pass
        except BaseException as error:  # the test sees it from `finished()`
            self._errors[index] = error
            await websocket.close(1011, "script failed")
        finally:
            await reader
            done.set()

    async def finished(self, index: int = 0) -> Peer:
        """Connection `index` once its script ended and the client went away; a script's failure is raised."""
        async with asyncio.timeout(self.timeout * 2):
            while len(self.peers) <= index:
                self._connected.clear()
                await self._connected.wait()
            await self._done[index].wait()
        error = self._errors[index]
        if error is not None:
            raise AssertionError(f"the server's script failed: {error!r}") from error
        return self.peers[index]
