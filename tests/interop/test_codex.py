"""The real Codex CLI (`codex exec`), pointed at amux, answered by mocks of other dialects.

Codex speaks only OpenAI Responses (streaming, `store: false`, its own tools); here every call is
translated to the Anthropic mock (and, once, to the Gemini mock). It runs with an isolated
CODEX_HOME/HOME, a provider defined by `-c model_providers.amux.*` overrides, no retries,
analytics and update checks off, and a read-only sandbox; it talks to loopback only.
"""

from __future__ import annotations

import json
from pathlib import Path

import harness
import mock_upstream as mu
import pytest
from conftest import ANTHROPIC_ALIAS, CHAT_ALIAS, GEMINI_ALIAS, RESPONSES_ALIAS


@pytest.fixture
def codex() -> Path:
    b = harness.binary("CODEX_BIN", "codex")
    if not b.exists():
        pytest.fail(f"Codex not installed at {b}: run scripts/test.sh (it npm-installs it there)")
    return b


def codex_argv(
    codex: Path, amux_url: str, model: str, prompt: str, azure: bool = False, websockets: bool = False
) -> list[str]:
    overrides = {
        "model_providers.amux.name": '"amux"',
        "model_providers.amux.base_url": json.dumps(f"{amux_url}/openai" if azure else f"{amux_url}/v1"),
        "model_providers.amux.env_key": '"AMUX_API_KEY"',
        "model_providers.amux.wire_api": '"responses"',
        "model_providers.amux.request_max_retries": "0",
        "model_providers.amux.stream_max_retries": "0",
        "model_providers.amux.stream_idle_timeout_ms": str((harness.HARNESS_TIMEOUT_S - 20) * 1000),
        "model_provider": '"amux"',
        "model": json.dumps(model),
        "analytics.enabled": "false",
        "check_for_update_on_startup": "false",
    }
    if websockets:
        # Responses over WebSocket (GET /v1/responses upgrade, one response.create per turn).
        overrides["model_providers.amux.supports_websockets"] = "true"
    if azure:
        # Codex's documented Azure provider: base_url ending in /openai, the api-version as a
        # query parameter; amux serves /openai/responses.
        overrides["model_providers.amux.query_params"] = '{"api-version"="2025-04-01-preview"}'
    argv = [str(codex), "exec", "--skip-git-repo-check", "--ephemeral", "--color", "never", "-s", "read-only"]
    for k, v in overrides.items():
        argv += ["-c", f"{k}={v}"]
    # Codex as installed: its hosted web_search and sub-agent `namespace` tools included.
    return argv + [prompt]


def run_codex(codex: Path, gateway, mock, tmp: Path, model: str, prompt: str, **kw) -> harness.Run:
    home, project = tmp / "home", tmp / "project"
    project.mkdir(parents=True, exist_ok=True)
    env = harness.base_env(home)
    (home / ".codex").mkdir(exist_ok=True)
    env.update({"CODEX_HOME": str(home / ".codex"), "AMUX_API_KEY": "codex-interop-key"})
    return harness.run(codex_argv(codex, gateway.url, model, prompt, **kw), project, env, gateway, mock)


def test_codex_exec_print(codex, gateway, mock, tmp_path):
    r = run_codex(codex, gateway, mock, tmp_path, ANTHROPIC_ALIAS, "Reply with a short greeting.")
    assert r.returncode == 0, r.detail
    assert mu.ANTHROPIC_TEXT in r.stdout, r.detail
    assert r.calls and all(c["path"] == "/v1/messages" for c in r.calls), r.detail
    body = r.calls[0]["body"]
    assert body["stream"] is True and body["tools"], r.detail
    assert "codex-interop-key" not in json.dumps(r.calls[0]["headers"]), r.detail


def test_codex_tool_loop(codex, gateway, mock, tmp_path):
    """The Anthropic mock asks Codex to run exec_command; the output comes back as a tool result."""
    (tmp_path / "project").mkdir(parents=True)
    (tmp_path / "project" / "notes.txt").write_text("codex-marker-4242\n")
    prompt = 'Please call the exec_command tool with {"cmd": "cat notes.txt"}'
    r = run_codex(codex, gateway, mock, tmp_path, ANTHROPIC_ALIAS, prompt)
    assert r.returncode == 0, r.detail
    assert mu.TOOL_RESULT_PREFIX in r.stdout and "codex-marker-4242" in r.stdout, r.detail
    assert len(r.calls) >= 2, r.detail
    assistant, results = r.calls[-1]["body"]["messages"][-2:]
    call_ids = [b["id"] for b in assistant["content"] if b["type"] == "tool_use"]
    result_ids = [b["tool_use_id"] for b in results["content"] if b["type"] == "tool_result"]
    assert call_ids and result_ids == call_ids, r.detail


