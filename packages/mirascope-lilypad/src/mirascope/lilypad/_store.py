"""The embedded store: spans, versions and annotations in one SQLite file, and the exporter that fills it.

One file (`.lilypad/lilypad.db` by default) in WAL mode, so readers (the CLI, the viewer) never
block the writer and see every committed batch. `StoreSpanExporter` writes from a
`BatchSpanProcessor`'s worker thread, off the path of the call being traced.

Many threads and processes may write at once. Inside a process one lock serializes writers
(SQLite's busy handler sleeps in coarse steps, so letting threads of one process contend
through it wastes most of the time); between processes every write is one `BEGIN IMMEDIATE`
transaction, waited for with `busy_timeout` and then retried for up to `RETRY_SECONDS`, so
"database is locked" never reaches the caller. Readers take a connection from a small pool
and never touch the writers' lock.

The schema has a version (`PRAGMA user_version`) from the first release on; `_MIGRATIONS[n]`
takes a store from version n to n + 1, all of them in one transaction. A store the running
code cannot use (damaged, from a newer release, read-only) raises a `StoreError` subclass
whose message says what to do; the exporter logs it once and tracing goes on without it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

import attrs
from attrs import frozen
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from mirascope import llm

from . import _semconv as sc

__all__ = [
    "DEFAULT_PATH",
    "SCHEMA_VERSION",
    "AnnotationRecord",
    "FunctionSummary",
    "SessionSummary",
    "SpanRecord",
    "Store",
    "StoreArgumentError",
    "StoreBusyError",
    "StoreCorruptError",
    "StoreError",
    "StoreNotFoundError",
    "StoreReadOnlyError",
    "StoreSpanExporter",
    "StoreTooNewError",
    "TraceSummary",
    "VersionRecord",
    "VersionSummary",
]

logger = logging.getLogger("mirascope.lilypad")

DEFAULT_PATH: Final = Path(".lilypad/lilypad.db")
"""Where `lilypad.configure()` keeps the store, relative to the working directory."""

BUSY_TIMEOUT_SECONDS: Final = 5.0
"""How long SQLite itself waits for another connection's lock before reporting it busy."""

RETRY_SECONDS: Final = 60.0
"""How long an operation keeps retrying a busy store before `StoreBusyError`."""

_APPLICATION_ID: Final = 0x4C4C5044  # "LLPD" in the file header: a lilypad store, not any SQLite file
_MAX_IDLE_READERS: Final = 4
_MAX_PARAMETERS: Final = 500  # SQLite before 3.32 allows 999 `?` per statement
_AGGREGATE_OPERATIONS: Final = frozenset({sc.OPERATION_INVOKE_AGENT, "create_agent"})
# Spans that sum their children's usage: a trace's tokens and cost count the calls only.

# Span attributes the derived columns come from (one place for the names: `_semconv`).
_FUNCTION: Final = sc.MIRASCOPE_FUNCTION
_VERSION: Final = sc.MIRASCOPE_VERSION
_VERSION_HASH: Final = sc.MIRASCOPE_VERSION_HASH
_COST: Final = sc.MIRASCOPE_COST_USD
_OPERATION: Final = sc.GEN_AI_OPERATION_NAME
_SESSION: Final = sc.GEN_AI_CONVERSATION_ID
_MODEL: Final = sc.GEN_AI_REQUEST_MODEL
_PROVIDER: Final = sc.GEN_AI_PROVIDER_NAME
_INPUT_TOKENS: Final = sc.GEN_AI_USAGE_INPUT_TOKENS
_OUTPUT_TOKENS: Final = sc.GEN_AI_USAGE_OUTPUT_TOKENS
_TTFC: Final = sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
_ERROR_TYPE: Final = sc.ERROR_TYPE

_T = TypeVar("_T")
_encode_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False, allow_nan=False).encode


class StoreError(llm.Error):
    """The trace store could not be opened, read or written as asked; the message says what to do.

    ```
    StoreError
    ├── StoreCorruptError     the file is not a SQLite database, is damaged, or is not a lilypad store
    ├── StoreTooNewError      a newer mirascope-lilypad wrote it
    ├── StoreReadOnlyError    it (or its directory) cannot be written
    ├── StoreNotFoundError    a read-only open found no file
    ├── StoreBusyError        another connection held its lock past RETRY_SECONDS
    └── StoreArgumentError    an argument the store cannot use (also a ValueError)
    ```
    """


class StoreCorruptError(StoreError):
    """The store file is not a SQLite database, is damaged, or belongs to another program."""


class StoreTooNewError(StoreError):
    """The store was written by a newer mirascope-lilypad, with a schema this one does not know."""


class StoreReadOnlyError(StoreError):
    """The store (or the directory it is in) cannot be written."""


class StoreNotFoundError(StoreError):
    """A read-only open found no store at the path."""


class StoreBusyError(StoreError):
    """Another connection kept the store locked for longer than `RETRY_SECONDS`."""


class StoreArgumentError(StoreError, ValueError):
    """An argument the store cannot use: a bad id, label or version, or nothing to prune."""


# Records ---------------------------------------------------------------------------------------


@frozen(kw_only=True)
class SpanRecord:
    """One finished span as the store keeps it: the span itself plus columns derived for filtering."""

    trace_id: str
    """The trace id, 32 lowercase hex digits."""
    span_id: str
    """The span id, 16 lowercase hex digits."""
    parent_span_id: str | None
    """The parent span's id, or `None` for a root span."""
    name: str
    """The span's name, e.g. `chat gpt-4o` or a traced function's qualified name."""
    kind: str
    """`INTERNAL`, `CLIENT`, `SERVER`, `PRODUCER` or `CONSUMER`."""
    start_ns: int
    """When the span started, nanoseconds since the epoch."""
    end_ns: int
    """When the span ended, nanoseconds since the epoch."""
    status: str
    """`UNSET`, `OK` or `ERROR`."""
    status_message: str | None = None
    """The status description, set with `ERROR`."""
    attributes: dict[str, object] = attrs.field(factory=dict[str, object])
    """Every attribute, JSON-safe: sequences are lists, non-finite floats strings."""
    events: list[dict[str, object]] = attrs.field(factory=list[dict[str, object]])
    """The span's events, each `{"name", "time_ns", "attributes"}`."""
    operation: str | None = None
    """`gen_ai.operation.name`: `chat`, `execute_tool`, `invoke_agent`, ..."""
    function: str | None = None
    """`mirascope.function`: the versioned function's qualified name."""
    version: str | None = None
    """`mirascope.version`, e.g. `"1.2"`."""
    version_hash: str | None = None
    """`mirascope.version_hash`, 64 hex digits."""
    session_id: str | None = None
    """`gen_ai.conversation.id`, set by `lilypad.session()`."""
    model: str | None = None
    """`gen_ai.request.model`."""
    provider: str | None = None
    """`gen_ai.provider.name`."""
    input_tokens: int | None = None
    """`gen_ai.usage.input_tokens`."""
    output_tokens: int | None = None
    """`gen_ai.usage.output_tokens`."""
    cost: float | None = None
    """`mirascope.response.cost_usd`: what the call cost in USD."""
    ttfc: float | None = None
    """`gen_ai.response.time_to_first_chunk`, in seconds."""
    error_type: str | None = None
    """`error.type`: the exception's type name when the span failed."""

    @property
    def duration_ms(self) -> float:
        """How long the span lasted, in milliseconds."""
        return (self.end_ns - self.start_ns) / 1e6

    @classmethod
    def from_readable(cls, span: ReadableSpan) -> SpanRecord:
        """The record of a finished OpenTelemetry SDK span.

        Raises:
            StoreArgumentError: The span has no span context.
        """
        # Through the row the store writes: what is read back equals what this returns.
        return _span_record(_readable_row(span))

    def to_json(self) -> dict[str, object]:
        """The record as JSON data, with `duration_ms` added."""
        data = attrs.asdict(self)
        data["duration_ms"] = self.duration_ms
        return data


