#!/usr/bin/env bash
# scripts/fuzz.sh: runs every cargo-fuzz target (fuzz/fuzz_targets) for a set time each, seeded
# from tests/fixtures. Not part of scripts/test.sh (a fuzz build is a separate nightly build of
# the whole crate); run it by hand or on a schedule.
#
#   scripts/fuzz.sh                 # every target, SECONDS_EACH=60
#   SECONDS_EACH=600 scripts/fuzz.sh stream request_decode
#
# Targets: request_decode (every dialect's request decoder, the policy and every encoder),
# response_decode (whole answers and error bodies), stream (stream translation: SSE parser,
# event-stream framing, every stream decoder and encoder, and the property that the output does
# not depend on how the upstream bytes are split), stream_fast (the Anthropic and OpenAI stream
# decoders' hand readers decode what their serde paths do), sse, splice (the same-dialect
# top-level scan and rewrite), config (config loading and the provider registry), eventstream (the AWS
# event-stream codec alone).
#
# Seeds are written to fuzz/corpus/<target>/ from tests/fixtures (each target's first bytes pick
# the dialects; see the targets); what libFuzzer finds is kept there too (ignored by git). A
# crash leaves fuzz/artifacts/<target>/crash-*: turn it into a regression test, then delete it.
#
# Environment: SECONDS_EACH (60), JOBS (1; more runs libFuzzer's -fork), SANITIZER (none: safe Rust, so panics, hangs and
# runaway allocations are the findings; `address` for ASan, slower), CARGO_TARGET_DIR (fuzz builds
# use the nightly toolchain and their own profile: give them their own directory).
# Exit status: 0 when no target found anything, 1 otherwise, 2 setup problem.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH=${SECONDS_EACH:-60}
JOBS=${JOBS:-1}
SANITIZER=${SANITIZER:-none}
ALL=(request_decode response_decode stream stream_fast sse splice config eventstream)
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=("${ALL[@]}")

cargo +nightly fuzz --version >/dev/null 2>&1 || {
  echo "fuzz.sh: needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz)" >&2
  exit 2
}

# -- Seeds from tests/fixtures, with the selector bytes each target reads first.
python3 - "${TARGETS[@]}" <<'PY'
import os, re, struct, sys, zlib
from pathlib import Path

fx = Path("../tests/fixtures")
dialects = ["anthropic", "openai_chat", "openai_responses", "gemini", "bedrock_converse"]
wanted = set(sys.argv[1:])

def frame(kind, name, payload):
    """One AWS event-stream frame (the .evs fixture lines are `<kind> <name> <payload>`)."""
    def header(k, v):
        k, v = k.encode(), v.encode()
        return bytes([len(k)]) + k + b"\x07" + struct.pack(">H", len(v)) + v
    type_key = ":event-type" if kind == "event" else ":exception-type"
    headers = header(":message-type", kind) + header(type_key, name) + header(":content-type", "application/json")
    body = payload.encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    msg = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return msg + struct.pack(">I", zlib.crc32(msg))

def streams(i, d):
    for f in sorted((fx / d / "streams").glob("*")):
        if f.suffix == ".evs":
            data = b""
            for line in f.read_text().splitlines():
                if line.strip():
                    kind, name, payload = (line.split(" ", 2) + [""])[:3]
                    data += frame(kind, name, payload)
            yield f.stem, data
        else:
            yield f.stem, f.read_bytes()

def put(target, name, data):
    if target not in wanted:
        return
    d = Path("corpus") / target
    d.mkdir(parents=True, exist_ok=True)
    (d / re.sub(r"[^A-Za-z0-9_.-]", "_", name)).write_bytes(data)

for i, d in enumerate(dialects):
    for f in sorted((fx / d / "requests").glob("*.json")):
        put("request_decode", f"{d}-{f.stem}", bytes([i]) + f.read_bytes())
        put("splice", f"{d}-{f.stem}", f.read_bytes())
    for f in sorted((fx / d / "responses").glob("*.json")):
        put("response_decode", f"{d}-{f.stem}", bytes([i, 0]) + f.read_bytes())
    for f in sorted((fx / d / "errors").glob("*.json")):
        m = re.match(r"(\d+)", f.stem)
        status = int(m.group(1)) if m else 500
        put("response_decode", f"{d}-err-{f.stem}", bytes([i, (status - 400) % 200]) + f.read_bytes())
    for stem, data in streams(i, d):
        for j in range(len(dialects)):
            put("stream", f"{d}-{dialects[j]}-{stem}", bytes([i, j, 6]) + data)
        if d != "bedrock_converse":
            put("sse", f"{d}-{stem}", bytes([5]) + data)
        if d in ("anthropic", "openai_chat"):
            put("stream_fast", f"{d}-{stem}", bytes([0 if d == "anthropic" else 1]) + data)
for n, f in enumerate(["anthropic.sse", "openai.sse"]):
    put("stream_fast", f"bench-{f}", bytes([n]) + (Path("../benches/fixtures") / f).read_bytes())
for f in sorted(Path("../config").glob("*.yaml")):
    put("config", f.stem, f.read_bytes())
for f in sorted((fx / "eventstream").glob("*.hex")):
    put("eventstream", f.stem, bytes([3]) + bytes.fromhex(re.sub(r"\s", "", f.read_text())))
PY
mkdir -p corpus/eventstream
[[ ! -d seeds/eventstream ]] || cp -n seeds/eventstream/* corpus/eventstream/ 2>/dev/null || true

cargo +nightly fuzz build -s "$SANITIZER" 2>&1 | tail -n 3
fork=()
((JOBS > 1)) && fork=(-fork="$JOBS")
found=()
for t in "${TARGETS[@]}"; do
  printf '\n==> fuzz %s for %ss\n' "$t" "$SECONDS_EACH"
  mkdir -p "corpus/$t"
  if ! cargo +nightly fuzz run -s "$SANITIZER" "$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" "${fork[@]}" -rss_limit_mb=2048 \
    -timeout=10 -max_len=262144 -print_final_stats=1 2>&1 | tail -n 25; then
    found+=("$t")
  fi
done
if ((${#found[@]})); then
  printf '\nfindings in: %s (see fuzz/artifacts/)\n' "${found[*]}" >&2
  exit 1
fi
printf '\nno findings\n'
