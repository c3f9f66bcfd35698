//! The fast path of `decode_request`: the body deserialized in one pass into borrowed, closed
//! wire types instead of a `Value` tree walked by hand.
//!
//! It takes only requests whose translation involves nothing unusual: no unknown or unsupported
//! fields, no non-default values of the fields accepted at their defaults, no part or role the
//! general decoder records as unsupported, no error. For any other body it returns `None` and
//! `decode_request` runs the general decoder, which reports errors and unsupported entries by
//! path. Where it succeeds its result is the general decoder's (tests hold the two to that).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::dialects::is_default;
use serde_json::{Map, Value};

use super::request_decode::{
    accepted_default, decode_response_format, decode_tool_choice, empty_parameters, reasoning,
};
use super::request_messages::{arguments, file_part, image_part};
use crate::ir::{self, Block, Message, Role, Schema, SystemBlock, Tool};

mod read;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Body<'a> {
    model: Option<String>,
    #[serde(borrow)]
    messages: Option<Vec<Msg<'a>>>,
    max_tokens: Option<u64>,
    max_completion_tokens: Option<u64>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    stop: Option<Stop>,
    stream: Option<bool>,
    stream_options: Option<StreamOptions>,
    tools: Option<Vec<FastTool<'a>>>,
    tool_choice: Option<Value>,
    parallel_tool_calls: Option<bool>,
    #[serde(borrow)]
    reasoning_effort: Option<Cow<'a, str>>,
    response_format: Option<Value>,
    user: Option<String>,
    // Accepted at their defaults only.
    n: Option<Value>,
    logprobs: Option<Value>,
    top_logprobs: Option<Value>,
    presence_penalty: Option<Value>,
    frequency_penalty: Option<Value>,
    logit_bias: Option<Value>,
    functions: Option<Value>,
    modalities: Option<Value>,
    // Advisory (`crate::policy`): recorded by name, dropped and reported when translated.
    seed: Option<Value>,
    store: Option<Value>,
    metadata: Option<Value>,
    service_tier: Option<Value>,
    prompt_cache_key: Option<Value>,
    safety_identifier: Option<Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamOptions {
    include_usage: Option<bool>,
    include_obfuscation: Option<Value>,
}

/// A tool; keys the general decoder does not read are ignored here too.
#[derive(Deserialize)]
struct FastTool<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    function: FastFunction,
}

#[derive(Deserialize)]
struct FastFunction {
    name: String,
    description: Option<String>,
    parameters: Option<Schema>,
    strict: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Msg<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    content: Option<Content>,
    tool_calls: Option<Vec<FastCall<'a>>>,
    tool_call_id: Option<String>,
    reasoning_content: Option<String>,
    reasoning: Option<String>,
    refusal: Option<String>,
}

/// A tool call of an assistant message; other keys are ignored, as by the general decoder.
#[derive(Deserialize)]
struct FastCall<'a> {
    id: String,
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    function: FastCallFunction,
}

#[derive(Deserialize)]
struct FastCallFunction {
    name: String,
    arguments: String,
}

/// A message's content: a string or an array of parts.
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

/// A content part, dispatched on a leading `type`.
enum Part {
    Text(String),
    Refusal(String),
    /// `image_url` or `file`, read by the general decoder's code (the map lacks `type`).
    Media {
        kind: MediaKind,
        part: Value,
    },
}

#[derive(Clone, Copy)]
enum MediaKind {
    Image,
    File,
}

