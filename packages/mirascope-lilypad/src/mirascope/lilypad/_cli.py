"""The `lilypad` command: read the trace and version store from a terminal, or ship it to a collector.

`main` is the console script `mirascope[lilypad]` installs. Every command reads the SQLite store
`lilypad.configure()` writes (`--db`, else `LILYPAD_DB`, else `.lilypad/lilypad.db`); tables are
for people, `--json` (a JSON list of objects) for scripts. A user error is one line on stderr
saying what to do, with exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import logging
import math
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, NoReturn
from urllib.parse import urlsplit

from mirascope import llm

from ._store import DEFAULT_PATH, SpanRecord, Store, VersionRecord

__all__ = ["main"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_AGE = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Escape sequences (ESC, CSI, BEL, CR, ...) and the bidi overrides that make text read other than it is;
# tab and newline pass.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_EXPORT_BATCH = 256  # spans per OTLP request: well under the exporter's 64 MiB request limit with content captured
_INSTRUMENTATION_SCOPE = "mirascope.lilypad"


class _UserError(Exception):
    """Something the user can fix; the message, one line, says how."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line ending in where help is."""

    def error(self, message: str) -> NoReturn:
        raise _UserError(f"{message} (see {self.prog} --help)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `lilypad` command with `argv` (the process's arguments by default).

    Returns:
        The exit status: 0 when the command did what it was asked, 1 on an error, whose message
        (one line on stderr) says what to do.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        status: int = args.run(args)
        return status
    except SystemExit as stop:  # --help, and argparse's own exits
        return stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
    except (_UserError, llm.Error) as error:  # the store's and the viewer's errors say what to do too
        print(f"lilypad: {_visible(_one_line(str(error)))}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader (`| head`) went away: stop quietly, and keep the interpreter's final flush
        # of stdout from failing again.
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        return 130


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (captured output): nothing to flush
        pass


# The command line.


def _parser() -> _Parser:
    parser = _Parser(
        prog="lilypad",
        description="Read the traces, versions and annotations lilypad.configure() stores, or export them.",
    )
    _add_global_options(parser, db=None, json=False)
    # Given after the command too (`lilypad traces --json`); there they default to SUPPRESS, so an
    # option given before the command (`lilypad --json traces`) is not overwritten.
    shared = _Parser(add_help=False)
    _add_global_options(shared, db=argparse.SUPPRESS, json=argparse.SUPPRESS)
    parser.set_defaults(command=None)
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")

    def command(name: str, help: str, run: Any, description: str | None = None) -> _Parser:
        sub: _Parser = commands.add_parser(name, help=help, description=description or help, parents=[shared])
        sub.set_defaults(run=run)
        return sub

    view = command("view", "open the local viewer (a web page on 127.0.0.1)", _view)
    view.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    view.add_argument(
        "--port", type=_port, default=7878, help="the port to listen on (default: 7878; 0 picks any free port)"
    )
    view.add_argument("--open", action="store_true", help="open the page in the default web browser")

    traces = command("traces", "list traces, newest first", _traces)
    _add_filters(traces)
    traces.add_argument("--limit", type=_at_least(1), default=50, metavar="N", help="at most N traces (default: 50)")

    show = command("show", "print one trace as a span tree, with its conversation when captured", _show)
    show.add_argument("trace_id", metavar="TRACE_ID", help="the trace's 32-hex-digit id (lilypad traces lists them)")

    versions = command("versions", "list a function's versions with their trace statistics", _versions)
    versions.add_argument("function", metavar="FUNCTION", help="the versioned function's name")

    diff = command(
        "diff",
        "show how two versions of a function differ",
        _diff,
        "Print a unified diff of two versions' code (and of their dependencies, when those differ).",
    )
    diff.add_argument("function", metavar="FUNCTION", help="the versioned function's name")
    diff.add_argument("old", metavar="A", help='a version: its number ("1.0") or a prefix of its hash')
    diff.add_argument("new", metavar="B", help='a version: its number ("1.1") or a prefix of its hash')

    annotate = command("annotate", "label a trace pass or fail", _annotate)
    annotate.add_argument("trace_id", metavar="TRACE_ID", help="the trace's 32-hex-digit id")
    annotate.add_argument("--label", required=True, choices=("pass", "fail"), help="pass or fail")
    annotate.add_argument("--score", type=_score, help="a number, such as 0.8")
    annotate.add_argument("--reason", metavar="TEXT", help="why")
    annotate.add_argument("--span", metavar="SPAN_ID", help="annotate this span of the trace rather than the trace")

    export = command(
        "export",
        "write stored traces as JSON lines, or send them to an OTLP collector",
        _export,
        "Write stored traces as JSON lines (one span per line), or replay them into an OpenTelemetry "
        "collector over OTLP/HTTP with their original ids and times: trace offline first, ship afterwards.",
    )
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--jsonl", nargs="?", const="-", metavar="FILE", help="write JSON lines to FILE (default: -, stdout)"
    )
    target.add_argument(
        "--otlp",
        nargs="?",
        const="",
        metavar="ENDPOINT",
        help="send to this OTLP/HTTP traces endpoint, such as http://127.0.0.1:4318/v1/traces (a URL with no "
        "path gets /v1/traces; default: the one OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT "
        "names); "
        "needs the otlp extra, mirascope-lilypad[otlp]",
    )
    _add_filters(export)

    prune = command(
        "prune",
        "delete old traces",
        _prune,
        "Delete whole traces (spans and annotations; versions stay). With both options, a trace goes if "
        "either selects it. Asks first, unless --yes.",
    )
    prune.add_argument(
        "--before", type=_instant, metavar="DATE", help="delete traces started before DATE: a date, or an age (30d)"
    )
    prune.add_argument("--keep-last", type=_at_least(0), metavar="N", help="delete all but the N newest traces")
    prune.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def _add_global_options(parser: argparse.ArgumentParser, *, db: object, json: object) -> None:
    parser.add_argument(
        "--db", metavar="PATH", default=db, help=f"the lilypad store (default: $LILYPAD_DB, else {DEFAULT_PATH})"
    )
    parser.add_argument("--json", action="store_true", default=json, help="print a JSON list of objects, for scripts")


def _add_filters(parser: argparse.ArgumentParser) -> None:
    filters = parser.add_argument_group("filters")
    filters.add_argument("--function", metavar="F", help="traces of the function F")
    filters.add_argument("--version", metavar="V", help='traces of version V ("1.2") of the function')
    filters.add_argument("--model", metavar="M", help="traces that called the model M (such as gpt-4o)")
    filters.add_argument("--errors", action="store_true", help="only traces with an error")
    filters.add_argument("--session", metavar="S", help="traces of the session S (lilypad.session(id=S))")
    filters.add_argument(
        "--since", type=_instant, metavar="WHEN", help="traces started since WHEN: an age (30m, 1h, 7d) or a date"
    )


def _at_least(minimum: int) -> Callable[[str], int]:
    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {minimum}, not {text!r}")
        return value

    return whole_number


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 (any free port) to 65535, not {text!r}")
    return value


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a number such as 0.8, not {text!r}")
    return value


def _instant(text: str) -> int:
    """Nanoseconds since the epoch: `30m`, `1h`, `7d` ago, or an ISO date or time (local unless it has an offset)."""
    if age := _AGE.fullmatch(text.strip()):
        moment = datetime.now(UTC) - timedelta(**{_AGE_UNITS[age[2]]: float(age[1])})
    else:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an age such as 30m, 1h, 7d or 2w, or a date such as 2026-12-01 or 2026-12-01T14:30, "
                f"not {text!r}"
            ) from None
        if moment.tzinfo is None:
            moment = moment.astimezone()  # the local time zone, as people write dates
    nanoseconds = (moment - _EPOCH) // timedelta(microseconds=1) * 1000
    # SQLite integers are 64-bit (years 1677 to 2262 in nanoseconds); a date past either end is that end.
    return max(-(2**63), min(nanoseconds, 2**63 - 1))


