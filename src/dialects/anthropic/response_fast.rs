//! The Message an Anthropic upstream answers, read in one pass with [`Reader`]: the derived
//! code reads each content block twice (into a `Value`, then into its typed form), which cost
//! a translated JSON call about a tenth of its instructions.
//!
//! Like every hand reader in amux it only answers where it is sure: a member of the wrong type,
//! a repeated member, a block type other than text, thinking, redacted thinking, tool use or a
//! server tool's record gives `None`, and [`super::response::decode_response`] reads the body
//! with the derived code, which gives the exact answer or error. Refusing is only slower.

use std::borrow::Cow;

use serde_json::Value;

use super::response::{is_server_tool_block, stop_from_wire, usage_from_wire};
use super::wire::WireUsage;
use crate::ir::{self, Block};
use crate::jsonscan::Reader;

/// The members of a Message the IR keeps; the others (`type`, `role`, `container`, ...) are
/// stepped over, as the derived code ignores them.
const MESSAGE: [&str; 6] = ["id", "model", "content", "stop_reason", "stop_sequence", "usage"];

/// The members of every block kind the IR keeps, read whatever the kind.
const BLOCK: [&str; 8] = ["type", "text", "thinking", "signature", "data", "id", "name", "input"];

/// A block's [`BLOCK`] members: the strings (`type` to `name`; a `null` signature is absent, as
/// serde's `Option` has it), then `input` as a `Value`.
pub(super) type BlockMembers<'a> = ([Option<Cow<'a, str>>; 7], Option<Value>);

const USAGE: [&str; 4] = ["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens"];

/// The IR answer of `text`, or `None` where the derived code must read it.
pub(super) fn read(text: &str) -> Option<ir::Response> {
    let mut r = Reader::new(text);
    let mut resp = ir::Response {
        id: String::new(),
        model: String::new(),
        content: Vec::new(),
        stop_reason: None,
        stop_sequence: None,
        usage: ir::Usage::default(),
    };
    r.fields(MESSAGE, |r, i| {
        match i {
            0 => resp.id = r.str()?.into_owned(),
            1 => resp.model = r.str()?.into_owned(),
            2 => resp.content = r.list(block)?.into_iter().flatten().collect(),
            // An unknown stop reason is `None`, as the derived code's answer has it.
            3 => resp.stop_reason = r.opt_str()?.as_deref().and_then(stop_from_wire),
            4 => resp.stop_sequence = r.opt_string()?,
            _ => resp.usage = usage_from_wire(&usage(r)?),
        }
        Some(())
    })?;
    r.end()?;
    Some(resp)
}

/// `usage`: each count a `u64` or `null` (zero), other members stepped over (also read so
/// in the stream's `message_start` and `message_delta`).
pub(super) fn usage(r: &mut Reader<'_>) -> Option<WireUsage> {
    let [input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens] =
        r.each(USAGE, |r| r.opt_u64().map(Option::unwrap_or_default))?;
    Some(WireUsage { input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens })
}

/// The [`BLOCK`] members of a block, whatever its kind (a stream's `content_block_start` reads
/// its block so too).
pub(super) fn block_members<'a>(r: &mut Reader<'a>) -> Option<BlockMembers<'a>> {
    let mut s: [Option<Cow<'a, str>>; 7] = Default::default();
    let mut input = None;
    r.fields(BLOCK, |r, i| {
        match i {
            7 => input = Some(r.de::<Value>()?),
            3 => s[3] = r.opt_str()?,
            _ => s[i] = Some(r.str()?),
        }
        Some(())
    })?;
    Some((s, input))
}

/// One content block: `Some(None)` for a server tool's record, which a translated answer
/// leaves out.
fn block<'a>(r: &mut Reader<'a>) -> Option<Option<Block>> {
    let ([kind, text, thinking, signature, data, id, name], input) = block_members(r)?;
    let owned = |v: Option<Cow<'a, str>>| v.map(Cow::into_owned);
    Some(Some(match kind?.as_ref() {
        "text" => Block::Text { text: owned(text)?, cache_control: None },
        "thinking" => Block::Thinking { thinking: owned(thinking)?, signature: owned(signature) },
        "redacted_thinking" => Block::RedactedThinking { data: owned(data)? },
        "tool_use" => Block::ToolUse {
            id: owned(id)?,
            name: owned(name)?,
            input: match input {
                None | Some(Value::Null) => Value::Object(Default::default()),
                Some(v) => v,
            },
        },
        k if is_server_tool_block(k) => return Some(None),
        _ => return None,
    }))
}
