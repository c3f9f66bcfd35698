//! ConverseStream event-stream messages -> IR stream events.
//!
//! Events: `messageStart`; `contentBlockStart` (a tool use opens there; Bedrock opens text and
//! reasoning blocks with their first delta, so any other start only announces one); `contentBlockDelta` (`text`, `reasoningContent.text` /
//! `.signature` / `.redactedContent`, `toolUse.input` pieces); `contentBlockStop`; `messageStop`
//! (the stop reason); then `metadata` (usage). The IR's message delta needs both, so it goes out
//! on `metadata`, or at the end of the stream when no metadata came. Wire block indices are
//! mapped to the IR's 0..n; a delta of another kind than its open block closes it and opens a new
//! one (Bedrock never does that, but a truncated block must not corrupt the order). Exceptions
//! (`:message-type: exception`) and unmodelled errors are an `Error`; a stream that ends before
//! `messageStop` is truncated (an `Error`). Unknown events are ignored (AWS adds event types).

use serde_json::Value;

use crate::eventstream::{Kind, Message};
use crate::ir::{ApiError, BlockDelta, BlockStart, ErrorKind, StopReason, StreamEvent, Usage};

use super::content_decode::redacted_from_wire;
use super::error::decode_exception;
use super::wire::{stop_from_wire, usage_from_wire};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    Tool,
    Redacted,
}

