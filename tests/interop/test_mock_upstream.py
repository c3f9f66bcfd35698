"""The mock upstream speaks both protocols: the official SDKs, pointed straight at it, accept it.

If these fail, the gateway tests prove nothing; fix the mock first.
"""

from __future__ import annotations

import http.client
import json
import urllib.request

import anthropic
import mock_upstream as mu
import openai
import pytest
import scenarios as sc


@pytest.fixture
def anthropic_direct(mock):
    return anthropic.Anthropic(base_url=mock.url, api_key=mu.API_KEY, max_retries=0, timeout=10.0)


@pytest.fixture
def openai_direct(mock):
    return openai.OpenAI(base_url=mock.url + "/v1", api_key=mu.API_KEY, max_retries=0, timeout=10.0)


# -- Anthropic Messages


def test_anthropic_create(anthropic_direct, mock):
    sc.anthropic_create(anthropic_direct, "mock-claude", sc.ANTHROPIC_FROM_ANTHROPIC)
    (rec,) = mock.recorded()
    assert rec["path"] == "/v1/messages"
    h = rec["headers"]
    assert h.get("x-api-key") == mu.API_KEY or h.get("authorization") == f"Bearer {mu.API_KEY}"
    assert rec["headers"]["anthropic-version"]
    assert rec["body"]["model"] == "mock-claude"


def test_anthropic_stream(anthropic_direct):
    sc.anthropic_stream(anthropic_direct, "mock-claude", sc.ANTHROPIC_FROM_ANTHROPIC)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_anthropic_tool_round_trip(anthropic_direct, stream):
    sc.anthropic_tool_round_trip(anthropic_direct, "mock-claude", sc.ANTHROPIC_FROM_ANTHROPIC, stream)


def test_anthropic_single_tool_call_without_parallel(anthropic_direct):
    msg = anthropic_direct.messages.create(
        model="mock-claude",
        max_tokens=100,
        tools=[sc.ANTHROPIC_WEATHER_TOOL],
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": sc.WEATHER_QUESTION}],
    )
    assert [b.type for b in msg.content] == ["tool_use"]


def test_anthropic_thinking_stream_keeps_signature(anthropic_direct):
    with anthropic_direct.messages.stream(
        model="mock-claude",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Think, then say hello."}],
    ) as s:
        final = s.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == mu.THINKING_TEXT
    assert final.content[0].signature == mu.THINKING_SIGNATURE


def test_anthropic_max_tokens(anthropic_direct):
    sc.anthropic_max_tokens(anthropic_direct, "mock-claude")


def test_anthropic_errors(anthropic_direct, mock):
    with pytest.raises(anthropic.NotFoundError) as e:
        anthropic_direct.messages.create(
            model="does-not-exist", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
        )
    assert e.value.body["error"]["type"] == "not_found_error"
    bad_key = anthropic.Anthropic(base_url=mock.url, api_key="wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        bad_key.messages.create(model="mock-claude", max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(anthropic.BadRequestError, match="tool_use_id"):
        anthropic_direct.messages.create(
            model="mock-claude",
            max_tokens=10,
            messages=[{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "?"}]}],
        )
    with pytest.raises(anthropic.InternalServerError):
        anthropic_direct.messages.create(model="error-500", max_tokens=10, messages=[{"role": "user", "content": "Hi"}])


def test_anthropic_context_overflow(anthropic_direct):
    with pytest.raises(anthropic.BadRequestError, match="prompt is too long"):
        anthropic_direct.messages.create(
            model=mu.m.CONTEXT_OVERFLOW_MODEL, max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
        )


def test_anthropic_midstream_error(anthropic_direct):
    sc.anthropic_midstream_error(anthropic_direct, mu.m.MIDSTREAM_ERROR_MODEL, mu.ANTHROPIC_TEXT)


