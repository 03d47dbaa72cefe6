"""`llm.mcp`: the tools, resources and prompts of any MCP server, as llm values.

```python
async with llm.mcp.connect("http://127.0.0.1:8000/mcp", prefix="docs") as docs:
    model = llm.model("anthropic:claude-sonnet-4-5", tools=[*docs.tools])
    response = await model.call_async("How do I install it?")
```

`connect` takes what the official SDK's client takes: a server object in this process (an
`MCPServer`), a URL (streamable HTTP, or SSE where the server speaks only that), or a command to
run over stdio (`["uvx", "mcp-server-fetch"]`, or the SDK's `StdioServerParameters`). The
server's tools are ordinary `llm.Tool`s; calling one calls the server. `with llm.mcp.connect(...)`
(no `async`) runs the connection on a thread of its own, for sync code and sync calls.

Needs the `mcp` extra (`mcp>=2,<3`); this module imports the SDK only when `connect` is called,
so `from mirascope import llm` never loads it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import builtins
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, cast

from attrs import field, frozen

from .content import Audio, ContentPart, Document, Image, Text, Video, json_text
from .exceptions import Error, ToolError, UsageError
from .messages import Message, assistant, user
from .tools import Tool

if TYPE_CHECKING:
    from types import TracebackType

    import mcp_types
    from anyio.abc import TaskGroup, TaskStatus
    from mcp import Client

__all__ = [
    "Connection",
    "MCPConnectionError",
    "MCPError",
    "MCPNotInstalledError",
    "MCPTimeoutError",
    "MCPTool",
    "MCPToolError",
    "MCPToolInfo",
    "Prompt",
    "PromptArgument",
    "Resource",
    "ResourceTemplate",
    "Server",
    "SyncServer",
    "Transport",
    "connect",
]

T = TypeVar("T")

Transport: TypeAlias = Literal["memory", "stdio", "streamable-http", "sse", "custom"]
"""How a server is reached: in this process, a subprocess's stdin/stdout, HTTP, or a transport
object given to `connect`."""

DEFAULT_TIMEOUT = 60.0
"""Seconds a request to a server (a tool call, a read, a listing) may take, unless `timeout=` says."""

DEFAULT_MAX_OUTPUT_CHARS = 100_000
"""The text of one tool result the model is sent at most (about 25k tokens), unless `max_output_chars=` says."""

# Inline media past this many base64 characters (about 7.5 MB) is left out of a tool result: no
# provider takes a part that large.
_MAX_MEDIA_CHARS = 10_000_000
# A server whose listing never ends cannot hang `connect`.
_MAX_PAGES = 100
_CONNECTION_CLOSED = -32000  # JSON-RPC codes of the MCP specification
_REQUEST_TIMEOUT = -32001


# --- errors -------------------------------------------------------------------------------------


class MCPError(Error):
    """Something went wrong with an MCP server.

    ```text
    MCPError                  (an llm.Error)
    ├── MCPConnectionError    could not connect   (also a builtins.ConnectionError)
    └── MCPToolError          a tool call failed  (also an llm.ToolError)
        └── MCPTimeoutError   no answer in time   (also a builtins.TimeoutError)
    ```

    Attributes:
        server: The server's name (`connect(name=...)`, else the name it gives itself).
    """

    def __init__(self, message: str, *, server: str) -> None:
        self.server = server
        super().__init__(message)


class MCPNotInstalledError(Error, ImportError):
    """`llm.mcp.connect` needs the MCP SDK, which comes with the `mcp` extra."""


class MCPConnectionError(MCPError, builtins.ConnectionError):
    """The server could not be reached or started, or it did not complete the MCP handshake."""


class MCPToolError(MCPError, ToolError):
    """A tool call failed.

    The tool reported an error (`is_error`), or the server closed the connection, refused the
    call, or answered with something that is not an MCP result. Raised by the tool's function;
    run by `execute_tools()`, it becomes an `llm.ToolOutput` with `is_error=True` carrying this
    message, so the model sees the failure and the loop goes on.

    Attributes:
        tool: The tool's name on the server.
        content: What the tool returned with its error, as content parts (empty otherwise).
    """

    def __init__(self, message: str, *, server: str, tool: str, content: tuple[ContentPart, ...] = ()) -> None:
        self.tool = tool
        self.content = content
        super().__init__(message, server=server)


class MCPTimeoutError(MCPToolError, builtins.TimeoutError):
    """The server did not answer a tool call within `timeout` seconds."""


# --- values -------------------------------------------------------------------------------------


@frozen(kw_only=True)
class MCPToolInfo:
    """Where an `llm.mcp` tool comes from: `tool.mcp` (tracing reads it)."""

    server: str
    """The server's name."""
    name: str
    """The tool's name on the server: what is called (the model sees `tool.name`, prefixed)."""
    title: str | None = None
    """The tool's human-readable title, if the server gave one."""
    annotations: Mapping[str, object] = field(factory=dict[str, object])
    """The tool's MCP annotations as the server sent them (`readOnlyHint`, `destructiveHint`,
    `idempotentHint`, `openWorldHint`, `title`): hints, not guarantees."""
    meta: Mapping[str, object] = field(factory=dict[str, object])
    """The tool's `_meta`, as sent."""
    output_schema: Mapping[str, object] | None = None
    """The JSON schema of the tool's structured result, if it declares one."""
    transport: Transport
    """How the server is reached."""
    session_id: str | None = None
    """The MCP session id (streamable HTTP and SSE servers that keep sessions); else `None`."""
    protocol_version: str | None = None
    """The MCP protocol version agreed with the server."""
    schema_problem: str | None = None
    """Why no provider can take the tool's input schema (a `$ref` outside it, say), or `None`:
    a call given such a tool is refused before its request is sent."""

    @property
    def read_only(self) -> bool:
        """Whether the server says the tool does not change its environment (`readOnlyHint`)."""
        return self.annotations.get("readOnlyHint") is True


