#!/usr/bin/env bash
# Run a real example against a provider. Needs OPENAI_API_KEY (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_uv.sh
"${UV[@]}" sync --all-packages --extra openai --locked --quiet
exec "${UV[@]}" run --no-sync python "examples/${1:-quickstart}.py"
