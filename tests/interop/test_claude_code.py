"""The real Claude Code CLI, pointed at amux, answered by the OpenAI-compatible mock.

Claude Code speaks Anthropic Messages (streaming, many tools, betas, a small fast model for
background work); every model slot is set to gpt-mock, so each of its calls crosses to the OpenAI
dialect and back. It runs in a temporary HOME and project directory with telemetry, error
reporting, auto-update and other non-essential traffic off; it talks to loopback only.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import mock_upstream as mu
import pytest
from conftest import OPENAI_ALIAS, OPENAI_UPSTREAM_MODEL

CLAUDE_TIMEOUT_S = 120
CACHE = Path(__file__).resolve().parent / ".cache"


def claude_binary() -> Path:
    if os.environ.get("CLAUDE_BIN"):
        return Path(os.environ["CLAUDE_BIN"])
    return CACHE / "node_modules" / ".bin" / "claude"


def claude_env(amux_url: str, home: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TMPDIR": str(home / "tmp"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_PROXY": "127.0.0.1,localhost",
        "ANTHROPIC_BASE_URL": amux_url,
        "ANTHROPIC_AUTH_TOKEN": "interop-test-token",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_BUG_COMMAND": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "API_TIMEOUT_MS": str((CLAUDE_TIMEOUT_S - 10) * 1000),
        # A working gateway answers at once; a broken one should fail the test fast, not after
        # Claude Code's default ten retries with backoff.
        "CLAUDE_CODE_MAX_RETRIES": "1",
    }
    for var in (
        "ANTHROPIC_MODEL",
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "ANTHROPIC_SMALL_FAST_MODEL",
        "CLAUDE_CODE_SUBAGENT_MODEL",
    ):
        env[var] = OPENAI_ALIAS
    return env


def _text(b: bytes | str | None) -> str:
    return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")


@pytest.fixture
def claude() -> Path:
    binary = claude_binary()
    if not binary.exists():
        pytest.fail(f"Claude Code not installed at {binary}: run scripts/test.sh (it npm-installs it there)")
    return binary


def run_claude(claude: Path, gateway, mock, workdir: Path, prompt: str, *args: str):
    """Run `claude -p PROMPT ARGS` in workdir/project; returns (stdout, upstream POSTs, detail)."""
    home = workdir / "home"
    project = workdir / "project"
    for d in (home / "tmp", project):
        d.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(
            [str(claude), "-p", prompt, *args],
            cwd=project,
            env=claude_env(gateway.url, home),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLAUDE_TIMEOUT_S,
            check=False,
        )
        returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as e:
        returncode = f"none: timed out after {CLAUDE_TIMEOUT_S}s"
        stdout, stderr = _text(e.stdout), _text(e.stderr)
    calls = [r for r in mock.recorded() if r["method"] == "POST"]
    summary = "\n".join(
        f"{r['path']} model={(r['body'] or {}).get('model')} messages={len((r['body'] or {}).get('messages') or [])}"
        for r in calls
    )
    detail = (
        f"exit {returncode}\n--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"
        f"\n--- upstream calls\n{summary}\n--- amux log\n{gateway.log_tail(40)}"
    )
    assert returncode == 0, detail
    assert calls, detail
    assert all(r["path"] == "/v1/chat/completions" for r in calls), detail
    assert all(r["body"]["model"] == OPENAI_UPSTREAM_MODEL for r in calls), detail
    return stdout, calls, detail


def test_claude_code_print_mode(claude, gateway, mock, tmp_path):
    stdout, calls, detail = run_claude(claude, gateway, mock, tmp_path, "Reply with a short greeting.")
    assert mu.OPENAI_TEXT in stdout, detail
    # Claude Code's main turn streams and offers its tools; amux must carry both across.
    main = [r for r in calls if r["body"].get("stream") and r["body"].get("tools")]
    assert main, detail
    assert main[0]["body"].get("stream_options", {}).get("include_usage") is True, detail


def test_claude_code_tool_loop(claude, gateway, mock, tmp_path):
    """The mock asks Claude Code to run its Read tool; the file's content comes back as a result."""
    notes = tmp_path / "project" / "notes.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text("interop-marker-5150\n")
    prompt = f'Please call the Read tool with {{"file_path": "{notes}"}}'
    stdout, calls, detail = run_claude(claude, gateway, mock, tmp_path, prompt, "--allowedTools", "Read")
    assert mu.TOOL_RESULT_PREFIX in stdout, detail
    assert "interop-marker-5150" in stdout, detail
    assert len(calls) >= 2, detail
    # The tool call the mock made reached Claude Code and its result came back under the same id.
    final = calls[-1]["body"]["messages"]
    call_ids = [c["id"] for m in final if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    result_ids = [m["tool_call_id"] for m in final if m["role"] == "tool"]
    assert call_ids and result_ids == call_ids, detail