class MCPTool(Tool[..., Any]):
    """An `llm.Tool` that calls a tool of an MCP server; `tool.mcp` says which.

    Its `parameters` are the server's input schema, verbatim. Calling it in async code returns
    an awaitable; in sync code (a `with llm.mcp.connect(...)` connection) it returns the result.
    """

    __slots__ = ("mcp",)

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str,
        description: str | None,
        parameters: dict[str, Any],
        info: MCPToolInfo,
    ) -> None:
        super().__init__(fn, name=name, description=description, parameters=parameters)
        self.mcp = info
        """Where the tool comes from: server, name on the server, annotations, transport, session."""

    def __repr__(self) -> str:
        renamed = f" ({self.mcp.name!r} on it)" if self.mcp.name != self.name else ""
        return f"<llm.mcp tool {self.name!r} of {self.mcp.server!r}{renamed}>"


@frozen(kw_only=True)
class Resource:
    """A resource a server offers; `await server.read(resource.uri)` reads it."""

    uri: str
    """Its URI."""
    name: str
    """Its name."""
    title: str | None = None
    """A human-readable title, if given."""
    description: str | None = None
    """What it is, if said."""
    mime_type: str | None = None
    """Its media type, if known."""
    size: int | None = None
    """Its size in bytes, if known."""


@frozen(kw_only=True)
class ResourceTemplate:
    """A family of resources a server can read, by a URI template (RFC 6570)."""

    uri_template: str
    """The template, e.g. `"file:///{path}"`."""
    name: str
    """Its name."""
    title: str | None = None
    """A human-readable title, if given."""
    description: str | None = None
    """What it reads, if said."""
    mime_type: str | None = None
    """The media type of what it reads, if the same for all."""


@frozen(kw_only=True)
class PromptArgument:
    """An argument a server's prompt takes."""

    name: str
    """Its name: a keyword of `server.prompt(name, ...)`."""
    description: str | None = None
    """What it is, if said."""
    required: bool = False
    """Whether the prompt needs it."""


@frozen(kw_only=True)
class Prompt:
    """A prompt a server offers; `await server.prompt(prompt.name, **arguments)` gets its messages."""

    name: str
    """Its name."""
    title: str | None = None
    """A human-readable title, if given."""
    description: str | None = None
    """What it is for, if said."""
    arguments: tuple[PromptArgument, ...] = ()
    """The arguments it takes."""


# --- connecting ---------------------------------------------------------------------------------


def connect(
    target: object,
    *,
    name: str | None = None,
    prefix: str | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    read_only: bool = False,
    timeout: float | None = DEFAULT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS,
) -> Connection:
    """Connect to an MCP server: `async with llm.mcp.connect(...) as server:` (or `with` in sync code).

    Args:
        target: An `MCPServer` (or low-level `Server`) in this process; an `http(s)://` URL
            (streamable HTTP, falling back to SSE when the server speaks only that; a URL ending
            in `/sse` is SSE); a command to run over stdio, as a list (`["uvx", "mcp-server-fetch"]`)
            or the SDK's `StdioServerParameters` (for `env=` and `cwd=`); or an SDK transport.
        name: What to call the server in errors and traces (default: the name it gives itself).
        prefix: Offer each tool to the model as `<prefix>_<name>` (`prefix="calc"`: `add` is
            `calc_add`), while calling the server's `add`; for servers whose tool names clash.
        include: Keep only these tools (by their names on the server).
        exclude: Leave out these tools (by their names on the server).
        read_only: Keep only the tools the server annotates as read-only (`readOnlyHint`).
        timeout: Seconds each request (a tool call, a read, a listing) may take; `None` for no limit.
        headers: HTTP headers for a URL target, e.g. `{"Authorization": "Bearer ..."}`.
        max_output_chars: The text of one tool result sent to the model at most; the rest is
            cut, with a marker saying how much.

    Raises:
        MCPNotInstalledError: The `mcp` extra is not installed.
        UsageError: `target` is none of the above, or another argument is malformed.
    """
    _import_sdk()
    included = _names("include", include)
    excluded = _names("exclude", exclude)
    if prefix is not None and (not isinstance(prefix, str) or not prefix):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UsageError(f"prefix= takes a non-empty str, e.g. prefix='docs'; got {prefix!r}.")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UsageError(f"timeout= takes seconds (a number above 0) or None for no limit; got {timeout!r}.")
    if isinstance(max_output_chars, bool) or not isinstance(max_output_chars, int) or max_output_chars < 1:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UsageError(f"max_output_chars= takes a positive int; got {max_output_chars!r}.")
    transport, opened, label = _target(target, headers)
    return Connection(
        _Options(
            target=opened,
            transport=transport,
            label=name or label,
            named=name is not None,
            prefix=prefix,
            include=included,
            exclude=excluded,
            read_only=read_only,
            timeout=float(timeout) if timeout is not None else None,
            headers=dict(headers or {}),
            max_output_chars=max_output_chars,
        )
    )


def _import_sdk() -> None:
    import importlib

    try:
        importlib.import_module("mcp.server.mcpserver")  # 2.x only: 1.x had FastMCP in its place
    except ImportError as error:
        from .providers import install_hint

        raise MCPNotInstalledError(
            f"llm.mcp needs the MCP SDK 2.x (mcp>=2,<3), which is not installed ({error}); install it with: "
            f"{install_hint('mcp')}"
        ) from error


