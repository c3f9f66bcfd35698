#!/usr/bin/env bash
# benches/overhead.sh: what amux adds on top of a fast local upstream, next to a plain nginx
# reverse proxy doing the same job. Not part of the test suite; run by hand on a quiet machine.
#
# Setup (everything on 127.0.0.1):
#   mock   nginx serving fixed bodies (benches/fixtures: Anthropic / OpenAI, JSON and SSE)
#   proxy  nginx reverse proxy -> mock (proxy_buffering off, keepalive upstream pool)
#   floor  examples/floor_proxy.rs -> mock: the HTTP stack amux is built on (hyper server,
#          amux's upstream pool, current-thread tokio) forwarding bytes and nothing else, so
#          the distance from floor to amux is amux's own work
#   amux   release build, `amux serve` -> mock, four providers (one per fixture)
# For every upstream fixture (anthropic json/sse, openai json/sse) and every connection count,
# wrk runs back to back: direct to the mock, through the proxy, through the floor, through amux same-dialect (caller
# speaks the upstream's dialect: bytes forwarded) and through amux cross-dialect (caller speaks
# the other dialect: translated both ways). Interleaving the four keeps slow drifts in machine
# load from favouring one of them.
#
# CPU pinning (2-core default): wrk alone on WRK_CPUS, every server (mock, proxy, amux) on
# SERVER_CPUS. nginx runs one worker; amux, pinned to one CPU, runs one tokio worker thread.
#
# Environment (all optional):
#   DURATION=5s  WARMUP=1s  CONNS="1 32"   measured time, unrecorded warm-up, connection counts
#   ROUNDS=3                               full passes over all cases; the report takes medians
#   WRK_CPUS=0  SERVER_CPUS=1              taskset CPU lists ("" disables pinning)
#   MOCK_CPUS=$SERVER_CPUS                 CPUs of the mock upstream alone
#   PORT_BASE=18480                        mock = +1, proxy = +2, amux = +3, floor = +4
#   AMUX_BIN=...                           default: $CARGO_TARGET_DIR (or ./target)/release/amux
#   FLOOR_BIN=...                          default: the same directory's examples/floor_proxy
#   BUILD=1                                `nice -n 19 cargo build --release` of amux and the floor first (0: skip)
#   RUST_LOG                               passed to amux (default: its own, info)
#   TEAM=1                                 the team stack on: virtual keys, RPM/TPM limits per key
#                                          and alias (in memory), prices, metrics (0: none of it)
#   OUT=file.md                            also write the report there
#   KEEP=1                                 keep the scratch directory (configs, logs, raw output)
#   ONLY=regex                             run only cases whose "group kind" matches, e.g.
#                                          ONLY='sse (direct|same)' (kinds: direct proxy same cross)
# Flags: --install   apt-get install nginx-light wrk curl when missing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
CONNS=${CONNS:-"1 32"}
ROUNDS=${ROUNDS:-3}
WRK_CPUS=${WRK_CPUS-0}
SERVER_CPUS=${SERVER_CPUS-1}
MOCK_CPUS=${MOCK_CPUS-$SERVER_CPUS}
PORT_BASE=${PORT_BASE:-18480}
PORT_MOCK=$((PORT_BASE + 1))
PORT_PROXY=$((PORT_BASE + 2))
PORT_AMUX=$((PORT_BASE + 3))
PORT_FLOOR=$((PORT_BASE + 4))
AMUX_BIN=${AMUX_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/amux}
FLOOR_BIN=${FLOOR_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/floor_proxy}
BUILD=${BUILD:-1}
OUT=${OUT:-}
KEEP=${KEEP:-0}
ONLY=${ONLY:-}

die() {
    echo "overhead.sh: $*" >&2
    exit 1
}
log() { echo "== $*" >&2; }

