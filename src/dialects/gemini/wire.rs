//! Shared Gemini wire helpers: field lookup under both spellings (the REST API accepts
//! `systemInstruction` and `system_instruction` alike), typed getters naming the field at fault,
//! finish reasons, usage, and generated tool-call ids.

use serde_json::{Map, Value, json};

use crate::ir::{ApiError, StopReason, Usage};

/// Name of this dialect in refusals.
pub const TARGET: &str = "Gemini generateContent";

/// `camelCase` -> `snake_case`.
pub fn snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `snake_case` -> `camelCase` (keys already in camelCase are unchanged).
pub fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The value of `key` (given in camelCase) under either spelling; `null` counts as absent.
pub fn get<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).or_else(|| o.get(&snake(key))).filter(|v| !v.is_null())
}

pub fn as_str<'a>(v: &'a Value, path: &str) -> Result<&'a str, ApiError> {
    v.as_str().ok_or_else(|| ApiError::invalid_field(path, "expected a string"))
}

pub fn as_f64(v: &Value, path: &str) -> Result<f64, ApiError> {
    v.as_f64().ok_or_else(|| ApiError::invalid_field(path, "expected a number"))
}

/// A non-negative integer; the SDKs send some integers as floats (`topK: 40.0`).
pub fn as_u64(v: &Value, path: &str) -> Result<u64, ApiError> {
    if let Some(n) = v.as_u64() {
        return Ok(n);
    }
    match v.as_f64() {
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 1e15 => Ok(f as u64),
        _ => Err(ApiError::invalid_field(path, "expected a non-negative integer")),
    }
}

pub fn as_bool(v: &Value, path: &str) -> Result<bool, ApiError> {
    v.as_bool().ok_or_else(|| ApiError::invalid_field(path, "expected a boolean"))
}

pub fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object().ok_or_else(|| ApiError::invalid_field(path, "expected an object"))
}

pub fn as_array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, ApiError> {
    v.as_array().ok_or_else(|| ApiError::invalid_field(path, "expected an array"))
}

/// What a candidate's `finishReason` means for the IR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Stop(StopReason),
    /// The upstream failed to produce a usable answer (e.g. `MALFORMED_FUNCTION_CALL`): a 502.
    Failed,
}

/// Maps a `finishReason`. `STOP` is reported as `EndTurn`; callers turn it into `ToolUse` when
/// the candidate has function calls (Gemini has no separate reason for them).
pub fn finish_reason(reason: &str) -> Finish {
    match reason {
        "MAX_TOKENS" => Finish::Stop(StopReason::MaxTokens),
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION"
        | "LANGUAGE"
        | "MODEL_ARMOR" => Finish::Stop(StopReason::ContentFilter),
        "MALFORMED_FUNCTION_CALL"
        | "UNEXPECTED_TOOL_CALL"
        | "TOO_MANY_TOOL_CALLS"
        | "MISSING_THOUGHT_SIGNATURE"
        | "MALFORMED_RESPONSE" => Finish::Failed,
        // STOP, OTHER, FINISH_REASON_UNSPECIFIED and reasons added later.
        _ => Finish::Stop(StopReason::EndTurn),
    }
}

/// IR stop reason -> `finishReason` for a Gemini caller.
pub fn finish_to_wire(stop: StopReason) -> &'static str {
    match stop {
        StopReason::EndTurn | StopReason::ToolUse | StopReason::StopSequence | StopReason::PauseTurn => "STOP",
        StopReason::MaxTokens | StopReason::ContextWindowExceeded => "MAX_TOKENS",
        StopReason::ContentFilter | StopReason::Refusal => "SAFETY",
    }
}

/// `usageMetadata` -> IR usage. `promptTokenCount` includes cached tokens; output is candidates
/// plus thoughts (Gemini counts thoughts apart from candidates).
pub fn usage_from_wire(v: &Value) -> Usage {
    let n = |k: &str| v.as_object().and_then(|o| get(o, k)).and_then(Value::as_u64).unwrap_or(0);
    let prompt = n("promptTokenCount") + n("toolUsePromptTokenCount");
    let cached = n("cachedContentTokenCount");
    let thoughts = n("thoughtsTokenCount");
    Usage {
        input_tokens: prompt.saturating_sub(cached),
        output_tokens: n("candidatesTokenCount") + thoughts,
        cache_read_tokens: cached,
        cache_write_tokens: 0,
        reasoning_tokens: thoughts,
    }
}

/// IR usage -> `usageMetadata`.
pub fn usage_to_wire(u: &Usage) -> Value {
    let prompt = u.total_input();
    let thoughts = u.reasoning_tokens.min(u.output_tokens);
    let candidates = u.output_tokens - thoughts;
    let mut m = Map::new();
    m.insert("promptTokenCount".into(), json!(prompt));
    m.insert("candidatesTokenCount".into(), json!(candidates));
    if thoughts > 0 {
        m.insert("thoughtsTokenCount".into(), json!(thoughts));
    }
    if u.cache_read_tokens > 0 {
        m.insert("cachedContentTokenCount".into(), json!(u.cache_read_tokens));
    }
    m.insert("totalTokenCount".into(), json!(prompt + u.output_tokens));
    Value::Object(m)
}

/// A fresh id for a function call that came without one (unique across turns).
pub fn generated_call_id() -> String {
    let tail: String = std::iter::repeat_with(fastrand::alphanumeric).take(24).collect();
    format!("call_{tail}")
}

/// The signature Google documents for history the model did not produce (other vendors' turns):
/// Gemini 3 answers 400 when the first `functionCall` of a model turn has no signature.
pub const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// Whether a MIME type is an image.
pub fn is_image(mime: &str) -> bool {
    mime.starts_with("image/")
}
