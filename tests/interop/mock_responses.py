"""The mock upstream's OpenAI Responses wire format: request checks, responses, stream events.

Stateless, as Codex uses the API (`store: false`, the whole conversation in `input` each turn):
`previous_response_id` is refused the way the API refuses an id it does not have. Shapes follow
the API reference and openai-python's types (Response, ResponseStreamEvent, InputTokenCount...);
test_mock_upstream.py proves the official SDK accepts them. Streams have the full lifecycle:
created, in_progress, per item output_item.added / part added / deltas / done events, then
completed (or incomplete), every event with its sequence_number.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import mock_model as m
import mock_schema

OUTPUT_TYPES = ("function_call", "custom_tool_call", "reasoning")


def hex_id(prefix: str) -> str:
    return prefix + secrets.token_hex(24)


def items_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    inp = body.get("input")
    if isinstance(inp, str):
        return [{"type": "message", "role": "user", "content": inp}]
    return inp or []


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(
        p.get("text", "")
        for p in content or []
        if isinstance(p, dict) and p.get("type") in ("input_text", "output_text", "text")
    )


def is_output(item: dict[str, Any]) -> bool:
    if item.get("type") in OUTPUT_TYPES:
        return True
    return item.get("type", "message") == "message" and item.get("role") == "assistant"


def validate(body: Any) -> None:
    def bad(msg: str, param: str | None = None, code: str | None = None) -> m.ApiFailure:
        return m.ApiFailure(400, "invalid_request_error", msg, code, param)

    if not isinstance(body, dict):
        raise bad("We could not parse the JSON body of your request.")
    problem = mock_schema.check("responses", body)
    if problem is not None:
        path, field = problem
        if "=" in field:
            key, _, tag = field.partition("=")
            where = mock_schema.bracketed(path, key)
            raise bad(f"Invalid value: {tag}. Supported values are not this one.", where, "invalid_value")
        where = mock_schema.bracketed(path, field)
        raise bad(f"Unknown parameter: '{where}'.", where, "unknown_parameter")
    if "model" not in body:
        raise bad("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    if body.get("previous_response_id"):
        rid = body["previous_response_id"]
        msg = f"Previous response with id '{rid}' not found."
        raise bad(msg, "previous_response_id", "previous_response_not_found")
    inp = body.get("input")
    if not isinstance(inp, (str, list)):
        raise bad("Invalid type for 'input': expected a string or an array.", "input", "invalid_type")
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or "type" not in tool:
            raise bad(f"Missing required parameter: 'tools[{i}].type'.", f"tools[{i}].type")
        if tool["type"] in ("function", "custom") and not tool.get("name"):
            raise bad(f"Missing required parameter: 'tools[{i}].name'.", f"tools[{i}].name")
    calls: dict[str, int] = {}
    answered: set[str] = set()
    for i, item in enumerate(items_of(body)):
        if not isinstance(item, dict):
            raise bad(f"Invalid type for 'input[{i}]': expected an object.", f"input[{i}]")
        kind = item.get("type", "message")
        if kind == "message":
            if item.get("role") not in ("user", "assistant", "system", "developer"):
                raise bad(
                    f"Invalid value: '{item.get('role')}'. Supported values are: 'assistant', 'system', "
                    "'developer', and 'user'.",
                    f"input[{i}].role",
                    "invalid_value",
                )
            if not isinstance(item.get("content"), (str, list)):
                raise bad(f"Missing required parameter: 'input[{i}].content'.", f"input[{i}].content")
        elif kind in ("function_call", "custom_tool_call"):
            if not item.get("call_id") or not item.get("name"):
                raise bad(f"Missing required parameter: 'input[{i}].call_id'.", f"input[{i}].call_id")
            if kind == "function_call" and not isinstance(item.get("arguments"), str):
                raise bad(f"Invalid type for 'input[{i}].arguments': expected a string.", f"input[{i}].arguments")
            calls[item["call_id"]] = i
        elif kind in ("function_call_output", "custom_tool_call_output"):
            cid = item.get("call_id")
            if cid not in calls:
                raise bad(f"No tool call found for function call output with call_id {cid}.", "input")
            answered.add(cid)
        elif kind == "item_reference":
            raise bad(f"Item with id '{item.get('id')}' not found.", "input")
    missing = [cid for cid in calls if cid not in answered]
    if missing:
        raise bad(f"No tool output found for function call {missing[0]}.", "input")


def thinking_of(body: dict[str, Any]) -> bool:
    """The mock reasons when asked to (`reasoning` given, effort not "none")."""
    r = body.get("reasoning")
    return isinstance(r, dict) and r.get("effort") != "none"


def decide(body: dict[str, Any]) -> m.Answer:
    items = items_of(body)
    thinking = thinking_of(body)
    max_tokens = body.get("max_output_tokens")
    last_output = max((i for i, it in enumerate(items) if is_output(it)), default=-1)
    turn = items[last_output + 1 :]
    results = [
        (it.get("call_id"), text_of(it.get("output")))
        for it in turn
        if it.get("type") in ("function_call_output", "custom_tool_call_output")
    ]
    if results:
        text, truncated = m.truncate(m.answer_for_results(results), max_tokens)
        return m.Answer(text, [], thinking, truncated)
    tools = [(t["name"], t.get("parameters") or {}) for t in body.get("tools") or [] if t.get("type") == "function"]
    choice = body.get("tool_choice")
    forced = choice.get("name") if isinstance(choice, dict) and choice.get("type") == "function" else None
    calls: list[m.ToolCall] = []
    if choice != "none":
        users = [it for it in turn if it.get("type", "message") == "message" and it.get("role") == "user"]
        calls = m.choose_tool_calls(
            tools,
            forced,
            choice == "required" or forced is not None,
            body.get("parallel_tool_calls", True) is not False,
            text_of(users[-1].get("content")) if users else "",
            "call_",
            24,
        )
    if calls:
        return m.Answer(None, calls, thinking, False)
    text, truncated = m.truncate(m.RESPONSES_TEXT, max_tokens)
    return m.Answer(text, [], thinking, truncated, body["model"] == m.MIDSTREAM_ERROR_MODEL)


def usage(ans: m.Answer) -> dict[str, Any]:
    u = m.RESPONSES_USAGE
    return {
        "input_tokens": u["input_tokens"],
        "input_tokens_details": {"cached_tokens": u["cached_tokens"], "cache_write_tokens": 0},
        "output_tokens": u["output_tokens"],
        "output_tokens_details": {"reasoning_tokens": m.REASONING_TOKENS if ans.thinking else 0},
        "total_tokens": u["input_tokens"] + u["output_tokens"],
    }


class Items:
    """The output items of one answer, with ids fixed once so a stream and its final object agree."""

    def __init__(self, body: dict[str, Any], ans: m.Answer):
        self.reasoning_id = hex_id("rs_") if ans.thinking else None
        self.encrypted = "reasoning.encrypted_content" in (body.get("include") or [])
        self.message_id = hex_id("msg_") if ans.text is not None else None
        self.call_ids = [hex_id("fc_") for _ in ans.tool_calls]

    def reasoning(self, done: bool) -> dict[str, Any]:
        item: dict[str, Any] = {"id": self.reasoning_id, "type": "reasoning", "summary": []}
        if done:
            item["summary"] = [{"type": "summary_text", "text": m.THINKING_TEXT}]
            if self.encrypted:
                item["encrypted_content"] = m.ENCRYPTED_REASONING
        return item

    def message(self, text: str | None, status: str) -> dict[str, Any]:
        content = [] if text is None else [output_text(text)]
        return {"id": self.message_id, "type": "message", "status": status, "role": "assistant", "content": content}

    def call(self, k: int, call: m.ToolCall, done: bool) -> dict[str, Any]:
        return {
            "id": self.call_ids[k],
            "type": "function_call",
            "status": "completed" if done else "in_progress",
            "call_id": call.id,
            "name": call.name,
            "arguments": json.dumps(call.arguments) if done else "",
        }

    def all(self, ans: m.Answer) -> list[dict[str, Any]]:
        out = [self.reasoning(True)] if self.reasoning_id else []
        if self.message_id:
            out.append(self.message(ans.text, "incomplete" if ans.truncated else "completed"))
        out += [self.call(k, c, True) for k, c in enumerate(ans.tool_calls)]
        return out


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def response(body: dict[str, Any], ans: m.Answer, items: Items, rid: str, status: str) -> dict[str, Any]:
    final = status != "in_progress"
    r = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else {}
    return {
        "id": rid,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body["model"],
        "output": items.all(ans) if final else [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True) is not False,
        "previous_response_id": None,
        "reasoning": {"effort": r.get("effort"), "summary": r.get("summary")},
        "store": body.get("store", True) is not False,
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage(ans) if final else None,
        "user": None,
        "metadata": {},
    }


def final_status(ans: m.Answer) -> str:
    return "incomplete" if ans.truncated else "completed"


def respond(body: dict[str, Any], ans: m.Answer) -> dict[str, Any]:
    return response(body, ans, Items(body, ans), hex_id("resp_"), final_status(ans))


def events(body: dict[str, Any], ans: m.Answer) -> Iterator[dict[str, Any]]:
    """The stream's events in order, sequence_number included."""
    items = Items(body, ans)
    rid = hex_id("resp_")
    seq = 0

    def ev(kind: str, **fields: Any) -> dict[str, Any]:
        nonlocal seq
        e = {"type": kind, **fields, "sequence_number": seq}
        seq += 1
        return e

    yield ev("response.created", response=response(body, ans, items, rid, "in_progress"))
    yield ev("response.in_progress", response=response(body, ans, items, rid, "in_progress"))
    index = 0
    if items.reasoning_id:
        rid_ = items.reasoning_id
        yield ev("response.output_item.added", output_index=index, item=items.reasoning(False))
        part = {"type": "summary_text", "text": ""}
        yield ev("response.reasoning_summary_part.added", item_id=rid_, output_index=index, summary_index=0, part=part)
        for piece in m.words(m.THINKING_TEXT):
            yield ev(
                "response.reasoning_summary_text.delta", item_id=rid_, output_index=index, summary_index=0, delta=piece
            )
        yield ev(
            "response.reasoning_summary_text.done",
            item_id=rid_,
            output_index=index,
            summary_index=0,
            text=m.THINKING_TEXT,
        )
        part = {"type": "summary_text", "text": m.THINKING_TEXT}
        yield ev("response.reasoning_summary_part.done", item_id=rid_, output_index=index, summary_index=0, part=part)
        yield ev("response.output_item.done", output_index=index, item=items.reasoning(True))
        index += 1
    if ans.text is not None:
        mid = items.message_id
        yield ev("response.output_item.added", output_index=index, item=items.message(None, "in_progress"))
        where = {"item_id": mid, "output_index": index, "content_index": 0}
        yield ev("response.content_part.added", **where, part=output_text(""))
        for n, piece in enumerate(m.words(ans.text)):
            if ans.midstream_error and n == m.MIDSTREAM_DELTAS:
                yield ev(
                    "error",
                    code="server_error",
                    message="The server had an error while processing your request.",
                    param=None,
                )
                return
            yield ev("response.output_text.delta", **where, delta=piece, logprobs=[])
        yield ev("response.output_text.done", **where, text=ans.text, logprobs=[])
        yield ev("response.content_part.done", **where, part=output_text(ans.text))
        status = "incomplete" if ans.truncated else "completed"
        yield ev("response.output_item.done", output_index=index, item=items.message(ans.text, status))
        index += 1
    for k, call in enumerate(ans.tool_calls):
        yield ev("response.output_item.added", output_index=index, item=items.call(k, call, False))
        args = json.dumps(call.arguments)
        for piece in m.pieces(args):
            yield ev(
                "response.function_call_arguments.delta", item_id=items.call_ids[k], output_index=index, delta=piece
            )
        yield ev("response.function_call_arguments.done", item_id=items.call_ids[k], output_index=index, arguments=args)
        yield ev("response.output_item.done", output_index=index, item=items.call(k, call, True))
        index += 1
    status = final_status(ans)
    yield ev(f"response.{status}", response=response(body, ans, items, rid, status))


def input_tokens(body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/responses/input_tokens: the mock's count of the request's texts."""
    texts = [body["instructions"]] if isinstance(body.get("instructions"), str) else []
    for it in items_of(body):
        kind = it.get("type", "message")
        if kind == "message":
            texts.append(text_of(it.get("content")))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            texts.append(text_of(it.get("output")))
    return {"object": "response.input_tokens", "input_tokens": m.text_token_count(texts)}


def error_body(f: m.ApiFailure) -> dict[str, Any]:
    return {"error": {"message": f.message, "type": f.etype, "param": f.param, "code": f.code}}
