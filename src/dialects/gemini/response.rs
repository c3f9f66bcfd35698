//! Non-streaming answers: a Gemini `GenerateContentResponse` -> IR, and IR -> the
//! `GenerateContentResponse` a Gemini caller expects.
//!
//! Decoding takes `candidates[0]`: thought parts become thinking blocks, a part's
//! `thoughtSignature` a signature-only thinking block right before the part's own block,
//! `functionCall` parts tool_use blocks (with a generated id when the upstream sent none).
//! `finishReason` STOP becomes `ToolUse` when there are calls; safety reasons `ContentFilter`;
//! `MALFORMED_FUNCTION_CALL` and similar failures a 502. A prompt blocked by
//! `promptFeedback.blockReason` is an empty answer with stop reason `Refusal`.

use serde_json::{Map, Value, json};

use crate::ir::{self, ApiError, Block, ErrorKind, StopReason};

use super::parts::{PartsBuilder, Placement, push_model_block};
use super::wire::{Finish, finish_reason, finish_to_wire, generated_call_id, get, usage_from_wire, usage_to_wire};

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::BadGateway, msg)
}

/// Decodes an upstream response.
pub fn decode_response(body: &[u8]) -> Result<ir::Response, ApiError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("upstream response is not JSON: {e}")))?;
    let o = v.as_object().ok_or_else(|| bad("upstream response is not a JSON object"))?;
    let candidate = get(o, "candidates").and_then(Value::as_array).and_then(|c| c.first()).and_then(Value::as_object);
    let mut content = Vec::new();
    let mut stop_reason = None;
    if let Some(c) = candidate {
        let parts = get(c, "content").and_then(Value::as_object).and_then(|c| get(c, "parts"));
        for p in parts.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
            part_blocks(p, &mut content)?;
        }
        if let Some(reason) = get(c, "finishReason").and_then(Value::as_str) {
            let has_calls = content.iter().any(|b| matches!(b, Block::ToolUse { .. }));
            stop_reason = Some(stop_from_finish(reason, get(c, "finishMessage"), has_calls)?);
        }
    }
    if blocked(o).is_some() {
        stop_reason = Some(StopReason::Refusal);
    } else if candidate.is_none() {
        return Err(bad("upstream response has no candidates"));
    }
    Ok(ir::Response {
        id: get(o, "responseId").and_then(Value::as_str).unwrap_or_default().to_string(),
        model: get(o, "modelVersion").and_then(Value::as_str).unwrap_or_default().to_string(),
        content,
        stop_reason,
        stop_sequence: None,
        usage: get(o, "usageMetadata").map(usage_from_wire).unwrap_or_default(),
    })
}

/// `promptFeedback.blockReason`, when the prompt was blocked.
pub fn blocked(o: &Map<String, Value>) -> Option<String> {
    let fb = get(o, "promptFeedback")?.as_object()?;
    let reason = get(fb, "blockReason")?.as_str()?;
    (reason != "BLOCKED_REASON_UNSPECIFIED").then(|| reason.to_string())
}

/// The IR stop reason for a `finishReason`, or the 502 a failed generation is.
pub fn stop_from_finish(reason: &str, message: Option<&Value>, has_calls: bool) -> Result<StopReason, ApiError> {
    match finish_reason(reason) {
        Finish::Failed => {
            let detail = message.and_then(Value::as_str).map(|m| format!(": {m}")).unwrap_or_default();
            Err(bad(format!("upstream generation failed with finishReason {reason}{detail}")))
        }
        Finish::Stop(StopReason::EndTurn) if has_calls => Ok(StopReason::ToolUse),
        Finish::Stop(s) => Ok(s),
    }
}

/// One response part -> IR blocks (signature-only thinking first when the part carries one).
pub fn part_blocks(p: &Value, out: &mut Vec<Block>) -> Result<(), ApiError> {
    let o = p.as_object().ok_or_else(|| bad("upstream part is not an object"))?;
    let signature = get(o, "thoughtSignature").and_then(Value::as_str).map(str::to_string);
    let thought = get(o, "thought").and_then(Value::as_bool).unwrap_or(false);
    if let Some(text) = get(o, "text").and_then(Value::as_str) {
        if thought {
            out.push(Block::Thinking { thinking: text.to_string(), signature });
            return Ok(());
        }
        push_signature(signature, out);
        if !text.is_empty() {
            out.push(Block::Text { text: text.to_string(), cache_control: None });
        }
        return Ok(());
    }
    if let Some(call) = get(o, "functionCall").and_then(Value::as_object) {
        push_signature(signature, out);
        let (id, name, input) = call_fields(call);
        out.push(Block::ToolUse { id, name, input });
        return Ok(());
    }
    if o.keys().all(|k| matches!(k.as_str(), "thoughtSignature" | "thought_signature" | "thought")) {
        push_signature(signature, out);
        return Ok(());
    }
    let kind = o.keys().find(|k| !k.starts_with("thought")).cloned().unwrap_or_default();
    Err(bad(format!("upstream returned a {kind:?} part, which amux cannot translate")))
}

fn push_signature(signature: Option<String>, out: &mut Vec<Block>) {
    if let Some(s) = signature.filter(|s| !s.is_empty()) {
        out.push(Block::Thinking { thinking: String::new(), signature: Some(s) });
    }
}

/// id (generated when absent), name and args of a `functionCall`.
pub fn call_fields(call: &Map<String, Value>) -> (String, String, Value) {
    let id = get(call, "id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map_or_else(generated_call_id, str::to_string);
    let name = get(call, "name").and_then(Value::as_str).unwrap_or_default().to_string();
    let input = get(call, "args").filter(|a| a.is_object()).cloned().unwrap_or_else(|| json!({}));
    (id, name, input)
}

/// Encodes an IR response for a Gemini caller.
pub fn encode_response(resp: &ir::Response) -> Vec<u8> {
    let mut b = PartsBuilder::default();
    for block in &resp.content {
        // Only assistant blocks reach here; anything else is skipped rather than failing the answer.
        let _ = push_model_block(&mut b, block, Placement::NextPart, "content");
    }
    let parts = b.finish();
    let mut candidate = Map::new();
    candidate.insert("content".into(), json!({"role": "model", "parts": parts}));
    candidate.insert("finishReason".into(), json!(finish_to_wire(resp.stop_reason.unwrap_or(StopReason::EndTurn))));
    candidate.insert("index".into(), json!(0));
    let body = json!({
        "candidates": [candidate],
        "usageMetadata": usage_to_wire(&resp.usage),
        "modelVersion": resp.model,
        "responseId": resp.id,
    });
    crate::dialects::json_bytes(&body)
}
