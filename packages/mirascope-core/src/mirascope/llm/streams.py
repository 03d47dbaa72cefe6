"""Streaming: `llm.Stream` (and `llm.AsyncStream`) yield `llm.Chunk`s, then give the whole response.

The two share their body the way httpx's `Client` and `AsyncClient` share `BaseClient`:
`_BaseStream` holds what is done with each piece of the body (events decoded into chunks, the
deadline, a failure turned into an error or a reopening) and the finished response; each twin
keeps only its `for` or `async for` over the body and its sleep before reopening.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._calling import Caller
from ._typevars import T
from ._values import Chunk, StreamEvents, ToolCallDelta
from .content import ToolCall, ToolOutput
from .exceptions import APIError, Error, UsageError
from .response_models import FORMAT_TOOL_NAME
from .responses import (
    AsyncCallResponse,
    CallResponse,
    ResumeContent,
    made_response,
    next_messages,
    next_model,
    retry_messages,
)

if TYPE_CHECKING:
    import httpx

    from ._partial_json import PartialJSON
    from ._retries import Attempts
    from .clients import Client
    from .instrumentation import StreamWatch
    from .providers import Decoded, HTTPRequest, Provider, Request, StreamDecoder, StreamFraming
    from .providers.sse import ServerSentEvent
    from .response_models import Format
    from .tools import Context

__all__ = ["AsyncStream", "Chunk", "Stream", "ToolCallDelta"]

_Reader = TypeVar("_Reader", Iterator[Chunk], AsyncIterator[Chunk])


class _FormatCallAsContent:
    """Wraps a decoder's `event` so that the forced format tool's argument text streams as content.

    Its call is the answer (see `response_models.answer_as_text`), so it reads as the reply's text
    does: chunk by chunk, and into `partials()`.
    """

    __slots__ = ("_event", "_index", "_other_calls")

    def __init__(self, event: Callable[[ServerSentEvent], Sequence[Chunk]]) -> None:
        self._event = event
        self._index: int | None = None  # which of the reply's tool calls is the format's
        self._other_calls = False

    def __call__(self, sse_event: ServerSentEvent) -> Sequence[Chunk]:
        chunks = self._event(sse_event)
        if not any(chunk.tool_call_delta is not None or chunk.finish_reason == "tool_call" for chunk in chunks):
            return chunks
        settled: list[Chunk] = []
        for chunk in chunks:
            delta = chunk.tool_call_delta
            if delta is not None:
                if delta.name == FORMAT_TOOL_NAME or delta.index == self._index:
                    self._index = delta.index
                    chunk = chunk._replace(content=delta.args, tool_call_delta=None)
                else:
                    self._other_calls = True
            if chunk.finish_reason == "tool_call" and self._index is not None and not self._other_calls:
                chunk = chunk._replace(finish_reason="stop")
            settled.append(chunk)
        return settled


def _fed(parser: PartialJSON, text: str) -> bool:
    """Whether feeding `text` changed the partial value.

    Text that is not JSON the parser reads ends the partials, not the stream: the finished reply
    is then parsed as any is, so that a `ParseError` says why and `max_retries` asks again.
    """
    if parser.failed:
        return False
    try:
        return parser.feed(text)
    except ValueError:
        return False


class _BaseStream(Generic[T]):
    """What a sync and an async stream share: the request, the loop's body, the finished response."""

    __slots__ = (
        "__weakref__",
        "_attempts",
        "_client",
        "_closed",
        "_context",
        "_decoder",
        "_done",
        "_event",
        "_events",
        "_http",
        "_http_request",
        "_metadata",
        "_model",
        "_provider",
        "_reader",
        "_request",
        "_watch",
    )

    def __init__(
        self,
        model: Caller[T],
        provider: Provider,
        client: Client,
        request: Request,
        http: httpx.Response,
        metadata: Mapping[str, object],
        context: Context[Any] | None = None,
        http_request: HTTPRequest | None = None,
        attempts: Attempts | None = None,
    ) -> None:
        self._model = model
        self._context = context
        self._provider = provider
        self._client = client
        self._request = request
        self._http = http
        # What reopens the stream when it fails before its first event (`_wait_to_reopen`).
        self._http_request = http_request
        self._attempts = attempts
        self._metadata = metadata
        self._decoder: StreamDecoder = provider.stream_decoder(request)
        self._event: Callable[[ServerSentEvent], Sequence[Chunk]] = self._decoder.event
        if request.format is not None:
            self._event = _FormatCallAsContent(self._event)
        self._done: Decoded | None = None
        self._events: list[str] = []  # each event's data, as it arrived: the response's `raw`
        # Our own flag, not `http.is_closed`: a transport may hand over a body already read
        # (and so closed) that is still there to iterate.
        self._closed = False
        # The iterator reading the events, once one was made. Weakly held: a loop that stops
        # early drops it, and that closes the connection.
        self._reader: weakref.ref[Any] | None = None
        # What tells the call's instrumentation observers how the stream went (`None`: nobody
        # listens, and reading the stream does no instrumentation work at all).
        self._watch: StreamWatch | None = None
        if attempts is not None and attempts.observers:
            from .instrumentation import StreamWatch  # loaded once something registered

            self._watch = StreamWatch(attempts.observers)
            weakref.finalize(self, self._watch)  # dropped unfinished: reported, never left open

    # The loop's body: each twin runs `_sse_decoder`, then `_read` for each piece of the body and
    # `_read_end` after the last, and on a failure `_wait_to_reopen`, which raises or says how
    # long to wait before reopening the stream; `_finish` once the body is read.

    def _deadline(self) -> float | None:
        return None if self._attempts is None else self._attempts.deadline

    def _sse_decoder(self) -> StreamFraming:
        # A provider whose streams are not Server-Sent Events (Bedrock's binary event stream)
        # brings its own framing, which hands the decoder the same `ServerSentEvent`s.
        framing = getattr(self._provider, "stream_framing", None)
        if framing is not None:
            return cast("StreamFraming", framing(self._client.max_event_bytes))
        from .providers.sse import SSEDecoder  # with the first stream, not with `llm`

        return SSEDecoder(self._client.max_event_bytes)

    def _read(self, sse_events: Iterable[ServerSentEvent], deadline: float | None) -> Iterator[Chunk]:
        """The chunks of the events one piece of the body completed, each as soon as it is decoded.

        The events are kept for `raw`. Each chunk goes out before the next event is read (a
        failing event still lets the ones before it out, and no chunk waits in a list for the
        garbage collector to walk); the call's `total` deadline is checked once a piece is read.
        """
        event = self._event
        keep = self._events.append
        for sse_event in sse_events:
            keep(sse_event.data)
            yield from event(sse_event)
        if deadline is not None and time.monotonic() > deadline:
            from .providers.http import total_timeout_error  # loads httpx, which the stream already has

            raise total_timeout_error(self._provider.name, self._client)

    def _read_end(self, sse: StreamFraming) -> Iterator[Chunk]:
        """The chunks of what the body held after its last complete event."""
        yield from self._read(sse.flush(), None)
        if not sse.seen_event and sse.stray:
            raise self._bare_body_error(sse.stray)

    def _wait_to_reopen(self, exc: Exception, deadline: float | None) -> float:
        """Seconds to wait before reopening the stream after `exc`; raises the error to raise instead.

        Only a stream that failed before its first event is reopened: after that, chunks may
        have been handed out, and sending the request again would repeat them.
        """
        if isinstance(exc, APIError):
            # An error the server sent inside the stream (Bedrock's `throttlingException`, an
            # overloaded error event) before any of the reply: retried as the same error would be
            # as an HTTP status, since nothing of the reply was handed out yet.
            if self._attempts is not None and self._http_request is not None and self._nothing_delivered():
                wait = self._attempts.wait(exc)
                if wait is not None:
                    self._restart_decoding()
                    return wait
            raise self._cut_short(exc) from exc.__cause__
        from .providers.http import stream_transport_error  # loads httpx, which the stream already has

        error = stream_transport_error(self._provider.name, self._client, exc, deadline)
        if error is None:
            if isinstance(exc, Error):  # a decoder's own, such as a refused event
                raise exc
            raise self._undecodable(exc) from exc
        wait = None
        if not self._events and self._attempts is not None and self._http_request is not None:
            wait = self._attempts.wait(error)
        if wait is None:
            raise self._cut_short(error) from exc
        return wait

    def _nothing_delivered(self) -> bool:
        """Whether the reply so far holds nothing: no text, thinking or tool call was handed out."""
        try:
            return not self._decoder.finish().message.content
        except Exception:  # a decoder that cannot assemble what arrived: nothing of it went out whole
            return not self._events

    def _restart_decoding(self) -> None:
        """Forget what the failed attempt's events told, for the stream to be read again from the start."""
        self._events.clear()
        self._decoder = self._provider.stream_decoder(self._request)
        self._event = self._decoder.event
        if self._request.format is not None:
            self._event = _FormatCallAsContent(self._event)

    def _reopened(self) -> None:
        from .providers.http import open_stream

        assert self._http_request is not None
        self._http = open_stream(self._provider, self._client, self._request, self._http_request, self._attempts)

    async def _reopened_async(self) -> None:
        from .providers.http import open_stream_async

        assert self._http_request is not None
        self._http = await open_stream_async(
            self._provider, self._client, self._request, self._http_request, self._attempts
        )

    def _undecodable(self, exc: Exception) -> APIError:
        """The error for an event the decoder could not read (see `_decoding`), holding that event."""
        from ._decoding import undecodable  # the error path: not loaded with `llm`

        body = self._events[-1] if self._events else None
        error = undecodable(self._provider.name, "stream event", self._http.status_code, body, exc)
        error.__cause__ = exc  # as `raise ... from exc` will: redacted with the error
        return self._cut_short(error)

    def _finish(self) -> Decoded:
        # Streams exist only after a call, which has loaded the decoding guard.
        from ._decoding import check, check_nesting, undecodable

        try:
            # Events are read as they come, with no depth check (work on every event); what
            # the reply keeps of them is checked once, here.
            return check_nesting(check(self._decoder.finish()))
        except APIError as error:
            if error.body is None:  # a decoder's error about the whole stream (`no_reply`): what arrived
                error.body = list(self._events)
            self._redacted(error)
            raise
        except Error:
            raise
        except Exception as exc:
            error = undecodable(self._provider.name, "stream", self._http.status_code, None, exc)
            error.__cause__ = exc
            self._redacted(error).body = list(self._events)
            raise error from exc

    def _redacted(self, error: APIError) -> APIError:
        """`error` without the credentials the request carried, should the server have echoed one.

        An error event (or an event that could not be read) is text the server wrote, and the
        stream's events are kept on `partial_response`: both are redacted, here on the error
        path rather than on every event.
        """
        from ._redact import redactor, scrub  # the error path: not loaded with `llm`

        redact = redactor(self._http)
        scrub(error, redact)
        if redact.secrets:
            self._events[:] = [redact.text(event) for event in self._events]
        return error

    def _cut_short(self, error: APIError) -> APIError:
        # Whatever arrived before the failure is kept on the error, so nothing is lost.
        if self._attempts is not None:
            error.attempts = self._attempts.count
        self._redacted(error)
        from ._decoding import check_nesting

        try:
            error.partial_response = self._respond(check_nesting(self._decoder.finish()))
        except Exception:  # a reply too broken to assemble still raises the original error
            error.partial_response = None
        return error

    def _bare_body_error(self, lines: list[str]) -> APIError:
        # A body with no event in it, such as a JSON error some servers send labelled as an
        # event stream: the provider reads it as it reads any failed reply.
        import httpx

        body = "\n".join(lines).encode()
        # Only its type: the body is already decoded, so a content-encoding must not apply again.
        headers = {"content-type": self._http.headers.get("content-type", "text/event-stream")}
        try:
            sent = self._http.request  # kept so that the error can redact the key it carried
        except RuntimeError:
            sent = None
        response = httpx.Response(self._http.status_code, content=body, headers=headers, request=sent)
        return self._provider.error(self._request, response)

    def _respond(self, decoded: Decoded) -> CallResponse[T] | AsyncCallResponse[T]:
        # `raw` is the events' text, decoded only if someone reads it.
        return made_response(
            self._response_type(),
            self._model,
            self._request,
            decoded,
            StreamEvents(self._events),
            self._client,
            self._metadata,
            self._context,
            () if self._attempts is None else self._attempts.observers,
        )

    def _response_type(self) -> type[CallResponse[T]] | type[AsyncCallResponse[T]]:
        raise NotImplementedError

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool calls of the finished reply (the stream is read to its end first)."""
        return self._finished().tool_calls

    def _finished(self) -> CallResponse[T] | AsyncCallResponse[T]:
        raise NotImplementedError

    def _reading(self, reader: _Reader) -> _Reader:
        """`reader`, the one iterator of this stream's chunks a user gets; a second is refused."""
        if self._reader is not None:
            raise UsageError(
                "This stream has already been read (its chunks are not kept, nor can they be read again): "
                "use stream.response for the whole reply, or keep the chunks as you read them, "
                "e.g. chunks = list(stream)."
            )
        self._reader = weakref.ref(reader)
        return reader

    def _format(self) -> Format[Any]:
        format = self._request.format
        if format is None:
            raise UsageError("This stream has no response_model to parse into; pass response_model= to the call.")
        return format


