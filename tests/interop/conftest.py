"""Fixtures for the interop tests: the mock upstream, the amux gateway in front of it, SDK clients.

- ``mock``: the mock upstream (mock_upstream.py) on a free loopback port, one per session; its
  recorded requests are cleared before each test that uses it.
- ``amux``: the amux binary (``$AMUX_BIN``, else ``${CARGO_TARGET_DIR:-<repo>/target}/debug/amux``)
  serving a generated config that points at the mock, on a free port; ready when
  ``GET /health/readiness`` answers 200 (polled, bounded). Its log is printed when it fails.
- ``anthropic_client`` / ``openai_client`` / ``genai_client``: the official SDKs pointed at amux
  (no retries).

One alias per upstream dialect, all served by the one mock: ``claude-mock`` (Anthropic),
``gpt-mock`` (kind openai: Chat for translated calls, and both OpenAI dialects passed through),
``chat-mock`` (an OpenAI-compatible server that has Chat only, vLLM-like: it ignores fields it does
not know), ``oai-chat-mock`` (kind openai with ``api: chat``: OpenAI's Chat, strict), ``resp-mock``
(kind openai with ``api: responses``) and ``gemini-mock`` (Gemini).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import mock_upstream

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")

READY_TIMEOUT_S = 30.0
# Model aliases of the generated config: gateway name -> (provider, upstream model).
ANTHROPIC_ALIAS = "claude-mock"
OPENAI_ALIAS = "gpt-mock"
ANTHROPIC_UPSTREAM_MODEL = "mock-claude"
OPENAI_UPSTREAM_MODEL = "mock-gpt"
CHAT_ALIAS = "chat-mock"
CHAT_UPSTREAM_MODEL = "mock-chat"
RESPONSES_ALIAS = "resp-mock"
RESPONSES_UPSTREAM_MODEL = "mock-resp"
GEMINI_ALIAS = "gemini-mock"
GEMINI_UPSTREAM_MODEL = "mock-gemini"
# OpenAI itself, Chat only (`api: chat`): every call from another dialect is translated to Chat,
# and the mock refuses what OpenAI refuses (unlike the open-model server behind chat-mock).
OPENAI_CHAT_ALIAS = "oai-chat-mock"
OPENAI_CHAT_UPSTREAM_MODEL = "mock-gpt-chat"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def amux_binary() -> Path:
    if os.environ.get("AMUX_BIN"):
        return Path(os.environ["AMUX_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    if not target.is_absolute():
        target = REPO / target
    return target / "debug" / "amux"


def config_yaml(mock_port: int) -> str:
    return f"""\
providers:
  mock-openai:
    kind: openai
    base_url: "http://127.0.0.1:{mock_port}/v1"
    api_key: {mock_upstream.API_KEY}
  mock-anthropic:
    kind: anthropic
    base_url: "http://127.0.0.1:{mock_port}"
    api_key: {mock_upstream.API_KEY}
  mock-chat:
    kind: vllm
    base_url: "http://127.0.0.1:{mock_port}/v1"
    api_key: {mock_upstream.API_KEY}
  mock-responses:
    kind: openai
    api: responses
    base_url: "http://127.0.0.1:{mock_port}/v1"
    api_key: {mock_upstream.API_KEY}
  mock-openai-chat:
    kind: openai
    api: chat
    base_url: "http://127.0.0.1:{mock_port}/v1"
    api_key: {mock_upstream.API_KEY}
  mock-gemini:
    kind: gemini
    base_url: "http://127.0.0.1:{mock_port}"
    api_key: {mock_upstream.API_KEY}
models:
  - {{name: {OPENAI_ALIAS}, provider: mock-openai, model: {OPENAI_UPSTREAM_MODEL}}}
  - {{name: {ANTHROPIC_ALIAS}, provider: mock-anthropic, model: {ANTHROPIC_UPSTREAM_MODEL}}}
  - {{name: {CHAT_ALIAS}, provider: mock-chat, model: {CHAT_UPSTREAM_MODEL}}}
  - {{name: {RESPONSES_ALIAS}, provider: mock-responses, model: {RESPONSES_UPSTREAM_MODEL}}}
  - {{name: {GEMINI_ALIAS}, provider: mock-gemini, model: {GEMINI_UPSTREAM_MODEL}}}
  - {{name: {OPENAI_CHAT_ALIAS}, provider: mock-openai-chat, model: {OPENAI_CHAT_UPSTREAM_MODEL}}}
"""


@dataclass
class Amux:
    url: str
    port: int
    log_path: Path
    proc: subprocess.Popen

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


@pytest.fixture(scope="session")
def mock_server() -> Iterator[mock_upstream.MockServer]:
    server, thread = mock_upstream.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def mock(mock_server: mock_upstream.MockServer) -> mock_upstream.MockServer:
    mock_server.reset()
    return mock_server


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health/readiness", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def serve_amux(config: str, prefix: str) -> Iterator[str]:
    """`amux serve` with this config on a free port, its environment cleared of provider
    variables (so nothing is discovered), until the block ends; yields its base URL."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    (work / "amux.yaml").write_text(config)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_"))}
    with open(work / "amux.log", "wb") as log:
        proc = subprocess.Popen(
            [str(amux_binary()), "serve", "--config", str(work / "amux.yaml"), "--listen", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    try:
        deadline = time.monotonic() + 30
        while not _ready(url):
            assert proc.poll() is None, (work / "amux.log").read_text()
            assert time.monotonic() < deadline, "amux not ready"
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def amux(mock_server: mock_upstream.MockServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Amux]:
    binary = amux_binary()
    if not binary.is_file():
        pytest.fail(f"amux binary not found at {binary}: build it first (cargo build / scripts/test.sh)")
    workdir = tmp_path_factory.mktemp("amux")
    config = workdir / "amux.yaml"
    config.write_text(config_yaml(mock_server.port))
    log_path = workdir / "amux.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_"))}
    env.setdefault("RUST_LOG", "info")
    env["RUST_BACKTRACE"] = "0"  # the panic message is enough in a test log
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(binary), "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=workdir,
        )
    gw = Amux(f"http://127.0.0.1:{port}", port, log_path, proc)
    deadline = time.monotonic() + READY_TIMEOUT_S
    try:
        while not _ready(gw.url):
            if proc.poll() is not None:
                pytest.fail(f"amux exited with {proc.returncode} before it was ready; log:\n{gw.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"amux not ready after {READY_TIMEOUT_S}s; log:\n{gw.log_tail()}")
            time.sleep(0.05)
        yield gw
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def gateway(amux: Amux, mock: mock_upstream.MockServer) -> Amux:
    """amux, with the mock's recorded requests cleared."""
    return amux


@pytest.fixture
def anthropic_client(gateway: Amux):
    import anthropic

    return anthropic.Anthropic(base_url=gateway.url, api_key="any-key", max_retries=0, timeout=30.0)


@pytest.fixture
def openai_client(gateway: Amux):
    import openai

    return openai.OpenAI(base_url=gateway.url + "/v1", api_key="any-key", max_retries=0, timeout=30.0)


@pytest.fixture
def genai_client(gateway: Amux):
    import scenarios_gemini

    return scenarios_gemini.client(gateway.url, "any-key")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Attach amux's log tail to failing tests that used it."""
    report = yield
    if report.when == "call" and report.failed:
        funcargs = getattr(item, "funcargs", {})
        gw = funcargs.get("amux") or funcargs.get("gateway")
        if isinstance(gw, Amux):
            report.sections.append(("amux log (tail)", gw.log_tail(40)))
    return report
