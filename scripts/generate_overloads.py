"""Write the typed signatures of `llm.call`, `llm.model`, `@llm.agent`, `llm.override` and `llm.context`.

They all take the call settings and the call parameters as keyword arguments. Those have one
definition each, read here with `ast` (nothing is imported, so a broken core can still be
regenerated):

- `llm/settings.py`: `CallSettings`, each field's metadata giving its keyword argument
  (`param`: `name: annotation = default`) and the line documenting it (`doc`);
- `llm/params.py`: `CallParams`, the TypedDict the functions take as `**params`;
- `llm/_model_data.py`: the model table, for the known models that cannot think.

From them this script writes:

- `llm/_overloads.py`: what the signatures share: `NonThinkingModel`, the `Literal` of known
  model ids whose model cannot think; `ParamsBesidesThinking`, `CallParams` less `thinking`;
  `SettingsAndParams`, every setting and parameter, which the overrides' implementations take;
- in whichever core module holds it (`calls.py`, `models.py`, `agents.py`, `context.py`), the
  lines between `# BEGIN GENERATED overloads of llm.<name>` and the `# END GENERATED` that opens
  the implementation's body: every `@overload` and the implementation's own parameter list (the
  body below the marker is hand-written);
- in each of those functions' docstrings, an `Args:` line (from `doc`) for a setting it lacks.

A setting whose annotation names the type variable `U` (`response_model`) decides the response
type: each function gets an overload without it (`None`) and one with it (`llm.override`: one
per kind of call it changes). The model id is `KnownModel | str`, so that editors complete the
known ids and any other id still type-checks. A known model that
cannot think given `thinking="low" | "medium" | "high"` (what such a model refuses when called)
matches a first overload marked `@deprecated`, which pyright reports (an error in strict mode,
a struck-through call in editors otherwise).

    python scripts/generate_overloads.py           # rewrite what is stale
    python scripts/generate_overloads.py --check   # exit 1 if anything is stale (the test command runs this)
"""

from __future__ import annotations

import argparse
import ast
import builtins
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORE = Path("packages/mirascope-core/src/mirascope/llm")
OVERLOADS_FILE = "_overloads.py"
BEGIN = "# BEGIN GENERATED overloads of llm."
END = "# END GENERATED"
THINKING_ON = '"low", "medium", "high"'
"""The levels a model that cannot think refuses (`"none"` and `"minimal"` ask for nothing it lacks)."""
CANNOT_THINK = "This model cannot think: thinking='low', 'medium' or 'high' raises llm.FeatureNotSupportedError."
"""What pyright says of `thinking=` on a known model that cannot think (a literal: pyright reads no other)."""


class SourceError(ValueError):
    """A source or target file that is not as this script expects."""


@dataclass(frozen=True)
class Setting:
    """One keyword argument of the call settings."""

    name: str
    annotation: str
    default: str
    doc: str

    @property
    def generic(self) -> bool:
        """Whether it decides the response type (its annotation names `U`)."""
        return re.search(r"\bU\b", self.annotation) is not None

    def any(self) -> str:
        """As the implementation (and the overrides) take it: `U` read as `Any`."""
        return re.sub(r"\bU\b", "Any", self.annotation)

    def given(self) -> str:
        """The annotation without `None`: the overload where it is given."""
        parts = [part.strip() for part in self.annotation.split("|")]
        return " | ".join(part for part in parts if part != "None")


@dataclass(frozen=True)
class Sources:
    """What the signatures are written from."""

    settings: tuple[Setting, ...]
    params: tuple[tuple[str, str], ...]  # CallParams: name, annotation
    non_thinking: tuple[str, ...]
    imports: dict[str, str]  # where a name the annotations use comes from: "Client" -> ".clients"


def _class(tree: ast.Module, name: str, source: str) -> ast.ClassDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise SourceError(f"{source}: no class {name}")


