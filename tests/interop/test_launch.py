"""`amux launch <harness> <provider> --prompt` with the real harnesses, through the in-process gateway.

Each harness is launched the way a user would (`amux launch claude mock-chat --model M --prompt
...`): the launcher resolves the provider from a config file (`--config`) that points at the mock
upstream, finds that the harness and the provider speak different APIs, starts its gateway
in-process on a free loopback port with a session token, points the harness at it (environment,
profile, settings or inline config, as docs/launcher.md says), runs the harness headless and
cleans up. The test checks that the harness printed the mock's answer, that every upstream call
was in the provider's dialect with the provider's key (never the session token), and that the
launcher's files are gone afterwards.

- Claude Code (Anthropic) -> an OpenAI-compatible Chat provider (kind vllm).
- Codex (Responses) -> an Anthropic provider.
- Gemini CLI (Gemini) -> an Anthropic provider, and a Chat provider.
- OpenCode (Chat) -> an Anthropic provider.

Every run has its own HOME (telemetry, update checks and other background traffic off), a bounded
timeout, and talks to loopback only. The HOME lives below a directory that nobody else can write
to (tests/interop/.cache): Gemini CLI ignores a settings file with a group- or world-writable
directory such as /tmp anywhere above it, and the launcher keeps its run files in $HOME/.amux.

The `--dry-run --json` tests print each harness's plan, in-process and direct, and check that no
key (the provider's, or the session token) appears in it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import harness
import mock_upstream as mu
import pytest
from conftest import amux_binary

LAUNCH_TIMEOUT_S = 120
HERE = Path(__file__).resolve().parent
SESSION_TOKEN = re.compile(r"amux-session-[0-9a-f]{8,}")


@dataclass(frozen=True)
class Case:
    harness: str
    provider: str  # a provider of the launcher's config (config_yaml)
    model: str
    binary_var: str  # where the binary is (else tests/interop/.cache)
    upstream_path: str
    text: str


CASES = {
    "claude": Case("claude", "up-chat", "mock-chat-model", "CLAUDE_BIN", "/v1/chat/completions", mu.OPENAI_TEXT),
    "codex": Case("codex", "up-anthropic", "mock-model", "CODEX_BIN", "/v1/messages", mu.ANTHROPIC_TEXT),
    "gemini": Case("gemini", "up-anthropic", "mock-model", "GEMINI_BIN", "/v1/messages", mu.ANTHROPIC_TEXT),
    "gemini-chat": Case("gemini", "up-chat", "mock-chat-model", "GEMINI_BIN", "/v1/chat/completions", mu.OPENAI_TEXT),
    "opencode": Case("opencode", "up-anthropic", "mock-model", "OPENCODE_BIN", "/v1/messages", mu.ANTHROPIC_TEXT),
}

# Per harness: the environment that keeps it quiet and offline, and its own extra arguments.
HARNESS_ENV = {
    "claude": {
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_BUG_COMMAND": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_MAX_RETRIES": "1",
        "API_TIMEOUT_MS": str((LAUNCH_TIMEOUT_S - 20) * 1000),
    },
    "codex": {},
    "gemini": {"GEMINI_CLI_TRUST_WORKSPACE": "true", "CI": "1"},
    "opencode": {
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
        "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
        "OPENCODE_DISABLE_SHARE": "1",
    },
}
HARNESS_ARGS = {
    "claude": [],
    "codex": [
        "--skip-git-repo-check",
        "--ephemeral",
        "--color",
        "never",
        "-s",
        "read-only",
        "-c",
        "analytics.enabled=false",
        "-c",
        "check_for_update_on_startup=false",
    ],
    "gemini": [],
    "opencode": [],
}
# Gemini CLI's user settings (the launcher's system settings layer adds auth and model on top).
GEMINI_USER_SETTINGS = {
    "telemetry": {"enabled": False},
    "privacy": {"usageStatisticsEnabled": False},
    "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
}


def config_yaml(mock_port: int, key: str = mu.API_KEY) -> str:
    """The launcher's providers, all at the mock: one per upstream dialect the tests translate to,
    and the harnesses' own (openai for Codex, gemini for Gemini CLI) for the direct route."""
    return f"""\
providers:
  up-anthropic:
    kind: anthropic
    base_url: "http://127.0.0.1:{mock_port}"
    api_key: {json.dumps(key)}
  up-chat:
    kind: vllm
    base_url: "http://127.0.0.1:{mock_port}/v1"
    api_key: {json.dumps(key)}
  up-openai:
    kind: openai
    base_url: "http://127.0.0.1:{mock_port}/v1"
    api_key: {json.dumps(key)}
  up-gemini:
    kind: gemini
    base_url: "http://127.0.0.1:{mock_port}"
    api_key: {json.dumps(key)}
"""


