//! Caller request bodies -> IR requests.

use serde_json::{Value, json};

use crate::dialects::openai_responses::decode_request;
use crate::ir::{Block, MediaSource, Reasoning, ReasoningEffort, Request, ResponseFormat, Role, ToolChoice};

fn decode(v: Value) -> Request {
    decode_request(v.to_string().as_bytes()).unwrap()
}

fn text(t: &str) -> Block {
    Block::Text { text: t.into(), cache_control: None }
}

#[test]
fn string_input_and_instructions() {
    let req = decode(json!({"model": "gpt-4.1", "input": "hi", "instructions": "be brief", "stream": true}));
    assert_eq!(req.model, "gpt-4.1");
    assert_eq!(req.system.len(), 1);
    assert_eq!(req.system[0].text, "be brief");
    assert_eq!(req.messages.len(), 1);
    assert_eq!(req.messages[0].content, vec![text("hi")]);
    assert!(req.stream);
    assert!(req.unsupported.is_empty());
}

#[test]
fn leading_system_and_developer_join_system_later_ones_stay() {
    let req = decode(json!({"model": "m", "instructions": "I", "input": [
        {"role": "developer", "content": "D"},
        {"role": "user", "content": "u"},
        {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "S"}]},
    ]}));
    let sys: Vec<&str> = req.system.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(sys, ["I", "D"]);
    assert_eq!(req.messages[1].role, Role::System);
    assert_eq!(req.messages[1].content, vec![text("S")]);
}

#[test]
fn reasoning_calls_and_outputs_group_into_turns() {
    let req = decode(json!({"model": "m", "input": [
        {"role": "user", "content": "go"},
        {"type": "reasoning", "id": "rs_1", "summary": [
            {"type": "summary_text", "text": "a"}, {"type": "summary_text", "text": "b"}],
         "encrypted_content": "gAAAA=="},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok", "annotations": []}]},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{\"x\":1}"},
        {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin Patch"},
        {"type": "function_call_output", "call_id": "c1", "output": "one"},
        {"type": "custom_tool_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "two"}]},
        {"role": "user", "content": "next"},
    ]}));
    assert_eq!(req.messages.len(), 3);
    assert_eq!(
        req.messages[1].content,
        vec![
            Block::Thinking { thinking: "a\n\nb".into(), signature: Some("gAAAA==".into()) },
            text("ok"),
            Block::ToolUse { id: "c1".into(), name: "f".into(), input: json!({"x": 1}) },
            Block::ToolUse { id: "c2".into(), name: "apply_patch".into(), input: json!({"input": "*** Begin Patch"}) },
        ]
    );
    let user = &req.messages[2];
    assert_eq!(user.role, Role::User);
    assert!(matches!(&user.content[0], Block::ToolResult { tool_use_id, .. } if tool_use_id == "c1"));
    assert!(matches!(&user.content[1], Block::ToolResult { tool_use_id, content, .. }
        if tool_use_id == "c2" && content == &vec![text("two")]));
    assert_eq!(user.content[2], text("next"));
}

#[test]
fn redacted_thinking_marker_round_trips() {
    let req = decode(json!({"model": "m", "input": [
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "redacted_thinking:EqQB"}]}));
    assert_eq!(req.messages[0].content, vec![Block::RedactedThinking { data: "EqQB".into() }]);
}

#[test]
fn images_and_files() {
    let req = decode(json!({"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": "data:image/png;base64,AAA", "detail": "auto"},
        {"type": "input_image", "image_url": "https://x/y.png", "detail": "low"},
        {"type": "input_image", "file_id": "file-1", "detail": "auto"},
        {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBE"},
        {"type": "input_file", "file_url": "https://x/b.pdf"},
    ]}]}));
    let c = &req.messages[0].content;
    assert_eq!(
        c[0],
        Block::Image {
            source: MediaSource::Base64 { media_type: "image/png".into(), data: "AAA".into() },
            cache_control: None
        }
    );
    assert_eq!(c[1], Block::Image { source: MediaSource::Url { url: "https://x/y.png".into() }, cache_control: None });
    assert_eq!(c[2], Block::Image { source: MediaSource::FileId { file_id: "file-1".into() }, cache_control: None });
    assert!(
        matches!(&c[3], Block::Document { title: Some(t), source: MediaSource::Base64 { .. }, .. } if t == "a.pdf")
    );
    assert!(matches!(&c[4], Block::Document { source: MediaSource::Url { .. }, .. }));
}

