"""The official OpenAI SDK (Chat Completions) through amux, on both paths.

same:  OpenAI caller -> gpt-mock (OpenAI-compatible upstream): forwarded as bytes, model replaced.
cross: OpenAI caller -> claude-mock (Anthropic upstream): translated both ways.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import mock_upstream as mu
import openai
import pytest
import scenarios as sc
from conftest import ANTHROPIC_ALIAS, ANTHROPIC_UPSTREAM_MODEL, OPENAI_ALIAS, OPENAI_UPSTREAM_MODEL

PATHS = {
    "same": (OPENAI_ALIAS, sc.OPENAI_FROM_OPENAI, "/v1/chat/completions", OPENAI_UPSTREAM_MODEL),
    "cross": (ANTHROPIC_ALIAS, sc.OPENAI_FROM_ANTHROPIC, "/v1/messages", ANTHROPIC_UPSTREAM_MODEL),
}


@pytest.fixture(params=list(PATHS))
def path(request):
    return request.param


def upstream_calls(mock: mu.MockServer, path: str) -> list[dict]:
    return [r for r in mock.recorded() if r["method"] == "POST" and r["path"] == path]


def check_upstream_auth(rec: dict) -> None:
    h = rec["headers"]
    if rec["path"] == "/v1/messages":
        assert h.get("x-api-key") == mu.API_KEY or h.get("authorization") == f"Bearer {mu.API_KEY}"
        assert h.get("anthropic-version"), "an Anthropic upstream needs anthropic-version"
    else:
        assert h.get("authorization") == f"Bearer {mu.API_KEY}"


def test_create(openai_client, mock, path):
    alias, exp, up_path, up_model = PATHS[path]
    sc.openai_create(openai_client, alias, exp)
    (rec,) = upstream_calls(mock, up_path)
    assert rec["body"]["model"] == up_model
    check_upstream_auth(rec)
    if path == "cross":
        body = rec["body"]
        system = body.get("system")
        system_text = system if isinstance(system, str) else "".join(b["text"] for b in system or [])
        assert system_text == "You are a terse assistant."
        assert [m["role"] for m in body["messages"]] == ["user"]
        assert isinstance(body["max_tokens"], int) and body["max_tokens"] > 0


def test_stream_helper(openai_client, mock, path):
    alias, exp, up_path, up_model = PATHS[path]
    sc.openai_stream_helper(openai_client, alias, exp)
    (rec,) = upstream_calls(mock, up_path)
    assert rec["body"]["model"] == up_model
    assert rec["body"]["stream"] is True


def test_stream_include_usage(openai_client, path):
    alias, exp, _, _ = PATHS[path]
    sc.openai_stream_raw(openai_client, alias, exp)


def test_stream_without_include_usage_sends_no_usage_chunk(openai_client, path):
    """amux may ask the upstream for usage, but a caller that did not ask gets no usage chunk."""
    chunks = list(
        openai_client.chat.completions.create(
            model=PATHS[path][0], messages=[{"role": "user", "content": "Hi"}], stream=True
        )
    )
    assert chunks and all(c.choices for c in chunks), "a chunk with empty choices reached a caller that did not ask"
    assert all(c.usage is None for c in chunks)


def test_stream_ends_with_done(gateway, path):
    req = urllib.request.Request(
        gateway.url + "/v1/chat/completions",
        data=json.dumps(
            {"model": PATHS[path][0], "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
        ).encode(),
        headers={"content-type": "application/json", "authorization": "Bearer k"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    frames = raw.strip().split("\n\n")
    assert frames[-1] == "data: [DONE]"
    for frame in frames[:-1]:
        assert frame.startswith("data: ")
        assert json.loads(frame[6:])["object"] == "chat.completion.chunk"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tool_round_trip(openai_client, mock, path, stream):
    alias, exp, up_path, _ = PATHS[path]
    first, _final = sc.openai_tool_round_trip(openai_client, alias, exp, stream)
    ids = [c.id for c in first.choices[0].message.tool_calls]
    calls = upstream_calls(mock, up_path)
    assert len(calls) == 2
    second = calls[1]["body"]
    if path == "cross":
        assistant, user = second["messages"][-2:]
        assert [b["id"] for b in assistant["content"] if b["type"] == "tool_use"] == ids
        assert [b["tool_use_id"] for b in user["content"] if b["type"] == "tool_result"] == ids
        assert second["tools"][0]["name"] == "get_weather"
        assert second["tools"][0]["input_schema"] == sc.WEATHER_SCHEMA
    else:
        assert [m["tool_call_id"] for m in second["messages"] if m["role"] == "tool"] == ids


def test_max_tokens(openai_client, path):
    sc.openai_max_tokens(openai_client, PATHS[path][0])


def test_unknown_model_is_not_found(openai_client, mock):
    with pytest.raises(openai.NotFoundError) as e:
        openai_client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
    assert "error" in e.value.body or e.value.message
    assert upstream_calls(mock, "/v1/messages") == [] and upstream_calls(mock, "/v1/chat/completions") == []


@pytest.mark.parametrize("provider", ["mock-openai", "mock-anthropic"])
def test_upstream_not_found_is_not_found(openai_client, provider):
    with pytest.raises(openai.NotFoundError):
        openai_client.chat.completions.create(
            model=f"{provider}/does-not-exist", messages=[{"role": "user", "content": "Hi"}]
        )


UPSTREAM_TEXT = {"mock-openai": mu.OPENAI_TEXT, "mock-anthropic": mu.ANTHROPIC_TEXT}


@pytest.mark.parametrize("provider", list(UPSTREAM_TEXT))
def test_context_overflow_is_context_length_exceeded(openai_client, provider):
    with pytest.raises(openai.BadRequestError) as e:
        openai_client.chat.completions.create(
            model=f"{provider}/{mu.m.CONTEXT_OVERFLOW_MODEL}", messages=[{"role": "user", "content": "Hi"}]
        )
    assert e.value.code == "context_length_exceeded"


@pytest.mark.parametrize("provider", list(UPSTREAM_TEXT))
def test_midstream_error_reaches_the_sdk(openai_client, provider):
    sc.openai_midstream_error(openai_client, f"{provider}/{mu.m.MIDSTREAM_ERROR_MODEL}", UPSTREAM_TEXT[provider])


def test_models_list(openai_client):
    ids = {m.id for m in openai_client.models.list()}
    assert {OPENAI_ALIAS, ANTHROPIC_ALIAS} <= ids


def test_same_dialect_forwards_bytes_and_unknown_fields(gateway, mock):
    """To an open-model server (kind vllm, which ignores fields it does not know) the bytes go as sent."""
    body = (
        '{"model":"chat-mock","messages":[{"role":"user","content":"caf\\u00e9"}],'
        '"temperature":0.50,"seed":7,"x_amux_probe":{"nested":[1,"two",null,1e3]}}'
    )
    req = urllib.request.Request(
        gateway.url + "/v1/chat/completions",
        data=body.encode(),
        headers={"content-type": "application/json", "authorization": "Bearer caller-token"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200
        out = json.loads(r.read())
    assert out["choices"][0]["message"]["content"] == mu.OPENAI_TEXT
    (rec,) = upstream_calls(mock, "/v1/chat/completions")
    check_upstream_auth(rec)
    assert rec["raw"] == body.replace('"model":"chat-mock"', '"model":"mock-chat"')


def test_same_dialect_unknown_field_gets_the_upstreams_refusal(gateway, mock):
    """OpenAI refuses a field it does not know; amux forwards it as sent and passes the 400 back."""
    body = '{"model":"gpt-mock","messages":[{"role":"user","content":"Hi"}],"x_amux_probe":1}'
    req = urllib.request.Request(
        gateway.url + "/v1/chat/completions",
        data=body.encode(),
        headers={"content-type": "application/json", "authorization": "Bearer caller-token"},
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400
    assert "Unrecognized request argument supplied: x_amux_probe" in e.value.read().decode()
    (rec,) = upstream_calls(mock, "/v1/chat/completions")
    assert rec["raw"] == body.replace('"model":"gpt-mock"', '"model":"mock-gpt"')


def test_cross_dialect_refuses_what_anthropic_cannot_express(openai_client, mock):
    with pytest.raises(openai.BadRequestError) as e:
        openai_client.chat.completions.create(model=ANTHROPIC_ALIAS, n=2, messages=[{"role": "user", "content": "Hi"}])
    assert "n" in str(e.value)
    assert upstream_calls(mock, "/v1/messages") == []
