//! Gemini `contents` (caller history) -> IR messages.
//!
//! - Roles `user` (also the legacy `function`) and `model`; a missing role is `user`.
//! - A part's `thoughtSignature` becomes an IR thinking block carrying it, placed right before
//!   the part's own block (a thought part keeps its text in that same block), so every
//!   signature survives byte for byte.
//! - `functionCall` parts without an `id` get a stable one from their position
//!   (`call_<content>_<part>`); each `functionResponse` is paired with the call whose id it names,
//!   else with the most recent unanswered call of the same name (Gemini CLI invents its own ids
//!   when the model sent none).
//! - Tool results: `{"output": s}` / `{"result": s}` become text, `{"error": s}` an error result,
//!   any other response object its JSON text; images in `functionResponse.parts` are carried.

use serde_json::{Map, Value};

use crate::ir::{self, ApiError, Block, MediaSource, Message, Role};

use super::wire::{as_array, as_bool, as_object, as_str, camel, get, is_image};

/// A function call seen in the history, for pairing responses.
struct Call {
    /// The IR tool_use id.
    id: String,
    /// The id the caller sent, if any.
    wire_id: Option<String>,
    name: String,
    answered: bool,
}

/// Decodes `contents` into `req.messages`.
pub fn decode_contents(req: &mut ir::Request, contents: &[Value]) -> Result<(), ApiError> {
    let mut calls = Vec::new();
    for (i, c) in contents.iter().enumerate() {
        let path = format!("contents[{i}]");
        let o = as_object(c, &path)?;
        let role = match get(o, "role").map(|r| as_str(r, &format!("{path}.role"))).transpose()? {
            None | Some("user" | "function" | "") => Role::User,
            Some("model") => Role::Assistant,
            Some(other) => {
                return Err(ApiError::invalid_field(format!("{path}.role"), format!("unknown role {other:?}")));
            }
        };
        let parts = match get(o, "parts") {
            Some(p) => as_array(p, &format!("{path}.parts"))?.as_slice(),
            None => &[],
        };
        let mut blocks = Vec::new();
        for (j, p) in parts.iter().enumerate() {
            let ppath = format!("{path}.parts[{j}]");
            let mut ctx = Ctx { path: &ppath, content: i, part: j, calls: &mut calls };
            decode_part(p, &mut ctx, &mut blocks, &mut req.unsupported)?;
        }
        if !blocks.is_empty() {
            req.messages.push(Message { role, content: blocks });
        }
    }
    Ok(())
}

struct Ctx<'a> {
    path: &'a str,
    content: usize,
    part: usize,
    calls: &'a mut Vec<Call>,
}

/// The keys a part may carry besides its payload.
fn is_part_meta(key: &str) -> bool {
    matches!(key, "thought" | "thoughtSignature" | "partMetadata" | "mediaResolution")
}

fn decode_part(
    p: &Value,
    ctx: &mut Ctx<'_>,
    blocks: &mut Vec<Block>,
    unsupported: &mut Map<String, Value>,
) -> Result<(), ApiError> {
    let path = ctx.path;
    let o = as_object(p, path)?;
    let signature = match get(o, "thoughtSignature") {
        Some(s) => Some(as_str(s, &format!("{path}.thoughtSignature"))?.to_string()),
        None => None,
    };
    let thought = match get(o, "thought") {
        Some(t) => as_bool(t, &format!("{path}.thought"))?,
        None => false,
    };
    let payload: Vec<(String, &Value)> =
        o.iter().filter(|(k, v)| !v.is_null() && !is_part_meta(&camel(k))).map(|(k, v)| (camel(k), v)).collect();
    let block = match payload.as_slice() {
        [] => None,
        [(key, v)] => match key.as_str() {
            "text" => {
                let text = as_str(v, &format!("{path}.text"))?;
                if thought {
                    let (thinking, signature) = match signature.as_deref().and_then(super::signature::unwrap) {
                        Some((t, s)) => (t, Some(s)),
                        None => (text.to_string(), signature),
                    };
                    blocks.push(Block::Thinking { thinking, signature });
                    return Ok(());
                }
                (!text.is_empty()).then(|| Block::Text { text: text.to_string(), cache_control: None })
            }
            "inlineData" => match inline_data(v, &format!("{path}.inlineData"))? {
                Some(b) => Some(b),
                None => return unsupported_part(path, p, unsupported),
            },
            "fileData" => match file_data(v, &format!("{path}.fileData"))? {
                Some(b) => Some(b),
                None => return unsupported_part(path, p, unsupported),
            },
            "functionCall" => Some(function_call(v, ctx)?),
            "functionResponse" => match function_response(v, ctx)? {
                Some(b) => Some(b),
                None => return unsupported_part(path, p, unsupported),
            },
            // executableCode, codeExecutionResult, videoMetadata, toolCall...
            _ => return unsupported_part(path, p, unsupported),
        },
        _ => return unsupported_part(path, p, unsupported),
    };
    if let Some(signature) = signature {
        // A signature amux wrapped for this caller carries its thinking text back with it.
        let (thinking, signature) = super::signature::unwrap(&signature).unwrap_or((String::new(), signature));
        blocks.push(Block::Thinking { thinking, signature: Some(signature) });
    }
    blocks.extend(block);
    Ok(())
}

fn unsupported_part(path: &str, p: &Value, unsupported: &mut Map<String, Value>) -> Result<(), ApiError> {
    unsupported.insert(path.to_string(), p.clone());
    Ok(())
}

