//! `StreamDecoder` invariants and `StreamEncoder` output.

use bytes::BytesMut;
use serde_json::json;

use super::super::{StreamDecoder, StreamEncoder};
use crate::ir::{ApiError, BlockDelta, BlockStart, ErrorKind, Request, StopReason, StreamEvent, Usage};
use crate::sse::SseParser;

pub(super) fn decode_sse(bytes: &[u8]) -> Vec<StreamEvent> {
    let mut parser = SseParser::new();
    let mut sse = Vec::new();
    for piece in bytes.chunks(23) {
        parser.feed(piece, &mut sse);
    }
    parser.finish(&mut sse);
    let mut d = StreamDecoder::new();
    let mut out = Vec::new();
    for ev in &sse {
        d.feed(ev.as_ref(), &mut out);
    }
    d.finish(&mut out);
    out
}

fn ev(data: serde_json::Value) -> String {
    format!("event: {}\ndata: {}\n\n", data["type"].as_str().unwrap(), data)
}

fn start() -> String {
    ev(json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
        "model": "claude-x", "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 4, "output_tokens": 1}}}))
}

/// Checks the invariants of `ir::StreamEvent` over a whole decoded stream.
pub(super) fn assert_invariants(evs: &[StreamEvent]) {
    if let Err(e) = crate::ir::check_order(evs) {
        panic!("{e}\n{evs:?}");
    }
    assert!(matches!(evs.first(), Some(StreamEvent::MessageStart { .. } | StreamEvent::Error(_))), "{evs:?}");
    assert!(matches!(evs.last(), Some(StreamEvent::MessageStop | StreamEvent::Error(_))), "{evs:?}");
}

#[test]
fn decodes_thinking_text_and_tools() {
    let s = start()
        + &ev(
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        )
        + &ev(json!({"type": "ping"}))
        + &ev(
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}}),
        )
        + &ev(
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "S+/="}}),
        )
        + &ev(json!({"type": "content_block_stop", "index": 0}))
        + &ev(json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}))
        + &ev(json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "ok"}}))
        + &ev(json!({"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": {}}}))
        + &ev(json!({"type": "content_block_stop", "index": 1}))
        + &ev(
            json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}}),
        )
        + &ev(
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"a\":"}}),
        )
        + &ev(
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "1}"}}),
        )
        + &ev(json!({"type": "content_block_stop", "index": 2}))
        + &ev(
            json!({"type": "content_block_start", "index": 3, "content_block": {"type": "redacted_thinking", "data": "R"}}),
        )
        + &ev(json!({"type": "content_block_stop", "index": 3}))
        + &ev(json!({"type": "some_future_event"}))
        + &ev(
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 42}}),
        )
        + &ev(json!({"type": "message_stop"}));
    let evs = decode_sse(s.as_bytes());
    assert_invariants(&evs);
    let start_usage = Usage { input_tokens: 10, cache_read_tokens: 4, output_tokens: 1, ..Usage::default() };
    use BlockDelta as D;
    use StreamEvent as E;
    assert_eq!(
        evs,
        vec![
            E::MessageStart { id: "msg_1".into(), model: "claude-x".into(), usage: start_usage },
            E::BlockStart { index: 0, block: BlockStart::Thinking },
            E::Ping,
            E::BlockDelta { index: 0, delta: D::Thinking("hm".into()) },
            E::BlockDelta { index: 0, delta: D::Signature("S+/=".into()) },
            E::BlockStop { index: 0 },
            E::BlockStart { index: 1, block: BlockStart::Text },
            E::BlockDelta { index: 1, delta: D::Text("ok".into()) },
            E::BlockStop { index: 1 },
            E::BlockStart { index: 2, block: BlockStart::ToolUse { id: "t".into(), name: "f".into() } },
            E::BlockDelta { index: 2, delta: D::InputJson("{\"a\":".into()) },
            E::BlockDelta { index: 2, delta: D::InputJson("1}".into()) },
            E::BlockStop { index: 2 },
            E::BlockStart { index: 3, block: BlockStart::RedactedThinking { data: "R".into() } },
            E::BlockStop { index: 3 },
            E::MessageDelta {
                stop_reason: Some(StopReason::ToolUse),
                stop_sequence: None,
                usage: Usage { output_tokens: 42, ..start_usage },
            },
            E::MessageStop,
        ]
    );
}

