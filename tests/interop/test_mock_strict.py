"""The mock upstreams refuse what the real APIs refuse: a field the official SDK's request types do
not have, at the top level and inside messages, blocks and tools, in each provider's error shape.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import mock_schema
import mock_upstream as mu
import pytest


def post(mock, path: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
    req = urllib.request.Request(
        mock.url + path, data=json.dumps(body).encode(), headers={"content-type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


ANTHROPIC = {"x-api-key": mu.API_KEY, "anthropic-version": "2023-06-01"}
OPENAI = {"authorization": f"Bearer {mu.API_KEY}"}
GEMINI = {"x-goog-api-key": mu.API_KEY}
USER = [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize(
    "body,message",
    [
        ({"top_k": 5}, "top_k: Extra inputs are not permitted"),
        ({"messages": [{"role": "user", "content": "Hi", "name": "bob"}]}, "messages.0.name: Extra inputs are not permitted"),
        (
            {"tools": [{"name": "t", "input_schema": {"type": "object"}, "strict_mode": True}]},
            "tools.0.strict_mode: Extra inputs are not permitted",
        ),
    ],
)
def test_anthropic_refuses_unknown_fields(mock, body, message):
    status, out = post(mock, "/v1/messages", {"model": "mock-claude", "max_tokens": 8, "messages": USER, **body}, ANTHROPIC)
    assert status == 400
    assert out["error"] == {"type": "invalid_request_error", "message": message}


def test_anthropic_beta_fields_need_a_beta_call(mock):
    body = {"model": "mock-claude", "max_tokens": 8, "messages": USER, "context_management": {"edits": []}}
    status, out = post(mock, "/v1/messages", body, ANTHROPIC)
    assert status == 400 and "context_management" in out["error"]["message"]
    status, _ = post(mock, "/v1/messages?beta=true", body, ANTHROPIC)
    assert status == 200


def test_anthropic_open_places_stay_open(mock):
    """A tool's JSON schema and metadata are the caller's own: any key goes."""
    tool = {"name": "t", "input_schema": {"type": "object", "additionalProperties": False, "$schema": "x"}}
    status, _ = post(mock, "/v1/messages", {"model": "mock-claude", "max_tokens": 8, "messages": USER, "tools": [tool]}, ANTHROPIC)
    assert status == 200


def test_openai_chat_refuses_unknown_fields(mock):
    status, out = post(mock, "/v1/chat/completions", {"model": "mock-gpt", "messages": USER, "top_k": 5}, OPENAI)
    assert status == 400
    assert out["error"]["message"] == "Unrecognized request argument supplied: top_k"
    msgs = [{"role": "user", "content": "Hi", "cache_control": {"type": "ephemeral"}}]
    status, out = post(mock, "/v1/chat/completions", {"model": "mock-gpt", "messages": msgs}, OPENAI)
    assert status == 400
    assert out["error"]["message"] == "Additional properties are not allowed ('cache_control' was unexpected) - 'messages.0'"


def test_open_model_server_ignores_unknown_fields(mock):
    """vLLM-style servers (the mock-chat model) take top_k and ignore what they do not know."""
    status, _ = post(mock, "/v1/chat/completions", {"model": "mock-chat", "messages": USER, "top_k": 5}, OPENAI)
    assert status == 200


def test_responses_refuses_unknown_fields(mock):
    status, out = post(mock, "/v1/responses", {"model": "mock-resp", "input": "Hi", "top_k": 5}, OPENAI)
    assert status == 400
    assert out["error"] == {
        "message": "Unknown parameter: 'top_k'.",
        "type": "invalid_request_error",
        "param": "top_k",
        "code": "unknown_parameter",
    }
    items = [{"type": "message", "role": "user", "content": "Hi", "name": "bob"}]
    status, out = post(mock, "/v1/responses", {"model": "mock-resp", "input": items}, OPENAI)
    assert status == 400 and out["error"]["param"] == "input[0].name"


def test_gemini_refuses_unknown_fields(mock):
    path = "/v1beta/models/mock-gemini:generateContent"
    contents = [{"role": "user", "parts": [{"text": "Hi"}]}]
    status, out = post(mock, path, {"contents": contents, "generationConfig": {"top_k": 3, "maxOutputTokens": 9}}, GEMINI)
    assert status == 200, out  # snake_case names are the same fields
    status, out = post(mock, path, {"contents": contents, "generationConfig": {"max_tokens": 9}}, GEMINI)
    assert status == 400
    assert out["error"]["message"] == (
        "Invalid JSON payload received. Unknown name \"max_tokens\" at 'generation_config': Cannot find field."
    )
    tools = [{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT", "$schema": "x"}}]}]
    status, out = post(mock, path, {"contents": contents, "tools": tools}, GEMINI)
    assert status == 400 and 'Unknown name "$schema"' in out["error"]["message"]
    tools = [{"functionDeclarations": [{"name": "f", "parametersJsonSchema": {"type": "object", "$schema": "x"}}]}]
    status, _ = post(mock, path, {"contents": contents, "tools": tools}, GEMINI)
    assert status == 200
    status, out = post(mock, path, {"contents": contents, "generationConfig": {"routingConfig": {}}}, GEMINI)
    assert status == 400, "Vertex-only fields are refused by the Gemini API"


def test_field_lists_come_from_the_sdks():
    assert {"contents", "generationConfig", "tools", "toolConfig"} <= set(mock_schema.field_names("gemini"))
    assert "temperature" not in mock_schema.field_names("anthropic"), "anthropic 2.10.0 has no sampling knobs"
    assert "top_k" not in mock_schema.field_names("openai")
    assert "reasoning_effort" in mock_schema.field_names("openai")
    assert "context_management" in mock_schema.field_names("anthropic", beta=True)
    assert "include" in mock_schema.field_names("responses")
