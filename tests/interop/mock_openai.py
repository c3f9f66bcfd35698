"""The mock upstream's OpenAI Chat Completions wire format: request checks, completions, chunks.

Shapes follow the OpenAI API reference and openai-python's types (ChatCompletion,
ChatCompletionChunk); test_mock_upstream.py proves the official SDK accepts them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import mock_model as m
import mock_schema


def text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")


# Open-model servers (vLLM, the `mock-chat` model here) accept and ignore fields OpenAI does not
# know (top_k, min_p, repetition_penalty...); OpenAI itself refuses them.
LENIENT_MODEL_PREFIX = "mock-chat"


def unknown_field(body: dict[str, Any]) -> None:
    """Refuse a field the API does not take, with OpenAI's messages for it."""
    if str(body.get("model")).startswith(LENIENT_MODEL_PREFIX):
        return
    problem = mock_schema.check("openai", body)
    if problem is None:
        return
    path, field = problem
    if "=" in field:
        key, _, tag = field.partition("=")
        raise m.ApiFailure(
            400, "invalid_request_error", f"Invalid value: {tag}. Supported values are not this one.",
            "invalid_value", mock_schema.bracketed(path, key),
        )
    if not path:
        raise m.ApiFailure(400, "invalid_request_error", f"Unrecognized request argument supplied: {field}")
    raise m.ApiFailure(
        400,
        "invalid_request_error",
        f"Additional properties are not allowed ('{field}' was unexpected) - '{mock_schema.dotted(path)}'",
    )


def validate(body: Any) -> None:
    def bad(msg: str, param: str | None = None, code: str | None = None) -> m.ApiFailure:
        return m.ApiFailure(400, "invalid_request_error", msg, code, param)

    if not isinstance(body, dict):
        raise bad("We could not parse the JSON body of your request.")
    unknown_field(body)
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
            raise bad(
                f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool'.",
                f"messages[{i}].role",
            )
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
                    raise bad(
                        f"Invalid 'messages[{i}].content': system content parts must be text.", f"messages[{i}].content"
                    )
        if role == "assistant":
            for j, call in enumerate(msg.get("tool_calls") or []):
                fn = call.get("function") or {}
                if not isinstance(fn.get("arguments"), str):
                    raise bad(
                        f"Invalid type for 'messages[{i}].tool_calls[{j}].function.arguments': expected a string.",
                        f"messages[{i}].tool_calls[{j}].function.arguments",
                    )
                pending.append(call.get("id"))
            if msg.get("content") is None and not msg.get("tool_calls"):
                raise bad(
                    f"Invalid value for 'messages[{i}].content': expected a string, got null.", f"messages[{i}].content"
                )
        elif msg.get("content") is None:
            raise bad(
                f"Invalid value for 'messages[{i}].content': expected a string, got null.", f"messages[{i}].content"
            )
    if pending and msgs[-1].get("role") != "assistant":
        raise bad("tool_call_ids did not have response messages: " + ", ".join(pending), "messages")


def decide(body: dict[str, Any]) -> m.Answer:
    msgs = body["messages"]
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    thinking = body.get("reasoning_effort") not in (None, "none")
    # The tool messages of the last turn: after the last assistant message (a user message with
    # more text may follow them).
    last_assistant = max((i for i, msg in enumerate(msgs) if msg.get("role") == "assistant"), default=-1)
    results = [
        (msg.get("tool_call_id"), text_of(msg.get("content")))
        for msg in msgs[last_assistant + 1 :]
        if msg.get("role") == "tool"
    ]
    if results:
        text, truncated = m.truncate(m.answer_for_results(results), max_tokens)
        return m.Answer(text, [], thinking, truncated)
    tools = [
        (t["function"]["name"], t["function"].get("parameters") or {})
        for t in body.get("tools") or []
        if t.get("type") == "function"
    ]
    choice = body.get("tool_choice")
    forced = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    calls: list[m.ToolCall] = []
    if choice != "none":
        last_user = next((msg for msg in reversed(msgs) if msg.get("role") == "user"), {})
        calls = m.choose_tool_calls(
            tools,
            forced,
            choice == "required" or forced is not None,
            body.get("parallel_tool_calls", True) is not False,
            text_of(last_user.get("content")),
            "call_",
            24,
        )
    if calls:
        return m.Answer(None, calls, thinking, False)
    text, truncated = m.truncate(m.OPENAI_TEXT, max_tokens)
    return m.Answer(text, [], thinking, truncated, body["model"] == m.MIDSTREAM_ERROR_MODEL)


def finish_reason(ans: m.Answer) -> str:
    if ans.tool_calls:
        return "tool_calls"
    return "length" if ans.truncated else "stop"


def usage() -> dict[str, Any]:
    return {
        "prompt_tokens": m.OPENAI_USAGE["prompt_tokens"],
        "completion_tokens": m.OPENAI_USAGE["completion_tokens"],
        "total_tokens": m.OPENAI_USAGE["prompt_tokens"] + m.OPENAI_USAGE["completion_tokens"],
        "prompt_tokens_details": {"cached_tokens": m.OPENAI_USAGE["cached_tokens"], "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def completion(body: dict[str, Any], ans: m.Answer) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": ans.text, "refusal": None, "annotations": []}
    if ans.thinking:
        message["reasoning_content"] = m.THINKING_TEXT
    if ans.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
            for c in ans.tool_calls
        ]
    return {
        "id": "chatcmpl-" + m.rand_id(29),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason(ans)}],
        "usage": usage(),
        "service_tier": "default",
        "system_fingerprint": "fp_mock0001",
    }


def chunks(body: dict[str, Any], ans: m.Answer) -> Iterator[dict[str, Any]]:
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    cid = "chatcmpl-" + m.rand_id(29)
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
        for piece in m.words(m.THINKING_TEXT):
            yield chunk({"reasoning_content": piece})
    if ans.text is not None:
        for n, piece in enumerate(m.words(ans.text)):
            if ans.midstream_error and n == m.MIDSTREAM_DELTAS:
                yield {
                    "error": {
                        "message": "The server had an error while processing your request.",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                }
                return
            yield chunk({"content": piece})
    for k, call in enumerate(ans.tool_calls):
        yield chunk(
            {
                "tool_calls": [
                    {"index": k, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
                ]
            }
        )
        for piece in m.pieces(json.dumps(call.arguments)):
            yield chunk({"tool_calls": [{"index": k, "function": {"arguments": piece}}]})
    yield chunk({}, finish_reason(ans))
    if include_usage:
        last = chunk({})
        last["choices"] = []
        last["usage"] = usage()
        yield last


def error_body(f: m.ApiFailure) -> dict[str, Any]:
    return {"error": {"message": f.message, "type": f.etype, "param": f.param, "code": f.code}}
