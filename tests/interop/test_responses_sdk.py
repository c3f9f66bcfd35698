"""The official OpenAI SDK's Responses API (`client.responses`) through amux, to every upstream.

same:      Responses caller -> resp-mock (Responses upstream): forwarded as bytes, model replaced.
anthropic: -> claude-mock, chat: -> chat-mock (Chat-only server), gemini: -> gemini-mock;
translated both ways.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import mock_upstream as mu
import openai
import pytest
import scenarios_responses as sr
from conftest import (
    ANTHROPIC_ALIAS,
    ANTHROPIC_UPSTREAM_MODEL,
    CHAT_ALIAS,
    CHAT_UPSTREAM_MODEL,
    GEMINI_ALIAS,
    GEMINI_UPSTREAM_MODEL,
    OPENAI_ALIAS,
    RESPONSES_ALIAS,
    RESPONSES_UPSTREAM_MODEL,
)
from expect import responses_from

# path -> (alias, upstream dialect, upstream path, upstream model)
PATHS = {
    "same": (RESPONSES_ALIAS, "responses", "/v1/responses", RESPONSES_UPSTREAM_MODEL),
    "anthropic": (ANTHROPIC_ALIAS, "anthropic", "/v1/messages", ANTHROPIC_UPSTREAM_MODEL),
    "chat": (CHAT_ALIAS, "openai", "/v1/chat/completions", CHAT_UPSTREAM_MODEL),
    "gemini": (GEMINI_ALIAS, "gemini", f"/v1beta/models/{GEMINI_UPSTREAM_MODEL}", GEMINI_UPSTREAM_MODEL),
}


@pytest.fixture(params=list(PATHS))
def path(request):
    return request.param


def upstream_calls(mock: mu.MockServer, prefix: str) -> list[dict]:
    return [r for r in mock.recorded() if r["method"] == "POST" and r["path"].startswith(prefix)]


def upstream_model(rec: dict) -> str:
    if rec["path"].startswith("/v1beta/models/"):
        return rec["path"].removeprefix("/v1beta/models/").split(":")[0]
    return rec["body"]["model"]


def test_create(openai_client, mock, path):
    alias, up, up_path, up_model = PATHS[path]
    sr.create(openai_client, alias, responses_from(up))
    (rec,) = upstream_calls(mock, up_path)
    assert upstream_model(rec) == up_model
    assert "any-key" not in json.dumps(rec["headers"]), "the caller's credential reached the upstream"
    if path == "same":
        assert rec["body"]["instructions"] == sr.INSTRUCTIONS
    if path == "anthropic":
        system = rec["body"]["system"]
        assert (system if isinstance(system, str) else "".join(b["text"] for b in system)) == sr.INSTRUCTIONS
    if path == "gemini":
        assert rec["path"].endswith(":generateContent")
        assert rec["body"]["systemInstruction"]["parts"][0]["text"] == sr.INSTRUCTIONS


def test_stream(openai_client, mock, path):
    alias, up, up_path, up_model = PATHS[path]
    sr.stream(openai_client, alias, responses_from(up))
    (rec,) = upstream_calls(mock, up_path)
    assert upstream_model(rec) == up_model
    if path == "gemini":
        assert rec["path"].endswith(":streamGenerateContent") and rec["query"] == "alt=sse"
    else:
        assert rec["body"]["stream"] is True


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tool_round_trip(openai_client, mock, path, stream):
    alias, up, up_path, _ = PATHS[path]
    first, _final = sr.tool_round_trip(openai_client, alias, responses_from(up), stream)
    ids = [o.call_id for o in first.output if o.type == "function_call"]
    calls = upstream_calls(mock, up_path)
    assert len(calls) == 2
    second = calls[1]["body"]
    if path == "same":
        assert [i["call_id"] for i in second["input"] if i.get("type") == "function_call_output"] == ids
    elif path == "anthropic":
        assert [b["tool_use_id"] for b in second["messages"][-1]["content"] if b["type"] == "tool_result"] == ids
    elif path == "chat":
        assert [m["tool_call_id"] for m in second["messages"] if m["role"] == "tool"] == ids
    else:
        model_turn, results = second["contents"][-2:]
        assert model_turn["role"] == "model"
        assert model_turn["parts"][0].get("thoughtSignature"), "the first functionCall part lost its signature"
        assert [p["functionResponse"]["name"] for p in results["parts"]] == ["get_weather", "get_weather"]


def test_input_tokens(openai_client, mock, path):
    """Every upstream here has a counter (Chat-only servers excepted: amux estimates, and says so)."""
    alias, up, _, _ = PATHS[path]
    if path == "chat":
        raw = openai_client.responses.input_tokens.with_raw_response.count(
            model=alias, instructions=sr.INSTRUCTIONS, input="Say hello."
        )
        assert raw.headers.get("x-amux-token-count") == "estimate"
        assert raw.parse().input_tokens > 0
        return
    raw = openai_client.responses.input_tokens.with_raw_response.count(
        model=alias, instructions=sr.INSTRUCTIONS, input="Say hello."
    )
    assert raw.headers.get("x-amux-token-count") == "exact"
    assert raw.parse().input_tokens == sr.HELLO_COUNT
    assert [r["path"] for r in mock.recorded() if r["method"] == "POST"] == [
        {
            "same": "/v1/responses/input_tokens",
            "anthropic": "/v1/messages/count_tokens",
            "gemini": f"/v1beta/models/{GEMINI_UPSTREAM_MODEL}:countTokens",
        }[path]
    ]


def test_input_tokens_sdk_helper(openai_client):
    sr.input_tokens(openai_client, RESPONSES_ALIAS, sr.HELLO_COUNT)


def test_same_dialect_forwards_bytes(gateway, mock):
    body = (
        '{"model":"resp-mock","input":"caf\\u00e9","store":false,"temperature":0.50,'
        '"x_amux_probe":{"nested":[1,"two",null,1e3]},"prompt_cache_key":"k1"}'
    )
    req = urllib.request.Request(
        gateway.url + "/v1/responses",
        data=body.encode(),
        headers={"content-type": "application/json", "authorization": "Bearer caller-token"},
    )
    # The API refuses the unknown field: amux forwarded the bytes as sent and passes the 400 back.
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400
    err = json.loads(e.value.read())["error"]
    assert err["message"] == "Unknown parameter: 'x_amux_probe'." and err["code"] == "unknown_parameter"
    (rec,) = upstream_calls(mock, "/v1/responses")
    assert rec["headers"]["authorization"] == f"Bearer {mu.API_KEY}"
    assert rec["raw"] == body.replace('"model":"resp-mock"', '"model":"mock-resp"')


def test_kind_openai_passes_responses_through(openai_client, mock):
    """A Chat-default `openai` provider still serves Responses callers on the same-dialect path."""
    resp = openai_client.responses.create(model=OPENAI_ALIAS, input="Hi", store=False)
    assert resp.output_text == mu.RESPONSES_TEXT
    assert [r["path"] for r in mock.recorded() if r["method"] == "POST"] == ["/v1/responses"]


def test_previous_response_id_reaches_an_openai_upstream(openai_client, mock):
    """amux keeps no state: the id goes to the OpenAI upstream, whose answer (here: not found) comes back."""
    with pytest.raises(openai.BadRequestError, match="resp_abc") as e:
        openai_client.responses.create(model=RESPONSES_ALIAS, input="Hi", previous_response_id="resp_abc")
    assert e.value.param == "previous_response_id"
    (rec,) = upstream_calls(mock, "/v1/responses")
    assert rec["body"]["previous_response_id"] == "resp_abc"


def test_upstream_error_code_survives(openai_client):
    with pytest.raises(openai.BadRequestError) as e:
        openai_client.responses.create(model=RESPONSES_ALIAS, input="Hi", previous_response_id="resp_abc")
    assert e.value.code == "previous_response_not_found"


@pytest.mark.parametrize("alias", [ANTHROPIC_ALIAS, CHAT_ALIAS, GEMINI_ALIAS])
def test_previous_response_id_is_refused_elsewhere(openai_client, mock, alias):
    with pytest.raises(openai.BadRequestError) as e:
        openai_client.responses.create(model=alias, input="Hi", previous_response_id="resp_abc")
    assert "previous_response_id" in str(e.value)
    assert [r for r in mock.recorded() if r["method"] == "POST"] == []


@pytest.mark.parametrize("alias,up", [(ANTHROPIC_ALIAS, "anthropic"), (GEMINI_ALIAS, "gemini")])
def test_cross_dialect_reasoning_becomes_a_reasoning_item(openai_client, alias, up):
    with openai_client.responses.stream(
        model=alias,
        input="Think, then say hello.",
        reasoning={"effort": "low", "summary": "auto"},
        store=False,
        **({"max_output_tokens": 2048} if up == "anthropic" else {}),
    ) as s:
        events = list(s)
        final = s.get_final_response()
    sr.check_lifecycle(events)
    # Gemini's thought signature rides in an extra reasoning item (encrypted_content, no summary).
    types = [o.type for o in final.output]
    assert types[-1] == "message" and set(types[:-1]) == {"reasoning"}, types
    summary = "".join(p.text for o in final.output[:-1] for p in o.summary)
    assert summary == mu.THINKING_TEXT
    assert final.output_text == responses_from(up).text


def test_unknown_model_is_not_found(openai_client, mock):
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.create(model="no-such-model", input="Hi")
    assert [r for r in mock.recorded() if r["method"] == "POST"] == []


@pytest.mark.parametrize("provider", ["mock-responses", "mock-anthropic", "mock-gemini"])
def test_context_overflow_is_a_400(openai_client, provider):
    with pytest.raises(openai.BadRequestError) as e:
        openai_client.responses.create(model=f"{provider}/{mu.m.CONTEXT_OVERFLOW_MODEL}", input="Hi")
    assert e.value.status_code == 400


def test_midstream_error_is_an_error_event(gateway):
    """A cross-dialect stream that breaks off ends with an error event (or response.failed), not a cut."""
    req = urllib.request.Request(
        gateway.url + "/v1/responses",
        data=json.dumps(
            {"model": f"mock-anthropic/{mu.m.MIDSTREAM_ERROR_MODEL}", "input": "Hi", "stream": True}
        ).encode(),
        headers={"content-type": "application/json", "authorization": "Bearer k"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read().decode()
    except urllib.error.HTTPError as e:  # pragma: no cover - shows what came instead
        raise AssertionError(f"HTTP {e.code}: {e.read()!r}") from None
    events = [json.loads(f.split("data: ", 1)[1]) for f in raw.strip().split("\n\n") if "data: " in f]
    assert events[-1]["type"] in ("error", "response.failed"), events[-1]
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == "".join(
        mu.m.words(mu.ANTHROPIC_TEXT)[: mu.m.MIDSTREAM_DELTAS]
    )


def test_reasoning_replay_restores_the_anthropic_thinking_block(openai_client, mock):
    """Codex resends reasoning items (encrypted_content) each turn: the thinking block and its
    signature must reach Anthropic again, unchanged, before the tool_use they preceded."""
    items: list = [{"role": "user", "content": "What is the weather in Paris?"}]
    common = {
        "model": ANTHROPIC_ALIAS,
        "tools": [sr.WEATHER_TOOL],
        "store": False,
        "reasoning": {"effort": "low", "summary": "auto"},
        "include": ["reasoning.encrypted_content"],
        "max_output_tokens": 2048,
    }
    first = openai_client.responses.create(input=items, **common)
    assert [o.type for o in first.output] == ["reasoning", "function_call"], first.output
    assert first.output[0].encrypted_content, "the signature must ride in encrypted_content"
    items += [o.model_dump(exclude_none=True) for o in first.output]
    items.append({"type": "function_call_output", "call_id": first.output[1].call_id, "output": "Sunny"})
    final = openai_client.responses.create(input=items, **common)
    assert "Sunny" in final.output_text
    replayed = upstream_calls(mock, "/v1/messages")[1]["body"]["messages"][1]["content"]
    assert [b["type"] for b in replayed] == ["thinking", "tool_use"], replayed
    assert replayed[0]["signature"] == mu.THINKING_SIGNATURE
    assert replayed[0]["thinking"] == mu.THINKING_TEXT
