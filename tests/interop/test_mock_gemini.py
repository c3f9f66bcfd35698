"""The mock's Gemini dialect: google-genai, pointed straight at it, accepts it.

If these fail, the gateway tests prove nothing; fix the mock first.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import mock_upstream as mu
import pytest
import scenarios_gemini as sg
from expect import gemini_from
from google.genai import errors, types

EXP = gemini_from("gemini")


@pytest.fixture
def direct(mock):
    return sg.client(mock.url, mu.API_KEY)


def test_generate_content(direct, mock):
    sg.create(direct, "mock-gemini", EXP)
    (rec,) = mock.recorded()
    assert rec["path"] == "/v1beta/models/mock-gemini:generateContent"
    assert rec["headers"]["x-goog-api-key"] == mu.API_KEY
    assert rec["body"]["systemInstruction"]["parts"][0]["text"] == sg.INSTRUCTIONS


def test_generate_content_stream(direct, mock):
    sg.stream(direct, "mock-gemini", EXP)
    (rec,) = mock.recorded()
    assert rec["path"] == "/v1beta/models/mock-gemini:streamGenerateContent"
    assert rec["query"] == "alt=sse"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tool_round_trip(direct, mock, stream):
    model_turn, _ = sg.tool_round_trip(direct, "mock-gemini", EXP, stream)
    # The SDK sent the signature back on the first call, as the model gave it.
    first_call = next(p for p in model_turn.parts if p.function_call)
    assert first_call.thought_signature
    second = mock.recorded()[-1]["body"]["contents"][1]
    assert second["parts"][0]["thoughtSignature"] == mu.m.GEMINI_SIGNATURE


def test_lost_signature_is_refused(direct):
    contents = [
        types.Content(role="user", parts=[types.Part(text="Weather in Paris?")]),
        types.Content(role="model", parts=[types.Part(function_call=types.FunctionCall(name="get_weather", args={}))]),
        types.Content(
            role="user",
            parts=[types.Part(function_response=types.FunctionResponse(name="get_weather", response={"output": "x"}))],
        ),
    ]
    with pytest.raises(errors.ClientError, match="thought_signature"):
        direct.models.generate_content(model="mock-gemini", contents=contents)


def test_thinking(direct):
    resp = direct.models.generate_content(
        model="mock-gemini",
        contents="Think, then say hello.",
        config=types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True)),
    )
    parts = resp.candidates[0].content.parts
    assert [bool(p.thought) for p in parts] == [True, False]
    assert parts[0].text == mu.THINKING_TEXT
    assert resp.usage_metadata.thoughts_token_count == mu.m.REASONING_TOKENS


def test_count_tokens(direct, mock):
    sg.count_tokens(direct, "mock-gemini", sg.HELLO_COUNT)
    (rec,) = mock.recorded()
    assert rec["path"] == "/v1beta/models/mock-gemini:countTokens"


def test_max_tokens(direct):
    resp = direct.models.generate_content(
        model="mock-gemini", contents="Hi", config=types.GenerateContentConfig(max_output_tokens=2)
    )
    assert resp.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS


def test_errors(direct, mock):
    with pytest.raises(errors.ClientError) as e:
        direct.models.generate_content(model="does-not-exist", contents="Hi")
    assert e.value.code == 404 and e.value.status == "NOT_FOUND"
    with pytest.raises(errors.ClientError) as e:
        direct.models.generate_content(model=mu.m.CONTEXT_OVERFLOW_MODEL, contents="Hi")
    assert e.value.code == 400 and "exceeds the maximum number of tokens" in e.value.message
    with pytest.raises(errors.ServerError) as e:
        direct.models.generate_content(model="error-503", contents="Hi")
    assert e.value.status == "UNAVAILABLE"
    wrong = sg.client(mock.url, "wrong")
    with pytest.raises(errors.ClientError, match="API key not valid"):
        wrong.models.generate_content(model="mock-gemini", contents="Hi")


def test_key_in_query(mock):
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    req = urllib.request.Request(
        f"{mock.url}/v1beta/models/mock-gemini:generateContent?key={mu.API_KEY}",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        assert json.loads(r.read())["candidates"][0]["content"]["parts"][0]["text"] == mu.GEMINI_TEXT
    req = urllib.request.Request(
        f"{mock.url}/v1beta/models/mock-gemini:generateContent",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 403


def test_midstream_error(direct):
    got: list[str] = []
    with pytest.raises(errors.APIError):
        for ch in direct.models.generate_content_stream(model=mu.m.MIDSTREAM_ERROR_MODEL, contents="Hi"):
            got.append(ch.text or "")
    assert "".join(got) == "".join(mu.m.words(mu.GEMINI_TEXT)[: mu.m.MIDSTREAM_DELTAS])
