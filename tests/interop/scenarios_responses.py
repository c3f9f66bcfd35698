"""OpenAI Responses scenarios (openai SDK `client.responses`), shared by the mock self-test and the
gateway tests: create, stream (with the event lifecycle Codex relies on), a stateless tool round
trip (the whole conversation resent, as Codex does with `store: false`) and input token counts.
"""

from __future__ import annotations

import json
from typing import Any

import mock_model as mu
from expect import ResponsesExpect
from scenarios import WEATHER_QUESTION, WEATHER_RESULTS, WEATHER_SCHEMA

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "parameters": WEATHER_SCHEMA,
    "strict": True,
}
INSTRUCTIONS = "You are a terse assistant."
# The mock's token count for INSTRUCTIONS + "Say hello." (see mock_model.text_token_count).
HELLO_COUNT = mu.text_token_count([INSTRUCTIONS, "Say hello."])


def check_usage(usage: Any, exp: ResponsesExpect) -> None:
    assert usage is not None, "no usage"
    got = (usage.input_tokens, usage.output_tokens, usage.total_tokens, usage.input_tokens_details.cached_tokens)
    want = (exp.input_tokens, exp.output_tokens, exp.input_tokens + exp.output_tokens, exp.cached_tokens)
    assert got == want, f"usage (input, output, total, cached): got {got}, want {want}"


def create(client: Any, model: str, exp: ResponsesExpect, **extra: Any) -> Any:
    resp = client.responses.create(model=model, instructions=INSTRUCTIONS, input="Say hello.", store=False, **extra)
    assert resp.object == "response" and resp.id
    assert resp.status == "completed"
    assert [o.type for o in resp.output] == ["message"]
    assert resp.output[0].role == "assistant"
    assert resp.output_text == exp.text
    check_usage(resp.usage, exp)
    return resp


def check_lifecycle(events: list[Any]) -> None:
    """The order of fidelity.md: created, in_progress, every item added before its deltas, parts
    added before their deltas, done events, completed last; sequence numbers 0..n."""
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"], types
    assert types[-1] == "response.completed", types
    assert [e.sequence_number for e in events] == list(range(len(events))), "sequence numbers are not 0..n"
    added: set[int] = set()
    parts: set[tuple[int, int]] = set()
    done: set[int] = set()
    for e in events:
        idx = getattr(e, "output_index", None)
        if e.type == "response.output_item.added":
            assert idx not in added, f"item {idx} added twice"
            added.add(idx)
        elif e.type == "response.content_part.added":
            assert idx in added, f"part of item {idx} before the item"
            parts.add((idx, e.content_index))
        elif e.type in ("response.output_text.delta", "response.output_text.done"):
            assert (idx, e.content_index) in parts, f"{e.type} of item {idx} before its content part"
        elif e.type.startswith(("response.function_call_arguments.", "response.reasoning_summary")):
            assert idx in added, f"{e.type} of item {idx} before the item"
        elif e.type == "response.output_item.done":
            assert idx in added and idx not in done, f"item {idx} done without being added, or twice"
            done.add(idx)
    assert added == done, f"items added {sorted(added)} but done {sorted(done)}"
    assert added == set(range(len(added))), f"output indices are not 0..n: {sorted(added)}"


def stream(client: Any, model: str, exp: ResponsesExpect) -> Any:
    with client.responses.stream(
        model=model, instructions=INSTRUCTIONS, input=[{"role": "user", "content": "Say hello."}], store=False
    ) as s:
        events = list(s)
        final = s.get_final_response()
    check_lifecycle(events)
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == exp.text
    assert len(deltas) > 1, "text arrived in one piece: the stream was not incremental"
    assert final.status == "completed"
    assert final.output_text == exp.text
    check_usage(final.usage, exp)
    completed = events[-1].response
    check_usage(completed.usage, exp)
    return final


def _turn(client: Any, stream: bool, **kwargs: Any) -> Any:
    if not stream:
        return client.responses.create(**kwargs)
    with client.responses.stream(**kwargs) as s:
        events = list(s)
        final = s.get_final_response()
    check_lifecycle(events)
    return final


def tool_round_trip(client: Any, model: str, exp: ResponsesExpect, stream: bool) -> tuple[Any, Any]:
    """Two parallel get_weather calls -> a function_call_output for each -> final text."""
    items: list[dict[str, Any]] = [{"role": "user", "content": WEATHER_QUESTION}]
    common = {"model": model, "tools": [WEATHER_TOOL], "store": False}
    first = _turn(client, stream, input=items, **common)
    calls = [o for o in first.output if o.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather", "get_weather"], first.output
    assert [json.loads(c.arguments) for c in calls] == [{"location": "Paris"}, {"location": "Tokyo"}]
    ids = [c.call_id for c in calls]
    assert all(ids) and len(set(ids)) == 2, f"call ids must be unique and non-empty: {ids}"
    check_usage(first.usage, exp)

    # Stateless: resend everything, the model's items included (as Codex does with store: false).
    # The SDK's parsed stream items carry `parsed_arguments`, an SDK-side field the API refuses.
    items += [o.model_dump(exclude_none=True, exclude={"parsed_arguments"}) for o in first.output]
    items.append({"type": "function_call_output", "call_id": ids[0], "output": WEATHER_RESULTS["Paris"]})
    items.append(
        {
            "type": "function_call_output",
            "call_id": ids[1],
            "output": [{"type": "input_text", "text": WEATHER_RESULTS["Tokyo"]}],
        }
    )
    final = _turn(client, stream, input=items, **common)
    assert final.status == "completed"
    text = final.output_text
    assert text.startswith(mu.TOOL_RESULT_PREFIX), text
    for result in WEATHER_RESULTS.values():
        assert result in text, text
    return first, final


def input_tokens(client: Any, model: str, want: int) -> Any:
    got = client.responses.input_tokens.count(model=model, instructions=INSTRUCTIONS, input="Say hello.")
    assert got.object == "response.input_tokens"
    assert got.input_tokens == want, f"input_tokens: got {got.input_tokens}, want {want}"
    return got
