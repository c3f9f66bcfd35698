//! OpenAI Chat caller `messages` -> IR messages and system blocks (part of request decoding).

use serde_json::{Map, Value};

use crate::ir::{self, ApiError, Block, CacheControl, MediaSource, Message, Role, SystemBlock};

use super::request_decode::{as_object, as_str};
use super::wire::parse_data_url;

/// Decodes `messages`, merging consecutive `tool` messages and the user message that follows
/// them into one IR user message (tool results first).
pub(super) fn decode_messages(req: &mut ir::Request, msgs: &[Value]) -> Result<(), ApiError> {
    // True while the last IR message was built from `tool` messages and may take more.
    let mut tool_turn_open = false;
    for (i, m) in msgs.iter().enumerate() {
        let path = format!("messages[{i}]");
        let o = as_object(m, &path)?;
        let role = as_str(o.get("role").unwrap_or(&Value::Null), &format!("{path}.role"))?;
        for (k, x) in o {
            let known = matches!(
                k.as_str(),
                "role"
                    | "content"
                    | "tool_calls"
                    | "tool_call_id"
                    | "reasoning_content"
                    | "reasoning"
                    | "refusal"
                    | "cache_control"
            );
            if !known && !x.is_null() {
                req.unsupported.insert(format!("{path}.{k}"), x.clone());
            }
        }
        match role {
            "system" | "developer" => {
                let texts = text_content(o.get("content"), &format!("{path}.content"))?;
                if req.messages.is_empty() {
                    req.system.extend(texts.into_iter().map(|text| SystemBlock { text, cache_control: None }));
                    if let (Some(cc), Some(last)) = (cache_hint(o), req.system.last_mut()) {
                        last.cache_control = Some(cc);
                    }
                } else {
                    let mut content: Vec<Block> = texts.into_iter().map(text_block).collect();
                    mark_last(&mut content, cache_hint(o));
                    req.messages.push(Message { role: Role::System, content });
                }
                tool_turn_open = false;
            }
            "user" => {
                let mut blocks = user_content(o.get("content"), &path, &mut req.unsupported)?;
                mark_last(&mut blocks, cache_hint(o));
                match req.messages.last_mut() {
                    Some(last) if tool_turn_open => last.content.extend(blocks),
                    _ => req.messages.push(Message { role: Role::User, content: blocks }),
                }
                tool_turn_open = false;
            }
            "assistant" => {
                req.messages.push(Message { role: Role::Assistant, content: assistant_content(o, &path)? });
                tool_turn_open = false;
            }
            "tool" => {
                let id = as_str(o.get("tool_call_id").unwrap_or(&Value::Null), &format!("{path}.tool_call_id"))?;
                let texts = text_content(o.get("content"), &format!("{path}.content"))?;
                let block = Block::ToolResult {
                    tool_use_id: id.to_string(),
                    content: texts.into_iter().map(text_block).collect(),
                    is_error: false,
                    cache_control: None,
                };
                match req.messages.last_mut() {
                    Some(last) if tool_turn_open => last.content.push(block),
                    _ => req.messages.push(Message { role: Role::User, content: vec![block] }),
                }
                tool_turn_open = true;
            }
            "function" => {
                req.unsupported.insert(path, m.clone());
                tool_turn_open = false;
            }
            other => {
                return Err(ApiError::invalid_field(format!("{path}.role"), format!("unknown role {other:?}")));
            }
        }
    }
    Ok(())
}

fn text_block(text: String) -> Block {
    Block::Text { text, cache_control: None }
}

/// A message-level `cache_control` (the Anthropic-style hint OpenRouter-aware clients such as
/// OpenCode put on Chat messages).
fn cache_hint(o: &Map<String, Value>) -> Option<CacheControl> {
    o.get("cache_control").filter(|v| !v.is_null()).map(|v| CacheControl(v.clone()))
}

/// Puts a message's cache hint on its last block, where Anthropic expects it.
fn mark_last(blocks: &mut [Block], cc: Option<CacheControl>) {
    let Some(cc) = cc else { return };
    if let Some(
        Block::Text { cache_control, .. }
        | Block::Image { cache_control, .. }
        | Block::Document { cache_control, .. }
        | Block::ToolResult { cache_control, .. },
    ) = blocks.last_mut()
    {
        *cache_control = Some(cc);
    }
}

/// Content that may only hold text: a string or an array of `text` parts.
fn text_content(v: Option<&Value>, path: &str) -> Result<Vec<String>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(parts)) => parts
            .iter()
            .enumerate()
            .map(|(j, p)| {
                let ppath = format!("{path}[{j}]");
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        Ok(as_str(p.get("text").unwrap_or(&Value::Null), &format!("{ppath}.text"))?.to_string())
                    }
                    other => Err(ApiError::invalid_field(
                        format!("{ppath}.type"),
                        format!("expected a text part, got {:?}", other.unwrap_or("")),
                    )),
                }
            })
            .collect(),
        Some(_) => Err(ApiError::invalid_field(path, "expected a string or an array of parts")),
    }
}

fn user_content(v: Option<&Value>, path: &str, unsupported: &mut Map<String, Value>) -> Result<Vec<Block>, ApiError> {
    let cpath = format!("{path}.content");
    let parts = match v {
        Some(Value::String(s)) => return Ok(vec![text_block(s.clone())]),
        Some(Value::Array(parts)) => parts,
        _ => {
            return Err(ApiError::invalid_field(cpath, "expected a string or an array of parts"));
        }
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        let ppath = format!("{cpath}[{j}]");
        match p.get("type").and_then(Value::as_str) {
            Some("text") => {
                let text = as_str(p.get("text").unwrap_or(&Value::Null), &format!("{ppath}.text"))?.to_string();
                let cache_control = p.get("cache_control").filter(|v| !v.is_null()).map(|v| CacheControl(v.clone()));
                blocks.push(Block::Text { text, cache_control });
            }
            Some("image_url") => blocks.push(image_part(p, &ppath)?),
            Some("file") => blocks.push(file_part(p, &ppath)?),
            _ => {
                unsupported.insert(ppath, p.clone());
            }
        }
    }
    Ok(blocks)
}

