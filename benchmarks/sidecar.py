"""A virtualenv of its own for a benchmark's comparison library (an SDK the workspace never installs).

`prepared(venv, pins, ours, label)` makes or reuses `venv` with uv: the pinned packages, and our
packages installed editable (so the code measured is the work tree's). A stamp of the pins and of
our packages' pyproject.toml files says when it must be remade. Without uv or the network it
prints why and returns `None`: the comparison is skipped, nothing else fails.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def uv() -> list[str] | None:
    """uv, found as scripts/_uv.sh finds it (without installing it)."""
    given = os.environ.get("UV")
    if given and os.access(given, os.X_OK):
        return [given]
    found = shutil.which("uv")
    if found:
        return [found]
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True, check=False)
    return [sys.executable, "-m", "uv"] if probe.returncode == 0 else None


def python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def prepared(venv: Path, pins: Sequence[str], ours: Sequence[str], label: str) -> Path | None:
    """The virtualenv's Python, made or brought up to date; `None` (having said why) if it cannot be."""
    python = python_of(venv)
    digest = hashlib.sha256(b"".join((ROOT / "packages" / name / "pyproject.toml").read_bytes() for name in ours))
    expected = "\n".join([*pins, f"# pyproject.toml of ours: {digest.hexdigest()}"]) + "\n"
    stamp = venv / "bench-requirements.txt"
    if python.exists() and stamp.exists() and stamp.read_text() == expected:
        return python
    command = uv()
    if command is None:
        print(f"{label} skipped: uv not found (scripts/_uv.sh installs it)")
        return None
    steps = [
        [*command, "venv", "--quiet", "--allow-existing", "--python", sys.executable, str(venv)],
        [
            *command,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            *pins,
            *(arg for name in ours for arg in ("-e", str(ROOT / "packages" / name))),
        ],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            why = (done.stderr or done.stdout).strip().splitlines()
            print(f"{label} skipped: could not install {venv} ({why[-1] if why else done.returncode})")
            return None
    stamp.write_text(expected)
    return python
