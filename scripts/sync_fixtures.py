"""Keep the recordings under `tests/fixtures/` equal to their canonical copy in `../shared/fixtures`.

The tests read `tests/fixtures/` so that a clone from anywhere runs the whole suite; the canonical
copy (`../shared/fixtures`, or `$MIRASCOPE_FIXTURES`) is where new recordings arrive. Each folder
in `SYNCED` is mirrored whole: the decoder fuzz tests read every recording, so a partial copy would
quietly shrink them.

    python scripts/sync_fixtures.py           # copy the canonical folders over tests/fixtures/
    python scripts/sync_fixtures.py --check   # exit 1 if they differ (the test command runs this)

Without a canonical copy (a clone outside the monorepo), there is nothing to compare: both say
so and exit 0, and the committed copy is what the tests use.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "tests" / "fixtures"
# The folders the tests use.
SYNCED = ("recorded", "realtime", "bedrock")


def canonical() -> Path:
    """Where the canonical recordings live: `$MIRASCOPE_FIXTURES`, else `../shared/fixtures`."""
    configured = os.environ.get("MIRASCOPE_FIXTURES")
    return Path(configured) if configured else REPO.parent / "shared" / "fixtures"


def _files(root: Path) -> dict[str, Path]:
    if not root.is_dir():
        return {}
    return {path.relative_to(root).as_posix(): path for path in root.rglob("*") if path.is_file()}


def differences(source: Path, target: Path, folders: tuple[str, ...] = SYNCED) -> list[str]:
    """One line per file that is missing, extra or different in `target` against `source`."""
    found: list[str] = []
    for folder in folders:
        wanted, have = _files(source / folder), _files(target / folder)
        found += [f"missing: {folder}/{name}" for name in sorted(wanted.keys() - have.keys())]
        found += [f"extra:   {folder}/{name}" for name in sorted(have.keys() - wanted.keys())]
        both = sorted(wanted.keys() & have.keys())
        found += [f"changed: {folder}/{name}" for name in both if wanted[name].read_bytes() != have[name].read_bytes()]
    return found


def copy(source: Path, target: Path, folders: tuple[str, ...] = SYNCED) -> None:
    """Replace each of `folders` under `target` with the one under `source`."""
    for folder in folders:
        shutil.rmtree(target / folder, ignore_errors=True)
        # File by file, not copytree: the canonical copy is read-only and its modes must not follow,
        # or the next sync could not replace the copy.
        for name, path in _files(source / folder).items():
            destination = target / folder / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Keep tests/fixtures equal to the canonical recordings.")
    parser.add_argument("--check", action="store_true", help="exit 1 if the copy differs; copy nothing")
    parser.add_argument("--source", type=Path, default=canonical(), help="the canonical fixtures folder")
    parser.add_argument("--target", type=Path, default=TARGET, help="the copy (default: tests/fixtures)")
    args = parser.parse_args(argv)
    source, target = args.source, args.target
    # A canonical copy may hold only some of the folders (an older checkout): those are compared.
    present = tuple(folder for folder in SYNCED if (source / folder).is_dir())
    if not present:
        print(f"sync_fixtures: no canonical recordings at {source}; {target} is used as committed")
        return 0
    if args.check:
        found = differences(source, target, present)
        if found:
            print(f"sync_fixtures: {target} differs from {source} in {len(found)} files:", file=sys.stderr)
            print(*(f"  {line}" for line in found[:20]), sep="\n", file=sys.stderr)
            print("Run `python scripts/sync_fixtures.py` to copy the canonical recordings.", file=sys.stderr)
            return 1
        print(f"sync_fixtures: {target} matches {source}")
        return 0
    copy(source, target, present)
    print(f"sync_fixtures: copied {', '.join(present)} from {source} to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
