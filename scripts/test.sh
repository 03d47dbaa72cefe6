#!/usr/bin/env bash
# The whole test suite: lint, format check, generated-file checks, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_uv.sh
"${UV[@]}" sync --all-packages --all-extras --locked --quiet
echo "== ruff check";        "${UV[@]}" run --no-sync ruff check .
echo "== ruff format";       "${UV[@]}" run --no-sync ruff format --check .
echo "== pyright";           "${UV[@]}" run --no-sync pyright
echo "== generated";         "${UV[@]}" run --no-sync python scripts/generate_models.py --check
echo "== pytest";            "${UV[@]}" run --no-sync pytest "$@"