# Opening the store.


def _store_path(args: argparse.Namespace) -> Path:
    given: str | None = args.db or os.environ.get("LILYPAD_DB") or None
    return Path(given).expanduser() if given else Path(DEFAULT_PATH)


def _existing_store_path(args: argparse.Namespace) -> Path:
    path = _store_path(args)
    if not path.exists():
        raise _UserError(
            f"no store at {path}: run lilypad.configure() in your app first "
            "(or point --db or LILYPAD_DB at the store it wrote)"
        )
    return path


@contextmanager
def _open_store(args: argparse.Namespace, *, write: bool = False) -> Generator[Store]:
    store = Store(_existing_store_path(args), readonly=not write)
    try:
        yield store
    finally:
        store.close()


def _trace_spans(store: Store, trace_id: str) -> list[SpanRecord]:
    spans = store.trace(trace_id.strip().lower())
    if not spans:
        raise _UserError(f"no trace {trace_id} in {store.path}: lilypad traces lists the traces stored there")
    return spans


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "function": args.function,
        "version": args.version,
        "model": args.model,
        "errors": True if args.errors else None,
        "session": args.session,
        "since_ns": args.since,
    }


# Output.


def _print_json(objects: Sequence[Mapping[str, object]]) -> None:
    json.dump(list(objects), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _visible(text: str) -> str:
    """`text` with control and bidi-override characters escaped: a stored string cannot drive the terminal."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _say(text: str) -> None:
    print(_visible(text))


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: frozenset[int] = frozenset()) -> None:
    """Aligned columns; the columns numbered in `right` (numbers) align right."""
    rows = [[cell.replace("\n", " ").replace("\t", " ") for cell in row] for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    _say(line(headers))
    for row in rows:
        _say(line(row))


def _time(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9).strftime("%Y-%m-%d %H:%M:%S")


def _ms(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "-"
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    return f"{milliseconds / 1000:.2f} s"


def _cost(dollars: float | None) -> str:
    if dollars is None:
        return "-"
    # Calls cost fractions of a cent: six decimals, trailing zeros dropped down to cents.
    text = f"{dollars:.6f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"${whole}.{fraction.ljust(2, '0')}"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _dash(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _short_hash(hash: str) -> str:
    return hash[:12]


# Commands.


def _view(args: argparse.Namespace) -> int:
    path = _existing_store_path(args)
    from ._viewer import serve  # the HTTP server and page load only for this command

    serve(path, host=args.host, port=args.port, open_browser=args.open)  # until Ctrl-C
    return 0


def _traces(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        found = store.traces(**_filters(args), limit=args.limit)
    if args.json:
        _print_json([trace.to_json() for trace in found])
        return 0
    if not found:
        print("no traces match: lilypad traces without filters lists them all", file=sys.stderr)
        return 0
    rows = [
        [
            trace.trace_id,
            _time(trace.start_ns),
            trace.function or trace.root_name,
            _dash(trace.version),
            _dash(trace.model),
            _ms(trace.duration_ms),
            _count(trace.input_tokens),
            _count(trace.output_tokens),
            _cost(trace.cost),
            _ms(None if trace.ttfc is None else trace.ttfc * 1000),
            "error" if trace.error else "ok",
            _dash(trace.annotation),
        ]
        for trace in found
    ]
    headers = [
        "TRACE",
        "STARTED",
        "NAME",
        "VERSION",
        "MODEL",
        "DURATION",
        "IN",
        "OUT",
        "COST",
        "TTFC",
        "STATUS",
        "LABEL",
    ]
    _print_table(headers, rows, right=frozenset({5, 6, 7, 8, 9}))
    return 0


def _show(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        spans = _trace_spans(store, args.trace_id)
        annotations = store.annotations(spans[0].trace_id)
    if args.json:
        _print_json([span.to_json() for span in spans])
        return 0
    start = min(span.start_ns for span in spans)
    end = max(span.end_ns for span in spans)
    _say(f"trace {spans[0].trace_id}  {_time(start)}  {len(spans)} span(s)  {_ms((end - start) / 1e6)}")
    ids = {span.span_id for span in spans}
    children: dict[str | None, list[SpanRecord]] = {}
    for span in spans:
        # A span whose parent is not stored (a remote caller's) is shown as a root.
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    conversation = _Conversation()

    def show(span: SpanRecord, depth: int) -> None:
        _print_span(span, "  " * depth, conversation)
        for child in children.get(span.span_id, []):
            show(child, depth + 1)

    for root in children.get(None, []):
        show(root, 0)
    for annotation in annotations:
        score = "" if annotation.score is None else f" score {annotation.score:g}"
        reason = f": {annotation.reason}" if annotation.reason else ""
        where = f" on span {annotation.span_id}" if annotation.span_id else ""
        _say(
            f"annotation {_dash(annotation.label)}{score}{where} "
            f"({annotation.source}, {_time(annotation.created_ns)}){reason}"
        )
    return 0


# What a traced function or a tool was given and gave back (recorded when content capture is on).
_CONTENT_ATTRIBUTES = (
    ("mirascope.trace.arguments", "arguments"),
    ("gen_ai.tool.call.arguments", "arguments"),
    ("mirascope.trace.result", "result"),
    ("gen_ai.tool.call.result", "result"),
)


class _Conversation:
    """What a trace's chat spans already printed, so each one (an agent's next turn) prints only what it added."""

    def __init__(self) -> None:
        self.system: object = None
        self.shown: list[str] = []

    def new_system(self, system: object) -> bool:
        new, self.system = system != self.system, system
        return new

    def new_inputs(self, messages: list[Any]) -> tuple[int, list[Any]]:
        """How many leading messages were shown already, and the rest."""
        known = len(self.shown)
        if known and [_message_key(message) for message in messages[:known]] == self.shown:
            return known, messages[known:]
        return 0, messages

    def saw(self, inputs: list[Any], outputs: list[Any]) -> None:
        self.shown = [_message_key(message) for message in [*inputs, *outputs]]


def _message_key(message: object) -> str:
    # A reply comes back as the next turn's input without its finish reason.
    fields = _mapping(message)
    return json.dumps(
        {key: value for key, value in fields.items() if key != "finish_reason"} or message, sort_keys=True
    )


def _print_span(span: SpanRecord, indent: str, conversation: _Conversation) -> None:
    status = "error" if span.status == "ERROR" else "ok"
    _say(f"{indent}{span.name}  [{span.kind.lower()}]  {_ms((span.end_ns - span.start_ns) / 1e6)}  {status}")
    detail = indent + "    "
    facts: list[str] = []
    if span.model:
        facts.append(f"model {span.model}" + (f" ({span.provider})" if span.provider else ""))
    if span.input_tokens is not None or span.output_tokens is not None:
        facts.append(f"tokens {_count(span.input_tokens)} in, {_count(span.output_tokens)} out")
    if span.cost is not None:
        facts.append(f"cost {_cost(span.cost)}")
    if span.ttfc is not None:
        facts.append(f"first chunk {_ms(span.ttfc * 1000)}")
    if span.function:
        version = f" {span.version}" if span.version else ""
        hash = f" ({_short_hash(span.version_hash)})" if span.version_hash else ""
        facts.append(f"function {span.function}{version}{hash}")
    if span.session_id:
        facts.append(f"session {span.session_id}")
    if facts:
        _say(detail + " · ".join(facts))
    failed = span.status == "ERROR" or span.error_type is not None
    if failed:
        message = f": {span.status_message}" if span.status_message else ""
        _print_text(detail, "error", f"{span.error_type or 'unknown'}{message}")
    attributes = span.attributes
    for name, label in _CONTENT_ATTRIBUTES:
        if name in attributes:
            _print_text(detail, label, attributes[name])
    system = _loaded(attributes.get("gen_ai.system_instructions"))
    if system is not None and conversation.new_system(system):
        parts = _list(system)
        _print_text(detail, "system", _parts_text([system] if parts is None else parts))
    inputs = _list(_loaded(attributes.get("gen_ai.input.messages")))
    outputs = _list(_loaded(attributes.get("gen_ai.output.messages")))
    if inputs is not None or outputs is not None:
        earlier, new = conversation.new_inputs(inputs or [])
        if earlier:
            _say(f"{detail}(… {earlier} earlier message(s), shown above)")
        for message in [*new, *(outputs or [])]:
            _print_message(detail, message)
        conversation.saw(inputs or [], outputs or [])
    for event in span.events:
        if failed and event.get("name") == "exception":
            continue  # the error line above says it; --json has the stack trace
        described = ", ".join(f"{key}={_shortened(value)}" for key, value in _mapping(event.get("attributes")).items())
        _say(f"{detail}event {event.get('name')}" + (f" ({described})" if described else ""))


def _shortened(value: object, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _loaded(value: object) -> object:
    if isinstance(value, str):
        try:
            decoded: object = json.loads(value)
        except ValueError:
            return value
        return decoded
    return value


def _print_message(indent: str, message: object) -> None:
    if not isinstance(message, dict):
        _print_text(indent, "message", message)
        return
    fields: dict[str, Any] = message  # pyright: ignore[reportUnknownVariableType]
    parts = fields.get("parts")
    _print_text(indent, str(fields.get("role", "message")), _parts_text(_list(parts) or []))


def _parts_text(parts: list[Any]) -> str:
    """The message's parts as text: tool calls and results spelled out, media described."""
    shown: list[str] = []
    for part in parts:
        if not isinstance(part, dict):
            shown.append(str(part))
            continue
        fields: dict[str, Any] = part  # pyright: ignore[reportUnknownVariableType]
        kind = fields.get("type")
        if kind in ("text", "reasoning"):
            prefix = "(reasoning) " if kind == "reasoning" else ""
            shown.append(prefix + str(fields.get("content", "")))
        elif kind == "tool_call":
            arguments = fields.get("arguments")
            encoded = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
            shown.append(f"→ call {fields.get('name')}({encoded}) [{fields.get('id')}]")
        elif kind == "tool_call_response":
            response = fields.get("response")
            encoded = response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)
            shown.append(f"← result [{fields.get('id')}]: {encoded}")
        else:
            described = {key: value for key, value in fields.items() if key != "content"}
            shown.append(f"[{kind} {json.dumps(described, ensure_ascii=False)}]")
    return "\n".join(shown)


