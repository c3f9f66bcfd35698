//! Responses `input` items -> IR messages and system blocks (part of request decoding).
//!
//! - `message` items: user / assistant / system / developer (leading system and developer
//!   messages join `Request::system`, later ones become `Role::System` messages);
//! - `reasoning` -> thinking (summary texts joined, `encrypted_content` as the signature, byte for
//!   byte; an `encrypted_content` amux wrote for redacted thinking -> redacted thinking);
//! - `function_call` / `custom_tool_call` -> tool_use (custom input carried as `{"input": text}`);
//! - `function_call_output` / `custom_tool_call_output` -> tool_result.
//!
//! Consecutive assistant-side items (reasoning, message, calls) form one IR assistant message;
//! consecutive tool outputs and the user message right after them form one IR user message
//! (tool results first). Other item types (item_reference, local_shell_call, computer_call...)
//! are unsupported under `input[i]`.

use serde_json::{Map, Value, json};

use crate::ir::{self, ApiError, Block, MediaSource, Message, Role, SystemBlock};

use super::request_decode::NAMESPACE_SEPARATOR;
use super::wire::{REDACTED_PREFIX, as_object, as_str, opt_str, parse_data_url, req_str};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    None,
    Assistant,
    /// The last IR message holds tool results and may take more user content.
    ToolResults,
}

/// Decodes the `input` array into `req.messages` (and leading system text into `req.system`).
pub(super) fn decode_input(req: &mut ir::Request, items: &[Value]) -> Result<(), ApiError> {
    let mut open = Open::None;
    for (i, item) in items.iter().enumerate() {
        let path = format!("input[{i}]");
        let o = as_object(item, &path)?;
        let kind = match o.get("type") {
            None | Some(Value::Null) => "message",
            Some(t) => as_str(t, &format!("{path}.type"))?,
        };
        match kind {
            "message" => open = message(req, o, &path, open)?,
            "reasoning" => {
                let block = reasoning(o, &path)?;
                push_assistant(req, &mut open, block);
            }
            "function_call" => {
                let args = req_str(o, "arguments", &path)?;
                let input = if args.trim().is_empty() {
                    Value::Object(Map::new())
                } else {
                    serde_json::from_str(args).map_err(|e| {
                        ApiError::invalid_field(format!("{path}.arguments"), format!("invalid JSON: {e}"))
                    })?
                };
                let name = req_str(o, "name", &path)?;
                let name = match o.get("namespace").and_then(Value::as_str).filter(|n| !n.is_empty()) {
                    Some(ns) => format!("{ns}{NAMESPACE_SEPARATOR}{name}"),
                    None => name.to_string(),
                };
                let block = Block::ToolUse { id: req_str(o, "call_id", &path)?.to_string(), name, input };
                push_assistant(req, &mut open, block);
            }
            "custom_tool_call" => {
                let block = Block::ToolUse {
                    id: req_str(o, "call_id", &path)?.to_string(),
                    name: req_str(o, "name", &path)?.to_string(),
                    input: json!({"input": req_str(o, "input", &path)?}),
                };
                push_assistant(req, &mut open, block);
            }
            "function_call_output" | "custom_tool_call_output" => {
                let block = Block::ToolResult {
                    tool_use_id: req_str(o, "call_id", &path)?.to_string(),
                    content: tool_output(o.get("output"), &format!("{path}.output"), &mut req.unsupported)?,
                    is_error: false,
                    cache_control: None,
                };
                match req.messages.last_mut() {
                    Some(last) if open == Open::ToolResults => last.content.push(block),
                    _ => req.messages.push(Message { role: Role::User, content: vec![block] }),
                }
                open = Open::ToolResults;
            }
            _ => {
                req.unsupported.insert(path, item.clone());
                open = Open::None;
            }
        }
    }
    Ok(())
}

fn push_assistant(req: &mut ir::Request, open: &mut Open, block: Block) {
    match req.messages.last_mut() {
        Some(last) if *open == Open::Assistant => last.content.push(block),
        _ => req.messages.push(Message { role: Role::Assistant, content: vec![block] }),
    }
    *open = Open::Assistant;
}

fn text_block(text: String) -> Block {
    Block::Text { text, cache_control: None }
}

