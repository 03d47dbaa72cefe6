#!/usr/bin/env bash
# Run a real example. The default, examples/quickstart.py, runs a local model: no key, no network.
# `bash scripts/example.sh hosted [model-id]` calls a hosted model (needs its key; see the file).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_uv.sh
"${UV[@]}" sync --all-packages --all-extras --locked --quiet
example="${1:-quickstart}"
shift || true
exec "${UV[@]}" run --no-sync python "examples/${example}.py" "$@"
