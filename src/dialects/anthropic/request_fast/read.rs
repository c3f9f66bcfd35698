//! The wire body of the fast path read with [`Reader`] instead of serde's derived code: the
//! members that make up most of a coding agent's request (messages, their text, tool use, tool
//! result and thinking blocks, tools with their schemas) are read by hand; every other member is
//! handed to serde_json as its raw text, with its own field type, so it reads exactly as the
//! derived code reads it in place.
//!
//! What the reader is unsure of (an unknown or repeated member, a block whose `type` is not its
//! first member or is an image or a document, a number that is not a plain `u64`, an escaped
//! key) gives `None`, and the derived code reads the body as before: refusing is only slower,
//! never different.

use serde_json::Value;

use super::{
    Body, Content, FastBlock, FastTool, Msg, RedactedBlock, TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock,
};
use crate::ir::Schema;
use crate::jsonscan::Reader;

const BODY: [&str; 19] = [
    "model",
    "messages",
    "system",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "stream",
    "metadata",
    "tools",
    "tool_choice",
    "thinking",
    "output_config",
    "output_format",
    "context_management",
    "service_tier",
    "cache_control",
    "inference_geo",
];

impl<'a> Body<'a> {
    /// The body `text`, or `None` where the derived code must read it.
    pub(super) fn read(text: &'a str) -> Option<Body<'a>> {
        let mut r = Reader::new(text);
        let mut model = None;
        let mut messages = None;
        let mut b = Body {
            model: String::new(),
            messages: Vec::new(),
            system: None,
            max_tokens: None,
            temperature: None,
            top_p: None,
            top_k: None,
            stop_sequences: None,
            stream: None,
            metadata: None,
            tools: None,
            tool_choice: None,
            thinking: None,
            output_config: None,
            output_format: None,
            context_management: None,
            service_tier: None,
            cache_control: None,
            inference_geo: None,
        };
        r.closed(BODY, |r, i| {
            match i {
                0 => model = Some(r.str()?.into_owned()),
                1 => messages = Some(r.list(Msg::read)?),
                2 => b.system = r.opt(Content::read)?,
                3 => b.max_tokens = r.opt_u64()?,
                4 => b.temperature = r.de()?,
                5 => b.top_p = r.de()?,
                6 => b.top_k = r.opt_u64()?,
                7 => b.stop_sequences = r.de()?,
                8 => b.stream = r.opt_bool()?,
                9 => b.metadata = r.de()?,
                10 => b.tools = r.opt(|r| r.list(FastTool::read))?,
                11 => b.tool_choice = r.de()?,
                12 => b.thinking = r.de()?,
                13 => b.output_config = r.de()?,
                14 => b.output_format = r.de()?,
                15 => b.context_management = r.de()?,
                16 => b.service_tier = r.de()?,
                17 => b.cache_control = r.de()?,
                _ => b.inference_geo = r.de()?,
            }
            Some(())
        })?;
        r.end()?;
        // `model` has a default; `messages` does not.
        b.model = model.unwrap_or_default();
        b.messages = messages?;
        Some(b)
    }
}

impl<'a> Msg<'a> {
    fn read(r: &mut Reader<'a>) -> Option<Msg<'a>> {
        let (mut role, mut content) = (None, None);
        r.closed(["role", "content"], |r, i| {
            if i == 0 {
                role = Some(r.str()?);
            } else {
                content = Some(Content::read(r)?);
            }
            Some(())
        })?;
        Some(Msg { role: role?, content: content? })
    }
}

impl Content {
    /// A string, or an array of blocks.
    fn read(r: &mut Reader<'_>) -> Option<Content> {
        if r.peek()? == b'"' {
            Some(Content::Text(r.str()?.into_owned()))
        } else {
            r.list(FastBlock::read).map(Content::Blocks)
        }
    }
}

/// The block kinds read by hand, each with the members its derived type has.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    ToolUse,
    ToolResult,
    Thinking,
    Redacted,
}

impl Kind {
    fn names(self) -> &'static [&'static str] {
        match self {
            Kind::Text => &["text", "cache_control", "citations"],
            Kind::ToolUse => &["id", "name", "input", "cache_control"],
            Kind::ToolResult => &["tool_use_id", "content", "is_error", "cache_control"],
            Kind::Thinking => &["thinking", "signature"],
            Kind::Redacted => &["data"],
        }
    }
}

