"""Versions by closure: a hash of a function's own code and of the user code it reaches.

`closure(fn)` reads the function's source with `ast` (no formatter, no subprocess), keeps what
decides behaviour and follows every name the function reads from outside itself:

- a function or class of the user's own code: its canonical source, followed in turn (every
  piece is visited once, so mutual recursion and self-reference end);
- a module global holding a constant (`str`, numbers, `bytes`, `None`, and tuples, lists,
  dicts and sets of them): its value, so a changed prompt constant changes the hash;
- any other module global (an `llm.model(...)`, a client, a `functools.partial`, an instance
  of a user class): the module-level statements binding it, and the names those statements read;
- a nonlocal (a closure cell): its value, written above the function;
- library code (the standard library, anything under site-packages, `mirascope` itself): the
  import binding it, and the installed version of its distribution; never its source. A
  library installed in editable mode from a directory of its own counts as user code: its
  source is what is being edited.

Canonical source is `ast.unparse` of the parsed code: formatting, comments, parentheses, quote
style and number spelling vanish. Docstrings of functions and methods are dropped unless
`docstrings=True`, except where Mirascope sends them to the model: an `@llm.tool` function's
docstring is its description, and a class's own docstring is the schema description of a
response model or class tool, so both are always kept. Decorators are part of a function's
source: the model, the parameters and the `tools=` of `@llm.call(...)` are in its hash, and the
tools are followed through the names they are given by.

What is deliberately *not* normalised: local variable names (renaming one changes the hash;
the code shown is the code written), keyword-argument order, and the insertion order of dict
constants (it is observable). Set constants are sorted, since their order is not.

The hash is the sha256 of `FORMAT`, `Closure.code` and the `Closure.dependencies`, so what a
version shows is exactly what identifies it: a library upgrade (a new version of a
distribution the code imports) makes a new version, as does any change to the code shown.
Standard-library modules are not recorded (they move with the Python version, and recording it
would split versions between machines). Provider packages are not looked up separately: they
are released in lockstep with `mirascope-core`, whose version is recorded when `llm` is used.

Functions without source (`python -c`, the REPL) get a hash of their compiled code (bytecode,
constants and names, recursively; not line numbers or file names) and `source="bytecode"`;
such a hash is stable for one Python version but not across versions.

A closure is computed once per function object and cached (its globals are read then: a
constant changed later in the same process does not change it); `clear_cache()` forgets every
cached closure, parsed module and installed version.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import functools
import hashlib
import importlib.metadata
import inspect
import linecache
import os
import re
import site
import sys
import sysconfig
import types
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, cast

from attrs import frozen

from mirascope import llm

__all__ = ["FORMAT", "Closure", "clear_cache", "closure"]

FORMAT = "mirascope-lilypad closure 1"
"""Hashed ahead of the code: a change to how closures are written changes every hash, knowingly."""

MAX_CONSTANT_CHARS = 10_000
"""A constant longer than this (as Python text) is shown by its length and sha256, still hashed in full."""

Chain = tuple[str, ...]
"""A dotted name read by code: `("helpers", "format_hint")` for `helpers.format_hint`."""


@frozen
class Closure:
    """What identifies one version of a function: its code, what it reaches, and the hash of both."""

    function: str
    """The function's qualified name, e.g. `recommend_book` or `Library.recommend`."""
    hash: str
    """The sha256 (64 hex digits) of `FORMAT`, `code` and `dependencies`."""
    signature: str
    """The canonical signature, e.g. `def recommend_book(genre: str) -> str`; a change bumps the major version."""
    code: str
    """The canonical code: the function and every user-code piece it reaches, module by module."""
    dependencies: Mapping[str, str]
    """Library distribution name -> installed version, for every library the code reaches (no stdlib)."""
    source: Literal["source", "bytecode"]
    """`"bytecode"` when the function has no source (REPL, `python -c`): its compiled code was hashed."""


def closure(fn: Callable[..., object], *, docstrings: bool = False) -> Closure:
    """The closure of `fn`: computed on first use, then cached for the function object.

    `fn` may be a function (sync, async, generator, lambda, nested), a method, an `llm.call`,
    `llm.agent` or `llm.tool` object, a `functools.partial`, anything wrapped with
    `functools.wraps`, or a class.

    Args:
        fn: What to version.
        docstrings: Count function and method docstrings too (they are dropped by default).

    Raises:
        llm.UsageError: `fn` is not Python code (a builtin such as `len`).
    """
    try:
        cached = _closures.get(fn)
        key: object = fn
    except TypeError:  # not weak-referenceable (an `llm.Tool`): cached on the function it wraps
        wrapped: object = fn
        key = cast("llm.Tool[..., Any]", wrapped).fn if isinstance(wrapped, llm.Tool) else _unwrap(fn)[0]
        try:
            cached = _closures.get(key)
        except TypeError:
            key, cached = None, None
    slot = (docstrings, type(fn))
    if cached is not None and slot in cached:
        return cached[slot]
    result = _Builder(docstrings).build(fn)
    if key is not None:
        with contextlib.suppress(TypeError):  # neither weak-referenceable nor wrapping a function
            _closures.setdefault(key, {})[slot] = result
    return result


def clear_cache() -> None:
    """Forget every computed closure, parsed module and installed version (benchmarks, tests)."""
    _closures.clear()
    _modules.clear()
    _versions.clear()
    _distributions.clear()
    _library_files.clear()
    _packages_distributions.cache_clear()


