//! Upstream chunks -> IR stream events.

use serde_json::{Value, json};

use crate::dialects::openai_chat::StreamDecoder;
use crate::ir::{BlockDelta, BlockStart, ErrorKind, StopReason, StreamEvent, Usage};
use crate::sse::SseEvent;

fn chunk(delta: Value, finish: Value) -> String {
    json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    .to_string()
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
    out
}

fn tool_piece(k: u64, id: Option<&str>, name: Option<&str>, args: &str) -> Value {
    let mut f = json!({"arguments": args});
    if let Some(n) = name {
        f["name"] = json!(n);
    }
    let mut p = json!({"index": k, "function": f});
    if let Some(i) = id {
        p["id"] = json!(i);
        p["type"] = json!("function");
    }
    json!({"tool_calls": [p]})
}

#[test]
fn reasoning_text_and_parallel_tools_with_usage_chunk() {
    let out = run(
        &[
            chunk(json!({"role": "assistant", "content": ""}), Value::Null),
            chunk(json!({"reasoning_content": "th"}), Value::Null),
            chunk(json!({"reasoning_content": "ink", "content": null}), Value::Null),
            chunk(json!({"content": "Hi"}), Value::Null),
            chunk(tool_piece(0, Some("a"), Some("f"), ""), Value::Null),
            chunk(tool_piece(0, None, None, "{\"x\""), Value::Null),
            chunk(tool_piece(0, None, None, ":1}"), Value::Null),
            chunk(tool_piece(1, Some("b"), Some("g"), "{}"), Value::Null),
            chunk(json!({}), json!("tool_calls")),
            json!({"id": "c1", "choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 9,
                "prompt_tokens_details": {"cached_tokens": 10},
                "completion_tokens_details": {"reasoning_tokens": 3}}})
            .to_string(),
            "[DONE]".into(),
        ],
        true,
    );
    use StreamEvent::*;
    let want = vec![
        MessageStart { id: "c1".into(), model: "m".into(), usage: Usage::default() },
        BlockStart { index: 0, block: crate::ir::BlockStart::Thinking },
        BlockDelta { index: 0, delta: crate::ir::BlockDelta::Thinking("th".into()) },
        BlockDelta { index: 0, delta: crate::ir::BlockDelta::Thinking("ink".into()) },
        BlockStop { index: 0 },
        BlockStart { index: 1, block: crate::ir::BlockStart::Text },
        BlockDelta { index: 1, delta: crate::ir::BlockDelta::Text("Hi".into()) },
        BlockStop { index: 1 },
        BlockStart { index: 2, block: crate::ir::BlockStart::ToolUse { id: "a".into(), name: "f".into() } },
        BlockDelta { index: 2, delta: crate::ir::BlockDelta::InputJson("{\"x\"".into()) },
        BlockDelta { index: 2, delta: crate::ir::BlockDelta::InputJson(":1}".into()) },
        BlockStop { index: 2 },
        BlockStart { index: 3, block: crate::ir::BlockStart::ToolUse { id: "b".into(), name: "g".into() } },
        BlockDelta { index: 3, delta: crate::ir::BlockDelta::InputJson("{}".into()) },
        BlockStop { index: 3 },
        MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage {
                input_tokens: 40,
                output_tokens: 9,
                cache_read_tokens: 10,
                cache_write_tokens: 0,
                reasoning_tokens: 3,
            },
        },
        MessageStop,
    ];
    assert_eq!(out, want);
}

#[test]
fn done_ends_and_later_input_is_ignored() {
    let out = run(
        &[
            chunk(json!({"content": "x"}), json!("length")),
            "[DONE]".into(),
            chunk(json!({"content": "late"}), Value::Null),
        ],
        true,
    );
    assert_eq!(out.len(), 6);
    assert!(matches!(out[4], StreamEvent::MessageDelta { stop_reason: Some(StopReason::MaxTokens), .. }));
    assert_eq!(out[5], StreamEvent::MessageStop);
}

#[test]
fn finish_reason_without_done_is_completed() {
    let out = run(&[chunk(json!({"content": "x"}), json!("stop"))], true);
    assert_eq!(out.last(), Some(&StreamEvent::MessageStop));
}

