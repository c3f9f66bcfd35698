//! Caller request body -> IR.

use serde_json::{Value, json};

use crate::dialects::openai_chat::decode_request;
use crate::ir::{Block, ErrorKind, MediaSource, Reasoning, ReasoningEffort, ResponseFormat, Role, ToolChoice};

fn decode(v: Value) -> crate::ir::Request {
    decode_request(v.to_string().as_bytes()).unwrap()
}

fn text(t: &str) -> Block {
    Block::Text { text: t.into(), cache_control: None }
}

#[test]
fn scalars_and_options() {
    let r = decode(json!({
        "model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 10, "max_completion_tokens": 20, "temperature": 0.5, "top_p": 0.9,
        "stop": "END", "stream": true, "stream_options": {"include_usage": true},
        "parallel_tool_calls": false, "reasoning_effort": "low", "user": "u1",
        "n": 1, "logprobs": false, "presence_penalty": 0, "frequency_penalty": 0.0,
        "logit_bias": {}, "seed": 7, "store": false, "metadata": {"a": "b"},
        "service_tier": "auto", "prompt_cache_key": "k", "safety_identifier": "s",
        "response_format": {"type": "json_object"}, "top_logprobs": null
    }));
    assert_eq!(r.model, "gpt-4o");
    assert_eq!(r.max_tokens, Some(20));
    assert_eq!(r.temperature, Some(0.5));
    assert_eq!(r.top_p, Some(0.9));
    assert_eq!(r.stop_sequences, vec!["END"]);
    assert!(r.stream && r.stream_include_usage);
    assert_eq!(r.parallel_tool_calls, Some(false));
    assert_eq!(
        r.reasoning,
        Some(Reasoning { enabled: true, effort: Some(ReasoningEffort::Low), ..Reasoning::default() })
    );
    assert_eq!(r.user.as_deref(), Some("u1"));
    assert_eq!(r.response_format, Some(ResponseFormat::JsonObject));
    let mut r = r;
    crate::policy::sort(crate::ir::Dialect::OpenAiChat, &mut r);
    assert!(r.unsupported.is_empty(), "{:?}", r.unsupported);
    assert!(r.dropped.iter().any(|d| d == "prompt_cache_key"), "{:?}", r.dropped);
    assert_eq!(r.messages[0].content, vec![text("hi")]);
}

#[test]
fn system_developer_leading_and_later() {
    let r = decode(json!({"model": "m", "messages": [
        {"role": "system", "content": "a"},
        {"role": "developer", "content": [{"type": "text", "text": "b"}]},
        {"role": "user", "content": "q"},
        {"role": "system", "content": "later"}
    ]}));
    let sys: Vec<_> = r.system.iter().map(|b| b.text.as_str()).collect();
    assert_eq!(sys, ["a", "b"]);
    assert_eq!(r.messages.len(), 2);
    assert_eq!(r.messages[1].role, Role::System);
    assert_eq!(r.messages[1].content, vec![text("later")]);
}

#[test]
fn user_parts_images_and_files() {
    let r = decode(json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://x/y.jpg"}},
        {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBE"}},
        {"type": "file", "file": {"file_id": "file-1"}}
    ]}]}));
    let c = &r.messages[0].content;
    assert_eq!(c[0], text("look"));
    assert_eq!(
        c[1],
        Block::Image {
            source: MediaSource::Base64 { media_type: "image/png".into(), data: "AAAA".into() },
            cache_control: None
        }
    );
    assert!(matches!(&c[2], Block::Image { source: MediaSource::Url { url }, .. } if url == "https://x/y.jpg"));
    assert_eq!(
        c[3],
        Block::Document {
            source: MediaSource::Base64 { media_type: "application/pdf".into(), data: "JVBE".into() },
            title: Some("a.pdf".into()),
            cache_control: None
        }
    );
    assert!(matches!(&c[4], Block::Document { source: MediaSource::FileId { file_id }, .. } if file_id == "file-1"));
}

#[test]
fn non_base64_data_url_is_rejected_with_path() {
    let body = json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png,raw"}}]}]});
    let e = decode_request(body.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0].image_url.url"));
}

#[test]
fn assistant_reasoning_text_and_tool_calls() {
    let r = decode(json!({"model": "m", "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "reasoning_content": "think", "content": "ok", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": ""}}
        ]}
    ]}));
    let c = &r.messages[1].content;
    assert_eq!(r.messages[1].role, Role::Assistant);
    assert_eq!(c[0], Block::Thinking { thinking: "think".into(), signature: None });
    assert_eq!(c[1], text("ok"));
    assert_eq!(c[2], Block::ToolUse { id: "c1".into(), name: "f".into(), input: json!({"a": 1}) });
    assert_eq!(c[3], Block::ToolUse { id: "c2".into(), name: "g".into(), input: json!({}) });
}

#[test]
fn invalid_tool_arguments_name_the_path() {
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{bad"}}]}
    ]});
    let e = decode_request(body.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert_eq!(e.status, 400);
    assert!(e.message.starts_with("messages[1].tool_calls[1].function.arguments"), "{}", e.message);
}

