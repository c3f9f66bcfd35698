//! Errors: Responses upstream error bodies (`{"error": {message, type, param, code}}`, the same
//! family as Chat), `error` stream events and failed responses -> IR; IR -> the error body, the
//! `error` event and the failed response's `error` object a Responses caller expects.

use serde_json::{Value, json};

use crate::dialects::openai_chat::error::{finish, truncate};
use crate::ir::{ApiError, ErrorKind};

/// Decodes an upstream error body (HTTP status known).
pub fn decode_error(status: u16, body: &[u8]) -> ApiError {
    let kind = ErrorKind::from_status(status);
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let obj = match v.get("error") {
                Some(e @ Value::Object(_)) => e,
                _ => &v,
            };
            let message = match (v.get("error"), obj.get("message"), v.get("detail")) {
                (Some(Value::String(s)), _, _) | (_, Some(Value::String(s)), _) | (_, _, Some(Value::String(s))) => {
                    s.clone()
                }
                _ => truncate(&v.to_string()),
            };
            finish(kind, message, code_of(obj).as_deref(), param_of(obj))
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let message = if text.is_empty() { format!("upstream returned HTTP {status}") } else { truncate(text) };
            finish(kind, message, None, None)
        }
    }
}

/// Decodes an `error` stream event (`{type: "error", code, message, param}`; some servers nest
/// the fields under `error`).
pub fn decode_stream_error(v: &Value) -> ApiError {
    let obj = match v.get("error") {
        Some(e @ Value::Object(_)) => e,
        _ => v,
    };
    let message = obj.get("message").and_then(Value::as_str).unwrap_or("upstream stream error").to_string();
    let code = code_of(obj);
    let kind = kind_from_code(obj.get("type").and_then(Value::as_str), code.as_deref());
    finish(kind, message, code.as_deref(), param_of(obj))
}

/// Decodes the `error` object of a failed response (`{code, message}`).
pub fn response_error(e: &Value) -> ApiError {
    let message = e.get("message").and_then(Value::as_str).unwrap_or("upstream response failed").to_string();
    let code = code_of(e);
    let kind = kind_from_code(None, code.as_deref());
    finish(kind, message, code.as_deref(), None)
}

fn code_of(obj: &Value) -> Option<String> {
    match obj.get("code") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn param_of(obj: &Value) -> Option<String> {
    obj.get("param").and_then(Value::as_str).map(str::to_string)
}

/// Kind for an error without an HTTP status (mid-stream), from its `type` and `code`.
fn kind_from_code(kind: Option<&str>, code: Option<&str>) -> ErrorKind {
    match (kind.unwrap_or(""), code.unwrap_or("")) {
        (_, "rate_limit_exceeded" | "insufficient_quota") | ("rate_limit_error" | "tokens", _) => ErrorKind::RateLimit,
        (_, "invalid_api_key") | ("authentication_error", _) => ErrorKind::Authentication,
        ("permission_error", _) => ErrorKind::Permission,
        (_, "model_not_found") | ("not_found_error", _) => ErrorKind::NotFound,
        (_, "invalid_prompt" | "invalid_request_error") | ("invalid_request_error", _) => ErrorKind::InvalidRequest,
        (_, c) if c.starts_with("invalid_") || c.starts_with("image_") => ErrorKind::InvalidRequest,
        (_, "server_is_overloaded" | "slow_down") | ("service_unavailable_error" | "overloaded_error", _) => {
            ErrorKind::Unavailable
        }
        ("timeout_error", _) => ErrorKind::Timeout,
        _ => ErrorKind::BadGateway,
    }
}

/// Encodes an error for a Responses caller (the HTTP status is `err.status`).
pub fn encode_error(err: &ApiError) -> Vec<u8> {
    let (kind, code) = type_and_code(err);
    let code = err.code.as_deref().or(code);
    crate::dialects::json_bytes(
        &json!({"error": {"message": err.message, "type": kind, "param": err.param, "code": code}}),
    )
}

/// OpenAI's error `type` and `code` for an IR error.
pub fn type_and_code(err: &ApiError) -> (&'static str, Option<&'static str>) {
    match err.kind {
        ErrorKind::InvalidRequest | ErrorKind::RequestTooLarge => ("invalid_request_error", None),
        ErrorKind::ContextOverflow => ("invalid_request_error", Some("context_length_exceeded")),
        ErrorKind::Authentication => ("authentication_error", Some("invalid_api_key")),
        ErrorKind::Permission => ("permission_error", None),
        ErrorKind::NotFound => {
            let about_model = err.message.to_ascii_lowercase().contains("model");
            ("not_found_error", about_model.then_some("model_not_found"))
        }
        ErrorKind::RateLimit => ("rate_limit_error", Some("rate_limit_exceeded")),
        ErrorKind::Api | ErrorKind::BadGateway | ErrorKind::ProviderAuth => ("server_error", Some("server_error")),
        ErrorKind::Timeout => ("timeout_error", Some("server_error")),
        ErrorKind::Unavailable => ("service_unavailable_error", Some("server_is_overloaded")),
    }
}

/// The `error` object of a `response.failed` snapshot: `code` is one of the values the SDK's
/// `ResponseError` allows.
pub fn failed_error_object(err: &ApiError) -> Value {
    let code = match err.kind {
        ErrorKind::RateLimit => "rate_limit_exceeded",
        ErrorKind::InvalidRequest | ErrorKind::ContextOverflow | ErrorKind::RequestTooLarge => "invalid_prompt",
        _ => "server_error",
    };
    json!({"code": code, "message": err.message})
}