_closures: weakref.WeakKeyDictionary[object, dict[tuple[bool, type], Closure]] = weakref.WeakKeyDictionary()

# Piece kinds, in the order they are written within a module's section of `Closure.code`.
_IMPORT, _BINDING, _ROOT, _DEFINITION = range(4)

_MODEL_HOLDERS = (llm.Call, llm.AsyncCall, llm.Agent, llm.AsyncAgent)
_BUILTIN_CALLABLES = (
    types.BuiltinFunctionType,
    types.MethodWrapperType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
    types.ClassMethodDescriptorType,
)
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class _Builder:
    """One closure being computed: the pieces found so far and the work left."""

    def __init__(self, docstrings: bool) -> None:
        self.docstrings = docstrings
        self.root_module: str | None = None
        self.pieces: set[tuple[str, int, str, str]] = set()  # (section, kind, name, text)
        self.dependencies: dict[str, str] = {}
        self.seen: set[object] = set()
        self.todo: deque[Callable[[], None]] = deque()

    def build(self, fn: object) -> Closure:
        target, notes, is_tool = _unwrap(fn)
        if isinstance(target, types.FunctionType):
            self.root_module = target.__module__
            found = _find_function(target)
            signature = _function_signature(target, found)
            self.seen.add((target, self.docstrings or is_tool, None))
            self._function(target, keep_doc=self.docstrings or is_tool, notes=notes, bound_name=None, root=True)
            name, has_source = target.__qualname__, found is not None
        else:
            cls = target if isinstance(target, type) else type(target)
            if not callable(target) or not _is_user_class(cls):
                raise llm.UsageError(
                    f"lilypad versions Python functions and classes; got {_type_name(target)} "
                    "(decorate a Python function, or the function that calls it)."
                )
            self.root_module = cls.__module__
            self.seen.add(("class", cls))
            node = _find_class(cls)
            self._class(cls, node, kind=_ROOT)
            name, has_source = cls.__qualname__, node is not None
            signature = _signature_text(node[1]) if node is not None else f"class {cls.__name__}"
        while self.todo:
            self.todo.popleft()()
        code = self._code()
        dependencies = dict(sorted(self.dependencies.items()))
        digest = hashlib.sha256()
        digest.update(f"{FORMAT}\n{code}\n\n# dependencies\n".encode())
        digest.update("".join(f"{dist}=={version}\n" for dist, version in dependencies.items()).encode())
        return Closure(
            function=name,
            hash=digest.hexdigest(),
            signature=signature,
            code=code,
            dependencies=dependencies,
            source="source" if has_source else "bytecode",
        )

    # -- pieces ------------------------------------------------------------------------------

    def _section(self, module: str | None) -> str:
        return "" if module == self.root_module else str(module)

    def _add(self, module: str | None, kind: int, name: str, text: str) -> None:
        self.pieces.add((self._section(module), kind, name, text))

    def _code(self) -> str:
        sections: dict[str, list[tuple[int, str, str]]] = {}
        for section, kind, name, text in self.pieces:
            sections.setdefault(section, []).append((kind, name, text))
        written: list[str] = []
        for section in sorted(sections, key=lambda s: (s != "", s)):
            items = sorted(sections[section])
            blocks = [
                "\n".join(text for kind, _, text in items if kind == _IMPORT),
                "\n".join(text for kind, _, text in items if kind == _BINDING),
                *(text for kind, _, text in items if kind >= _ROOT),
            ]
            body = "\n\n".join(block for block in blocks if block)
            written.append(f"# module {section}\n{body}" if section else body)
        return "\n\n\n".join(written)

    def _function(
        self,
        fn: types.FunctionType,
        *,
        keep_doc: bool,
        notes: Iterable[str],
        bound_name: str | None,
        root: bool = False,
    ) -> None:
        code = fn.__code__
        found = _find_function(fn)
        if found is None:
            text = _bytecode_text(fn)
            names = _code_names(code)
            chains = _bytecode_chains(names, fn.__globals__)
        else:
            module, node = found
            text = module.canonical(node, keep_doc)
            if bound_name is not None and isinstance(node, ast.Lambda):
                text = f"{bound_name} = {text}"
            chains = module.references(node)
            if root:
                self._enclosing_class(fn, node)
        cells = _cells(fn)
        header = list(notes)
        for chain in sorted(chains):
            if chain[0] in cells:
                cell = cells[chain[0]]
                if cell is not _EMPTY:
                    header.append(self._reach_cell(chain, cell))
            elif chain[0] in fn.__globals__:
                self._reach_global(fn.__globals__, fn.__module__, chain)
        text = "\n".join([*dict.fromkeys(header), text])  # a nonlocal read twice is written once
        self._add(fn.__module__, _ROOT if root else _DEFINITION, fn.__qualname__, text)

    def _enclosing_class(self, fn: types.FunctionType, node: ast.AST) -> None:
        """A method's class is part of its closure (`self.other()` cannot be followed by name)."""
        owner = _owner_class(fn)
        if owner is None or not _is_user_class(owner) or ("class", owner) in self.seen:
            return
        self.seen.add(("class", owner))
        found = _find_class(owner)
        self.todo.append(lambda: self._class(owner, found, kind=_DEFINITION, omit=node))

    def _class(
        self, cls: type, found: tuple[_Module, ast.AST] | None, *, kind: int, omit: ast.AST | None = None
    ) -> None:
        module_name = cls.__module__
        namespace = _namespace(module_name)
        if found is None:
            text = _class_bytecode_text(cls)
            chains: frozenset[Chain] = frozenset()
        else:
            module, node = found
            text = module.canonical(node, self.docstrings, omit=omit)
            chains = module.references(node)
        for chain in sorted(chains):
            if namespace is not None and chain[0] in namespace:
                self._reach_global(namespace, module_name, chain)
        self._add(module_name, kind, cls.__qualname__, text)

    # -- following names -----------------------------------------------------------------------

    def _reach_global(self, namespace: Mapping[str, object], module: str | None, chain: Chain) -> None:
        """Follow `chain` from a module's globals: through user modules to the object it names."""
        value, name = namespace[chain[0]], chain[0]
        for attribute in chain[1:]:
            if not isinstance(value, types.ModuleType) or not _is_user_module(value):
                break
            inner = value.__dict__
            if attribute not in inner:
                break
            module, value, name = value.__name__, inner[attribute], attribute
        key = ("global", module, name)
        if key in self.seen:
            return
        self.seen.add(key)
        if len(chain) == 1:
            self._user_import(value, name, module)
        self._reach(value, name, module, cell=False)

    def _user_import(self, value: object, name: str, module: str | None) -> None:
        """`from helpers import format_hint as hint`: shown, so the reader sees where `hint` comes from."""
        target = _unwrap(value)[0]
        if isinstance(target, types.FunctionType | type) and target.__module__ != module:
            text = _written_import(name, module)
            if text is not None:
                self._add(module, _IMPORT, name, text)

    def _reach_cell(self, chain: Chain, value: object) -> str:
        """Follow a nonlocal; the line written above the function says what it holds."""
        name = chain[0]
        for attribute in chain[1:]:
            if not isinstance(value, types.ModuleType) or not _is_user_module(value) or attribute not in value.__dict__:
                break
            value, name = value.__dict__[attribute], f"{name}.{attribute}"
        return f"# nonlocal {name}: {self._reach(value, name, None, cell=True)}"

    def _reach(self, value: object, name: str, module: str | None, *, cell: bool) -> str:
        """Record what `value` (bound to `name` in `module`) brings into the closure; say what it is."""
        if isinstance(value, types.ModuleType):
            if _is_user_module(value):
                return f"module {value.__name__}"  # the attributes read from it were followed by name
            self._depend(value.__name__)
            return self._import(value, name, module, cell)
        if isinstance(value, functools.partial):  # its arguments are part of what it does
            partial = cast("functools.partial[Any]", value)
            self._reach(partial.func, name, module, cell=True)
            text = f"partial({_partial_text(partial)})"
            if not cell:
                self._add(module, _BINDING, name, f"{name} = {text}")
            return text
        literal = _literal(value)
        if literal is not None:
            literal = _shorten(literal)
            if not cell:
                self._add(module, _BINDING, name, f"{name} = {literal}")
            return literal
        target, notes, is_tool = _unwrap(value)
        if isinstance(target, types.FunctionType):
            if not _is_user_function(target):
                self._depend(target.__module__)
                return self._import(target, name, module, cell)
            owner = _owner_class(target)
            if owner is not None and _is_user_class(owner):
                return self._reach_class(owner)  # a method is hashed with its class
            keep_doc = self.docstrings or is_tool
            bound_name = name if target.__name__ == "<lambda>" else None
            key = (target, keep_doc, bound_name)
            if key not in self.seen:
                self.seen.add(key)
                self.todo.append(lambda: self._function(target, keep_doc=keep_doc, notes=notes, bound_name=bound_name))
            return f"function {target.__qualname__}"
        if isinstance(target, type):
            if _is_user_class(target):
                return self._reach_class(target)
            self._depend(target.__module__)
            return self._import(target, name, module, cell)
        if isinstance(target, _BUILTIN_CALLABLES):
            self._depend(_builtin_module(target))
            return self._import(target, name, module, cell)
        # An instance: its class, and (for a global) the statements that made it.
        kind = type(target)
        self._reach(kind, kind.__name__, None, cell=True)
        if not cell:
            self._bindings(name, module, kind)
        return f"{kind.__module__}.{kind.__qualname__} instance"

    def _reach_class(self, cls: type) -> str:
        if ("class", cls) not in self.seen:
            self.seen.add(("class", cls))
            self.todo.append(lambda: self._class(cls, _find_class(cls), kind=_DEFINITION))
        return f"class {cls.__qualname__}"

    def _bindings(self, name: str, module: str | None, kind: type) -> None:
        """Write the module-level statements that bind a global `name`, and follow what they read."""
        found = _module_of_name(module)
        statements = found[0].bindings.get(name, []) if found is not None else []
        if not statements:
            self._add(module, _BINDING, name, f"# {name}: {kind.__module__}.{kind.__qualname__} instance")
            return
        namespace: Mapping[str, object] = found[1] if found is not None else {}
        texts: list[str] = []
        for statement in statements:
            texts.append(ast.unparse(statement))
            for chain in sorted(_references(statement)):
                if chain[0] in namespace and chain[0] != name:
                    self._reach_global(namespace, module, chain)
        self._add(module, _BINDING, name, "\n".join(texts))

    def _import(self, value: object, name: str, module: str | None, cell: bool) -> str:
        """How a library object is bound: the user's own import statement when there is one."""
        text = _written_import(name, module) or _synthesized_import(value, name)
        if not cell:
            self._add(module, _IMPORT, name, text)
        return text

    def _depend(self, module: str | None) -> None:
        if not module:
            return
        top = module.partition(".")[0]
        if top in sys.stdlib_module_names or top in ("builtins", "__main__"):
            return
        for dist, version in _distribution(module):
            self.dependencies[dist] = version


