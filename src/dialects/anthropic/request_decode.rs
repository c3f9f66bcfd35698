//! Anthropic caller request -> IR (`decode_request`).
//!
//! Entries the IR cannot hold (server tools, unknown block types, unknown fields, advisory hints
//! such as `context_management` or `cache_control` on `tool_use` blocks) are recorded in
//! [`ir::Request::unsupported`] under their path in the caller's body; [`crate::policy`] then
//! decides which are dropped and reported and which are refused by name.

use serde_json::{Map, Value};

use super::request_fast::decode_fast;
use super::wire::{
    InMedia, InMessage, InOutputConfig, InRedacted, InRequest, InSource, InText, InThinking, InThinkingBlock, InTool,
    InToolChoice, InToolResult, InToolUse, from_value_at, is_default, join_path,
};
use crate::ir::{
    self, ApiError, Block, CacheControl, MediaSource, Message, Reasoning, ReasoningEffort, ResponseFormat, Role,
    Schema, SystemBlock, Tool, ToolChoice,
};

/// Decodes a caller's `/v1/messages` body: in one pass when it takes the fast path
/// (`request_fast`), else with the general decoder.
pub fn decode_request(body: &[u8]) -> Result<ir::Request, ApiError> {
    match decode_fast(body) {
        Some(req) => Ok(req),
        None => decode_general(body),
    }
}

/// The general decoder, which takes every body and names the field at fault.
pub(super) fn decode_general(body: &[u8]) -> Result<ir::Request, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let wire: InRequest = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            ApiError::new(ir::ErrorKind::InvalidRequest, format!("invalid request body: {}", e.into_inner()))
        } else {
            ApiError::invalid_field(path, e.into_inner())
        }
    })?;
    de.end().map_err(|e| ApiError::new(ir::ErrorKind::InvalidRequest, format!("invalid JSON body: {e}")))?;
    Decoder::default().request(wire)
}

/// The general decoder: `Value` trees dispatched by hand, errors and unsupported entries by path.
#[derive(Default)]
pub(super) struct Decoder {
    pub(super) unsupported: Map<String, Value>,
}

pub(super) fn cache(v: Option<Value>) -> Option<CacheControl> {
    v.filter(|v| !v.is_null()).map(CacheControl)
}

impl Decoder {
    fn request(mut self, w: InRequest) -> Result<ir::Request, ApiError> {
        let mut req = ir::Request {
            model: w.model,
            max_tokens: w.max_tokens,
            temperature: w.temperature,
            top_p: w.top_p,
            top_k: w.top_k,
            stop_sequences: w.stop_sequences.unwrap_or_default(),
            stream: w.stream.unwrap_or(false),
            ..ir::Request::default()
        };
        if let Some(system) = w.system {
            req.system = self.system(system, "system")?;
        }
        self.messages(w.messages, &mut req)?;
        if let Some(mut m) = w.metadata {
            match m.remove("user_id") {
                Some(Value::String(s)) => req.user = Some(s),
                None | Some(Value::Null) => {}
                Some(_) => {
                    return Err(ApiError::invalid_field("metadata.user_id", "expected a string"));
                }
            }
            self.extras(m, "metadata");
        }
        for (i, tool) in w.tools.unwrap_or_default().into_iter().enumerate() {
            if let Some(t) = self.tool(tool, i)? {
                req.tools.push(t);
            }
        }
        if let Some(tc) = w.tool_choice {
            let (choice, parallel) = tool_choice(tc)?;
            req.tool_choice = Some(choice);
            req.parallel_tool_calls = parallel;
        }
        if let Some(t) = w.thinking {
            req.reasoning = Some(self.thinking(t)?);
        }
        if let Some(oc) = w.output_config {
            self.output_config(oc, &mut req)?;
        }
        if let Some(f) = w.output_format {
            req.response_format = Some(self.format(f.kind, f.schema, "output_format")?);
        }
        for (k, v) in w.extra {
            if !is_default(&v) {
                self.unsupported.insert(k, v);
            }
        }
        req.unsupported = self.unsupported;
        Ok(req)
    }

    /// Records every non-default leftover key of `path` as unsupported.
    pub(super) fn extras(&mut self, extra: Map<String, Value>, path: &str) {
        for (k, v) in extra {
            if !is_default(&v) {
                self.unsupported.insert(format!("{path}.{k}"), v);
            }
        }
    }

    fn system(&mut self, v: Value, path: &str) -> Result<Vec<SystemBlock>, ApiError> {
        let blocks = self.content(v, path)?;
        blocks
            .into_iter()
            .map(|b| match b {
                Block::Text { text, cache_control } => Ok(SystemBlock { text, cache_control }),
                _ => Err(ApiError::invalid_field(path, "system content may contain only text blocks")),
            })
            .collect()
    }

