//! The wire body of the fast path read with [`Reader`] instead of serde's derived code: the
//! members that make up most of a coding agent's request (messages with text content, tools with
//! their schemas) are read by hand; every other member is handed to serde_json as its raw text,
//! with its own field type, so it reads exactly as the derived code reads it in place.
//!
//! What the reader is unsure of (an unknown or repeated member, a number that is not a plain
//! `u64`, content that is not a string, an escaped key) gives `None`, and the derived code reads
//! the body as before: refusing is only slower, never different.

use std::borrow::Cow;

use super::{Body, Content, FastCall, FastCallFunction, FastFunction, FastTool, Msg};
use crate::ir::Schema;
use crate::jsonscan::Reader;

const BODY: [&str; 29] = [
    "model",
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning_effort",
    "response_format",
    "user",
    "n",
    "logprobs",
    "top_logprobs",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "functions",
    "modalities",
    "seed",
    "store",
    "metadata",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
];

impl<'a> Body<'a> {
    /// The body `text`, or `None` where the derived code must read it.
    pub(super) fn read(text: &'a str) -> Option<Body<'a>> {
        let mut b = Body::default();
        let mut r = Reader::new(text);
        r.closed(BODY, |r, i| {
            match i {
                0 => b.model = r.opt_string()?,
                1 => b.messages = r.opt(|r| r.list(Msg::read))?,
                2 => b.max_tokens = r.opt_u64()?,
                3 => b.max_completion_tokens = r.opt_u64()?,
                4 => b.temperature = r.de()?,
                5 => b.top_p = r.de()?,
                6 => b.stop = r.de()?,
                7 => b.stream = r.opt_bool()?,
                8 => b.stream_options = r.de()?,
                9 => b.tools = r.opt(|r| r.list(FastTool::read))?,
                10 => b.tool_choice = r.de()?,
                11 => b.parallel_tool_calls = r.opt_bool()?,
                12 => b.reasoning_effort = r.opt_str()?,
                13 => b.response_format = r.de()?,
                14 => b.user = r.opt_string()?,
                15 => b.n = r.de()?,
                16 => b.logprobs = r.de()?,
                17 => b.top_logprobs = r.de()?,
                18 => b.presence_penalty = r.de()?,
                19 => b.frequency_penalty = r.de()?,
                20 => b.logit_bias = r.de()?,
                21 => b.functions = r.de()?,
                22 => b.modalities = r.de()?,
                23 => b.seed = r.de()?,
                24 => b.store = r.de()?,
                25 => b.metadata = r.de()?,
                26 => b.service_tier = r.de()?,
                27 => b.prompt_cache_key = r.de()?,
                _ => b.safety_identifier = r.de()?,
            }
            Some(())
        })?;
        r.end()?;
        Some(b)
    }
}

impl<'a> Msg<'a> {
    fn read(r: &mut Reader<'a>) -> Option<Msg<'a>> {
        let mut role = None;
        let mut m = Msg {
            role: Cow::Borrowed(""),
            content: None,
            tool_calls: None,
            tool_call_id: None,
            reasoning_content: None,
            reasoning: None,
            refusal: None,
        };
        let names = ["role", "content", "tool_calls", "tool_call_id", "reasoning_content", "reasoning", "refusal"];
        r.closed(names, |r, i| {
            match i {
                0 => role = Some(r.str()?),
                // A string by hand; `null` and arrays of parts by the derived code.
                1 if r.peek() == Some(b'"') => m.content = Some(Content::Text(r.str()?.into_owned())),
                1 => m.content = r.de()?,
                2 => m.tool_calls = r.opt(|r| r.list(FastCall::read))?,
                3 => m.tool_call_id = r.opt_string()?,
                4 => m.reasoning_content = r.de()?,
                5 => m.reasoning = r.de()?,
                _ => m.refusal = r.de()?,
            }
            Some(())
        })?;
        m.role = role?;
        Some(m)
    }
}

impl<'a> FastTool<'a> {
    fn read(r: &mut Reader<'a>) -> Option<FastTool<'a>> {
        let (mut kind, mut function) = (None, None);
        r.fields(["type", "function"], |r, i| {
            if i == 0 {
                kind = r.opt_str()?;
            } else {
                function = Some(FastFunction::read(r)?);
            }
            Some(())
        })?;
        Some(FastTool { kind, function: function? })
    }
}

impl FastFunction {
    fn read(r: &mut Reader<'_>) -> Option<FastFunction> {
        let mut name = None;
        let mut f = FastFunction { name: String::new(), description: None, parameters: None, strict: None };
        r.fields(["name", "description", "parameters", "strict"], |r, i| {
            match i {
                0 => name = Some(r.str()?.into_owned()),
                1 => f.description = r.opt_string()?,
                2 => f.parameters = r.opt(|r| r.raw().map(Schema::from_text))?,
                _ => f.strict = r.opt_bool()?,
            }
            Some(())
        })?;
        f.name = name?;
        Some(f)
    }
}

impl<'a> FastCall<'a> {
    /// An assistant message's tool call: `id`, `type` and `function` read, the rest stepped
    /// over, as the derived code does.
    fn read(r: &mut Reader<'a>) -> Option<FastCall<'a>> {
        let (mut id, mut kind, mut function) = (None, None, None);
        r.fields(["id", "type", "function"], |r, i| {
            match i {
                0 => id = Some(r.str()?.into_owned()),
                1 => kind = r.opt_str()?,
                _ => function = Some(FastCallFunction::read(r)?),
            }
            Some(())
        })?;
        Some(FastCall { id: id?, kind, function: function? })
    }
}

impl FastCallFunction {
    fn read(r: &mut Reader<'_>) -> Option<FastCallFunction> {
        let (mut name, mut arguments) = (None, None);
        r.fields(["name", "arguments"], |r, i| {
            let v = Some(r.str()?.into_owned());
            if i == 0 {
                name = v
            } else {
                arguments = v
            }
            Some(())
        })?;
        Some(FastCallFunction { name: name?, arguments: arguments? })
    }
}
