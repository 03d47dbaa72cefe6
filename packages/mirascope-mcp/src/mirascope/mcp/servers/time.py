"""The `time` server: the current time in a time zone, and a time converted between zones.

Zones are IANA names looked up with `zoneinfo` (the system's tz database, or the `tzdata` package
where the system has none). A name that is not a zone (including a path such as `../../etc/passwd`,
which `zoneinfo` refuses) is an MCP error that suggests the nearest real names.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import os
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from ._common import fail, run

NAME = "mirascope-mcp-time"
_MAX_ZONE_NAME = 64
_TIME = re.compile(r"(?P<hour>[01]\d|2[0-3]):(?P<minute>[0-5]\d)")
_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str, *, what: str = "timezone") -> ZoneInfo:
    """The zone `name` names, or an MCP error that suggests real names."""
    if not name or len(name) > _MAX_ZONE_NAME or "\x00" in name:
        fail(f"{what} {name[:_MAX_ZONE_NAME]!r} is not a time zone name; use an IANA name such as 'Europe/London'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = difflib.get_close_matches(name, _zone_names(), n=3)
        hint = f"did you mean {', '.join(repr(match) for match in close)}?" if close else "such as 'America/New_York'"
        fail(f"unknown {what} {name!r}; use an IANA time zone name, {hint}")


def local_zone_name() -> str:
    """The machine's IANA zone name (from `TZ` or `/etc/localtime`), or `UTC` when it cannot be told."""
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo" + os.sep in target:
            candidates.append(target.split("zoneinfo" + os.sep, 1)[1])
    except OSError:
        pass
    for candidate in candidates:
        if candidate in _zone_names():
            return candidate
    return "UTC"


def _describe(moment: datetime) -> dict[str, Any]:
    assert isinstance(moment.tzinfo, ZoneInfo)
    return {
        "timezone": moment.tzinfo.key,
        "datetime": moment.isoformat(timespec="seconds"),
        "day_of_week": moment.strftime("%A"),
        "is_dst": bool(moment.dst()),
    }


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    text = f"{hours:+.2f}".rstrip("0").rstrip(".")
    return f"{text if '.' in text else text + '.0'}h"


def build(local_timezone: str | None = None, *, now: Callable[[], datetime] | None = None) -> MCPServer[Any]:
    """The time server; `local_timezone` is the default zone (the machine's when left out).

    `now` returns the current instant as an aware datetime (tests pass a fixed one).

    Raises:
        ValueError: `local_timezone` is not an IANA zone name.
    """
    local = local_timezone or local_zone_name()
    try:
        ZoneInfo(local)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(
            f"--local-timezone {local!r} is not an IANA time zone name (such as 'Europe/Paris')"
        ) from error
    current = now or (lambda: datetime.now(ZoneInfo("UTC")))
    server: MCPServer[Any] = MCPServer(NAME, instructions=f"Time zone tools; the local time zone is {local}.")

    @server.tool(annotations=_READ_ONLY)
    def get_current_time(timezone: str | None = None) -> dict[str, Any]:
        """The current time in `timezone` (an IANA name such as 'Asia/Tokyo'; default the local zone)."""
        return _describe(current().astimezone(zone(timezone or local)))

    @server.tool(annotations=_READ_ONLY)
    def convert_time(source_timezone: str, time: str, target_timezone: str, date: str | None = None) -> dict[str, Any]:
        """Convert `time` (24-hour HH:MM) on `date` (YYYY-MM-DD, default today there) from one zone to another."""
        source = zone(source_timezone, what="source_timezone")
        target = zone(target_timezone, what="target_timezone")
        matched = _TIME.fullmatch(time.strip())
        if matched is None:
            fail(f"time {time!r} is not a 24-hour HH:MM time such as '14:30'")
        if date is None:
            day = current().astimezone(source).date()
        else:
            try:
                day = datetime.strptime(date.strip(), "%Y-%m-%d").date()
            except ValueError:
                fail(f"date {date!r} is not a YYYY-MM-DD date such as '2026-03-29'")
        at = datetime.combine(day, clock_time(int(matched["hour"]), int(matched["minute"])), tzinfo=source)
        converted = at.astimezone(target)
        offset = (converted.utcoffset() or timedelta()) - (at.utcoffset() or timedelta())
        return {"source": _describe(at), "target": _describe(converted), "time_difference": _hours(offset)}

    return server


def _flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--local-timezone", help="IANA name of the default time zone (default: the machine's, else UTC)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the time server from the command line (`mirascope-mcp-time`)."""
    run(
        lambda args: build(args.local_timezone),
        argv,
        name=NAME,
        description="An MCP server for the current time and time zone conversions.",
        add_arguments=_flags,
    )


if __name__ == "__main__":
    main()