    fn messages(&mut self, msgs: Vec<InMessage>, req: &mut ir::Request) -> Result<(), ApiError> {
        let mut leading = true;
        for (i, m) in msgs.into_iter().enumerate() {
            let path = format!("messages[{i}]");
            self.extras(m.extra, &path);
            let content_path = format!("{path}.content");
            let role = match m.role.as_str() {
                "system" if leading => {
                    let mut blocks = self.system(m.content, &content_path)?;
                    req.system.append(&mut blocks);
                    continue;
                }
                "system" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                other => {
                    return Err(ApiError::invalid_field(format!("{path}.role"), format!("unknown role {other:?}")));
                }
            };
            leading = false;
            let content = self.content(m.content, &content_path)?;
            req.messages.push(Message { role, content });
        }
        Ok(())
    }

    /// A string or an array of blocks.
    fn content(&mut self, v: Value, path: &str) -> Result<Vec<Block>, ApiError> {
        match v {
            Value::String(text) => Ok(vec![Block::Text { text, cache_control: None }]),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (j, item) in items.into_iter().enumerate() {
                    if let Some(b) = self.block(item, &format!("{path}[{j}]"), false)? {
                        out.push(b);
                    }
                }
                Ok(out)
            }
            _ => Err(ApiError::invalid_field(path, "expected a string or an array of content blocks")),
        }
    }

    /// One content block; `None` when it was recorded as unsupported. Inside a tool result
    /// (`nested`) only text, image and document blocks are accepted.
    fn block(&mut self, v: Value, path: &str, nested: bool) -> Result<Option<Block>, ApiError> {
        let Value::Object(mut obj) = v else {
            return Err(ApiError::invalid_field(path, "expected a content block object"));
        };
        let kind = match obj.get("type") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(ApiError::invalid_field(format!("{path}.type"), "missing or invalid block type"));
            }
        };
        let known_nested = matches!(kind.as_str(), "text" | "image" | "document");
        let known =
            known_nested || matches!(kind.as_str(), "tool_use" | "tool_result" | "thinking" | "redacted_thinking");
        if !known || (nested && !known_nested) {
            self.unsupported.insert(path.to_string(), Value::Object(obj));
            return Ok(None);
        }
        obj.remove("type");
        let v = Value::Object(obj);
        let block = match kind.as_str() {
            "text" => {
                let t: InText = from_value_at(v, path)?;
                self.extras(t.extra, path);
                self.not_set(t.citations, &format!("{path}.citations"));
                Block::Text { text: t.text, cache_control: cache(t.cache_control) }
            }
            "image" | "document" => return self.media(from_value_at(v, path)?, path, &kind),
            "tool_use" => {
                let t: InToolUse = from_value_at(v, path)?;
                self.extras(t.extra, path);
                self.not_set(t.cache_control, &format!("{path}.cache_control"));
                Block::ToolUse {
                    id: t.id,
                    name: t.name,
                    input: match t.input {
                        Value::Null => Value::Object(Map::new()),
                        other => other,
                    },
                }
            }
            "tool_result" => {
                let t: InToolResult = from_value_at(v, path)?;
                self.extras(t.extra, path);
                let cpath = format!("{path}.content");
                let content = match t.content {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::String(text)) => vec![Block::Text { text, cache_control: None }],
                    Some(Value::Array(items)) => {
                        let mut out = Vec::with_capacity(items.len());
                        for (k, item) in items.into_iter().enumerate() {
                            if let Some(b) = self.block(item, &format!("{cpath}[{k}]"), true)? {
                                out.push(b);
                            }
                        }
                        out
                    }
                    Some(_) => {
                        return Err(ApiError::invalid_field(cpath, "expected a string or an array of content blocks"));
                    }
                };
                Block::ToolResult {
                    tool_use_id: t.tool_use_id,
                    content,
                    is_error: t.is_error.unwrap_or(false),
                    cache_control: cache(t.cache_control),
                }
            }
            "thinking" => {
                let t: InThinkingBlock = from_value_at(v, path)?;
                self.extras(t.extra, path);
                Block::Thinking { thinking: t.thinking, signature: t.signature }
            }
            _ => {
                let t: InRedacted = from_value_at(v, path)?;
                self.extras(t.extra, path);
                Block::RedactedThinking { data: t.data }
            }
        };
        Ok(Some(block))
    }

    fn media(&mut self, m: InMedia, path: &str, kind: &str) -> Result<Option<Block>, ApiError> {
        let spath = format!("{path}.source");
        let stype = match m.source.get("type") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(ApiError::invalid_field(format!("{spath}.type"), "missing or invalid source type"));
            }
        };
        let allowed: &[&str] =
            if kind == "image" { &["base64", "url", "file"] } else { &["base64", "url", "file", "text", "content"] };
        if !allowed.contains(&stype.as_str()) {
            return Err(ApiError::invalid_field(format!("{spath}.type"), format!("unknown source type {stype:?}")));
        }
        if stype == "content" {
            // Custom-content documents (pre-chunked blocks) have no IR counterpart.
            self.unsupported.insert(spath, m.source);
            return Ok(None);
        }
        let source = match from_value_at::<InSource>(m.source, &spath)? {
            InSource::Base64 { media_type, data } => MediaSource::Base64 { media_type, data },
            InSource::Url { url } => MediaSource::Url { url },
            InSource::Text { media_type, data } => MediaSource::Text { media_type, data },
            InSource::File { file_id } => MediaSource::FileId { file_id },
        };
        self.extras(m.extra, path);
        self.not_set(m.context, &format!("{path}.context"));
        self.not_set(m.citations, &format!("{path}.citations"));
        let cache_control = cache(m.cache_control);
        Ok(Some(if kind == "image" {
            if let Some(title) = m.title {
                self.unsupported.insert(format!("{path}.title"), Value::String(title));
            }
            Block::Image { source, cache_control }
        } else {
            Block::Document { source, title: m.title, cache_control }
        }))
    }

    /// Records `v` under `path` unless it is absent or a default.
    pub(super) fn not_set(&mut self, v: Option<Value>, path: &str) {
        if let Some(v) = v.filter(|v| !is_default(v)) {
            self.unsupported.insert(path.to_string(), v);
        }
    }

    fn tool(&mut self, v: Value, i: usize) -> Result<Option<Tool>, ApiError> {
        let path = format!("tools[{i}]");
        let Value::Object(mut obj) = v else {
            return Err(ApiError::invalid_field(path, "expected a tool object"));
        };
        match obj.get("type") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s == "custom" => {}
            Some(_) => {
                // Server tools (web search, bash, text editor, code execution...).
                self.unsupported.insert(path, Value::Object(obj));
                return Ok(None);
            }
        }
        obj.remove("type");
        let t: InTool = from_value_at(Value::Object(obj), &path)?;
        self.extras(t.extra, &path);
        Ok(Some(Tool {
            name: t.name,
            description: t.description,
            input_schema: Schema::from_value(&t.input_schema),
            strict: t.strict,
            cache_control: cache(t.cache_control),
            custom: false,
            namespace: None,
        }))
    }

    pub(super) fn thinking(&mut self, t: InThinking) -> Result<Reasoning, ApiError> {
        self.extras(t.extra, "thinking");
        Ok(match t.kind.as_str() {
            "enabled" => Reasoning { enabled: true, budget_tokens: t.budget_tokens, ..Reasoning::default() },
            "disabled" => Reasoning::default(),
            "adaptive" => Reasoning { enabled: true, adaptive: true, ..Reasoning::default() },
            other => {
                return Err(ApiError::invalid_field("thinking.type", format!("unknown thinking type {other:?}")));
            }
        })
    }

    pub(super) fn output_config(&mut self, oc: InOutputConfig, req: &mut ir::Request) -> Result<(), ApiError> {
        self.extras(oc.extra, "output_config");
        if let Some(effort) = oc.effort {
            let e = ReasoningEffort::parse(&effort)
                .ok_or_else(|| ApiError::invalid_field("output_config.effort", format!("unknown effort {effort:?}")))?;
            // An effort without `thinking` still asks for a level of reasoning.
            req.reasoning.get_or_insert_with(|| Reasoning { enabled: true, ..Reasoning::default() }).effort = Some(e);
        }
        if let Some(f) = oc.format {
            req.response_format = Some(self.format(f.kind, f.schema, "output_config.format")?);
        }
        Ok(())
    }

    pub(super) fn format(
        &mut self,
        kind: String,
        schema: Option<Value>,
        path: &str,
    ) -> Result<ResponseFormat, ApiError> {
        match (kind.as_str(), schema) {
            ("json_schema", Some(schema)) => {
                Ok(ResponseFormat::JsonSchema { name: "output".to_string(), schema, strict: None, description: None })
            }
            ("json_schema", None) => Err(ApiError::invalid_field(join_path(path, "schema"), "missing field `schema`")),
            (other, _) => {
                Err(ApiError::invalid_field(join_path(path, "type"), format!("unknown format type {other:?}")))
            }
        }
    }
}

pub(super) fn tool_choice(tc: InToolChoice) -> Result<(ToolChoice, Option<bool>), ApiError> {
    let choice = match tc.kind.as_str() {
        "auto" => ToolChoice::Auto,
        "any" => ToolChoice::Any,
        "none" => ToolChoice::None,
        "tool" => ToolChoice::Tool {
            name: tc
                .name
                .ok_or_else(|| ApiError::invalid_field("tool_choice.name", "required when type is \"tool\""))?,
        },
        other => {
            return Err(ApiError::invalid_field("tool_choice.type", format!("unknown tool_choice type {other:?}")));
        }
    };
    let parallel = (tc.disable_parallel_tool_use == Some(true)).then_some(false);
    Ok((choice, parallel))
}
