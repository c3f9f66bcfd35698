# shellcheck shell=bash
# benches/lib.sh: shell helpers the bench scripts source (each defines its own `die`).

# wait_ready URL PID NAME LOG [TRIES]: polls URL every 50 ms until it answers (at most TRIES
# times, default 400: 20 s); dies with LOG shown if the process PID exits first or time runs out.
wait_ready() {
    local url=$1 pid=$2 name=$3 logf=$4 tries=${5:-400} i
    for ((i = 0; i < tries; i++)); do
        curl -sf -o /dev/null --max-time 2 "$url" && return 0
        kill -0 "$pid" 2>/dev/null || {
            cat "$logf" >&2 || true
            die "$name exited during start"
        }
        sleep 0.05
    done
    cat "$logf" >&2 || true
    die "$name not ready at $url after $((tries / 20)) s"
}