def _print_text(indent: str, label: str, value: object) -> None:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    first, *rest = text.splitlines() or [""]
    _say(f"{indent}{label}: {first}")
    continuation = indent + " " * (len(label) + 2)
    for line in rest:
        _say((continuation + line).rstrip())


def _versions(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        found = store.versions(args.function)
        if not found:
            raise _UserError(_no_function(store, args.function))
    if args.json:
        _print_json([version.to_json() for version in found])
        return 0
    rows = [
        [
            version.version,
            _short_hash(version.hash),
            _time(version.created_ns),
            str(version.trace_count),
            _ms(version.p50_ms),
            _ms(version.p95_ms),
            _cost(version.mean_cost),
            "-" if version.pass_rate is None else f"{version.pass_rate:.0%}",
        ]
        for version in found
    ]
    headers = ["VERSION", "HASH", "CREATED", "TRACES", "P50", "P95", "MEAN COST", "PASS RATE"]
    _print_table(headers, rows, right=frozenset({3, 4, 5, 6, 7}))
    return 0


def _no_function(store: Store, function: str) -> str:
    names = [summary.name for summary in store.functions()]
    close = difflib.get_close_matches(function, names, n=1)
    if close:
        return f"no versions of {function} in {store.path}: did you mean {close[0]}?"
    if names:
        return f"no versions of {function} in {store.path}: its versioned functions are {', '.join(sorted(names))}"
    return (
        f"no versions of {function} in {store.path}: version functions with @lilypad.version() "
        "or lilypad.configure(auto_version=True)"
    )


def _find_version(store: Store, function: str, version: str) -> VersionRecord:
    found = store.version(function, version)
    if found is None:
        known = store.versions(function)
        if not known:
            raise _UserError(_no_function(store, function))
        numbers = ", ".join(summary.version for summary in known)
        raise _UserError(
            f"{function} has no version {version!r}: give a number ({numbers}) or a prefix of a hash "
            f"(lilypad versions {function} lists them)"
        )
    return found


def _diff(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        old = _find_version(store, args.function, args.old)
        new = _find_version(store, args.function, args.new)
    if args.json:
        _print_json([old.to_json(), new.to_json()])
        return 0
    if old.hash == new.hash:
        _say(f"{args.function} {old.version} and {new.version} are the same version ({_short_hash(old.hash)})")
        return 0

    def label(version: VersionRecord, what: str = "") -> str:
        return f"{version.function} {version.version} ({_short_hash(version.hash)}){what}"

    lines = list(
        difflib.unified_diff(
            old.code.splitlines(keepends=True), new.code.splitlines(keepends=True), label(old), label(new)
        )
    )
    if old.dependencies != new.dependencies:
        lines += difflib.unified_diff(
            _dependency_lines(old.dependencies),
            _dependency_lines(new.dependencies),
            label(old, " dependencies"),
            label(new, " dependencies"),
        )
    if not lines:
        _say(f"{label(old)} and {label(new)} have the same code and dependencies")
    for line in lines:
        _say(line.removesuffix("\n"))
    return 0


def _dependency_lines(dependencies: Mapping[str, str]) -> list[str]:
    return [f"{name}=={version}\n" for name, version in sorted(dependencies.items())]


def _annotate(args: argparse.Namespace) -> int:
    with _open_store(args, write=True) as store:
        spans = _trace_spans(store, args.trace_id)
        span_id: str | None = None
        if args.span:
            span_id = args.span.strip().lower()
            if span_id not in {span.span_id for span in spans}:
                raise _UserError(
                    f"trace {spans[0].trace_id} has no span {args.span}: "
                    f"lilypad show {spans[0].trace_id} lists its spans"
                )
        annotation = store.annotate(
            spans[0].trace_id, span_id=span_id, label=args.label, score=args.score, reason=args.reason, source="cli"
        )
    if args.json:
        _print_json([annotation.to_json()])
    else:
        print(f"annotated {annotation.span_id or annotation.trace_id}: {annotation.label}")
    return 0


def _prune(args: argparse.Namespace) -> int:
    if args.before is None and args.keep_last is None:
        raise _UserError("lilypad prune needs --before DATE, --keep-last N or both (see lilypad prune --help)")
    with _open_store(args, write=True) as store:
        if not args.yes:
            doomed = _prune_count(store, args.before, args.keep_last)
            if not doomed:
                print(f"no trace to delete in {store.path}", file=sys.stderr)
                return 0
            question = f"delete {doomed} trace(s) from {store.path} for good"
            if not sys.stdin.isatty():
                raise _UserError(f"prune would {question}: add --yes to go ahead")
            print(f"{question}? [y/N] ", end="", file=sys.stderr, flush=True)
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                print("nothing deleted", file=sys.stderr)
                return 0
        deleted = store.prune(before_ns=args.before, keep_last=args.keep_last)
    if args.json:
        _print_json([{"deleted_traces": deleted}])
    else:
        print(f"deleted {deleted} trace(s)")
    return 0


def _prune_count(store: Store, before_ns: int | None, keep_last: int | None) -> int:
    """How many traces `store.prune` would delete.

    Both conditions select the oldest traces (a trace goes if either holds), so the traces they
    select together are the larger of the two selections.
    """
    older = 0 if before_ns is None else store.trace_count(until_ns=before_ns)
    beyond = 0 if keep_last is None else max(0, store.trace_count() - keep_last)
    return max(older, beyond)


def _export(args: argparse.Namespace) -> int:
    if args.jsonl is not None:
        return _export_jsonl(args)
    return _export_otlp(args)


def _selected_spans(store: Store, args: argparse.Namespace) -> tuple[int, Iterator[SpanRecord]]:
    """How many traces the filters select, and their spans, oldest trace first, each trace's together."""
    # Traces written while the export runs start after now: they neither shift the count nor join.
    until_ns = time.time_ns()
    return (
        store.trace_count(**_filters(args), until_ns=until_ns),
        store.iter_spans(**_filters(args), until_ns=until_ns),
    )


def _export_jsonl(args: argparse.Namespace) -> int:
    with _open_store(args) as store, _output(args.jsonl) as out:
        _, spans = _selected_spans(store, args)
        for span in spans:
            out.write(json.dumps(span.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n")
    return 0


@contextmanager
def _output(name: str) -> Generator[IO[str]]:
    if name == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        out = open(name, "w", encoding="utf-8")  # noqa: SIM115 - closed below, after the error handling
    except OSError as error:
        raise _UserError(f"cannot write {name}: {error.strerror or error}") from None
    try:
        yield out
    finally:
        out.close()


def _export_otlp(args: argparse.Namespace) -> int:
    exporter = _otlp_exporter(args.otlp or None)
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import SpanExportResult

    # The store keeps spans, not the resource they came from: the replay describes itself with
    # the environment's (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).
    resource = Resource.create()
    batch: list[Any] = []
    sent_traces = sent_spans = batched_traces = 0
    try:
        with _open_store(args) as store, _quiet_exporter_log():
            total, spans = _selected_spans(store, args)
            progress = _Progress(total, sys.stderr)

            def send() -> None:
                nonlocal sent_traces, sent_spans
                if exporter.export(batch) is not SpanExportResult.SUCCESS:
                    raise _UserError(
                        f"the OTLP collector did not take the spans ({sent_traces} of {total} trace(s) were sent "
                        "before): check that it is running and that the endpoint (lilypad export --otlp ENDPOINT, "
                        "or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is its traces URL, then export again"
                    )
                sent_traces, sent_spans = batched_traces, sent_spans + len(batch)
                batch.clear()
                progress.update(sent_traces, sent_spans)

            trace_id: str | None = None
            for span in spans:
                if span.trace_id != trace_id:
                    # A batch ends between traces, so a failure leaves no trace half sent.
                    if len(batch) >= _EXPORT_BATCH:
                        send()
                    trace_id = span.trace_id
                    batched_traces += 1
                batch.append(_readable(span, resource))
            if batch:
                send()
            progress.done()
    finally:
        exporter.shutdown()
    if args.json:
        _print_json([{"exported_traces": sent_traces, "exported_spans": sent_spans}])
    else:
        print(f"exported {sent_spans} span(s) of {sent_traces} trace(s) over OTLP")
    return 0


def _otlp_exporter(endpoint: str | None) -> Any:
    try:
        module = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    except ImportError:
        raise _UserError(
            "export --otlp needs the OTLP/HTTP exporter, which mirascope[lilypad] leaves out: "
            'install its otlp extra, pip install "mirascope-lilypad[otlp]"'
        ) from None
    if not endpoint:
        # The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, headers and timeout itself.
        return module.OTLPSpanExporter()
    try:
        path = urlsplit(endpoint).path
    except ValueError:
        raise _UserError(
            "the --otlp endpoint is not a URL: give the collector's traces endpoint, "
            "such as http://127.0.0.1:4318/v1/traces"
        ) from None
    if path in ("", "/"):
        # A collector's address, as OTEL_EXPORTER_OTLP_ENDPOINT takes it: its traces are under /v1/traces.
        endpoint = endpoint.rstrip("/") + "/v1/traces"
    return module.OTLPSpanExporter(endpoint=endpoint)


@contextmanager
def _quiet_exporter_log() -> Generator[None]:
    """Keep the exporter's own error log (with its traceback) off the terminal: the CLI reports the failure."""
    exporter_log = logging.getLogger("opentelemetry.exporter")
    handler = logging.NullHandler()
    propagate = exporter_log.propagate
    exporter_log.addHandler(handler)
    exporter_log.propagate = False
    try:
        yield
    finally:
        exporter_log.propagate = propagate
        exporter_log.removeHandler(handler)


def _readable(record: SpanRecord, resource: Any) -> Any:
    """The stored span as an SDK `ReadableSpan` with its original ids, times, status and events."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

    trace_id = int(record.trace_id, 16)
    flags = TraceFlags(TraceFlags.SAMPLED)
    parent = (
        SpanContext(trace_id, int(record.parent_span_id, 16), is_remote=False, trace_flags=flags)
        if record.parent_span_id
        else None
    )
    code = StatusCode[record.status] if record.status in StatusCode.__members__ else StatusCode.UNSET
    return ReadableSpan(
        name=record.name,
        context=SpanContext(trace_id, int(record.span_id, 16), is_remote=False, trace_flags=flags),
        parent=parent,
        resource=resource,
        attributes=_attribute_values(record.attributes),
        events=[
            Event(
                name=str(event.get("name", "")),
                attributes=_attribute_values(_mapping(event.get("attributes"))),
                timestamp=_event_time(event.get("time_ns"), record.start_ns),
            )
            for event in record.events
        ],
        kind=SpanKind[record.kind] if record.kind in SpanKind.__members__ else SpanKind.INTERNAL,
        status=Status(code, record.status_message if code is StatusCode.ERROR else None),
        start_time=record.start_ns,
        end_time=record.end_ns,
        instrumentation_scope=InstrumentationScope(_INSTRUMENTATION_SCOPE),
    )


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _list(value: object) -> list[Any] | None:
    return value if isinstance(value, list) else None  # pyright: ignore[reportUnknownVariableType]


def _event_time(value: object, default: int) -> int:
    return value if isinstance(value, int) else default


def _attribute_values(attributes: Mapping[str, Any]) -> dict[str, Any]:
    # JSON gave back lists where the span had tuples; OTLP encodes either as an array.
    return {key: value if (listed := _list(value)) is None else tuple(listed) for key, value in attributes.items()}


class _Progress:
    """Export progress on stderr: a bar redrawn in place on a terminal, a plain line per batch otherwise."""

    def __init__(self, total: int, stream: IO[str]) -> None:
        self.total = total
        self.stream = stream
        self.terminal = stream.isatty()

    def update(self, traces: int, spans: int) -> None:
        counts = f"{traces}/{self.total} trace(s), {spans} span(s)"
        if not self.terminal:
            print(f"exported {counts}", file=self.stream, flush=True)
            return
        width = max(10, min(40, shutil.get_terminal_size().columns - len(counts) - 12))
        filled = width * traces // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\rexporting [{bar}] {counts}")
        self.stream.flush()

    def done(self) -> None:
        if self.terminal and self.total:
            self.stream.write("\n")
            self.stream.flush()
