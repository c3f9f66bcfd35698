#!/usr/bin/env bash
# The test command: installs what the tests need (only what is missing) and runs every suite.
#
#   1. Rust: `cargo nextest run` (dev profile; this also builds the amux binary), including
#      tests/lifecycle: the real `amux serve` process through SIGTERM (drain) and reloads.
#   1a. The instruction-count guard (benches/callgrind.sh: valgrind, nginx-light from apt).
#      The process tests (lifecycle, secrets, cli) run again pinned to one CPU, where amux runs its
#      single-thread runtime.
#   1b. A 35-second soak (benches/soak.py, stdlib Python), pinned to one CPU: mixed dialects,
#      streams, client hang-ups and injected upstream faults at 40 calls/s; no unexpected answer,
#      one usage line per call, nothing left in flight, no growth in file descriptors, threads or
#      RSS.
#   1c. Deploy checks (scripts/check-deploy.sh, with its own pinned venv .venv-deploy): version
#      sync, hadolint, actionlint, the Helm chart linted, rendered with every helm/amux/ci values
#      file, validated against the Kubernetes schemas and run against the binary.
#   2. Interop: a Python venv (.venv-interop) with pinned official SDKs (anthropic, openai,
#      google-genai, boto3), the real coding agents Claude Code, Codex, Gemini CLI, OpenCode, Copilot CLI,
#      Pi, Qwen Code and Droid from npm (pinned, into tests/interop/.cache, each installed once),
#      Hermes and Aider from PyPI (pinned, each in its own venv: their dependency pins clash with
#      the SDKs'), then `pytest tests/interop` against amux and a mock upstream that speaks all four
#      dialects and refuses what the real APIs refuse (test_launch.py runs harnesses through
#      `amux launch`; test_agents.py runs every agent pointed at amux by env/config, one
#      cross-dialect pairing per agent and dialect; scripts/agents-matrix.sh runs all pairings;
#      the cloud surfaces: boto3 and Claude Code in Bedrock mode, google-genai (vertexai=True),
#      AnthropicVertex, Claude Code and Gemini CLI in Vertex mode, AzureOpenAI and AnthropicFoundry).
#
# Every step runs even when an earlier one failed; the script exits non-zero if any failed.
# Everything the tests start listens on 127.0.0.1 only.
# SETUP_ONLY=1: install and build only (no tests); scripts/agents-matrix.sh uses it. With AMUX_BIN
# set to an existing binary, SETUP_ONLY skips the cargo build too.
set -uo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)

# Pinned versions of what the interop tests install.
PY_PACKAGES=(openai==3.51.0 anthropic==2.10.0 google-genai==3.3.0 boto3==1.43.11 pydantic==2.14.3 websockets==17.4 pytest==9.2.0 pytest-timeout==2.4.0)
CLAUDE_CODE_VERSION=2.1.328
CODEX_VERSION=0.169.0
GEMINI_CLI_VERSION=0.61.0
OPENCODE_VERSION=1.18.33
COPILOT_VERSION=1.0.102
PI_VERSION=0.73.1
QWEN_VERSION=0.24.4
# Droid: the registry has @factory/cli only at 0.225.1 and its platform package only at 0.225.2
# (no matching pair); the wrapper's postinstall would then download the binary from Factory's
# site, which is not reachable. The platform package is the droid binary itself: installed alone.
DROID_VERSION=0.225.2
HERMES_PACKAGES=(hermes-agent==0.19.0)
AIDER_PACKAGES=(aider-chat==0.86.2)
SETUP_ONLY="${SETUP_ONLY:-0}"
VENV="$REPO/.venv-interop"
NPM_CACHE_DIR="$REPO/tests/interop/.cache"

failed=()
step() { printf '\n==> %s\n' "$*"; }
fail() { printf '!! %s\n' "$*" >&2; failed+=("$1"); }

# -- System packages, only when missing (apt-get update once, first).
apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  step "apt-get install ${missing[*]}"
  if ((apt_updated == 0)); then
    apt-get update -qq && apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
