"""Ten coding agents pointed at `amux serve` the way a team points them at a shared gateway: by
environment variables or the agent's own config file (never through `amux launch`), as
docs/agents.md documents. One `Agent` per agent; `setup(agent, dialect, ...)` returns the command,
environment and files for one run. test_agents.py runs them; scripts/agents-matrix.sh runs the
whole agents x dialects x upstreams matrix.

Dialects: "anthropic" (/v1/messages), "chat" (/v1/chat/completions), "responses" (/v1/responses)
and "gemini" (/v1beta/models/...). Every run: its own HOME, telemetry and update checks off,
loopback only, the key `KEY` (amux's test config has no keys, so any key is accepted).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
NODE_BIN = CACHE / "node_modules" / ".bin"
COPILOT_CACHE = CACHE / "copilot-xdg-cache"
REPO = HERE.parent.parent

KEY = "agent-interop-key"
DIALECTS = ("anthropic", "chat", "responses", "gemini")


@dataclass
class Run:
    argv: list[str]
    env: dict[str, str]
    files: dict[Path, str] = field(default_factory=dict)


@dataclass
class Ctx:
    url: str  # amux, e.g. http://127.0.0.1:PORT (no path)
    model: str  # the amux alias the agent asks for
    prompt: str
    home: Path
    project: Path
    tool: bool  # the run is a tool round trip (allow the shell tool)


Builder = Callable[[Ctx], Run]


@dataclass
class Agent:
    name: str
    binary_env: str  # the env var that overrides the binary
    default_binary: Path
    dialects: dict[str, Builder]
    # Dialects the agent cannot be pointed at, and why (docs/agents.md says the same).
    cannot: dict[str, str] = field(default_factory=dict)
    # Why a tool round trip cannot be run, when it cannot.
    no_tool: str | None = None

    def binary(self) -> Path:
        b = os.environ.get(self.binary_env)
        return Path(b) if b else self.default_binary


# -- Claude Code: Anthropic only (ANTHROPIC_BASE_URL is the origin; a Bearer token via ANTHROPIC_AUTH_TOKEN).

CLAUDE_QUIET = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_BUG_COMMAND": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "CLAUDE_CODE_MAX_RETRIES": "1",
}


def claude_anthropic(c: Ctx) -> Run:
    env = {"ANTHROPIC_BASE_URL": c.url, "ANTHROPIC_AUTH_TOKEN": KEY, **CLAUDE_QUIET}
    for v in (
        "ANTHROPIC_MODEL",
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "CLAUDE_CODE_SUBAGENT_MODEL",
    ):
        env[v] = c.model
    argv = [str(CLAUDE.binary()), "-p", c.prompt]
    if c.tool:
        argv += ["--allowedTools", "Bash"]
    return Run(argv, env)


# -- Codex: Responses only, a model provider in $CODEX_HOME/config.toml (it ignores OPENAI_BASE_URL).


def codex_responses(c: Ctx) -> Run:
    codex_home = c.home / ".codex"
    config = f"""model = {json.dumps(c.model)}
model_provider = "amux"
check_for_update_on_startup = false

[analytics]
enabled = false

[model_providers.amux]
name = "amux"
base_url = {json.dumps(c.url + "/v1")}
env_key = "AMUX_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""
    argv = [str(CODEX.binary()), "exec", "--skip-git-repo-check", "--ephemeral", "--color", "never"]
    argv += ["-s", "read-only", c.prompt]
    return Run(argv, {"CODEX_HOME": str(codex_home), "AMUX_API_KEY": KEY}, {codex_home / "config.toml": config})


# -- Gemini CLI: Gemini only (GOOGLE_GEMINI_BASE_URL, GEMINI_API_KEY, gemini-api-key auth in settings).

GEMINI_SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "telemetry": {"enabled": False},
    "privacy": {"usageStatisticsEnabled": False},
    "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
}


def gemini_gemini(c: Ctx) -> Run:
    settings = {**GEMINI_SETTINGS, "model": {"name": c.model}}
    env = {"GOOGLE_GEMINI_BASE_URL": c.url, "GEMINI_API_KEY": KEY, "GEMINI_CLI_TRUST_WORKSPACE": "true", "CI": "1"}
    argv = [str(GEMINI.binary()), "-m", c.model, "-p", c.prompt]
    if c.tool:
        argv += ["--approval-mode", "yolo"]
    return Run(argv, env, {c.home / ".gemini" / "settings.json": json.dumps(settings)})


