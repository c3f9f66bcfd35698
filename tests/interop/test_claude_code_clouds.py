"""Real Claude Code in its cloud modes pointed at amux, headless (`claude -p`), to an upstream of
another dialect (the OpenAI Chat mock): plain, and a tool round trip (the mock asks for the Read
tool; the file's content comes back under the same call id).

- Vertex mode: `CLAUDE_CODE_USE_VERTEX=1`, `ANTHROPIC_VERTEX_BASE_URL=<amux>/vertex/v1`,
  `ANTHROPIC_VERTEX_PROJECT_ID`, `CLOUD_ML_REGION`, `CLAUDE_CODE_SKIP_VERTEX_AUTH=1` (an open
  gateway): streamRawPredict on amux's Vertex surface.
- Foundry mode: `CLAUDE_CODE_USE_FOUNDRY=1`, `ANTHROPIC_FOUNDRY_BASE_URL=<amux>/anthropic`,
  `ANTHROPIC_FOUNDRY_API_KEY=<amux key>`: Messages on amux's Foundry path.

The model is named as Vertex names Claude (`claude-sonnet-4-5@20250929`): amux reads `@` as `-`
and routes the Claude API name, which this gateway serves by an alias to the Chat mock.
Skipped when the Claude Code binary is not installed (scripts/test.sh installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import mock_model as mm
import harness
import mock_upstream as mu
import pytest
from conftest import config_yaml, serve_amux

TIMEOUT_S = 120
VERTEX_ID = "claude-sonnet-4-5@20250929"


def claude_bin() -> Path | None:
    p = harness.binary("CLAUDE_BIN", "claude")
    return p if p.exists() else None


@pytest.fixture(scope="module")
def vertex_gateway(mock_server: mu.MockServer) -> Iterator[str]:
    """amux with one more alias: the Claude API name of VERTEX_ID, served by the Chat mock."""
    extra = "  - {name: claude-sonnet-4-5-20250929, provider: mock-chat, model: mock-chat}\n"
    with serve_amux(config_yaml(mock_server.port) + extra, "amux-ccv-") as url:
        yield url


FOUNDRY = {"CLAUDE_CODE_USE_FOUNDRY": "1", "ANTHROPIC_FOUNDRY_API_KEY": "amux-foundry-key"}


def run_claude(
    gateway: str, prompt: str, *args: str, cwd: Path | None = None, foundry: bool = False
) -> subprocess.CompletedProcess:
    binary = claude_bin()
    if binary is None:
        pytest.skip("Claude Code is not installed (scripts/test.sh installs it)")
    home = tempfile.mkdtemp(prefix="ccv-home-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AWS_", "CLAUDE_", "GOOGLE_"))}
    env.update(
        {
            "HOME": home,
            "CLAUDE_CODE_USE_VERTEX": "1",
            "ANTHROPIC_VERTEX_BASE_URL": gateway + "/vertex/v1",
            "ANTHROPIC_VERTEX_PROJECT_ID": "amux-test-project",
            "CLOUD_ML_REGION": "us-east5",
            "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
            "ANTHROPIC_MODEL": VERTEX_ID,
            "ANTHROPIC_SMALL_FAST_MODEL": VERTEX_ID,
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "CLAUDE_CODE_MAX_RETRIES": "1",
            "API_TIMEOUT_MS": str((TIMEOUT_S - 20) * 1000),
        }
    )
    if foundry:
        for k in ("CLAUDE_CODE_USE_VERTEX", "ANTHROPIC_VERTEX_BASE_URL", "CLAUDE_CODE_SKIP_VERTEX_AUTH"):
            env.pop(k)
        env.update(FOUNDRY, ANTHROPIC_FOUNDRY_BASE_URL=gateway + "/anthropic")
        env["ANTHROPIC_MODEL"] = env["ANTHROPIC_SMALL_FAST_MODEL"] = "claude-sonnet-4-5-20250929"
    try:
        return subprocess.run(
            [str(binary), "-p", prompt, *args],
            env=env,
            cwd=cwd or home,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def chat_calls(mock: mu.MockServer) -> list[dict]:
    return [c for c in mock.recorded() if c["path"] == "/v1/chat/completions"]


def test_claude_code_vertex_mode_to_chat(vertex_gateway, mock):
    r = run_claude(vertex_gateway, "Say hello")
    assert r.returncode == 0, r.stderr[-2000:] + r.stdout[-2000:]
    assert mm.OPENAI_TEXT in r.stdout
    calls = chat_calls(mock)
    assert calls and all(c["body"]["model"] == "mock-chat" for c in calls)


def test_claude_code_vertex_mode_tool_round_trip(vertex_gateway, mock, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("vertex-marker-8080\n")
    prompt = f'Please call the Read tool with {{"file_path": "{notes}"}}'
    r = run_claude(vertex_gateway, prompt, "--allowedTools", "Read", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:] + r.stdout[-2000:]
    assert mm.TOOL_RESULT_PREFIX in r.stdout, r.stdout
    assert "vertex-marker-8080" in r.stdout, r.stdout
    calls = chat_calls(mock)
    assert len(calls) >= 2
    final = calls[-1]["body"]["messages"]
    call_ids = [c["id"] for m in final if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    result_ids = [m["tool_call_id"] for m in final if m["role"] == "tool"]
    assert call_ids and result_ids == call_ids


def test_claude_code_foundry_mode_to_chat(vertex_gateway, mock):
    r = run_claude(vertex_gateway, "Say hello", foundry=True)
    assert r.returncode == 0, r.stderr[-2000:] + r.stdout[-2000:]
    assert mm.OPENAI_TEXT in r.stdout
    assert chat_calls(mock)


def test_claude_code_foundry_mode_tool_round_trip(vertex_gateway, mock, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("foundry-marker-9090\n")
    prompt = f'Please call the Read tool with {{"file_path": "{notes}"}}'
    r = run_claude(vertex_gateway, prompt, "--allowedTools", "Read", cwd=tmp_path, foundry=True)
    assert r.returncode == 0, r.stderr[-2000:] + r.stdout[-2000:]
    assert "foundry-marker-9090" in r.stdout, r.stdout
