//! OpenAI Responses caller request body (what Codex sends) -> IR request. The `input` items are
//! decoded by `request_input`.
//!
//! Fields the IR cannot carry are recorded in `Request::unsupported` under their path, so a
//! cross-dialect encoder refuses them; defaults (null, 0, false, empty) never count.
//! `previous_response_id` is always unsupported: amux keeps no state, so it cannot be
//! translated (the same-dialect path forwards it untouched).
//!
//! Advisory fields (`store: true`, `prompt_cache_key`, `metadata`, `service_tier`, `truncation`,
//! `text.verbosity`, ...) are recorded too; [`crate::policy`] drops and reports them. Not recorded,
//! because amux honours them: `include: ["reasoning.encrypted_content"]` (encrypted reasoning is
//! always kept), `reasoning.summary` (thinking comes back as summary parts), `background: false`,
//! and `phase`, `status`, `id` on input items (bookkeeping of earlier output items).
//! `input_image.detail` / `input_file.detail` (resolution hints) are not recorded: the media is
//! carried.
//!
//! A custom tool's grammar (`format: {type: grammar, syntax, definition}`) cannot be enforced by
//! other providers; it is appended to the tool's description so the model still sees it.

use serde_json::{Map, Value};

use crate::dialects::is_default;

use crate::ir::{self, ApiError, Reasoning, ReasoningEffort, ResponseFormat, Schema, SystemBlock, Tool, ToolChoice};

use super::request_input::decode_input;
use super::wire::{as_bool, as_f64, as_object, as_str, as_u64, custom_tool_schema, opt_str, req_str};

/// Decodes a caller's Responses request.
pub fn decode_request(body: &[u8]) -> Result<ir::Request, ApiError> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::invalid_field("body", format!("invalid JSON: {e}")))?;
    let Value::Object(obj) = root else {
        return Err(ApiError::invalid_field("body", "expected a JSON object"));
    };
    let mut req = ir::Request::default();
    for (key, value) in &obj {
        if !value.is_null() {
            decode_field(&mut req, key, value)?;
        }
    }
    if req.model.is_empty() {
        return Err(ApiError::invalid_field("model", "required"));
    }
    if let Some(Value::String(s)) = obj.get("instructions") {
        if !s.is_empty() {
            req.system.push(SystemBlock { text: s.clone(), cache_control: None });
        }
    }
    match obj.get("input") {
        Some(Value::String(s)) => req.messages.push(ir::Message {
            role: ir::Role::User,
            content: vec![ir::Block::Text { text: s.clone(), cache_control: None }],
        }),
        Some(Value::Array(items)) => decode_input(&mut req, items)?,
        None | Some(Value::Null) if !req.unsupported.is_empty() => {}
        None | Some(Value::Null) => return Err(ApiError::invalid_field("input", "required")),
        Some(_) => return Err(ApiError::invalid_field("input", "expected a string or an array of items")),
    }
    Ok(req)
}

fn decode_field(req: &mut ir::Request, key: &str, v: &Value) -> Result<(), ApiError> {
    match key {
        "model" => req.model = as_str(v, key)?.to_string(),
        "input" => {}
        "instructions" => {
            as_str(v, key)?;
        }
        "max_output_tokens" => req.max_tokens = Some(as_u64(v, key)?),
        "temperature" => req.temperature = Some(as_f64(v, key)?),
        "top_p" => req.top_p = Some(as_f64(v, key)?),
        "stream" => req.stream = as_bool(v, key)?,
        "tools" => req.tools = decode_tools(v, &mut req.unsupported)?,
        "tool_choice" => req.tool_choice = decode_tool_choice(v, &mut req.unsupported)?,
        "parallel_tool_calls" => req.parallel_tool_calls = Some(as_bool(v, key)?),
        "reasoning" => req.reasoning = decode_reasoning(v, &mut req.unsupported)?,
        "text" => decode_text(req, v)?,
        "user" => req.user = Some(as_str(v, key)?.to_string()),
        "safety_identifier" => {
            let id = as_str(v, key)?;
            req.user.get_or_insert_with(|| id.to_string());
        }
        // Accepted at their defaults only.
        "background" if v == &Value::Bool(false) => {}
        "top_logprobs" if v.as_u64() == Some(0) => {}
        "include" => {
            let kept = |x: &Value| x.as_str() == Some("reasoning.encrypted_content");
            let other: Vec<Value> = v.as_array().into_iter().flatten().filter(|x| !kept(x)).cloned().collect();
            if !other.is_empty() {
                req.unsupported.insert(key.to_string(), Value::Array(other));
            }
        }
        "stream_options" => {
            for (k, x) in as_object(v, key)? {
                if !is_default(x) {
                    req.unsupported.insert(format!("stream_options.{k}"), x.clone());
                }
            }
        }
        // Advisory (store, prompt_cache_key, metadata, service_tier, truncation...) and refused
        // (previous_response_id, conversation, prompt, background: true, top_logprobs > 0,
        // anything unknown) alike: `crate::policy` sorts them.
        _ if is_default(v) => {}
        _ => {
            req.unsupported.insert(key.to_string(), v.clone());
        }
    }
    Ok(())
}