# -- unwrapping ---------------------------------------------------------------------------------


def _unwrap(obj: object) -> tuple[object, list[str], bool]:
    """The function inside decorators and Mirascope objects; notes on what wrapped it; whether a tool."""
    notes: list[str] = []
    is_tool = False
    for _ in range(100):  # a `__wrapped__` loop stops here rather than hanging
        if isinstance(obj, _MODEL_HOLDERS):
            holder = cast(
                "llm.Call[..., Any] | llm.AsyncCall[..., Any] | llm.Agent[Any, Any] | llm.AsyncAgent[Any, Any]", obj
            )
            notes.append(f"# model: {_stable_repr(holder.model)}")
            obj = holder.fn
        elif isinstance(obj, llm.Tool):
            is_tool = True
            obj = cast("llm.Tool[..., Any]", obj).fn
        elif isinstance(obj, functools.partial):
            partial = cast("functools.partial[Any]", obj)
            notes.append(f"# partial({_partial_text(partial)})")
            obj = partial.func
        elif isinstance(obj, types.MethodType | staticmethod | classmethod):
            obj = cast(Any, obj).__func__
        elif isinstance(obj, type):
            break
        else:
            # `functools.wraps` sets `__wrapped__` in the wrapper's own dict; reading only that
            # never runs a property or `__getattr__` of an arbitrary object.
            own = getattr(obj, "__dict__", None)
            wrapped = cast("dict[str, object]", own).get("__wrapped__") if isinstance(own, dict) else None
            if wrapped is None:
                break
            obj = wrapped
    return obj, notes, is_tool


