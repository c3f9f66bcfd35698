"""boto3's `bedrock-runtime` client with `endpoint_url` set to amux's Bedrock surface, to upstreams
of every other dialect: converse, converse_stream, invoke_model,
invoke_model_with_response_stream and count_tokens, plain, streamed, a tool round trip, errors.

boto3 signs with SigV4 (static test credentials); amux serves it as an open gateway does. The
model ids are the gateway's aliases, also as an ARN (URL-encoded by botocore in the path).
"""

from __future__ import annotations

import json

import mock_model as mm
import mock_upstream as mu
import pytest
import scenarios
from conftest import ANTHROPIC_ALIAS, GEMINI_ALIAS, HERE, OPENAI_ALIAS, RESPONSES_ALIAS
from expect import UPSTREAM

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError, EventStreamError  # noqa: E402

# path -> (model id, upstream dialect, upstream path)
PATHS = {
    "anthropic": (ANTHROPIC_ALIAS, "anthropic", "/v1/messages"),
    "chat": (OPENAI_ALIAS, "openai", "/v1/chat/completions"),
    "responses": (RESPONSES_ALIAS, "responses", "/v1/responses"),
    "gemini": (GEMINI_ALIAS, "gemini", "/v1beta/models/"),
}

WEATHER_TOOL = {
    "toolSpec": {
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "inputSchema": {"json": scenarios.WEATHER_SCHEMA},
    }
}


@pytest.fixture(params=list(PATHS))
def path(request):
    return request.param


@pytest.fixture
def bedrock(gateway):
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=gateway.url + "/bedrock",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=30, connect_timeout=5),
    )


def upstream_calls(mock: mu.MockServer, prefix: str) -> list[dict]:
    return [r for r in mock.recorded() if r["method"] == "POST" and r["path"].startswith(prefix)]


def check_usage(usage: dict, up: str) -> None:
    n = UPSTREAM[up]
    assert usage["inputTokens"] == n.input
    assert usage["outputTokens"] == n.output
    assert usage.get("cacheReadInputTokens", 0) == n.cache_read
    assert usage.get("cacheWriteInputTokens", 0) == n.cache_write
    assert usage["totalTokens"] == n.prompt + n.output


def test_converse(bedrock, mock, path):
    model, up, up_path = PATHS[path]
    r = bedrock.converse(
        modelId=model,
        system=[{"text": "Be brief."}],
        messages=[{"role": "user", "content": [{"text": "Hello"}]}],
        inferenceConfig={"maxTokens": 256, "temperature": 0.5},
    )
    assert r["output"]["message"]["content"] == [{"text": UPSTREAM[up].text}]
    assert r["stopReason"] == "end_turn"
    check_usage(r["usage"], up)
    assert len(upstream_calls(mock, up_path)) == 1


def test_converse_stream(bedrock, mock, path):
    model, up, _ = PATHS[path]
    r = bedrock.converse_stream(modelId=model, messages=[{"role": "user", "content": [{"text": "Hello"}]}])
    events = list(r["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart" and kinds[-2:] == ["messageStop", "metadata"], kinds
    text = "".join(e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e)
    assert text == UPSTREAM[up].text
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    check_usage(events[-1]["metadata"]["usage"], up)


def test_tool_round_trip(bedrock, mock, path):
    model, _, _ = PATHS[path]
    messages = [{"role": "user", "content": [{"text": scenarios.WEATHER_QUESTION}]}]
    tools = {"tools": [WEATHER_TOOL], "toolChoice": {"auto": {}}}
    r = bedrock.converse(modelId=model, messages=messages, toolConfig=tools)
    assert r["stopReason"] == "tool_use"
    content = r["output"]["message"]["content"]
    uses = [b["toolUse"] for b in content if "toolUse" in b]
    assert sorted(u["input"]["location"] for u in uses) == ["Paris", "Tokyo"]
    assert len({u["toolUseId"] for u in uses}) == 2
    messages.append({"role": "assistant", "content": content})
    results = [
        {
            "toolResult": {
                "toolUseId": u["toolUseId"],
                "content": [{"text": scenarios.WEATHER_RESULTS[u["input"]["location"]]}],
                "status": "success",
            }
        }
        for u in uses
    ]
    messages.append({"role": "user", "content": results})
    r = bedrock.converse(modelId=model, messages=messages, toolConfig=tools)
    text = r["output"]["message"]["content"][0]["text"]
    assert text.startswith(mm.TOOL_RESULT_PREFIX)
    for u in uses:
        assert u["toolUseId"] in text and scenarios.WEATHER_RESULTS[u["input"]["location"]] in text


def test_tool_round_trip_streamed(bedrock, mock, path):
    model, _, _ = PATHS[path]
    r = bedrock.converse_stream(
        modelId=model,
        messages=[{"role": "user", "content": [{"text": scenarios.WEATHER_QUESTION}]}],
        toolConfig={"tools": [WEATHER_TOOL]},
    )
    calls: dict[int, dict] = {}
    stop = None
    for e in r["stream"]:
        if "contentBlockStart" in e:
            start = e["contentBlockStart"]
            calls[start["contentBlockIndex"]] = dict(start["start"]["toolUse"], input="")
        elif "contentBlockDelta" in e and "toolUse" in e["contentBlockDelta"]["delta"]:
            calls[e["contentBlockDelta"]["contentBlockIndex"]]["input"] += e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        elif "messageStop" in e:
            stop = e["messageStop"]["stopReason"]
    assert stop == "tool_use"
    assert sorted(json.loads(c["input"])["location"] for c in calls.values()) == ["Paris", "Tokyo"]


ANTHROPIC_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 256,
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "Hello"}],
}