# -- OpenCode: a provider in opencode.json (or OPENCODE_CONFIG_CONTENT) with the AI SDK package of
#    the dialect; the packages are bundled in the binary.

OPENCODE_QUIET = {
    "OPENCODE_DISABLE_AUTOUPDATE": "1",
    "OPENCODE_DISABLE_MODELS_FETCH": "1",
    "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
    "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
    "OPENCODE_DISABLE_SHARE": "1",
    "OPENCODE_DISABLE_CLAUDE_CODE": "1",
}
OPENCODE_NPM = {
    "chat": ("@ai-sdk/openai-compatible", "/v1"),
    "anthropic": ("@ai-sdk/anthropic", "/v1"),
    "responses": ("@ai-sdk/openai", "/v1"),
    "gemini": ("@ai-sdk/google", "/v1beta"),
}


def opencode(dialect: str) -> Builder:
    def build(c: Ctx) -> Run:
        npm, suffix = OPENCODE_NPM[dialect]
        config = {
            "$schema": "https://opencode.ai/config.json",
            "provider": {
                "amux": {
                    "npm": npm,
                    "name": "amux",
                    "options": {"baseURL": c.url + suffix, "apiKey": KEY},
                    "models": {c.model: {"name": c.model}},
                }
            },
            "model": f"amux/{c.model}",
            "autoupdate": False,
            "share": "disabled",
            "permission": {"bash": "allow", "edit": "allow"},
        }
        argv = [str(OPENCODE.binary()), "run", "-m", f"amux/{c.model}", c.prompt]
        files = {c.home / ".config" / "opencode" / "opencode.json": json.dumps(config)}
        return Run(argv, dict(OPENCODE_QUIET), files)

    return build


# -- Copilot CLI: bring-your-own-key variables; no Gemini.


def copilot(dialect: str) -> Builder:
    def build(c: Ctx) -> Run:
        env = {
            "COPILOT_PROVIDER_TYPE": "anthropic" if dialect == "anthropic" else "openai",
            "COPILOT_PROVIDER_BASE_URL": c.url if dialect == "anthropic" else c.url + "/v1",
            "COPILOT_PROVIDER_API_KEY": KEY,
            "COPILOT_MODEL": c.model,
            "COPILOT_OFFLINE": "true",
            "COPILOT_AUTO_UPDATE": "false",
            "COPILOT_HOME": str(c.home / ".copilot"),
            # Copilot unpacks its 235 MB package under XDG_CACHE_HOME on first start: one cache for
            # every test, not one unpacking per test's home (disk and time).
            "XDG_CACHE_HOME": str(COPILOT_CACHE),
        }
        if dialect == "responses":
            env["COPILOT_PROVIDER_WIRE_API"] = "responses"
        argv = [str(COPILOT.binary()), "-p", c.prompt, "--no-auto-update"]
        if c.tool:
            argv += ["--allow-all-tools"]
        return Run(argv, env)

    return build


# -- Droid: a custom model in ~/.factory/settings.json; no Gemini.

DROID_PROVIDER = {
    "anthropic": ("anthropic", ""),
    "chat": ("generic-chat-completion-api", "/v1"),
    "responses": ("openai", "/v1"),
}


def droid(dialect: str) -> Builder:
    def build(c: Ctx) -> Run:
        provider, suffix = DROID_PROVIDER[dialect]
        settings = {
            "customModels": [
                {
                    "model": c.model,
                    "displayName": "amux",
                    "baseUrl": c.url + suffix,
                    "apiKey": "${AMUX_API_KEY}",
                    "provider": provider,
                    "maxOutputTokens": 4096,
                }
            ]
        }
        argv = [str(DROID.binary()), "exec", "-m", "custom:amux-0"]
        if c.tool:
            argv += ["--auto", "low"]
        argv.append(c.prompt)
        env = {"AMUX_API_KEY": KEY, "DROID_DISABLE_AUTO_UPDATE": "1", "FACTORY_DISABLE_TELEMETRY": "1"}
        return Run(argv, env, {c.home / ".factory" / "settings.json": json.dumps(settings)})

    return build


