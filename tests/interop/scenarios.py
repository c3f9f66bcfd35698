"""SDK scenarios shared by the mock self-test and the gateway tests.

Each function drives one official SDK client through one exchange and asserts what the SDK got
(content, stop reason, usage, tool ids). The caller says which upstream answers (its text and the
usage the caller must see), so the same scenario runs against the mock directly, through amux on
the same-dialect path, and through amux on the cross-dialect path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import mock_model as mu
import pytest

WEATHER_QUESTION = "What is the weather in Paris and Tokyo?"
WEATHER_RESULTS = {"Paris": "Sunny, 22C", "Tokyo": "Rainy, 15C"}
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"location": {"type": "string", "description": "City name, e.g. Paris"}},
    "required": ["location"],
    "additionalProperties": False,
}
ANTHROPIC_WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": WEATHER_SCHEMA,
}
OPENAI_WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "parameters": WEATHER_SCHEMA,
        "strict": True,
    },
}


@dataclass(frozen=True)
class AnthropicExpect:
    """What an Anthropic-dialect caller must see: the upstream's text and usage in Anthropic terms."""

    text: str
    input_tokens: int
    output_tokens: int
    cache_read: int
    cache_write: int


@dataclass(frozen=True)
class OpenAIExpect:
    """What an OpenAI-dialect caller must see: the upstream's text and usage in OpenAI terms."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int


# The upstream answers as each caller must see them. OpenAI's prompt_tokens include cached
# tokens; Anthropic's input_tokens do not, and cache writes are reported apart.
ANTHROPIC_FROM_ANTHROPIC = AnthropicExpect(
    mu.ANTHROPIC_TEXT,
    mu.ANTHROPIC_USAGE["input_tokens"],
    mu.ANTHROPIC_USAGE["output_tokens"],
    mu.ANTHROPIC_USAGE["cache_read_input_tokens"],
    mu.ANTHROPIC_USAGE["cache_creation_input_tokens"],
)
ANTHROPIC_FROM_OPENAI = AnthropicExpect(
    mu.OPENAI_TEXT,
    mu.OPENAI_USAGE["prompt_tokens"] - mu.OPENAI_USAGE["cached_tokens"],
    mu.OPENAI_USAGE["completion_tokens"],
    mu.OPENAI_USAGE["cached_tokens"],
    0,
)
OPENAI_FROM_OPENAI = OpenAIExpect(
    mu.OPENAI_TEXT,
    mu.OPENAI_USAGE["prompt_tokens"],
    mu.OPENAI_USAGE["completion_tokens"],
    mu.OPENAI_USAGE["cached_tokens"],
)
OPENAI_FROM_ANTHROPIC = OpenAIExpect(
    mu.ANTHROPIC_TEXT,
    mu.ANTHROPIC_USAGE["input_tokens"]
    + mu.ANTHROPIC_USAGE["cache_read_input_tokens"]
    + mu.ANTHROPIC_USAGE["cache_creation_input_tokens"],
    mu.ANTHROPIC_USAGE["output_tokens"],
    mu.ANTHROPIC_USAGE["cache_read_input_tokens"],
)


# ---------------------------------------------------------------------------------------------
# Anthropic SDK.


def check_anthropic_usage(usage: Any, exp: AnthropicExpect) -> None:
    got = (
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_input_tokens or 0,
        usage.cache_creation_input_tokens or 0,
    )
    want = (exp.input_tokens, exp.output_tokens, exp.cache_read, exp.cache_write)
    assert got == want, f"usage (input, output, cache_read, cache_write): got {got}, want {want}"


def anthropic_create(client: Any, model: str, exp: AnthropicExpect, **extra: Any) -> Any:
    msg = client.messages.create(
        model=model,
        max_tokens=256,
        system="You are a terse assistant.",
        messages=[{"role": "user", "content": "Say hello."}],
        **extra,
    )
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.id
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == exp.text
    assert msg.stop_reason == "end_turn"
    assert msg.stop_sequence is None
    check_anthropic_usage(msg.usage, exp)
    return msg


def anthropic_stream(client: Any, model: str, exp: AnthropicExpect, **extra: Any) -> Any:
    with client.messages.stream(
        model=model,
        max_tokens=256,
        messages=[{"role": "user", "content": "Say hello."}],
        **extra,
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == exp.text
    assert len(pieces) > 1, "text arrived in one piece: the stream was not incremental"
    assert [b.type for b in final.content] == ["text"]
    assert final.content[0].text == exp.text
    assert final.stop_reason == "end_turn"
    check_anthropic_usage(final.usage, exp)
    return final


def anthropic_max_tokens(client: Any, model: str) -> Any:
    msg = client.messages.create(model=model, max_tokens=2, messages=[{"role": "user", "content": "Hi"}])
    assert msg.stop_reason == "max_tokens"
    return msg


def anthropic_midstream_error(client: Any, model: str, upstream_text: str) -> None:
    """The upstream breaks off after a few deltas: the SDK gets that text, then raises."""
    import anthropic

    got: list[str] = []
    with pytest.raises(anthropic.APIError) as e:
        with client.messages.stream(model=model, max_tokens=100, messages=[{"role": "user", "content": "Hi"}]) as s:
            for text in s.text_stream:
                got.append(text)
    assert "".join(got) == "".join(mu.words(upstream_text)[: mu.MIDSTREAM_DELTAS])
    assert not isinstance(e.value, anthropic.APIConnectionError), f"the stream was cut, not ended: {e.value!r}"


def _anthropic_turn(client: Any, stream: bool, **kwargs: Any) -> Any:
    if not stream:
        return client.messages.create(**kwargs)
    with client.messages.stream(**kwargs) as s:
        return s.get_final_message()


def anthropic_tool_round_trip(client: Any, model: str, exp: AnthropicExpect, stream: bool) -> tuple[Any, Any]:
    """Two parallel get_weather calls -> tool_result for each (one an error) -> final text."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": WEATHER_QUESTION}]
    first = _anthropic_turn(
        client, stream, model=model, max_tokens=512, tools=[ANTHROPIC_WEATHER_TOOL], messages=messages
    )
    assert first.stop_reason == "tool_use"
    calls = [b for b in first.content if b.type == "tool_use"]
    assert [c.name for c in calls] == ["get_weather", "get_weather"]
    assert [c.input for c in calls] == [{"location": "Paris"}, {"location": "Tokyo"}]
    ids = [c.id for c in calls]
    assert all(ids) and len(set(ids)) == 2, f"tool ids must be unique and non-empty: {ids}"
    check_anthropic_usage(first.usage, exp)

    messages.append(first.to_param())
    messages.append(
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": ids[0], "content": WEATHER_RESULTS["Paris"]},
                {
                    "type": "tool_result",
                    "tool_use_id": ids[1],
                    "content": [{"type": "text", "text": WEATHER_RESULTS["Tokyo"]}],
                },
            ],
        }
    )
    final = _anthropic_turn(
        client, stream, model=model, max_tokens=512, tools=[ANTHROPIC_WEATHER_TOOL], messages=messages
    )
    assert final.stop_reason == "end_turn"
    text = "".join(b.text for b in final.content if b.type == "text")
    assert text.startswith(mu.TOOL_RESULT_PREFIX), text
    assert f"[{ids[0]}] {WEATHER_RESULTS['Paris']}" in text, text
    assert f"[{ids[1]}] {WEATHER_RESULTS['Tokyo']}" in text, text
    return first, final


