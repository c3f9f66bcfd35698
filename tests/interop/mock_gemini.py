"""The mock upstream's Gemini wire format (generativelanguage v1beta): checks, responses, chunks.

Roles user/model, functionCall/functionResponse parts, systemInstruction, toolConfig,
generationConfig (maxOutputTokens, thinkingConfig.includeThoughts). Like the API, function calls
come without ids (callers match responses by name and order) and the first functionCall part of
an answer carries a thoughtSignature; like Gemini 3, a request whose current turn replays a model
function-call turn without its signature is refused (``skip_thought_signature_validator`` is
accepted, as Google documents for history from other models). Streams are SSE (``?alt=sse``),
one GenerateContentResponse per chunk, CRLF-separated as the API sends them. Shapes follow the
API reference and google-genai's types; test_mock_upstream.py proves the SDK accepts them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import mock_model as m
import mock_schema

SKIP_SIGNATURE = "skip_thought_signature_validator"
# Values that are the caller's own data: their keys are never renamed.
OPAQUE = {"args", "response", "parameters", "parametersJsonSchema", "responseSchema", "responseJsonSchema"}


def camel(value: Any) -> Any:
    """The API accepts proto field names in snake_case too (google-genai sends some that way):
    rename every structural key to camelCase before reading a request."""
    if isinstance(value, list):
        return [camel(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        head, *rest = k.split("_")
        key = head + "".join(w[:1].upper() + w[1:] for w in rest)
        out[key] = v if key in OPAQUE else camel(v)
    return out


def bad(msg: str) -> m.ApiFailure:
    return m.ApiFailure(400, "INVALID_ARGUMENT", msg)


def parts_of(content: Any) -> list[dict[str, Any]]:
    return [p for p in (content or {}).get("parts") or [] if isinstance(p, dict)]


def texts_of(content: Any) -> list[str]:
    return [p["text"] for p in parts_of(content) if isinstance(p.get("text"), str) and not p.get("thought")]


def result_text(response: Any) -> str:
    """A functionResponse.response as text: its output/result/content string, else its JSON."""
    if isinstance(response, dict) and len(response) == 1:
        (key, value), = response.items()
        if isinstance(value, str):
            return f"error: {value}" if key == "error" else value
    return json.dumps(response)


def unknown_field(body: Any) -> None:
    """Refuse a field the API's proto does not have, as its JSON parser does."""
    problem = mock_schema.check("gemini", body)
    if problem is None:
        return
    path, field = problem
    if "=" in field:
        key, _, tag = field.partition("=")
        raise bad(f"Invalid value at '{mock_schema.bracketed(path, key, snake_case=True)}', {tag}")
    at = f" at '{mock_schema.bracketed(path, snake_case=True)}'" if path else ""
    raise bad(f'Invalid JSON payload received. Unknown name "{field}"{at}: Cannot find field.')


