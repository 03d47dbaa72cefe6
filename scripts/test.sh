#!/usr/bin/env bash
# The whole test suite: lint, format check, generated-file checks, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_uv.sh
sync=("${UV[@]}" sync --all-packages --all-extras --locked)
plan="$("${sync[@]}" --dry-run 2>&1)" || true  # a real failure is reported by the sync below
if grep -q "^Would install" <<<"$plan"; then
  cat >&2 <<'MSG'
test.sh: installing the workspace and the test tools into .venv (first run, or after uv.lock
  changes): what the example needs (130 MB: llama.cpp and the SmolLM2 model) plus pyright with
  its Node.js, ruff, pytest, hypothesis, pydantic, google-auth and Playwright without browsers
  (140 MB): about 270 MB to download, 670 MB on disk: about 15 s on a fast connection (two
  minutes at 20 Mbit/s).
MSG
fi
"${sync[@]}" --quiet
echo "== ruff check";        "${UV[@]}" run --no-sync ruff check .
echo "== ruff format";       "${UV[@]}" run --no-sync ruff format --check .
echo "== pyright";           "${UV[@]}" run --no-sync pyright
echo "== generated";         "${UV[@]}" run --no-sync python scripts/generate_models.py --check
echo "== generated";         "${UV[@]}" run --no-sync python scripts/generate_overloads.py --check
echo "== generated";         "${UV[@]}" run --no-sync python scripts/provider_tables.py --check
echo "== fixtures";          "${UV[@]}" run --no-sync python scripts/sync_fixtures.py --check
echo "== pytest";            "${UV[@]}" run --no-sync pytest "$@"
