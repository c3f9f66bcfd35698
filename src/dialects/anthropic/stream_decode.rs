//! Anthropic upstream SSE -> IR stream events (`StreamDecoder`).
//!
//! Upholds the invariants of [`crate::ir::StreamEvent`]: `MessageStart` first, blocks numbered
//! 0..n and opened/closed one at a time, deltas of the open block's own kind, `MessageDelta`
//! (usage merged with `message_start`'s) after the last block, then `MessageStop`. Anything that
//! breaks them, an unknown block type, an `event: error` or an end without `message_stop` becomes
//! a final `StreamEvent::Error`.

use serde_json::Value;

use super::error::from_type;
use super::response::{is_server_tool_block, stop_from_wire, usage_from_wire};
use super::wire_stream::{FastDelta, FastEvent, InDelta, InEvent, InStartBlock};
use crate::ir::{ApiError, BlockDelta, BlockStart, ErrorKind, StreamEvent, Usage};
use crate::sse::SseRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    RedactedThinking,
    ToolUse,
}

#[derive(Debug, Clone, Copy)]
struct Open {
    /// The upstream's index for the block.
    upstream: usize,
    /// The IR index.
    index: usize,
    kind: Kind,
}

/// Turns upstream Anthropic SSE events into IR stream events.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    done: bool,
    usage: Usage,
    next_index: usize,
    open: Option<Open>,
    delta_sent: bool,
    /// The upstream index of a server tool block being left out (`is_server_tool_block`).
    skipping: Option<usize>,
}

fn bad(message: impl Into<String>) -> StreamEvent {
    StreamEvent::Error(ApiError::new(ErrorKind::BadGateway, message))
}