fn last_error(evs: &[StreamEvent]) -> &ApiError {
    match evs.last() {
        Some(StreamEvent::Error(e)) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn truncated_stream_ends_with_error() {
    let s = start()
        + &ev(json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}))
        + &ev(json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "par"}}));
    let evs = decode_sse(s.as_bytes());
    assert_invariants(&evs);
    let e = last_error(&evs);
    assert_eq!(e.kind, ErrorKind::BadGateway);
    assert!(e.message.contains("message_stop"));
    // An empty stream too.
    let evs = decode_sse(b"");
    assert_eq!(last_error(&evs).kind, ErrorKind::BadGateway);
}

#[test]
fn error_event_ends_the_stream() {
    let s = start()
        + &ev(json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
        + &ev(json!({"type": "message_stop"}));
    let evs = decode_sse(s.as_bytes());
    assert_eq!(evs.len(), 2);
    let e = last_error(&evs);
    assert_eq!(e.kind, ErrorKind::Unavailable);
    assert_eq!(e.message, "Overloaded");
}

#[test]
fn protocol_violations_are_errors() {
    let block = |t: serde_json::Value| ev(json!({"type": "content_block_start", "index": 0, "content_block": t}));
    let cases = [
        (start() + &block(json!({"type": "container_upload", "file_id": "f"})), "container_upload"),
        (
            start()
                + &block(json!({"type": "text", "text": ""}))
                + &ev(
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{"}}),
                ),
            "input_json_delta",
        ),
        (
            start()
                + &ev(json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}})),
            "not open",
        ),
        (
            start()
                + &block(json!({"type": "text", "text": ""}))
                + &ev(json!({"type": "content_block_delta", "index": 0, "delta": {"type": "brand_new_delta"}})),
            "brand_new_delta",
        ),
        (ev(json!({"type": "content_block_stop", "index": 0})), "before message_start"),
        (start() + "event: content_block_start\ndata: {oops\n\n", "invalid upstream stream event"),
    ];
    for (s, needle) in cases {
        let evs = decode_sse(s.as_bytes());
        assert_invariants(&evs);
        let e = last_error(&evs);
        assert_eq!(e.kind, ErrorKind::BadGateway);
        assert!(e.message.contains(needle), "{} lacks {needle}", e.message);
    }
}

#[test]
fn stop_without_message_delta_still_gets_one() {
    let s = start() + &ev(json!({"type": "message_stop"}));
    let evs = decode_sse(s.as_bytes());
    assert_invariants(&evs);
    assert!(matches!(evs[1], StreamEvent::MessageDelta { stop_reason: None, .. }));
}

