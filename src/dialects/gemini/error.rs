//! Errors: Google API error bodies `{"error": {code, message, status, details}}` (also wrapped in
//! an array, as streaming endpoints send them) -> IR, and IR -> that body for Gemini callers.
//! `RetryInfo.retryDelay` in `details` carries Retry-After both ways (Gemini CLI reads it).

use serde_json::{Map, Value, json};

use crate::ir::{ApiError, ErrorKind, looks_like_context_overflow};

/// Longest message kept from a non-JSON error body.
const MAX_TEXT: usize = 500;

const RETRY_INFO: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// Decodes an upstream error body.
pub fn decode_error(status: u16, body: &[u8]) -> ApiError {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => from_value(Some(status), &v),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let message = if text.is_empty() { format!("upstream returned HTTP {status}") } else { truncate(text) };
            finish(ErrorKind::from_status(status), message)
        }
    }
}

/// Decodes an error value; without an HTTP status (mid-stream) the kind comes from `status` or
/// `code` in the body.
pub fn from_value(http_status: Option<u16>, v: &Value) -> ApiError {
    let v = match v {
        Value::Array(items) if !items.is_empty() => &items[0],
        other => other,
    };
    let obj = v.get("error").filter(|e| e.is_object()).unwrap_or(v);
    let message = match obj.get("message") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => truncate(&v.to_string()),
    };
    let code = obj.get("code").and_then(Value::as_u64).and_then(|c| u16::try_from(c).ok());
    let status = obj.get("status").and_then(Value::as_str);
    let kind = match (http_status.or(code), status) {
        (Some(s), _) if s >= 400 => ErrorKind::from_status(s),
        (_, Some(st)) => kind_from_status(st),
        _ => ErrorKind::BadGateway,
    };
    let mut e = finish(kind, message);
    e.retry_after = retry_delay(obj);
    e
}

fn finish(kind: ErrorKind, message: String) -> ApiError {
    if kind == ErrorKind::InvalidRequest && is_overflow(&message) {
        ApiError::context_overflow(&message)
    } else {
        ApiError::new(kind, message)
    }
}

/// Gemini's overflow message: "The input token count (N) exceeds the maximum number of tokens
/// allowed (M)."
fn is_overflow(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    (m.contains("input token count") && m.contains("exceeds the maximum")) || looks_like_context_overflow(&m)
}

fn kind_from_status(status: &str) -> ErrorKind {
    match status {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::InvalidRequest,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::Permission,
        "NOT_FOUND" => ErrorKind::NotFound,
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimit,
        "UNAVAILABLE" => ErrorKind::Unavailable,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        _ => ErrorKind::BadGateway,
    }
}

/// `RetryInfo.retryDelay` ("30s", "1.5s") as whole seconds, rounded up.
fn retry_delay(obj: &Value) -> Option<String> {
    let details = obj.get("details")?.as_array()?;
    let delay = details.iter().find(|d| d.get("@type").and_then(Value::as_str) == Some(RETRY_INFO))?;
    let secs: f64 = delay.get("retryDelay")?.as_str()?.strip_suffix('s')?.parse().ok()?;
    (secs >= 0.0).then(|| format!("{}", secs.ceil() as u64))
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// Encodes an error for a Gemini caller (the HTTP status is `err.status`).
pub fn encode_error(err: &ApiError) -> Vec<u8> {
    crate::dialects::json_bytes(&error_object(err))
}

/// The `{"error": {...}}` value, also used for mid-stream error chunks.
pub fn error_object(err: &ApiError) -> Value {
    let status = match err.kind {
        ErrorKind::InvalidRequest | ErrorKind::ContextOverflow | ErrorKind::RequestTooLarge => "INVALID_ARGUMENT",
        ErrorKind::Authentication => "UNAUTHENTICATED",
        ErrorKind::Permission => "PERMISSION_DENIED",
        ErrorKind::NotFound => "NOT_FOUND",
        ErrorKind::RateLimit => "RESOURCE_EXHAUSTED",
        ErrorKind::Api | ErrorKind::BadGateway | ErrorKind::ProviderAuth => "INTERNAL",
        ErrorKind::Unavailable => "UNAVAILABLE",
        ErrorKind::Timeout => "DEADLINE_EXCEEDED",
    };
    let mut e = Map::new();
    e.insert("code".into(), json!(err.status));
    e.insert("message".into(), json!(err.message));
    e.insert("status".into(), json!(status));
    if let Some(secs) = err.retry_after.as_deref().and_then(|s| s.trim().parse::<u64>().ok()) {
        e.insert("details".into(), json!([{"@type": RETRY_INFO, "retryDelay": format!("{secs}s")}]));
    }
    json!({"error": e})
}
