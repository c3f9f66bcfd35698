//! IR stream events -> Responses SSE for a Responses caller (Codex), with the exact lifecycle:
//! `response.created`, `response.in_progress`, then per IR block one output item
//! (`output_item.added`, its part / summary-part events and deltas, the `.done` events,
//! `output_item.done`), and `response.completed` or `response.incomplete` with usage. Every event
//! has an `event:` line, a `type` and a `sequence_number` counting from 0.
//!
//! - text -> a message item with one `output_text` part;
//! - thinking -> a reasoning item with one summary part (opened at the first text); signature
//!   deltas accumulate into `encrypted_content`; redacted thinking -> a reasoning item whose
//!   `encrypted_content` is `redacted_thinking:<data>` (decoded back when the caller replays it);
//! - tool_use -> a function_call item with argument deltas, or, for the request's `custom`
//!   tools, a custom_tool_call item whose input is sent whole when the block ends;
//! - an error -> an `error` event, then `response.failed`; nothing follows.

use bytes::BytesMut;
use serde_json::{Value, json};

use crate::ir::{self, ApiError, BlockDelta, BlockStart, StopReason, StreamEvent, Usage};
use crate::sse::write_json_event;

use super::error::{failed_error_object, type_and_code};
use super::object::{
    Echo, State, custom_call_item, final_status, function_call_item, message_item, reasoning_item, response_object,
    text_part,
};
use super::wire::{REDACTED_PREFIX, custom_input_text, generated_id, item_id, now_secs};

#[derive(Debug)]
enum Open {
    Text { text: String },
    Thinking { text: String, signature: String, part_open: bool, redacted: Option<String> },
    Function { call_id: String, name: String, args: String },
    Custom { call_id: String, name: String, args: String },
}

/// Encodes one caller stream (boxed: its state is large and it lives in an enum of encoders).
#[derive(Debug)]
pub struct StreamEncoder(Box<Encoder>);

impl StreamEncoder {
    pub fn new(req: &ir::Request) -> Self {
        StreamEncoder(Box::new(Encoder::new(req)))
    }

    /// Encodes one event (possibly as nothing).
    pub fn encode(&mut self, ev: &StreamEvent, out: &mut BytesMut) {
        self.0.encode(ev, out);
    }
}

#[derive(Debug)]
struct Encoder {
    echo: Echo,
    seq: u64,
    id: String,
    model: String,
    created_at: u64,
    started: bool,
    /// Finished output items, for the final snapshot.
    output: Vec<Value>,
    /// The open item: its output index, id and state.
    open: Option<(usize, String, Open)>,
    stop: Option<StopReason>,
    usage: Usage,
    done: bool,
}

impl Encoder {
    fn new(req: &ir::Request) -> Self {
        Encoder {
            echo: Echo::from_request(req),
            seq: 0,
            id: String::new(),
            model: req.model.clone(),
            created_at: now_secs(),
            started: false,
            output: Vec::new(),
            open: None,
            stop: None,
            usage: Usage::default(),
            done: false,
        }
    }

    fn encode(&mut self, ev: &StreamEvent, out: &mut BytesMut) {
        if self.done {
            return;
        }
        match ev {
            StreamEvent::MessageStart { id, model, usage } => {
                self.id = if id.is_empty() { generated_id("resp") } else { id.clone() };
                if !model.is_empty() {
                    self.model = model.clone();
                }
                self.usage = *usage;
                self.start(out);
            }
            StreamEvent::BlockStart { block, .. } => {
                self.start(out);
                self.block_start(block, out);
            }
            StreamEvent::BlockDelta { delta, .. } => self.block_delta(delta, out),
            StreamEvent::BlockStop { .. } => self.block_stop(out),
            StreamEvent::MessageDelta { stop_reason, usage, .. } => {
                self.stop = *stop_reason;
                self.usage.merge_max(usage);
            }
            StreamEvent::MessageStop => {
                self.start(out);
                self.block_stop(out);
                let (status, incomplete) = final_status(self.stop);
                let kind = if status == "incomplete" { "response.incomplete" } else { "response.completed" };
                let response = self.snapshot(status, incomplete, None);
                self.emit(out, kind, json!({"response": response}));
                self.done = true;
            }
            StreamEvent::Ping => {}
            StreamEvent::Error(err) => self.error(err, out),
        }
    }

