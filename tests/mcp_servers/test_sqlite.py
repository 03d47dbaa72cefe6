"""The SQLite server through the SDK's own client, in memory, against real database files."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mirascope.mcp.servers import sqlite

from tests.support.mcp_client import call, refused, text, tool_names
from tests.support.mcp_process import http, script, stdio


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL DEFAULT 0)")
        connection.execute("CREATE INDEX items_by_name ON items (name)")
        connection.execute('CREATE TABLE "odd ""name" (x)')
        connection.execute("CREATE VIEW cheap AS SELECT name FROM items WHERE price < 2")
        connection.executemany("INSERT INTO items (name, price) VALUES (?, ?)", [("apple", 1.5), ("pear", 2.5)])
    connection.close()
    return path


def ok(server: MCPServer[Any], tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    result = call(server, tool, arguments)
    assert not result.is_error, text(result)
    return json.loads(text(result))


def rows(db: Path, query: str) -> list[Any]:
    with sqlite3.connect(db) as connection:
        result = connection.execute(query).fetchall()
    connection.close()
    return result


# Every tool


def test_read_only_server_lists_no_write_tool(db: Path) -> None:
    assert tool_names(sqlite.build(str(db))) == {"list_tables", "describe_table", "read_query"}
    assert tool_names(sqlite.build(str(db), allow_write=True)) == {
        "list_tables",
        "describe_table",
        "read_query",
        "write_query",
    }


def test_list_tables_names_tables_and_views(db: Path) -> None:
    assert ok(sqlite.build(str(db)), "list_tables") == {
        "tables": [
            {"name": "cheap", "type": "view"},
            {"name": "items", "type": "table"},
            {"name": 'odd "name', "type": "table"},
        ]
    }


def test_describe_table_gives_columns_sql_and_row_count(db: Path) -> None:
    described = ok(sqlite.build(str(db)), "describe_table", {"table_name": "items"})
    assert described["row_count"] == 2
    assert described["type"] == "table"
    assert described["sql"].startswith("CREATE TABLE items")
    assert described["columns"] == [
        {"name": "id", "type": "INTEGER", "not_null": False, "default": None, "primary_key": True},
        {"name": "name", "type": "TEXT", "not_null": True, "default": None, "primary_key": False},
        {"name": "price", "type": "REAL", "not_null": False, "default": "0", "primary_key": False},
    ]


def test_describe_table_quotes_a_name_with_quotes_and_spaces(db: Path) -> None:
    described = ok(sqlite.build(str(db)), "describe_table", {"table_name": 'odd "name'})
    assert described["row_count"] == 0
    assert [column["name"] for column in described["columns"]] == ["x"]


def test_read_query_binds_params(db: Path) -> None:
    result = ok(sqlite.build(str(db)), "read_query", {"query": "SELECT name FROM items WHERE price > ?", "params": [2]})
    assert result == {"columns": ["name"], "rows": [["pear"]], "truncated": False}


def test_read_query_allows_schema_pragmas_and_ctes(db: Path) -> None:
    server = sqlite.build(str(db))
    assert ok(server, "read_query", {"query": "PRAGMA table_info(items)"})["rows"][0][1] == "id"
    assert ok(server, "read_query", {"query": "PRAGMA user_version"})["rows"] == [[0]]
    counted = ok(
        server,
        "read_query",
        {"query": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT sum(i) FROM n"},
    )
    assert counted["rows"] == [[15]]


def test_blobs_and_long_text_are_returned_capped(db: Path) -> None:
    server = sqlite.build(str(db))
    blob = ok(server, "read_query", {"query": "SELECT x'00ff', zeroblob(100000), printf('%.*c', 50000, 'a')"})["rows"][
        0
    ]
    assert blob[0] == {"blob_hex": "00ff", "bytes": 2, "truncated": False}
    assert blob[1]["bytes"] == 100000
    assert blob[1]["truncated"] is True
    assert len(blob[2]) < 10_100
    assert blob[2].endswith("[... 40000 more characters]")


def test_write_query_changes_the_database(db: Path) -> None:
    server = sqlite.build(str(db), allow_write=True)
    inserted = ok(
        server, "write_query", {"query": "INSERT INTO items (name, price) VALUES (?, ?)", "params": ["fig", 3]}
    )
    assert inserted["rows_affected"] == 1
    ok(server, "write_query", {"query": "CREATE TABLE notes (body TEXT)"})
    returned = ok(
        server, "write_query", {"query": "DELETE FROM items WHERE name = ? RETURNING id", "params": ["apple"]}
    )
    assert returned["rows"] == [[1]]
    assert rows(db, "SELECT name FROM items ORDER BY id") == [("pear",), ("fig",)]
    assert ("notes",) in rows(db, "SELECT name FROM sqlite_schema")


def test_allow_write_creates_a_missing_database(tmp_path: Path) -> None:
    server = sqlite.build(str(tmp_path / "new.db"), allow_write=True)
    ok(server, "write_query", {"query": "CREATE TABLE t (x)"})
    assert ok(server, "list_tables") == {"tables": [{"name": "t", "type": "table"}]}


def test_a_missing_database_is_refused_at_start_without_allow_write(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an existing file"):
        sqlite.build(str(tmp_path / "missing.db"))
    with pytest.raises(ValueError, match="not a file"):
        sqlite.build(str(tmp_path), allow_write=True)


def test_main_requires_a_db_and_answers_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        sqlite.main(["--help"])
    assert exited.value.code == 0
    assert "--db" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        sqlite.main([])
    assert exited.value.code == 2


async def exercise(client: Client) -> None:
    """Every tool once, through whichever transport `client` speaks."""

    async def ok_json(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await client.call_tool(tool, arguments)
        assert not result.is_error, text(result)
        return json.loads(text(result))

    assert {tool.name for tool in (await client.list_tools()).tools} == {
        "list_tables",
        "describe_table",
        "read_query",
        "write_query",
    }
    assert {"name": "items", "type": "table"} in (await ok_json("list_tables", {}))["tables"]
    assert (await ok_json("describe_table", {"table_name": "items"}))["row_count"] == 2
    inserted = await ok_json("write_query", {"query": "INSERT INTO items (name) VALUES (?)", "params": ["fig"]})
    assert inserted["rows_affected"] == 1
    assert (await ok_json("read_query", {"query": "SELECT count(*) FROM items"}))["rows"] == [[3]]
    refusal = await client.call_tool("read_query", {"query": "SELECT 1; DROP TABLE items"})
    assert refusal.is_error
    assert "one statement" in text(refusal)


def test_the_console_script_serves_every_tool_over_stdio(db: Path) -> None:
    async def go() -> None:
        params = stdio("mirascope-mcp-sqlite", "--db", str(db), "--allow-write", "--log-level", "WARNING")
        async with Client(params) as client:
            await exercise(client)

    asyncio.run(go())
    assert rows(db, "SELECT name FROM items WHERE id = 3") == [("fig",)]


def test_the_console_script_serves_every_tool_over_streamable_http(db: Path) -> None:
    with http("mirascope-mcp-sqlite", "--db", str(db), "--allow-write") as url:

        async def go() -> None:
            async with Client(url) as client:
                await exercise(client)

        asyncio.run(go())


def test_the_scripts_answer_help_and_refuse_a_missing_database(tmp_path: Path) -> None:
    for command in ([script("mirascope-mcp-sqlite"), "--help"], [script("mirascope-mcp"), "sqlite", "--help"]):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert "--db" in result.stdout
        assert "--allow-write" in result.stdout
    bad = subprocess.run(
        [script("mirascope-mcp-sqlite"), "--db", str(tmp_path / "missing.db")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "not an existing file" in bad.stderr
    assert not (tmp_path / "missing.db").exists()


# Exploits: each refused with an MCP error, nothing changed, no file written


@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1; DROP TABLE items",
        "SELECT 1; INSERT INTO items (name) VALUES ('x')",
        "SELECT * FROM items; ATTACH '{tmp}/evil.db' AS evil",
        "ATTACH '{tmp}/evil.db' AS evil",
        "ATTACH 'file:{tmp}/evil.db?mode=rwc' AS evil",
        "DETACH main",
        "VACUUM INTO '{tmp}/evil.db'",
        "SELECT load_extension('{tmp}/evil')",
        "SELECT fts3_tokenizer('simple')",
        "INSERT INTO items (name) VALUES ('x')",
        "UPDATE items SET price = 0",
        "DELETE FROM items",
        "DROP TABLE items",
        "CREATE TABLE evil (x)",
        "CREATE TEMP TABLE evil (x)",
        "ALTER TABLE items RENAME TO gone",
        "PRAGMA query_only = OFF",
        "PRAGMA writable_schema = ON",
        "PRAGMA user_version = 7",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA trusted_schema = ON",
        "SELECT * FROM pragma_query_only(0)",
        "SELECT * FROM pragma_user_version(7)",
        "BEGIN IMMEDIATE",
        "SAVEPOINT s",
        "REINDEX items",
    ],
)
@pytest.mark.parametrize("allow_write", [False, True])
def test_read_query_refuses_everything_but_reading(db: Path, tmp_path: Path, query: str, allow_write: bool) -> None:
    before = (
        rows(db, "SELECT * FROM items"),
        rows(db, "SELECT name FROM sqlite_schema"),
        rows(db, "PRAGMA user_version"),
    )
    refused(sqlite.build(str(db), allow_write=allow_write), "read_query", {"query": query.format(tmp=tmp_path)})
    after = rows(db, "SELECT * FROM items"), rows(db, "SELECT name FROM sqlite_schema"), rows(db, "PRAGMA user_version")
    assert after == before
    assert not (tmp_path / "evil.db").exists()


@pytest.mark.parametrize(
    "query",
    [
        "INSERT INTO items (name) VALUES ('x'); DROP TABLE items",
        "UPDATE items SET price = 0;DELETE FROM items",
        "ATTACH '{tmp}/evil.db' AS evil",
        "VACUUM INTO '{tmp}/evil.db'",
        "SELECT load_extension('{tmp}/evil')",
        "PRAGMA writable_schema = ON",
        "PRAGMA user_version = 7",
        "PRAGMA query_only = ON",
        "BEGIN",
        "COMMIT",
        "SAVEPOINT s",
        "INSERT INTO items (name) SELECT load_extension('x')",
    ],
)
def test_write_query_keeps_the_same_guards(db: Path, tmp_path: Path, query: str) -> None:
    before = (
        rows(db, "SELECT * FROM items"),
        rows(db, "SELECT name FROM sqlite_schema"),
        rows(db, "PRAGMA user_version"),
    )
    refused(sqlite.build(str(db), allow_write=True), "write_query", {"query": query.format(tmp=tmp_path)})
    after = rows(db, "SELECT * FROM items"), rows(db, "SELECT name FROM sqlite_schema"), rows(db, "PRAGMA user_version")
    assert after == before
    assert not (tmp_path / "evil.db").exists()


def test_chained_statements_run_neither(db: Path) -> None:
    message = refused(
        sqlite.build(str(db), allow_write=True), "write_query", {"query": "DELETE FROM items; DROP TABLE items"}
    )
    assert "one statement per call" in message
    assert len(rows(db, "SELECT * FROM items")) == 2


@pytest.mark.parametrize(
    "table_name",
    [
        'items"; DROP TABLE items; --',
        "items; DROP TABLE items",
        "items) UNION SELECT sql FROM sqlite_schema --",
        "sqlite_schema",
        "missing",
        "",
    ],
)
def test_describe_table_accepts_only_names_from_the_schema(db: Path, table_name: str) -> None:
    assert "list_tables" in refused(
        sqlite.build(str(db), allow_write=True), "describe_table", {"table_name": table_name}
    )
    assert len(rows(db, "SELECT * FROM items")) == 2


def test_values_are_bound_never_spliced(db: Path) -> None:
    server = sqlite.build(str(db), allow_write=True)
    result = ok(server, "read_query", {"query": "SELECT * FROM items WHERE name = ?", "params": ["x' OR '1'='1"]})
    assert result["rows"] == []
    ok(server, "write_query", {"query": "INSERT INTO items (name) VALUES (?)", "params": ["'); DROP TABLE items; --"]})
    assert rows(db, "SELECT name FROM items WHERE id = 3") == [("'); DROP TABLE items; --",)]


def test_write_query_is_unknown_without_allow_write(db: Path) -> None:
    assert "Unknown tool" in refused(sqlite.build(str(db)), "write_query", {"query": "DELETE FROM items"})
    assert len(rows(db, "SELECT * FROM items")) == 2


def test_a_huge_result_is_capped(db: Path) -> None:
    server = sqlite.build(str(db), max_rows=50)
    result = ok(
        server,
        "read_query",
        {"query": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n"},
    )
    assert result["truncated"] is True
    assert len(result["rows"]) == 50
    assert "LIMIT" in result["note"]


def test_a_long_query_is_stopped(db: Path) -> None:
    server = sqlite.build(str(db), timeout=0.2)
    message = refused(
        server,
        "read_query",
        {"query": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"},
    )
    assert "was stopped" in message
    # The server is still usable afterwards.
    assert ok(server, "read_query", {"query": "SELECT count(*) FROM items"})["rows"] == [[2]]
