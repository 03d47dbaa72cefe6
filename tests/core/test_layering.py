"""Core's modules import one another without a cycle: the layering ARCHITECTURE.md draws holds.

The graph is drawn from the modules' own source (their ASTs), with every import of a
`mirascope.llm` module that runs: at module level and inside functions alike, since an import
moved into a function to dodge a cycle is still that cycle. Imports under `if TYPE_CHECKING:`
are left out: they are for annotations and never run. Importing `mirascope.llm.providers.http`
runs `mirascope.llm.providers` first, so that package is an edge too, except from a module
inside it (the package is already running by then).

Lazy imports of our own modules inside functions stay allowed where they break no cycle (the
ones that load httpx with `providers.http` on the first call, say): they are there for import
time, and this test is about cycles only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mirascope.llm

ROOT = Path(mirascope.llm.__file__).parent
PACKAGE = "mirascope.llm"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in ROOT.rglob("*.py")}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _imported(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The `mirascope.llm` modules `node` imports, written in `module`."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    targets: set[str] = set()
    for alias in node.names:
        submodule = f"{target}.{alias.name}"
        if submodule in known:  # `from . import _retries`: the module, not the package
            targets.add(submodule)
        elif target in known:
            targets.add(target)
    return targets | {package for found in targets for package in _packages_run_first(found, module, known)}


def _packages_run_first(target: str, module: str, known: set[str]) -> set[str]:
    """The packages Python runs before `target`, when `module` imports it: those it is not inside."""
    parts = target.split(".")
    packages = {".".join(parts[:end]) for end in range(3, len(parts))}  # below `mirascope.llm`
    return {package for package in packages if package in known and not (module + ".").startswith(package + ".")}


def import_graph() -> dict[str, set[str]]:
    """Each `mirascope.llm` module and the `mirascope.llm` modules it imports when it runs."""
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in _runtime_imports(tree):
            edges |= _imported(name, is_package, node, known)
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph`, as the modules around it, or `None`."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                cycle = visit(target)
                if cycle is not None:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle is not None:
                return cycle
    return None


def test_core_modules_import_one_another_without_a_cycle() -> None:
    cycle = find_cycle(import_graph())

    assert cycle is None, "import cycle among core modules: " + " -> ".join(cycle or ())


def test_the_graph_sees_imports_inside_functions_and_leaves_out_type_checking_ones() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "from . import _values\n"
        "if TYPE_CHECKING:\n"
        "    from .models import Model\n"
        "def f():\n"
        "    from .responses import CallResponse\n"
    )
    known = {"mirascope.llm._values", "mirascope.llm.models", "mirascope.llm.responses", "mirascope.llm"}
    edges = set[str]()
    for node in _runtime_imports(tree):
        edges |= _imported("mirascope.llm.streams", False, node, known)

    assert edges == {"mirascope.llm._values", "mirascope.llm.responses"}


def test_importing_a_module_of_a_package_runs_the_package_first() -> None:
    known = {"mirascope.llm.providers", "mirascope.llm.providers.http", "mirascope.llm._decoding"}
    node = ast.parse("from .providers.http import open_stream").body[0]
    inside = ast.parse("from .http import open_stream").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert isinstance(inside, ast.ImportFrom)

    assert _imported("mirascope.llm._decoding", False, node, known) == {
        "mirascope.llm.providers.http",
        "mirascope.llm.providers",
    }
    assert _imported("mirascope.llm.providers", True, inside, known) == {"mirascope.llm.providers.http"}


def test_a_cycle_is_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert find_cycle(graph) == ["a", "b", "c", "a"]
