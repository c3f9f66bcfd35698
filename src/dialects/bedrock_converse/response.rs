//! Non-streaming answers: a Converse response -> IR, and IR -> the Converse response a Bedrock
//! caller expects.
//!
//! Decoding reads `output.message.content` (text, toolUse, reasoningContent; any other block type
//! is a 502 naming it), `stopReason`, `usage`, and the matched stop sequence when the caller asked
//! for it (`additionalModelResponseFields.stop_sequence`). Converse answers carry no id or model
//! name (the id is the `x-amzn-RequestId` header), so both stay empty.

use serde_json::{Value, json};

use crate::ir::{self, ApiError, Block, ErrorKind, StopReason};

use super::content_decode::redacted_from_wire;
use super::content_encode::{Side, push_blocks};
use super::wire::{stop_from_wire, stop_to_wire, usage_from_wire, usage_to_wire};

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::BadGateway, msg)
}

/// Decodes an upstream response.
pub fn decode_response(body: &[u8]) -> Result<ir::Response, ApiError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("upstream response is not JSON: {e}")))?;
    let message =
        v.get("output").and_then(|o| o.get("message")).ok_or_else(|| bad("upstream response has no output.message"))?;
    let mut content = Vec::new();
    for b in message.get("content").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        content.push(block(b)?);
    }
    let stop_reason = match v.get("stopReason").and_then(Value::as_str) {
        Some(s) => Some(stop_from_wire(s).ok_or_else(|| bad(format!("upstream returned unknown stopReason {s:?}")))?),
        None => None,
    };
    let stop_sequence = v
        .get("additionalModelResponseFields")
        .and_then(|f| f.get("stop_sequence"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(ir::Response {
        id: String::new(),
        model: String::new(),
        content,
        stop_reason,
        stop_sequence,
        usage: v.get("usage").map(usage_from_wire).unwrap_or_default(),
    })
}

/// One answer content block -> IR.
fn block(b: &Value) -> Result<Block, ApiError> {
    let o = b.as_object().ok_or_else(|| bad("upstream content block is not an object"))?;
    if let Some(t) = o.get("text").and_then(Value::as_str) {
        return Ok(Block::Text { text: t.to_string(), cache_control: None });
    }
    if let Some(u) = o.get("toolUse") {
        let s = |k: &str| u.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let input = u.get("input").cloned().unwrap_or_else(|| json!({}));
        return Ok(Block::ToolUse { id: s("toolUseId"), name: s("name"), input });
    }
    if let Some(r) = o.get("reasoningContent") {
        if let Some(t) = r.get("reasoningText") {
            let s = |k: &str| t.get(k).and_then(Value::as_str);
            return Ok(Block::Thinking {
                thinking: s("text").unwrap_or_default().to_string(),
                signature: s("signature").map(str::to_string),
            });
        }
        if let Some(d) = r.get("redactedContent").and_then(Value::as_str) {
            let data = redacted_from_wire(d, "redactedContent").map_err(|e| bad(e.message))?;
            return Ok(Block::RedactedThinking { data });
        }
    }
    let kind = o.keys().next().cloned().unwrap_or_default();
    Err(bad(format!("upstream returned a {kind:?} content block, which amux cannot translate")))
}

/// Encodes an IR response for a Converse caller.
pub fn encode_response(resp: &ir::Response) -> Vec<u8> {
    let mut content = Vec::new();
    for (i, b) in resp.content.iter().enumerate() {
        // Only assistant blocks reach here; one that cannot be expressed is skipped rather than
        // failing the whole answer.
        let _ = push_blocks(&mut content, std::slice::from_ref(b), &format!("content[{i}]"), Side::Caller);
    }
    let stop = resp.stop_reason.unwrap_or(StopReason::EndTurn);
    let mut body = json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_to_wire(stop),
        "usage": usage_to_wire(&resp.usage),
        "metrics": {"latencyMs": 0},
    });
    if let (StopReason::StopSequence, Some(seq)) = (stop, &resp.stop_sequence) {
        body["additionalModelResponseFields"] = json!({"stop_sequence": seq});
    }
    crate::dialects::json_bytes(&body)
}
