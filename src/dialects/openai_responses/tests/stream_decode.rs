//! Upstream Responses SSE events -> IR stream events.

use serde_json::{Value, json};

use super::fixtures::decode_stream;
use crate::dialects::openai_responses::StreamDecoder;
use crate::ir::{BlockDelta, BlockStart, ErrorKind, StopReason, StreamEvent, Usage};
use crate::sse::SseEvent;

fn run(events: &[Value], finish: bool) -> Vec<StreamEvent> {
    let mut d = StreamDecoder::new();
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let mut e = e.clone();
        e["sequence_number"] = json!(i);
        let name = e["type"].as_str().map(str::to_string);
        d.feed(SseEvent { event: name, data: e.to_string() }.as_ref(), &mut out);
    }
    if finish {
        d.finish(&mut out);
    }
    out
}

fn created() -> Value {
    json!({"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5", "status": "in_progress", "output": []}})
}

#[test]
fn fixture_reasoning_text_and_two_calls() {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/openai_responses/streams/reasoning_text_parallel_tools.sse"
    ))
    .unwrap();
    let events = decode_stream(&body);
    let starts: Vec<&BlockStart> = events
        .iter()
        .filter_map(|e| if let StreamEvent::BlockStart { block, .. } = e { Some(block) } else { None })
        .collect();
    assert_eq!(starts.len(), 4);
    assert_eq!(starts[0], &BlockStart::Thinking);
    assert_eq!(starts[1], &BlockStart::Text);
    assert!(
        matches!(starts[3], BlockStart::ToolUse { id, name } if id == "call_Zq4aXnE7bfmXkY1vH2LtC3sR" && name == "get_weather")
    );
    let thinking: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::BlockDelta { delta: BlockDelta::Thinking(t), .. } => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert!(thinking.contains("at once.\n\n**Planning the calls**"), "{thinking}");
    let sig = events.iter().find_map(|e| match e {
        StreamEvent::BlockDelta { index: 0, delta: BlockDelta::Signature(s) } => Some(s.clone()),
        _ => None,
    });
    assert!(sig.unwrap().starts_with("responses:rs_6820f383d7c08191846711c5df8233bc0ac5ba57aafcbac7:gAAAAAB"));
    match &events[events.len() - 2] {
        StreamEvent::MessageDelta { stop_reason, usage, .. } => {
            assert_eq!(*stop_reason, Some(StopReason::ToolUse));
            assert_eq!(
                *usage,
                Usage {
                    input_tokens: 64,
                    output_tokens: 410,
                    cache_read_tokens: 256,
                    cache_write_tokens: 0,
                    reasoning_tokens: 256
                }
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn custom_tool_input_becomes_json() {
    let out = run(
        &[
            created(),
            json!({"type": "response.output_item.added", "output_index": 0,
                "item": {"type": "custom_tool_call", "id": "ctc_1", "call_id": "c1", "name": "apply_patch", "input": ""}}),
            json!({"type": "response.custom_tool_call_input.delta", "item_id": "ctc_1", "output_index": 0, "delta": "a \"q\"\n"}),
            json!({"type": "response.custom_tool_call_input.delta", "item_id": "ctc_1", "output_index": 0, "delta": "b"}),
            json!({"type": "response.output_item.done", "output_index": 0,
                "item": {"type": "custom_tool_call", "id": "ctc_1", "call_id": "c1", "name": "apply_patch", "input": "a \"q\"\nb"}}),
            json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "output": []}}),
        ],
        true,
    );
    let json_text: String = out
        .iter()
        .filter_map(|e| match e {
            StreamEvent::BlockDelta { delta: BlockDelta::InputJson(j), .. } => Some(j.as_str()),
            _ => None,
        })
        .collect();
    let v: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(v, json!({"input": "a \"q\"\nb"}));
    assert!(matches!(out[out.len() - 2], StreamEvent::MessageDelta { stop_reason: Some(StopReason::ToolUse), .. }));
}

#[test]
fn done_only_items_still_carry_content() {
    let out = run(
        &[
            created(),
            json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "id": "m", "content": []}}),
            json!({"type": "response.output_item.done", "output_index": 0,
                "item": {"type": "message", "id": "m", "content": [{"type": "output_text", "text": "whole"}]}}),
            json!({"type": "response.output_item.added", "output_index": 1,
                "item": {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": ""}}),
            json!({"type": "response.output_item.done", "output_index": 1,
                "item": {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": "{}"}}),
            json!({"type": "response.completed", "response": {"status": "completed"}}),
        ],
        true,
    );
    assert!(out.contains(&StreamEvent::BlockDelta { index: 0, delta: BlockDelta::Text("whole".into()) }));
    assert!(out.contains(&StreamEvent::BlockDelta { index: 1, delta: BlockDelta::InputJson("{}".into()) }));
    assert_eq!(out.last(), Some(&StreamEvent::MessageStop));
}

#[test]
fn incomplete_failed_error_and_truncation() {
    let out = run(
        &[
            created(),
            json!({"type": "response.incomplete", "response": {"status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"}}}),
        ],
        true,
    );
    assert!(matches!(out[1], StreamEvent::MessageDelta { stop_reason: Some(StopReason::MaxTokens), .. }));
    let out = run(
        &[
            created(),
            json!({"type": "response.failed", "response": {"status": "failed",
            "error": {"code": "server_error", "message": "boom"}}}),
        ],
        true,
    );
    assert!(
        matches!(out.last(), Some(StreamEvent::Error(e)) if e.kind == ErrorKind::BadGateway && e.message == "boom")
    );
    let out = run(
        &[
            created(),
            json!({"type": "error", "code": "context_length_exceeded", "message": "Your input exceeds the context window", "param": null}),
        ],
        true,
    );
    assert!(matches!(out.last(), Some(StreamEvent::Error(e)) if e.kind == ErrorKind::ContextOverflow));
    assert_eq!(out.iter().filter(|e| matches!(e, StreamEvent::Error(_))).count(), 1);
    let out = run(&[created()], true);
    assert!(matches!(out.last(), Some(StreamEvent::Error(e)) if e.message.contains("before response.completed")));
}

#[test]
fn deltas_for_another_item_are_an_error() {
    let out = run(
        &[
            created(),
            json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "id": "m", "content": []}}),
            json!({"type": "response.function_call_arguments.delta", "item_id": "fc", "output_index": 1, "delta": "{"}),
        ],
        true,
    );
    assert!(matches!(out.last(), Some(StreamEvent::Error(e)) if e.kind == ErrorKind::BadGateway));
    let out = run(
        &[
            created(),
            json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "computer_call", "id": "w"}}),
        ],
        true,
    );
    assert!(matches!(out.last(), Some(StreamEvent::Error(e)) if e.message.contains("computer_call")));
}