def test_invoke_model(bedrock, mock, path):
    model, up, up_path = PATHS[path]
    r = bedrock.invoke_model(modelId=model, body=json.dumps(ANTHROPIC_BODY), contentType="application/json")
    body = json.loads(r["body"].read())
    assert body["content"][0]["text"] == UPSTREAM[up].text
    assert body["usage"]["input_tokens"] == UPSTREAM[up].input
    (rec,) = upstream_calls(mock, up_path)
    if path == "anthropic":
        assert "anthropic_version" not in rec["body"] and rec["body"]["stream"] is False


def test_invoke_model_with_response_stream(bedrock, mock, path):
    model, up, _ = PATHS[path]
    body = dict(ANTHROPIC_BODY, anthropic_beta=["interleaved-thinking-2025-05-14"])
    r = bedrock.invoke_model_with_response_stream(modelId=model, body=json.dumps(body))
    events = [json.loads(e["chunk"]["bytes"]) for e in r["body"]]
    types = [e["type"] for e in events]
    assert types[0] == "message_start" and types[-1] == "message_stop", types
    text = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    assert text == UPSTREAM[up].text
    # As Bedrock does, the last chunk carries the invocation metrics clients read usage from.
    metrics = events[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["inputTokenCount"] == UPSTREAM[up].input and metrics["outputTokenCount"] > 0, metrics
    assert metrics["invocationLatency"] >= metrics["firstByteLatency"] >= 0, metrics
    if path == "anthropic":
        (rec,) = upstream_calls(mock, "/v1/messages")
        assert rec["headers"]["anthropic-beta"] == "interleaved-thinking-2025-05-14"


def test_model_ids_as_arns(bedrock, mock):
    arn = f"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/{ANTHROPIC_ALIAS}"
    r = bedrock.converse(modelId=arn, messages=[{"role": "user", "content": [{"text": "Hello"}]}])
    assert r["output"]["message"]["content"] == [{"text": mm.ANTHROPIC_TEXT}]


def test_errors_keep_their_meaning(bedrock, mock):
    msgs = [{"role": "user", "content": [{"text": "Hello"}]}]
    with pytest.raises(ClientError) as e:
        bedrock.converse(modelId="us.anthropic.claude-does-not-route-v1:0", messages=msgs)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        bedrock.converse(modelId=f"mock-anthropic/{mm.CONTEXT_OVERFLOW_MODEL}", messages=msgs)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "prompt is too long" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        bedrock.invoke_model(modelId="mock-openai/error-429", body=json.dumps(ANTHROPIC_BODY))
    assert e.value.response["Error"]["Code"] == "ThrottlingException"
    r = bedrock.converse_stream(modelId=f"mock-anthropic/{mm.MIDSTREAM_ERROR_MODEL}", messages=msgs)
    with pytest.raises(EventStreamError):
        list(r["stream"])
    r = bedrock.invoke_model_with_response_stream(
        modelId=f"mock-anthropic/{mm.MIDSTREAM_ERROR_MODEL}", body=json.dumps(ANTHROPIC_BODY)
    )
    with pytest.raises(EventStreamError):
        list(r["body"])


def test_count_tokens(bedrock, mock):
    msgs = [{"role": "user", "content": [{"text": "one two three"}]}]
    r = bedrock.count_tokens(modelId=ANTHROPIC_ALIAS, input={"converse": {"messages": msgs}})
    assert r["inputTokens"] == mm.COUNT_BASE + 3
    body = json.dumps(dict(ANTHROPIC_BODY, messages=[{"role": "user", "content": "one two three"}]))
    r = bedrock.count_tokens(modelId=ANTHROPIC_ALIAS, input={"invokeModel": {"body": body}})
    assert r["inputTokens"] >= mm.COUNT_BASE + 3


def test_media_bytes_reach_the_upstream(bedrock, mock):
    """boto3 sends `bytes` members base64-encoded; amux hands the same bytes on."""
    import base64

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
    pdf = b"%PDF-1.4 test document"
    content = [
        {"text": "Describe both."},
        {"image": {"format": "png", "source": {"bytes": png}}},
        {"document": {"format": "pdf", "name": "Report", "source": {"bytes": pdf}}},
    ]
    r = bedrock.converse(modelId=ANTHROPIC_ALIAS, messages=[{"role": "user", "content": content}])
    assert r["output"]["message"]["content"] == [{"text": mm.ANTHROPIC_TEXT}]
    (rec,) = upstream_calls(mock, "/v1/messages")
    blocks = rec["body"]["messages"][0]["content"]
    assert base64.b64decode(blocks[1]["source"]["data"]) == png and blocks[1]["source"]["media_type"] == "image/png"
    assert base64.b64decode(blocks[2]["source"]["data"]) == pdf and blocks[2]["title"] == "Report"


def test_reasoning_with_its_signature_round_trips(bedrock, mock):
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 2048}}
    msgs = [{"role": "user", "content": [{"text": "Hello"}]}]
    r = bedrock.converse(
        modelId=ANTHROPIC_ALIAS, messages=msgs, inferenceConfig={"maxTokens": 4096}, additionalModelRequestFields=thinking
    )
    content = r["output"]["message"]["content"]
    reasoning = content[0]["reasoningContent"]["reasoningText"]
    assert (reasoning["text"], reasoning["signature"]) == (mm.THINKING_TEXT, mm.THINKING_SIGNATURE)
    events = list(
        bedrock.converse_stream(
            modelId=ANTHROPIC_ALIAS, messages=msgs, inferenceConfig={"maxTokens": 4096}, additionalModelRequestFields=thinking
        )["stream"]
    )
    deltas = [e["contentBlockDelta"]["delta"] for e in events if "contentBlockDelta" in e]
    assert "".join(d["reasoningContent"].get("text", "") for d in deltas if "reasoningContent" in d) == mm.THINKING_TEXT
    assert [d["reasoningContent"]["signature"] for d in deltas if "signature" in d.get("reasoningContent", {})] == [
        mm.THINKING_SIGNATURE
    ]
    msgs += [{"role": "assistant", "content": content}, {"role": "user", "content": [{"text": "More"}]}]
    bedrock.converse(
        modelId=ANTHROPIC_ALIAS, messages=msgs, inferenceConfig={"maxTokens": 4096}, additionalModelRequestFields=thinking
    )
    last = upstream_calls(mock, "/v1/messages")[-1]["body"]
    sent = last["messages"][1]["content"][0]
    assert sent == {"type": "thinking", "thinking": mm.THINKING_TEXT, "signature": mm.THINKING_SIGNATURE}


