#!/usr/bin/env bash
# The whole agents x dialects x upstreams matrix: every coding agent of tests/interop/agents.py,
# pointed at `amux serve` by its own env vars or config file (docs/agents.md), in every dialect it
# speaks, against a mock upstream of each other dialect, for a plain answer and a tool round trip.
# Prints a result table (and writes it to target/agents-matrix.md) with every failing cell's reason.
#
#   scripts/agents-matrix.sh            # install what is missing (as scripts/test.sh does), run all
#   AMUX_AGENTS=pi,qwen scripts/agents-matrix.sh   # only some agents
#   AMUX_BIN=/path/to/amux scripts/agents-matrix.sh  # use this amux binary (no cargo build)
#
# Exits 0 when the table was produced (failing cells are results, not errors); non-zero when the
# setup failed. Everything listens on 127.0.0.1 only.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)
start=$(date +%s)

# Installs (venvs, the agents, the amux binary) exactly as the test command does, nothing else.
SETUP_ONLY=1 scripts/test.sh || exit 1
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])') ||
  TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
export AMUX_BIN="${AMUX_BIN:-$TARGET_DIR/debug/amux}"

results="$TARGET_DIR/agents-matrix.jsonl"
mkdir -p "$TARGET_DIR"
rm -f "$results"
printf '\n==> agents matrix (results in %s)\n' "$results"
AMUX_AGENTS_MATRIX=1 AMUX_AGENTS_RESULTS="$results" "$REPO/.venv-interop/bin/python" -m pytest -q \
  -p no:cacheprovider --timeout=300 tests/interop/test_agents.py
end=$(date +%s)
{
  "$REPO/.venv-interop/bin/python" tests/interop/agents_table.py "$results"
  printf '\nwall time: %d s\n' "$((end - start))"
} | tee "$TARGET_DIR/agents-matrix.md"
