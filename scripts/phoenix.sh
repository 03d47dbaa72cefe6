#!/usr/bin/env bash
# Arize Phoenix, the real OTLP consumer the slow lilypad test exports to (tests/lilypad/test_phoenix.py).
# Makes sure its own virtual environment exists at .cache/phoenix, installed from the pinned
# scripts/phoenix-requirements.txt, and prints the path of its `phoenix` executable. Later runs only
# check and print. Phoenix lives apart from .venv: it is large and pins its own OpenTelemetry and
# protobuf, which must not decide the versions the workspace is tested with.
#
# `bash scripts/phoenix.sh --lock` re-resolves PIN (and its dependencies) into the requirements file.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_uv.sh
PIN="arize-phoenix==20.26.1"
PYTHONS=">=3.11,<3.15"  # what that Phoenix supports
requirements=scripts/phoenix-requirements.txt
venv=.cache/phoenix

if [[ "${1:-}" == "--lock" ]]; then
  echo "$PIN" | "${UV[@]}" pip compile --quiet --universal --no-annotate --python-version 3.11 \
    --custom-compile-command "bash scripts/phoenix.sh --lock" --output-file "$requirements" -
  exit 0
fi

# The copy of the requirements file is written last: its match says the install finished.
installed() { [[ -x "$venv/bin/phoenix" ]] && cmp -s "$requirements" "$venv/requirements.txt"; }

if ! installed; then
  mkdir -p .cache
  exec 9>.cache/phoenix.lock
  if command -v flock >/dev/null 2>&1; then flock 9; fi  # two test runs at once install it once
  if ! installed; then
    cat >&2 <<MSG
phoenix.sh: installing $PIN into $venv for the slow lilypad test (first run, or after
  $requirements changes): about 200 MB to download, 630 MB on disk; 5-10 s on a fast
  connection (about a minute and a half at 20 Mbit/s).
MSG
    rm -rf "$venv"
    # VIRTUAL_ENV (set when a test runs us under `uv run`) must not redirect the install to .venv.
    env -u VIRTUAL_ENV "${UV[@]}" venv --quiet --python "$PYTHONS" "$venv"
    env -u VIRTUAL_ENV "${UV[@]}" pip sync --quiet --python "$venv/bin/python" "$requirements"
    cp "$requirements" "$venv/requirements.txt"
  fi
fi
echo "$PWD/$venv/bin/phoenix"
