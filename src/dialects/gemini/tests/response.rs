//! Non-streaming answers both ways.

use serde_json::json;

use super::super::{decode_response, encode_response};
use super::json;
use crate::ir::{Block, ErrorKind, Response, StopReason, Usage};

#[test]
fn decodes_thoughts_signatures_calls_and_usage() {
    let body = json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"text": "why", "thought": true},
            {"text": "Answer", "thoughtSignature": "S1"},
            {"functionCall": {"name": "f", "args": {"a": 1}}},
        ]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 100, "cachedContentTokenCount": 60, "candidatesTokenCount": 7,
            "thoughtsTokenCount": 20, "totalTokenCount": 127},
        "modelVersion": "gemini-2.5-pro", "responseId": "rid",
    });
    let r = decode_response(body.to_string().as_bytes()).unwrap();
    assert_eq!((r.id.as_str(), r.model.as_str()), ("rid", "gemini-2.5-pro"));
    assert_eq!(r.content[0], Block::Thinking { thinking: "why".into(), signature: None });
    assert_eq!(r.content[1], Block::Thinking { thinking: String::new(), signature: Some("S1".into()) });
    assert_eq!(r.content[2], Block::Text { text: "Answer".into(), cache_control: None });
    assert!(
        matches!(&r.content[3], Block::ToolUse { id, name, input } if id.starts_with("call_") && name == "f" && input == &json!({"a": 1}))
    );
    assert_eq!(r.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 40,
            output_tokens: 27,
            cache_read_tokens: 60,
            cache_write_tokens: 0,
            reasoning_tokens: 20
        }
    );
}

#[test]
fn finish_reasons_block_and_failures() {
    let with = |reason: &str| {
        let b =
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "x"}]}, "finishReason": reason}]});
        decode_response(b.to_string().as_bytes())
    };
    assert_eq!(with("MAX_TOKENS").unwrap().stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(with("RECITATION").unwrap().stop_reason, Some(StopReason::ContentFilter));
    assert_eq!(with("OTHER").unwrap().stop_reason, Some(StopReason::EndTurn));
    let e = with("MALFORMED_FUNCTION_CALL").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadGateway);

    let blocked =
        json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 3}});
    let r = decode_response(blocked.to_string().as_bytes()).unwrap();
    assert_eq!((r.stop_reason, r.content.len(), r.usage.input_tokens), (Some(StopReason::Refusal), 0, 3));
    assert!(decode_response(b"{}").is_err());
}

#[test]
fn encodes_for_gemini_callers() {
    let r = Response {
        id: "msg_1".into(),
        model: "claude-x".into(),
        content: vec![
            Block::Thinking { thinking: "t".into(), signature: Some("SIG".into()) },
            Block::RedactedThinking { data: "opaque".into() },
            Block::ToolUse { id: "toolu_1".into(), name: "f".into(), input: json!({"a": 1}) },
        ],
        stop_reason: Some(StopReason::ToolUse),
        stop_sequence: None,
        usage: Usage {
            input_tokens: 10,
            output_tokens: 5,
            cache_read_tokens: 3,
            cache_write_tokens: 2,
            reasoning_tokens: 0,
        },
    };
    assert_eq!(
        json(&encode_response(&r)),
        json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "t", "thought": true},
                {"functionCall": {"id": "toolu_1", "name": "f", "args": {"a": 1}}, "thoughtSignature": super::super::signature::wrap("t", "SIG")},
            ]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 15, "candidatesTokenCount": 5, "cachedContentTokenCount": 3, "totalTokenCount": 20},
            "modelVersion": "claude-x",
            "responseId": "msg_1",
        })
    );
}

#[test]
fn foreign_signatures_come_back_with_their_thinking_text() {
    // An Anthropic answer to a Gemini caller, replayed the way Gemini CLI does: thought parts
    // dropped, the signature kept on the function call part.
    let wrapped = super::super::signature::wrap("let me check", "EqQBSig==");
    let body = json!({"contents": [
        {"role": "user", "parts": [{"text": "weather?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "w", "args": {}}, "thoughtSignature": wrapped}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "w", "response": {"result": "sunny"}}}]}
    ]});
    let req = crate::dialects::gemini::decode_request(body.to_string().as_bytes()).unwrap();
    let model_turn = &req.messages[1].content;
    assert_eq!(model_turn[0], Block::Thinking { thinking: "let me check".into(), signature: Some("EqQBSig==".into()) });
    assert!(matches!(model_turn[1], Block::ToolUse { .. }));
}
