#!/usr/bin/env bash
# Build every distribution of the workspace (the `mirascope` meta-package and each member), wheels
# and sdists, into dist/ (or the folder given), then print the commands that install them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_uv.sh
out="${1:-dist}"
"${UV[@]}" build --all-packages --out-dir "$out" --quiet
version="$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
ls "$out"/*"$version"*
cat <<MSG

Install into the active virtual environment (the version pin, label included, is what keeps pip
from taking the public index's unrelated \`mirascope\`; see the README's Install section):

  pip install --find-links $out "mirascope[openai]==$version"   # or [anthropic], [google], [local], [all]
MSG
