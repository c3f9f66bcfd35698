//! IR stream events -> ConverseStream event-stream frames for a Bedrock caller.
//!
//! As Bedrock sends them: `messageStart {role}`; text and reasoning blocks open with their first
//! `contentBlockDelta` (no `contentBlockStart`), tool use blocks with a `contentBlockStart`
//! naming the tool; `contentBlockStop` per block; the message delta becomes `messageStop
//! {stopReason}` then `metadata {usage, metrics}`. An error is an exception frame
//! (`:exception-type`, `{"message"}`) and ends the stream. Frames are written whole into the
//! output, so a caller never sees half of one.

use bytes::BytesMut;
use serde_json::{Value, json};

use crate::eventstream::{self, Message};
use crate::ir::{self, ApiError, BlockDelta, BlockStart, StopReason, StreamEvent, Usage};

use super::error::{exception_payload, exception_type};
use super::wire::{base64, stop_to_wire, usage_to_wire};

/// Encodes one caller stream.
#[derive(Debug, Default)]
pub struct StreamEncoder {
    usage: Usage,
    started: bool,
    done: bool,
}

impl StreamEncoder {
    pub fn new(_req: &ir::Request) -> Self {
        Self::default()
    }

    /// Encodes one event (possibly as nothing).
    pub fn encode(&mut self, ev: &StreamEvent, out: &mut BytesMut) {
        if self.done {
            return;
        }
        match ev {
            StreamEvent::MessageStart { usage, .. } => {
                self.usage.merge_max(usage);
                self.start(out);
            }
            StreamEvent::BlockStart { index, block } => {
                self.start(out);
                match block {
                    BlockStart::ToolUse { id, name } => event(
                        out,
                        "contentBlockStart",
                        &json!({"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": id, "name": name}}}),
                    ),
                    BlockStart::RedactedThinking { data } => {
                        delta(out, *index, json!({"reasoningContent": {"redactedContent": base64(data.as_bytes())}}))
                    }
                    BlockStart::Text | BlockStart::Thinking => {}
                }
            }
            StreamEvent::BlockDelta { delta: BlockDelta::InputJson(j), .. } if j.is_empty() => {}
            StreamEvent::BlockDelta { index, delta: d } => {
                let body = match d {
                    BlockDelta::Text(t) => json!({"text": t}),
                    BlockDelta::Thinking(t) => json!({"reasoningContent": {"text": t}}),
                    BlockDelta::Signature(s) => json!({"reasoningContent": {"signature": s}}),
                    BlockDelta::InputJson(j) => json!({"toolUse": {"input": j}}),
                };
                delta(out, *index, body);
            }
            StreamEvent::BlockStop { index } => event(out, "contentBlockStop", &json!({"contentBlockIndex": index})),
            StreamEvent::MessageDelta { stop_reason, usage, .. } => {
                self.start(out);
                self.usage.merge_max(usage);
                let stop = stop_to_wire(stop_reason.unwrap_or(StopReason::EndTurn));
                event(out, "messageStop", &json!({"stopReason": stop}));
                let usage = usage_to_wire(&self.usage);
                event(out, "metadata", &json!({"usage": usage, "metrics": {"latencyMs": 0}}));
            }
            StreamEvent::MessageStop => self.done = true,
            StreamEvent::Ping => {}
            StreamEvent::Error(err) => {
                exception(out, err);
                self.done = true;
            }
        }
    }

    fn start(&mut self, out: &mut BytesMut) {
        if !self.started {
            self.started = true;
            event(out, "messageStart", &json!({"role": "assistant"}));
        }
    }
}

fn delta(out: &mut BytesMut, index: usize, delta: Value) {
    event(out, "contentBlockDelta", &json!({"contentBlockIndex": index, "delta": delta}));
}

/// Writes one event frame. Its headers are fixed and short, so encoding cannot fail.
pub fn event(out: &mut BytesMut, event_type: &str, payload: &Value) {
    let _ = eventstream::encode(&Message::event(event_type, payload.to_string()), out);
}

/// Writes one exception frame.
pub fn exception(out: &mut BytesMut, err: &ApiError) {
    let _ = eventstream::encode(&Message::exception(exception_type(err), exception_payload(err)), out);
}
