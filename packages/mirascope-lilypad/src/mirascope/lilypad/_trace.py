"""`@lilypad.trace()`: a span around any function, with its arguments and result."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Any, ParamSpec, TypeVar, cast

from opentelemetry import trace as otel_trace
from opentelemetry.trace import Span, Status, StatusCode

from . import _semconv as sc
from ._instrument import current_tracer, current_versioner

__all__ = ["MAX_VALUE_CHARS", "json_summary", "trace"]

P = ParamSpec("P")
R = TypeVar("R")

MAX_VALUE_CHARS = 4096
"""Arguments and results longer than this (as JSON) are cut, with a marker saying so."""


def json_summary(value: object, limit: int = MAX_VALUE_CHARS) -> str:
    """`value` as JSON, cut to `limit` characters; what JSON cannot hold becomes its type and repr."""
    text = _dumps(value)
    if len(text) > limit:
        return text[:limit] + f"...<{len(text) - limit} more characters>"
    return text


def _dumps(value: object, *, by_key: bool = True) -> str:
    try:
        return json.dumps(value, default=_fallback, ensure_ascii=False)
    except Exception:  # circular or too deep data, an int too long to print, a container whose iteration raised
        pass
    kind = type(value)
    if by_key and kind is dict:
        # A traced function's arguments: one that JSON cannot hold must not hide the others.
        items = cast(dict[object, object], value).items()
        if all(isinstance(key, str) for key, _ in items):
            return "{" + ", ".join(f"{json.dumps(key)}: {_dumps(item, by_key=False)}" for key, item in items) + "}"
    return json.dumps(f"<unserializable {kind.__qualname__}>")


def _fallback(value: object) -> str:
    try:
        return f"<{type(value).__qualname__}: {value!r:.200}>"
    except Exception:  # a broken __repr__ must not break the traced function
        return f"<{type(value).__qualname__}>"


def _arguments(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
        named: dict[str, object] = dict(bound.arguments)
    except (TypeError, ValueError):
        named = {"args": list(args), "kwargs": kwargs}
    return json_summary(named)


def trace(name: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Trace each call of the decorated function as a span, parent of the `llm` spans inside it.

    Works on plain and `async` functions and on generators (the span covers the whole
    iteration). The arguments and the result are recorded as JSON, cut to `MAX_VALUE_CHARS`;
    values JSON cannot hold are summarised, never raised.

    Args:
        name: The span's name; by default the function's qualified name.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        span_name = name or getattr(fn, "__qualname__", repr(fn))

        def start(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Span:
            attributes: dict[str, Any] = {sc.MIRASCOPE_TRACE_ARGUMENTS: _arguments(fn, args, kwargs)}
            versioner = current_versioner()
            if versioner is not None:
                attributes.update(versioner.attributes(fn))
            return current_tracer().start_span(span_name, attributes=attributes)

        def finish(span: Span, result: object) -> None:
            span.set_attribute(sc.MIRASCOPE_TRACE_RESULT, json_summary(result))
            span.end()

        def fail(span: Span, error: BaseException) -> None:
            span.record_exception(error)
            span.set_attribute(sc.ERROR_TYPE, type(error).__qualname__)
            span.set_status(Status(StatusCode.ERROR, str(error)[:500]))
            span.end()

        if inspect.isasyncgenfunction(fn):
            agen_fn = cast(Callable[..., AsyncGenerator[Any, Any]], fn)

            @functools.wraps(fn)
            async def agen_wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
                span = start(args, kwargs)
                count = 0
                gen = agen_fn(*args, **kwargs)
                sent: Any = None
                try:
                    while True:
                        with otel_trace.use_span(span, end_on_exit=False, record_exception=False):
                            try:
                                item = await gen.asend(sent)
                            except StopAsyncIteration:
                                break
                        count += 1
                        sent = yield item
                except BaseException as error:
                    await gen.aclose()
                    fail(span, error)
                    raise
                finish(span, {"yielded": count})

            return cast(Callable[P, R], agen_wrapper)

        if inspect.isgeneratorfunction(fn):
            gen_fn = cast(Callable[..., Generator[Any, Any, Any]], fn)

            @functools.wraps(fn)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
                span = start(args, kwargs)
                count = 0
                gen = gen_fn(*args, **kwargs)
                sent: Any = None
                try:
                    while True:
                        with otel_trace.use_span(span, end_on_exit=False, record_exception=False):
                            try:
                                item = gen.send(sent)
                            except StopIteration as stop:
                                result: Any = stop.value
                                break
                        count += 1
                        sent = yield item
                except BaseException as error:
                    gen.close()
                    fail(span, error)
                    raise
                finish(span, {"yielded": count, "returned": result} if result is not None else {"yielded": count})
                return result

            return cast(Callable[P, R], gen_wrapper)

        if inspect.iscoroutinefunction(fn):
            async_fn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                span = start(args, kwargs)
                try:
                    with otel_trace.use_span(span, end_on_exit=False, record_exception=False):
                        result = await async_fn(*args, **kwargs)
                except BaseException as error:
                    fail(span, error)
                    raise
                finish(span, result)
                return result

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            span = start(args, kwargs)
            try:
                with otel_trace.use_span(span, end_on_exit=False, record_exception=False):
                    result = fn(*args, **kwargs)
            except BaseException as error:
                fail(span, error)
                raise
            finish(span, result)
            return result

        return wrapper

    return decorate
