#!/usr/bin/env bash
# benches/callgrind.sh: instructions amux executes per call, counted by valgrind's callgrind,
# and a guard that fails when a count rises more than 10% over the budget committed in
# benches/callgrind-budget.txt. Instruction counts are deterministic (unlike wall time), so the
# guard runs in CI on any machine; raising a budget is a reviewed change with its reason.
#
# Setup (everything on 127.0.0.1): the nginx mock of benches/overhead.sh serves fixed upstream
# answers; `amux serve` runs under callgrind with a team config (a virtual key, RPM/TPM limits in
# memory, metrics, prices, info logs; no Redis); curl sends each case's calls over one kept-alive
# connection. Per case: WARM calls, then the counters are zeroed, CALLS calls are counted, the
# counters dumped: per-call = total / CALLS. Cases: same-dialect (bytes) and translated (an
# OpenAI caller on an Anthropic upstream; the `-oai` cases, an Anthropic caller on an OpenAI
# upstream), each plain JSON and streamed, and Claude on Bedrock by InvokeModel (SigV4-signed;
# the answer's event-stream frames turned into SSE); and, with the body's members in the order the
# Anthropic Python SDK writes them (`model` third), same-dialect JSON and translated JSON on an
# OpenAI upstream (`-sdk`). Per event, the streamed case minus its JSON twin over the
# fixture's 39 events, is printed for both (docs/benchmarks.md compares them).
#
# Environment: AMUX_BIN (default: the dev build, target/debug/amux), CALLS=40, WARM=5,
#   CG_DUMP_INSTR=yes (per-instruction counts in the kept cg.out files, with KEEP=1),
#   PORT_BASE=18580, UPDATE=1 (write the measured counts as the new budget), KEEP=1,
#   TEAM=0 (the team stack off: no keys, no RPM/TPM limits, no prices; the counts are printed
#   next to the budgets, which are for the team config, and never fail or update them; with
#   RUST_LOG=warn as well, the usage line is off too: docs/benchmarks.md reports the three).
# Exit status: 0 within budget, 1 over budget or a failed call, 2 setup problem.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
CALLS=${CALLS:-40}
WARM=${WARM:-5}
PORT_BASE=${PORT_BASE:-18580}
PORT_MOCK=$((PORT_BASE + 1))
PORT_AMUX=$((PORT_BASE + 3))
BUDGET=$HERE/callgrind-budget.txt
TOLERANCE=10 # percent
KEEP=${KEEP:-0}
TEAM=${TEAM:-1}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
AMUX_BIN=${AMUX_BIN:-$TARGET_DIR/debug/amux}

die() {
    echo "callgrind.sh: $*" >&2
    exit 2
}
for t in valgrind callgrind_control nginx curl awk; do
    command -v "$t" >/dev/null 2>&1 || die "missing $t (Debian: valgrind nginx-light curl)"
done
[[ -x $AMUX_BIN ]] || die "no amux binary at $AMUX_BIN (cargo build, or set AMUX_BIN)"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/amux-callgrind.XXXXXX")
chmod 755 "$RUN"
PIDS=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ $KEEP == 1 ]]; then echo "scratch directory kept: $RUN" >&2; else rm -rf "$RUN"; fi
}
trap cleanup EXIT

# shellcheck source=benches/lib.sh
source "$HERE/lib.sh"

mkdir -p "$RUN/mock-body"
sed -e "s#@RUN@#$RUN#g" -e "s#@FIXTURES@#$HERE/fixtures#g" -e "s#@USER@#$(id -un)#g" \
    -e "s#@PORT@#$PORT_MOCK#g" "$HERE/nginx/mock.conf" >"$RUN/mock.conf"
nginx -e "$RUN/mock-error.log" -p "$RUN" -c "$RUN/mock.conf" 2>"$RUN/mock.stderr" &
PIDS+=($!)
wait_ready "http://127.0.0.1:$PORT_MOCK/ready" "${PIDS[-1]}" "mock nginx" "$RUN/mock.stderr"

