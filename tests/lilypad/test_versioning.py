"""Versioning by closure: what changes a function's hash and what does not, across processes and hash seeds.

Each corpus case writes two versions of a small application (an `app.py`, maybe a `helpers.py`
and a library under a `site-packages` directory) into their own directories, imports each
as a real module from its file, and compares the hashes of `app.fn` (or another target).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import itertools
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mirascope import llm
from mirascope.lilypad._versioning import FORMAT, Closure, clear_cache, closure

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "versioning_cases"

Load = Callable[..., Closure]


@pytest.fixture
def load(tmp_path: Path) -> Iterator[Load]:
    """Write files into a fresh directory, import its `app` from there, and version `app.<target>`.

    A `site-packages/` subdirectory, if written, goes on `sys.path` too: what is in it is a
    library. Every cache is cleared first, as in a new process (a library upgrade happens
    between processes)."""
    counter = itertools.count()
    saved_path, saved_modules = list(sys.path), set(sys.modules)

    def load(files: Mapping[str, str], target: str = "fn", *, docstrings: bool = False) -> Closure:
        directory = tmp_path / f"v{next(counter)}"
        for name, text in files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        sys.path[:0] = [str(directory), str(directory / "site-packages")]
        importlib.invalidate_caches()
        clear_cache()
        try:
            spec = importlib.util.spec_from_file_location("app", directory / "app.py")
            assert spec is not None
            assert spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules["app"] = module
            spec.loader.exec_module(module)
            value: object = module
            for part in target.split("."):
                value = getattr(value, part)
            return closure(value, docstrings=docstrings)  # pyright: ignore[reportArgumentType]
        finally:
            sys.path[:] = saved_path
            for name in set(sys.modules) - saved_modules:
                del sys.modules[name]

    yield load
    clear_cache()


def library(
    version: str,
    body: str = "def shout(text):\n    return text.upper()\n\ndef whisper(text):\n    return text.lower()\n",
) -> dict[str, str]:
    """A real installed distribution `fakelib` (with its dist-info) in a `site-packages` directory."""
    return {
        "site-packages/fakelib/__init__.py": body,
        f"site-packages/fakelib-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: fakelib\nVersion: {version}\n"
        ),
    }


BASE = '''
    from mirascope import llm

    import helpers
    from helpers import shorten

    STYLE = "concise"
    GENRES = ("fantasy", "mystery")
    TAGS = {"classic", "modern"}
    TEMPERATURE = 0.2
    UNUSED = 1


    @llm.tool
    def search_catalogue(query: str) -> str:
        """Search the library catalogue."""
        return query.lower()


    class Book:
        """A book to recommend."""

        title: str

        def label(self) -> str:
            """The title, title-cased."""
            return self.title.title()


    def format_genre(genre):
        return helpers.PREFIX + shorten(genre).upper()


    def describe(genre):
        # one call away from fn
        return f"{format_genre(genre)} ({len(GENRES)}, {len(TAGS)}, {Book.__name__})"


    def unrelated():
        return "nothing"


    @llm.call("openai:gpt-4o-mini", tools=[search_catalogue], temperature=TEMPERATURE)
    def fn(genre: str) -> str:
        """Recommend a book."""
        prompt = f"Recommend a {STYLE} {describe(genre)} book"
        return prompt
'''

HELPERS = """
    PREFIX = "genre: "


    def shorten(text):
        return text[:20]


    def unused_helper():
        return 1
"""


@dataclass(frozen=True)
class Case:
    """Two versions of an application and whether `target`'s hash must differ between them."""

    id: str
    changes: bool
    before: Mapping[str, str]
    after: Mapping[str, str]
    target: str = "fn"
    docstrings: bool = False
    note: str = field(default="", compare=False)


def base(app: str = BASE, helpers: str = HELPERS, **more: str) -> dict[str, str]:
    return {"app.py": app, "helpers.py": helpers, **more}


def edit(old: str, new: str, *, app: str = BASE, helpers: str = HELPERS, in_helpers: bool = False) -> dict[str, str]:
    """The base application with one edit; the edit must apply."""
    source = helpers if in_helpers else app
    assert old in source, old
    changed = source.replace(old, new, 1)
    return base(app, changed) if in_helpers else base(changed, helpers)


