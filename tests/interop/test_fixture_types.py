"""The fixture files parse as the official SDKs' own types.

Every response under ``tests/fixtures/<dialect>/responses/`` and
``tests/fixtures/golden/responses/*__<dialect>/`` must validate as ``anthropic.types.Message`` /
``openai.types.chat.ChatCompletion`` / ``openai.types.responses.Response`` /
``google.genai.types.GenerateContentResponse``, and every SSE event of ``.../streams/`` as
``anthropic.types.RawMessageStreamEvent`` / ``openai.types.chat.ChatCompletionChunk`` /
``openai.types.responses.ResponseStreamEvent`` / ``GenerateContentResponse``.

Validation is strict (JSON-strict pydantic mode: no string-to-number coercion) and, since the
openai and anthropic models accept unknown keys, every model in the result is walked for keys the
SDK does not know; only the known non-standard extensions in ``ALLOWED_EXTRAS`` may appear
(google-genai's models forbid unknown keys themselves). ``[DONE]`` markers are skipped; Anthropic,
Chat and Gemini error events and amux refusals (``{"refused": ...}``) get a shape check only
(Responses error events are a type of their own and are validated); a last frame without its
terminating blank line (a truncated stream) is never dispatched by an SSE client, so it is not
checked either.
"""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

import mock_anthropic
import mock_gemini
import mock_openai
import mock_responses
import pydantic
import pytest
from anthropic.types import Message, RawMessageStreamEvent
from google.genai.types import GenerateContentResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DIALECTS = ("anthropic", "openai_chat", "openai_responses", "gemini")
RESPONSE_TYPES: dict[str, Any] = {
    "anthropic": Message,
    "openai_chat": ChatCompletion,
    "openai_responses": Response,
    "gemini": GenerateContentResponse,
}
EVENT_TYPES: dict[str, Any] = {
    "anthropic": RawMessageStreamEvent,
    "openai_chat": ChatCompletionChunk,
    "openai_responses": ResponseStreamEvent,
    "gemini": GenerateContentResponse,
}

# Keys that real upstreams send but the SDK types do not declare.
ALLOWED_EXTRAS = {
    "openai_chat": {
        "reasoning_content",  # DeepSeek, vLLM, Qwen, amux: reasoning text on message / delta
        "reasoning",  # OpenRouter, Ollama: the same
        "reasoning_details",  # OpenRouter
        "prompt_cache_hit_tokens",  # DeepSeek usage
        "prompt_cache_miss_tokens",  # DeepSeek usage
        "obfuscation",  # OpenAI stream padding
    },
    "anthropic": set(),
    # The API sends these; the SDK's types do not declare them.
    "openai_responses": {"Response.store", "ResponseFunctionCallArgumentsDoneEvent.name"},
    "gemini": set(),
}

_ADAPTERS: dict[Any, pydantic.TypeAdapter] = {}


def _responses_event_classes() -> dict[str, Any]:
    """ResponseStreamEvent's members by their `type` literal (validating against the bare union
    reports every member's mismatch; the API's `type` field is the discriminator)."""
    union = typing.get_args(ResponseStreamEvent)[0]
    return {typing.get_args(c.model_fields["type"].annotation)[0]: c for c in typing.get_args(union)}


RESPONSES_EVENTS = _responses_event_classes()


