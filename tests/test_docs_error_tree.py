"""The error tree drawn in `docs/errors.md` and in `llm.exceptions`' docstring is the real one.

Both drawings are the same text, and each line's place in it (its parent) is the class's own
base: a new error, or one moved, fails here until both are redrawn.
"""

from __future__ import annotations

import re
from pathlib import Path

from mirascope import llm
from mirascope.llm import exceptions

REPO = Path(__file__).resolve().parents[1]
_NAME = re.compile(r"^(?P<indent>[│ ├└─]*)(?P<name>[A-Za-z]+Error|Error)\b")


def _drawn_tree(text: str) -> str:
    match = re.search(r"```text\n(Error\n.*?)```", text, re.DOTALL)
    assert match is not None, "no ```text block drawing the tree"
    return match.group(1)


def _parents(tree: str) -> dict[str, str | None]:
    """Each error the drawing names, and the error it hangs from (`None` for the root)."""
    parents: dict[str, str | None] = {}
    stack: list[str] = []
    for line in tree.splitlines():
        match = _NAME.match(line)
        assert match is not None, f"not a line of the tree: {line!r}"
        depth = len(match.group("indent")) // 4
        del stack[depth:]
        parents[match.group("name")] = stack[-1] if stack else None
        stack.append(match.group("name"))
    return parents


def _real_parents() -> dict[str, str | None]:
    errors = {
        name: cls for name in llm.__all__ if isinstance(cls := getattr(llm, name), type) and issubclass(cls, llm.Error)
    }
    return {
        name: None if cls is llm.Error else next(base.__name__ for base in cls.__bases__ if issubclass(base, llm.Error))
        for name, cls in errors.items()
    }


def test_the_docs_draw_the_same_tree_as_the_exceptions_module() -> None:
    docs = (REPO / "docs" / "errors.md").read_text()
    assert exceptions.__doc__ is not None
    assert _drawn_tree(docs) == _drawn_tree(exceptions.__doc__)


def test_the_drawn_tree_is_every_exported_error_under_its_own_base() -> None:
    assert exceptions.__doc__ is not None
    assert _parents(_drawn_tree(exceptions.__doc__)) == _real_parents()


def test_every_error_class_of_the_exceptions_module_is_exported() -> None:
    defined = {
        name
        for name, value in vars(exceptions).items()
        if isinstance(value, type) and issubclass(value, llm.Error) and not name.startswith("_")
    }
    assert defined <= set(llm.__all__)
