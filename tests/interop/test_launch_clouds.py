"""`amux launch claude|gemini <vertex provider>`, `amux launch claude <foundry provider>` and
`amux launch codex <azure provider>` with the real harnesses in their own cloud modes: no gateway
in the launcher, the cloud's credentials read by the harness itself.

The "cloud" is a running `amux serve` whose Vertex surface is the provider's `base_url`; it answers
only callers holding one key, and that key is the access token a mock GCE metadata server issues
(`GCE_METADATA_HOST`, which google-auth-library's gcp-metadata honours). So an answer proves the
whole native path: the launcher's pre-flight got a token from the metadata server, Claude Code
(`CLAUDE_CODE_USE_VERTEX=1`, `ANTHROPIC_VERTEX_BASE_URL`) or Gemini CLI (`vertex-ai` auth,
`GOOGLE_GENAI_USE_VERTEXAI=true`, `GOOGLE_VERTEX_BASE_URL`, no API key) got its own from the same
server and sent it as a Bearer token to the Vertex paths, and amux answered from the Chat mock.

Why the metadata server and not a gcloud user-credentials file whose `token_uri` is a mock:
the google-auth-library that both harnesses bundle refreshes `authorized_user` credentials (and signs
service-account JWTs) against the fixed `https://oauth2.googleapis.com/token`, whatever the file's
`token_uri` says (read in Gemini CLI 0.61.0's bundle and Claude Code 2.1.328's binary);
the metadata server's address is the one ADC endpoint it lets the environment move.

Foundry and Azure OpenAI the same way, with API keys: Claude Code's Foundry mode
(`ANTHROPIC_FOUNDRY_BASE_URL=<cloud>/anthropic`, `x-api-key`) and Codex's Azure provider
(`<cloud>/openai/v1/responses`, the key as a Bearer token), each key one amux accepts.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mock_upstream as mu
import pytest
from conftest import config_yaml, serve_amux
from test_launch import HARNESS_ARGS, Case, harness_bin, launch, launch_env, world  # noqa: F401 (world is a fixture)

TOKEN = "ya29.amux-interop-metadata-token"
PROJECT = "amux-test-project"
CLAUDE_MODEL = "claude-sonnet-4-5@20250929"
GEMINI_MODEL = "gemini-2.5-flash"
FOUNDRY_KEY = "foundry-interop-key"
AZURE_KEY = "azure-interop-key"
AZURE_DEPLOYMENT = "gpt-4o-prod"


class Metadata(BaseHTTPRequestHandler):
    """A GCE metadata server: every answer carries `Metadata-Flavor: Google`; requests without that
    header are refused, as the real one does."""

    seen: list[tuple[str, str | None]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        flavor = self.headers.get("Metadata-Flavor")
        Metadata.seen.append((self.path, flavor))
        path = self.path.split("?")[0]
        if flavor != "Google":
            status, body, ctype = 403, "Missing Metadata-Flavor:Google header.", "text/plain"
        elif path.endswith("/instance/service-accounts/default/token"):
            token = {"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"}
            status, body, ctype = 200, json.dumps(token), "application/json"
        elif path.endswith("/project/project-id"):
            status, body, ctype = 200, PROJECT, "text/plain"
        elif path.startswith("/computeMetadata/v1"):
            status, body, ctype = 200, "", "text/plain"
        else:
            status, body, ctype = 404, "not found", "text/plain"
        data = body.encode()
        self.send_response(status)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def metadata() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def vertex_cloud(mock_server: mu.MockServer) -> Iterator[str]:
    """amux serving Vertex paths for the two models, open only to the metadata server's token."""
    extra = (
        "  - {name: claude-sonnet-4-5-20250929, provider: mock-chat, model: mock-chat}\n"
        f"  - {{name: {GEMINI_MODEL}, provider: mock-chat, model: mock-chat}}\n"
        f"  - {{name: {AZURE_DEPLOYMENT}, provider: mock-chat, model: mock-chat}}\n"
        "keys:\n"
        + "".join(
            f"  - {{name: {n}, key_sha256: {hashlib.sha256(k.encode()).hexdigest()}}}\n"
            for n, k in (("adc", TOKEN), ("foundry", FOUNDRY_KEY), ("azure", AZURE_KEY))
        )
    )
    with serve_amux(config_yaml(mock_server.port) + extra, "amux-lcv-") as url:
        yield url


