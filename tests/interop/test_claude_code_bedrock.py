"""Real Claude Code in Bedrock mode pointed at amux's Bedrock surface:
`CLAUDE_CODE_USE_BEDROCK=1`, `ANTHROPIC_BEDROCK_BASE_URL=<amux>/bedrock` and
`CLAUDE_CODE_SKIP_BEDROCK_AUTH=1` (an open gateway), headless (`claude -p`).

- to an Anthropic upstream, the model named by a gateway alias: InvokeModelWithResponseStream on
  the byte path;
- to an OpenAI-compatible (Chat) upstream, the model named by a Bedrock cross-region profile id
  (`us.anthropic.claude-sonnet-4-5-20250929-v1:0`), which amux maps to the Claude name an alias
  serves: translated.

Skipped when the Claude Code binary is not installed (scripts/test.sh installs it). Its own HOME,
telemetry and update checks off, loopback only, bounded timeouts.
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
from conftest import ANTHROPIC_ALIAS, config_yaml, serve_amux

TIMEOUT_S = 120
PROFILE_ID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def claude_bin() -> Path | None:
    p = harness.binary("CLAUDE_BIN", "claude")
    return p if p.exists() else None


@pytest.fixture(scope="module")
def bedrock_gateway(mock_server: mu.MockServer) -> Iterator[str]:
    """amux with one more alias: the Claude name of PROFILE_ID, served by the Chat mock."""
    extra = "  - {name: claude-sonnet-4-5-20250929, provider: mock-chat, model: mock-chat}\n"
    with serve_amux(config_yaml(mock_server.port) + extra, "amux-ccb-") as url:
        yield url


def run_claude(gateway: str, model: str) -> subprocess.CompletedProcess:
    binary = claude_bin()
    if binary is None:
        pytest.skip("Claude Code is not installed (scripts/test.sh installs it)")
    home = tempfile.mkdtemp(prefix="ccb-home-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AWS_", "CLAUDE_"))}
    env.update(
        {
            "HOME": home,
            "CLAUDE_CODE_USE_BEDROCK": "1",
            "ANTHROPIC_BEDROCK_BASE_URL": gateway + "/bedrock",
            "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1",
            "AWS_REGION": "us-east-1",
            "ANTHROPIC_MODEL": model,
            "ANTHROPIC_SMALL_FAST_MODEL": model,
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "CLAUDE_CODE_MAX_RETRIES": "1",
            "API_TIMEOUT_MS": str((TIMEOUT_S - 20) * 1000),
        }
    )
    try:
        return subprocess.run(
            [str(binary), "-p", "Say hello"], env=env, cwd=home, capture_output=True, text=True, timeout=TIMEOUT_S
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_claude_code_bedrock_mode_to_anthropic(bedrock_gateway, mock):
    r = run_claude(bedrock_gateway, ANTHROPIC_ALIAS)
    assert r.returncode == 0, r.stderr[-2000:]
    assert mm.ANTHROPIC_TEXT in r.stdout
    calls = [c for c in mock.recorded() if c["path"] == "/v1/messages"]
    assert calls and all(c["body"]["model"] == "mock-claude" and c["body"]["stream"] is True for c in calls)
    assert all("anthropic_version" not in c["body"] for c in calls)
    assert "claude-code-20250219" in calls[0]["headers"]["anthropic-beta"]


def test_claude_code_bedrock_mode_profile_id_to_chat(bedrock_gateway, mock):
    r = run_claude(bedrock_gateway, PROFILE_ID)
    assert r.returncode == 0, r.stderr[-2000:]
    assert mm.OPENAI_TEXT in r.stdout
    calls = [c for c in mock.recorded() if c["path"] == "/v1/chat/completions"]
    assert calls and calls[0]["body"]["model"] == "mock-chat"
