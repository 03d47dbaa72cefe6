"""`@lilypad.version()`: number each function's versions by the hash of its closure.

The hash (`_versioning.closure`) is computed lazily, at the function's first call, and cached
for the function object; the number (`X.Y`) comes from the store, which keeps every version's
code. Spans of a versioned function carry `mirascope.function`, `mirascope.version` and
`mirascope.version_hash`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from opentelemetry.util.types import AttributeValue

from . import _semconv as sc

if TYPE_CHECKING:
    from ._store import Store

__all__ = ["Versioner", "version", "versioned_function"]

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "__lilypad_version__"
"""Set on a function `@lilypad.version()` marks: its value says whether docstrings count."""

logger = logging.getLogger("mirascope.lilypad")


def _target(obj: object) -> object:
    """The function whose closure is hashed: an `llm.call`'s or agent's own function, else `obj`."""
    fn = getattr(obj, "fn", None)
    return fn if callable(fn) else obj


def versioned_function(obj: object) -> bool | None:
    """`None` when `obj` is not marked by `@lilypad.version()`, else whether docstrings count."""
    mark = getattr(_target(obj), _MARK, None)
    return mark if isinstance(mark, bool) else None


def version(*, docstrings: bool = False) -> Callable[[F], F]:
    """Version the decorated function: each change to its closure is a new `X.Y` version.

    Put it above `@llm.call(...)`, `@llm.agent(...)` or `@lilypad.trace()`, or on any function
    (which then gets a span of its own, as with `@lilypad.trace()`). The function is returned
    unchanged (only marked), so types and attributes stay as they were.

    The version is the hash of the function's source and of the user code it reaches (helpers,
    classes, module globals, nonlocals), with formatting and comments ignored; libraries count by
    their installed version. A changed signature bumps `X`, any other change `Y`.

    Args:
        docstrings: Whether a docstring change is a new version (by default it is not).
    """

    def mark(fn: F) -> F:
        target = _target(fn)
        try:
            setattr(target, _MARK, docstrings)
        except (AttributeError, TypeError) as exc:  # a builtin or a slotted callable
            raise TypeError(f"@lilypad.version() cannot mark {fn!r}: decorate a Python function") from exc
        if target is fn and not _is_mirascope(fn):
            from ._trace import trace

            return cast(F, trace()(fn))
        return fn

    return mark


def _is_mirascope(obj: object) -> bool:
    return type(obj).__module__.startswith("mirascope.")


class Versioner:
    """The version attributes of each function, computed once per function object."""

    def __init__(self, store: Store | None, auto: bool) -> None:
        self.store = store
        self.auto = auto
        self._known: dict[object, Mapping[str, AttributeValue]] = {}
        self._lock = threading.Lock()

    def attributes(self, fn: object) -> Mapping[str, AttributeValue]:
        """`fn`'s version attributes; empty when it is not versioned (not marked, `auto` off)."""
        known = self._known.get(fn)
        if known is not None:
            return known
        docstrings = versioned_function(fn)
        if docstrings is None and not self.auto:
            return {}
        with self._lock:
            known = self._known.get(fn)
            if known is None:
                known = self._known[fn] = self._compute(fn, bool(docstrings))
        return known

    def _compute(self, fn: object, docstrings: bool) -> Mapping[str, AttributeValue]:
        from ._versioning import closure

        target = _target(fn)
        try:
            found = closure(target, docstrings=docstrings)  # pyright: ignore[reportArgumentType]
        except Exception as error:  # versioning must never break the user's call
            logger.warning("lilypad could not version %r (%s); its spans go unversioned.", target, error)
            return {}
        attributes: dict[str, AttributeValue] = {
            sc.MIRASCOPE_FUNCTION: found.function,
            sc.MIRASCOPE_VERSION_HASH: found.hash,
        }
        if found.source == "bytecode":
            attributes[sc.MIRASCOPE_VERSION_SOURCE] = "bytecode"
        if self.store is not None:
            try:
                record = self.store.record_version(
                    found.function,
                    found.hash,
                    found.signature,
                    found.code,
                    found.dependencies,
                    kind="function" if found.source == "source" else "bytecode",  # no source to show
                )
            except Exception as error:
                logger.warning("lilypad could not store the version of %s (%s).", found.function, error)
            else:
                attributes[sc.MIRASCOPE_VERSION] = record.version
        return attributes
