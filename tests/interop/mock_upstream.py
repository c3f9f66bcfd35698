"""A mock LLM upstream that speaks OpenAI Chat Completions and Anthropic Messages.

One server answers both dialects, streaming and not, the way the providers do:

- ``POST /v1/chat/completions`` (OpenAI Chat) and ``POST /v1/messages`` (Anthropic Messages).
- Plain requests get a text answer. When the request offers tools and the last user turn holds no
  tool result, the mock calls a tool (see ``_choose_tool_calls``): one the user text asks for
  ("call the NAME tool [with {json}]") or a ``get_weather``-style tool, once per city named in the last user
  text (two cities -> two parallel calls). When the last turn holds tool results, the answer is
  text that quotes each result with its tool id.
- Usage is fixed (``ANTHROPIC_USAGE`` / ``OPENAI_USAGE``) so tests can check its translation.
- Streams are sent incrementally as SSE with chunked transfer encoding; OpenAI streams send the
  ``include_usage`` chunk when asked and end with ``data: [DONE]``.
- Requests are checked the way the providers check them (API key, ``anthropic-version``, tool
  call / tool result pairing, ``stream_options`` without ``stream``) and refused with the
  provider's error shape; a model named ``...does-not-exist...`` gives the provider's 404 and
  ``error-<status>`` gives that status.
- Every request is recorded: ``GET /_requests`` returns them (method, path, query, lowercased
  headers, parsed body, raw body text); ``POST /_reset`` clears them.

Run standalone with ``python mock_upstream.py --port 8999``.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import string
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import urlsplit

API_KEY = "test-key"

ANTHROPIC_USAGE = {
    "input_tokens": 25,
    "cache_creation_input_tokens": 7,
    "cache_read_input_tokens": 11,
    "output_tokens": 13,
}
# prompt_tokens includes the cached tokens, as OpenAI reports it.
OPENAI_USAGE = {"prompt_tokens": 30, "cached_tokens": 10, "completion_tokens": 12}

ANTHROPIC_TEXT = "Hello from the mock Anthropic upstream."
OPENAI_TEXT = "Hello from the mock OpenAI upstream."
TOOL_RESULT_PREFIX = "Based on the tool results:"
THINKING_TEXT = "Let me think about this step by step."
THINKING_SIGNATURE = "EqQBCkYIARgCIkBmb2NrLXNpZ25hdHVyZS1ieXRlcw=="

CITIES = ["Paris", "London", "Tokyo", "Berlin", "Madrid", "Rome", "New York", "San Francisco"]

_ALNUM = string.ascii_letters + string.digits


def _rand(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def _chunks(s: str, n: int = 3) -> list[str]:
    """Split s into at most n non-empty pieces (for streamed deltas)."""
    if not s:
        return []
    size = max(1, -(-len(s) // n))
    return [s[i : i + size] for i in range(0, len(s), size)]


def _words(s: str) -> list[str]:
    """Split text into word pieces that keep their leading space: 'a b' -> ['a', ' b']."""
    return re.findall(r"\s*\S+", s) or [s]


class ApiFailure(Exception):
    """A request the provider would refuse: status, error type, message (and OpenAI code)."""

    def __init__(self, status: int, etype: str, message: str, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status = status
        self.etype = etype
        self.message = message
        self.code = code
        self.param = param


# ---------------------------------------------------------------------------------------------
# The model's "decision", shared by both dialects.


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


def _fill_args(schema: dict[str, Any], city: str) -> dict[str, Any]:
    props = schema.get("properties") or {}
    required = schema.get("required") or list(props)[:1]
    args: dict[str, Any] = {}
    for name in required:
        prop = props.get(name) or {}
        if name in ("location", "city", "place"):
            args[name] = city
            continue
        if "enum" in prop and prop["enum"]:
            args[name] = prop["enum"][0]
            continue
        t = prop.get("type", "string")
        if isinstance(t, list):
            t = t[0]
        args[name] = {"string": "mock", "number": 1, "integer": 1, "boolean": True, "array": [], "object": {}}.get(
            t, "mock"
        )
    return args


def _choose_tool_calls(
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
    text ("call the NAME tool", optionally "with {json arguments}"), or a get_weather-style tool;
    otherwise, only when must_call, the first tool. The mock does not call a harness's tools
    unasked (Claude Code would run them).
    """
    if not tools:
        return []
    by_name = dict(tools)
    chosen: str | None = None
    if forced and forced in by_name:
        chosen = forced
    asked = re.search(r"\bcall the (\w+) tool\b(?: with (\{.*\}))?", user_text)
    if chosen is None and asked and asked.group(1) in by_name:
        if asked.group(2):
            return [ToolCall(id_prefix + _rand(id_len), asked.group(1), json.loads(asked.group(2)))]
        chosen = asked.group(1)
    if chosen is None:
        for name, _ in tools:
            if "weather" in name.lower():
                chosen = name
                break
    if chosen is None and must_call:
        chosen = tools[0][0]
    if chosen is None:
        return []
    cities = [c for c in CITIES if c.lower() in user_text.lower()] or ["Paris"]
    if not parallel:
        cities = cities[:1]
    cities = cities[:2]
    return [ToolCall(id_prefix + _rand(id_len), chosen, _fill_args(by_name[chosen], c)) for c in cities]


