//! A streamed `chat.completion.chunk`, deserialized straight from the event's data and borrowing
//! its strings where they have no escapes.
//!
//! The fields and the values they accept are those of [`super::wire::Chunk`] (which reads a
//! parsed `Value`), so a chunk this type rejects is one the `Value` path rejects too; the decoder
//! then takes that path for the exact error.
//!
//! [`StreamChunk::read`] reads the same type by hand with [`Reader`], without serde's per-field
//! dispatch (the bulk of a translated stream's cost); whatever it is unsure of it leaves to the
//! derived `Deserialize`, and a test holds the two equal wherever the hand reader answers.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::wire::{WireFunction, WireToolCall, WireUsage, content_value_text};
use crate::jsonscan::Reader;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StreamChunk<'a> {
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub model: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub choices: Vec<StreamChoice<'a>>,
    pub usage: Option<WireUsage>,
    /// A non-null `error`: the chunk is an error report.
    pub error: Option<IgnoredAny>,
}

/// The members of a chunk, as [`StreamChunk::read`] names them.
const CHUNK_MEMBERS: [&str; 5] = ["id", "model", "choices", "usage", "error"];

/// The start of a stream's last chunk, up to its `choices` value, and the `id` and `model` read
/// there. Every chunk of a stream repeats the same `id`, `object`, `created`, `model` (and
/// whatever else a server adds) before its `choices`: a chunk that starts with the same bytes
/// reads the same there, so [`StreamChunk::read`] takes those two values from here and reads on
/// from the `choices`.
#[derive(Debug, Default, Clone)]
pub struct ChunkStart {
    text: String,
    /// Which of `id` (bit 0) and `model` (bit 1) the start has (a repeat after it is refused).
    members: u64,
    id: Option<Kept>,
    model: Option<Kept>,
}

/// A string value of a [`ChunkStart`]: where it lies in the text (no escapes: borrowed from the
/// next chunk's identical bytes), or its unescaped text.
#[derive(Debug, Clone)]
enum Kept {
    At(std::ops::Range<usize>),
    Text(String),
}

impl Kept {
    fn of<'a>(value: &Option<Cow<'a, str>>, text: &'a str) -> Option<Self> {
        Some(match value.as_ref()? {
            Cow::Borrowed(s) => {
                let at = (s.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
                Kept::At(at..at + s.len())
            }
            Cow::Owned(s) => Kept::Text(s.clone()),
        })
    }

    fn get<'a>(kept: &Option<Self>, text: &'a str) -> Option<Option<Cow<'a, str>>> {
        Some(match kept {
            None => None,
            Some(Kept::At(range)) => Some(Cow::Borrowed(text.get(range.clone())?)),
            Some(Kept::Text(s)) => Some(Cow::Owned(s.clone())),
        })
    }
}

impl ChunkStart {
    /// Whether `text` starts as the chunk this start was taken from.
    pub fn shared_by(&self, text: &str) -> bool {
        !self.text.is_empty() && text.starts_with(self.text.as_str())
    }
}

impl<'a> StreamChunk<'a> {
    /// The chunk read by hand; `None` when the derived `Deserialize` must decide (an `error`
    /// member, content parts, a repeated member, a value of another kind). `start` is the
    /// stream's [`ChunkStart`], used and updated.
    pub fn read(text: &'a str, start: &mut ChunkStart) -> Option<Self> {
        if start.shared_by(text) {
            return Self::read_after_start(text, start);
        }
        let mut r = Reader::new(text);
        let mut c = StreamChunk::default();
        let (mut choices_at, mut others, mut members) = (None, false, 0);
        r.fields(CHUNK_MEMBERS, |r, i| {
            // Only what comes before `choices` is part of the start.
            if choices_at.is_none() {
                match i {
                    0 | 1 => members |= 1 << i,
                    2 if !others => {
                        r.skip_ws();
                        choices_at = Some(r.pos());
                    }
                    _ => others = true,
                }
            }
            c.member(r, i)
        })?;
        r.end()?;
        if let Some(at) = choices_at {
            let kept = |bit: u64, v: &Option<Cow<'a, str>>| if members & bit != 0 { Kept::of(v, text) } else { None };
            *start =
                ChunkStart { text: text.get(..at)?.to_string(), members, id: kept(1, &c.id), model: kept(2, &c.model) };
        }
        Some(c)
    }