/// What the members of one block hold, whatever its kind (each kind takes its own).
#[derive(Default)]
struct Members {
    text: Option<String>,
    id: Option<String>,
    name: Option<String>,
    input: Option<Value>,
    content: Option<Content>,
    is_error: Option<bool>,
    signature: Option<String>,
    cache_control: Option<Value>,
    citations: Option<Value>,
}

impl FastBlock {
    /// A block whose first member is its `type` (what the derived code's visitor requires).
    fn read(r: &mut Reader<'_>) -> Option<FastBlock> {
        let mut kind = None;
        let mut seen = 0u64;
        let mut m = Members::default();
        r.object(|r, key| {
            let Some(k) = kind else {
                if key != "type" {
                    return None;
                }
                kind = Some(match &*r.str()? {
                    "text" => Kind::Text,
                    "tool_use" => Kind::ToolUse,
                    "tool_result" => Kind::ToolResult,
                    "thinking" => Kind::Thinking,
                    "redacted_thinking" => Kind::Redacted,
                    // Images and documents (and unknown kinds) go to the derived code.
                    _ => return None,
                });
                return Some(());
            };
            let i = k.names().iter().position(|n| *n == key)?;
            if seen & (1 << i) != 0 {
                return None;
            }
            seen |= 1 << i;
            match (k, i) {
                (Kind::Text, 0) | (Kind::Thinking, 0) | (Kind::Redacted, 0) => m.text = Some(r.str()?.into_owned()),
                (Kind::Text, 2) => m.citations = r.de()?,
                (Kind::ToolUse, 0) | (Kind::ToolResult, 0) => m.id = Some(r.str()?.into_owned()),
                (Kind::ToolUse, 1) => m.name = Some(r.str()?.into_owned()),
                (Kind::ToolUse, 2) => m.input = Some(r.de()?),
                (Kind::ToolResult, 1) => m.content = r.opt(Content::read)?,
                (Kind::ToolResult, 2) => m.is_error = r.opt_bool()?,
                (Kind::Thinking, 1) => m.signature = r.opt_string()?,
                // `cache_control`, the last member of the kinds that have it.
                _ => m.cache_control = r.de()?,
            }
            Some(())
        })?;
        Some(match kind? {
            Kind::Text => {
                FastBlock::Text(TextBlock { text: m.text?, cache_control: m.cache_control, citations: m.citations })
            }
            Kind::ToolUse => FastBlock::ToolUse(ToolUseBlock {
                id: m.id?,
                name: m.name?,
                // `#[serde(default)]`: a missing input is `null`, as an explicit one.
                input: m.input.unwrap_or(Value::Null),
                cache_control: m.cache_control,
            }),
            Kind::ToolResult => FastBlock::ToolResult(ToolResultBlock {
                tool_use_id: m.id?,
                content: m.content,
                is_error: m.is_error,
                cache_control: m.cache_control,
            }),
            Kind::Thinking => FastBlock::Thinking(ThinkingBlock { thinking: m.text?, signature: m.signature }),
            Kind::Redacted => FastBlock::RedactedThinking(RedactedBlock { data: m.text? }),
        })
    }
}

impl FastTool {
    fn read(r: &mut Reader<'_>) -> Option<FastTool> {
        let (mut name, mut input_schema) = (None, None);
        let mut t = FastTool {
            kind: None,
            name: String::new(),
            description: None,
            input_schema: Schema::from_text("{}"),
            strict: None,
            cache_control: None,
            eager_input_streaming: None,
        };
        let names = ["type", "name", "description", "input_schema", "strict", "cache_control", "eager_input_streaming"];
        r.closed(names, |r, i| {
            match i {
                0 => t.kind = r.opt_string()?,
                1 => name = Some(r.str()?.into_owned()),
                2 => t.description = r.opt_string()?,
                3 => input_schema = Some(Schema::from_text(r.raw()?)),
                4 => t.strict = r.opt_bool()?,
                5 => t.cache_control = r.de()?,
                _ => t.eager_input_streaming = r.de()?,
            }
            Some(())
        })?;
        t.name = name?;
        t.input_schema = input_schema?;
        Some(t)
    }
}
