//! IR stream events -> `chat.completion.chunk` SSE for an OpenAI caller.
//!
//! Thinking goes out as `reasoning_content` deltas (the de-facto extension DeepSeek, vLLM and
//! most clients understand); signatures and redacted thinking have no Chat form and are skipped.
//! Tool calls are numbered 0.. in the order their blocks open. The stream ends with the usage
//! chunk (when the caller asked for `stream_options.include_usage`) and `data: [DONE]`, or with a
//! `data: {"error":...}` chunk.
//!
//! Chunks are written straight into the output buffer: the part of every chunk that does not
//! change within a stream (`created`, `id`, `model`, `object`) is serialized once, and only the
//! delta is serialized per chunk. Keys come out in sorted order, as `serde_json::Value` (without
//! `preserve_order`) writes them, so the bytes are those of the `Value` encoding.

use std::collections::HashMap;

use bytes::{BufMut, BytesMut};
use serde::Serialize;

use crate::ir::{self, BlockDelta, BlockStart, StreamEvent, Usage};
use crate::jsonwrite::string;
use crate::sse::{write_event, write_json_event};

use super::error::error_object;
use super::wire::{OutUsage, finish_reason, now_secs};

/// Encodes one caller stream.
#[derive(Debug)]
pub struct StreamEncoder {
    include_usage: bool,
    id: String,
    model: String,
    created: u64,
    /// `"created":…,"id":…,"model":…,"object":"chat.completion.chunk"}`: the end of every chunk
    /// (rebuilt when the message start sets the id and model).
    tail: Vec<u8>,
    /// IR block index -> tool-call index, for tool_use blocks.
    tool_index: HashMap<usize, usize>,
    tools: usize,
    usage: Usage,
    done: bool,
}

/// A `delta` object; written by hand ([`Delta::write`]) in sorted key order, absent fields
/// skipped: the bytes `serde_json::Value` would write, without serde's per-field dispatch on
/// every chunk.
#[derive(Default)]
struct Delta<'a> {
    content: Option<&'a str>,
    reasoning_content: Option<&'a str>,
    role: Option<&'a str>,
    tool_calls: Option<ToolCall<'a>>,
}

struct ToolCall<'a> {
    /// `function.arguments`.
    arguments: &'a str,
    /// `function.name`.
    name: Option<&'a str>,
    id: Option<&'a str>,
    index: usize,
    /// `type`.
    kind: Option<&'a str>,
}

impl Delta<'_> {
    fn write(&self, out: &mut BytesMut) {
        // `{` before the first member, `,` before the others.
        let mut sep = b'{';
        let mut key = |out: &mut BytesMut, key: &[u8]| {
            out.put_u8(std::mem::replace(&mut sep, b','));
            out.put_u8(b'"');
            out.put_slice(key);
            out.put_slice(b"\":");
        };
        for (name, value) in
            [(&b"content"[..], self.content), (b"reasoning_content", self.reasoning_content), (b"role", self.role)]
        {
            if let Some(v) = value {
                key(out, name);
                string(out, v);
            }
        }
        if let Some(t) = &self.tool_calls {
            key(out, b"tool_calls");
            out.put_slice(b"[{\"function\":{\"arguments\":");
            string(out, t.arguments);
            if let Some(n) = t.name {
                out.put_slice(b",\"name\":");
                string(out, n);
            }
            out.put_u8(b'}');
            if let Some(id) = t.id {
                out.put_slice(b",\"id\":");
                string(out, id);
            }
            out.put_slice(b",\"index\":");
            out.put_slice(itoa::Buffer::new().format(t.index).as_bytes());
            if let Some(k) = t.kind {
                out.put_slice(b",\"type\":");
                string(out, k);
            }
            out.put_slice(b"}]");
        }
        if sep == b'{' {
            out.put_u8(b'{');
        }
        out.put_u8(b'}');
    }
}

