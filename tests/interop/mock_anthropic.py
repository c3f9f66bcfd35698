"""The mock upstream's Anthropic Messages wire format: request checks, messages, SSE events.

Shapes follow the Anthropic API reference and anthropic-sdk-python's types (Message,
RawMessageStreamEvent); test_mock_upstream.py proves the official SDK accepts them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import mock_model as m
import mock_schema


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    out = []
    for block in content or []:
        if isinstance(block, dict) and block.get("type") == "text":
            out.append(block.get("text", ""))
    return "\n".join(out)


def unknown_field(body: Any, beta: bool = False) -> None:
    """Refuse a field the API does not take, as the API does (its request models forbid extras)."""
    problem = mock_schema.check("anthropic", body, beta=beta)
    if problem is None:
        return
    path, field = problem
    if "=" in field:
        key, _, tag = field.partition("=")
        raise m.ApiFailure(
            400,
            "invalid_request_error",
            f"{mock_schema.dotted(path)}: Input tag {tag} found using '{key}' does not match any of the expected tags",
        )
    raise m.ApiFailure(400, "invalid_request_error", f"{mock_schema.dotted(path, field)}: Extra inputs are not permitted")


def validate(body: Any, beta: bool = False) -> None:
    def bad(msg: str) -> m.ApiFailure:
        return m.ApiFailure(400, "invalid_request_error", msg)

    if not isinstance(body, dict):
        raise bad("body: Input should be a valid dictionary")
    unknown_field(body, beta)
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


def decide(body: dict[str, Any]) -> m.Answer:
    msgs = body["messages"]
    thinking = isinstance(body.get("thinking"), dict) and body["thinking"].get("type") in ("enabled", "adaptive")
    # The last turn: the messages after the last assistant message (newer Claude Code puts a
    # role "system" message after the user's).
    last_assistant = max((i for i, msg in enumerate(msgs) if msg.get("role") == "assistant"), default=-1)
    turn = msgs[last_assistant + 1 :]
    last_user = next((msg for msg in reversed(turn) if msg.get("role") == "user"), {"content": ""})
    results = []
    for msg in turn:
        for b in msg["content"] if msg.get("role") == "user" and isinstance(msg["content"], list) else []:
            if b.get("type") != "tool_result":
                continue
            c = b.get("content")
            text = text_of(c) if c is not None else ""
            if b.get("is_error"):
                text = f"error: {text}"
            results.append((b.get("tool_use_id"), text))
    if results:
        text, truncated = m.truncate(m.answer_for_results(results), body.get("max_tokens"))
        return m.Answer(text, [], thinking, truncated)
    tools = [
        (t["name"], t.get("input_schema") or {}) for t in body.get("tools") or [] if t.get("type") in (None, "custom")
    ]
    choice = body.get("tool_choice") or {}
    forced = choice.get("name") if choice.get("type") == "tool" else None
    calls: list[m.ToolCall] = []
    if choice.get("type") != "none":
        calls = m.choose_tool_calls(
            tools,
            forced,
            choice.get("type") in ("any", "tool"),
            not choice.get("disable_parallel_tool_use", False),
            text_of(last_user.get("content")),
            "toolu_01",
            22,
        )
    if calls:
        return m.Answer(None, calls, thinking, False)
    text, truncated = m.truncate(m.ANTHROPIC_TEXT, body.get("max_tokens"))
    return m.Answer(text, [], thinking, truncated, body["model"] == m.MIDSTREAM_ERROR_MODEL)


def stop_reason(ans: m.Answer) -> str:
    if ans.tool_calls:
        return "tool_use"
    return "max_tokens" if ans.truncated else "end_turn"


def usage() -> dict[str, Any]:
    return {
        "input_tokens": m.ANTHROPIC_USAGE["input_tokens"],
        "cache_creation_input_tokens": m.ANTHROPIC_USAGE["cache_creation_input_tokens"],
        "cache_read_input_tokens": m.ANTHROPIC_USAGE["cache_read_input_tokens"],
        "cache_creation": {
            "ephemeral_5m_input_tokens": m.ANTHROPIC_USAGE["cache_creation_input_tokens"],
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": m.ANTHROPIC_USAGE["output_tokens"],
        "service_tier": "standard",
    }


def message(body: dict[str, Any], ans: m.Answer) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if ans.thinking:
        content.append({"type": "thinking", "thinking": m.THINKING_TEXT, "signature": m.THINKING_SIGNATURE})
    if ans.text is not None:
        content.append({"type": "text", "text": ans.text})
    for call in ans.tool_calls:
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments})
    return {
        "id": "msg_01" + m.rand_id(22),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": stop_reason(ans),
        "stop_sequence": None,
        "usage": usage(),
    }


def events(body: dict[str, Any], ans: m.Answer) -> Iterator[tuple[str, dict[str, Any]]]:
    start_usage = usage()
    start_usage["output_tokens"] = 1
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": "msg_01" + m.rand_id(22),
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            },
        },
    )
    index = 0
    if ans.thinking:
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "thinking", "thinking": "", "signature": ""},
            },
        )
        for piece in m.words(m.THINKING_TEXT):
            yield (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "thinking_delta", "thinking": piece},
                },
            )
        yield (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "signature_delta", "signature": m.THINKING_SIGNATURE},
            },
        )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
        index += 1
    if ans.text is not None:
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            },
        )
        yield "ping", {"type": "ping"}
        for n, piece in enumerate(m.words(ans.text)):
            if ans.midstream_error and n == m.MIDSTREAM_DELTAS:
                yield "error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
                return
            yield (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
        index += 1
    for call in ans.tool_calls:
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "tool_use", "id": call.id, "name": call.name, "input": {}},
            },
        )
        for piece in m.pieces(json.dumps(call.arguments)):
            yield (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                },
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
        index += 1
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(ans), "stop_sequence": None},
            "usage": {
                "input_tokens": m.ANTHROPIC_USAGE["input_tokens"],
                "cache_creation_input_tokens": m.ANTHROPIC_USAGE["cache_creation_input_tokens"],
                "cache_read_input_tokens": m.ANTHROPIC_USAGE["cache_read_input_tokens"],
                "output_tokens": m.ANTHROPIC_USAGE["output_tokens"],
            },
        },
    )
    yield "message_stop", {"type": "message_stop"}


def error_body(f: m.ApiFailure) -> dict[str, Any]:
    return {"type": "error", "error": {"type": f.etype, "message": f.message}, "request_id": "req_01" + m.rand_id(22)}


def count_tokens(body: Any, beta: bool = False) -> dict[str, Any]:
    """POST /v1/messages/count_tokens: the request checks of /v1/messages (but no max_tokens, which
    the counter refuses), then the mock's count of the request's texts."""
    if isinstance(body, dict) and "max_tokens" in body:
        raise m.ApiFailure(400, "invalid_request_error", "max_tokens: Extra inputs are not permitted")
    validate({**body, "max_tokens": 1} if isinstance(body, dict) else body, beta)
    m.model_failure("anthropic", body["model"])
    system = body.get("system")
    texts = [text_of(system)] if system else []
    for msg in body["messages"]:
        content = msg["content"]
        texts.append(text_of(content))
        for b in content if isinstance(content, list) else []:
            if b.get("type") == "tool_result" and b.get("content") is not None:
                texts.append(text_of(b["content"]))
    return {"input_tokens": m.text_token_count(texts)}
