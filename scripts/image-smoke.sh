#!/usr/bin/env bash
# Smoke test of the runtime image: scripts/image-smoke.sh IMAGE (ENGINE=podman or docker).
#
# Starts two mock Anthropic upstreams on the host (Python's http.server): plain HTTP, and HTTPS
# with a certificate from a throwaway "corporate" CA. Runs the image with a read-only root
# filesystem, as its non-root user, all capabilities dropped, its config mounted read-only, and
# checks: the image listens on all interfaces by default; /health/readiness answers; a call with
# a virtual key reaches the mock through the container; the process runs as uid 65532; the HTTPS
# upstream is refused with the shipped roots alone and reached once the CA is mounted with
# SSL_CERT_DIR (the documented way); SIGTERM (`ENGINE stop`) ends it cleanly. Prints the image
# size. Host networking keeps it independent of the engine's bridge setup.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:?usage: image-smoke.sh IMAGE}
engine=${ENGINE:-podman}
run_args=()
[[ "$engine" == podman ]] && run_args+=(--runtime "${PODMAN_RUNTIME:-runc}")

work=$(mktemp -d)
name="amux-smoke-$$"
mock_pid=""
tls_pid=""
cleanup() {
  "$engine" rm -f "$name" >/dev/null 2>&1 || true
  if [[ -n "$mock_pid" ]]; then kill "$mock_pid" "$tls_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mock_port=$(free_port)
tls_port=$(free_port)
port=$(free_port)

cat >"$work/mock.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        model = json.loads(body)["model"]
        out = json.dumps({"id": "msg_1", "type": "message", "role": "assistant", "model": model,
                          "content": [{"type": "text", "text": "pong from the host"}],
                          "stop_reason": "end_turn", "stop_sequence": None,
                          "usage": {"input_tokens": 3, "output_tokens": 4}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
if len(sys.argv) > 2:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PY
# A throwaway CA and a certificate for localhost signed by it.
mkdir -p "$work/ca"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=amux-smoke-ca \
  -keyout "$work/ca.key" -out "$work/ca/corporate-ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$work/ext"
openssl x509 -req -days 1 -in "$work/tls.csr" -CA "$work/ca/corporate-ca.pem" -CAkey "$work/ca.key" \
  -CAcreateserial -extfile "$work/ext" -out "$work/tls.crt" 2>/dev/null
python3 "$work/mock.py" "$mock_port" &
mock_pid=$!
python3 "$work/mock.py" "$tls_port" "$work/tls.crt" "$work/tls.key" &
tls_pid=$!

key="amux-smoke-key-0123456789abcdef"
hash=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
mkdir -p "$work/config"
cat >"$work/config/amux.yaml" <<YAML
discover_env: false
providers:
  mock: {kind: anthropic, base_url: "http://127.0.0.1:$mock_port", api_key: upstream-key}
  tlsmock: {kind: anthropic, base_url: "https://localhost:$tls_port", api_key: upstream-key}
models:
  - {name: claude-smoke, provider: mock, model: claude-up}
  - {name: claude-tls, provider: tlsmock, model: claude-up}
keys:
  - {name: smoke, key_sha256: $hash}
YAML
chmod -R a+rX "$work"

http() { # http METHOD PATH [BODY] -> "STATUS BODY"
  python3 - "$@" <<'PY'
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(url, data=data, method=method, headers={
    "content-type": "application/json", "x-api-key": "amux-smoke-key-0123456789abcdef"})
try:
    with urllib.request.urlopen(req, timeout=5) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
except OSError as e:
    print(0, e)
PY
}

start() { # start [ENGINE RUN ARGS...]: runs the image, waits until it is ready
  "$engine" rm -f "$name" >/dev/null 2>&1 || true
  "$engine" run -d --name "$name" "${run_args[@]}" --network host --read-only --cap-drop ALL \
    --security-opt no-new-privileges -e AMUX_LISTEN="127.0.0.1:$port" \
    -v "$work/config:/etc/amux:ro" "$@" "$image" serve --config /etc/amux/amux.yaml >/dev/null
  for _ in $(seq 1 200); do
    [[ "$(http GET "http://127.0.0.1:$port/health/readiness" | cut -d' ' -f1)" == 200 ]] && return 0
    if [[ "$("$engine" inspect -f '{{.State.Running}}' "$name")" != true ]]; then
      "$engine" logs "$name" >&2
      echo "FAIL: the container exited" >&2
      exit 1
    fi
    sleep 0.05
  done
  echo "FAIL: not ready" >&2
  exit 1
}
call() { # call MODEL
  http POST "http://127.0.0.1:$port/v1/messages" "{\"model\":\"$1\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}"
}

listen=$("$engine" image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$image" | grep '^AMUX_LISTEN=' || true)
echo "default listen: $listen"
[[ "$listen" == "AMUX_LISTEN=0.0.0.0:8484" ]] || { echo "FAIL: not all interfaces by default" >&2; exit 1; }

start
echo "readiness: $(http GET "http://127.0.0.1:$port/health/readiness")"

answer=$(call claude-smoke)
echo "call through the container: $answer"
[[ "$answer" == "200 "*"pong from the host"* ]] || { "$engine" logs "$name" >&2; echo "FAIL: call" >&2; exit 1; }
answer=$(call claude-tls)
echo "HTTPS upstream, shipped roots only: ${answer:0:160}"
[[ "$answer" != "200 "* ]] || { echo "FAIL: a certificate of an unknown CA was accepted" >&2; exit 1; }

pid=$("$engine" inspect -f '{{.State.Pid}}' "$name")
uid=$(awk '/^Uid:/{print $2}' "/proc/$pid/status")
readonly_fs=$("$engine" inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$name")
echo "uid: $uid, read-only root filesystem: $readonly_fs"
[[ "$uid" == 65532 && "$readonly_fs" == true ]] || { echo "FAIL: not non-root with a read-only root" >&2; exit 1; }

stop() {
  local t0 code
  t0=$(date +%s.%N)
  "$engine" stop -t 30 "$name" >/dev/null
  code=$("$engine" inspect -f '{{.State.ExitCode}}' "$name")
  echo "stopped (SIGTERM) in $(python3 -c "print(round($(date +%s.%N) - $t0, 2))") s, exit code $code"
  [[ "$code" == 0 ]] || { "$engine" logs "$name" >&2; echo "FAIL: exit code $code" >&2; exit 1; }
}
stop

# The corporate CA, the documented way: a directory of PEM files and SSL_CERT_DIR.
start -v "$work/ca:/etc/ssl/corporate:ro" -e SSL_CERT_DIR=/etc/ssl/corporate
answer=$(call claude-tls)
echo "HTTPS upstream with the CA mounted: ${answer:0:60}"
[[ "$answer" == "200 "*"pong from the host"* ]] || { "$engine" logs "$name" >&2; echo "FAIL: corporate CA" >&2; exit 1; }
[[ "$(call claude-smoke)" == "200 "* ]] || { echo "FAIL: plain upstream with the CA mounted" >&2; exit 1; }
stop

echo "image size: $("$engine" image inspect -f '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1/1e6}')"
echo "image smoke test passed"