def _names(option: str, names: Iterable[str] | None) -> frozenset[str] | None:
    if names is None:
        return None
    if isinstance(names, str) or not all(isinstance(n, str) for n in cast(Iterable[object], names)):
        raise UsageError(f"{option}= takes a list of tool names, e.g. {option}=['search']; got {names!r}.")
    return frozenset(names)


def _target(target: object, headers: Mapping[str, str] | None) -> tuple[Transport, object, str]:
    """How to reach `target`, what the SDK's client is given, and a name for it until it names itself."""
    from mcp import StdioServerParameters
    from mcp.server import Server as LowLevelServer
    from mcp.server.mcpserver import MCPServer

    if headers is not None and not (isinstance(target, str) and _is_url(target)):
        raise UsageError("headers= is for a URL target (an HTTP server); a command or an in-process server takes none.")
    if isinstance(target, MCPServer | LowLevelServer):
        return "memory", cast(object, target), str(cast(Any, target).name)
    if isinstance(target, StdioServerParameters):
        return "stdio", target, _command_name(target.command, target.args)
    if isinstance(target, list | tuple):
        command = cast(Sequence[object], target)
        if not command or not all(isinstance(part, str) for part in command):
            raise UsageError(f"A command is a list of str, e.g. ['uvx', 'mcp-server-fetch']; got {target!r}.")
        parts = cast(Sequence[str], command)
        return (
            "stdio",
            StdioServerParameters(command=parts[0], args=list(parts[1:])),
            _command_name(parts[0], parts[1:]),
        )
    if isinstance(target, str):
        if _is_url(target):
            from urllib.parse import urlsplit

            from ._redact import remember_headers

            remember_headers(headers or {}, target)  # kept out of errors and logs from now on
            return "streamable-http", target, urlsplit(target).netloc.rpartition("@")[2] or target
        raise UsageError(
            f"llm.mcp.connect takes a URL ('http://127.0.0.1:8000/mcp'), a command as a list "
            f"({target.split()!r}), an MCPServer or StdioServerParameters; got the str {target!r}."
        )
    if callable(getattr(target, "__aenter__", None)):  # an SDK transport
        return "custom", target, type(target).__name__
    raise UsageError(
        "llm.mcp.connect takes a URL ('http://127.0.0.1:8000/mcp'), a command as a list (['uvx', "
        f"'mcp-server-fetch']), an MCPServer or StdioServerParameters; got {type(target).__name__}."
    )


def _is_url(text: str) -> bool:
    return text[:7].lower() == "http://" or text[:8].lower() == "https://"


def _command_name(command: str, args: Sequence[str]) -> str:
    words = [command, *args]
    # `uvx mcp-server-fetch`, `python -m servers.fetch`: the last word that is not an option.
    named = [word for word in words if not word.startswith("-")]
    return named[-1].rsplit("/", 1)[-1] if named else command


@frozen(kw_only=True)
class _Options:
    target: object
    transport: Transport
    label: str
    named: bool
    prefix: str | None
    include: frozenset[str] | None
    exclude: frozenset[str] | None
    read_only: bool
    timeout: float | None
    headers: dict[str, str] = field(repr=False)
    max_output_chars: int


class Connection:
    """What `llm.mcp.connect` returns: `async with` it for a `Server`, or `with` it for a `SyncServer`."""

    __slots__ = ("_options", "_server", "_sync")

    def __init__(self, options: _Options) -> None:
        self._options = options
        self._server: Server | None = None
        self._sync: SyncServer | None = None

    def __repr__(self) -> str:
        return f"<llm.mcp connection to {self._options.label!r} ({self._options.transport})>"

    async def __aenter__(self) -> Server:
        if self._server is not None:
            raise UsageError("This connection is open already; call llm.mcp.connect(...) again for another.")
        server = Server(self._options)
        await server._open()  # pyright: ignore[reportPrivateUsage]
        self._server = server
        return server

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        try:
            await server._close()  # pyright: ignore[reportPrivateUsage]
        except Exception:
            if error is None:
                raise
            # The block's own error is the one to see.

    def __enter__(self) -> SyncServer:
        if self._sync is not None:
            raise UsageError("This connection is open already; call llm.mcp.connect(...) again for another.")
        self._sync = SyncServer(self)
        return self._sync

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        sync, self._sync = self._sync, None
        if sync is None:
            return
        try:
            sync._stop()  # pyright: ignore[reportPrivateUsage]
        except Exception:
            if error is None:
                raise


# --- the async server handle --------------------------------------------------------------------


_CHANGES = {
    "notifications/tools/list_changed": "tools",
    "notifications/resources/list_changed": "resources",
    "notifications/prompts/list_changed": "prompts",
}
_EVENTS = {"ToolsListChanged": "tools", "ResourcesListChanged": "resources", "PromptsListChanged": "prompts"}