def _partial_text(partial: functools.partial[Any]) -> str:
    arguments = [getattr(partial.func, "__qualname__", None) or _type_name(partial.func)]
    arguments += [_literal(arg) or f"<{_type_name(arg)}>" for arg in partial.args]
    arguments += [f"{key}={_literal(arg) or f'<{_type_name(arg)}>'}" for key, arg in sorted(partial.keywords.items())]
    return ", ".join(arguments)


def _owner_class(fn: types.FunctionType) -> type | None:
    """The class a function is a method of, when its qualified name leads to one."""
    parts = fn.__qualname__.split(".")
    if len(parts) < 2 or "<locals>" in parts:
        return None
    value: object = sys.modules.get(fn.__module__)
    for part in parts[:-1]:
        value = getattr(value, "__dict__", {}).get(part)
        if value is None:
            return None
    if not isinstance(value, type):
        return None
    member = value.__dict__.get(parts[-1])
    member = getattr(member, "__func__", member)  # staticmethod, classmethod
    return value if member is fn or _unwrap(member)[0] is fn else None


def _cells(fn: types.FunctionType) -> dict[str, object]:
    cells: dict[str, object] = {}
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False):
        try:
            cells[name] = cell.cell_contents
        except ValueError:  # not assigned yet
            cells[name] = _EMPTY
    return cells


_EMPTY = object()


# -- what is user code --------------------------------------------------------------------------


def _is_user_function(fn: types.FunctionType) -> bool:
    if _is_mirascope(fn.__module__):
        return False
    filename = fn.__code__.co_filename
    if filename and not filename.startswith("<"):
        return not _is_library_file(filename)
    return _is_user_name(fn.__module__)


def _is_user_class(cls: type) -> bool:
    return _is_user_module_name(cls.__module__)


def _is_user_module(module: types.ModuleType) -> bool:
    return _is_user_module_name(module.__name__)


def _is_user_module_name(name: str | None) -> bool:
    if _is_mirascope(name):
        return False
    file = getattr(sys.modules.get(name or ""), "__file__", None)
    if isinstance(file, str) and file and not file.startswith("<"):
        return not _is_library_file(file)
    return _is_user_name(name)


def _is_user_name(name: str | None) -> bool:
    """For code without a file: `__main__` of `python -c` or the REPL is the user's; builtins are not."""
    top = (name or "").partition(".")[0]
    return top not in sys.stdlib_module_names and top != "builtins" and not _is_mirascope(name)


def _is_mirascope(name: str | None) -> bool:
    return name is not None and (name == "mirascope" or name.startswith("mirascope."))


_library_files: dict[str, bool] = {}


def _is_library_file(filename: str) -> bool:
    found = _library_files.get(filename)
    if found is None:
        path = os.path.realpath(filename)
        parts = path.split(os.sep)
        found = (
            "site-packages" in parts
            or "dist-packages" in parts
            or any(path.startswith(root + os.sep) for root in _library_roots())
        )
        _library_files[filename] = found
    return found


@functools.cache
def _library_roots() -> tuple[str, ...]:
    """The standard library and install directories of this interpreter and the one it came from.

    Not `sys.prefix` itself: without a virtual environment it is `/usr` or `/usr/local`, under
    which projects live too (`/usr/src/app` in many container images).
    """
    roots: set[str] = set()
    for base in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        scheme_vars = {"base": base, "platbase": base, "installed_base": base, "installed_platbase": base}
        paths = sysconfig.get_paths(vars=scheme_vars)
        roots.update(paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths)
    roots.update(site.getsitepackages())
    roots.add(site.getusersitepackages())
    return tuple(sorted({os.path.realpath(root) for root in roots}))


