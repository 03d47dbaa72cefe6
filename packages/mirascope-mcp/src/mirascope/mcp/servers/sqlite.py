"""The `sqlite` server: one database file, read-only unless `--allow-write`, one statement per call.

The reference server was archived with an SQL injection unpatched; here:

- The connection is opened `mode=ro` (the engine refuses every write) unless `--allow-write`, and
  `read_query` sets `PRAGMA query_only` even then, so only `write_query` (listed only with
  `--allow-write`) can change anything.
- One statement per call: `sqlite3`'s `execute` refuses a string holding a second statement before
  running the first, so `SELECT 1; DROP TABLE t` runs neither.
- An authorizer denies `ATTACH` and `DETACH` (which also stops `VACUUM INTO`, a file write that
  works on a read-only connection), transaction control, `load_extension` and `fts3_tokenizer`, and
  every `PRAGMA` outside a list of schema and status reads.
- Identifiers (`describe_table`) must name a table or view of the schema and are then quoted;
  values are always bound parameters.
- Rows, cell sizes and run time are capped: a progress handler stops a statement past its deadline.
"""

from __future__ import annotations

import argparse
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from ._common import fail, run

NAME = "mirascope-mcp-sqlite"
DEFAULT_MAX_ROWS = 1000
DEFAULT_TIMEOUT = 10.0
"""Seconds a statement may run (including fetching its rows) before it is interrupted."""
MAX_CELL_CHARS = 10_000
MAX_QUERY_CHARS = 100_000
_MAX_SCHEMA_ROWS = 100_000
"""Names or columns read for list_tables and describe_table, which the row cap for queries does not limit."""
_PROGRESS_STEPS = 1000
"""Virtual machine instructions between two deadline checks: cheap, and a few microseconds apart."""

# Pragmas that read the schema of one object: allowed with their argument.
_SCHEMA_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list", "foreign_key_check"}
)
# Pragmas that report a setting or status: allowed only without a value (a value would set it).
_STATUS_PRAGMAS = frozenset(
    {
        "application_id",
        "collation_list",
        "compile_options",
        "database_list",
        "encoding",
        "foreign_keys",
        "freelist_count",
        "function_list",
        "integrity_check",
        "journal_mode",
        "module_list",
        "page_count",
        "page_size",
        "pragma_list",
        "quick_check",
        "schema_version",
        "table_list",
        "user_version",
    }
)
_DENIED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer"})
_DENIED_ACTIONS = frozenset(
    {sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH, sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT}
)

_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
_WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)

Value = str | int | float | bool | None


