//! IR request -> OpenAI Responses upstream body (an Anthropic / Chat / Gemini caller routed to an
//! `openai` provider with `api: responses`). Always stateless: `store: false`, the whole history
//! in `input`, and `include: ["reasoning.encrypted_content"]` when reasoning is requested.
//!
//! Deliberate losses (documented, not refusals):
//! - thinking without a Responses signature (unsigned, or signed by another provider) is omitted
//!   from the history: OpenAI only accepts reasoning items it produced, id and encrypted content
//!   together (see `wire::upstream_signature`); redacted thinking is omitted likewise;
//! - `cache_control` hints are dropped: OpenAI caches prompts automatically;
//! - a tool result's `is_error` becomes an `Error: ` prefix on its text.
//!
//! `top_k` is forwarded under that name (as for Chat). Everything else the target cannot express
//! (`stop_sequences`: the Responses API has no stop parameter) is refused with a 400 naming it.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::ir::{self, ApiError, Block, MediaSource, ReasoningEffort, ResponseFormat, Role, ToolChoice};

use super::wire::{TARGET, custom_input_text, data_url, split_upstream_signature};

/// Encodes an IR request for a Responses upstream serving `model`.
pub fn encode_request(req: &ir::Request, model: &str) -> Result<Vec<u8>, ApiError> {
    if let Some(field) = req.unsupported.keys().next() {
        return Err(ApiError::unsupported(field.clone(), TARGET));
    }
    if !req.stop_sequences.is_empty() {
        return Err(ApiError::unsupported("stop_sequences", TARGET));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    if !req.system.is_empty() {
        let text: Vec<&str> = req.system.iter().map(|b| b.text.as_str()).collect();
        body.insert("instructions".into(), json!(text.join("\n\n")));
    }
    body.insert("input".into(), Value::Array(Input::new(req).encode()?));
    body.insert("store".into(), json!(false));
    if let Some(max) = req.max_tokens {
        body.insert("max_output_tokens".into(), json!(max));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    // No top_k in OpenAI's Responses API: `crate::policy::fit` takes it out for providers that
    // do not accept it; a Responses server that does gets it under its common name.
    if let Some(k) = req.top_k {
        body.insert("top_k".into(), json!(k));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if req.stream {
        body.insert("stream".into(), json!(true));
    }
    if !req.tools.is_empty() || !req.hosted_tools.is_empty() {
        let mut tools = tools_json(&req.tools);
        if let Value::Array(list) = &mut tools {
            list.extend(req.hosted_tools.iter().map(web_search));
        }
        body.insert("tools".into(), tools);
    }
    if !req.tools.is_empty() {
        if let Some(choice) = &req.tool_choice {
            body.insert("tool_choice".into(), tool_choice_json(choice, &req.tools));
        }
        if let Some(p) = req.parallel_tool_calls {
            body.insert("parallel_tool_calls".into(), json!(p));
        }
    } else if let Some(ToolChoice::Any | ToolChoice::Tool { .. }) = &req.tool_choice {
        return Err(ApiError::invalid_field("tool_choice", "requires a tool but the request has no tools"));
    }
    if let Some(r) = &req.reasoning {
        if r.enabled && !r.adaptive {
            let effort = r.effort.or_else(|| r.budget_tokens.map(ReasoningEffort::from_budget));
            let effort = match effort {
                Some(ReasoningEffort::Max) => Some("xhigh"),
                Some(e) => Some(e.as_str()),
                None => None,
            };
            let mut o = Map::new();
            if let Some(e) = effort {
                o.insert("effort".into(), json!(e));
            }
            o.insert("summary".into(), json!("auto"));
            body.insert("reasoning".into(), Value::Object(o));
        } else if r.adaptive {
            body.insert("reasoning".into(), json!({"summary": "auto"}));
        } else {
            body.insert("reasoning".into(), json!({"effort": "none"}));
        }
        if r.enabled {
            body.insert("include".into(), json!(["reasoning.encrypted_content"]));
        }
    }
    if let Some(format) = format_json(req.response_format.as_ref()) {
        body.insert("text".into(), json!({"format": format}));
    }
    if let Some(user) = &req.user {
        body.insert("user".into(), json!(user));
    }
    crate::jsonwrite::to_vec_sized(&Value::Object(body), crate::jsonwrite::REQUEST_CAPACITY)
        .map_err(|e| ApiError::new(ir::ErrorKind::Api, format!("encoding request: {e}")))
}

/// `text.format` for a response format (`None` for plain text).
pub(super) fn format_json(format: Option<&ResponseFormat>) -> Option<Value> {
    match format? {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(json!({"type": "json_object"})),
        ResponseFormat::JsonSchema { name, schema, strict, description } => {
            let mut f = Map::new();
            f.insert("type".into(), json!("json_schema"));
            f.insert("name".into(), json!(name));
            if let Some(d) = description {
                f.insert("description".into(), json!(d));
            }
            f.insert("schema".into(), schema.clone());
            if let Some(s) = strict {
                f.insert("strict".into(), json!(s));
            }
            Some(Value::Object(f))
        }
    }
}

/// OpenAI's hosted `web_search` tool for a caller's web search.
fn web_search(t: &ir::HostedTool) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!("web_search"));
    if !t.allowed_domains.is_empty() {
        o.insert("filters".into(), json!({"allowed_domains": t.allowed_domains}));
    }
    if let Some(l) = &t.user_location {
        let mut l = l.clone();
        l.insert("type".into(), json!("approximate"));
        o.insert("user_location".into(), Value::Object(l));
    }
    Value::Object(o)
}

/// Tools in the flat Responses shape (`custom` tools as custom tools again).
pub(super) fn tools_json(tools: &[ir::Tool]) -> Value {
    Value::Array(
        tools
            .iter()
            .map(|t| {
                let mut o = Map::new();
                o.insert("type".into(), json!(if t.custom { "custom" } else { "function" }));
                o.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    o.insert("description".into(), json!(d));
                }
                if !t.custom {
                    o.insert("parameters".into(), t.input_schema.to_value());
                    o.insert("strict".into(), json!(t.strict.unwrap_or(false)));
                }
                Value::Object(o)
            })
            .collect(),
    )
}

