"""The Azure clients against amux's Azure surfaces, to upstreams of other dialects:

- the openai SDK's `AzureOpenAI` (`azure_endpoint=<amux>`, `api_version`, the amux key as
  `api-key`): chat.completions on the deployment path, plain, streamed and a tool round trip, the
  deployment name routing as a model; `responses` on `/openai/responses`;
- the openai SDK's plain client on the v1 API (`base_url=<amux>/openai/v1`);
- the openai SDK on Foundry's model-inference path (`/models/chat/completions`);
- the anthropic SDK's `AnthropicFoundry` (`base_url=<amux>/anthropic/`), Claude in Foundry.
"""

from __future__ import annotations

import json

import mock_upstream as mu
import pytest
import scenarios as sc
import scenarios_responses as sr
from conftest import ANTHROPIC_ALIAS, ANTHROPIC_UPSTREAM_MODEL, OPENAI_ALIAS, OPENAI_UPSTREAM_MODEL, RESPONSES_ALIAS
from expect import responses_from

openai = pytest.importorskip("openai")

KEY = "amux-azure-key"
API_VERSION = "2024-10-21"

# deployment name -> (expectation, upstream path, upstream model)
CHAT_PATHS = {
    "same": (OPENAI_ALIAS, sc.OPENAI_FROM_OPENAI, "/v1/chat/completions", OPENAI_UPSTREAM_MODEL),
    "cross": (ANTHROPIC_ALIAS, sc.OPENAI_FROM_ANTHROPIC, "/v1/messages", ANTHROPIC_UPSTREAM_MODEL),
}


def upstream_calls(mock: mu.MockServer, path: str) -> list[dict]:
    return [r for r in mock.recorded() if r["method"] == "POST" and r["path"] == path]


@pytest.fixture
def azure_client(gateway):
    return openai.AzureOpenAI(
        azure_endpoint=gateway.url, api_key=KEY, api_version=API_VERSION, max_retries=0, timeout=30.0
    )


@pytest.fixture(params=list(CHAT_PATHS))
def path(request):
    return request.param


def test_azure_deployment_chat(azure_client, mock, path):
    deployment, exp, up_path, up_model = CHAT_PATHS[path]
    sc.openai_create(azure_client, deployment, exp)
    sc.openai_stream_raw(azure_client, deployment, exp)
    calls = upstream_calls(mock, up_path)
    assert [c["body"]["model"] for c in calls] == [up_model, up_model]
    assert KEY not in json.dumps([c["headers"] for c in calls]), "the caller's key reached the upstream"


def test_azure_deployment_tool_round_trip(azure_client, mock, path):
    deployment, exp, _, _ = CHAT_PATHS[path]
    sc.openai_tool_round_trip(azure_client, deployment, exp, stream=True)


def test_azure_responses(azure_client, mock):
    sr.create(azure_client, RESPONSES_ALIAS, responses_from("responses"))


def test_v1_api_and_foundry_inference(gateway, mock):
    for base in ("/openai/v1", "/models"):
        client = openai.OpenAI(base_url=gateway.url + base, api_key=KEY, max_retries=0, timeout=30.0)
        sc.openai_create(client, OPENAI_ALIAS, sc.OPENAI_FROM_OPENAI)
    assert len(upstream_calls(mock, "/v1/chat/completions")) == 2


def test_anthropic_foundry(gateway, mock):
    from anthropic import AnthropicFoundry

    client = AnthropicFoundry(base_url=gateway.url + "/anthropic/", api_key=KEY, max_retries=0, timeout=30.0)
    sc.anthropic_create(client, ANTHROPIC_ALIAS, sc.ANTHROPIC_FROM_ANTHROPIC)
    sc.anthropic_tool_round_trip(client, ANTHROPIC_ALIAS, sc.ANTHROPIC_FROM_ANTHROPIC, stream=True)
    calls = upstream_calls(mock, "/v1/messages")
    assert calls and all(c["body"]["model"] == ANTHROPIC_UPSTREAM_MODEL for c in calls)
    assert KEY not in json.dumps([c["headers"] for c in calls])
