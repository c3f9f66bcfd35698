//! Bedrock Converse codec tests beyond the golden files: the rules each file documents.

mod request;
mod stream;

use serde_json::json;

use super::*;
use crate::ir::{ApiError, Block, ErrorKind, StopReason, Usage};

#[test]
fn response_round_trip_keeps_usage_and_stop_sequence() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "hm", "signature": "sig"}}},
            {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
            {"text": "done"},
            {"toolUse": {"toolUseId": "t1", "name": "f", "input": {"a": 1}}}
        ]}},
        "stopReason": "stop_sequence",
        "additionalModelResponseFields": {"stop_sequence": "END"},
        "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 12, "cacheReadInputTokens": 5},
    });
    let r = decode_response(body.to_string().as_bytes()).unwrap();
    assert_eq!(r.stop_reason, Some(StopReason::StopSequence));
    assert_eq!(r.stop_sequence.as_deref(), Some("END"));
    assert_eq!(r.usage, Usage { input_tokens: 3, output_tokens: 4, cache_read_tokens: 5, ..Usage::default() });
    assert_eq!(r.content[1], Block::RedactedThinking { data: "redacted".into() });
    let back: serde_json::Value = serde_json::from_slice(&encode_response(&r)).unwrap();
    assert_eq!(back["output"]["message"]["content"], body["output"]["message"]["content"]);
    assert_eq!(back["usage"]["totalTokens"], 12);
    assert_eq!(back["additionalModelResponseFields"]["stop_sequence"], "END");
}

#[test]
fn unknown_stop_reason_and_blocks_are_bad_gateway() {
    let unknown = json!({"output": {"message": {"content": []}}, "stopReason": "new_reason"});
    assert_eq!(decode_response(unknown.to_string().as_bytes()).unwrap_err().kind, ErrorKind::BadGateway);
    assert_eq!(decode_response(b"not json").unwrap_err().status, 502);
}

#[test]
fn errors_take_their_type_from_the_header_or_the_body() {
    let e = decode_typed(400, Some("ValidationException:http://internal.amazon.com/coral/"), br#"{"message":"bad"}"#);
    assert_eq!((e.kind, e.message.as_str()), (ErrorKind::InvalidRequest, "bad"));
    let e = decode_typed(429, Some("ModelNotReadyException"), br#"{"message":"warming up"}"#);
    assert_eq!(e.kind, ErrorKind::RateLimit);
    let e = decode_error(400, br#"{"__type":"ServiceQuotaExceededException","Message":"quota"}"#);
    assert_eq!((e.kind, e.message.as_str()), (ErrorKind::InvalidRequest, "quota"));
    let e = decode_error(400, br#"{"message":"prompt is too long: 210000 tokens > 200000 maximum"}"#);
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
    assert_eq!(decode_error(424, b"{}").kind, ErrorKind::BadGateway);
    assert_eq!(decode_error(408, b"").kind, ErrorKind::Timeout);
    let e = decode_exception("validationException", br#"{"message":"Input is too long for requested model."}"#);
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
    assert!(e.message.contains("prompt is too long"));
}

#[test]
fn error_and_exception_types_for_callers() {
    let cases = [
        (ErrorKind::InvalidRequest, "ValidationException", "validationException"),
        (ErrorKind::RateLimit, "ThrottlingException", "throttlingException"),
        (ErrorKind::Unavailable, "ServiceUnavailableException", "serviceUnavailableException"),
        (ErrorKind::BadGateway, "ModelErrorException", "modelStreamErrorException"),
        (ErrorKind::Api, "InternalServerException", "internalServerException"),
    ];
    for (kind, ty, ex) in cases {
        let e = ApiError::new(kind, "m");
        assert_eq!((error_type(&e), exception_type(&e)), (ty, ex));
        // What amux sends decodes back to the same kind.
        assert_eq!(decode_typed(e.status, Some(ty), &encode_error(&e)).kind, kind);
        assert_eq!(decode_exception(ex, &exception_payload(&e)).kind, kind);
    }
}