def test_codex_exec_gemini_upstream(codex, gateway, mock, tmp_path):
    r = run_codex(codex, gateway, mock, tmp_path, GEMINI_ALIAS, "Reply with a short greeting.")
    assert r.returncode == 0, r.detail
    assert mu.GEMINI_TEXT in r.stdout, r.detail
    assert r.calls and all(c["path"].endswith(":streamGenerateContent") for c in r.calls), r.detail


def test_codex_default_tools(codex, gateway, mock, tmp_path):
    """Codex as installed (sub-agent namespace tool, web_search) against a non-OpenAI upstream:
    web search becomes Anthropic's server tool, the namespace's tools travel as functions."""
    r = run_codex(codex, gateway, mock, tmp_path, ANTHROPIC_ALIAS, "Reply with a short greeting.")
    assert r.returncode == 0, r.detail
    assert mu.ANTHROPIC_TEXT in r.stdout, r.detail
    tools = json.loads(r.calls[0]["raw"])["tools"]
    types = {t.get("type") for t in tools}
    assert "web_search_20250305" in types, r.detail
    assert any(t["name"].startswith("multi_agent_v1__") for t in tools if t.get("type") is None), r.detail


def ws_opened(gateway) -> int:
    return gateway.log_path.read_text(errors="replace").count("responses websocket opened")


@pytest.mark.parametrize(
    "alias,path,text",
    [
        (ANTHROPIC_ALIAS, "/v1/messages", mu.ANTHROPIC_TEXT),
        (GEMINI_ALIAS, ":streamGenerateContent", mu.GEMINI_TEXT),
        (CHAT_ALIAS, "/v1/chat/completions", mu.OPENAI_TEXT),
        (RESPONSES_ALIAS, "/v1/responses", mu.RESPONSES_TEXT),
    ],
    ids=["anthropic", "gemini", "chat", "responses"],
)
def test_codex_over_websocket(codex, gateway, mock, tmp_path, alias, path, text):
    """Codex with `supports_websockets`: its turns reach amux over one WebSocket and go to an
    upstream of each dialect (OpenAI's Responses by HTTP)."""
    before = ws_opened(gateway)
    r = run_codex(codex, gateway, mock, tmp_path, alias, "Reply with a short greeting.", websockets=True)
    assert r.returncode == 0, r.detail
    assert ws_opened(gateway) > before, "Codex did not use the WebSocket\n" + r.detail
    assert r.calls and all(c["path"].endswith(path) for c in r.calls), r.detail
    if text:
        assert text in r.stdout, r.detail


def test_codex_tool_loop_over_websocket(codex, gateway, mock, tmp_path):
    """A tool round trip over the socket: the second turn names the first with
    previous_response_id and sends only the tool output; amux rebuilds the whole input."""
    (tmp_path / "project").mkdir(parents=True)
    (tmp_path / "project" / "notes.txt").write_text("codex-marker-4242\n")
    prompt = 'Please call the exec_command tool with {"cmd": "cat notes.txt"}'
    before = ws_opened(gateway)
    r = run_codex(codex, gateway, mock, tmp_path, ANTHROPIC_ALIAS, prompt, websockets=True)
    assert r.returncode == 0, r.detail
    assert ws_opened(gateway) > before, "Codex did not use the WebSocket\n" + r.detail
    assert mu.TOOL_RESULT_PREFIX in r.stdout and "codex-marker-4242" in r.stdout, r.detail
    assert len(r.calls) >= 2, r.detail
    assistant, results = r.calls[-1]["body"]["messages"][-2:]
    call_ids = [b["id"] for b in assistant["content"] if b["type"] == "tool_use"]
    result_ids = [b["tool_use_id"] for b in results["content"] if b["type"] == "tool_result"]
    assert call_ids and result_ids == call_ids, r.detail


def test_codex_azure_provider(codex, gateway, mock, tmp_path):
    """Codex with an Azure OpenAI provider (`/openai/responses?api-version=...`) pointed at amux."""
    (tmp_path / "project").mkdir(parents=True)
    (tmp_path / "project" / "notes.txt").write_text("codex-azure-marker-3131\n")
    prompt = 'Please call the exec_command tool with {"cmd": "cat notes.txt"}'
    r = run_codex(codex, gateway, mock, tmp_path, ANTHROPIC_ALIAS, prompt, azure=True)
    assert r.returncode == 0, r.detail
    assert mu.TOOL_RESULT_PREFIX in r.stdout and "codex-azure-marker-3131" in r.stdout, r.detail
    assert r.calls and all(c["path"] == "/v1/messages" for c in r.calls), r.detail
