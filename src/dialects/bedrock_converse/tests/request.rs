//! Request decoding and encoding rules.

use serde_json::{Value, json};

use super::super::request_decode::decode_value;
use super::super::*;
use crate::ir::{Block, Message, Reasoning, ReasoningEffort, Request, Role, ToolChoice};

fn encode(req: &Request, model: &str) -> Value {
    serde_json::from_slice(&encode_request(req, model).unwrap()).unwrap()
}

#[test]
fn cache_points_mark_the_block_before_them() {
    let r = decode_value(&json!({
        "system": [{"cachePoint": {"type": "default"}}, {"text": "s"}, {"cachePoint": {"type": "default", "ttl": "1h"}}],
        "messages": [{"role": "user", "content": [{"cachePoint": {"type": "default"}}, {"text": "a"}]}],
    }))
    .unwrap();
    assert_eq!(r.system[0].cache_control.as_ref().unwrap().0, json!({"type": "ephemeral", "ttl": "1h"}));
    // Cache points with nothing before them are recorded, for the policy to drop and report.
    assert!(r.unsupported.contains_key("system[0].cachePoint"));
    assert!(r.unsupported.contains_key("messages[0].content[0].cachePoint"));
    let mut req = r.clone();
    req.unsupported.clear();
    let out = encode(&req, "anthropic.claude-3-haiku");
    assert_eq!(out["system"], json!([{"text": "s"}, {"cachePoint": {"type": "default", "ttl": "1h"}}]));
}

#[test]
fn tool_results_guard_content_and_roles() {
    let r = decode_value(&json!({"messages": [
        {"role": "user", "content": [{"guardContent": {"text": {"text": "is this ok?", "qualifiers": ["query"]}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t", "status": "error", "content": [{"json": {"e": 1}}]}}]},
    ]}))
    .unwrap();
    assert_eq!(r.messages[0].content[0], Block::Text { text: "is this ok?".into(), cache_control: None });
    assert!(r.unsupported.contains_key("messages[0].content[0].guardContent.text.qualifiers"));
    let Block::ToolResult { is_error, content, .. } = &r.messages[1].content[0] else { panic!() };
    assert!(*is_error);
    assert_eq!(content[0], Block::Text { text: r#"{"e":1}"#.into(), cache_control: None });
    assert!(decode_value(&json!({"messages": [{"role": "system", "content": []}]})).is_err());
    let e =
        decode_value(&json!({"messages": [{"role": "user", "content": [{"text": "a", "image": {}}]}]})).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0]"));
    assert!(decode_value(&json!({"system": []})).is_err(), "messages is required");
}

#[test]
fn additional_fields_by_family() {
    let r = decode_value(&json!({
        "messages": [{"role": "user", "content": [{"text": "a"}]}],
        "additionalModelRequestFields": {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}, "inferenceConfig": {"topK": 5}},
    }))
    .unwrap();
    assert_eq!(r.top_k, Some(5));
    assert_eq!(r.reasoning.as_ref().unwrap().effort, Some(ReasoningEffort::High));
    let nova = encode(&r, "us.amazon.nova-2-lite-v1:0");
    assert_eq!(
        nova["additionalModelRequestFields"],
        json!({"inferenceConfig": {"topK": 5}, "reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}})
    );
    let claude = encode(&r, "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0");
    assert_eq!(
        claude["additionalModelRequestFields"],
        json!({"top_k": 5, "thinking": {"type": "enabled", "budget_tokens": 16384}})
    );
    let oss = encode(&r, "openai.gpt-oss-120b-1:0");
    assert_eq!(oss["additionalModelRequestFields"], json!({"top_k": 5, "reasoning_effort": "high"}));
    let llama = encode(&r, "meta.llama3-3-70b-instruct-v1:0");
    assert_eq!(llama["additionalModelRequestFields"], json!({"top_k": 5}));
    let adaptive =
        Request { reasoning: Some(Reasoning { enabled: true, adaptive: true, ..Reasoning::default() }), ..r.clone() };
    assert_eq!(
        encode(&adaptive, "global.anthropic.claude-opus-4-6-v1")["additionalModelRequestFields"]["thinking"],
        json!({"type": "adaptive"})
    );
    let unknown = decode_value(&json!({
        "messages": [{"role": "user", "content": [{"text": "a"}]}],
        "additionalModelRequestFields": {"mystery": 1},
    }))
    .unwrap();
    assert!(unknown.unsupported.contains_key("additionalModelRequestFields.mystery"));
}

#[test]
fn encode_merges_roles_and_refuses_what_converse_lacks() {
    let text = |t: &str| Block::Text { text: t.into(), cache_control: None };
    let req = Request {
        messages: vec![
            Message { role: Role::User, content: vec![text("a")] },
            Message { role: Role::System, content: vec![text("be brief")] },
            Message { role: Role::User, content: vec![text(""), text("b")] },
            Message {
                role: Role::Assistant,
                content: vec![Block::Thinking { thinking: "x".into(), signature: None }, text("c")],
            },
        ],
        ..Request::default()
    };
    let out = encode(&req, "m");
    assert_eq!(
        out["messages"],
        json!([
            {"role": "user", "content": [{"text": "a"}, {"text": "be brief"}, {"text": "b"}]},
            {"role": "assistant", "content": [{"text": "c"}]},
        ])
    );
    let none = Request {
        tools: vec![crate::ir::Tool {
            name: "f".into(),
            description: None,
            input_schema: json!({"type": "object"}).into(),
            strict: None,
            cache_control: None,
            custom: false,
            namespace: None,
        }],
        tool_choice: Some(ToolChoice::None),
        ..req.clone()
    };
    assert_eq!(encode_request(&none, "m").unwrap_err().param.as_deref(), Some("tool_choice"));
    let schema = Request { response_format: Some(crate::ir::ResponseFormat::JsonObject), ..req.clone() };
    assert_eq!(encode_request(&schema, "m").unwrap_err().param.as_deref(), Some("response_format"));
    let history = Request {
        messages: vec![Message {
            role: Role::Assistant,
            content: vec![Block::ToolUse { id: "t".into(), name: "f".into(), input: json!({}) }],
        }],
        ..Request::default()
    };
    assert_eq!(encode_request(&history, "m").unwrap_err().param.as_deref(), Some("tools"));
}