    /// A chunk that starts as `start` does: its `id` and `model` from there, everything from
    /// the `choices` value on read.
    fn read_after_start(text: &'a str, start: &ChunkStart) -> Option<Self> {
        let mut c = StreamChunk {
            id: Kept::get(&start.id, text)?,
            model: Kept::get(&start.model, text)?,
            ..Default::default()
        };
        let seen = 1 << 2 | start.members;
        let at = start.text.len();
        let mut r = Reader::at(text, at, 1);
        match StreamChoice::read_compact(&mut r) {
            Some(choices) => c.choices = choices,
            None => {
                r = Reader::at(text, at, 1);
                c.member(&mut r, 2)?;
            }
        }
        r.fields_after(CHUNK_MEMBERS, seen, |r, i| c.member(r, i))?;
        r.end()?;
        Some(c)
    }

    /// The value of member `i` of [`CHUNK_MEMBERS`].
    fn member(&mut self, r: &mut Reader<'a>, i: usize) -> Option<()> {
        match i {
            0 => self.id = r.opt_str()?,
            1 => self.model = r.opt_str()?,
            2 => self.choices = r.list(StreamChoice::read)?,
            3 => self.usage = r.opt(Reader::de)?,
            // A non-null `error`: an error report, for the general path.
            _ => r.null().then_some(())?,
        }
        Some(())
    }
}

impl<'a> StreamChoice<'a> {
    /// The `choices` of the two chunks that make most of a stream, written exactly as OpenAI
    /// writes them: one choice with a text delta, or with a piece of a tool call's arguments.
    /// Matched as text, the strings read by [`Reader`]; `None` for anything else (the caller
    /// reads it member by member).
    fn read_compact(r: &mut Reader<'a>) -> Option<Vec<Self>> {
        let delta = if r.lit(r#"[{"index":0,"delta":{"content":"#) {
            StreamDelta { content: Some(Content::Text(r.str()?)), ..StreamDelta::default() }
        } else if r.lit(r#"[{"index":0,"delta":{"tool_calls":[{"index":"#) {
            let index = Some(r.u64()?);
            if !r.lit(r#","function":{"arguments":"#) {
                return None;
            }
            let function = Some(StreamFunction { name: None, arguments: Some(r.str()?) });
            if !r.lit("}}]") {
                return None;
            }
            let call = StreamToolCall { index, function, ..StreamToolCall::default() };
            StreamDelta { tool_calls: Some(vec![call]), ..StreamDelta::default() }
        } else {
            return None;
        };
        if !r.lit(r#"},"logprobs":null,"finish_reason":null}]"#) {
            return None;
        }
        Some(vec![StreamChoice { index: Some(0), delta: Some(delta), finish_reason: None }])
    }

    fn read(r: &mut Reader<'a>) -> Option<Self> {
        let mut c = StreamChoice::default();
        r.fields(["index", "delta", "finish_reason"], |r, i| {
            match i {
                0 => c.index = r.opt_u64()?,
                1 => c.delta = r.opt(StreamDelta::read)?,
                _ => c.finish_reason = r.opt_str()?,
            }
            Some(())
        })?;
        Some(c)
    }
}

impl<'a> StreamDelta<'a> {
    fn read(r: &mut Reader<'a>) -> Option<Self> {
        let mut d = StreamDelta::default();
        r.fields(["content", "refusal", "reasoning_content", "reasoning", "tool_calls"], |r, i| {
            match i {
                // Content parts (not a string) are left to the derived `Deserialize`.
                0 => d.content = r.opt_str()?.map(Content::Text),
                1 => d.refusal = r.opt_str()?,
                2 => d.reasoning_content = r.opt_str()?,
                3 => d.reasoning = r.opt_str()?,
                _ => d.tool_calls = r.opt(|r| r.list(StreamToolCall::read))?,
            }
            Some(())
        })?;
        Some(d)
    }
}