class Server:
    """A connected MCP server (from `async with llm.mcp.connect(...)`): its tools, resources and prompts.

    `tools`, `resources` and `prompts` are listed once when connecting and listed again when the
    server says one of them changed (its `list_changed` notification); `refresh()` lists them
    again on demand.
    """

    def __init__(self, options: _Options) -> None:
        self._options = options
        self._name = options.label
        self._client: Client | None = None
        self._stack: AsyncExitStack | None = None
        self._tasks: TaskGroup | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._session_id: str | None = None
        self._tools: tuple[MCPTool, ...] = ()
        self._resources: tuple[Resource, ...] = ()
        self._templates: tuple[ResourceTemplate, ...] = ()
        self._prompts: tuple[Prompt, ...] = ()
        self._offered_names: frozenset[str] = frozenset()
        self._stale: set[str] = set()
        self._refreshing: set[str] = set()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._tools)} tools"
        return f"<llm.mcp server {self._name!r} ({self._options.transport}, {state})>"

    @property
    def name(self) -> str:
        """The server's name: `connect(name=...)`, else the name it gives itself."""
        return self._name

    @property
    def transport(self) -> Transport:
        """How the server is reached."""
        return self._options.transport

    @property
    def session_id(self) -> str | None:
        """The MCP session id, for servers that keep sessions over HTTP; else `None`."""
        return self._session_id

    @property
    def protocol_version(self) -> str | None:
        """The MCP protocol version agreed with the server."""
        return self._client.protocol_version if self._client is not None else None

    @property
    def instructions(self) -> str | None:
        """What the server says about using it, to add to a system prompt; `None` if it says nothing."""
        return self._client.instructions if self._client is not None else None

    @property
    def tools(self) -> tuple[MCPTool, ...]:
        """Its tools as `llm.Tool`s, after `prefix=`, `include=`, `exclude=` and `read_only=`."""
        return self._tools

    @property
    def resources(self) -> tuple[Resource, ...]:
        """The resources it lists."""
        return self._resources

    @property
    def resource_templates(self) -> tuple[ResourceTemplate, ...]:
        """The resource URI templates it lists."""
        return self._templates

    @property
    def prompts(self) -> tuple[Prompt, ...]:
        """The prompts it offers."""
        return self._prompts

    async def read(self, uri: str) -> tuple[ContentPart, ...]:
        """A resource's contents as content parts.

        Text is `llm.Text`; images, audio, video and PDFs are `llm.Image`, `llm.Audio`,
        `llm.Video` and `llm.Document`; other binary data is a text note saying what was left out.

        Raises:
            MCPError: The server could not read it (its message says why).
        """
        client = self._open_client()
        try:
            result = await client.read_resource(uri)
        except Exception as error:
            raise MCPError(
                f"The MCP server {self._name!r} could not read {uri!r}: {_reason(error)}", server=self._name
            ) from error
        parts: list[ContentPart] = []
        for contents in result.contents:
            parts.extend(_resource_parts(contents))
        return tuple(parts)

    async def prompt(self, name: str, /, **arguments: object) -> list[Message]:
        """A prompt's messages, with `arguments` filled in (values other than `str` are sent as JSON).

        Raises:
            MCPError: The server could not make it (an unknown name, a missing argument...).
        """
        client = self._open_client()
        sent = {key: value if isinstance(value, str) else json_text(value) for key, value in arguments.items()}
        try:
            result = await client.get_prompt(name, sent)
        except Exception as error:
            known = ", ".join(repr(p.name) for p in self._prompts) or "none"
            raise MCPError(
                f"The MCP server {self._name!r} could not make the prompt {name!r}: {_reason(error)} "
                f"(its prompts: {known}).",
                server=self._name,
            ) from error
        messages: list[Message] = []
        for message in result.messages:
            parts = _block_parts(message.content)
            messages.append(assistant(list(parts)) if message.role == "assistant" else user(list(parts)))
        return messages

    async def refresh(self) -> None:
        """List the tools, resources and prompts again (a server that changes them tells us itself)."""
        self._open_client()
        for kind in ("tools", "resources", "prompts"):
            await self._load(kind, refresh=True)

    # -- opening and closing

    async def _open(self) -> None:
        import anyio
        from mcp import Client

        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            raise UsageError(
                "llm.mcp runs on asyncio: use `async with llm.mcp.connect(...)` in asyncio code."
            ) from None
        options = self._options
        stack = AsyncExitStack()
        try:
            client = await self._enter_client(stack, Client)
            self._client = client
            if not options.named and client.server_info is not None and client.server_info.name:
                self._name = client.server_info.name
            for kind in ("tools", "resources", "prompts"):
                await self._load(kind, refresh=False)
            self._check_filters()
            tasks = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tasks.cancel_scope.cancel)  # unwound first: the listener never ends by itself
            self._tasks = tasks
            await tasks.start(self._listen)
        except BaseException as error:
            self._closed = True
            await stack.aclose()
            if isinstance(error, Exception) and not isinstance(error, Error):
                failure = _connection_error(
                    f"Could not connect to the MCP server {self._name!r} ({options.transport}): {_reason(error)}",
                    self._name,
                    error,
                )
                raise failure from failure.__cause__
            raise
        self._stack = stack

    async def _enter_client(self, stack: AsyncExitStack, client_class: type[Client]) -> Client:
        options = self._options
        common: dict[str, Any] = {"read_timeout_seconds": options.timeout, "message_handler": self._on_message}
        if options.transport != "streamable-http":
            return await stack.enter_async_context(client_class(cast(Any, options.target), **common))
        url = cast(str, options.target)
        from urllib.parse import urlsplit

        if urlsplit(url).path.rstrip("/").endswith("/sse"):
            self._options = _with_transport(options, "sse")
            return await stack.enter_async_context(client_class(self._sse(url), **common))
        try:
            async with AsyncExitStack() as attempt:
                client = await attempt.enter_async_context(client_class(await self._streamable(url, attempt), **common))
                stack.push_async_exit(attempt.pop_all())
                return client
        except Exception as error:
            if not _refused_by_http(error):
                raise
            refused = error
        # An old server speaks only SSE, at the same URL (the specification's fallback).
        self._options = _with_transport(options, "sse")
        try:
            return await stack.enter_async_context(client_class(self._sse(url), **common))
        except Exception as error:
            failure = _connection_error(
                f"Could not connect to the MCP server {self._name!r}: it refused streamable HTTP "
                f"({_reason(refused)}), and SSE failed too ({_reason(error)}).",
                self._name,
                error,
            )
            raise failure from failure.__cause__

    async def _streamable(self, url: str, stack: AsyncExitStack) -> Any:
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        async def keep_session_id(response: httpx2.Response) -> None:
            session_id = response.headers.get("mcp-session-id")
            if session_id:
                self._session_id = session_id

        # The SDK's own limits: 30 s to connect, write and get a connection, 300 s between reads.
        http = httpx2.AsyncClient(
            headers=self._options.headers or None,
            timeout=httpx2.Timeout(30.0, read=300.0),
            event_hooks={"response": [keep_session_id]},
        )
        await stack.enter_async_context(http)
        return streamable_http_client(url, http_client=http)

    def _sse(self, url: str) -> Any:
        from mcp.client.sse import sse_client

        def keep_session_id(session_id: str) -> None:
            self._session_id = session_id

        return sse_client(url, headers=self._options.headers or None, on_session_created=keep_session_id)

    async def _close(self) -> None:
        stack, self._stack = self._stack, None
        self._closed = True
        self._client = None
        if stack is None:
            return
        try:
            # Closed as if the block ended well: an error the block raised then goes on as it is,
            # not wrapped in the exception groups of the SDK's task groups.
            await stack.aclose()
        except Exception as closing:
            if not _connection_lost(closing):
                raise
            # The server went away before we did (it exited, say): nothing is left to close.

    def _open_client(self) -> Client:
        client = self._client
        if client is None:
            raise MCPError(self._closed_message(), server=self._name)
        return client

    def _closed_message(self) -> str:
        return (
            f"The connection to the MCP server {self._name!r} is closed: use the server inside its "
            "`async with llm.mcp.connect(...)` (or `with`) block."
        )

    # -- listings

    async def _load(self, kind: str, *, refresh: bool) -> None:
        client = self._client
        if client is None:
            return
        capabilities = client.server_capabilities
        mode: Any = "refresh" if refresh else "use"
        if kind == "tools":
            if capabilities.tools is None:
                return
            listed = await _all_pages(lambda cursor: client.list_tools(cursor=cursor, cache_mode=mode), "tools")
            self._tools = self._build_tools(cast("list[mcp_types.Tool]", listed))
        elif kind == "resources":
            if capabilities.resources is None:
                return
            resources = await _all_pages(
                lambda cursor: client.list_resources(cursor=cursor, cache_mode=mode), "resources"
            )
            templates = await _all_pages(
                lambda cursor: client.list_resource_templates(cursor=cursor, cache_mode=mode), "resource_templates"
            )
            self._resources = tuple(_resource(r) for r in cast("list[mcp_types.Resource]", resources))
            self._templates = tuple(_template(t) for t in cast("list[mcp_types.ResourceTemplate]", templates))
        elif capabilities.prompts is not None:
            prompts = await _all_pages(lambda cursor: client.list_prompts(cursor=cursor, cache_mode=mode), "prompts")
            self._prompts = tuple(_prompt(p) for p in cast("list[mcp_types.Prompt]", prompts))

    def _check_filters(self) -> None:
        options = self._options
        offered = self._offered_names
        for option, names in (("include", options.include), ("exclude", options.exclude)):
            unknown = sorted((names or frozenset()) - offered)
            if unknown:
                raise UsageError(
                    f"{option}= names tools the MCP server {self._name!r} does not have: "
                    f"{', '.join(map(repr, unknown))}; its tools are {', '.join(map(repr, sorted(offered))) or 'none'}."
                )

    def _build_tools(self, listed: list[mcp_types.Tool]) -> tuple[MCPTool, ...]:
        options = self._options
        self._offered_names = frozenset(tool.name for tool in listed)
        client = self._client
        protocol = client.protocol_version if client is not None else None
        tools: list[MCPTool] = []
        for listed_tool in listed:
            original = listed_tool.name
            if options.include is not None and original not in options.include:
                continue
            if options.exclude is not None and original in options.exclude:
                continue
            annotations = (
                listed_tool.annotations.model_dump(by_alias=True, exclude_none=True) if listed_tool.annotations else {}
            )
            if options.read_only and annotations.get("readOnlyHint") is not True:
                continue
            info = MCPToolInfo(
                server=self._name,
                name=original,
                title=listed_tool.title or cast("str | None", annotations.get("title")),
                annotations=annotations,
                meta=dict(listed_tool.meta or {}),
                output_schema=listed_tool.output_schema,
                transport=self._options.transport,
                session_id=self._session_id,
                protocol_version=protocol,
                schema_problem=_schema_problem(listed_tool.input_schema),
            )
            model_name = f"{options.prefix}_{original}" if options.prefix else original
            tools.append(
                MCPTool(
                    self._tool_function(original, model_name, listed_tool.output_schema),
                    name=model_name,
                    description=listed_tool.description or None,
                    parameters=listed_tool.input_schema,
                    info=info,
                )
            )
        return tuple(tools)

    # -- change notifications

    async def _on_message(self, message: object) -> None:
        # Servers of protocol versions before 2026-07-28 send `list_changed` notifications unasked.
        kind = _CHANGES.get(cast(str, getattr(message, "method", "")))
        if kind is not None and self._tasks is not None:
            self._tasks.start_soon(self._changed, kind)

    async def _listen(self, *, task_status: TaskStatus[None]) -> None:
        """From 2026-07-28 on, a server tells of changes on a `subscriptions/listen` stream, asked for here."""
        client = self._client
        started = False
        try:
            if client is None:
                return
            capabilities = client.server_capabilities
            tools = bool(capabilities.tools and capabilities.tools.list_changed)
            resources = bool(capabilities.resources and capabilities.resources.list_changed)
            prompts = bool(capabilities.prompts and capabilities.prompts.list_changed)
            from mcp_types.version import MODERN_PROTOCOL_VERSIONS

            if not (tools or resources or prompts) or client.protocol_version not in MODERN_PROTOCOL_VERSIONS:
                return
            listening = client.listen(
                tools_list_changed=tools, resources_list_changed=resources, prompts_list_changed=prompts
            )
            async with listening as subscription:
                task_status.started()
                started = True
                async for event in subscription:
                    kind = _EVENTS.get(type(event).__name__)
                    if kind is not None:
                        assert self._tasks is not None
                        self._tasks.start_soon(self._changed, kind)
        except Exception:
            # The server cannot tell of changes (or went away): the lists stay as last listed.
            pass
        finally:
            if not started:
                task_status.started()

    async def _changed(self, kind: str) -> None:
        # Notifications may come in bursts: one listing at a time, and one more if any came meanwhile.
        self._stale.add(kind)
        if kind in self._refreshing:
            return
        self._refreshing.add(kind)
        try:
            while kind in self._stale:
                self._stale.discard(kind)
                await self._load(kind, refresh=True)
        except Exception:
            pass  # the connection went away: the tools keep their last listing, and their calls say so
        finally:
            self._refreshing.discard(kind)

    # -- calling tools

    def _tool_function(
        self, original: str, model_name: str, output_schema: Mapping[str, object] | None
    ) -> Callable[..., object]:
        call = self._call
        dispatch = self._dispatch

        def run_mcp_tool(**arguments: object) -> object:
            return dispatch(call(original, arguments, output_schema))

        run_mcp_tool.__name__ = run_mcp_tool.__qualname__ = model_name
        return run_mcp_tool

    def _dispatch(self, coroutine: Coroutine[Any, Any, T]) -> T | Coroutine[Any, Any, T] | asyncio.Future[T]:
        """`coroutine` for the server's own event loop to run: itself there; from elsewhere, run there."""
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            return coroutine
        if loop is None or loop.is_closed() or self._closed:
            coroutine.close()
            raise MCPToolError(self._closed_message(), server=self._name, tool="")
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        if running is None:
            return future.result()
        return asyncio.wrap_future(future)

    async def _call(
        self, name: str, arguments: dict[str, object], output_schema: Mapping[str, object] | None
    ) -> object:
        client = self._client
        if client is None:
            raise MCPToolError(self._closed_message(), server=self._name, tool=name)
        try:
            result = await client.call_tool(name, arguments)
        except Exception as error:
            raise self._call_failed(name, error) from error
        return _tool_value(result, output_schema, self._options.max_output_chars, self._name, name)

    def _call_failed(self, tool: str, error: Exception) -> MCPToolError:
        from mcp.shared.exceptions import MCPError as SDKError
        from pydantic import ValidationError

        server = self._name
        leaf = _leaf(error)
        if isinstance(leaf, SDKError):
            if leaf.code == _REQUEST_TIMEOUT:
                return MCPTimeoutError(
                    f"The MCP server {server!r} did not answer the call to {tool!r} within {self._options.timeout} s "
                    "(llm.mcp.connect(..., timeout=) sets the limit).",
                    server=server,
                    tool=tool,
                )
            if leaf.code == _CONNECTION_CLOSED:
                return MCPToolError(
                    f"The MCP server {server!r} closed the connection during the call to {tool!r}: it exited or "
                    "went away, so its tools cannot be called until it is connected again.",
                    server=server,
                    tool=tool,
                )
            return MCPToolError(
                f"The MCP server {server!r} refused the call to {tool!r}: {leaf.message}", server=server, tool=tool
            )
        if isinstance(leaf, ValidationError):
            return MCPToolError(
                f"The MCP server {server!r} answered the call to {tool!r} with a result that is not valid MCP "
                f"({leaf.error_count()} problems, the first: {_first_problem(leaf)}).",
                server=server,
                tool=tool,
            )
        return MCPToolError(
            f"The call to {tool!r} on the MCP server {server!r} failed: {_reason(error)}", server=server, tool=tool
        )