    fn start(&mut self, out: &mut BytesMut) {
        if self.started {
            return;
        }
        self.started = true;
        if self.id.is_empty() {
            self.id = generated_id("resp");
        }
        let response = self.snapshot("in_progress", None, None);
        self.emit(out, "response.created", json!({"response": response}));
        let response = self.snapshot("in_progress", None, None);
        self.emit(out, "response.in_progress", json!({"response": response}));
    }

    fn snapshot(&self, status: &str, incomplete: Option<&str>, error: Option<Value>) -> Value {
        let usage = (status != "in_progress").then_some(&self.usage);
        response_object(
            &self.echo,
            State {
                id: &self.id,
                model: &self.model,
                created_at: self.created_at,
                status,
                output: self.output.clone(),
                usage,
                incomplete,
                error,
            },
        )
    }

    fn emit(&mut self, out: &mut BytesMut, kind: &str, mut body: Value) {
        body["type"] = json!(kind);
        body["sequence_number"] = json!(self.seq);
        self.seq += 1;
        let _ = write_json_event(out, Some(kind), &body);
    }

    fn block_start(&mut self, block: &BlockStart, out: &mut BytesMut) {
        self.block_stop(out);
        let n = self.output.len();
        let (item, open) = match block {
            BlockStart::Text => {
                let id = item_id("msg", &self.id, n);
                (message_item(&id, Vec::new(), "in_progress"), (id, Open::Text { text: String::new() }))
            }
            BlockStart::Thinking | BlockStart::RedactedThinking { .. } => {
                let id = item_id("rs", &self.id, n);
                let redacted = match block {
                    BlockStart::RedactedThinking { data } => Some(data.clone()),
                    _ => None,
                };
                let open = Open::Thinking { text: String::new(), signature: String::new(), part_open: false, redacted };
                (reasoning_item(&id, "", None), (id, open))
            }
            BlockStart::ToolUse { id: call_id, name } if self.echo.is_custom(name) => {
                let id = item_id("ctc", &self.id, n);
                let open = Open::Custom { call_id: call_id.clone(), name: name.clone(), args: String::new() };
                (self.echo.call_item(custom_call_item(&id, call_id, name, ""), name), (id, open))
            }
            BlockStart::ToolUse { id: call_id, name } => {
                let id = item_id("fc", &self.id, n);
                let open = Open::Function { call_id: call_id.clone(), name: name.clone(), args: String::new() };
                (self.echo.call_item(function_call_item(&id, call_id, name, "", "in_progress"), name), (id, open))
            }
        };
        self.emit(out, "response.output_item.added", json!({"output_index": n, "item": item}));
        if let Open::Text { .. } = open.1 {
            let body = json!({"item_id": open.0, "output_index": n, "content_index": 0, "part": text_part("")});
            self.emit(out, "response.content_part.added", body);
        }
        self.open = Some((n, open.0, open.1));
    }

