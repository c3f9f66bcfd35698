//! Errors: Anthropic error bodies from an upstream -> [`ApiError`] (`decode_error`), and
//! [`ApiError`] -> the error body an Anthropic caller expects (`encode_error`).

use super::wire::{ErrorDetail, ErrorEnvelope};
use crate::ir::{ApiError, ErrorKind, looks_like_context_overflow};

/// Longest message kept from a non-JSON error body.
const MAX_TEXT: usize = 500;

/// Anthropic `error.type` for an IR error kind.
pub fn error_type(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest | ErrorKind::ContextOverflow => "invalid_request_error",
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::Permission => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::RequestTooLarge => "request_too_large",
        ErrorKind::RateLimit => "rate_limit_error",
        ErrorKind::Unavailable => "overloaded_error",
        ErrorKind::Api | ErrorKind::BadGateway | ErrorKind::ProviderAuth | ErrorKind::Timeout => "api_error",
    }
}

/// An [`ApiError`] from an Anthropic `error.type` and message; `status` decides unknown types.
pub fn from_type(kind: &str, message: &str, status: u16) -> ApiError {
    let message = if message.is_empty() { format!("upstream returned HTTP {status}") } else { message.to_string() };
    let kind = match kind {
        "invalid_request_error" => ErrorKind::InvalidRequest,
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" | "billing_error" => ErrorKind::Permission,
        "not_found_error" => ErrorKind::NotFound,
        "request_too_large" => ErrorKind::RequestTooLarge,
        "rate_limit_error" => ErrorKind::RateLimit,
        "api_error" => ErrorKind::BadGateway,
        "overloaded_error" => ErrorKind::Unavailable,
        "timeout_error" => ErrorKind::Timeout,
        _ => ErrorKind::from_status(status),
    };
    if kind == ErrorKind::InvalidRequest && looks_like_context_overflow(&message) {
        return ApiError::context_overflow(&message);
    }
    ApiError::new(kind, message)
}

/// Decodes an upstream error body (lenient: any body gives an error).
pub fn decode_error(status: u16, body: &[u8]) -> ApiError {
    match serde_json::from_slice::<ErrorEnvelope<ErrorDetail>>(body) {
        Ok(env) => from_type(&env.error.kind, &env.error.message, status),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let cut = text.char_indices().nth(MAX_TEXT).map_or(text.len(), |(i, _)| i);
            from_type("", &text[..cut], status)
        }
    }
}

/// The `{"type":"error","error":{...}}` value for `err`.
pub fn envelope(err: &ApiError) -> ErrorEnvelope<ErrorDetail> {
    let message = if err.kind == ErrorKind::ContextOverflow && !err.message.contains("prompt is too long") {
        format!("prompt is too long: {}", err.message)
    } else {
        err.message.clone()
    };
    ErrorEnvelope { kind: "error".to_string(), error: ErrorDetail { kind: error_type(err.kind).to_string(), message } }
}

/// Encodes `err` as an Anthropic error body.
pub fn encode_error(err: &ApiError) -> Vec<u8> {
    crate::jsonwrite::to_vec(&envelope(err))
        .unwrap_or_else(|_| br#"{"type":"error","error":{"type":"api_error","message":"internal error"}}"#.to_vec())
}
