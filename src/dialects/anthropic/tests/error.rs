//! `decode_error` / `encode_error`: kinds both ways, context overflow, lenient bodies.

use serde_json::json;

use super::super::{decode_error, encode_error};
use super::json;
use crate::ir::{ApiError, ErrorKind};

fn body(kind: &str, message: &str) -> Vec<u8> {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"})
        .to_string()
        .into_bytes()
}

#[test]
fn decodes_kinds() {
    for (status, kind, want) in [
        (400, "invalid_request_error", ErrorKind::InvalidRequest),
        (401, "authentication_error", ErrorKind::Authentication),
        (403, "permission_error", ErrorKind::Permission),
        (404, "not_found_error", ErrorKind::NotFound),
        (413, "request_too_large", ErrorKind::RequestTooLarge),
        (429, "rate_limit_error", ErrorKind::RateLimit),
        (500, "api_error", ErrorKind::BadGateway),
        (529, "overloaded_error", ErrorKind::Unavailable),
        (418, "brand_new_error", ErrorKind::InvalidRequest),
    ] {
        let e = decode_error(status, &body(kind, "msg"));
        assert_eq!(e.kind, want, "{kind}");
        assert_eq!(e.message, "msg");
    }
}

#[test]
fn context_overflow_both_ways() {
    let e = decode_error(
        400,
        &body(
            "invalid_request_error",
            "prompt is too long: 208310 tokens > 200000 maximum",
        ),
    );
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
    assert_eq!(e.status, 400);

    let e = ApiError::context_overflow("This model's maximum context length is 128000 tokens");
    let v = json(&encode_error(&e));
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("prompt is too long")
    );

    // Even an overflow built without the phrase gets it.
    let e = ApiError::new(ErrorKind::ContextOverflow, "too big");
    let v = json(&encode_error(&e));
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("prompt is too long")
    );
}

#[test]
fn encodes_kinds() {
    for (kind, want) in [
        (ErrorKind::InvalidRequest, "invalid_request_error"),
        (ErrorKind::Authentication, "authentication_error"),
        (ErrorKind::Permission, "permission_error"),
        (ErrorKind::NotFound, "not_found_error"),
        (ErrorKind::RequestTooLarge, "request_too_large"),
        (ErrorKind::RateLimit, "rate_limit_error"),
        (ErrorKind::Unavailable, "overloaded_error"),
        (ErrorKind::Api, "api_error"),
        (ErrorKind::BadGateway, "api_error"),
        (ErrorKind::Timeout, "api_error"),
    ] {
        let v = json(&encode_error(&ApiError::new(kind, "m")));
        assert_eq!(
            v,
            json!({"type": "error", "error": {"type": want, "message": "m"}})
        );
    }
}

#[test]
fn non_json_bodies_are_lenient() {
    let html = "<html>".to_string() + &"x".repeat(1000);
    let e = decode_error(502, html.as_bytes());
    assert_eq!(e.kind, ErrorKind::BadGateway);
    assert_eq!(e.message.chars().count(), 500);
    let e = decode_error(503, b"");
    assert_eq!(e.kind, ErrorKind::Unavailable);
    assert!(e.message.contains("503"));
    let e = decode_error(400, b"input is too long for this model");
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
}
