//! `decode_response` / `encode_response`: blocks, stop reasons and usage both ways.

use serde_json::json;

use super::super::{decode_response, encode_response};
use super::json;
use crate::ir::{Block, ErrorKind, Response, StopReason, Usage};

#[test]
fn decodes_every_block_kind_and_usage() {
    let body = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [
            {"type": "thinking", "thinking": "t", "signature": "S+/="},
            {"type": "redacted_thinking", "data": "r"},
            {"type": "text", "text": "hi", "citations": null},
            {"type": "tool_use", "id": "tu", "name": "f", "input": {"a": [1]}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 5, "output_tokens": 7, "cache_creation_input_tokens": 3,
                  "cache_read_input_tokens": null, "service_tier": "standard"}
    });
    let r = decode_response(body.to_string().as_bytes()).unwrap();
    assert_eq!(r.id, "msg_1");
    assert_eq!(r.model, "claude-x");
    assert_eq!(r.content[0], Block::Thinking { thinking: "t".into(), signature: Some("S+/=".into()) });
    assert_eq!(r.content[1], Block::RedactedThinking { data: "r".into() });
    assert_eq!(r.content[2], Block::Text { text: "hi".into(), cache_control: None });
    assert_eq!(r.content[3], Block::ToolUse { id: "tu".into(), name: "f".into(), input: json!({"a": [1]}) });
    assert_eq!(r.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(r.usage, Usage { input_tokens: 5, output_tokens: 7, cache_write_tokens: 3, ..Usage::default() });
}

#[test]
fn stop_reasons() {
    for (wire, ir) in [
        ("end_turn", StopReason::EndTurn),
        ("max_tokens", StopReason::MaxTokens),
        ("stop_sequence", StopReason::StopSequence),
        ("tool_use", StopReason::ToolUse),
        ("pause_turn", StopReason::PauseTurn),
        ("refusal", StopReason::Refusal),
        ("model_context_window_exceeded", StopReason::ContextWindowExceeded),
    ] {
        let body = json!({"id": "m", "model": "x", "content": [], "stop_reason": wire, "usage": {}});
        let r = decode_response(body.to_string().as_bytes()).unwrap();
        assert_eq!(r.stop_reason, Some(ir));
        let back = json(&encode_response(&r));
        assert_eq!(back["stop_reason"], wire);
    }
}

#[test]
fn unknown_block_type_is_bad_gateway() {
    let body = json!({"id": "m", "model": "x", "content": [{"type": "container_upload", "file_id": "f"}], "usage": {}});
    let e = decode_response(body.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadGateway);
    assert!(e.message.contains("container_upload"), "{}", e.message);
    let e = decode_response(b"not json").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadGateway);
}

#[test]
fn encodes_message_shape() {
    let r = Response {
        id: "chatcmpl-1".into(),
        model: "gpt-4o".into(),
        content: vec![
            Block::Thinking { thinking: "reasoned".into(), signature: None },
            Block::Text { text: "answer".into(), cache_control: None },
            Block::ToolUse { id: "call_1".into(), name: "f".into(), input: json!({"q": 1}) },
        ],
        stop_reason: Some(StopReason::ContentFilter),
        stop_sequence: None,
        usage: Usage {
            input_tokens: 1,
            output_tokens: 2,
            cache_read_tokens: 3,
            cache_write_tokens: 4,
            reasoning_tokens: 1,
        },
    };
    assert_eq!(
        json(&encode_response(&r)),
        json!({
            "id": "chatcmpl-1", "type": "message", "role": "assistant", "model": "gpt-4o",
            "content": [
                {"type": "thinking", "thinking": "reasoned", "signature": ""},
                {"type": "text", "text": "answer"},
                {"type": "tool_use", "id": "call_1", "name": "f", "input": {"q": 1}}
            ],
            "stop_reason": "refusal", "stop_sequence": null,
            "usage": {"input_tokens": 1, "output_tokens": 2, "cache_creation_input_tokens": 4, "cache_read_input_tokens": 3}
        })
    );
}

/// The one-pass reader of an upstream Message reads every fixture answer, the benchmark's and
/// this test file's bodies, and reads each as the derived code does; on seeded mutations of them
/// it either steps aside or agrees (errors included, by falling back).
#[test]
fn the_reader_reads_what_the_derived_code_reads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/anthropic/responses");
    let mut seeds: Vec<Vec<u8>> =
        std::fs::read_dir(dir).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    seeds.push(include_bytes!("../../../../benches/fixtures/anthropic.json").to_vec());
    seeds.push(
        br#"{"id":"m","model":"c","content":[{"type":"thinking","thinking":"t","signature":"S"},{"type":"redacted_thinking","data":"r"},{"type":"text","text":"a\n\"b\"","citations":null},{"type":"tool_use","id":"tu","name":"f","input":null},{"type":"tool_use","id":"tu2","name":"g"}],"stop_reason":"stop_sequence","stop_sequence":"\u00e9","usage":{"input_tokens":5,"output_tokens":null,"server_tool_use":{"web_search_requests":1}}}"#.to_vec(),
    );
    assert!(seeds.len() > 8);
    for (n, seed) in seeds.iter().enumerate() {
        let text = std::str::from_utf8(seed).unwrap();
        let fast = super::super::response_fast::read(text);
        assert!(fast.is_some(), "the reader steps aside on {text}");
        assert_eq!(fast.map(Ok), Some(super::super::response::decode_response_by(seed, false)), "{text}");
        for body in crate::jsonscan::mutations(seed, 300, 7 + n as u64) {
            assert!(super::super::response_reader_agrees(&body), "{}", String::from_utf8_lossy(&body));
        }
    }
}