command -v python3 >/dev/null || apt_install python3
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
command -v npm >/dev/null || apt_install nodejs npm
# The rate-limit and cache tests start a real redis-server on a free loopback port.
command -v redis-server >/dev/null || apt_install redis-server
# The metrics tests run `promtool check metrics` / `check rules` (promtool ships in Debian's
# prometheus package, about 100 MB installed; only the binary is used, no server is started).
command -v promtool >/dev/null || apt_install prometheus
if ! cargo nextest --version >/dev/null 2>&1; then
  step "cargo install cargo-nextest"
  cargo install --locked cargo-nextest || fail "install cargo-nextest"
fi

# -- Rust tests (and the amux binary the interop tests run).
if [[ "$SETUP_ONLY" != 1 ]]; then
  step "cargo nextest run"
  cargo nextest run --no-fail-fast || fail "cargo nextest"
  # The process tests once more on one CPU: `amux serve` then runs its single-thread runtime
  # (src/main.rs), through drain, reloads, TLS, traces and the secrets checks. Left out: the
  # ConfigMap test's bound on new upstream connections, which counts on the load's calls handing
  # their connections back before the probe calls start (on one shared CPU, not always).
  step "cargo nextest run (one CPU: the single-thread runtime)"
  taskset -c 0 cargo nextest run --no-fail-fast \
    -E '(binary(lifecycle) | binary(secrets) | binary(cli)) - test(configmap_swap_reloads_under_load)' ||
    fail "cargo nextest on one CPU"
fi
if [[ "$SETUP_ONLY" != 1 || ! -x "${AMUX_BIN:-}" ]]; then
  step "cargo build --bin amux"
  cargo build --bin amux || fail "cargo build"
fi
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])') ||
  TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
if [[ "$SETUP_ONLY" != 1 || ! -x "${AMUX_BIN:-}" ]]; then
  export AMUX_BIN="$TARGET_DIR/debug/amux"
fi

if [[ "$SETUP_ONLY" != 1 ]]; then
  # -- Instructions per call under callgrind against the committed budget (benches/callgrind.sh):
  #    deterministic, so it guards the hot path on any machine.
  step "benches/callgrind.sh"
  command -v valgrind >/dev/null || apt_install valgrind
  command -v nginx >/dev/null || apt_install nginx-light
  command -v curl >/dev/null || apt_install curl
  AMUX_BIN="$AMUX_BIN" bash benches/callgrind.sh || fail "instruction budget (benches/callgrind.sh)"

  # -- A short soak with faults (docs/operations.md#soak has a longer run's figures).
  step "benches/soak.py"
  #    On one CPU, so amux runs its single-thread runtime (the multi-thread one is what every
  #    other process test and the interop tests run).
  taskset -c 0 python3 benches/soak.py --amux "$AMUX_BIN" --duration 30 --warmup 5 --rate 40 >/dev/null ||
    fail "soak (benches/soak.py)"

  # -- Deploy checks (chart, Dockerfile, workflows, one version everywhere).
  step "scripts/check-deploy.sh"
  command -v shellcheck >/dev/null || apt_install shellcheck
  bash scripts/check-deploy.sh || fail "deploy checks"
fi