def _parameter(text: str, source: str) -> tuple[str, str, str]:
    """`name: annotation = default` read into its three parts."""
    try:
        function = ast.parse(f"def f(*, {text}): ...").body[0]
    except SyntaxError as error:
        raise SourceError(f"{source}: param {text!r} is not a keyword parameter: {error.msg}") from None
    assert isinstance(function, ast.FunctionDef)
    arguments = function.args
    if len(arguments.kwonlyargs) != 1:
        raise SourceError(f"{source}: param {text!r} is not one parameter")
    argument, default = arguments.kwonlyargs[0], arguments.kw_defaults[0]
    if argument.annotation is None:
        raise SourceError(f"{source}: param {text!r} has no annotation")
    if default is None:
        raise SourceError(f"{source}: param {text!r} has no default; every setting is optional")
    return argument.arg, ast.unparse(argument.annotation), ast.unparse(default)


def read_settings(root: Path) -> tuple[Setting, ...]:
    """The keyword arguments of `CallSettings`, in field order."""
    path = root / CORE / "settings.py"
    source = str(path.relative_to(root))
    settings: list[Setting] = []
    for node in _class(ast.parse(path.read_text("utf-8")), "CallSettings", source).body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        field = node.target.id
        meta = next(
            (
                keyword.value
                for keyword in getattr(node.value, "keywords", ())
                if keyword.arg == "metadata" and isinstance(keyword.value, ast.Call)
            ),
            None,
        )
        if meta is None or len(meta.args) != 2:
            raise SourceError(f"{source}: CallSettings.{field} has no metadata=_meta(param, doc)")
        try:
            param, doc = (ast.literal_eval(argument) for argument in meta.args)
        except ValueError:
            raise SourceError(f"{source}: CallSettings.{field}: param and doc must be literal strings") from None
        if param is None:
            continue  # filled from another argument
        name, annotation, default = _parameter(param, f"{source}: CallSettings.{field}")
        settings.append(Setting(name, annotation, default, doc))
    if not settings:
        raise SourceError(f"{source}: CallSettings has no field with a param")
    return tuple(settings)


def read_params(root: Path) -> tuple[tuple[str, str], ...]:
    """`CallParams`' keys and annotations, in order."""
    path = root / CORE / "params.py"
    source = str(path.relative_to(root))
    return tuple(
        (node.target.id, ast.unparse(node.annotation))
        for node in _class(ast.parse(path.read_text("utf-8")), "CallParams", source).body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    )


def read_non_thinking(root: Path) -> tuple[str, ...]:
    """The known model ids whose row says `thinking: False`."""
    path = root / CORE / "_model_data.py"
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "MODELS":
            assert node.value is not None
            models: dict[str, dict[str, object]] = ast.literal_eval(node.value)
            return tuple(model_id for model_id, row in models.items() if not row["thinking"])
    raise SourceError(f"{path.relative_to(root)}: no MODELS table")