def _schema_problem(schema: dict[str, Any]) -> str | None:
    """What in a server's JSON schema no provider takes, or `None`.

    A `$ref` to a document outside the schema (no provider fetches one), or to a place in it that
    does not exist.
    """
    refs: list[str] = []
    pending: list[object] = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            items = cast(dict[str, object], node)
            ref = items.get("$ref")
            if isinstance(ref, str):
                refs.append(ref)
            pending.extend(items.values())
        elif isinstance(node, list):
            pending.extend(cast(list[object], node))
    for ref in refs:
        if not ref.startswith("#"):
            return f"its schema refers to {ref!r}, outside it, which no provider fetches"
        target: object = schema
        for step in ref[1:].split("/")[1:] if ref != "#" else ():
            key = step.replace("~1", "/").replace("~0", "~")
            target = cast(dict[str, object], target).get(key) if isinstance(target, dict) else None
        if target is None:
            return f"its schema refers to {ref!r}, which is not in it"
    return None


def _connection_error(message: str, server: str, cause: BaseException) -> MCPConnectionError:
    """The error for a failed connection, its cause (the SDK's, or the network's) without credentials.

    The cause is the error the SDK's task groups wrapped, and its text is redacted of the URL's
    password and credential parameters and of the headers' credentials (`connect` remembered them).
    """
    from ._redact import known, scrub

    error = MCPConnectionError(message, server=server)
    error.__cause__ = _leaf(cause)
    scrub(error, known())
    return error