# -- distributions ------------------------------------------------------------------------------

_versions: dict[str, str | None] = {}
_distributions: dict[str, tuple[tuple[str, str], ...]] = {}

# Module prefixes whose distribution name is not their dotted name with dashes.
_KNOWN_DISTRIBUTIONS = {"mirascope.llm": "mirascope-core"}


def _installed_version(distribution: str) -> str | None:
    if distribution not in _versions:
        try:
            _versions[distribution] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            _versions[distribution] = None
    return _versions[distribution]


def _distribution(module: str) -> tuple[tuple[str, str], ...]:
    """The installed distribution(s) providing `module`, with their versions."""
    found = _distributions.get(module)
    if found is None:
        found = _distributions[module] = _find_distribution(module)
    return found


def _find_distribution(module: str) -> tuple[tuple[str, str], ...]:
    parts = module.split(".")
    candidates = [
        dist for prefix, dist in _KNOWN_DISTRIBUTIONS.items() if module == prefix or module.startswith(prefix + ".")
    ]
    top = sys.modules.get(parts[0])
    if getattr(top, "__file__", None) is None and hasattr(top, "__path__"):
        # A namespace package (`google.genai`, `opentelemetry.sdk`): its parts are distributions of their own.
        candidates += ["-".join(parts[:n]) for n in range(2, len(parts) + 1)]
    candidates.append(parts[0])
    for candidate in candidates:
        version = _installed_version(candidate)
        if version is not None:
            return ((candidate, version),)
    # An import name that differs from its distribution's (`yaml` from PyYAML): one scan of
    # every installed distribution, done once per process and only when needed.
    names = sorted(set(_packages_distributions().get(parts[0], [])))
    if len(names) > 1:
        owners = [name for name in names if _provides(name, sys.modules.get(module))]
        names = owners or names
    versions = [(name, _installed_version(name)) for name in names]
    known = tuple((name, version) for name, version in versions if version is not None)
    return known or ((parts[0], "unknown"),)


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _provides(distribution: str, module: types.ModuleType | None) -> bool:
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return False
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    files = dist.files or []
    target = os.path.realpath(file)
    return any(os.path.realpath(str(dist.locate_file(path))) == target for path in files if path.suffix == ".py")


def _builtin_module(value: object) -> str | None:
    module = getattr(value, "__module__", None)
    if isinstance(module, str):
        return module
    owner = getattr(value, "__self__", None) or getattr(value, "__objclass__", None)
    owner_type = owner if isinstance(owner, type) else type(owner)
    return owner_type.__module__


def _written_import(name: str, module: str | None) -> str | None:
    found = _module_of_name(module)
    if found is None:
        return None
    statements = found[0].bindings.get(name, [])
    texts = [ast.unparse(statement) for statement in statements if isinstance(statement, ast.Import | ast.ImportFrom)]
    return "\n".join(texts) or None


def _synthesized_import(value: object, name: str) -> str:
    if isinstance(value, types.ModuleType):
        full = value.__name__
        if full == name:
            return f"import {full}"
        parent, _, last = full.rpartition(".")
        return f"from {parent} import {name}" if parent and last == name else f"import {full} as {name}"
    module = _builtin_module(value) if isinstance(value, _BUILTIN_CALLABLES) else getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None) or _type_name(value)
    alias = "" if qualname == name else f" as {name}"
    return f"from {module} import {qualname}{alias}"


# -- source -------------------------------------------------------------------------------------