@frozen(kw_only=True)
class TraceSummary:
    """One trace in a list of traces: what its spans add up to."""

    trace_id: str
    """The trace id, 32 hex digits."""
    root_name: str
    """The name of the trace's first span (its root, where the root was stored)."""
    start_ns: int
    """When the first span started."""
    end_ns: int
    """When the last span ended."""
    span_count: int
    """How many spans the store holds for the trace."""
    function: str | None = None
    """The outermost versioned function in the trace."""
    version: str | None = None
    """That function's version, e.g. `"1.2"`."""
    version_hash: str | None = None
    """That version's hash."""
    model: str | None = None
    """The first model called."""
    input_tokens: int | None = None
    """Input tokens summed over the trace's model calls, `None` when none reported usage."""
    output_tokens: int | None = None
    """Output tokens summed likewise."""
    cost: float | None = None
    """USD summed over the model calls, `None` when no call's price was known."""
    ttfc: float | None = None
    """The first stream's time to first chunk, in seconds."""
    error: bool = False
    """Whether any span ended with status `ERROR`."""
    session_id: str | None = None
    """The session (`gen_ai.conversation.id`) the trace belongs to."""
    annotation: str | None = None
    """The latest label given to the trace: `"pass"`, `"fail"` or `None`."""

    @property
    def duration_ms(self) -> float:
        """From the first span's start to the last span's end, in milliseconds."""
        return (self.end_ns - self.start_ns) / 1e6

    def to_json(self) -> dict[str, object]:
        """The summary as JSON data, with `duration_ms` added."""
        data = attrs.asdict(self)
        data["duration_ms"] = self.duration_ms
        return data


@frozen(kw_only=True)
class VersionRecord:
    """One version of a function: its number, hash and the code it was made from."""

    function: str
    """The function's qualified name."""
    version: str
    """`"major.minor"`."""
    major: int
    """Bumped when the signature changes."""
    minor: int
    """Bumped on any other change."""
    hash: str
    """The closure hash the version stands for, 64 hex digits."""
    signature: str
    """The function's signature, as the versioning side rendered it."""
    code: str
    """The canonical source of the function and the user code it reaches."""
    dependencies: dict[str, str] = attrs.field(factory=dict[str, str])
    """Library code it reaches: distribution name to installed version."""
    kind: str = "function"
    """What was versioned: `"function"`, `"call"`, `"agent"`, ..."""
    created_ns: int = 0
    """When this version was first recorded."""

    def to_json(self) -> dict[str, object]:
        """The record as JSON data; `name` repeats `function`, as the CLI's `--json` promises."""
        data = attrs.asdict(self)
        data["name"] = self.function
        return data


@frozen(kw_only=True)
class VersionSummary(VersionRecord):
    """A version with what its traces measured.

    A call of the version is a span carrying its function and hash whose parent does not carry
    them too; latencies are those spans' durations. Cost and pass rate are per trace: the
    trace's summed cost, and its latest label.
    """

    call_count: int = 0
    """How many calls of this version the store holds."""
    trace_count: int = 0
    """How many traces contain a call of this version."""
    p50_ms: float | None = None
    """Median call latency, in milliseconds."""
    p95_ms: float | None = None
    """95th-percentile call latency, in milliseconds."""
    mean_cost: float | None = None
    """Mean USD cost of the traces with a known cost."""
    pass_rate: float | None = None
    """Share of labelled traces labelled `"pass"`, `None` when none is labelled."""


@frozen(kw_only=True)
class FunctionSummary:
    """A versioned function with how many versions and traces it has."""

    name: str
    """The function's qualified name."""
    latest_version: str | None
    """Its highest version number, `None` when only spans name it."""
    version_count: int
    """How many versions were recorded."""
    trace_count: int
    """How many traces contain a span of it."""

    def to_json(self) -> dict[str, object]:
        """The summary as JSON data."""
        return attrs.asdict(self)


@frozen(kw_only=True)
class AnnotationRecord:
    """A label, score or reason given to a trace or one of its spans."""

    id: int
    """The annotation's number in the store."""
    trace_id: str
    """The trace annotated."""
    span_id: str | None
    """The span annotated, `None` for the whole trace."""
    label: str | None
    """`"pass"`, `"fail"` or `None`."""
    score: float | None
    """A number, on whatever scale the annotator uses."""
    reason: str | None
    """Why, in the annotator's words."""
    created_ns: int
    """When it was recorded."""
    source: str
    """Where it came from: `"api"`, `"cli"`, `"viewer"`, ..."""

    def to_json(self) -> dict[str, object]:
        """The record as JSON data."""
        return attrs.asdict(self)


@frozen(kw_only=True)
class SessionSummary:
    """A session (`lilypad.session(id=...)`) and the traces in it."""

    session_id: str
    """The session id."""
    trace_count: int
    """How many traces belong to it."""
    first_ns: int
    """When its first trace started."""
    last_ns: int
    """When its last trace ended."""

    def to_json(self) -> dict[str, object]:
        """The summary as JSON data."""
        return attrs.asdict(self)


def _to_json(value: object) -> str:
    try:
        return _encode_json(value)
    except (ValueError, TypeError):
        # NaN or an infinity, which are not JSON (a browser refuses the whole document), or a
        # value of no JSON type: the rare span pays for a second pass.
        return _encode_json(_json_value(value))


def _json_value(value: object) -> object:
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        mapping: Mapping[object, object] = value  # pyright: ignore[reportUnknownVariableType]
        return {str(key): _json_value(item) for key, item in mapping.items()}
    if isinstance(value, Sequence):
        items: Sequence[object] = value  # pyright: ignore[reportUnknownVariableType]
        return [_json_value(item) for item in items]
    return str(value)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value: object) -> int | None:
    return value if type(value) is int else None


def _number(value: object) -> float | None:
    kind = type(value)
    if kind is float or kind is int:
        number = float(value)  # pyright: ignore[reportArgumentType]
        return number if math.isfinite(number) else None
    return None


# Schema ----------------------------------------------------------------------------------------

_SPAN_COLUMNS: Final = (
    "span_id, parent_span_id, name, kind, start_ns, end_ns, status, status_message, "
    "operation, function, version, version_hash, session_id, model, provider, "
    "input_tokens, output_tokens, cost, ttfc, error_type, attributes, events"
)
_INSERT_SPAN: Final = f"INSERT OR IGNORE INTO spans (trace, {_SPAN_COLUMNS}) VALUES ({', '.join('?' * 23)})"
_SELECT_SPANS: Final = (
    "SELECT t.trace_id, "
    + ", ".join(f"s.{column.strip()}" for column in _SPAN_COLUMNS.split(","))
    + " FROM spans s JOIN traces t ON t.id = s.trace"
)
_TRACE_SOURCE_COLUMNS: Final = (
    "trace, parent_span_id, name, start_ns, end_ns, status, operation, function, version, "
    "version_hash, session_id, model, input_tokens, output_tokens, cost, ttfc"
)
# What `_summarize` reads of each span: from the table, or from a `SpanRecord` (`_summary_source`).
_INSERT_TRACE: Final = f"INSERT OR REPLACE INTO traces VALUES ({', '.join('?' * 16)})"
_TRACE_COLUMNS: Final = (
    "t.trace_id, t.root_name, t.start_ns, t.end_ns, t.span_count, t.function, t.version, t.version_hash, "
    "t.model, t.input_tokens, t.output_tokens, t.cost, t.ttfc, t.error, t.session_id"
)
_VERSION_COLUMNS: Final = "function, major, minor, hash, signature, code, dependencies, kind, created_ns"
_ANNOTATION_COLUMNS: Final = "id, trace_id, span_id, label, score, reason, created_ns, source"


