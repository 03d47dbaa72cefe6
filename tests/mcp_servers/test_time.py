"""The time server through the SDK's own client, in memory, with a fixed clock."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, datetime
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mirascope.mcp.servers import time as time_server

from tests.support.mcp_client import call, refused, text
from tests.support.mcp_process import http, script, stdio

# A summer instant: New York is on daylight time, Tokyo has none.
NOW = datetime(2026, 7, 1, 12, 30, 15, tzinfo=UTC)


def server(local: str = "Europe/London") -> MCPServer[Any]:
    return time_server.build(local, now=lambda: NOW)


def ok(target: MCPServer[Any], tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    result = call(target, tool, arguments)
    assert not result.is_error, text(result)
    return json.loads(text(result))


def test_current_time_in_a_named_zone() -> None:
    assert ok(server(), "get_current_time", {"timezone": "America/New_York"}) == {
        "timezone": "America/New_York",
        "datetime": "2026-07-01T08:30:15-04:00",
        "day_of_week": "Wednesday",
        "is_dst": True,
    }


def test_current_time_defaults_to_the_local_zone() -> None:
    assert ok(server("Asia/Tokyo"), "get_current_time") == {
        "timezone": "Asia/Tokyo",
        "datetime": "2026-07-01T21:30:15+09:00",
        "day_of_week": "Wednesday",
        "is_dst": False,
    }


def test_convert_time_between_zones() -> None:
    converted = ok(
        server(),
        "convert_time",
        {"source_timezone": "America/New_York", "time": "16:30", "target_timezone": "Asia/Kolkata"},
    )
    assert converted == {
        "source": {
            "timezone": "America/New_York",
            "datetime": "2026-07-01T16:30:00-04:00",
            "day_of_week": "Wednesday",
            "is_dst": True,
        },
        "target": {
            "timezone": "Asia/Kolkata",
            "datetime": "2026-07-02T02:00:00+05:30",
            "day_of_week": "Thursday",
            "is_dst": False,
        },
        "time_difference": "+9.5h",
    }


def test_convert_time_on_a_given_date_follows_daylight_saving() -> None:
    winter = ok(
        server(),
        "convert_time",
        {"source_timezone": "Europe/London", "time": "09:00", "target_timezone": "UTC", "date": "2026-01-15"},
    )
    assert winter["target"]["datetime"] == "2026-01-15T09:00:00+00:00"
    assert winter["time_difference"] == "+0.0h"
    summer = ok(
        server(),
        "convert_time",
        {"source_timezone": "Europe/London", "time": "09:00", "target_timezone": "UTC", "date": "2026-07-15"},
    )
    assert summer["target"]["datetime"] == "2026-07-15T08:00:00+00:00"
    assert summer["time_difference"] == "-1.0h"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"timezone": "Europe/Londn"}, "did you mean 'Europe/London'"),
        ({"timezone": "Mars/Olympus_Mons"}, "unknown timezone 'Mars/Olympus_Mons'"),
        ({"timezone": "../../../../etc/passwd"}, "unknown timezone"),
        ({"timezone": "/etc/localtime"}, "unknown timezone"),
        ({"timezone": "x" * 500}, "not a time zone name"),
        ({"timezone": "UTC\x00"}, "not a time zone name"),
    ],
)
def test_unknown_zones_are_clear_errors(arguments: dict[str, Any], expected: str) -> None:
    assert expected in refused(server(), "get_current_time", arguments)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"source_timezone": "Nowhere", "time": "10:00", "target_timezone": "UTC"}, "unknown source_timezone"),
        ({"source_timezone": "UTC", "time": "10:00", "target_timezone": "Nowhere"}, "unknown target_timezone"),
        ({"source_timezone": "UTC", "time": "25:00", "target_timezone": "UTC"}, "HH:MM"),
        ({"source_timezone": "UTC", "time": "9am", "target_timezone": "UTC"}, "HH:MM"),
        ({"source_timezone": "UTC", "time": "10:00", "target_timezone": "UTC", "date": "tomorrow"}, "YYYY-MM-DD"),
    ],
)
def test_convert_time_refuses_bad_input(arguments: dict[str, Any], expected: str) -> None:
    assert expected in refused(server(), "convert_time", arguments)


def test_an_unknown_local_timezone_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="IANA"):
        time_server.build("Not/AZone")


def test_local_zone_comes_from_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Australia/Adelaide")
    assert time_server.local_zone_name() == "Australia/Adelaide"
    assert ok(time_server.build(now=lambda: NOW), "get_current_time")["timezone"] == "Australia/Adelaide"


def test_main_answers_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        time_server.main(["--help"])
    assert exited.value.code == 0
    assert "--local-timezone" in capsys.readouterr().out


async def exercise(client: Client) -> None:
    """Both tools once, through whichever transport `client` speaks (the real clock, so only shapes)."""
    assert {tool.name for tool in (await client.list_tools()).tools} == {"get_current_time", "convert_time"}
    current = await client.call_tool("get_current_time", {"timezone": "Asia/Tokyo"})
    assert not current.is_error, text(current)
    assert json.loads(text(current))["datetime"].endswith("+09:00")
    converted = await client.call_tool(
        "convert_time",
        {"source_timezone": "UTC", "time": "00:00", "target_timezone": "Asia/Kolkata", "date": "2026-01-01"},
    )
    assert json.loads(text(converted))["target"]["datetime"] == "2026-01-01T05:30:00+05:30"
    unknown = await client.call_tool("get_current_time", {"timezone": "Nowhere/Land"})
    assert unknown.is_error


def test_the_console_script_serves_every_tool_over_stdio() -> None:
    async def go() -> None:
        params = stdio("mirascope-mcp-time", "--local-timezone", "UTC", "--log-level", "WARNING")
        async with Client(params) as client:
            await exercise(client)

    asyncio.run(go())


def test_the_console_script_serves_every_tool_over_streamable_http() -> None:
    with http("mirascope-mcp-time") as url:

        async def go() -> None:
            async with Client(url) as client:
                await exercise(client)

        asyncio.run(go())


def test_the_scripts_answer_help_and_refuse_an_unknown_local_zone() -> None:
    for command in ([script("mirascope-mcp-time"), "--help"], [script("mirascope-mcp"), "time", "--help"]):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert "--local-timezone" in result.stdout
    bad = subprocess.run(
        [script("mirascope-mcp-time"), "--local-timezone", "Mars/Base"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert "IANA" in bad.stderr
