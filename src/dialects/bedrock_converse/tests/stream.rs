//! Stream decoding and encoding: event order, the message delta on `metadata`, exceptions,
//! truncation, and frames that fail their checksum.

use bytes::BytesMut;
use serde_json::{Value, json};

use super::super::*;
use crate::eventstream::{self, Message};
use crate::ir::{ApiError, BlockDelta, BlockStart, ErrorKind, Request, StopReason, StreamEvent, Usage, check_order};
use crate::translate::StreamTranslator;

fn ev(t: &str, p: Value) -> Message {
    Message::event(t, p.to_string())
}

fn run(msgs: &[Message], finish: bool) -> Vec<StreamEvent> {
    let mut d = StreamDecoder::new();
    let mut out = Vec::new();
    for m in msgs {
        d.feed(m, &mut out);
    }
    if finish {
        d.finish(&mut out);
    }
    check_order(&out).unwrap();
    out
}

#[test]
fn message_delta_waits_for_metadata() {
    let out = run(
        &[
            ev("messageStart", json!({"role": "assistant"})),
            ev("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "a"}})),
            ev("messageStop", json!({"stopReason": "max_tokens"})),
        ],
        false,
    );
    assert!(!out.iter().any(|e| matches!(e, StreamEvent::MessageDelta { .. })), "{out:?}");
    let mut d = StreamDecoder::new();
    let mut out = Vec::new();
    for m in [
        ev("messageStop", json!({"stopReason": "max_tokens"})),
        ev("metadata", json!({"usage": {"inputTokens": 2, "outputTokens": 9, "cacheWriteInputTokens": 7}})),
    ] {
        d.feed(&m, &mut out);
    }
    let usage = Usage { input_tokens: 2, output_tokens: 9, cache_write_tokens: 7, ..Usage::default() };
    assert_eq!(
        out[1..],
        [
            StreamEvent::MessageDelta { stop_reason: Some(StopReason::MaxTokens), stop_sequence: None, usage },
            StreamEvent::MessageStop
        ]
    );
    // Without metadata the stream still completes at its end.
    let out = run(&[ev("messageStop", json!({"stopReason": "end_turn"}))], true);
    assert_eq!(out.last(), Some(&StreamEvent::MessageStop));
}

#[test]
fn blocks_are_reindexed_and_kinds_kept_apart() {
    let out = run(
        &[
            ev("contentBlockDelta", json!({"contentBlockIndex": 3, "delta": {"reasoningContent": {"text": "t"}}})),
            ev("contentBlockDelta", json!({"contentBlockIndex": 3, "delta": {"reasoningContent": {"signature": "s"}}})),
            ev("contentBlockDelta", json!({"contentBlockIndex": 3, "delta": {"text": "x"}})),
            ev(
                "contentBlockDelta",
                json!({"contentBlockIndex": 5, "delta": {"reasoningContent": {"redactedContent": "YWJj"}}}),
            ),
            ev("contentBlockStop", json!({"contentBlockIndex": 5})),
            ev("messageStop", json!({"stopReason": "end_turn"})),
        ],
        true,
    );
    assert_eq!(out[1], StreamEvent::BlockStart { index: 0, block: BlockStart::Thinking });
    assert_eq!(out[3], StreamEvent::BlockDelta { index: 0, delta: BlockDelta::Signature("s".into()) });
    assert_eq!(out[5], StreamEvent::BlockStart { index: 1, block: BlockStart::Text });
    assert_eq!(
        out[8],
        StreamEvent::BlockStart { index: 2, block: BlockStart::RedactedThinking { data: "abc".into() } }
    );
}

#[test]
fn exceptions_truncation_and_stray_tool_input_end_the_stream() {
    let out = run(
        &[ev("messageStart", json!({})), Message::exception("throttlingException", r#"{"message":"slow down"}"#)],
        true,
    );
    let StreamEvent::Error(e) = out.last().unwrap() else { panic!("{out:?}") };
    assert_eq!((e.kind, e.message.as_str()), (ErrorKind::RateLimit, "slow down"));
    let out = run(&[ev("messageStart", json!({}))], true);
    assert!(matches!(out.last(), Some(StreamEvent::Error(e)) if e.message.contains("before messageStop")));
    let out =
        run(&[ev("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{"}}}))], true);
    assert!(matches!(out.last(), Some(StreamEvent::Error(e)) if e.kind == ErrorKind::BadGateway));
}

#[test]
fn corrupt_frames_become_an_error_event_for_the_caller() {
    let mut wire = BytesMut::new();
    eventstream::encode(&ev("messageStart", json!({"role": "assistant"})), &mut wire).unwrap();
    eventstream::encode(&ev("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "hi"}})), &mut wire)
        .unwrap();
    let n = wire.len();
    wire[n - 10] ^= 1;
    let mut t =
        StreamTranslator::new(crate::ir::Dialect::BedrockConverse, crate::ir::Dialect::Anthropic, &Request::default());
    let mut out = t.feed(&wire, &mut |_| {}).to_vec();
    out.extend_from_slice(&t.finish(&mut |_| {}));
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("event: error") && text.contains("CRC mismatch"), "{text}");
}

#[test]
fn encoder_writes_whole_frames_in_bedrock_order() {
    let mut enc = StreamEncoder::new(&Request::default());
    let mut out = BytesMut::new();
    let usage = Usage { input_tokens: 5, output_tokens: 1, ..Usage::default() };
    for e in [
        StreamEvent::MessageStart { id: "m".into(), model: "x".into(), usage },
        StreamEvent::BlockStart { index: 0, block: BlockStart::ToolUse { id: "t".into(), name: "f".into() } },
        StreamEvent::BlockDelta { index: 0, delta: BlockDelta::InputJson("{}".into()) },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage::default(),
        },
        StreamEvent::MessageStop,
        StreamEvent::Error(ApiError::new(ErrorKind::Api, "ignored after the stop")),
    ] {
        enc.encode(&e, &mut out);
    }
    let mut d = eventstream::Decoder::default();
    let mut msgs = Vec::new();
    d.feed(&out, &mut msgs).unwrap();
    let types: Vec<&str> = msgs.iter().filter_map(|m| m.str_header(":event-type")).collect();
    assert_eq!(
        types,
        ["messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"]
    );
    let meta: Value = serde_json::from_slice(&msgs[5].payload).unwrap();
    assert_eq!(meta["usage"], json!({"inputTokens": 5, "outputTokens": 1, "totalTokens": 6}));
}

#[test]
fn announced_text_blocks_open_with_their_first_delta() {
    let out = run(
        &[
            ev("contentBlockStart", json!({"contentBlockIndex": 0, "start": {"text": ""}})),
            ev("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "a"}})),
            ev("contentBlockStop", json!({"contentBlockIndex": 0})),
            ev("messageStop", json!({"stopReason": "end_turn"})),
        ],
        true,
    );
    assert_eq!(out[1], StreamEvent::BlockStart { index: 0, block: BlockStart::Text });
    assert_eq!(out.last(), Some(&StreamEvent::MessageStop));
}
