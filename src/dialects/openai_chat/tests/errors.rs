//! Error bodies both ways.

use serde_json::{Value, json};

use crate::dialects::openai_chat::{decode_error, encode_error};
use crate::ir::{ApiError, ErrorKind};

#[test]
fn decodes_openai_errors_by_status() {
    let body = json!({"error": {"message": "Rate limit reached", "type": "requests",
        "param": null, "code": "rate_limit_exceeded"}});
    let e = decode_error(429, body.to_string().as_bytes());
    assert_eq!((e.kind, e.status), (ErrorKind::RateLimit, 429));
    assert_eq!(e.message, "Rate limit reached");
    for (status, kind) in [
        (400, ErrorKind::InvalidRequest),
        (401, ErrorKind::Authentication),
        (403, ErrorKind::Permission),
        (404, ErrorKind::NotFound),
        (500, ErrorKind::BadGateway),
        (503, ErrorKind::Unavailable),
        (529, ErrorKind::Unavailable),
    ] {
        let e = decode_error(
            status,
            br#"{"error":{"message":"x","type":"t","param":"p"}}"#,
        );
        assert_eq!(e.kind, kind, "{status}");
        assert_eq!(e.param.as_deref(), Some("p"));
    }
}

#[test]
fn context_overflow_becomes_prompt_is_too_long() {
    let body = json!({"error": {"message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
        "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}});
    let e = decode_error(400, body.to_string().as_bytes());
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
    assert_eq!(e.status, 400);
    assert!(e.message.contains("prompt is too long"));
    assert_eq!(e.param.as_deref(), Some("messages"));
    // By message only, even behind a 5xx of a compatible server.
    let e = decode_error(
        500,
        br#"{"object":"error","message":"input is too long for requested model","code":500}"#,
    );
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
}

#[test]
fn lenient_shapes() {
    let e = decode_error(404, br#"{"error":"model 'llama9' not found"}"#);
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::NotFound, "model 'llama9' not found")
    );
    let e = decode_error(
        422,
        br#"{"detail":[{"loc":["body","messages"],"msg":"field required"}]}"#,
    );
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.contains("field required"));
    let e = decode_error(400, br#"{"detail":"bad"}"#);
    assert_eq!(e.message, "bad");
    let e = decode_error(502, b"<html>Bad Gateway</html>");
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::BadGateway, "<html>Bad Gateway</html>")
    );
    let long = "x".repeat(2000);
    assert!(decode_error(500, long.as_bytes()).message.len() < 600);
    assert!(decode_error(500, b"").message.contains("500"));
}

fn encoded(err: &ApiError) -> Value {
    serde_json::from_slice(&encode_error(err)).unwrap()
}

#[test]
fn encodes_types_and_codes() {
    let cases = [
        (
            ErrorKind::InvalidRequest,
            "bad",
            "invalid_request_error",
            Value::Null,
        ),
        (
            ErrorKind::Authentication,
            "no",
            "authentication_error",
            json!("invalid_api_key"),
        ),
        (ErrorKind::Permission, "no", "permission_error", Value::Null),
        (
            ErrorKind::NotFound,
            "model x not found",
            "not_found_error",
            json!("model_not_found"),
        ),
        (
            ErrorKind::NotFound,
            "no route",
            "not_found_error",
            Value::Null,
        ),
        (
            ErrorKind::RequestTooLarge,
            "big",
            "invalid_request_error",
            Value::Null,
        ),
        (
            ErrorKind::RateLimit,
            "slow",
            "rate_limit_error",
            json!("rate_limit_exceeded"),
        ),
        (ErrorKind::Api, "x", "server_error", Value::Null),
        (ErrorKind::BadGateway, "x", "server_error", Value::Null),
        (ErrorKind::Timeout, "x", "timeout_error", Value::Null),
        (
            ErrorKind::Unavailable,
            "x",
            "service_unavailable_error",
            Value::Null,
        ),
    ];
    for (kind, msg, ty, code) in cases {
        let v = encoded(&ApiError::new(kind, msg));
        assert_eq!(v["error"]["type"], ty, "{kind:?}");
        assert_eq!(v["error"]["code"], code, "{kind:?}");
        assert_eq!(v["error"]["message"], msg);
    }
    let v = encoded(&ApiError::context_overflow("200k > 100k"));
    assert_eq!(v["error"]["code"], "context_length_exceeded");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert_eq!(v["error"]["message"], "prompt is too long: 200k > 100k");
    let v = encoded(&ApiError::invalid_field("tools[0]", "bad"));
    assert_eq!(v["error"]["param"], "tools[0]");
}
