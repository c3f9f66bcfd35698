"""Gateway bugs these tests found and the lead has not fixed yet.

A test that hits one marks itself xfail(strict) with ``expect(request, NAME)``: it keeps running,
the suite stays green, and the day the bug is fixed the test XPASSes, fails, and says to delete
the entry here.
"""

from __future__ import annotations

import pytest

KNOWN = {
    # Found by the strict mocks (mock_schema.py: the fields the official SDKs' request types have).
    "sampling_to_anthropic": (
        "a Gemini caller's generationConfig.topP/temperature/topK reach the Anthropic upstream as "
        "top_p/temperature/top_k; the Anthropic API (anthropic 2.10.0 MessageCreateParams) has none "
        "of them: 400 'top_p: Extra inputs are not permitted'"
    ),
    "eager_input_streaming": (
        "an Anthropic caller's tools[].eager_input_streaming (a streaming hint; Pi sends it) is refused "
        "towards Chat, Responses and Gemini upstreams instead of dropped"
    ),
    "message_name": (
        "a Chat caller's messages[].name (Hermes puts it on tool messages) is refused towards "
        "non-Chat upstreams instead of dropped"
    ),
    "tool_choice_validated": (
        "Copilot CLI (Chat) sends tool_choice \"validated\" (the value of Gemini's OpenAI-compatible "
        "endpoint) when the model name contains 'gemini'; amux's Chat decoder refuses it: "
        "'tool_choice: unknown value \"validated\"' (Gemini: functionCallingConfig.mode VALIDATED; "
        "elsewhere: auto)"
    ),
    "thinking_display": (
        "an Anthropic caller's thinking.display (Copilot CLI sends it) is refused towards Gemini "
        "('thinking.display: not supported when translating to Gemini generateContent'), though it "
        "is dropped towards Chat and Responses"
    ),
    "top_k_to_openai": (
        "a Gemini caller's generationConfig.topK reaches OpenAI Chat/Responses upstreams as top_k: "
        "400 'Unrecognized request argument supplied: top_k' / \"Unknown parameter: 'top_k'.\""
    ),
}


# How each bug shows in a refusal (an upstream mock's or amux's message), for test_agents.py.
SIGNATURES = {
    "sampling_to_anthropic": r"(temperature|top_p|top_k): Extra inputs are not permitted",
    "top_k_to_openai": r"(argument supplied: top_k|Unknown parameter: 'top_k')",
    "eager_input_streaming": r"eager_input_streaming: not supported when translating",
    "message_name": r"messages\[\d+\]\.name: not supported when translating",
    "tool_choice_validated": r"tool_choice: unknown value",
    "thinking_display": r"thinking\.display: not supported when translating",
}


def expect(request: pytest.FixtureRequest, name: str) -> None:
    """Mark the running test as hitting the known bug NAME (strict: a fix makes it fail)."""
    reason = KNOWN.get(name)
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"gateway bug {name}: {reason}"))