# ---------------------------------------------------------------------------------------------
# OpenAI SDK.


def check_openai_usage(usage: Any, exp: OpenAIExpect) -> None:
    assert usage is not None, "no usage"
    cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0
    got = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens, cached or 0)
    want = (exp.prompt_tokens, exp.completion_tokens, exp.prompt_tokens + exp.completion_tokens, exp.cached_tokens)
    assert got == want, f"usage (prompt, completion, total, cached): got {got}, want {want}"


def openai_create(client: Any, model: str, exp: OpenAIExpect, **extra: Any) -> Any:
    completion = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "Say hello."},
        ],
        **extra,
    )
    assert completion.object == "chat.completion"
    assert completion.id
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.message.content == exp.text
    assert not choice.message.tool_calls
    assert choice.finish_reason == "stop"
    check_openai_usage(completion.usage, exp)
    return completion


def openai_stream_helper(client: Any, model: str, exp: OpenAIExpect) -> Any:
    deltas: list[str] = []
    with client.chat.completions.stream(
        model=model,
        messages=[{"role": "user", "content": "Say hello."}],
        stream_options={"include_usage": True},
    ) as stream:
        for event in stream:
            if event.type == "content.delta":
                deltas.append(event.delta)
        final = stream.get_final_completion()
    assert "".join(deltas) == exp.text
    assert len(deltas) > 1, "text arrived in one piece: the stream was not incremental"
    assert final.choices[0].message.content == exp.text
    assert final.choices[0].finish_reason == "stop"
    check_openai_usage(final.usage, exp)
    return final