def validate(body: Any) -> None:
    if not isinstance(body, dict):
        raise bad("Invalid JSON payload received.")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise bad("* GenerateContentRequest.contents: contents is not specified\n")
    for i, tool in enumerate(body.get("tools") or []):
        for j, decl in enumerate(tool.get("functionDeclarations") or tool.get("function_declarations") or []):
            if not decl.get("name"):
                raise bad(f"* GenerateContentRequest.tools[{i}].function_declarations[{j}].name: Name is required\n")
            if "parameters" in decl and "parametersJsonSchema" in decl:
                raise bad(
                    f"* GenerateContentRequest.tools[{i}].function_declarations[{j}]: parameters and "
                    "parameters_json_schema cannot both be set\n"
                )
    prev_role, prev_calls = None, 0
    for i, content in enumerate(contents):
        role = content.get("role", "user") if isinstance(content, dict) else None
        if role not in ("user", "model"):
            raise bad("Please use a valid role: user, model.")
        parts = parts_of(content)
        if not parts:
            raise bad(f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n")
        calls = sum(1 for p in parts if "functionCall" in p)
        responses = sum(1 for p in parts if "functionResponse" in p)
        if responses:
            if role != "user" or prev_role != "model" or not prev_calls:
                raise bad("Please ensure that function response turn comes immediately after a function call turn.")
            if responses != prev_calls:
                raise bad(
                    "Please ensure that the number of function response parts is equal to the number of function "
                    "call parts of the function call turn."
                )
        if calls and i > 0 and prev_role == "model":
            raise bad(
                "Please ensure that function call turn comes immediately after a user turn or after a function "
                "response turn."
            )
        prev_role, prev_calls = role, calls
    check_signatures(contents)


def check_signatures(contents: list[dict[str, Any]]) -> None:
    """Gemini 3: in the current turn, each model turn's first functionCall part carries its signature."""
    start = 0
    for i, content in enumerate(contents):
        if content.get("role", "user") == "user" and texts_of(content):
            start = i
    for content in contents[start:]:
        if content.get("role") != "model":
            continue
        first = next((p for p in parts_of(content) if "functionCall" in p), None)
        if first is not None and not first.get("thoughtSignature"):
            name = first["functionCall"].get("name")
            raise bad(
                "Function call is missing a thought_signature in functionCall parts. This is required for tools "
                f"to work correctly, and missing thought_signature may lead to degraded model performance. "
                f"Additional data, function call `default_api:{name}` , position 1. Please refer to "
                "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
            )


def thinking_of(body: dict[str, Any]) -> bool:
    tc = (body.get("generationConfig") or {}).get("thinkingConfig") or {}
    return bool(tc.get("includeThoughts"))


def decide(body: dict[str, Any], model: str) -> m.Answer:
    contents = body["contents"]
    thinking = thinking_of(body)
    max_tokens = (body.get("generationConfig") or {}).get("maxOutputTokens")
    last = contents[-1]
    responses = [p["functionResponse"] for p in parts_of(last) if "functionResponse" in p]
    results = [(fr.get("id") or fr.get("name"), result_text(fr.get("response"))) for fr in responses]
    if results:
        text, truncated = m.truncate(m.answer_for_results(results), max_tokens)
        return m.Answer(text, [], thinking, truncated)
    tools = []
    for tool in body.get("tools") or []:
        for decl in tool.get("functionDeclarations") or []:
            tools.append((decl["name"], lower_types(decl.get("parametersJsonSchema") or decl.get("parameters") or {})))
    fcc = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
    mode = fcc.get("mode", "AUTO")
    allowed = fcc.get("allowedFunctionNames") or []
    forced = allowed[0] if mode in ("ANY", "VALIDATED") and len(allowed) == 1 else None
    calls: list[m.ToolCall] = []
    if mode != "NONE":
        calls = m.choose_tool_calls(tools, forced, mode == "ANY", True, "\n".join(texts_of(last)), "", 0)
    if calls:
        return m.Answer(None, calls, thinking, False)
    text, truncated = m.truncate(m.GEMINI_TEXT, max_tokens)
    return m.Answer(text, [], thinking, truncated, model == m.MIDSTREAM_ERROR_MODEL)


def lower_types(schema: Any) -> Any:
    """Gemini's OpenAPI-style schemas spell types in capitals (STRING); the mock's tool filler wants JSON Schema."""
    if isinstance(schema, dict):
        return {k: (v.lower() if k == "type" and isinstance(v, str) else lower_types(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [lower_types(v) for v in schema]
    return schema


def usage(ans: m.Answer, final: bool = True) -> dict[str, Any]:
    u = m.GEMINI_USAGE
    prompt_details = [{"modality": "TEXT", "tokenCount": u["prompt_tokens"]}]
    if not final:  # what the API sends on chunks before the last
        prompt = u["prompt_tokens"]
        return {"promptTokenCount": prompt, "totalTokenCount": prompt, "promptTokensDetails": prompt_details}
    thoughts = m.REASONING_TOKENS if ans.thinking else 0
    out: dict[str, Any] = {
        "promptTokenCount": u["prompt_tokens"],
        "candidatesTokenCount": u["candidates_tokens"],
        "totalTokenCount": u["prompt_tokens"] + u["candidates_tokens"] + thoughts,
        "cachedContentTokenCount": u["cached_tokens"],
        "promptTokensDetails": prompt_details,
        "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": u["cached_tokens"]}],
    }
    if thoughts:
        out["thoughtsTokenCount"] = thoughts
    return out


def finish_reason(ans: m.Answer) -> str:
    return "MAX_TOKENS" if ans.truncated else "STOP"


def call_part(call: m.ToolCall, first: bool) -> dict[str, Any]:
    part: dict[str, Any] = {"functionCall": {"name": call.name, "args": call.arguments}}
    if first:
        part["thoughtSignature"] = m.GEMINI_SIGNATURE
    return part


def answer_parts(ans: m.Answer) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if ans.thinking:
        parts.append({"text": m.THINKING_TEXT, "thought": True})
    if ans.text is not None:
        part: dict[str, Any] = {"text": ans.text}
        if ans.thinking:
            part["thoughtSignature"] = m.GEMINI_SIGNATURE
        parts.append(part)
    parts += [call_part(c, k == 0) for k, c in enumerate(ans.tool_calls)]
    return parts


def chunk(model: str, rid: str, parts: list[dict[str, Any]], finish: str | None, use: dict[str, Any]) -> dict[str, Any]:
    cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    return {"candidates": [cand], "usageMetadata": use, "modelVersion": model, "responseId": rid}


def response(model: str, ans: m.Answer) -> dict[str, Any]:
    return chunk(model, m.rand_id(22), answer_parts(ans), finish_reason(ans), usage(ans))


def chunks(model: str, ans: m.Answer) -> Iterator[dict[str, Any]]:
    """The stream: thoughts and text word by word, each function call whole; the last chunk has the
    finish reason and full usage. A midstream error is a chunk holding only ``error``."""
    rid = m.rand_id(22)
    pieces: list[dict[str, Any]] = []
    if ans.thinking:
        pieces += [{"text": w, "thought": True} for w in m.words(m.THINKING_TEXT)]
    if ans.text is not None:
        for n, w in enumerate(m.words(ans.text)):
            part: dict[str, Any] = {"text": w}
            if ans.thinking and n == 0:
                part["thoughtSignature"] = m.GEMINI_SIGNATURE
            pieces.append(part)
    pieces += [call_part(c, k == 0) for k, c in enumerate(ans.tool_calls)]
    text_seen = 0
    for i, part in enumerate(pieces):
        if ans.midstream_error and "text" in part and not part.get("thought"):
            if text_seen == m.MIDSTREAM_DELTAS:
                yield {"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}
                return
            text_seen += 1
        last = i == len(pieces) - 1
        yield chunk(model, rid, [part], finish_reason(ans) if last else None, usage(ans, last))


def count_tokens(body: dict[str, Any]) -> dict[str, Any]:
    """:countTokens with ``contents`` or ``generateContentRequest``."""
    req = body.get("generateContentRequest") if isinstance(body.get("generateContentRequest"), dict) else body
    contents = req.get("contents")
    if not isinstance(contents, list) or not contents:
        raise bad("* CountTokensRequest.contents: contents is not specified\n")
    texts = texts_of(req.get("systemInstruction"))
    for content in contents:
        texts += texts_of(content)
        responses = [p["functionResponse"] for p in parts_of(content) if "functionResponse" in p]
        texts += [result_text(fr.get("response")) for fr in responses]
    n = m.text_token_count(texts)
    return {"totalTokens": n, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": n}]}


def error_body(f: m.ApiFailure) -> dict[str, Any]:
    return {"error": {"code": f.status, "message": f.message, "status": f.etype}}
