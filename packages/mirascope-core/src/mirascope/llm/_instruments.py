"""The registered instruments, as the hook points check them, and how observers are told.

Each hook point checks `if _instruments.instruments:` and does nothing more when it is empty.

Kept apart from `llm.instrumentation` (the documented interface: protocols, start records,
`register`) so that `import llm` stays light: that module is loaded on first use, and the hook
points load it only to start observing, which happens only once something registered.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

instruments: tuple[Any, ...] = ()
"""The registered instruments; `llm.instrumentation.register` rebinds it (never mutates it)."""

prompt_function: ContextVar[Any] = ContextVar("mirascope_prompt_function", default=None)
"""The `@llm.call` prompt function whose call is being made, set only while something is registered."""

_logged: set[tuple[type, str]] = set()


def complain(owner: object, hook: str, error: Exception) -> None:
    """Log an instrument's failure once per instrument type and hook; the call goes on."""
    key = (type(owner), hook)
    if key in _logged:
        return
    _logged.add(key)
    import logging  # only when an instrument misbehaves

    logging.getLogger("mirascope.instrumentation").error(
        "Instrument %r raised in %s (logged once; the call goes on).", owner, hook, exc_info=error
    )


def tell(observers: tuple[tuple[Any, Any], ...], hook: str, *args: object) -> None:
    """Call `hook(*args)` on each observer; one that raises is logged once and skipped."""
    for _, observer in observers:
        try:
            getattr(observer, hook)(*args)
        except Exception as error:
            complain(observer, hook, error)
