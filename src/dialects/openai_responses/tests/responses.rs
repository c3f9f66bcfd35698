//! Non-streaming responses both ways.

use serde_json::{Value, json};

use super::sdk_shape::check_response;
use crate::dialects::openai_responses::{decode_response, encode_response, encode_response_for};
use crate::ir::{Block, ErrorKind, Request, Response, StopReason, Tool, Usage};

fn decode(v: Value) -> Response {
    decode_response(v.to_string().as_bytes()).unwrap()
}

fn base(output: Value) -> Value {
    json!({"id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "model": "gpt-5",
        "output": output, "usage": {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 60},
        "output_tokens": 30, "output_tokens_details": {"reasoning_tokens": 12}, "total_tokens": 130}})
}

#[test]
fn items_become_blocks_with_usage_and_tool_use_stop() {
    let r = decode(base(json!([
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "a"}, {"type": "summary_text", "text": "b"}],
         "encrypted_content": "gAAAA"},
        {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "hi", "annotations": []}]},
        {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f", "arguments": "{\"x\":1}"},
        {"type": "custom_tool_call", "id": "ctc_1", "call_id": "c2", "name": "apply_patch", "input": "P"},
    ])));
    assert_eq!(
        r.content,
        vec![
            Block::Thinking { thinking: "a\n\nb".into(), signature: Some("responses:rs_1:gAAAA".into()) },
            Block::Text { text: "hi".into(), cache_control: None },
            Block::ToolUse { id: "c1".into(), name: "f".into(), input: json!({"x": 1}) },
            Block::ToolUse { id: "c2".into(), name: "apply_patch".into(), input: json!({"input": "P"}) },
        ]
    );
    assert_eq!(r.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 40,
            output_tokens: 30,
            cache_read_tokens: 60,
            cache_write_tokens: 0,
            reasoning_tokens: 12
        }
    );
    assert_eq!((r.id.as_str(), r.model.as_str()), ("resp_1", "gpt-5"));
}

#[test]
fn incomplete_and_failed() {
    let mut v = base(json!([{"type": "message", "content": [{"type": "output_text", "text": "x"}]}]));
    v["status"] = json!("incomplete");
    v["incomplete_details"] = json!({"reason": "max_output_tokens"});
    assert_eq!(decode(v.clone()).stop_reason, Some(StopReason::MaxTokens));
    v["incomplete_details"] = json!({"reason": "content_filter"});
    assert_eq!(decode(v.clone()).stop_reason, Some(StopReason::ContentFilter));
    v["status"] = json!("failed");
    v["error"] = json!({"code": "rate_limit_exceeded", "message": "slow down"});
    let e = decode_response(v.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimit);
}

#[test]
fn bad_upstream_output_is_502() {
    for output in [
        json!([{"type": "function_call", "call_id": "c", "name": "f", "arguments": "{"}]),
        json!([{"type": "computer_call", "id": "cu_1", "call_id": "c", "status": "completed"}]),
    ] {
        let e = decode_response(base(output).to_string().as_bytes()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadGateway, "{}", e.message);
    }
    assert_eq!(decode_response(b"nope").unwrap_err().kind, ErrorKind::BadGateway);
}

fn sample() -> Response {
    Response {
        id: "msg_abc".into(),
        model: "claude-sonnet-4-5".into(),
        content: vec![
            Block::Thinking { thinking: "think".into(), signature: Some("EqQBsig".into()) },
            Block::RedactedThinking { data: "RED".into() },
            Block::Text { text: "a".into(), cache_control: None },
            Block::Text { text: "b".into(), cache_control: None },
            Block::ToolUse { id: "toolu_1".into(), name: "f".into(), input: json!({"x": 1}) },
            Block::ToolUse { id: "toolu_2".into(), name: "apply_patch".into(), input: json!({"input": "P"}) },
        ],
        stop_reason: Some(StopReason::ToolUse),
        stop_sequence: None,
        usage: Usage {
            input_tokens: 10,
            output_tokens: 5,
            cache_read_tokens: 20,
            cache_write_tokens: 3,
            reasoning_tokens: 2,
        },
    }
}