def pair(case_id: str, changes: bool, template: str, old: str, new: str, target: str = "fn", **files: str) -> Case:
    """A small application (`app.py`, plus `files`) in two versions: `template` with `@@` as `old`, then as `new`."""
    assert "@@" in template
    before, after = template.replace("@@", old), template.replace("@@", new)
    return Case(case_id, changes, {"app.py": before, **files}, {"app.py": after, **files}, target)


UNRELATED = '    def unrelated():\n        return "nothing"\n'
MOVED = BASE.replace(UNRELATED, "").replace("    class Book:", UNRELATED + "\n\n    class Book:")

USES_FAKELIB = """
    import fakelib

    def fn(x):
        return fakelib.shout(x)
"""

IGNORES_FAKELIB = """
    import fakelib

    def fn(x):
        return x
"""

CORPUS = [
    # -- must not change the hash ------------------------------------------------------------
    Case("reformatting", False, base(), edit("def fn(genre: str) -> str:\n", "def fn( genre : str )->str :\n")),
    Case(
        "decorator split over lines",
        False,
        base(),
        edit(
            "tools=[search_catalogue], temperature=TEMPERATURE)",
            "\n        tools=[search_catalogue],\n        temperature=TEMPERATURE,\n    )",
        ),
    ),
    Case(
        "comment added",
        False,
        base(),
        edit("        return prompt", "        # returned as the user message\n        return prompt"),
    ),
    Case("comment in a helper edited", False, base(), edit("# one call away from fn", "# a helper")),
    Case("docstring edited", False, base(), edit('"""Recommend a book."""', '"""Suggest one good book."""')),
    Case("docstring removed", False, base(), edit('        """Recommend a book."""\n', "")),
    Case(
        "helper docstring added",
        False,
        base(),
        edit("def format_genre(genre):\n", 'def format_genre(genre):\n        """Shout."""\n'),
    ),
    Case("method docstring edited", False, base(), edit('"""The title, title-cased."""', '"""Title case."""')),
    Case(
        "quote style",
        False,
        base(),
        edit('f"Recommend a {STYLE} {describe(genre)} book"', "f'Recommend a {STYLE} {describe(genre)} book'"),
    ),
    Case("redundant parentheses", False, base(), edit("        return prompt", "        return (prompt)")),
    Case("number spelling", False, base(), edit("TEMPERATURE = 0.2", "TEMPERATURE = 0.20")),
    Case("string split in two literals", False, base(), edit('STYLE = "concise"', 'STYLE = "con" "cise"')),
    Case(
        "set constant in another order",
        False,
        base(),
        edit('TAGS = {"classic", "modern"}', 'TAGS = {"modern", "classic"}'),
    ),
    Case("unrelated function edited", False, base(), edit('return "nothing"', 'return "something else"')),
    Case("unread global edited", False, base(), edit("UNUSED = 1", "UNUSED = 2")),
    Case(
        "unused import added",
        False,
        base(),
        edit("from mirascope import llm", "import os\n    from mirascope import llm"),
    ),
    Case("unused helper in an imported module edited", False, base(), edit("return 1", "return 2", in_helpers=True)),
    Case("definitions reordered", False, base(), base(MOVED)),
    Case("same code in another directory", False, base(), base()),
    Case(
        "unused library upgraded",
        False,
        {"app.py": IGNORES_FAKELIB, **library("1.0")},
        {"app.py": IGNORES_FAKELIB, **library("2.0")},
    ),
    pair("blank lines and indentation", False, "def fn(x):\n@@return x + 1\n", "    ", "\n\n        "),
    pair("lambda reformatted", False, "fn = @@\n", "lambda x: x + 1", "lambda x:(x+1)"),
    pair(
        "lambda in a helper reformatted",
        False,
        """
        shout = @@

        def fn(x):
            return shout(x)
        """,
        "lambda s: s.upper()",
        "lambda s : (s.upper())",
    ),
    # -- must change the hash ----------------------------------------------------------------
    Case(
        "local variable renamed",
        True,
        base(),
        edit(
            'prompt = f"Recommend a {STYLE} {describe(genre)} book"\n        return prompt',
            'text = f"Recommend a {STYLE} {describe(genre)} book"\n        return text',
        ),
    ),
    Case("prompt text", True, base(), edit("Recommend a {STYLE}", "Suggest a {STYLE}")),
    Case("model", True, base(), edit('@llm.call("openai:gpt-4o-mini"', '@llm.call("openai:gpt-4o"')),
    Case(
        "decorator argument", True, base(), edit("temperature=TEMPERATURE)", "temperature=TEMPERATURE, max_tokens=200)")
    ),
    Case("global constant read by the decorator", True, base(), edit("TEMPERATURE = 0.2", "TEMPERATURE = 0.7")),
    Case("global constant read by the body", True, base(), edit('STYLE = "concise"', 'STYLE = "playful"')),
    Case(
        "tuple constant read by a helper",
        True,
        base(),
        edit('GENRES = ("fantasy", "mystery")', 'GENRES = ("fantasy",)'),
    ),
    Case(
        "set constant read by a helper", True, base(), edit('TAGS = {"classic", "modern"}', 'TAGS = {"classic", "new"}')
    ),
    Case("helper one call away", True, base(), edit('f"{format_genre(genre)} (', 'f"{format_genre(genre)}: (')),
    Case("helper two calls away", True, base(), edit("shorten(genre).upper()", "shorten(genre).lower()")),
    Case("imported user module helper", True, base(), edit("return text[:20]", "return text[:30]", in_helpers=True)),
    Case(
        "user module constant read as an attribute",
        True,
        base(),
        edit('PREFIX = "genre: "', 'PREFIX = "kind: "', in_helpers=True),
    ),
    Case("tool body", True, base(), edit("return query.lower()", "return query.casefold()")),
    Case(
        "tool docstring (its description)",
        True,
        base(),
        edit('"""Search the library catalogue."""', '"""Search the shop."""'),
    ),
    Case("tool removed from the decorator", True, base(), edit("tools=[search_catalogue], ", "")),
    Case(
        "class method reached through the class",
        True,
        base(),
        edit("return self.title.title()", "return self.title.upper()"),
    ),
    Case("class docstring (a schema description)", True, base(), edit('"""A book to recommend."""', '"""A novel."""')),
    Case(
        "docstring with docstrings=True",
        True,
        base(),
        edit('"""Recommend a book."""', '"""Suggest a book."""'),
        docstrings=True,
    ),
    Case(
        "signature: parameter added",
        True,
        base(),
        edit("def fn(genre: str)", "def fn(genre: str, reader: str = 'you')"),
    ),
    Case("signature: annotation changed", True, base(), edit("def fn(genre: str)", "def fn(genre: object)")),
    pair("default argument value", True, "def fn(x, times=@@):\n    return x * times\n", "2", "3"),
    pair(
        "default argument reads a global constant",
        True,
        "N = @@\n\ndef fn(x, times=N):\n    return x * times\n",
        "2",
        "3",
    ),
    pair(
        "global lambda body",
        True,
        """
        shout = lambda s: s.upper()@@

        def fn(x):
            return shout(x)
        """,
        "",
        " + '!'",
    ),
    pair("lambda as the function", True, "fn = lambda x: x + @@\n", "1", "2"),
    pair(
        "nested function",
        True,
        """
        def fn(x):
            def inner(y):
                return y * @@
            return inner(x)
        """,
        "2",
        "3",
    ),
    pair(
        "nonlocal (closure cell) value",
        True,
        """
        def make(style):
            def fn(topic):
                return f"In a {style} style: {topic}"
            return fn

        fn = make("@@")
        """,
        "formal",
        "casual",
    ),
    pair(
        "mutual recursion",
        True,
        """
        def fn(n):
            return pong(n - 1) if n > 0 else "ping"

        def pong(n):
            return fn(n - 1) if n > 0 else "@@"
        """,
        "pong",
        "PONG",
    ),
    pair("self recursion", True, "def fn(n):\n    return 1 if n <= 1 else n @@ fn(n - 1)\n", "*", "+"),
    Case(
        "library upgrade", True, {"app.py": USES_FAKELIB, **library("1.0")}, {"app.py": USES_FAKELIB, **library("2.0")}
    ),
    pair(
        "another library function under the same name",
        True,
        """
        from fakelib import @@ as say

        def fn(x):
            return say(x)
        """,
        "shout",
        "whisper",
        **library("1.0"),
    ),
    pair(
        "user decorator body",
        True,
        """
        import functools

        def loud(f):
            @functools.wraps(f)
            def wrapper(*args):
                return f(*args).@@()
            return wrapper

        @loud
        def fn(x):
            return x
        """,
        "upper",
        "title",
    ),
    pair(
        "global instance of a user class",
        True,
        """
        class Config:
            def __init__(self, limit):
                self.limit = limit

        CONFIG = Config(limit=@@)

        def fn(x):
            return x[: CONFIG.limit]
        """,
        "3",
        "4",
    ),
    pair(
        "global llm.model",
        True,
        """
        from mirascope import llm

        MODEL = llm.model("@@")

        def fn(x):
            return MODEL.call(x)
        """,
        "openai:gpt-4o-mini",
        "anthropic:claude-sonnet-4-5",
    ),
    pair(
        "functools.partial arguments",
        True,
        """
        import functools

        def cut(text, n):
            return text[:n]

        short = functools.partial(cut, n=@@)

        def fn(x):
            return short(x)
        """,
        "10",
        "20",
    ),
    pair("dict constant value", True, 'TONES = {"a": "@@"}\n\ndef fn(k):\n    return TONES[k]\n', "calm", "warm"),
    pair(
        "dict constant order (observable, so kept)",
        True,
        "TONES = @@\n\ndef fn():\n    return list(TONES)\n",
        '{"a": 1, "b": 2}',
        '{"b": 2, "a": 1}',
    ),
    pair(
        "computed constant",
        True,
        'BASE = "@@"\nPROMPT = BASE + " Answer:"\n\ndef fn(q):\n    return PROMPT + q\n',
        "Be brief.",
        "Be thorough.",
    ),
    pair(
        "global read in a comprehension",
        True,
        "WORDS = @@\n\ndef fn(x):\n    return [w + x for w in WORDS if w]\n",
        "('a', 'b')",
        "('a', 'c')",
    ),
    pair(
        "enum member added",
        True,
        """
        import enum

        class Genre(enum.Enum):
            FANTASY = "fantasy"
            @@

        def fn():
            return [genre.value for genre in Genre]
        """,
        "",
        'POETRY = "poetry"',
    ),
    pair(
        "staticmethod of a class reached",
        True,
        """
        class Fmt:
            @staticmethod
            def bold(x):
                return "@@" + x

        def fn(x):
            return Fmt.bold(x)
        """,
        "**",
        "__",
    ),
    pair(
        "sibling method of a method",
        True,
        """
        class Library:
            def recommend(self, genre):
                return self.note(genre)

            def note(self, genre):
                return genre + "@@"
        """,
        "",
        "!",
        target="Library.recommend",
    ),
    pair(
        "global rebound to another helper",
        True,
        """
        def double(x):
            return x * 2

        def triple(x):
            return x * 3

        helper = @@

        def fn(x):
            return helper(x)
        """,
        "double",
        "triple",
    ),
    pair(
        "async prompt",
        True,
        """
        from mirascope import llm

        @llm.call("openai:gpt-4o-mini")
        async def fn(genre: str) -> str:
            return f"Recommend @@ {genre} books"
        """,
        "two",
        "three",
    ),
    pair(
        "agent system prompt",
        True,
        """
        from mirascope import llm

        @llm.agent(model="openai:gpt-4o-mini")
        def fn() -> str:
            return "You are a @@."
        """,
        "librarian",
        "bookseller",
    ),
    pair(
        "class tool body",
        True,
        """
        from mirascope import llm

        class Search(llm.BaseTool):
            query: str

            def call(self) -> str:
                return self.query@@

        @llm.call("openai:gpt-4o-mini", tools=[Search])
        def fn(q: str) -> str:
            return q
        """,
        "",
        ".strip()",
    ),
    pair(
        "model chosen in an enclosing factory",
        True,
        """
        from mirascope import llm

        def make(model):
            @llm.call(model)
            def fn(q: str) -> str:
                return q
            return fn

        fn = make("@@")
        """,
        "openai:gpt-4o-mini",
        "openai:gpt-4o",
    ),
    Case(
        "constant imported from a user module",
        True,
        {"app.py": "from settings import TONE\n\ndef fn(x):\n    return TONE + x\n", "settings.py": "TONE = 'calm'\n"},
        {"app.py": "from settings import TONE\n\ndef fn(x):\n    return TONE + x\n", "settings.py": "TONE = 'warm'\n"},
    ),
]