KEY=amux-callgrind-bench-key
KEY_SHA=$(printf '%s' "$KEY" | sha256sum | awk '{print $1}')
m="http://127.0.0.1:$PORT_MOCK"
cat >"$RUN/amux.yaml" <<EOF
discover_env: false
providers:
  anth-json: {kind: anthropic, base_url: '$m/json', api_key: sk-ant-upstream}
  anth-sse: {kind: anthropic, base_url: '$m/sse', api_key: sk-ant-upstream}
  oai-json: {kind: openai, base_url: '$m/json/v1', api_key: sk-oai-upstream}
  oai-sse: {kind: openai, base_url: '$m/sse/v1', api_key: sk-oai-upstream}
  aws: {kind: bedrock, region: us-east-1, base_url: '$m/bedrock', aws_access_key_id: AKIDBENCH, aws_secret_access_key: bench-secret}
models:
  - {name: claude-json, provider: anth-json, model: claude-up, rpm: 1000000, tpm: 1000000000}
  - {name: claude-sse, provider: anth-sse, model: claude-up, rpm: 1000000, tpm: 1000000000}
  - {name: gpt-json, provider: oai-json, model: gpt-up, rpm: 1000000, tpm: 1000000000}
  - {name: gpt-sse, provider: oai-sse, model: gpt-up, rpm: 1000000, tpm: 1000000000}
  - {name: claude-bedrock, provider: aws, model: 'anthropic.claude-up-v1:0', rpm: 1000000, tpm: 1000000000}
keys:
  - {name: bench, team: platform, key_sha256: $KEY_SHA, models: ["*"], rpm: 1000000, tpm: 1000000000}
prices:
  anth-json: {claude-up: {input: 3, output: 15, cache_read: 0.3, cache_write: 3.75}}
  anth-sse: {claude-up: {input: 3, output: 15, cache_read: 0.3, cache_write: 3.75}}
  oai-json: {gpt-up: {input: 2.5, output: 10, cache_read: 1.25}}
  oai-sse: {gpt-up: {input: 2.5, output: 10, cache_read: 1.25}}
  aws: {'anthropic.claude-up-v1:0': {input: 3, output: 15, cache_read: 0.3, cache_write: 3.75}}
EOF
if [[ $TEAM == 0 ]]; then
    # The team stack off: no per-model limits, and no keys or prices (the config's last sections).
    sed -i -e 's/, rpm: [0-9]*, tpm: [0-9]*}/}/' -e '/^keys:/,$d' "$RUN/amux.yaml"
fi

RUST_LOG=${RUST_LOG:-info} valgrind --tool=callgrind --instr-atstart=no --dump-instr=${CG_DUMP_INSTR:-no} \
    --callgrind-out-file="$RUN/cg.out" "$AMUX_BIN" serve --config "$RUN/amux.yaml" \
    --listen "127.0.0.1:$PORT_AMUX" 2>"$RUN/amux.log" >/dev/null &
AMUX_PID=$!
PIDS+=("$AMUX_PID")
wait_ready "http://127.0.0.1:$PORT_AMUX/health/readiness" "$AMUX_PID" "amux under callgrind" "$RUN/amux.log" 1200
callgrind_control -i on "$AMUX_PID" >/dev/null 2>&1

# calls CALLER MODEL STREAM N [FIXTURE]: N calls over one connection; fails unless every answer is
# complete. FIXTURE: the request body's file in fixtures/ (default request-CALLER.json).
calls() {
    local caller=$1 model=$2 stream=$3 n=$4 fixture=${5:-request-$1.json} path headers=() marker urls=() i
    if [[ $caller == anthropic ]]; then
        path=/v1/messages
        headers=(-H "x-api-key: $KEY" -H "anthropic-version: 2023-06-01")
        if [[ $stream == true ]]; then marker='event: message_stop'; else marker='"stop_reason"'; fi
    else
        path=/v1/chat/completions
        headers=(-H "authorization: Bearer $KEY")
        if [[ $stream == true ]]; then marker='data: [DONE]'; else marker='"finish_reason"'; fi
    fi
    sed -e "s/__MODEL__/$model/" -e "s/__STREAM__/$stream/" "$HERE/fixtures/$fixture" >"$RUN/body.json"
    for ((i = 0; i < n; i++)); do urls+=("http://127.0.0.1:$PORT_AMUX$path"); done
    curl -sS --max-time 600 -H 'content-type: application/json' "${headers[@]}" \
        --data-binary "@$RUN/body.json" "${urls[@]}" >"$RUN/answers.txt"
    local got
    got=$(grep -o -F -- "$marker" "$RUN/answers.txt" | wc -l)
    [[ $got == "$n" ]] || { head -c 2000 "$RUN/answers.txt" >&2; echo "callgrind.sh: $caller $model: $got of $n answers complete" >&2; exit 1; }
}