def test_anthropic_requires_version_header(mock):
    req = urllib.request.Request(
        mock.url + "/v1/messages",
        data=json.dumps(
            {"model": "mock-claude", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
        ).encode(),
        headers={"x-api-key": mu.API_KEY, "content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 400
    assert json.loads(e.value.read())["error"]["message"].startswith("anthropic-version")


# -- OpenAI Chat Completions


def test_openai_create(openai_direct, mock):
    sc.openai_create(openai_direct, "mock-gpt", sc.OPENAI_FROM_OPENAI)
    (rec,) = mock.recorded()
    assert rec["path"] == "/v1/chat/completions"
    assert rec["headers"]["authorization"] == f"Bearer {mu.API_KEY}"


def test_openai_stream_helper(openai_direct):
    sc.openai_stream_helper(openai_direct, "mock-gpt", sc.OPENAI_FROM_OPENAI)


def test_openai_stream_raw(openai_direct):
    sc.openai_stream_raw(openai_direct, "mock-gpt", sc.OPENAI_FROM_OPENAI)


def test_openai_stream_without_usage(openai_direct):
    chunks = list(
        openai_direct.chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
    )
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_openai_tool_round_trip(openai_direct, stream):
    sc.openai_tool_round_trip(openai_direct, "mock-gpt", sc.OPENAI_FROM_OPENAI, stream)


def test_openai_reasoning_content(openai_direct):
    completion = openai_direct.chat.completions.create(
        model="mock-gpt", reasoning_effort="low", messages=[{"role": "user", "content": "Hi"}]
    )
    assert completion.choices[0].message.model_extra["reasoning_content"] == mu.THINKING_TEXT


def test_openai_max_tokens(openai_direct):
    sc.openai_max_tokens(openai_direct, "mock-gpt")


def test_openai_errors(openai_direct, mock):
    with pytest.raises(openai.NotFoundError) as e:
        openai_direct.chat.completions.create(model="does-not-exist", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.code == "model_not_found"
    bad_key = openai.OpenAI(base_url=mock.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_key.chat.completions.create(model="mock-gpt", messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(openai.BadRequestError, match="tool"):
        openai_direct.chat.completions.create(
            model="mock-gpt", messages=[{"role": "tool", "tool_call_id": "call_x", "content": "?"}]
        )
    with pytest.raises(openai.BadRequestError, match="stream_options"):
        openai_direct.chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": "Hi"}], stream_options={"include_usage": True}
        )


def test_openai_context_overflow(openai_direct):
    with pytest.raises(openai.BadRequestError) as e:
        openai_direct.chat.completions.create(
            model=mu.m.CONTEXT_OVERFLOW_MODEL, messages=[{"role": "user", "content": "Hi"}]
        )
    assert e.value.code == "context_length_exceeded"


def test_openai_midstream_error(openai_direct):
    sc.openai_midstream_error(openai_direct, mu.m.MIDSTREAM_ERROR_MODEL, mu.OPENAI_TEXT)


# -- Mock plumbing


def test_streams_are_chunked_and_incremental(mock):
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    body = {"model": "mock-gpt", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    conn.request(
        "POST",
        "/v1/chat/completions",
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {mu.API_KEY}", "Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert resp.getheader("Content-Type").startswith("text/event-stream")
    first = resp.read1()
    assert first.startswith(b"data: {")
    rest = resp.read()
    assert rest.endswith(b"data: [DONE]\n\n")
    conn.close()


def test_record_and_reset_over_http(mock, openai_direct):
    # mock-chat is the open-model server (vLLM-like) that ignores fields it does not know.
    openai_direct.chat.completions.create(
        model="mock-chat", messages=[{"role": "user", "content": "Hi"}], extra_body={"x_probe": {"a": [1]}}
    )
    with urllib.request.urlopen(mock.url + "/_requests", timeout=5) as r:
        recs = json.loads(r.read())
    assert len(recs) == 1
    assert recs[0]["body"]["x_probe"] == {"a": [1]}
    assert json.loads(recs[0]["raw"]) == recs[0]["body"]
    req = urllib.request.Request(mock.url + "/_reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200
    assert mock.recorded() == []


def test_anthropic_count_tokens(anthropic_direct, mock):
    got = anthropic_direct.messages.count_tokens(
        model="mock-claude", system="You are a terse assistant.", messages=[{"role": "user", "content": "Say hello."}]
    )
    assert got.input_tokens == mu.m.text_token_count(["You are a terse assistant.", "Say hello."])
    (rec,) = mock.recorded()
    assert rec["path"] == "/v1/messages/count_tokens"
