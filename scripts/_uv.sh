# Sourced by the other scripts: find uv, installing it with pip when it is missing.
if [[ -n "${UV:-}" && -x "${UV}" ]]; then
  UV=("$UV")  # set by `uv run` (a test running a script): the uv that runs us
elif command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif python3 -m uv --version >/dev/null 2>&1; then
  UV=(python3 -m uv)
else
  echo "uv not found: installing it with pip" >&2
  python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
  UV=(python3 -m uv)
fi