class _Module:
    """One parsed source file: its definitions found by line, its top-level bindings by name.

    Found by descending through the statements that span the line asked for, not by walking
    the whole tree: the first closure in a large module pays for the parse and little more.
    """

    def __init__(self, lines: list[str], tree: ast.Module) -> None:
        self.lines = lines
        self.tree = tree
        self._definitions: dict[tuple[int, str], ast.AST | None] = {}
        self._bindings: dict[str, list[ast.stmt]] | None = None
        self._canonical: dict[tuple[ast.AST, bool], str] = {}
        self._references: dict[ast.AST, frozenset[Chain]] = {}

    def definition(self, line: int, name: str) -> ast.AST | None:
        """The `def` of `name` whose first line (its first decorator's) is `line`."""
        key = (line, name)
        if key not in self._definitions:
            self._definitions[key] = next(
                (
                    node
                    for node in self._spanning(line)
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                    and node.name == name
                    and _first_line(node) == line
                ),
                None,
            )
        return self._definitions[key]

    def _spanning(self, line: int) -> list[ast.stmt]:
        """The statements spanning `line`, outermost first."""
        found: list[ast.stmt] = []
        body = self.tree.body
        while body:
            inner = next((node for node in body if _first_line(node) <= line <= (node.end_lineno or node.lineno)), None)
            if inner is None:
                break
            found.append(inner)
            body = _child_statements(inner)
        return found

    @property
    def bindings(self) -> dict[str, list[ast.stmt]]:
        if self._bindings is None:
            self._bindings = {}
            for statement in _top_level(self.tree.body):
                for name in _bound_names(statement):
                    self._bindings.setdefault(name, []).append(_only_binding(statement, name))
        return self._bindings

    def canonical(self, node: ast.AST, keep_doc: bool, *, omit: ast.AST | None = None) -> str:
        if omit is not None:  # a class without the method being versioned, which is shown on its own
            assert isinstance(node, ast.ClassDef)
            trimmed = copy.copy(node)
            trimmed.body = [statement for statement in node.body if statement is not omit] or [ast.Pass()]
            return ast.unparse(trimmed if keep_doc else _without_docstrings(trimmed))
        key = (node, keep_doc)
        text = self._canonical.get(key)
        if text is None:
            text = self._canonical[key] = ast.unparse(node if keep_doc else _without_docstrings(node))
        return text

    def references(self, node: ast.AST) -> frozenset[Chain]:
        found = self._references.get(node)
        if found is None:
            found = self._references[node] = _references(node)
        return found

    def find_lambda(self, code: types.CodeType) -> ast.Lambda | None:
        spanning = self._spanning(code.co_firstlineno)
        candidates = [
            node
            for node in (ast.walk(spanning[0]) if spanning else ())
            if isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno
        ]
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        # Several lambdas on one line: the one whose span holds the code's own instructions.
        positions = [
            (line, column)
            for line, _, column, end in code.co_positions()
            if line is not None and column is not None and end
        ]
        inside = [
            node
            for node in candidates
            if positions
            and all(
                (node.lineno, node.col_offset) <= position <= (node.end_lineno or node.lineno, node.end_col_offset or 0)
                for position in positions
            )
        ]
        inside.sort(
            key=lambda node: ((node.end_lineno or 0) - node.lineno, (node.end_col_offset or 0) - node.col_offset)
        )
        return inside[0] if inside else None


_modules: dict[str, _Module | None] = {}


def _module_index(filename: str, module_globals: Mapping[str, object] | None) -> _Module | None:
    if not filename:
        return None
    lines = linecache.getlines(filename, cast(Any, module_globals))
    if not lines:
        return None
    index = _modules.get(filename)
    if index is not None and index.lines is lines:
        return index
    try:
        tree = ast.parse("".join(lines), filename)
    except (SyntaxError, ValueError):  # not Python, or edited into something that does not parse
        return None
    index = _modules[filename] = _Module(lines, tree)
    return index


def _namespace(module: str | None) -> Mapping[str, object] | None:
    found = sys.modules.get(module or "")
    return found.__dict__ if found is not None else None


def _module_of_name(module: str | None) -> tuple[_Module, Mapping[str, object]] | None:
    namespace = _namespace(module)
    if namespace is None:
        return None
    file = namespace.get("__file__")
    if not isinstance(file, str):
        return None
    index = _module_index(file, namespace)
    return (index, namespace) if index is not None else None


def _find_function(fn: types.FunctionType) -> tuple[_Module, ast.AST] | None:
    code = fn.__code__
    module = _module_index(code.co_filename, fn.__globals__)
    if module is None:
        return None
    node: ast.AST | None
    if code.co_name == "<lambda>":
        node = module.find_lambda(code)
    else:
        node = module.definition(code.co_firstlineno, code.co_name)
    return (module, node) if node is not None else None


def _find_class(cls: type) -> tuple[_Module, ast.AST] | None:
    found = _module_of_name(cls.__module__)
    if found is None:
        return None
    node: ast.AST = found[0].tree
    for part in cls.__qualname__.split("."):
        if part == "<locals>":
            continue
        matches = [child for child in _top_level(_statements(node)) if getattr(child, "name", None) == part]
        if not matches:
            return None
        node = matches[-1]  # redefined: the last definition is the one bound
    return (found[0], node) if isinstance(node, ast.ClassDef) else None


def _statements(node: ast.AST) -> list[ast.stmt]:
    return cast("list[ast.stmt]", getattr(node, "body", []))