/// Decodes one upstream stream.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    done: bool,
    /// The open block: its kind, wire index and IR index.
    open: Option<(Open, u64, usize)>,
    next_index: usize,
    stop: Option<StopReason>,
    usage: Usage,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one message.
    pub fn feed(&mut self, msg: &Message, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        let event = match msg.kind() {
            Kind::Event(e) => e,
            Kind::Exception(t) => {
                self.done = true;
                out.push(StreamEvent::Error(decode_exception(t, &msg.payload)));
                return;
            }
            Kind::Error(code) => {
                let text = msg.str_header(":error-message").unwrap_or("");
                return self.fail(out, format!("upstream stream error {code}: {text}"));
            }
        };
        let v: Value = match serde_json::from_slice(&msg.payload) {
            Ok(v) => v,
            Err(e) => return self.fail(out, format!("upstream sent an invalid {event} event: {e}")),
        };
        if event != "messageStart" && !self.started && event != "metadata" {
            self.start(out);
        }
        let result = match event {
            "messageStart" => {
                self.start(out);
                Ok(())
            }
            "contentBlockStart" => self.block_start(&v, out),
            "contentBlockDelta" => self.block_delta(&v, out),
            "contentBlockStop" => {
                if self.open.is_some_and(|(_, w, _)| Some(w) == v.get("contentBlockIndex").and_then(Value::as_u64)) {
                    self.close(out);
                }
                Ok(())
            }
            "messageStop" => {
                self.close(out);
                let reason = v.get("stopReason").and_then(Value::as_str).unwrap_or("end_turn");
                match stop_from_wire(reason) {
                    Some(s) => {
                        self.stop = Some(s);
                        Ok(())
                    }
                    None => Err(format!("upstream returned unknown stopReason {reason:?}")),
                }
            }
            "metadata" => {
                if let Some(u) = v.get("usage") {
                    self.usage = usage_from_wire(u);
                }
                if self.stop.is_some() {
                    self.end(out);
                }
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(msg) = result {
            self.fail(out, msg);
        }
    }

    /// Ends the stream: complete after `messageStop`, else truncated.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        if self.stop.is_none() {
            return self.fail(out, "upstream stream ended before messageStop".into());
        }
        self.end(out);
    }

    /// A framing error from the event-stream decoder ends the stream.
    pub fn frame_error(&mut self, err: &crate::eventstream::FrameError, out: &mut Vec<StreamEvent>) {
        if !self.done {
            self.fail(out, format!("upstream stream is not valid event-stream framing: {err}"));
        }
    }

    fn start(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::MessageStart { id: String::new(), model: String::new(), usage: Usage::default() });
        }
    }

    fn end(&mut self, out: &mut Vec<StreamEvent>) {
        self.start(out);
        self.close(out);
        out.push(StreamEvent::MessageDelta { stop_reason: self.stop, stop_sequence: None, usage: self.usage });
        out.push(StreamEvent::MessageStop);
        self.done = true;
    }

    fn block_start(&mut self, v: &Value, out: &mut Vec<StreamEvent>) -> Result<(), String> {
        let wire = v.get("contentBlockIndex").and_then(Value::as_u64).unwrap_or(0);
        let start = v.get("start").and_then(Value::as_object).ok_or("contentBlockStart without start")?;
        if let Some(t) = start.get("toolUse") {
            let s = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            self.open_block(Open::Tool, wire, BlockStart::ToolUse { id: s("toolUseId"), name: s("name") }, out);
            return Ok(());
        }
        // Other start kinds (Bedrock opens text and reasoning with their first delta, but may
        // announce them): the first delta opens the block, and a delta amux cannot translate
        // fails there, naming it.
        Ok(())
    }

    fn block_delta(&mut self, v: &Value, out: &mut Vec<StreamEvent>) -> Result<(), String> {
        let wire = v.get("contentBlockIndex").and_then(Value::as_u64).unwrap_or(0);
        let delta = v.get("delta").and_then(Value::as_object).ok_or("contentBlockDelta without delta")?;
        if let Some(t) = delta.get("text").and_then(Value::as_str) {
            let index = self.ensure(Open::Text, wire, out);
            out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Text(t.to_string()) });
            return Ok(());
        }
        if let Some(t) = delta.get("toolUse") {
            let piece = t.get("input").and_then(Value::as_str).unwrap_or_default();
            match self.open {
                Some((Open::Tool, w, index)) if w == wire => {
                    out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::InputJson(piece.to_string()) });
                    return Ok(());
                }
                _ => return Err("upstream sent tool input outside a tool use block".into()),
            }
        }
        if let Some(r) = delta.get("reasoningContent") {
            if let Some(t) = r.get("text").and_then(Value::as_str) {
                let index = self.ensure(Open::Thinking, wire, out);
                out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Thinking(t.to_string()) });
                return Ok(());
            }
            if let Some(s) = r.get("signature").and_then(Value::as_str) {
                let index = self.ensure(Open::Thinking, wire, out);
                out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Signature(s.to_string()) });
                return Ok(());
            }
            if let Some(d) = r.get("redactedContent").and_then(Value::as_str) {
                let data = redacted_from_wire(d, "redactedContent").map_err(|e| e.message)?;
                self.open_block(Open::Redacted, wire, BlockStart::RedactedThinking { data }, out);
                return Ok(());
            }
        }
        let kind = delta.keys().next().cloned().unwrap_or_default();
        Err(format!("upstream sent a {kind:?} delta, which amux cannot translate"))
    }

    /// The IR index of the open block of `kind` at `wire`, opening it when needed.
    fn ensure(&mut self, kind: Open, wire: u64, out: &mut Vec<StreamEvent>) -> usize {
        match self.open {
            Some((k, w, index)) if k == kind && w == wire => index,
            _ => {
                let start = if kind == Open::Text { BlockStart::Text } else { BlockStart::Thinking };
                self.open_block(kind, wire, start, out)
            }
        }
    }

    fn open_block(&mut self, kind: Open, wire: u64, start: BlockStart, out: &mut Vec<StreamEvent>) -> usize {
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((kind, wire, index));
        out.push(StreamEvent::BlockStart { index, block: start });
        index
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((_, _, index)) = self.open.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    fn fail(&mut self, out: &mut Vec<StreamEvent>, message: String) {
        self.done = true;
        out.push(StreamEvent::Error(ApiError::new(ErrorKind::BadGateway, message)));
    }
}
