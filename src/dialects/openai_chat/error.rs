//! Errors: OpenAI-compatible error bodies (and the looser shapes compatible servers send) -> IR,
//! and IR -> the `{"error": {message, type, param, code}}` body OpenAI callers expect.

use serde_json::{Value, json};

use crate::ir::{ApiError, ErrorKind, looks_like_context_overflow};

/// Longest message kept from a non-JSON error body.
const MAX_TEXT: usize = 500;

/// Decodes an upstream error body. Accepted shapes: `{"error":{message,type,param,code}}`,
/// `{"error":"text"}`, `{"detail":...}` (FastAPI servers), `{"message":...}` (vLLM, Mistral),
/// and plain text.
pub fn decode_error(status: u16, body: &[u8]) -> ApiError {
    let kind = ErrorKind::from_status(status);
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => from_value(Some(kind), &v),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let message = if text.is_empty() { format!("upstream returned HTTP {status}") } else { truncate(text) };
            finish(kind, message, None, None)
        }
    }
}

/// Decodes an error object seen mid-stream (`data: {"error":{...}}`), where there is no status:
/// the kind comes from the error's `type` / `code`.
pub fn decode_stream_error(v: &Value) -> ApiError {
    from_value(None, v)
}

fn from_value(status_kind: Option<ErrorKind>, v: &Value) -> ApiError {
    let obj = match v.get("error") {
        Some(e @ Value::Object(_)) => e,
        _ => v,
    };
    let message = match (v.get("error"), obj.get("message"), v.get("detail")) {
        (Some(Value::String(s)), _, _) => s.clone(),
        (_, Some(Value::String(s)), _) => s.clone(),
        (_, _, Some(Value::String(s))) => s.clone(),
        (_, _, Some(d)) if !d.is_null() => truncate(&d.to_string()),
        _ => truncate(&v.to_string()),
    };
    let kind_str = obj.get("type").and_then(Value::as_str);
    let code = match obj.get("code") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let param = obj.get("param").and_then(Value::as_str).map(str::to_string);
    let kind = status_kind.unwrap_or_else(|| kind_from_type(kind_str, code.as_deref()));
    finish(kind, message, code.as_deref(), param)
}

/// The IR error for an OpenAI-family error body (shared with the Responses dialect).
pub(crate) fn finish(kind: ErrorKind, message: String, code: Option<&str>, param: Option<String>) -> ApiError {
    let mut e = if code == Some("context_length_exceeded") || looks_like_context_overflow(&message) {
        ApiError::context_overflow(&message)
    } else {
        ApiError::new(kind, message)
    };
    e.param = param;
    e.code = code.map(str::to_string);
    e
}

/// Kind for an error without an HTTP status (mid-stream), from OpenAI's `type` and `code`.
fn kind_from_type(kind: Option<&str>, code: Option<&str>) -> ErrorKind {
    match (kind.unwrap_or(""), code.unwrap_or("")) {
        (_, "rate_limit_exceeded") | ("rate_limit_error" | "tokens", _) => ErrorKind::RateLimit,
        (_, "invalid_api_key") | ("authentication_error", _) => ErrorKind::Authentication,
        ("permission_error", _) => ErrorKind::Permission,
        (_, "model_not_found") | ("not_found_error", _) => ErrorKind::NotFound,
        ("invalid_request_error", _) => ErrorKind::InvalidRequest,
        ("service_unavailable_error" | "overloaded_error", _) => ErrorKind::Unavailable,
        ("timeout_error", _) => ErrorKind::Timeout,
        _ => ErrorKind::BadGateway,
    }
}

/// A non-JSON error body, cut to a readable length (shared with the Responses dialect).
pub(crate) fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// Encodes an error for an OpenAI caller (the HTTP status is `err.status`).
pub fn encode_error(err: &ApiError) -> Vec<u8> {
    crate::dialects::json_bytes(&error_object(err))
}

/// The `{"error": {...}}` value, also used for mid-stream error chunks.
pub fn error_object(err: &ApiError) -> Value {
    let (kind, code) = match err.kind {
        ErrorKind::InvalidRequest | ErrorKind::RequestTooLarge => ("invalid_request_error", None),
        ErrorKind::ContextOverflow => ("invalid_request_error", Some("context_length_exceeded")),
        ErrorKind::Authentication => ("authentication_error", Some("invalid_api_key")),
        ErrorKind::Permission => ("permission_error", None),
        ErrorKind::NotFound => {
            let about_model = err.message.to_ascii_lowercase().contains("model");
            ("not_found_error", about_model.then_some("model_not_found"))
        }
        ErrorKind::RateLimit => ("rate_limit_error", Some("rate_limit_exceeded")),
        ErrorKind::Api | ErrorKind::BadGateway | ErrorKind::ProviderAuth => ("server_error", None),
        ErrorKind::Timeout => ("timeout_error", None),
        ErrorKind::Unavailable => ("service_unavailable_error", None),
    };
    json!({"error": {
        "message": err.message,
        "type": kind,
        "param": err.param,
        "code": err.code.as_deref().or(code),
    }})
}