fn message(req: &mut ir::Request, o: &Map<String, Value>, path: &str, open: Open) -> Result<Open, ApiError> {
    let role = req_str(o, "role", path)?;
    for (k, x) in o {
        let known = matches!(k.as_str(), "type" | "role" | "content" | "id" | "status" | "phase");
        if !known && !x.is_null() {
            req.unsupported.insert(format!("{path}.{k}"), x.clone());
        }
    }
    let cpath = format!("{path}.content");
    match role {
        "system" | "developer" => {
            let blocks = user_content(o.get("content"), &cpath, &mut req.unsupported)?;
            let mut texts = Vec::with_capacity(blocks.len());
            for (j, b) in blocks.into_iter().enumerate() {
                match b {
                    Block::Text { text, .. } => texts.push(text),
                    _ => {
                        return Err(ApiError::invalid_field(
                            format!("{cpath}[{j}]"),
                            "system and developer messages may only hold text",
                        ));
                    }
                }
            }
            if req.messages.is_empty() {
                req.system.extend(texts.into_iter().map(|text| SystemBlock { text, cache_control: None }));
            } else {
                req.messages.push(Message { role: Role::System, content: texts.into_iter().map(text_block).collect() });
            }
            Ok(Open::None)
        }
        "user" => {
            let blocks = user_content(o.get("content"), &cpath, &mut req.unsupported)?;
            match req.messages.last_mut() {
                Some(last) if open == Open::ToolResults => last.content.extend(blocks),
                _ => req.messages.push(Message { role: Role::User, content: blocks }),
            }
            Ok(Open::None)
        }
        "assistant" => {
            let mut open = open;
            for block in assistant_content(o.get("content"), &cpath)? {
                push_assistant(req, &mut open, block);
            }
            Ok(open)
        }
        other => Err(ApiError::invalid_field(format!("{path}.role"), format!("unknown role {other:?}"))),
    }
}

/// User / system content: a string or `input_text` / `input_image` / `input_file` parts.
fn user_content(v: Option<&Value>, cpath: &str, unsupported: &mut Map<String, Value>) -> Result<Vec<Block>, ApiError> {
    let parts = match v {
        Some(Value::String(s)) => return Ok(vec![text_block(s.clone())]),
        Some(Value::Array(parts)) => parts,
        _ => return Err(ApiError::invalid_field(cpath, "expected a string or an array of parts")),
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        let ppath = format!("{cpath}[{j}]");
        let po = as_object(p, &ppath)?;
        match po.get("type").and_then(Value::as_str) {
            // `output_text` is tolerated here: some clients replay assistant text as user parts.
            Some("input_text" | "output_text") => blocks.push(text_block(req_str(po, "text", &ppath)?.to_string())),
            Some("input_image") => blocks.push(image_part(po, &ppath)?),
            Some("input_file") => blocks.push(file_part(po, &ppath)?),
            // input_audio and anything newer.
            _ => {
                unsupported.insert(ppath, p.clone());
            }
        }
    }
    Ok(blocks)
}

fn assistant_content(v: Option<&Value>, cpath: &str) -> Result<Vec<Block>, ApiError> {
    let parts = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => return Ok(Vec::new()),
        Some(Value::String(s)) => return Ok(vec![text_block(s.clone())]),
        Some(Value::Array(parts)) => parts,
        Some(_) => return Err(ApiError::invalid_field(cpath, "expected a string or an array of parts")),
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        let ppath = format!("{cpath}[{j}]");
        let po = as_object(p, &ppath)?;
        let text = match po.get("type").and_then(Value::as_str) {
            Some("output_text" | "input_text") => req_str(po, "text", &ppath)?,
            Some("refusal") => req_str(po, "refusal", &ppath)?,
            other => {
                return Err(ApiError::invalid_field(
                    format!("{ppath}.type"),
                    format!("unknown assistant part type {:?}", other.unwrap_or("")),
                ));
            }
        };
        blocks.push(text_block(text.to_string()));
    }
    Ok(blocks)
}