class Stream(_BaseStream[T]):
    """A reply arriving in pieces: iterate it for `llm.Chunk`s; `response` is the whole.

    Stop iterating early and the connection is closed; `close()` (or `with`) does the same.
    """

    __slots__ = ("_response",)

    def __init__(
        self,
        model: Caller[T],
        provider: Provider,
        client: Client,
        request: Request,
        http: httpx.Response,
        metadata: Mapping[str, object],
        context: Context[Any] | None = None,
        http_request: HTTPRequest | None = None,
        attempts: Attempts | None = None,
    ) -> None:
        super().__init__(model, provider, client, request, http, metadata, context, http_request, attempts)
        self._response: CallResponse[T] | None = None

    def __iter__(self) -> Iterator[Chunk]:
        """The chunks, as they arrive; a stream is read once.

        Raises:
            UsageError: The stream was already read (or `response` already read it).
        """
        return self._reading(self._chunks())

    def _rest(self) -> None:
        """Read what is left of the stream: all of it, or the rest of what a loop began reading."""
        reader = self._chunks() if self._reader is None else self._reader()
        if reader is not None:
            self._reader = weakref.ref(reader)
            for _ in reader:
                pass

    def _chunks(self) -> Iterator[Chunk]:
        return self._read_chunks()

    def _read_chunks(self) -> Iterator[Chunk]:
        # The instruments are told from this loop itself (not through a wrapping generator, a
        # second frame for every chunk): the first chunk, then the end or the failure.
        if self._done is not None or self._closed:
            return
        watch = self._watch
        first = watch.first if watch is not None and not watch.seen else None
        deadline = self._deadline()
        try:
            while True:
                sse = self._sse_decoder()
                try:
                    for data in self._http.iter_bytes():
                        for chunk in self._read(sse.feed(data), deadline):
                            if first is not None:
                                first()
                                first = None
                            yield chunk
                    for chunk in self._read_end(sse):
                        if first is not None:
                            first()
                            first = None
                        yield chunk
                    break
                except Exception as exc:
                    wait = self._wait_to_reopen(exc, deadline)
                    self._http.close()
                    from ._retries import sleep

                    sleep(wait)
                    self._reopened()
        except BaseException as error:
            if watch is not None:
                watch.stopped(error)
            raise
        finally:
            self._closed = True
            self._http.close()
        self._done = self._finish()
        if watch is not None:
            watch.ended(self._finished())

    def _response_type(self) -> type[CallResponse[T]]:
        return cast("type[CallResponse[T]]", CallResponse)

    def _finished(self) -> CallResponse[T]:
        if self._response is None:
            if self._done is None:
                self._rest()
            if self._done is None:
                raise Error("The stream was closed before it finished, so it has no complete response.")
            if self._response is None:  # reading the rest made it when an instrument was told of the end
                self._response = cast("CallResponse[T]", self._respond(self._done))
        return self._response

    @property
    def response(self) -> CallResponse[T]:
        """The complete response, as the same call without streaming returns it.

        Reads whatever of the stream is left first.
        """
        return self._finished()

    def execute_tools(self, ctx: Context[Any] | None = None) -> list[ToolOutput]:
        """Run the tool calls of the finished reply (see `llm.CallResponse.execute_tools`)."""
        return self._finished().execute_tools(ctx)

    def partials(self) -> Iterator[T]:
        """Read the stream as partial response models, then the complete one.

        Each partial is the response model with the fields that have arrived: strings and lists
        hold what has been written so far, fields not yet started are `None` (whatever their
        declared type), and no validation has run on it. The last item is the finished reply,
        parsed and validated as `parse()` does. Call it on a fresh stream, in place of iterating.

        Raises:
            ParseError: The finished reply does not fit the response model.
        """
        format = self._format()
        from ._partial_json import PartialJSON  # with the first partials, not with `llm`

        parser = PartialJSON()
        for chunk in self:
            if chunk.content and _fed(parser, chunk.content):
                partial = format.partial(parser.value)
                if partial is not None:
                    yield partial
        yield self.parse()

    def parse(self) -> T:
        """The finished reply as the response model (see `llm.CallResponse.parse`).

        With the call's `max_retries`, a reply that does not parse is asked for again by
        streaming the retry, as `llm.CallResponse.validate` does.

        Raises:
            ParseError: No reply parsed; `error.response` holds the last one.
        """
        response = self._finished()
        retries = response.settings.max_retries
        while (retry := retry_messages(response, retries)) is not None:
            retries -= 1
            response = next_model(response).stream_with(retry, self._metadata, self._context).response
        return response.parse()

    def resume(self, content: ResumeContent) -> Stream[T]:
        """Stream the model's next reply to the conversation plus `content`.

        `stream.response.resume(content)` does the same without streaming.

        Args:
            content: Text, parts such as `llm.ToolOutput`, or messages to append.
        """
        response = self._finished()
        return next_model(response).stream_with(next_messages(response, content), self._metadata, self._context)

    def close(self) -> None:
        """Stop the stream and close its connection."""
        self._closed = True
        self._http.close()
        if self._watch is not None:
            self._watch.closed()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncStream(_BaseStream[T]):
    """The async form of `llm.Stream`: `async for chunk in stream`, then `await stream.aresponse()`."""

    __slots__ = ("_response",)

    def __init__(
        self,
        model: Caller[T],
        provider: Provider,
        client: Client,
        request: Request,
        http: httpx.Response,
        metadata: Mapping[str, object],
        context: Context[Any] | None = None,
        http_request: HTTPRequest | None = None,
        attempts: Attempts | None = None,
    ) -> None:
        super().__init__(model, provider, client, request, http, metadata, context, http_request, attempts)
        self._response: AsyncCallResponse[T] | None = None

    def __aiter__(self) -> AsyncIterator[Chunk]:
        """The chunks, as they arrive; a stream is read once.

        Raises:
            UsageError: The stream was already read (or `aresponse()` already read it).
        """
        return self._reading(self._chunks())

    async def _rest(self) -> None:
        """Read what is left of the stream: all of it, or the rest of what a loop began reading."""
        reader = self._chunks() if self._reader is None else self._reader()
        if reader is not None:
            self._reader = weakref.ref(reader)
            async for _ in reader:
                pass

    def _chunks(self) -> AsyncIterator[Chunk]:
        return self._read_chunks()

    async def _read_chunks(self) -> AsyncIterator[Chunk]:
        # As `Stream._read_chunks`: the instruments are told from this loop, not a wrapper.
        if self._done is not None or self._closed:
            return
        watch = self._watch
        first = watch.first if watch is not None and not watch.seen else None
        deadline = self._deadline()
        try:
            while True:
                sse = self._sse_decoder()
                try:
                    async for data in self._http.aiter_bytes():
                        for chunk in self._read(sse.feed(data), deadline):
                            if first is not None:
                                first()
                                first = None
                            yield chunk
                    for chunk in self._read_end(sse):
                        if first is not None:
                            first()
                            first = None
                        yield chunk
                    break
                except Exception as exc:
                    wait = self._wait_to_reopen(exc, deadline)
                    await self._http.aclose()
                    from ._retries import asleep

                    await asleep(wait)
                    await self._reopened_async()
        except BaseException as error:
            if watch is not None:
                watch.stopped(error)
            raise
        finally:
            self._closed = True
            await self._http.aclose()
        self._done = self._finish()
        if watch is not None:
            watch.ended(self._finished())

    def _response_type(self) -> type[AsyncCallResponse[T]]:
        return cast("type[AsyncCallResponse[T]]", AsyncCallResponse)

    def _finished(self) -> AsyncCallResponse[T]:
        if self._response is None:
            if self._done is None:
                raise Error("The stream has not been read to its end; use `await stream.aresponse()`.")
            self._response = cast("AsyncCallResponse[T]", self._respond(self._done))
        return self._response

    @property
    def response(self) -> AsyncCallResponse[T]:
        """The complete response, once the stream has been read to its end."""
        return self._finished()

    async def aresponse(self) -> AsyncCallResponse[T]:
        """The complete response, reading whatever of the stream is left first."""
        await self._rest()
        return self._finished()

    async def execute_tools(self, ctx: Context[Any] | None = None) -> list[ToolOutput]:
        """Run the tool calls of the reply, reading what is left of the stream first."""
        return await (await self.aresponse()).execute_tools(ctx)

    async def partials(self) -> AsyncIterator[T]:
        """Read the stream as partial response models, then the complete one (see `llm.Stream.partials`)."""
        format = self._format()
        from ._partial_json import PartialJSON  # with the first partials, not with `llm`

        parser = PartialJSON()
        async for chunk in self:
            if chunk.content and _fed(parser, chunk.content):
                partial = format.partial(parser.value)
                if partial is not None:
                    yield partial
        yield await self.parse()

    async def parse(self) -> T:
        """The finished reply as the response model, re-asked up to `max_retries` (see `llm.Stream.parse`)."""
        response = await self.aresponse()
        retries = response.settings.max_retries
        while (retry := retry_messages(response, retries)) is not None:
            retries -= 1
            stream = await next_model(response).stream_with_async(retry, self._metadata, self._context)
            response = await stream.aresponse()
        return response.parse()

    async def resume(self, content: ResumeContent) -> AsyncStream[T]:
        """Stream the model's next reply to the conversation plus `content`.

        Reads whatever of this stream is left first.

        Args:
            content: Text, parts such as `llm.ToolOutput`, or messages to append.
        """
        response = await self.aresponse()
        messages = next_messages(response, content)
        return await next_model(response).stream_with_async(messages, self._metadata, self._context)

    async def aclose(self) -> None:
        """Stop the stream and close its connection."""
        self._closed = True
        await self._http.aclose()
        if self._watch is not None:
            self._watch.closed()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
