//! Anthropic Messages stream event wire types: what an upstream sends (`In*`) and what amux sends
//! to an Anthropic caller (`Out*`).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::{ErrorDetail, OutResponse, WireUsage};
use crate::jsonscan::Reader;

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

impl InStartMessage {
    /// What the derived code reads, by [`Reader`]: `id`, `model` and `usage`, the rest (the
    /// empty `content`, `role`, ...) stepped over; `None` where serde might answer otherwise.
    fn read(r: &mut Reader<'_>) -> Option<Self> {
        let mut m = InStartMessage { id: String::new(), model: String::new(), usage: WireUsage::default() };
        r.fields(["id", "model", "usage"], |r, i| {
            match i {
                0 => m.id = r.str()?.into_owned(),
                1 => m.model = r.str()?.into_owned(),
                _ => m.usage = super::response_fast::usage(r)?,
            }
            Some(())
        })?;
        Some(m)
    }
}

impl InMessageDeltaBody {
    /// What the derived code reads, by [`Reader`] (`null` and absent are both `None`).
    fn read(r: &mut Reader<'_>) -> Option<Self> {
        let [stop_reason, stop_sequence] = r.each(["stop_reason", "stop_sequence"], Reader::opt_string)?;
        Some(InMessageDeltaBody { stop_reason, stop_sequence })
    }
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

/// An upstream event read by the decoder's fast path ([`FastEvent::read`]): its members taken
/// straight from the text with [`Reader`], without serde's buffering of an internally tagged
/// enum (which copies every event into a tree first). Each nested value the general path reads
/// with serde is read with the same type here, from its own text.
#[derive(Debug)]
pub enum FastEvent<'a> {
    /// A `content_block_delta`, its texts borrowed, for the decoder's own delta path.
    Delta { index: usize, delta: FastDelta<'a> },
    /// A `content_block_start` of a block the decoder translates, read into its typed form
    /// without the general path's `Value` (other blocks come as an `Event`).
    Start { index: usize, block: InStartBlock },
    /// Any other event the fast path takes, as the general path parses it.
    Event(InEvent),
}

/// The `delta` of a `content_block_delta`: its type and whichever text member it carries
/// (`null` reads as absent, as the general path's `Option`s do).
#[derive(Debug, Default)]
pub struct FastDelta<'a> {
    pub kind: Option<Cow<'a, str>>,
    pub text: Option<Cow<'a, str>>,
    pub thinking: Option<Cow<'a, str>>,
    pub signature: Option<Cow<'a, str>>,
    pub partial_json: Option<Cow<'a, str>>,
}

impl<'a> FastEvent<'a> {
    /// `None` leaves the event to the general path, [`InEvent`], which answers it exactly as
    /// before: a missing or repeated member, a value of another kind, anything [`Reader`] is
    /// unsure of, an `error` or unknown event, or a `type` that comes after a member it says how
    /// to read (`delta`, `message`, `content_block`, `usage`; Anthropic always sends it first).
    pub fn read(text: &'a str) -> Option<Self> {
        Self::read_compact(text).or_else(|| Self::read_members(text))
    }

    /// [`Self::read`] member by member, whatever the layout.
    pub(crate) fn read_members(text: &'a str) -> Option<Self> {
        let mut r = Reader::new(text);
        let mut kind: Option<Cow<'a, str>> = None;
        let mut index = None;
        let mut delta = None;
        let mut message_delta = None;
        let (mut message, mut block, mut usage) = (None, None, None);
        r.fields(["type", "index", "delta", "message", "content_block", "usage"], |r, i| {
            let k = kind.as_deref();
            match i {
                0 => kind = Some(r.str()?),
                1 => index = Some(usize::try_from(r.u64()?).ok()?),
                2 if k? == "content_block_delta" => delta = Some(FastDelta::read(r)?),
                2 if k? == "message_delta" => message_delta = Some(InMessageDeltaBody::read(r)?),
                3 if k? == "message_start" => message = Some(InStartMessage::read(r)?),
                4 if k? == "content_block_start" => block = Some(StartRead::read(r)?),
                5 if k? == "message_delta" => usage = Some(super::response_fast::usage(r)?),
                _ => r.skip()?,
            }
            Some(())
        })?;
        r.end()?;
        Some(FastEvent::Event(match &*kind? {
            "content_block_delta" => return Some(FastEvent::Delta { index: index?, delta: delta? }),
            "message_start" => InEvent::MessageStart { message: message? },
            "content_block_start" => match block? {
                StartRead::Typed(block) => return Some(FastEvent::Start { index: index?, block }),
                StartRead::Other(content_block) => InEvent::ContentBlockStart { index: index?, content_block },
            },
            "content_block_stop" => InEvent::ContentBlockStop { index: index? },
            "message_delta" => InEvent::MessageDelta { delta: message_delta?, usage: usage.unwrap_or_default() },
            "message_stop" => InEvent::MessageStop,
            "ping" => InEvent::Ping,
            _ => return None,
        }))
    }

