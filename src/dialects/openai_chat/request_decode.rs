//! OpenAI Chat Completions caller request body -> IR request.
//!
//! Fields the IR cannot carry are recorded in `Request::unsupported` under their path, so a
//! cross-dialect encoder refuses them; defaults (null, 0, false, `n: 1`) never count.
//!
//! Advisory fields dropped on purpose (they do not change the answer's content):
//!
//! | field               | why it is dropped                                        |
//! |---------------------|----------------------------------------------------------|
//! | `seed`              | best-effort determinism only; no other dialect has it    |
//! | `store`             | OpenAI-side storage of the completion                    |
//! | `metadata`          | tags for OpenAI's dashboard                              |
//! | `service_tier`      | billing/latency tier                                     |
//! | `prompt_cache_key`  | cache routing hint                                       |
//! | `safety_identifier` | abuse-monitoring id                                      |
//! | `stream_options.include_obfuscation` | padding of stream chunks                |
//! | `image_url.detail`  | resolution hint; the image itself is carried             |

use serde_json::{Map, Value};

use crate::ir::{
    self, ApiError, Block, MediaSource, Message, Reasoning, ReasoningEffort, ResponseFormat, Role,
    SystemBlock, Tool, ToolChoice,
};

use super::wire::parse_data_url;

/// Decodes a caller's Chat Completions request.
pub fn decode_request(body: &[u8]) -> Result<ir::Request, ApiError> {
    let root: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_field("body", format!("invalid JSON: {e}")))?;
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
                    "include_usage" => {
                        req.stream_include_usage = !x.is_null() && as_bool(x, "include_usage")?
                    }
                    "include_obfuscation" => {}
                    _ if x.is_null() => {}
                    _ => {
                        unsupported.insert(format!("stream_options.{k}"), x.clone());
                    }
                }
            }
        }
        "tools" => req.tools = decode_tools(v, unsupported)?,
        "tool_choice" => req.tool_choice = decode_tool_choice(v, unsupported)?,
        "parallel_tool_calls" => req.parallel_tool_calls = Some(as_bool(v, key)?),
        "reasoning_effort" => {
            let s = as_str(v, key)?;
            req.reasoning = Some(if s == "none" {
                Reasoning::default()
            } else {
                let effort = ReasoningEffort::parse(s).ok_or_else(|| {
                    ApiError::invalid_field(key, format!("unknown reasoning effort {s:?}"))
                })?;
                Reasoning {
                    enabled: true,
                    effort: Some(effort),
                    ..Reasoning::default()
                }
            });
        }
        "response_format" => req.response_format = Some(decode_response_format(v)?),
        "user" => req.user = Some(as_str(v, key)?.to_string()),
        // Accepted at their defaults only.
        "n" if v.as_u64() == Some(1) => {}
        "logprobs" if v == &Value::Bool(false) => {}
        "top_logprobs" if v.as_u64() == Some(0) => {}
        "presence_penalty" | "frequency_penalty" if v.as_f64() == Some(0.0) => {}
        "logit_bias" if v.as_object().is_some_and(Map::is_empty) => {}
        "functions" if v.as_array().is_some_and(Vec::is_empty) => {}
        "modalities" if !v.as_array().is_some_and(|m| m.iter().any(|x| x == "audio")) => {}
        // Advisory, dropped on purpose (see the table above).
        "seed" | "store" | "metadata" | "service_tier" | "prompt_cache_key"
        | "safety_identifier" => {}
        // Everything else (n > 1, logprobs, penalties, logit_bias, audio, prediction,
        // web_search_options, functions, function_call, verbosity, unknown fields).
        _ => {
            unsupported.insert(key.to_string(), v.clone());
        }
    }
    Ok(())
}

fn decode_tools(v: &Value, unsupported: &mut Map<String, Value>) -> Result<Vec<Tool>, ApiError> {
    let items = v
        .as_array()
        .ok_or_else(|| ApiError::invalid_field("tools", "expected an array"))?;
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
        let name = as_str(
            f.get("name").unwrap_or(&Value::Null),
            &format!("{fpath}.name"),
        )?;
        let description = match f.get("description") {
            None | Some(Value::Null) => None,
            Some(d) => Some(as_str(d, &format!("{fpath}.description"))?.to_string()),
        };
        let input_schema = match f.get("parameters") {
            None | Some(Value::Null) => serde_json::json!({"type": "object", "properties": {}}),
            Some(p) => p.clone(),
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
        });
    }
    Ok(tools)
}

fn decode_tool_choice(
    v: &Value,
    unsupported: &mut Map<String, Value>,
) -> Result<Option<ToolChoice>, ApiError> {
    Ok(Some(match v {
        Value::String(s) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Any,
            _ => {
                return Err(ApiError::invalid_field(
                    "tool_choice",
                    format!("unknown value {s:?}"),
                ));
            }
        },
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => {
            let name = o
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::invalid_field("tool_choice.function.name", "required"))?;
            ToolChoice::Tool {
                name: name.to_string(),
            }
        }
        _ => {
            unsupported.insert("tool_choice".into(), v.clone());
            return Ok(None);
        }
    }))
}

