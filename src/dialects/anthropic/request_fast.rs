//! The fast path of `decode_request`: the body read in one pass into borrowed, closed wire types
//! (unknown fields denied, blocks dispatched on a leading `type`), by hand where it can
//! (`request_fast/read.rs`), else by serde's derived code for these types.
//!
//! It takes only requests whose translation involves nothing unusual: no unknown fields or block
//! types, no server tools, nothing recorded as unsupported from the messages, no error. For any
//! other body it returns `None` and `decode_request` runs the general decoder, which reports
//! errors and unsupported entries by path. Where it succeeds its result is the general decoder's
//! (tests hold the two to that on every fixture).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::request_decode::{Decoder, cache, tool_choice};
use super::wire::{InFormat, InOutputConfig, InSource, InThinking, InToolChoice, is_default};
use crate::ir::{self, Block, MediaSource, Message, Role, Schema, SystemBlock, Tool};

mod read;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body<'a> {
    #[serde(default)]
    model: String,
    #[serde(borrow)]
    messages: Vec<Msg<'a>>,
    system: Option<Content>,
    max_tokens: Option<u64>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    top_k: Option<u64>,
    stop_sequences: Option<Vec<String>>,
    stream: Option<bool>,
    metadata: Option<Map<String, Value>>,
    tools: Option<Vec<FastTool>>,
    tool_choice: Option<InToolChoice>,
    thinking: Option<InThinking>,
    output_config: Option<InOutputConfig>,
    output_format: Option<InFormat>,
    // Advisory (`crate::policy`): recorded by name, dropped and reported when translated.
    context_management: Option<Value>,
    service_tier: Option<Value>,
    cache_control: Option<Value>,
    inference_geo: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Msg<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    content: Content,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastTool {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: String,
    description: Option<String>,
    input_schema: Schema,
    strict: Option<bool>,
    cache_control: Option<Value>,
    /// Advisory streaming hint (`crate::policy`).
    eager_input_streaming: Option<Value>,
}

/// A string or an array of blocks.
enum Content {
    Text(String),
    Blocks(Vec<FastBlock>),
}