#[test]
fn encoder_writes_anthropic_events() {
    let mut enc = StreamEncoder::new(&Request { model: "alias".into(), ..Request::default() });
    let usage = Usage { input_tokens: 3, cache_read_tokens: 2, ..Usage::default() };
    let evs = [
        StreamEvent::MessageStart { id: "chatcmpl-1".into(), model: "gpt-4o".into(), usage },
        StreamEvent::Ping,
        StreamEvent::BlockStart { index: 0, block: BlockStart::Thinking },
        StreamEvent::BlockDelta { index: 0, delta: BlockDelta::Thinking("t".into()) },
        StreamEvent::BlockDelta { index: 0, delta: BlockDelta::Signature("S".into()) },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::BlockStart { index: 1, block: BlockStart::Text },
        StreamEvent::BlockDelta { index: 1, delta: BlockDelta::Text("hi\nthere".into()) },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::BlockStart { index: 2, block: BlockStart::ToolUse { id: "call_1".into(), name: "f".into() } },
        StreamEvent::BlockDelta { index: 2, delta: BlockDelta::InputJson("{\"a\":1}".into()) },
        StreamEvent::BlockStop { index: 2 },
        StreamEvent::BlockStart { index: 3, block: BlockStart::RedactedThinking { data: "R".into() } },
        StreamEvent::BlockStop { index: 3 },
        StreamEvent::MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage { output_tokens: 9, ..usage },
        },
        StreamEvent::MessageStop,
        StreamEvent::Ping,
    ];
    let mut out = BytesMut::new();
    for e in &evs {
        enc.encode(e, &mut out);
    }
    let expected = concat!(
        "event: message_start\n",
        r#"data: {"type":"message_start","message":{"id":"chatcmpl-1","type":"message","role":"assistant","model":"gpt-4o","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":2,"output_tokens":0}}}"#,
        "\n\n",
        "event: ping\n",
        r#"data: {"type":"ping"}"#,
        "\n\n",
        "event: content_block_start\n",
        r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
        "\n\n",
        "event: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"t"}}"#,
        "\n\n",
        "event: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"S"}}"#,
        "\n\n",
        "event: content_block_stop\n",
        r#"data: {"type":"content_block_stop","index":0}"#,
        "\n\n",
        "event: content_block_start\n",
        r#"data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
        "\n\n",
        "event: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"hi\nthere"}}"#,
        "\n\n",
        "event: content_block_stop\n",
        r#"data: {"type":"content_block_stop","index":1}"#,
        "\n\n",
        "event: content_block_start\n",
        r#"data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_1","name":"f","input":{}}}"#,
        "\n\n",
        "event: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}"#,
        "\n\n",
        "event: content_block_stop\n",
        r#"data: {"type":"content_block_stop","index":2}"#,
        "\n\n",
        "event: content_block_start\n",
        r#"data: {"type":"content_block_start","index":3,"content_block":{"type":"redacted_thinking","data":"R"}}"#,
        "\n\n",
        "event: content_block_stop\n",
        r#"data: {"type":"content_block_stop","index":3}"#,
        "\n\n",
        "event: message_delta\n",
        r#"data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":2,"output_tokens":9}}"#,
        "\n\n",
        "event: message_stop\n",
        r#"data: {"type":"message_stop"}"#,
        "\n\n",
    );
    assert_eq!(String::from_utf8_lossy(&out), expected);

    // Round trip: what the encoder writes, the decoder reads back to the same events.
    let back = decode_sse(&out);
    assert_eq!(back, evs[..evs.len() - 1].to_vec());
}

