"""`llm.Context[Deps]`: what a prompt function or a tool asks for as its first parameter.

```python
@dataclass
class Deps:
    db: Database

@llm.tool
def lookup(ctx: llm.Context[Deps], order_id: str) -> str:
    return ctx.deps.db.order(order_id)

@llm.call("openai:gpt-4o-mini", tools=[lookup])
def support(ctx: llm.Context[Deps], question: str) -> str:
    return question

response = support(llm.Context(deps=Deps(db)), "Where is order 42?")
outputs = response.execute_tools()  # `lookup` gets the same ctx; the model never sees it
```
"""

from __future__ import annotations

import contextlib
import inspect
import typing
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from attrs import frozen

__all__ = ["AgentContext", "Context", "takes_context"]

DepsT = TypeVar("DepsT")


@frozen
class Context(Generic[DepsT]):
    """Dependencies the library hands to a prompt function or tool that asks for them."""

    deps: DepsT
    """Whatever the caller passed: a database handle, a user, settings."""


@frozen
class AgentContext(Context[DepsT]):
    """The context an agent hands to its prompt function and tools."""


_answers: weakref.WeakKeyDictionary[Callable[..., object], bool] = weakref.WeakKeyDictionary()


def takes_context(fn: Callable[..., object]) -> bool:
    """Whether the first parameter of `fn` is annotated `llm.Context[...]` (or a subclass).

    Answered once per function: reading a signature and its hints costs more than the rest of
    building a tool whose schema is cached.
    """
    with contextlib.suppress(KeyError, TypeError):  # not seen yet, or not weakly referable
        return _answers[fn]
    answer = _takes_context(fn)
    with contextlib.suppress(TypeError):
        _answers[fn] = answer
    return answer


def _takes_context(fn: Callable[..., object]) -> bool:
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if not parameters:
        return False
    first = parameters[0]
    hint: object = first.annotation
    if isinstance(hint, str):
        try:
            hint = typing.get_type_hints(fn).get(first.name, hint)
        except Exception:
            # Unresolvable here (a name defined later, say): the written form still says it.
            return hint.partition("[")[0].rpartition(".")[2] in ("Context", "AgentContext")
    origin = typing.get_origin(hint) or hint
    return isinstance(origin, type) and issubclass(origin, Context)