#[test]
fn encode_has_sdk_shape_and_items() {
    let v: Value = serde_json::from_slice(&encode_response(&sample())).unwrap();
    check_response(&v);
    assert_eq!(v["status"], "completed");
    assert_eq!(v["incomplete_details"], Value::Null);
    let out = v["output"].as_array().unwrap();
    assert_eq!(out.len(), 5);
    assert_eq!(
        out[0],
        json!({"id": "rs_abc_0", "type": "reasoning", "summary": [{"type": "summary_text", "text": "think"}], "encrypted_content": "EqQBsig"})
    );
    assert_eq!(out[1]["encrypted_content"], "redacted_thinking:RED");
    assert_eq!(out[2]["content"].as_array().unwrap().len(), 2);
    assert_eq!(out[3]["type"], "function_call");
    assert_eq!(out[3]["arguments"], "{\"x\":1}");
    // Without the request, apply_patch is a plain function call.
    assert_eq!(out[4]["type"], "function_call");
    assert_eq!(
        v["usage"],
        json!({"input_tokens": 33, "input_tokens_details": {"cached_tokens": 20, "cache_write_tokens": 3},
            "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 38})
    );
}

#[test]
fn encode_for_request_makes_custom_calls() {
    let req = Request {
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
    let v: Value = serde_json::from_slice(&encode_response_for(&sample(), &req)).unwrap();
    check_response(&v);
    assert_eq!(v["output"][4]["type"], "custom_tool_call");
    assert_eq!(v["output"][4]["input"], "P");
    assert_eq!(v["tools"][0]["type"], "custom");
}

#[test]
fn max_tokens_is_incomplete() {
    let resp = Response { stop_reason: Some(StopReason::MaxTokens), ..sample() };
    let v: Value = serde_json::from_slice(&encode_response(&resp)).unwrap();
    assert_eq!(v["status"], "incomplete");
    assert_eq!(v["incomplete_details"], json!({"reason": "max_output_tokens"}));
}

/// Codex's `namespace` tool (its sub-agent tools): flattened to `{ns}__{name}` for other
/// dialects, and calls go back to the caller with their own name and namespace.
#[test]
fn namespace_tools_round_trip() {
    let body = json!({"model": "m", "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]},
            {"type": "function_call", "call_id": "c0", "name": "spawn_agent", "namespace": "multi_agent_v1", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c0", "output": "ok"}],
        "tools": [{"type": "namespace", "name": "multi_agent_v1", "description": "Sub-agents.",
            "tools": [{"type": "function", "name": "spawn_agent", "description": "Start one.", "parameters": {"type": "object"}}]}]});
    let req =
        crate::translate::decode_request(crate::ir::Dialect::OpenAiResponses, body.to_string().as_bytes()).unwrap();
    assert!(req.unsupported.is_empty(), "{:?}", req.unsupported);
    let t = &req.tools[0];
    assert_eq!((t.name.as_str(), t.namespace.as_deref()), ("multi_agent_v1__spawn_agent", Some("multi_agent_v1")));
    assert_eq!(t.description.as_deref(), Some("Sub-agents.\n\nStart one."));
    assert!(
        matches!(&req.messages[1].content[0], Block::ToolUse { name, .. } if name == "multi_agent_v1__spawn_agent")
    );
    let resp = Response {
        content: vec![Block::ToolUse { id: "c1".into(), name: "multi_agent_v1__spawn_agent".into(), input: json!({}) }],
        stop_reason: Some(StopReason::ToolUse),
        ..sample()
    };
    let v: Value = serde_json::from_slice(&encode_response_for(&resp, &req)).unwrap();
    let item = &v["output"][0];
    assert_eq!((item["name"].as_str(), item["namespace"].as_str()), (Some("spawn_agent"), Some("multi_agent_v1")));
}