def _secure(d: Path) -> bool:
    """No directory from d up is writable by group or others (Gemini CLI's test)."""
    for p in [d, *d.parents]:
        try:
            if p.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return False
        except OSError:
            return False
    return True


def private_root() -> Path:
    for base in (HERE / ".cache", Path.home() / ".cache"):
        base.mkdir(parents=True, exist_ok=True)
        if _secure(base):
            return base
    pytest.skip("no directory without group/world-writable parents for Gemini CLI's settings")


@pytest.fixture
def world() -> Iterator[Path]:
    """A private directory for one run: home/, project/, bin/ and the launcher's config."""
    root = Path(tempfile.mkdtemp(prefix="launch-", dir=private_root()))
    root.chmod(0o700)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def harness_bin(case: Case) -> Path:
    b = harness.binary(case.binary_var, case.harness)
    if not b.exists():
        pytest.fail(f"{case.harness} not installed at {b}: run scripts/test.sh (it npm-installs it there)")
    return b


def launch_env(world: Path, case: Case, harness_path: Path | None) -> dict[str, str]:
    home = world / "home"
    env = harness.base_env(home)
    bindir = world / "bin"
    bindir.mkdir(exist_ok=True)
    if harness_path is not None:
        # Only this harness on PATH under the name the launcher looks for.
        link = bindir / harness_path.name
        if not link.exists():
            link.symlink_to(harness_path)
    env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
    env.update(HARNESS_ENV[case.harness])
    env["RUST_LOG"] = "warn"
    if case.harness == "gemini":
        (home / ".gemini").mkdir(parents=True, exist_ok=True)
        (home / ".gemini" / "settings.json").write_text(json.dumps(GEMINI_USER_SETTINGS))
    return env


@dataclass
class LaunchRun:
    returncode: object
    stdout: str
    stderr: str
    calls: list
    seconds: float
    detail: str


def launch(world: Path, env: dict[str, str], argv: list[str], mock=None) -> LaunchRun:
    binary = amux_binary()
    if not binary.is_file():
        pytest.fail(f"amux binary not found at {binary}: build it first (cargo build / scripts/test.sh)")
    project = world / "project"
    project.mkdir(exist_ok=True)
    start = time.monotonic()
    try:
        p = subprocess.run(
            [str(binary), "launch", *argv],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=LAUNCH_TIMEOUT_S,
            check=False,
        )
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc = f"none: timed out after {LAUNCH_TIMEOUT_S}s"
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
    seconds = time.monotonic() - start
    calls = [r for r in mock.recorded() if r["method"] == "POST"] if mock is not None else []
    summary = "\n".join(f"{r['path']} model={(r['body'] or {}).get('model')}" for r in calls)
    detail = (
        f"amux launch {' '.join(argv)}\nexit {rc} after {seconds:.1f}s\n--- stdout\n{out[-3000:]}"
        f"\n--- stderr\n{err[-3000:]}\n--- upstream calls\n{summary}"
    )
    return LaunchRun(rc, out, err, calls, seconds, detail)


def run_case(case: Case, world: Path, mock, model: str | None = None) -> LaunchRun:
    config = world / "amux.yaml"
    config.write_text(config_yaml(mock.port))
    env = launch_env(world, case, harness_bin(case))
    model = model or case.model
    argv = [case.harness, case.provider, "--config", str(config), "--model", model, "--prompt"]
    argv += ["Reply with a short greeting."]
    if HARNESS_ARGS[case.harness]:
        argv += ["--", *HARNESS_ARGS[case.harness]]
    return launch(world, env, argv, mock)