# -- Python venv with the official SDKs (reused while the pins are unchanged).
stamp="$VENV/.pins"
if [[ ! -x "$VENV/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "${PY_PACKAGES[*]}" ]]; then
  step "python venv $VENV"
  { [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"; } &&
    "$VENV/bin/pip" install -q --disable-pip-version-check --timeout 60 "${PY_PACKAGES[@]}" &&
    echo "${PY_PACKAGES[*]}" >"$stamp" || fail "python venv"
fi

# -- Hermes and Aider, each in its own venv (reused while the pin is unchanged).
py_agent() { # py_agent VENV_DIR PACKAGES...: a venv with exactly these pinned packages
  local venv="$1"
  shift
  if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.pins" 2>/dev/null)" != "$*" ]]; then
    step "python venv $venv ($*)"
    { [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"; } &&
      "$venv/bin/pip" install -q --disable-pip-version-check --timeout 60 "$@" &&
      echo "$*" >"$venv/.pins" || fail "install $*"
  fi
}
py_agent "$REPO/.venv-hermes" "${HERMES_PACKAGES[@]}"
py_agent "$REPO/.venv-aider" "${AIDER_PACKAGES[@]}"
export HERMES_BIN="$REPO/.venv-hermes/bin/hermes" AIDER_BIN="$REPO/.venv-aider/bin/aider"

# -- Claude Code, once (it ships its native binary inside a registry package).
claude="$NPM_CACHE_DIR/node_modules/.bin/claude"
claude_ok() { [[ -x "$claude" ]] && "$claude" --version 2>/dev/null | grep -q "^$CLAUDE_CODE_VERSION "; }
if ! claude_ok; then
  step "npm install @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION"
  mkdir -p "$NPM_CACHE_DIR"
  timeout 600 npm install --prefix "$NPM_CACHE_DIR" --no-audit --no-fund --loglevel=error \
    "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION"
  # The package's postinstall puts the native binary in place; run it if npm skipped it.
  claude_ok || (cd "$NPM_CACHE_DIR/node_modules/@anthropic-ai/claude-code" && node install.cjs)
  claude_ok || fail "install Claude Code"
fi
export CLAUDE_BIN="$claude"

# -- Codex, Gemini CLI and OpenCode, once each (Codex and OpenCode ship their native binaries as
#    optional dependencies).
npm_cli() { # npm_cli PACKAGE VERSION BIN: install PACKAGE@VERSION unless BIN --version reports VERSION
  local bin="$NPM_CACHE_DIR/node_modules/.bin/$3"
  # (Pi prints its version on stderr.)
  if ! { [[ -x "$bin" ]] && timeout 60 "$bin" --version 2>&1 | grep -q "$2"; }; then
    step "npm install $1@$2"
    mkdir -p "$NPM_CACHE_DIR"
    timeout 600 npm install --prefix "$NPM_CACHE_DIR" --no-audit --no-fund --loglevel=error "$1@$2" &&
      timeout 60 "$bin" --version 2>&1 | grep -q "$2" || fail "install $1"
  fi
}
npm_cli @openai/codex "$CODEX_VERSION" codex
npm_cli @google/gemini-cli "$GEMINI_CLI_VERSION" gemini
npm_cli opencode-ai "$OPENCODE_VERSION" opencode
npm_cli @github/copilot "$COPILOT_VERSION" copilot
npm_cli @mariozechner/pi-coding-agent "$PI_VERSION" pi
npm_cli @qwen-code/qwen-code "$QWEN_VERSION" qwen
droid="$NPM_CACHE_DIR/node_modules/@factory/cli-linux-x64/bin/droid"
if ! { [[ -x "$droid" ]] && timeout 60 "$droid" --version 2>/dev/null | grep -q "$DROID_VERSION"; }; then
  step "npm install @factory/cli-linux-x64@$DROID_VERSION"
  mkdir -p "$NPM_CACHE_DIR"
  timeout 600 npm install --prefix "$NPM_CACHE_DIR" --no-audit --no-fund --loglevel=error \
    "@factory/cli-linux-x64@$DROID_VERSION" &&
    timeout 60 "$droid" --version 2>/dev/null | grep -q "$DROID_VERSION" || fail "install Droid"
fi
export DROID_BIN="$droid"
export COPILOT_BIN="$NPM_CACHE_DIR/node_modules/.bin/copilot" PI_BIN="$NPM_CACHE_DIR/node_modules/.bin/pi"
export QWEN_BIN="$NPM_CACHE_DIR/node_modules/.bin/qwen"
export CODEX_BIN="$NPM_CACHE_DIR/node_modules/.bin/codex" GEMINI_BIN="$NPM_CACHE_DIR/node_modules/.bin/gemini"
export OPENCODE_BIN="$NPM_CACHE_DIR/node_modules/.bin/opencode"

if [[ "$SETUP_ONLY" == 1 ]]; then
  ((${#failed[@]})) && { printf '\nFAILED: %s\n' "${failed[*]}" >&2; exit 1; }
  exit 0
fi

# -- Interop tests.
step "pytest tests/interop"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider --timeout=300 tests/interop || fail "pytest interop"

if ((${#failed[@]})); then
  printf '\nFAILED: %s\n' "${failed[*]}" >&2
  exit 1
fi
printf '\nall tests passed\n'
