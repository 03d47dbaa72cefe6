"""The workspace's distributions, built once per test session by `scripts/build.sh` as the README says."""

from __future__ import annotations

import atexit
import re
import shutil
import subprocess
import tempfile
import tomllib
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERSION: str = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
MEMBERS = sorted(path.parent.name for path in (REPO / "packages").glob("*/pyproject.toml"))
"""The member distributions' names (`mirascope-core`, `mirascope-providers-openai`, ...)."""


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def built() -> Path:
    """A folder holding every wheel and sdist of the workspace, built by `bash scripts/build.sh <folder>`."""
    out = Path(tempfile.mkdtemp(prefix="mirascope-dist-"))
    atexit.register(shutil.rmtree, out, True)
    # The timeout is a hang guard: the build takes a few seconds.
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "build.sh"), str(out)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def sdist(name: str) -> Path:
    """The sdist of distribution `name` (`mirascope`, `mirascope-core`, ...)."""
    return built() / f"{name.replace('-', '_')}-{VERSION}.tar.gz"


def wheel(name: str) -> Path:
    """The wheel of distribution `name`."""
    return built() / f"{name.replace('-', '_')}-{VERSION}-py3-none-any.whl"