# A case: name, caller dialect, model (its upstream dialect decides same or translated), stream,
# and the body's fixture when not the caller's own (`-sdk`: the same body with its members in the
# order the Anthropic Python SDK writes them, `model` after `max_tokens` and `messages`).
CASES=(
    "same-json anthropic claude-json false"
    "same-sse anthropic claude-sse true"
    "translated-json openai claude-json false"
    "translated-sse openai claude-sse true"
    "translated-json-oai anthropic gpt-json false"
    "translated-sse-oai anthropic gpt-sse true"
    "bedrock-json anthropic claude-bedrock false"
    "bedrock-sse anthropic claude-bedrock true"
    "same-json-sdk anthropic claude-json false request-anthropic-sdk.json"
    "translated-json-oai-sdk anthropic gpt-json false request-anthropic-sdk.json"
)
EVENTS=39 # events in benches/fixtures/anthropic.sse and bedrock-invoke.eventstream
declare -A MEASURED
dump=0
for c in "${CASES[@]}"; do
    read -r name caller model stream fixture <<<"$c"
    calls "$caller" "$model" "$stream" "$WARM" "$fixture"
    callgrind_control -z "$AMUX_PID" >/dev/null 2>&1
    calls "$caller" "$model" "$stream" "$CALLS" "$fixture"
    callgrind_control -d "$AMUX_PID" >/dev/null 2>&1
    dump=$((dump + 1))
    # The dump's total instruction count (`summary:` or `totals:` line).
    total=$(awk '/^(summary|totals):/ { print $2; exit }' "$RUN/cg.out.$dump" 2>/dev/null || true)
    [[ -n $total ]] || die "no callgrind dump $RUN/cg.out.$dump"
    MEASURED[$name]=$((total / CALLS))
done

status=0
printf '%-16s %14s %14s %8s\n' case instructions budget change
for c in "${CASES[@]}"; do
    read -r name _ <<<"$c"
    got=${MEASURED[$name]}
    budget=$(awk -v n="$name" '$1 == n { print $2 }' "$BUDGET" 2>/dev/null || true)
    if [[ -z $budget ]]; then
        printf '%-16s %14s %14s %8s\n' "$name" "$got" - -
        [[ ${UPDATE:-0} == 1 ]] || status=1
        continue
    fi
    change=$(awk -v g="$got" -v b="$budget" 'BEGIN { printf "%+.1f%%", (g - b) * 100 / b }')
    printf '%-16s %14s %14s %8s\n' "$name" "$got" "$budget" "$change"
    if [[ $TEAM == 1 ]] && awk -v g="$got" -v b="$budget" -v t="$TOLERANCE" 'BEGIN { exit !(g > b * (1 + t / 100)) }'; then
        echo "callgrind.sh: $name uses more than $TOLERANCE% over its budget" >&2
        status=1
    fi
done
per_event() { echo $(((MEASURED[$1] - MEASURED[$2]) / EVENTS)); }
sse_event=$(per_event same-sse same-json)
invoke_event=$(per_event bedrock-sse bedrock-json)
# Reported, not enforced: the per-case budgets above guard both paths against regressions.
echo "per event: SSE byte path $sse_event, InvokeModel stream $invoke_event instructions"
if [[ ${UPDATE:-0} == 1 && $TEAM == 1 ]]; then
    {
        echo "# Instructions per call (dev build, benches/callgrind.sh); the guard fails above +$TOLERANCE%."
        echo "# Raise a budget only in a reviewed commit that says why."
        for c in "${CASES[@]}"; do
            read -r name _ <<<"$c"
            echo "$name ${MEASURED[$name]}"
        done
    } >"$BUDGET"
    echo "budget written to $BUDGET"
    status=0
fi
exit $status
