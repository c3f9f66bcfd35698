#!/usr/bin/env bash
# benches/memory-probes.sh: peak memory of amux under pathological upstream answers (the probes of
# the hardening issue), each on a fresh `amux serve`:
#
#   sse-translated   Anthropic caller, OpenAI upstream: the stream sends one normal chunk, then
#                    one SSE line of LINE_MB MB with no newline (translated path: SSE parser)
#   sse-same         OpenAI caller, same upstream: the same-dialect byte path's usage observer
#   json-translated  Anthropic caller: a non-streamed answer of BODY_MB MB (decoded, re-encoded)
#   json-same        OpenAI caller: the same answer on the same-dialect path
#   json-*-chunked   the same answers sent chunked, with no Content-Length
#
# Peak RSS is the kernel's VmHWM of the amux process (/proc/PID/status), read after the call;
# "after" is VmRSS two seconds later; "idle" is VmRSS before the call. The mock upstream
# (benches/memory_mock.py) generates its answers on the fly. Everything runs on 127.0.0.1.
#
# Environment: AMUX_BIN (default: $CARGO_TARGET_DIR or ./target, release/amux), LINE_MB=300,
#   BODY_MB=400, PORT_BASE=18680, LIMITS (YAML flow-mapping entries for `limits:`, e.g.
#   "max_stream_event_bytes: 1048576"; empty: the defaults; set nothing for a binary without
#   `limits:`), OUT=file.md (also write the table there).
# Exit status: 0 (the table is the result), 2 setup problem.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
AMUX_BIN=${AMUX_BIN:-$TARGET_DIR/release/amux}
LINE_MB=${LINE_MB:-300}
BODY_MB=${BODY_MB:-400}
PORT_BASE=${PORT_BASE:-18680}
PORT_MOCK=$((PORT_BASE + 1))
PORT_AMUX=$((PORT_BASE + 3))
LIMITS=${LIMITS:-}
OUT=${OUT:-}

die() {
    echo "memory-probes.sh: $*" >&2
    exit 2
}
for t in python3 curl awk; do command -v "$t" >/dev/null 2>&1 || die "missing $t"; done
[[ -x $AMUX_BIN ]] || die "no amux binary at $AMUX_BIN (cargo build --release, or set AMUX_BIN)"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/amux-memory.XXXXXX")
PIDS=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$RUN"
}
trap cleanup EXIT

# shellcheck source=benches/lib.sh
source "$HERE/lib.sh"

kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
mb() { awk -v v="$1" 'BEGIN {printf "%.0f", v / 1024}'; }

python3 "$HERE/memory_mock.py" "$PORT_MOCK" "$LINE_MB" "$BODY_MB" 2>"$RUN/mock.log" &
PIDS+=($!)
wait_ready "http://127.0.0.1:$PORT_MOCK/ready" "${PIDS[-1]}" "mock upstream" "$RUN/mock.log"

{
    echo "discover_env: false"
    echo "providers:"
    echo "  oai: {kind: openai, base_url: 'http://127.0.0.1:$PORT_MOCK/v1', api_key: sk-probe}"
    echo "  oai-chunked: {kind: openai, base_url: 'http://127.0.0.1:$PORT_MOCK/chunked/v1', api_key: sk-probe}"
    echo "models:"
    echo "  - {name: m, provider: oai, model: up}"
    echo "  - {name: mc, provider: oai-chunked, model: up}"
    [[ -n $LIMITS ]] && echo "limits: {$LIMITS}"
} >"$RUN/amux.yaml"

ROWS=()
probe() { # NAME PATH STREAM [MODEL]
    local name=$1 path=$2 stream=$3 model=${4:-m} pid idle peak after code size tail
    RUST_LOG=warn "$AMUX_BIN" serve --config "$RUN/amux.yaml" --listen "127.0.0.1:$PORT_AMUX" \
        >"$RUN/amux-$name.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_ready "http://127.0.0.1:$PORT_AMUX/health/readiness" "$pid" "amux" "$RUN/amux-$name.log"
    idle=$(kb "$pid" VmRSS)
    local body
    body="{\"model\":\"$model\",\"max_tokens\":5,\"stream\":$stream,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"
    code=$(curl -s -o "$RUN/answer-$name" -w '%{http_code}' --max-time 600 -H 'content-type: application/json' \
        -H 'anthropic-version: 2023-06-01' --data-binary "$body" "http://127.0.0.1:$PORT_AMUX$path" || true)
    peak=$(kb "$pid" VmHWM)
    sleep 2
    after=$(kb "$pid" VmRSS)
    size=$(stat -c %s "$RUN/answer-$name")
    tail=$(tail -c 300 "$RUN/answer-$name" | tr -d '\n' | grep -o -E '"message": ?"[^"]{0,90}' | tail -1 || true)
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    ROWS+=("| $name | $code | $(awk -v v="$size" 'BEGIN {printf "%.1f", v / 1048576}') | $(mb "$idle") | **$(mb "$peak")** | $(mb "$after") | ${tail#*: } |")
}

probe sse-translated /v1/messages true
probe sse-same /v1/chat/completions true
probe json-translated /v1/messages false
probe json-same /v1/chat/completions false
probe json-translated-chunked /v1/messages false mc
probe json-same-chunked /v1/chat/completions false mc

{
    echo "amux: $AMUX_BIN ($("$AMUX_BIN" --version 2>/dev/null || echo '?')); LINE_MB=$LINE_MB BODY_MB=$BODY_MB; limits: {${LIMITS:-defaults}}"
    echo
    echo "| probe | status | answer MB | idle RSS MB | peak RSS MB | RSS after MB | error the caller got |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
} | tee "${OUT:-/dev/null}"