# --- tools ----------------------------------------------------------------------------------
missing=()
for t in nginx wrk curl taskset awk; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if ((${#missing[@]})); then
    if [[ ${1:-} == --install ]]; then
        apt-get update && apt-get install -y nginx-light wrk curl
    else
        die "missing: ${missing[*]} (Debian: apt-get update && apt-get install -y nginx-light wrk curl; or run with --install)"
    fi
fi
NGINX=$(command -v nginx)

# Command prefixes that pin to a CPU list (empty list: no pinning).
PIN_WRK=()
PIN_SRV=()
PIN_MOCK=()
[[ -n $WRK_CPUS ]] && PIN_WRK=(taskset -c "$WRK_CPUS")
[[ -n $SERVER_CPUS ]] && PIN_SRV=(taskset -c "$SERVER_CPUS")
[[ -n $MOCK_CPUS ]] && PIN_MOCK=(taskset -c "$MOCK_CPUS")

# --- build ----------------------------------------------------------------------------------
if [[ $BUILD == 1 ]]; then
    log "cargo build --release --bins --example floor_proxy (nice 19)"
    (cd "$ROOT" && nice -n 19 cargo build --release --quiet --bins --example floor_proxy)
fi
[[ -x $AMUX_BIN ]] || die "no amux binary at $AMUX_BIN (build with cargo build --release or set AMUX_BIN)"
[[ -x $FLOOR_BIN ]] || die "no floor proxy at $FLOOR_BIN (cargo build --release --example floor_proxy, or set FLOOR_BIN)"

# --- scratch dir, process cleanup -------------------------------------------------------------
RUN=$(mktemp -d "${TMPDIR:-/tmp}/amux-bench.XXXXXX")
chmod 755 "$RUN" # nginx workers may run as another user
PIDS=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [[ $KEEP == 1 ]]; then
        echo "scratch directory kept: $RUN" >&2
    else
        rm -rf "$RUN"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT_MOCK" "$PORT_PROXY" "$PORT_AMUX" "$PORT_FLOOR"; do
    port_free "$p" || die "port $p is in use (set PORT_BASE)"
done

# shellcheck source=benches/lib.sh
source "$HERE/lib.sh"

# --- servers --------------------------------------------------------------------------------
user=$(id -un)
fill() { # fill TEMPLATE PORT OUT: substitute the @NAME@ placeholders
    sed -e "s#@RUN@#$RUN#g" -e "s#@FIXTURES@#$HERE/fixtures#g" -e "s#@USER@#$user#g" \
        -e "s#@PORT@#$2#g" -e "s#@UPSTREAM_PORT@#$PORT_MOCK#g" "$1" >"$3"
}
mkdir -p "$RUN/mock-body" "$RUN/proxy-body" "$RUN/proxy-temp"

fill "$HERE/nginx/mock.conf" "$PORT_MOCK" "$RUN/mock.conf"
"${PIN_MOCK[@]}" "$NGINX" -e "$RUN/mock-error.log" -p "$RUN" -c "$RUN/mock.conf" 2>"$RUN/mock.stderr" &
PIDS+=($!)
wait_ready "http://127.0.0.1:$PORT_MOCK/ready" "${PIDS[-1]}" "mock nginx" "$RUN/mock.stderr" 200
MOCK_WORKER=$(pgrep -P "${PIDS[-1]}" | head -1)

fill "$HERE/nginx/proxy.conf" "$PORT_PROXY" "$RUN/proxy.conf"
"${PIN_SRV[@]}" "$NGINX" -e "$RUN/proxy-error.log" -p "$RUN" -c "$RUN/proxy.conf" 2>"$RUN/proxy.stderr" &
PIDS+=($!)
wait_ready "http://127.0.0.1:$PORT_PROXY/ready" "${PIDS[-1]}" "proxy nginx" "$RUN/proxy.stderr" 200
PROXY_WORKER=$(pgrep -P "${PIDS[-1]}" | head -1)

m="http://127.0.0.1:$PORT_MOCK"
TEAM=${TEAM:-1}
limits=""
[[ $TEAM == 1 ]] && limits=", rpm: 100000000, tpm: 100000000000"
cat >"$RUN/amux.yaml" <<EOF
discover_env: false
providers:
  anth-json: {kind: anthropic, base_url: '$m/json', api_key: sk-ant-upstream}
  anth-sse: {kind: anthropic, base_url: '$m/sse', api_key: sk-ant-upstream}
  oai-json: {kind: openai, base_url: '$m/json/v1', api_key: sk-oai-upstream}
  oai-sse: {kind: openai, base_url: '$m/sse/v1', api_key: sk-oai-upstream}
models:
  - {name: claude-json, provider: anth-json, model: claude-up$limits}
  - {name: claude-sse, provider: anth-sse, model: claude-up$limits}
  - {name: gpt-json, provider: oai-json, model: gpt-up$limits}
  - {name: gpt-sse, provider: oai-sse, model: gpt-up$limits}
EOF
if [[ $TEAM == 1 ]]; then
    # The keys benches/wrk/post.lua sends, stored as their hashes; prices for every deployment.
    sha() { printf '%s' "$1" | sha256sum | awk '{ print $1 }'; }
    cat >>"$RUN/amux.yaml" <<EOF
keys:
  - {name: bench-anthropic, team: platform, key_sha256: $(sha sk-ant-bench), rpm: 100000000, tpm: 100000000000}
  - {name: bench-openai, team: platform, key_sha256: $(sha sk-bench), rpm: 100000000, tpm: 100000000000}
prices:
  anth-json: {claude-up: {input: 3, output: 15, cache_read: 0.3, cache_write: 3.75}}
  anth-sse: {claude-up: {input: 3, output: 15, cache_read: 0.3, cache_write: 3.75}}
  oai-json: {gpt-up: {input: 2.5, output: 10, cache_read: 1.25}}
  oai-sse: {gpt-up: {input: 2.5, output: 10, cache_read: 1.25}}
EOF
fi
"${PIN_SRV[@]}" "$AMUX_BIN" serve --config "$RUN/amux.yaml" --listen "127.0.0.1:$PORT_AMUX" \
    2>"$RUN/amux.log" &
AMUX_PID=$!
PIDS+=("$AMUX_PID")
wait_ready "http://127.0.0.1:$PORT_AMUX/health/readiness" "$AMUX_PID" "amux" "$RUN/amux.log" 200

"${PIN_SRV[@]}" "$FLOOR_BIN" "127.0.0.1:$PORT_FLOOR" "http://127.0.0.1:$PORT_MOCK" 2>"$RUN/floor.log" &
FLOOR_PID=$!
PIDS+=("$FLOOR_PID")
wait_ready "http://127.0.0.1:$PORT_FLOOR/ready" "$FLOOR_PID" "floor" "$RUN/floor.log" 200

kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# CPU time (ns) a process has run so far, all threads (first field of each task's schedstat).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f", s }'; }
RSS_IDLE=$(kb "$AMUX_PID" VmRSS)
HWM_IDLE=$(kb "$AMUX_PID" VmHWM)
THREADS=$(kb "$AMUX_PID" Threads)
log "amux pid $AMUX_PID ready: VmRSS ${RSS_IDLE} kB, ${THREADS} threads"

# --- cases ----------------------------------------------------------------------------------
# An upstream fixture: its dialect, its path on the mock (and behind the proxy), the amux model
# routed to it, and whether the call streams.
#   group          dialect   mock path                  model       stream
GROUPS_=(
    "anthropic-json anthropic /json/v1/messages         claude-json false"
    "anthropic-sse  anthropic /sse/v1/messages          claude-sse  true"
    "openai-json    openai    /json/v1/chat/completions gpt-json    false"
    "openai-sse     openai    /sse/v1/chat/completions  gpt-sse     true"
)
other() { if [[ $1 == anthropic ]]; then echo openai; else echo anthropic; fi; }
api_path() { if [[ $1 == anthropic ]]; then echo /v1/messages; else echo /v1/chat/completions; fi; }
# What a complete answer contains, by caller dialect and mode.
marker() {
    case "$1-$2" in
    anthropic-false) echo '"stop_reason"' ;;
    anthropic-true) echo 'event: message_stop' ;;
    openai-false) echo '"finish_reason"' ;;
    openai-true) echo 'data: [DONE]' ;;
    esac
}

