//! OpenAI Chat Completions caller request body -> IR request.
//!
//! Fields the IR cannot carry are recorded in `Request::unsupported` under their path (advisory
//! ones such as `seed`, `store` or `messages[i].name` too); [`crate::policy`] decides which are
//! dropped and reported and which are refused. Defaults (null, 0, false, `n: 1`) never count.
//! `image_url.detail` (a resolution hint) is not recorded: the image itself is carried.

use serde_json::{Map, Value};

use crate::ir::{self, ApiError, Reasoning, ReasoningEffort, ResponseFormat, Schema, Tool, ToolChoice};

use super::request_fast::decode_fast;
use super::request_messages::decode_messages;

/// Decodes a caller's Chat Completions request: in one pass when it takes the fast path
/// (`request_fast`), else through a parsed `Value`.
pub fn decode_request(body: &[u8]) -> Result<ir::Request, ApiError> {
    match decode_fast(body) {
        Some(req) => Ok(req),
        None => decode_general(body),
    }
}

/// The general decoder, which takes every body and names the field at fault.
pub(super) fn decode_general(body: &[u8]) -> Result<ir::Request, ApiError> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::invalid_field("body", format!("invalid JSON: {e}")))?;
    let Value::Object(obj) = root else {
        return Err(ApiError::invalid_field("body", "expected a JSON object"));
    };
    let mut req = ir::Request::default();
    for (key, value) in &obj {
        if value.is_null() {
            continue;
        }
        decode_field(&mut req, key, value)?;
    }
    if req.model.is_empty() {
        return Err(ApiError::invalid_field("model", "required"));
    }
    match obj.get("messages") {
        Some(Value::Array(msgs)) => decode_messages(&mut req, msgs)?,
        _ => return Err(ApiError::invalid_field("messages", "required array")),
    }
    if let Some(v) = obj.get("max_completion_tokens").filter(|v| !v.is_null()) {
        req.max_tokens = Some(as_u64(v, "max_completion_tokens")?);
    }
    Ok(req)
}

fn decode_field(req: &mut ir::Request, key: &str, v: &Value) -> Result<(), ApiError> {
    let unsupported = &mut req.unsupported;
    match key {
        "model" => req.model = as_str(v, key)?.to_string(),
        "messages" | "max_completion_tokens" => {}
        "max_tokens" => req.max_tokens = Some(as_u64(v, key)?),
        "temperature" => req.temperature = Some(as_f64(v, key)?),
        "top_p" => req.top_p = Some(as_f64(v, key)?),
        "stop" => {
            req.stop_sequences = match v {
                Value::String(s) => vec![s.clone()],
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, s)| as_str(s, &format!("stop[{i}]")).map(str::to_string))
                    .collect::<Result<_, _>>()?,
                _ => return Err(ApiError::invalid_field(key, "expected a string or array")),
            }
        }
        "stream" => req.stream = as_bool(v, key)?,
        "stream_options" => {
            let o = as_object(v, key)?;
            for (k, x) in o {
                match k.as_str() {
                    "include_usage" => req.stream_include_usage = !x.is_null() && as_bool(x, "include_usage")?,
                    _ if x.is_null() || x == &Value::Bool(false) => {}
                    _ => {
                        unsupported.insert(format!("stream_options.{k}"), x.clone());
                    }
                }
            }
        }
        "tools" => req.tools = decode_tools(v, unsupported)?,
        "tool_choice" => req.tool_choice = decode_tool_choice(v, unsupported)?,
        "parallel_tool_calls" => req.parallel_tool_calls = Some(as_bool(v, key)?),
        "reasoning_effort" => req.reasoning = Some(reasoning(as_str(v, key)?)?),
        "response_format" => req.response_format = Some(decode_response_format(v)?),
        "user" => req.user = Some(as_str(v, key)?.to_string()),
        _ if accepted_default(key, v) => {}
        // Everything else (advisory: seed, store, metadata, penalties...; refused: n > 1,
        // logprobs, logit_bias, audio, functions, unknown fields; hosted: web_search_options).
        _ => {
            unsupported.insert(key.to_string(), v.clone());
        }
    }
    Ok(())
}

/// `reasoning_effort` (`none` switches reasoning off).
pub(super) fn reasoning(s: &str) -> Result<Reasoning, ApiError> {
    Ok(if s == "none" {
        Reasoning::default()
    } else {
        let effort = ReasoningEffort::parse(s)
            .ok_or_else(|| ApiError::invalid_field("reasoning_effort", format!("unknown reasoning effort {s:?}")))?;
        Reasoning { enabled: true, effort: Some(effort), ..Reasoning::default() }
    })
}