#[test]
fn truncated_stream_is_an_error() {
    let out = run(&[chunk(json!({"content": "x"}), Value::Null)], true);
    match out.last() {
        Some(StreamEvent::Error(e)) => {
            assert_eq!(e.kind, ErrorKind::BadGateway);
            assert!(e.message.contains("finish_reason"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn interleaved_tool_pieces_are_an_error() {
    let out = run(
        &[
            chunk(tool_piece(0, Some("a"), Some("f"), "{"), Value::Null),
            chunk(tool_piece(1, Some("b"), Some("g"), "{"), Value::Null),
            chunk(tool_piece(0, None, None, "}"), Value::Null),
            chunk(tool_piece(1, None, None, "}"), Value::Null),
        ],
        true,
    );
    match out.last() {
        Some(StreamEvent::Error(e)) => {
            assert_eq!(e.kind, ErrorKind::BadGateway);
            assert!(e.message.contains("interleaved"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(out.iter().filter(|e| matches!(e, StreamEvent::Error(_))).count(), 1);
}

#[test]
fn error_chunk_mid_stream() {
    let out = run(
        &[
            chunk(json!({"content": "x"}), Value::Null),
            json!({"error": {"message": "The server had an error", "type": "server_error"}}).to_string(),
        ],
        true,
    );
    match out.last() {
        Some(StreamEvent::Error(e)) => {
            assert_eq!(e.kind, ErrorKind::BadGateway);
            assert_eq!(e.message, "The server had an error");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ollama_style_reused_index_and_missing_ids() {
    let out = run(
        &[
            chunk(tool_piece(0, Some("a"), Some("f"), "{}"), Value::Null),
            chunk(tool_piece(0, Some("b"), Some("g"), "{}"), Value::Null),
            chunk(json!({"tool_calls": [{"function": {"name": "h", "arguments": "{}"}}]}), json!("stop")),
        ],
        true,
    );
    let starts: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            StreamEvent::BlockStart { block: BlockStart::ToolUse { id, name }, .. } => Some((id.clone(), name.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(starts.len(), 3, "{out:?}");
    assert_eq!(starts[0], ("a".into(), "f".into()));
    assert_eq!(starts[1], ("b".into(), "g".into()));
    assert!(starts[2].0.starts_with("call_"));
    assert!(matches!(out[out.len() - 2], StreamEvent::MessageDelta { stop_reason: Some(StopReason::ToolUse), .. }));
    assert!(out.iter().any(|e| matches!(e, StreamEvent::BlockDelta { delta: BlockDelta::InputJson(_), .. })));
}

#[test]
fn invalid_json_chunk_is_an_error() {
    let out = run(&["{not json".into()], false);
    assert!(matches!(&out[0], StreamEvent::Error(e) if e.kind == ErrorKind::BadGateway));
}

fn texts(out: &[StreamEvent]) -> Vec<&str> {
    out.iter()
        .filter_map(|e| match e {
            StreamEvent::BlockDelta { delta: BlockDelta::Text(t), .. } => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

fn error_message(out: &[StreamEvent]) -> &str {
    match out.last() {
        Some(StreamEvent::Error(e)) => &e.message,
        other => panic!("{other:?}"),
    }
}

#[test]
fn escaped_strings_parts_and_duplicate_keys_read_as_a_parsed_value_would() {
    let out = run(
        &[
            chunk(json!({"content": "a\"b\n\u{e9}"}), Value::Null),
            chunk(json!({"content": [{"type": "text", "text": "p1"}, {"type": "text", "text": "p2"}]}), Value::Null),
            // Duplicate keys: the last one wins, as in a parsed Value.
            r#"{"choices":[{"index":0,"delta":{"content":"first","content":"last"}}]}"#.into(),
            chunk(json!({}), json!("stop")),
        ],
        true,
    );
    assert_eq!(texts(&out), ["a\"b\n\u{e9}", "p1p2", "last"]);
    assert!(matches!(out.last(), Some(StreamEvent::MessageStop)));
}

#[test]
fn malformed_chunks_keep_their_messages() {
    let out = run(&[r#"{"choices":"x"}"#.into()], false);
    assert_eq!(error_message(&out), "upstream sent an invalid chunk: invalid type: string \"x\", expected a sequence");
    let out = run(&[chunk(json!({"content": 5}), Value::Null)], false);
    assert_eq!(error_message(&out), "content is neither a string nor parts: 5");
    let out = run(&[chunk(json!({"content": [{"type": "image_url"}]}), Value::Null)], false);
    assert_eq!(error_message(&out), "unsupported content part type \"image_url\" in upstream message");
    let out = run(&["{not json".into()], false);
    assert_eq!(error_message(&out), "upstream sent an invalid chunk: key must be a string at line 1 column 2");
}

#[test]
fn error_event_name_reports_the_chunk_as_an_error() {
    let mut d = StreamDecoder::new();
    let mut out = Vec::new();
    let data = json!({"message": "slow down", "type": "rate_limit_error"}).to_string();
    d.feed(SseEvent { event: Some("error".into()), data }.as_ref(), &mut out);
    assert!(matches!(&out[0], StreamEvent::Error(e) if e.kind == ErrorKind::RateLimit && e.message == "slow down"));
}

/// Every chunk of the recorded streams, and seeded mutations of them: whatever the hand reader
/// reads, the derived `Deserialize` reads the same from the same text.
#[test]
fn hand_read_chunks_equal_the_derived_ones() {
    use crate::dialects::openai_chat::wire_stream::{ChunkStart, StreamChunk};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openai_chat/streams");
    let mut datas: Vec<String> = Vec::new();
    let files = std::fs::read_dir(&dir).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap());
    for bytes in files.chain([include_bytes!("../../../../benches/fixtures/openai.sse").to_vec()]) {
        let mut parser = crate::sse::SseParser::new();
        let mut events = Vec::new();
        parser.feed(&bytes, &mut events);
        parser.finish(&mut events);
        datas.extend(events.into_iter().map(|e| e.data).filter(|d| d.starts_with('{')));
    }
    // Each text is read twice: from a fresh start, and after the chunk before it (the original
    // of a mutation) left its start, which the text often shares.
    let (mut read, mut total, mut after_start) = (0, 0, 0);
    let mut previous = ChunkStart::default();
    for (n, data) in datas.iter().enumerate() {
        let hand = StreamChunk::read(data, &mut previous);
        assert!(hand.is_some() || data.contains("\"error\""), "a recorded chunk is refused: {data}");
        let mut own = ChunkStart::default();
        StreamChunk::read(data, &mut own);
        for text in
            std::iter::once(data.clone().into_bytes()).chain(crate::jsonscan::mutations(data.as_bytes(), 300, n as u64))
        {
            let Ok(text) = std::str::from_utf8(&text) else { continue };
            total += 1;
            let fresh = StreamChunk::read(text, &mut ChunkStart::default());
            let mut start = own.clone();
            let resumed = StreamChunk::read(text, &mut start);
            assert_eq!(format!("{fresh:?}"), format!("{resumed:?}"), "{text}");
            after_start += usize::from(own.shared_by(text));
            let Some(hand) = fresh else { continue };
            read += 1;
            let derived = serde_json::from_str::<StreamChunk>(text);
            assert!(derived.as_ref().is_ok_and(|c| c.error.is_none()), "read what serde refuses: {text}");
            assert_eq!(format!("{hand:?}"), format!("{:?}", derived.unwrap()), "{text}");
        }
    }
    assert!(after_start > total / 5, "texts read after a start: {after_start} of {total}");
    // A member the start had (even as null) is refused when repeated after the `choices`.
    for (first, next) in [
        (r#"{"id":null,"choices":[]}"#, r#"{"id":null,"choices":[],"id":"x"}"#),
        (r#"{"model":"m","choices":[]}"#, r#"{"model":"m","choices":[{"index":0}],"model":"m"}"#),
        (r#"{"id":"a\"b","choices":[]}"#, r#"{"id":"a\"b","choices":[],"usage":null}"#),
    ] {
        let mut start = ChunkStart::default();
        assert!(StreamChunk::read(first, &mut start).is_some());
        assert!(start.shared_by(next));
        let resumed = StreamChunk::read(next, &mut start);
        let fresh = StreamChunk::read(next, &mut ChunkStart::default());
        assert_eq!(format!("{fresh:?}"), format!("{resumed:?}"), "{next}");
        assert_eq!(resumed.is_some(), serde_json::from_str::<StreamChunk>(next).is_ok(), "{next}");
    }
    assert!(read > total / 10, "the reader takes most valid chunks: {read} of {total}");
}
