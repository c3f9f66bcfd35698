//! IR stream events -> the SSE an Anthropic caller expects (`StreamEncoder`): every event has
//! `event: <type>` and a matching `"type"` field, exactly as Anthropic sends them.

use bytes::{BufMut, BytesMut};

use super::error::envelope;
use super::response::{stop_to_wire, usage_to_wire};
use super::wire::OutResponse;
use super::wire_stream::{OutEvent, OutMessageDeltaBody};
use crate::ir::{self, BlockDelta, BlockStart, StreamEvent};
use crate::sse::{write_event, write_json_event};

/// Turns IR stream events into Anthropic SSE bytes.
#[derive(Debug, Default)]
pub struct StreamEncoder {
    /// Model to report when the upstream named none.
    model: String,
    /// Set after `message_stop` or `error`; later events are ignored.
    done: bool,
}

impl StreamEncoder {
    pub fn new(req: &ir::Request) -> Self {
        StreamEncoder { model: req.model.clone(), done: false }
    }

    /// Encodes one event into `out`.
    pub fn encode(&mut self, ev: &StreamEvent, out: &mut BytesMut) {
        if self.done {
            return;
        }
        let error;
        let wire = match ev {
            StreamEvent::BlockDelta { index, delta } => return write_delta(out, *index, delta),
            StreamEvent::BlockStop { index } => return write_stop(out, *index),
            StreamEvent::BlockStart { index, block } => return write_start(out, *index, block),
            StreamEvent::Ping => return out.put_slice(b"event: ping\ndata: {\"type\":\"ping\"}\n\n"),
            StreamEvent::MessageStop => {
                self.done = true;
                return out.put_slice(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
            }
            StreamEvent::MessageStart { id, model, usage } => OutEvent::MessageStart {
                message: OutResponse {
                    id,
                    kind: "message",
                    role: "assistant",
                    model: if model.is_empty() { &self.model } else { model },
                    content: Vec::new(),
                    stop_reason: None,
                    stop_sequence: None,
                    usage: usage_to_wire(usage),
                },
            },
            StreamEvent::MessageDelta { stop_reason, stop_sequence, usage } => OutEvent::MessageDelta {
                delta: OutMessageDeltaBody {
                    stop_reason: stop_reason.map(stop_to_wire),
                    stop_sequence: stop_sequence.as_deref(),
                },
                usage: usage_to_wire(usage),
            },
            StreamEvent::Error(e) => {
                self.done = true;
                error = envelope(e).error;
                OutEvent::Error { error }
            }
        };
        if write_json_event(out, Some(wire.name()), &wire).is_err() {
            write_event(
                out,
                Some("error"),
                r#"{"type":"error","error":{"type":"api_error","message":"amux could not encode a stream event"}}"#,
            );
        }
    }
}

/// A `content_block_delta` event, the bulk of a stream, written by hand: the bytes the derived
/// `Serialize` of [`OutEvent::ContentBlockDelta`] writes (the tests hold them equal), without
/// serde's per-field dispatch.
fn write_delta(out: &mut BytesMut, index: usize, delta: &BlockDelta) {
    let (kind, field, text) = match delta {
        BlockDelta::Text(t) => ("text_delta", "text", t),
        BlockDelta::Thinking(t) => ("thinking_delta", "thinking", t),
        BlockDelta::Signature(t) => ("signature_delta", "signature", t),
        BlockDelta::InputJson(t) => ("input_json_delta", "partial_json", t),
    };
    out.reserve(112 + text.len());
    block_event(out, "content_block_delta", index);
    out.put_slice(b",\"delta\":{\"type\":\"");
    out.put_slice(kind.as_bytes());
    out.put_slice(b"\",\"");
    out.put_slice(field.as_bytes());
    out.put_slice(b"\":");
    crate::jsonwrite::string(out, text);
    out.put_slice(b"}}\n\n");
}

/// A `content_block_stop` event, as [`write_delta`] writes a delta.
fn write_stop(out: &mut BytesMut, index: usize) {
    block_event(out, "content_block_stop", index);
    out.put_slice(b"}\n\n");
}

/// A `content_block_start` event, as [`write_delta`] writes a delta.
fn write_start(out: &mut BytesMut, index: usize, block: &BlockStart) {
    block_event(out, "content_block_start", index);
    out.put_slice(b",\"content_block\":{\"type\":");
    match block {
        BlockStart::Text => out.put_slice(b"\"text\",\"text\":\"\""),
        BlockStart::Thinking => out.put_slice(b"\"thinking\",\"thinking\":\"\",\"signature\":\"\""),
        BlockStart::RedactedThinking { data } => {
            out.put_slice(b"\"redacted_thinking\",\"data\":");
            crate::jsonwrite::string(out, data);
        }
        BlockStart::ToolUse { id, name } => {
            out.put_slice(b"\"tool_use\",\"id\":");
            crate::jsonwrite::string(out, id);
            out.put_slice(b",\"name\":");
            crate::jsonwrite::string(out, name);
            out.put_slice(b",\"input\":{}");
        }
    }
    out.put_slice(b"}}\n\n");
}

/// The start every block event shares: `event: <name>`, then `data: {"type":"<name>","index":<index>`.
fn block_event(out: &mut BytesMut, name: &str, index: usize) {
    out.put_slice(b"event: ");
    out.put_slice(name.as_bytes());
    out.put_slice(b"\ndata: {\"type\":\"");
    out.put_slice(name.as_bytes());
    out.put_slice(b"\",\"index\":");
    out.put_slice(itoa::Buffer::new().format(index).as_bytes());
}
