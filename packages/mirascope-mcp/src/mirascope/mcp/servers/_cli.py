"""`mirascope-mcp <name> [flags]`: runs one prebuilt server, as `mirascope-mcp-<name> [flags]` would."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import SERVERS, load

_USAGE = "usage: mirascope-mcp <server> [--help] [flags]\n\nservers: " + ", ".join(SERVERS) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Dispatch to the named server's `main` with the remaining arguments."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.stderr.write(_USAGE)
        raise SystemExit(2)
    if args[0] in {"-h", "--help"}:
        sys.stdout.write(_USAGE)
        raise SystemExit(0)
    name, rest = args[0], args[1:]
    if name not in SERVERS:
        sys.stderr.write(f"mirascope-mcp: unknown server {name!r}\n{_USAGE}")
        raise SystemExit(2)
    load(name).main(rest)


if __name__ == "__main__":
    main()
