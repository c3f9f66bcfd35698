//! IR request -> Gemini `generateContent` upstream body. The model and the stream flag go in the
//! URL (`models/{model}:streamGenerateContent?alt=sse`), so the body names neither.
//!
//! Deliberate losses (documented, not refusals):
//! - `cache_control` hints (Gemini caches implicitly);
//! - `user` (Gemini has no end-user field);
//! - `parallel_tool_calls: false` (Gemini has no switch; callers handle several calls anyway);
//! - unsigned thinking and redacted thinking in the history (see `parts`);
//! - mid-conversation system messages become `user` turns in place (Gemini has one
//!   `systemInstruction` and no system role);
//! - a tool result's images follow its `functionResponse` as `inlineData` parts of the same turn.
//!
//! The first `functionCall` of a model turn without a thought signature gets the
//! `skip_thought_signature_validator` signature Google documents for foreign history; Gemini 3
//! answers 400 otherwise. Everything else the target cannot express is refused naming the field.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::ir::{self, ApiError, Block, MediaSource, ResponseFormat, Role, ToolChoice};

use super::parts::{PartsBuilder, Placement, push_model_block, text_part};
use super::wire::{SKIP_SIGNATURE, TARGET, is_image};

/// Encodes an IR request for a Gemini upstream (`_model` is in the URL, not the body).
pub fn encode_request(req: &ir::Request, _model: &str) -> Result<Vec<u8>, ApiError> {
    if let Some(field) = req.unsupported.keys().next() {
        return Err(ApiError::unsupported(field.clone(), TARGET));
    }
    let mut body = Map::new();
    body.insert("contents".into(), Value::Array(encode_contents(req)?));
    if !req.system.is_empty() {
        let parts: Vec<Value> = req.system.iter().map(|s| Value::Object(text_part(&s.text))).collect();
        body.insert("systemInstruction".into(), json!({"parts": parts}));
    }
    if !req.tools.is_empty() {
        let decls: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut f = Map::new();
                f.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    f.insert("description".into(), json!(d));
                }
                f.insert("parametersJsonSchema".into(), t.input_schema.to_value());
                Value::Object(f)
            })
            .collect();
        body.insert("tools".into(), json!([{"functionDeclarations": decls}]));
    }
    // A caller's web search is Google Search grounding (Gemini takes no domain filters).
    if !req.hosted_tools.is_empty()
        && let Value::Array(tools) = body.entry("tools").or_insert_with(|| json!([]))
    {
        tools.push(json!({"googleSearch": {}}));
    }
    if let Some(choice) = &req.tool_choice {
        let config = match choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::Validated => json!({"mode": "VALIDATED"}),
            ToolChoice::Any => json!({"mode": "ANY"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Tool { name } => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        };
        if req.tools.is_empty() && !matches!(choice, ToolChoice::Auto | ToolChoice::None | ToolChoice::Validated) {
            return Err(ApiError::invalid_field("tool_choice", "requires a tool but the request has no tools"));
        }
        if !req.tools.is_empty() {
            body.insert("toolConfig".into(), json!({"functionCallingConfig": config}));
        }
    }
    let config = generation_config(req);
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    crate::jsonwrite::to_vec_sized(&Value::Object(body), crate::jsonwrite::REQUEST_CAPACITY)
        .map_err(|e| ApiError::new(ir::ErrorKind::Api, format!("encoding request: {e}")))
}

fn generation_config(req: &ir::Request) -> Map<String, Value> {
    let mut c = Map::new();
    if let Some(m) = req.max_tokens {
        c.insert("maxOutputTokens".into(), json!(m));
    }
    if let Some(t) = req.temperature {
        c.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        c.insert("topP".into(), json!(p));
    }
    if let Some(k) = req.top_k {
        c.insert("topK".into(), json!(k));
    }
    if !req.stop_sequences.is_empty() {
        c.insert("stopSequences".into(), json!(req.stop_sequences));
    }
    match &req.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            c.insert("responseMimeType".into(), json!("application/json"));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            c.insert("responseMimeType".into(), json!("application/json"));
            c.insert("responseJsonSchema".into(), schema.clone());
        }
    }
    if let Some(r) = &req.reasoning {
        let thinking = if !r.enabled {
            json!({"thinkingBudget": 0})
        } else if r.adaptive {
            json!({"thinkingBudget": -1, "includeThoughts": true})
        } else if let Some(budget) = r.budget_tokens.or(r.effort.map(|e| e.budget_tokens())) {
            json!({"thinkingBudget": budget, "includeThoughts": true})
        } else {
            json!({"includeThoughts": true})
        };
        c.insert("thinkingConfig".into(), thinking);
    }
    c
}