impl<'a> StreamToolCall<'a> {
    /// A tool call of a chunk's delta, or of a completion's message
    /// (`super::response_fast`, which owns it with [`Self::into_owned`]).
    pub(super) fn read(r: &mut Reader<'a>) -> Option<Self> {
        let mut t = StreamToolCall::default();
        r.fields(["index", "id", "type", "function"], |r, i| {
            match i {
                0 => t.index = r.opt_u64()?,
                1 => t.id = r.opt_str()?,
                2 => t.kind = r.opt_str()?,
                _ => t.function = r.opt(StreamFunction::read)?,
            }
            Some(())
        })?;
        Some(t)
    }
}

impl StreamToolCall<'_> {
    /// The tool call as a completion's wire type has it (its strings owned).
    pub(super) fn into_owned(self) -> WireToolCall {
        WireToolCall {
            index: self.index,
            id: self.id.map(Cow::into_owned),
            kind: self.kind.map(Cow::into_owned),
            function: self.function.map(|f| WireFunction {
                name: f.name.map(Cow::into_owned),
                arguments: f.arguments.map(Cow::into_owned),
            }),
        }
    }
}

impl<'a> StreamFunction<'a> {
    fn read(r: &mut Reader<'a>) -> Option<Self> {
        let [name, arguments] = r.each(["name", "arguments"], Reader::opt_str)?;
        Some(StreamFunction { name, arguments })
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StreamChoice<'a> {
    pub index: Option<u64>,
    #[serde(borrow)]
    pub delta: Option<StreamDelta<'a>>,
    #[serde(borrow)]
    pub finish_reason: Option<Cow<'a, str>>,
}

/// `choices[].delta`.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StreamDelta<'a> {
    /// A string; some servers (Mistral) send an array of text parts instead.
    #[serde(borrow)]
    pub content: Option<Content<'a>>,
    #[serde(borrow)]
    pub refusal: Option<Cow<'a, str>>,
    /// Non-standard: DeepSeek, vLLM, SGLang.
    #[serde(borrow)]
    pub reasoning_content: Option<Cow<'a, str>>,
    /// Non-standard: OpenRouter, Ollama, newer vLLM.
    #[serde(borrow)]
    pub reasoning: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub tool_calls: Option<Vec<StreamToolCall<'a>>>,
}

impl<'a> StreamDelta<'a> {
    /// The content as text: a string, or text parts joined. `Err` names an unknown part type.
    pub fn content_text(&self) -> Result<Option<Cow<'_, str>>, String> {
        match &self.content {
            None => Ok(None),
            Some(Content::Text(s)) => Ok(Some(Cow::Borrowed(s))),
            Some(Content::Other(v)) => Ok(content_value_text(v)?.map(Cow::Owned)),
        }
    }

    /// The reasoning text under whichever name the server used.
    pub fn reasoning_text(&self) -> Option<&str> {
        self.reasoning_content.as_deref().filter(|s| !s.is_empty()).or(self.reasoning.as_deref())
    }
}

/// A piece of a tool call in a chunk delta.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StreamToolCall<'a> {
    pub index: Option<u64>,
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub function: Option<StreamFunction<'a>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StreamFunction<'a> {
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub arguments: Option<Cow<'a, str>>,
}

/// A delta's non-null `content`: the usual string, or anything else kept as a `Value`.
#[derive(Debug)]
pub enum Content<'a> {
    Text(Cow<'a, str>),
    Other(Value),
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ContentVisitor)
    }
}

struct ContentVisitor;

impl<'de> Visitor<'de> for ContentVisitor {
    type Value = Content<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Content::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Content::Text(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Content::Text(Cow::Owned(v)))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Content::Other(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Content::Other(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Content::Other(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Content::Other(Value::from(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Content::Other(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Content::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Content::Other)
    }
}
