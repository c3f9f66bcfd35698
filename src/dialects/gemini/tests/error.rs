//! Error bodies both ways.

use super::super::{decode_error, encode_error};
use super::json;
use crate::ir::{ApiError, ErrorKind};

#[test]
fn decodes_status_kinds_overflow_and_retry_delay() {
    let body = br#"[{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[
        {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37.5s"}]}}]"#;
    let e = decode_error(429, body);
    assert_eq!((e.kind, e.message.as_str(), e.retry_after.as_deref()), (ErrorKind::RateLimit, "quota", Some("38")));

    let body = br#"{"error":{"code":400,"message":"The input token count (1196265) exceeds the maximum number of tokens allowed (1048575).","status":"INVALID_ARGUMENT"}}"#;
    let e = decode_error(400, body);
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
    assert!(e.message.contains("prompt is too long") && e.message.contains("1196265"));

    let e = decode_error(502, b"<html>bad gateway</html>");
    assert_eq!((e.kind, e.message.as_str()), (ErrorKind::BadGateway, "<html>bad gateway</html>"));
    assert_eq!(decode_error(503, b"").message, "upstream returned HTTP 503");
}

#[test]
fn encodes_google_error_shape() {
    let mut e = ApiError::new(ErrorKind::RateLimit, "slow down");
    e.retry_after = Some("12".into());
    let v = json(&encode_error(&e));
    assert_eq!(v["error"]["code"], 429);
    assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(v["error"]["details"][0]["retryDelay"], "12s");

    let v = json(&encode_error(&ApiError::context_overflow("too big")));
    assert_eq!((v["error"]["code"].as_u64(), v["error"]["status"].as_str()), (Some(400), Some("INVALID_ARGUMENT")));
    assert!(v["error"].get("details").is_none());
    for (kind, status) in [
        (ErrorKind::Authentication, "UNAUTHENTICATED"),
        (ErrorKind::Permission, "PERMISSION_DENIED"),
        (ErrorKind::NotFound, "NOT_FOUND"),
        (ErrorKind::BadGateway, "INTERNAL"),
        (ErrorKind::Timeout, "DEADLINE_EXCEEDED"),
    ] {
        assert_eq!(json(&encode_error(&ApiError::new(kind, "x")))["error"]["status"], status);
    }
}
