//! Converse content -> IR: `messages`, `system` and tool result content.
//!
//! - `text`, `image` (bytes), `document` (bytes, or `source.text`), `toolUse`, `toolResult`
//!   (`status: error` is an error result; `json` content becomes its JSON text),
//!   `reasoningContent` (text with its signature, or `redactedContent`).
//! - A `cachePoint` marks the end of a cacheable prefix, as Anthropic's `cache_control` on the
//!   block before it does: it becomes that block's cache hint. One with no block before it has
//!   nothing to mark and is recorded (advisory).
//! - `guardContent` (text a guardrail evaluates) is carried as text; its `qualifiers` are recorded
//!   (advisory). Images and documents in S3, videos, `citationsContent`, `searchResult`, other
//!   document formats and anything unknown are recorded under their path (refused unless the
//!   policy says otherwise).

use serde_json::{Map, Value, json};

use crate::ir::{ApiError, Block, CacheControl, MediaSource, Message, Role, SystemBlock};

use super::wire::{as_array, as_object, as_str, image_mime, req_str, unbase64, union};

/// A cache point's hint (`ttl` kept when given).
pub fn cache_hint(v: &Value) -> CacheControl {
    let mut c = Map::new();
    c.insert("type".into(), json!("ephemeral"));
    if let Some(ttl) = v.get("ttl").filter(|t| !t.is_null()) {
        c.insert("ttl".into(), ttl.clone());
    }
    CacheControl(Value::Object(c))
}

/// `messages` -> IR messages.
pub fn decode_messages(v: &Value, unsupported: &mut Map<String, Value>) -> Result<Vec<Message>, ApiError> {
    let mut out = Vec::new();
    for (i, m) in as_array(v, "messages")?.iter().enumerate() {
        let path = format!("messages[{i}]");
        let o = as_object(m, &path)?;
        let role = match req_str(o, "role", &path)? {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            other => {
                return Err(ApiError::invalid_field(format!("{path}.role"), format!("unknown role {other:?}")));
            }
        };
        for k in o.keys().filter(|k| !matches!(k.as_str(), "role" | "content")) {
            unsupported.insert(format!("{path}.{k}"), o[k].clone());
        }
        let content = match o.get("content") {
            Some(c) => as_array(c, &format!("{path}.content"))?.as_slice(),
            None => return Err(ApiError::invalid_field(format!("{path}.content"), "required array")),
        };
        let mut blocks = Vec::new();
        for (j, b) in content.iter().enumerate() {
            let bpath = format!("{path}.content[{j}]");
            decode_block(b, &bpath, &mut blocks, unsupported)?;
        }
        out.push(Message { role, content: blocks });
    }
    Ok(out)
}

/// `system` -> IR system blocks.
pub fn decode_system(v: &Value, unsupported: &mut Map<String, Value>) -> Result<Vec<SystemBlock>, ApiError> {
    let mut out: Vec<SystemBlock> = Vec::new();
    for (i, s) in as_array(v, "system")?.iter().enumerate() {
        let path = format!("system[{i}]");
        match union(s, &path)? {
            ("text", t) => {
                out.push(SystemBlock { text: as_str(t, &format!("{path}.text"))?.to_string(), cache_control: None })
            }
            ("cachePoint", c) => match out.last_mut() {
                Some(last) => last.cache_control = Some(cache_hint(c)),
                None => {
                    unsupported.insert(format!("{path}.cachePoint"), c.clone());
                }
            },
            ("guardContent", g) => {
                let text = guard_text(g, &format!("{path}.guardContent"), unsupported)?;
                out.push(SystemBlock { text, cache_control: None });
            }
            (k, x) => {
                unsupported.insert(format!("{path}.{k}"), x.clone());
            }
        }
    }
    Ok(out)
}

