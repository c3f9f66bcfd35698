//! Shared Converse wire helpers: typed getters naming the field at fault, stop reasons, usage,
//! image formats, and base64 for `bytes` members (JSON carries blobs as base64 text).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::ir::{ApiError, StopReason, Usage};

/// Name of this dialect in refusals.
pub const TARGET: &str = "Bedrock Converse";

pub fn as_str<'a>(v: &'a Value, path: &str) -> Result<&'a str, ApiError> {
    v.as_str().ok_or_else(|| ApiError::invalid_field(path, "expected a string"))
}

pub fn as_f64(v: &Value, path: &str) -> Result<f64, ApiError> {
    v.as_f64().ok_or_else(|| ApiError::invalid_field(path, "expected a number"))
}

pub fn as_u64(v: &Value, path: &str) -> Result<u64, ApiError> {
    v.as_u64().ok_or_else(|| ApiError::invalid_field(path, "expected a non-negative integer"))
}

pub fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object().ok_or_else(|| ApiError::invalid_field(path, "expected an object"))
}

pub fn as_array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, ApiError> {
    v.as_array().ok_or_else(|| ApiError::invalid_field(path, "expected an array"))
}

/// A required string member.
pub fn req_str<'a>(o: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a str, ApiError> {
    as_str(o.get(key).unwrap_or(&Value::Null), &format!("{path}.{key}"))
}

/// A union member (`{"text": ...}`, `{"toolUse": {...}}`): its one non-null key and value.
pub fn union<'a>(v: &'a Value, path: &str) -> Result<(&'a str, &'a Value), ApiError> {
    let o = as_object(v, path)?;
    let mut set = o.iter().filter(|(_, v)| !v.is_null());
    match (set.next(), set.next()) {
        (Some((k, v)), None) => Ok((k.as_str(), v)),
        (None, _) => Err(ApiError::invalid_field(path, "expected exactly one member, found none")),
        (Some(_), Some(_)) => Err(ApiError::invalid_field(path, "expected exactly one member, found several")),
    }
}

/// Converse `stopReason` -> IR. Unknown values give `None`.
pub fn stop_from_wire(s: &str) -> Option<StopReason> {
    Some(match s {
        "end_turn" => StopReason::EndTurn,
        "tool_use" => StopReason::ToolUse,
        "max_tokens" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "guardrail_intervened" | "content_filtered" => StopReason::ContentFilter,
        "model_context_window_exceeded" => StopReason::ContextWindowExceeded,
        _ => return None,
    })
}

/// IR stop reason -> Converse `stopReason`.
pub fn stop_to_wire(s: StopReason) -> &'static str {
    match s {
        StopReason::EndTurn | StopReason::PauseTurn => "end_turn",
        StopReason::ToolUse => "tool_use",
        StopReason::MaxTokens => "max_tokens",
        StopReason::StopSequence => "stop_sequence",
        StopReason::ContentFilter | StopReason::Refusal => "content_filtered",
        StopReason::ContextWindowExceeded => "model_context_window_exceeded",
    }
}

/// `usage` -> IR. Bedrock counts like Anthropic: `inputTokens` excludes cache reads and writes.
pub fn usage_from_wire(v: &Value) -> Usage {
    let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    Usage {
        input_tokens: n("inputTokens"),
        output_tokens: n("outputTokens"),
        cache_read_tokens: n("cacheReadInputTokens"),
        cache_write_tokens: n("cacheWriteInputTokens"),
        reasoning_tokens: 0,
    }
}

/// IR usage -> `usage` (cache members only when non-zero, as Bedrock sends them).
pub fn usage_to_wire(u: &Usage) -> Value {
    let mut m = Map::new();
    m.insert("inputTokens".into(), json!(u.input_tokens));
    m.insert("outputTokens".into(), json!(u.output_tokens));
    m.insert("totalTokens".into(), json!(u.total_input() + u.output_tokens));
    if u.cache_read_tokens > 0 {
        m.insert("cacheReadInputTokens".into(), json!(u.cache_read_tokens));
    }
    if u.cache_write_tokens > 0 {
        m.insert("cacheWriteInputTokens".into(), json!(u.cache_write_tokens));
    }
    Value::Object(m)
}

/// Image `format` -> media type.
pub fn image_mime(format: &str) -> Option<&'static str> {
    Some(match format {
        "png" => "image/png",
        "jpeg" | "jpg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => return None,
    })
}

/// Media type -> image `format`.
pub fn image_format(mime: &str) -> Option<&'static str> {
    Some(match mime {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => return None,
    })
}

/// Decodes a `bytes` member.
pub fn unbase64(s: &str, path: &str) -> Result<Vec<u8>, ApiError> {
    STANDARD.decode(s.trim()).map_err(|e| ApiError::invalid_field(path, format!("not valid base64: {e}")))
}

pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// True for ids of Anthropic models on Bedrock (foundation models, inference profiles, ARNs).
pub fn is_claude(model: &str) -> bool {
    model.contains("anthropic.") || model.contains("claude")
}

/// True for Amazon Nova models.
pub fn is_nova(model: &str) -> bool {
    model.contains("amazon.nova")
}

/// True for OpenAI's open-weight models on Bedrock.
pub fn is_gpt_oss(model: &str) -> bool {
    model.contains("openai.gpt-oss")
}
