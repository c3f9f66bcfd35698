//! OpenAI-compatible SSE chunks -> IR stream events.
//!
//! Chat chunks have no block boundaries, so the decoder makes them: reasoning deltas
//! (`reasoning_content` / `reasoning`) go into a thinking block, `content` (and `refusal`) into a
//! text block, and each `tool_calls[k]` into its own tool_use block. Opening a block closes the
//! open one. `finish_reason` and `usage` are remembered and reported at `[DONE]`.

use std::collections::HashSet;

use serde_json::Value;

use crate::ir::{ApiError, BlockDelta, BlockStart, ErrorKind, StopReason, StreamEvent, Usage};
use crate::sse::SseRef;

use super::error::decode_stream_error;
use super::wire::{self, Chunk, generated_call_id};
use super::wire_stream::{ChunkStart, StreamChunk, StreamDelta, StreamToolCall};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Thinking,
    Text,
    /// The upstream's tool-call index.
    Tool(u64),
}

/// Decodes one upstream Chat Completions stream.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    /// Set after `[DONE]` or an error: later input is ignored.
    done: bool,
    /// The open block and its IR index.
    open: Option<(Open, usize)>,
    next_index: usize,
    /// Upstream tool-call indices already opened (and possibly closed).
    tools_seen: HashSet<u64>,
    /// Id of the open tool call (to spot servers that reuse index 0 for parallel calls).
    open_tool_id: Option<String>,
    ids_used: HashSet<String>,
    saw_tool_call: bool,
    finish: Option<StopReason>,
    usage: Usage,
    /// The start every chunk of the stream repeats, for the hand reader.
    chunk_start: ChunkStart,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one SSE event.
    pub fn feed(&mut self, ev: SseRef<'_>, out: &mut Vec<StreamEvent>) {
        self.feed_with(ev, true, out);
    }

    /// [`Self::feed`] without the hand reader (what the tests and the `stream_fast` fuzz target
    /// hold it to).
    #[doc(hidden)]
    pub fn feed_general(&mut self, ev: SseRef<'_>, out: &mut Vec<StreamEvent>) {
        self.feed_with(ev, false, out);
    }

    fn feed_with(&mut self, ev: SseRef<'_>, by_hand: bool, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        let data = ev.data.trim();
        if data.is_empty() {
            return;
        }
        if data == "[DONE]" {
            self.complete(out);
            return;
        }
        // Fast path: the chunk straight from the text, by hand or else by serde. Anything neither
        // takes (an error report, a malformed chunk, duplicate keys) goes through a parsed
        // `Value`, as before.
        if ev.event != Some("error") {
            if by_hand && let Some(chunk) = StreamChunk::read(data, &mut self.chunk_start) {
                return self.chunk(&chunk, out);
            }
            if let Ok(chunk) = serde_json::from_str::<StreamChunk>(data)
                && chunk.error.is_none()
            {
                return self.chunk(&chunk, out);
            }
        }
        self.feed_value(ev, data, out);
    }

    /// The general path: parse a `Value`, report an error chunk, else read it as a chunk.
    fn feed_value(&mut self, ev: SseRef<'_>, data: &str, out: &mut Vec<StreamEvent>) {
        let value: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => return self.fail(out, format!("upstream sent an invalid chunk: {e}")),
        };
        if value.get("error").is_some_and(|e| !e.is_null()) || ev.event == Some("error") {
            self.done = true;
            out.push(StreamEvent::Error(decode_stream_error(&value)));
            return;
        }
        if let Err(e) = serde_json::from_value::<Chunk>(value.clone()) {
            return self.fail(out, format!("upstream sent an invalid chunk: {e}"));
        }
        // A valid chunk the fast path refused (duplicate keys): its normalized text is one it takes.
        let text = value.to_string();
        match serde_json::from_str::<StreamChunk>(&text) {
            Ok(chunk) => self.chunk(&chunk, out),
            Err(e) => self.fail(out, format!("upstream sent an invalid chunk: {e}")),
        }
    }

    fn chunk(&mut self, chunk: &StreamChunk<'_>, out: &mut Vec<StreamEvent>) {
        self.start(chunk, out);
        if let Some(u) = &chunk.usage {
            self.usage = u.to_ir();
        }
        let Some(choice) = chunk.choices.iter().find(|c| c.index.unwrap_or(0) == 0) else {
            return;
        };
        if let Some(delta) = &choice.delta {
            if let Err(msg) = self.delta(delta, out) {
                return self.fail(out, msg);
            }
        }
        if let Some(f) = &choice.finish_reason {
            self.finish = Some(wire::stop_reason(f));
        }
    }

    /// The upstream stream ended. Without `[DONE]` but after a `finish_reason` the message is
    /// completed (lenient); without a `finish_reason` the stream was truncated.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        if self.finish.is_some() {
            self.complete(out);
        } else {
            self.fail(out, "upstream stream ended before finish_reason".into());
        }
    }

    fn start(&mut self, chunk: &StreamChunk<'_>, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::MessageStart {
                id: chunk.id.as_deref().unwrap_or_default().to_string(),
                model: chunk.model.as_deref().unwrap_or_default().to_string(),
                usage: Usage::default(),
            });
        }
    }

    fn delta(&mut self, d: &StreamDelta<'_>, out: &mut Vec<StreamEvent>) -> Result<(), String> {
        if let Some(r) = d.reasoning_text().filter(|r| !r.is_empty()) {
            let index = self.ensure(Open::Thinking, BlockStart::Thinking, out);
            out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Thinking(r.to_string()) });
        }
        let text = d.content_text()?;
        for t in [text.as_deref(), d.refusal.as_deref()].into_iter().flatten() {
            if !t.is_empty() {
                let index = self.ensure(Open::Text, BlockStart::Text, out);
                out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Text(t.to_string()) });
            }
        }
        for piece in d.tool_calls.iter().flatten() {
            self.tool_piece(piece, out)?;
        }
        Ok(())
    }

    fn tool_piece(&mut self, piece: &StreamToolCall<'_>, out: &mut Vec<StreamEvent>) -> Result<(), String> {
        let f = piece.function.as_ref();
        let name = f.and_then(|f| f.name.as_deref()).filter(|n| !n.is_empty());
        let id = piece.id.as_deref().filter(|i| !i.is_empty());
        let open_k = match self.open {
            Some((Open::Tool(k), _)) => Some(k),
            _ => None,
        };
        // Without an index, a piece continues the open call unless it names a function under
        // another id (then it starts a new call).
        let same_id = id.is_none() || id == self.open_tool_id.as_deref();
        let mut k = piece.index.unwrap_or_else(|| match open_k {
            Some(k) if name.is_none() && same_id => k,
            _ => self.fresh_tool_index(),
        });
        // A new id with a name at the open call's index is a new call (Ollama reuses index 0).
        if open_k == Some(k) && name.is_some() && id.is_some() && id != self.open_tool_id.as_deref() {
            k = self.fresh_tool_index();
        }
        if open_k != Some(k) {
            if self.tools_seen.contains(&k) {
                return Err("interleaved tool-call arguments are not supported".into());
            }
            self.tools_seen.insert(k);
            self.saw_tool_call = true;
            let id = match id {
                Some(i) if !self.ids_used.contains(i) => i.to_string(),
                _ => generated_call_id(),
            };
            self.ids_used.insert(id.clone());
            self.open_tool_id = piece.id.as_deref().map(str::to_string);
            let start = BlockStart::ToolUse { id, name: name.unwrap_or_default().to_string() };
            self.open_block(Open::Tool(k), start, out);
        }
        let args = f.and_then(|f| f.arguments.as_deref()).unwrap_or("");
        if !args.is_empty() {
            if let Some((_, index)) = self.open {
                out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::InputJson(args.to_string()) });
            }
        }
        Ok(())
    }

    /// An upstream tool index no call has used yet (for pieces without a usable index).
    fn fresh_tool_index(&self) -> u64 {
        self.tools_seen.iter().max().map_or(0, |m| m + 1)
    }

    /// Returns the index of an open block of `kind`, opening one if needed.
    fn ensure(&mut self, kind: Open, start: BlockStart, out: &mut Vec<StreamEvent>) -> usize {
        match self.open {
            Some((k, index)) if k == kind => index,
            _ => self.open_block(kind, start, out),
        }
    }

    fn open_block(&mut self, kind: Open, start: BlockStart, out: &mut Vec<StreamEvent>) -> usize {
        self.close_block(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((kind, index));
        out.push(StreamEvent::BlockStart { index, block: start });
        index
    }

    fn close_block(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((_, index)) = self.open.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    /// Closes the message: open block, stop reason with usage, stop.
    fn complete(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::MessageStart { id: String::new(), model: String::new(), usage: Usage::default() });
        }
        self.close_block(out);
        let stop_reason = match self.finish {
            // Some compatible servers report `stop` after tool calls.
            Some(StopReason::EndTurn) if self.saw_tool_call => Some(StopReason::ToolUse),
            other => other,
        };
        out.push(StreamEvent::MessageDelta { stop_reason, stop_sequence: None, usage: self.usage });
        out.push(StreamEvent::MessageStop);
        self.done = true;
    }

    fn fail(&mut self, out: &mut Vec<StreamEvent>, message: String) {
        self.done = true;
        out.push(StreamEvent::Error(ApiError::new(ErrorKind::BadGateway, message)));
    }
}