/// An `image_url` part.
pub(super) fn image_part(p: &Value, ppath: &str) -> Result<Block, ApiError> {
    let url = p
        .get("image_url")
        .and_then(|i| i.get("url"))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_field(format!("{ppath}.image_url.url"), "required"))?;
    Ok(Block::Image { source: media_from_url(url, &format!("{ppath}.image_url.url"))?, cache_control: None })
}

fn media_from_url(url: &str, path: &str) -> Result<MediaSource, ApiError> {
    if let Some((media_type, data)) = parse_data_url(url) {
        return Ok(MediaSource::Base64 { media_type: media_type.to_string(), data: data.to_string() });
    }
    if url.starts_with("data:") {
        return Err(ApiError::invalid_field(path, "only base64 data: URLs are supported"));
    }
    Ok(MediaSource::Url { url: url.to_string() })
}

/// A `file` part: `file_data` (a data URL, or bare base64 taken as PDF) or `file_id`.
pub(super) fn file_part(p: &Value, ppath: &str) -> Result<Block, ApiError> {
    let f = p
        .get("file")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::invalid_field(format!("{ppath}.file"), "required object"))?;
    let title = f.get("filename").and_then(Value::as_str).map(str::to_string);
    let source = if let Some(data) = f.get("file_data").and_then(Value::as_str) {
        match parse_data_url(data) {
            Some((media_type, data)) => {
                MediaSource::Base64 { media_type: media_type.to_string(), data: data.to_string() }
            }
            None if data.starts_with("data:") => {
                return Err(ApiError::invalid_field(
                    format!("{ppath}.file.file_data"),
                    "only base64 data: URLs are supported",
                ));
            }
            None => MediaSource::Base64 { media_type: "application/pdf".into(), data: data.to_string() },
        }
    } else if let Some(id) = f.get("file_id").and_then(Value::as_str) {
        MediaSource::FileId { file_id: id.to_string() }
    } else {
        return Err(ApiError::invalid_field(format!("{ppath}.file"), "needs file_data or file_id"));
    };
    Ok(Block::Document { source, title, cache_control: None })
}

fn assistant_content(o: &Map<String, Value>, path: &str) -> Result<Vec<Block>, ApiError> {
    let mut blocks = Vec::new();
    for key in ["reasoning_content", "reasoning"] {
        if let Some(Value::String(t)) = o.get(key).filter(|v| !v.is_null()) {
            if !t.is_empty() {
                blocks.push(Block::Thinking { thinking: t.clone(), signature: None });
                break;
            }
        }
    }
    let cpath = format!("{path}.content");
    match o.get("content") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            if !s.is_empty() {
                blocks.push(text_block(s.clone()));
            }
        }
        Some(Value::Array(parts)) => {
            for (j, p) in parts.iter().enumerate() {
                let ppath = format!("{cpath}[{j}]");
                let (kind, field) = match p.get("type").and_then(Value::as_str) {
                    Some("text") => ("text", "text"),
                    Some("refusal") => ("refusal", "refusal"),
                    other => {
                        return Err(ApiError::invalid_field(
                            format!("{ppath}.type"),
                            format!("unknown assistant part type {:?}", other.unwrap_or("")),
                        ));
                    }
                };
                let text = as_str(p.get(field).unwrap_or(&Value::Null), &format!("{ppath}.{kind}"))?;
                blocks.push(text_block(text.to_string()));
            }
        }
        Some(_) => {
            return Err(ApiError::invalid_field(cpath, "expected a string, an array of parts or null"));
        }
    }
    if let Some(Value::String(r)) = o.get("refusal") {
        blocks.push(text_block(r.clone()));
    }
    if let Some(calls) = o.get("tool_calls").filter(|v| !v.is_null()) {
        let tpath = format!("{path}.tool_calls");
        let calls = calls.as_array().ok_or_else(|| ApiError::invalid_field(&tpath, "expected an array"))?;
        for (j, c) in calls.iter().enumerate() {
            blocks.push(tool_call(c, &format!("{tpath}[{j}]"))?);
        }
    }
    Ok(blocks)
}

fn tool_call(c: &Value, path: &str) -> Result<Block, ApiError> {
    if let Some(t) = c.get("type").and_then(Value::as_str) {
        if t != "function" {
            return Err(ApiError::invalid_field(
                format!("{path}.type"),
                format!("only function tool calls can be translated, got {t:?}"),
            ));
        }
    }
    let id = as_str(c.get("id").unwrap_or(&Value::Null), &format!("{path}.id"))?;
    let fpath = format!("{path}.function");
    let f = c.get("function").ok_or_else(|| ApiError::invalid_field(&fpath, "required"))?;
    let name = as_str(f.get("name").unwrap_or(&Value::Null), &format!("{fpath}.name"))?;
    let apath = format!("{fpath}.arguments");
    let args = as_str(f.get("arguments").unwrap_or(&Value::Null), &apath)?;
    let input = arguments(args).map_err(|e| ApiError::invalid_field(apath, format!("invalid JSON: {e}")))?;
    Ok(Block::ToolUse { id: id.to_string(), name: name.to_string(), input })
}

/// A tool call's arguments string as a value (blank: an empty object).
pub(super) fn arguments(args: &str) -> Result<Value, serde_json::Error> {
    if args.trim().is_empty() { Ok(Value::Object(Map::new())) } else { serde_json::from_str(args) }
}
