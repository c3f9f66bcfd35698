//! IR requests -> Responses upstream bodies.

use serde_json::{Value, json};

use crate::dialects::openai_responses::encode_request;
use crate::ir::{
    Block, MediaSource, Message, Reasoning, ReasoningEffort, Request, ResponseFormat, Role, SystemBlock, Tool,
    ToolChoice,
};

fn encode(req: &Request) -> Value {
    serde_json::from_slice(&encode_request(req, "gpt-5").unwrap()).unwrap()
}

fn text(t: &str) -> Block {
    Block::Text { text: t.into(), cache_control: None }
}

fn tool(name: &str, custom: bool) -> Tool {
    Tool {
        name: name.into(),
        description: Some("d".into()),
        input_schema: json!({"type": "object"}).into(),
        strict: None,
        cache_control: None,
        custom,
        namespace: None,
    }
}

#[test]
fn stateless_body_with_instructions_and_items() {
    let req = Request {
        system: vec![
            SystemBlock { text: "a".into(), cache_control: None },
            SystemBlock { text: "b".into(), cache_control: None },
        ],
        messages: vec![
            Message { role: Role::User, content: vec![text("hi")] },
            Message {
                role: Role::Assistant,
                content: vec![
                    Block::Thinking { thinking: "t".into(), signature: Some("responses:rs_9:gAAAA".into()) },
                    Block::Thinking { thinking: "foreign".into(), signature: Some("EqQBCkYI".into()) },
                    Block::Thinking { thinking: "unsigned".into(), signature: None },
                    text("x"),
                    Block::ToolUse { id: "c1".into(), name: "f".into(), input: json!({"a": 1}) },
                    Block::ToolUse { id: "c2".into(), name: "apply_patch".into(), input: json!({"input": "PATCH"}) },
                ],
            },
            Message {
                role: Role::User,
                content: vec![
                    text("after"),
                    Block::ToolResult {
                        tool_use_id: "c1".into(),
                        content: vec![text("r1")],
                        is_error: true,
                        cache_control: None,
                    },
                    Block::ToolResult {
                        tool_use_id: "c2".into(),
                        content: vec![text("r2")],
                        is_error: false,
                        cache_control: None,
                    },
                ],
            },
        ],
        tools: vec![tool("f", false), tool("apply_patch", true)],
        tool_choice: Some(ToolChoice::Tool { name: "apply_patch".into() }),
        parallel_tool_calls: Some(false),
        max_tokens: Some(500),
        stream: true,
        ..Request::default()
    };
    let v = encode(&req);
    assert_eq!(v["model"], "gpt-5");
    assert_eq!(v["instructions"], "a\n\nb");
    assert_eq!(v["store"], false);
    assert_eq!(v["stream"], true);
    assert_eq!(v["max_output_tokens"], 500);
    assert_eq!(v["parallel_tool_calls"], false);
    assert_eq!(v["tool_choice"], json!({"type": "custom", "name": "apply_patch"}));
    assert_eq!(
        v["tools"][0],
        json!({"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}, "strict": false})
    );
    assert_eq!(v["tools"][1], json!({"type": "custom", "name": "apply_patch", "description": "d"}));
    assert_eq!(
        v["input"],
        json!([
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "reasoning", "id": "rs_9", "summary": [{"type": "summary_text", "text": "t"}], "encrypted_content": "gAAAA"},
            {"type": "message", "role": "assistant", "content": "x"},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{\"a\":1}"},
            {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "PATCH"},
            {"type": "function_call_output", "call_id": "c1", "output": "Error: r1"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": "r2"},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "after"}]},
        ])
    );
}

#[test]
fn media_reasoning_and_format() {
    let req = Request {
        messages: vec![Message {
            role: Role::User,
            content: vec![
                Block::Image {
                    source: MediaSource::Base64 { media_type: "image/png".into(), data: "AAA".into() },
                    cache_control: None,
                },
                Block::Document {
                    source: MediaSource::Base64 { media_type: "application/pdf".into(), data: "JVBE".into() },
                    title: Some("a.pdf".into()),
                    cache_control: None,
                },
                Block::Document {
                    source: MediaSource::Text { media_type: "text/plain".into(), data: "body".into() },
                    title: None,
                    cache_control: None,
                },
            ],
        }],
        reasoning: Some(Reasoning { enabled: true, budget_tokens: Some(20_000), ..Reasoning::default() }),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "o".into(),
            schema: json!({"type": "object"}),
            strict: Some(true),
            description: None,
        }),
        user: Some("u".into()),
        ..Request::default()
    };
    let v = encode(&req);
    assert_eq!(
        v["input"][0]["content"],
        json!([
            {"type": "input_image", "image_url": "data:image/png;base64,AAA", "detail": "auto"},
            {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBE"},
            {"type": "input_text", "text": "body"},
        ])
    );
    assert_eq!(v["reasoning"], json!({"effort": "high", "summary": "auto"}));
    assert_eq!(v["include"], json!(["reasoning.encrypted_content"]));
    assert_eq!(
        v["text"],
        json!({"format": {"type": "json_schema", "name": "o", "schema": {"type": "object"}, "strict": true}})
    );
    assert_eq!(v["user"], "u");
    let max = Request {
        reasoning: Some(Reasoning { enabled: true, effort: Some(ReasoningEffort::Max), ..Reasoning::default() }),
        ..Request::default()
    };
    assert_eq!(encode(&max)["reasoning"]["effort"], "xhigh");
}

#[test]
fn refusals_name_the_field() {
    let mut req = Request::default();
    req.unsupported.insert("messages[0].content[1]".into(), json!({}));
    assert_eq!(encode_request(&req, "m").unwrap_err().param.as_deref(), Some("messages[0].content[1]"));
    // top_k is forwarded under its common name rather than refused.
    let body = encode_request(&Request { top_k: Some(3), ..Request::default() }, "m").unwrap();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["top_k"], 3);
    let e = encode_request(&Request { stop_sequences: vec!["x".into()], ..Request::default() }, "m").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("stop_sequences"));
    let req = Request {
        messages: vec![Message {
            role: Role::System,
            content: vec![Block::Image { source: MediaSource::Url { url: "u".into() }, cache_control: None }],
        }],
        ..Request::default()
    };
    assert_eq!(encode_request(&req, "m").unwrap_err().param.as_deref(), Some("messages[0].content[0]"));
}

#[test]
fn codex_fixture_round_trips_custom_tools() {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/openai_responses/requests/codex_style.json"
    ))
    .unwrap();
    let req = crate::translate::decode_request(crate::ir::Dialect::OpenAiResponses, &body).unwrap();
    assert!(req.unsupported.is_empty(), "{:?}", req.unsupported);
    let v = encode(&req);
    let kinds: Vec<&str> = v["input"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"custom_tool_call") && kinds.contains(&"custom_tool_call_output"), "{kinds:?}");
    assert_eq!(v["tools"][1]["type"], "custom");
}
