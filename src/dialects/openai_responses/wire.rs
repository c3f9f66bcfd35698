//! Helpers shared by the Responses codec: usage both ways, data URLs, ids, the custom-tool
//! schema, and small JSON accessors that name the field at fault.

use serde_json::{Map, Value, json};

use crate::ir::{ApiError, ErrorKind, Usage};

/// Name used in refusals (`ApiError::unsupported`).
pub const TARGET: &str = "OpenAI Responses";

/// The function schema a Responses `custom` tool (free-form text input) is carried as.
pub fn custom_tool_schema() -> Value {
    json!({"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]})
}

/// The free-form text of a custom tool call carried as `{"input": "..."}`; any other shape is
/// passed as its JSON text.
pub fn custom_input_text(input: &Value) -> String {
    match input.get("input") {
        Some(Value::String(s)) => s.clone(),
        _ => crate::dialects::json_text(input),
    }
}

/// Responses `usage` -> IR usage. `input_tokens` includes cached (and cache-written) tokens; the
/// IR's `input_tokens` does not.
pub fn usage_from(v: &Value) -> Usage {
    let n = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    let details = v.get("input_tokens_details");
    let cached = n(details.and_then(|d| d.get("cached_tokens")));
    let written = n(details.and_then(|d| d.get("cache_write_tokens")));
    Usage {
        input_tokens: n(v.get("input_tokens")).saturating_sub(cached).saturating_sub(written),
        output_tokens: n(v.get("output_tokens")),
        cache_read_tokens: cached,
        cache_write_tokens: written,
        reasoning_tokens: n(v.get("output_tokens_details").and_then(|d| d.get("reasoning_tokens"))),
    }
}

/// IR usage -> the Responses `usage` object (every field the SDK's `ResponseUsage` requires).
pub fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.total_input(),
        "input_tokens_details": {"cached_tokens": u.cache_read_tokens, "cache_write_tokens": u.cache_write_tokens},
        "output_tokens": u.output_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": u.total_input() + u.output_tokens,
    })
}

/// A fresh id with OpenAI's prefix style (`msg_...`, `fc_...`, `call_...`).
pub fn generated_id(prefix: &str) -> String {
    let tail: String = std::iter::repeat_with(fastrand::alphanumeric).take(24).collect();
    format!("{prefix}_{tail}")
}

/// Splits `data:<media type>;base64,<data>`; `None` when `url` is not a base64 data URL.
pub fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    Some((media_type, data))
}

/// Builds `data:<media type>;base64,<data>`.
pub fn data_url(media_type: &str, data: &str) -> String {
    format!("data:{media_type};base64,{data}")
}

/// Seconds since the Unix epoch (`created_at`).
pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A 502 for an upstream body amux cannot use.
pub fn bad_gateway(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::BadGateway, message)
}

pub fn as_str<'a>(v: &'a Value, path: &str) -> Result<&'a str, ApiError> {
    v.as_str().ok_or_else(|| ApiError::invalid_field(path, "expected a string"))
}

pub fn as_u64(v: &Value, path: &str) -> Result<u64, ApiError> {
    v.as_u64().ok_or_else(|| ApiError::invalid_field(path, "expected a non-negative integer"))
}

pub fn as_f64(v: &Value, path: &str) -> Result<f64, ApiError> {
    v.as_f64().ok_or_else(|| ApiError::invalid_field(path, "expected a number"))
}

pub fn as_bool(v: &Value, path: &str) -> Result<bool, ApiError> {
    v.as_bool().ok_or_else(|| ApiError::invalid_field(path, "expected a boolean"))
}

pub fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object().ok_or_else(|| ApiError::invalid_field(path, "expected an object"))
}

/// A required string field of `o`, named `path.key` when missing.
pub fn req_str<'a>(o: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a str, ApiError> {
    match o.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiError::invalid_field(format!("{path}.{key}"), "expected a string")),
        None => Err(ApiError::invalid_field(format!("{path}.{key}"), "required")),
    }
}

/// An optional string field (absent or null -> `None`).
pub fn opt_str<'a>(o: &'a Map<String, Value>, key: &str, path: &str) -> Result<Option<&'a str>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => as_str(v, &format!("{path}.{key}")).map(Some),
    }
}

/// `encrypted_content` prefix amux uses to hand Anthropic redacted thinking to a Responses caller
/// (and to recognise it when the caller sends it back).
pub const REDACTED_PREFIX: &str = "redacted_thinking:";

/// Prefix of an IR signature that carries a Responses upstream's reasoning item: OpenAI verifies
/// `encrypted_content` against the item's `id`, so both must come back together. The IR
/// signature is `responses:<id>:<encrypted_content>` (the encrypted content byte for byte).
const SIGNATURE_PREFIX: &str = "responses:";

/// The IR signature for a reasoning item of a Responses upstream.
pub fn upstream_signature(id: &str, encrypted: &str) -> String {
    format!("{SIGNATURE_PREFIX}{id}:{encrypted}")
}

/// Splits an IR signature made by [`upstream_signature`] into `(id, encrypted_content)`.
pub fn split_upstream_signature(sig: &str) -> Option<(&str, &str)> {
    sig.strip_prefix(SIGNATURE_PREFIX)?.split_once(':').filter(|(id, _)| !id.is_empty())
}

/// A deterministic output item id: `<prefix>_<response id without its own prefix>_<n>`.
pub fn item_id(prefix: &str, response_id: &str, n: usize) -> String {
    let base = response_id.split_once('_').map_or(response_id, |(_, rest)| rest);
    let base: String = base.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    if base.is_empty() { format!("{prefix}_{n}") } else { format!("{prefix}_{base}_{n}") }
}