fn decode_response_format(v: &Value) -> Result<ResponseFormat, ApiError> {
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
                schema: js.get("schema").cloned().unwrap_or_else(
                    || serde_json::json!({"type": "object", "additionalProperties": true}),
                ),
                strict: js.get("strict").and_then(Value::as_bool),
                description: js
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
        }
        other => Err(ApiError::invalid_field(
            "response_format.type",
            format!("unknown type {:?}", other.unwrap_or("")),
        )),
    }
}

/// Decodes `messages`, merging consecutive `tool` messages and the user message that follows
/// them into one IR user message (tool results first).
fn decode_messages(req: &mut ir::Request, msgs: &[Value]) -> Result<(), ApiError> {
    // True while the last IR message was built from `tool` messages and may take more.
    let mut tool_turn_open = false;
    for (i, m) in msgs.iter().enumerate() {
        let path = format!("messages[{i}]");
        let o = as_object(m, &path)?;
        let role = as_str(
            o.get("role").unwrap_or(&Value::Null),
            &format!("{path}.role"),
        )?;
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
            );
            if !known && !x.is_null() {
                req.unsupported.insert(format!("{path}.{k}"), x.clone());
            }
        }
        match role {
            "system" | "developer" => {
                let texts = text_content(o.get("content"), &format!("{path}.content"))?;
                if req.messages.is_empty() {
                    req.system.extend(texts.into_iter().map(|text| SystemBlock {
                        text,
                        cache_control: None,
                    }));
                } else {
                    req.messages.push(Message {
                        role: Role::System,
                        content: texts.into_iter().map(text_block).collect(),
                    });
                }
                tool_turn_open = false;
            }
            "user" => {
                let blocks = user_content(o.get("content"), &path, &mut req.unsupported)?;
                match req.messages.last_mut() {
                    Some(last) if tool_turn_open => last.content.extend(blocks),
                    _ => req.messages.push(Message {
                        role: Role::User,
                        content: blocks,
                    }),
                }
                tool_turn_open = false;
            }
            "assistant" => {
                req.messages.push(Message {
                    role: Role::Assistant,
                    content: assistant_content(o, &path)?,
                });
                tool_turn_open = false;
            }
            "tool" => {
                let id = as_str(
                    o.get("tool_call_id").unwrap_or(&Value::Null),
                    &format!("{path}.tool_call_id"),
                )?;
                let texts = text_content(o.get("content"), &format!("{path}.content"))?;
                let block = Block::ToolResult {
                    tool_use_id: id.to_string(),
                    content: texts.into_iter().map(text_block).collect(),
                    is_error: false,
                    cache_control: None,
                };
                match req.messages.last_mut() {
                    Some(last) if tool_turn_open => last.content.push(block),
                    _ => req.messages.push(Message {
                        role: Role::User,
                        content: vec![block],
                    }),
                }
                tool_turn_open = true;
            }
            "function" => {
                req.unsupported.insert(path, m.clone());
                tool_turn_open = false;
            }
            other => {
                return Err(ApiError::invalid_field(
                    format!("{path}.role"),
                    format!("unknown role {other:?}"),
                ));
            }
        }
    }
    Ok(())
}

fn text_block(text: String) -> Block {
    Block::Text {
        text,
        cache_control: None,
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
                    Some("text") => Ok(as_str(
                        p.get("text").unwrap_or(&Value::Null),
                        &format!("{ppath}.text"),
                    )?
                    .to_string()),
                    other => Err(ApiError::invalid_field(
                        format!("{ppath}.type"),
                        format!("expected a text part, got {:?}", other.unwrap_or("")),
                    )),
                }
            })
            .collect(),
        Some(_) => Err(ApiError::invalid_field(
            path,
            "expected a string or an array of parts",
        )),
    }
}

fn user_content(
    v: Option<&Value>,
    path: &str,
    unsupported: &mut Map<String, Value>,
) -> Result<Vec<Block>, ApiError> {
    let cpath = format!("{path}.content");
    let parts = match v {
        Some(Value::String(s)) => return Ok(vec![text_block(s.clone())]),
        Some(Value::Array(parts)) => parts,
        _ => {
            return Err(ApiError::invalid_field(
                cpath,
                "expected a string or an array of parts",
            ));
        }
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        let ppath = format!("{cpath}[{j}]");
        match p.get("type").and_then(Value::as_str) {
            Some("text") => blocks.push(text_block(
                as_str(
                    p.get("text").unwrap_or(&Value::Null),
                    &format!("{ppath}.text"),
                )?
                .to_string(),
            )),
            Some("image_url") => {
                let url = p
                    .get("image_url")
                    .and_then(|i| i.get("url"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        ApiError::invalid_field(format!("{ppath}.image_url.url"), "required")
                    })?;
                blocks.push(Block::Image {
                    source: media_from_url(url, &format!("{ppath}.image_url.url"))?,
                    cache_control: None,
                });
            }
            Some("file") => blocks.push(file_part(p, &ppath)?),
            _ => {
                unsupported.insert(ppath, p.clone());
            }
        }
    }
    Ok(blocks)
}

