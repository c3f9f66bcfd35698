"""The Vertex AI clients against amux's Vertex surface (`/vertex`), to upstreams of other dialects:

- google-genai with `vertexai=True` (project, location, `http_options.base_url=<amux>/vertex`,
  the amux key as the OAuth token): generate_content, streamed, a tool round trip, count_tokens;
  to a Gemini upstream (bytes), an Anthropic one and an OpenAI Chat one (translated);
- the anthropic SDK's `AnthropicVertex` (`base_url=<amux>/vertex/v1`, `access_token=<key>`):
  rawPredict, streamRawPredict, a tool round trip, count-tokens:rawPredict; to an Anthropic
  upstream (bytes: `anthropic_version` removed, the model from the path) and an OpenAI Chat one.

The gateway here is the shared open one (any key is accepted); the keyed gateway's refusal of a
wrong key is checked at the end with plain HTTP.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import mock_upstream as mu
import pytest
import scenarios as sc
import scenarios_gemini as sg
from conftest import (
    ANTHROPIC_ALIAS,
    ANTHROPIC_UPSTREAM_MODEL,
    GEMINI_ALIAS,
    GEMINI_UPSTREAM_MODEL,
    OPENAI_ALIAS,
    OPENAI_UPSTREAM_MODEL,
)
from expect import gemini_from

genai = pytest.importorskip("google.genai")
from google.genai import types  # noqa: E402
from google.oauth2.credentials import Credentials  # noqa: E402

KEY = "amux-vertex-key"
PROJECT = "my-project"
LOCATION = "us-east5"

GEMINI_PATHS = {
    "same": (GEMINI_ALIAS, "gemini", f"/v1beta/models/{GEMINI_UPSTREAM_MODEL}:"),
    "anthropic": (ANTHROPIC_ALIAS, "anthropic", "/v1/messages"),
    "chat": (OPENAI_ALIAS, "openai", "/v1/chat/completions"),
}
CLAUDE_PATHS = {
    "same": (ANTHROPIC_ALIAS, sc.ANTHROPIC_FROM_ANTHROPIC, "/v1/messages", ANTHROPIC_UPSTREAM_MODEL),
    "cross": (OPENAI_ALIAS, sc.ANTHROPIC_FROM_OPENAI, "/v1/chat/completions", OPENAI_UPSTREAM_MODEL),
}


def upstream_calls(mock: mu.MockServer, prefix: str) -> list[dict]:
    return [r for r in mock.recorded() if r["method"] == "POST" and r["path"].startswith(prefix)]


@pytest.fixture
def vertex_genai(gateway):
    return genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=Credentials(token=KEY),
        http_options=types.HttpOptions(
            base_url=gateway.url + "/vertex",
            timeout=30_000,
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )


@pytest.fixture
def anthropic_vertex(gateway):
    from anthropic import AnthropicVertex

    return AnthropicVertex(
        region=LOCATION,
        project_id=PROJECT,
        access_token=KEY,
        base_url=gateway.url + "/vertex/v1",
        max_retries=0,
        timeout=30.0,
    )


@pytest.fixture(params=list(GEMINI_PATHS))
def gpath(request):
    return request.param


@pytest.fixture(params=list(CLAUDE_PATHS))
def cpath(request):
    return request.param


def test_genai_vertex_generate_and_stream(vertex_genai, mock, gpath):
    alias, up, up_path = GEMINI_PATHS[gpath]
    sg.create(vertex_genai, alias, gemini_from(up))
    sg.stream(vertex_genai, alias, gemini_from(up))
    calls = upstream_calls(mock, up_path)
    assert len(calls) == 2
    assert KEY not in json.dumps([c["headers"] for c in calls]), "the caller's token reached the upstream"
    if gpath == "same":
        assert calls[0]["path"].endswith(":generateContent")
        assert calls[1]["path"].endswith(":streamGenerateContent")


def test_genai_vertex_tool_round_trip(vertex_genai, mock, gpath):
    alias, up, _ = GEMINI_PATHS[gpath]
    sg.tool_round_trip(vertex_genai, alias, gemini_from(up), stream=True)


def test_genai_vertex_count_tokens(vertex_genai, mock):
    got = vertex_genai.models.count_tokens(model=GEMINI_ALIAS, contents="Say hello.")
    assert got.total_tokens > 0
    (rec,) = upstream_calls(mock, f"/v1beta/models/{GEMINI_UPSTREAM_MODEL}:countTokens")
    assert rec["headers"]["x-goog-api-key"] == mu.API_KEY


def test_anthropic_vertex_create_and_stream(anthropic_vertex, mock, cpath):
    alias, exp, up_path, up_model = CLAUDE_PATHS[cpath]
    sc.anthropic_create(anthropic_vertex, alias, exp)
    sc.anthropic_stream(anthropic_vertex, alias, exp)
    calls = upstream_calls(mock, up_path)
    assert len(calls) == 2
    assert [c["body"]["model"] for c in calls] == [up_model, up_model]
    assert calls[1]["body"]["stream"] is True
    for c in calls:
        assert "anthropic_version" not in c["body"], c["body"]
        assert KEY not in json.dumps(c["headers"])


def test_anthropic_vertex_tool_round_trip(anthropic_vertex, mock, cpath):
    alias, exp, _, _ = CLAUDE_PATHS[cpath]
    sc.anthropic_tool_round_trip(anthropic_vertex, alias, exp, stream=True)


def test_anthropic_vertex_versioned_id_and_count(anthropic_vertex, mock):
    # Vertex's `@version` id reaches the alias named by the Claude API name.
    got = anthropic_vertex.messages.count_tokens(model=ANTHROPIC_ALIAS, messages=[{"role": "user", "content": "Hi"}])
    assert got.input_tokens > 0
    (rec,) = upstream_calls(mock, "/v1/messages/count_tokens")
    assert rec["body"]["model"] == ANTHROPIC_UPSTREAM_MODEL
    assert "anthropic_version" not in rec["body"]


def test_unknown_vertex_paths_are_404(gateway):
    req = urllib.request.Request(
        gateway.url + "/vertex/v1/projects/p/locations/l/publishers/meta/models/x:predict",
        data=b"{}",
        headers={"content-type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 404
