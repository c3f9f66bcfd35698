"""The mock's OpenAI Responses dialect: the official SDK, pointed straight at it, accepts it.

If these fail, the gateway tests prove nothing; fix the mock first.
"""

from __future__ import annotations

import mock_upstream as mu
import openai
import pytest
import scenarios_responses as sr
from expect import responses_from

EXP = responses_from("responses")


@pytest.fixture
def direct(mock):
    return openai.OpenAI(base_url=mock.url + "/v1", api_key=mu.API_KEY, max_retries=0, timeout=10.0)


def test_create(direct, mock):
    sr.create(direct, "mock-gpt", EXP)
    (rec,) = mock.recorded()
    assert rec["path"] == "/v1/responses"
    assert rec["headers"]["authorization"] == f"Bearer {mu.API_KEY}"
    assert rec["body"]["store"] is False


def test_stream(direct):
    sr.stream(direct, "mock-gpt", EXP)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tool_round_trip(direct, stream):
    sr.tool_round_trip(direct, "mock-gpt", EXP, stream)


def test_reasoning_stream_carries_encrypted_content(direct):
    with direct.responses.stream(
        model="mock-gpt",
        input="Think, then say hello.",
        reasoning={"effort": "low", "summary": "auto"},
        include=["reasoning.encrypted_content"],
        store=False,
    ) as s:
        events = list(s)
        final = s.get_final_response()
    sr.check_lifecycle(events)
    assert [o.type for o in final.output] == ["reasoning", "message"]
    assert final.output[0].summary[0].text == mu.THINKING_TEXT
    assert final.output[0].encrypted_content == mu.m.ENCRYPTED_REASONING
    assert final.usage.output_tokens_details.reasoning_tokens == mu.m.REASONING_TOKENS
    assert "response.reasoning_summary_text.delta" in {e.type for e in events}


def test_input_tokens(direct, mock):
    sr.input_tokens(direct, "mock-gpt", sr.HELLO_COUNT)
    (rec,) = mock.recorded()
    assert rec["path"] == "/v1/responses/input_tokens"


def test_max_output_tokens_is_incomplete(direct):
    resp = direct.responses.create(model="mock-gpt", input="Hi", max_output_tokens=2)
    assert resp.status == "incomplete"
    assert resp.incomplete_details.reason == "max_output_tokens"


def test_errors(direct, mock):
    with pytest.raises(openai.NotFoundError) as e:
        direct.responses.create(model="does-not-exist", input="Hi")
    assert e.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as e:
        direct.responses.create(model="mock-gpt", input="Hi", previous_response_id="resp_unknown")
    assert e.value.code == "previous_response_not_found"
    with pytest.raises(openai.BadRequestError, match="No tool call found"):
        direct.responses.create(
            model="mock-gpt", input=[{"type": "function_call_output", "call_id": "call_x", "output": "?"}]
        )
    with pytest.raises(openai.BadRequestError, match="No tool output found"):
        direct.responses.create(
            model="mock-gpt",
            input=[
                {"role": "user", "content": "Hi"},
                {"type": "function_call", "call_id": "call_y", "name": "f", "arguments": "{}"},
            ],
        )
    with pytest.raises(openai.BadRequestError) as e:
        direct.responses.create(model=mu.m.CONTEXT_OVERFLOW_MODEL, input="Hi")
    assert e.value.code == "context_length_exceeded"
    bad_key = openai.OpenAI(base_url=mock.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_key.responses.create(model="mock-gpt", input="Hi")


def test_midstream_error(direct):
    """The API's in-stream failure is an `error` event (the SDK yields it; it raises nothing)."""
    with direct.responses.stream(model=mu.m.MIDSTREAM_ERROR_MODEL, input="Hi") as s:
        events = list(s)
    got = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(got) == "".join(mu.m.words(mu.RESPONSES_TEXT)[: mu.m.MIDSTREAM_DELTAS])
    assert events[-1].type == "error" and events[-1].code == "server_error"