fn mime_and(v: &Value, path: &str, data_key: &str) -> Result<(String, String), ApiError> {
    let o = as_object(v, path)?;
    let mime = as_str(get(o, "mimeType").unwrap_or(&Value::Null), &format!("{path}.mimeType"))?;
    let data = as_str(get(o, data_key).unwrap_or(&Value::Null), &format!("{path}.{data_key}"))?;
    Ok((mime.to_string(), data.to_string()))
}

/// `inlineData` -> image or PDF; `None` for other media (audio, video, text...).
fn inline_data(v: &Value, path: &str) -> Result<Option<Block>, ApiError> {
    let (media_type, data) = mime_and(v, path, "data")?;
    let source = MediaSource::Base64 { media_type: media_type.clone(), data };
    Ok(media_block(&media_type, source))
}

/// `fileData` -> image or PDF by URL; `None` for other media.
fn file_data(v: &Value, path: &str) -> Result<Option<Block>, ApiError> {
    let (media_type, url) = mime_and(v, path, "fileUri")?;
    Ok(media_block(&media_type, MediaSource::Url { url }))
}

fn media_block(media_type: &str, source: MediaSource) -> Option<Block> {
    if is_image(media_type) {
        Some(Block::Image { source, cache_control: None })
    } else if media_type == "application/pdf" {
        Some(Block::Document { source, title: None, cache_control: None })
    } else {
        None
    }
}

fn function_call(v: &Value, ctx: &mut Ctx<'_>) -> Result<Block, ApiError> {
    let path = format!("{}.functionCall", ctx.path);
    let o = as_object(v, &path)?;
    let name = as_str(get(o, "name").unwrap_or(&Value::Null), &format!("{path}.name"))?.to_string();
    let input = match get(o, "args") {
        Some(a @ Value::Object(_)) => a.clone(),
        Some(_) => return Err(ApiError::invalid_field(format!("{path}.args"), "expected an object")),
        None => Value::Object(Map::new()),
    };
    let wire_id = match get(o, "id") {
        Some(i) => Some(as_str(i, &format!("{path}.id"))?.to_string()).filter(|i| !i.is_empty()),
        None => None,
    };
    let id = match &wire_id {
        Some(w) if !ctx.calls.iter().any(|c| &c.id == w) => w.clone(),
        _ => format!("call_{}_{}", ctx.content, ctx.part),
    };
    ctx.calls.push(Call { id: id.clone(), wire_id, name: name.clone(), answered: false });
    Ok(Block::ToolUse { id, name, input })
}

fn function_response(v: &Value, ctx: &mut Ctx<'_>) -> Result<Option<Block>, ApiError> {
    let path = format!("{}.functionResponse", ctx.path);
    let o = as_object(v, &path)?;
    let name = as_str(get(o, "name").unwrap_or(&Value::Null), &format!("{path}.name"))?;
    let wire_id = match get(o, "id") {
        Some(i) => Some(as_str(i, &format!("{path}.id"))?).filter(|i| !i.is_empty()),
        None => None,
    };
    for (k, x) in o {
        let k = camel(k);
        let default = x.is_null() || x == &Value::Bool(false);
        if !matches!(k.as_str(), "name" | "id" | "response" | "parts" | "willContinue") && !default {
            return Ok(None); // scheduling...
        }
        if k == "willContinue" && !default {
            return Ok(None);
        }
    }
    let by_id = wire_id.and_then(|w| ctx.calls.iter().rposition(|c| c.wire_id.as_deref() == Some(w) || c.id == w));
    let by_name = || ctx.calls.iter().rposition(|c| !c.answered && c.name == name);
    let tool_use_id = match by_id.or_else(by_name) {
        Some(k) => {
            ctx.calls[k].answered = true;
            ctx.calls[k].id.clone()
        }
        None => match wire_id {
            Some(w) => w.to_string(),
            None => {
                return Err(ApiError::invalid_field(path, format!("no earlier functionCall named {name:?} to answer")));
            }
        },
    };
    let (text, is_error) = response_text(get(o, "response"));
    let mut content = Vec::new();
    if !text.is_empty() {
        content.push(Block::Text { text, cache_control: None });
    }
    if let Some(parts) = get(o, "parts") {
        for (k, part) in as_array(parts, &format!("{path}.parts"))?.iter().enumerate() {
            let ppath = format!("{path}.parts[{k}]");
            let po = as_object(part, &ppath)?;
            let block = match (get(po, "inlineData"), get(po, "fileData")) {
                (Some(d), None) => inline_data(d, &format!("{ppath}.inlineData"))?,
                (None, Some(f)) => file_data(f, &format!("{ppath}.fileData"))?,
                _ => None,
            };
            match block {
                Some(b @ Block::Image { .. }) => content.push(b),
                _ => return Ok(None),
            }
        }
    }
    Ok(Some(Block::ToolResult { tool_use_id, content, is_error, cache_control: None }))
}

/// A function response object as text, and whether it reports an error.
fn response_text(v: Option<&Value>) -> (String, bool) {
    let Some(v) = v else {
        return (String::new(), false);
    };
    if let Some(o) = v.as_object() {
        if o.len() == 1 {
            let (k, x) = o.iter().next().map_or(("", &Value::Null), |(k, x)| (k.as_str(), x));
            match (k, x) {
                ("output" | "result" | "content", Value::String(s)) => return (s.clone(), false),
                ("error", Value::String(s)) => return (s.clone(), true),
                ("error", other) => return (other.to_string(), true),
                _ => {}
            }
        }
        if o.is_empty() {
            return (String::new(), false);
        }
    }
    (v.to_string(), false)
}