#[test]
fn tool_messages_merge_with_following_user_message() {
    let r = decode(json!({"model": "m", "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "a", "content": "one"},
        {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "two"}]},
        {"role": "user", "content": "next"},
        {"role": "user", "content": "separate"}
    ]}));
    assert_eq!(r.messages.len(), 4);
    let merged = &r.messages[2];
    assert_eq!(merged.role, Role::User);
    assert_eq!(merged.content.len(), 3);
    assert_eq!(
        merged.content[1],
        Block::ToolResult { tool_use_id: "b".into(), content: vec![text("two")], is_error: false, cache_control: None }
    );
    assert_eq!(merged.content[2], text("next"));
    assert_eq!(r.messages[3].content, vec![text("separate")]);
}

#[test]
fn tools_choice_and_schema() {
    let r = decode(json!({"model": "m", "messages": [{"role": "user", "content": "q"}],
        "tools": [{"type": "function", "function": {"name": "f", "description": "d",
            "parameters": {"type": "object"}, "strict": true}},
            {"type": "function", "function": {"name": "g"}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "out",
            "schema": {"type": "object"}, "strict": true, "description": "x"}}}));
    assert_eq!(r.tools.len(), 2);
    assert_eq!(r.tools[0].description.as_deref(), Some("d"));
    assert_eq!(r.tools[0].strict, Some(true));
    assert_eq!(r.tools[1].input_schema, json!({"type": "object", "properties": {}}));
    assert_eq!(r.tool_choice, Some(ToolChoice::Tool { name: "f".into() }));
    assert_eq!(
        r.response_format,
        Some(ResponseFormat::JsonSchema {
            name: "out".into(),
            schema: json!({"type": "object"}),
            strict: Some(true),
            description: Some("x".into())
        })
    );
    for (s, want) in [("auto", ToolChoice::Auto), ("none", ToolChoice::None), ("required", ToolChoice::Any)] {
        let r = decode(json!({"model": "m", "messages": [], "tool_choice": s}));
        assert_eq!(r.tool_choice, Some(want));
    }
}

#[test]
fn refusals_are_recorded_by_path() {
    let r = decode(json!({"model": "m", "messages": [
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]},
        {"role": "function", "name": "f", "content": "x"}],
        "n": 2, "logprobs": true, "top_logprobs": 3, "presence_penalty": 0.5,
        "frequency_penalty": -1, "logit_bias": {"50256": -100}, "audio": {"voice": "alloy"},
        "modalities": ["text", "audio"], "prediction": {"type": "content", "content": "x"},
        "web_search_options": {}, "functions": [{"name": "f"}], "function_call": "auto",
        "verbosity": "low", "something_new": 1,
        "tools": [{"type": "custom", "custom": {"name": "c"}}]}));
    for key in [
        "n",
        "logprobs",
        "top_logprobs",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "audio",
        "modalities",
        "prediction",
        "web_search_options",
        "functions",
        "function_call",
        "verbosity",
        "something_new",
        "tools[0]",
        "messages[0].content[0]",
        "messages[1]",
    ] {
        assert!(r.unsupported.contains_key(key), "missing {key}: {:?}", r.unsupported.keys());
    }
}

#[test]
fn reasoning_effort_none_disables() {
    let r = decode(json!({"model": "m", "messages": [], "reasoning_effort": "none"}));
    assert_eq!(r.reasoning, Some(Reasoning::default()));
}

#[test]
fn malformed_bodies_name_the_field() {
    for (body, param) in [
        (json!({"messages": []}), "model"),
        (json!({"model": "m"}), "messages"),
        (json!({"model": "m", "messages": [{"role": "bot", "content": "x"}]}), "messages[0].role"),
        (json!({"model": "m", "messages": [], "temperature": "hot"}), "temperature"),
        (json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}), "messages[0].tool_call_id"),
    ] {
        let e = decode_request(body.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.param.as_deref(), Some(param), "{}", e.message);
    }
}

#[test]
fn message_and_part_cache_hints_land_on_blocks() {
    // OpenCode marks messages for Claude models the OpenRouter way.
    let req = decode_request(
        br#"{"model":"m","messages":[
            {"role":"system","content":"sys","cache_control":{"type":"ephemeral"}},
            {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b","cache_control":{"type":"ephemeral"}}]},
            {"role":"assistant","content":"ok"},
            {"role":"user","content":"c","cache_control":{"type":"ephemeral"}}
        ]}"#,
    )
    .unwrap();
    assert!(req.unsupported.is_empty(), "{:?}", req.unsupported);
    let cc = Some(crate::ir::CacheControl(serde_json::json!({"type": "ephemeral"})));
    assert_eq!(req.system[0].cache_control, cc);
    assert!(matches!(&req.messages[0].content[1], Block::Text { cache_control, .. } if *cache_control == cc));
    assert!(matches!(&req.messages[0].content[0], Block::Text { cache_control: None, .. }));
    assert!(matches!(&req.messages[2].content[0], Block::Text { cache_control, .. } if *cache_control == cc));
}
