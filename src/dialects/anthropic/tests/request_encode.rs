//! `encode_request`: IR requests built by hand -> Anthropic bodies.

use serde_json::{Value, json};

use super::super::encode_request;
use super::json;
use crate::ir::{
    Block, CacheControl, MediaSource, Message, Reasoning, ReasoningEffort, Request, ResponseFormat, Role, SystemBlock,
    Tool, ToolChoice,
};

fn text(t: &str) -> Block {
    Block::Text { text: t.into(), cache_control: None }
}

fn msg(role: Role, content: Vec<Block>) -> Message {
    Message { role, content }
}

fn encode(req: &Request) -> Value {
    json(&encode_request(req, "claude-up").unwrap())
}

#[test]
fn minimal_request_defaults_max_tokens() {
    let req =
        Request { model: "gpt-4o".into(), messages: vec![msg(Role::User, vec![text("hi")])], ..Request::default() };
    assert_eq!(
        encode(&req),
        json!({"model": "claude-up", "max_tokens": 4096,
               "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
    );
}

#[test]
fn sampling_system_tools_user() {
    let req = Request {
        system: vec![SystemBlock {
            text: "be brief".into(),
            cache_control: Some(CacheControl(json!({"type": "ephemeral"}))),
        }],
        messages: vec![msg(Role::User, vec![text("hi")])],
        max_tokens: Some(100),
        temperature: Some(0.3),
        top_p: Some(0.8),
        top_k: Some(5),
        stop_sequences: vec!["X".into()],
        stream: true,
        tools: vec![Tool {
            name: "f".into(),
            description: Some("d".into()),
            input_schema: json!({"type": "object"}).into(),
            strict: Some(true),
            cache_control: None,
            custom: false,
            namespace: None,
        }],
        tool_choice: Some(ToolChoice::Tool { name: "f".into() }),
        parallel_tool_calls: Some(false),
        user: Some("u".into()),
        ..Request::default()
    };
    let v = encode(&req);
    assert_eq!(v["system"], json!([{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}]));
    assert_eq!(v["temperature"], 0.3);
    assert_eq!(v["top_p"], 0.8);
    assert_eq!(v["top_k"], 5);
    assert_eq!(v["stop_sequences"], json!(["X"]));
    assert_eq!(v["stream"], true);
    assert_eq!(v["metadata"], json!({"user_id": "u"}));
    assert_eq!(
        v["tools"],
        json!([{"name": "f", "description": "d", "input_schema": {"type": "object"}, "strict": true}])
    );
    assert_eq!(v["tool_choice"], json!({"type": "tool", "name": "f", "disable_parallel_tool_use": true}));
}

#[test]
fn parallel_false_without_choice_gives_auto() {
    let req = Request {
        tools: vec![Tool {
            name: "f".into(),
            description: None,
            input_schema: json!({}).into(),
            strict: None,
            cache_control: None,
            custom: false,
            namespace: None,
        }],
        parallel_tool_calls: Some(false),
        ..Request::default()
    };
    assert_eq!(encode(&req)["tool_choice"], json!({"type": "auto", "disable_parallel_tool_use": true}));
    let req = Request { tool_choice: Some(ToolChoice::None), parallel_tool_calls: Some(false), ..req };
    assert_eq!(encode(&req)["tool_choice"], json!({"type": "none"}));
}

#[test]
fn thinking_budget_vs_max_tokens() {
    let mut req = Request {
        max_tokens: Some(1000),
        reasoning: Some(Reasoning { enabled: true, budget_tokens: Some(2000), ..Reasoning::default() }),
        ..Request::default()
    };
    let v = encode(&req);
    assert_eq!(v["thinking"], json!({"type": "enabled", "budget_tokens": 2000}));
    assert_eq!(v["max_tokens"], 3000);

    req.max_tokens = Some(30000);
    assert_eq!(encode(&req)["max_tokens"], 30000);

    // Effort only: budget from the effort table; default max_tokens 4096 < 16384.
    req.max_tokens = None;
    req.reasoning = Some(Reasoning { enabled: true, effort: Some(ReasoningEffort::High), ..Reasoning::default() });
    let v = encode(&req);
    assert_eq!(v["thinking"], json!({"type": "enabled", "budget_tokens": 16384}));
    assert_eq!(v["max_tokens"], 16384 + 4096);
    assert!(v.get("output_config").is_none());

    req.reasoning = Some(Reasoning { enabled: true, adaptive: true, ..Reasoning::default() });
    assert_eq!(encode(&req)["thinking"], json!({"type": "adaptive"}));
    req.reasoning = Some(Reasoning::default());
    assert_eq!(encode(&req)["thinking"], json!({"type": "disabled"}));
}

#[test]
fn thinking_leaves_sampling_to_the_model() {
    let req = Request {
        temperature: Some(0.0),
        top_p: Some(0.5),
        top_k: Some(40),
        reasoning: Some(Reasoning { enabled: true, budget_tokens: Some(1024), ..Reasoning::default() }),
        ..Request::default()
    };
    let body = encode(&req);
    for field in ["temperature", "top_p", "top_k"] {
        assert!(body.get(field).is_none(), "{field} must not reach Anthropic with thinking on: {body}");
    }
    let kept = Request { top_p: Some(0.97), ..req.clone() };
    assert_eq!(encode(&kept)["top_p"], json!(0.97));
    let no_thinking = Request { reasoning: None, ..req };
    assert_eq!(encode(&no_thinking)["temperature"], json!(0.0));
}

#[test]
fn response_formats() {
    let mut req = Request {
        response_format: Some(ResponseFormat::JsonSchema {
            name: "x".into(),
            schema: json!({"type": "object"}),
            strict: Some(true),
            description: None,
        }),
        ..Request::default()
    };
    assert_eq!(encode(&req)["output_config"], json!({"format": {"type": "json_schema", "schema": {"type": "object"}}}));
    req.response_format = Some(ResponseFormat::JsonObject);
    let e = encode_request(&req, "m").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("response_format"));
    req.response_format = Some(ResponseFormat::Text);
    assert!(encode(&req).get("output_config").is_none());
}

#[test]
fn unsupported_entries_are_refused_by_name() {
    let mut req = Request::default();
    req.unsupported.insert("logprobs".into(), json!(true));
    let e = encode_request(&req, "m").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("logprobs"));
    assert!(e.message.contains("Anthropic Messages"));
}

