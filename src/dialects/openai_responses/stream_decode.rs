//! Responses upstream SSE events -> IR stream events.
//!
//! Output items map to IR blocks one to one, in the order they are added: reasoning -> thinking
//! (summary parts joined by blank lines; `encrypted_content` from `output_item.done` becomes one
//! signature delta carrying the item id, see `wire::upstream_signature`), message -> text
//! (output_text and refusal deltas), function_call -> tool_use (argument deltas),
//! custom_tool_call -> tool_use whose JSON input `{"input": "..."}` is built from the input
//! deltas. Content that only arrives in an item's `.done` form (no deltas) is emitted then.
//! `response.completed` / `.incomplete` end the message; `response.failed` and `error` events
//! become `StreamEvent::Error`; a stream that ends before any of them is truncated (an error).

use serde_json::Value;

use crate::ir::{ApiError, BlockDelta, BlockStart, ErrorKind, StopReason, StreamEvent, Usage};
use crate::sse::SseRef;

use super::error::{decode_stream_error, response_error};
use super::response::{incomplete_reason, is_hosted_call};
use super::wire::{upstream_signature, usage_from};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reasoning,
    Message,
    Function,
    Custom,
}

#[derive(Debug)]
struct OpenItem {
    output_index: u64,
    index: usize,
    kind: Kind,
    /// A delta of this item's content was seen (else its `.done` form supplies it).
    got_delta: bool,
    /// Reasoning: summary text emitted so far is non-empty (a later part starts with a blank line).
    has_text: bool,
    /// Custom tool call: the closing `"}` of its JSON input was emitted.
    json_closed: bool,
}