pub(super) fn tool_choice_json(choice: &ToolChoice, tools: &[ir::Tool]) -> Value {
    match choice {
        ToolChoice::Auto | ToolChoice::Validated => json!("auto"),
        ToolChoice::Any => json!("required"),
        ToolChoice::None => json!("none"),
        ToolChoice::Tool { name } => {
            let custom = tools.iter().any(|t| t.custom && &t.name == name);
            json!({"type": if custom { "custom" } else { "function" }, "name": name})
        }
    }
}

/// Builds the `input` items of one request.
struct Input<'a> {
    req: &'a ir::Request,
    /// Names of custom tools.
    custom: HashSet<&'a str>,
    /// Tool-call id -> whether it called a custom tool.
    custom_calls: HashMap<&'a str, bool>,
    out: Vec<Value>,
}

impl<'a> Input<'a> {
    fn new(req: &'a ir::Request) -> Self {
        let custom: HashSet<&str> = req.tools.iter().filter(|t| t.custom).map(|t| t.name.as_str()).collect();
        let mut custom_calls = HashMap::new();
        for m in &req.messages {
            for b in &m.content {
                if let Block::ToolUse { id, name, .. } = b {
                    custom_calls.insert(id.as_str(), custom.contains(name.as_str()));
                }
            }
        }
        Input { req, custom, custom_calls, out: Vec::new() }
    }

    fn encode(mut self) -> Result<Vec<Value>, ApiError> {
        for (i, m) in self.req.messages.iter().enumerate() {
            let path = format!("messages[{i}]");
            match m.role {
                Role::System => {
                    let parts = self.parts(&m.content, &format!("{path}.content"), false)?;
                    self.out.push(json!({"type": "message", "role": "developer", "content": parts}));
                }
                Role::User => self.user(&m.content, &path)?,
                Role::Assistant => self.assistant(&m.content, &path)?,
            }
        }
        Ok(self.out)
    }

    fn user(&mut self, blocks: &[Block], path: &str) -> Result<(), ApiError> {
        let mut rest = Vec::new();
        for (j, b) in blocks.iter().enumerate() {
            let bpath = format!("{path}.content[{j}]");
            match b {
                Block::ToolResult { tool_use_id, content, is_error, .. } => {
                    let custom = self.custom_calls.get(tool_use_id.as_str()).copied().unwrap_or(false);
                    let output = self.tool_output(content, *is_error, &bpath)?;
                    let kind = if custom { "custom_tool_call_output" } else { "function_call_output" };
                    self.out.push(json!({"type": kind, "call_id": tool_use_id, "output": output}));
                }
                other => rest.push((j, other)),
            }
        }
        if rest.is_empty() {
            return Ok(());
        }
        let mut parts = Vec::with_capacity(rest.len());
        for (j, b) in rest {
            parts.push(self.part(b, &format!("{path}.content[{j}]"), true)?);
        }
        self.out.push(json!({"type": "message", "role": "user", "content": parts}));
        Ok(())
    }

