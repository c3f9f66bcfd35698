"""The real Gemini CLI (`gemini -p`), pointed at amux, answered by mocks of other dialects.

Gemini CLI speaks Gemini (`:streamGenerateContent?alt=sse`, `x-goog-api-key`); here its calls are
translated to the Anthropic mock (and, where amux still refuses, to the OpenAI ones). It runs in
an isolated HOME whose settings select gemini-api-key auth with telemetry, usage statistics and
auto-update off, with GOOGLE_GEMINI_BASE_URL at amux; it talks to loopback only.
"""

from __future__ import annotations

import json
from pathlib import Path

import harness
import mock_upstream as mu
import pytest
from conftest import ANTHROPIC_ALIAS, OPENAI_ALIAS, RESPONSES_ALIAS

SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "telemetry": {"enabled": False},
    "privacy": {"usageStatisticsEnabled": False},
    "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
}


@pytest.fixture
def gemini() -> Path:
    b = harness.binary("GEMINI_BIN", "gemini")
    if not b.exists():
        pytest.fail(f"Gemini CLI not installed at {b}: run scripts/test.sh (it npm-installs it there)")
    return b


def run_gemini(gemini: Path, gateway, mock, tmp: Path, model: str, prompt: str) -> harness.Run:
    home, project = tmp / "home", tmp / "project"
    project.mkdir(parents=True, exist_ok=True)
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    (home / ".gemini" / "settings.json").write_text(json.dumps(SETTINGS))
    env = harness.base_env(home)
    env.update(
        {
            "GEMINI_API_KEY": "gemini-interop-key",
            "GOOGLE_GEMINI_BASE_URL": gateway.url,
            "GEMINI_CLI_TRUST_WORKSPACE": "true",
            "CI": "1",
        }
    )
    return harness.run([str(gemini), "-m", model, "-p", prompt], project, env, gateway, mock)


def test_gemini_cli_print(gemini, gateway, mock, tmp_path):
    r = run_gemini(gemini, gateway, mock, tmp_path, ANTHROPIC_ALIAS, "Reply with a short greeting.")
    assert r.returncode == 0, r.detail
    assert mu.ANTHROPIC_TEXT in r.stdout, r.detail
    assert r.calls and all(c["path"] == "/v1/messages" for c in r.calls), r.detail
    body = r.calls[0]["body"]
    assert body["stream"] is True and body["tools"] and body["system"], r.detail
    assert "gemini-interop-key" not in json.dumps(r.calls[0]["headers"]), r.detail


def test_gemini_cli_tool_loop(gemini, gateway, mock, tmp_path):
    """The Anthropic mock asks Gemini CLI to run read_file; the content comes back as a tool result."""
    (tmp_path / "project").mkdir(parents=True)
    (tmp_path / "project" / "notes.txt").write_text("gemini-marker-7373\n")
    prompt = 'Please call the read_file tool with {"file_path": "notes.txt"}'
    r = run_gemini(gemini, gateway, mock, tmp_path, ANTHROPIC_ALIAS, prompt)
    assert r.returncode == 0, r.detail
    assert mu.TOOL_RESULT_PREFIX in r.stdout and "gemini-marker-7373" in r.stdout, r.detail
    assistant, results = r.calls[-1]["body"]["messages"][-2:]
    call_ids = [b["id"] for b in assistant["content"] if b["type"] == "tool_use"]
    result_ids = [b["tool_use_id"] for b in results["content"] if b["type"] == "tool_result"]
    assert call_ids and result_ids == call_ids, r.detail


@pytest.mark.parametrize("alias,text", [(OPENAI_ALIAS, mu.OPENAI_TEXT), (RESPONSES_ALIAS, mu.RESPONSES_TEXT)])
def test_gemini_cli_openai_upstreams(gemini, gateway, mock, tmp_path, alias, text):
    """Gemini CLI always sends generationConfig.topK (64); OpenAI's APIs have no top_k and refuse it
    (open-model servers such as vLLM take it: see the launch test with a kind vllm provider)."""
    r = run_gemini(gemini, gateway, mock, tmp_path, alias, "Reply with a short greeting.")
    assert r.returncode == 0, r.detail
    assert text in r.stdout, r.detail
    up_path = "/v1/chat/completions" if alias == OPENAI_ALIAS else "/v1/responses"
    assert r.calls and all(c["path"] == up_path for c in r.calls), r.detail
    assert "top_k" not in r.calls[0]["body"], "top_k went to an OpenAI upstream"


VERTEX_SETTINGS = {**SETTINGS, "security": {"auth": {"selectedType": "vertex-ai"}}}


def run_gemini_vertex(gemini: Path, gateway, mock, tmp: Path, model: str, prompt: str) -> harness.Run:
    """Gemini CLI in Vertex mode (`vertex-ai` auth, GOOGLE_GENAI_USE_VERTEXAI, an API key as
    Vertex express mode takes it), with GOOGLE_VERTEX_BASE_URL at amux's Vertex surface."""
    home, project = tmp / "home", tmp / "project"
    project.mkdir(parents=True, exist_ok=True)
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    (home / ".gemini" / "settings.json").write_text(json.dumps(VERTEX_SETTINGS))
    env = harness.base_env(home)
    env.update(
        {
            "GOOGLE_GENAI_USE_VERTEXAI": "true",
            "GOOGLE_API_KEY": "vertex-interop-key",
            "GOOGLE_CLOUD_PROJECT": "amux-test-project",
            "GOOGLE_CLOUD_LOCATION": "us-central1",
            "GOOGLE_VERTEX_BASE_URL": gateway.url + "/vertex",
            "GEMINI_CLI_TRUST_WORKSPACE": "true",
            "CI": "1",
        }
    )
    return harness.run([str(gemini), "-m", model, "-p", prompt], project, env, gateway, mock)


def test_gemini_cli_vertex_mode(gemini, gateway, mock, tmp_path):
    r = run_gemini_vertex(gemini, gateway, mock, tmp_path, ANTHROPIC_ALIAS, "Reply with a short greeting.")
    assert r.returncode == 0, r.detail
    assert mu.ANTHROPIC_TEXT in r.stdout, r.detail
    assert r.calls and all(c["path"] == "/v1/messages" for c in r.calls), r.detail
    assert "vertex-interop-key" not in json.dumps(r.calls[0]["headers"]), r.detail


def test_gemini_cli_vertex_mode_tool_loop(gemini, gateway, mock, tmp_path):
    (tmp_path / "project").mkdir(parents=True)
    (tmp_path / "project" / "notes.txt").write_text("vertex-gemini-marker-4242\n")
    prompt = 'Please call the read_file tool with {"file_path": "notes.txt"}'
    r = run_gemini_vertex(gemini, gateway, mock, tmp_path, ANTHROPIC_ALIAS, prompt)
    assert r.returncode == 0, r.detail
    assert mu.TOOL_RESULT_PREFIX in r.stdout and "vertex-gemini-marker-4242" in r.stdout, r.detail