def test_the_corpus_is_large_and_balanced() -> None:
    assert len(CORPUS) >= 40
    assert len({case.id for case in CORPUS}) == len(CORPUS)
    assert sum(case.changes for case in CORPUS) >= 20
    assert sum(not case.changes for case in CORPUS) >= 20


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_corpus(case: Case, load: Load) -> None:
    if case.id != "same code in another directory":
        assert case.before != case.after, "the two versions must differ in text"
    before = load(case.before, case.target, docstrings=case.docstrings)
    after = load(case.after, case.target, docstrings=case.docstrings)
    if case.changes:
        assert before.hash != after.hash, f"{case.id}: expected a new hash\n{before.code}"
    else:
        assert before.hash == after.hash, (
            f"{case.id}: expected the same hash\n--- before\n{before.code}\n--- after\n{after.code}"
        )
        assert before.code == after.code


def test_a_closure_shows_the_canonical_code_and_its_dependencies(load: Load) -> None:
    found = load(base())
    assert found.function == "fn"
    assert found.signature == "def fn(genre: str) -> str"
    assert found.source == "source"
    assert re.fullmatch("[0-9a-f]{64}", found.hash)
    assert found.dependencies == {"mirascope-core": importlib.metadata.version("mirascope-core")}
    code = found.code
    # The function first among the definitions, with its decorator; what it reaches follows.
    decorator = "@llm.call('openai:gpt-4o-mini', tools=[search_catalogue], temperature=TEMPERATURE)"
    assert code.index(decorator) < code.index("def describe")
    for piece in (
        "def format_genre(genre):",
        "def search_catalogue(query: str) -> str:",
        "class Book:",
        "# module helpers",
        "def shorten(text):",
        "PREFIX = 'genre: '",
        "STYLE = 'concise'",
        "TAGS = {'classic', 'modern'}",
        "from mirascope import llm",
        "from helpers import shorten",
    ):
        assert piece in code, piece
    # Comments and function docstrings are gone; a tool's docstring (its description) and a
    # class docstring (a schema description) stay.
    for gone in ("one call away", "Recommend a book.", "The title, title-cased."):
        assert gone not in code, gone
    assert '"""Search the library catalogue."""' in code
    assert '"""A book to recommend."""' in code
    # What is not reached is not shown; library code is shown by its import only.
    for absent in ("unrelated", "UNUSED", "unused_helper", "def call("):
        assert absent not in code, absent