    /// The common events written exactly as Anthropic writes them (compact, members in its
    /// order): matched as text, the delta's string read by [`Reader`]. Anything else, however
    /// slight the difference, is left to [`Self::read`]'s member by member reading.
    pub(crate) fn read_compact(text: &'a str) -> Option<Self> {
        let mut r = Reader::new(text);
        if r.lit(r#"{"type":"content_block_delta","index":"#) {
            let index = usize::try_from(r.u64()?).ok()?;
            if !r.lit(r#","delta":{"type":""#) {
                return None;
            }
            let n = COMPACT_DELTAS.iter().position(|(_, head)| r.lit(head))?;
            let value = Some(r.str()?);
            if !r.lit("}}") {
                return None;
            }
            r.end()?;
            let mut delta = FastDelta { kind: Some(Cow::Borrowed(COMPACT_DELTAS[n].0)), ..FastDelta::default() };
            match n {
                0 => delta.text = value,
                1 => delta.partial_json = value,
                2 => delta.thinking = value,
                _ => delta.signature = value,
            }
            return Some(FastEvent::Delta { index, delta });
        }
        if r.lit(r#"{"type":"content_block_stop","index":"#) {
            let index = usize::try_from(r.u64()?).ok()?;
            return (r.lit("}") && r.end().is_some()).then_some(FastEvent::Event(InEvent::ContentBlockStop { index }));
        }
        match text {
            r#"{"type":"ping"}"# => Some(FastEvent::Event(InEvent::Ping)),
            r#"{"type":"message_stop"}"# => Some(FastEvent::Event(InEvent::MessageStop)),
            _ => None,
        }
    }
}

/// A `content_block_start`'s block as the fast path reads it.
enum StartRead {
    /// Text, thinking, redacted thinking or tool use, as the general path would type it.
    Typed(InStartBlock),
    /// Any other block (a server tool's, an unknown type), as the general path's `Value`.
    Other(Value),
}

impl StartRead {
    /// The members any of the four block types has, as an answer's blocks are read
    /// (`response_fast::block_members`); a value of another kind than the derived code reads
    /// (or `null` where it wants a string) gives `None`.
    fn read(r: &mut Reader<'_>) -> Option<StartRead> {
        let start = r.clone();
        let owned = |v: Option<Cow<'_, str>>| v.map(Cow::into_owned);
        let block = super::response_fast::block_members(r).and_then(|(s, input)| {
            let [kind, text, thinking, signature, data, id, name] = s;
            Self::typed(kind?.as_ref(), [text, thinking, signature, data, id, name].map(owned), input)
        });
        match block {
            Some(b) => Some(StartRead::Typed(b)),
            None => {
                // Anything else is read as the general path reads it.
                *r = start;
                r.de().map(StartRead::Other)
            }
        }
    }

    /// The block of type `kind` from its members (`text` to `name` of the answer's blocks).
    fn typed(kind: &str, s: [Option<String>; 6], input: Option<Value>) -> Option<InStartBlock> {
        let [text, thinking, signature, data, id, name] = s;
        match kind {
            "text" => Some(InStartBlock::Text { text: text.unwrap_or_default() }),
            "thinking" => Some(InStartBlock::Thinking { thinking: thinking.unwrap_or_default(), signature }),
            "redacted_thinking" => Some(InStartBlock::RedactedThinking { data: data? }),
            "tool_use" => Some(InStartBlock::ToolUse { id: id?, name: name?, input: input.unwrap_or(Value::Null) }),
            _ => None,
        }
    }
}

/// The delta types [`FastEvent::read_compact`] matches, each with the text from its name to its
/// value's opening quote.
const COMPACT_DELTAS: [(&str, &str); 4] = [
    ("text_delta", r#"text_delta","text":"#),
    ("input_json_delta", r#"input_json_delta","partial_json":"#),
    ("thinking_delta", r#"thinking_delta","thinking":"#),
    ("signature_delta", r#"signature_delta","signature":"#),
];

impl<'a> FastDelta<'a> {
    fn read(r: &mut Reader<'a>) -> Option<Self> {
        let mut d = FastDelta::default();
        r.fields(["type", "text", "thinking", "signature", "partial_json"], |r, i| {
            match i {
                0 => d.kind = Some(r.str()?),
                1 => d.text = r.opt_str()?,
                2 => d.thinking = r.opt_str()?,
                3 => d.signature = r.opt_str()?,
                _ => d.partial_json = r.opt_str()?,
            }
            Some(())
        })?;
        Some(d)
    }
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
    MessageStart {
        message: OutResponse<'a>,
    },
    /// This and the other test-only variants are written by hand (`stream_encode`); these forms
    /// are what the tests hold the hand-written bytes to.
    #[cfg(test)]
    ContentBlockStart {
        index: usize,
        content_block: OutStartBlock<'a>,
    },
    #[cfg(test)]
    ContentBlockDelta {
        index: usize,
        delta: OutDelta<'a>,
    },
    #[cfg(test)]
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: OutMessageDeltaBody<'a>,
        usage: WireUsage,
    },
    #[cfg(test)]
    MessageStop,
    #[cfg(test)]
    Ping,
    Error {
        error: ErrorDetail,
    },
}

impl OutEvent<'_> {
    /// The SSE `event:` name, equal to the `type` field.
    pub fn name(&self) -> &'static str {
        match self {
            OutEvent::MessageStart { .. } => "message_start",
            #[cfg(test)]
            OutEvent::ContentBlockStart { .. } => "content_block_start",
            #[cfg(test)]
            OutEvent::ContentBlockDelta { .. } => "content_block_delta",
            #[cfg(test)]
            OutEvent::ContentBlockStop { .. } => "content_block_stop",
            OutEvent::MessageDelta { .. } => "message_delta",
            #[cfg(test)]
            OutEvent::MessageStop => "message_stop",
            #[cfg(test)]
            OutEvent::Ping => "ping",
            OutEvent::Error { .. } => "error",
        }
    }
}

#[cfg(test)]
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutStartBlock<'a> {
    Text { text: &'static str },
    Thinking { thinking: &'static str, signature: &'static str },
    RedactedThinking { data: &'a str },
    ToolUse { id: &'a str, name: &'a str, input: serde_json::Map<String, Value> },
}

/// Variant names mirror the wire `type` values (`text_delta`, ...).
#[cfg(test)]
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