def older_api(dialect: str, obj: Any) -> Any:
    """Upstream samples (not amux's goldens) may predate the pinned SDK: the Responses API added
    usage.input_tokens_details.cache_write_tokens (the SDK requires it), and the samples put a
    `status` on custom_tool_call items (the SDK does not declare it). Only these are forgiven."""
    if dialect != "openai_responses":
        return obj
    if isinstance(obj, list):
        return [older_api(dialect, v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {k: older_api(dialect, v) for k, v in obj.items()}
    if "cached_tokens" in out and "cache_write_tokens" not in out:
        out["cache_write_tokens"] = 0
    if out.get("type") == "custom_tool_call":
        out.pop("status", None)
    return out


def _adapter(t: Any) -> pydantic.TypeAdapter:
    if t not in _ADAPTERS:
        _ADAPTERS[t] = pydantic.TypeAdapter(t)
    return _ADAPTERS[t]


def unknown_keys(value: Any, allowed: set[str], path: str = "$") -> list[str]:
    """Paths of keys in validated SDK models that the SDK types do not declare (allowed: `key`
    anywhere, or `Class.key` on that SDK class only)."""
    out: list[str] = []
    if isinstance(value, pydantic.BaseModel):
        for key, extra in (value.model_extra or {}).items():
            if key not in allowed and f"{type(value).__name__}.{key}" not in allowed:
                out.append(f"{path}.{key}")
            del extra
        for name in type(value).model_fields:
            out += unknown_keys(getattr(value, name, None), allowed, f"{path}.{name}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            out += unknown_keys(item, allowed, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, item in value.items():
            out += unknown_keys(item, allowed, f"{path}.{k}")
    return out


def validate(dialect: str, t: Any, data: str | bytes) -> Any:
    """Strictly validate JSON text as SDK type t; raise AssertionError naming what is wrong."""
    try:
        value = _adapter(t).validate_json(data, strict=True)
    except pydantic.ValidationError as e:
        raise AssertionError(f"does not validate as {getattr(t, '__name__', t)}:\n{e}") from None
    unknown = unknown_keys(value, ALLOWED_EXTRAS[dialect])
    assert not unknown, f"keys unknown to the SDK's {getattr(t, '__name__', t)}: {unknown}"
    return value


def check_error_shape(dialect: str, data: dict[str, Any]) -> None:
    err = data.get("error")
    assert isinstance(err, dict), f"error event without an error object: {data}"
    assert isinstance(err.get("message"), str), f"error without a message: {data}"
    if dialect == "anthropic":
        assert data.get("type") == "error" and isinstance(err.get("type"), str), f"bad Anthropic error: {data}"
    if dialect == "gemini":
        assert isinstance(err.get("code"), int) and isinstance(err.get("status"), str), f"bad Gemini error: {data}"


def sse_frames(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) of every complete frame; an unterminated last frame is dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = text.split("\n\n")
    complete = blocks[:-1]  # the part after the last blank line was never dispatched
    frames = []
    for block in complete:
        event, data = None, []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
        if data:
            frames.append((event, "\n".join(data)))
    return frames


def check_response_file(dialect: str, path: Path, golden: bool = True) -> None:
    raw = path.read_bytes()
    data = json.loads(raw)
    if "refused" in data and len(data) == 1:  # amux's golden notation for a refusal
        assert isinstance(data["refused"].get("message"), str)
        return
    if not golden:
        raw = json.dumps(older_api(dialect, data)).encode()
    validate(dialect, RESPONSE_TYPES[dialect], raw)


def check_stream_text(dialect: str, text: str, golden: bool = True) -> int:
    """Validate every event of an SSE stream; returns how many were checked."""
    checked = 0
    for i, (event, data) in enumerate(sse_frames(text)):
        where = f"event #{i} ({event or 'message'})"
        if data.strip() == "[DONE]":
            continue
        obj = json.loads(data)
        event_type = EVENT_TYPES[dialect]
        if dialect == "openai_responses":
            if event is not None:
                assert event == obj.get("type"), f"{where}: event name {event!r} but type {obj.get('type')!r}"
            event_type = RESPONSES_EVENTS.get(obj.get("type"))
            assert event_type is not None, f"{where}: unknown Responses event type {obj.get('type')!r}"
            if not golden:
                data = json.dumps(older_api(dialect, obj))
        elif event == "error" or obj.get("type") == "error" or (dialect != "anthropic" and "error" in obj):
            check_error_shape(dialect, obj)
            continue
        if dialect == "anthropic":
            if event is not None:
                assert event == obj.get("type"), f"{where}: event name {event!r} but type {obj.get('type')!r}"
            if obj.get("type") == "ping":
                assert obj == {"type": "ping"}, f"{where}: {obj}"
                continue
        try:
            validate(dialect, event_type, data)
        except AssertionError as e:
            raise AssertionError(f"{where}: {e}") from None
        checked += 1
    return checked


def _files(kind: str, ext: str) -> list[tuple[str, Path, bool]]:
    """(dialect, file, is an amux golden) of every fixture of this kind."""
    found: list[tuple[str, Path, bool]] = []
    for dialect in DIALECTS:
        found += [(dialect, p, False) for p in sorted((FIXTURES / dialect / kind).glob(f"*.{ext}"))]
        found += [(dialect, p, True) for p in sorted((FIXTURES / "golden" / kind).glob(f"*__{dialect}/*.{ext}"))]
    return found


def _id(item: tuple[str, Path, bool]) -> str:
    return str(item[1].relative_to(FIXTURES))


RESPONSE_FILES = _files("responses", "json")
STREAM_FILES = _files("streams", "sse")


@pytest.mark.parametrize("item", RESPONSE_FILES, ids=[_id(i) for i in RESPONSE_FILES])
def test_response_fixture(item):
    dialect, path, golden = item
    check_response_file(dialect, path, golden)


@pytest.mark.parametrize("item", STREAM_FILES, ids=[_id(i) for i in STREAM_FILES])
def test_stream_fixture(item):
    dialect, path, golden = item
    check_stream_text(dialect, path.read_text(), golden)


# -- The validator itself: it accepts what the SDKs accept and catches wrong names and types.


def _mock_outputs() -> dict[str, Any]:
    tools_body = {
        "model": "m",
        "max_tokens": 100,
        "thinking": {"type": "enabled", "budget_tokens": 50},
        "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
        "messages": [{"role": "user", "content": "Weather in Paris and Tokyo?"}],
    }
    text_body = {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]}
    oa_tools = {
        "model": "m",
        "reasoning_effort": "low",
        "stream": True,
        "stream_options": {"include_usage": True},
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
        "messages": [{"role": "user", "content": "Weather in Paris and Tokyo?"}],
    }
    rs_tools = {
        "model": "m",
        "reasoning": {"effort": "low", "summary": "auto"},
        "include": ["reasoning.encrypted_content"],
        "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
        "input": "Weather in Paris and Tokyo?",
    }
    gm_tools = {
        "generationConfig": {"thinkingConfig": {"includeThoughts": True}},
        "tools": [{"functionDeclarations": [{"name": "get_weather", "parametersJsonSchema": {"type": "object"}}]}],
        "contents": [{"role": "user", "parts": [{"text": "Weather in Paris and Tokyo?"}]}],
    }
    return {
        "anthropic_message": mock_anthropic.message(tools_body, mock_anthropic.decide(tools_body)),
        "anthropic_text": mock_anthropic.message(text_body, mock_anthropic.decide(text_body)),
        "anthropic_sse": "".join(
            f"event: {e}\ndata: {json.dumps(d)}\n\n"
            for e, d in mock_anthropic.events(tools_body, mock_anthropic.decide(tools_body))
        ),
        "openai_completion": mock_openai.completion(oa_tools, mock_openai.decide(oa_tools)),
        "openai_sse": "".join(
            f"data: {json.dumps(c)}\n\n" for c in mock_openai.chunks(oa_tools, mock_openai.decide(oa_tools))
        )
        + "data: [DONE]\n\n",
        "responses_response": mock_responses.respond(rs_tools, mock_responses.decide(rs_tools)),
        "responses_sse": "".join(
            f"event: {e['type']}\ndata: {json.dumps(e)}\n\n"
            for e in mock_responses.events(rs_tools, mock_responses.decide(rs_tools))
        ),
        "gemini_response": mock_gemini.response("m", mock_gemini.decide(gm_tools, "m")),
        "gemini_sse": "".join(
            f"data: {json.dumps(c)}\r\n\r\n" for c in mock_gemini.chunks("m", mock_gemini.decide(gm_tools, "m"))
        ),
    }


def test_validator_accepts_the_mock():
    out = _mock_outputs()
    validate("anthropic", Message, json.dumps(out["anthropic_message"]))
    validate("anthropic", Message, json.dumps(out["anthropic_text"]))
    assert check_stream_text("anthropic", out["anthropic_sse"]) > 8
    validate("openai_chat", ChatCompletion, json.dumps(out["openai_completion"]))
    assert check_stream_text("openai_chat", out["openai_sse"]) > 5
    validate("openai_responses", Response, json.dumps(out["responses_response"]))
    assert check_stream_text("openai_responses", out["responses_sse"]) > 15
    validate("gemini", GenerateContentResponse, json.dumps(out["gemini_response"]))
    assert check_stream_text("gemini", out["gemini_sse"]) > 5


@pytest.mark.parametrize(
    "dialect,t,mutate,expect",
    [
        ("anthropic", Message, lambda m: m["content"][0].update(txt=m["content"][0].pop("text")), "text"),
        ("anthropic", Message, lambda m: m["usage"].update(input_tokens="25"), "input_tokens"),
        ("anthropic", Message, lambda m: m.update(stop_reason="stop"), "stop_reason"),
        ("anthropic", Message, lambda m: m["usage"].update(cache_read_tokens=3), "cache_read_tokens"),
        ("openai_chat", ChatCompletion, lambda m: m.update(object="chat.completion.chunk"), "object"),
        ("openai_chat", ChatCompletion, lambda m: m["choices"][0].update(finish_reason="end_turn"), "finish_reason"),
        ("openai_chat", ChatCompletion, lambda m: m["usage"].update(input_tokens=1), "input_tokens"),
        ("openai_responses", Response, lambda m: m.update(status="done"), "status"),
        ("openai_responses", Response, lambda m: m["usage"].update(prompt_tokens=1), "prompt_tokens"),
        ("openai_responses", Response, lambda m: m["output"][1].pop("call_id"), "call_id"),
        ("gemini", GenerateContentResponse, lambda m: m["candidates"][0].update(index="0"), "index"),
        ("gemini", GenerateContentResponse, lambda m: m["usageMetadata"].update(inputTokens=1), "inputTokens"),
        (
            "gemini",
            GenerateContentResponse,
            lambda m: m["candidates"][0]["content"]["parts"][1].update(thoughtSignature="a:b"),
            "thoughtSignature",
        ),
    ],
)
def test_validator_rejects(dialect, t, mutate, expect):
    out = _mock_outputs()
    obj = {
        "anthropic": out["anthropic_text"],
        "openai_chat": out["openai_completion"],
        "openai_responses": out["responses_response"],
        "gemini": out["gemini_response"],
    }[dialect]
    mutate(obj)
    with pytest.raises(AssertionError, match=re.escape(expect)):
        validate(dialect, t, json.dumps(obj))


def test_stream_validator_rejects_bad_events():
    bad_delta = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","txt":"x"}}\n\n'
    with pytest.raises(AssertionError):
        check_stream_text("anthropic", bad_delta)
    wrong_name = 'event: message_stop\ndata: {"type":"message_delta","delta":{},"usage":{"output_tokens":1}}\n\n'
    with pytest.raises(AssertionError, match="event name"):
        check_stream_text("anthropic", wrong_name)
    bad_chunk = 'data: {"id":"x","object":"chat.completion.chunk","created":"1","model":"m","choices":[]}\n\n'
    with pytest.raises(AssertionError, match="created"):
        check_stream_text("openai_chat", bad_chunk)
    truncated = 'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\ndata: {"id":'
    assert check_stream_text("openai_chat", truncated) == 1
    bad_seq = (
        'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"i",'
        '"output_index":0,"content_index":0,"delta":"x","logprobs":[]}\n\n'
    )
    with pytest.raises(AssertionError, match="sequence_number"):
        check_stream_text("openai_responses", bad_seq)
    unknown = 'data: {"type":"response.text.delta","sequence_number":1}\n\n'
    with pytest.raises(AssertionError, match="unknown Responses event type"):
        check_stream_text("openai_responses", unknown)
