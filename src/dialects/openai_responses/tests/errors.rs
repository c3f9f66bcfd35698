//! Error bodies both ways.

use serde_json::{Value, json};

use crate::dialects::openai_responses::{decode_error, encode_error};
use crate::ir::{ApiError, ErrorKind};

#[test]
fn decodes_openai_shapes_and_overflow() {
    let body = json!({"error": {"message": "Your input exceeds the context window of this model.",
        "type": "invalid_request_error", "param": "input", "code": "context_length_exceeded"}});
    let e = decode_error(400, body.to_string().as_bytes());
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
    assert!(e.message.contains("prompt is too long"));
    assert_eq!(e.param.as_deref(), Some("input"));
    let e =
        decode_error(429, br#"{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}"#);
    assert_eq!(e.kind, ErrorKind::RateLimit);
    let e = decode_error(502, b"<html>Bad gateway</html>");
    assert_eq!(e.kind, ErrorKind::BadGateway);
    assert_eq!(e.message, "<html>Bad gateway</html>");
    assert_eq!(decode_error(503, b"").message, "upstream returned HTTP 503");
}

#[test]
fn encodes_openai_error_body() {
    let cases = [
        (ApiError::context_overflow("too big"), "invalid_request_error", json!("context_length_exceeded")),
        (ApiError::new(ErrorKind::RateLimit, "slow"), "rate_limit_error", json!("rate_limit_exceeded")),
        (ApiError::new(ErrorKind::NotFound, "model x not found"), "not_found_error", json!("model_not_found")),
        (ApiError::new(ErrorKind::Unavailable, "busy"), "service_unavailable_error", json!("server_is_overloaded")),
        (ApiError::invalid_field("input[0]", "bad"), "invalid_request_error", Value::Null),
    ];
    for (err, kind, code) in cases {
        let v: Value = serde_json::from_slice(&encode_error(&err)).unwrap();
        assert_eq!(v["error"]["type"], kind);
        assert_eq!(v["error"]["code"], code);
        assert_eq!(v["error"]["message"], err.message.as_str());
        assert_eq!(v["error"]["param"], json!(err.param));
    }
}
