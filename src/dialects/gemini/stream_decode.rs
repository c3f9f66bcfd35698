//! Gemini `streamGenerateContent?alt=sse` -> IR stream events.
//!
//! Each `data:` line is a whole `GenerateContentResponse` (no event names, no `[DONE]`). Text and
//! thought text arrive in pieces and continue the open block of their kind; a part's
//! `thoughtSignature` becomes a signature-only thinking block before the part's own block (on a
//! thought part it is the signature of that thought's block, which it then closes);
//! `functionCall` parts arrive whole: tool_use start, one `InputJson` with the full arguments,
//! stop. `finishReason` and `usageMetadata` are remembered; the stream is complete when the body
//! ends after a `finishReason`, and truncated (an `Error`) when it ends without one. A
//! `{"error": {...}}` chunk is an `Error`.

use serde_json::Value;

use crate::ir::{ApiError, BlockDelta, BlockStart, ErrorKind, StopReason, StreamEvent, Usage};
use crate::sse::SseRef;

use super::error::from_value;
use super::response::{blocked, call_fields, stop_from_finish};
use super::wire::{get, usage_from_wire};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
}

/// Decodes one upstream stream.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    done: bool,
    /// The open block: its continuable kind (None for tool_use and signature-only blocks) and index.
    open: Option<(Option<Open>, usize)>,
    next_index: usize,
    saw_call: bool,
    finish: Option<StopReason>,
    usage: Usage,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one SSE event.
    pub fn feed(&mut self, ev: SseRef<'_>, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        let data = ev.data.trim();
        if data.is_empty() {
            return;
        }
        let v: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => return self.fail(out, format!("upstream sent an invalid stream chunk: {e}")),
        };
        // Errors come as `{"error": {...}}`, sometimes wrapped in an array.
        let chunk = match &v {
            Value::Array(items) if items.len() == 1 => &items[0],
            other => other,
        };
        if chunk.get("error").is_some() {
            self.done = true;
            out.push(StreamEvent::Error(from_value(None, chunk)));
            return;
        }
        let Some(o) = chunk.as_object() else {
            return self.fail(out, "upstream stream chunk is not a JSON object".into());
        };
        if !self.started {
            self.started = true;
            out.push(StreamEvent::MessageStart {
                id: get(o, "responseId").and_then(Value::as_str).unwrap_or_default().to_string(),
                model: get(o, "modelVersion").and_then(Value::as_str).unwrap_or_default().to_string(),
                usage: Usage::default(),
            });
        }
        if let Some(u) = get(o, "usageMetadata") {
            // Each chunk's usageMetadata is a snapshot of the whole call so far (a later one can
            // split the prompt into cached and uncached differently): the latest one wins.
            self.usage = usage_from_wire(u);
        }
        if blocked(o).is_some() {
            self.finish = Some(StopReason::Refusal);
        }
        let candidate =
            get(o, "candidates").and_then(Value::as_array).and_then(|c| c.first()).and_then(Value::as_object);
        let Some(c) = candidate else {
            return;
        };
        let parts = get(c, "content").and_then(Value::as_object).and_then(|c| get(c, "parts"));
        for p in parts.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
            if let Err(msg) = self.part(p, out) {
                return self.fail(out, msg);
            }
        }
        if let Some(reason) = get(c, "finishReason").and_then(Value::as_str) {
            match stop_from_finish(reason, get(c, "finishMessage"), self.saw_call) {
                Ok(s) => self.finish = Some(s),
                Err(e) => {
                    self.done = true;
                    out.push(StreamEvent::Error(e));
                }
            }
        }
    }

    /// Ends the stream: complete after a `finishReason`, else truncated.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        if self.finish.is_none() {
            return self.fail(out, "upstream stream ended before finishReason".into());
        }
        if !self.started {
            out.push(StreamEvent::MessageStart { id: String::new(), model: String::new(), usage: Usage::default() });
        }
        self.close(out);
        out.push(StreamEvent::MessageDelta { stop_reason: self.finish, stop_sequence: None, usage: self.usage });
        out.push(StreamEvent::MessageStop);
        self.done = true;
    }

    fn part(&mut self, p: &Value, out: &mut Vec<StreamEvent>) -> Result<(), String> {
        let o = p.as_object().ok_or("upstream part is not an object")?;
        let signature = get(o, "thoughtSignature").and_then(Value::as_str).filter(|s| !s.is_empty());
        let thought = get(o, "thought").and_then(Value::as_bool).unwrap_or(false);
        if let Some(text) = get(o, "text").and_then(Value::as_str) {
            if thought {
                let index = self.ensure(Open::Thinking, out);
                if !text.is_empty() {
                    out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Thinking(text.to_string()) });
                }
                if let Some(s) = signature {
                    out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Signature(s.to_string()) });
                    self.close(out);
                }
                return Ok(());
            }
            self.signature_block(signature, out);
            if !text.is_empty() {
                let index = self.ensure(Open::Text, out);
                out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Text(text.to_string()) });
            }
            return Ok(());
        }
        if let Some(call) = get(o, "functionCall").and_then(Value::as_object) {
            self.signature_block(signature, out);
            let (id, name, input) = call_fields(call);
            let index = self.open_block(None, BlockStart::ToolUse { id, name }, out);
            out.push(StreamEvent::BlockDelta {
                index,
                delta: BlockDelta::InputJson(crate::dialects::json_text(&input)),
            });
            self.close(out);
            self.saw_call = true;
            return Ok(());
        }
        if o.keys().all(|k| k.starts_with("thought")) {
            self.signature_block(signature, out);
            return Ok(());
        }
        let kind = o.keys().find(|k| !k.starts_with("thought")).cloned().unwrap_or_default();
        Err(format!("upstream returned a {kind:?} part, which amux cannot translate"))
    }

    /// A signature carried by a non-thought part: its own thinking block.
    fn signature_block(&mut self, signature: Option<&str>, out: &mut Vec<StreamEvent>) {
        if let Some(s) = signature {
            let index = self.open_block(None, BlockStart::Thinking, out);
            out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Signature(s.to_string()) });
            self.close(out);
        }
    }

    fn ensure(&mut self, kind: Open, out: &mut Vec<StreamEvent>) -> usize {
        match self.open {
            Some((Some(k), index)) if k == kind => index,
            _ => {
                let start = if kind == Open::Text { BlockStart::Text } else { BlockStart::Thinking };
                self.open_block(Some(kind), start, out)
            }
        }
    }

    /// Opens a block; `kind` is `None` for blocks that are never continued.
    fn open_block(&mut self, kind: Option<Open>, start: BlockStart, out: &mut Vec<StreamEvent>) -> usize {
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((kind, index));
        out.push(StreamEvent::BlockStart { index, block: start });
        index
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((_, index)) = self.open.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    fn fail(&mut self, out: &mut Vec<StreamEvent>, message: String) {
        self.done = true;
        out.push(StreamEvent::Error(ApiError::new(ErrorKind::BadGateway, message)));
    }
}