def test_docstrings_are_kept_when_asked(load: Load) -> None:
    code = load(base(), docstrings=True).code
    assert '"""Recommend a book."""' in code
    assert '"""The title, title-cased."""' in code


def test_a_library_is_recorded_by_version_not_source(load: Load) -> None:
    app = """
        import json
        import fakelib

        def fn(x):
            return json.dumps(fakelib.shout(x))
    """
    found = load({"app.py": app, **library("1.4.2")})
    assert found.dependencies == {"fakelib": "1.4.2"}  # the standard library is not recorded
    assert "import fakelib\nimport json\n" in found.code
    assert "upper" not in found.code  # fakelib's own source is not in the closure


def test_a_method_is_versioned_with_its_class(load: Load) -> None:
    app = """
        class Library:
            SHELF = 3

            def recommend(self, genre: str) -> str:
                return self.note(genre)

            def note(self, genre):
                return genre
    """
    found = load({"app.py": app}, "Library.recommend")
    assert found.function == "Library.recommend"
    assert found.signature == "def recommend(self, genre: str) -> str"
    assert found.code == (
        "def recommend(self, genre: str) -> str:\n    return self.note(genre)\n\n"
        "class Library:\n    SHELF = 3\n\n    def note(self, genre):\n        return genre"
    )