def read_imports(root: Path) -> dict[str, str]:
    """The module each name that `settings.py` and `params.py` import or define comes from."""
    imports: dict[str, str] = {}
    for file in ("settings.py", "params.py"):
        tree = ast.parse((root / CORE / file).read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                imports.update((alias.asname or alias.name, module) for alias in node.names)
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                imports[node.name] = f".{file.removesuffix('.py')}"
            elif isinstance(node, ast.AnnAssign | ast.Assign):
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                imports.update(
                    (target.id, f".{file.removesuffix('.py')}") for target in targets if isinstance(target, ast.Name)
                )
    return imports


def read(root: Path) -> Sources:
    """Everything the signatures are written from."""
    return Sources(read_settings(root), read_params(root), read_non_thinking(root), read_imports(root))


# --- the generated module ---------------------------------------------------------------------


def _type_checking_imports(sources: Sources, annotations: list[str]) -> list[str]:
    """The imports, under `if TYPE_CHECKING:`, of the names `annotations` use."""
    modules: dict[str, set[str]] = {}
    for annotation in annotations:
        for node in ast.walk(ast.parse(annotation, mode="eval")):
            if isinstance(node, ast.Name) and not hasattr(builtins, node.id) and node.id not in _TYPING:
                if node.id not in sources.imports:
                    raise SourceError(f"{node.id} (in {annotation!r}) is not imported by settings.py or params.py")
                modules.setdefault(sources.imports[node.id], set()).add(node.id)
    modules.setdefault("typing_extensions", set()).add("deprecated")
    groups = (
        [module for module in sorted(modules) if not module.startswith(".") and module != "typing_extensions"],
        ["typing_extensions"],
        [module for module in sorted(modules) if module.startswith(".")],
    )
    lines: list[str] = []
    for group in groups:
        if group and lines:
            lines.append("")
        lines += [f"    from {module} import {', '.join(sorted(modules[module]))}" for module in group]
    return lines


_TYPING = {"Any", "Literal"}
"""Names `_overloads.py` imports from `typing` itself."""


def render_overloads_module(sources: Sources) -> str:
    """`llm/_overloads.py`."""
    kept = [(name, annotation) for name, annotation in sources.params if name != "thinking"]
    everything = [(setting.name, setting.any()) for setting in sources.settings] + list(sources.params)
    lines = [
        '"""GENERATED by scripts/generate_overloads.py from settings.py, params.py and the model table: do not edit.',
        "",
        "What the generated signatures of `llm.call`, `llm.model`, `@llm.agent`, `llm.override` and",
        "`llm.context` share; nothing here is used at run time but `deprecated`, which does nothing then.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict",
        "",
        "if TYPE_CHECKING:",
        *_type_checking_imports(sources, [annotation for _, annotation in everything]),
        "else:",
        "",
        "    def deprecated(message: str, /) -> Any:",
        '        """`typing_extensions.deprecated` as type checkers read it; at run time, nothing."""',
        "        return lambda function: function",
        "",
        "",
        '__all__ = ["NonThinkingModel", "ParamsBesidesThinking", "SettingsAndParams", "deprecated"]',
        "",
    ]
    if sources.non_thinking:
        lines += [
            "NonThinkingModel: TypeAlias = Literal[",
            *(f'    "{model_id}",' for model_id in sources.non_thinking),
            "]",
        ]
    else:
        lines.append('NonThinkingModel: TypeAlias = Literal[""]  # every known model thinks')
    lines += [
        '"""Known model ids whose model cannot think: `thinking=` with a level on one is flagged."""',
        "",
        "",
        "class ParamsBesidesThinking(TypedDict, total=False):",
        '    """`llm.CallParams` without `thinking`, which the overloads flagging it take by name."""',
        "",
        *(f"    {name}: {annotation}" for name, annotation in kept),
        "",
        "",
        "class SettingsAndParams(TypedDict, total=False):",
        '    """Every setting and call parameter, each optional: what `llm.override` and `llm.context` take."""',
        "",
        *(f"    {name}: {annotation}" for name, annotation in everything),
        "",
    ]
    return "\n".join(lines)


# --- the signatures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One `def` line's parts."""

    parameters: tuple[str, ...]
    returns: str
    decorators: tuple[str, ...] = ()


def _settings(sources: Sources, response: str, *, unset: bool = False) -> list[str]:
    """The settings as keyword parameters.

    `response`: `"none"`, `"given"` or `"any"`, how the setting deciding the response type is
    taken. `unset`: every other setting optional, not given by default (the overrides' `...`).
    """
    lines: list[str] = []
    for setting in sources.settings:
        if setting.generic and response == "given":
            lines.append(f"{setting.name}: {setting.given()}")
        elif unset:
            lines.append(f"{setting.name}: {setting.any()} = ...")
        elif setting.generic and response == "none":
            lines.append(f"{setting.name}: None = None")
        elif setting.generic:
            lines.append(f"{setting.name}: {setting.any()} = {setting.default}")
        else:
            lines.append(f"{setting.name}: {setting.annotation} = {setting.default}")
    return lines


def _params(thinking: bool) -> list[str]:
    if thinking:
        return [f"thinking: Literal[{THINKING_ON}]", "**params: Unpack[ParamsBesidesThinking]"]
    return ["**params: Unpack[CallParams]"]


def _flagged(sources: Sources) -> bool:
    return bool(sources.non_thinking)


_DEPRECATED = f"@deprecated({CANNOT_THINK!r})"
_ARGUMENTS = "**params: Unpack[SettingsAndParams]"
"""The overrides' implementations take the settings and call parameters together: only those given change."""


def signatures_call(sources: Sources) -> tuple[list[Signature], Signature]:
    """`llm.call`: stream x response model, and `thinking=` on a model that cannot think."""
    returns = {
        (False, "none"): "CallDecorator[CallResponse[str], AsyncCallResponse[str]]",
        (False, "given"): "CallDecorator[CallResponse[U], AsyncCallResponse[U]]",
        (True, "none"): "CallDecorator[Stream[str], AsyncStream[str]]",
        (True, "given"): "CallDecorator[Stream[U], AsyncStream[U]]",
    }
    overloads: list[Signature] = []
    if _flagged(sources):
        overloads.append(
            Signature(
                ("model: NonThinkingModel", "*", "stream: bool = False", *_settings(sources, "any"),
                 *_params(thinking=True)),
                "CallDecorator[Any, Any]",
                (_DEPRECATED,),
            )
        )  # fmt: skip
    for (stream, response), returned in returns.items():
        stream_param = "stream: Literal[True]" if stream else "stream: Literal[False] = False"
        overloads.append(
            Signature(
                ("model: KnownModel | str", "*", stream_param, *_settings(sources, response),
                 *_params(thinking=False)),
                returned,
            )
        )  # fmt: skip
    implementation = Signature(
        ("model: KnownModel | str", "*", "stream: bool = False", *_settings(sources, "any"),
         *_params(thinking=False)),
        "CallDecorator[Any, Any]",
    )  # fmt: skip
    return overloads, implementation


def signatures_model(sources: Sources) -> tuple[list[Signature], Signature]:
    """`llm.model`: response model, and `thinking=` on a model that cannot think."""
    overloads: list[Signature] = []
    if _flagged(sources):
        overloads.append(
            Signature(
                ("id: NonThinkingModel", "*", *_settings(sources, "any"), *_params(thinking=True)),
                "Model[Any]",
                (_DEPRECATED,),
            )
        )
    for response, returned in (("none", "Model[str]"), ("given", "Model[U]")):
        overloads.append(
            Signature(
                ("id: KnownModel | str", "*", *_settings(sources, response), *_params(thinking=False)),
                returned,
            )
        )
    implementation = Signature(
        ("id: KnownModel | str", "*", *_settings(sources, "any"), *_params(thinking=False)),
        "Model[Any]",
    )
    return overloads, implementation


def signatures_agent(sources: Sources) -> tuple[list[Signature], Signature]:
    """`@llm.agent`: deps type x response model, and `thinking=` on a model that cannot think."""
    own = ["max_steps: int = 10"]
    overloads: list[Signature] = []
    if _flagged(sources):
        overloads.append(
            Signature(
                ("*", "model: NonThinkingModel", "deps_type: type[Any] | None = None", *own,
                 *_settings(sources, "any"), *_params(thinking=True)),
                "AgentDecorator[Any, Any]",
                (_DEPRECATED,),
            )
        )  # fmt: skip
    for deps in ("type[DepsT]", "None"):
        for response in ("none", "given"):
            deps_param = "deps_type: type[DepsT]" if deps != "None" else "deps_type: None = None"
            deps_type = "DepsT" if deps != "None" else "None"
            overloads.append(
                Signature(
                    ("*", "model: KnownModel | str", deps_param, *own, *_settings(sources, response),
                     *_params(thinking=False)),
                    f"AgentDecorator[{deps_type}, {'str' if response == 'none' else 'U'}]",
                )
            )  # fmt: skip
    implementation = Signature(
        ("misused: object = None", "/", "*", "model: KnownModel | str | None = None",
         "deps_type: type[Any] | None = None", *own, *_settings(sources, "any"), *_params(thinking=False)),
        "AgentDecorator[Any, Any]",
    )  # fmt: skip
    return overloads, implementation


_REPLIES = (
    ("Call", "CallResponse"),
    ("Call", "Stream"),
    ("AsyncCall", "AsyncCallResponse"),
    ("AsyncCall", "AsyncStream"),
)
"""Each kind of call, by what calling it gives: a new response model changes the type parsed."""


def signatures_override(sources: Sources) -> tuple[list[Signature], Signature]:
    """`llm.override`: a `Call` or an `AsyncCall`, of responses or of streams, given a response model or not.

    And `thinking=` on a model that cannot think.
    """
    kinds = ("Call[P, R]", "AsyncCall[P, R]")
    model = "model: KnownModel | str | None = None"
    settings = _settings(sources, "any", unset=True)
    flagged = [
        Signature((f"fn: {kind}", "*", "model: NonThinkingModel", *settings, *_params(thinking=True)), kind,
                  (_DEPRECATED,))
        for kind in kinds
        if _flagged(sources)
    ]  # fmt: skip
    parsed = [
        Signature((f"fn: {call}[P, {reply}[Any]]", "*", model, *_settings(sources, "given", unset=True),
                   *_params(thinking=False)),
                  f"{call}[P, {reply}[U]]")
        for call, reply in _REPLIES
        if any(setting.generic for setting in sources.settings)
    ]  # fmt: skip
    overloads = flagged + parsed + [
        Signature((f"fn: {kind}", "*", model, *settings, *_params(thinking=False)), kind) for kind in kinds
    ]  # fmt: skip
    implementation = Signature(
        ("fn: Call[P, R] | AsyncCall[P, R]", "*", "model: KnownModel | str | None = None", _ARGUMENTS),
        "Call[P, R] | AsyncCall[P, R]",
    )
    return overloads, implementation


def signatures_context(sources: Sources) -> tuple[list[Signature], Signature]:
    """`llm.context`: only `thinking=` on a model that cannot think varies."""
    overloads: list[Signature] = []
    if _flagged(sources):
        overloads.append(
            Signature(
                ("*", "model: NonThinkingModel", *_settings(sources, "any", unset=True),
                 *_params(thinking=True)),
                "AbstractContextManager[None]",
                (_DEPRECATED,),
            )
        )  # fmt: skip
        overloads.append(
            Signature(
                ("*", "model: KnownModel | str | None = None", *_settings(sources, "any", unset=True),
                 *_params(thinking=False)),
                "AbstractContextManager[None]",
            )
        )  # fmt: skip
    implementation = Signature(
        ("*", "model: KnownModel | str | None = None", _ARGUMENTS), "Generator[None]", ("@contextmanager",)
    )
    return overloads, implementation


@dataclass(frozen=True)
class Target:
    """A function whose signatures are generated, wherever its module has its block."""

    name: str
    signatures: Callable[[Sources], tuple[list[Signature], Signature]]


TARGETS = (
    Target("call", signatures_call),
    Target("model", signatures_model),
    Target("agent", signatures_agent),
    Target("override", signatures_override),
    Target("context", signatures_context),
)


def _def(name: str, signature: Signature, body: str) -> list[str]:
    """A `def` with one parameter a line and a trailing comma, as `ruff format` keeps it."""
    return [
        *signature.decorators,
        f"def {name}(",
        *(f"    {parameter}," for parameter in signature.parameters),
        f") -> {signature.returns}:{body}",
    ]


def render_block(target: Target, sources: Sources) -> list[str]:
    """The lines between a target's markers."""
    overloads, implementation = target.signatures(sources)
    lines: list[str] = []
    for overload in overloads:
        decorated = Signature(overload.parameters, overload.returns, ("@overload", *overload.decorators))
        lines += _def(target.name, decorated, " ...")
    return lines + _def(target.name, implementation, "")


def replace_blocks(text: str, file: str, blocks: dict[str, list[str]]) -> tuple[str, set[str]]:
    """`text` with each `llm.<name>` block in it replaced, and the names of those blocks."""
    lines = text.split("\n")
    out: list[str] = []
    found: set[str] = set()
    index = 0
    while index < len(lines):
        line = lines[index]
        out.append(line)
        index += 1
        if not line.startswith(BEGIN):
            continue
        name = line[len(BEGIN) :].split()[0]
        if name not in blocks:
            raise SourceError(f"{file}: a block for llm.{name}, which this script does not write")
        end = next((i for i in range(index, len(lines)) if lines[i].strip() == END), None)
        if end is None:
            raise SourceError(f"{file}: the block of llm.{name} has no {END!r} line")
        if name in found:
            raise SourceError(f"{file}: two blocks for llm.{name}")
        out += blocks[name]
        found.add(name)
        index = end
    return "\n".join(out), found


# --- the docstrings ---------------------------------------------------------------------------


def _wrapped(name: str, doc: str, indent: str) -> list[str]:
    return textwrap.wrap(
        f"{name}: {doc}",
        width=100,
        initial_indent=indent,
        subsequent_indent=indent + "    ",
        break_on_hyphens=False,
        break_long_words=False,
    )


def add_missing_args(text: str, file: str, name: str, settings: tuple[Setting, ...]) -> str:
    """`text` with an `Args:` entry, from `doc`, for each setting `llm.<name>`'s docstring lacks.

    The entries written by hand stay as they are (they may say more for this function); the
    new ones go before `**params:`, or at the end of the section.
    """
    start = text.find(f"{BEGIN}{name}")
    head = re.compile(r'^( *)"""', re.MULTILINE).search(text, start)
    if head is None:
        raise SourceError(f"{file}: llm.{name} has no docstring")
    closing = text.find('"""', head.end())
    docstring = text[head.end() : closing]
    indent = head.group(1)
    args = re.search(rf"^{indent}Args:\n((?:{indent}    .*\n|\n(?={indent}    ))*)", docstring, re.MULTILINE)
    if args is None:
        raise SourceError(f"{file}: llm.{name}'s docstring has no Args: section")
    section = args.group(1)
    present = set(re.findall(rf"^{indent}    (\**\w+):", section, re.MULTILINE))
    missing = [setting for setting in settings if setting.name not in present]
    if not missing:
        return text
    entries = [line for setting in missing for line in _wrapped(setting.name, setting.doc, indent + "    ")]
    lines = section.split("\n")
    at = next((i for i, line in enumerate(lines) if line.startswith(f"{indent}    **params:")), len(lines) - 1)
    section = "\n".join([*lines[:at], *entries, *lines[at:]])
    begin = head.end() + args.start(1)
    return text[:begin] + section + text[head.end() + args.end(1) :]


# --- the command ------------------------------------------------------------------------------


def generate(root: Path) -> dict[Path, str]:
    """Every generated file's text, by path, from the sources under `root`."""
    sources = read(root)
    core = root / CORE
    texts: dict[Path, str] = {core / OVERLOADS_FILE: render_overloads_module(sources)}
    blocks = {target.name: render_block(target, sources) for target in TARGETS}
    where: dict[str, str] = {}
    for path in sorted(core.glob("*.py")):
        text = path.read_text("utf-8")
        if BEGIN not in text:
            continue
        text, found = replace_blocks(text, path.name, blocks)
        for name in found:
            if name in where:
                raise SourceError(f"llm.{name} has a block in both {where[name]} and {path.name}")
            where[name] = path.name
            text = add_missing_args(text, path.name, name, sources.settings)
        texts[path] = text
    missing = blocks.keys() - where.keys()
    if missing:
        raise SourceError(
            f"no {BEGIN}<name> ... {END} block for {', '.join(sorted(missing))} in {CORE}; put one around "
            "the overloads and the implementation's def line"
        )
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if a generated part is stale; write nothing")
    parser.add_argument("--root", type=Path, default=REPO, help="the repository to read and write")
    args = parser.parse_args(argv)
    try:
        texts = generate(args.root)
    except (SourceError, SyntaxError) as error:
        print(f"generate_overloads: {error}", file=sys.stderr)
        return 2
    stale: list[str] = []
    for path, text in texts.items():
        if path.exists() and path.read_text("utf-8") == text:
            continue
        if args.check:
            stale.append(str(path.relative_to(args.root)))
        else:
            path.write_text(text, "utf-8")
            print(f"wrote {path}")
    if stale:
        print(
            f"generate_overloads: stale {', '.join(stale)}; run `python scripts/generate_overloads.py` and commit it.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
