//! Anthropic Messages stream event wire types: what an upstream sends (`In*`) and what amux sends
//! to an Anthropic caller (`Out*`).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::wire::{ErrorDetail, OutResponse, WireUsage};

/// One upstream stream event, by its `type`. Unknown types are ignored by the decoder, as
/// Anthropic's versioning policy asks of clients.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InEvent {
    MessageStart {
        message: InStartMessage,
    },
    ContentBlockStart {
        index: usize,
        /// Dispatched by hand so that an unknown block type can be named.
        content_block: Value,
    },
    ContentBlockDelta {
        index: usize,
        /// Dispatched by hand so that an unknown delta type can be named.
        delta: Value,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: InMessageDeltaBody,
        #[serde(default)]
        usage: WireUsage,
    },
    MessageStop,
    Ping,
    Error {
        error: ErrorDetail,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
pub struct InStartMessage {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub usage: WireUsage,
}

#[derive(Debug, Deserialize)]
pub struct InMessageDeltaBody {
    pub stop_reason: Option<String>,
    pub stop_sequence: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InStartBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
        #[serde(default)]
        signature: Option<String>,
    },
    RedactedThinking {
        data: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
}

/// Variant names mirror the wire `type` values (`text_delta`, ...).
/// A `content_block_delta` event read in one pass, its texts borrowed where they have no
/// escapes: the decoder's fast path for the bulk of a stream. Anything it cannot take (a missing
/// or null text, a repeated key) goes to the general path, [`InEvent`], for the error.
#[derive(Debug, Deserialize)]
pub struct FastDeltaEvent<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    pub index: usize,
    #[serde(borrow)]
    pub delta: FastDelta<'a>,
}

/// The `delta` of a [`FastDeltaEvent`]: its type and whichever text field it carries.
#[derive(Debug, Deserialize)]
pub struct FastDelta<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub partial_json: Option<Cow<'a, str>>,
}

#[allow(clippy::enum_variant_names)]
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InDelta {
    TextDelta {
        text: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    SignatureDelta {
        signature: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    /// Citations attached to text; not carried by the IR.
    CitationsDelta,
}

/// One stream event as amux sends it to an Anthropic caller.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutEvent<'a> {
    MessageStart { message: OutResponse<'a> },
    ContentBlockStart { index: usize, content_block: OutStartBlock<'a> },
    ContentBlockDelta { index: usize, delta: OutDelta<'a> },
    ContentBlockStop { index: usize },
    MessageDelta { delta: OutMessageDeltaBody<'a>, usage: WireUsage },
    MessageStop,
    Ping,
    Error { error: ErrorDetail },
}

impl OutEvent<'_> {
    /// The SSE `event:` name, equal to the `type` field.
    pub fn name(&self) -> &'static str {
        match self {
            OutEvent::MessageStart { .. } => "message_start",
            OutEvent::ContentBlockStart { .. } => "content_block_start",
            OutEvent::ContentBlockDelta { .. } => "content_block_delta",
            OutEvent::ContentBlockStop { .. } => "content_block_stop",
            OutEvent::MessageDelta { .. } => "message_delta",
            OutEvent::MessageStop => "message_stop",
            OutEvent::Ping => "ping",
            OutEvent::Error { .. } => "error",
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutStartBlock<'a> {
    Text { text: &'static str },
    Thinking { thinking: &'static str, signature: &'static str },
    RedactedThinking { data: &'a str },
    ToolUse { id: &'a str, name: &'a str, input: Map<String, Value> },
}

/// Variant names mirror the wire `type` values (`text_delta`, ...).
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutDelta<'a> {
    TextDelta { text: &'a str },
    ThinkingDelta { thinking: &'a str },
    SignatureDelta { signature: &'a str },
    InputJsonDelta { partial_json: &'a str },
}

#[derive(Debug, Serialize)]
pub struct OutMessageDeltaBody<'a> {
    pub stop_reason: Option<&'static str>,
    pub stop_sequence: Option<&'a str>,
}
