//! IR request -> OpenAI-compatible Chat Completions upstream body.
//!
//! Deliberate losses (documented, not refusals):
//! - thinking and redacted-thinking blocks in the history are omitted: Chat Completions has no
//!   reasoning input;
//! - `cache_control` hints are dropped: OpenAI caches prompts automatically;
//! - a tool result's `is_error` becomes an `Error: ` prefix on its text.
//!
//! `top_k` (no Chat field) is forwarded under that name, which open-model servers accept and
//! OpenAI refuses with its own 400. Everything else the target cannot express is refused with a
//! 400 naming the field.

use serde_json::{Map, Value, json};

use crate::ir::{self, ApiError, Block, MediaSource, ReasoningEffort, ResponseFormat, Role, ToolChoice};

use super::wire::{TARGET, data_url};

/// Encodes an IR request for an OpenAI-compatible upstream serving `model`.
pub fn encode_request(req: &ir::Request, model: &str) -> Result<Vec<u8>, ApiError> {
    if let Some(field) = req.unsupported.keys().next() {
        return Err(ApiError::unsupported(field.clone(), TARGET));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(encode_messages(req)?));
    if let Some(max) = req.max_tokens {
        let key = if uses_max_completion_tokens(model) { "max_completion_tokens" } else { "max_tokens" };
        body.insert(key.into(), json!(max));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    // Chat Completions has no top_k; the open-model servers (vLLM, Ollama, LM Studio, Together,
    // Fireworks, OpenRouter, ...) take it under this name, and OpenAI itself answers a clear 400
    // naming it, so it is forwarded rather than dropped or refused here.
    if let Some(k) = req.top_k {
        body.insert("top_k".into(), json!(k));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if !req.stop_sequences.is_empty() {
        body.insert("stop".into(), json!(req.stop_sequences));
    }
    if req.stream {
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    if !req.tools.is_empty() {
        body.insert("tools".into(), encode_tools(req));
        if let Some(choice) = &req.tool_choice {
            body.insert("tool_choice".into(), encode_tool_choice(choice));
        }
        if let Some(p) = req.parallel_tool_calls {
            body.insert("parallel_tool_calls".into(), json!(p));
        }
    } else if let Some(ToolChoice::Any | ToolChoice::Tool { .. }) = &req.tool_choice {
        return Err(ApiError::invalid_field("tool_choice", "requires a tool but the request has no tools"));
    }
    if let Some(effort) = reasoning_effort(req) {
        body.insert("reasoning_effort".into(), json!(effort));
    }
    match &req.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            body.insert("response_format".into(), json!({"type": "json_object"}));
        }
        Some(ResponseFormat::JsonSchema { name, schema, strict, description }) => {
            let mut js = Map::new();
            js.insert("name".into(), json!(name));
            if let Some(d) = description {
                js.insert("description".into(), json!(d));
            }
            js.insert("schema".into(), schema.clone());
            if let Some(s) = strict {
                js.insert("strict".into(), json!(s));
            }
            body.insert("response_format".into(), json!({"type": "json_schema", "json_schema": js}));
        }
    }
    if let Some(user) = &req.user {
        body.insert("user".into(), json!(user));
    }
    serde_json::to_vec(&Value::Object(body))
        .map_err(|e| ApiError::new(ir::ErrorKind::Api, format!("encoding request: {e}")))
}

/// OpenAI reasoning models (o1, o3, o4, gpt-5...) reject `max_tokens`.
fn uses_max_completion_tokens(model: &str) -> bool {
    let base = model.rsplit('/').next().unwrap_or(model);
    ["o1", "o3", "o4", "gpt-5"].iter().any(|p| base.starts_with(p))
}

fn reasoning_effort(req: &ir::Request) -> Option<&'static str> {
    let r = req.reasoning.as_ref()?;
    if !r.enabled || r.adaptive {
        return None;
    }
    let effort = r.effort.or_else(|| r.budget_tokens.map(ReasoningEffort::from_budget))?;
    Some(match effort {
        ReasoningEffort::Max => "high",
        other => other.as_str(),
    })
}

fn encode_tools(req: &ir::Request) -> Value {
    let tools = req.tools.iter().map(|t| {
        let mut f = Map::new();
        f.insert("name".into(), json!(t.name));
        if let Some(d) = &t.description {
            f.insert("description".into(), json!(d));
        }
        f.insert("parameters".into(), t.input_schema.clone());
        if let Some(s) = t.strict {
            f.insert("strict".into(), json!(s));
        }
        json!({"type": "function", "function": f})
    });
    Value::Array(tools.collect())
}

fn encode_tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::Any => json!("required"),
        ToolChoice::None => json!("none"),
        ToolChoice::Tool { name } => json!({"type": "function", "function": {"name": name}}),
    }
}

