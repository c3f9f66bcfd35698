"""The mock upstream's "model": what it answers, which tools it calls, when it fails.

Decided here once for all four dialects; mock_anthropic.py, mock_openai.py, mock_responses.py and
mock_gemini.py put the decision on the wire. Tests import the constants to know what the
upstream said.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

ANTHROPIC_USAGE = {
    "input_tokens": 25,
    "cache_creation_input_tokens": 7,
    "cache_read_input_tokens": 11,
    "output_tokens": 13,
}
# prompt_tokens includes the cached tokens, as OpenAI reports it.
OPENAI_USAGE = {"prompt_tokens": 30, "cached_tokens": 10, "completion_tokens": 12}
# OpenAI Responses: input_tokens includes the cached (read) tokens; output_tokens includes reasoning,
# which is REASONING_TOKENS when reasoning was asked for and 0 otherwise.
RESPONSES_USAGE = {"input_tokens": 40, "cached_tokens": 16, "output_tokens": 14}
# Gemini: promptTokenCount includes cachedContentTokenCount; candidatesTokenCount excludes the
# thoughts (thoughtsTokenCount, REASONING_TOKENS when thoughts were asked for).
GEMINI_USAGE = {"prompt_tokens": 50, "cached_tokens": 20, "candidates_tokens": 15}
REASONING_TOKENS = 5

ANTHROPIC_TEXT = "Hello from the mock Anthropic upstream."
OPENAI_TEXT = "Hello from the mock OpenAI upstream."
RESPONSES_TEXT = "Hello from the mock OpenAI Responses upstream."
GEMINI_TEXT = "Hello from the mock Gemini upstream."
TOOL_RESULT_PREFIX = "Based on the tool results:"
THINKING_TEXT = "Let me think about this step by step."
THINKING_SIGNATURE = "EqQBCkYIARgCIkBmb2NrLXNpZ25hdHVyZS1ieXRlcw=="
# Gemini's thoughtSignature (base64, as the API sends it) and Responses' reasoning encrypted_content.
GEMINI_SIGNATURE = "Z2VtaW5pLW1vY2stdGhvdWdodC1zaWduYXR1cmU="
ENCRYPTED_REASONING = "gAAAAABmock-encrypted-reasoning-content=="
# What the mock's token counters answer: COUNT_BASE + one per word of text in the request.
COUNT_BASE = 3

CITIES = ["Paris", "London", "Tokyo", "Berlin", "Madrid", "Rome", "New York", "San Francisco"]

# Model names that make the mock fail. NOT_FOUND_MARK may appear anywhere in the name.
NOT_FOUND_MARK = "does-not-exist"
CONTEXT_OVERFLOW_MODEL = "context-overflow"
MIDSTREAM_ERROR_MODEL = "midstream-error"  # streams MIDSTREAM_DELTAS text deltas, then an error
MIDSTREAM_DELTAS = 2
ERROR_MODEL = re.compile(r"error-(\d{3})")  # "error-503" answers 503

_ALNUM = string.ascii_letters + string.digits


def rand_id(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def pieces(s: str, n: int = 3) -> list[str]:
    """Split s into at most n non-empty pieces (for streamed tool arguments)."""
    if not s:
        return []
    size = max(1, -(-len(s) // n))
    return [s[i : i + size] for i in range(0, len(s), size)]


def words(s: str) -> list[str]:
    """Split text into word pieces that keep their leading space: 'a b' -> ['a', ' b']."""
    return re.findall(r"\s*\S+", s) or [s]


class ApiFailure(Exception):
    """A request the provider refuses: status, error type, message (and OpenAI code, param)."""

    def __init__(self, status: int, etype: str, message: str, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status = status
        self.etype = etype
        self.message = message
        self.code = code
        self.param = param


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class Answer:
    text: str | None
    tool_calls: list[ToolCall]
    thinking: bool
    truncated: bool
    midstream_error: bool = False


def fill_args(schema: dict[str, Any], city: str) -> dict[str, Any]:
    """Arguments for a tool from its JSON schema: the city for location-like fields."""
    props = schema.get("properties") or {}
    required = schema.get("required") or list(props)[:1]
    args: dict[str, Any] = {}
    for name in required:
        prop = props.get(name) or {}
        if name in ("location", "city", "place"):
            args[name] = city
            continue
        if prop.get("enum"):
            args[name] = prop["enum"][0]
            continue
        t = prop.get("type", "string")
        if isinstance(t, list):
            t = t[0]
        defaults = {"string": "mock", "number": 1, "integer": 1, "boolean": True, "array": [], "object": {}}
        args[name] = defaults.get(t, "mock")
    return args


# The names coding agents give their shell tool (Claude Code, Codex, Gemini CLI / Qwen Code, Droid,
# Hermes, Pi / OpenCode / Copilot CLI...), and the argument that holds the command line.
SHELL_TOOLS = ("bash", "shell", "exec_command", "run_shell_command", "execute", "terminal", "shell_command")
SHELL_ARGS = ("command", "cmd", "commands", "script")
SHELL_REQUEST = re.compile(r"run the shell command `([^`]+)`")


def shell_call(tools: list[tuple[str, dict[str, Any]]], command: str) -> tuple[str, dict[str, Any]] | None:
    """The agent's shell tool and its arguments for `command` (None when it has none)."""
    by_lower = {name.lower(): (name, schema) for name, schema in tools}
    found = next((by_lower[n] for n in SHELL_TOOLS if n in by_lower), None)
    if found is None:
        return None
    name, schema = found
    props = schema.get("properties") or {}
    arg = next((a for a in SHELL_ARGS if a in props), None) or next(iter(props), "command")
    args: dict[str, Any] = {}
    for req in schema.get("required") or []:
        if req == arg:
            continue
        prop = props.get(req) or {}
        if prop.get("enum"):
            args[req] = prop["enum"][0]
        else:
            t = prop.get("type", "string")
            t = t[0] if isinstance(t, list) else t
            # Booleans off (is_background: false), numbers small, strings a short text.
            args[req] = {"boolean": False, "number": 30, "integer": 30, "array": [], "object": {}}.get(t, "mock")
    t = (props.get(arg) or {}).get("type")
    args[arg] = ["bash", "-lc", command] if t == "array" else command
    return name, args


