//! `decode_request`: every block kind and field, and what is recorded as unsupported.

use serde_json::json;

use super::super::decode_request;
use crate::ir::{Block, CacheControl, MediaSource, ReasoningEffort, ResponseFormat, Role, ToolChoice};

fn decode(v: serde_json::Value) -> crate::ir::Request {
    decode_request(v.to_string().as_bytes()).unwrap()
}

fn user(content: serde_json::Value) -> serde_json::Value {
    json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": content}]})
}

#[test]
fn top_level_fields() {
    let r = decode(json!({
        "model": "claude-x", "max_tokens": 100, "temperature": 0.5, "top_p": 0.9, "top_k": 40,
        "stop_sequences": ["END"], "stream": true, "metadata": {"user_id": "u1", "other": 1},
        "service_tier": "auto", "context_management": {"edits": []}, "cache_control": {"type": "ephemeral"},
        "inference_geo": "us",
        "messages": [{"role": "user", "content": "hi"}]
    }));
    assert_eq!(r.model, "claude-x");
    assert_eq!(r.max_tokens, Some(100));
    assert_eq!(r.temperature, Some(0.5));
    assert_eq!(r.top_p, Some(0.9));
    assert_eq!(r.top_k, Some(40));
    assert_eq!(r.stop_sequences, vec!["END".to_string()]);
    assert!(r.stream);
    assert_eq!(r.user.as_deref(), Some("u1"));
    let mut r = r;
    crate::policy::sort(crate::ir::Dialect::Anthropic, &mut r);
    assert!(r.unsupported.is_empty(), "{:?}", r.unsupported);
    assert_eq!(r.dropped, ["cache_control", "context_management", "inference_geo", "metadata.other", "service_tier"]);
    assert_eq!(r.messages[0].content, vec![Block::Text { text: "hi".into(), cache_control: None }]);
}

#[test]
fn system_string_blocks_and_system_role_messages() {
    let r = decode(json!({
        "model": "m", "max_tokens": 1,
        "system": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "system", "content": "b"},
            {"role": "user", "content": "hi"},
            {"role": "system", "content": [{"type": "text", "text": "later"}]}
        ]
    }));
    assert_eq!(r.system.len(), 2);
    assert_eq!(r.system[0].text, "a");
    assert_eq!(r.system[0].cache_control, Some(CacheControl(json!({"type": "ephemeral"}))));
    assert_eq!(r.system[1].text, "b");
    assert_eq!(r.messages.len(), 2);
    assert_eq!(r.messages[1].role, Role::System);

    let r = decode(json!({"model": "m", "system": "plain", "messages": []}));
    assert_eq!(r.system[0].text, "plain");
}

#[test]
fn media_blocks() {
    let r = decode(user(json!([
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAA"}},
        {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}, "cache_control": {"type": "ephemeral"}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVB"}, "title": "T"},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "hello"}},
        {"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}},
        {"type": "document", "source": {"type": "file", "file_id": "file_1"}, "citations": {"enabled": false}}
    ])));
    let c = &r.messages[0].content;
    assert_eq!(
        c[0],
        Block::Image {
            source: MediaSource::Base64 { media_type: "image/png".into(), data: "AAA".into() },
            cache_control: None
        }
    );
    assert!(
        matches!(&c[1], Block::Image { source: MediaSource::Url { url }, cache_control: Some(_) } if url == "https://x/y.png")
    );
    assert!(matches!(&c[2], Block::Document { title: Some(t), source: MediaSource::Base64 { .. }, .. } if t == "T"));
    assert!(matches!(&c[3], Block::Document { source: MediaSource::Text { data, .. }, .. } if data == "hello"));
    assert!(matches!(&c[4], Block::Document { source: MediaSource::Url { .. }, .. }));
    assert!(matches!(&c[5], Block::Document { source: MediaSource::FileId { file_id }, .. } if file_id == "file_1"));
    assert!(r.unsupported.is_empty(), "{:?}", r.unsupported);
}

#[test]
fn tool_blocks_and_thinking() {
    let sig = "EqQBCgIYAhIM+/=sig";
    let r = decode(json!({"model": "m", "messages": [
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": sig},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "ok"},
            {"type": "tool_result", "tool_use_id": "t2", "is_error": true, "content": [
                {"type": "text", "text": "bad"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA"}}
            ]},
            {"type": "tool_result", "tool_use_id": "t3"}
        ]}
    ]}));
    let a = &r.messages[0].content;
    assert_eq!(a[0], Block::Thinking { thinking: "hmm".into(), signature: Some(sig.into()) });
    assert_eq!(a[1], Block::RedactedThinking { data: "opaque".into() });
    assert_eq!(a[2], Block::ToolUse { id: "t1".into(), name: "f".into(), input: json!({"a": 1}) });
    let u = &r.messages[1].content;
    assert!(matches!(&u[0], Block::ToolResult { content, is_error: false, .. } if content.len() == 1));
    assert!(matches!(&u[1], Block::ToolResult { content, is_error: true, .. } if content.len() == 2));
    assert!(matches!(&u[2], Block::ToolResult { content, .. } if content.is_empty()));
}