def _answer_for_results(results: list[tuple[str, str]]) -> str:
    parts = [f"[{tid}] {content}" for tid, content in results]
    return f"{TOOL_RESULT_PREFIX} " + " | ".join(parts)


def _truncate(text: str, max_tokens: int | None) -> tuple[str, bool]:
    words = _words(text)
    if max_tokens is not None and max_tokens < len(words):
        return "".join(words[:max_tokens]), True
    return text, False


# ---------------------------------------------------------------------------------------------
# Anthropic Messages.


def _anthropic_text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    out = []
    for block in content or []:
        if isinstance(block, dict) and block.get("type") == "text":
            out.append(block.get("text", ""))
    return "\n".join(out)


def anthropic_validate(body: Any) -> None:
    def bad(msg: str) -> ApiFailure:
        return ApiFailure(400, "invalid_request_error", msg)

    if not isinstance(body, dict):
        raise bad("body: Input should be a valid dictionary")
    for field in ("model", "max_tokens", "messages"):
        if field not in body:
            raise bad(f"{field}: Field required")
    if not isinstance(body["model"], str):
        raise bad("model: Input should be a valid string")
    if not isinstance(body["max_tokens"], int) or isinstance(body["max_tokens"], bool) or body["max_tokens"] < 1:
        raise bad("max_tokens: Input should be a valid integer greater than or equal to 1")
    msgs = body["messages"]
    if not isinstance(msgs, list) or not msgs:
        raise bad("messages: at least one message is required")
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or "name" not in tool:
            raise bad(f"tools.{i}.name: Field required")
        if tool.get("type") in (None, "custom") and not isinstance(tool.get("input_schema"), dict):
            raise bad(f"tools.{i}.custom.input_schema: Field required")
    prev_tool_ids: list[str] = []
    for i, msg in enumerate(msgs):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant", "system"):
            raise bad(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = msg.get("content")
        if not isinstance(content, (str, list)):
            raise bad(f"messages.{i}.content: Input should be a valid string or list")
        blocks = content if isinstance(content, list) else []
        for j, block in enumerate(blocks):
            if not isinstance(block, dict) or "type" not in block:
                raise bad(f"messages.{i}.content.{j}.type: Field required")
        result_ids = [b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"]
        if msg["role"] == "user" and result_ids:
            unknown = [t for t in result_ids if t not in prev_tool_ids]
            if unknown:
                raise bad(
                    f"messages.{i}.content.0: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{unknown[0]}. Each `tool_result` block must have a corresponding `tool_use` block "
                    "in the previous message."
                )
        if prev_tool_ids:
            missing = [t for t in prev_tool_ids if t not in result_ids]
            if missing:
                raise bad(
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately "
                    f"after: {', '.join(missing)}. Each `tool_use` block must have a corresponding "
                    "`tool_result` block in the next message."
                )
        if msg["role"] == "assistant":
            prev_tool_ids = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
            if i == len(msgs) - 1:
                prev_tool_ids = []
        else:
            prev_tool_ids = []


def anthropic_decide(body: dict[str, Any]) -> Answer:
    msgs = body["messages"]
    thinking = isinstance(body.get("thinking"), dict) and body["thinking"].get("type") in ("enabled", "adaptive")
    # The last turn: the messages after the last assistant message (newer Claude Code puts a
    # role "system" message after the user's).
    last_assistant = max((i for i, m in enumerate(msgs) if m.get("role") == "assistant"), default=-1)
    turn = msgs[last_assistant + 1 :]
    last_user = next((m for m in reversed(turn) if m.get("role") == "user"), {"content": ""})
    results = []
    for m in turn:
        for b in m["content"] if m.get("role") == "user" and isinstance(m["content"], list) else []:
            if b.get("type") != "tool_result":
                continue
            c = b.get("content")
            text = _anthropic_text_of(c) if c is not None else ""
            if b.get("is_error"):
                text = f"error: {text}"
            results.append((b.get("tool_use_id"), text))
    if results:
        text, truncated = _truncate(_answer_for_results(results), body.get("max_tokens"))
        return Answer(text, [], thinking, truncated)
    tools = [
        (t["name"], t.get("input_schema") or {})
        for t in body.get("tools") or []
        if t.get("type") in (None, "custom")
    ]
    choice = body.get("tool_choice") or {}
    forced = choice.get("name") if choice.get("type") == "tool" else None
    calls: list[ToolCall] = []
    if choice.get("type") != "none":
        calls = _choose_tool_calls(
            tools,
            forced,
            choice.get("type") in ("any", "tool"),
            not choice.get("disable_parallel_tool_use", False),
            _anthropic_text_of(last_user.get("content")),
            "toolu_01",
            22,
        )
    if calls:
        return Answer(None, calls, thinking, False)
    text, truncated = _truncate(ANTHROPIC_TEXT, body.get("max_tokens"))
    return Answer(text, [], thinking, truncated)


def _anthropic_stop(ans: Answer) -> str:
    if ans.tool_calls:
        return "tool_use"
    return "max_tokens" if ans.truncated else "end_turn"


def _anthropic_usage() -> dict[str, Any]:
    return {
        "input_tokens": ANTHROPIC_USAGE["input_tokens"],
        "cache_creation_input_tokens": ANTHROPIC_USAGE["cache_creation_input_tokens"],
        "cache_read_input_tokens": ANTHROPIC_USAGE["cache_read_input_tokens"],
        "cache_creation": {
            "ephemeral_5m_input_tokens": ANTHROPIC_USAGE["cache_creation_input_tokens"],
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": ANTHROPIC_USAGE["output_tokens"],
        "service_tier": "standard",
    }


def anthropic_message(body: dict[str, Any], ans: Answer) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if ans.thinking:
        content.append({"type": "thinking", "thinking": THINKING_TEXT, "signature": THINKING_SIGNATURE})
    if ans.text is not None:
        content.append({"type": "text", "text": ans.text})
    for call in ans.tool_calls:
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments})
    return {
        "id": "msg_01" + _rand(22),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": _anthropic_stop(ans),
        "stop_sequence": None,
        "usage": _anthropic_usage(),
    }


def anthropic_events(body: dict[str, Any], ans: Answer) -> Iterator[tuple[str, dict[str, Any]]]:
    start_usage = _anthropic_usage()
    start_usage["output_tokens"] = 1
    yield "message_start", {
        "type": "message_start",
        "message": {
            "id": "msg_01" + _rand(22),
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": start_usage,
        },
    }
    index = 0
    if ans.thinking:
        yield "content_block_start", {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        }
        for piece in _words(THINKING_TEXT):
            yield "content_block_delta", {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "thinking_delta", "thinking": piece},
            }
        yield "content_block_delta", {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "signature_delta", "signature": THINKING_SIGNATURE},
        }
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
        index += 1
    if ans.text is not None:
        yield "content_block_start", {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        }
        yield "ping", {"type": "ping"}
        for piece in _words(ans.text):
            yield "content_block_delta", {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "text_delta", "text": piece},
            }
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
        index += 1
    for call in ans.tool_calls:
        yield "content_block_start", {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "tool_use", "id": call.id, "name": call.name, "input": {}},
        }
        for piece in _chunks(json.dumps(call.arguments)):
            yield "content_block_delta", {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": piece},
            }
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
        index += 1
    yield "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": _anthropic_stop(ans), "stop_sequence": None},
        "usage": {
            "input_tokens": ANTHROPIC_USAGE["input_tokens"],
            "cache_creation_input_tokens": ANTHROPIC_USAGE["cache_creation_input_tokens"],
            "cache_read_input_tokens": ANTHROPIC_USAGE["cache_read_input_tokens"],
            "output_tokens": ANTHROPIC_USAGE["output_tokens"],
        },
    }
    yield "message_stop", {"type": "message_stop"}


