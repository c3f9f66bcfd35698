//! Stream decoding (upstream chunks -> IR events) and encoding (IR events -> caller chunks).

use bytes::BytesMut;
use serde_json::{Value, json};

use super::super::{StreamDecoder, StreamEncoder};
use crate::ir::{ApiError, BlockDelta, BlockStart, ErrorKind, Request, StopReason, StreamEvent, Usage};
use crate::sse::{SseEvent, SseParser};

/// Decodes a whole SSE body fed in small pieces.
pub fn decode_sse(body: &[u8]) -> Vec<StreamEvent> {
    let mut parser = SseParser::new();
    let mut sse = Vec::new();
    let mut events = Vec::new();
    let mut d = StreamDecoder::new();
    for piece in body.chunks(29) {
        parser.feed(piece, &mut sse);
        for ev in sse.drain(..) {
            d.feed(ev.as_ref(), &mut events);
        }
    }
    parser.finish(&mut sse);
    for ev in sse.drain(..) {
        d.feed(ev.as_ref(), &mut events);
    }
    d.finish(&mut events);
    events
}

/// The IR stream invariants of `crate::ir::StreamEvent`.
pub fn assert_invariants(events: &[StreamEvent]) {
    if let Err(e) = crate::ir::check_order(events) {
        panic!("{e}\n{events:?}");
    }
}

fn chunk(parts: Value, finish: Option<&str>, usage: Option<Value>) -> String {
    let mut c = json!({"candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
        "modelVersion": "gemini-2.5-pro", "responseId": "r1"});
    if let Some(f) = finish {
        c["candidates"][0]["finishReason"] = json!(f);
    }
    if let Some(u) = usage {
        c["usageMetadata"] = u;
    }
    c.to_string()
}

fn run(datas: &[String], finish: bool) -> Vec<StreamEvent> {
    let mut d = StreamDecoder::new();
    let mut out = Vec::new();
    for data in datas {
        d.feed(SseEvent { event: None, data: data.clone() }.as_ref(), &mut out);
    }
    if finish {
        d.finish(&mut out);
    }
    assert_invariants(&out);
    out
}

fn start(i: usize, block: BlockStart) -> StreamEvent {
    StreamEvent::BlockStart { index: i, block }
}
fn delta(i: usize, delta: BlockDelta) -> StreamEvent {
    StreamEvent::BlockDelta { index: i, delta }
}
fn stop(i: usize) -> StreamEvent {
    StreamEvent::BlockStop { index: i }
}

#[test]
fn thoughts_text_and_parallel_calls() {
    let out = run(
        &[
            chunk(json!([{"text": "Think", "thought": true}]), None, None),
            chunk(json!([{"text": "ing", "thought": true}]), None, None),
            chunk(json!([{"text": "Hi"}]), None, None),
            chunk(json!([{"text": " there"}]), None, None),
            chunk(
                json!([{"functionCall": {"name": "f", "args": {"x": 1}}, "thoughtSignature": "c2ln"},
                       {"functionCall": {"id": "given", "name": "g", "args": {}}}]),
                Some("STOP"),
                Some(json!({"promptTokenCount": 50, "candidatesTokenCount": 9, "thoughtsTokenCount": 4,
                    "cachedContentTokenCount": 10, "totalTokenCount": 63})),
            ),
        ],
        true,
    );
    assert_eq!(
        out[0],
        StreamEvent::MessageStart { id: "r1".into(), model: "gemini-2.5-pro".into(), usage: Usage::default() }
    );
    assert_eq!(out[1], start(0, BlockStart::Thinking));
    assert_eq!(out[2], delta(0, BlockDelta::Thinking("Think".into())));
    assert_eq!(out[3], delta(0, BlockDelta::Thinking("ing".into())));
    assert_eq!(out[4], stop(0));
    assert_eq!(out[5], start(1, BlockStart::Text));
    assert_eq!(out[7], delta(1, BlockDelta::Text(" there".into())));
    // The signature is its own thinking block right before the call that carried it.
    assert_eq!(out[9], start(2, BlockStart::Thinking));
    assert_eq!(out[10], delta(2, BlockDelta::Signature("c2ln".into())));
    assert_eq!(out[11], stop(2));
    let StreamEvent::BlockStart { index: 3, block: BlockStart::ToolUse { id, name } } = &out[12] else {
        panic!("{:?}", out[12]);
    };
    assert!(id.starts_with("call_") && name == "f");
    assert_eq!(out[13], delta(3, BlockDelta::InputJson("{\"x\":1}".into())));
    assert_eq!(out[15], start(4, BlockStart::ToolUse { id: "given".into(), name: "g".into() }));
    assert_eq!(
        out[out.len() - 2],
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage {
                input_tokens: 40,
                output_tokens: 13,
                cache_read_tokens: 10,
                cache_write_tokens: 0,
                reasoning_tokens: 4
            },
        }
    );
    assert_eq!(out.last(), Some(&StreamEvent::MessageStop));
}

#[test]
fn signature_on_thought_part_closes_that_thought() {
    let out = run(
        &[
            chunk(json!([{"text": "a", "thought": true, "thoughtSignature": "s1"}]), None, None),
            chunk(json!([{"text": "b", "thought": true}]), Some("STOP"), None),
        ],
        true,
    );
    assert_eq!(out[2], delta(0, BlockDelta::Thinking("a".into())));
    assert_eq!(out[3], delta(0, BlockDelta::Signature("s1".into())));
    assert_eq!(out[4], stop(0));
    assert_eq!(out[5], start(1, BlockStart::Thinking));
}

