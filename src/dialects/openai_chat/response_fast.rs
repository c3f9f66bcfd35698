//! A `chat.completion` an upstream answers, read into its wire form ([`Completion`]) in one pass
//! with [`Reader`] instead of serde's derived code, which dispatches every member by name and
//! steps over the ones amux ignores (`object`, `created`, `logprobs`, `annotations`, ...) through
//! `IgnoredAny`: about a tenth of a translated JSON call's instructions.
//!
//! It only answers where it is sure: a member of the wrong type, a repeated member or a number
//! that is not a plain `u64` gives `None`, and the derived code reads the body, which gives the
//! exact answer or error. Refusing is only slower.

use serde_json::Value;

use super::wire::{Choice, ChoiceMessage, Completion, CompletionDetails, PromptDetails, WireUsage};
use super::wire_stream::StreamToolCall;
use crate::jsonscan::Reader;

/// `text` as the derived code reads it, or `None` where it must.
pub(super) fn read(text: &str) -> Option<Completion> {
    let mut r = Reader::new(text);
    let mut c = Completion::default();
    r.fields(["id", "model", "choices", "usage"], |r, i| {
        match i {
            0 => c.id = r.opt_string()?,
            1 => c.model = r.opt_string()?,
            2 => c.choices = r.list(choice)?,
            _ => c.usage = r.opt(usage)?,
        }
        Some(())
    })?;
    r.end()?;
    Some(c)
}

fn choice(r: &mut Reader<'_>) -> Option<Choice> {
    let mut c = Choice::default();
    r.fields(["index", "message", "finish_reason"], |r, i| {
        match i {
            0 => c.index = r.opt_u64()?,
            1 => c.message = r.opt(message)?,
            _ => c.finish_reason = r.opt_string()?,
        }
        Some(())
    })?;
    Some(c)
}

fn message(r: &mut Reader<'_>) -> Option<ChoiceMessage> {
    let mut m = ChoiceMessage::default();
    r.fields(["content", "refusal", "reasoning_content", "reasoning", "tool_calls"], |r, i| {
        match i {
            // A string by hand; parts (some servers) as a `Value`, as the derived code has them.
            0 if r.peek() == Some(b'"') => m.content = Some(Value::String(r.str()?.into_owned())),
            0 => m.content = r.de()?,
            1 => m.refusal = r.opt_string()?,
            2 => m.reasoning_content = r.opt_string()?,
            3 => m.reasoning = r.opt_string()?,
            _ => m.tool_calls = r.opt(|r| r.list(|r| StreamToolCall::read(r).map(StreamToolCall::into_owned)))?,
        }
        Some(())
    })?;
    Some(m)
}

fn usage(r: &mut Reader<'_>) -> Option<WireUsage> {
    let mut u = WireUsage::default();
    let names = [
        "prompt_tokens",
        "completion_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
        "prompt_cache_hit_tokens",
    ];
    r.fields(names, |r, i| {
        match i {
            0 => u.prompt_tokens = r.opt_u64()?,
            1 => u.completion_tokens = r.opt_u64()?,
            2 => u.prompt_tokens_details = r.opt(prompt_details)?,
            3 => u.completion_tokens_details = r.opt(completion_details)?,
            _ => u.prompt_cache_hit_tokens = r.opt_u64()?,
        }
        Some(())
    })?;
    Some(u)
}

fn prompt_details(r: &mut Reader<'_>) -> Option<PromptDetails> {
    let [cached_tokens, cache_write_tokens] = r.each(["cached_tokens", "cache_write_tokens"], Reader::opt_u64)?;
    Some(PromptDetails { cached_tokens, cache_write_tokens })
}

fn completion_details(r: &mut Reader<'_>) -> Option<CompletionDetails> {
    let [reasoning_tokens] = r.each(["reasoning_tokens"], Reader::opt_u64)?;
    Some(CompletionDetails { reasoning_tokens })
}