enum FastBlock {
    Text(TextBlock),
    Image(MediaBlock),
    Document(MediaBlock),
    ToolUse(ToolUseBlock),
    ToolResult(ToolResultBlock),
    Thinking(ThinkingBlock),
    RedactedThinking(RedactedBlock),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextBlock {
    text: String,
    cache_control: Option<Value>,
    citations: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MediaBlock {
    source: InSource,
    cache_control: Option<Value>,
    title: Option<String>,
    context: Option<Value>,
    citations: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolUseBlock {
    id: String,
    name: String,
    #[serde(default)]
    input: Value,
    /// Advisory: recorded by path in `decode_fast`.
    cache_control: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolResultBlock {
    tool_use_id: String,
    content: Option<Content>,
    #[serde(default)]
    is_error: Option<bool>,
    cache_control: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThinkingBlock {
    thinking: String,
    signature: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedactedBlock {
    data: String,
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ContentVisitor)
    }
}

struct ContentVisitor;

impl<'de> Visitor<'de> for ContentVisitor {
    type Value = Content;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or an array of content blocks")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Content, E> {
        Ok(Content::Text(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Content, E> {
        Ok(Content::Text(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
        let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(b) = seq.next_element()? {
            blocks.push(b);
        }
        Ok(Content::Blocks(blocks))
    }
}

impl<'de> Deserialize<'de> for FastBlock {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(BlockVisitor)
    }
}

/// Reads a block whose first key is `type`, then the rest of it as that type's fields.
struct BlockVisitor;

impl<'de> Visitor<'de> for BlockVisitor {
    type Value = FastBlock;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a content block with a leading type")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FastBlock, A::Error> {
        if map.next_key::<Cow<'de, str>>()?.as_deref() != Some("type") {
            return Err(de::Error::custom("type is not the first key"));
        }
        let kind: Cow<'de, str> = map.next_value()?;
        let rest = de::value::MapAccessDeserializer::new(map);
        Ok(match &*kind {
            "text" => FastBlock::Text(TextBlock::deserialize(rest)?),
            "image" => FastBlock::Image(MediaBlock::deserialize(rest)?),
            "document" => FastBlock::Document(MediaBlock::deserialize(rest)?),
            "tool_use" => FastBlock::ToolUse(ToolUseBlock::deserialize(rest)?),
            "tool_result" => FastBlock::ToolResult(ToolResultBlock::deserialize(rest)?),
            "thinking" => FastBlock::Thinking(ThinkingBlock::deserialize(rest)?),
            "redacted_thinking" => FastBlock::RedactedThinking(RedactedBlock::deserialize(rest)?),
            _ => return Err(de::Error::custom("unknown block type")),
        })
    }
}

/// Decodes `body` when it takes the fast path (see the module documentation).
pub(crate) fn decode_fast(body: &[u8]) -> Option<ir::Request> {
    convert(crate::dialects::fast_wire(body, Body::read, None)?)
}

/// [`decode_fast`] with the body read only by the reader, or only by the derived code (`None`
/// where that one does not read it): the tests hold the two to the same answers.
pub(super) fn decode_fast_by(body: &[u8], reader: bool) -> Option<ir::Request> {
    convert(crate::dialects::fast_wire(body, Body::read, Some(reader))?)
}

/// For the fuzz target: whether the reader, where it reads `body`, reads what the derived code
/// reads.
#[doc(hidden)]
pub fn reader_agrees(body: &[u8]) -> bool {
    crate::dialects::reader_agrees(|reader| decode_fast_by(body, reader))
}

/// The IR request of a wire body the fast path takes.
fn convert(w: Body<'_>) -> Option<ir::Request> {
    let mut req = ir::Request {
        model: w.model,
        max_tokens: w.max_tokens,
        temperature: w.temperature,
        top_p: w.top_p,
        top_k: w.top_k,
        stop_sequences: w.stop_sequences.unwrap_or_default(),
        stream: w.stream.unwrap_or(false),
        ..ir::Request::default()
    };
    if let Some(system) = w.system {
        req.system = system_blocks(system)?;
    }
    // What the IR cannot hold goes through the general decoder's own code.
    let mut d = Decoder::default();
    let mut leading = true;
    for (i, m) in w.messages.into_iter().enumerate() {
        let role = match &*m.role {
            "system" if leading => {
                req.system.append(&mut system_blocks(m.content)?);
                continue;
            }
            "system" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            _ => return None,
        };
        leading = false;
        // Cache hints on tool_use blocks have no IR place: advisory, recorded by path.
        if let Content::Blocks(items) = &m.content {
            for (j, b) in items.iter().enumerate() {
                if let FastBlock::ToolUse(t) = b {
                    d.not_set(t.cache_control.clone(), &format!("messages[{i}].content[{j}].cache_control"));
                }
            }
        }
        req.messages.push(Message { role, content: blocks(m.content, false)? });
    }
    if let Some(mut m) = w.metadata {
        match m.remove("user_id") {
            Some(Value::String(s)) => req.user = Some(s),
            None | Some(Value::Null) => {}
            Some(_) => return None,
        }
        d.extras(m, "metadata");
    }
    let advisory = [
        ("context_management", w.context_management),
        ("service_tier", w.service_tier),
        ("cache_control", w.cache_control),
        ("inference_geo", w.inference_geo),
    ];
    for (name, v) in advisory {
        d.not_set(v, name);
    }
    for (i, t) in w.tools.unwrap_or_default().into_iter().enumerate() {
        if t.kind.as_deref().is_some_and(|k| k != "custom") {
            return None; // a server tool
        }
        d.not_set(t.eager_input_streaming, &format!("tools[{i}].eager_input_streaming"));
        req.tools.push(Tool {
            name: t.name,
            description: t.description,
            input_schema: t.input_schema,
            strict: t.strict,
            cache_control: cache(t.cache_control),
            custom: false,
            namespace: None,
        });
    }
    if let Some(tc) = w.tool_choice {
        let (choice, parallel) = tool_choice(tc).ok()?;
        req.tool_choice = Some(choice);
        req.parallel_tool_calls = parallel;
    }
    if let Some(t) = w.thinking {
        req.reasoning = Some(d.thinking(t).ok()?);
    }
    if let Some(oc) = w.output_config {
        d.output_config(oc, &mut req).ok()?;
    }
    if let Some(f) = w.output_format {
        req.response_format = Some(d.format(f.kind, f.schema, "output_format").ok()?);
    }
    req.unsupported = d.unsupported;
    Some(req)
}

fn system_blocks(c: Content) -> Option<Vec<SystemBlock>> {
    blocks(c, false)?
        .into_iter()
        .map(|b| match b {
            Block::Text { text, cache_control } => Some(SystemBlock { text, cache_control }),
            _ => None,
        })
        .collect()
}

/// A content value as blocks; inside a tool result (`nested`) only text, image and document.
fn blocks(c: Content, nested: bool) -> Option<Vec<Block>> {
    match c {
        Content::Text(text) => Some(vec![Block::Text { text, cache_control: None }]),
        Content::Blocks(items) => items.into_iter().map(|b| block(b, nested)).collect(),
    }
}

/// Something the general decoder records as unsupported.
fn set(v: &Option<Value>) -> bool {
    v.as_ref().is_some_and(|v| !is_default(v))
}

fn block(b: FastBlock, nested: bool) -> Option<Block> {
    Some(match b {
        FastBlock::Text(t) => {
            if set(&t.citations) {
                return None;
            }
            Block::Text { text: t.text, cache_control: cache(t.cache_control) }
        }
        FastBlock::Image(m) => {
            if m.title.is_some() || matches!(m.source, InSource::Text { .. }) || !plain(&m) {
                return None;
            }
            Block::Image { source: source(m.source), cache_control: cache(m.cache_control) }
        }
        FastBlock::Document(m) => {
            if !plain(&m) {
                return None;
            }
            Block::Document { source: source(m.source), title: m.title, cache_control: cache(m.cache_control) }
        }
        _ if nested => return None,
        FastBlock::ToolUse(t) => Block::ToolUse {
            id: t.id,
            name: t.name,
            input: match t.input {
                Value::Null => Value::Object(Map::new()),
                other => other,
            },
        },
        FastBlock::ToolResult(t) => Block::ToolResult {
            tool_use_id: t.tool_use_id,
            content: match t.content {
                None => Vec::new(),
                Some(c) => blocks(c, true)?,
            },
            is_error: t.is_error.unwrap_or(false),
            cache_control: cache(t.cache_control),
        },
        FastBlock::Thinking(t) => Block::Thinking { thinking: t.thinking, signature: t.signature },
        FastBlock::RedactedThinking(r) => Block::RedactedThinking { data: r.data },
    })
}

/// A media block without context or citations (which the general decoder records as unsupported).
fn plain(m: &MediaBlock) -> bool {
    !set(&m.context) && !set(&m.citations)
}

fn source(s: InSource) -> MediaSource {
    match s {
        InSource::Base64 { media_type, data } => MediaSource::Base64 { media_type, data },
        InSource::Url { url } => MediaSource::Url { url },
        InSource::Text { media_type, data } => MediaSource::Text { media_type, data },
        InSource::File { file_id } => MediaSource::FileId { file_id },
    }
}