    fn block_delta(&mut self, delta: &BlockDelta, out: &mut BytesMut) {
        let Some((n, id, mut open)) = self.open.take() else {
            return;
        };
        match (&mut open, delta) {
            (Open::Text { text }, BlockDelta::Text(d)) if !d.is_empty() => {
                text.push_str(d);
                let body = json!({"item_id": id, "output_index": n, "content_index": 0, "delta": d, "logprobs": []});
                self.emit(out, "response.output_text.delta", body);
            }
            (Open::Thinking { text, part_open, .. }, BlockDelta::Thinking(d)) if !d.is_empty() => {
                if !*part_open {
                    *part_open = true;
                    let part = json!({"type": "summary_text", "text": ""});
                    let body = json!({"item_id": id, "output_index": n, "summary_index": 0, "part": part});
                    self.emit(out, "response.reasoning_summary_part.added", body);
                }
                text.push_str(d);
                let body = json!({"item_id": id, "output_index": n, "summary_index": 0, "delta": d});
                self.emit(out, "response.reasoning_summary_text.delta", body);
            }
            (Open::Thinking { signature, .. }, BlockDelta::Signature(s)) => signature.push_str(s),
            (Open::Function { args, .. }, BlockDelta::InputJson(d)) if !d.is_empty() => {
                args.push_str(d);
                let body = json!({"item_id": id, "output_index": n, "delta": d});
                self.emit(out, "response.function_call_arguments.delta", body);
            }
            (Open::Custom { args, .. }, BlockDelta::InputJson(d)) => args.push_str(d),
            _ => {}
        }
        self.open = Some((n, id, open));
    }

    fn block_stop(&mut self, out: &mut BytesMut) {
        let Some((n, id, open)) = self.open.take() else {
            return;
        };
        let item = match open {
            Open::Text { text } => {
                let body = json!({"item_id": id, "output_index": n, "content_index": 0, "text": text, "logprobs": []});
                self.emit(out, "response.output_text.done", body);
                let body = json!({"item_id": id, "output_index": n, "content_index": 0, "part": text_part(&text)});
                self.emit(out, "response.content_part.done", body);
                message_item(&id, vec![text_part(&text)], "completed")
            }
            Open::Thinking { text, signature, part_open, redacted } => {
                if part_open {
                    let body = json!({"item_id": id, "output_index": n, "summary_index": 0, "text": text});
                    self.emit(out, "response.reasoning_summary_text.done", body);
                    let part = json!({"type": "summary_text", "text": text});
                    let body = json!({"item_id": id, "output_index": n, "summary_index": 0, "part": part});
                    self.emit(out, "response.reasoning_summary_part.done", body);
                }
                let encrypted = match redacted {
                    Some(data) => Some(format!("{REDACTED_PREFIX}{data}")),
                    None => (!signature.is_empty()).then_some(signature),
                };
                reasoning_item(&id, &text, encrypted.as_deref())
            }
            Open::Function { call_id, name, mut args } => {
                if args.is_empty() {
                    args.push_str("{}");
                    let body = json!({"item_id": id, "output_index": n, "delta": args});
                    self.emit(out, "response.function_call_arguments.delta", body);
                }
                let body =
                    json!({"item_id": id, "output_index": n, "name": self.echo.wire_name(&name).0, "arguments": args});
                self.emit(out, "response.function_call_arguments.done", body);
                self.echo.call_item(function_call_item(&id, &call_id, &name, &args, "completed"), &name)
            }
            Open::Custom { call_id, name, args } => {
                let input = match serde_json::from_str::<Value>(&args) {
                    Ok(v) => custom_input_text(&v),
                    Err(_) => args,
                };
                if !input.is_empty() {
                    let body = json!({"item_id": id, "output_index": n, "delta": input});
                    self.emit(out, "response.custom_tool_call_input.delta", body);
                }
                let body = json!({"item_id": id, "output_index": n, "input": input});
                self.emit(out, "response.custom_tool_call_input.done", body);
                self.echo.call_item(custom_call_item(&id, &call_id, &name, &input), &name)
            }
        };
        self.emit(out, "response.output_item.done", json!({"output_index": n, "item": item}));
        self.output.push(item);
    }

    fn error(&mut self, err: &ApiError, out: &mut BytesMut) {
        self.start(out);
        let (_, code) = type_and_code(err);
        let body = json!({"code": code, "message": err.message, "param": err.param});
        self.emit(out, "error", body);
        let response = self.snapshot("failed", None, Some(failed_error_object(err)));
        self.emit(out, "response.failed", json!({"response": response}));
        self.done = true;
    }
}
