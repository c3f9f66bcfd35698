//! Non-streaming responses: Anthropic upstream Message -> IR (`decode_response`) and IR -> the
//! Message an Anthropic caller expects (`encode_response`); stop reasons and usage both ways.

use serde::Deserialize;
use serde_json::Value;

use super::wire::{InRespBlock, InResponse, OutBlock, OutResponse, WireUsage, from_value_at};
use crate::ir::{self, ApiError, Block, ErrorKind, StopReason, Usage};

/// Anthropic `stop_reason` -> IR. Unknown values give `None`.
pub fn stop_from_wire(s: &str) -> Option<StopReason> {
    Some(match s {
        "end_turn" => StopReason::EndTurn,
        "max_tokens" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "tool_use" => StopReason::ToolUse,
        "pause_turn" => StopReason::PauseTurn,
        "refusal" => StopReason::Refusal,
        "model_context_window_exceeded" => StopReason::ContextWindowExceeded,
        _ => return None,
    })
}

/// IR stop reason -> Anthropic `stop_reason`.
pub fn stop_to_wire(s: StopReason) -> &'static str {
    match s {
        StopReason::EndTurn => "end_turn",
        StopReason::MaxTokens => "max_tokens",
        StopReason::StopSequence => "stop_sequence",
        StopReason::ToolUse => "tool_use",
        StopReason::PauseTurn => "pause_turn",
        StopReason::Refusal | StopReason::ContentFilter => "refusal",
        StopReason::ContextWindowExceeded => "model_context_window_exceeded",
    }
}

pub fn usage_from_wire(u: &WireUsage) -> Usage {
    Usage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        cache_read_tokens: u.cache_read_input_tokens,
        cache_write_tokens: u.cache_creation_input_tokens,
        reasoning_tokens: 0,
    }
}

pub fn usage_to_wire(u: &Usage) -> WireUsage {
    WireUsage {
        input_tokens: u.input_tokens,
        cache_creation_input_tokens: u.cache_write_tokens,
        cache_read_input_tokens: u.cache_read_tokens,
        output_tokens: u.output_tokens,
    }
}

fn bad_gateway(e: ApiError) -> ApiError {
    ApiError::new(ErrorKind::BadGateway, format!("unusable upstream response: {}", e.message))
}

/// Decodes an upstream Message. Block types the IR cannot hold are a 502 naming the type.
pub fn decode_response(body: &[u8]) -> Result<ir::Response, ApiError> {
    decode_response_by(body, true)
}

/// [`decode_response`] with the one-pass reader first (`reader`), or by the derived code alone:
/// the tests hold the two to the same answers.
pub(super) fn decode_response_by(body: &[u8], reader: bool) -> Result<ir::Response, ApiError> {
    if reader && let Some(resp) = crate::bytescan::text(body).ok().and_then(super::response_fast::read) {
        return Ok(resp);
    }
    // serde_path_to_error only to word a refusal: tracking the path costs on every answer.
    let wire: InResponse = match serde_json::from_slice(body) {
        Ok(w) => w,
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(body);
            let e = serde_path_to_error::deserialize::<_, InResponse>(&mut de).err();
            let msg = e.map_or_else(|| "not a Message".to_string(), |e| format!("{}: {}", e.path(), e.inner()));
            return Err(ApiError::new(ErrorKind::BadGateway, format!("unusable upstream response: {msg}")));
        }
    };
    let mut content = Vec::with_capacity(wire.content.len());
    for (j, item) in wire.content.into_iter().enumerate() {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        if is_server_tool_block(kind) {
            continue;
        }
        if !matches!(kind, "text" | "thinking" | "redacted_thinking" | "tool_use") {
            return Err(ApiError::new(
                ErrorKind::BadGateway,
                format!("content[{j}]: upstream block type {kind:?} cannot be translated"),
            ));
        }
        let block = match InRespBlock::deserialize(&item) {
            Ok(b) => b,
            Err(_) => from_value_at::<InRespBlock>(item, &format!("content[{j}]")).map_err(bad_gateway)?,
        };
        content.push(match block {
            InRespBlock::Text { text } => Block::Text { text, cache_control: None },
            InRespBlock::Thinking { thinking, signature } => Block::Thinking { thinking, signature },
            InRespBlock::RedactedThinking { data } => Block::RedactedThinking { data },
            InRespBlock::ToolUse { id, name, input } => Block::ToolUse {
                id,
                name,
                input: match input {
                    Value::Null => Value::Object(Default::default()),
                    other => other,
                },
            },
        });
    }
    Ok(ir::Response {
        id: wire.id,
        model: wire.model,
        content,
        stop_reason: wire.stop_reason.as_deref().and_then(stop_from_wire),
        stop_sequence: wire.stop_sequence,
        usage: usage_from_wire(&wire.usage),
    })
}

/// Blocks recording a server tool's run (`server_tool_use`, `web_search_tool_result`, ...): the
/// text that follows carries what it found, and no other dialect has a form for the record, so
/// a translated answer leaves them out.
pub(super) fn is_server_tool_block(kind: &str) -> bool {
    matches!(kind, "server_tool_use" | "mcp_tool_use") || (kind.ends_with("_tool_result") && kind != "tool_result")
}

/// The response content as Anthropic blocks (tool results and media are not answer content).
pub fn content_blocks(blocks: &[Block]) -> Vec<OutBlock<'_>> {
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text { text, .. } => Some(OutBlock::Text { text, cache_control: None }),
            Block::Thinking { thinking, signature } => {
                Some(OutBlock::Thinking { thinking, signature: signature.as_deref().unwrap_or("") })
            }
            Block::RedactedThinking { data } => Some(OutBlock::RedactedThinking { data }),
            Block::ToolUse { id, name, input } => Some(OutBlock::ToolUse { id, name, input }),
            Block::Image { .. } | Block::Document { .. } | Block::ToolResult { .. } => None,
        })
        .collect()
}

/// Encodes a Message for an Anthropic caller.
pub fn encode_response(resp: &ir::Response) -> Vec<u8> {
    let out = OutResponse {
        id: &resp.id,
        kind: "message",
        role: "assistant",
        model: &resp.model,
        content: content_blocks(&resp.content),
        stop_reason: resp.stop_reason.map(stop_to_wire),
        stop_sequence: resp.stop_sequence.as_deref(),
        usage: usage_to_wire(&resp.usage),
    };
    crate::jsonwrite::to_vec(&out).unwrap_or_else(|e| {
        super::error::encode_error(&ApiError::new(ErrorKind::Api, format!("encoding response: {e}")))
    })
}
