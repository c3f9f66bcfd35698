//! Non-streaming responses: a Responses upstream's `response` object -> IR, and IR -> the
//! `response` object a Responses caller expects.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::ir::{self, ApiError, Block, StopReason};

use super::error::response_error;
use super::object::{Echo, State, final_status, output_items, response_object};
use super::wire::{bad_gateway, generated_id, now_secs, upstream_signature, usage_from};

/// Decodes an upstream `response` object. Output items: reasoning -> thinking (signature
/// carrying the item id and encrypted content), message -> text (output_text and refusal
/// parts), function_call / custom_tool_call -> tool_use. A `failed` response is an error.
pub fn decode_response(body: &[u8]) -> Result<ir::Response, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| bad_gateway(format!("upstream response is not a Responses object: {e}")))?;
    let o = v.as_object().ok_or_else(|| bad_gateway("upstream response is not a JSON object"))?;
    let status = o.get("status").and_then(Value::as_str).unwrap_or("completed");
    if status == "failed" || o.get("error").is_some_and(|e| !e.is_null()) {
        return Err(response_error(o.get("error").unwrap_or(&Value::Null)));
    }
    let mut content = Vec::new();
    let mut seen = HashSet::new();
    for (i, item) in o.get("output").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if let Some(b) = output_item_block(item, i)? {
            if let Block::ToolUse { id, .. } = &b {
                if !seen.insert(id.clone()) {
                    return Err(bad_gateway(format!("upstream output[{i}] repeats call_id {id:?}")));
                }
            }
            content.push(b);
        }
    }
    let has_calls = content.iter().any(|b| matches!(b, Block::ToolUse { .. }));
    let stop_reason = match status {
        "incomplete" => Some(incomplete_reason(o.get("incomplete_details"))),
        _ if has_calls => Some(StopReason::ToolUse),
        _ => Some(StopReason::EndTurn),
    };
    Ok(ir::Response {
        id: o.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
        model: o.get("model").and_then(Value::as_str).unwrap_or_default().to_string(),
        content,
        stop_reason,
        stop_sequence: None,
        usage: o.get("usage").map(usage_from).unwrap_or_default(),
    })
}

/// `incomplete_details.reason` -> stop reason.
pub(super) fn incomplete_reason(details: Option<&Value>) -> StopReason {
    match details.and_then(|d| d.get("reason")).and_then(Value::as_str) {
        Some("content_filter") => StopReason::ContentFilter,
        _ => StopReason::MaxTokens,
    }
}

/// One upstream output item -> an IR block (`None` for items without content).
pub(super) fn output_item_block(item: &Value, i: usize) -> Result<Option<Block>, ApiError> {
    let s = |k: &str| item.get(k).and_then(Value::as_str);
    let kind = s("type").unwrap_or("");
    Ok(match kind {
        "reasoning" => {
            let texts = |key: &str| -> Vec<&str> {
                item.get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect()
            };
            let mut parts = texts("summary");
            if parts.is_empty() {
                parts = texts("content");
            }
            let signature = s("encrypted_content").map(|e| upstream_signature(s("id").unwrap_or_default(), e));
            if parts.is_empty() && signature.is_none() {
                return Ok(None);
            }
            Some(Block::Thinking { thinking: parts.join("\n\n"), signature })
        }
        "message" => {
            let mut text = String::new();
            for p in item.get("content").and_then(Value::as_array).into_iter().flatten() {
                match p.get("type").and_then(Value::as_str) {
                    Some("output_text") => text.push_str(p.get("text").and_then(Value::as_str).unwrap_or("")),
                    Some("refusal") => text.push_str(p.get("refusal").and_then(Value::as_str).unwrap_or("")),
                    other => {
                        return Err(bad_gateway(format!(
                            "upstream output[{i}] has an unsupported content part {:?}",
                            other.unwrap_or("")
                        )));
                    }
                }
            }
            (!text.is_empty()).then_some(Block::Text { text, cache_control: None })
        }
        "function_call" => {
            let name = s("name").unwrap_or_default().to_string();
            let input = parse_arguments(s("arguments").unwrap_or(""))
                .map_err(|e| bad_gateway(format!("upstream tool call {name:?} has invalid JSON arguments: {e}")))?;
            Some(Block::ToolUse { id: call_id(item), name, input })
        }
        "custom_tool_call" => Some(Block::ToolUse {
            id: call_id(item),
            name: s("name").unwrap_or_default().to_string(),
            input: json!({"input": s("input").unwrap_or("")}),
        }),
        t if is_hosted_call(t) => None,
        other => {
            return Err(bad_gateway(format!("upstream output[{i}] has an unsupported item type {other:?}")));
        }
    })
}

/// Output items recording a hosted tool's run (`web_search_call`, ...): the answer's text
/// carries what it found, and no other dialect has a form for the record, so it is skipped.
pub(super) fn is_hosted_call(item_type: &str) -> bool {
    matches!(
        item_type,
        "web_search_call"
            | "file_search_call"
            | "code_interpreter_call"
            | "image_generation_call"
            | "mcp_call"
            | "mcp_list_tools"
    )
}

fn call_id(item: &Value) -> String {
    match item.get("call_id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => generated_id("call"),
    }
}

/// Tool arguments: empty means no arguments; anything else must be JSON.
pub(super) fn parse_arguments(args: &str) -> Result<Value, serde_json::Error> {
    if args.trim().is_empty() { Ok(Value::Object(Map::new())) } else { serde_json::from_str(args) }
}

/// Encodes an IR response as a `response` object. Without the request, every tool call is a
/// `function_call` item; see [`encode_response_for`].
pub fn encode_response(resp: &ir::Response) -> Vec<u8> {
    encode_with(resp, &Echo::default())
}

/// Like [`encode_response`], knowing the caller's request: calls of its `custom` tools become
/// `custom_tool_call` items, and its tools / tool_choice / sampling are echoed.
pub fn encode_response_for(resp: &ir::Response, req: &ir::Request) -> Vec<u8> {
    encode_with(resp, &Echo::from_request(req))
}

fn encode_with(resp: &ir::Response, echo: &Echo) -> Vec<u8> {
    let id = if resp.id.is_empty() { generated_id("resp") } else { resp.id.clone() };
    let (status, incomplete) = final_status(resp.stop_reason);
    let body = response_object(
        echo,
        State {
            id: &id,
            model: &resp.model,
            created_at: now_secs(),
            status,
            output: output_items(echo, &id, &resp.content),
            usage: Some(&resp.usage),
            incomplete,
            error: None,
        },
    );
    crate::dialects::json_bytes(&body)
}
