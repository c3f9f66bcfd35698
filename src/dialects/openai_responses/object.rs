//! The `response` object and output items amux sends to Responses callers (non-streaming bodies
//! and the snapshots inside `response.created` / `.completed` / ... events), with every field the
//! SDK's `Response` model requires.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::ir::{self, Block, StopReason, Usage};

use super::request_decode::NAMESPACE_SEPARATOR;
use super::request_encode::{format_json, tool_choice_json, tools_json};
use super::wire::{REDACTED_PREFIX, custom_input_text, item_id, usage_json};

/// What a response object echoes of the request (defaults when the request is unknown).
#[derive(Debug, Clone)]
pub struct Echo {
    tools: Value,
    tool_choice: Value,
    parallel_tool_calls: bool,
    temperature: Option<f64>,
    top_p: Option<f64>,
    max_output_tokens: Option<u64>,
    text_format: Value,
    /// Names of custom tools: their calls become `custom_tool_call` items.
    pub custom: HashSet<String>,
    /// Tools that came in a namespace, by the name other dialects see: `(namespace, name)`.
    namespaced: HashMap<String, (String, String)>,
}

impl Default for Echo {
    fn default() -> Self {
        Echo {
            tools: json!([]),
            tool_choice: json!("auto"),
            parallel_tool_calls: true,
            temperature: None,
            top_p: None,
            max_output_tokens: None,
            text_format: json!({"type": "text"}),
            custom: HashSet::new(),
            namespaced: HashMap::new(),
        }
    }
}

impl Echo {
    pub fn from_request(req: &ir::Request) -> Self {
        Echo {
            tools: tools_json(&req.tools),
            tool_choice: req.tool_choice.as_ref().map_or(json!("auto"), |c| tool_choice_json(c, &req.tools)),
            parallel_tool_calls: req.parallel_tool_calls.unwrap_or(true),
            temperature: req.temperature,
            top_p: req.top_p,
            max_output_tokens: req.max_tokens,
            text_format: format_json(req.response_format.as_ref()).unwrap_or_else(|| json!({"type": "text"})),
            custom: req.tools.iter().filter(|t| t.custom).map(|t| t.name.clone()).collect(),
            namespaced: req
                .tools
                .iter()
                .filter_map(|t| {
                    let ns = t.namespace.as_ref()?;
                    let inner = t.name.strip_prefix(ns.as_str())?.strip_prefix(NAMESPACE_SEPARATOR)?;
                    Some((t.name.clone(), (ns.clone(), inner.to_string())))
                })
                .collect(),
        }
    }

    /// A call's name and namespace as the caller declared them.
    pub fn wire_name<'a>(&'a self, name: &'a str) -> (&'a str, Option<&'a str>) {
        match self.namespaced.get(name) {
            Some((ns, inner)) => (inner, Some(ns)),
            None => (name, None),
        }
    }

    /// A call item with the caller's own name, and its namespace when it has one.
    pub fn call_item(&self, mut item: Value, name: &str) -> Value {
        let (inner, ns) = self.wire_name(name);
        if let Some(ns) = ns {
            item["name"] = json!(inner);
            item["namespace"] = json!(ns);
        }
        item
    }

    /// True when calls of `name` are custom tool calls.
    pub fn is_custom(&self, name: &str) -> bool {
        self.custom.contains(name)
    }
}

/// A response object's lifecycle state.
pub struct State<'a> {
    pub id: &'a str,
    pub model: &'a str,
    pub created_at: u64,
    /// `in_progress`, `completed`, `incomplete` or `failed`.
    pub status: &'a str,
    pub output: Vec<Value>,
    pub usage: Option<&'a Usage>,
    /// `incomplete_details.reason`.
    pub incomplete: Option<&'a str>,
    /// The `error` object of a failed response.
    pub error: Option<Value>,
}