def _migrate_to_1(db: sqlite3.Connection) -> None:
    statements = [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
        # One row per trace: its key for the spans, and what its spans add up to, kept up to date
        # by every write (listing traces newest first reads `limit` rows, not every span).
        # Spans refer to a trace by `id`, which grows as traces arrive: their indexes take
        # appends rather than inserts at random trace ids all over the b-tree, which made
        # writes twice as slow.
        """CREATE TABLE traces (
            id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL UNIQUE, start_ns INTEGER NOT NULL,
            end_ns INTEGER NOT NULL, span_count INTEGER NOT NULL, root_name TEXT NOT NULL,
            function TEXT, version TEXT, version_hash TEXT, model TEXT,
            input_tokens INTEGER, output_tokens INTEGER, cost REAL, ttfc REAL,
            error INTEGER NOT NULL, session_id TEXT)""",
        "CREATE INDEX traces_start ON traces (start_ns)",
        "CREATE INDEX traces_session ON traces (session_id, start_ns, end_ns) WHERE session_id IS NOT NULL",
        # One row per span; the columns before `attributes` are derived from it for filtering.
        """CREATE TABLE spans (
            trace INTEGER NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT,
            name TEXT NOT NULL, kind TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
            status TEXT NOT NULL, status_message TEXT,
            operation TEXT, function TEXT, version TEXT, version_hash TEXT, session_id TEXT,
            model TEXT, provider TEXT, input_tokens INTEGER, output_tokens INTEGER, cost REAL, ttfc REAL,
            error_type TEXT, attributes TEXT NOT NULL, events TEXT,
            UNIQUE (trace, span_id))""",
        # Partial indexes: a span without the column costs nothing to insert.
        "CREATE INDEX spans_function ON spans (function, version_hash, trace) WHERE function IS NOT NULL",
        "CREATE INDEX spans_model ON spans (model, trace) WHERE model IS NOT NULL",
        """CREATE TABLE versions (
            function TEXT NOT NULL, hash TEXT NOT NULL, major INTEGER NOT NULL, minor INTEGER NOT NULL,
            signature TEXT NOT NULL, code TEXT NOT NULL, dependencies TEXT NOT NULL, kind TEXT NOT NULL,
            created_ns INTEGER NOT NULL,
            PRIMARY KEY (function, hash), UNIQUE (function, major, minor)) WITHOUT ROWID""",
        # AUTOINCREMENT: an id is never reused once prune has deleted its annotation.
        """CREATE TABLE annotations (
            id INTEGER PRIMARY KEY AUTOINCREMENT, trace_id TEXT NOT NULL, span_id TEXT,
            label TEXT, score REAL, reason TEXT, created_ns INTEGER NOT NULL, source TEXT NOT NULL)""",
        "CREATE INDEX annotations_trace ON annotations (trace_id, id)",
        f"PRAGMA application_id = {_APPLICATION_ID}",
    ]
    for statement in statements:
        db.execute(statement)
    db.execute("INSERT INTO meta VALUES ('created_ns', ?)", (str(time.time_ns()),))


_MIGRATIONS: Final[tuple[Callable[[sqlite3.Connection], None], ...]] = (_migrate_to_1,)
# _MIGRATIONS[n] takes a store from schema version n to n + 1. Append; never edit a released one.

SCHEMA_VERSION: Final = len(_MIGRATIONS)
"""The schema version this release writes (`PRAGMA user_version`)."""


# The store -------------------------------------------------------------------------------------

_open_stores: weakref.WeakSet[Store] = weakref.WeakSet()


def _forget_connections_after_fork() -> None:
    # A SQLite connection must not cross fork(): the child opens its own.
    for store in list(_open_stores):
        store._after_fork()  # pyright: ignore[reportPrivateUsage]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_connections_after_fork)