fn image_part(po: &Map<String, Value>, ppath: &str) -> Result<Block, ApiError> {
    let source = if let Some(url) = opt_str(po, "image_url", ppath)? {
        media_from_url(url, &format!("{ppath}.image_url"))?
    } else if let Some(id) = opt_str(po, "file_id", ppath)? {
        MediaSource::FileId { file_id: id.to_string() }
    } else {
        return Err(ApiError::invalid_field(ppath, "input_image needs image_url or file_id"));
    };
    Ok(Block::Image { source, cache_control: None })
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

/// An `input_file` part: `file_data` (a data URL, or bare base64 taken as PDF), `file_id` or
/// `file_url`; `filename` becomes the document title.
fn file_part(po: &Map<String, Value>, ppath: &str) -> Result<Block, ApiError> {
    let title = opt_str(po, "filename", ppath)?.map(str::to_string);
    let source = if let Some(data) = opt_str(po, "file_data", ppath)? {
        match parse_data_url(data) {
            Some((media_type, data)) => {
                MediaSource::Base64 { media_type: media_type.to_string(), data: data.to_string() }
            }
            None if data.starts_with("data:") => {
                return Err(ApiError::invalid_field(
                    format!("{ppath}.file_data"),
                    "only base64 data: URLs are supported",
                ));
            }
            None => MediaSource::Base64 { media_type: "application/pdf".into(), data: data.to_string() },
        }
    } else if let Some(id) = opt_str(po, "file_id", ppath)? {
        MediaSource::FileId { file_id: id.to_string() }
    } else if let Some(url) = opt_str(po, "file_url", ppath)? {
        MediaSource::Url { url: url.to_string() }
    } else {
        return Err(ApiError::invalid_field(ppath, "input_file needs file_data, file_id or file_url"));
    };
    Ok(Block::Document { source, title, cache_control: None })
}

/// A tool output: a string or `input_text` / `input_image` parts (files inside tool results
/// have no IR form: unsupported).
fn tool_output(v: Option<&Value>, path: &str, unsupported: &mut Map<String, Value>) -> Result<Vec<Block>, ApiError> {
    match v {
        Some(Value::String(s)) => Ok(vec![text_block(s.clone())]),
        Some(Value::Array(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for (j, p) in parts.iter().enumerate() {
                let ppath = format!("{path}[{j}]");
                let po = as_object(p, &ppath)?;
                match po.get("type").and_then(Value::as_str) {
                    Some("input_text" | "output_text") => {
                        blocks.push(text_block(req_str(po, "text", &ppath)?.to_string()));
                    }
                    Some("input_image") => blocks.push(image_part(po, &ppath)?),
                    _ => {
                        unsupported.insert(ppath, p.clone());
                    }
                }
            }
            Ok(blocks)
        }
        None | Some(Value::Null) => Err(ApiError::invalid_field(path, "required")),
        Some(_) => Err(ApiError::invalid_field(path, "expected a string or an array of parts")),
    }
}

/// A `reasoning` item -> thinking: the summary texts (or, without a summary, the raw
/// `reasoning_text` content) joined by blank lines; `encrypted_content` as the signature.
fn reasoning(o: &Map<String, Value>, path: &str) -> Result<Block, ApiError> {
    let texts = |key: &str, kind: &str| -> Result<Vec<String>, ApiError> {
        let Some(items) = o.get(key).filter(|v| !v.is_null()) else {
            return Ok(Vec::new());
        };
        let kpath = format!("{path}.{key}");
        let items = items.as_array().ok_or_else(|| ApiError::invalid_field(&kpath, "expected an array"))?;
        items
            .iter()
            .enumerate()
            .map(|(j, s)| {
                let spath = format!("{kpath}[{j}]");
                let so = as_object(s, &spath)?;
                match so.get("type").and_then(Value::as_str) {
                    Some(t) if t == kind => Ok(req_str(so, "text", &spath)?.to_string()),
                    other => Err(ApiError::invalid_field(
                        format!("{spath}.type"),
                        format!("expected {kind:?}, got {:?}", other.unwrap_or("")),
                    )),
                }
            })
            .collect()
    };
    let mut parts = texts("summary", "summary_text")?;
    if parts.is_empty() {
        parts = texts("content", "reasoning_text")?;
    }
    let encrypted = opt_str(o, "encrypted_content", path)?;
    if let Some(data) = encrypted.and_then(|e| e.strip_prefix(REDACTED_PREFIX)) {
        return Ok(Block::RedactedThinking { data: data.to_string() });
    }
    Ok(Block::Thinking { thinking: parts.join("\n\n"), signature: encrypted.map(str::to_string) })
}