fn decode_reasoning(v: &Value, unsupported: &mut Map<String, Value>) -> Result<Option<Reasoning>, ApiError> {
    let o = as_object(v, "reasoning")?;
    let mut out = None;
    for (k, x) in o {
        let path = format!("reasoning.{k}");
        match k.as_str() {
            _ if x.is_null() => {}
            "effort" => {
                let s = as_str(x, &path)?;
                out = Some(if s == "none" {
                    Reasoning::default()
                } else {
                    let effort = ReasoningEffort::parse(s)
                        .ok_or_else(|| ApiError::invalid_field(&path, format!("unknown reasoning effort {s:?}")))?;
                    Reasoning { enabled: true, effort: Some(effort), ..Reasoning::default() }
                });
            }
            "summary" | "generate_summary" => {}
            _ => {
                unsupported.insert(path, x.clone());
            }
        }
    }
    Ok(out)
}

fn decode_text(req: &mut ir::Request, v: &Value) -> Result<(), ApiError> {
    for (k, x) in as_object(v, "text")? {
        match k.as_str() {
            _ if x.is_null() => {}
            "format" => req.response_format = Some(decode_format(x)?),
            _ => {
                req.unsupported.insert(format!("text.{k}"), x.clone());
            }
        }
    }
    Ok(())
}

fn decode_format(v: &Value) -> Result<ResponseFormat, ApiError> {
    let path = "text.format";
    let o = as_object(v, path)?;
    match o.get("type").and_then(Value::as_str) {
        Some("text") => Ok(ResponseFormat::Text),
        Some("json_object") => Ok(ResponseFormat::JsonObject),
        Some("json_schema") => Ok(ResponseFormat::JsonSchema {
            name: req_str(o, "name", path)?.to_string(),
            schema: o
                .get("schema")
                .cloned()
                .ok_or_else(|| ApiError::invalid_field("text.format.schema", "required"))?,
            strict: o.get("strict").and_then(Value::as_bool),
            description: opt_str(o, "description", path)?.map(str::to_string),
        }),
        other => Err(ApiError::invalid_field("text.format.type", format!("unknown type {:?}", other.unwrap_or("")))),
    }
}

fn decode_tools(v: &Value, unsupported: &mut Map<String, Value>) -> Result<Vec<Tool>, ApiError> {
    let items = v.as_array().ok_or_else(|| ApiError::invalid_field("tools", "expected an array"))?;
    let mut tools = Vec::with_capacity(items.len());
    for (i, t) in items.iter().enumerate() {
        let path = format!("tools[{i}]");
        let o = as_object(t, &path)?;
        let tool = match o.get("type").and_then(Value::as_str) {
            Some("function") => function_tool(o, &path, unsupported)?,
            Some("custom") => custom_tool(o, &path, unsupported)?,
            Some("namespace") => {
                tools.extend(namespace_tools(o, &path, unsupported)?);
                continue;
            }
            // Hosted tools (web_search, local_shell, file_search, shell, apply_patch, mcp...).
            _ => {
                unsupported.insert(path, t.clone());
                continue;
            }
        };
        tools.push(tool);
    }
    Ok(tools)
}

