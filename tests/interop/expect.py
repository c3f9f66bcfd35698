"""What a caller of each dialect must see when each mock upstream answers: its text and its usage.

Every upstream's fixed usage is first put in one neutral form (uncached input, cache reads, cache
writes, output with reasoning included), then spelled the way each caller dialect reports it:
OpenAI (Chat and Responses) and Gemini count cached tokens inside the prompt total, Anthropic
reports uncached input and the cache apart; Gemini reports candidates without the thoughts.
"""

from __future__ import annotations

from dataclasses import dataclass

import mock_model as mu


@dataclass(frozen=True)
class Neutral:
    text: str
    input: int  # neither read from nor written to the cache
    cache_read: int
    cache_write: int
    output: int  # reasoning included

    @property
    def prompt(self) -> int:
        return self.input + self.cache_read + self.cache_write


UPSTREAM = {
    "anthropic": Neutral(
        mu.ANTHROPIC_TEXT,
        mu.ANTHROPIC_USAGE["input_tokens"],
        mu.ANTHROPIC_USAGE["cache_read_input_tokens"],
        mu.ANTHROPIC_USAGE["cache_creation_input_tokens"],
        mu.ANTHROPIC_USAGE["output_tokens"],
    ),
    "openai": Neutral(
        mu.OPENAI_TEXT,
        mu.OPENAI_USAGE["prompt_tokens"] - mu.OPENAI_USAGE["cached_tokens"],
        mu.OPENAI_USAGE["cached_tokens"],
        0,
        mu.OPENAI_USAGE["completion_tokens"],
    ),
    "responses": Neutral(
        mu.RESPONSES_TEXT,
        mu.RESPONSES_USAGE["input_tokens"] - mu.RESPONSES_USAGE["cached_tokens"],
        mu.RESPONSES_USAGE["cached_tokens"],
        0,
        mu.RESPONSES_USAGE["output_tokens"],
    ),
    "gemini": Neutral(
        mu.GEMINI_TEXT,
        mu.GEMINI_USAGE["prompt_tokens"] - mu.GEMINI_USAGE["cached_tokens"],
        mu.GEMINI_USAGE["cached_tokens"],
        0,
        mu.GEMINI_USAGE["candidates_tokens"],
    ),
}


@dataclass(frozen=True)
class ResponsesExpect:
    """A Responses caller: input_tokens with cached inside, output_tokens with reasoning inside."""

    text: str
    input_tokens: int
    output_tokens: int
    cached_tokens: int


@dataclass(frozen=True)
class GeminiExpect:
    """A Gemini caller: promptTokenCount with cached inside; candidates without thoughts."""

    text: str
    prompt_tokens: int
    candidates_tokens: int
    cached_tokens: int


def responses_from(upstream: str) -> ResponsesExpect:
    u = UPSTREAM[upstream]
    return ResponsesExpect(u.text, u.prompt, u.output, u.cache_read)


def gemini_from(upstream: str) -> GeminiExpect:
    u = UPSTREAM[upstream]
    return GeminiExpect(u.text, u.prompt, u.output, u.cache_read)