def check_answered(case: Case, r: LaunchRun, model: str) -> None:
    assert r.returncode == 0, r.detail
    assert case.text in r.stdout, r.detail
    assert r.calls, r.detail
    assert all(c["path"] == case.upstream_path for c in r.calls), r.detail
    assert all(c["body"]["model"] == model for c in r.calls), r.detail
    # The gateway called the upstream with the provider's key (the mock refuses any other); the
    # session token stayed between the harness and the gateway.
    assert not any(SESSION_TOKEN.search(json.dumps(c["headers"])) for c in r.calls), r.detail


def check_cleaned_up(world: Path, r: LaunchRun) -> None:
    """The run's private directory is gone and no launch manifest is left behind."""
    amux_home = world / "home" / ".amux"
    assert not any((amux_home / "run").glob("*")), r.detail
    assert not any((amux_home / "launch").glob("*.json")), r.detail


@pytest.mark.parametrize("name", list(CASES))
def test_launch_prompt_in_process_gateway(name, world, mock):
    case = CASES[name]
    r = run_case(case, world, mock)
    print(f"{name}: {r.seconds:.1f}s, {len(r.calls)} upstream calls")
    check_answered(case, r, case.model)
    check_cleaned_up(world, r)
    if case.harness == "codex":
        # The profile and the model catalog written for the run are removed afterwards.
        codex_home = world / "home" / ".codex"
        assert not (codex_home / "amux.config.toml").exists(), r.detail
        assert not (codex_home / "amux-model-catalog.json").exists(), r.detail
    if case.harness == "claude":
        # Every model slot routes: Claude Code's calls all carried the launched model.
        assert any(c["body"].get("stream") and c["body"].get("tools") for c in r.calls), r.detail


def test_launch_opencode_keeps_the_users_state_file(world, mock):
    """OpenCode's recent-models file gets the model for the run and is given back unchanged."""
    case = CASES["opencode"]
    state = world / "home" / ".local" / "state" / "opencode" / "model.json"
    state.parent.mkdir(parents=True)
    original = '{\n  "recent": [{"providerID": "mine", "modelID": "my-model"}],\n  "favorite": []\n}\n'
    state.write_text(original)
    r = run_case(case, world, mock)
    check_answered(case, r, case.model)
    assert state.read_text() == original, r.detail


def test_launch_opencode_claude_named_model(world, mock):
    """OpenCode marks Chat messages with `cache_control` when the model id contains "claude"."""
    case = CASES["opencode"]
    r = run_case(case, world, mock, model="mock-claude")
    check_answered(case, r, "mock-claude")


# -- --dry-run --json: the plan, with every key masked.

SECRET = "sk-launch-SECRET-7f3a9c"
# (harness, provider, route): in-process where the APIs differ, direct where the harness speaks
# the provider's API (the plan then holds the provider's own key).
DRY_RUNS = [
    ("claude", "up-chat", "in-process gateway"),
    ("claude", "up-anthropic", "direct"),
    ("codex", "up-anthropic", "in-process gateway"),
    ("codex", "up-openai", "direct"),
    ("gemini", "up-anthropic", "in-process gateway"),
    ("gemini", "up-gemini", "direct"),
    ("opencode", "up-anthropic", "in-process gateway"),
    ("opencode", "up-chat", "direct"),
]


@pytest.mark.parametrize("secret", [SECRET, 'sk-odd"quote\\slash-SECRET'], ids=["plain", "json-escapes"])
@pytest.mark.parametrize("name,provider,route", DRY_RUNS, ids=[f"{h}-{p}" for h, p, _ in DRY_RUNS])
def test_launch_dry_run_json_masks_secrets(name, provider, route, secret, world):
    config = world / "amux.yaml"
    config.write_text(config_yaml(9, secret))  # port 9: nothing is contacted
    case = next(c for c in CASES.values() if c.harness == name)
    env = launch_env(world, case, None)
    argv = [name, provider, "--config", str(config), "--model", "mock-model", "--prompt", "hi", "--dry-run", "--json"]
    r = launch(world, env, argv)
    assert r.returncode == 0, r.detail
    plan = json.loads(r.stdout)
    assert plan["harness"] == name and plan["launch"]["route"].startswith(route), r.detail
    everything = r.stdout + r.stderr
    escaped = json.dumps(secret)[1:-1]
    for s in {secret, escaped, json.dumps(escaped)[1:-1], "SECRET"}:
        assert s not in everything, f"{s!r} in the output:\n{r.detail}"
    assert not SESSION_TOKEN.search(everything), r.detail
    # The key the harness gets is in the plan, masked.
    assert "***" in json.dumps(plan["env"]), r.detail
    # A dry run changes nothing.
    for made in (".amux", ".codex", ".local"):
        assert not (world / "home" / made).exists(), r.detail


