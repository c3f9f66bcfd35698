//! IR stream events -> `streamGenerateContent?alt=sse` chunks for a Gemini caller.
//!
//! Every chunk is a whole `GenerateContentResponse` with one part: one per text or thought
//! delta, one per function call (its argument pieces are buffered until the block stops, since
//! Gemini sends calls whole). Signatures follow the caller rules in `parts`: the signature of a
//! thinking block goes on the next non-thought part (Gemini CLI drops thought parts from its
//! history). The last chunk is held back so that `finishReason` and `usageMetadata` ride on it,
//! as Gemini sends them (older Gemini CLI versions reject chunks without content). An error is a
//! `data: {"error": {...}}` chunk and ends the stream.

use bytes::BytesMut;
use serde_json::{Map, Value, json};

use crate::ir::{self, ApiError, BlockDelta, BlockStart, ErrorKind, StopReason, StreamEvent, Usage};
use crate::sse::write_json_event;

use super::error::error_object;
use super::parts::{call_part, text_part};
use super::wire::{finish_to_wire, usage_to_wire};

/// A tool_use block being buffered.
#[derive(Debug)]
struct OpenCall {
    index: usize,
    id: String,
    name: String,
    args: String,
}

/// Encodes one caller stream.
#[derive(Debug)]
pub struct StreamEncoder {
    id: String,
    model: String,
    usage: Usage,
    stop: Option<StopReason>,
    /// The last chunk's part, not yet written.
    held: Option<Value>,
    /// Signature and text of the open thinking block.
    block_sig: String,
    block_thinking: String,
    /// A finished block's signature waiting for the next non-thought part.
    waiting_sig: Option<String>,
    call: Option<OpenCall>,
    done: bool,
}

impl StreamEncoder {
    pub fn new(req: &ir::Request) -> Self {
        StreamEncoder {
            id: String::new(),
            model: req.model.clone(),
            usage: Usage::default(),
            stop: None,
            held: None,
            block_sig: String::new(),
            block_thinking: String::new(),
            waiting_sig: None,
            call: None,
            done: false,
        }
    }

    /// Encodes one event (possibly as nothing yet).
    pub fn encode(&mut self, ev: &StreamEvent, out: &mut BytesMut) {
        if self.done {
            return;
        }
        match ev {
            StreamEvent::MessageStart { id, model, usage } => {
                self.id = id.clone();
                if !model.is_empty() {
                    self.model = model.clone();
                }
                self.usage.merge_max(usage);
            }
            StreamEvent::BlockStart { index, block } => match block {
                BlockStart::ToolUse { id, name } => {
                    self.call =
                        Some(OpenCall { index: *index, id: id.clone(), name: name.clone(), args: String::new() });
                }
                BlockStart::Thinking => {
                    self.block_sig.clear();
                    self.block_thinking.clear();
                }
                BlockStart::Text | BlockStart::RedactedThinking { .. } => {}
            },
            StreamEvent::BlockDelta { delta, .. } => match delta {
                BlockDelta::Text(t) if !t.is_empty() => self.part(text_part(t), true, out),
                BlockDelta::Thinking(t) if !t.is_empty() => {
                    self.block_thinking.push_str(t);
                    let mut p = text_part(t);
                    p.insert("thought".into(), json!(true));
                    self.part(p, false, out);
                }
                BlockDelta::Signature(s) => self.block_sig.push_str(s),
                BlockDelta::InputJson(j) => {
                    if let Some(c) = &mut self.call {
                        c.args.push_str(j);
                    }
                }
                _ => {}
            },
            StreamEvent::BlockStop { index } => {
                if let Some(c) = self.call.take_if(|c| c.index == *index) {
                    let args = if c.args.trim().is_empty() { Ok(json!({})) } else { serde_json::from_str(&c.args) };
                    match args {
                        Ok(args) => self.part(call_part(&c.id, &c.name, &args), true, out),
                        Err(e) => {
                            let msg = format!("tool call {:?} has invalid JSON arguments: {e}", c.name);
                            self.error(&ApiError::new(ErrorKind::BadGateway, msg), out);
                        }
                    }
                } else if !self.block_sig.is_empty() {
                    let sig = super::signature::wrap(&self.block_thinking, &std::mem::take(&mut self.block_sig));
                    if let Some(old) = self.waiting_sig.replace(sig) {
                        self.signature_part(old, out);
                    }
                }
            }
            StreamEvent::MessageDelta { stop_reason, usage, .. } => {
                self.stop = *stop_reason;
                self.usage.merge_max(usage);
            }
            StreamEvent::MessageStop => {
                if let Some(sig) = self.waiting_sig.take() {
                    self.signature_part(sig, out);
                }
                let mut last = self.held.take().unwrap_or_else(|| self.chunk(None));
                last["candidates"][0]["finishReason"] = json!(finish_to_wire(self.stop.unwrap_or(StopReason::EndTurn)));
                last["usageMetadata"] = usage_to_wire(&self.usage);
                let _ = write_json_event(out, None, &last);
                self.done = true;
            }
            StreamEvent::Ping => {}
            StreamEvent::Error(err) => self.error(err, out),
        }
    }

    /// Emits a part (holding it back); `signed` parts take a waiting signature.
    fn part(&mut self, mut part: Map<String, Value>, signed: bool, out: &mut BytesMut) {
        if signed {
            if let Some(sig) = self.waiting_sig.take() {
                part.insert("thoughtSignature".into(), json!(sig));
            }
        }
        let chunk = self.chunk(Some(Value::Object(part)));
        if let Some(prev) = self.held.replace(chunk) {
            let _ = write_json_event(out, None, &prev);
        }
    }

    /// A signature with no part to ride on: an empty thought part.
    fn signature_part(&mut self, sig: String, out: &mut BytesMut) {
        let mut p = text_part("");
        p.insert("thought".into(), json!(true));
        p.insert("thoughtSignature".into(), json!(sig));
        self.part(p, false, out);
    }

    fn chunk(&self, part: Option<Value>) -> Value {
        let content = match part {
            Some(p) => json!({"role": "model", "parts": [p]}),
            None => json!({"role": "model"}),
        };
        json!({
            "candidates": [{"content": content, "index": 0}],
            "modelVersion": self.model,
            "responseId": self.id,
        })
    }

    fn error(&mut self, err: &ApiError, out: &mut BytesMut) {
        if let Some(prev) = self.held.take() {
            let _ = write_json_event(out, None, &prev);
        }
        let _ = write_json_event(out, None, &error_object(err));
        self.done = true;
    }
}