fn encode_messages(req: &ir::Request) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(req.messages.len() + 1);
    if !req.system.is_empty() {
        let text: Vec<&str> = req.system.iter().map(|b| b.text.as_str()).collect();
        out.push(json!({"role": "system", "content": text.join("\n\n")}));
    }
    for (i, m) in req.messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        match m.role {
            Role::System => {
                let texts = only_text(&m.content, &path)?;
                out.push(json!({"role": "system", "content": texts.join("\n\n")}));
            }
            Role::Assistant => out.push(assistant_message(&m.content, &path)?),
            Role::User => user_messages(&m.content, &path, &mut out)?,
        }
    }
    Ok(out)
}

fn only_text<'a>(blocks: &'a [Block], path: &str) -> Result<Vec<&'a str>, ApiError> {
    blocks
        .iter()
        .enumerate()
        .map(|(j, b)| match b {
            Block::Text { text, .. } => Ok(text.as_str()),
            _ => Err(ApiError::unsupported(format!("{path}.content[{j}]"), TARGET)),
        })
        .collect()
}

fn assistant_message(blocks: &[Block], path: &str) -> Result<Value, ApiError> {
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for (j, b) in blocks.iter().enumerate() {
        match b {
            Block::Text { text, .. } => texts.push(text.as_str()),
            Block::ToolUse { id, name, input } => calls.push(json!({
                "id": id,
                "type": "function",
                "function": {"name": name, "arguments": input.to_string()},
            })),
            // Chat Completions has no reasoning input.
            Block::Thinking { .. } | Block::RedactedThinking { .. } => {}
            _ => {
                return Err(ApiError::unsupported(format!("{path}.content[{j}]"), TARGET));
            }
        }
    }
    let mut msg = Map::new();
    msg.insert("role".into(), json!("assistant"));
    msg.insert("content".into(), if texts.is_empty() { Value::Null } else { json!(texts.join("\n\n")) });
    if !calls.is_empty() {
        msg.insert("tool_calls".into(), Value::Array(calls));
    }
    Ok(Value::Object(msg))
}

/// One IR user message -> `tool` messages (its tool results, first), then one user message with
/// the images those results carried and the message's other content.
fn user_messages(blocks: &[Block], path: &str, out: &mut Vec<Value>) -> Result<(), ApiError> {
    let mut parts = Vec::new();
    let mut tool_images = Vec::new();
    for (j, b) in blocks.iter().enumerate() {
        let bpath = format!("{path}.content[{j}]");
        match b {
            Block::ToolResult { tool_use_id, content, is_error, .. } => {
                let mut texts = Vec::new();
                for (k, c) in content.iter().enumerate() {
                    let cpath = format!("{bpath}.content[{k}]");
                    match c {
                        Block::Text { text, .. } => texts.push(text.as_str()),
                        Block::Image { source, .. } => tool_images.push(image_part(source, &cpath)?),
                        _ => return Err(ApiError::unsupported(cpath, TARGET)),
                    }
                }
                let mut text = texts.join("\n");
                if *is_error {
                    text.insert_str(0, "Error: ");
                }
                out.push(json!({"role": "tool", "tool_call_id": tool_use_id, "content": text}));
            }
            Block::Text { text, .. } => parts.push(json!({"type": "text", "text": text})),
            Block::Image { source, .. } => parts.push(image_part(source, &bpath)?),
            Block::Document { source, title, .. } => parts.push(document_part(source, title, &bpath)?),
            _ => return Err(ApiError::unsupported(bpath, TARGET)),
        }
    }
    tool_images.append(&mut parts);
    let parts = tool_images;
    if parts.is_empty() {
        return Ok(());
    }
    let all_text = parts.iter().all(|p| p["type"] == "text");
    let content = if all_text {
        let texts: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
        json!(texts.join("\n\n"))
    } else {
        Value::Array(parts)
    };
    out.push(json!({"role": "user", "content": content}));
    Ok(())
}

fn image_part(source: &MediaSource, path: &str) -> Result<Value, ApiError> {
    let url = match source {
        MediaSource::Base64 { media_type, data } => data_url(media_type, data),
        MediaSource::Url { url } => url.clone(),
        MediaSource::Text { .. } | MediaSource::FileId { .. } => {
            return Err(ApiError::unsupported(format!("{path}.source"), TARGET));
        }
    };
    Ok(json!({"type": "image_url", "image_url": {"url": url}}))
}

fn document_part(source: &MediaSource, title: &Option<String>, path: &str) -> Result<Value, ApiError> {
    match source {
        MediaSource::Base64 { media_type, data } => {
            let filename = title.clone().unwrap_or_else(|| "document.pdf".into());
            Ok(json!({"type": "file", "file": {
                "filename": filename,
                "file_data": data_url(media_type, data),
            }}))
        }
        MediaSource::Text { data, .. } => {
            let text = match title {
                Some(t) => format!("{t}\n\n{data}"),
                None => data.clone(),
            };
            Ok(json!({"type": "text", "text": text}))
        }
        MediaSource::Url { .. } | MediaSource::FileId { .. } => {
            Err(ApiError::unsupported(format!("{path}.source"), TARGET))
        }
    }
}