# -- Pi: a provider in ~/.pi/agent/models.json with the dialect's `api`.

PI_API = {
    "anthropic": ("anthropic-messages", ""),
    "chat": ("openai-completions", "/v1"),
    "responses": ("openai-responses", "/v1"),
    "gemini": ("google-generative-ai", "/v1beta"),
}


def pi(dialect: str) -> Builder:
    def build(c: Ctx) -> Run:
        api, suffix = PI_API[dialect]
        models = {
            "providers": {
                "amux": {
                    "baseUrl": c.url + suffix,
                    "api": api,
                    "apiKey": KEY,
                    "models": [{"id": c.model, "name": c.model, "input": ["text"]}],
                }
            }
        }
        agent_dir = c.home / ".pi" / "agent"
        argv = [str(PI.binary()), "--provider", "amux", "--model", c.model, "-p", c.prompt]
        env = {"PI_CODING_AGENT_DIR": str(agent_dir), "PI_OFFLINE": "1", "PI_SKIP_VERSION_CHECK": "1"}
        return Run(argv, env, {agent_dir / "models.json": json.dumps(models)})

    return build


# -- Qwen Code: one auth type per dialect, each with its own environment variables.


def qwen(dialect: str) -> Builder:
    def build(c: Ctx) -> Run:
        if dialect == "anthropic":
            env = {"ANTHROPIC_BASE_URL": c.url, "ANTHROPIC_API_KEY": KEY, "ANTHROPIC_MODEL": c.model}
            auth = "anthropic"
        elif dialect == "gemini":
            env = {"GOOGLE_GEMINI_BASE_URL": c.url, "GEMINI_API_KEY": KEY, "GEMINI_MODEL": c.model}
            auth = "gemini"
        else:
            env = {"OPENAI_BASE_URL": c.url + "/v1", "OPENAI_API_KEY": KEY, "OPENAI_MODEL": c.model}
            auth = "openai" if dialect == "chat" else "openai-responses"
        settings = {
            "privacy": {"usageStatisticsEnabled": False},
            "telemetry": {"enabled": False},
            "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
        }
        argv = [str(QWEN.binary()), "--auth-type", auth, "--model", c.model, "-p", c.prompt]
        if c.tool:
            argv += ["--approval-mode", "yolo"]
        env["CI"] = "1"
        return Run(argv, env, {c.home / ".qwen" / "settings.json": json.dumps(settings)})

    return build


# -- Hermes: a named provider in ~/.hermes/config.yaml with its api_mode.

HERMES_MODE = {"chat": "chat_completions", "anthropic": "anthropic_messages", "responses": "codex_responses"}


def hermes(dialect: str) -> Builder:
    def build(c: Ctx) -> Run:
        base = c.url if dialect == "anthropic" else c.url + "/v1"
        config = (
            "model:\n"
            f"  provider: amux\n"
            f"  default: {c.model}\n"
            "providers:\n"
            "  amux:\n"
            f"    name: amux\n"
            f"    base_url: {base}\n"
            f"    api_key: {KEY}\n"
            f"    api_mode: {HERMES_MODE[dialect]}\n"
            f"    model: {c.model}\n"
        )
        hermes_home = c.home / ".hermes"
        argv = [str(HERMES.binary()), "chat", "-Q", "--provider", "amux", "-m", c.model, "-q", c.prompt]
        if c.tool:
            argv.append("--yolo")
        env = {"HERMES_HOME": str(hermes_home), "HERMES_DISABLE_TELEMETRY": "1"}
        return Run(argv, env, {hermes_home / "config.yaml": config})

    return build


# -- Aider: litellm's provider prefixes and their base-URL variables.


