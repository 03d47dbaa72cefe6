#!/usr/bin/env bash
# Every benchmark, as ratios against the floor measured in the same run. Not part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_uv.sh
"${UV[@]}" sync --all-packages --all-extras --locked --quiet
"${UV[@]}" run --no-sync python benchmarks/bench_import.py "$@"
echo
"${UV[@]}" run --no-sync python benchmarks/bench_call.py
echo
"${UV[@]}" run --no-sync python benchmarks/bench_concurrency.py
echo
"${UV[@]}" run --no-sync python benchmarks/bench_stream.py
echo
# Traced vs untraced (lilypad), then beside OTel's openai-v2 instrumentation in a venv of its own.
"${UV[@]}" run --no-sync python benchmarks/bench_tracing.py --otel
echo
"${UV[@]}" run --no-sync python benchmarks/bench_tools.py
echo
"${UV[@]}" run --no-sync python benchmarks/bench_mcp.py
echo
"${UV[@]}" run --no-sync python benchmarks/bench_realtime.py
echo
"${UV[@]}" run --no-sync python benchmarks/bench_batch.py
echo
# Bedrock beside raw httpx and boto3 (boto3 in a venv of its own, .cache/bench-boto3; network on first use).
"${UV[@]}" run --no-sync python benchmarks/bench_bedrock.py
echo
# Our MCP servers beside the reference servers (npx/uvx; network on first use).
"${UV[@]}" run --no-sync python benchmarks/bench_mcp_servers.py
echo
"${UV[@]}" run --no-sync python benchmarks/bench_parse.py
echo
"${UV[@]}" run --no-sync python benchmarks/bench_versioning.py
echo
"${UV[@]}" run --no-sync python benchmarks/bench_store.py