/// The function and custom tools of a `namespace` tool, named `{namespace}__{name}` (a name
/// every dialect accepts); the namespace's description goes before each tool's own.
fn namespace_tools(
    o: &Map<String, Value>,
    path: &str,
    unsupported: &mut Map<String, Value>,
) -> Result<Vec<Tool>, ApiError> {
    tool_extras(o, &["type", "name", "description", "tools"], path, unsupported);
    let ns = req_str(o, "name", path)?;
    let ns_description = opt_str(o, "description", path)?.filter(|d| !d.is_empty());
    let items = o
        .get("tools")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::invalid_field(format!("{path}.tools"), "expected an array"))?;
    let mut out = Vec::with_capacity(items.len());
    for (j, t) in items.iter().enumerate() {
        let tpath = format!("{path}.tools[{j}]");
        let to = as_object(t, &tpath)?;
        let mut tool = match to.get("type").and_then(Value::as_str) {
            Some("function") => function_tool(to, &tpath, unsupported)?,
            Some("custom") => custom_tool(to, &tpath, unsupported)?,
            other => {
                return Err(ApiError::invalid_field(
                    format!("{tpath}.type"),
                    format!("expected function or custom, got {:?}", other.unwrap_or("")),
                ));
            }
        };
        tool.name = format!("{ns}{NAMESPACE_SEPARATOR}{}", tool.name);
        if let Some(d) = ns_description {
            tool.description = Some(match tool.description {
                Some(own) if !own.is_empty() => format!("{d}\n\n{own}"),
                _ => d.to_string(),
            });
        }
        tool.namespace = Some(ns.to_string());
        out.push(tool);
    }
    Ok(out)
}

/// Between a namespace and a tool name in the name other dialects see.
pub const NAMESPACE_SEPARATOR: &str = "__";

/// Records fields of a tool other than the known ones (and their defaults) as unsupported.
fn tool_extras(o: &Map<String, Value>, known: &[&str], path: &str, unsupported: &mut Map<String, Value>) {
    for (k, x) in o {
        let default = x.is_null() || x == &Value::Bool(false);
        if !known.contains(&k.as_str()) && !default {
            unsupported.insert(format!("{path}.{k}"), x.clone());
        }
    }
}

fn function_tool(o: &Map<String, Value>, path: &str, unsupported: &mut Map<String, Value>) -> Result<Tool, ApiError> {
    tool_extras(o, &["type", "name", "description", "parameters", "strict"], path, unsupported);
    let input_schema = match o.get("parameters") {
        None | Some(Value::Null) => Schema::from_value(&serde_json::json!({"type": "object", "properties": {}})),
        Some(p) => Schema::from_value(p),
    };
    let strict = match o.get("strict") {
        None | Some(Value::Null) => None,
        Some(s) => Some(as_bool(s, &format!("{path}.strict"))?),
    };
    Ok(Tool {
        name: req_str(o, "name", path)?.to_string(),
        description: opt_str(o, "description", path)?.map(str::to_string),
        input_schema,
        strict,
        cache_control: None,
        custom: false,
        namespace: None,
    })
}

fn custom_tool(o: &Map<String, Value>, path: &str, unsupported: &mut Map<String, Value>) -> Result<Tool, ApiError> {
    tool_extras(o, &["type", "name", "description", "format"], path, unsupported);
    let mut description = opt_str(o, "description", path)?.map(str::to_string);
    if let Some(f) = o.get("format").filter(|f| !f.is_null()) {
        let fpath = format!("{path}.format");
        let fo = as_object(f, &fpath)?;
        match fo.get("type").and_then(Value::as_str) {
            Some("text") => {}
            Some("grammar") => {
                let syntax = req_str(fo, "syntax", &fpath)?;
                let definition = req_str(fo, "definition", &fpath)?;
                let note = format!("The input must match this {syntax} grammar:\n{definition}");
                description = Some(match description {
                    Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
                    _ => note,
                });
            }
            other => {
                return Err(ApiError::invalid_field(
                    format!("{fpath}.type"),
                    format!("unknown custom tool format {:?}", other.unwrap_or("")),
                ));
            }
        }
    }
    Ok(Tool {
        name: req_str(o, "name", path)?.to_string(),
        description,
        input_schema: Schema::from_value(&custom_tool_schema()),
        strict: None,
        cache_control: None,
        custom: true,
        namespace: None,
    })
}

fn decode_tool_choice(v: &Value, unsupported: &mut Map<String, Value>) -> Result<Option<ToolChoice>, ApiError> {
    Ok(Some(match v {
        Value::String(s) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Any,
            _ => return Err(ApiError::invalid_field("tool_choice", format!("unknown value {s:?}"))),
        },
        Value::Object(o) if matches!(o.get("type").and_then(Value::as_str), Some("function" | "custom")) => {
            ToolChoice::Tool { name: req_str(o, "name", "tool_choice")?.to_string() }
        }
        // allowed_tools, hosted tool types, mcp...
        _ => {
            unsupported.insert("tool_choice".into(), v.clone());
            return Ok(None);
        }
    }))
}
