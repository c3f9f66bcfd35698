//! IR request -> Converse upstream body. The model id and the stream flag go in the URL
//! (`/model/{modelId}/converse-stream`), so the body names neither.
//!
//! - Consecutive messages of one role are merged (Bedrock refuses them; the Anthropic API merges
//!   them itself); a mid-conversation system message becomes user text in place (Converse has
//!   one `system` and no system role).
//! - Sampling knobs the Converse API has go in `inferenceConfig`; the rest in
//!   `additionalModelRequestFields` as the model family spells them: Claude `top_k` and
//!   `thinking`; Nova `inferenceConfig.topK` and `reasoningConfig`; gpt-oss `reasoning_effort`;
//!   other families `top_k`, and no reasoning field (the policy reports what a provider without
//!   reasoning loses).
//! - Refused (400 naming the field): structured output (`response_format`: Converse has no
//!   JSON-schema output), `tool_choice: none` with tools (Converse has no such choice), and every
//!   entry of `Request::unsupported`.
//! - Left out, and reported by the policy: the end-user id, `parallel_tool_calls: false`, hosted
//!   tools, unsigned thinking in the history.

use serde_json::{Map, Value, json};

use crate::ir::{self, ApiError, Block, Message, ResponseFormat, Role, ToolChoice};

use super::content_encode::{Side, cache_point, push_blocks};
use super::wire::{TARGET, is_claude, is_gpt_oss, is_nova};

/// Encodes an IR request for a Converse upstream; `model` picks the spelling of model fields.
pub fn encode_request(req: &ir::Request, model: &str) -> Result<Vec<u8>, ApiError> {
    if let Some(field) = req.unsupported.keys().next() {
        return Err(ApiError::unsupported(field.clone(), TARGET));
    }
    if matches!(req.response_format, Some(ResponseFormat::JsonObject | ResponseFormat::JsonSchema { .. })) {
        return Err(ApiError::unsupported("response_format", TARGET));
    }
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages(&req.messages)?));
    if !req.system.is_empty() {
        let mut system = Vec::new();
        for s in &req.system {
            system.push(json!({"text": s.text}));
            if let Some(c) = &s.cache_control {
                system.push(cache_point(c));
            }
        }
        body.insert("system".into(), Value::Array(system));
    }
    let mut inference = Map::new();
    if let Some(m) = req.max_tokens {
        inference.insert("maxTokens".into(), json!(m));
    }
    if let Some(t) = req.temperature {
        inference.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        inference.insert("topP".into(), json!(p));
    }
    if !req.stop_sequences.is_empty() {
        inference.insert("stopSequences".into(), json!(req.stop_sequences));
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if let Some(tc) = tool_config(req)? {
        body.insert("toolConfig".into(), tc);
    }
    let extra = additional_fields(req, model);
    if !extra.is_empty() {
        body.insert("additionalModelRequestFields".into(), Value::Object(extra));
    }
    crate::jsonwrite::to_vec_sized(&Value::Object(body), crate::jsonwrite::REQUEST_CAPACITY)
        .map_err(|e| ApiError::new(ir::ErrorKind::Api, format!("encoding request: {e}")))
}

fn messages(msgs: &[Message]) -> Result<Vec<Value>, ApiError> {
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let role = match m.role {
            Role::Assistant => "assistant",
            Role::User | Role::System => "user",
        };
        let mut content = Vec::new();
        push_blocks(&mut content, &m.content, &format!("messages[{i}].content"), Side::Upstream)?;
        if content.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((r, prev)) if *r == role => prev.extend(content),
            _ => out.push((role, content)),
        }
    }
    Ok(out.into_iter().map(|(role, content)| json!({"role": role, "content": content})).collect())
}

fn tool_config(req: &ir::Request) -> Result<Option<Value>, ApiError> {
    let history_has_tools = req
        .messages
        .iter()
        .any(|m| m.content.iter().any(|b| matches!(b, Block::ToolUse { .. } | Block::ToolResult { .. })));
    if req.tools.is_empty() {
        if matches!(req.tool_choice, Some(ToolChoice::Any | ToolChoice::Tool { .. })) {
            return Err(ApiError::invalid_field("tool_choice", "requires a tool but the request has no tools"));
        }
        if history_has_tools {
            return Err(ApiError::invalid_field(
                "tools",
                "Bedrock needs the tool definitions when the conversation has tool calls; send the tools",
            ));
        }
        return Ok(None);
    }
    let mut tools = Vec::new();
    for t in &req.tools {
        let mut spec = Map::new();
        spec.insert("name".into(), json!(t.name));
        if let Some(d) = t.description.as_deref().filter(|d| !d.is_empty()) {
            spec.insert("description".into(), json!(d));
        }
        spec.insert("inputSchema".into(), json!({"json": t.input_schema}));
        tools.push(json!({"toolSpec": spec}));
        if let Some(c) = &t.cache_control {
            tools.push(cache_point(c));
        }
    }
    let mut tc = Map::new();
    tc.insert("tools".into(), Value::Array(tools));
    match &req.tool_choice {
        // `validated` (Gemini's constrained calling) is `auto` here; the policy reports it.
        None | Some(ToolChoice::Auto | ToolChoice::Validated) => {}
        Some(ToolChoice::Any) => {
            tc.insert("toolChoice".into(), json!({"any": {}}));
        }
        Some(ToolChoice::Tool { name }) => {
            tc.insert("toolChoice".into(), json!({"tool": {"name": name}}));
        }
        Some(ToolChoice::None) => return Err(ApiError::unsupported("tool_choice", TARGET)),
    }
    Ok(Some(Value::Object(tc)))
}

fn additional_fields(req: &ir::Request, model: &str) -> Map<String, Value> {
    let mut f = Map::new();
    if let Some(k) = req.top_k {
        if is_nova(model) {
            f.insert("inferenceConfig".into(), json!({"topK": k}));
        } else {
            f.insert("top_k".into(), json!(k));
        }
    }
    let Some(r) = &req.reasoning else { return f };
    if is_claude(model) {
        let thinking = if !r.enabled {
            json!({"type": "disabled"})
        } else if r.adaptive && r.budget_tokens.is_none() {
            json!({"type": "adaptive"})
        } else {
            let budget = r.budget_tokens.or(r.effort.map(|e| e.budget_tokens())).unwrap_or(8192);
            json!({"type": "enabled", "budget_tokens": budget})
        };
        f.insert("thinking".into(), thinking);
    } else if is_nova(model) {
        let config = match (r.enabled, r.effort) {
            (false, _) => json!({"type": "disabled"}),
            (true, effort) => {
                let e = effort.or(r.budget_tokens.map(ir::ReasoningEffort::from_budget));
                let level = match e {
                    Some(ir::ReasoningEffort::Minimal | ir::ReasoningEffort::Low) => "low",
                    Some(ir::ReasoningEffort::High | ir::ReasoningEffort::Max) => "high",
                    _ => "medium",
                };
                json!({"type": "enabled", "maxReasoningEffort": level})
            }
        };
        f.insert("reasoningConfig".into(), config);
    } else if is_gpt_oss(model) && r.enabled {
        let e = r.effort.or(r.budget_tokens.map(ir::ReasoningEffort::from_budget));
        let level = match e {
            Some(ir::ReasoningEffort::Minimal | ir::ReasoningEffort::Low) => "low",
            Some(ir::ReasoningEffort::High | ir::ReasoningEffort::Max) => "high",
            _ => "medium",
        };
        f.insert("reasoning_effort".into(), json!(level));
    }
    f
}