impl StreamEncoder {
    pub fn new(req: &ir::Request) -> Self {
        let mut e = StreamEncoder {
            include_usage: req.stream_include_usage,
            id: String::new(),
            model: req.model.clone(),
            created: now_secs(),
            tail: Vec::new(),
            tool_index: HashMap::new(),
            tools: 0,
            usage: Usage::default(),
            done: false,
        };
        e.build_tail();
        e
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
                self.build_tail();
                self.usage = *usage;
                self.chunk(out, &Delta { role: Some("assistant"), content: Some(""), ..Delta::default() }, None);
            }
            StreamEvent::BlockStart { index, block: BlockStart::ToolUse { id, name } } => {
                let k = self.tools;
                self.tools += 1;
                self.tool_index.insert(*index, k);
                let call = ToolCall { arguments: "", name: Some(name), id: Some(id), index: k, kind: Some("function") };
                self.chunk(out, &Delta { tool_calls: Some(call), ..Delta::default() }, None);
            }
            StreamEvent::BlockStart { .. } | StreamEvent::BlockStop { .. } | StreamEvent::Ping => {}
            StreamEvent::BlockDelta { index, delta } => match delta {
                BlockDelta::Text(t) if !t.is_empty() => {
                    self.chunk(out, &Delta { content: Some(t), ..Delta::default() }, None);
                }
                BlockDelta::Thinking(t) if !t.is_empty() => {
                    self.chunk(out, &Delta { reasoning_content: Some(t), ..Delta::default() }, None);
                }
                BlockDelta::InputJson(args) if !args.is_empty() => {
                    if let Some(k) = self.tool_index.get(index).copied() {
                        let call = ToolCall { arguments: args, name: None, id: None, index: k, kind: None };
                        self.chunk(out, &Delta { tool_calls: Some(call), ..Delta::default() }, None);
                    }
                }
                _ => {}
            },
            StreamEvent::MessageDelta { stop_reason, usage, .. } => {
                self.usage.merge_max(usage);
                let finish = finish_reason(stop_reason.unwrap_or(ir::StopReason::EndTurn));
                self.chunk(out, &Delta::default(), Some(finish));
            }
            StreamEvent::MessageStop => {
                if self.include_usage {
                    self.usage_chunk(out);
                }
                write_event(out, None, "[DONE]");
                self.done = true;
            }
            StreamEvent::Error(err) => {
                let _ = write_json_event(out, None, &error_object(err));
                self.done = true;
            }
        }
    }

    fn build_tail(&mut self) {
        // `"created":` and its digits, the three other names and the object's type: 72 bytes.
        let mut t = Vec::with_capacity(96 + self.id.len() + self.model.len());
        t.extend_from_slice(b"\"created\":");
        t.extend_from_slice(self.created.to_string().as_bytes());
        t.extend_from_slice(b",\"id\":");
        string(&mut t, &self.id);
        t.extend_from_slice(b",\"model\":");
        string(&mut t, &self.model);
        t.extend_from_slice(b",\"object\":\"chat.completion.chunk\"");
        self.tail = t;
    }

    /// One chunk: `{"choices":[{"delta":…,"finish_reason":…,"index":0,"logprobs":null}],<tail>}`.
    fn chunk(&self, out: &mut BytesMut, delta: &Delta<'_>, finish: Option<&str>) {
        out.reserve(96 + self.tail.len());
        out.put_slice(b"data: {\"choices\":[{\"delta\":");
        delta.write(out);
        out.put_slice(b",\"finish_reason\":");
        match finish {
            Some(f) => {
                out.put_u8(b'"');
                out.put_slice(f.as_bytes());
                out.put_u8(b'"');
            }
            None => out.put_slice(b"null"),
        }
        out.put_slice(b",\"index\":0,\"logprobs\":null}],");
        out.put_slice(&self.tail);
        out.put_slice(b"}\n\n");
    }

    /// The usage chunk: `{"choices":[],<tail>,"usage":{…}}`.
    fn usage_chunk(&self, out: &mut BytesMut) {
        let usage = OutUsage::from_ir(&self.usage);
        out.put_slice(b"data: {\"choices\":[],");
        out.put_slice(&self.tail);
        out.put_slice(b",\"usage\":");
        put_json(out, &usage);
        out.put_slice(b"}\n\n");
    }
}

/// Serializes `v` into `out`. Serializing these plain structs into memory cannot fail.
fn put_json<T: Serialize>(out: &mut BytesMut, v: &T) {
    let _ = crate::jsonwrite::write(out, v);
}