_NESTED_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _top_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Statements of a block, looking into `if`/`try`/`with`/`for` but not into definitions."""
    for statement in body:
        if (
            isinstance(statement, ast.If | ast.Try | ast.With | ast.For | ast.While | ast.Match)
            or type(statement).__name__ == "TryStar"
        ):
            for field in _NESTED_BODIES:
                for inner in cast("list[Any]", getattr(statement, field, [])):
                    if isinstance(inner, ast.stmt):
                        yield from _top_level([inner])
                    elif isinstance(inner, ast.ExceptHandler | ast.match_case):
                        yield from _top_level(inner.body)
        else:
            yield statement


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None)
    return min([node.lineno, *(decorator.lineno for decorator in decorators)]) if decorators else node.lineno


def _child_statements(node: ast.stmt) -> list[ast.stmt]:
    children: list[ast.stmt] = []
    for field in _NESTED_BODIES:
        for item in cast(
            "list[Any]", getattr(node, field, None) if isinstance(getattr(node, field, None), list) else []
        ):
            if isinstance(item, ast.stmt):
                children.append(item)
            elif isinstance(item, ast.ExceptHandler | ast.match_case):
                children.extend(item.body)
    return children


def _bound_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.Import):
        return [alias.asname or alias.name.partition(".")[0] for alias in statement.names]
    if isinstance(statement, ast.ImportFrom):
        return [alias.asname or alias.name for alias in statement.names if alias.name != "*"]
    if isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return [node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)]
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [statement.name]
    return []


def _only_binding(statement: ast.stmt, name: str) -> ast.stmt:
    """An import statement reduced to the name asked about (`from x import a, b` -> `from x import a`)."""
    if isinstance(statement, ast.Import):
        return ast.Import(
            names=[alias for alias in statement.names if (alias.asname or alias.name.partition(".")[0]) == name]
        )
    if isinstance(statement, ast.ImportFrom):
        names = [alias for alias in statement.names if (alias.asname or alias.name) == name]
        return ast.ImportFrom(module=statement.module, names=names, level=statement.level)
    return statement


def _without_docstrings(node: ast.AST) -> ast.AST:
    """`node` without function and method docstrings; class docstrings stay (schema descriptions).

    Copies only the statements on the way to a docstring; expressions are shared, untouched.
    """
    fields: dict[str, list[Any]] = {}
    for field in _NESTED_BODIES:
        body = getattr(node, field, None)
        if not isinstance(body, list) or not body:  # a lambda's or an `x if c else y`'s body is one expression
            continue
        body = cast("list[Any]", body)
        items: list[Any] = [_without_docstrings(item) if isinstance(item, ast.AST) else item for item in body]
        if field == "body" and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_docstring(items[0]):
            items = items[1:] or [ast.Pass()]
        if any(new is not old for new, old in zip(items, body, strict=False)) or len(items) != len(body):
            fields[field] = items
    if not fields:
        return node
    clone = copy.copy(node)
    for field, items in fields.items():
        setattr(clone, field, items)
    return clone


def _is_docstring(statement: object) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _signature_text(node: ast.AST) -> str:
    if isinstance(node, ast.Lambda):
        arguments = ast.unparse(node.args)
        return f"lambda {arguments}" if arguments else "lambda"
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return ast.unparse(node)
    header = copy.copy(node)
    header.decorator_list = []
    header.body = [ast.Pass()]
    return ast.unparse(header).split("\n", 1)[0].removesuffix(":")


def _function_signature(fn: types.FunctionType, found: tuple[_Module, ast.AST] | None) -> str:
    if found is not None:
        return _signature_text(found[1])
    return _bytecode_signature(fn)


# -- names a piece of code reads ----------------------------------------------------------------


def _references(node: ast.AST) -> frozenset[Chain]:
    """The dotted names `node` reads from outside itself (its decorators, defaults and body)."""
    scope = _Scope("outer")
    scope.visit(node)
    return frozenset(scope.loads | scope.inner)


def _chain(node: ast.Attribute) -> Chain | None:
    attributes: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        attributes.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name):
        return None
    return (current.id, *reversed(attributes))


class _Scope(ast.NodeVisitor):
    """Python's scoping, enough to tell a name read from outside from a local one.

    Errs towards reading more: a name it cannot prove local is followed (at worst an unrelated
    global of the same name joins the closure), never the reverse.
    """

    def __init__(self, kind: Literal["outer", "function", "class"]) -> None:
        self.kind = kind
        self.bound: set[str] = set()
        self.declared: set[str] = set()  # `global` / `nonlocal`: not local, whatever is assigned
        self.loads: set[Chain] = set()
        self.inner: set[Chain] = set()  # read from outside by the scopes nested in this one

    def free(self) -> set[Chain]:
        local = self.bound - self.declared
        own = {chain for chain in self.loads if chain[0] not in local}
        if self.kind == "class":  # methods do not see class attributes by bare name
            return own | self.inner
        return own | {chain for chain in self.inner if chain[0] not in local}

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.loads.add((node.id,))
        else:
            self.bound.add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = _chain(node) if isinstance(node.ctx, ast.Load) else None
        if chain is not None:
            self.loads.add(chain)
        else:
            self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        self.declared.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.declared.update(node.names)

    def visit_Import(self, node: ast.Import) -> None:
        self.bound.update(_bound_names(node))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.bound.update(_bound_names(node))

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.bound.add(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self.bound.add(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.bound.add(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self.bound.add(node.rest)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.bound.add(node.name)
        for decorator in node.decorator_list:
            self.visit(decorator)
        arguments = node.args
        for annotated in (
            *arguments.posonlyargs,
            *arguments.args,
            arguments.vararg,
            *arguments.kwonlyargs,
            arguments.kwarg,
        ):
            if annotated is not None and annotated.annotation is not None:
                self.visit(annotated.annotation)
        if node.returns is not None:
            self.visit(node.returns)
        self._function(arguments, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node.args, [node.body])

    def _function(self, arguments: ast.arguments, body: Iterable[ast.AST]) -> None:
        for default in (*arguments.defaults, *arguments.kw_defaults):
            if default is not None:
                self.visit(default)
        inner = _Scope("function")
        for argument in (
            *arguments.posonlyargs,
            *arguments.args,
            arguments.vararg,
            *arguments.kwonlyargs,
            arguments.kwarg,
        ):
            if argument is not None:
                inner.bound.add(argument.arg)
        for statement in body:
            inner.visit(statement)
        self.inner |= inner.free()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.bound.add(node.name)
        for expression in (*node.decorator_list, *node.bases, *(keyword.value for keyword in node.keywords)):
            self.visit(expression)
        inner = _Scope("class")
        for statement in node.body:
            inner.visit(statement)
        self.inner |= inner.free()

    def _comprehension(self, generators: list[ast.comprehension], elements: Iterable[ast.expr]) -> None:
        self.visit(generators[0].iter)  # evaluated in the enclosing scope
        inner = _Scope("function")
        for position, generator in enumerate(generators):
            inner.visit(generator.target)
            if position:
                inner.visit(generator.iter)
            for condition in generator.ifs:
                inner.visit(condition)
        for element in elements:
            inner.visit(element)
        self.inner |= inner.free()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node.generators, [node.elt])

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node.generators, [node.elt])

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node.generators, [node.elt])

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node.generators, [node.key, node.value])


# -- values -------------------------------------------------------------------------------------

_SCALARS = (bool, int, float, complex, str, bytes)


def _literal(value: object, depth: int = 0) -> str | None:
    """`value` as Python text when it is a constant (containers of constants included), else None.

    Exact types only: an `Enum` member or a `str` subclass is an instance, followed by its class.
    """
    kind = type(value)
    if value is None or value is Ellipsis or kind in _SCALARS:
        return repr(value)
    if depth > 30 or kind not in (tuple, list, dict, set, frozenset):
        return None
    if kind is dict:
        entries: list[str] = []
        for key, item in cast("dict[object, object]", value).items():
            key_text, item_text = _literal(key, depth + 1), _literal(item, depth + 1)
            if key_text is None or item_text is None:
                return None
            entries.append(f"{key_text}: {item_text}")
        return "{" + ", ".join(entries) + "}"
    items = [_literal(item, depth + 1) for item in cast("Iterable[object]", value)]
    if any(item is None for item in items):
        return None
    texts = cast("list[str]", items)
    if kind is tuple:
        return "(" + ", ".join(texts) + ("," if len(texts) == 1 else "") + ")"
    if kind is list:
        return "[" + ", ".join(texts) + "]"
    texts.sort()  # a set's iteration order follows string hashing, which changes per process
    inner = "{" + ", ".join(texts) + "}" if texts else ""
    if kind is set:
        return inner or "set()"
    return f"frozenset({inner})"


def _shorten(literal: str) -> str:
    if len(literal) <= MAX_CONSTANT_CHARS:
        return literal
    digest = hashlib.sha256(literal.encode()).hexdigest()
    return f"...  # {len(literal)} characters, sha256 {digest}"


def _stable_repr(value: object) -> str:
    return _ADDRESS.sub("", repr(value))


def _type_name(value: object) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


# -- compiled code, for functions without source ------------------------------------------------


def _code_fingerprint(code: types.CodeType) -> str:
    """The compiled code that decides behaviour: not its file, line numbers or positions."""
    constants = [
        _code_fingerprint(constant)
        if isinstance(constant, types.CodeType)
        else (_literal(constant) or _type_name(constant))
        for constant in code.co_consts
    ]
    return "\x1e".join(
        [
            code.co_name,
            f"{code.co_argcount} {code.co_posonlyargcount} {code.co_kwonlyargcount} {code.co_flags}",
            code.co_code.hex(),
            ",".join(code.co_names),
            ",".join(code.co_varnames),
            ",".join(code.co_freevars),
            ",".join(code.co_cellvars),
            "[" + "\x1f".join(constants) + "]",
        ]
    )


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names) | set(code.co_freevars)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _code_names(constant)
    return names


def _bytecode_chains(names: set[str], namespace: Mapping[str, object]) -> frozenset[Chain]:
    """Without source, every name the code mentions that is a global is taken as read.

    Attribute names are mixed in (`co_names` holds both), so a user module's attributes with
    those names are followed too.
    """
    chains: set[Chain] = set()
    for name in names:
        chains.add((name,))
        value = namespace.get(name)
        if isinstance(value, types.ModuleType) and _is_user_module(value):
            chains.update((name, attribute) for attribute in names if attribute in value.__dict__)
    return frozenset(chains)


class _Shown:
    """A default value as it is written in a signature: a constant, or its type."""

    def __init__(self, value: object) -> None:
        self.text = _literal(value) or f"<{_type_name(value)}>"

    def __repr__(self) -> str:
        return self.text


def _bytecode_signature(fn: types.FunctionType) -> str:
    prefix = "async def" if inspect.iscoroutinefunction(fn) else "def"
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return f"{prefix} {fn.__name__}(...)"
    parameters = [
        parameter
        if parameter.default is inspect.Parameter.empty
        else parameter.replace(default=_Shown(parameter.default))
        for parameter in signature.parameters.values()
    ]
    return f"{prefix} {fn.__name__}{_ADDRESS.sub('', str(signature.replace(parameters=parameters)))}"


def _bytecode_text(fn: types.FunctionType) -> str:
    digest = hashlib.sha256(_code_fingerprint(fn.__code__).encode()).hexdigest()
    return f"# {fn.__qualname__}: no source; compiled code sha256 {digest}\n{_bytecode_signature(fn)}: ..."


def _class_bytecode_text(cls: type) -> str:
    lines = [f"# {cls.__qualname__}: no source"]
    for name, member in sorted(cls.__dict__.items()):
        function = _unwrap(member)[0]
        if isinstance(function, types.FunctionType):
            digest = hashlib.sha256(_code_fingerprint(function.__code__).encode()).hexdigest()
            lines.append(f"#   {name}: compiled code sha256 {digest}")
        elif not name.startswith("__"):
            lines.append(f"#   {name} = {_literal(member) or '<' + _type_name(member) + '>'}")
    return "\n".join(lines) + f"\nclass {cls.__name__}: ..."