#[test]
fn truncated_error_chunk_and_failed_finish() {
    let out = run(&[chunk(json!([{"text": "Hi"}]), None, None)], true);
    let Some(StreamEvent::Error(e)) = out.last() else { panic!("{out:?}") };
    assert_eq!(e.kind, ErrorKind::BadGateway);
    assert!(e.message.contains("finishReason"));

    let err = json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}).to_string();
    let out = run(&[chunk(json!([{"text": "Hi"}]), None, None), err], true);
    let Some(StreamEvent::Error(e)) = out.last() else { panic!("{out:?}") };
    assert_eq!(e.kind, ErrorKind::RateLimit);

    let out = run(&[chunk(json!([]), Some("MALFORMED_FUNCTION_CALL"), None)], true);
    let Some(StreamEvent::Error(e)) = out.last() else { panic!("{out:?}") };
    assert_eq!(e.status, 502);
}

#[test]
fn unknown_part_is_an_error() {
    let out = run(&[chunk(json!([{"executableCode": {"code": "1"}}]), Some("STOP"), None)], true);
    assert!(matches!(out.last(), Some(StreamEvent::Error(_))));
}

fn encode(events: &[StreamEvent]) -> Vec<Value> {
    let mut enc = StreamEncoder::new(&Request { model: "caller-model".into(), ..Request::default() });
    let mut buf = BytesMut::new();
    for ev in events {
        enc.encode(ev, &mut buf);
    }
    let text = String::from_utf8(buf.to_vec()).unwrap();
    assert!(!text.contains("event:"));
    text.split("\n\n")
        .filter(|s| !s.is_empty())
        .map(|s| serde_json::from_str(s.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

#[test]
fn encoder_one_part_per_chunk_signature_on_next_part_finish_on_last() {
    let chunks = encode(&[
        StreamEvent::MessageStart { id: "m1".into(), model: String::new(), usage: Usage::default() },
        start(0, BlockStart::Thinking),
        delta(0, BlockDelta::Thinking("hmm".into())),
        delta(0, BlockDelta::Signature("SIG".into())),
        stop(0),
        start(1, BlockStart::Text),
        delta(1, BlockDelta::Text("Hi".into())),
        stop(1),
        start(2, BlockStart::ToolUse { id: "t1".into(), name: "f".into() }),
        delta(2, BlockDelta::InputJson("{\"a\"".into())),
        delta(2, BlockDelta::InputJson(":1}".into())),
        stop(2),
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage { input_tokens: 5, output_tokens: 7, reasoning_tokens: 2, ..Usage::default() },
        },
        StreamEvent::MessageStop,
    ]);
    assert_eq!(chunks.len(), 3);
    let part = |i: usize| chunks[i]["candidates"][0]["content"]["parts"][0].clone();
    assert_eq!(part(0), json!({"text": "hmm", "thought": true}));
    // A signature minted elsewhere travels wrapped with its thinking text (see `signature`).
    assert_eq!(part(1), json!({"text": "Hi", "thoughtSignature": super::super::signature::wrap("hmm", "SIG")}));
    assert_eq!(part(2), json!({"functionCall": {"id": "t1", "name": "f", "args": {"a": 1}}}));
    assert_eq!(chunks[0]["modelVersion"], "caller-model");
    assert_eq!(chunks[0]["responseId"], "m1");
    assert!(chunks[1]["candidates"][0].get("finishReason").is_none());
    assert_eq!(chunks[2]["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        chunks[2]["usageMetadata"],
        json!({"promptTokenCount": 5, "candidatesTokenCount": 5, "thoughtsTokenCount": 2, "totalTokenCount": 12})
    );
}

#[test]
fn encoder_lone_signature_and_empty_answer() {
    let chunks = encode(&[
        StreamEvent::MessageStart { id: "m".into(), model: "x".into(), usage: Usage::default() },
        start(0, BlockStart::Thinking),
        delta(0, BlockDelta::Signature("S".into())),
        stop(0),
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::MaxTokens),
            stop_sequence: None,
            usage: Usage::default(),
        },
        StreamEvent::MessageStop,
    ]);
    assert_eq!(chunks.len(), 1);
    assert_eq!(
        chunks[0]["candidates"][0]["content"]["parts"][0],
        json!({"text": "", "thought": true, "thoughtSignature": super::super::signature::wrap("", "S")})
    );
    assert_eq!(chunks[0]["candidates"][0]["finishReason"], "MAX_TOKENS");

    let chunks = encode(&[
        StreamEvent::MessageStart { id: "m".into(), model: "x".into(), usage: Usage::default() },
        StreamEvent::MessageDelta { stop_reason: None, stop_sequence: None, usage: Usage::default() },
        StreamEvent::MessageStop,
    ]);
    assert_eq!(chunks[0]["candidates"][0]["content"], json!({"role": "model"}));
}

#[test]
fn encoder_error_flushes_held_chunk_then_stops() {
    let chunks = encode(&[
        StreamEvent::MessageStart { id: "m".into(), model: "x".into(), usage: Usage::default() },
        start(0, BlockStart::Text),
        delta(0, BlockDelta::Text("partial".into())),
        StreamEvent::Error(ApiError::new(ErrorKind::Unavailable, "overloaded")),
        stop(0),
        StreamEvent::MessageStop,
    ]);
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0]["candidates"][0]["content"]["parts"][0]["text"], "partial");
    assert_eq!(chunks[1], json!({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}));
}

#[test]
fn encoder_invalid_tool_arguments_is_an_error() {
    let chunks = encode(&[
        StreamEvent::MessageStart { id: "m".into(), model: "x".into(), usage: Usage::default() },
        start(0, BlockStart::ToolUse { id: "t".into(), name: "f".into() }),
        delta(0, BlockDelta::InputJson("{nope".into())),
        stop(0),
    ]);
    assert_eq!(chunks[0]["error"]["code"], 502);
}