#[test]
fn tools_choice_reasoning_format_sampling() {
    let req = decode(json!({"model": "m", "input": "x",
        "tools": [
            {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}, "strict": true},
            {"type": "custom", "name": "apply_patch", "description": "patch",
             "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"}},
        ],
        "tool_choice": {"type": "function", "name": "f"}, "parallel_tool_calls": false,
        "reasoning": {"effort": "high", "summary": "auto"}, "max_output_tokens": 99,
        "temperature": 0.2, "top_p": 0.5, "safety_identifier": "sid",
        "text": {"verbosity": "low", "format": {"type": "json_schema", "name": "o", "schema": {"type": "object"}, "strict": true}},
        "store": false, "include": ["reasoning.encrypted_content"], "prompt_cache_key": "k", "background": false,
    }));
    let mut req = req;
    crate::policy::sort(crate::ir::Dialect::OpenAiResponses, &mut req);
    assert!(req.unsupported.is_empty(), "{:?}", req.unsupported);
    assert_eq!(req.dropped, ["prompt_cache_key", "text.verbosity"]);
    assert_eq!(req.tools.len(), 2);
    assert!(!req.tools[0].custom && req.tools[0].strict == Some(true));
    let custom = &req.tools[1];
    assert!(custom.custom);
    assert_eq!(custom.input_schema.to_value()["required"], json!(["input"]));
    assert!(custom.description.as_deref().unwrap().contains("lark grammar:\nstart: x"));
    assert_eq!(req.tool_choice, Some(ToolChoice::Tool { name: "f".into() }));
    assert_eq!(req.parallel_tool_calls, Some(false));
    assert_eq!(
        req.reasoning,
        Some(Reasoning { enabled: true, effort: Some(ReasoningEffort::High), ..Reasoning::default() })
    );
    assert_eq!(req.max_tokens, Some(99));
    assert_eq!((req.temperature, req.top_p), (Some(0.2), Some(0.5)));
    assert_eq!(req.user.as_deref(), Some("sid"));
    assert!(
        matches!(req.response_format, Some(ResponseFormat::JsonSchema { ref name, strict: Some(true), .. }) if name == "o")
    );
}

#[test]
fn untranslatable_fields_are_unsupported_by_path() {
    let req = decode(json!({"model": "m", "previous_response_id": "resp_1", "input": [
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]},
        {"type": "local_shell_call", "id": "x", "call_id": "c", "action": {}, "status": "completed"},
        {"type": "item_reference", "id": "msg_1"},
    ], "tools": [{"type": "web_search"}], "tool_choice": {"type": "allowed_tools", "mode": "auto", "tools": []},
       "top_logprobs": 2, "background": true}));
    let keys: Vec<&str> = req.unsupported.keys().map(String::as_str).collect();
    for k in [
        "previous_response_id",
        "input[0].content[0]",
        "input[1]",
        "input[2]",
        "tools[0]",
        "tool_choice",
        "top_logprobs",
        "background",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
}

#[test]
fn previous_response_id_alone_needs_no_input() {
    let req = decode(json!({"model": "m", "previous_response_id": "resp_1"}));
    assert!(req.unsupported.contains_key("previous_response_id"));
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (json!({"input": "x"}), "model"),
        (json!({"model": "m"}), "input"),
        (
            json!({"model": "m", "input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": "{"}]}),
            "input[0].arguments",
        ),
        (
            json!({"model": "m", "input": [{"type": "function_call", "name": "f", "arguments": "{}"}]}),
            "input[0].call_id",
        ),
        (json!({"model": "m", "input": [{"role": "robot", "content": "x"}]}), "input[0].role"),
        (json!({"model": "m", "input": "x", "reasoning": {"effort": "extreme"}}), "reasoning.effort"),
        (json!({"model": "m", "input": "x", "text": {"format": {"type": "yaml"}}}), "text.format.type"),
    ];
    for (body, field) in cases {
        let e = decode_request(body.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.param.as_deref(), Some(field), "{}", e.message);
        assert_eq!(e.status, 400);
    }
}

#[test]
fn effort_none_disables_reasoning() {
    let req = decode(json!({"model": "m", "input": "x", "reasoning": {"effort": "none"}}));
    assert_eq!(req.reasoning, Some(Reasoning::default()));
}
