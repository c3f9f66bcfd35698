"""Gemini scenarios (google-genai `client.models`), shared by the mock self-test and the gateway
tests: generate_content, generate_content_stream, a tool round trip that sends the model's turn
back as it came (thought signature included, as Gemini CLI does) and count_tokens.
"""

from __future__ import annotations

from typing import Any

import mock_model as mu
from expect import GeminiExpect
from google import genai
from google.genai import types
from scenarios import WEATHER_QUESTION, WEATHER_RESULTS, WEATHER_SCHEMA

INSTRUCTIONS = "You are a terse assistant."
WEATHER_TOOL = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            description="Get the current weather in a given location",
            parameters_json_schema=WEATHER_SCHEMA,
        )
    ]
)
# The mock's token count for "Say hello." (the SDK sends only contents to the Gemini API counter).
HELLO_COUNT = mu.text_token_count(["Say hello."])


def client(base_url: str, api_key: str) -> genai.Client:
    return genai.Client(
        api_key=api_key,
        http_options=types.HttpOptions(
            base_url=base_url,
            api_version="v1beta",
            timeout=30_000,
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )


def check_usage(usage: Any, exp: GeminiExpect) -> None:
    assert usage is not None, "no usageMetadata"
    got = (
        usage.prompt_token_count,
        (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0),
        usage.total_token_count,
        usage.cached_content_token_count or 0,
    )
    want = (exp.prompt_tokens, exp.candidates_tokens, exp.prompt_tokens + exp.candidates_tokens, exp.cached_tokens)
    assert got == want, f"usage (prompt, candidates+thoughts, total, cached): got {got}, want {want}"


def create(c: genai.Client, model: str, exp: GeminiExpect) -> Any:
    resp = c.models.generate_content(
        model=model, contents="Say hello.", config=types.GenerateContentConfig(system_instruction=INSTRUCTIONS)
    )
    assert len(resp.candidates) == 1
    cand = resp.candidates[0]
    assert cand.content.role == "model"
    assert cand.finish_reason == types.FinishReason.STOP
    assert resp.text == exp.text
    assert not resp.function_calls
    check_usage(resp.usage_metadata, exp)
    return resp


def stream(c: genai.Client, model: str, exp: GeminiExpect) -> list[Any]:
    chunks = list(
        c.models.generate_content_stream(
            model=model, contents="Say hello.", config=types.GenerateContentConfig(system_instruction=INSTRUCTIONS)
        )
    )
    pieces = [ch.text for ch in chunks if ch.text]
    assert "".join(pieces) == exp.text
    assert len(pieces) > 1, "text arrived in one piece: the stream was not incremental"
    finishes = [ch.candidates[0].finish_reason for ch in chunks if ch.candidates and ch.candidates[0].finish_reason]
    assert finishes == [types.FinishReason.STOP], finishes
    check_usage(chunks[-1].usage_metadata, exp)
    return chunks


def _turn(c: genai.Client, stream: bool, model: str, contents: list[Any]) -> tuple[types.Content, Any, Any]:
    """One turn: the model's content (all parts, as a client keeps it), its function calls, usage."""
    config = types.GenerateContentConfig(tools=[WEATHER_TOOL])
    if not stream:
        resp = c.models.generate_content(model=model, contents=contents, config=config)
        return resp.candidates[0].content, resp.function_calls or [], resp.usage_metadata
    chunks = list(c.models.generate_content_stream(model=model, contents=contents, config=config))
    contents = [ch.candidates[0].content for ch in chunks if ch.candidates and ch.candidates[0].content]
    parts = [p for content in contents for p in content.parts or []]
    calls = [p.function_call for p in parts if p.function_call]
    return types.Content(role="model", parts=parts), calls, chunks[-1].usage_metadata


def tool_round_trip(c: genai.Client, model: str, exp: GeminiExpect, stream: bool) -> tuple[Any, str]:
    """Two parallel get_weather calls -> a functionResponse for each -> final text."""
    contents: list[Any] = [types.Content(role="user", parts=[types.Part(text=WEATHER_QUESTION)])]
    model_turn, calls, usage = _turn(c, stream, model, contents)
    assert [fc.name for fc in calls] == ["get_weather", "get_weather"], model_turn
    assert [fc.args for fc in calls] == [{"location": "Paris"}, {"location": "Tokyo"}]
    check_usage(usage, exp)
    contents.append(model_turn)
    results = [WEATHER_RESULTS["Paris"], WEATHER_RESULTS["Tokyo"]]
    contents.append(
        types.Content(
            role="user",
            parts=[
                types.Part(function_response=types.FunctionResponse(id=fc.id, name=fc.name, response={"output": r}))
                for fc, r in zip(calls, results)
            ],
        )
    )
    final_turn, final_calls, _ = _turn(c, stream, model, contents)
    assert not final_calls
    text = "".join(p.text or "" for p in final_turn.parts or [] if not p.thought)
    assert text.startswith(mu.TOOL_RESULT_PREFIX), text
    for r in results:
        assert r in text, text
    return model_turn, text


def count_tokens(c: genai.Client, model: str, want: int) -> Any:
    got = c.models.count_tokens(model=model, contents="Say hello.")
    assert got.total_tokens == want, f"totalTokens: got {got.total_tokens}, want {want}"
    return got
