"""The official Anthropic SDK through amux, on both paths.

same:  Anthropic caller -> claude-mock (Anthropic upstream): forwarded as bytes, model replaced.
cross: Anthropic caller -> gpt-mock (OpenAI-compatible upstream): translated both ways.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import anthropic
import mock_upstream as mu
import pytest
import scenarios as sc
from conftest import ANTHROPIC_ALIAS, ANTHROPIC_UPSTREAM_MODEL, OPENAI_ALIAS, OPENAI_UPSTREAM_MODEL

PATHS = {
    "same": (ANTHROPIC_ALIAS, sc.ANTHROPIC_FROM_ANTHROPIC, "/v1/messages", ANTHROPIC_UPSTREAM_MODEL),
    "cross": (OPENAI_ALIAS, sc.ANTHROPIC_FROM_OPENAI, "/v1/chat/completions", OPENAI_UPSTREAM_MODEL),
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
        assert h.get("anthropic-version"), "anthropic-version must reach an Anthropic upstream"
    else:
        assert h.get("authorization") == f"Bearer {mu.API_KEY}"
        assert "x-api-key" not in h, "the caller's Anthropic auth header leaked to an OpenAI upstream"


def test_create(anthropic_client, mock, path):
    alias, exp, up_path, up_model = PATHS[path]
    sc.anthropic_create(anthropic_client, alias, exp)
    (rec,) = upstream_calls(mock, up_path)
    assert rec["body"]["model"] == up_model
    assert not rec["body"].get("stream")
    check_upstream_auth(rec)
    if path == "cross":
        msgs = rec["body"]["messages"]
        assert msgs[0] == {"role": "system", "content": "You are a terse assistant."}
        assert msgs[1]["role"] == "user"
        assert (rec["body"].get("max_tokens") or rec["body"].get("max_completion_tokens")) == 256


def test_stream(anthropic_client, mock, path):
    alias, exp, up_path, up_model = PATHS[path]
    sc.anthropic_stream(anthropic_client, alias, exp)
    (rec,) = upstream_calls(mock, up_path)
    assert rec["body"]["model"] == up_model
    assert rec["body"]["stream"] is True
    if path == "cross":
        assert rec["body"]["stream_options"] == {"include_usage": True}


def test_stream_event_order(gateway, mock, path):
    """The raw SSE the caller gets has the order Claude Code relies on."""
    alias = PATHS[path][0]
    req = urllib.request.Request(
        gateway.url + "/v1/messages",
        data=json.dumps(
            {"model": alias, "max_tokens": 100, "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
        ).encode(),
        headers={"content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    events = []
    for frame in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        data = json.loads(lines["data"])
        assert lines.get("event") == data["type"], f"event name and data.type differ: {frame!r}"
        events.append(data)
    types = [e["type"] for e in events if e["type"] != "ping"]
    assert types[0] == "message_start"
    assert types[-2:] == ["message_delta", "message_stop"]
    assert types[1:-2] == ["content_block_start"] + ["content_block_delta"] * (len(types) - 5) + ["content_block_stop"]
    assert all(e.get("index", 0) == 0 for e in events)
    assert events[0]["message"]["usage"] is not None


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tool_round_trip(anthropic_client, mock, path, stream):
    alias, exp, up_path, _ = PATHS[path]
    first, _final = sc.anthropic_tool_round_trip(anthropic_client, alias, exp, stream)
    ids = [b.id for b in first.content if b.type == "tool_use"]
    calls = upstream_calls(mock, up_path)
    assert len(calls) == 2
    second = calls[1]["body"]
    if path == "cross":
        tool_msgs = [m for m in second["messages"] if m["role"] == "tool"]
        assert [m["tool_call_id"] for m in tool_msgs] == ids
        assistant = [m for m in second["messages"] if m["role"] == "assistant"][-1]
        assert [c["id"] for c in assistant["tool_calls"]] == ids
        assert second["tools"][0]["function"]["name"] == "get_weather"
    else:
        results = [b for b in second["messages"][-1]["content"] if b["type"] == "tool_result"]
        assert [b["tool_use_id"] for b in results] == ids


def test_max_tokens(anthropic_client, path):
    sc.anthropic_max_tokens(anthropic_client, PATHS[path][0])


def test_unknown_model_is_not_found(anthropic_client, mock):
    with pytest.raises(anthropic.NotFoundError) as e:
        anthropic_client.messages.create(
            model="no-such-model", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
        )
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "not_found_error"
    assert upstream_calls(mock, "/v1/messages") == [] and upstream_calls(mock, "/v1/chat/completions") == []


@pytest.mark.parametrize("provider", ["mock-anthropic", "mock-openai"])
def test_upstream_not_found_is_not_found(anthropic_client, provider):
    with pytest.raises(anthropic.NotFoundError) as e:
        anthropic_client.messages.create(
            model=f"{provider}/does-not-exist", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
        )
    assert e.value.body["error"]["type"] == "not_found_error"


@pytest.mark.parametrize(
    "provider,up_path", [("mock-anthropic", "/v1/messages"), ("mock-openai", "/v1/chat/completions")]
)
def test_provider_slash_model_routes(anthropic_client, mock, provider, up_path):
    msg = anthropic_client.messages.create(
        model=f"{provider}/some-model", max_tokens=50, messages=[{"role": "user", "content": "Hi"}]
    )
    assert msg.stop_reason == "end_turn"
    (rec,) = upstream_calls(mock, up_path)
    assert rec["body"]["model"] == "some-model"


UPSTREAM_TEXT = {"mock-anthropic": mu.ANTHROPIC_TEXT, "mock-openai": mu.OPENAI_TEXT}


@pytest.mark.parametrize("provider", list(UPSTREAM_TEXT))
def test_context_overflow_says_prompt_is_too_long(anthropic_client, provider):
    """Claude Code compacts its context only when the 400 says `prompt is too long`."""
    with pytest.raises(anthropic.BadRequestError, match="prompt is too long"):
        anthropic_client.messages.create(
            model=f"{provider}/{mu.m.CONTEXT_OVERFLOW_MODEL}",
            max_tokens=10,
            messages=[{"role": "user", "content": "Hi"}],
        )


@pytest.mark.parametrize("provider", list(UPSTREAM_TEXT))
def test_midstream_error_reaches_the_sdk(anthropic_client, provider):
    sc.anthropic_midstream_error(anthropic_client, f"{provider}/{mu.m.MIDSTREAM_ERROR_MODEL}", UPSTREAM_TEXT[provider])


def test_same_dialect_forwards_bytes_headers_and_unknown_fields(gateway, mock):
    """Only the model changes: unknown fields, number spellings, escapes, key order and betas survive
    (the API refuses the unknown field; its 400 comes back as it was sent)."""
    body = (
        '{"model":"claude-mock","max_tokens":64,'
        '"messages":[{"role":"user","content":"caf\\u00e9 \\ud83d\\ude00"}],'
        '"context_management":{"edits":[]},"x_amux_probe":{"nested":[1,"two",null,1e3]}}'
    )
    beta = "interleaved-thinking-2025-05-14,context-1m-2025-08-07"
    req = urllib.request.Request(
        gateway.url + "/v1/messages?beta=true",
        data=body.encode(),
        headers={
            "content-type": "application/json",
            "authorization": "Bearer caller-token",
            "anthropic-version": "2023-06-01",
            "anthropic-beta": beta,
        },
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400
    err = json.loads(e.value.read())["error"]
    assert err == {"type": "invalid_request_error", "message": "x_amux_probe: Extra inputs are not permitted"}
    (rec,) = upstream_calls(mock, "/v1/messages")
    assert rec["headers"].get("anthropic-beta") == beta
    assert rec["headers"].get("anthropic-version") == "2023-06-01"
    check_upstream_auth(rec)
    assert "caller-token" not in json.dumps(rec["headers"]), "the caller's credential reached the upstream"
    assert rec["raw"] == body.replace('"model":"claude-mock"', '"model":"mock-claude"')


def test_same_dialect_thinking_signature_survives(anthropic_client):
    with anthropic_client.messages.stream(
        model=ANTHROPIC_ALIAS,
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Think, then say hello."}],
    ) as s:
        final = s.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].signature == mu.THINKING_SIGNATURE
    assert final.content[0].thinking == mu.THINKING_TEXT


def test_cross_dialect_thinking_becomes_thinking_block(anthropic_client, mock):
    with anthropic_client.messages.stream(
        model=OPENAI_ALIAS,
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Think, then say hello."}],
    ) as s:
        final = s.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == mu.THINKING_TEXT
    assert final.content[1].text == mu.OPENAI_TEXT
    (rec,) = upstream_calls(mock, "/v1/chat/completions")
    assert rec["body"].get("reasoning_effort") in ("minimal", "low", "medium", "high")


def test_beta_client(anthropic_client, mock):
    msg = anthropic_client.beta.messages.create(
        model=ANTHROPIC_ALIAS,
        max_tokens=64,
        betas=["interleaved-thinking-2025-05-14"],
        messages=[{"role": "user", "content": "Hi"}],
    )
    assert msg.content[0].text == mu.ANTHROPIC_TEXT
    (rec,) = upstream_calls(mock, "/v1/messages")
    assert rec["headers"].get("anthropic-beta") == "interleaved-thinking-2025-05-14"


COUNTERS = {
    ANTHROPIC_ALIAS: ("/v1/messages/count_tokens", "exact"),
    "gemini-mock": ("/v1beta/models/mock-gemini:countTokens", "exact"),
    "resp-mock": ("/v1/responses/input_tokens", "exact"),
    OPENAI_ALIAS: (None, "estimate"),  # an OpenAI-compatible server has no counter
}


@pytest.mark.parametrize("alias", list(COUNTERS))
def test_count_tokens(anthropic_client, mock, alias):
    """Claude Code compacts by this count: the upstream's own counter, or an estimate that says so."""
    up_path, kind = COUNTERS[alias]
    raw = anthropic_client.messages.with_raw_response.count_tokens(
        model=alias, system="You are a terse assistant.", messages=[{"role": "user", "content": "Say hello."}]
    )
    assert raw.headers.get("x-amux-token-count") == kind
    got = raw.parse().input_tokens
    posts = [r["path"] for r in mock.recorded() if r["method"] == "POST"]
    if kind == "exact":
        assert got == mu.m.text_token_count(["You are a terse assistant.", "Say hello."])
        assert posts == [up_path]
    else:
        assert got > 0
        assert posts == []


def test_count_tokens_beta_and_same_dialect_body(anthropic_client, mock):
    got = anthropic_client.beta.messages.count_tokens(
        model=ANTHROPIC_ALIAS,
        betas=["token-counting-2024-11-01"],
        messages=[{"role": "user", "content": "Say hello."}],
    )
    assert got.input_tokens == mu.m.text_token_count(["Say hello."])
    (rec,) = [r for r in mock.recorded() if r["method"] == "POST"]
    assert rec["path"] == "/v1/messages/count_tokens"
    assert rec["body"]["model"] == ANTHROPIC_UPSTREAM_MODEL
    assert "token-counting-2024-11-01" in rec["headers"].get("anthropic-beta", "")


def test_count_tokens_beta_query(gateway, mock):
    """Claude Code calls /v1/messages/count_tokens?beta=true."""
    req = urllib.request.Request(
        gateway.url + "/v1/messages/count_tokens?beta=true",
        data=json.dumps({"model": "gemini-mock", "messages": [{"role": "user", "content": "Say hello."}]}).encode(),
        headers={"content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        assert json.loads(r.read()) == {"input_tokens": mu.m.text_token_count(["Say hello."])}
