//! IR stream events -> `chat.completion.chunk` SSE for an OpenAI caller.
//!
//! Thinking goes out as `reasoning_content` deltas (the de-facto extension DeepSeek, vLLM and
//! most clients understand); signatures and redacted thinking have no Chat form and are skipped.
//! Tool calls are numbered 0.. in the order their blocks open. The stream ends with the usage
//! chunk (when the caller asked for `stream_options.include_usage`) and `data: [DONE]`, or with a
//! `data: {"error":...}` chunk.

use std::collections::HashMap;

use bytes::BytesMut;
use serde_json::{Value, json};

use crate::ir::{self, BlockDelta, BlockStart, StreamEvent, Usage};
use crate::sse::write_event;

use super::error::error_object;
use super::wire::{finish_reason, now_secs, usage_json};

/// Encodes one caller stream.
#[derive(Debug)]
pub struct StreamEncoder {
    include_usage: bool,
    id: String,
    model: String,
    created: u64,
    /// IR block index -> tool-call index, for tool_use blocks.
    tool_index: HashMap<usize, usize>,
    tools: usize,
    usage: Usage,
    done: bool,
}

impl StreamEncoder {
    pub fn new(req: &ir::Request) -> Self {
        StreamEncoder {
            include_usage: req.stream_include_usage,
            id: String::new(),
            model: req.model.clone(),
            created: now_secs(),
            tool_index: HashMap::new(),
            tools: 0,
            usage: Usage::default(),
            done: false,
        }
    }

    /// Encodes one event (possibly as nothing).
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
                self.usage = *usage;
                self.chunk(out, json!({"role": "assistant", "content": ""}), None);
            }
            StreamEvent::BlockStart {
                index,
                block: BlockStart::ToolUse { id, name },
            } => {
                let k = self.tools;
                self.tools += 1;
                self.tool_index.insert(*index, k);
                let call = json!({"index": k, "id": id, "type": "function",
                    "function": {"name": name, "arguments": ""}});
                self.chunk(out, json!({"tool_calls": [call]}), None);
            }
            StreamEvent::BlockStart { .. } | StreamEvent::BlockStop { .. } | StreamEvent::Ping => {}
            StreamEvent::BlockDelta { index, delta } => match delta {
                BlockDelta::Text(t) if !t.is_empty() => {
                    self.chunk(out, json!({"content": t}), None)
                }
                BlockDelta::Thinking(t) if !t.is_empty() => {
                    self.chunk(out, json!({"reasoning_content": t}), None)
                }
                BlockDelta::InputJson(args) if !args.is_empty() => {
                    if let Some(k) = self.tool_index.get(index).copied() {
                        let call = json!({"index": k, "function": {"arguments": args}});
                        self.chunk(out, json!({"tool_calls": [call]}), None);
                    }
                }
                _ => {}
            },
            StreamEvent::MessageDelta {
                stop_reason, usage, ..
            } => {
                self.usage.merge_max(usage);
                let finish = Some(finish_reason(
                    stop_reason.unwrap_or(ir::StopReason::EndTurn),
                ));
                self.chunk(out, json!({}), finish);
            }
            StreamEvent::MessageStop => {
                if self.include_usage {
                    let mut body = self.envelope();
                    body["choices"] = json!([]);
                    body["usage"] = usage_json(&self.usage);
                    write_event(out, None, &body.to_string());
                }
                write_event(out, None, "[DONE]");
                self.done = true;
            }
            StreamEvent::Error(err) => {
                write_event(out, None, &error_object(err).to_string());
                self.done = true;
            }
        }
    }

    fn envelope(&self) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
        })
    }

    fn chunk(&self, out: &mut BytesMut, delta: Value, finish: Option<&str>) {
        let mut body = self.envelope();
        body["choices"] = json!([{
            "index": 0,
            "delta": delta,
            "logprobs": null,
            "finish_reason": finish,
        }]);
        write_event(out, None, &body.to_string());
    }
}