def aider(dialect: str) -> Builder:
    def build(c: Ctx) -> Run:
        if dialect == "anthropic":
            env = {"ANTHROPIC_API_BASE": c.url, "ANTHROPIC_API_KEY": KEY}
            model = f"anthropic/{c.model}"
        elif dialect == "gemini":
            env = {"GEMINI_API_BASE": c.url + "/v1beta", "GEMINI_API_KEY": KEY}
            model = f"gemini/{c.model}"
        elif dialect == "responses":
            env = {"OPENAI_API_BASE": c.url + "/v1", "OPENAI_API_KEY": KEY}
            model = f"openai/responses/{c.model}"
        else:
            env = {"OPENAI_API_BASE": c.url + "/v1", "OPENAI_API_KEY": KEY}
            model = f"openai/{c.model}"
        argv = [
            str(AIDER.binary()),
            "--model", model,
            "--message", c.prompt,
            "--yes-always", "--no-git", "--no-check-update", "--no-show-model-warnings",
            "--analytics-disable", "--no-pretty", "--no-stream" if False else "--stream",
            "--map-tokens", "0", "--no-auto-commits", "--no-gitignore",
        ]
        env["AIDER_CHECK_UPDATE"] = "false"
        env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        return Run(argv, env)

    return build


def _venv_bin(venv: str, name: str) -> Path:
    return REPO / venv / "bin" / name


ONLY_ANTHROPIC = "Claude Code speaks only Anthropic Messages (its Bedrock, Vertex and Foundry modes send the same body)"
ONLY_RESPONSES = "Codex speaks only Responses: `wire_api = \"chat\"` is refused (\"no longer supported\")"
ONLY_GEMINI = "Gemini CLI speaks only the Gemini API (its Vertex mode is the same dialect)"
CLAUDE = Agent(
    "claude",
    "CLAUDE_BIN",
    NODE_BIN / "claude",
    {"anthropic": claude_anthropic},
    cannot={d: ONLY_ANTHROPIC for d in ("chat", "responses", "gemini")},
)
CODEX = Agent(
    "codex",
    "CODEX_BIN",
    NODE_BIN / "codex",
    {"responses": codex_responses},
    cannot={d: ONLY_RESPONSES for d in ("anthropic", "chat", "gemini")},
)
GEMINI = Agent(
    "gemini",
    "GEMINI_BIN",
    NODE_BIN / "gemini",
    {"gemini": gemini_gemini},
    cannot={d: ONLY_GEMINI for d in ("anthropic", "chat", "responses")},
)
OPENCODE = Agent("opencode", "OPENCODE_BIN", NODE_BIN / "opencode", {d: opencode(d) for d in DIALECTS})
COPILOT = Agent(
    "copilot",
    "COPILOT_BIN",
    NODE_BIN / "copilot",
    {d: copilot(d) for d in ("anthropic", "chat", "responses")},
    cannot={"gemini": "COPILOT_PROVIDER_TYPE is openai, azure or anthropic: no Gemini provider"},
)
DROID = Agent(
    "droid",
    "DROID_BIN",
    CACHE / "node_modules" / "@factory" / "cli-linux-x64" / "bin" / "droid",
    {d: droid(d) for d in DROID_PROVIDER},
    cannot={"gemini": "a custom model's provider is anthropic, openai or generic-chat-completion-api: no Gemini"},
)
PI = Agent("pi", "PI_BIN", NODE_BIN / "pi", {d: pi(d) for d in DIALECTS})
QWEN = Agent("qwen", "QWEN_BIN", NODE_BIN / "qwen", {d: qwen(d) for d in DIALECTS})
HERMES = Agent(
    "hermes",
    "HERMES_BIN",
    _venv_bin(".venv-hermes", "hermes"),
    {d: hermes(d) for d in HERMES_MODE},
    cannot={"gemini": "api_mode is chat_completions, codex_responses, anthropic_messages or bedrock_converse: no Gemini"},
)
AIDER = Agent(
    "aider",
    "AIDER_BIN",
    _venv_bin(".venv-aider", "aider"),
    {d: aider(d) for d in DIALECTS},
    no_tool="Aider offers the model no tools (it edits files from the reply's text); it runs shell "
    "commands the reply suggests, but their output reaches the model only with the user's next message",
)

AGENTS = {a.name: a for a in (CLAUDE, CODEX, GEMINI, OPENCODE, COPILOT, DROID, PI, QWEN, HERMES, AIDER)}


def write_files(files: dict[Path, str]) -> None:
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def which(name: str) -> str | None:
    return shutil.which(name)
