//! Hand-built IR request -> upstream body.

use serde_json::{Value, json};

use crate::dialects::openai_chat::encode_request;
use crate::ir::{
    Block, MediaSource, Message, Reasoning, ReasoningEffort, Request, ResponseFormat, Role, SystemBlock, Tool,
    ToolChoice,
};

fn encode(req: &Request, model: &str) -> Value {
    serde_json::from_slice(&encode_request(req, model).unwrap()).unwrap()
}

fn text(t: &str) -> Block {
    Block::Text { text: t.into(), cache_control: None }
}

fn msg(role: Role, content: Vec<Block>) -> Message {
    Message { role, content }
}

fn png() -> MediaSource {
    MediaSource::Base64 { media_type: "image/png".into(), data: "AAAA".into() }
}

#[test]
fn system_and_text_messages() {
    let req = Request {
        system: vec![
            SystemBlock { text: "a".into(), cache_control: None },
            SystemBlock { text: "b".into(), cache_control: None },
        ],
        messages: vec![
            msg(Role::User, vec![text("hi")]),
            msg(Role::System, vec![text("mid")]),
            msg(
                Role::Assistant,
                vec![Block::Thinking { thinking: "t".into(), signature: Some("sig".into()) }, text("yo")],
            ),
        ],
        max_tokens: Some(100),
        stop_sequences: vec!["X".into()],
        temperature: Some(0.2),
        top_p: Some(0.5),
        user: Some("u".into()),
        ..Request::default()
    };
    let b = encode(&req, "gpt-4o");
    assert_eq!(b["model"], "gpt-4o");
    assert_eq!(
        b["messages"],
        json!([
            {"role": "system", "content": "a\n\nb"},
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "mid"},
            {"role": "assistant", "content": "yo"}
        ])
    );
    assert_eq!(b["max_tokens"], 100);
    assert_eq!(b["stop"], json!(["X"]));
    assert_eq!(b["temperature"], 0.2);
    assert_eq!(b["top_p"], 0.5);
    assert_eq!(b["user"], "u");
    assert!(b.get("stream").is_none());
}

#[test]
fn max_completion_tokens_for_reasoning_models() {
    let req = Request { max_tokens: Some(5), ..Request::default() };
    for m in ["gpt-5", "gpt-5-mini", "o1", "o3-mini", "o4-mini", "openai/gpt-5"] {
        let b = encode(&req, m);
        assert_eq!(b["max_completion_tokens"], 5, "{m}");
        assert!(b.get("max_tokens").is_none());
    }
    assert_eq!(encode(&req, "llama-3.3-70b")["max_tokens"], 5);
}

#[test]
fn tool_results_follow_the_assistant_with_images_after() {
    let req = Request {
        messages: vec![
            msg(Role::User, vec![text("q")]),
            msg(
                Role::Assistant,
                vec![
                    Block::ToolUse { id: "a".into(), name: "f".into(), input: json!({"x": 1}) },
                    Block::ToolUse { id: "b".into(), name: "shot".into(), input: json!({}) },
                ],
            ),
            msg(
                Role::User,
                vec![
                    Block::ToolResult {
                        tool_use_id: "a".into(),
                        content: vec![text("boom")],
                        is_error: true,
                        cache_control: None,
                    },
                    Block::ToolResult {
                        tool_use_id: "b".into(),
                        content: vec![text("see image"), Block::Image { source: png(), cache_control: None }],
                        is_error: false,
                        cache_control: None,
                    },
                    text("continue"),
                ],
            ),
        ],
        ..Request::default()
    };
    let b = encode(&req, "m");
    assert_eq!(
        b["messages"],
        json!([
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}},
                {"id": "b", "type": "function", "function": {"name": "shot", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "a", "content": "Error: boom"},
            {"role": "tool", "tool_call_id": "b", "content": "see image"},
            {"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "text", "text": "continue"}
            ]}
        ])
    );
}

#[test]
fn media_parts() {
    let req = Request {
        messages: vec![msg(
            Role::User,
            vec![
                Block::Image { source: MediaSource::Url { url: "https://x/y.png".into() }, cache_control: None },
                Block::Document {
                    source: MediaSource::Base64 { media_type: "application/pdf".into(), data: "JVBE".into() },
                    title: Some("r.pdf".into()),
                    cache_control: None,
                },
                Block::Document {
                    source: MediaSource::Text { media_type: "text/plain".into(), data: "body".into() },
                    title: None,
                    cache_control: None,
                },
            ],
        )],
        ..Request::default()
    };
    assert_eq!(
        encode(&req, "m")["messages"][0]["content"],
        json!([
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
            {"type": "file", "file": {"filename": "r.pdf", "file_data": "data:application/pdf;base64,JVBE"}},
            {"type": "text", "text": "body"}
        ])
    );
    let bad = Request {
        messages: vec![msg(
            Role::User,
            vec![
                text("x"),
                Block::Document {
                    source: MediaSource::Url { url: "https://x/a.pdf".into() },
                    title: None,
                    cache_control: None,
                },
            ],
        )],
        ..Request::default()
    };
    let e = encode_request(&bad, "m").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("messages[0].content[1].source"));
}

#[test]
fn tools_reasoning_format_and_stream() {
    let req = Request {
        tools: vec![Tool {
            name: "f".into(),
            description: Some("d".into()),
            input_schema: json!({"type": "object"}).into(),
            strict: Some(true),
            cache_control: None,
            custom: false,
            namespace: None,
        }],
        tool_choice: Some(ToolChoice::Any),
        parallel_tool_calls: Some(false),
        reasoning: Some(Reasoning { enabled: true, budget_tokens: Some(10_000), ..Reasoning::default() }),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "out".into(),
            schema: json!({"type": "object"}),
            strict: None,
            description: None,
        }),
        stream: true,
        ..Request::default()
    };
    let b = encode(&req, "m");
    assert_eq!(
        b["tools"],
        json!([{"type": "function", "function": {"name": "f", "description": "d",
            "parameters": {"type": "object"}, "strict": true}}])
    );
    assert_eq!(b["tool_choice"], "required");
    assert_eq!(b["parallel_tool_calls"], false);
    assert_eq!(b["reasoning_effort"], "medium");
    assert_eq!(
        b["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}}})
    );
    assert_eq!(b["stream"], true);
    assert_eq!(b["stream_options"], json!({"include_usage": true}));

    let mut r2 = req.clone();
    r2.tool_choice = Some(ToolChoice::Tool { name: "f".into() });
    r2.reasoning = Some(Reasoning { enabled: true, effort: Some(ReasoningEffort::Max), ..Reasoning::default() });
    r2.response_format = Some(ResponseFormat::JsonObject);
    let b = encode(&r2, "m");
    assert_eq!(b["tool_choice"], json!({"type": "function", "function": {"name": "f"}}));
    assert_eq!(b["reasoning_effort"], "high");
    assert_eq!(b["response_format"], json!({"type": "json_object"}));

    r2.reasoning = Some(Reasoning { enabled: true, adaptive: true, ..Reasoning::default() });
    assert!(encode(&r2, "m").get("reasoning_effort").is_none());
}

#[test]
fn refusals() {
    // top_k has no Chat field: forwarded under its common extension name.
    let mut req = Request { top_k: Some(5), ..Request::default() };
    assert_eq!(encode(&req, "m")["top_k"], json!(5));
    req.top_k = None;
    req.unsupported.insert("tools[0]".into(), json!({}));
    let e = encode_request(&req, "m").unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.message.contains("OpenAI Chat Completions"));
    assert_eq!(e.param.as_deref(), Some("tools[0]"));
}