fn media_from_url(url: &str, path: &str) -> Result<MediaSource, ApiError> {
    if let Some((media_type, data)) = parse_data_url(url) {
        return Ok(MediaSource::Base64 {
            media_type: media_type.to_string(),
            data: data.to_string(),
        });
    }
    if url.starts_with("data:") {
        return Err(ApiError::invalid_field(
            path,
            "only base64 data: URLs are supported",
        ));
    }
    Ok(MediaSource::Url {
        url: url.to_string(),
    })
}

/// A `file` part: `file_data` (a data URL, or bare base64 taken as PDF) or `file_id`.
fn file_part(p: &Value, ppath: &str) -> Result<Block, ApiError> {
    let f = p
        .get("file")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::invalid_field(format!("{ppath}.file"), "required object"))?;
    let title = f
        .get("filename")
        .and_then(Value::as_str)
        .map(str::to_string);
    let source = if let Some(data) = f.get("file_data").and_then(Value::as_str) {
        match parse_data_url(data) {
            Some((media_type, data)) => MediaSource::Base64 {
                media_type: media_type.to_string(),
                data: data.to_string(),
            },
            None if data.starts_with("data:") => {
                return Err(ApiError::invalid_field(
                    format!("{ppath}.file.file_data"),
                    "only base64 data: URLs are supported",
                ));
            }
            None => MediaSource::Base64 {
                media_type: "application/pdf".into(),
                data: data.to_string(),
            },
        }
    } else if let Some(id) = f.get("file_id").and_then(Value::as_str) {
        MediaSource::FileId {
            file_id: id.to_string(),
        }
    } else {
        return Err(ApiError::invalid_field(
            format!("{ppath}.file"),
            "needs file_data or file_id",
        ));
    };
    Ok(Block::Document {
        source,
        title,
        cache_control: None,
    })
}

fn assistant_content(o: &Map<String, Value>, path: &str) -> Result<Vec<Block>, ApiError> {
    let mut blocks = Vec::new();
    for key in ["reasoning_content", "reasoning"] {
        if let Some(Value::String(t)) = o.get(key).filter(|v| !v.is_null()) {
            if !t.is_empty() {
                blocks.push(Block::Thinking {
                    thinking: t.clone(),
                    signature: None,
                });
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
                let text = as_str(
                    p.get(field).unwrap_or(&Value::Null),
                    &format!("{ppath}.{kind}"),
                )?;
                blocks.push(text_block(text.to_string()));
            }
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                cpath,
                "expected a string, an array of parts or null",
            ));
        }
    }
    if let Some(Value::String(r)) = o.get("refusal") {
        blocks.push(text_block(r.clone()));
    }
    if let Some(calls) = o.get("tool_calls").filter(|v| !v.is_null()) {
        let tpath = format!("{path}.tool_calls");
        let calls = calls
            .as_array()
            .ok_or_else(|| ApiError::invalid_field(&tpath, "expected an array"))?;
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
    let f = c
        .get("function")
        .ok_or_else(|| ApiError::invalid_field(&fpath, "required"))?;
    let name = as_str(
        f.get("name").unwrap_or(&Value::Null),
        &format!("{fpath}.name"),
    )?;
    let apath = format!("{fpath}.arguments");
    let args = as_str(f.get("arguments").unwrap_or(&Value::Null), &apath)?;
    let input = if args.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_str(args)
            .map_err(|e| ApiError::invalid_field(apath, format!("invalid JSON: {e}")))?
    };
    Ok(Block::ToolUse {
        id: id.to_string(),
        name: name.to_string(),
        input,
    })
}

fn as_str<'a>(v: &'a Value, path: &str) -> Result<&'a str, ApiError> {
    v.as_str()
        .ok_or_else(|| ApiError::invalid_field(path, "expected a string"))
}

fn as_u64(v: &Value, path: &str) -> Result<u64, ApiError> {
    v.as_u64()
        .ok_or_else(|| ApiError::invalid_field(path, "expected a non-negative integer"))
}

fn as_f64(v: &Value, path: &str) -> Result<f64, ApiError> {
    v.as_f64()
        .ok_or_else(|| ApiError::invalid_field(path, "expected a number"))
}

fn as_bool(v: &Value, path: &str) -> Result<bool, ApiError> {
    v.as_bool()
        .ok_or_else(|| ApiError::invalid_field(path, "expected a boolean"))
}

fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object()
        .ok_or_else(|| ApiError::invalid_field(path, "expected an object"))
}