def choose_tool_calls(
    tools: list[tuple[str, dict[str, Any]]],
    forced: str | None,
    must_call: bool,
    parallel: bool,
    user_text: str,
    id_prefix: str,
    id_len: int,
) -> list[ToolCall]:
    """Which tools the mock model calls.

    tools: (name, json schema) of the offered client tools. forced: a tool_choice naming one tool.
    must_call: tool_choice any/required. A tool is called when it is forced, asked for in the user
    text ("call the NAME tool", optionally "with {json arguments}"), or a get_weather-style tool
    (once per city named, at most two, one when parallel calls are off); otherwise, only when
    must_call, the first tool. The mock does not call a harness's tools unasked (Claude Code
    would run them).
    """
    if not tools:
        return []
    shell = SHELL_REQUEST.search(user_text)
    if shell:
        found = shell_call(tools, shell.group(1))
        if found:
            return [ToolCall(id_prefix + rand_id(id_len), found[0], found[1])]
    by_name = dict(tools)
    chosen: str | None = None
    if forced and forced in by_name:
        chosen = forced
    asked = re.search(r"\bcall the (\w+) tool\b(?: with (\{.*\}))?", user_text)
    if chosen is None and asked and asked.group(1) in by_name:
        if asked.group(2):
            return [ToolCall(id_prefix + rand_id(id_len), asked.group(1), json.loads(asked.group(2)))]
        chosen = asked.group(1)
    if chosen is None:
        chosen = next((name for name, _ in tools if "weather" in name.lower()), None)
    if chosen is None and must_call:
        chosen = tools[0][0]
    if chosen is None:
        return []
    cities = [c for c in CITIES if c.lower() in user_text.lower()] or ["Paris"]
    cities = cities[: 2 if parallel else 1]
    return [ToolCall(id_prefix + rand_id(id_len), chosen, fill_args(by_name[chosen], c)) for c in cities]


def answer_for_results(results: list[tuple[str, str]]) -> str:
    """The text answer to a turn of tool results: each result quoted with its tool id."""
    return f"{TOOL_RESULT_PREFIX} " + " | ".join(f"[{tid}] {content}" for tid, content in results)


def truncate(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """Cut text to max_tokens words (one word = one token here); says whether it was cut."""
    ws = words(text)
    if max_tokens is not None and max_tokens < len(ws):
        return "".join(ws[:max_tokens]), True
    return text, False


GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def model_failure(dialect: str, model: Any) -> None:
    """Raise the provider's error for the failure-triggering model names.

    dialect: "anthropic", "openai" (Chat), "responses" or "gemini". Gemini failures carry the
    google.rpc status name (INVALID_ARGUMENT, ...) as their type.
    """
    if not isinstance(model, str):
        return
    if NOT_FOUND_MARK in model:
        if dialect == "anthropic":
            raise ApiFailure(404, "not_found_error", f"model: {model}")
        if dialect == "gemini":
            raise ApiFailure(
                404,
                "NOT_FOUND",
                f"models/{model} is not found for API version v1beta, or is not supported for generateContent.",
            )
        raise ApiFailure(
            404,
            "invalid_request_error",
            f"The model `{model}` does not exist or you do not have access to it.",
            "model_not_found",
        )
    if model == CONTEXT_OVERFLOW_MODEL:
        if dialect == "anthropic":
            raise ApiFailure(400, "invalid_request_error", "prompt is too long: 212345 tokens > 200000 maximum")
        if dialect == "gemini":
            raise ApiFailure(
                400,
                "INVALID_ARGUMENT",
                "The input token count (212345) exceeds the maximum number of tokens allowed (1048576).",
            )
        if dialect == "responses":
            raise ApiFailure(
                400,
                "invalid_request_error",
                "Your input exceeds the context window of this model. Please adjust your input and try again.",
                "context_length_exceeded",
                "input",
            )
        raise ApiFailure(
            400,
            "invalid_request_error",
            "This model's maximum context length is 128000 tokens. However, your messages resulted in "
            "212345 tokens. Please reduce the length of the messages.",
            "context_length_exceeded",
            "messages",
        )
    m = ERROR_MODEL.fullmatch(model)
    if m:
        status = int(m.group(1))
        if dialect == "gemini":
            raise ApiFailure(status, GEMINI_STATUS.get(status, "INTERNAL"), f"mock error {status}")
        if dialect == "anthropic":
            etype = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        else:
            etype = "rate_limit_error" if status == 429 else "server_error"
        if status < 500 and status != 429:
            etype = "invalid_request_error"
        raise ApiFailure(status, etype, f"mock error {status}")


def text_token_count(texts: list[str]) -> int:
    """The mock's token counters: COUNT_BASE plus one token per word of the request's texts."""
    return COUNT_BASE + sum(len(t.split()) for t in texts)