/// Decodes one upstream Responses stream.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    done: bool,
    open: Option<OpenItem>,
    next_index: usize,
    saw_tool_call: bool,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one SSE event.
    pub fn feed(&mut self, ev: SseRef<'_>, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        let data = ev.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return;
        }
        let v: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(e) => return self.fail(out, format!("upstream sent an invalid event: {e}")),
        };
        let kind = v.get("type").and_then(Value::as_str).or(ev.event).unwrap_or("").to_string();
        if let Err(msg) = self.event(&kind, &v, out) {
            self.fail(out, msg);
        }
    }

    /// The upstream stream ended: without a terminal event it was truncated.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.done {
            self.fail(out, "upstream stream ended before response.completed".into());
        }
    }

    fn event(&mut self, kind: &str, v: &Value, out: &mut Vec<StreamEvent>) -> Result<(), String> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
        match kind {
            "response.created" | "response.in_progress" | "response.queued" => self.start(v.get("response"), out),
            "response.output_item.added" => {
                self.start(None, out);
                self.item_added(v, out)?;
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                self.delta(v, Kind::Message, BlockDelta::Text(s("delta").to_string()), out)?;
            }
            "response.reasoning_summary_part.added" => {
                let open = self.expect_open(v, Kind::Reasoning)?;
                if open.has_text {
                    let index = open.index;
                    out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Thinking("\n\n".into()) });
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                let delta = s("delta");
                if !delta.is_empty() {
                    self.expect_open(v, Kind::Reasoning)?.has_text = true;
                }
                self.delta(v, Kind::Reasoning, BlockDelta::Thinking(delta.to_string()), out)?;
            }
            "response.function_call_arguments.delta" => {
                self.delta(v, Kind::Function, BlockDelta::InputJson(s("delta").to_string()), out)?;
            }
            "response.custom_tool_call_input.delta" => {
                self.delta(v, Kind::Custom, BlockDelta::InputJson(json_fragment(s("delta"))), out)?;
            }
            "response.output_item.done" => self.item_done(v, out)?,
            "response.completed" | "response.incomplete" => {
                self.start(v.get("response"), out);
                self.close(out);
                let r = v.get("response");
                let stop = if kind == "response.incomplete" {
                    incomplete_reason(r.and_then(|r| r.get("incomplete_details")))
                } else if self.saw_tool_call {
                    StopReason::ToolUse
                } else {
                    StopReason::EndTurn
                };
                let usage = r.and_then(|r| r.get("usage")).filter(|u| !u.is_null()).map(usage_from);
                out.push(StreamEvent::MessageDelta {
                    stop_reason: Some(stop),
                    stop_sequence: None,
                    usage: usage.unwrap_or_default(),
                });
                out.push(StreamEvent::MessageStop);
                self.done = true;
            }
            "response.failed" => {
                self.done = true;
                let e = v.get("response").and_then(|r| r.get("error")).unwrap_or(&Value::Null);
                out.push(StreamEvent::Error(response_error(e)));
            }
            "error" => {
                self.done = true;
                out.push(StreamEvent::Error(decode_stream_error(v)));
            }
            // `.done` forms of parts and texts (the item's `.done` is used instead), annotations,
            // keep-alives and anything newer.
            _ => {}
        }
        Ok(())
    }

    fn start(&mut self, response: Option<&Value>, out: &mut Vec<StreamEvent>) {
        if self.started {
            return;
        }
        self.started = true;
        let s = |k: &str| response.and_then(|r| r.get(k)).and_then(Value::as_str).unwrap_or("").to_string();
        out.push(StreamEvent::MessageStart { id: s("id"), model: s("model"), usage: Usage::default() });
    }

    fn item_added(&mut self, v: &Value, out: &mut Vec<StreamEvent>) -> Result<(), String> {
        let item = v.get("item").ok_or("output_item.added without item")?;
        let s = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (kind, start) = match s("type").as_str() {
            "reasoning" => (Kind::Reasoning, BlockStart::Thinking),
            "message" => (Kind::Message, BlockStart::Text),
            "function_call" => (Kind::Function, BlockStart::ToolUse { id: s("call_id"), name: s("name") }),
            "custom_tool_call" => (Kind::Custom, BlockStart::ToolUse { id: s("call_id"), name: s("name") }),
            // A hosted tool's run (web search...): the answer that follows carries its result.
            t if is_hosted_call(t) => return Ok(()),
            other => return Err(format!("upstream output item type {other:?} is not supported")),
        };
        self.close(out);
        if matches!(kind, Kind::Function | Kind::Custom) {
            self.saw_tool_call = true;
        }
        let index = self.next_index;
        self.next_index += 1;
        out.push(StreamEvent::BlockStart { index, block: start });
        let output_index = v.get("output_index").and_then(Value::as_u64).unwrap_or(index as u64);
        self.open = Some(OpenItem { output_index, index, kind, got_delta: false, has_text: false, json_closed: false });
        if kind == Kind::Custom {
            out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::InputJson("{\"input\":\"".into()) });
        }
        Ok(())
    }

    /// The open item, which must be the event's item and of `kind`.
    fn expect_open(&mut self, v: &Value, kind: Kind) -> Result<&mut OpenItem, String> {
        let output_index = v.get("output_index").and_then(Value::as_u64);
        match self.open.as_mut() {
            Some(o) if o.kind == kind && output_index.is_none_or(|i| i == o.output_index) => Ok(o),
            _ => Err(format!(
                "upstream sent a {kind:?} delta for output item {} that is not the open item",
                output_index.map_or("?".to_string(), |i| i.to_string())
            )),
        }
    }

    fn delta(&mut self, v: &Value, kind: Kind, delta: BlockDelta, out: &mut Vec<StreamEvent>) -> Result<(), String> {
        let empty =
            matches!(&delta, BlockDelta::Text(t) | BlockDelta::Thinking(t) | BlockDelta::InputJson(t) if t.is_empty());
        let open = self.expect_open(v, kind)?;
        if !empty {
            open.got_delta = true;
            out.push(StreamEvent::BlockDelta { index: open.index, delta });
        }
        Ok(())
    }

    fn item_done(&mut self, v: &Value, out: &mut Vec<StreamEvent>) -> Result<(), String> {
        let item = v.get("item").ok_or("output_item.done without item")?;
        if item.get("type").and_then(Value::as_str).is_some_and(is_hosted_call) {
            return Ok(());
        }
        let Some(open) = self.open.as_mut() else {
            return Err("output_item.done without an open item".into());
        };
        let s = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
        let index = open.index;
        let mut emit = |d: BlockDelta| out.push(StreamEvent::BlockDelta { index, delta: d });
        match open.kind {
            Kind::Reasoning => {
                if !open.got_delta {
                    let texts: Vec<&str> = item
                        .get("summary")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|p| p.get("text").and_then(Value::as_str))
                        .collect();
                    if !texts.is_empty() {
                        emit(BlockDelta::Thinking(texts.join("\n\n")));
                    }
                }
                if let Some(enc) = item.get("encrypted_content").and_then(Value::as_str) {
                    emit(BlockDelta::Signature(upstream_signature(s("id"), enc)));
                }
            }
            Kind::Message if !open.got_delta => {
                for p in item.get("content").and_then(Value::as_array).into_iter().flatten() {
                    let t = p.get("text").or_else(|| p.get("refusal")).and_then(Value::as_str).unwrap_or("");
                    if !t.is_empty() {
                        emit(BlockDelta::Text(t.to_string()));
                    }
                }
            }
            Kind::Function if !open.got_delta && !s("arguments").is_empty() => {
                emit(BlockDelta::InputJson(s("arguments").to_string()));
            }
            Kind::Custom => {
                if !open.got_delta && !s("input").is_empty() {
                    emit(BlockDelta::InputJson(json_fragment(s("input"))));
                }
                emit(BlockDelta::InputJson("\"}".into()));
                open.json_closed = true;
            }
            _ => {}
        }
        self.close(out);
        Ok(())
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(open) = self.open.take() {
            if open.kind == Kind::Custom && !open.json_closed {
                // Closed without its `.done`: finish the JSON anyway.
                out.push(StreamEvent::BlockDelta { index: open.index, delta: BlockDelta::InputJson("\"}".into()) });
            }
            out.push(StreamEvent::BlockStop { index: open.index });
        }
    }

    fn fail(&mut self, out: &mut Vec<StreamEvent>, message: String) {
        self.done = true;
        out.push(StreamEvent::Error(ApiError::new(ErrorKind::BadGateway, message)));
    }
}

/// Free text as the inside of a JSON string (escaped, without the quotes).
fn json_fragment(text: &str) -> String {
    let quoted = Value::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}