#[test]
fn tools_choice_thinking_and_formats() {
    let r = decode(json!({
        "model": "m", "messages": [],
        "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}, "strict": true,
                   "cache_control": {"type": "ephemeral"}},
                  {"type": "custom", "name": "g", "input_schema": {}}],
        "tool_choice": {"type": "tool", "name": "f", "disable_parallel_tool_use": true},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}}}
    }));
    assert_eq!(r.tools.len(), 2);
    assert_eq!(r.tools[0].strict, Some(true));
    assert!(r.tools[0].cache_control.is_some());
    assert_eq!(r.tool_choice, Some(ToolChoice::Tool { name: "f".into() }));
    assert_eq!(r.parallel_tool_calls, Some(false));
    let th = r.reasoning.unwrap();
    assert!(th.enabled && !th.adaptive);
    assert_eq!(th.budget_tokens, Some(2048));
    assert_eq!(th.effort, Some(ReasoningEffort::High));
    assert!(matches!(r.response_format, Some(ResponseFormat::JsonSchema { ref name, .. }) if name == "output"));

    let r = decode(json!({"model": "m", "messages": [], "thinking": {"type": "adaptive"},
        "tool_choice": {"type": "any"}, "output_format": {"type": "json_schema", "schema": {}}}));
    assert!(r.reasoning.unwrap().adaptive);
    assert_eq!(r.tool_choice, Some(ToolChoice::Any));
    assert_eq!(r.parallel_tool_calls, None);
    assert!(r.response_format.is_some());

    let r = decode(json!({"model": "m", "messages": [], "thinking": {"type": "disabled"}}));
    assert!(!r.reasoning.unwrap().enabled);
}

#[test]
fn unsupported_entries_name_their_path() {
    let r = decode(json!({
        "model": "m", "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
            {"role": "user", "content": "c"},
            {"role": "user", "content": [
                {"type": "text", "text": "x"},
                {"type": "search_result", "source": "s", "title": "t", "content": []},
                {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "search_result", "x": 1}]},
                {"type": "text", "text": "y", "citations": [{"type": "char_location"}]},
                {"type": "document", "source": {"type": "content", "content": []}}
            ]}
        ],
        "tools": [{"type": "web_search_20250305", "name": "web_search"}],
        "container": "c1",
        "mcp_servers": [],
        "thinking": {"type": "enabled", "budget_tokens": 1024, "display": "x"}
    }));
    let keys: Vec<&str> = r.unsupported.keys().map(String::as_str).collect();
    for want in [
        "messages[3].content[1]",
        "messages[3].content[2].content[0]",
        "messages[3].content[3].citations",
        "messages[3].content[4].source",
        "tools[0]",
        "container",
        "thinking.display",
    ] {
        assert!(keys.contains(&want), "missing {want} in {keys:?}");
    }
    assert!(!keys.contains(&"mcp_servers"), "defaults are never unsupported");
    assert_eq!(r.unsupported["messages[3].content[1]"]["type"], "search_result");
    assert_eq!(r.messages[3].content.len(), 3);
}

#[test]
fn malformed_input_names_the_field() {
    let e =
        decode_request(user(json!([{"type": "image", "source": {"type": "foo"}}])).to_string().as_bytes()).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0].source.type"));
    assert!(e.message.contains("unknown source type \"foo\""), "{}", e.message);

    let e = decode_request(user(json!([{"type": "text"}])).to_string().as_bytes()).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0]"));
    assert!(e.message.contains("text"), "{}", e.message);

    let e = decode_request(br#"{"model":"m","max_tokens":"x","messages":[]}"#).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("max_tokens"));

    let e =
        decode_request(user(json!([{"type": "tool_use", "id": 5, "name": "f"}])).to_string().as_bytes()).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("messages[0].content[0].id"));

    let e = decode_request(br#"{"model":"m","messages":[{"role":"bot","content":"x"}]}"#).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("messages[0].role"));

    let e = decode_request(b"{not json").unwrap_err();
    assert_eq!(e.status, 400);

    let e = decode_request(br#"{"model":"m","messages":[],"output_config":{"effort":"huge"}}"#).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("output_config.effort"));
}
