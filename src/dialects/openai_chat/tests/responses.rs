//! Non-streaming responses both ways.

use serde_json::{Value, json};

use crate::dialects::openai_chat::{decode_response, encode_response};
use crate::ir::{Block, ErrorKind, Response, StopReason, Usage};

fn decode(v: Value) -> Response {
    decode_response(v.to_string().as_bytes()).unwrap()
}

#[test]
fn decodes_reasoning_text_tools_and_usage() {
    let r = decode(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "deepseek-reasoner",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "hi", "reasoning_content": "hmm",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
                {"id": "c1", "type": "function", "function": {"name": "g", "arguments": ""}}
            ]}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 30, "total_tokens": 130,
            "prompt_tokens_details": {"cached_tokens": 80},
            "completion_tokens_details": {"reasoning_tokens": 12}}
    }));
    assert_eq!(r.id, "chatcmpl-1");
    assert_eq!(r.model, "deepseek-reasoner");
    assert_eq!(r.content[0], Block::Thinking { thinking: "hmm".into(), signature: None });
    assert!(matches!(&r.content[1], Block::Text { text, .. } if text == "hi"));
    assert!(matches!(&r.content[2], Block::ToolUse { id, input, .. } if id == "c1" && input == &json!({"a": 1})));
    // Duplicate id replaced by a generated one.
    assert!(
        matches!(&r.content[3], Block::ToolUse { id, input, .. } if id.starts_with("call_") && id != "c1" && input == &json!({}))
    );
    assert_eq!(r.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 20,
            output_tokens: 30,
            cache_read_tokens: 80,
            cache_write_tokens: 0,
            reasoning_tokens: 12
        }
    );
}

#[test]
fn finish_reasons_and_reasoning_alias() {
    for (f, want) in [
        ("stop", StopReason::EndTurn),
        ("length", StopReason::MaxTokens),
        ("content_filter", StopReason::ContentFilter),
        ("function_call", StopReason::ToolUse),
    ] {
        let r = decode(json!({"choices": [{"finish_reason": f,
            "message": {"content": null, "reasoning": "r", "refusal": "no"}}]}));
        assert_eq!(r.stop_reason, Some(want));
        assert!(matches!(&r.content[0], Block::Thinking { thinking, .. } if thinking == "r"));
        assert!(matches!(&r.content[1], Block::Text { text, .. } if text == "no"));
    }
    // `stop` after tool calls (Ollama) still means tool use.
    let r = decode(json!({"choices": [{"finish_reason": "stop", "message": {"tool_calls": [
        {"id": "x", "function": {"name": "f", "arguments": "{}"}}]}}]}));
    assert_eq!(r.stop_reason, Some(StopReason::ToolUse));
}

#[test]
fn bad_upstream_bodies_are_bad_gateway() {
    for body in [
        json!({"choices": []}),
        json!({"choices": [{"message": {"tool_calls": [
            {"id": "x", "function": {"name": "f", "arguments": "{nope"}}]}}]}),
    ] {
        let e = decode_response(body.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadGateway, "{}", e.message);
    }
    let e = decode_response(
        br#"{"choices":[{"message":{"tool_calls":[{"id":"x","function":{"name":"lookup","arguments":"{"}}]}}]}"#,
    )
    .unwrap_err();
    assert!(e.message.contains("lookup"));
}

#[test]
fn encodes_chat_completion() {
    let resp = Response {
        id: "msg_1".into(),
        model: "claude".into(),
        content: vec![
            Block::Thinking { thinking: "t".into(), signature: Some("s".into()) },
            Block::Text { text: "answer".into(), cache_control: None },
            Block::ToolUse { id: "toolu_1".into(), name: "f".into(), input: json!({"a": 1}) },
        ],
        stop_reason: Some(StopReason::ToolUse),
        stop_sequence: None,
        usage: Usage {
            input_tokens: 10,
            output_tokens: 5,
            cache_read_tokens: 100,
            cache_write_tokens: 20,
            reasoning_tokens: 0,
        },
    };
    let mut v: Value = serde_json::from_slice(&encode_response(&resp)).unwrap();
    assert!(v["created"].as_u64().unwrap() > 0);
    v["created"] = json!(0);
    assert_eq!(
        v,
        json!({
            "id": "msg_1", "object": "chat.completion", "created": 0, "model": "claude",
            "choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": "answer", "refusal": null,
                "reasoning_content": "t",
                "tool_calls": [{"id": "toolu_1", "type": "function",
                    "function": {"name": "f", "arguments": "{\"a\":1}"}}]}}],
            "usage": {"prompt_tokens": 130, "completion_tokens": 5, "total_tokens": 135,
                "prompt_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 20},
                "completion_tokens_details": {"reasoning_tokens": 0}}
        })
    );
    for (stop, want) in [
        (StopReason::EndTurn, "stop"),
        (StopReason::StopSequence, "stop"),
        (StopReason::PauseTurn, "stop"),
        (StopReason::MaxTokens, "length"),
        (StopReason::ContextWindowExceeded, "length"),
        (StopReason::Refusal, "content_filter"),
        (StopReason::ContentFilter, "content_filter"),
    ] {
        let r = Response { content: vec![], stop_reason: Some(stop), ..resp.clone() };
        let v: Value = serde_json::from_slice(&encode_response(&r)).unwrap();
        assert_eq!(v["choices"][0]["finish_reason"], want);
        assert_eq!(v["choices"][0]["message"]["content"], Value::Null);
        assert!(v["choices"][0]["message"].get("tool_calls").is_none());
    }
}

/// The one-pass reader of an upstream completion reads every fixture answer, the benchmark's
/// and a body with every member it reads, as the derived code does; on seeded mutations of them
/// it either steps aside or agrees (errors included, by falling back).
#[test]
fn the_reader_reads_what_the_derived_code_reads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/openai_chat/responses");
    let mut seeds: Vec<Vec<u8>> =
        std::fs::read_dir(dir).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    seeds.push(include_bytes!("../../../../benches/fixtures/openai.json").to_vec());
    seeds.push(
        br#"{"id":null,"model":"m","choices":[{"index":1,"message":null},{"index":0,"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"\u00e9\n"}],"refusal":"no","reasoning":"r","reasoning_content":"","tool_calls":[{"index":0,"id":null,"type":"function","function":{"name":"f","arguments":null}},{"function":null}]},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":9,"completion_tokens":null,"prompt_tokens_details":{"cached_tokens":2,"cache_write_tokens":1},"completion_tokens_details":null,"prompt_cache_hit_tokens":3,"total_tokens":9}}"#.to_vec(),
    );
    assert!(seeds.len() > 6);
    for (n, seed) in seeds.iter().enumerate() {
        let text = std::str::from_utf8(seed).unwrap();
        assert!(super::super::response_fast::read(text).is_some(), "the reader steps aside on {text}");
        assert!(super::super::response_reader_agrees(seed), "{text}");
        for body in crate::jsonscan::mutations(seed, 300, 11 + n as u64) {
            assert!(super::super::response_reader_agrees(&body), "{}", String::from_utf8_lossy(&body));
        }
    }
}
