//! IR stream events -> the SSE an Anthropic caller expects (`StreamEncoder`): every event has
//! `event: <type>` and a matching `"type"` field, exactly as Anthropic sends them.

use bytes::BytesMut;
use serde_json::Map;

use super::error::envelope;
use super::response::{stop_to_wire, usage_to_wire};
use super::wire::OutResponse;
use super::wire_stream::{OutDelta, OutEvent, OutMessageDeltaBody, OutStartBlock};
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
            StreamEvent::BlockStart { index, block } => OutEvent::ContentBlockStart {
                index: *index,
                content_block: match block {
                    BlockStart::Text => OutStartBlock::Text { text: "" },
                    BlockStart::Thinking => OutStartBlock::Thinking { thinking: "", signature: "" },
                    BlockStart::RedactedThinking { data } => OutStartBlock::RedactedThinking { data },
                    BlockStart::ToolUse { id, name } => OutStartBlock::ToolUse { id, name, input: Map::new() },
                },
            },
            StreamEvent::BlockDelta { index, delta } => OutEvent::ContentBlockDelta {
                index: *index,
                delta: match delta {
                    BlockDelta::Text(text) => OutDelta::TextDelta { text },
                    BlockDelta::Thinking(thinking) => OutDelta::ThinkingDelta { thinking },
                    BlockDelta::Signature(signature) => OutDelta::SignatureDelta { signature },
                    BlockDelta::InputJson(partial_json) => OutDelta::InputJsonDelta { partial_json },
                },
            },
            StreamEvent::BlockStop { index } => OutEvent::ContentBlockStop { index: *index },
            StreamEvent::MessageDelta { stop_reason, stop_sequence, usage } => OutEvent::MessageDelta {
                delta: OutMessageDeltaBody {
                    stop_reason: stop_reason.map(stop_to_wire),
                    stop_sequence: stop_sequence.as_deref(),
                },
                usage: usage_to_wire(usage),
            },
            StreamEvent::MessageStop => {
                self.done = true;
                OutEvent::MessageStop
            }
            StreamEvent::Ping => OutEvent::Ping,
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
