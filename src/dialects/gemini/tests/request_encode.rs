//! IR request -> Gemini upstream body.

use serde_json::{Value, json};

use super::super::encode_request;
use super::json;
use crate::ir::{
    Block, MediaSource, Message, Reasoning, ReasoningEffort, Request, ResponseFormat, Role, SystemBlock, Tool,
    ToolChoice,
};

fn text(t: &str) -> Block {
    Block::Text { text: t.into(), cache_control: None }
}

fn encode(req: &Request) -> Value {
    json(&encode_request(req, "gemini-2.5-pro").unwrap())
}

#[test]
fn full_request_shape() {
    let req = Request {
        model: "ignored".into(),
        system: vec![SystemBlock { text: "Sys".into(), cache_control: None }],
        messages: vec![Message { role: Role::User, content: vec![text("Hi")] }],
        max_tokens: Some(100),
        temperature: Some(0.2),
        top_p: Some(0.9),
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
        reasoning: Some(Reasoning { enabled: true, effort: Some(ReasoningEffort::Low), ..Reasoning::default() }),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "n".into(),
            schema: json!({"type": "object"}),
            strict: None,
            description: None,
        }),
        user: Some("u".into()),
        ..Request::default()
    };
    assert_eq!(
        encode(&req),
        json!({
            "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
            "systemInstruction": {"parts": [{"text": "Sys"}]},
            "tools": [{"functionDeclarations": [{"name": "f", "description": "d", "parametersJsonSchema": {"type": "object"}}]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}},
            "generationConfig": {
                "maxOutputTokens": 100, "temperature": 0.2, "topP": 0.9, "topK": 5, "stopSequences": ["X"],
                "responseMimeType": "application/json", "responseJsonSchema": {"type": "object"},
                "thinkingConfig": {"thinkingBudget": 2048, "includeThoughts": true},
            },
        })
    );
}

#[test]
fn reasoning_variants() {
    let gc = |r: Reasoning| {
        encode(&Request { reasoning: Some(r), ..Request::default() })["generationConfig"]["thinkingConfig"].clone()
    };
    assert_eq!(gc(Reasoning::default()), json!({"thinkingBudget": 0}));
    assert_eq!(
        gc(Reasoning { enabled: true, adaptive: true, ..Reasoning::default() }),
        json!({"thinkingBudget": -1, "includeThoughts": true})
    );
    assert_eq!(
        gc(Reasoning { enabled: true, budget_tokens: Some(3000), ..Reasoning::default() })["thinkingBudget"],
        3000
    );
}

#[test]
fn history_with_signatures_tool_results_and_skip_signature() {
    let req = Request {
        messages: vec![
            Message { role: Role::User, content: vec![text("go")] },
            Message {
                role: Role::Assistant,
                content: vec![
                    Block::Thinking { thinking: "unsigned".into(), signature: None },
                    Block::Thinking { thinking: String::new(), signature: Some("SIG".into()) },
                    Block::ToolUse { id: "a".into(), name: "f".into(), input: json!({"x": 1}) },
                    Block::ToolUse { id: "b".into(), name: "g".into(), input: json!({}) },
                ],
            },
            Message {
                role: Role::User,
                content: vec![
                    Block::ToolResult {
                        tool_use_id: "a".into(),
                        content: vec![text("ok")],
                        is_error: false,
                        cache_control: None,
                    },
                    Block::ToolResult {
                        tool_use_id: "b".into(),
                        content: vec![
                            text("bad"),
                            Block::Image {
                                source: MediaSource::Base64 { media_type: "image/png".into(), data: "AA".into() },
                                cache_control: None,
                            },
                        ],
                        is_error: true,
                        cache_control: None,
                    },
                ],
            },
            // Foreign history: a call without a signature gets the documented skip value.
            Message {
                role: Role::Assistant,
                content: vec![Block::ToolUse { id: "c".into(), name: "f".into(), input: json!({}) }],
            },
            Message {
                role: Role::User,
                content: vec![Block::ToolResult {
                    tool_use_id: "c".into(),
                    content: vec![],
                    is_error: false,
                    cache_control: None,
                }],
            },
            Message { role: Role::System, content: vec![text("reminder")] },
        ],
        ..Request::default()
    };
    let v = encode(&req);
    assert_eq!(
        v["contents"],
        json!([
            {"role": "user", "parts": [{"text": "go"}]},
            {"role": "model", "parts": [
                {"functionCall": {"id": "a", "name": "f", "args": {"x": 1}}, "thoughtSignature": "SIG"},
                {"functionCall": {"id": "b", "name": "g", "args": {}}},
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"id": "a", "name": "f", "response": {"result": "ok"}}},
                {"functionResponse": {"id": "b", "name": "g", "response": {"error": "bad"}}},
                {"inlineData": {"mimeType": "image/png", "data": "AA"}},
            ]},
            {"role": "model", "parts": [
                {"functionCall": {"id": "c", "name": "f", "args": {}}, "thoughtSignature": "skip_thought_signature_validator"},
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"id": "c", "name": "f", "response": {"result": ""}}},
                {"text": "reminder"},
            ]},
        ])
    );
}

#[test]
fn signed_thought_text_keeps_its_own_signature_upstream() {
    let req = Request {
        messages: vec![Message {
            role: Role::Assistant,
            content: vec![Block::Thinking { thinking: "t".into(), signature: Some("S".into()) }, text("answer")],
        }],
        ..Request::default()
    };
    assert_eq!(
        encode(&req)["contents"][0]["parts"],
        json!([{"text": "t", "thought": true, "thoughtSignature": "S"}, {"text": "answer"}])
    );
}

#[test]
fn media_urls_and_refusals() {
    let img = |url: &str| Request {
        messages: vec![Message {
            role: Role::User,
            content: vec![Block::Image { source: MediaSource::Url { url: url.into() }, cache_control: None }],
        }],
        ..Request::default()
    };
    assert_eq!(
        encode(&img("https://x.test/a.PNG?s=1"))["contents"][0]["parts"][0],
        json!({"fileData": {"mimeType": "image/png", "fileUri": "https://x.test/a.PNG?s=1"}})
    );
    let e = encode_request(&img("https://x.test/image"), "m").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0].source.url"));
    assert!(encode_request(&img("http://x.test/a.png"), "m").is_err());

    let mut req = Request::default();
    req.unsupported.insert("logprobs".into(), json!(true));
    let e = encode_request(&req, "m").unwrap_err();
    assert_eq!(e.param.as_deref(), Some("logprobs"));

    let orphan = Request {
        messages: vec![Message {
            role: Role::User,
            content: vec![Block::ToolResult {
                tool_use_id: "zz".into(),
                content: vec![],
                is_error: false,
                cache_control: None,
            }],
        }],
        ..Request::default()
    };
    assert_eq!(encode_request(&orphan, "m").unwrap_err().param.as_deref(), Some("messages[0].content[0].tool_use_id"));
}