fn encode_contents(req: &ir::Request) -> Result<Vec<Value>, ApiError> {
    // tool_use id -> function name, for functionResponse.name.
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, m) in req.messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        let (role, parts) = match m.role {
            Role::Assistant => {
                let mut b = PartsBuilder::default();
                for (j, block) in m.content.iter().enumerate() {
                    if let Block::ToolUse { id, name, .. } = block {
                        names.insert(id, name);
                    }
                    push_model_block(&mut b, block, Placement::Exact, &format!("{path}.content[{j}]"))?;
                }
                let mut parts = b.finish();
                sign_first_call(&mut parts);
                ("model", parts)
            }
            Role::User | Role::System => ("user", user_parts(&m.content, &path, &names)?),
        };
        if parts.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((r, prev)) if *r == role => {
                prev.extend(parts);
                if role == "model" {
                    // Merged turns: only the first call of the turn needs the signature.
                    strip_extra_skip(prev);
                }
            }
            _ => out.push((role, parts)),
        }
    }
    Ok(out.into_iter().map(|(role, parts)| json!({"role": role, "parts": parts})).collect())
}

/// Gives the first `functionCall` of a model turn the documented skip signature when it has none.
fn sign_first_call(parts: &mut [Value]) {
    if let Some(first) = parts.iter_mut().find(|p| p.get("functionCall").is_some()) {
        if first.get("thoughtSignature").is_none() {
            first["thoughtSignature"] = json!(SKIP_SIGNATURE);
        }
    }
}

fn strip_extra_skip(parts: &mut [Value]) {
    let mut calls = parts.iter_mut().filter(|p| p.get("functionCall").is_some());
    calls.next();
    for p in calls {
        if p.get("thoughtSignature").and_then(Value::as_str) == Some(SKIP_SIGNATURE) {
            if let Some(o) = p.as_object_mut() {
                o.remove("thoughtSignature");
            }
        }
    }
}

fn user_parts(blocks: &[Block], path: &str, names: &HashMap<&str, &str>) -> Result<Vec<Value>, ApiError> {
    let mut parts = Vec::new();
    let mut after = Vec::new();
    for (j, b) in blocks.iter().enumerate() {
        let bpath = format!("{path}.content[{j}]");
        match b {
            Block::Text { text, .. } if text.is_empty() => {}
            Block::Text { text, .. } => parts.push(Value::Object(text_part(text))),
            Block::Image { source, .. } => parts.push(media_part(source, &bpath, true)?),
            Block::Document { source: MediaSource::Text { data, .. }, title, .. } => {
                let text = match title {
                    Some(t) => format!("{t}\n\n{data}"),
                    None => data.clone(),
                };
                parts.push(Value::Object(text_part(&text)));
            }
            Block::Document { source, .. } => parts.push(media_part(source, &bpath, false)?),
            Block::ToolResult { tool_use_id, content, is_error, .. } => {
                let name = names.get(tool_use_id.as_str()).ok_or_else(|| {
                    ApiError::invalid_field(
                        format!("{bpath}.tool_use_id"),
                        format!("no earlier tool call with id {tool_use_id:?} (Gemini needs its function name)"),
                    )
                })?;
                let mut texts = Vec::new();
                for (k, c) in content.iter().enumerate() {
                    match c {
                        Block::Text { text, .. } => texts.push(text.as_str()),
                        Block::Image { source, .. } => {
                            after.push(media_part(source, &format!("{bpath}.content[{k}]"), true)?);
                        }
                        _ => return Err(ApiError::unsupported(format!("{bpath}.content[{k}]"), TARGET)),
                    }
                }
                let key = if *is_error { "error" } else { "result" };
                parts.push(json!({"functionResponse": {
                    "id": tool_use_id,
                    "name": name,
                    "response": {key: texts.join("\n")},
                }}));
            }
            // Thinking in a user message has no Gemini form.
            _ => return Err(ApiError::unsupported(bpath, TARGET)),
        }
    }
    parts.append(&mut after);
    Ok(parts)
}

/// An image or PDF: base64 -> `inlineData`; gs:// or https URLs with a known type -> `fileData`.
fn media_part(source: &MediaSource, path: &str, image: bool) -> Result<Value, ApiError> {
    match source {
        MediaSource::Base64 { media_type, data } => Ok(json!({"inlineData": {"mimeType": media_type, "data": data}})),
        MediaSource::Url { url } if url.starts_with("gs://") || url.starts_with("https://") => {
            let mime = mime_from_url(url).filter(|m| is_image(m) == image).ok_or_else(|| {
                ApiError::invalid_field(
                    format!("{path}.source.url"),
                    "Gemini needs the media type of a file URL; use a URL ending in a known extension or send the bytes",
                )
            })?;
            Ok(json!({"fileData": {"mimeType": mime, "fileUri": url}}))
        }
        _ => Err(ApiError::unsupported(format!("{path}.source"), TARGET)),
    }
}

fn mime_from_url(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        _ => return None,
    })
}
