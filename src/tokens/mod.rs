//! Local token counting, for upstreams without a counting endpoint: the request is translated to
//! text the way the model sees it (roles, text, tool calls and results, tool schemas) and counted
//! with a real BPE tokenizer (OpenAI's o200k_base, from tiktoken-rs, which ships its vocabulary).
//! The result is an estimate for non-OpenAI model families and is marked as one.

use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

use crate::ir::{Block, MediaSource, Request};

/// Tokens of framing per message (role marker, separators), as OpenAI documents for chat models.
const PER_MESSAGE: usize = 3;
/// Tokens that prime the reply.
const REPLY_PRIMER: usize = 3;
/// A flat charge per image: Anthropic's and OpenAI's per-image costs start around this size.
const PER_IMAGE: usize = 1_000;

fn bpe() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::o200k_base().ok()).as_ref()
}

/// Counts the tokens of `text`.
pub fn count_text(text: &str) -> usize {
    match bpe() {
        Some(b) => b.encode_ordinary(text).len(),
        // The vocabulary ships inside the crate; this only guards a corrupt build.
        None => text.len().div_ceil(4),
    }
}

/// Estimated input tokens of a request.
pub fn count_request(req: &Request) -> u64 {
    let mut n = REPLY_PRIMER;
    let mut text = String::new();
    for s in &req.system {
        text.push_str(&s.text);
        text.push('\n');
    }
    if !req.system.is_empty() {
        n += PER_MESSAGE;
    }
    for t in &req.tools {
        text.push_str(&t.name);
        text.push('\n');
        if let Some(d) = &t.description {
            text.push_str(d);
            text.push('\n');
        }
        text.push_str(&t.input_schema.to_value().to_string());
        text.push('\n');
    }
    for m in &req.messages {
        n += PER_MESSAGE;
        for b in &m.content {
            n += block_text(b, &mut text);
        }
    }
    (n + count_text(&text)) as u64
}

/// Appends a block's text; returns a flat token charge for what has no text (images).
fn block_text(b: &Block, out: &mut String) -> usize {
    match b {
        Block::Text { text, .. } => out.push_str(text),
        Block::Image { .. } => return PER_IMAGE,
        Block::Document { source, title, .. } => {
            if let Some(t) = title {
                out.push_str(t);
            }
            match source {
                MediaSource::Text { data, .. } => out.push_str(data),
                _ => return PER_IMAGE,
            }
        }
        Block::ToolUse { name, input, .. } => {
            out.push_str(name);
            out.push_str(&input.to_string());
        }
        Block::ToolResult { content, .. } => {
            let mut extra = 0;
            for c in content {
                extra += block_text(c, out);
            }
            return extra;
        }
        Block::Thinking { thinking, .. } => out.push_str(thinking),
        Block::RedactedThinking { .. } => {}
    }
    out.push('\n');
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Message, Role, SystemBlock};

    #[test]
    fn counts_with_a_real_tokenizer() {
        // "hello world" is two tokens in o200k_base.
        assert_eq!(count_text("hello world"), 2);
        let req = Request {
            system: vec![SystemBlock { text: "Be brief.".into(), cache_control: None }],
            messages: vec![Message {
                role: Role::User,
                content: vec![Block::Text { text: "hello world".into(), cache_control: None }],
            }],
            ..Request::default()
        };
        let n = count_request(&req);
        assert!((8..=20).contains(&n), "{n}");
    }
}