/// The text of a `guardContent` block; its qualifiers are recorded.
fn guard_text(g: &Value, path: &str, unsupported: &mut Map<String, Value>) -> Result<String, ApiError> {
    match union(g, path)? {
        ("text", t) => {
            let tpath = format!("{path}.text");
            let o = as_object(t, &tpath)?;
            if let Some(q) = o.get("qualifiers").filter(|q| !q.is_null()) {
                unsupported.insert(format!("{tpath}.qualifiers"), q.clone());
            }
            Ok(req_str(o, "text", &tpath)?.to_string())
        }
        (k, _) => Err(ApiError::unsupported(format!("{path}.{k}"), "any dialect but Bedrock")),
    }
}

/// Sets the cache hint of the last block, or records the cache point when there is none.
fn mark_cache(blocks: &mut [Block], c: &Value, path: &str, unsupported: &mut Map<String, Value>) {
    let slot = match blocks.last_mut() {
        Some(Block::Text { cache_control, .. })
        | Some(Block::Image { cache_control, .. })
        | Some(Block::Document { cache_control, .. })
        | Some(Block::ToolResult { cache_control, .. }) => cache_control,
        _ => {
            unsupported.insert(format!("{path}.cachePoint"), c.clone());
            return;
        }
    };
    *slot = Some(cache_hint(c));
}

fn decode_block(
    b: &Value,
    path: &str,
    blocks: &mut Vec<Block>,
    unsupported: &mut Map<String, Value>,
) -> Result<(), ApiError> {
    let (kind, v) = union(b, path)?;
    let vpath = format!("{path}.{kind}");
    let block = match kind {
        "text" => Block::Text { text: as_str(v, &vpath)?.to_string(), cache_control: None },
        "cachePoint" => {
            mark_cache(blocks, v, path, unsupported);
            return Ok(());
        }
        "guardContent" => Block::Text { text: guard_text(v, &vpath, unsupported)?, cache_control: None },
        "image" => match image(v, &vpath)? {
            Some(b) => b,
            None => return record(path, b, unsupported),
        },
        "document" => match document(v, &vpath, unsupported)? {
            Some(b) => b,
            None => return record(path, b, unsupported),
        },
        "toolUse" => {
            let o = as_object(v, &vpath)?;
            let input = o.get("input").cloned().unwrap_or_else(|| json!({}));
            Block::ToolUse {
                id: req_str(o, "toolUseId", &vpath)?.to_string(),
                name: req_str(o, "name", &vpath)?.to_string(),
                input,
            }
        }
        "toolResult" => match tool_result(v, &vpath, unsupported)? {
            Some(b) => b,
            None => return record(path, b, unsupported),
        },
        "reasoningContent" => match union(v, &vpath)? {
            ("reasoningText", r) => {
                let rpath = format!("{vpath}.reasoningText");
                let o = as_object(r, &rpath)?;
                let signature = match o.get("signature").filter(|s| !s.is_null()) {
                    Some(s) => Some(as_str(s, &format!("{rpath}.signature"))?.to_string()),
                    None => None,
                };
                Block::Thinking { thinking: req_str(o, "text", &rpath)?.to_string(), signature }
            }
            ("redactedContent", r) => {
                let rpath = format!("{vpath}.redactedContent");
                Block::RedactedThinking { data: redacted_from_wire(as_str(r, &rpath)?, &rpath)? }
            }
            _ => return record(path, b, unsupported),
        },
        // video, citationsContent, searchResult, and block types added later.
        _ => return record(path, b, unsupported),
    };
    blocks.push(block);
    Ok(())
}

fn record(path: &str, v: &Value, unsupported: &mut Map<String, Value>) -> Result<(), ApiError> {
    unsupported.insert(path.to_string(), v.clone());
    Ok(())
}

/// Redacted thinking: Bedrock carries Anthropic's `data` string as a blob, base64 in JSON.
pub fn redacted_from_wire(b64: &str, path: &str) -> Result<String, ApiError> {
    let bytes = unbase64(b64, path)?;
    String::from_utf8(bytes).map_err(|_| ApiError::invalid_field(path, "redacted content is not UTF-8 text"))
}