def anthropic_error(f: ApiFailure) -> dict[str, Any]:
    return {"type": "error", "error": {"type": f.etype, "message": f.message}, "request_id": "req_01" + _rand(22)}


# ---------------------------------------------------------------------------------------------
# OpenAI Chat Completions.


def _openai_text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")


def openai_validate(body: Any) -> None:
    def bad(msg: str, param: str | None = None, code: str | None = None) -> ApiFailure:
        return ApiFailure(400, "invalid_request_error", msg, code, param)

    if not isinstance(body, dict):
        raise bad("We could not parse the JSON body of your request.")
    for field in ("model", "messages"):
        if field not in body:
            raise bad(f"Missing required parameter: '{field}'.", field, "missing_required_parameter")
    msgs = body["messages"]
    if not isinstance(msgs, list) or not msgs:
        raise bad("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages")
    if body.get("stream_options") is not None and not body.get("stream"):
        raise bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise bad(f"Invalid value for 'tools[{i}].type'.", f"tools[{i}].type")
        if not isinstance(tool.get("function"), dict) or "name" not in tool["function"]:
            raise bad(f"Missing required parameter: 'tools[{i}].function.name'.", f"tools[{i}].function.name")
    pending: list[str] = []
    for i, msg in enumerate(msgs):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in ("system", "developer", "user", "assistant", "tool"):
            raise bad(f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool'.",
                      f"messages[{i}].role")
        if role == "tool":
            tid = msg.get("tool_call_id")
            if tid not in pending:
                raise bad(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    "with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            pending.remove(tid)
            if not isinstance(msg.get("content"), (str, list)):
                raise bad(f"Invalid type for 'messages[{i}].content'.", f"messages[{i}].content")
            continue
        if pending:
            raise bad(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
                "messages",
            )
        if role in ("system", "developer") and isinstance(msg.get("content"), list):
            for p in msg["content"]:
                if p.get("type") != "text":
                    raise bad(f"Invalid 'messages[{i}].content': system content parts must be text.",
                              f"messages[{i}].content")
        if role == "assistant":
            for j, call in enumerate(msg.get("tool_calls") or []):
                fn = call.get("function") or {}
                if not isinstance(fn.get("arguments"), str):
                    raise bad(f"Invalid type for 'messages[{i}].tool_calls[{j}].function.arguments': expected a string.",
                              f"messages[{i}].tool_calls[{j}].function.arguments")
                pending.append(call.get("id"))
            if msg.get("content") is None and not msg.get("tool_calls"):
                raise bad(f"Invalid value for 'messages[{i}].content': expected a string, got null.",
                          f"messages[{i}].content")
        elif msg.get("content") is None:
            raise bad(f"Invalid value for 'messages[{i}].content': expected a string, got null.",
                      f"messages[{i}].content")
    if pending and msgs[-1].get("role") != "assistant":
        raise bad("tool_call_ids did not have response messages: " + ", ".join(pending), "messages")


def openai_decide(body: dict[str, Any]) -> Answer:
    msgs = body["messages"]
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    thinking = body.get("reasoning_effort") not in (None, "none")
    # The tool messages of the last turn: after the last assistant message (a user message with
    # more text may follow them).
    last_assistant = max((i for i, m in enumerate(msgs) if m.get("role") == "assistant"), default=-1)
    results = [
        (m.get("tool_call_id"), _openai_text_of(m.get("content")))
        for m in msgs[last_assistant + 1 :]
        if m.get("role") == "tool"
    ]
    if results:
        text, truncated = _truncate(_answer_for_results(results), max_tokens)
        return Answer(text, [], thinking, truncated)
    tools = [
        (t["function"]["name"], t["function"].get("parameters") or {})
        for t in body.get("tools") or []
        if t.get("type") == "function"
    ]
    choice = body.get("tool_choice")
    forced = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    calls: list[ToolCall] = []
    if choice != "none":
        last_user = next((m for m in reversed(msgs) if m.get("role") == "user"), {})
        calls = _choose_tool_calls(
            tools,
            forced,
            choice == "required" or forced is not None,
            body.get("parallel_tool_calls", True) is not False,
            _openai_text_of(last_user.get("content")),
            "call_",
            24,
        )
    if calls:
        return Answer(None, calls, thinking, False)
    text, truncated = _truncate(OPENAI_TEXT, max_tokens)
    return Answer(text, [], thinking, truncated)


def _openai_finish(ans: Answer) -> str:
    if ans.tool_calls:
        return "tool_calls"
    return "length" if ans.truncated else "stop"


def _openai_usage() -> dict[str, Any]:
    return {
        "prompt_tokens": OPENAI_USAGE["prompt_tokens"],
        "completion_tokens": OPENAI_USAGE["completion_tokens"],
        "total_tokens": OPENAI_USAGE["prompt_tokens"] + OPENAI_USAGE["completion_tokens"],
        "prompt_tokens_details": {"cached_tokens": OPENAI_USAGE["cached_tokens"], "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def openai_completion(body: dict[str, Any], ans: Answer) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": ans.text, "refusal": None, "annotations": []}
    if ans.thinking:
        message["reasoning_content"] = THINKING_TEXT
    if ans.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
            for c in ans.tool_calls
        ]
    return {
        "id": "chatcmpl-" + _rand(29),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": _openai_finish(ans)}],
        "usage": _openai_usage(),
        "service_tier": "default",
        "system_fingerprint": "fp_mock0001",
    }


def openai_chunks(body: dict[str, Any], ans: Answer) -> Iterator[dict[str, Any]]:
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    cid = "chatcmpl-" + _rand(29)
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        c: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": body["model"],
            "service_tier": "default",
            "system_fingerprint": "fp_mock0001",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            c["usage"] = None
        return c

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    if ans.thinking:
        for piece in _words(THINKING_TEXT):
            yield chunk({"reasoning_content": piece})
    if ans.text is not None:
        for piece in _words(ans.text):
            yield chunk({"content": piece})
    for k, call in enumerate(ans.tool_calls):
        yield chunk(
            {
                "tool_calls": [
                    {"index": k, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
                ]
            }
        )
        for piece in _chunks(json.dumps(call.arguments)):
            yield chunk({"tool_calls": [{"index": k, "function": {"arguments": piece}}]})
    yield chunk({}, _openai_finish(ans))
    if include_usage:
        last = chunk({})
        last["choices"] = []
        last["usage"] = _openai_usage()
        yield last


def openai_error(f: ApiFailure) -> dict[str, Any]:
    return {"error": {"message": f.message, "type": f.etype, "param": f.param, "code": f.code}}


# ---------------------------------------------------------------------------------------------
# HTTP.


class MockHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "MockServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            super().log_message(format, *args)

    # -- plumbing

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _start_sse(self, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _record(self, raw: bytes) -> dict[str, Any]:
        parts = urlsplit(self.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        rec = {
            "method": self.command,
            "path": parts.path,
            "query": parts.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "raw": raw.decode("utf-8", "replace"),
        }
        with self.server.lock:
            self.server.requests.append(rec)
        return rec

    # -- routes

    def do_HEAD(self) -> None:
        self._record(b"")
        self._send_json(200, {})

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_requests":
            with self.server.lock:
                snapshot = list(self.server.requests)
            self._send_json(200, snapshot)
            return
        self._record(b"")
        if path in ("/v1/models", "/models"):
            if "anthropic-version" in {k.lower() for k in self.headers.keys()}:
                data = [
                    {"type": "model", "id": "mock-claude", "display_name": "Mock Claude",
                     "created_at": "2025-01-01T00:00:00Z"}
                ]
                self._send_json(200, {"data": data, "has_more": False, "first_id": "mock-claude",
                                      "last_id": "mock-claude"})
            else:
                data = [{"id": "mock-gpt", "object": "model", "created": 1735689600, "owned_by": "mock"}]
                self._send_json(200, {"object": "list", "data": data})
            return
        if path in ("/", "/health"):
            self._send_json(200, {"ok": True})
            return
        self._send_json(404, {"error": {"message": f"no route {path}", "type": "not_found_error"}})

    def do_POST(self) -> None:
        raw = self._read_body()
        path = urlsplit(self.path).path
        if path == "/_reset":
            with self.server.lock:
                self.server.requests.clear()
            self._send_json(200, {"ok": True})
            return
        rec = self._record(raw)
        if path in ("/v1/messages", "/messages"):
            self._anthropic(rec)
        elif path in ("/v1/chat/completions", "/chat/completions"):
            self._openai(rec)
        else:
            self._send_json(404, {"error": {"message": f"no route {path}", "type": "not_found_error"}})

    def _model_failure(self, model: Any, not_found: ApiFailure) -> None:
        if isinstance(model, str) and "does-not-exist" in model:
            raise not_found
        m = re.fullmatch(r"error-(\d{3})", model) if isinstance(model, str) else None
        if m:
            status = int(m.group(1))
            raise ApiFailure(status, "api_error" if status >= 500 else "invalid_request_error",
                             f"mock error {status}")

    def _anthropic(self, rec: dict[str, Any]) -> None:
        h = rec["headers"]
        headers = {"request-id": "req_01" + _rand(22), "anthropic-organization-id": "mock-org"}
        try:
            key = h.get("x-api-key") or h.get("authorization", "").removeprefix("Bearer ").strip()
            if not key:
                raise ApiFailure(401, "authentication_error", "x-api-key header is required")
            if key != self.server.api_key:
                raise ApiFailure(401, "authentication_error", "invalid x-api-key")
            if not h.get("anthropic-version"):
                raise ApiFailure(400, "invalid_request_error", "anthropic-version: header is required")
            body = rec["body"]
            if body is None:
                raise ApiFailure(400, "invalid_request_error", "There was an issue with the JSON body")
            anthropic_validate(body)
            self._model_failure(body["model"], ApiFailure(404, "not_found_error", f"model: {body['model']}"))
            ans = anthropic_decide(body)
        except ApiFailure as f:
            self._send_json(f.status, anthropic_error(f), headers)
            return
        if not body.get("stream"):
            self._send_json(200, anthropic_message(body, ans), headers)
            return
        self._start_sse(headers)
        for event, data in anthropic_events(body, ans):
            self._send_chunk(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
        self._end_chunks()

    def _openai(self, rec: dict[str, Any]) -> None:
        h = rec["headers"]
        headers = {"x-request-id": "req_" + _rand(24), "openai-processing-ms": "1"}
        try:
            auth = h.get("authorization", "")
            if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ").strip() != self.server.api_key:
                raise ApiFailure(401, "invalid_request_error", "Incorrect API key provided.", "invalid_api_key")
            body = rec["body"]
            if body is None:
                raise ApiFailure(400, "invalid_request_error", "We could not parse the JSON body of your request.")
            openai_validate(body)
            self._model_failure(
                body["model"],
                ApiFailure(404, "invalid_request_error",
                           f"The model `{body['model']}` does not exist or you do not have access to it.",
                           "model_not_found"),
            )
            ans = openai_decide(body)
        except ApiFailure as f:
            self._send_json(f.status, openai_error(f), headers)
            return
        if not body.get("stream"):
            self._send_json(200, openai_completion(body, ans), headers)
            return
        self._start_sse(headers)
        for c in openai_chunks(body, ans):
            self._send_chunk(f"data: {json.dumps(c)}\n\n".encode())
        self._send_chunk(b"data: [DONE]\n\n")
        self._end_chunks()


class MockServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], api_key: str = API_KEY, verbose: bool = False):
        super().__init__(addr, MockHandler)
        self.api_key = api_key
        self.verbose = verbose
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that hung up (keep-alive close, cancelled stream) is no error
        super().handle_error(request, client_address)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def recorded(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()


def start(port: int = 0, api_key: str = API_KEY) -> tuple[MockServer, threading.Thread]:
    """Start a mock on 127.0.0.1:port (0 = a free port) in a daemon thread."""
    server = MockServer(("127.0.0.1", port), api_key)
    thread = threading.Thread(target=server.serve_forever, name="mock-upstream", daemon=True)
    thread.start()
    return server, thread


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8999)
    ap.add_argument("--api-key", default=API_KEY)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    server = MockServer(("127.0.0.1", args.port), args.api_key, args.verbose)
    print(f"mock upstream listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