RESULTS=$RUN/results.tsv
: >"$RESULTS"

# run_case CONNS GROUP KIND CALLER URL MODEL STREAM
run_case() {
    local conns=$1 group=$2 kind=$3 caller=$4 url=$5 model=$6 stream=$7 body mark line
    [[ -z $ONLY || "$group $kind" =~ $ONLY ]] || return 0
    body=$HERE/fixtures/request-$caller.json
    mark=$(marker "$caller" "$stream")
    # One checked call first: a broken path is reported, not measured.
    sed -e "s/__MODEL__/$model/" -e "s/__STREAM__/$stream/" "$body" >"$RUN/check-body.json"
    local code
    local auth=(-H 'authorization: Bearer sk-bench')
    [[ $caller == anthropic ]] && auth=(-H 'x-api-key: sk-ant-bench')
    code=$(curl -s -o "$RUN/check-$group-$kind.out" -w '%{http_code}' --max-time 10 \
        -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' "${auth[@]}" \
        --data-binary "@$RUN/check-body.json" "$url" || true)
    if [[ $code != 200 ]] || ! grep -qF -- "$mark" "$RUN/check-$group-$kind.out"; then
        log "$group $kind c=$conns: FAILED check (HTTP $code): $(head -c 300 "$RUN/check-$group-$kind.out" | tr '\n' ' ')"
        printf '%s\t%s\t%s\tFAILED\n' "$conns" "$group" "$kind" >>"$RESULTS"
        return 0
    fi
    local envs=(BENCH_BODY="$body" BENCH_MODEL="$model" BENCH_STREAM="$stream" BENCH_DIALECT="$caller")
    env "${envs[@]}" "${PIN_WRK[@]}" wrk -t1 -c"$conns" -d"$WARMUP" -s "$HERE/wrk/post.lua" "$url" >/dev/null
    # CPU time of the server under test (the mock itself when direct) and of the mock.
    local srv=$MOCK_WORKER
    [[ $kind == proxy ]] && srv=$PROXY_WORKER
    [[ $kind == floor ]] && srv=$FLOOR_PID
    [[ $kind == same || $kind == cross ]] && srv=$AMUX_PID
    local srv0 mock0 srv_ns mock_ns
    srv0=$(cpu_ns "$srv")
    mock0=$(cpu_ns "$MOCK_WORKER")
    env "${envs[@]}" "${PIN_WRK[@]}" wrk -t1 -c"$conns" -d"$DURATION" -s "$HERE/wrk/post.lua" "$url" \
        >"$RUN/wrk-$round-$conns-$group-$kind.out"
    srv_ns=$(($(cpu_ns "$srv") - srv0))
    mock_ns=$(($(cpu_ns "$MOCK_WORKER") - mock0))
    line=$(grep '^RESULT ' "$RUN/wrk-$round-$conns-$group-$kind.out") || die "no RESULT line from wrk"
    local rss=-
    [[ $kind == same || $kind == cross ]] && rss=$(kb "$AMUX_PID" VmRSS)
    # conns group kind requests duration_us p50 p90 p99 max mean errors rss_kb srv_cpu_ns mock_cpu_ns
    echo "$line" | awk -v c="$conns" -v g="$group" -v k="$kind" -v rss="$rss" -v sns="$srv_ns" -v mns="$mock_ns" '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        err = f["connect_err"] + f["read_err"] + f["write_err"] + f["timeout_err"] + f["status_err"]
        printf "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%d\t%s\t%s\t%s\n", c, g, k, f["requests"],
            f["duration_us"], f["p50_us"], f["p90_us"], f["p99_us"], f["max_us"], f["mean_us"], err, rss, sns, mns
    }' >>"$RESULTS"
    log "$(tail -1 "$RESULTS" | awk -F'\t' '{ printf "c=%-3s %-15s %-6s %9.0f req/s  p50 %6.3f ms  p99 %6.3f ms  cpu %5.1f us/req  errors %d",
        $1, $2, $3, $4 / ($5 / 1e6), $6 / 1000, $8 / 1000, $13 / 1000 / $4, $11 }')"
}