class Store:
    """Spans, versions and annotations in one SQLite file, safe to share between threads and processes.

    Opening creates the directory and the file (unless `readonly`), switches it to WAL and
    brings its schema up to date. Each write is one transaction; readers see committed writes
    and never wait for them.

    Raises:
        StoreCorruptError: The file is not a SQLite database, is damaged, or is not a lilypad store.
        StoreTooNewError: A newer mirascope-lilypad wrote it.
        StoreReadOnlyError: It cannot be written (and `readonly` is false), or needs migrating and
            `readonly` is true.
        StoreNotFoundError: `readonly` and there is no file.
        StoreError: SQLite could not open it for another reason, named in the message.
    """

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_PATH, *, readonly: bool = False) -> None:
        self.path: Path = Path(os.path.abspath(path))
        """The store file, absolute: a later `chdir` does not move it."""
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a directory: name the store's file, e.g. {self.path / DEFAULT_PATH.name}")
        self.readonly: bool = readonly
        """Whether this handle only reads."""
        self._uri = self.path.as_uri() + ("?mode=ro" if readonly else "?mode=rwc")
        self._write_lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        if readonly:
            self._open_readonly()
        else:
            self._open_writable()
        _open_stores.add(self)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}{', readonly=True' if self.readonly else ''})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection; the store cannot be used afterwards."""
        with self._write_lock, self._pool_lock:
            self._closed = True
            connections = [*self._idle, *([self._writer] if self._writer is not None else [])]
            self._idle, self._writer = [], None
        for db in connections:
            db.close()
        _open_stores.discard(self)

    # Opening -----------------------------------------------------------------------------------

    def _open_writable(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreReadOnlyError(
                f"cannot create the directory {self.path.parent} for the lilypad store ({error.strerror}): "
                "make it writable, or give lilypad.configure(store=...) a writable path "
                "(store=None traces without a store)"
            ) from None
        if not _writable(self.path):
            raise self._read_only_error()
        db = self._writer = self._connect()
        try:
            version = self._retrying(lambda: _check_header(db, self.path), "opening it")
            if version < SCHEMA_VERSION:
                self._retrying(lambda: self._in_transaction(db, self._migrate), "creating its tables")
            mode = self._retrying(lambda: db.execute("PRAGMA journal_mode").fetchone()[0], "opening it")
            if str(mode).lower() != "wal":
                # Persistent in the file: set once, by whichever process opens it first.
                self._retrying(lambda: db.execute("PRAGMA journal_mode = WAL").fetchone(), "switching it to WAL")
        except BaseException:
            db.close()
            raise

    def _migrate(self, db: sqlite3.Connection) -> None:
        # Read again inside the write lock: another process may have migrated meanwhile.
        version = _check_header(db, self.path)
        for migration in _MIGRATIONS[version:]:
            migration(db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _open_readonly(self) -> None:
        if not self.path.is_file():
            raise StoreNotFoundError(
                f"there is no lilypad store at {self.path}: run a program that calls lilypad.configure() "
                "from this directory first, or name the store's path"
            )
        db = self._connect()
        try:
            version = self._retrying(lambda: _check_header(db, self.path), "opening it")
        except StoreError as error:
            db.close()
            if not isinstance(error, StoreReadOnlyError):
                raise
            # A WAL store in a directory we cannot write has no `-shm` file to share: read the
            # file as it stands (what is still only in its `-wal` file is not seen).
            self._uri = self.path.as_uri() + "?mode=ro&immutable=1"
            db = self._connect()
            try:
                version = self._retrying(lambda: _check_header(db, self.path), "opening it")
            except BaseException:
                db.close()
                raise
        if version < SCHEMA_VERSION:
            db.close()
            raise StoreReadOnlyError(
                f"the lilypad store {self.path} has schema version {version} and needs updating to "
                f"{SCHEMA_VERSION}, which a read-only open cannot do: open it once writable (any lilypad "
                "command, or a program calling lilypad.configure())"
            )
        self._idle.append(db)

    def _connect(self) -> sqlite3.Connection:
        try:
            # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), not the module's.
            # check_same_thread=False: a connection moves between threads, used by one at a time.
            db = sqlite3.connect(
                self._uri,
                uri=True,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            raise self._translate(error, "opening it") from None
        if not self.readonly:
            try:
                self._retrying(lambda: _tune_writable(db), "opening it")
            except StoreError:
                db.close()
                raise
        return db

    def _read_only_error(self) -> StoreReadOnlyError:
        return StoreReadOnlyError(
            f"the lilypad store {self.path} is read-only: make it and its directory writable "
            f"(chmod u+w), give lilypad.configure(store=...) another path (store=None traces without "
            f"a store), or open it with Store(..., readonly=True) to read it"
        )

    def _after_fork(self) -> None:
        # The parent's connections and locks are the parent's: abandon them unclosed (closing
        # would release the parent's locks and checkpoint under it).
        self._write_lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._writer = None
        self._idle = []

    # Running operations ------------------------------------------------------------------------

    def _retrying(self, operation: Callable[[], _T], doing: str) -> _T:
        deadline: float | None = None
        delay = 0.002
        while True:
            try:
                return operation()
            except sqlite3.Error as error:
                if not _is_busy(error):
                    raise self._translate(error, doing) from None
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + RETRY_SECONDS
                if now >= deadline:
                    raise StoreBusyError(
                        f"the lilypad store {self.path} stayed locked by another connection for "
                        f"{RETRY_SECONDS:.0f} s while {doing}: a process is holding a write transaction open "
                        "(an sqlite3 shell?); end it, or use another store file"
                    ) from None
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 0.1)

    @staticmethod
    def _in_transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], _T]) -> _T:
        # IMMEDIATE takes the write lock up front, where busy_timeout applies; a deferred
        # transaction that reads first fails at once (SQLITE_BUSY_SNAPSHOT) when it must write.
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return result

    def _write(self, work: Callable[[sqlite3.Connection], _T], doing: str) -> _T:
        if self.readonly:
            raise StoreReadOnlyError(
                f"this handle on the lilypad store {self.path} was opened with readonly=True: "
                "open another without it to write"
            )
        with self._write_lock:
            if self._closed:
                raise self._closed_error()
            if self._writer is None:
                self._writer = self._connect()
            db = self._writer
            return self._retrying(lambda: self._in_transaction(db, work), doing)

    def _read(self, work: Callable[[sqlite3.Connection], _T], doing: str) -> _T:
        with self._pool_lock:
            if self._closed:
                raise self._closed_error()
            db = self._idle.pop() if self._idle else None
        if db is None:
            db = self._connect()
        opened = db
        try:
            result = self._retrying(lambda: work(opened), doing)
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.close()
            raise
        with self._pool_lock:
            if not self._closed and len(self._idle) < _MAX_IDLE_READERS:
                self._idle.append(db)
                db = None
        if db is not None:
            db.close()
        return result

    def _snapshot(self, work: Callable[[sqlite3.Connection], _T], doing: str) -> _T:
        """`work`'s queries, all seeing the same committed state."""

        def read(db: sqlite3.Connection) -> _T:
            db.execute("BEGIN")
            try:
                return work(db)
            finally:
                db.execute("COMMIT")

        return self._read(read, doing)

    def _closed_error(self) -> StoreError:
        return StoreError(f"the lilypad store {self.path} was closed: open a new Store to use it")

    def _translate(self, error: sqlite3.Error, doing: str) -> StoreError:
        code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
        detail = str(error)
        if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return StoreCorruptError(
                f"the lilypad store {self.path} is damaged or not a SQLite database ({detail}): move it "
                f"aside (sqlite3 can .recover what it holds) and a new one is made on the next run, or give "
                f"lilypad.configure(store=...) another path"
            )
        if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM) or (
            code == sqlite3.SQLITE_CANTOPEN and self.path.exists()
        ):
            return self._read_only_error()
        if code == sqlite3.SQLITE_FULL:
            return StoreError(
                f"the disk holding the lilypad store {self.path} is full while {doing}: free space, "
                "or delete old traces with `lilypad prune`"
            )
        if code == sqlite3.SQLITE_CANTOPEN:
            return StoreError(
                f"cannot open the lilypad store {self.path} ({detail}): check that its directory exists "
                "and is writable, or give lilypad.configure(store=...) another path"
            )
        return StoreError(f"the lilypad store {self.path} failed while {doing}: {detail}")

    # Writes ------------------------------------------------------------------------------------

    def write_spans(self, spans: Sequence[SpanRecord]) -> None:
        """Store finished spans in one transaction; a span already stored is kept as it was."""
        self._write_rows([_span_row(span) for span in spans])

    def _write_rows(self, rows: Sequence[tuple[object, ...]]) -> None:
        """`write_spans` for rows as `_span_row` and `_readable_row` make them."""
        if rows:
            self._write(lambda db: _insert_spans(db, rows), f"writing {len(rows)} span(s)")

    def record_version(
        self,
        function: str,
        hash: str,
        signature: str,
        code: str,
        dependencies: Mapping[str, str],
        *,
        kind: str = "function",
    ) -> VersionRecord:
        """The version of `function` that `hash` stands for, numbered now if it is new.

        The same hash gets its existing number. A new hash whose signature differs from the
        newest version's starts a new major version (`(max major + 1).0`); otherwise it is the
        next minor of the newest major. The first version is `1.0`. Numbering happens in one
        transaction, so processes recording at once get distinct, consistent numbers.

        Raises:
            StoreArgumentError: `hash` is not 64 hex digits, or `function` is empty.
        """
        hash = hash.lower()
        if not re.fullmatch(r"[0-9a-f]{64}", hash):
            raise StoreArgumentError(f"a version hash is 64 hex digits (a sha256), not {hash[:80]!r}")
        if not function:
            raise StoreArgumentError("record_version needs the function's name")
        dependencies_json = _encode_json(dict(sorted(dependencies.items())))

        def record(db: sqlite3.Connection) -> VersionRecord:
            row = db.execute(
                f"SELECT {_VERSION_COLUMNS} FROM versions WHERE function = ? AND hash = ?", (function, hash)
            ).fetchone()
            if row is not None:
                return _version(row)
            newest = db.execute(
                "SELECT major, minor, signature FROM versions WHERE function = ? ORDER BY major DESC, minor DESC "
                "LIMIT 1",
                (function,),
            ).fetchone()
            if newest is None:
                major, minor = 1, 0
            elif newest[2] != signature:
                major, minor = newest[0] + 1, 0
            else:
                major, minor = newest[0], newest[1] + 1
            row = (function, major, minor, hash, signature, code, dependencies_json, kind, time.time_ns())
            db.execute(f"INSERT INTO versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            return _version(row)

        return self._write(record, f"recording a version of {function}")

    def annotate(
        self,
        trace_id: str,
        *,
        span_id: str | None = None,
        label: str | None = None,
        score: float | None = None,
        reason: str | None = None,
        source: str = "api",
    ) -> AnnotationRecord:
        """Record a label, score or reason for a trace (or one of its spans).

        The trace need not be stored yet: an annotation made right after a call, while its
        spans wait in the export queue, joins them when they arrive.

        Raises:
            StoreArgumentError: A malformed id, a label other than `"pass"`/`"fail"`, a score
                that is not a finite number, or none of label, score and reason.
        """
        trace_id = _hex_id(trace_id, 32, "trace")
        span_id = _hex_id(span_id, 16, "span") if span_id is not None else None
        if label is not None and label not in ("pass", "fail"):
            raise StoreArgumentError(f'a label is "pass" or "fail", not {label!r}')
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise StoreArgumentError(f"a score is a finite number, not {score!r}")
            score = float(score)
        if label is None and score is None and not reason:
            raise StoreArgumentError("an annotation needs a label, a score or a reason")
        created = time.time_ns()

        def write(db: sqlite3.Connection) -> AnnotationRecord:
            cursor = db.execute(
                "INSERT INTO annotations (trace_id, span_id, label, score, reason, created_ns, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (trace_id, span_id, label, score, reason, created, source),
            )
            assert cursor.lastrowid is not None
            return AnnotationRecord(
                id=cursor.lastrowid,
                trace_id=trace_id,
                span_id=span_id,
                label=label,
                score=score,
                reason=reason,
                created_ns=created,
                source=source,
            )

        return self._write(write, "annotating a trace")

    def prune(self, *, before_ns: int | None = None, keep_last: int | None = None) -> int:
        """Delete whole traces, with their spans and annotations; returns how many traces went.

        A trace goes if it started before `before_ns`, or if it is not among the `keep_last`
        newest; with both, either condition prunes it. Versions are kept.

        Raises:
            StoreArgumentError: Neither argument was given, or `keep_last` is negative.
        """
        if before_ns is None and keep_last is None:
            raise StoreArgumentError("prune needs before_ns or keep_last: say which traces to delete")
        if keep_last is not None and keep_last < 0:
            raise StoreArgumentError(f"keep_last is a count of traces to keep, not {keep_last}")
        conditions: list[str] = []
        parameters: list[int] = []
        if before_ns is not None:
            conditions.append("start_ns < ?")
            parameters.append(before_ns)
        if keep_last is not None:
            conditions.append("id NOT IN (SELECT id FROM traces ORDER BY start_ns DESC, id DESC LIMIT ?)")
            parameters.append(keep_last)

        def delete(db: sqlite3.Connection) -> int:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL)")
            db.execute("DELETE FROM temp.doomed")
            db.execute(
                f"INSERT INTO temp.doomed SELECT id, trace_id FROM traces WHERE {' OR '.join(conditions)}", parameters
            )
            (count,) = db.execute("SELECT count(*) FROM temp.doomed").fetchone()
            if count:
                db.execute("DELETE FROM spans WHERE trace IN (SELECT id FROM temp.doomed)")
                db.execute("DELETE FROM annotations WHERE trace_id IN (SELECT trace_id FROM temp.doomed)")
                db.execute("DELETE FROM traces WHERE id IN (SELECT id FROM temp.doomed)")
            db.execute("DELETE FROM temp.doomed")
            return int(count)

        return self._write(delete, "pruning traces")

    # Reads -------------------------------------------------------------------------------------

    def traces(
        self,
        *,
        function: str | None = None,
        version: str | None = None,
        model: str | None = None,
        errors: bool | None = None,
        session: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[TraceSummary]:
        """Traces, newest first, that match every filter given.

        Args:
            function: Traces containing a span of this versioned function.
            version: With `function`, its version as `"1.2"` or a hash prefix (at least 4 hex
                digits); alone, any function's version of that number or hash prefix.
            model: Traces that called this model (`gen_ai.request.model`).
            errors: `True` for traces with a failed span, `False` for those without.
            session: Traces of this session id.
            since_ns: Traces that started at or after this time (ns since the epoch).
            until_ns: Traces that started before this time.
            limit: At most this many.
            offset: Skip this many first, for paging.

        Raises:
            StoreArgumentError: `version` is neither `X.Y` nor a hash prefix, or matches several.
        """

        def read(db: sqlite3.Connection) -> list[TraceSummary]:
            where, parameters = _trace_filter(
                db, function, version, model, errors, session, since_ns, until_ns, self.path
            )
            rows = db.execute(
                f"SELECT {_TRACE_COLUMNS} FROM traces t {where} ORDER BY t.start_ns DESC, t.id DESC LIMIT ? OFFSET ?",
                [*parameters, max(limit, 0), max(offset, 0)],
            ).fetchall()
            # Labels for the page only: in the query, SQLite would look them up for every match
            # before sorting.
            labels = _latest_labels(db, [row[0] for row in rows])
            return [_trace_summary(row, labels.get(row[0])) for row in rows]

        return self._snapshot(read, "listing traces")

    def trace_count(
        self,
        *,
        function: str | None = None,
        version: str | None = None,
        model: str | None = None,
        errors: bool | None = None,
        session: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
    ) -> int:
        """How many traces `traces()` would list with these filters and no limit."""

        def read(db: sqlite3.Connection) -> int:
            where, parameters = _trace_filter(
                db, function, version, model, errors, session, since_ns, until_ns, self.path
            )
            return int(db.execute(f"SELECT count(*) FROM traces t {where}", parameters).fetchone()[0])

        return self._snapshot(read, "counting traces")

    def span_count(self) -> int:
        """How many spans the store holds."""
        return self._read(lambda db: int(db.execute("SELECT count(*) FROM spans").fetchone()[0]), "counting spans")

    def trace(self, trace_id: str) -> list[SpanRecord] | None:
        """The spans of one trace, by start time; `None` when the store has none of it."""
        trace_id = trace_id.strip().lower()

        def read(db: sqlite3.Connection) -> list[SpanRecord]:
            rows = db.execute(
                f"{_SELECT_SPANS} WHERE t.trace_id = ? ORDER BY s.start_ns, s.rowid", (trace_id,)
            ).fetchall()
            return [_span_record(row) for row in rows]

        spans = self._read(read, "reading a trace")
        return spans or None

    def iter_spans(
        self,
        *,
        function: str | None = None,
        version: str | None = None,
        model: str | None = None,
        errors: bool | None = None,
        session: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
    ) -> Iterator[SpanRecord]:
        """Every span of the traces `traces()` would list, oldest trace first, a trace's spans together.

        Reads in chunks of traces, each a short read of its own: an export of a large store
        neither holds a read open for long nor loads it whole.
        """
        after: tuple[int, str] | None = None
        while True:
            keys, rows = self._snapshot(
                lambda db, after=after: _span_chunk(
                    db,
                    _trace_filter(db, function, version, model, errors, session, since_ns, until_ns, self.path),
                    after,
                ),
                "exporting spans",
            )
            if not keys:
                return
            by_trace: dict[str, list[SpanRecord]] = {key[2]: [] for key in keys}
            for row in rows:
                by_trace[row[0]].append(_span_record(row))
            for spans in by_trace.values():
                yield from spans
            after = (keys[-1][0], keys[-1][1])

    def functions(self) -> list[FunctionSummary]:
        """Every versioned function, by name: its versions and traces."""

        def read(db: sqlite3.Connection) -> list[FunctionSummary]:
            counts: dict[str, list[Any]] = {}
            for name, major, minor in db.execute("SELECT function, major, minor FROM versions"):
                entry = counts.setdefault(name, [None, 0, 0])
                if entry[0] is None or (major, minor) > entry[0]:
                    entry[0] = (major, minor)
                entry[1] += 1
            for name, traces in db.execute(
                "SELECT function, count(DISTINCT trace) FROM spans WHERE function IS NOT NULL GROUP BY function"
            ):
                counts.setdefault(name, [None, 0, 0])[2] = traces
            return [
                FunctionSummary(
                    name=name,
                    latest_version=f"{latest[0]}.{latest[1]}" if latest is not None else None,
                    version_count=version_count,
                    trace_count=trace_count,
                )
                for name, (latest, version_count, trace_count) in sorted(counts.items())
            ]

        return self._snapshot(read, "listing functions")

    def versions(self, function: str) -> list[VersionSummary]:
        """The versions of `function`, oldest first, with what their traces measured."""

        def read(db: sqlite3.Connection) -> list[VersionSummary]:
            records = [
                _version(row)
                for row in db.execute(
                    f"SELECT {_VERSION_COLUMNS} FROM versions WHERE function = ? ORDER BY major, minor", (function,)
                )
            ]
            if not records:
                return []
            # A call is a span of the version whose parent is not one too (the versioning side
            # may mark a function's inner spans as well).
            calls = db.execute(
                "SELECT s.version_hash, s.trace, s.end_ns - s.start_ns FROM spans s "
                "LEFT JOIN spans p ON p.trace = s.trace AND p.span_id = s.parent_span_id "
                "WHERE s.function = ? AND (p.function IS NOT s.function OR p.version_hash IS NOT s.version_hash)",
                (function,),
            ).fetchall()
            outcomes = {
                row[0]: (row[1], row[2])
                for row in db.execute(
                    "SELECT t.id, t.cost, (SELECT a.label FROM annotations a WHERE a.trace_id = t.trace_id "
                    "AND a.label IS NOT NULL ORDER BY a.id DESC LIMIT 1) "
                    "FROM traces t WHERE t.id IN (SELECT trace FROM spans WHERE function = ?)",
                    (function,),
                )
            }
            durations: dict[str, list[int]] = {}
            traces: dict[str, set[int]] = {}
            for version_hash, trace, duration in calls:
                durations.setdefault(version_hash, []).append(duration)
                traces.setdefault(version_hash, set()).add(trace)
            return [
                _version_summary(record, durations.get(record.hash, []), traces.get(record.hash, set()), outcomes)
                for record in records
            ]

        return self._snapshot(read, f"listing the versions of {function}")

    def version(self, function: str, version: str) -> VersionRecord | None:
        """One version of `function`, by number (`"1.0"`) or hash prefix (at least 4 hex digits).

        Raises:
            StoreArgumentError: `version` is neither, or the prefix matches several versions.
        """
        return self._read(lambda db: _find_version(db, function, version, self.path), "reading a version")

    def annotations(self, trace_id: str) -> list[AnnotationRecord]:
        """The annotations of one trace, oldest first."""
        trace_id = trace_id.strip().lower()

        def read(db: sqlite3.Connection) -> list[AnnotationRecord]:
            rows = db.execute(
                f"SELECT {_ANNOTATION_COLUMNS} FROM annotations WHERE trace_id = ? ORDER BY id", (trace_id,)
            ).fetchall()
            return [_annotation(row) for row in rows]

        return self._read(read, "reading annotations")

    def sessions(self) -> list[SessionSummary]:
        """Every session, the most recently active first."""

        def read(db: sqlite3.Connection) -> list[SessionSummary]:
            rows = db.execute(
                "SELECT session_id, count(*), min(start_ns), max(end_ns) FROM traces WHERE session_id IS NOT NULL "
                "GROUP BY session_id ORDER BY max(end_ns) DESC, session_id"
            ).fetchall()
            return [
                SessionSummary(session_id=row[0], trace_count=row[1], first_ns=row[2], last_ns=row[3]) for row in rows
            ]

        return self._read(read, "listing sessions")


# Helpers ---------------------------------------------------------------------------------------


def _writable(path: Path) -> bool:
    """Whether the store at `path` may be written: SQLite would quietly open it read-only otherwise.

    The mode bits count even for root, whom the kernel lets write anything: a store made
    read-only on purpose stays so.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return os.access(path.parent, os.W_OK | os.X_OK)
    except OSError:
        return False
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(path, os.W_OK)


def _tune_writable(db: sqlite3.Connection) -> None:
    # WAL with synchronous=NORMAL syncs at checkpoints only: a power cut may lose the last
    # batches, never the file.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA journal_size_limit = 33554432")
    # Checkpoints sync the file; one per 4000 pages rather than 1000 took 40% off the time to
    # commit a batch (benchmarks/bench_store.py).
    db.execute("PRAGMA wal_autocheckpoint = 4000")


def _check_header(db: sqlite3.Connection, path: Path) -> int:
    """The store's schema version, once it is known to be a lilypad store this release can read."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    application = int(db.execute("PRAGMA application_id").fetchone()[0])
    foreign = application not in (0, _APPLICATION_ID) or (
        application == 0 and version == 0 and db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    )
    if foreign:
        raise StoreCorruptError(
            f"{path} is a SQLite database of another program, not a lilypad store: give "
            "lilypad.configure(store=...) another path"
        )
    if version > SCHEMA_VERSION:
        raise StoreTooNewError(
            f"the lilypad store {path} has schema version {version}, written by a newer mirascope-lilypad "
            f"than this one (which knows up to {SCHEMA_VERSION}): upgrade mirascope-lilypad "
            "(pip install -U mirascope-lilypad), or give lilypad.configure(store=...) another path"
        )
    return version


def _is_busy(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    message = str(error)
    return "locked" in message or "busy" in message


def _hex_id(value: str, digits: int, what: str) -> str:
    normalized = value.strip().lower()
    if not re.fullmatch(f"[0-9a-f]{{{digits}}}", normalized):
        raise StoreArgumentError(f"a {what} id is {digits} hex digits, not {value[:80]!r}")
    return normalized


def _span_row(span: SpanRecord) -> tuple[object, ...]:
    """The record as the store's row: the `_SELECT_SPANS` columns, trace id first."""
    return (
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        span.name,
        span.kind,
        span.start_ns,
        span.end_ns,
        span.status,
        span.status_message,
        span.operation,
        span.function,
        span.version,
        span.version_hash,
        span.session_id,
        span.model,
        span.provider,
        span.input_tokens,
        span.output_tokens,
        span.cost,
        span.ttfc,
        span.error_type,
        _to_json(span.attributes),
        _to_json(span.events) if span.events else None,
    )


def _readable_row(span: ReadableSpan) -> tuple[object, ...]:
    """`_span_row(SpanRecord.from_readable(span))`, without the record in between.

    This runs for every span in the batch worker, holding the GIL the application's threads
    need: building the row directly takes half the time of building the record first.
    """
    context = span.context
    if context is None:
        raise StoreArgumentError(f"the span {span.name!r} has no span context: only SDK spans can be stored")
    source = span.attributes
    # A dict, as JSON needs; the SDK's attributes are a read-only mapping of their own.
    attributes = {key: source[key] for key in source} if source else {}
    get = attributes.get
    parent = span.parent
    status = span.status
    start = span.start_time or 0
    end = span.end_time
    events = span.events
    return (
        format(context.trace_id, "032x"),
        format(context.span_id, "016x"),
        format(parent.span_id, "016x") if parent is not None else None,
        span.name,
        span.kind.name,
        start,
        end if end is not None else start,
        status.status_code.name,
        status.description or None,
        _text(get(_OPERATION)),
        _text(get(_FUNCTION)),
        _text(get(_VERSION)),
        _text(get(_VERSION_HASH)),
        _text(get(_SESSION)),
        _text(get(_MODEL)),
        _text(get(_PROVIDER)),
        _integer(get(_INPUT_TOKENS)),
        _integer(get(_OUTPUT_TOKENS)),
        _number(get(_COST)),
        _number(get(_TTFC)),
        _text(get(_ERROR_TYPE)),
        _to_json(attributes),
        _to_json([_event(event) for event in events]) if events else None,
    )


def _event(event: Event) -> dict[str, object]:
    source = event.attributes
    attributes = {key: source[key] for key in source} if source else {}
    return {"name": event.name, "time_ns": event.timestamp, "attributes": attributes}


def _span_record(row: Sequence[Any]) -> SpanRecord:
    return SpanRecord(
        trace_id=row[0],
        span_id=row[1],
        parent_span_id=row[2],
        name=row[3],
        kind=row[4],
        start_ns=row[5],
        end_ns=row[6],
        status=row[7],
        status_message=row[8],
        operation=row[9],
        function=row[10],
        version=row[11],
        version_hash=row[12],
        session_id=row[13],
        model=row[14],
        provider=row[15],
        input_tokens=row[16],
        output_tokens=row[17],
        cost=row[18],
        ttfc=row[19],
        error_type=row[20],
        attributes=json.loads(row[21]),
        events=json.loads(row[22]) if row[22] else [],
    )


def _insert_spans(db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert span rows (`_span_row`) and bring their traces' rows up to date."""
    trace_ids: list[str] = list(dict.fromkeys(row[0] for row in rows))
    keys: dict[str, int] = {}
    for start in range(0, len(trace_ids), _MAX_PARAMETERS):
        chunk = trace_ids[start : start + _MAX_PARAMETERS]
        keys.update(
            db.execute(f"SELECT trace_id, id FROM traces WHERE trace_id IN ({', '.join('?' * len(chunk))})", chunk)
        )
    stored = list(keys.values())
    # Inside the write transaction, so no other writer takes the same keys.
    next_key = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM traces").fetchone()[0])
    fresh: dict[int, dict[str, tuple[Any, ...]]] = {}
    for trace_id in trace_ids:
        if trace_id not in keys:
            keys[trace_id] = next_key
            fresh[next_key] = {}
            next_key += 1
    keyed: list[tuple[Any, ...]] = [(keys[row[0]], *row[1:]) for row in rows]
    db.executemany(_INSERT_SPAN, keyed)
    # A new trace's spans are all in this batch; a stored one's are read back, all of them.
    for row in keyed:
        if (sources := fresh.get(row[0])) is not None:
            sources[row[1]] = _summary_source(row)  # by span id: a span given twice counts once
    grouped: dict[int, list[Any]] = {key: list(sources.values()) for key, sources in fresh.items()}
    for start in range(0, len(stored), _MAX_PARAMETERS):
        chunk = stored[start : start + _MAX_PARAMETERS]
        for row in db.execute(
            f"SELECT {_TRACE_SOURCE_COLUMNS} FROM spans WHERE trace IN ({', '.join('?' * len(chunk))})", chunk
        ):
            grouped.setdefault(row[0], []).append(row)
    trace_ids_by_key = {key: trace_id for trace_id, key in keys.items()}
    db.executemany(_INSERT_TRACE, [_summarize(key, trace_ids_by_key[key], rows) for key, rows in grouped.items()])


def _summary_source(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The `_TRACE_SOURCE_COLUMNS` of an `_INSERT_SPAN` row."""
    return (row[0], row[2], row[3], *row[5:8], *row[9:15], *row[16:20])


def _summarize(key: int, trace_id: str, rows: list[Any]) -> tuple[object, ...]:
    """A `traces` row from the `_TRACE_SOURCE_COLUMNS` rows of all of a trace's spans."""
    # The root is the first span to start; of spans starting together, one without a parent.
    rows.sort(key=lambda row: (row[3], row[1] is not None))
    function = version = version_hash = model = session = None
    input_tokens = output_tokens = None
    costs: list[float] = []
    ttfc = None
    error = 0
    end = rows[0][4]
    for row in rows:
        end = max(end, row[4])
        if row[5] == "ERROR":
            error = 1
        if function is None and row[7] is not None:
            function, version, version_hash = row[7], row[8], row[9]
        session = session if session is not None else row[10]
        model = model if model is not None else row[11]
        if row[6] in _AGGREGATE_OPERATIONS:
            continue
        ttfc = ttfc if ttfc is not None else row[15]
        if row[12] is not None:
            input_tokens = (input_tokens or 0) + row[12]
        if row[13] is not None:
            output_tokens = (output_tokens or 0) + row[13]
        if row[14] is not None:
            costs.append(row[14])
    root = rows[0]
    summary = (key, trace_id, root[3], end, len(rows), root[2], function, version, version_hash, model)
    cost = math.fsum(costs) if costs else None
    return (*summary, input_tokens, output_tokens, cost, ttfc, error, session)


def _latest_labels(db: sqlite3.Connection, trace_ids: Sequence[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for start in range(0, len(trace_ids), _MAX_PARAMETERS):
        chunk = trace_ids[start : start + _MAX_PARAMETERS]
        labels.update(
            db.execute(
                f"SELECT trace_id, label FROM annotations WHERE trace_id IN ({', '.join('?' * len(chunk))}) "
                "AND label IS NOT NULL ORDER BY id",  # the latest of a trace's labels is the last one set
                chunk,
            )
        )
    return labels


def _trace_summary(row: Sequence[Any], annotation: str | None) -> TraceSummary:
    return TraceSummary(
        trace_id=row[0],
        root_name=row[1],
        start_ns=row[2],
        end_ns=row[3],
        span_count=row[4],
        function=row[5],
        version=row[6],
        version_hash=row[7],
        model=row[8],
        input_tokens=row[9],
        output_tokens=row[10],
        cost=row[11],
        ttfc=row[12],
        error=bool(row[13]),
        session_id=row[14],
        annotation=annotation,
    )


def _trace_filter(
    db: sqlite3.Connection,
    function: str | None,
    version: str | None,
    model: str | None,
    errors: bool | None,
    session: str | None,
    since_ns: int | None,
    until_ns: int | None,
    path: Path,
) -> tuple[str, list[Any]]:
    """The WHERE clause over `traces t` for `Store.traces()`'s filters, with its parameters."""
    conditions: list[str] = []
    parameters: list[Any] = []
    # `+t.id IN (...)`: the `+` keeps SQLite from driving the query by the matching traces
    # (then sorting them all); it walks traces newest first and stops at `limit`, 6x faster at
    # 100k spans for a filter matching a quarter of them, and never worse than one pass.
    if function is not None and version is not None:
        record = _find_version(db, function, version, path)
        if record is not None:
            conditions.append("+t.id IN (SELECT trace FROM spans WHERE function = ? AND version_hash = ?)")
            parameters += [function, record.hash]
        else:
            conditions.append("+t.id IN (SELECT trace FROM spans WHERE function = ? AND version = ?)")
            parameters += [function, version]
    elif function is not None:
        conditions.append("+t.id IN (SELECT trace FROM spans WHERE function = ?)")
        parameters.append(function)
    elif version is not None:
        number, prefix = _version_key(version)
        if number is not None:
            conditions.append("+t.id IN (SELECT trace FROM spans WHERE function IS NOT NULL AND version = ?)")
            parameters.append(f"{number[0]}.{number[1]}")
        else:
            conditions.append(
                "+t.id IN (SELECT trace FROM spans WHERE function IS NOT NULL AND substr(version_hash, 1, ?) = ?)"
            )
            parameters += [len(prefix), prefix]
    if model is not None:
        conditions.append("+t.id IN (SELECT trace FROM spans WHERE model = ?)")
        parameters.append(model)
    if errors is not None:
        conditions.append("t.error = ?")
        parameters.append(1 if errors else 0)
    if session is not None:
        conditions.append("t.session_id = ?")
        parameters.append(session)
    if since_ns is not None:
        conditions.append("t.start_ns >= ?")
        parameters.append(since_ns)
    if until_ns is not None:
        conditions.append("t.start_ns < ?")
        parameters.append(until_ns)
    return ("WHERE " + " AND ".join(conditions) if conditions else ""), parameters


def _span_chunk(
    db: sqlite3.Connection, trace_filter: tuple[str, list[Any]], after: tuple[int, str] | None
) -> tuple[list[Any], list[Any]]:
    """The next traces' (start, key, trace id) after `after` in time order, and their spans' rows."""
    where, parameters = trace_filter
    if after is not None:
        where = f"{where} {'AND' if where else 'WHERE'} (t.start_ns, t.id) > (?, ?)"
        parameters = [*parameters, *after]
    keys = db.execute(
        f"SELECT t.start_ns, t.id, t.trace_id FROM traces t {where} ORDER BY t.start_ns, t.id LIMIT ?",
        [*parameters, _MAX_PARAMETERS],
    ).fetchall()
    if not keys:
        return [], []
    ids = [key[1] for key in keys]
    rows = db.execute(
        f"{_SELECT_SPANS} WHERE s.trace IN ({', '.join('?' * len(ids))}) ORDER BY s.trace, s.start_ns, s.rowid", ids
    ).fetchall()
    return keys, rows


def _version_key(version: str) -> tuple[tuple[int, int] | None, str]:
    """`("1.2")` -> ((1, 2), ""); a hash prefix -> (None, prefix)."""
    text = version.strip().lower()
    if match := re.fullmatch(r"(\d+)\.(\d+)", text):
        return (int(match[1]), int(match[2])), ""
    if re.fullmatch(r"[0-9a-f]{4,64}", text):
        return None, text
    raise StoreArgumentError(
        f'a version is a number such as "1.2" or at least 4 hex digits of its hash, not {version!r}'
    )


def _find_version(db: sqlite3.Connection, function: str, version: str, path: Path) -> VersionRecord | None:
    number, prefix = _version_key(version)
    if number is not None:
        rows = db.execute(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE function = ? AND major = ? AND minor = ?",
            (function, *number),
        ).fetchall()
    else:
        rows = db.execute(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE function = ? AND hash >= ? AND hash < ? "
            "ORDER BY major, minor LIMIT 6",
            (function, prefix, prefix + "g"),  # "g" sorts after every hex digit
        ).fetchall()
    if len(rows) > 1:
        matches = ", ".join(f"{row[1]}.{row[2]} ({row[3][:12]})" for row in rows[:5])
        raise StoreArgumentError(
            f"{version!r} matches several versions of {function} in {path}: {matches}; give more digits of the hash"
        )
    return _version(rows[0]) if rows else None


def _version(row: Sequence[Any]) -> VersionRecord:
    return VersionRecord(
        function=row[0],
        version=f"{row[1]}.{row[2]}",
        major=row[1],
        minor=row[2],
        hash=row[3],
        signature=row[4],
        code=row[5],
        dependencies=json.loads(row[6]),
        kind=row[7],
        created_ns=row[8],
    )


def _version_summary(
    record: VersionRecord,
    durations: list[int],
    trace_keys: set[int],
    outcomes: Mapping[int, tuple[float | None, str | None]],
) -> VersionSummary:
    durations.sort()
    costs = [cost for key in trace_keys if (cost := outcomes.get(key, (None, None))[0]) is not None]
    labels = [label for key in trace_keys if (label := outcomes.get(key, (None, None))[1]) is not None]
    return VersionSummary(
        **{field.name: getattr(record, field.name) for field in attrs.fields(VersionRecord)},
        call_count=len(durations),
        trace_count=len(trace_keys),
        p50_ms=_percentile_ms(durations, 0.5),
        p95_ms=_percentile_ms(durations, 0.95),
        mean_cost=math.fsum(costs) / len(costs) if costs else None,
        pass_rate=labels.count("pass") / len(labels) if labels else None,
    )


def _percentile_ms(ordered: Sequence[int], fraction: float) -> float | None:
    """The `fraction` quantile of nanosecond durations, in ms, interpolating between ranks."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return (ordered[low] + (ordered[high] - ordered[low]) * (position - low)) / 1e6


def _annotation(row: Sequence[Any]) -> AnnotationRecord:
    return AnnotationRecord(
        id=row[0],
        trace_id=row[1],
        span_id=row[2],
        label=row[3],
        score=row[4],
        reason=row[5],
        created_ns=row[6],
        source=row[7],
    )


# The exporter ----------------------------------------------------------------------------------


class StoreSpanExporter(SpanExporter):
    """An OpenTelemetry exporter writing spans to a `Store`, for a `BatchSpanProcessor`.

    Given a path, it opens the store on its first batch (on the processor's worker thread) and
    closes it at shutdown; given a `Store`, it leaves closing to its owner. It never raises into
    the SDK: a store that cannot be opened or written is logged once, as a warning on the
    `mirascope.lilypad` logger, the batch is reported as failed and counted in `failed_spans`,
    and tracing (other exporters included) goes on.
    """

    def __init__(self, store: Store | str | os.PathLike[str] = DEFAULT_PATH) -> None:
        self._store = store if isinstance(store, Store) else None
        self._owns_store = not isinstance(store, Store)
        self.path: Path = store.path if isinstance(store, Store) else Path(os.path.abspath(store))
        """The store file spans go to."""
        self._lock = threading.Lock()
        self._open_error: Exception | None = None
        self._warned = False
        self._shut_down = False
        self.failed_spans = 0
        """Spans that could not be written."""

    @property
    def store(self) -> Store | None:
        """The store spans go to, `None` until opened (or when it could not be)."""
        return self._store

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write one batch; `FAILURE` (logged once) when the store cannot take it."""
        if not spans:
            return SpanExportResult.SUCCESS
        try:
            store = self._opened()
            store._write_rows([_readable_row(span) for span in spans])  # pyright: ignore[reportPrivateUsage]
        except Exception as error:
            self._failed(len(spans), error)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _opened(self) -> Store:
        with self._lock:
            if self._shut_down:
                raise StoreError(f"the exporter to the lilypad store {self.path} was shut down")
            if self._open_error is not None:
                raise self._open_error
            if self._store is None:
                try:
                    self._store = Store(self.path)
                except Exception as error:
                    # Damaged, too new or read-only does not mend itself: one try per process.
                    self._open_error = error
                    raise
            return self._store

    def _failed(self, count: int, error: Exception) -> None:
        with self._lock:
            self.failed_spans += count
            first, self._warned = not self._warned, True
        if first:
            expected = isinstance(error, StoreError)
            logger.warning(
                "lilypad could not write %d span(s) to its store %s: %s. Tracing goes on without the store "
                "(other exporters are unaffected); further failures are only counted.",
                count,
                self.path,
                error if expected else f"{type(error).__name__}: {error}",
                exc_info=None if expected else error,
            )

    def shutdown(self) -> None:
        """Stop exporting; close the store if this exporter opened it."""
        with self._lock:
            self._shut_down = True
            store = self._store if self._owns_store else None
        if store is not None:
            store.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing to flush: each batch is committed before `export` returns."""
        return True
