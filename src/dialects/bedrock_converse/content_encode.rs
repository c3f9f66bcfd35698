//! IR blocks -> Converse content blocks, for upstream history (`request_encode`) and for
//! caller answers (`response`).
//!
//! A block's cache hint becomes a `cachePoint` right after it. Images and PDFs go as `bytes`
//! (an `s3://` URL as `s3Location`); text documents as a `txt` document of their bytes.
//! Document names are what Bedrock allows (letters, digits, single spaces, `-()[]`), else
//! `document-<n>`. Thinking goes as `reasoningContent` with its signature; unsigned thinking is
//! left out of upstream history (the policy reports it), as is an empty text block (Bedrock
//! refuses blank text).

use serde_json::{Map, Value, json};

use crate::ir::{ApiError, Block, CacheControl, MediaSource};

use super::wire::{TARGET, base64, image_format};

/// Where blocks are going: upstream history refuses what it cannot carry; a caller answer
/// skips it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Upstream,
    Caller,
}

/// A `cachePoint` block for a hint (`ttl` kept).
pub fn cache_point(c: &CacheControl) -> Value {
    let mut p = Map::new();
    p.insert("type".into(), json!("default"));
    if let Some(ttl) = c.0.get("ttl").filter(|t| !t.is_null()) {
        p.insert("ttl".into(), ttl.clone());
    }
    json!({"cachePoint": p})
}

/// Appends the content blocks of `blocks` to `out`; `path` names the first block's parent.
pub fn push_blocks(out: &mut Vec<Value>, blocks: &[Block], path: &str, side: Side) -> Result<(), ApiError> {
    for (j, b) in blocks.iter().enumerate() {
        push_block(out, b, &format!("{path}[{j}]"), side)?;
    }
    Ok(())
}

fn push_block(out: &mut Vec<Value>, b: &Block, path: &str, side: Side) -> Result<(), ApiError> {
    let (block, cache) = match b {
        Block::Text { text, cache_control } => {
            if text.is_empty() {
                return Ok(());
            }
            (json!({"text": text}), cache_control)
        }
        Block::Image { source, cache_control } => (json!({"image": image(source, path)?}), cache_control),
        Block::Document { source, title, cache_control } => {
            (json!({"document": document(source, title.as_deref(), out.len(), path)?}), cache_control)
        }
        Block::ToolUse { id, name, input } => {
            let input = if input.is_object() { input.clone() } else { json!({}) };
            (json!({"toolUse": {"toolUseId": id, "name": name, "input": input}}), &None)
        }
        Block::ToolResult { tool_use_id, content, is_error, cache_control } => {
            let mut items = Vec::new();
            for (k, c) in content.iter().enumerate() {
                let cpath = format!("{path}.content[{k}]");
                match c {
                    Block::Text { text, .. } => items.push(json!({"text": text})),
                    Block::Image { source, .. } => items.push(json!({"image": image(source, &cpath)?})),
                    Block::Document { source, title, .. } => {
                        items.push(json!({"document": document(source, title.as_deref(), k, &cpath)?}))
                    }
                    _ => return Err(ApiError::unsupported(cpath, TARGET)),
                }
            }
            let mut r = Map::new();
            r.insert("toolUseId".into(), json!(tool_use_id));
            r.insert("content".into(), Value::Array(items));
            if *is_error {
                r.insert("status".into(), json!("error"));
            }
            (json!({"toolResult": r}), cache_control)
        }
        Block::Thinking { thinking, signature } => {
            let sig = signature.as_deref().filter(|s| !s.is_empty());
            if sig.is_none() && side == Side::Upstream {
                return Ok(());
            }
            let mut r = Map::new();
            r.insert("text".into(), json!(thinking));
            if let Some(s) = sig {
                r.insert("signature".into(), json!(s));
            }
            (json!({"reasoningContent": {"reasoningText": r}}), &None)
        }
        Block::RedactedThinking { data } => {
            (json!({"reasoningContent": {"redactedContent": base64(data.as_bytes())}}), &None)
        }
    };
    out.push(block);
    if let Some(c) = cache {
        out.push(cache_point(c));
    }
    Ok(())
}

fn image(source: &MediaSource, path: &str) -> Result<Value, ApiError> {
    match source {
        MediaSource::Base64 { media_type, data } => {
            let format = image_format(media_type).ok_or_else(|| {
                ApiError::invalid_field(
                    format!("{path}.source.media_type"),
                    format!("{media_type} is not an image format Bedrock takes"),
                )
            })?;
            Ok(json!({"format": format, "source": {"bytes": data}}))
        }
        MediaSource::Url { url } if url.starts_with("s3://") => {
            let ext = url.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
            let format = match ext.as_str() {
                "jpg" | "jpeg" => "jpeg",
                "png" => "png",
                "gif" => "gif",
                "webp" => "webp",
                _ => return Err(ApiError::invalid_field(format!("{path}.source.url"), "unknown image format")),
            };
            Ok(json!({"format": format, "source": {"s3Location": {"uri": url}}}))
        }
        _ => Err(ApiError::unsupported(format!("{path}.source"), TARGET)),
    }
}

/// A document name Bedrock accepts.
fn doc_name(title: Option<&str>, n: usize) -> String {
    let ok = |t: &&str| {
        !t.is_empty()
            && t.len() <= 200
            && !t.contains("  ")
            && t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '(' | ')' | '[' | ']'))
    };
    title.filter(ok).map_or_else(|| format!("document-{n}"), str::to_string)
}

fn document(source: &MediaSource, title: Option<&str>, n: usize, path: &str) -> Result<Value, ApiError> {
    let name = doc_name(title, n);
    match source {
        MediaSource::Base64 { media_type, data } if media_type == "application/pdf" => {
            Ok(json!({"format": "pdf", "name": name, "source": {"bytes": data}}))
        }
        MediaSource::Text { media_type, data } => {
            let format = match media_type.as_str() {
                "text/markdown" => "md",
                "text/csv" => "csv",
                "text/html" => "html",
                _ => "txt",
            };
            Ok(json!({"format": format, "name": name, "source": {"bytes": base64(data.as_bytes())}}))
        }
        MediaSource::Url { url } if url.starts_with("s3://") && url.to_ascii_lowercase().ends_with(".pdf") => {
            Ok(json!({"format": "pdf", "name": name, "source": {"s3Location": {"uri": url}}}))
        }
        _ => Err(ApiError::unsupported(format!("{path}.source"), TARGET)),
    }
}