# Jiffies of CPU (user + nice + system) used by everything, and by this benchmark: the servers,
# this shell and every child it waited for (wrk, curl, awk).
busy_all() { awk '$1 == "cpu" { print $2 + $3 + $4 }' /proc/stat; }
busy_ours() {
    local p t=0
    for p in "$MOCK_WORKER" "$PROXY_WORKER" "$AMUX_PID"; do
        t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
    done
    echo $((t + $(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)))
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STAT_START=$(head -1 /proc/stat)
ALL0=$(busy_all)
OURS0=$(busy_ours)
T0=$(date +%s)
for ((round = 1; round <= ROUNDS; round++)); do
    log "round $round of $ROUNDS"
    for conns in $CONNS; do
        for g in "${GROUPS_[@]}"; do
            read -r group dialect path model stream <<<"$g"
            run_case "$conns" "$group" direct "$dialect" "http://127.0.0.1:$PORT_MOCK$path" "$model" "$stream"
            run_case "$conns" "$group" proxy "$dialect" "http://127.0.0.1:$PORT_PROXY$path" "$model" "$stream"
            run_case "$conns" "$group" floor "$dialect" "http://127.0.0.1:$PORT_FLOOR$path" "$model" "$stream"
            run_case "$conns" "$group" same "$dialect" \
                "http://127.0.0.1:$PORT_AMUX$(api_path "$dialect")" "$model" "$stream"
            caller=$(other "$dialect")
            run_case "$conns" "$group" cross "$caller" \
                "http://127.0.0.1:$PORT_AMUX$(api_path "$caller")" "$model" "$stream"
        done
    done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
# CPU other processes used while the cases ran, in % of one CPU: how disturbed the run was.
OTHERS=$(awk -v a="$(($(busy_all) - ALL0))" -v o="$(($(busy_ours) - OURS0))" -v t="$(($(date +%s) - T0))" \
    -v hz="$(getconf CLK_TCK)" 'BEGIN { v = t > 0 ? 100 * (a - o) / hz / t : 0; printf "%.0f%%", (v < 0 ? 0 : v) }')
# Share of CPU time the hypervisor took away (steal) while the cases ran.
STEAL=$(printf '%s\n%s\n' "$STAT_START" "$(head -1 /proc/stat)" | awk '
    { t[NR] = 0; for (i = 2; i <= NF; i++) t[NR] += $i; s[NR] = $9 }
    END { d = t[2] - t[1]; printf "%.1f%%", (d > 0 ? 100 * (s[2] - s[1]) / d : 0) }')
RSS_AFTER=$(kb "$AMUX_PID" VmRSS)
HWM_AFTER=$(kb "$AMUX_PID" VmHWM)

# --- report ---------------------------------------------------------------------------------
report() {
    echo "## Run $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
        "$(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
    echo "- amux $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') ($AMUX_BIN)," \
        "$("$NGINX" -v 2>&1 | sed 's#.*/##; s#^#nginx #')," \
        "$(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')"
    echo "- wrk -t1 on CPU ${WRK_CPUS:-any}; mock on CPU ${MOCK_CPUS:-any}; proxy and amux on CPU ${SERVER_CPUS:-any};" \
        "$DURATION per case after a $WARMUP warm-up, $ROUNDS round(s); RUST_LOG=${RUST_LOG:-unset (info)};" \
        "team stack $([[ $TEAM == 1 ]] && echo "on (keys, RPM/TPM limits, prices, metrics)" || echo off)"
    echo "- load average before the cases $LOAD_START, after $LOAD_END; CPU steal during the cases $STEAL;" \
        "other processes used $OTHERS of one CPU meanwhile"
    echo
    awk -F'\t' -v rss_idle="$RSS_IDLE" -v hwm_idle="$HWM_IDLE" -v rss_after="$RSS_AFTER" \
        -v hwm_after="$HWM_AFTER" -f "$HERE/report.awk" "$RESULTS"
}
report | tee "$RUN/report.md"
[[ -n $OUT ]] && cp "$RUN/report.md" "$OUT"
exit 0