fn type_of(v: &Value) -> &str {
    v.get("type").and_then(Value::as_str).unwrap_or("")
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one SSE event, appending the IR events it yields.
    pub fn feed(&mut self, ev: SseRef<'_>, out: &mut Vec<StreamEvent>) {
        if !self.done && self.fast(ev.data, out).is_some() {
            return;
        }
        self.feed_general(ev, out);
    }

    /// [`Self::feed`] without the fast path (what the tests and the `stream_fast` fuzz target
    /// hold that path to).
    #[doc(hidden)]
    pub fn feed_general(&mut self, ev: SseRef<'_>, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        if let Err(e) = self.event(ev, out) {
            self.fail(e, out);
        }
    }

    /// Ends the stream: without `message_stop` it was truncated, which is an error.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.done {
            self.fail(bad("upstream stream ended before message_stop"), out);
        }
    }

    fn fail(&mut self, e: StreamEvent, out: &mut Vec<StreamEvent>) {
        out.push(e);
        self.done = true;
    }

    fn close_open(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(open) = self.open.take() {
            out.push(StreamEvent::BlockStop { index: open.index });
            self.next_index += 1;
        }
    }

    fn event(&mut self, ev: SseRef<'_>, out: &mut Vec<StreamEvent>) -> Result<(), StreamEvent> {
        let parsed: InEvent = serde_json::from_str(ev.data).map_err(|e| {
            let name = ev.event.unwrap_or("(unnamed)");
            bad(format!("invalid upstream stream event {name}: {e}"))
        })?;
        self.apply(parsed, out)
    }

    /// One parsed event.
    fn apply(&mut self, parsed: InEvent, out: &mut Vec<StreamEvent>) -> Result<(), StreamEvent> {
        match parsed {
            InEvent::Error { error } => {
                out.push(StreamEvent::Error(from_type(&error.kind, &error.message, 500)));
                self.done = true;
                return Ok(());
            }
            InEvent::Ping if self.started => out.push(StreamEvent::Ping),
            InEvent::Ping | InEvent::Unknown => {}
            InEvent::MessageStart { message } => {
                if self.started {
                    return Err(bad("upstream stream sent a second message_start"));
                }
                self.started = true;
                self.usage = usage_from_wire(&message.usage);
                out.push(StreamEvent::MessageStart { id: message.id, model: message.model, usage: self.usage });
            }
            _ if !self.started => {
                return Err(bad("upstream stream sent content before message_start"));
            }
            InEvent::ContentBlockStart { index, content_block } => self.block_start(index, content_block, out)?,
            // The deltas and end of a skipped server tool block.
            InEvent::ContentBlockDelta { index, .. } if self.skipping == Some(index) => {}
            InEvent::ContentBlockStop { index } if self.skipping == Some(index) => self.skipping = None,
            InEvent::ContentBlockDelta { index, delta } => self.delta(index, delta, out)?,
            InEvent::ContentBlockStop { index } => match self.open {
                Some(open) if open.upstream == index => self.close_open(out),
                _ => {
                    return Err(bad(format!("upstream stream closed block {index}, which is not open")));
                }
            },
            InEvent::MessageDelta { delta, usage } => {
                self.close_open(out);
                self.usage.merge_max(&usage_from_wire(&usage));
                out.push(StreamEvent::MessageDelta {
                    stop_reason: delta.stop_reason.as_deref().and_then(stop_from_wire),
                    stop_sequence: delta.stop_sequence,
                    usage: self.usage,
                });
                self.delta_sent = true;
            }
            InEvent::MessageStop => {
                self.close_open(out);
                if !self.delta_sent {
                    out.push(StreamEvent::MessageDelta { stop_reason: None, stop_sequence: None, usage: self.usage });
                }
                out.push(StreamEvent::MessageStop);
                self.done = true;
            }
        }
        Ok(())
    }

    fn block_start(&mut self, upstream: usize, block: Value, out: &mut Vec<StreamEvent>) -> Result<(), StreamEvent> {
        let kind = type_of(&block);
        if is_server_tool_block(kind) {
            self.close_open(out);
            self.skipping = Some(upstream);
            return Ok(());
        }
        if !matches!(kind, "text" | "thinking" | "redacted_thinking" | "tool_use") {
            return Err(bad(format!("upstream block type {kind:?} (content block {upstream}) cannot be translated")));
        }
        let block: InStartBlock =
            serde_json::from_value(block).map_err(|e| bad(format!("invalid upstream content_block_start: {e}")))?;
        self.open_block(upstream, block, out);
        Ok(())
    }

    /// Opens a block of a type the IR carries (closing the one open), with its first deltas.
    fn open_block(&mut self, upstream: usize, block: InStartBlock, out: &mut Vec<StreamEvent>) {
        self.close_open(out);
        let index = self.next_index;
        let (kind, start, first) = match block {
            InStartBlock::Text { text } => (Kind::Text, BlockStart::Text, vec![BlockDelta::Text(text)]),
            InStartBlock::Thinking { thinking, signature } => (
                Kind::Thinking,
                BlockStart::Thinking,
                vec![BlockDelta::Thinking(thinking), BlockDelta::Signature(signature.unwrap_or_default())],
            ),
            InStartBlock::RedactedThinking { data } => {
                (Kind::RedactedThinking, BlockStart::RedactedThinking { data }, Vec::new())
            }
            InStartBlock::ToolUse { id, name, input } => {
                let first = match input {
                    Value::Object(m) if !m.is_empty() => {
                        vec![BlockDelta::InputJson(Value::Object(m).to_string())]
                    }
                    _ => Vec::new(),
                };
                (Kind::ToolUse, BlockStart::ToolUse { id, name }, first)
            }
        };
        out.push(StreamEvent::BlockStart { index, block: start });
        for delta in first {
            let empty = match &delta {
                BlockDelta::Text(s) | BlockDelta::Thinking(s) | BlockDelta::Signature(s) | BlockDelta::InputJson(s) => {
                    s.is_empty()
                }
            };
            if !empty {
                out.push(StreamEvent::BlockDelta { index, delta });
            }
        }
        self.open = Some(Open { upstream, index, kind });
    }

    /// The fast path: an event read by [`FastEvent`]. A well-formed delta for the open block is
    /// decoded here without the general path's `Value` tree; any other event it reads goes
    /// through [`Self::apply`], as the general path's parse of it would. `None` leaves the event
    /// to the general path, which answers anything else exactly as before.
    fn fast(&mut self, data: &str, out: &mut Vec<StreamEvent>) -> Option<()> {
        match FastEvent::read(data)? {
            FastEvent::Delta { index, delta } => self.fast_delta(index, delta, out),
            // Before `message_start` the general path gives the error.
            FastEvent::Start { .. } if !self.started => None,
            FastEvent::Start { index, block } => {
                self.open_block(index, block, out);
                Some(())
            }
            FastEvent::Event(parsed) => {
                if let Err(e) = self.apply(parsed, out) {
                    self.fail(e, out);
                }
                Some(())
            }
        }
    }

    fn fast_delta(&mut self, index: usize, d: FastDelta<'_>, out: &mut Vec<StreamEvent>) -> Option<()> {
        if !self.started {
            return None;
        }
        if self.skipping == Some(index) {
            return Some(());
        }
        let open = self.open.filter(|o| o.upstream == index)?;
        let delta = match (open.kind, d.kind.as_deref()?) {
            (_, "citations_delta") => return Some(()),
            (Kind::Text, "text_delta") => BlockDelta::Text(d.text?.into_owned()),
            (Kind::Thinking, "thinking_delta") => BlockDelta::Thinking(d.thinking?.into_owned()),
            (Kind::Thinking, "signature_delta") => BlockDelta::Signature(d.signature?.into_owned()),
            (Kind::ToolUse, "input_json_delta") => BlockDelta::InputJson(d.partial_json?.into_owned()),
            _ => return None,
        };
        out.push(StreamEvent::BlockDelta { index: open.index, delta });
        Some(())
    }

    fn delta(&mut self, upstream: usize, delta: Value, out: &mut Vec<StreamEvent>) -> Result<(), StreamEvent> {
        let Some(open) = self.open.filter(|o| o.upstream == upstream) else {
            return Err(bad(format!("upstream stream sent a delta for block {upstream}, which is not open")));
        };
        let name = type_of(&delta).to_string();
        if !matches!(
            name.as_str(),
            "text_delta" | "thinking_delta" | "signature_delta" | "input_json_delta" | "citations_delta"
        ) {
            return Err(bad(format!("upstream delta type {name:?} cannot be translated")));
        }
        let delta: InDelta = serde_json::from_value(delta).map_err(|e| bad(format!("invalid upstream {name}: {e}")))?;
        let delta = match (open.kind, delta) {
            (_, InDelta::CitationsDelta) => return Ok(()),
            (Kind::Text, InDelta::TextDelta { text }) => BlockDelta::Text(text),
            (Kind::Thinking, InDelta::ThinkingDelta { thinking }) => BlockDelta::Thinking(thinking),
            (Kind::Thinking, InDelta::SignatureDelta { signature }) => BlockDelta::Signature(signature),
            (Kind::ToolUse, InDelta::InputJsonDelta { partial_json }) => BlockDelta::InputJson(partial_json),
            (kind, _) => {
                return Err(bad(format!("upstream stream sent {name} in a {kind:?} block")));
            }
        };
        out.push(StreamEvent::BlockDelta { index: open.index, delta });
        Ok(())
    }
}
