"""google-genai (`client.models`) with its base URL set to amux, to every upstream.

same:      Gemini caller -> gemini-mock (Gemini upstream): forwarded as bytes, model in the path.
anthropic: -> claude-mock, chat: -> gpt-mock (OpenAI Chat), responses: -> resp-mock; translated.
"""

from __future__ import annotations

import json
import urllib.request

import mock_upstream as mu
import pytest
import scenarios_gemini as sg
from conftest import (
    ANTHROPIC_ALIAS,
    ANTHROPIC_UPSTREAM_MODEL,
    GEMINI_ALIAS,
    GEMINI_UPSTREAM_MODEL,
    OPENAI_ALIAS,
    OPENAI_UPSTREAM_MODEL,
    RESPONSES_ALIAS,
    RESPONSES_UPSTREAM_MODEL,
)
from expect import gemini_from
from google.genai import errors, types

# path -> (alias, upstream dialect, upstream path prefix, upstream model)
PATHS = {
    "same": (GEMINI_ALIAS, "gemini", f"/v1beta/models/{GEMINI_UPSTREAM_MODEL}:", GEMINI_UPSTREAM_MODEL),
    "anthropic": (ANTHROPIC_ALIAS, "anthropic", "/v1/messages", ANTHROPIC_UPSTREAM_MODEL),
    "chat": (OPENAI_ALIAS, "openai", "/v1/chat/completions", OPENAI_UPSTREAM_MODEL),
    "responses": (RESPONSES_ALIAS, "responses", "/v1/responses", RESPONSES_UPSTREAM_MODEL),
}


@pytest.fixture(params=list(PATHS))
def path(request):
    return request.param


def upstream_calls(mock: mu.MockServer, prefix: str) -> list[dict]:
    return [r for r in mock.recorded() if r["method"] == "POST" and r["path"].startswith(prefix)]


def test_generate_content(genai_client, mock, path):
    alias, up, up_path, up_model = PATHS[path]
    sg.create(genai_client, alias, gemini_from(up))
    (rec,) = upstream_calls(mock, up_path)
    assert "any-key" not in json.dumps(rec["headers"]), "the caller's key reached the upstream"
    if path == "same":
        assert rec["path"].endswith(":generateContent")
        assert rec["headers"]["x-goog-api-key"] == mu.API_KEY
    else:
        assert rec["body"]["model"] == up_model
    if path == "anthropic":
        system = rec["body"]["system"]
        assert (system if isinstance(system, str) else "".join(b["text"] for b in system)) == sg.INSTRUCTIONS
        assert rec["body"]["max_tokens"] > 0
    if path == "chat":
        assert rec["body"]["messages"][0] == {"role": "system", "content": sg.INSTRUCTIONS}
    if path == "responses":
        assert rec["body"]["instructions"] == sg.INSTRUCTIONS or rec["body"]["input"][0]["role"] in (
            "system",
            "developer",
        )


def test_generate_content_stream(genai_client, mock, path):
    alias, up, up_path, _ = PATHS[path]
    sg.stream(genai_client, alias, gemini_from(up))
    (rec,) = upstream_calls(mock, up_path)
    if path == "same":
        assert rec["path"].endswith(":streamGenerateContent") and rec["query"] == "alt=sse"
    else:
        assert rec["body"]["stream"] is True


