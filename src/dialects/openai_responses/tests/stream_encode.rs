//! IR stream events -> Responses SSE for callers.

use bytes::BytesMut;
use serde_json::{Value, json};

use super::sdk_shape::check_stream;
use crate::dialects::openai_responses::StreamEncoder;
use crate::ir::{self, ApiError, ErrorKind, Request, StopReason, StreamEvent, Tool, Usage};

fn encode(req: &Request, events: &[StreamEvent]) -> Vec<Value> {
    let mut enc = StreamEncoder::new(req);
    let mut out = BytesMut::new();
    for ev in events {
        enc.encode(ev, &mut out);
    }
    check_stream(std::str::from_utf8(&out).unwrap())
}

fn types(evs: &[Value]) -> Vec<&str> {
    evs.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn full_turn() -> Vec<StreamEvent> {
    use StreamEvent::*;
    vec![
        MessageStart {
            id: "msg_01".into(),
            model: "claude-x".into(),
            usage: Usage { input_tokens: 10, ..Usage::default() },
        },
        BlockStart { index: 0, block: ir::BlockStart::Thinking },
        BlockDelta { index: 0, delta: ir::BlockDelta::Thinking("hmm".into()) },
        BlockDelta { index: 0, delta: ir::BlockDelta::Signature("EqQB".into()) },
        BlockDelta { index: 0, delta: ir::BlockDelta::Signature("xyz".into()) },
        BlockStop { index: 0 },
        BlockStart { index: 1, block: ir::BlockStart::Text },
        BlockDelta { index: 1, delta: ir::BlockDelta::Text("Hi".into()) },
        BlockStop { index: 1 },
        BlockStart { index: 2, block: ir::BlockStart::ToolUse { id: "toolu_a".into(), name: "f".into() } },
        BlockDelta { index: 2, delta: ir::BlockDelta::InputJson("{\"x\":".into()) },
        BlockDelta { index: 2, delta: ir::BlockDelta::InputJson("1}".into()) },
        BlockStop { index: 2 },
        BlockStart { index: 3, block: ir::BlockStart::ToolUse { id: "toolu_b".into(), name: "apply_patch".into() } },
        BlockDelta { index: 3, delta: ir::BlockDelta::InputJson("{\"input\":\"*** Begin".into()) },
        BlockDelta { index: 3, delta: ir::BlockDelta::InputJson(" Patch\\n\"}".into()) },
        BlockStop { index: 3 },
        MessageDelta {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
            usage: Usage { output_tokens: 20, ..Usage::default() },
        },
        MessageStop,
    ]
}

#[test]
fn full_lifecycle_in_order() {
    let req = Request {
        model: "gpt-5".into(),
        tools: vec![Tool {
            name: "apply_patch".into(),
            description: None,
            input_schema: json!({}).into(),
            strict: None,
            cache_control: None,
            custom: true,
            namespace: None,
        }],
        ..Request::default()
    };
    let evs = encode(&req, &full_turn());
    assert_eq!(
        types(&evs),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.custom_tool_call_input.delta",
            "response.custom_tool_call_input.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    assert_eq!(evs[2]["item"], json!({"id": "rs_01_0", "type": "reasoning", "summary": []}));
    assert_eq!(evs[7]["item"]["encrypted_content"], "EqQBxyz");
    assert_eq!(evs[7]["item"]["summary"], json!([{"type": "summary_text", "text": "hmm"}]));
    assert_eq!(evs[10]["item_id"], "msg_01_1");
    assert_eq!(evs[10]["output_index"], 1);
    assert_eq!(evs[17]["arguments"], "{\"x\":1}");
    assert_eq!(evs[18]["item"]["call_id"], "toolu_a");
    assert_eq!(evs[21]["input"], "*** Begin Patch\n");
    assert_eq!(evs[22]["item"]["type"], "custom_tool_call");
    let done = &evs[23]["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["model"], "claude-x");
    assert_eq!(done["output"].as_array().unwrap().len(), 4);
    assert_eq!(done["usage"]["input_tokens"], 10);
    assert_eq!(done["usage"]["output_tokens"], 20);
    assert_eq!(done["tools"][0]["type"], "custom");
}

#[test]
fn max_tokens_ends_incomplete_and_empty_args_become_object() {
    use StreamEvent::*;
    let evs = encode(
        &Request::default(),
        &[
            MessageStart { id: String::new(), model: "m".into(), usage: Usage::default() },
            BlockStart { index: 0, block: ir::BlockStart::ToolUse { id: "c".into(), name: "f".into() } },
            BlockStop { index: 0 },
            MessageDelta { stop_reason: Some(StopReason::MaxTokens), stop_sequence: None, usage: Usage::default() },
            MessageStop,
        ],
    );
    assert_eq!(evs[3]["delta"], "{}");
    let last = evs.last().unwrap();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(last["response"]["incomplete_details"], json!({"reason": "max_output_tokens"}));
    assert!(last["response"]["id"].as_str().unwrap().starts_with("resp_"));
}

#[test]
fn error_mid_stream_is_error_then_failed_and_nothing_after() {
    use StreamEvent::*;
    let evs = encode(
        &Request::default(),
        &[
            MessageStart { id: "resp_x".into(), model: "m".into(), usage: Usage::default() },
            BlockStart { index: 0, block: ir::BlockStart::Text },
            BlockDelta { index: 0, delta: ir::BlockDelta::Text("par".into()) },
            Error(ApiError::context_overflow("too long")),
            BlockDelta { index: 0, delta: ir::BlockDelta::Text("late".into()) },
            MessageStop,
        ],
    );
    let t = types(&evs);
    assert_eq!(&t[t.len() - 2..], ["error", "response.failed"]);
    let err = &evs[evs.len() - 2];
    assert_eq!(err["code"], "context_length_exceeded");
    assert!(err["message"].as_str().unwrap().contains("prompt is too long"));
    assert_eq!(evs.last().unwrap()["response"]["error"]["code"], "invalid_prompt");
}

#[test]
fn error_before_start_still_opens_the_response() {
    let evs = encode(&Request::default(), &[StreamEvent::Error(ApiError::new(ErrorKind::RateLimit, "slow"))]);
    assert_eq!(types(&evs), ["response.created", "response.in_progress", "error", "response.failed"]);
    assert_eq!(evs[3]["response"]["error"]["code"], "rate_limit_exceeded");
}

#[test]
fn redacted_thinking_is_a_marked_reasoning_item() {
    use StreamEvent::*;
    let evs = encode(
        &Request::default(),
        &[
            MessageStart { id: "m1".into(), model: "m".into(), usage: Usage::default() },
            BlockStart { index: 0, block: ir::BlockStart::RedactedThinking { data: "RED".into() } },
            BlockStop { index: 0 },
            MessageDelta { stop_reason: Some(StopReason::EndTurn), stop_sequence: None, usage: Usage::default() },
            MessageStop,
        ],
    );
    assert_eq!(evs[3]["item"]["encrypted_content"], "redacted_thinking:RED");
}