def launch_native(harness_name: str, model: str, world: Path, cloud: str, metadata: str, mock):
    case = Case(harness_name, "gv", model, f"{harness_name.upper()}_BIN", "/v1/chat/completions", mu.OPENAI_TEXT)
    config = world / "amux.yaml"
    config.write_text(
        "discover_env: false\nproviders:\n"
        f"  gv: {{kind: vertex, project: {PROJECT}, location: us-east5, base_url: '{cloud}/vertex'}}\n"
    )
    env = launch_env(world, case, harness_bin(case))
    env["GCE_METADATA_HOST"] = metadata
    Metadata.seen.clear()
    argv = [harness_name, "gv", "--config", str(config), "--model", model, "--json"]
    argv += ["--prompt", "Reply with a short greeting."]
    return launch(world, env, argv, mock)


def direct(r) -> bool:
    """The launcher's plan (`--json`, on stderr) says the harness went straight to the cloud."""
    return '"route":"direct"' in r.stderr.replace(" ", "")


def check(r, mock) -> None:
    assert r.returncode == 0, r.detail
    assert mu.OPENAI_TEXT in r.stdout, r.detail
    assert r.calls and all(c["body"]["model"] == "mock-chat" for c in r.calls), r.detail
    tokens = [p for p, flavor in Metadata.seen if p.split("?")[0].endswith("/default/token") and flavor == "Google"]
    # The launcher's pre-flight and the harness each asked for a token.
    assert len(tokens) >= 2, Metadata.seen
    assert direct(r), r.detail


def test_claude_code_in_its_vertex_mode_with_adc(world, vertex_cloud, metadata, mock):  # noqa: F811
    r = launch_native("claude", CLAUDE_MODEL, world, vertex_cloud, metadata, mock)
    check(r, mock)


def test_gemini_cli_in_its_vertex_mode_with_adc(world, vertex_cloud, metadata, mock):  # noqa: F811
    r = launch_native("gemini", GEMINI_MODEL, world, vertex_cloud, metadata, mock)
    check(r, mock)


def launch_keyed(harness_name: str, provider: str, model: str, world: Path, cloud: str, mock, extra: list[str]):
    case = Case(harness_name, "c", model, f"{harness_name.upper()}_BIN", "/v1/chat/completions", mu.OPENAI_TEXT)
    config = world / "amux.yaml"
    config.write_text(f"discover_env: false\nproviders:\n  c: {provider}\n")
    env = launch_env(world, case, harness_bin(case))
    argv = [harness_name, "c", "--config", str(config), "--model", model, "--json"]
    argv += ["--prompt", "Reply with a short greeting."]
    return launch(world, env, argv + (["--", *extra] if extra else []), mock)


def test_claude_code_in_its_foundry_mode_with_a_key(world, vertex_cloud, mock):  # noqa: F811
    provider = f"{{kind: foundry, base_url: '{vertex_cloud}', api_key: {FOUNDRY_KEY}}}"
    r = launch_keyed("claude", provider, "claude-sonnet-4-5-20250929", world, vertex_cloud, mock, [])
    assert r.returncode == 0, r.detail
    assert mu.OPENAI_TEXT in r.stdout and r.calls, r.detail
    assert direct(r), r.detail


def test_codex_with_its_azure_provider(world, vertex_cloud, mock):  # noqa: F811
    provider = f"{{kind: azure, base_url: '{vertex_cloud}', api_key: {AZURE_KEY}}}"
    r = launch_keyed("codex", provider, AZURE_DEPLOYMENT, world, vertex_cloud, mock, HARNESS_ARGS["codex"])
    assert r.returncode == 0, r.detail
    assert mu.OPENAI_TEXT in r.stdout and r.calls, r.detail
    assert direct(r), r.detail