#[test]
fn history_merging_ordering_and_unsigned_thinking() {
    let req = Request {
        messages: vec![
            msg(Role::User, vec![text("q")]),
            msg(
                Role::Assistant,
                vec![
                    Block::Thinking { thinking: "from openai".into(), signature: None },
                    text(""),
                    Block::ToolUse { id: "a".into(), name: "f".into(), input: json!({}) },
                    Block::ToolUse { id: "b".into(), name: "f".into(), input: json!({"x": 1}) },
                ],
            ),
            msg(
                Role::User,
                vec![Block::ToolResult {
                    tool_use_id: "a".into(),
                    content: vec![text("1")],
                    is_error: false,
                    cache_control: None,
                }],
            ),
            msg(
                Role::User,
                vec![
                    text("and also"),
                    Block::ToolResult {
                        tool_use_id: "b".into(),
                        content: vec![text("boom")],
                        is_error: true,
                        cache_control: None,
                    },
                ],
            ),
            msg(
                Role::Assistant,
                vec![
                    Block::Thinking { thinking: "signed".into(), signature: Some("sig/+=".into()) },
                    Block::RedactedThinking { data: "r".into() },
                    text("done"),
                ],
            ),
            msg(Role::Assistant, vec![Block::Thinking { thinking: "only unsigned".into(), signature: None }]),
            msg(Role::System, vec![text("mid system")]),
            msg(
                Role::User,
                vec![
                    Block::Image { source: MediaSource::Url { url: "https://i/x.png".into() }, cache_control: None },
                    Block::Document {
                        source: MediaSource::Base64 { media_type: "application/pdf".into(), data: "JV".into() },
                        title: Some("t".into()),
                        cache_control: None,
                    },
                ],
            ),
        ],
        ..Request::default()
    };
    let v = encode(&req);
    let m = v["messages"].as_array().unwrap();
    let roles: Vec<&str> = m.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant", "system", "user"]);
    assert_eq!(
        m[1]["content"],
        json!([
            {"type": "tool_use", "id": "a", "name": "f", "input": {}},
            {"type": "tool_use", "id": "b", "name": "f", "input": {"x": 1}}
        ])
    );
    assert_eq!(
        m[2]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "a", "content": [{"type": "text", "text": "1"}]},
            {"type": "tool_result", "tool_use_id": "b", "content": [{"type": "text", "text": "boom"}], "is_error": true},
            {"type": "text", "text": "and also"}
        ])
    );
    assert_eq!(m[3]["content"][0], json!({"type": "thinking", "thinking": "signed", "signature": "sig/+="}));
    assert_eq!(m[3]["content"][1], json!({"type": "redacted_thinking", "data": "r"}));
    assert_eq!(m[3]["content"].as_array().unwrap().len(), 3);
    assert_eq!(m[5]["content"][0], json!({"type": "image", "source": {"type": "url", "url": "https://i/x.png"}}));
    assert_eq!(m[5]["content"][1]["source"], json!({"type": "base64", "media_type": "application/pdf", "data": "JV"}));
    assert_eq!(m[5]["content"][1]["title"], "t");
}

#[test]
fn text_source_image_is_refused() {
    let req = Request {
        messages: vec![msg(
            Role::User,
            vec![Block::Image {
                source: MediaSource::Text { media_type: "text/plain".into(), data: "x".into() },
                cache_control: None,
            }],
        )],
        ..Request::default()
    };
    let e = encode_request(&req, "m").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0].source"));
}

#[test]
fn signature_round_trips_byte_for_byte() {
    let sig = "EqQBCgIYAhIM1gbcDa9GJwZA2b3h+/==\\u00e9";
    let body = json!({"model": "m", "max_tokens": 5, "messages": [{"role": "assistant", "content": [
        {"type": "thinking", "thinking": "t", "signature": sig}]}]});
    let req = super::super::decode_request(body.to_string().as_bytes()).unwrap();
    let v = encode(&req);
    assert_eq!(v["messages"][0]["content"][0]["signature"].as_str(), Some(sig));
}
