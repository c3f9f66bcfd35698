//! IR stream events -> caller chunks.

use bytes::BytesMut;
use serde_json::{Value, json};

use crate::dialects::openai_chat::StreamEncoder;
use crate::ir::{ApiError, BlockDelta, BlockStart, ErrorKind, Request, StopReason, StreamEvent, Usage};
use crate::sse::SseParser;

fn encode(include_usage: bool, events: &[StreamEvent]) -> Vec<String> {
    let req = Request { stream: true, stream_include_usage: include_usage, ..Request::default() };
    let mut e = StreamEncoder::new(&req);
    let mut buf = BytesMut::new();
    for ev in events {
        e.encode(ev, &mut buf);
    }
    let mut p = SseParser::new();
    let mut out = Vec::new();
    p.feed(&buf, &mut out);
    p.finish(&mut out);
    out.into_iter().map(|e| e.data).collect()
}

fn parsed(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::MessageStart {
            id: "msg_1".into(),
            model: "claude".into(),
            usage: Usage { input_tokens: 10, ..Usage::default() },
        },
        StreamEvent::Ping,
        StreamEvent::BlockStart { index: 0, block: BlockStart::Thinking },
        StreamEvent::BlockDelta { index: 0, delta: BlockDelta::Thinking("hm".into()) },
        StreamEvent::BlockDelta { index: 0, delta: BlockDelta::Signature("sig".into()) },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::BlockStart { index: 1, block: BlockStart::Text },
        StreamEvent::BlockDelta { index: 1, delta: BlockDelta::Text("Hi".into()) },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::BlockStart { index: 2, block: BlockStart::ToolUse { id: "t1".into(), name: "f".into() } },
        StreamEvent::BlockDelta { index: 2, delta: BlockDelta::InputJson("{}".into()) },
        StreamEvent::BlockStop { index: 2 },
        StreamEvent::BlockStart { index: 3, block: BlockStart::ToolUse { id: "t2".into(), name: "g".into() } },
        StreamEvent::BlockDelta { index: 3, delta: BlockDelta::InputJson("{\"a\":1}".into()) },
        StreamEvent::BlockStop { index: 3 },
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage { input_tokens: 10, output_tokens: 7, ..Usage::default() },
        },
        StreamEvent::MessageStop,
    ]
}

#[test]
fn full_stream_with_tool_indices_usage_and_done() {
    let out = encode(true, &events());
    let deltas: Vec<Value> = out[..out.len() - 2]
        .iter()
        .map(|s| {
            let v = parsed(s);
            assert_eq!(v["object"], "chat.completion.chunk");
            assert_eq!(v["id"], "msg_1");
            assert_eq!(v["model"], "claude");
            v["choices"][0].clone()
        })
        .collect();
    let d: Vec<&Value> = deltas.iter().map(|c| &c["delta"]).collect();
    assert_eq!(d[0], &json!({"role": "assistant", "content": ""}));
    assert_eq!(d[1], &json!({"reasoning_content": "hm"}));
    assert_eq!(d[2], &json!({"content": "Hi"}));
    assert_eq!(
        d[3],
        &json!({"tool_calls": [{"index": 0, "id": "t1", "type": "function",
            "function": {"name": "f", "arguments": ""}}]})
    );
    assert_eq!(d[4], &json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}));
    assert_eq!(d[5]["tool_calls"][0]["index"], 1);
    assert_eq!(d[5]["tool_calls"][0]["id"], "t2");
    assert_eq!(d[6], &json!({"tool_calls": [{"index": 1, "function": {"arguments": "{\"a\":1}"}}]}));
    assert_eq!(d[7], &json!({}));
    assert_eq!(deltas[7]["finish_reason"], "tool_calls");
    assert!(deltas[..7].iter().all(|c| c["finish_reason"].is_null()));
    assert_eq!(deltas.len(), 8);
    let usage = parsed(&out[out.len() - 2]);
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 10);
    assert_eq!(usage["usage"]["completion_tokens"], 7);
    assert_eq!(usage["usage"]["total_tokens"], 17);
    assert_eq!(out.last().map(String::as_str), Some("[DONE]"));
}

#[test]
fn no_usage_chunk_unless_asked() {
    let out = encode(false, &events());
    assert_eq!(out.last().map(String::as_str), Some("[DONE]"));
    assert!(out.iter().all(|s| !s.contains("\"usage\"")));
}

#[test]
fn error_chunk_ends_the_stream() {
    let mut evs = events()[..8].to_vec();
    evs.push(StreamEvent::Error(ApiError::new(ErrorKind::Unavailable, "overloaded")));
    evs.push(StreamEvent::MessageStop);
    let out = encode(true, &evs);
    let last = parsed(out.last().unwrap());
    assert_eq!(
        last,
        json!({"error": {"message": "overloaded", "type": "service_unavailable_error",
            "param": null, "code": null}})
    );
    assert!(!out.iter().any(|s| s == "[DONE]"));
}

/// Every chunk is the bytes `serde_json::Value` writes for it (sorted keys, compact), the hand
/// written deltas included, with text that needs escapes.
#[test]
fn chunks_are_the_value_encoding() {
    let odd = "q\"uo\\te\n\u{1}\u{7f}é😀";
    let mut evs = events();
    evs.insert(8, StreamEvent::BlockDelta { index: 1, delta: BlockDelta::Text(odd.into()) });
    evs.insert(2, StreamEvent::BlockDelta { index: 0, delta: BlockDelta::Thinking(odd.into()) });
    let out = encode(true, &evs);
    assert!(out.len() > 8);
    for data in out.iter().filter(|d| *d != "[DONE]") {
        assert_eq!(parsed(data).to_string(), *data);
    }
    assert!(out.iter().any(|d| d.contains(r#""content":"q\"uo\\te\n\u0001"#)), "{out:?}");
}
