//! Errors: Bedrock's error bodies (`{"message": ...}`, the type in the `x-amzn-ErrorType` header)
//! and stream exceptions (`:exception-type`) -> IR, and IR -> the same for Bedrock callers.
//!
//! botocore names an error by `x-amzn-ErrorType` (the part before any `:`), else by `__type` or
//! `code` in the body; amux sends the header and reads all three. Context overflow comes as a
//! `ValidationException` ("Input is too long for requested model", or Anthropic's "prompt is too
//! long" passed through) and becomes the IR's overflow kind.

use serde_json::{Value, json};

use crate::ir::{ApiError, ErrorKind, looks_like_context_overflow};

/// Longest message kept from a non-JSON error body.
const MAX_TEXT: usize = 500;

/// The response header naming the error type.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-errortype";

/// Decodes an upstream error body (the type, when the body has none, comes from the status).
pub fn decode_error(status: u16, body: &[u8]) -> ApiError {
    decode_typed(status, None, body)
}

/// Decodes an upstream error with its `x-amzn-ErrorType` header when there is one.
pub fn decode_typed(status: u16, error_type: Option<&str>, body: &[u8]) -> ApiError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = ["message", "Message"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() { format!("upstream returned HTTP {status}") } else { truncate(text) }
        });
    let body_type = ["__type", "code", "Code"].iter().find_map(|k| v.get(*k).and_then(Value::as_str));
    let ty = error_type.or(body_type).map(short_type);
    let kind = match ty {
        Some(t) => kind_of(t).unwrap_or_else(|| kind_of_status(status)),
        None => kind_of_status(status),
    };
    finish(kind, message)
}

/// A stream exception (`:exception-type`, payload `{"message": ...}`).
pub fn decode_exception(exception_type: &str, payload: &[u8]) -> ApiError {
    let v: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let message = v
        .get("message")
        .or_else(|| v.get("Message"))
        .and_then(Value::as_str)
        .map_or_else(|| format!("upstream stream failed with {exception_type}"), str::to_string);
    let kind = kind_of(exception_type).unwrap_or(ErrorKind::BadGateway);
    finish(kind, message)
}

/// The kind of a Bedrock status when no type was given: 408 is `ModelTimeoutException`, 424
/// `ModelErrorException` (the model failed), the rest as everywhere.
fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        408 => ErrorKind::Timeout,
        424 => ErrorKind::BadGateway,
        s => ErrorKind::from_status(s),
    }
}

/// `ValidationException:http://internal.amazon.com/...` -> `ValidationException`;
/// `aws.protocoltests#Foo` -> `Foo`.
fn short_type(t: &str) -> &str {
    let t = t.split(':').next().unwrap_or(t);
    t.rsplit('#').next().unwrap_or(t)
}

/// The kind of an error type (exception types are the same names in lower camel case).
fn kind_of(t: &str) -> Option<ErrorKind> {
    let lower = t.to_ascii_lowercase();
    Some(match lower.strip_suffix("exception").unwrap_or(&lower) {
        "validation" | "servicequotaexceeded" => ErrorKind::InvalidRequest,
        "accessdenied" => ErrorKind::Permission,
        "unrecognizedclient" | "expiredtoken" | "invalidsignature" | "incompletesignature" => ErrorKind::Authentication,
        "resourcenotfound" => ErrorKind::NotFound,
        "throttling" | "modelnotready" | "toomanyrequests" => ErrorKind::RateLimit,
        "internalserver" => ErrorKind::Api,
        "serviceunavailable" => ErrorKind::Unavailable,
        "modeltimeout" => ErrorKind::Timeout,
        "modelerror" | "modelstreamerror" => ErrorKind::BadGateway,
        _ => return None,
    })
}

fn finish(kind: ErrorKind, message: String) -> ApiError {
    if kind == ErrorKind::InvalidRequest && looks_like_context_overflow(&message) {
        ApiError::context_overflow(&message)
    } else {
        ApiError::new(kind, message)
    }
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// The `x-amzn-ErrorType` of an error for a Bedrock caller.
pub fn error_type(err: &ApiError) -> &'static str {
    match err.kind {
        ErrorKind::InvalidRequest | ErrorKind::ContextOverflow | ErrorKind::RequestTooLarge => "ValidationException",
        ErrorKind::Authentication => "UnrecognizedClientException",
        ErrorKind::Permission => "AccessDeniedException",
        ErrorKind::NotFound => "ResourceNotFoundException",
        ErrorKind::RateLimit => "ThrottlingException",
        ErrorKind::Api => "InternalServerException",
        ErrorKind::BadGateway => "ModelErrorException",
        // amux's own credentials for its provider: an internal fault, not the caller's.
        ErrorKind::ProviderAuth => "InternalServerException",
        ErrorKind::Unavailable => "ServiceUnavailableException",
        ErrorKind::Timeout => "ModelTimeoutException",
    }
}

/// The `:exception-type` of an error in a ConverseStream / InvokeModelWithResponseStream answer
/// (only five are modelled there).
pub fn exception_type(err: &ApiError) -> &'static str {
    match err.kind {
        ErrorKind::RateLimit => "throttlingException",
        ErrorKind::Unavailable | ErrorKind::Timeout => "serviceUnavailableException",
        ErrorKind::BadGateway => "modelStreamErrorException",
        ErrorKind::Api | ErrorKind::ProviderAuth => "internalServerException",
        _ => "validationException",
    }
}

/// Encodes an error body for a Bedrock caller (the status is `err.status`, the type goes in
/// [`ERROR_TYPE_HEADER`]).
pub fn encode_error(err: &ApiError) -> Vec<u8> {
    crate::dialects::json_bytes(&json!({"message": err.message}))
}

/// The payload of a stream exception.
pub fn exception_payload(err: &ApiError) -> Vec<u8> {
    crate::dialects::json_bytes(&json!({"message": err.message}))
}