def _authorize(action: int, first: str | None, second: str | None, database: str | None, source: str | None) -> int:
    if action in _DENIED_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and second is not None and second.lower() in _DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA:
        name = (first or "").lower()
        if name in _SCHEMA_PRAGMAS or (name in _STATUS_PRAGMAS and second is None):
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class _Database:
    def __init__(self, path: str, *, allow_write: bool, max_rows: int, timeout: float) -> None:
        file = Path(path).expanduser()
        if not allow_write and not file.is_file():
            raise ValueError(
                f"--db {path!r} is not an existing file; pass a SQLite database (or --allow-write to create one)"
            )
        if file.exists() and not file.is_file():
            raise ValueError(f"--db {path!r} is not a file")
        self.path = file.resolve()
        self.allow_write = allow_write
        self.max_rows = max_rows
        self.timeout = timeout
        # One connection at a time: the SDK runs each sync tool on a worker thread.
        self._lock = threading.Lock()
        if allow_write and not file.exists():
            try:
                sqlite3.connect(self.path).close()  # creates the file now, so a bad path fails at start
            except sqlite3.Error as error:
                raise ValueError(f"--db {path!r} cannot be created: {error}") from error

    def connect(self, *, write: bool) -> sqlite3.Connection:
        # `mode=ro` makes the engine itself refuse writes; `query_only` below covers reads on a
        # read-write connection.
        mode = "rw" if self.allow_write else "ro"
        try:
            connection = sqlite3.connect(
                f"{self.path.as_uri()}?mode={mode}", uri=True, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            fail(f"cannot open the database {self.path}: {error}")
        # Our own settings go in before the authorizer, which would deny them.
        connection.execute("PRAGMA trusted_schema = OFF")
        if not write:
            connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(_authorize)
        return connection

    def execute(
        self, query: str, params: Sequence[Value] | None, *, write: bool, max_rows: int | None = None
    ) -> dict[str, Any]:
        max_rows = self.max_rows if max_rows is None else max_rows
        if len(query) > MAX_QUERY_CHARS:
            fail(f"query is longer than {MAX_QUERY_CHARS} characters")
        if not query.strip():
            fail("query is empty; pass one SQL statement")
        with self._lock:
            connection = self.connect(write=write)
            deadline = time.monotonic() + self.timeout
            connection.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
            try:
                cursor = connection.execute(query, tuple(params or ()))
                columns = [column[0] for column in cursor.description or ()]
                rows = cursor.fetchmany(max_rows + 1) if columns else []
                rows_affected = cursor.rowcount
            except sqlite3.ProgrammingError as error:
                if "one statement" in str(error):
                    fail("the query holds more than one statement; send one statement per call (nothing was run)")
                fail(f"SQLite refused the query: {error}")
            except sqlite3.DatabaseError as error:
                if time.monotonic() > deadline:
                    fail(
                        f"the query ran longer than {self.timeout:g} seconds and was stopped; narrow it or add a LIMIT"
                    )
                if "authoriz" in str(error):
                    fail(
                        f"SQLite refused the query: {error} (ATTACH, DETACH, transactions, extension loading and "
                        "pragmas that change settings are not allowed"
                        + ("" if write else "; this tool only reads")
                        + ")"
                    )
                fail(f"SQLite refused the query: {error}")
            finally:
                connection.close()
        truncated = len(rows) > max_rows
        result: dict[str, Any] = {
            "columns": columns,
            "rows": [[_cell(value) for value in row] for row in rows[:max_rows]],
            "truncated": truncated,
        }
        if truncated:
            result["note"] = f"only the first {max_rows} rows are shown; add a LIMIT or a WHERE clause"
        if write:
            result["rows_affected"] = rows_affected
        return result

    def names(self) -> dict[str, str]:
        """Table and view names of the schema, each with its type."""
        rows = self.execute(
            "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY name",
            None,
            write=False,
            max_rows=_MAX_SCHEMA_ROWS,
        )["rows"]
        return {str(name): str(kind) for name, kind in rows}


def _cell(value: Any) -> Any:
    if isinstance(value, bytes):
        shown = value[: MAX_CELL_CHARS // 2].hex()
        return {"blob_hex": shown, "bytes": len(value), "truncated": len(shown) < 2 * len(value)}
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        return value[:MAX_CELL_CHARS] + f"[... {len(value) - MAX_CELL_CHARS} more characters]"
    return value


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def build(
    db: str, *, allow_write: bool = False, max_rows: int = DEFAULT_MAX_ROWS, timeout: float = DEFAULT_TIMEOUT
) -> MCPServer[Any]:
    """The SQLite server for the database file `db`; `write_query` only with `allow_write`.

    Raises:
        ValueError: `db` does not exist (without `allow_write`) or is not a file.
    """
    database = _Database(db, allow_write=allow_write, max_rows=max_rows, timeout=timeout)
    server: MCPServer[Any] = MCPServer(
        NAME,
        instructions=(
            f"SQLite tools for the database {database.path}. One statement per call; bind values with params."
            + ("" if allow_write else " The database is read-only.")
        ),
    )

    @server.tool(annotations=_READ_ONLY)
    def list_tables() -> dict[str, Any]:
        """List the tables and views of the database."""
        return {"tables": [{"name": name, "type": kind} for name, kind in database.names().items()]}

    @server.tool(annotations=_READ_ONLY)
    def describe_table(table_name: str) -> dict[str, Any]:
        """Describe a table or view: its columns, its CREATE statement and its row count."""
        names = database.names()
        if table_name not in names:
            fail(f"no table or view named {table_name!r}; list them with list_tables")
        columns = database.execute(
            'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)',
            [table_name],
            write=False,
            max_rows=_MAX_SCHEMA_ROWS,
        )["rows"]
        schema = database.execute("SELECT sql FROM sqlite_schema WHERE name = ?", [table_name], write=False)["rows"]
        count = database.execute(f"SELECT count(*) FROM {_quote(table_name)}", None, write=False)["rows"]
        return {
            "name": table_name,
            "type": names[table_name],
            "columns": [
                {"name": name, "type": kind, "not_null": bool(not_null), "default": default, "primary_key": bool(pk)}
                for name, kind, not_null, default, pk in columns
            ],
            "sql": schema[0][0] if schema else None,
            "row_count": count[0][0],
        }

    @server.tool(annotations=_READ_ONLY)
    def read_query(query: str, params: list[Value] | None = None) -> dict[str, Any]:
        """Run one read-only SQL statement (SELECT, WITH, EXPLAIN, a schema PRAGMA); `?` placeholders take `params`."""
        return database.execute(query, params, write=False)

    if not allow_write:
        return server

    @server.tool(annotations=_WRITE)
    def write_query(query: str, params: list[Value] | None = None) -> dict[str, Any]:
        """Run one SQL statement that changes the database (INSERT, UPDATE, DELETE, CREATE, DROP, ALTER)."""
        return database.execute(query, params, write=True)

    return server


def _flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, help="the SQLite database file to serve")
    parser.add_argument("--allow-write", action="store_true", help="open the database read-write and offer write_query")
    parser.add_argument(
        "--max-rows", type=int, default=DEFAULT_MAX_ROWS, help=f"rows returned per query (default {DEFAULT_MAX_ROWS})"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds a statement may run (default {DEFAULT_TIMEOUT:g})",
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the SQLite server from the command line (`mirascope-mcp-sqlite --db PATH`)."""
    run(
        lambda args: build(str(args.db), allow_write=args.allow_write, max_rows=args.max_rows, timeout=args.timeout),
        argv,
        name=NAME,
        description="A hardened SQLite MCP server for one database file (read-only unless --allow-write).",
        add_arguments=_flags,
    )


if __name__ == "__main__":
    main()