/// Fields accepted at their defaults only (anything else is unsupported).
pub(super) fn accepted_default(key: &str, v: &Value) -> bool {
    match key {
        "n" => v.as_u64() == Some(1),
        "logprobs" => v == &Value::Bool(false),
        "top_logprobs" => v.as_u64() == Some(0),
        "presence_penalty" | "frequency_penalty" => v.as_f64() == Some(0.0),
        "logit_bias" => v.as_object().is_some_and(Map::is_empty),
        "functions" => v.as_array().is_some_and(Vec::is_empty),
        "modalities" => !v.as_array().is_some_and(|m| m.iter().any(|x| x == "audio")),
        _ => false,
    }
}

/// The schema of a function without `parameters`.
pub(super) fn empty_parameters() -> Schema {
    Schema::from_value(&serde_json::json!({"type": "object", "properties": {}}))
}

fn decode_tools(v: &Value, unsupported: &mut Map<String, Value>) -> Result<Vec<Tool>, ApiError> {
    let items = v.as_array().ok_or_else(|| ApiError::invalid_field("tools", "expected an array"))?;
    let mut tools = Vec::with_capacity(items.len());
    for (i, t) in items.iter().enumerate() {
        let path = format!("tools[{i}]");
        let o = as_object(t, &path)?;
        if o.get("type").and_then(Value::as_str) != Some("function") {
            unsupported.insert(path, t.clone());
            continue;
        }
        let fpath = format!("{path}.function");
        let f = as_object(o.get("function").unwrap_or(&Value::Null), &fpath)?;
        let name = as_str(f.get("name").unwrap_or(&Value::Null), &format!("{fpath}.name"))?;
        let description = match f.get("description") {
            None | Some(Value::Null) => None,
            Some(d) => Some(as_str(d, &format!("{fpath}.description"))?.to_string()),
        };
        let input_schema = match f.get("parameters") {
            None | Some(Value::Null) => empty_parameters(),
            Some(p) => Schema::from_value(p),
        };
        let strict = match f.get("strict") {
            None | Some(Value::Null) => None,
            Some(s) => Some(as_bool(s, &format!("{fpath}.strict"))?),
        };
        tools.push(Tool {
            name: name.to_string(),
            description,
            input_schema,
            strict,
            cache_control: None,
            custom: false,
            namespace: None,
        });
    }
    Ok(tools)
}

pub(super) fn decode_tool_choice(
    v: &Value,
    unsupported: &mut Map<String, Value>,
) -> Result<Option<ToolChoice>, ApiError> {
    Ok(Some(match v {
        Value::String(s) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Any,
            "validated" => ToolChoice::Validated,
            _ => {
                return Err(ApiError::invalid_field("tool_choice", format!("unknown value {s:?}")));
            }
        },
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => {
            let name = o
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::invalid_field("tool_choice.function.name", "required"))?;
            ToolChoice::Tool { name: name.to_string() }
        }
        _ => {
            unsupported.insert("tool_choice".into(), v.clone());
            return Ok(None);
        }
    }))
}

pub(super) fn decode_response_format(v: &Value) -> Result<ResponseFormat, ApiError> {
    let o = as_object(v, "response_format")?;
    match o.get("type").and_then(Value::as_str) {
        Some("text") => Ok(ResponseFormat::Text),
        Some("json_object") => Ok(ResponseFormat::JsonObject),
        Some("json_schema") => {
            let path = "response_format.json_schema";
            let js = as_object(o.get("json_schema").unwrap_or(&Value::Null), path)?;
            let name = match js.get("name") {
                Some(Value::String(n)) => n.clone(),
                _ => return Err(ApiError::invalid_field(format!("{path}.name"), "required")),
            };
            Ok(ResponseFormat::JsonSchema {
                name,
                schema: js
                    .get("schema")
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({"type": "object", "additionalProperties": true})),
                strict: js.get("strict").and_then(Value::as_bool),
                description: js.get("description").and_then(Value::as_str).map(str::to_string),
            })
        }
        other => {
            Err(ApiError::invalid_field("response_format.type", format!("unknown type {:?}", other.unwrap_or(""))))
        }
    }
}

pub(super) fn as_str<'a>(v: &'a Value, path: &str) -> Result<&'a str, ApiError> {
    v.as_str().ok_or_else(|| ApiError::invalid_field(path, "expected a string"))
}

pub(super) fn as_u64(v: &Value, path: &str) -> Result<u64, ApiError> {
    v.as_u64().ok_or_else(|| ApiError::invalid_field(path, "expected a non-negative integer"))
}

pub(super) fn as_f64(v: &Value, path: &str) -> Result<f64, ApiError> {
    v.as_f64().ok_or_else(|| ApiError::invalid_field(path, "expected a number"))
}

pub(super) fn as_bool(v: &Value, path: &str) -> Result<bool, ApiError> {
    v.as_bool().ok_or_else(|| ApiError::invalid_field(path, "expected a boolean"))
}

pub(super) fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object().ok_or_else(|| ApiError::invalid_field(path, "expected an object"))
}