    /// A tool output: a string when it is all text, else input parts.
    fn tool_output(&self, content: &[Block], is_error: bool, path: &str) -> Result<Value, ApiError> {
        let all_text = content.iter().all(|c| matches!(c, Block::Text { .. }));
        if all_text {
            let texts: Vec<&str> = content
                .iter()
                .filter_map(|c| if let Block::Text { text, .. } = c { Some(text.as_str()) } else { None })
                .collect();
            let mut text = texts.join("\n");
            if is_error {
                text.insert_str(0, "Error: ");
            }
            return Ok(json!(text));
        }
        let mut parts = self.parts(content, &format!("{path}.content"), true)?;
        if is_error {
            parts.insert(0, json!({"type": "input_text", "text": "Error:"}));
        }
        Ok(Value::Array(parts))
    }

    fn parts(&self, blocks: &[Block], path: &str, media: bool) -> Result<Vec<Value>, ApiError> {
        blocks.iter().enumerate().map(|(j, b)| self.part(b, &format!("{path}[{j}]"), media)).collect()
    }

    /// One user-side content part. `path` names the block.
    fn part(&self, b: &Block, path: &str, media: bool) -> Result<Value, ApiError> {
        match b {
            Block::Text { text, .. } => Ok(json!({"type": "input_text", "text": text})),
            Block::Image { source, .. } if media => image_part(source, path),
            Block::Document { source, title, .. } if media => Ok(document_part(source, title.as_deref())),
            _ => Err(ApiError::unsupported(path, TARGET)),
        }
    }

    fn assistant(&mut self, blocks: &[Block], path: &str) -> Result<(), ApiError> {
        let mut texts: Vec<&str> = Vec::new();
        for (j, b) in blocks.iter().enumerate() {
            match b {
                Block::Text { text, .. } => {
                    texts.push(text.as_str());
                    continue;
                }
                Block::Thinking { thinking, signature } => {
                    self.flush_text(&mut texts);
                    let Some((id, encrypted)) = signature.as_deref().and_then(split_upstream_signature) else {
                        continue; // not produced by a Responses upstream: omitted (see above)
                    };
                    let summary: Vec<Value> = if thinking.is_empty() {
                        Vec::new()
                    } else {
                        vec![json!({"type": "summary_text", "text": thinking})]
                    };
                    self.out.push(json!({"type": "reasoning", "id": id, "summary": summary,
                        "encrypted_content": encrypted}));
                }
                Block::RedactedThinking { .. } => self.flush_text(&mut texts),
                Block::ToolUse { id, name, input } => {
                    self.flush_text(&mut texts);
                    if self.custom.contains(name.as_str()) {
                        self.out.push(json!({"type": "custom_tool_call", "call_id": id, "name": name,
                            "input": custom_input_text(input)}));
                    } else {
                        self.out.push(json!({"type": "function_call", "call_id": id, "name": name,
                            "arguments": crate::dialects::json_text(input)}));
                    }
                }
                _ => return Err(ApiError::unsupported(format!("{path}.content[{j}]"), TARGET)),
            }
        }
        self.flush_text(&mut texts);
        Ok(())
    }

    /// Assistant text as an easy input message with string content (an output message item
    /// would need the id and status of a stored item).
    fn flush_text(&mut self, texts: &mut Vec<&str>) {
        if !texts.is_empty() {
            let content = texts.join("\n\n");
            texts.clear();
            self.out.push(json!({"type": "message", "role": "assistant", "content": content}));
        }
    }
}

fn image_part(source: &MediaSource, path: &str) -> Result<Value, ApiError> {
    match source {
        MediaSource::Base64 { media_type, data } => {
            Ok(json!({"type": "input_image", "image_url": data_url(media_type, data), "detail": "auto"}))
        }
        MediaSource::Url { url } => Ok(json!({"type": "input_image", "image_url": url, "detail": "auto"})),
        MediaSource::FileId { file_id } => Ok(json!({"type": "input_image", "file_id": file_id, "detail": "auto"})),
        MediaSource::Text { .. } => Err(ApiError::unsupported(format!("{path}.source"), TARGET)),
    }
}

fn document_part(source: &MediaSource, title: Option<&str>) -> Value {
    match source {
        MediaSource::Base64 { media_type, data } => json!({
            "type": "input_file",
            "filename": title.unwrap_or("document.pdf"),
            "file_data": data_url(media_type, data),
        }),
        MediaSource::Url { url } => {
            let mut o = json!({"type": "input_file", "file_url": url});
            if let Some(t) = title {
                o["filename"] = json!(t);
            }
            o
        }
        MediaSource::FileId { file_id } => json!({"type": "input_file", "file_id": file_id}),
        MediaSource::Text { data, .. } => {
            let text = match title {
                Some(t) => format!("{t}\n\n{data}"),
                None => data.clone(),
            };
            json!({"type": "input_text", "text": text})
        }
    }
}