/// The full `response` object.
pub fn response_object(echo: &Echo, s: State<'_>) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(s.id));
    o.insert("object".into(), json!("response"));
    o.insert("created_at".into(), json!(s.created_at));
    o.insert("status".into(), json!(s.status));
    o.insert("background".into(), json!(false));
    o.insert("error".into(), s.error.unwrap_or(Value::Null));
    o.insert("incomplete_details".into(), s.incomplete.map_or(Value::Null, |r| json!({"reason": r})));
    o.insert("instructions".into(), Value::Null);
    o.insert("max_output_tokens".into(), json!(echo.max_output_tokens));
    o.insert("model".into(), json!(s.model));
    o.insert("output".into(), Value::Array(s.output));
    o.insert("parallel_tool_calls".into(), json!(echo.parallel_tool_calls));
    o.insert("previous_response_id".into(), Value::Null);
    o.insert("store".into(), json!(false));
    o.insert("temperature".into(), json!(echo.temperature));
    o.insert("text".into(), json!({"format": echo.text_format}));
    o.insert("tool_choice".into(), echo.tool_choice.clone());
    o.insert("tools".into(), echo.tools.clone());
    o.insert("top_p".into(), json!(echo.top_p));
    o.insert("truncation".into(), json!("disabled"));
    o.insert("usage".into(), s.usage.map_or(Value::Null, usage_json));
    o.insert("metadata".into(), json!({}));
    Value::Object(o)
}

/// Final `status` and `incomplete_details.reason` for a stop reason.
pub fn final_status(stop: Option<StopReason>) -> (&'static str, Option<&'static str>) {
    match stop {
        Some(StopReason::MaxTokens | StopReason::ContextWindowExceeded) => ("incomplete", Some("max_output_tokens")),
        Some(StopReason::ContentFilter | StopReason::Refusal) => ("incomplete", Some("content_filter")),
        _ => ("completed", None),
    }
}

/// A reasoning item (`summary` empty when there is no text; no `encrypted_content` without a
/// signature).
pub fn reasoning_item(id: &str, text: &str, encrypted: Option<&str>) -> Value {
    let summary = if text.is_empty() { json!([]) } else { json!([{"type": "summary_text", "text": text}]) };
    let mut o = json!({"id": id, "type": "reasoning", "summary": summary});
    if let Some(e) = encrypted {
        o["encrypted_content"] = json!(e);
    }
    o
}

/// An `output_text` part.
pub fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// An assistant message item.
pub fn message_item(id: &str, parts: Vec<Value>, status: &str) -> Value {
    json!({"id": id, "type": "message", "role": "assistant", "status": status, "content": parts})
}

/// A `function_call` item.
pub fn function_call_item(id: &str, call_id: &str, name: &str, arguments: &str, status: &str) -> Value {
    json!({"id": id, "type": "function_call", "status": status, "call_id": call_id, "name": name,
        "arguments": arguments})
}

/// A `custom_tool_call` item.
pub fn custom_call_item(id: &str, call_id: &str, name: &str, input: &str) -> Value {
    json!({"id": id, "type": "custom_tool_call", "call_id": call_id, "name": name, "input": input})
}

/// IR response content -> output items (consecutive text blocks share one message item).
pub fn output_items(echo: &Echo, response_id: &str, content: &[Block]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut parts = Vec::new();
    let flush = |out: &mut Vec<Value>, parts: &mut Vec<Value>| {
        if !parts.is_empty() {
            let id = item_id("msg", response_id, out.len());
            out.push(message_item(&id, std::mem::take(parts), "completed"));
        }
    };
    for b in content {
        match b {
            Block::Text { text, .. } => parts.push(text_part(text)),
            Block::Thinking { thinking, signature } => {
                flush(&mut out, &mut parts);
                let id = item_id("rs", response_id, out.len());
                out.push(reasoning_item(&id, thinking, signature.as_deref()));
            }
            Block::RedactedThinking { data } => {
                flush(&mut out, &mut parts);
                let id = item_id("rs", response_id, out.len());
                out.push(reasoning_item(&id, "", Some(&format!("{REDACTED_PREFIX}{data}"))));
            }
            Block::ToolUse { id: call_id, name, input } => {
                flush(&mut out, &mut parts);
                let item = if echo.is_custom(name) {
                    let id = item_id("ctc", response_id, out.len());
                    custom_call_item(&id, call_id, name, &custom_input_text(input))
                } else {
                    let id = item_id("fc", response_id, out.len());
                    function_call_item(&id, call_id, name, &crate::dialects::json_text(input), "completed")
                };
                out.push(echo.call_item(item, name));
            }
            // Never part of a response.
            Block::Image { .. } | Block::Document { .. } | Block::ToolResult { .. } => {}
        }
    }
    flush(&mut out, &mut parts);
    out
}
