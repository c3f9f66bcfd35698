//! Non-streaming responses: an OpenAI-compatible `chat.completion` -> IR, and IR -> the
//! `chat.completion` an OpenAI caller expects.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::ir::{self, ApiError, Block, ErrorKind, StopReason};

use super::wire::{self, Completion, OutUsage, finish_reason, generated_call_id};

/// Decodes an upstream completion. Reasoning (`reasoning_content` / `reasoning`) comes first as
/// an unsigned thinking block, then text (content, refusal), then tool calls.
pub fn decode_response(body: &[u8]) -> Result<ir::Response, ApiError> {
    decode_response_by(body, true)
}

/// [`decode_response`] with the one-pass reader first (`reader`), or by the derived code alone:
/// the tests hold the two to the same answers.
pub(super) fn decode_response_by(body: &[u8], reader: bool) -> Result<ir::Response, ApiError> {
    let fast = if reader { crate::bytescan::text(body).ok().and_then(super::response_fast::read) } else { None };
    let c: Completion = match fast {
        Some(c) => c,
        None => serde_json::from_slice(body).map_err(|e| {
            ApiError::new(ErrorKind::BadGateway, format!("upstream response is not a chat completion: {e}"))
        })?,
    };
    let choice = c
        .choices
        .iter()
        .find(|ch| ch.index.unwrap_or(0) == 0)
        .ok_or_else(|| ApiError::new(ErrorKind::BadGateway, "upstream response has no choices"))?;
    let mut content = Vec::new();
    let mut has_tool_calls = false;
    if let Some(m) = &choice.message {
        if let Some(r) = m.reasoning_text().filter(|r| !r.is_empty()) {
            content.push(Block::Thinking { thinking: r.to_string(), signature: None });
        }
        let text = m.content_text().map_err(|e| ApiError::new(ErrorKind::BadGateway, e))?;
        for t in [text, m.refusal.clone()].into_iter().flatten() {
            if !t.is_empty() {
                content.push(Block::Text { text: t, cache_control: None });
            }
        }
        let mut seen = HashSet::new();
        for call in m.tool_calls.iter().flatten() {
            let f = call.function.as_ref();
            let name = f.and_then(|f| f.name.clone()).unwrap_or_default();
            let args = f.and_then(|f| f.arguments.as_deref()).unwrap_or("");
            let input = parse_arguments(args).map_err(|e| {
                ApiError::new(
                    ErrorKind::BadGateway,
                    format!("upstream tool call {name:?} has invalid JSON arguments: {e}"),
                )
            })?;
            let id = match call.id.as_deref() {
                Some(id) if !id.is_empty() && !seen.contains(id) => id.to_string(),
                _ => generated_call_id(),
            };
            seen.insert(id.clone());
            has_tool_calls = true;
            content.push(Block::ToolUse { id, name, input });
        }
    }
    let stop_reason = choice.finish_reason.as_deref().map(|f| {
        // Some compatible servers (Ollama, older vLLM) report `stop` after tool calls.
        match wire::stop_reason(f) {
            StopReason::EndTurn if has_tool_calls => StopReason::ToolUse,
            other => other,
        }
    });
    Ok(ir::Response {
        id: c.id.unwrap_or_default(),
        model: c.model.unwrap_or_default(),
        content,
        stop_reason,
        stop_sequence: None,
        usage: c.usage.map(|u| u.to_ir()).unwrap_or_default(),
    })
}

/// Tool arguments: empty means no arguments; anything else must be JSON.
pub fn parse_arguments(args: &str) -> Result<Value, serde_json::Error> {
    if args.trim().is_empty() { Ok(Value::Object(Map::new())) } else { serde_json::from_str(args) }
}

/// Encodes an IR response as a `chat.completion` (typed: no `Value` tree per answer; fields in
/// the alphabetical order a `Value` gave them).
pub fn encode_response(resp: &ir::Response) -> Vec<u8> {
    let mut texts = Vec::new();
    let mut reasoning = Vec::new();
    let mut tool_calls = Vec::new();
    for b in &resp.content {
        match b {
            Block::Text { text, .. } => texts.push(text.as_str()),
            Block::Thinking { thinking, .. } => reasoning.push(thinking.as_str()),
            Block::ToolUse { id, name, input } => tool_calls.push(OutCall {
                function: OutFunction { arguments: crate::dialects::json_text(input), name },
                id,
                kind: "function",
            }),
            // Redacted thinking is opaque and other blocks never appear in responses.
            _ => {}
        }
    }
    let body = OutCompletion {
        choices: [OutChoice {
            finish_reason: resp.stop_reason.map(finish_reason),
            index: 0,
            logprobs: (),
            message: OutMessage {
                content: (!texts.is_empty()).then(|| texts.concat()),
                reasoning_content: (!reasoning.is_empty()).then(|| reasoning.concat()),
                refusal: (),
                role: "assistant",
                tool_calls,
            },
        }],
        created: wire::now_secs(),
        id: &resp.id,
        model: &resp.model,
        object: "chat.completion",
        usage: OutUsage::from_ir(&resp.usage),
    };
    crate::jsonwrite::to_vec(&body).unwrap_or_default()
}

#[derive(Serialize)]
struct OutCompletion<'a> {
    choices: [OutChoice<'a>; 1],
    created: u64,
    id: &'a str,
    model: &'a str,
    object: &'static str,
    usage: OutUsage,
}

#[derive(Serialize)]
struct OutChoice<'a> {
    finish_reason: Option<&'static str>,
    index: u32,
    logprobs: (),
    message: OutMessage<'a>,
}

#[derive(Serialize)]
struct OutMessage<'a> {
    content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<String>,
    refusal: (),
    role: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<OutCall<'a>>,
}

#[derive(Serialize)]
struct OutCall<'a> {
    function: OutFunction<'a>,
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct OutFunction<'a> {
    arguments: String,
    name: &'a str,
}