def _with_transport(options: _Options, transport: Transport) -> _Options:
    import attrs

    return attrs.evolve(options, transport=transport)


async def _all_pages(fetch: Callable[[str | None], Coroutine[Any, Any, Any]], attribute: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        page = await fetch(cursor)
        items.extend(getattr(page, attribute))
        cursor = page.next_cursor
        if not cursor:
            break
    return items


def _leaf(error: BaseException) -> BaseException:
    """The error an exception group (anyio's task groups wrap errors in them) was raised for."""
    found = error
    while True:
        grouped = isinstance(found, BaseExceptionGroup)
        inner = cast("tuple[BaseException, ...]", getattr(found, "exceptions", ()))
        if not grouped or not inner:
            return found
        found = inner[0]


def _reason(error: BaseException) -> str:
    from ._redact import known

    leaf = _leaf(error)
    text = str(leaf).strip().partition("\n")[0] or type(leaf).__name__  # httpx2 adds a line of advice
    return known().text(text if len(text) <= 500 else text[:500] + "...")


def _first_problem(error: Any) -> str:
    problems = cast("list[dict[str, Any]]", error.errors())
    if not problems:
        return "none given"
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg', '')}"


def _refused_by_http(error: BaseException) -> bool:
    """Whether connecting failed with an HTTP refusal (404, 405...), not with the network.

    The SDK reports a refusal as an `MCPError`; a network failure is an `OSError` or an httpx2
    transport error.
    """
    from mcp.shared.exceptions import MCPError as SDKError

    return isinstance(_leaf(error), SDKError)


def _connection_lost(error: BaseException) -> bool:
    import anyio
    from mcp.shared.exceptions import MCPError as SDKError

    leaf = _leaf(error)
    if isinstance(leaf, SDKError):
        return leaf.code == _CONNECTION_CLOSED
    return isinstance(leaf, anyio.BrokenResourceError | anyio.ClosedResourceError | OSError)


# --- MCP values as llm values -------------------------------------------------------------------


def _resource(listed: mcp_types.Resource) -> Resource:
    return Resource(
        uri=str(listed.uri),
        name=listed.name,
        title=listed.title,
        description=listed.description or None,
        mime_type=listed.mime_type,
        size=listed.size,
    )


def _template(listed: mcp_types.ResourceTemplate) -> ResourceTemplate:
    return ResourceTemplate(
        uri_template=listed.uri_template,
        name=listed.name,
        title=listed.title,
        description=listed.description or None,
        mime_type=listed.mime_type,
    )


def _prompt(listed: mcp_types.Prompt) -> Prompt:
    return Prompt(
        name=listed.name,
        title=listed.title,
        description=listed.description or None,
        arguments=tuple(
            PromptArgument(name=a.name, description=a.description, required=bool(a.required))
            for a in listed.arguments or ()
        ),
    )


def _tool_value(
    result: mcp_types.CallToolResult,
    output_schema: Mapping[str, object] | None,
    max_chars: int,
    server: str,
    tool: str,
) -> object:
    """What a tool call returned, as a tool function's return value.

    The structured result (data), else the text, else text and media parts. A result marked
    `is_error` is raised as an `MCPToolError` carrying its text.
    """
    if result.is_error:
        parts = _parts_of(result.content)
        text = "\n".join(part.text for part in parts if isinstance(part, Text))
        message = _capped(text, max_chars) if text else f"The MCP tool {tool!r} failed without saying why."
        raise MCPToolError(message, server=server, tool=tool, content=parts)
    structured = result.structured_content
    if structured is not None:
        value = _unwrapped(structured, output_schema)
        if isinstance(value, str):
            return _capped(value, max_chars)
        text = json_text(value)
        return value if len(text) <= max_chars else _capped(text, max_chars)
    parts = _parts_of(result.content)
    if all(isinstance(part, Text) for part in parts):
        return _capped("\n".join(cast(Text, part).text for part in parts), max_chars)
    return _capped_parts(parts, max_chars)


def _unwrapped(structured: object, output_schema: Mapping[str, object] | None) -> object:
    """A result the server wrapped as `{"result": ...}` (a tool returning a non-object), unwrapped.

    The Python SDK's `MCPServer` wraps so, declaring an output schema whose only property is
    `result`; FastMCP marks its schema `x-fastmcp-wrap-result`.
    """
    if not isinstance(structured, dict) or output_schema is None:
        return cast(object, structured)
    data = cast(dict[str, object], structured)
    if len(data) != 1 or "result" not in data:
        return data
    properties = output_schema.get("properties")
    if output_schema.get("x-fastmcp-wrap-result") is True or (
        isinstance(properties, dict) and list(cast(dict[str, object], properties)) == ["result"]
    ):
        return data["result"]
    return data


def _capped(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = len(text) - max_chars
    return f"{text[:max_chars]}\n[... {cut} more characters cut: the output is longer than {max_chars}]"


def _capped_parts(parts: tuple[ContentPart, ...], max_chars: int) -> list[ContentPart]:
    kept: list[ContentPart] = []
    left = max_chars
    for part in parts:
        if isinstance(part, Text):
            if left <= 0:
                continue
            text = _capped(part.text, left)
            left -= len(part.text)
            kept.append(Text(text))
        else:
            kept.append(part)
    return kept


def _parts_of(blocks: Sequence[mcp_types.ContentBlock]) -> tuple[ContentPart, ...]:
    parts: list[ContentPart] = []
    for block in blocks:
        parts.extend(_block_parts(block))
    return tuple(parts)


def _block_parts(block: object) -> tuple[ContentPart, ...]:
    """One MCP content block as llm parts; what cannot be shown becomes a text note saying so."""
    kind = getattr(block, "type", None)
    if kind == "text":
        return (Text(cast(Any, block).text),)
    if kind in ("image", "audio"):
        media = cast(Any, block)
        return (_media(Image if kind == "image" else Audio, media.data, media.mime_type, kind),)
    if kind == "resource":
        return _resource_parts(cast(Any, block).resource)
    if kind == "resource_link":
        link = cast(Any, block)
        about = f": {link.description}" if link.description else ""
        return (Text(f"[resource {link.name} at {link.uri}{about}]"),)
    return (Text(f"[content of type {kind!r} left out: llm.mcp does not know it]"),)


def _resource_parts(contents: object) -> tuple[ContentPart, ...]:
    text = getattr(contents, "text", None)
    if isinstance(text, str):
        return (Text(text),)
    uri = str(getattr(contents, "uri", ""))
    mime = cast("str | None", getattr(contents, "mime_type", None)) or "application/octet-stream"
    blob = cast(str, getattr(contents, "blob", ""))
    holder: type[Image | Audio | Video | Document] | None = (
        Image
        if mime.startswith("image/")
        else Audio
        if mime.startswith("audio/")
        else Video
        if mime.startswith("video/")
        else Document
        if mime == "application/pdf"
        else None
    )
    if holder is not None:
        return (_media(holder, blob, mime, f"resource {uri}"),)
    if mime.startswith("text/") or mime in ("application/json", "application/xml", "application/yaml"):
        try:
            return (Text(base64.b64decode(blob, validate=True).decode()),)
        except (binascii.Error, ValueError):
            pass
    return (Text(f"[resource {uri} ({mime}, {_size(blob)} bytes) left out: not text or media a model reads]"),)


def _size(data: str) -> int:
    """The number of bytes base64 `data` holds."""
    return len(data.rstrip("=")) * 3 // 4


def _media(holder: type[Image | Audio | Video | Document], data: str, mime: str, what: str) -> ContentPart:
    if len(data) > _MAX_MEDIA_CHARS:
        limit = _MAX_MEDIA_CHARS * 3 // 4
        return Text(f"[{what} ({mime}, {_size(data)} bytes) left out: larger than {limit} bytes]")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return Text(f"[{what} ({mime}) left out: its data is not valid base64]")
    try:
        return holder.from_bytes(raw, mime_type=mime if "/" in mime else None)
    except UsageError:
        try:  # the server named the wrong type: the bytes may say the right one
            return holder.from_bytes(raw)
        except UsageError:
            return Text(f"[{what} left out: {mime!r} is not a {holder.type} media type]")


# --- the sync server handle ---------------------------------------------------------------------


class SyncServer:
    """A connected MCP server for sync code (from `with llm.mcp.connect(...)`).

    The connection runs on an event loop of its own, on a background thread; its tools are
    called from sync code (and sync `llm.call`s) as plain functions, and `read` and `prompt`
    return their results directly.
    """

    def __init__(self, connection: Connection) -> None:
        import concurrent.futures

        self._connection = connection
        ready: concurrent.futures.Future[Server] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None
        label = connection._options.label  # pyright: ignore[reportPrivateUsage]
        self._thread = threading.Thread(target=self._run, args=(ready,), name=f"llm.mcp {label}", daemon=True)
        self._thread.start()
        try:
            self._server = ready.result()
        except BaseException:
            self._thread.join()
            raise

    def _run(self, ready: Any) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            try:
                async with self._connection as server:
                    ready.set_result(server)
                    await self._stopping.wait()
            except BaseException as error:
                if not ready.done():
                    ready.set_exception(error)
                else:
                    self._error = error

        asyncio.run(main())

    def _stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(stopping.set)
        self._thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _wait(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self._loop
        if loop is None or loop.is_closed():
            coroutine.close()
            raise MCPError(self._server._closed_message(), server=self.name)  # pyright: ignore[reportPrivateUsage]
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def __repr__(self) -> str:
        return repr(self._server).replace("<llm.mcp server", "<llm.mcp sync server", 1)

    @property
    def name(self) -> str:
        """The server's name: `connect(name=...)`, else the name it gives itself."""
        return self._server.name

    @property
    def transport(self) -> Transport:
        """How the server is reached."""
        return self._server.transport

    @property
    def session_id(self) -> str | None:
        """The MCP session id, for servers that keep sessions over HTTP; else `None`."""
        return self._server.session_id

    @property
    def protocol_version(self) -> str | None:
        """The MCP protocol version agreed with the server."""
        return self._server.protocol_version

    @property
    def instructions(self) -> str | None:
        """What the server says about using it, to add to a system prompt; `None` if it says nothing."""
        return self._server.instructions

    @property
    def tools(self) -> tuple[MCPTool, ...]:
        """Its tools as `llm.Tool`s, callable from sync code."""
        return self._server.tools

    @property
    def resources(self) -> tuple[Resource, ...]:
        """The resources it lists."""
        return self._server.resources

    @property
    def resource_templates(self) -> tuple[ResourceTemplate, ...]:
        """The resource URI templates it lists."""
        return self._server.resource_templates

    @property
    def prompts(self) -> tuple[Prompt, ...]:
        """The prompts it offers."""
        return self._server.prompts

    def read(self, uri: str) -> tuple[ContentPart, ...]:
        """A resource's contents as content parts (see `Server.read`)."""
        return self._wait(self._server.read(uri))

    def prompt(self, name: str, /, **arguments: object) -> list[Message]:
        """A prompt's messages (see `Server.prompt`)."""
        return self._wait(self._server.prompt(name, **arguments))

    def refresh(self) -> None:
        """List the tools, resources and prompts again."""
        self._wait(self._server.refresh())