def test_raw_stream_frames(gateway, path):
    """What Gemini CLI reads: `data: {GenerateContentResponse}` frames over SSE, nothing else."""
    alias = PATHS[path][0]
    req = urllib.request.Request(
        f"{gateway.url}/v1beta/models/{alias}:streamGenerateContent?alt=sse",
        data=json.dumps({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}).encode(),
        headers={"content-type": "application/json", "x-goog-api-key": "k"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    frames = [f for f in raw.replace("\r\n", "\n").split("\n\n") if f.strip()]
    assert frames
    for frame in frames:
        assert frame.startswith("data: "), frame
        chunk = json.loads(frame[6:])
        assert set(chunk) <= {"candidates", "usageMetadata", "modelVersion", "responseId", "promptFeedback"}, chunk
    assert json.loads(frames[-1][6:])["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tool_round_trip(genai_client, mock, path, stream):
    alias, up, up_path, _ = PATHS[path]
    model_turn, _ = sg.tool_round_trip(genai_client, alias, gemini_from(up), stream)
    calls = upstream_calls(mock, up_path)
    assert len(calls) == 2
    second = calls[1]["body"]
    if path == "same":
        assert second["contents"][1]["parts"][0]["thoughtSignature"] == mu.m.GEMINI_SIGNATURE
    elif path == "anthropic":
        assistant, user = second["messages"][-2:]
        ids = [b["id"] for b in assistant["content"] if b["type"] == "tool_use"]
        assert len(ids) == 2 and [b["tool_use_id"] for b in user["content"] if b["type"] == "tool_result"] == ids
    elif path == "chat":
        ids = [c["id"] for c in second["messages"][-3]["tool_calls"]]
        assert [m["tool_call_id"] for m in second["messages"][-2:]] == ids
    else:
        calls_ = [i for i in second["input"] if i.get("type") == "function_call"]
        outs = [i for i in second["input"] if i.get("type") == "function_call_output"]
        assert [o["call_id"] for o in outs] == [c["call_id"] for c in calls_]
    if path != "same":
        # ids the upstream made up reach the SDK, which sends them back.
        assert all(p.function_call.id for p in model_turn.parts if p.function_call)


def test_count_tokens(genai_client, gateway, mock, path):
    alias, up, _, _ = PATHS[path]
    if path == "chat":
        # An OpenAI-compatible upstream without a counter: a local estimate, marked as such.
        req = urllib.request.Request(
            f"{gateway.url}/v1beta/models/{alias}:countTokens",
            data=json.dumps({"contents": [{"role": "user", "parts": [{"text": "Say hello."}]}]}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.headers["x-amux-token-count"] == "estimate"
            assert json.loads(r.read())["totalTokens"] > 0
        return
    sg.count_tokens(genai_client, alias, sg.HELLO_COUNT)
    counted = [r["path"] for r in mock.recorded() if r["method"] == "POST"]
    assert counted == [
        {
            "same": f"/v1beta/models/{GEMINI_UPSTREAM_MODEL}:countTokens",
            "anthropic": "/v1/messages/count_tokens",
            "responses": "/v1/responses/input_tokens",
        }[path]
    ]


def test_key_in_query_is_accepted(gateway, mock):
    req = urllib.request.Request(
        f"{gateway.url}/v1beta/models/{GEMINI_ALIAS}:generateContent?key=caller-key",
        data=json.dumps({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        assert json.loads(r.read())["candidates"][0]["content"]["parts"][0]["text"] == mu.GEMINI_TEXT
    (rec,) = upstream_calls(mock, "/v1beta/models/")
    assert "caller-key" not in rec["query"] and "caller-key" not in json.dumps(rec["headers"])
    assert rec["headers"]["x-goog-api-key"] == mu.API_KEY


def test_models_list(genai_client):
    names = {m.name for m in genai_client.models.list()}
    assert {f"models/{GEMINI_ALIAS}", f"models/{ANTHROPIC_ALIAS}"} <= names


def test_unknown_model_is_not_found(genai_client, mock):
    with pytest.raises(errors.ClientError) as e:
        genai_client.models.generate_content(model="no-such-model", contents="Hi")
    assert e.value.code == 404
    assert upstream_calls(mock, "/") == []


@pytest.mark.parametrize("provider", ["mock-gemini", "mock-anthropic", "mock-openai"])
def test_context_overflow_is_a_400(genai_client, provider):
    with pytest.raises(errors.ClientError) as e:
        genai_client.models.generate_content(model=f"{provider}/{mu.m.CONTEXT_OVERFLOW_MODEL}", contents="Hi")
    assert e.value.code == 400


def test_cross_dialect_thinking_becomes_thought_parts(genai_client):
    resp = genai_client.models.generate_content(
        model=ANTHROPIC_ALIAS,
        contents="Think, then say hello.",
        config=types.GenerateContentConfig(
            thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=1024), max_output_tokens=2048
        ),
    )
    parts = resp.candidates[0].content.parts
    assert [bool(p.thought) for p in parts if p.text] == [True, False]
    assert parts[0].text == mu.THINKING_TEXT
    assert resp.text == mu.ANTHROPIC_TEXT


def test_responses_reasoning_reaches_the_sdk(genai_client):
    """A reasoning Responses upstream: thoughts come back as thought parts the SDK can parse."""
    resp = genai_client.models.generate_content(
        model=RESPONSES_ALIAS,
        contents="Think, then say hello.",
        config=types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True)),
    )
    parts = resp.candidates[0].content.parts
    assert [bool(p.thought) for p in parts] == [True, False]
    assert resp.text == mu.RESPONSES_TEXT


@pytest.mark.parametrize("provider,text", [("mock-anthropic", mu.ANTHROPIC_TEXT), ("mock-openai", mu.OPENAI_TEXT)])
def test_midstream_error_reaches_the_sdk(genai_client, provider, text):
    got: list[str] = []
    with pytest.raises(errors.APIError):
        for ch in genai_client.models.generate_content_stream(
            model=f"{provider}/{mu.m.MIDSTREAM_ERROR_MODEL}", contents="Hi"
        ):
            got.append(ch.text or "")
    assert "".join(got) == "".join(mu.m.words(text)[: mu.m.MIDSTREAM_DELTAS])


def test_thoughts_replay_restores_the_anthropic_thinking_block(genai_client, mock):
    """The SDK keeps the model turn as it came (thought parts, signatures): replayed to Anthropic,
    it must give back the thinking block with its text and signature before the tool_use."""
    config = types.GenerateContentConfig(
        tools=[sg.WEATHER_TOOL],
        thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=1024),
        max_output_tokens=2048,
    )
    contents: list = [types.Content(role="user", parts=[types.Part(text="What is the weather in Paris?")])]
    first = genai_client.models.generate_content(model=ANTHROPIC_ALIAS, contents=contents, config=config)
    (call,) = first.function_calls
    contents.append(first.candidates[0].content)
    result = types.FunctionResponse(id=call.id, name=call.name, response={"output": "Sunny"})
    contents.append(types.Content(role="user", parts=[types.Part(function_response=result)]))
    final = genai_client.models.generate_content(model=ANTHROPIC_ALIAS, contents=contents, config=config)
    assert "Sunny" in final.text
    replayed = upstream_calls(mock, "/v1/messages")[1]["body"]["messages"][1]["content"]
    assert [b["type"] for b in replayed] == ["thinking", "tool_use"], replayed
    assert replayed[0]["signature"] == mu.THINKING_SIGNATURE
    assert replayed[0]["thinking"] == mu.THINKING_TEXT