def test_cycles_end(load: Load) -> None:
    app = """
        import app

        class Node:
            def walk(self):
                return Node()

        def fn(n):
            return pong(n) if n else app.fn(Node().walk())

        def pong(n):
            return fn(n - 1)
    """
    code = load({"app.py": app}).code
    for definition in ("def fn(n):", "def pong(n):", "class Node:"):
        assert code.count(definition) == 1, definition


def test_lambdas_on_one_line_are_told_apart(load: Load) -> None:
    app = "first, second = (lambda x: x + 1), (lambda y: y * 2)\n"
    assert load({"app.py": app}, "first").code == "lambda x: x + 1"
    second = load({"app.py": app}, "second")
    assert second.code == "lambda y: y * 2"
    assert second.signature == "lambda y"


WRAPPED = """
    import functools
    from mirascope import llm

    @llm.tool
    def lookup(title: str) -> str:
        '''Look a title up.'''
        return title

    def cut(text, n):
        return text[:n]

    @llm.call("openai:gpt-4o-mini", temperature=0.3)
    def fn(q: str) -> str:
        return q

    short = functools.partial(cut, n=5)

    class Shelf:
        def pick(self, genre):
            return genre

        @classmethod
        def make(cls):
            return cls()
"""


def test_tools_calls_partials_and_bound_methods_are_unwrapped(load: Load) -> None:
    tool = load({"app.py": WRAPPED}, "lookup")
    assert tool.function == "lookup"
    assert '"""Look a title up."""' in tool.code  # kept: it is the tool's description
    call = load({"app.py": WRAPPED}, "fn")
    assert call.code.startswith(
        "from mirascope import llm\n\n# model: llm.model('openai:gpt-4o-mini', temperature=0.3)\n@llm.call("
    )
    partial = load({"app.py": WRAPPED}, "short")
    assert partial.function == "cut"
    assert partial.code.startswith("# partial(cut, n=5)\ndef cut(text, n):")
    bound = load({"app.py": WRAPPED}, "Shelf.make")
    assert bound.function == "Shelf.make"
    assert "def pick(self, genre):" in bound.code