@pytest.fixture(scope="module")
def tls_gateway(mock_server, tmp_path_factory):
    """amux serving HTTPS (tls: with the test certificates) with one key, for bearer callers."""
    import subprocess
    import time

    from conftest import amux_binary, config_yaml, free_port

    fixtures = HERE.parent / "fixtures" / "tls"
    work = tmp_path_factory.mktemp("amux-tls")
    key_hash = __import__("hashlib").sha256(b"amux-bedrock-key").hexdigest()
    config = work / "amux.yaml"
    config.write_text(
        config_yaml(mock_server.port)
        + f"keys:\n  - {{name: dev, key_sha256: {key_hash}}}\n"
        + f"tls: {{cert_file: '{fixtures / 'cert-a.pem'}', key_file: '{fixtures / 'key-a.pem'}'}}\n"
    )
    port = free_port()
    with open(work / "amux.log", "wb") as log:
        proc = subprocess.Popen(
            [str(amux_binary()), "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    import ssl
    import urllib.request

    ctx = ssl.create_default_context(cafile=str(fixtures / "ca.pem"))
    url = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/health/readiness", timeout=2, context=ctx) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, (work / "amux.log").read_text()
        time.sleep(0.05)
    yield url, fixtures / "ca.pem"
    proc.terminate()
    proc.wait(timeout=10)


def test_bearer_key_over_https(tls_gateway, mock, monkeypatch):
    """What AWS_BEARER_TOKEN_BEDROCK makes boto3 send (over HTTPS only): the amux key as a bearer."""
    url, ca = tls_gateway
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "amux-bedrock-key")
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=url + "/bedrock",
        region_name="us-east-1",
        verify=str(ca),
        config=Config(retries={"total_max_attempts": 1}, read_timeout=30),
    )
    msgs = [{"role": "user", "content": [{"text": "Hello"}]}]
    r = client.converse(modelId=ANTHROPIC_ALIAS, messages=msgs)
    assert r["output"]["message"]["content"] == [{"text": mm.ANTHROPIC_TEXT}]
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "wrong-key")
    wrong = boto3.client("bedrock-runtime", endpoint_url=url + "/bedrock", region_name="us-east-1", verify=str(ca))
    with pytest.raises(ClientError) as e:
        wrong.converse(modelId=ANTHROPIC_ALIAS, messages=msgs)
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
