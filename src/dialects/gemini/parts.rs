//! IR assistant blocks -> Gemini model `parts`, with thought signatures placed where Gemini
//! expects them. Used for upstream history (`request_encode`) and for caller answers
//! (`response`; the stream encoder applies the same rules event by event).
//!
//! A signature-only thinking block (empty text: it came from a Gemini part that carried the
//! signature) is attached as `thoughtSignature` to the next part; with nothing after it, it goes
//! out on an empty thought part. A thinking block with text and a signature:
//! - upstream ([`Placement::Exact`]): one thought part carrying its own signature, which is where
//!   Gemini put it;
//! - caller ([`Placement::NextPart`]): a thought part, and the signature on the next non-thought
//!   part, because Gemini CLI drops thought parts from its history and would lose it.
//!
//! Unsigned thinking is omitted upstream (Gemini ignores thought text in history) and sent to
//! callers as plain thought parts. Redacted thinking is Anthropic-only and is omitted.

use serde_json::{Map, Value, json};

use crate::ir::{ApiError, Block};

use super::wire::TARGET;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Exact,
    NextPart,
}

/// Builds parts, attaching pending signatures to the next part.
#[derive(Debug, Default)]
pub struct PartsBuilder {
    pub parts: Vec<Value>,
    pending: Option<String>,
}

impl PartsBuilder {
    /// Adds a part, giving it the pending signature.
    pub fn push(&mut self, mut part: Map<String, Value>) {
        if let Some(sig) = self.pending.take() {
            part.insert("thoughtSignature".into(), json!(sig));
        }
        self.parts.push(Value::Object(part));
    }

    /// Adds a thought part (never given the pending signature).
    pub fn thought(&mut self, text: &str, signature: Option<&str>) {
        let mut part = Map::new();
        part.insert("text".into(), json!(text));
        part.insert("thought".into(), json!(true));
        if let Some(s) = signature {
            part.insert("thoughtSignature".into(), json!(s));
        }
        self.parts.push(Value::Object(part));
    }

    /// Remembers a signature for the next part (an older one still waiting goes out alone).
    pub fn signature(&mut self, sig: &str) {
        if let Some(old) = self.pending.replace(sig.to_string()) {
            self.thought("", Some(&old));
        }
    }

    /// Ends: a signature still waiting goes out on an empty thought part.
    pub fn finish(mut self) -> Vec<Value> {
        if let Some(old) = self.pending.take() {
            self.thought("", Some(&old));
        }
        self.parts
    }
}

/// A text part.
pub fn text_part(text: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("text".into(), json!(text));
    m
}

/// A `functionCall` part.
pub fn call_part(id: &str, name: &str, args: &Value) -> Map<String, Value> {
    let mut call = Map::new();
    if !id.is_empty() {
        call.insert("id".into(), json!(id));
    }
    call.insert("name".into(), json!(name));
    call.insert("args".into(), if args.is_object() { args.clone() } else { json!({}) });
    let mut m = Map::new();
    m.insert("functionCall".into(), Value::Object(call));
    m
}

/// Adds one assistant block; `path` names it in refusals.
pub fn push_model_block(b: &mut PartsBuilder, block: &Block, placement: Placement, path: &str) -> Result<(), ApiError> {
    match block {
        Block::Text { text, .. } => {
            if !text.is_empty() {
                b.push(text_part(text));
            }
        }
        Block::ToolUse { id, name, input } => b.push(call_part(id, name, input)),
        Block::Thinking { thinking, signature } => {
            let sig = signature.as_deref().filter(|s| !s.is_empty());
            match (sig, placement) {
                (Some(s), Placement::Exact) if thinking.is_empty() => b.signature(s),
                (Some(s), Placement::Exact) => b.thought(thinking, Some(s)),
                (Some(s), Placement::NextPart) => {
                    if !thinking.is_empty() {
                        b.thought(thinking, None);
                    }
                    b.signature(&super::signature::wrap(thinking, s));
                }
                (None, Placement::NextPart) if !thinking.is_empty() => b.thought(thinking, None),
                (None, _) => {}
            }
        }
        Block::RedactedThinking { .. } => {}
        _ => return Err(ApiError::unsupported(path.to_string(), TARGET)),
    }
    Ok(())
}