#[test]
fn encoder_error_event_and_model_fallback() {
    let mut enc = StreamEncoder::new(&Request { model: "alias".into(), ..Request::default() });
    let mut out = BytesMut::new();
    enc.encode(&StreamEvent::MessageStart { id: "x".into(), model: String::new(), usage: Usage::default() }, &mut out);
    enc.encode(&StreamEvent::Error(ApiError::context_overflow("too many tokens")), &mut out);
    enc.encode(&StreamEvent::MessageStop, &mut out);
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains(r#""model":"alias""#));
    assert!(text.ends_with(concat!(
        "event: error\n",
        r#"data: {"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: too many tokens"}}"#,
        "\n\n"
    )), "{text}");
}

/// The decoder's fast path for deltas gives exactly what the general path gives, on every
/// recorded stream and on seeded edits of their deltas (escapes, unknown and mismatched delta
/// types, missing or null texts, repeated keys, blocks that are not open).
#[test]
fn the_fast_path_decodes_as_the_general_path_does() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/anthropic/streams");
    let mut streams: Vec<Vec<u8>> =
        std::fs::read_dir(&dir).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    assert!(streams.len() >= 5);
    let edits: [(&str, &str); 30] = [
        (r#""text":""#, r#""text":"\u00e9\"q\n"#),
        (r#""type":"text_delta""#, r#""type":"thinking_delta""#),
        (r#""type":"text_delta""#, r#""type":"mystery_delta""#),
        (r#""type":"text_delta""#, r#""type":"citations_delta""#),
        (r#""text":""#, r#""other":""#),
        (r#""text":""#, r#""text":null,"x":""#),
        (r#""index":0"#, r#""index":7"#),
        (r#""type":"input_json_delta""#, r#""type":"input_json_delta","type":"text_delta""#),
        (r#""partial_json":""#, r#""partial_json":"\\"#),
        (r#""type":"content_block_stop","index":0"#, r#""type":"content_block_stop","index":5"#),
        (r#""type":"content_block_stop","index":0"#, r#""type":"content_block_stop","index":0,"index":0"#),
        (r#""type":"content_block_stop","index":0"#, r#""type":"content_block_stop","index":-1"#),
        (r#""type":"ping""#, r#""type":"ping","x":[1,{}]"#),
        (r#""type":"message_stop""#, r#""type":"message_stop","index":"x""#),
        (r#""stop_reason":"#, r#""stop_reason":1,"x":"#),
        (r#"{"type":"message_delta","#, r#"{"type":"message_delta","usage":null,"#),
        (r#""content_block":{"type":"text","text":"""#, r#""content_block":{"type":"text","text":"a","text":"""#),
        (r#""input_tokens":"#, r#""input_tokens":1.5,"x":"#),
        (r#"{"type":"message_start","#, r#"{"message":{},"type":"message_start","#),
        (r#""message":{"id":"#, r#""message":{"id":null,"x":"#),
        (r#""message":{"#, r#""message":{"model":"m","#),
        (r#""stop_sequence":null"#, r#""stop_sequence":"\u0041\n""#),
        (r#""stop_sequence":null"#, r#""stop_sequence":null,"stop_sequence":null"#),
        (r#""usage":{"output_tokens":"#, r#""usage":{"output_tokens":null,"x":[1,{}],"output_tokens":"#),
        (r#""content_block":{"type":"text","text":""#, r#""content_block":{"type":"text","id":7,"text":""#),
        (r#""content_block":{"type":"text","text":""#, r#""content_block":{"text":"a\n","type":"text","x":""#),
        (r#""input":{}"#, r#""input":{"a":[1,"x"]},"extra":null"#),
        (r#""content_block":{"type":"tool_use","#, r#""content_block":{"type":"tool_use","input":null,"#),
        (r#""content_block":{"type":"text""#, r#""content_block":{"type":"server_tool_use""#),
        (r#""content_block":{"type":"thinking","#, r#""content_block":{"type":"thinking","signature":null,"#),
    ];
    let base = streams.clone();
    for (n, s) in base.iter().enumerate() {
        let text = String::from_utf8_lossy(s).to_string();
        for (from, to) in edits {
            if text.contains(from) {
                streams.push(text.replacen(from, to, 1).into_bytes());
            }
        }
        streams.extend(crate::jsonscan::mutations(s, 400, n as u64));
    }
    let mut fast_taken = 0;
    for s in &streams {
        let mut parser = SseParser::new();
        let mut sse = Vec::new();
        parser.feed(s, &mut sse);
        parser.finish(&mut sse);
        let (mut fast, mut general) = (StreamDecoder::new(), StreamDecoder::new());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for ev in &sse {
            fast.feed(ev.as_ref(), &mut a);
            general.feed_general(ev.as_ref(), &mut b);
            fast_taken += usize::from(ev.event.as_deref() != Some("message_start"));
        }
        fast.finish(&mut a);
        general.finish(&mut b);
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{}", String::from_utf8_lossy(s));
    }
    assert!(fast_taken > 50, "the fixtures have deltas: {fast_taken}");
}

/// The hand-written delta and block stop events are the bytes the derived `Serialize` writes.
#[test]
fn hand_written_deltas_are_the_derived_bytes() {
    use super::super::wire_stream::{OutDelta, OutEvent};
    let texts = ["", "plain", "q\"uo\\te\n\u{1}\u{7f}é😀", &"x".repeat(300)];
    for (index, text) in texts.iter().enumerate() {
        let index = index * 7919;
        let cases = [
            (BlockDelta::Text(text.to_string()), OutDelta::TextDelta { text }),
            (BlockDelta::Thinking(text.to_string()), OutDelta::ThinkingDelta { thinking: text }),
            (BlockDelta::Signature(text.to_string()), OutDelta::SignatureDelta { signature: text }),
            (BlockDelta::InputJson(text.to_string()), OutDelta::InputJsonDelta { partial_json: text }),
        ];
        for (delta, wire) in cases {
            let mut enc = StreamEncoder::default();
            let (mut hand, mut derived) = (BytesMut::new(), BytesMut::new());
            enc.encode(&StreamEvent::BlockDelta { index, delta }, &mut hand);
            enc.encode(&StreamEvent::BlockStop { index }, &mut hand);
            let wire = OutEvent::ContentBlockDelta { index, delta: wire };
            crate::sse::write_json_event(&mut derived, Some(wire.name()), &wire).unwrap();
            let stop = OutEvent::ContentBlockStop { index };
            crate::sse::write_json_event(&mut derived, Some(stop.name()), &stop).unwrap();
            assert_eq!(hand, derived);
        }
    }
}

/// The compact match reads every event it takes as the member by member reading does.
#[test]
fn compact_events_read_as_member_by_member() {
    use super::super::wire_stream::FastEvent;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/anthropic/streams");
    let mut datas = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        parser.feed(&std::fs::read(e.unwrap().path()).unwrap(), &mut events);
        parser.finish(&mut events);
        datas.extend(events.into_iter().map(|e| e.data));
    }
    let (mut compact, mut total) = (0, 0);
    for (n, data) in datas.iter().enumerate() {
        for text in
            std::iter::once(data.clone().into_bytes()).chain(crate::jsonscan::mutations(data.as_bytes(), 100, n as u64))
        {
            let Ok(text) = std::str::from_utf8(&text) else { continue };
            total += 1;
            if let Some(fast) = FastEvent::read_compact(text) {
                compact += 1;
                let members = FastEvent::read_members(text);
                assert_eq!(format!("{:?}", Some(fast)), format!("{members:?}"), "{text}");
            }
        }
    }
    assert!(compact > 100, "{compact} of {total}");
}

/// The hand-written block starts, ping and message stop are the bytes the derived `Serialize`
/// writes.
#[test]
fn hand_written_starts_and_stops_are_the_derived_bytes() {
    use super::super::wire_stream::{OutEvent, OutStartBlock};
    let odd = "q\"uo\\te\n\u{1}é😀";
    let cases = [
        (BlockStart::Text, OutStartBlock::Text { text: "" }),
        (BlockStart::Thinking, OutStartBlock::Thinking { thinking: "", signature: "" }),
        (BlockStart::RedactedThinking { data: odd.into() }, OutStartBlock::RedactedThinking { data: odd }),
        (
            BlockStart::ToolUse { id: format!("toolu_{odd}"), name: odd.into() },
            OutStartBlock::ToolUse { id: &format!("toolu_{odd}"), name: odd, input: serde_json::Map::new() },
        ),
    ];
    for (n, (block, wire)) in cases.into_iter().enumerate() {
        let index = n * 1009;
        let (mut hand, mut derived) = (BytesMut::new(), BytesMut::new());
        let mut enc = StreamEncoder::default();
        enc.encode(&StreamEvent::BlockStart { index, block }, &mut hand);
        enc.encode(&StreamEvent::Ping, &mut hand);
        enc.encode(&StreamEvent::MessageStop, &mut hand);
        for ev in [OutEvent::ContentBlockStart { index, content_block: wire }, OutEvent::Ping, OutEvent::MessageStop] {
            crate::sse::write_json_event(&mut derived, Some(ev.name()), &ev).unwrap();
        }
        assert_eq!(hand, derived);
    }
}