def observe_case(case: Case, world: Path, mock, provider: str | None, model: str, extra: list[str], route=None):
    """`amux launch ... --observe=DIR --json`: the run, and its `{"session": ...}` line."""
    config = world / "amux.yaml"
    config.write_text(config_yaml(mock.port))
    env = launch_env(world, case, harness_bin(case))
    where = route or [provider, "--config", str(config)]
    argv = [case.harness, *where, "--model", model, "--prompt"]
    argv += ["Reply with a short greeting.", f"--observe={world / 'sessions'}", "--json", "--"]
    argv += [*HARNESS_ARGS[case.harness], *extra]
    r = launch(world, env, argv, mock)
    assert r.returncode == 0, r.detail
    lines = [json.loads(x) for x in r.stderr.splitlines() if x.startswith('{"session"')]
    assert lines, r.detail
    return r, lines[0]["session"]


def test_launch_observe_codex_through_the_gateway_over_websocket(world, mock):
    """Codex through the in-process gateway (which it reaches over a WebSocket): every call is
    in the session's calls file from the gateway's own records, its raw output beside it."""
    case = CASES["codex"]
    r, s = observe_case(case, world, mock, case.provider, case.model, [])
    assert case.text in r.stdout, r.detail
    summary = s["summary"]
    assert summary["source"] == "gateway" and summary["calls"] == len(r.calls) >= 1, (summary, r.detail)
    assert summary["tokens"]["input"] > 0 and summary["tokens"]["output"] > 0, summary
    assert summary["waiting_ms"] > 0, summary
    calls = [json.loads(x) for x in Path(s["calls"]).read_text().splitlines()]
    assert all(c["provider"] == case.provider and c["stream"] is True for c in calls), calls
    sessions = json.loads(subprocess.run([str(amux_binary()), "sessions", "--json", "--dir", str(world / "sessions")],
                                         capture_output=True, text=True, check=True).stdout)
    (only,) = sessions["sessions"]
    assert case.text in Path(only["files"]["stdout"]).read_text()


def test_launch_observe_direct_claude_stream_json(world, mock):
    """Claude Code direct to an Anthropic provider: amux reads its own stream-json report."""
    case = CASES["claude"]
    r, s = observe_case(case, world, mock, "up-anthropic", "mock-claude", ["--output-format", "stream-json", "--verbose"])
    summary = s["summary"]
    assert summary["source"] == "claude stream-json", (summary, r.detail)
    assert summary["calls"] == len(r.calls) >= 1, (summary, r.detail)
    assert summary["tokens"]["input"] > 0 and summary["tokens"]["output"] > 0, summary
    assert summary["waiting_ms"] is None, summary  # not reported: unknown, not guessed


def test_launch_observe_team_gateway_codex_json(world, mock, amux):
    """Codex through a team gateway (`--gateway`, whose records amux cannot read): amux reads
    `codex exec --json`'s per-turn usage. The gateway answers the WebSocket handshake, so Codex
    is told to use it."""
    case = CASES["codex"]
    route = ["--gateway", amux.url, "--key", "any-key"]
    opened = amux.log_path.read_text(errors="replace").count("responses websocket opened")
    r, s = observe_case(case, world, mock, None, "claude-mock", ["--json"], route=route)
    assert "model_providers.amux.supports_websockets=true" in r.stderr, r.detail
    # The probe and Codex's own socket.
    assert amux.log_path.read_text(errors="replace").count("responses websocket opened") >= opened + 2, r.detail
    summary = s["summary"]
    assert summary["source"] == "codex exec --json", (summary, r.detail)
    assert summary["turns"] == 1 and summary["calls"] is None, summary
    assert summary["tokens"]["output"] > 0, summary