def test_closure_is_cached_per_function() -> None:
    def prompt(genre: str) -> str:
        return f"Recommend a {genre} book"

    first = closure(prompt)
    assert closure(prompt) is first
    assert closure(prompt, docstrings=True) is not first
    clear_cache()
    again = closure(prompt)
    assert again == first
    assert again is not first


def test_a_tool_object_without_weak_references_is_versioned() -> None:
    @llm.tool
    def lookup(title: str) -> str:
        """Look a title up."""
        return title

    assert closure(lookup) is closure(lookup)
    assert closure(lookup).function.endswith(".lookup")


def test_a_builtin_cannot_be_versioned() -> None:
    with pytest.raises(llm.UsageError, match="decorate a Python function"):
        closure(len)


def run(code: str, seed: str, cwd: Path = ROOT) -> str:
    environment = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, cwd=cwd, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


HASH_PROMPTS = f"""
import json, sys
sys.path.insert(0, {str(CASES)!r})
import prompts
from mirascope.lilypad._versioning import closure
print(json.dumps({{name: closure(fn).hash for name, fn in sorted(prompts.PROMPTS.items())}}))
"""


def test_hashes_are_stable_across_processes_and_hash_seeds() -> None:
    first = json.loads(run(HASH_PROMPTS, "1"))
    second = json.loads(run(HASH_PROMPTS, "4242"))
    assert first == second
    assert len(set(first.values())) == len(first)  # five different functions, five hashes
    sys.path.insert(0, str(CASES))
    try:
        import prompts  # pyright: ignore[reportMissingImports]

        here = {name: closure(fn).hash for name, fn in sorted(prompts.PROMPTS.items())}
    finally:
        sys.path.remove(str(CASES))
        for name in ("prompts", "catalogue"):
            sys.modules.pop(name, None)
    assert here == first


BYTECODE = """
import json
SHELVES = {{"fiction", "history", "science", "poetry"}}

def helper(genre):
    return genre.title() + str(sorted(SHELVES))

def fn(genre: str, n=3) -> str:
    return f"Recommend {{n}} {{helper(genre)}} books{suffix}"

from mirascope.lilypad._versioning import closure
found = closure(fn)
print(json.dumps([found.source, found.signature, found.hash, found.code]))
"""


def test_functions_without_source_get_a_stable_bytecode_hash(tmp_path: Path) -> None:
    source, signature, first, code = json.loads(run(BYTECODE.format(suffix=""), "1", tmp_path))
    assert source == "bytecode"
    assert signature == "def fn(genre: str, n=3) -> str"
    assert "# fn: no source; compiled code sha256 " in code
    assert "SHELVES = {'fiction', 'history', 'poetry', 'science'}" in code
    assert "# helper: no source" in code  # helpers are followed without source too
    assert json.loads(run(BYTECODE.format(suffix=""), "999", tmp_path))[2] == first
    assert json.loads(run(BYTECODE.format(suffix="!"), "1", tmp_path))[2] != first


def test_the_format_is_part_of_the_hash() -> None:
    assert FORMAT.startswith("mirascope-lilypad closure ")