def openai_stream_raw(client: Any, model: str, exp: OpenAIExpect) -> list[Any]:
    chunks = list(
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Say hello."}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks, "no chunks"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1, "chunk ids differ"
    *body, last = chunks
    assert last.choices == [], "the include_usage chunk must have empty choices"
    check_openai_usage(last.usage, exp)
    assert all(c.usage is None for c in body), "only the final chunk carries usage"
    text = "".join(c.choices[0].delta.content or "" for c in body if c.choices)
    assert text == exp.text
    finishes = [c.choices[0].finish_reason for c in body if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert body[0].choices[0].delta.role == "assistant"
    return chunks


def openai_max_tokens(client: Any, model: str) -> Any:
    completion = client.chat.completions.create(model=model, max_tokens=2, messages=[{"role": "user", "content": "Hi"}])
    assert completion.choices[0].finish_reason == "length"
    return completion


def openai_midstream_error(client: Any, model: str, upstream_text: str) -> None:
    """The upstream breaks off after a few deltas: the SDK gets that text, then raises."""
    import openai

    got: list[str] = []
    with pytest.raises(openai.APIError) as e:
        for chunk in client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Hi"}], stream=True
        ):
            if chunk.choices and chunk.choices[0].delta.content:
                got.append(chunk.choices[0].delta.content)
    assert "".join(got) == "".join(mu.words(upstream_text)[: mu.MIDSTREAM_DELTAS])
    assert not isinstance(e.value, openai.APIConnectionError), f"the stream was cut, not ended: {e.value!r}"


def _openai_turn(client: Any, stream: bool, **kwargs: Any) -> Any:
    if not stream:
        return client.chat.completions.create(**kwargs)
    with client.chat.completions.stream(stream_options={"include_usage": True}, **kwargs) as s:
        return s.get_final_completion()


def openai_tool_round_trip(client: Any, model: str, exp: OpenAIExpect, stream: bool) -> tuple[Any, Any]:
    """Two parallel get_weather calls -> a tool message for each -> final text."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": WEATHER_QUESTION}]
    first = _openai_turn(client, stream, model=model, tools=[OPENAI_WEATHER_TOOL], messages=messages)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [c.type for c in calls] == ["function", "function"]
    assert [c.function.name for c in calls] == ["get_weather", "get_weather"]
    assert [json.loads(c.function.arguments) for c in calls] == [{"location": "Paris"}, {"location": "Tokyo"}]
    ids = [c.id for c in calls]
    assert all(ids) and len(set(ids)) == 2, f"tool ids must be unique and non-empty: {ids}"
    check_openai_usage(first.usage, exp)

    messages.append(
        {
            "role": "assistant",
            "content": choice.message.content,
            "tool_calls": [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.function.name, "arguments": c.function.arguments},
                }
                for c in calls
            ],
        }
    )
    messages.append({"role": "tool", "tool_call_id": ids[0], "content": WEATHER_RESULTS["Paris"]})
    messages.append(
        {"role": "tool", "tool_call_id": ids[1], "content": [{"type": "text", "text": WEATHER_RESULTS["Tokyo"]}]}
    )
    final = _openai_turn(client, stream, model=model, tools=[OPENAI_WEATHER_TOOL], messages=messages)
    assert final.choices[0].finish_reason == "stop"
    text = final.choices[0].message.content
    assert text.startswith(mu.TOOL_RESULT_PREFIX), text
    assert f"[{ids[0]}] {WEATHER_RESULTS['Paris']}" in text, text
    assert f"[{ids[1]}] {WEATHER_RESULTS['Tokyo']}" in text, text
    return first, final