/// Closed: a part with anything else (e.g. a `cache_control` hint) takes the general decoder.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextPart {
    text: String,
    #[serde(rename = "type")]
    again: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct RefusalPart {
    refusal: String,
    #[serde(rename = "type")]
    again: Option<IgnoredAny>,
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
        f.write_str("a string or an array of parts")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Content, E> {
        Ok(Content::Text(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Content, E> {
        Ok(Content::Text(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
        let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(p) = seq.next_element()? {
            parts.push(p);
        }
        Ok(Content::Parts(parts))
    }
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(PartVisitor)
    }
}

struct PartVisitor;

impl<'de> Visitor<'de> for PartVisitor {
    type Value = Part;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a content part with a leading type")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Part, A::Error> {
        if map.next_key::<Cow<'de, str>>()?.as_deref() != Some("type") {
            return Err(de::Error::custom("type is not the first key"));
        }
        let kind: Cow<'de, str> = map.next_value()?;
        let rest = de::value::MapAccessDeserializer::new(map);
        let twice = || de::Error::custom("type given twice");
        let media = |kind, rest| -> Result<Part, A::Error> {
            let part = Map::<String, Value>::deserialize(rest)?;
            if part.contains_key("type") {
                return Err(twice());
            }
            Ok(Part::Media { kind, part: Value::Object(part) })
        };
        match &*kind {
            "text" => match TextPart::deserialize(rest)? {
                TextPart { again: None, text } => Ok(Part::Text(text)),
                _ => Err(twice()),
            },
            "refusal" => match RefusalPart::deserialize(rest)? {
                RefusalPart { again: None, refusal } => Ok(Part::Refusal(refusal)),
                _ => Err(twice()),
            },
            "image_url" => media(MediaKind::Image, rest),
            "file" => media(MediaKind::File, rest),
            _ => Err(de::Error::custom("unknown part type")),
        }
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
    let defaults = [
        ("n", &w.n),
        ("logprobs", &w.logprobs),
        ("top_logprobs", &w.top_logprobs),
        ("presence_penalty", &w.presence_penalty),
        ("frequency_penalty", &w.frequency_penalty),
        ("logit_bias", &w.logit_bias),
        ("functions", &w.functions),
        ("modalities", &w.modalities),
    ];
    if defaults.iter().any(|(k, v)| v.as_ref().is_some_and(|v| !accepted_default(k, v))) {
        return None;
    }
    let (include_usage, obfuscation) = match w.stream_options {
        Some(o) => (o.include_usage.unwrap_or(false), o.include_obfuscation),
        None => (false, None),
    };
    let advisory = [
        ("seed", w.seed),
        ("store", w.store),
        ("metadata", w.metadata),
        ("service_tier", w.service_tier),
        ("prompt_cache_key", w.prompt_cache_key),
        ("safety_identifier", w.safety_identifier),
        ("stream_options.include_obfuscation", obfuscation),
    ];
    let mut req = ir::Request {
        model: w.model.filter(|m| !m.is_empty())?,
        max_tokens: w.max_completion_tokens.or(w.max_tokens),
        temperature: w.temperature,
        top_p: w.top_p,
        stop_sequences: match w.stop {
            None => Vec::new(),
            Some(Stop::One(s)) => vec![s],
            Some(Stop::Many(v)) => v,
        },
        stream: w.stream.unwrap_or(false),
        stream_include_usage: include_usage,
        parallel_tool_calls: w.parallel_tool_calls,
        user: w.user,
        ..ir::Request::default()
    };
    for (name, v) in advisory {
        if let Some(v) = v.filter(|v| !is_default(v)) {
            req.unsupported.insert(name.to_string(), v);
        }
    }
    for t in w.tools.into_iter().flatten() {
        if t.kind.as_deref() != Some("function") {
            return None;
        }
        let f = t.function;
        req.tools.push(Tool {
            name: f.name,
            description: f.description,
            input_schema: f.parameters.unwrap_or_else(empty_parameters),
            strict: f.strict,
            cache_control: None,
            custom: false,
            namespace: None,
        });
    }
    if let Some(v) = &w.tool_choice {
        let mut unsupported = Map::new();
        req.tool_choice = decode_tool_choice(v, &mut unsupported).ok()?;
        if !unsupported.is_empty() {
            return None;
        }
    }
    if let Some(s) = &w.reasoning_effort {
        req.reasoning = Some(reasoning(s).ok()?);
    }
    if let Some(v) = &w.response_format {
        req.response_format = Some(decode_response_format(v).ok()?);
    }
    messages(&mut req, w.messages?)?;
    Some(req)
}

/// `decode_messages` on typed messages: consecutive `tool` messages and the user message after
/// them make one IR user message.
fn messages(req: &mut ir::Request, msgs: Vec<Msg>) -> Option<()> {
    let mut tool_turn_open = false;
    for m in msgs {
        match &*m.role {
            "system" | "developer" => {
                let texts = text_content(m.content)?;
                if req.messages.is_empty() {
                    req.system.extend(texts.into_iter().map(|text| SystemBlock { text, cache_control: None }));
                } else {
                    req.messages
                        .push(Message { role: Role::System, content: texts.into_iter().map(text_block).collect() });
                }
                tool_turn_open = false;
            }
            "user" => {
                let blocks = user_content(m.content?)?;
                match req.messages.last_mut() {
                    Some(last) if tool_turn_open => last.content.extend(blocks),
                    _ => req.messages.push(Message { role: Role::User, content: blocks }),
                }
                tool_turn_open = false;
            }
            "assistant" => {
                req.messages.push(Message { role: Role::Assistant, content: assistant_content(m)? });
                tool_turn_open = false;
            }
            "tool" => {
                let block = Block::ToolResult {
                    tool_use_id: m.tool_call_id?,
                    content: text_content(m.content)?.into_iter().map(text_block).collect(),
                    is_error: false,
                    cache_control: None,
                };
                match req.messages.last_mut() {
                    Some(last) if tool_turn_open => last.content.push(block),
                    _ => req.messages.push(Message { role: Role::User, content: vec![block] }),
                }
                tool_turn_open = true;
            }
            _ => return None,
        }
    }
    Some(())
}

fn text_block(text: String) -> Block {
    Block::Text { text, cache_control: None }
}

/// Content that may only hold text.
fn text_content(c: Option<Content>) -> Option<Vec<String>> {
    match c {
        None => Some(Vec::new()),
        Some(Content::Text(s)) => Some(vec![s]),
        Some(Content::Parts(parts)) => parts
            .into_iter()
            .map(|p| match p {
                Part::Text(t) => Some(t),
                _ => None,
            })
            .collect(),
    }
}

fn user_content(c: Content) -> Option<Vec<Block>> {
    match c {
        Content::Text(s) => Some(vec![text_block(s)]),
        Content::Parts(parts) => parts
            .into_iter()
            .map(|p| match p {
                Part::Text(t) => Some(text_block(t)),
                Part::Media { kind: MediaKind::Image, part } => image_part(&part, "").ok(),
                Part::Media { kind: MediaKind::File, part } => file_part(&part, "").ok(),
                Part::Refusal(_) => None,
            })
            .collect(),
    }
}

fn assistant_content(m: Msg) -> Option<Vec<Block>> {
    let mut blocks = Vec::new();
    if let Some(t) = [m.reasoning_content, m.reasoning].into_iter().flatten().find(|t| !t.is_empty()) {
        blocks.push(Block::Thinking { thinking: t, signature: None });
    }
    match m.content {
        Some(Content::Text(s)) if !s.is_empty() => blocks.push(text_block(s)),
        None | Some(Content::Text(_)) => {}
        Some(Content::Parts(parts)) => {
            for p in parts {
                match p {
                    Part::Text(t) | Part::Refusal(t) => blocks.push(text_block(t)),
                    Part::Media { .. } => return None,
                }
            }
        }
    }
    if let Some(r) = m.refusal {
        blocks.push(text_block(r));
    }
    for c in m.tool_calls.into_iter().flatten() {
        if c.kind.as_deref().is_some_and(|k| k != "function") {
            return None;
        }
        let input = arguments(&c.function.arguments).ok()?;
        blocks.push(Block::ToolUse { id: c.id, name: c.function.name, input });
    }
    Some(blocks)
}