/// An image with its bytes inline; `None` for S3 sources and unknown formats.
fn image(v: &Value, path: &str) -> Result<Option<Block>, ApiError> {
    let o = as_object(v, path)?;
    let format = req_str(o, "format", path)?;
    let Some(mime) = image_mime(format) else { return Ok(None) };
    let spath = format!("{path}.source");
    match union(o.get("source").unwrap_or(&Value::Null), &spath)? {
        ("bytes", b) => {
            let data = as_str(b, &format!("{spath}.bytes"))?.to_string();
            Ok(Some(Block::Image {
                source: MediaSource::Base64 { media_type: mime.into(), data },
                cache_control: None,
            }))
        }
        _ => Ok(None),
    }
}

/// A PDF or text document; `None` for other formats and S3 sources.
fn document(v: &Value, path: &str, unsupported: &mut Map<String, Value>) -> Result<Option<Block>, ApiError> {
    let o = as_object(v, path)?;
    let format = req_str(o, "format", path)?;
    let title = o.get("name").and_then(Value::as_str).map(str::to_string);
    for (k, x) in o {
        match k.as_str() {
            "format" | "name" | "source" => {}
            // Citations (advisory) and context (meaning) are left to the policy.
            _ if !x.is_null() => {
                unsupported.insert(format!("{path}.{k}"), x.clone());
            }
            _ => {}
        }
    }
    let spath = format!("{path}.source");
    let text_mime = match format {
        "txt" => Some("text/plain"),
        "md" => Some("text/markdown"),
        "csv" => Some("text/csv"),
        "html" => Some("text/html"),
        _ => None,
    };
    let source = match (format, union(o.get("source").unwrap_or(&Value::Null), &spath)?) {
        ("pdf", ("bytes", b)) => MediaSource::Base64 {
            media_type: "application/pdf".into(),
            data: as_str(b, &format!("{spath}.bytes"))?.into(),
        },
        (_, ("bytes", b)) if text_mime.is_some() => {
            let bpath = format!("{spath}.bytes");
            let bytes = unbase64(as_str(b, &bpath)?, &bpath)?;
            let data = String::from_utf8(bytes).map_err(|_| ApiError::invalid_field(bpath, "not UTF-8 text"))?;
            MediaSource::Text { media_type: text_mime.unwrap_or("text/plain").into(), data }
        }
        (_, ("text", t)) => MediaSource::Text {
            media_type: text_mime.unwrap_or("text/plain").into(),
            data: as_str(t, &format!("{spath}.text"))?.into(),
        },
        _ => return Ok(None),
    };
    Ok(Some(Block::Document { source, title, cache_control: None }))
}

fn tool_result(v: &Value, path: &str, unsupported: &mut Map<String, Value>) -> Result<Option<Block>, ApiError> {
    let o = as_object(v, path)?;
    let tool_use_id = req_str(o, "toolUseId", path)?.to_string();
    let is_error = match o.get("status").and_then(Value::as_str) {
        None | Some("success") => false,
        Some("error") => true,
        Some(other) => {
            return Err(ApiError::invalid_field(format!("{path}.status"), format!("unknown status {other:?}")));
        }
    };
    let mut content = Vec::new();
    let items = match o.get("content") {
        Some(c) => as_array(c, &format!("{path}.content"))?.as_slice(),
        None => &[],
    };
    for (k, item) in items.iter().enumerate() {
        let ipath = format!("{path}.content[{k}]");
        match union(item, &ipath)? {
            ("text", t) => {
                content.push(Block::Text { text: as_str(t, &format!("{ipath}.text"))?.into(), cache_control: None })
            }
            ("json", j) => content.push(Block::Text { text: j.to_string(), cache_control: None }),
            ("image", i) => match image(i, &format!("{ipath}.image"))? {
                Some(b) => content.push(b),
                None => return Ok(None),
            },
            ("document", d) => match document(d, &format!("{ipath}.document"), unsupported)? {
                Some(b) => content.push(b),
                None => return Ok(None),
            },
            _ => return Ok(None),
        }
    }
    Ok(Some(Block::ToolResult { tool_use_id, content, is_error, cache_control: None }))
}
